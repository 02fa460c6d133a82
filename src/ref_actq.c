// Activation quantizer (C twin of rtl_templates/lg_actq.v): Q16 vector ->
// int16 block-float (A16) with one shift found by a leading-one detector.
#include "llamagen/ref.h"

int lg_ref_actq(int16_t *m, const int32_t *x, int n)
{
    // Pass 1: the largest magnitude (inputs are symmetric-saturated, so
    // |x| never overflows).
    uint32_t maxabs = 0;
    for (int i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(x[i] < 0 ? -(int64_t)x[i] : x[i]);
        if (a > maxabs)
            maxabs = a;
    }
    // Smallest shift that leaves maxabs in 15 bits.
    int s = lg_bitlen(maxabs) - 15;
    if (s < 0)
        s = 0;
    // Pass 2: round half up, then clamp (rounding can reach 32768).
    for (int i = 0; i < n; i++) {
        int64_t v = lg_round_shift(x[i], s);
        if (v > LG_A16_MAX)
            v = LG_A16_MAX;
        if (v < -LG_A16_MAX)
            v = -LG_A16_MAX;
        m[i] = (int16_t)v;
    }
    return s;
}
