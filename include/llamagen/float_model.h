/*
 * Float32 forward pass with llama2.c's semantics and operation order:
 * the accuracy yardstick for the integer model. Offline/host use only.
 */
#ifndef LLAMAGEN_FLOAT_MODEL_H
#define LLAMAGEN_FLOAT_MODEL_H

#include "llamagen/checkpoint.h"

typedef struct lg_float_model {
    lg_model_config cfg;
    const lg_weights *w;
    float *x;           // (dim) residual stream
    float *xb;          // (dim)
    float *xb2;         // (dim)
    float *hb;          // (hidden_dim)
    float *hb2;         // (hidden_dim)
    float *q;           // (dim)
    float *att;         // (n_heads, seq_len)
    float *logits;      // (vocab_size)
    float *key_cache;   // (n_layers, seq_len, kv_dim)
    float *value_cache; // (n_layers, seq_len, kv_dim)
    // Optional observer of each layer's post-RoPE q (dim) and k (kv_dim),
    // used by the offline calibration (src/quantize.c). NULL: none.
    void (*qk_hook)(void *ctx, int layer, int pos, const float *q, const float *k);
    void *hook_ctx;
} lg_float_model;

int lg_float_model_init(lg_float_model *fm, const lg_model_config *cfg, const lg_weights *w,
                        lg_err *err);
void lg_float_model_free(lg_float_model *fm);

// Runs one position; returns the logits (vocab_size floats, owned by fm).
// 0 <= token < vocab_size and 0 <= pos < seq_len are the caller's duty.
float *lg_float_forward(lg_float_model *fm, int token, int pos);

// Runs one position as lg_float_forward and checks the logits: NULL and err
// set ("... not finite at position P") when one is NaN or infinite, which a
// checkpoint with weights near float32's range gives (every weight is
// finite in the file; their products overflow). The users of the logits
// (eval's comparison, run --float, the K calibration) would otherwise take
// an argmax or a softmax of NaN for a token.
float *lg_float_forward_checked(lg_float_model *fm, int token, int pos, lg_err *err);

// Float sampler as llama2.c (argmax at temperature 0, else multinomial on
// softmax(logits / temperature) with llama2.c's xorshift64* coin).
typedef struct lg_float_sampler {
    float temperature;
    uint64_t rng_state;
} lg_float_sampler;

int lg_float_sample(lg_float_sampler *s, float *logits, int n);

#endif
