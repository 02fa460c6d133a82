/*
 * Accuracy of the integer model against the float model (host-side, float
 * allowed): teacher-forced top-1 agreement, logit error, free-running
 * divergence.
 */
#ifndef LLAMAGEN_EVAL_H
#define LLAMAGEN_EVAL_H

#include "llamagen/quantize.h"

typedef struct lg_eval_result {
    int steps;            // predictions compared
    int agree;            // teacher-forced top-1 agreements
    double mean_abs_err;  // mean |int logit - float logit| over all logits
    double max_abs_err;   // max of the same
    int diverge_at;       // first position where free-running greedy differs (-1: never)
    int *tokens;          // (steps + 1) teacher sequence (BOS first)
    int *int_pred;        // (steps) integer model's argmax per position
    int *float_pred;      // (steps) float model's argmax per position
} lg_eval_result;

// Greedy float sequence from BOS for `steps` positions (tokens: steps+1).
int lg_eval_float_greedy(const lg_model_config *m, const lg_weights *w, int steps, int *tokens,
                         lg_err *err);

// Compares over `tokens` (given, steps+1 long, or NULL for the float greedy
// sequence). Allocates res->tokens and res->int_pred (lg_eval_result_free).
int lg_eval_run(const lg_qmodel *qm, const lg_weights *w, const int *tokens, int steps,
                lg_eval_result *res, lg_err *err);
void lg_eval_result_free(lg_eval_result *res);

#endif
