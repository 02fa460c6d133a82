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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// ---- the marked layout (lg_qspi_stream MARKS = 1, the iCEBreaker decoder) ----
//
// With one dexp a beat (lanes <= group) the dexp changes at most once a group
// of group / lanes beats (bpg), yet the packed layout repeats it in every beat
// (a fifth of the bytes at lanes 2). The marked layout stores data beats of
// mantissas only (lanes bytes, little-endian, each byte's high nibble first
// on the wire) and, where the dexp changes, a mark beat of the same size:
// byte 0 = 0x80 (a mantissa I8E never uses: |m| <= 127), the dexp in the low
// nibble of byte lanes - 1 (the beat's last nibble on the wire), nibble
// (dexp mod 4) of the image's tag (lg_wimage_tag) in that byte's high
// nibble, the other bytes 0. The reader keeps the last mark's dexp and hands
// it out with every data beat; a mark is never offered as a beat. It checks
// that a burst starts at a mark and each mark's tag nibble against its
// IMAGE_TAG: an erased flash, an older layout or an image of other weights
// raises its err_image (docs/fpga.md, "The image check").
//
// Random access: a burst from beat s starts at flash beat s + s / bpg, which
// the layout makes exact for s = 0 and for every group start of the
// classifier's rows (the embedding rows the decoder fetches; the reader
// computes that address, no table): the classifier has a mark at each of its
// group starts, and before it the layer matrices have exactly C / bpg marks
// (C = the classifier's first beat): one wherever the dexp changes, and the
// rest as repeats of the first dexp at the very start. So the image is
// exactly nbeats * (1 + 1 / bpg) beats of lanes bytes. The repeats are only
// there for that rule: the burst from beat 0, every token, starts at beat 0's
// own mark instead, the flash beat lg_wimage_marks_lead gives (the reader's
// MARKS_LEAD), and reads none of them.

// Stream beat b is preceded by a mark: before the classifier (first beat c)
// where its dexp differs from the beat before it (and at beat 0), in the
// classifier at each group start (bpg beats a group).
static inline int lg_flash_mark_before(const lg_wimage *img, int64_t b, int64_t c, int64_t bpg)
{
    return b < c ? (b == 0 || lg_wbeat_dexp(img, b, 0) != lg_wbeat_dexp(img, b - 1, 0))
                 : (b - c) % bpg == 0;
}

// Flash beats of the marked image, with fidx[b] (optional, nbeats entries)
// the flash beat of stream beat b and *changes (optional) the dexp changes
// before the classifier; -1 with a one-line reason in why when the image
// cannot take the layout.
static inline int64_t lg_flash_marks_plan(const lg_wimage *img, int64_t *fidx, int64_t *changes,
                                          char *why, size_t whyn)
{
    // the geometry and the room for the marks (the library's rules), then
    // the mark code
    lg_err e = {{0}};
    int64_t need;
    int64_t lead = lg_wimage_marks_lead(img, &need, &e); // the repeats of the first dexp
    if (lead < 0) {
        size_t n = strlen(e.msg); // (copied, cut to whyn: the lg_err line is longer)
        n = n < whyn ? n : whyn - 1;
        memcpy(why, e.msg, n);
        why[n] = '\0';
        return -1;
    }
    for (int64_t b = 0; b < img->nbeats; b++) {
        if (lg_wbeat_mant(img, b, 0) == -128) {
            snprintf(why, whyn, "beat %lld's lane 0 holds -128, the mark code", (long long)b);
            return -1;
        }
    }
    int64_t bpg = img->group / img->lanes;
    int64_t c = img->mats[img->nmats - 1].first;
    if (changes)
        *changes = need;
    if (fidx) {
        int64_t f = lead;
        for (int64_t b = 0; b < img->nbeats; b++) {
            if (lg_flash_mark_before(img, b, c, bpg))
                f++; // its mark
            fidx[b] = f++;
        }
    }
    return img->nbeats + img->nbeats / bpg;
}

// Writes the marked image (lg_flash_marks_plan beats of lanes bytes each) to
// out, given its fidx; beats no data beat takes are marks, each carrying the
// dexp of the next data beat and, beside it, nibble (dexp mod 4) of tag (the
// image's lg_wimage_tag).
static inline void lg_flash_pack_marks(uint8_t *out, const lg_wimage *img, const int64_t *fidx,
                                       int64_t nflash, uint32_t tag)
{
    int32_t l = img->lanes;
    for (int64_t i = 0; i < nflash * l; i++)
        out[i] = 0;
    int64_t f = 0;
    for (int64_t b = 0; b < img->nbeats; b++) {
        for (; f < fidx[b]; f++) {
            int d = lg_wbeat_dexp(img, b, 0);
            out[f * l] = 0x80;
            out[f * l + l - 1] = (uint8_t)(d | ((tag >> (4 * (d & 3))) & 15u) << 4);
        }
        for (int32_t k = 0; k < l; k++)
            out[f * l + k] = (uint8_t)lg_wbeat_mant(img, b, k);
        f++;
    }
}

// The whole flash image of img, packed (marks 0) or marked (marks 1), in a
// buffer the caller frees (*out, *nbytes bytes); with marks, fidx
// (optional, nbeats entries) and *changes (optional) as lg_flash_marks_plan
// gives them. 0, or -1 with a one-line reason in why (nothing allocated).
static inline int lg_flash_build(const lg_wimage *img, int marks, uint8_t **out, int64_t *nbytes,
                                 int64_t *fidx, int64_t *changes, char *why, size_t whyn)
{
    int64_t *own = NULL, n = lg_flash_image_bytes(img), nflash = 0;
    *out = NULL;
    if (marks) {
        own = fidx ? NULL : (int64_t *)malloc((size_t)img->nbeats * sizeof *own);
        if (!fidx && !own) {
            snprintf(why, whyn, "out of memory");
            return -1;
        }
        nflash = lg_flash_marks_plan(img, fidx ? fidx : own, changes, why, whyn);
        if (nflash < 0) {
            free(own);
            return -1;
        }
        n = nflash * img->lanes;
    }
    *out = (uint8_t *)malloc((size_t)n);
    if (!*out) {
        free(own);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    if (marks)
        lg_flash_pack_marks(*out, img, fidx ? fidx : own, nflash, lg_wimage_tag(img));
    else
        lg_flash_pack(*out, img);
    free(own);
    *nbytes = n;
    return 0;
}

#endif
