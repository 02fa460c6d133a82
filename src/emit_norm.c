// RMSNorm unit (rtl_templates/lg_rmsnorm.v, C twin lg_ref_rmsnorm in
// src/ref_rmsnorm.c): the gain image, the eps table and the gain exponents
// baked into case statements, and the width of the sum of squares.
// With mul_share the lean form rtl_templates/lg_rmsnorm_share.v is emitted
// under the same module name: one 16x16 multiplier, the inverse square root
// inline (it reads the rsqrt seed image itself; rsqrt_module is not used),
// 9 * dim + AW + 35 cycles per vector (AW = max(sum width, 34)) instead of
// dim + 2 * ceil(dim / VL) + 16.
#include "llamagen/emit_units2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EPS (LG_A16_SHIFT_MAX + 1)

int lg_rmsnorm_cycles(const lg_rmsnorm_unit *u, int32_t vl)
{
    if (u->mul_share) {
        int aw = lg_rmsnorm_sum_width(u->dim, u->eps_tab);
        return 9 * u->dim + (aw > 34 ? aw : 34) + 35;
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
    // done before the output pass (at least dim + 60 cycles later).
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

int lg_emit_rmsnorm(lg_emit_ctx *ctx, const lg_rmsnorm_unit *u, lg_err *err)
{
    int s_w = lg_rmsnorm_sum_width(u->dim, u->eps_tab);
    if (check_unit(u, s_w, err))
        return -1;

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
    char dim[16], nvec[16], sw[16], lat[200], tw[16], tmin[16];
    snprintf(dim, sizeof dim, "%d", u->dim);
    snprintf(nvec, sizeof nvec, "%d", u->nvec);
    snprintf(sw, sizeof sw, "%d", s_w);
    if (u->mul_share) {
        // The seed table layout of the image lg_emit_lut_image writes (the
        // same deterministic tables as the model's).
        lg_luts t;
        lg_luts_build(&t);
        uint32_t lo = t.rsqrt[0], hi = t.rsqrt[0];
        for (int i = 0; i < LG_RSQRT_N; i++) {
            lo = t.rsqrt[i] < lo ? t.rsqrt[i] : lo;
            hi = t.rsqrt[i] > hi ? t.rsqrt[i] : hi;
        }
        int w = lg_bitlen(hi - lo) > 0 ? lg_bitlen(hi - lo) : 1;
        snprintf(tw, sizeof tw, "%d", w);
        snprintf(tmin, sizeof tmin, "16'd%u", lo);
        snprintf(lat, sizeof lat,
                 "%d cycles per vector at full rate, any VL (9 * dim + max(%d, 34) + 35, "
                 "first input to done); one 16x16 multiplier",
                 lg_rmsnorm_cycles(u, 1), s_w);
        lg_subst svars[] = {
            {"MODULE", u->module},       {"RSQRT_FILE", u->rsqrt_file},
            {"GAIN_FILE", u->gain_file}, {"DIM", dim},
            {"NVEC", nvec},              {"S_W", sw},
            {"EPS_CASES", ec},           {"GEXP_CASES", gc},
            {"T_W", tw},                 {"T_MIN", tmin},
        };
        rc = lg_emit_module(ctx, u->module, "lg_rmsnorm_share", svars,
                            (int)(sizeof svars / sizeof svars[0]), lat, err);
        free(ec);
        free(gc);
        return rc;
    }
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
