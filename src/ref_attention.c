// Attention for one query head (C twin of rtl_templates/lg_attention.v):
// scores q.k against every cached row, online softmax in the log2 domain
// with an integer running max (so rescaling is a shift, not a multiply),
// exp2 by LUT, the weighted V sum in a wide accumulator, and one reciprocal
// per head at the end (a sequential divider in hardware).
#include "llamagen/ref.h"

void lg_ref_attention_head(int32_t *out, const int32_t *q, int head_size, const lg_kvcache *c,
                           int layer, int kvoff, int pos, int32_t score_c, const lg_luts *t)
{
    int16_t qm[head_size]; // (head_size) A16 query mantissas
    int64_t o[head_size];  // (head_size) sum_t p_t * v_t, in units real * 2^24
    int sq = lg_ref_actq(qm, q, head_size);
    int G = c->group;
    int64_t m = 0; // running max, an integer in log2 units (multiple of 2^16)
    int64_t l = 0; // sum_t p_t (p in Q16)
    for (int i = 0; i < head_size; i++)
        o[i] = 0;

    for (int tt = 0; tt <= pos; tt++) {
        size_t row = (size_t)layer * (size_t)c->seq_len + (size_t)tt;
        const int16_t *km = c->k_mant + row * (size_t)c->kv_dim + (size_t)kvoff; // (head_size)
        const int16_t *vm = c->v_mant + row * (size_t)c->kv_dim + (size_t)kvoff; // (head_size)
        const uint8_t *ke = c->k_exp + row * (size_t)c->ngroups + (size_t)(kvoff / G);
        const uint8_t *ve = c->v_exp + row * (size_t)c->ngroups + (size_t)(kvoff / G);

        // Score in log2 units, Q16: z = q.k * log2(e)/sqrt(hs). Each group
        // contributes one rounded term (groups have their own exponents).
        int64_t z = 0;
        for (int g = 0; g < head_size / G; g++) {
            int64_t psum = 0;
            for (int i = g * G; i < (g + 1) * G; i++)
                psum += (int64_t)qm[i] * km[i];
            int sh = LG_Q + LG_SCORE_SC - sq - ke[g];
            z = lg_sat32(z + lg_sat32(lg_round_shift(psum * score_c, sh)));
        }

        // Online softmax: the max is kept as ceil(z) so a move rescales by
        // an exact power of two.
        int64_t zc = ((z + 0xffff) >> LG_Q) * LG_ONE; // ceil to a multiple of 2^16
        if (tt == 0) {
            m = zc;
        } else if (z > m) {
            int d = (int)((zc - m) >> LG_Q);
            l = lg_round_shift(l, d);
            for (int i = 0; i < head_size; i++)
                o[i] = lg_round_shift(o[i], d);
            m = zc;
        }
        int64_t p = lg_ref_exp2(t, z - m); // Q16, in (0, 65536]
        l += p;
        for (int g = 0; g < head_size / G; g++) {
            int sh = 8 - ve[g];
            for (int i = g * G; i < (g + 1) * G; i++)
                o[i] += lg_round_shift(p * vm[i], sh);
        }
    }

    // One reciprocal per head: R = floor(2^(pl+16) / l), 17 bits.
    if (l <= 0) {
        for (int i = 0; i < head_size; i++)
            out[i] = 0;
        return;
    }
    int pl = lg_bitlen((uint64_t)l) - 1; // >= 15: the max row alone gives p >= 2^15
    int64_t R = ((int64_t)1 << (pl + 16)) / l;
    for (int i = 0; i < head_size; i++) {
        int64_t tq = lg_round_shift(o[i], pl - 15); // |tq| <= 2^39
        out[i] = lg_sat32(lg_round_shift(tq * R, 23));
    }
}
