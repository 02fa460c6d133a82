/*
 * Emitters of the LUT function units, RMSNorm, RoPE, SiLU gate and residual
 * add (src/emit_lut.c, src/emit_norm.c, src/emit_rope.c, src/emit_silu.c).
 *
 * Each unit is one template in rtl_templates/ and one C twin in src/ref_*.c;
 * the emitter bakes what the template cannot compute (table images, widths
 * derived from the tables, per-config constants) and writes <module>.v plus
 * its $readmemh images into ctx->outdir. File names passed in are also the
 * default values of the modules' *_FILE parameters ($readmemh resolves them
 * against the simulator's or synthesiser's working directory; instances may
 * override them).
 *
 * Latencies (also in each module's banner and header; L cycles: with no
 * stalls a result is valid on the outputs L cycles after the cycle its input
 * was sampled or handshaken in):
 *   exp2, sigmoid, sincos   3 cycles, one result per cycle
 *   sigmoid, sincos with    table stages (two reads on consecutive cycles give
 *     mul_share             the interpolation operands for the caller's shared
 *                           multiplier; the callers' rates below)
 *   rsqrt                   6 cycles, one result per cycle
 *   rmsnorm                 3 * dim + 16 cycles per vector (first input to done);
 *                           lean form (mul_share): 34 * dim + 3 * max(S_W, 34) - 19
 *   rope                    x[2j+1] handshake -> y[2j] after 7 cycles, y[2j+1]
 *                           after 8; one element per cycle
 *   rope, mul_share         x[2j+1] handshake -> y[2j] after 39 cycles, y[2j+1]
 *                           after 63 (LG_ROPE_SHARE_Y0 / Y1); one pair per 64 cycles
 *   silu_gate               6 cycles, one element per cycle
 *   silu_gate, mul_share    LG_SILU_SHARE_ELEM (21) cycles from both inputs valid,
 *                           LG_SILU_SHARE_LAT (2) from their late handshake; one
 *                           element per 21
 *   residual                1 cycle, one element per cycle
 */
#ifndef LLAMAGEN_EMIT_UNITS2_H
#define LLAMAGEN_EMIT_UNITS2_H

// Lean (mul_share) RoPE and SiLU gate rates, as their templates' headers
// state and their benches check; the decoder's cycle model uses them.
#define LG_ROPE_SHARE_Y0 39   // x[2j+1] handshake -> y[2j] valid
#define LG_ROPE_SHARE_Y1 63   // x[2j+1] handshake -> y[2j+1] valid (24 after y[2j] went)
#define LG_SILU_SHARE_ELEM 21 // cycles per element, and both inputs valid to output
#define LG_SILU_SHARE_LAT 2   // the (joined, late) input handshake to output

#include "llamagen/emit.h"
#include "llamagen/ref.h"

// ---- LUT images (src/emit_lut.c) ---------------------------------------------

// Default image names of lg_emit_lut_images.
#define LG_EXP2_HEX "lg_exp2_lut.hex"
#define LG_SIGMOID_HEX "lg_sigmoid_lut.hex"
#define LG_SINE_HEX "lg_sine_lut.hex"
#define LG_RSQRT_HEX "lg_rsqrt_lut.hex"

// Layout of an interpolated table image (see src/emit_lut.c).
typedef struct lg_lut_layout {
    uint32_t t_min; // smallest T[i], i < n (added back by the module)
    int t_w;        // bits of T[i] - t_min
    int d_w;        // bits of T[i+1] - T[i]
} lg_lut_layout;

// Interpolated table -> ROM words {T[i] - t_min (t_w bits), T[i+1] - T[i]
// (d_w bits)}, i = 0..n-1 (t holds n + 1 entries). Fails unless t is
// non-decreasing, T < 2^17 and T[i] - t_min < 2^16. words: (n).
int lg_lut_pack(int64_t *words, lg_lut_layout *l, const uint32_t *t, int n, const char *what,
                lg_err *err);

typedef enum lg_lut_id { LG_LUT_EXP2, LG_LUT_SIGMOID, LG_LUT_SINE, LG_LUT_RSQRT } lg_lut_id;

// Writes one table image under its LG_*_HEX name: exp2 256 words, sigmoid 512,
// sine 256 (packed as above), rsqrt 192 words T[i] - min T.
int lg_emit_lut_image(lg_emit_ctx *ctx, lg_lut_id id, const lg_luts *t, lg_err *err);
// All four.
int lg_emit_lut_images(lg_emit_ctx *ctx, const lg_luts *t, lg_err *err);

// LUT function units; lut_file is the default LUT_FILE parameter (the image
// written by lg_emit_lut_images, or a path to it).
int lg_emit_exp2(lg_emit_ctx *ctx, const char *module, const char *lut_file, const lg_luts *t,
                 lg_err *err);
// mul_share 1: the table stage of the multiplier-sharing SiLU gate instead
// (rtl_templates/lg_sigmoid_share.v: the T column alone, baked in, 512 x 16
// bits, read for T[i] and T[i+1] on two cycles; the caller interpolates on
// its shared multiplier; other ports).
int lg_emit_sigmoid(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                    const lg_luts *t, int32_t mul_share, lg_err *err);
// mul_share 1: the table stage of the multiplier-sharing RoPE instead
// (rtl_templates/lg_sincos_share.v: the T column alone, baked in, 256 x 16
// bits in one EBR, T[i+1] and T[i] read on two cycles and D formed by
// subtraction; no quadrant fold: the caller looks sin and cos up from P and
// -P and interpolates on its shared multiplier; other ports).
int lg_emit_sincos(lg_emit_ctx *ctx, const char *module, const char *lut_file,
                   const lg_luts *t, int32_t mul_share, lg_err *err);
int lg_emit_rsqrt(lg_emit_ctx *ctx, const char *module, const char *lut_file, const lg_luts *t,
                  lg_err *err);
// The exp2 table's T column as built-in ROM contents for the lean
// (--mul-share) attention and sampler: "    ARR[i] = 16'hXXXX;" lines,
// T[i] - 2^16 for i = 0..LG_EXP2_N-1, after checking that the table has that
// layout (T[0] = 2^16, T[N] = 2^17, monotone, steps < 2^15). Returns a
// malloc'd text (the caller frees it), or NULL with a message naming WHO.
char *lg_exp2_t_column(const lg_luts *t, const char *arr, const char *who, lg_err *err);

// ---- RMSNorm (src/emit_norm.c) -------------------------------------------------

typedef struct lg_rmsnorm_unit {
    const char *module;       // emitted module name; it bakes dim, nvec, eps and the
                              // gain exponents ("lg_rmsnorm_d64")
    const char *rsqrt_module; // instantiated, emitted separately (lg_emit_rsqrt)
    const char *rsqrt_file;   // default RSQRT_FILE parameter
    const char *gain_file;    // gain image written here, default GAIN_FILE
    int32_t dim;              // vector length n
    int32_t nvec;             // gain vectors held (selected by s_sel)
    const lg_qvec *gains;     // (nvec) each of n = dim, |mant| <= 32767
    const uint64_t *eps_tab;  // (LG_A16_SHIFT_MAX + 1) round(eps * dim * 2^(32 - 2s))
    int32_t mul_share;        // 1: lean form (lg_rmsnorm_share.v): one 16x16 multiplier,
                              // rsqrt inline, one memory (gain_file holds the gains and
                              // seeds), 34 * dim + 3 * max(S_W, 34) - 19 cycles per vector
} lg_rmsnorm_unit;

// Width of the sum of squares register: bits of dim * 32767^2 + max eps,
// rounded up to even.
int lg_rmsnorm_sum_width(int32_t dim, const uint64_t *eps_tab);

// Cycles per vector at full rate, first input handshake to done (exact):
// dim + 2 * ceil(dim / vl) + 16, or with mul_share 34 * dim + 3 * max(S_W, 34) - 19
// for any vl (S_W = lg_rmsnorm_sum_width).
int lg_rmsnorm_cycles(const lg_rmsnorm_unit *u, int32_t vl);

int lg_emit_rmsnorm(lg_emit_ctx *ctx, const lg_rmsnorm_unit *u, lg_err *err);

// ---- RoPE (src/emit_rope.c) ------------------------------------------------------

typedef struct lg_rope_unit {
    const char *module;        // emitted module name (carries head_size: "lg_rope_h8")
    const char *sincos_module; // instantiated, emitted separately (lg_emit_sincos)
    const char *sine_file;     // default SINE_FILE parameter
    const char *inc_file;      // increment image written here, default INC_FILE
    int32_t n_heads;           // default N_HEADS parameter
    int32_t head_size;         // even
    const uint32_t *inc;       // (head_size / 2) phase increments, turns * 2^32
    int32_t mul_share;         // 1: one 16x16 multiplier, 23 cycles per pair
                               // (lg_rope_share.v; sincos_module emitted with
                               // mul_share 1 too)
} lg_rope_unit;

int lg_emit_rope(lg_emit_ctx *ctx, const lg_rope_unit *u, lg_err *err);

// ---- SiLU gate and residual (src/emit_silu.c) -------------------------------------

// mul_share 1: one 16x16 multiplier, one element per 17 cycles
// (rtl_templates/lg_silu_gate_share.v; sigmoid_module emitted with mul_share 1).
int lg_emit_silu_gate(lg_emit_ctx *ctx, const char *module, const char *sigmoid_module,
                      const char *sigmoid_file, int32_t mul_share, lg_err *err);
int lg_emit_residual(lg_emit_ctx *ctx, const char *module, int32_t mul_share, lg_err *err);

#endif
