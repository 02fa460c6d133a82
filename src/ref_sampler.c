// Token sampler (C twin of rtl_templates/lg_sampler.v): argmax at
// temperature 0; otherwise a fixed-point softmax of logits / T in the log2
// domain and inverse-CDF sampling driven by xorshift32 (multiply-free PRNG).
#include "llamagen/ref.h"

uint32_t lg_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

uint32_t lg_sampler_seed(uint32_t seed) { return seed ? seed : 0x2545f491u; }

uint32_t lg_seed_state(uint64_t seed)
{
    // splitmix64: one step of the Weyl sequence, then its finalizer
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint32_t)(z >> 32);
}

int lg_ref_argmax(const int32_t *logits, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

// logit (Q16) -> logit / T * log2(e) (Q16, log2 units). Monotone in logit.
static int64_t scaled(int32_t logit, uint32_t inv_temp)
{
    int64_t z = lg_sat32(lg_round_shift((int64_t)logit * inv_temp, LG_Q));
    return lg_sat32(lg_round_shift(z * LG_LOG2E_Q24, 24));
}

int lg_ref_sample(const int32_t *logits, int n, uint32_t inv_temp, uint32_t *state,
                  const lg_luts *t)
{
    if (inv_temp == 0)
        return lg_ref_argmax(logits, n);
    if (inv_temp > 0xffffffu)
        inv_temp = 0xffffffu; // 1/T < 256: keeps logit * inv_temp in 56 bits
    int64_t zmax = scaled(logits[lg_ref_argmax(logits, n)], inv_temp);
    uint64_t S = 0; // sum of p <= n * 2^16
    for (int i = 0; i < n; i++)
        S += (uint64_t)lg_ref_exp2(t, scaled(logits[i], inv_temp) - zmax);
    uint32_t r = lg_xorshift32(state);
    // u = floor(r * S / 2^32) is uniform over [0, S).
    uint64_t u = (uint64_t)(((unsigned __int128)r * S) >> 32);
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += (uint64_t)lg_ref_exp2(t, scaled(logits[i], inv_temp) - zmax);
        if (cum > u)
            return i;
    }
    return n - 1;
}
