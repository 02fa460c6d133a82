/*
 * Bit-exact integer reference: the C twin of every hardware unit.
 *
 * docs/numerics.md is the contract; this header names each unit and the
 * formats at its ports. All of src/ref_*.c is compiled with
 * -mgeneral-regs-only, so no floating point can enter these functions.
 *
 * Formats used throughout (see docs/numerics.md for the proofs):
 *  - Q16: int32 fixed point with 16 fractional bits; every vector passed
 *    between units (residual stream, q, k, v, attention output, FFN
 *    activations, logits). Saturation is symmetric: [-(2^31-1), 2^31-1].
 *  - A16: block-float activation: int16 mantissas (|m| <= 32767) sharing one
 *    shift s (0..17): value_Q16 ~= m << s.
 *  - I8E: weights: int8 mantissa (|m| <= 127) * 2^(ebase + d), ebase per
 *    matrix, d (0..15) per group of G inputs of a row.
 *  - KV: K/V cache: kv_bits mantissa * 2^e (value_Q16 ~= m << e), e (0..31)
 *    per group of kv_group elements.
 */
#ifndef LLAMAGEN_REF_H
#define LLAMAGEN_REF_H

#include "llamagen/config.h"

// The model's floors are arithmetic right shifts of signed values, as in the
// RTL (>>> on signed). C leaves >> of a negative value to the
// implementation; refuse to build where it is not arithmetic (the model is
// C; C++20, which harnesses including this may use, defines it so).
#ifndef __cplusplus
_Static_assert((-1 >> 1) == -1 && ((int64_t)-5 >> 1) == -3 && (INT64_MIN >> 62) == -2,
               "llamagen's integer model needs >> on negative values to be arithmetic");
#endif

// ---- constants shared by the C model, the LUT builder and the RTL --------

#define LG_Q 16                    // fractional bits of Q16
#define LG_ONE (1 << LG_Q)         // 1.0 in Q16
#define LG_SAT32 0x7fffffffLL      // symmetric int32 saturation bound
#define LG_A16_MAX 32767           // activation mantissa bound
#define LG_A16_SHIFT_MAX 17        // activation shift range 0..17
#define LG_W_DEXP_MAX 15           // per-group weight exponent offset 0..15
// A weight matrix's ebase: the mat-vec's output shift -(ebase + s), s =
// 0..LG_A16_SHIFT_MAX, is a signed 8-bit field in the RTL (and the C model
// follows the RTL), so ebase is -127..111; lg_quantize_model refuses others
#define LG_W_EBASE_MIN (-127)
#define LG_W_EBASE_MAX (128 - LG_A16_SHIFT_MAX)

#define LG_EXP2_BITS 8             // exp2 LUT: 2^(i/256), i = 0..256
#define LG_EXP2_N (1 << LG_EXP2_BITS)
#define LG_SIG_STEP_BITS 11        // sigmoid LUT step 2^-5 (= 2^11 in Q16)
#define LG_SIG_N 512               // entries over [0, 16), plus one
#define LG_SIN_BITS 8              // quarter-wave sine: 256 steps, plus one
#define LG_SIN_N (1 << LG_SIN_BITS)
#define LG_RSQRT_N 192             // invsqrt seed LUT over [1, 4) in 1/64 steps
#define LG_SCORE_SC 20             // fractional bits of the score constant
#define LG_LOG2E_Q24 24204406      // round(log2(e) * 2^24), sampler

// Constant lookup tables (built offline from float by lg_luts_build in
// src/lut.c, emitted as .hex for the RTL).
typedef struct lg_luts {
    uint32_t exp2[LG_EXP2_N + 1];   // round(2^(i/256) * 2^16), i = 0..256
    uint32_t sigmoid[LG_SIG_N + 1]; // round(sigmoid(i/32) * 2^16), i = 0..512
    uint32_t sine[LG_SIN_N + 1];    // round(sin(i/256 * pi/2) * 2^16), i = 0..256
    uint32_t rsqrt[LG_RSQRT_N];     // round(2^16 / sqrt((i + 64.5) / 64)), i = 0..191
} lg_luts;

void lg_luts_build(lg_luts *t); // src/lut.c (float, offline)

// ---- scalar helpers ---------------------------------------------------------

// These are static inline: they sit in every inner loop of the model.

// Round half up (toward +inf) shift (docs/numerics.md, "Rounding"):
// s > 0: floor(v / 2^s) + bit s-1 of v, i.e. floor((v + 2^(s-1)) / 2^s)
// without the overflow of the addition; s >= 63 gives 0 (|v| < 2^62
// wherever it is used); s <= 0: v * 2^-s saturated to +-(2^63-1).
static inline int64_t lg_round_shift(int64_t v, int s)
{
    if (s > 0) {
        if (s >= 63)
            return 0;
        return (v >> s) + ((v >> (s - 1)) & 1); // arithmetic shift = floor
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

// Symmetric int32 saturation: [-(2^31-1), 2^31-1].
static inline int32_t lg_sat32(int64_t v)
{
    return v > LG_SAT32 ? (int32_t)LG_SAT32 : v < -LG_SAT32 ? (int32_t)-LG_SAT32 : (int32_t)v;
}

// Bits needed for v: 0 for 0, 1 for 1, 2 for 2..3, ...
static inline int lg_bitlen(uint64_t v) { return v ? 64 - __builtin_clzll(v) : 0; }

// ---- activation quantizer (src/ref_actq.c) --------------------------------

// Q16 vector -> A16. Returns the shift s; m[i] = clamp(round(x[i] >> s)).
int lg_ref_actq(int16_t *m, const int32_t *x, int n);

// ---- I8E weights and the mat-vec engine (src/ref_matvec.c) ----------------

typedef struct lg_qmat {
    int32_t rows, cols; // outputs, inputs
    int32_t group;      // G
    int32_t ngroups;    // ceil(cols / G); the last group may be ragged
    int32_t ebase;      // weight = mant * 2^(ebase + dexp)
    int8_t *mant;       // (rows, cols)
    uint8_t *dexp;      // (rows, ngroups), each 0..15
} lg_qmat;

// out[r] = sat32(round_shift(sum_g (psum_g << dexp[r][g]), -(ebase + s))).
void lg_ref_matvec(int32_t *out, const lg_qmat *w, const int16_t *xm, int xs);

// One row of the mat-vec before the final rounding (the wide accumulator).
int64_t lg_ref_matvec_acc(const lg_qmat *w, int row, const int16_t *xm);

// Embedding lookup: x[i] = row `token` of w dequantized to Q16.
void lg_ref_embed(int32_t *x, const lg_qmat *w, int token);

// ---- RMSNorm (src/ref_rmsnorm.c) ------------------------------------------

typedef struct lg_qvec {
    int32_t n;
    int32_t exp;    // value = mant * 2^exp
    int16_t *mant;  // (n)
} lg_qvec;

// rsqrt(S) ~= y * 2^(-16 - k) for S > 0; y in (2^15, 2^16].
uint32_t lg_ref_rsqrt(const lg_luts *t, uint64_t S, int *k);

// out = x * rsqrt(mean(x^2) + eps) * gain. gain holds gain * sqrt(n);
// eps_tab[s] = round(eps * n * 2^(32 - 2s)), s = 0..17.
void lg_ref_rmsnorm(int32_t *out, const int32_t *x, const lg_qvec *gain,
                    const uint64_t *eps_tab, const lg_luts *t);

// ---- LUT function units (src/ref_lut.c) -----------------------------------

// 2^x for x <= 0 in Q16 -> Q16 in [0, 65536]. x > 0 is clamped to 0.
int32_t lg_ref_exp2(const lg_luts *t, int64_t x);
// sigmoid(x), x Q16 -> Q16 in [0, 65536].
int32_t lg_ref_sigmoid(const lg_luts *t, int32_t x);
// sin and cos of phase * 2pi / 2^32 -> Q16 in [-65536, 65536].
void lg_ref_sincos(const lg_luts *t, uint32_t phase, int32_t *s, int32_t *c);

// ---- RoPE (src/ref_rope.c) ------------------------------------------------

// Rotates the pairs (2i, 2i+1) of n_heads heads of head_size each at pos.
// inc[j] = round(theta^(-2j/head_size) / (2 pi) * 2^32), j < head_size/2.
void lg_ref_rope(int32_t *v, int n_heads, int head_size, uint32_t pos, const uint32_t *inc,
                 const lg_luts *t);

// ---- K/V cache (src/ref_kvcache.c) ----------------------------------------

typedef struct lg_kvcache {
    int32_t n_layers, seq_len, kv_dim, group, bits;
    int32_t ngroups;  // kv_dim / group per row
    int16_t *k_mant;  // (n_layers, seq_len, kv_dim)
    int16_t *v_mant;  // (n_layers, seq_len, kv_dim)
    uint8_t *k_exp;   // (n_layers, seq_len, ngroups)
    uint8_t *v_exp;   // (n_layers, seq_len, ngroups)
} lg_kvcache;

int lg_kvcache_init(lg_kvcache *c, const lg_config *cfg, lg_err *err);
void lg_kvcache_free(lg_kvcache *c);
// Quantizes one Q16 row of n values into mantissas + one exponent per group.
void lg_ref_kv_quant(int16_t *mant, uint8_t *exps, const int32_t *row, int n, int group, int bits);

// ---- attention (src/ref_attention.c) --------------------------------------

// One query head over cache rows 0..pos of its K/V head (offset kvoff into
// each row): online softmax, output Q16 (head_size). score_c =
// round(log2(e) / sqrt(head_size) * 2^20).
void lg_ref_attention_head(int32_t *out, const int32_t *q, int head_size, const lg_kvcache *c,
                           int layer, int kvoff, int pos, int32_t score_c, const lg_luts *t);

// ---- SiLU gate and residual (src/ref_silu.c) ------------------------------

// h1[i] = silu(h1[i]) * h3[i] (Q16, saturating).
void lg_ref_silu_gate(int32_t *h1, const int32_t *h3, int n, const lg_luts *t);
// x[i] = sat32(x[i] + d[i]).
void lg_ref_residual(int32_t *x, const int32_t *d, int n);

// ---- sampler (src/ref_sampler.c) ------------------------------------------

uint32_t lg_xorshift32(uint32_t *state);
// Seed word (the RTL's seed port, the host frame's seed field) -> PRNG
// state (0 maps to a fixed nonzero constant).
uint32_t lg_sampler_seed(uint32_t seed);
// A user's seed (llamagen run -s, lgtok.py --seed) -> the seed word: the
// high half of splitmix64's output for state seed (docs/numerics.md 3.13).
// xorshift32 started at a small seed draws small words first (seed 1:
// 270,369 / 2^32), which the inverse CDF turns into the lowest ids: seeds
// 1 - 30 at T 1 all began stories260K with an id below 280, 1 and 2 with
// BOS (no text). Host-side only; the RTL takes the word as it is.
uint32_t lg_seed_state(uint64_t seed);
// Index of the largest logit; ties go to the lowest index.
int lg_ref_argmax(const int32_t *logits, int n);
// inv_temp: 1/T in Q16 (0 = greedy). Draws one xorshift32 word when > 0.
int lg_ref_sample(const int32_t *logits, int n, uint32_t inv_temp, uint32_t *state,
                  const lg_luts *t);

#endif
