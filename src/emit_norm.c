// RMSNorm unit (rtl_templates/lg_rmsnorm.v, C twin lg_ref_rmsnorm in
// src/ref_rmsnorm.c): the gain image, the eps table and the gain exponents
// baked into case statements, and the width of the sum of squares.
// With mul_share the lean form rtl_templates/lg_rmsnorm_share.v is emitted
// under the same module name: one 16x16 multiplier, the inverse square root
// inline (rsqrt_module is not used), one 32-bit-wide memory whose image
// gain_file holds the gains (sign-magnitude, two a word) and the rsqrt seeds
// (two a word) besides room for the input vector (rsqrt_file is not read),
// 34 * dim + 3 * AW - 19 cycles per vector (AW = max(sum width, 34)) instead
// of dim + 2 * ceil(dim / VL) + 16.
#include "llamagen/emit_units2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EPS (LG_A16_SHIFT_MAX + 1)

int lg_rmsnorm_cycles(const lg_rmsnorm_unit *u, int32_t vl)
{
    if (u->mul_share) {
        int aw = lg_rmsnorm_sum_width(u->dim, u->eps_tab);
        aw = aw > 34 ? aw : 34;
        return 34 * u->dim + 3 * aw - 19;
    }
    return u->dim + 2 * ((u->dim + vl - 1) / vl) + 16;
}

int lg_rmsnorm_sum_width(int32_t dim, const uint64_t *eps_tab)
{
    uint64_t emax = 0;
    for (int s = 0; s < N_EPS; s++)
        if (eps_tab[s] > emax)
            emax = eps_tab[s];
    uint64_t smax = (uint64_t)dim * (uint64_t)(LG_A16_MAX * LG_A16_MAX);
    int w = smax > UINT64_MAX - emax ? 65 : lg_bitlen(smax + emax);
    return w + (w & 1);
}

static int check_unit(const lg_rmsnorm_unit *u, int s_w, lg_err *err)
{
    if (u->dim < 2 || u->dim > (1 << 24))
        return lg_fail(err, "%s: dim %d outside 2..2^24", u->module, u->dim);
    if (u->nvec < 1 || (int64_t)u->nvec * u->dim > (1 << 26))
        return lg_fail(err, "%s: %d gain vectors of %d do not fit", u->module, u->nvec, u->dim);
    if (s_w > 64)
        return lg_fail(err, "%s: sum of squares needs %d bits (max 64)", u->module, s_w);
    // Lean form: sel * DIM by repeated addition unless dim is a power of two,
    // done before the output pass (at least 11 * dim + 60 cycles later).
    if (u->mul_share && (u->dim & (u->dim - 1)) != 0 && u->nvec - 1 > u->dim + 60)
        return lg_fail(err, "%s: %d gain vectors of %d: too many for the lean form", u->module,
                       u->nvec, u->dim);
    for (int v = 0; v < u->nvec; v++) {
        const lg_qvec *g = &u->gains[v];
        if (g->n != u->dim)
            return lg_fail(err, "%s: gain vector %d has n = %d, dim is %d", u->module, v, g->n,
                           u->dim);
        // shift = k - exp must fit the 9-bit signed shift (k <= 31).
        if (g->exp < -200 || g->exp > 200)
            return lg_fail(err, "%s: gain vector %d exponent %d outside -200..200", u->module, v,
                           g->exp);
        for (int i = 0; i < g->n; i++)
            if (g->mant[i] == INT16_MIN) // |m| <= 32767 keeps |m * g| < 2^30
                return lg_fail(err, "%s: gain vector %d mantissa %d = %d outside +-%d",
                               u->module, v, i, g->mant[i], LG_A16_MAX);
    }
    return 0;
}

// Case items, one per line (no newline after the last): 18 eps values and
// nvec exponents.
static char *eps_cases(int s_w, const uint64_t *eps_tab)
{
    size_t cap = N_EPS * 64;
    char *b = malloc(cap), *p = b;
    if (!b)
        return NULL;
    for (int s = 0; s < N_EPS; s++)
        p += snprintf(p, cap - (size_t)(p - b), "%s        5'd%d: eps = %d'd%llu;",
                      s ? "\n" : "", s, s_w, (unsigned long long)eps_tab[s]);
    return b;
}

static char *gexp_cases(const lg_rmsnorm_unit *u)
{
    int sel_w = u->nvec > 1 ? lg_bitlen((uint64_t)u->nvec - 1) : 1;
    size_t cap = (size_t)u->nvec * 64 + 1;
    char *b = malloc(cap), *p = b;
    if (!b)
        return NULL;
    *p = 0;
    for (int v = 0; v < u->nvec; v++) {
        int e = u->gains[v].exp;
        p += snprintf(p, cap - (size_t)(p - b), "%s        %d'd%d: gexp = %s9'sd%d;",
                      v ? "\n" : "", sel_w, v, e < 0 ? "-" : "", e < 0 ? -e : e);
    }
    return b;
}

// Lean form: per gain vector rq0 = K0 + 15 - e (K0 = (AW - 2) / 2), one
// case item a line (no newline after the last).
static char *rq0_cases(const lg_rmsnorm_unit *u, int s_w)
{
    int sel_w = u->nvec > 1 ? lg_bitlen((uint64_t)u->nvec - 1) : 1;
    int k0 = ((s_w > 34 ? s_w : 34) - 2) / 2;
    size_t cap = (size_t)u->nvec * 64 + 1;
    char *b = malloc(cap), *p = b;
    if (!b)
        return NULL;
    *p = 0;
    for (int v = 0; v < u->nvec; v++) {
        int r = k0 + 15 - u->gains[v].exp; // -185 .. 246 (exp in -200..200)
        p += snprintf(p, cap - (size_t)(p - b), "%s        %d'd%d: rq0 = %s9'sd%d;",
                      v ? "\n" : "", sel_w, v, r < 0 ? "-" : "", r < 0 ? -r : r);
    }
    return b;
}

// Lean form: the memory image (MW 32-bit words, rtl_templates/lg_rmsnorm_share.v):
// words 0 .. dim - 1 the input area (0), from half-word 2 * dim on the gain
// mantissas {sign, |g|} (vector v element i at half-word 2 * dim + v * dim +
// i; half-word h is bits 16 * (h & 1) of word h >> 1), and the 192 seeds
// T[i] (< 2^16) at half-words 2 * R0 + i, R0 = 128 * seed_hi + 32 >= the end
// of the gains, MW = R0 + 96 (so the seed of u8 = 64..255 is at half-word
// 256 * seed_hi + u8).
static int emit_share(lg_emit_ctx *ctx, const lg_rmsnorm_unit *u, int s_w, lg_err *err)
{
    // The seed table of the image lg_emit_lut_image writes (the same
    // deterministic tables as the model's). The lean form keeps T[i] in 16
    // bits and drops the clamp of nr = max(3 * 2^16 - g y0^2, 0): both hold
    // for every u when they hold for the largest u of each seed (g y0^2
    // grows with u).
    lg_luts t;
    lg_luts_build(&t);
    for (int i = 0; i < LG_RSQRT_N; i++) {
        uint64_t y0 = t.rsqrt[i], sq = (y0 * y0) >> 16;
        uint64_t umax = ((uint64_t)(i + 65) << 24) - 1;
        if (y0 > 0xffff || ((sq * umax) >> 30) >= 3 * (uint64_t)LG_ONE)
            return lg_fail(err, "%s: rsqrt seed %d = %llu does not suit the lean form",
                           u->module, i, (unsigned long long)y0);
    }
    int64_t gend = (int64_t)u->dim + ((int64_t)u->nvec * u->dim + 1) / 2; // words
    int64_t seed_hi = (gend - 32 + 127) / 128;
    if (seed_hi < 1)
        seed_hi = 1;
    int64_t r0 = 128 * seed_hi + 32, mw = r0 + 96;
    int64_t *words = lg_calloc((size_t)mw, sizeof *words, err);
    if (!words)
        return -1;
    for (int v = 0; v < u->nvec; v++)
        for (int i = 0; i < u->dim; i++) {
            int64_t h = 2 * (int64_t)u->dim + (int64_t)v * u->dim + i;
            int g = u->gains[v].mant[i];
            int64_t sm = g < 0 ? 0x8000 | -g : g;
            words[h >> 1] |= sm << (16 * (h & 1));
        }
    for (int i = 0; i < LG_RSQRT_N; i++) {
        int64_t h = 2 * r0 + i;
        words[h >> 1] |= (int64_t)t.rsqrt[i] << (16 * (h & 1));
    }
    char what[160];
    snprintf(what, sizeof what,
             "lean RMSNorm memory: %d input words, gains * sqrt(%d) (%d, %d) sign-magnitude "
             "and 192 rsqrt seeds, two a word",
             u->dim, u->dim, u->nvec, u->dim);
    int rc = lg_emit_hex(ctx, u->gain_file, words, (size_t)mw, 32, what, err);
    free(words);
    if (rc)
        return -1;

    char *ec = eps_cases(s_w, u->eps_tab), *gc = rq0_cases(u, s_w);
    if (!ec || !gc) {
        free(ec);
        free(gc);
        return lg_fail(err, "%s: out of memory", u->module);
    }
    // rq = rq0 - j (j <= K0 NORM pair doublings) lies in [min rq0 - K0, max
    // rq0]: whether it can go below 0 (r <= -16) or reach 64 (r >= 49)
    int k0 = ((s_w > 34 ? s_w : 34) - 2) / 2, rq_lo = INT32_MAX, rq_hi = INT32_MIN;
    for (int v = 0; v < u->nvec; v++) {
        int r = k0 + 15 - u->gains[v].exp;
        rq_lo = r < rq_lo ? r : rq_lo;
        rq_hi = r > rq_hi ? r : rq_hi;
    }
    char dim[16], nvec[16], sw[16], lat[200], mws[24], shs[24];
    snprintf(dim, sizeof dim, "%d", u->dim);
    snprintf(nvec, sizeof nvec, "%d", u->nvec);
    snprintf(sw, sizeof sw, "%d", s_w);
    snprintf(mws, sizeof mws, "%lld", (long long)mw);
    snprintf(shs, sizeof shs, "%lld", (long long)seed_hi);
    snprintf(lat, sizeof lat,
             "%d cycles per vector at full rate, any VL (34 * dim + 3 * max(%d, 34) - 19, "
             "first input to done); one 16x16 multiplier",
             lg_rmsnorm_cycles(u, 1), s_w);
    lg_subst svars[] = {
        {"MODULE", u->module},       {"RSQRT_FILE", u->rsqrt_file},
        {"GAIN_FILE", u->gain_file}, {"DIM", dim},
        {"NVEC", nvec},              {"S_W", sw},
        {"EPS_CASES", ec},           {"RQ0_CASES", gc},
        {"MEM_WORDS", mws},          {"SEED_HI", shs},
        {"RQ_NEG", rq_lo - k0 < 0 ? "1'b1" : "1'b0"},
        {"RQ_BIG", rq_hi >= 64 ? "1'b1" : "1'b0"},
    };
    rc = lg_emit_module(ctx, u->module, "lg_rmsnorm_share", svars,
                        (int)(sizeof svars / sizeof svars[0]), lat, err);
    free(ec);
    free(gc);
    return rc;
}

int lg_emit_rmsnorm(lg_emit_ctx *ctx, const lg_rmsnorm_unit *u, lg_err *err)
{
    int s_w = lg_rmsnorm_sum_width(u->dim, u->eps_tab);
    if (check_unit(u, s_w, err))
        return -1;

    if (u->mul_share)
        return emit_share(ctx, u, s_w, err);

    // Gain image: (nvec, dim) int16 mantissas.
    size_t n = (size_t)u->nvec * (size_t)u->dim;
    int64_t *words = lg_calloc(n, sizeof *words, err);
    if (!words)
        return -1;
    for (int v = 0; v < u->nvec; v++)
        for (int i = 0; i < u->dim; i++)
            words[(size_t)v * u->dim + i] = u->gains[v].mant[i];
    char what[96];
    snprintf(what, sizeof what, "RMSNorm gains * sqrt(%d): (%d, %d) int16 mantissas", u->dim,
             u->nvec, u->dim);
    int rc = lg_emit_hex(ctx, u->gain_file, words, n, 16, what, err);
    free(words);
    if (rc)
        return -1;

    char *ec = eps_cases(s_w, u->eps_tab), *gc = gexp_cases(u);
    if (!ec || !gc) {
        free(ec);
        free(gc);
        return lg_fail(err, "%s: out of memory", u->module);
    }
    char dim[16], nvec[16], sw[16], lat[200];
    snprintf(dim, sizeof dim, "%d", u->dim);
    snprintf(nvec, sizeof nvec, "%d", u->nvec);
    snprintf(sw, sizeof sw, "%d", s_w);
    snprintf(lat, sizeof lat,
             "%d cycles per vector at full rate with VL 1 (dim + 2 * ceil(%d / VL) + 16, "
             "first input to done)",
             3 * u->dim + 16, u->dim);
    lg_subst vars[] = {
        {"MODULE", u->module},       {"RSQRT_MODULE", u->rsqrt_module},
        {"GAIN_FILE", u->gain_file}, {"RSQRT_FILE", u->rsqrt_file},
        {"DIM", dim},                {"NVEC", nvec},
        {"S_W", sw},                 {"EPS_CASES", ec},
        {"GEXP_CASES", gc},
    };
    rc = lg_emit_module(ctx, u->module, "lg_rmsnorm", vars, (int)(sizeof vars / sizeof vars[0]),
                        lat, err);
    free(ec);
    free(gc);
    return rc;
}
