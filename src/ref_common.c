// Scalar helpers of the bit-exact reference (rounding, saturation, leading
// one). The RTL implements exactly these; see docs/numerics.md "Rounding".
#include "llamagen/ref.h"

int64_t lg_round_shift(int64_t v, int s)
{
    if (s > 0) {
        if (s >= 63)
            return 0; // |v| < 2^62 everywhere it is used (numerics.md)
        // floor(v / 2^s) + the bit just below: floor((v + 2^(s-1)) / 2^s)
        // without the overflow of the addition. Arithmetic shift = floor.
        return (v >> s) + ((v >> (s - 1)) & 1);
    }
    if (s == 0)
        return v;
    int l = -s;
    if (l >= 63)
        return v == 0 ? 0 : (v > 0 ? INT64_MAX : -INT64_MAX);
    if (v > (INT64_MAX >> l))
        return INT64_MAX;
    if (v < -(INT64_MAX >> l))
        return -INT64_MAX;
    return (int64_t)((uint64_t)v << l);
}

int32_t lg_sat32(int64_t v)
{
    if (v > LG_SAT32)
        return (int32_t)LG_SAT32;
    if (v < -LG_SAT32)
        return (int32_t)-LG_SAT32;
    return (int32_t)v;
}

int lg_bitlen(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}
