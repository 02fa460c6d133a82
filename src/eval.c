// Integer-vs-float accuracy evaluation (host side).
#include "llamagen/eval.h"
#include "llamagen/float_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int argmax_f(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

int lg_eval_float_greedy(const lg_model_config *m, const lg_weights *w, int steps, int *tokens,
                         lg_err *err)
{
    lg_model_config mc = *m; // caches for the positions run, not all of seq_len
    mc.seq_len = steps > 0 && steps < m->seq_len ? steps : m->seq_len;
    lg_float_model fm;
    if (lg_float_model_init(&fm, &mc, w, err))
        return -1;
    tokens[0] = 1;
    int rc = 0;
    for (int pos = 0; pos < steps && rc == 0; pos++) {
        const float *fl = lg_float_forward_checked(&fm, tokens[pos], pos, err);
        if (fl)
            tokens[pos + 1] = argmax_f(fl, m->vocab_size);
        else
            rc = -1;
    }
    lg_float_model_free(&fm);
    return rc;
}

void lg_eval_result_free(lg_eval_result *res)
{
    free(res->tokens);
    free(res->int_pred);
    free(res->float_pred);
    memset(res, 0, sizeof *res);
}

int lg_eval_run(const lg_qmodel *qm, const lg_weights *w, const int *tokens, int steps,
                lg_eval_result *res, lg_err *err)
{
    const lg_model_config *m = &qm->cfg.m;
    memset(res, 0, sizeof *res);
    if (steps > m->seq_len)
        steps = m->seq_len;
    res->steps = steps;
    res->diverge_at = -1;
    res->tokens = lg_calloc((size_t)steps + 1, sizeof(int), err);
    res->int_pred = res->tokens ? lg_calloc((size_t)steps, sizeof(int), err) : NULL;
    res->float_pred = res->int_pred ? lg_calloc((size_t)steps, sizeof(int), err) : NULL;
    if (!res->float_pred)
        goto fail;
    if (tokens)
        memcpy(res->tokens, tokens, ((size_t)steps + 1) * sizeof(int));
    else if (lg_eval_float_greedy(m, w, steps, res->tokens, err))
        goto fail;

    lg_float_model fm;
    lg_ref_model rm, rf; // teacher-forced and free-running integer models
    lg_model_config mc = *m; // the float caches for the positions run
    mc.seq_len = steps > 0 ? steps : m->seq_len;
    if (lg_float_model_init(&fm, &mc, w, err))
        goto fail;
    if (lg_ref_model_init(&rm, qm, err)) {
        lg_float_model_free(&fm);
        goto fail;
    }
    if (lg_ref_model_init(&rf, qm, err)) {
        lg_ref_model_free(&rm);
        lg_float_model_free(&fm);
        goto fail;
    }
    double sum = 0;
    int free_tok = res->tokens[0];
    int rc = 0;
    for (int pos = 0; pos < steps; pos++) {
        const float *fl = lg_float_forward_checked(&fm, res->tokens[pos], pos, err);
        if (!fl) {
            rc = -1;
            break;
        }
        const int32_t *il = lg_ref_forward(&rm, res->tokens[pos], pos);
        int fpred = argmax_f(fl, m->vocab_size);
        int ipred = lg_ref_argmax(il, m->vocab_size);
        res->int_pred[pos] = ipred;
        res->float_pred[pos] = fpred;
        res->agree += (ipred == fpred);
        for (int i = 0; i < m->vocab_size; i++) {
            double e = fabs(il[i] / 65536.0 - fl[i]);
            sum += e;
            if (e > res->max_abs_err)
                res->max_abs_err = e;
        }
        if (res->diverge_at < 0) {
            free_tok = lg_ref_argmax(lg_ref_forward(&rf, free_tok, pos), m->vocab_size);
            if (free_tok != res->tokens[pos + 1])
                res->diverge_at = pos;
        }
    }
    res->mean_abs_err = sum / ((double)steps * m->vocab_size);
    lg_ref_model_free(&rf);
    lg_ref_model_free(&rm);
    lg_float_model_free(&fm);
    if (rc == 0)
        return 0;
fail:
    lg_eval_result_free(res);
    return -1;
}
