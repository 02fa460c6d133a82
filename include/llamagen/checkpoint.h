/*
 * llama2.c checkpoint I/O (float32 weights) and seeded synthetic weights.
 *
 * Formats read:
 *  - legacy version 0: 7 int32 header (dim, hidden_dim, n_layers, n_heads,
 *    n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared
 *    classifier), then float32 tensors, then (optionally) the unused
 *    freq_cis_real/imag tables, then wcls when unshared.
 *  - version 1 "ak42": 256-byte header (magic, version, the 7 ints, a
 *    shared-classifier byte), then float32 tensors in export order.
 * The file size must match what the header implies exactly.
 */
#ifndef LLAMAGEN_CHECKPOINT_H
#define LLAMAGEN_CHECKPOINT_H

#include "llamagen/config.h"

typedef struct lg_weights {
    float *token_embedding; // (vocab_size, dim)
    float *rms_att;         // (n_layers, dim)
    float *wq;              // (n_layers, dim, dim)        rows = outputs
    float *wk;              // (n_layers, kv_dim, dim)
    float *wv;              // (n_layers, kv_dim, dim)
    float *wo;              // (n_layers, dim, dim)
    float *rms_ffn;         // (n_layers, dim)
    float *w1;              // (n_layers, hidden_dim, dim)
    float *w2;              // (n_layers, dim, hidden_dim)
    float *w3;              // (n_layers, hidden_dim, dim)
    float *rms_final;       // (dim)
    float *wcls;            // (vocab_size, dim); == token_embedding when shared
    float *mem;             // owning allocation behind all pointers above
    size_t n_floats;        // floats in mem
} lg_weights;

// Loads a checkpoint; fills cfg->m (rope_theta 10000, eps 1e-5 as llama2.c
// assumes) and w. On error nothing is allocated and err names the problem.
// w == NULL: the header only (the shape, checked against the file's size;
// no weight is read).
int lg_checkpoint_load(const char *path, lg_model_config *cfg, lg_weights *w, lg_err *err);

// The model options of the llamagen CLI, as one function for every tool that
// must quantize the same model (llamagen, mkflash): the preset `config`
// and / or the `checkpoint` (NULL: absent; one is required). With a
// checkpoint its weights are loaded into w once the whole configuration has
// been checked (zeroed otherwise, and nothing allocated on failure; the
// caller frees it after success; w == NULL reads only the checkpoint's
// header: `info`); with both, the checkpoint must have the preset's
// shape and the preset supplies rope_theta and norm_eps. Then the overrides:
// overrides[k] (NULL: not given) is the value of lg_override_keys[k]
// (applied in that order: hardware last), none of which may change a
// checkpoint's weight shape. The result is validated.
#define LG_N_OVERRIDES 17
extern const char *const lg_override_keys[LG_N_OVERRIDES];
int lg_config_build(const char *config, const char *checkpoint,
                    const char *const overrides[LG_N_OVERRIDES], lg_config *cfg, lg_weights *w,
                    lg_err *err);

// Writes w in the given format (0 = legacy, 1 = ak42); used by tests to make
// fixture files and by users to convert.
int lg_checkpoint_save(const char *path, const lg_model_config *cfg, const lg_weights *w,
                       int version, lg_err *err);

// Allocates zeroed weights for cfg (wcls aliases the embedding when shared).
int lg_weights_alloc(const lg_model_config *cfg, lg_weights *w, lg_err *err);

// Deterministic synthetic weights from a 64-bit seed, scaled like a trained
// model (see docs/synthetic-weights.md).
int lg_weights_synthetic(const lg_model_config *cfg, uint64_t seed, lg_weights *w, lg_err *err);

void lg_weights_free(lg_weights *w);

#endif
