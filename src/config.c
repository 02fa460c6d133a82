// Model presets, CLI overrides, validation and size statistics.
#include "llamagen/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- presets ----------------------------------------------------------------

typedef struct preset {
    const char *name;
    const char *what;
    lg_model_config m;
} preset;

// Shapes from the published checkpoints. The llama2.c "stories" models share
// the classifier with the embedding table; the others do not.
static const preset PRESETS[] = {
    {"260k", "llama2.c stories260K (tok512)",
     {64, 172, 5, 8, 4, 512, 512, 10000, 10000, 1}},
    {"15m", "llama2.c stories15M",
     {288, 768, 6, 6, 6, 32000, 256, 10000, 10000, 1}},
    {"42m", "llama2.c stories42M",
     {512, 1376, 8, 8, 8, 32000, 1024, 10000, 10000, 1}},
    {"110m", "llama2.c stories110M",
     {768, 2048, 12, 12, 12, 32000, 1024, 10000, 10000, 1}},
    {"tinyllama-1.1b", "TinyLlama 1.1B (GQA 8:1)",
     {2048, 5632, 22, 32, 4, 32000, 2048, 10000, 10000, 0}},
    {"llama2-7b", "Llama-2-7B",
     {4096, 11008, 32, 32, 32, 32000, 4096, 10000, 10000, 0}},
    {"llama3-8b", "Llama-3-8B (GQA 4:1, theta 500000)",
     {4096, 14336, 32, 32, 8, 128256, 8192, 500000, 10000, 0}},
};
#define N_PRESETS ((int)(sizeof PRESETS / sizeof PRESETS[0]))

int lg_config_preset_count(void) { return N_PRESETS; }

const char *lg_config_preset_name(int i)
{
    return (i >= 0 && i < N_PRESETS) ? PRESETS[i].name : NULL;
}

const char *lg_config_preset_desc(int i)
{
    return (i >= 0 && i < N_PRESETS) ? PRESETS[i].what : NULL;
}

void lg_hw_defaults(const lg_model_config *m, lg_hw_config *hw)
{
    hw->lanes = 16;
    hw->group_size = 32;
    hw->kv_bits = 8;
    // One exponent per head row of K and V.
    hw->kv_group = (m && m->n_heads > 0) ? lg_head_size(m) : 32;
    hw->kv_ports = 2;
    hw->vec_lanes = 0;
    hw->embed_stream = 0;
    hw->mul_share = 0;
    hw->ext_weights = 0;
}

int lg_config_preset(const char *name, lg_config *out, lg_err *err)
{
    for (int i = 0; i < N_PRESETS; i++) {
        if (strcmp(PRESETS[i].name, name) == 0) {
            memset(out, 0, sizeof *out);
            snprintf(out->name, sizeof out->name, "%s", name);
            out->m = PRESETS[i].m;
            lg_hw_defaults(&out->m, &out->hw);
            return 0;
        }
    }
    return lg_fail(err, "unknown config '%s' (run 'llamagen list' for the presets)", name);
}

// ---- overrides --------------------------------------------------------------

static int parse_pos_int(const char *key, const char *s, int64_t max, int64_t *out, lg_err *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    // strtoll skips leading white space; refuse it as the trailing kind is
    // refused (" 4" and "4 " are both typos, not 4).
    if (errno || end == s || *end != '\0' || isspace((unsigned char)s[0]) || v <= 0 || v > max)
        return lg_fail(err, "--%s: '%s' is not an integer in 1..%lld", key, s, (long long)max);
    *out = v;
    return 0;
}

int lg_config_override(lg_config *cfg, const char *key, const char *value, lg_err *err)
{
    struct {
        const char *key;
        int32_t *i32;
        uint32_t *u32;
        int model; // 1: the model's (an override makes it "custom"), 0: the hardware's
    } keys[] = {
        {"dim", &cfg->m.dim, NULL, 1},
        {"hidden-dim", &cfg->m.hidden_dim, NULL, 1},
        {"n-layers", &cfg->m.n_layers, NULL, 1},
        {"n-heads", &cfg->m.n_heads, NULL, 1},
        {"n-kv-heads", &cfg->m.n_kv_heads, NULL, 1},
        {"vocab-size", &cfg->m.vocab_size, NULL, 1},
        {"seq-len", &cfg->m.seq_len, NULL, 1},
        {"rope-theta", NULL, &cfg->m.rope_theta, 1},
        {"lanes", &cfg->hw.lanes, NULL, 0},
        {"group-size", &cfg->hw.group_size, NULL, 0},
        {"kv-bits", &cfg->hw.kv_bits, NULL, 0},
        {"kv-group", &cfg->hw.kv_group, NULL, 0},
        {"kv-ports", &cfg->hw.kv_ports, NULL, 0},
        {"vec-lanes", &cfg->hw.vec_lanes, NULL, 0},
        {"embed-stream", &cfg->hw.embed_stream, NULL, 0},
        {"mul-share", &cfg->hw.mul_share, NULL, 0},
        {"ext-weights", &cfg->hw.ext_weights, NULL, 0},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].key, key) != 0)
            continue;
        int64_t v = 0;
        if (strcmp(key, "ext-weights") == 0) { // the weight source: 0, 1 or 2
            if (strcmp(value, "0") && strcmp(value, "1") && strcmp(value, "2"))
                return lg_fail(err, "--%s: '%s' is not 0, 1 or 2", key, value);
            v = value[0] - '0';
        } else if (strcmp(key, "embed-stream") == 0 || strcmp(key, "mul-share") == 0) { // switches
            if (strcmp(value, "0") && strcmp(value, "1"))
                return lg_fail(err, "--%s: '%s' is not 0 or 1", key, value);
            v = value[0] - '0';
        } else if (parse_pos_int(key, value, keys[i].u32 ? UINT32_MAX : INT32_MAX, &v, err)) {
            return -1;
        }
        if (keys[i].u32)
            *keys[i].u32 = (uint32_t)v;
        else
            *keys[i].i32 = (int32_t)v;
        if (strcmp(key, "n-heads") == 0 || strcmp(key, "dim") == 0) {
            // keep one K/V exponent per head row unless set explicitly later
            if (cfg->m.n_heads > 0 && cfg->m.dim % cfg->m.n_heads == 0)
                cfg->hw.kv_group = lg_head_size(&cfg->m);
        }
        // a model that is no longer the preset's (shape, context, RoPE) is
        // "custom"; hardware parameters alone keep the preset's name (the
        // decoder prefix's hash tells the designs apart)
        if (keys[i].model)
            snprintf(cfg->name, sizeof cfg->name, "%s", "custom");
        return 0;
    }
    return lg_fail(err, "unknown parameter --%s", key);
}

// ---- validation -------------------------------------------------------------

// Limits well above the largest preset; beyond them sizes stop being
// meaningful and 64-bit products could overflow.
#define MAX_DIM (1 << 16)
#define MAX_HIDDEN (1 << 18)
#define MAX_LAYERS 1024
#define MAX_VOCAB (1 << 20)
#define MAX_SEQ (1 << 20)

static int is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

int lg_config_validate(const lg_config *cfg, lg_err *err)
{
    const lg_model_config *m = &cfg->m;
    const lg_hw_config *h = &cfg->hw;
    struct {
        const char *name;
        int64_t v, max;
    } ranges[] = {
        {"dim", m->dim, MAX_DIM},
        {"hidden_dim", m->hidden_dim, MAX_HIDDEN},
        {"n_layers", m->n_layers, MAX_LAYERS},
        {"n_heads", m->n_heads, MAX_DIM},
        {"n_kv_heads", m->n_kv_heads, MAX_DIM},
        {"vocab_size", m->vocab_size, MAX_VOCAB},
        {"seq_len", m->seq_len, MAX_SEQ},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (ranges[i].v <= 0)
            return lg_fail(err, "invalid config: %s = %lld must be positive", ranges[i].name,
                           (long long)ranges[i].v);
        if (ranges[i].v > ranges[i].max)
            return lg_fail(err, "invalid config: %s = %lld exceeds the limit %lld",
                           ranges[i].name, (long long)ranges[i].v, (long long)ranges[i].max);
    }
    // Token 1 is BOS (llama2.c): the integer and float models and the decoder
    // feed it first, so a vocabulary without it would be read out of bounds.
    if (m->vocab_size < 2)
        return lg_fail(err, "invalid config: vocab_size = %d must be at least 2 (token 1 is BOS)",
                       m->vocab_size);
    if (m->dim % m->n_heads != 0)
        return lg_fail(err, "invalid config: dim = %d is not divisible by n_heads = %d", m->dim,
                       m->n_heads);
    if (m->n_kv_heads > m->n_heads || m->n_heads % m->n_kv_heads != 0)
        return lg_fail(err, "invalid config: n_heads = %d is not a multiple of n_kv_heads = %d",
                       m->n_heads, m->n_kv_heads);
    int32_t hs = lg_head_size(m);
    if (hs % 2 != 0)
        return lg_fail(err, "invalid config: head_size = dim/n_heads = %d must be even for RoPE",
                       hs);
    if (hs > 512)
        return lg_fail(err, "invalid config: head_size = %d exceeds the limit 512", hs);
    if (m->rope_theta < 2)
        return lg_fail(err, "invalid config: rope_theta = %u must be at least 2", m->rope_theta);
    if (m->norm_eps_e9 == 0 || m->norm_eps_e9 > 1000000)
        return lg_fail(err, "invalid config: norm_eps = %u e-9 must be in (0, 1e-3]",
                       m->norm_eps_e9);
    // Lanes and groups are powers of two so that a stream beat of L weights
    // never straddles a group boundary unevenly (G % L == 0 or L % G == 0).
    if (!is_pow2(h->lanes) || h->lanes > 64)
        return lg_fail(err, "invalid config: lanes = %d must be a power of two in 1..64",
                       h->lanes);
    if (!is_pow2(h->group_size) || h->group_size < 4 || h->group_size > 256)
        return lg_fail(err, "invalid config: group_size = %d must be a power of two in 4..256",
                       h->group_size);
    if (h->kv_bits < 4 || h->kv_bits > 16)
        return lg_fail(err, "invalid config: kv_bits = %d must be in 4..16", h->kv_bits);
    if (h->kv_group < 1 || hs % h->kv_group != 0)
        return lg_fail(err, "invalid config: kv_group = %d must divide head_size = %d",
                       h->kv_group, hs);
    if (h->vec_lanes != 0 &&
        (!is_pow2(h->vec_lanes) || h->vec_lanes > h->lanes || h->vec_lanes > 16))
        return lg_fail(err,
                       "invalid config: vec_lanes = %d must be a power of two <= min(lanes, 16) "
                       "= %d",
                       h->vec_lanes, h->lanes < 16 ? h->lanes : 16);
    if (h->embed_stream != 0 && h->embed_stream != 1)
        return lg_fail(err, "invalid config: embed_stream = %d must be 0 or 1", h->embed_stream);
    if (h->embed_stream && !m->shared_classifier)
        return lg_fail(err, "invalid config: embed_stream needs a shared classifier (the "
                            "embedding rows are read as the classifier's rows of the weight "
                            "stream)");
    if (h->mul_share != 0 && h->mul_share != 1)
        return lg_fail(err, "invalid config: mul_share = %d must be 0 or 1", h->mul_share);
    if (h->ext_weights < 0 || h->ext_weights > 2)
        return lg_fail(err, "invalid config: ext_weights = %d must be 0 (on-chip), 1 (stream "
                            "ports) or 2 (AXI4)",
                       h->ext_weights);
    if (h->kv_ports != 1 && h->kv_ports != 2)
        return lg_fail(err, "invalid config: kv_ports = %d must be 1 (single-port K/V RAM) or 2",
                       h->kv_ports);
    // The integer model's accumulators are proven for these bounds in
    // docs/numerics.md; a larger K/V context would need wider sums.
    lg_config_stats st;
    lg_config_stats_compute(cfg, &st);
    if (st.params > (1ull << 40))
        return lg_fail(err, "invalid config: %llu parameters exceeds the limit 2^40",
                       (unsigned long long)st.params);
    return 0;
}

// ---- statistics -------------------------------------------------------------

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// int8 mantissas plus one exponent byte per group of G inputs in each row.
static uint64_t matrix_bytes(uint64_t rows, uint64_t cols, uint64_t g)
{
    return rows * cols + rows * ceil_div(cols, g);
}

uint64_t lg_attn_macs(const lg_model_config *m, int64_t pos)
{
    // per layer and query head: q.k over pos+1 rows and p.v over pos+1 rows
    return (uint64_t)m->n_layers * (uint64_t)m->n_heads * (uint64_t)lg_head_size(m) * 2u *
           (uint64_t)(pos + 1);
}

void lg_config_stats_compute(const lg_config *cfg, lg_config_stats *st)
{
    const lg_model_config *m = &cfg->m;
    uint64_t d = (uint64_t)m->dim, hd = (uint64_t)m->hidden_dim, L = (uint64_t)m->n_layers;
    uint64_t V = (uint64_t)m->vocab_size, kv = (uint64_t)lg_kv_dim(m);
    uint64_t g = (uint64_t)(cfg->hw.group_size > 0 ? cfg->hw.group_size : 32);
    uint64_t layer_macs = 2 * d * d + 2 * kv * d + 3 * d * hd;
    memset(st, 0, sizeof *st);
    st->params = V * d + L * (2 * d + layer_macs) + d + (m->shared_classifier ? 0 : V * d);
    uint64_t layer_bytes = 2 * matrix_bytes(d, d, g) + 2 * matrix_bytes(kv, d, g) +
                           2 * matrix_bytes(hd, d, g) + matrix_bytes(d, hd, g) +
                           2 * (2 * d + 1); // two int16 norm-gain vectors + exponents
    st->weight_bytes = matrix_bytes(V, d, g) * (m->shared_classifier ? 1 : 2) + L * layer_bytes +
                       (2 * d + 1);
    uint64_t kvb = (uint64_t)(cfg->hw.kv_bits > 8 ? 2 : 1);
    uint64_t kvg = (uint64_t)(cfg->hw.kv_group > 0 ? cfg->hw.kv_group : 1);
    st->kv_bytes_per_pos = L * 2 * (kv * kvb + kv / kvg);
    st->weight_macs = L * layer_macs + V * d;
    st->attn_macs_pos0 = lg_attn_macs(m, 0);
    st->attn_macs_last = lg_attn_macs(m, m->seq_len - 1);
}
