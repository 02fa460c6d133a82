/*
 * flash_image.h: the QSPI flash layout of the weight stream (docs/fpga.md,
 * "Flash image"), shared by the image tool (mkflash.c), the RTL bench
 * (tests/hdl/tb_qspi.cpp) and nothing else: lg_qspi_stream reads exactly
 * this layout back.
 *
 * Beat b of the stream (lg_wimage, beat_bits = 8 * lanes + 4 * ndexp bits)
 * occupies BB = ceil(beat_bits / 8) bytes at offset b * BB from the image
 * base. With an even number of dexps, little-endian: byte k = beat bits
 * [8k +: 8], so lane i's mantissa is byte i and the dexps follow (dexp 0 in
 * the low nibble of byte lanes). With one dexp (beat_bits % 8 == 4) the
 * dexp byte comes first: byte 0 = the dexp in the low nibble under a zero
 * pad, byte i + 1 = lane i's mantissa. The pad is then the beat's first
 * nibble on the wire (high nibbles go first), which the reader clocks
 * while its output register still holds the previous beat (no assembly
 * register; rtl_templates/lg_qspi_stream.v).
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

// Bytes per beat in flash: ceil(beat_bits / 8).
static inline int32_t lg_flash_beat_bytes(int32_t beat_bits) { return (beat_bits + 7) / 8; }

// Bytes of the whole image.
static inline int64_t lg_flash_image_bytes(const lg_wimage *img)
{
    return img->nbeats * (int64_t)lg_flash_beat_bytes(img->beat_bits);
}

// Writes the image (lg_flash_image_bytes bytes) to out.
static inline void lg_flash_pack(uint8_t *out, const lg_wimage *img)
{
    int32_t bb = lg_flash_beat_bytes(img->beat_bits);
    // a pad nibble: the last (dexp) byte moves to the front
    int32_t rot = (img->beat_bits % 8) != 0 ? 1 : 0;
    for (int64_t b = 0; b < img->nbeats; b++) {
        const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
        for (int32_t k = 0; k < bb; k++) {
            int32_t bit = 8 * k;
            uint8_t v = (uint8_t)(w[bit / 64] >> (bit % 64));
            // bits past beat_bits (the pad nibble) are zero
            if (bit + 8 > img->beat_bits)
                v &= (uint8_t)((1u << (img->beat_bits - bit)) - 1u);
            out[b * bb + (k + rot) % bb] = v;
        }
    }
}

#endif
