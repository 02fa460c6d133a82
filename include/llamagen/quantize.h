/*
 * Offline quantization (float allowed): float32 weights -> lg_qmodel, with
 * the optional K smoothing calibrated on text the float model samples itself.
 */
#ifndef LLAMAGEN_QUANTIZE_H
#define LLAMAGEN_QUANTIZE_H

#include "llamagen/checkpoint.h"
#include "llamagen/ref_model.h"

typedef struct lg_quant_opts {
    int smooth_k;          // 1: per-channel-pair K smoothing folded into Wq/Wk
    int k_offset;          // 1: per-layer post-RoPE K offset subtracted before the cache
    int calib_tokens;      // positions per calibration sequence the float model samples
    int calib_seqs;        // calibration sequences (seeds calib_seed + 1, + 2, ...)
    uint64_t calib_seed;   // seed of that sampling (temperature 1, from BOS)
    int smooth_alpha_pct;  // smoothing strength in percent (100 = full)
} lg_quant_opts;

void lg_quant_opts_default(lg_quant_opts *o);

// The K calibration runs the float model over calib_seqs x calib_tokens
// positions (2,048 by default): at most LG_CALIB_MACS weight MACs in all
// (2^38 = 275 G, about four minutes of the float model here: stories110M's
// 2,048 positions, 224 G, stay whole). Past it, lg_calib_budget cuts the
// sequences (to pmax / 64, one at the least), then their length (to 16
// positions at the least): TinyLlama-1.1B calibrates on 4 x 66 positions,
// Llama-2-7B's shape on 1 x 41.
#define LG_CALIB_MACS (UINT64_C(1) << 38)
void lg_calib_budget(const lg_config *cfg, int *n, int *nseq);

int lg_quantize_model(lg_qmodel *qm, const lg_config *cfg, const lg_weights *w,
                      const lg_quant_opts *o, lg_err *err);
void lg_qmodel_free(lg_qmodel *qm);

// The mat-vec matrices in stream (consumption) order: per layer Wq Wk Wv Wo
// W1 W3 W2, then the classifier (shared with the embedding or not); idx = 7
// layer + kind, the classifier 7 n_layers. Its name ("wq[0]" ... "wcls") in
// name[n] when name is not NULL. NULL past the last.
const lg_qmat *lg_qmodel_matvec(const lg_qmodel *qm, int idx, char *name, size_t n);

// Quantizes one (rows, cols) float matrix to I8E with group G (min-error
// exponent per group, ebase = max exponent - 15).
int lg_quantize_matrix(lg_qmat *m, const float *w, int rows, int cols, int group, lg_err *err);
void lg_qmat_free(lg_qmat *m);

// RMSNorm's epsilon per activation shift s (offline, float):
// eps_tab[s] = round(eps * dim * 2^(32 - 2s)), s = 0..LG_A16_SHIFT_MAX (the
// table lg_quantize_model puts in lg_qmodel.eps_tab; the cycle model needs it
// for the lean norm's sum width).
void lg_eps_table(uint64_t *eps_tab, const lg_model_config *m);
// Gains * sqrt(n) -> int16 block float.
int lg_quantize_gain(lg_qvec *v, const float *g, int n, lg_err *err);

#endif
