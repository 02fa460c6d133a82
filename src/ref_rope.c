// RoPE (C twin of rtl_templates/lg_rope.v): an exact 32-bit phase per
// frequency, (pos * inc) mod 2^32 in turns, and sin/cos from a quarter-wave
// LUT with interpolation. No per-position tables: memory is independent of
// seq_len and any position up to 2^32-1 is exact.
#include "llamagen/ref.h"

void lg_ref_rope(int32_t *v, int n_heads, int head_size, uint32_t pos, const uint32_t *inc,
                 const lg_luts *t)
{
    for (int h = 0; h < n_heads; h++) {
        int32_t *x = v + h * head_size; // (head_size)
        for (int j = 0; j < head_size / 2; j++) {
            int32_t s, c;
            lg_ref_sincos(t, pos * inc[j], &s, &c); // uint32 wrap = mod 2^32
            int64_t x0 = x[2 * j], x1 = x[2 * j + 1];
            x[2 * j] = lg_sat32(lg_round_shift(x0 * c - x1 * s, LG_Q));
            x[2 * j + 1] = lg_sat32(lg_round_shift(x0 * s + x1 * c, LG_Q));
        }
    }
}
