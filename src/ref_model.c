// The whole integer decoder, one position at a time: the sequence of unit
// twins that the RTL pipeline controller runs (see docs/architecture.md).
#include "llamagen/ref_model.h"

#include <stdlib.h>
#include <string.h>

void lg_ref_model_free(lg_ref_model *rm)
{
    lg_kvcache_free(&rm->kv);
    free(rm->x);
    free(rm->xb);
    free(rm->xb2);
    free(rm->q);
    free(rm->k);
    free(rm->v);
    free(rm->hb);
    free(rm->hb2);
    free(rm->logits);
    free(rm->xa);
    memset(rm, 0, sizeof *rm);
}

int lg_ref_model_init(lg_ref_model *rm, const lg_qmodel *qm, lg_err *err)
{
    memset(rm, 0, sizeof *rm);
    const lg_model_config *m = &qm->cfg.m;
    size_t d = (size_t)m->dim, hd = (size_t)m->hidden_dim, kv = (size_t)lg_kv_dim(m);
    rm->qm = qm;
    if (lg_kvcache_init(&rm->kv, &qm->cfg, err))
        return -1;
    if (!(rm->x = lg_calloc(d, 4, err)) || !(rm->xb = lg_calloc(d, 4, err)) ||
        !(rm->xb2 = lg_calloc(d, 4, err)) || !(rm->q = lg_calloc(d, 4, err)) ||
        !(rm->k = lg_calloc(kv, 4, err)) || !(rm->v = lg_calloc(kv, 4, err)) ||
        !(rm->hb = lg_calloc(hd, 4, err)) || !(rm->hb2 = lg_calloc(hd, 4, err)) ||
        !(rm->logits = lg_calloc((size_t)m->vocab_size, 4, err)) ||
        !(rm->xa = lg_calloc(d > hd ? d : hd, 2, err))) {
        lg_ref_model_free(rm);
        return -1;
    }
    return 0;
}

const int32_t *lg_ref_forward(lg_ref_model *rm, int token, int pos)
{
    const lg_qmodel *qm = rm->qm;
    const lg_model_config *m = &qm->cfg.m;
    const lg_luts *t = &qm->luts;
    lg_kvcache *c = &rm->kv;
    int d = m->dim, hd = m->hidden_dim, kvd = lg_kv_dim(m), hs = lg_head_size(m);
    int grp = m->n_heads / m->n_kv_heads;
    int s;

    lg_ref_embed(rm->x, &qm->embed, token);
    for (int l = 0; l < m->n_layers; l++) {
        // attention block
        lg_ref_rmsnorm(rm->xb, rm->x, &qm->rms_att[l], qm->eps_tab, t);
        s = lg_ref_actq(rm->xa, rm->xb, d);
        lg_ref_matvec(rm->q, &qm->wq[l], rm->xa, s);
        lg_ref_matvec(rm->k, &qm->wk[l], rm->xa, s);
        lg_ref_matvec(rm->v, &qm->wv[l], rm->xa, s);
        lg_ref_rope(rm->q, m->n_heads, hs, (uint32_t)pos, qm->rope_inc, t);
        lg_ref_rope(rm->k, m->n_kv_heads, hs, (uint32_t)pos, qm->rope_inc, t);
        // K offset: every score of a query moves by the same q.mu, which the
        // softmax cancels; the cache only sees the smaller remainder.
        const int32_t *mu = qm->k_offset + (size_t)l * (size_t)kvd; // (kv_dim)
        for (int i = 0; i < kvd; i++)
            rm->k[i] = lg_sat32((int64_t)rm->k[i] - mu[i]);
        size_t row = (size_t)l * (size_t)m->seq_len + (size_t)pos;
        lg_ref_kv_quant(c->k_mant + row * kvd, c->k_exp + row * c->ngroups, rm->k, kvd, c->group,
                        c->bits);
        lg_ref_kv_quant(c->v_mant + row * kvd, c->v_exp + row * c->ngroups, rm->v, kvd, c->group,
                        c->bits);
        for (int h = 0; h < m->n_heads; h++)
            lg_ref_attention_head(rm->xb + h * hs, rm->q + h * hs, hs, c, l, (h / grp) * hs, pos,
                                  qm->score_c, t);
        s = lg_ref_actq(rm->xa, rm->xb, d);
        lg_ref_matvec(rm->xb2, &qm->wo[l], rm->xa, s);
        lg_ref_residual(rm->x, rm->xb2, d);

        // feed-forward block
        lg_ref_rmsnorm(rm->xb, rm->x, &qm->rms_ffn[l], qm->eps_tab, t);
        s = lg_ref_actq(rm->xa, rm->xb, d);
        lg_ref_matvec(rm->hb, &qm->w1[l], rm->xa, s);
        lg_ref_matvec(rm->hb2, &qm->w3[l], rm->xa, s);
        lg_ref_silu_gate(rm->hb, rm->hb2, hd, t);
        s = lg_ref_actq(rm->xa, rm->hb, hd);
        lg_ref_matvec(rm->xb2, &qm->w2[l], rm->xa, s);
        lg_ref_residual(rm->x, rm->xb2, d);
    }
    lg_ref_rmsnorm(rm->xb, rm->x, &qm->rms_final, qm->eps_tab, t);
    s = lg_ref_actq(rm->xa, rm->xb, d);
    lg_ref_matvec(rm->logits, &qm->cls, rm->xa, s);
    return rm->logits;
}
