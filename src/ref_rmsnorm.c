// RMSNorm (C twin of rtl_templates/lg_rmsnorm.v): block-float input, sum of
// squares, inverse square root by LUT seed + one Newton-Raphson step, gain
// multiply with sqrt(n) folded into the gains offline (so no division by n).
#include "llamagen/ref.h"

uint32_t lg_ref_rsqrt(const lg_luts *t, uint64_t S, int *k)
{
    if (S == 0)
        S = 1;
    int p = lg_bitlen(S) - 1;
    int kk = p >> 1; // S = g * 4^kk, g in [1, 4)
    // u = g in Q30, in [2^30, 2^32); truncation below the 32 kept bits.
    uint64_t u = (2 * kk >= 30) ? (S >> (2 * kk - 30)) : (S << (30 - 2 * kk));
    uint32_t idx = (uint32_t)(u >> 24) - 64; // 0..191: g in 1/64 steps
    uint64_t y0 = t->rsqrt[idx];             // Q16 seed, (2^15, 2^16]
    uint64_t sq = (y0 * y0) >> 16;           // y0^2, Q16
    uint64_t gy2 = (sq * u) >> 30;           // g * y0^2, Q16 (~2^16)
    int64_t nr = 3 * (int64_t)LG_ONE - (int64_t)gy2;
    if (nr < 0)
        nr = 0;
    *k = kk;
    return (uint32_t)(((int64_t)y0 * nr) >> 17); // y0 * (3 - g y0^2) / 2
}

void lg_ref_rmsnorm(int32_t *out, const int32_t *x, const lg_qvec *gain,
                    const uint64_t *eps_tab, const lg_luts *t)
{
    int n = gain->n;
    int16_t m[n]; // (n) A16 mantissas of x
    int s = lg_ref_actq(m, x, n);
    uint64_t S = 0; // sum of m^2 <= n * 2^30 < 2^47
    for (int i = 0; i < n; i++)
        S += (uint64_t)((int64_t)m[i] * m[i]);
    S += eps_tab[s];
    int k;
    uint32_t y = lg_ref_rsqrt(t, S, &k);
    // x = m * 2^(s-16) and mean + eps = S/n * 2^(2s-32), so with the gains
    // holding gain * sqrt(n) = gm * 2^eg, s cancels:
    // out_Q16 = m * gm * 2^eg * (y * 2^(-16-k)) * 2^16 = m * gm * y * 2^(eg-k).
    int shift = k - gain->exp;
    for (int i = 0; i < n; i++) {
        int64_t p = (int64_t)m[i] * gain->mant[i]; // < 2^30
        out[i] = lg_sat32(lg_round_shift(p * (int64_t)y, shift)); // < 2^47 before shift
    }
}
