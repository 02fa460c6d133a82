/*
 * Emitters of the K/V cache and the attention unit (src/emit_attention.c).
 *
 * lg_kvcache (rtl_templates/lg_kvcache.v + lg_kvquant.v, C twins
 * lg_kvcache / lg_ref_kv_quant) holds every layer's quantized K and V rows;
 * lg_attention (rtl_templates/lg_attention.v + lg_recip.v, C twin
 * lg_ref_attention_head once per query head) streams them back for one
 * layer and position. Both are driven by one parameter struct so that the
 * cache's read beat and the attention's beat always agree.
 *
 * Latencies and throughput (also in the module headers and banners):
 *   kvcache write   one element per cycle; a row is in the RAM (done high)
 *                   KV_GROUP + 3 cycles after the cycle of its last element's
 *                   handshake (lg_kvcache_done_latency); under mul_share
 *                   (lg_kvcache_share.v + lg_kvquant_share.v) one quantizer
 *                   serves K and V, whole rows in turn, a row's first element
 *                   taken in the previous row's done cycle at the earliest;
 *                   its groups are quantized bit-serially ((KV_BITS + 37) *
 *                   KV_GROUP cycles with the exponent pass, which replace
 *                   KV_GROUP in the done latency), a group's last element
 *                   waiting for the previous group's read-out, none taken in
 *                   the cycle after a group's last (lg_kvcache_pair_cycles)
 *   kvcache read    one beat (BEAT mantissas) per cycle; the first beat is
 *                   valid 3 cycles after the request handshake cycle (both
 *                   forms; under mul_share with kv_ports 1 the exponents
 *                   live in the mantissa SPRAM banks, no EBR, and a cycle
 *                   writing either word kind issues no read on that cache)
 *   attention       a row of a head costs NB = HEAD_SIZE / BEAT cycles (one for
 *                   stories260K at 16 lanes); a call at position pos takes
 *                   2 HS + NQC + 42 + NB + R + (x_(N_HEADS-1) - 18) cycles
 *                   start to done without stalls, R = (pos + 1) NB, NQC =
 *                   ceil(HS / min(HS, 8)) query beats, x_h the back end's
 *                   transfer times (the recurrence in the module header);
 *                   2 HS + NQC + 42 + NB + N_HEADS R when the rows pace the
 *                   heads (lg_attn_cycles). Under mul_share the lean form
 *                   (lg_attention_share.v + its exp2 table stage
 *                   lg_exp2_share.v: one multiplier, one shifter, heads one
 *                   after another) takes N_HEADS (QH + (pos + 1) RC + BH) + 2
 *                   cycles, QH = 2 HS (the query quantized inline),
 *                   RC = 3 HS + (HS / KV_GROUP)(2 LA + 2) + 7 per row,
 *                   BH = L_W + 17 + HS (2 LA + 2), L_W = 17 +
 *                   clog2(SEQ_LEN), LA = lg_attn_share_limbs
 */
#ifndef LLAMAGEN_EMIT_ATTN_H
#define LLAMAGEN_EMIT_ATTN_H

#include "llamagen/emit.h"

typedef struct lg_attn_params {
    int32_t head_size;  // elements per head (>= 2)
    int32_t n_heads;    // query heads
    int32_t n_kv_heads; // K/V heads (divides n_heads)
    int32_t n_layers;   // layers held by the cache
    int32_t seq_len;    // positions per layer (1 .. 2^20)
    int32_t kv_bits;    // K/V mantissa bits, 4..16
    int32_t kv_group;   // K/V elements per exponent (divides head_size)
    int32_t lanes;      // multipliers for q.k and p.v (power of two, 1..64)
    int32_t score_c;    // round(log2(e) / sqrt(head_size) * 2^20), 1 .. 2^21-1
    int32_t kv_ports;   // cache mantissa RAM ports: 1 single port, 2 (or 0) simple dual port
    int32_t qv_max;     // query quantizer beat: min(head_size, qv_max) elements; 0 = 8
    int32_t mul_share;  // 1: the lean forms (one shared multiplier; more cycles per element)
} lg_attn_params;

// The model's shapes and hardware parameters; score_c from the quantized
// model (lg_qmodel.score_c).
void lg_attn_params_from_cfg(lg_attn_params *p, const lg_config *cfg, int32_t score_c);
int lg_attn_check(const lg_attn_params *p, lg_err *err);

// Elements per K/V beat: the largest power of two <= max(1, lanes / 2) that
// divides head_size and divides or is a multiple of kv_group. The cache's
// word width and the attention's multipliers per pipe.
int32_t lg_attn_beat(const lg_attn_params *p);
// Elements per query quantizer beat: min(head_size, qv_max or 8).
int32_t lg_attn_qv(const lg_attn_params *p);
// Cycles per (query head, cached row) in steady state: head_size / beat.
int32_t lg_attn_row_cycles(const lg_attn_params *p);
// Cycles from the start cycle to the done pulse of one attention call at
// position pos (rows 0..pos), with the query offered every cycle, the
// cache's streams as lg_kvcache serves them and the output always ready.
int64_t lg_attn_cycles(const lg_attn_params *p, int32_t pos);
// The same call (default form only) when the cache takes its K requests
// from cycle tk after the start cycle on and its V requests from tv on (the
// decoder's k_ok / v_ok: this position's rows are still being written when
// the attention starts): a cycle-by-cycle run of the unit's control (query
// banks, requests, the lockstep row pipe that stops for a missing V beat,
// the two reciprocal slots, the output stage). Equal to lg_attn_cycles()
// when tk = tv = 0 (test_attention checks this over a sweep of shapes).
// Beyond 2^22 row beats a call it returns max(lg_attn_cycles(), tv +
// lg_attn_cycles() - the V fill) without the run; under mul_share,
// lg_attn_cycles().
int64_t lg_attn_cycles_at(const lg_attn_params *p, int32_t pos, int64_t tk, int64_t tv);
// Lean form (mul_share): 15-bit limbs of its wide multiply operand (psum or
// the clamped 41-bit tq): ceil((max(psum width, 41) - 1) / 15).
int32_t lg_attn_share_limbs(const lg_attn_params *p);

// Cache write: cycles from the cycle of a row's last element handshake to the
// cycle its done pulse is high.
int32_t lg_kvcache_done_latency(const lg_attn_params *p);
// Cache write, a K row and a V row offered in the same cycle, both without
// gaps: cycles from the first element handshake (the K row's) to the V row's
// done pulse: KV_DIM + KV_GROUP + 2; under mul_share (the V row waits for
// the K row's done; R = (KV_BITS + 37) KV_GROUP, NG = KV_DIM / KV_GROUP)
// 2 ((KV_GROUP - 1) + (NG - 1) (R + 2) + R + 3).
// 1 when the lean cache (mul_share) keeps the exponents in the mantissa
// RAMs' spare words (two single-port banks per cache: lg_kvcache_share.v's
// SPX rule), 0 when they have RAMs of their own.
int lg_kvcache_exp_in_mant(const lg_attn_params *p);
int32_t lg_kvcache_pair_cycles(const lg_attn_params *p);
// Cache read: cycles from a request handshake cycle (idle port) to the cycle
// the first beat is valid.
int32_t lg_kvcache_read_latency(const lg_attn_params *p);

// Default module names, with the parameters baked in:
// "lg_kvcache_h<hs>_k<kv heads>_b<bits>_g<group>_e<beat>_l<layers>_s<seq>" (+ "_p1"
// single-port, "_ms" mul_share) and
// "lg_attention_h<hs>_n<heads>_k<kv heads>_b<bits>_g<group>_w<lanes>_s<seq>" (+ "_q<qv>"
// narrow query beat, "_ms" mul_share).
void lg_kvcache_module_name(char *buf, size_t n, const lg_attn_params *p);
void lg_attention_module_name(char *buf, size_t n, const lg_attn_params *p);

// Writes <module>.v and its write-side quantizer <module>_quant.v (module
// NULL: the default name).
int lg_emit_kvcache(lg_emit_ctx *ctx, const char *module, const lg_attn_params *p, lg_err *err);

// Writes <module>.v and its reciprocal divider <module>_recip.v (module NULL:
// the default name). exp2_module (lg_emit_exp2) and actq_module (lg_emit_actq;
// its COLS is overridden to head_size) are instantiated and emitted
// separately; exp2_file is the default EXP2_FILE parameter. Under mul_share
// the lean form (lg_attention_share.v) quantizes the query, divides and
// interpolates exp2 itself: it writes no <module>_recip.v, instantiates
// neither actq_module nor exp2_module (both still required, for one call
// signature) but writes <module>_exp2.v (lg_exp2_share.v: the exp2 table
// read alone, its T column baked in from the table of exp2_file).
int lg_emit_attention(lg_emit_ctx *ctx, const char *module, const lg_attn_params *p,
                      const char *exp2_module, const char *exp2_file, const char *actq_module,
                      lg_err *err);

#endif
