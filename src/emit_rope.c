// RoPE unit (rtl_templates/lg_rope.v, C twin lg_ref_rope in src/ref_rope.c):
// the phase increment image and the head size.
//
// Latency: x[2j+1] handshake -> y[2j] after 7 cycles, y[2j+1] after 8, one
// element per cycle. mul_share 1 (rtl_templates/lg_rope_share.v, one 16x16
// multiplier, sincos_module emitted with mul_share 1: T column only, one EBR,
// two reads per lookup, no fold: the RoPE computes -phase too): y[2j] after
// 39 cycles, y[2j+1] after 63, one pair per 64 cycles.
#include "llamagen/emit_units2.h"

#include <stdio.h>
#include <stdlib.h>

int lg_emit_rope(lg_emit_ctx *ctx, const lg_rope_unit *u, lg_err *err)
{
    if (u->head_size < 2 || u->head_size % 2 || u->head_size > 65536)
        return lg_fail(err, "%s: head_size %d must be even, 2..65536", u->module, u->head_size);
    if (u->n_heads < 1 || u->n_heads > 65536)
        return lg_fail(err, "%s: n_heads %d outside 1..65536", u->module, u->n_heads);
    int half = u->head_size / 2;
    int64_t *words = lg_calloc((size_t)half, sizeof *words, err); // (half)
    if (!words)
        return -1;
    for (int j = 0; j < half; j++)
        words[j] = u->inc[j];
    char what[96];
    snprintf(what, sizeof what, "RoPE phase increments: %d words, turns * 2^32 per position",
             half);
    int rc = lg_emit_hex(ctx, u->inc_file, words, (size_t)half, 32, what, err);
    free(words);
    if (rc)
        return -1;

    char hs[16], nh[16], lat[160];
    snprintf(hs, sizeof hs, "%d", u->head_size);
    snprintf(nh, sizeof nh, "%d", u->n_heads);
    if (u->mul_share)
        snprintf(lat, sizeof lat,
                 "39 cycles from the handshake of x[2j+1] to y[2j] (y[2j+1] after 63), one "
                 "pair per 64 cycles; head_size %d",
                 u->head_size);
    else
        snprintf(lat, sizeof lat,
                 "7 cycles from the handshake of x[2j+1] to y[2j] (y[2j+1] one later), one "
                 "element per cycle; head_size %d",
                 u->head_size);
    lg_subst vars[] = {
        {"MODULE", u->module},     {"SINCOS_MODULE", u->sincos_module},
        {"INC_FILE", u->inc_file}, {"SINE_FILE", u->sine_file},
        {"N_HEADS", nh},           {"HEAD_SIZE", hs},
    };
    return lg_emit_module(ctx, u->module, u->mul_share ? "lg_rope_share" : "lg_rope", vars,
                          (int)(sizeof vars / sizeof vars[0]), lat, err);
}
