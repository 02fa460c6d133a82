/*
 * Model shape and hardware parameters.
 *
 * Every field is an integer so that the integer reference model (compiled
 * without floating point) can read the same struct the generator uses.
 * rope_theta and norm_eps are the only "real" quantities and are stored as
 * exact integers (theta is an integer in every LLaMA release; epsilon is
 * kept in parts per 10^9).
 */
#ifndef LLAMAGEN_CONFIG_H
#define LLAMAGEN_CONFIG_H

#include "llamagen/common.h"

typedef struct lg_model_config {
    int32_t dim;               // transformer width (residual stream length)
    int32_t hidden_dim;        // FFN inner width
    int32_t n_layers;          // decoder layers
    int32_t n_heads;           // query heads
    int32_t n_kv_heads;        // key/value heads (GQA: n_heads % n_kv_heads == 0)
    int32_t vocab_size;        // tokens
    int32_t seq_len;           // maximum context (positions 0 .. seq_len-1)
    uint32_t rope_theta;       // RoPE base, e.g. 10000 or 500000
    uint32_t norm_eps_e9;      // RMSNorm epsilon * 1e9 (1e-5 -> 10000)
    int32_t shared_classifier; // 1: classifier weights = token embedding table
} lg_model_config;

typedef struct lg_hw_config {
    int32_t lanes;      // MAC lanes of the mat-vec engine (1 .. 64)
    int32_t group_size; // I8E weight group G: inputs sharing one exponent
    int32_t kv_bits;    // K/V cache mantissa width in bits (4 .. 16)
    int32_t kv_group;   // K/V elements sharing one exponent (divides head_size)
    int32_t kv_ports;   // K/V mantissa RAM ports: 2 = simple dual port (block RAM),
                        // 1 = single port, read or write per cycle (iCE40 SPRAM)
    int32_t vec_lanes;  // elements per cycle of the norm, the activation quantizers and
                        // the mat-vec buffer writes; 0 = min(lanes, 16)
    int32_t embed_stream; // 1: embedding rows read from the weight stream (the shared
                          // classifier's rows) instead of an embedding ROM; 0: ROM
    int32_t mul_share;  // 1: the element-wise units and the attention time-share their
                        // multipliers (fewest DSPs, more cycles per element; UP5K); 0: not
    int32_t ext_weights; // the weight source: 0 an on-chip weight memory (weights.hex, boot
                         // port); 1 the top takes the weight stream from outside (DRAM,
                         // flash) through its m_wreq / s_w ports; 2 the top reads it over
                         // AXI4 (lg_axi_wreader). 1 and 2 write the image as weights.bin
} lg_hw_config;

typedef struct lg_config {
    char name[32];       // preset name, "checkpoint" or "custom"
    lg_model_config m;
    lg_hw_config hw;
} lg_config;

// Derived shapes.
static inline int32_t lg_head_size(const lg_model_config *m) { return m->dim / m->n_heads; }
static inline int32_t lg_kv_dim(const lg_model_config *m)
{
    return lg_head_size(m) * m->n_kv_heads;
}

// Default hardware parameters (lanes 16, G 32, 8-bit K/V, one exponent per
// head row).
void lg_hw_defaults(const lg_model_config *m, lg_hw_config *hw);

// Looks up a preset by name ("260k", "15m", "42m", "110m", "tinyllama-1.1b",
// "llama2-7b", "llama3-8b"). Hardware parameters are set to defaults.
int lg_config_preset(const char *name, lg_config *out, lg_err *err);

// Number of presets, their names and one-line descriptions, in listing order.
int lg_config_preset_count(void);
const char *lg_config_preset_name(int i);
const char *lg_config_preset_desc(int i);

// Applies one "--key value" override (keys: dim, hidden-dim, n-layers,
// n-heads, n-kv-heads, vocab-size, seq-len, rope-theta, lanes, group-size,
// kv-bits, kv-group). Returns -1 with a message on an unknown key or a value
// that is not a positive integer.
int lg_config_override(lg_config *cfg, const char *key, const char *value, lg_err *err);

// Checks every rule; on the first violation returns -1 with a message naming
// the field, its value and the rule.
int lg_config_validate(const lg_config *cfg, lg_err *err);

// Sizes used by `llamagen info` and the manifest.
typedef struct lg_config_stats {
    uint64_t params;            // weight parameters (embedding counted once when shared)
    uint64_t weight_bytes;      // int8 mantissas + one exponent byte per group
    uint64_t kv_bytes_per_pos;  // K and V, all layers, mantissas + exponents
    uint64_t weight_macs;       // MACs per token in the weight mat-vecs (incl. classifier)
    uint64_t attn_macs_pos0;    // attention MACs (q.k and p.v) at position 0
    uint64_t attn_macs_last;    // attention MACs at position seq_len-1
} lg_config_stats;

void lg_config_stats_compute(const lg_config *cfg, lg_config_stats *st);

// Attention MACs at a given position (q.k plus p.v over pos+1 rows, all layers).
uint64_t lg_attn_macs(const lg_model_config *m, int64_t pos);

#endif
