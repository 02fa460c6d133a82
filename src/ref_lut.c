// LUT function units (C twins of lg_exp2.v, lg_sigmoid.v, lg_sincos.v):
// table lookup plus linear interpolation, all in integers.
#include "llamagen/ref.h"

int32_t lg_ref_exp2(const lg_luts *t, int64_t x)
{
    if (x >= 0)
        return LG_ONE;
    int64_t ip = x >> LG_Q;                 // floor: integer part, <= -1
    uint32_t f = (uint32_t)(x & 0xffff);    // fraction in [0, 1)
    uint32_t idx = f >> 8, fr = f & 0xff;
    int64_t a = t->exp2[idx], b = t->exp2[idx + 1];
    int64_t v = a + (((b - a) * fr + 128) >> 8); // 2^f in Q16, [65536, 131072)
    int64_t n = -ip;
    return (int32_t)(n >= 63 ? 0 : lg_round_shift(v, (int)n));
}

int32_t lg_ref_sigmoid(const lg_luts *t, int32_t x)
{
    int64_t a = x < 0 ? -(int64_t)x : x;
    int64_t v;
    if (a >= ((int64_t)LG_SIG_N << LG_SIG_STEP_BITS)) {
        v = LG_ONE; // sigmoid(16) = 1 - 1.1e-7: saturate
    } else {
        int64_t idx = a >> LG_SIG_STEP_BITS;
        int64_t fr = a & ((1 << LG_SIG_STEP_BITS) - 1);
        int64_t lo = t->sigmoid[idx], hi = t->sigmoid[idx + 1];
        v = lo + (((hi - lo) * fr + (1 << (LG_SIG_STEP_BITS - 1))) >> LG_SIG_STEP_BITS);
    }
    return (int32_t)(x >= 0 ? v : LG_ONE - v);
}

// sin over the first quadrant, r in [0, 2^30] (2^30 = pi/2).
static int32_t quarter_sine(const lg_luts *t, uint32_t r)
{
    uint32_t idx = r >> 22;
    if (idx >= LG_SIN_N)
        return (int32_t)t->sine[LG_SIN_N];
    int64_t fr = (r >> 8) & 0x3fff; // 14 interpolation bits
    int64_t a = t->sine[idx], b = t->sine[idx + 1];
    return (int32_t)(a + (((b - a) * fr + 8192) >> 14));
}

static int32_t sine(const lg_luts *t, uint32_t phase)
{
    uint32_t q = phase >> 30, r = phase & 0x3fffffffu;
    int32_t v = (q & 1) ? quarter_sine(t, 0x40000000u - r) : quarter_sine(t, r);
    return (q & 2) ? -v : v;
}

void lg_ref_sincos(const lg_luts *t, uint32_t phase, int32_t *s, int32_t *c)
{
    *s = sine(t, phase);
    *c = sine(t, phase + 0x40000000u); // cos(a) = sin(a + pi/2), mod 2^32
}
