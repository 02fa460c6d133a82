// Offline quantization: float32 weights -> the integer model's memories.
// Float is fine here (host, generation time); the results are integers that
// the reference model and the RTL consume identically.
#include "llamagen/quantize.h"
#include "llamagen/float_model.h"
#include "llamagen/ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

void lg_quant_opts_default(lg_quant_opts *o)
{
    o->smooth_k = 1;          // per-pair K smoothing folded into Wq/Wk
    o->k_offset = 1;          // per-layer K offset subtracted before the cache
    o->calib_tokens = 512;    // positions per calibration sequence
    o->calib_seqs = 4;        // sampled sequences (seeds calib_seed + 1 ..)
    o->calib_seed = 0x5eed;
    o->smooth_alpha_pct = 25; // smoothing strength (see calibrate_k)
}

// ---- I8E matrices ------------------------------------------------------------

// Squared error of quantizing x[0..n) with exponent e (mantissa clipped to
// +-127, rounded half away from zero).
static double group_err(const float *x, int n, int e)
{
    double sc = ldexp(1.0, e), err = 0;
    for (int i = 0; i < n; i++) {
        double m = round(x[i] / sc);
        m = m > 127 ? 127 : m < -127 ? -127 : m;
        double d = x[i] - m * sc;
        err += d * d;
    }
    return err;
}

// Exponent for a group by minimum error among the leading-one exponent
// (no clipping) and the two below it (more resolution, some clipping).
static int group_exp(const float *x, int n)
{
    double a = 0;
    for (int i = 0; i < n; i++)
        a = fmax(a, fabs(x[i]));
    if (a == 0)
        return INT32_MIN;
    int e0 = (int)ceil(log2(a / 127.0));
    while (round(a / ldexp(1.0, e0)) > 127)
        e0++;
    while (round(a / ldexp(1.0, e0 - 1)) <= 127)
        e0--;
    int best = e0;
    double best_err = group_err(x, n, e0);
    for (int e = e0 - 1; e >= e0 - 2; e--) {
        double err = group_err(x, n, e);
        if (err < best_err) { // ties keep the larger exponent
            best_err = err;
            best = e;
        }
    }
    return best;
}

void lg_eps_table(uint64_t *eps_tab, const lg_model_config *m)
{
    double eps = m->norm_eps_e9 * 1e-9;
    for (int s = 0; s <= LG_A16_SHIFT_MAX; s++)
        eps_tab[s] = (uint64_t)llround(eps * m->dim * ldexp(1.0, 32 - 2 * s));
}

void lg_qmat_free(lg_qmat *m)
{
    free(m->mant);
    free(m->dexp);
    memset(m, 0, sizeof *m);
}

int lg_quantize_matrix(lg_qmat *m, const float *w, int rows, int cols, int group, lg_err *err)
{
    memset(m, 0, sizeof *m);
    // An infinite weight has no exponent (group_exp's int cast and its
    // search loops would run on inf), a NaN no mantissa: refused, not
    // quantized into something. The loader refuses them in a checkpoint;
    // they can still come from the K smoothing's scales (huge weights).
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        if (!isfinite(w[i]))
            return lg_fail(err, "weight (%zu, %zu) of a %d x %d matrix is not finite",
                           i / (size_t)cols, i % (size_t)cols, rows, cols);
    m->rows = rows;
    m->cols = cols;
    m->group = group;
    m->ngroups = (cols + group - 1) / group;
    size_t ng = (size_t)rows * (size_t)m->ngroups;
    int *ex = lg_calloc(ng, sizeof *ex, err); // (rows, ngroups) unclamped exponents
    m->mant = ex ? lg_calloc((size_t)rows * (size_t)cols, 1, err) : NULL;
    m->dexp = m->mant ? lg_calloc(ng, 1, err) : NULL;
    if (!m->dexp) {
        free(ex);
        lg_qmat_free(m);
        return -1;
    }
    int emax = INT32_MIN;
    for (int r = 0; r < rows; r++)
        for (int g = 0; g < m->ngroups; g++) {
            int lo = g * group, n = (lo + group < cols ? group : cols - lo);
            int e = group_exp(w + (size_t)r * cols + lo, n);
            ex[(size_t)r * m->ngroups + g] = e;
            if (e > emax)
                emax = e;
        }
    if (emax == INT32_MIN)
        emax = 0; // all-zero matrix
    // One base per matrix; groups more than 15 octaves below the largest
    // are clamped up to the base (they lose resolution, not range).
    m->ebase = emax - LG_W_DEXP_MAX;
    for (int r = 0; r < rows; r++)
        for (int g = 0; g < m->ngroups; g++) {
            int e = ex[(size_t)r * m->ngroups + g];
            if (e < m->ebase)
                e = m->ebase;
            m->dexp[(size_t)r * m->ngroups + g] = (uint8_t)(e - m->ebase);
            double sc = ldexp(1.0, e);
            int lo = g * group, n = (lo + group < cols ? group : cols - lo);
            for (int i = lo; i < lo + n; i++) {
                double q = round(w[(size_t)r * cols + i] / sc);
                m->mant[(size_t)r * cols + i] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
            }
        }
    free(ex);
    return 0;
}

int lg_quantize_gain(lg_qvec *v, const float *g, int n, lg_err *err)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    v->mant = lg_calloc((size_t)n, sizeof *v->mant, err);
    if (!v->mant)
        return -1;
    double sq = sqrt((double)n), a = 0;
    for (int i = 0; i < n; i++)
        a = fmax(a, fabs(g[i] * sq));
    int e = a > 0 ? (int)ceil(log2(a / LG_A16_MAX)) : 0;
    while (a > 0 && round(a / ldexp(1.0, e)) > LG_A16_MAX)
        e++;
    while (a > 0 && round(a / ldexp(1.0, e - 1)) <= LG_A16_MAX)
        e--;
    v->exp = e;
    for (int i = 0; i < n; i++)
        v->mant[i] = (int16_t)round(g[i] * sq / ldexp(1.0, e));
    return 0;
}

// ---- K calibration: smoothing and offset -----------------------------------
//
// The K cache stores kv_bits-bit mantissas with one leading-one exponent per
// kv_group elements (a head row by default), so a row's quantization step is
// set by its largest element. Two offline measures shrink that element; both
// are free in hardware or nearly so:
//
//  * K offset: subtracting a constant vector mu (per layer, post-RoPE) from
//    every cached key shifts all scores of a query by the same q.mu, which
//    the softmax cancels exactly; the cache then only quantizes what varies.
//    LLaMA keys carry a large, nearly constant component in the lowest-
//    frequency RoPE pair (stories260K: magnitude ~14 of a maximum ~20), which
//    otherwise sets every row's exponent. mu is the calibration mean of the
//    post-RoPE keys. Cost: one subtractor on the K write path and a ROM of
//    n_layers x kv_dim words.
//  * Smoothing: scaling K's channel pair c by 1/s_c and Q's by s_c leaves
//    every q.k unchanged (and commutes with RoPE, which rotates within a
//    pair), so the scales fold into Wk/Wq. s_c = (max_t |k_c(t) - mu_c| /
//    geomean_c max_t |k_c - mu_c|)^alpha on pair magnitudes (RoPE-invariant).
//
// Measured on stories260K (8-bit K, teacher-forced over the float model's
// 512-step greedy sequence; docs/accuracy.md): no calibration 493/512 (mean
// |logit err| 0.159); smoothing alone ~500 (0.151); offset alone 499..504
// over calibration seeds (0.096..0.102); offset + smoothing alpha 0.25
// 500..503 (0.096..0.100); the 16-bit K/V ceiling is 505 (0.074). The
// agreement count moves by +-3 with the calibration seed because ~10
// positions of that sequence have a float top-1 lead under 0.05.
//
// Both are calibrated on text the float model samples itself from BOS at
// temperature 1 (calib_seqs sequences of calib_tokens positions), never on an
// evaluation sequence.

void lg_calib_budget(const lg_config *cfg, int *n, int *nseq)
{
    lg_config_stats st;
    lg_config_stats_compute(cfg, &st);
    uint64_t per = st.weight_macs > 0 ? st.weight_macs : 1;
    uint64_t pmax = LG_CALIB_MACS / per; // positions the budget allows
    if ((uint64_t)*n * (uint64_t)*nseq <= pmax)
        return;
    // fewer sequences first (down to one), then shorter ones (down to 16
    // positions, or seq_len)
    int ns = (int)(pmax / 64 < (uint64_t)*nseq ? pmax / 64 : (uint64_t)*nseq);
    ns = ns < 1 ? 1 : ns;
    uint64_t len = pmax / (uint64_t)ns;
    int lo = *n < 16 ? *n : 16;
    *nseq = ns;
    *n = len < (uint64_t)lo ? lo : len < (uint64_t)*n ? (int)len : *n;
}

typedef struct calib_rec {
    int n, kvd;  // positions per sequence, kv_dim
    float *k;    // (n_layers, n, kv_dim) post-RoPE keys of the current sequence
} calib_rec;

static void record_k(void *ctx, int layer, int pos, const float *q, const float *k)
{
    calib_rec *r = ctx;
    memcpy(r->k + ((size_t)layer * r->n + pos) * r->kvd, k, (size_t)r->kvd * sizeof *k);
}

// Fills krec (nseq, n_layers, n, kv_dim) from nseq sampled sequences.
static int calib_record(const lg_model_config *m, const lg_weights *w, const lg_quant_opts *o,
                        int n, int nseq, float *krec, lg_err *err)
{
    // the float model's caches only as long as the n positions it runs
    // (seq_len may be 2^20: its float K/V would be tens of GiB)
    lg_model_config mc = *m;
    mc.seq_len = n;
    lg_float_model fm;
    if (lg_float_model_init(&fm, &mc, w, err))
        return -1;
    int kvd = lg_kv_dim(m);
    for (int j = 0; j < nseq; j++) {
        calib_rec rec = {n, kvd, krec + (size_t)j * m->n_layers * n * kvd};
        fm.qk_hook = record_k;
        fm.hook_ctx = &rec;
        lg_float_sampler smp = {1.0f, o->calib_seed + (uint64_t)j + 1};
        int tok = 1;
        for (int pos = 0; pos < n; pos++) {
            float *fl = lg_float_forward_checked(&fm, tok, pos, err);
            if (!fl) {
                lg_float_model_free(&fm);
                return lg_fail_ctx(err, "K calibration");
            }
            tok = lg_float_sample(&smp, fl, m->vocab_size);
        }
    }
    lg_float_model_free(&fm);
    return 0;
}

// Smooths w's Wq/Wk in place (o->smooth_k) and fills mu (n_layers, kv_dim,
// Q16) with the K offset (o->k_offset; zeros otherwise).
static int calibrate_k(lg_weights *w, const lg_config *cfg, const lg_quant_opts *o, int32_t *mu,
                       lg_err *err)
{
    const lg_model_config *m = &cfg->m;
    int L = m->n_layers, d = m->dim, hs = lg_head_size(m), kvd = lg_kv_dim(m), np = hs / 2;
    int kvm = m->n_heads / m->n_kv_heads;
    int n = o->calib_tokens < m->seq_len ? o->calib_tokens : m->seq_len;
    int nseq = o->calib_seqs > 0 ? o->calib_seqs : 1;
    lg_calib_budget(cfg, &n, &nseq);
    if ((!o->smooth_k && !o->k_offset) || n < 2)
        return 0;
    size_t per = (size_t)L * n * kvd;
    float *krec = lg_calloc(per * nseq, sizeof(float), err);    // (nseq, L, n, kv_dim)
    double *scale = krec ? lg_calloc((size_t)L * kvd, sizeof(double), err) : NULL; // (L, kv_dim) means
    if (!scale || calib_record(m, w, o, n, nseq, krec, err)) {
        free(krec);
        free(scale);
        return -1;
    }
    // Offset first (unsmoothed units): the mean post-RoPE key per channel,
    // position 0 (the BOS row) left out.
    double *mean = scale; // reuse: (L, kv_dim) means, then scales below
    for (int l = 0; l < L; l++)
        for (int i = 0; i < kvd; i++) {
            double sum = 0;
            for (int j = 0; j < nseq && o->k_offset; j++)
                for (int t = 1; t < n; t++)
                    sum += krec[per * j + ((size_t)l * n + t) * kvd + i];
            mean[(size_t)l * kvd + i] = sum / ((double)nseq * (n - 1));
        }
    // Smoothing on what the cache actually stores, k - mean.
    double alpha = o->smooth_alpha_pct / 100.0;
    for (int l = 0; l < L; l++)
        for (int kh = 0; kh < m->n_kv_heads; kh++) {
            const double *mh = mean + (size_t)l * kvd + kh * hs; // (head_size)
            double pmax[256] = {0}, geo = 0; // (head_size/2) max pair magnitude
            for (int j = 0; j < nseq; j++)
                for (int t = 0; t < n; t++) {
                    const float *k = krec + per * j + ((size_t)l * n + t) * kvd + kh * hs;
                    for (int c = 0; c < np; c++)
                        pmax[c] = fmax(pmax[c], hypot(k[2 * c] - mh[2 * c], k[2 * c + 1] - mh[2 * c + 1]));
                }
            for (int c = 0; c < np; c++)
                geo += log2(fmax(pmax[c], 1e-6)) / np;
            for (int r = 0; r < hs; r++) {
                double s = o->smooth_k ? exp2(alpha * (log2(fmax(pmax[r / 2], 1e-6)) - geo)) : 1;
                // keys that overflowed the float model (weights near FLT_MAX)
                // give an inf or NaN scale: say so rather than smooth by it
                if (!isfinite(s) || !isfinite(mh[r])) {
                    free(scale);
                    free(krec);
                    return lg_fail(err, "K calibration: layer %d, K/V head %d: the float model's "
                                        "keys are not finite (weights too large to quantize)",
                                   l, kh);
                }
                // the smoothed key is k / s (RoPE commutes with the pair scale)
                double v = mh[r] / s * LG_ONE;
                mu[(size_t)l * kvd + kh * hs + r] =
                    (int32_t)fmax(-2147483647.0, fmin(2147483647.0, round(v)));
                float *wk = w->wk + ((size_t)l * kvd + kh * hs + r) * d;
                for (int i = 0; i < d && s != 1; i++)
                    wk[i] = (float)(wk[i] / s);
                for (int h = kh * kvm; h < (kh + 1) * kvm && s != 1; h++) {
                    float *wq = w->wq + ((size_t)l * d + h * hs + r) * d;
                    for (int i = 0; i < d; i++)
                        wq[i] = (float)(wq[i] * s);
                }
            }
        }
    free(scale);
    free(krec);
    return 0;
}

// ---- the whole model -------------------------------------------------------

void lg_qmodel_free(lg_qmodel *qm)
{
    int L = qm->cfg.m.n_layers;
    lg_qmat *mats[] = {qm->wq, qm->wk, qm->wv, qm->wo, qm->w1, qm->w2, qm->w3};
    for (size_t j = 0; j < sizeof mats / sizeof mats[0]; j++) {
        for (int l = 0; mats[j] && l < L; l++)
            lg_qmat_free(&mats[j][l]);
        free(mats[j]);
    }
    for (int l = 0; l < L; l++) {
        if (qm->rms_att)
            free(qm->rms_att[l].mant);
        if (qm->rms_ffn)
            free(qm->rms_ffn[l].mant);
    }
    free(qm->rms_att);
    free(qm->rms_ffn);
    free(qm->rms_final.mant);
    if (qm->cls.mant != qm->embed.mant)
        lg_qmat_free(&qm->cls);
    lg_qmat_free(&qm->embed);
    free(qm->rope_inc);
    free(qm->k_offset);
    memset(qm, 0, sizeof *qm);
}

const lg_qmat *lg_qmodel_matvec(const lg_qmodel *qm, int idx, char *name, size_t n)
{
    static const char *names[7] = {"wq", "wk", "wv", "wo", "w1", "w3", "w2"};
    int L = qm->cfg.m.n_layers, l = idx / 7, k = idx % 7;
    if (idx < 0 || idx > 7 * L)
        return NULL;
    if (l == L) {
        if (name)
            snprintf(name, n, "wcls");
        return &qm->cls;
    }
    if (name)
        snprintf(name, n, "%s[%d]", names[k], l);
    lg_qmat *const per_kind[7] = {qm->wq, qm->wk, qm->wv, qm->wo, qm->w1, qm->w3, qm->w2};
    return &per_kind[k][l];
}

// Every mat-vec matrix's ebase within the mat-vec's shift field (ref.h):
// a matrix whose largest |weight| is below about 2^-105 cannot be held, so
// run, eval and the emitter all refuse it here, in the same words.
static int check_ebase(const lg_qmodel *qm, lg_err *err)
{
    char name[32];
    const lg_qmat *q;
    for (int idx = 0; (q = lg_qmodel_matvec(qm, idx, name, sizeof name)); idx++) {
        if (q->ebase >= LG_W_EBASE_MIN && q->ebase <= LG_W_EBASE_MAX)
            continue;
        // the largest |weight| is about 127 * 2^(ebase + 15)
        return lg_fail(err,
                       "quantize: %s%s: its weights are too %s for the decoder's mat-vec "
                       "(largest |weight| about 2^%d; its exponent base %d must be %d..%d)",
                       name, q == &qm->cls && qm->cfg.m.shared_classifier ? " (the embedding)" : "",
                       q->ebase < LG_W_EBASE_MIN ? "small" : "large",
                       q->ebase + LG_W_DEXP_MAX + 7, q->ebase, LG_W_EBASE_MIN, LG_W_EBASE_MAX);
    }
    return 0;
}

int lg_quantize_model(lg_qmodel *qm, const lg_config *cfg, const lg_weights *w0,
                      const lg_quant_opts *o, lg_err *err)
{
    memset(qm, 0, sizeof *qm);
    if (lg_config_validate(cfg, err))
        return -1;
    const lg_model_config *m = &cfg->m;
    int L = m->n_layers, d = m->dim, hd = m->hidden_dim, kvd = lg_kv_dim(m), hs = lg_head_size(m);
    int G = cfg->hw.group_size;
    qm->cfg = *cfg;

    // Smoothing rewrites Wq and Wk: work on a copy of those two (the rest is
    // read where it is; copying all of it doubled the peak memory:
    // TinyLlama-1.1B's emission 9.7 GB, 5.8 GB with this).
    size_t nq = (size_t)L * d * d, nk = (size_t)L * kvd * d;
    lg_weights w = *w0;
    float *qk = lg_calloc(nq + nk, sizeof(float), err); // (L, d, d) Wq, then (L, kv_dim, d) Wk
    if (!qk)
        return -1;
    memcpy(qk, w0->wq, nq * sizeof(float));
    memcpy(qk + nq, w0->wk, nk * sizeof(float));
    w.wq = qk;
    w.wk = qk + nq;
    w.mem = NULL; // w0's
    qm->k_offset = lg_calloc((size_t)L * (size_t)kvd, sizeof(int32_t), err);
    if (!qm->k_offset || calibrate_k(&w, cfg, o, qm->k_offset, err))
        goto fail;

    qm->wq = lg_calloc((size_t)L, sizeof(lg_qmat), err);
    qm->wk = qm->wq ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->wv = qm->wk ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->wo = qm->wv ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->w1 = qm->wo ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->w2 = qm->w1 ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->w3 = qm->w2 ? lg_calloc((size_t)L, sizeof(lg_qmat), err) : NULL;
    qm->rms_att = qm->w3 ? lg_calloc((size_t)L, sizeof(lg_qvec), err) : NULL;
    qm->rms_ffn = qm->rms_att ? lg_calloc((size_t)L, sizeof(lg_qvec), err) : NULL;
    qm->rope_inc = qm->rms_ffn ? lg_calloc((size_t)hs / 2, sizeof(uint32_t), err) : NULL;
    if (!qm->rope_inc)
        goto fail;

    if (lg_quantize_matrix(&qm->embed, w.token_embedding, m->vocab_size, d, G, err))
        goto fail;
    if (m->shared_classifier)
        qm->cls = qm->embed;
    else if (lg_quantize_matrix(&qm->cls, w.wcls, m->vocab_size, d, G, err))
        goto fail;
    for (int l = 0; l < L; l++) {
        size_t dd = (size_t)d * d, kd = (size_t)kvd * d, hdd = (size_t)hd * d;
        // (the tensor named, as the ebase check above names it: a weight
        // finite in the checkpoint can leave float range once the K
        // smoothing scales Wq)
#define QM(dst, src, r, c, nm)                                                                    \
    (lg_quantize_matrix(dst, src, r, c, G, err) ? lg_fail_ctx(err, "quantize: %s[%d]", nm, l) : 0)
        if (QM(&qm->wq[l], w.wq + l * dd, d, d, "wq") ||
            QM(&qm->wk[l], w.wk + l * kd, kvd, d, "wk") ||
            QM(&qm->wv[l], w.wv + l * kd, kvd, d, "wv") ||
            QM(&qm->wo[l], w.wo + l * dd, d, d, "wo") ||
            QM(&qm->w1[l], w.w1 + l * hdd, hd, d, "w1") ||
            QM(&qm->w2[l], w.w2 + l * hdd, d, hd, "w2") ||
            QM(&qm->w3[l], w.w3 + l * hdd, hd, d, "w3") ||
            lg_quantize_gain(&qm->rms_att[l], w.rms_att + (size_t)l * d, d, err) ||
            lg_quantize_gain(&qm->rms_ffn[l], w.rms_ffn + (size_t)l * d, d, err))
            goto fail;
#undef QM
    }
    if (lg_quantize_gain(&qm->rms_final, w.rms_final, d, err))
        goto fail;
    if (check_ebase(qm, err))
        goto fail;

    // Model constants (see docs/numerics.md).
    for (int j = 0; j < hs / 2; j++) {
        double f = pow((double)m->rope_theta, -2.0 * j / hs) / (2 * PI);
        double v = round(f * 4294967296.0);
        qm->rope_inc[j] = v >= 4294967295.0 ? 4294967295u : (uint32_t)v;
    }
    qm->score_c = (int32_t)llround(1.0 / log(2.0) / sqrt((double)hs) * (1 << LG_SCORE_SC));
    lg_eps_table(qm->eps_tab, m);
    lg_luts_build(&qm->luts);
    free(qk);
    return 0;
fail:
    free(qk);
    lg_qmodel_free(qm);
    return -1;
}
