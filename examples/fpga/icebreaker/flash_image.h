/*
 * flash_image.h: the QSPI flash layout of the weight stream (docs/fpga.md,
 * "Flash image"), shared by the image tool (mkflash.c), the RTL bench
 * (tests/hdl/tb_qspi.cpp) and nothing else: lg_qspi_stream reads exactly
 * this layout back.
 *
 * Beat b of the stream (lg_wimage, beat_bits = 8 * lanes + 4 * ndexp bits)
 * is NW = beat_bits / 4 nibbles, packed nibble after nibble from the image
 * base: beat b starts at nibble b * NW, nibble i of the image being the
 * high nibble of byte i / 2 when i is even (the flash sends each byte's
 * high nibble first), the low one when i is odd. So with one dexp (NW odd)
 * every other beat starts in the middle of a byte, and no pad nibble is
 * stored (it was, before the sixteenth session: 20 % more bytes at lanes
 * 2). On the wire a beat is, with an even number of dexps, its bytes
 * little-endian (byte k = beat bits [8k +: 8], each byte's high nibble
 * first: lane i's mantissa is byte i and the dexps follow, dexp 0 in the
 * low nibble of byte lanes); with one dexp, the dexp first, then lane 0's
 * mantissa (high nibble, low nibble), lane 1's, ... (the dexp is clocked
 * while the reader's output register still holds the previous beat;
 * rtl_templates/lg_qspi_stream.v).
 *
 * Header-only C (also compiles as C++).
 */
#ifndef LLAMAGEN_FLASH_IMAGE_H
#define LLAMAGEN_FLASH_IMAGE_H

#include "llamagen/emit_mem.h"

#include <stdint.h>

// Flash image base used by the iCEBreaker build: 1 MiB, past the UP5K
// bitstream (104,090 bytes) on a 64 KiB erase-block boundary.
#define LG_FLASH_BASE 0x100000

// Nibbles per beat in flash: beat_bits / 4 (beat_bits is a multiple of 4).
static inline int32_t lg_flash_beat_nibbles(int32_t beat_bits) { return beat_bits / 4; }

// Bytes of the whole image (the last byte's low nibble is 0 when the
// nibble count is odd).
static inline int64_t lg_flash_image_bytes(const lg_wimage *img)
{
    return (img->nbeats * (int64_t)lg_flash_beat_nibbles(img->beat_bits) + 1) / 2;
}

// Flash bytes a range of beats first .. last touches, from the byte of its
// first nibble to the byte of its last (what a burst over it shifts out).
static inline int64_t lg_flash_range_bytes(int32_t beat_bits, int64_t first, int64_t last)
{
    int64_t nw = lg_flash_beat_nibbles(beat_bits);
    return ((last + 1) * nw - 1) / 2 - (first * nw) / 2 + 1;
}

// Writes the image (lg_flash_image_bytes bytes) to out.
static inline void lg_flash_pack(uint8_t *out, const lg_wimage *img)
{
    int32_t nw = lg_flash_beat_nibbles(img->beat_bits);
    int64_t nbytes = lg_flash_image_bytes(img);
    for (int64_t i = 0; i < nbytes; i++)
        out[i] = 0;
    for (int64_t b = 0; b < img->nbeats; b++) {
        const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
        for (int32_t j = 0; j < nw; j++) {
            // wire nibble j of the beat holds beat nibble n: with one dexp
            // the dexp (the top nibble) first, then each lane's high nibble
            // before its low one; else each byte's high nibble first
            int32_t n = (nw % 2) ? (j == 0 ? nw - 1 : (j - 1) ^ 1) : j ^ 1;
            uint8_t v = (uint8_t)((w[(4 * n) / 64] >> ((4 * n) % 64)) & 0xfu);
            int64_t i = b * nw + j;
            out[i / 2] |= (uint8_t)((i % 2) ? v : (uint8_t)(v << 4));
        }
    }
}

#endif
