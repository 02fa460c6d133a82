// LUT images and the LUT function units (lg_exp2, lg_sigmoid, lg_sincos,
// lg_rsqrt; C twins in src/ref_lut.c and src/ref_rmsnorm.c).
//
// An interpolated table T[0..n] becomes n ROM words
// {T[i] - T_MIN, T[i+1] - T[i]}: one synchronous single-port read gives both
// ends of the interval, so the ROM stays a plain block RAM (no second port,
// no address + 1 adder). The tables are monotone (exp2, sigmoid, the first
// quadrant of sin), so the differences are unsigned and narrow (9-10 bits).
// Storing T - T_MIN (T_MIN baked into the module) drops the bit columns that
// would be constant (2^16 in every exp2 entry, bit 16 of every sine entry):
// 25-26 bit words instead of 26-27 (rsqrt: 15 bits instead of 16).
#include "llamagen/emit_units2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- packing -----------------------------------------------------------------

int lg_lut_pack(int64_t *words, lg_lut_layout *l, const uint32_t *t, int n, const char *what,
                lg_err *err)
{
    uint32_t dmax = 0, tmin = t[0], tmax = t[0];
    for (int i = 0; i < n; i++) {
        if (t[i + 1] < t[i])
            return lg_fail(err, "%s table: not monotone at entry %d (%u > %u)", what, i, t[i],
                           t[i + 1]);
        if (t[i + 1] - t[i] > dmax)
            dmax = t[i + 1] - t[i];
        tmin = t[i] < tmin ? t[i] : tmin;
        tmax = t[i] > tmax ? t[i] : tmax;
    }
    if (tmax >= (1u << 17) || tmax - tmin >= (1u << 16))
        return lg_fail(err, "%s table: entries %u..%u do not fit 17 bits with a 16-bit offset",
                       what, tmin, tmax);
    if (dmax >= (1u << 16))
        return lg_fail(err, "%s table: step %u does not fit 16 bits", what, dmax);
    l->t_min = tmin;
    l->t_w = lg_bitlen(tmax - tmin);
    l->d_w = lg_bitlen(dmax);
    if (l->t_w < 1)
        l->t_w = 1;
    if (l->d_w < 1)
        l->d_w = 1;
    for (int i = 0; i < n; i++)
        words[i] = ((int64_t)(t[i] - tmin) << l->d_w) | (int64_t)(t[i + 1] - t[i]);
    return 0;
}

// ---- images -------------------------------------------------------------------

static int emit_packed(lg_emit_ctx *ctx, const char *file, const uint32_t *t, int n,
                       const char *what, lg_err *err)
{
    int64_t words[LG_SIG_N]; // the largest table
    lg_lut_layout l;
    if (lg_lut_pack(words, &l, t, n, what, err))
        return -1;
    char desc[200];
    snprintf(desc, sizeof desc,
             "%s LUT: %d words {T[i] - %u (%d bits), T[i+1] - T[i] (%d bits)}", what, n,
             l.t_min, l.t_w, l.d_w);
    return lg_emit_hex(ctx, file, words, (size_t)n, l.t_w + l.d_w, desc, err);
}

// The rsqrt seed table is not interpolated: words T[i] - min T.
static int rsqrt_words(int64_t *words, uint32_t *tmin, int *w, const lg_luts *t, lg_err *err)
{
    uint32_t lo = t->rsqrt[0], hi = t->rsqrt[0];
    for (int i = 0; i < LG_RSQRT_N; i++) {
        lo = t->rsqrt[i] < lo ? t->rsqrt[i] : lo;
        hi = t->rsqrt[i] > hi ? t->rsqrt[i] : hi;
    }
    if (hi >= 65536u || hi - lo >= 32768u)
        return lg_fail(err, "rsqrt table: entries %u..%u do not fit 16 bits with a 15-bit "
                            "offset", lo, hi);
    for (int i = 0; i < LG_RSQRT_N; i++)
        words[i] = t->rsqrt[i] - lo;
    *tmin = lo;
    *w = lg_bitlen(hi - lo) > 0 ? lg_bitlen(hi - lo) : 1;
    return 0;
}

int lg_emit_lut_image(lg_emit_ctx *ctx, lg_lut_id id, const lg_luts *t, lg_err *err)
{
    switch (id) {
    case LG_LUT_EXP2:
        return emit_packed(ctx, LG_EXP2_HEX, t->exp2, LG_EXP2_N, "exp2", err);
    case LG_LUT_SIGMOID:
        return emit_packed(ctx, LG_SIGMOID_HEX, t->sigmoid, LG_SIG_N, "sigmoid", err);
    case LG_LUT_SINE:
        return emit_packed(ctx, LG_SINE_HEX, t->sine, LG_SIN_N, "sine", err);
    case LG_LUT_RSQRT:
        break;
    default:
        return lg_fail(err, "lg_emit_lut_image: unknown table %d", (int)id);
    }
    int64_t words[LG_RSQRT_N];
    uint32_t lo;
    int w;
    if (rsqrt_words(words, &lo, &w, t, err))
        return -1;
    char desc[160];
    snprintf(desc, sizeof desc,
             "rsqrt seed LUT: 192 words round(2^16 / sqrt((i + 64.5) / 64)) - %u (%d bits)", lo,
             w);
    return lg_emit_hex(ctx, LG_RSQRT_HEX, words, LG_RSQRT_N, w, desc, err);
}

int lg_emit_lut_images(lg_emit_ctx *ctx, const lg_luts *t, lg_err *err)
{
    return lg_emit_lut_image(ctx, LG_LUT_EXP2, t, err) ||
                   lg_emit_lut_image(ctx, LG_LUT_SIGMOID, t, err) ||
                   lg_emit_lut_image(ctx, LG_LUT_SINE, t, err) ||
                   lg_emit_lut_image(ctx, LG_LUT_RSQRT, t, err)
               ? -1
               : 0;
}

// ---- units ----------------------------------------------------------------------

// Emits a LUT unit whose template takes LUT_FILE, T_W, D_W, T_MIN (and T_END).
static int emit_interp_unit(lg_emit_ctx *ctx, const char *tmpl, const char *module,
                            const char *lut_file, const uint32_t *t, int n, const char *what,
                            const char *latency, int with_end, lg_err *err)
{
    int64_t words[LG_SIG_N];
    lg_lut_layout l;
    if (lg_lut_pack(words, &l, t, n, what, err))
        return lg_fail_ctx(err, "%s", module);
    if (with_end && t[n] >= (1u << 17))
        return lg_fail(err, "%s: %s table end %u does not fit 17 bits", module, what, t[n]);
    char tw[16], dw[16], tmin[32], tend[32];
    snprintf(tw, sizeof tw, "%d", l.t_w);
    snprintf(dw, sizeof dw, "%d", l.d_w);
    snprintf(tmin, sizeof tmin, "17'd%u", l.t_min);
    snprintf(tend, sizeof tend, "17'd%u", t[n]);
    lg_subst vars[] = {
        {"MODULE", module}, {"LUT_FILE", lut_file}, {"T_W", tw},
        {"D_W", dw},        {"T_MIN", tmin},        {"T_END", tend},
    };
    return lg_emit_module(ctx, module, tmpl, vars, with_end ? 6 : 5, latency, err);
}

int lg_emit_exp2(lg_emit_ctx *ctx, const char *module, const char *lut_file, const lg_luts *t,
                 lg_err *err)
{
    return emit_interp_unit(ctx, "lg_exp2", module, lut_file, t->exp2, LG_EXP2_N, "exp2",
                            "3 cycles, one result per cycle (ce = 0 stalls)", 0, err);
}

// A T column as built-in ROM contents: "    ARR[i] = 16'hXXXX;" for
// v[i] - off, i = 0..n-1 (the caller checked that each fits 16 bits).
// malloc'd (the caller frees it), NULL when out of memory.
static char *t_column_text(const uint32_t *v, int n, uint32_t off, const char *arr)
{
    size_t cap = (size_t)n * (strlen(arr) + 24) + 1, len = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    text[0] = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "    %s[%d] = 16'h%04x;\n", arr, i,
                                v[i] - off);
    return text;
}

char *lg_exp2_t_column(const lg_luts *t, const char *arr, const char *who, lg_err *err)
{
    int64_t words[LG_EXP2_N];
    lg_lut_layout l;
    const uint32_t *e = t->exp2;
    // lg_lut_pack checks monotony and the step width (l.d_w)
    if (lg_lut_pack(words, &l, e, LG_EXP2_N, "exp2", err)) {
        lg_fail_ctx(err, "%s", who);
        return NULL;
    }
    if (e[0] != (1u << 16) || e[LG_EXP2_N] != (1u << 17) || l.d_w > 15) {
        lg_fail(err, "%s: exp2 table not in the built-in layout (T[0] = 2^16 <= T[i] <= 2^17 = "
                     "T[%d], steps < 2^15; T[0] %u, T[%d] %u, step bits %d)",
                who, LG_EXP2_N, e[0], LG_EXP2_N, e[LG_EXP2_N], l.d_w);
        return NULL;
    }
    char *init = t_column_text(e, LG_EXP2_N, 1u << 16, arr);
    if (!init)
        lg_fail(err, "out of memory");
    return init;
}

// mul_share (rtl_templates/lg_sigmoid_share.v): the T column alone, T[i] - 1
// (16 bits, 2^15 - 1 .. 2^16 - 1), baked into the module as one 512-entry ROM
// (two EBR, read on two cycles: T[i], then T[i+1]); the steps are formed
// modulo 2^D_W, which the layout checked here makes exact, T[512] included
// (read as T[0]: T[512] - T[0] = 2^15 = 0 mod 2^D_W).
static int emit_sigmoid_share(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                              const lg_luts *t, lg_err *err)
{
    int64_t words[LG_SIG_N];
    lg_lut_layout l;
    if (lg_lut_pack(words, &l, t->sigmoid, LG_SIG_N, "sigmoid", err))
        return lg_fail_ctx(err, "%s", module);
    const uint32_t *s = t->sigmoid;
    if (LG_SIG_N != 512 || s[0] != (1u << 15) || s[LG_SIG_N] != (1u << 16) || l.d_w > 15)
        return lg_fail(err, "%s: sigmoid table not in the baked layout (512 entries, T[0] = "
                            "32768 <= T[i] <= 65536 = T[512], steps < 2^15; T[0] %u, "
                            "T[512] %u, step bits %d)",
                       module, s[0], s[LG_SIG_N], l.d_w);
    // lg_lut_pack checked monotony, so T[0] <= T[i] <= T[512] for every i.
    char *init = t_column_text(s, LG_SIG_N, 1u, "rom");
    if (!init)
        return lg_fail(err, "out of memory");
    char dw[16];
    snprintf(dw, sizeof dw, "%d", l.d_w);
    lg_subst vars[] = {
        {"MODULE", module},
        {"LUT_FILE", lut_file},
        {"D_W", dw},
        {"T_INIT", init},
    };
    int rc = lg_emit_module(ctx, module, "lg_sigmoid_share", vars, 4,
                            "2 cycles per table lookup (ce samples; T[i], then T[i+1]); "
                            "T column baked in (512 x 16, 2 EBR)",
                            err);
    free(init);
    return rc;
}

int lg_emit_sigmoid(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                    const lg_luts *t, int32_t mul_share, lg_err *err)
{
    if (mul_share)
        return emit_sigmoid_share(ctx, module, lut_file, t, err);
    return emit_interp_unit(ctx, "lg_sigmoid", module, lut_file, t->sigmoid, LG_SIG_N,
                            "sigmoid", "3 cycles, one result per cycle (ce = 0 stalls)", 0,
                            err);
}

// mul_share (rtl_templates/lg_sincos_share.v): the T column alone, T[i] -
// T_MIN (16 bits), baked into the module (256 x 16: one EBR). The stage reads
// T[i+1] and T[i] on two cycles and forms D modulo 2^D_W; checked here: every
// entry fits 16 bits and the D the RTL forms equals the image's D for every
// i, i = 255 included (its address i + 1 wraps to 0: T[0] stands for T[256]),
// and T[256] = 65536 (the RoPE's constant for the table's end).
static int emit_sincos_share(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                             const lg_luts *t, lg_err *err)
{
    int64_t words[LG_SIN_N];
    lg_lut_layout l;
    const uint32_t *s = t->sine;
    if (lg_lut_pack(words, &l, s, LG_SIN_N, "sine", err))
        return lg_fail_ctx(err, "%s", module);
    if (LG_SIN_N != 256 || s[LG_SIN_N] != (1u << 16))
        return lg_fail(err, "%s: sine table not in the baked layout (256 entries, T[256] = "
                            "65536; T[256] %u)", module, s[LG_SIN_N]);
    uint32_t mask = (1u << l.d_w) - 1u; // d_w <= 16 (lg_lut_pack)
    for (int i = 0; i < LG_SIN_N; i++) {
        uint32_t lo = s[i] - l.t_min, hi = s[(i + 1) % LG_SIN_N] - l.t_min;
        if (lo >= (1u << 16) || ((hi - lo) & mask) != (uint32_t)(words[i] & mask))
            return lg_fail(err, "%s: sine table entry %d (T %u, step %u) does not fit the "
                                "T column layout (16 bits, steps mod 2^%d)",
                           module, i, s[i], s[i + 1] - s[i], l.d_w);
    }
    char *init = t_column_text(s, LG_SIN_N, l.t_min, "rom");
    if (!init)
        return lg_fail(err, "out of memory");
    char dw[16], tmin[32];
    snprintf(dw, sizeof dw, "%d", l.d_w);
    snprintf(tmin, sizeof tmin, "17'd%u", l.t_min);
    lg_subst vars[] = {
        {"MODULE", module}, {"LUT_FILE", lut_file}, {"D_W", dw},
        {"T_MIN", tmin},    {"T_INIT", init},
    };
    int rc = lg_emit_module(ctx, module, "lg_sincos_share", vars, 5,
                            "2 cycles per table lookup (T[i+1], then T[i]; the phase or "
                            "its negation, no fold); T column baked in (1 EBR)",
                            err);
    free(init);
    return rc;
}

int lg_emit_sincos(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                   const lg_luts *t, int32_t mul_share, lg_err *err)
{
    if (mul_share)
        return emit_sincos_share(ctx, module, lut_file, t, err);
    return emit_interp_unit(ctx, "lg_sincos", module, lut_file, t->sine, LG_SIN_N, "sine",
                            "3 cycles, one sin/cos pair per cycle (ce = 0 stalls)", 1, err);
}

int lg_emit_rsqrt(lg_emit_ctx *ctx, const char *module, const char *lut_file, const lg_luts *t,
                  lg_err *err)
{
    int64_t words[LG_RSQRT_N];
    uint32_t lo;
    int w;
    if (rsqrt_words(words, &lo, &w, t, err))
        return lg_fail_ctx(err, "%s", module);
    char tw[16], tmin[32];
    snprintf(tw, sizeof tw, "%d", w);
    snprintf(tmin, sizeof tmin, "16'd%u", lo);
    lg_subst vars[] = {
        {"MODULE", module},
        {"LUT_FILE", lut_file},
        {"T_W", tw},
        {"T_MIN", tmin},
    };
    return lg_emit_module(ctx, module, "lg_rsqrt", vars, 4,
                          "6 cycles, one result per cycle (ce = 0 stalls)", err);
}
