// SiLU gate and residual add (C twins of lg_silu_gate.v and lg_residual.v).
#include "llamagen/ref.h"

void lg_ref_silu_gate(int32_t *h1, const int32_t *h3, int n, const lg_luts *t)
{
    for (int i = 0; i < n; i++) {
        int64_t sg = lg_ref_sigmoid(t, h1[i]);                        // Q16, <= 2^16
        int64_t silu = lg_round_shift((int64_t)h1[i] * sg, LG_Q);      // |.| < 2^31
        h1[i] = lg_sat32(lg_round_shift(silu * (int64_t)h3[i], LG_Q)); // product < 2^62
    }
}

void lg_ref_residual(int32_t *x, const int32_t *d, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = lg_sat32((int64_t)x[i] + d[i]);
}
