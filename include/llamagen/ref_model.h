/*
 * The whole integer decoder: the bit-exact reference that the emitted RTL is
 * compared against (src/ref_model.c, compiled without floating point).
 */
#ifndef LLAMAGEN_REF_MODEL_H
#define LLAMAGEN_REF_MODEL_H

#include "llamagen/ref.h"

// Quantized model: everything the hardware holds in its memories.
typedef struct lg_qmodel {
    lg_config cfg;
    lg_qmat embed;       // (vocab_size, dim) token embedding
    lg_qmat cls;         // (vocab_size, dim) classifier; shares embed's storage when shared
    lg_qmat *wq;         // (n_layers) each (dim, dim)
    lg_qmat *wk;         // (n_layers) each (kv_dim, dim)
    lg_qmat *wv;         // (n_layers) each (kv_dim, dim)
    lg_qmat *wo;         // (n_layers) each (dim, dim)
    lg_qmat *w1;         // (n_layers) each (hidden_dim, dim)
    lg_qmat *w2;         // (n_layers) each (dim, hidden_dim)
    lg_qmat *w3;         // (n_layers) each (hidden_dim, dim)
    lg_qvec *rms_att;    // (n_layers) gains * sqrt(dim)
    lg_qvec *rms_ffn;    // (n_layers) gains * sqrt(dim)
    lg_qvec rms_final;   // gains * sqrt(dim)
    int32_t *k_offset;   // (n_layers, kv_dim) Q16, subtracted from K after RoPE, before
                         // the cache write (softmax ignores the constant shift q.mu)
    uint32_t *rope_inc;  // (head_size/2) phase increment per position, turns * 2^32
    int32_t score_c;     // round(log2(e) / sqrt(head_size) * 2^20)
    uint64_t eps_tab[LG_A16_SHIFT_MAX + 1]; // round(eps * dim * 2^(32-2s))
    lg_luts luts;
} lg_qmodel;

typedef struct lg_ref_model {
    const lg_qmodel *qm;
    lg_kvcache kv;
    int32_t *x;      // (dim) residual stream, Q16
    int32_t *xb;     // (dim) normed input / attention output
    int32_t *xb2;    // (dim) mat-vec output
    int32_t *q;      // (dim)
    int32_t *k;      // (kv_dim)
    int32_t *v;      // (kv_dim)
    int32_t *hb;     // (hidden_dim)
    int32_t *hb2;    // (hidden_dim)
    int32_t *logits; // (vocab_size)
    int16_t *xa;     // (max(dim, hidden_dim)) A16 mantissas entering a mat-vec
} lg_ref_model;

int lg_ref_model_init(lg_ref_model *rm, const lg_qmodel *qm, lg_err *err);
void lg_ref_model_free(lg_ref_model *rm);

// One position: token at pos (caller checks 0 <= token < vocab, pos < seq_len).
// Returns the Q16 logits (vocab_size), owned by rm.
const int32_t *lg_ref_forward(lg_ref_model *rm, int token, int pos);

#endif
