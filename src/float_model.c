// Float32 LLaMA-2 forward pass and sampler (see include/llamagen/float_model.h).
//
// This is the accuracy yardstick for the integer model, so it must agree
// with llama2.c's run.c bit for bit: every loop below accumulates in float,
// in the same order and with the same expressions as run.c (no reordering,
// no double intermediates, no fused multiply-add: the Makefile builds with
// -ffp-contract=off). Greedy output then matches llama2.c compiled without
// -ffast-math.
#include "llamagen/float_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- building blocks ----

// o = weight * x / sqrt(mean(x^2) + eps). o may alias x.
static void rmsnorm(float *o, const float *x, const float *weight, int size, float eps)
{
    float ss = 0.0f;
    for (int j = 0; j < size; j++)
        ss += x[j] * x[j];
    ss /= size;
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < size; j++)
        o[j] = weight[j] * (ss * x[j]);
}

// In-place softmax over x[0..size), max-subtracted for range safety.
static void softmax(float *x, int size)
{
    float max_val = x[0];
    for (int i = 1; i < size; i++)
        if (x[i] > max_val)
            max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < size; i++) {
        x[i] = expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < size; i++)
        x[i] /= sum;
}

// xout (d) = W (d, n) @ x (n); rows of W are outputs. Plain sequential dot
// products, as run.c (its OpenMP pragma splits rows, not the sums).
static void matmul(float *xout, const float *x, const float *w, int n, int d)
{
    for (int i = 0; i < d; i++) {
        const float *row = w + (size_t)i * (size_t)n;
        float val = 0.0f;
        for (int j = 0; j < n; j++)
            val += row[j] * x[j];
        xout[i] = val;
    }
}

// RMSNorm epsilon from its parts-per-10^9 encoding. The common 1e-5 is
// returned as the literal 1e-5f that llama2.c adds, so no rounding path can
// make it differ.
static float norm_eps(const lg_model_config *m)
{
    if (m->norm_eps_e9 == 10000)
        return 1e-5f;
    return (float)((double)m->norm_eps_e9 / 1e9);
}

// ---- init / free ----

void lg_float_model_free(lg_float_model *fm)
{
    if (!fm)
        return;
    free(fm->x);
    free(fm->xb);
    free(fm->xb2);
    free(fm->hb);
    free(fm->hb2);
    free(fm->q);
    free(fm->att);
    free(fm->logits);
    free(fm->key_cache);
    free(fm->value_cache);
    memset(fm, 0, sizeof *fm);
}

int lg_float_model_init(lg_float_model *fm, const lg_model_config *cfg, const lg_weights *w,
                        lg_err *err)
{
    const lg_model_config mc = *cfg; // copied first: cfg may point into *fm
    const lg_model_config *m = &mc;
    memset(fm, 0, sizeof *fm);
    if (m->dim <= 0 || m->hidden_dim <= 0 || m->n_layers <= 0 || m->n_heads <= 0 ||
        m->n_kv_heads <= 0 || m->vocab_size <= 0 || m->seq_len <= 0)
        return lg_fail(err, "float model: non-positive shape (dim %d, hidden_dim %d, n_layers %d, "
                            "n_heads %d, n_kv_heads %d, vocab_size %d, seq_len %d)",
                       m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads,
                       m->vocab_size, m->seq_len);
    if (m->dim % m->n_heads != 0)
        return lg_fail(err, "float model: dim %d is not a multiple of n_heads %d", m->dim,
                       m->n_heads);
    if (m->n_heads % m->n_kv_heads != 0)
        return lg_fail(err, "float model: n_heads %d is not a multiple of n_kv_heads %d",
                       m->n_heads, m->n_kv_heads);
    // RoPE rotates (even, odd) pairs inside a head; an odd head size would
    // pair elements of two heads (and run past the end of k).
    if (lg_head_size(m) % 2 != 0)
        return lg_fail(err, "float model: head size %d is odd; RoPE needs pairs",
                       lg_head_size(m));
    if (!w || !w->token_embedding || !w->wcls)
        return lg_fail(err, "float model: weights are not loaded");

    fm->cfg = *m;
    fm->w = w;
    size_t dim = (size_t)m->dim, hidden = (size_t)m->hidden_dim;
    size_t kv_dim = (size_t)lg_kv_dim(m), seq = (size_t)m->seq_len;
    size_t cache, att;
    if (lg_mul_size((size_t)m->n_layers, seq, &cache) != 0 ||
        lg_mul_size(cache, kv_dim, &cache) != 0 ||
        lg_mul_size((size_t)m->n_heads, seq, &att) != 0)
        return lg_fail(err, "float model: KV cache size overflows");

    fm->x = lg_calloc(dim, sizeof(float), err);                             // (dim)
    fm->xb = lg_calloc(dim, sizeof(float), err);                            // (dim)
    fm->xb2 = lg_calloc(dim, sizeof(float), err);                           // (dim)
    fm->hb = lg_calloc(hidden, sizeof(float), err);                         // (hidden_dim)
    fm->hb2 = lg_calloc(hidden, sizeof(float), err);                        // (hidden_dim)
    fm->q = lg_calloc(dim, sizeof(float), err);                             // (dim)
    fm->att = lg_calloc(att, sizeof(float), err);                           // (n_heads, seq_len)
    fm->logits = lg_calloc((size_t)m->vocab_size, sizeof(float), err);      // (vocab_size)
    fm->key_cache = lg_calloc(cache, sizeof(float), err);   // (n_layers, seq_len, kv_dim)
    fm->value_cache = lg_calloc(cache, sizeof(float), err); // (n_layers, seq_len, kv_dim)
    if (!fm->x || !fm->xb || !fm->xb2 || !fm->hb || !fm->hb2 || !fm->q || !fm->att ||
        !fm->logits || !fm->key_cache || !fm->value_cache) {
        lg_fail_ctx(err, "float model");
        lg_float_model_free(fm);
        return -1;
    }
    return 0;
}

// ---- forward ----

float *lg_float_forward(lg_float_model *fm, int token, int pos)
{
    const lg_model_config *p = &fm->cfg;
    const lg_weights *w = fm->w;
    float *x = fm->x;
    int dim = p->dim;
    int kv_dim = lg_kv_dim(p);
    int kv_mul = p->n_heads / p->n_kv_heads; // query heads per K/V head (GQA)
    int hidden_dim = p->hidden_dim;
    int head_size = lg_head_size(p);
    float eps = norm_eps(p);
    float theta = (float)p->rope_theta;
    size_t udim = (size_t)dim, ukv = (size_t)kv_dim, uhid = (size_t)hidden_dim;

    // x (dim) = embedding row of the token.
    memcpy(x, w->token_embedding + (size_t)token * udim, udim * sizeof *x);

    for (size_t l = 0; l < (size_t)p->n_layers; l++) {
        // ---- attention ----
        rmsnorm(fm->xb, x, w->rms_att + l * udim, dim, eps);

        // This position's K and V rows go straight into the cache.
        size_t loff = l * (size_t)p->seq_len * ukv;                // layer l in the caches
        float *k = fm->key_cache + loff + (size_t)pos * ukv;       // (kv_dim)
        float *v = fm->value_cache + loff + (size_t)pos * ukv;     // (kv_dim)
        matmul(fm->q, fm->xb, w->wq + l * udim * udim, dim, dim);
        matmul(k, fm->xb, w->wk + l * ukv * udim, dim, kv_dim);
        matmul(v, fm->xb, w->wv + l * ukv * udim, dim, kv_dim);

        // RoPE: rotate each (even, odd) pair by pos * theta^(-head_dim/head_size).
        // The angle is recomputed per pair, with powf/cosf/sinf in float,
        // exactly as run.c (a precomputed table would round differently).
        for (int i = 0; i < dim; i += 2) {
            int head_dim = i % head_size;
            float freq = 1.0f / powf(theta, head_dim / (float)head_size);
            float val = pos * freq;
            float fcr = cosf(val);
            float fci = sinf(val);
            int rotn = i < kv_dim ? 2 : 1; // q always; k only within kv_dim
            for (int r = 0; r < rotn; r++) {
                float *vec = r == 0 ? fm->q : k;
                float v0 = vec[i];
                float v1 = vec[i + 1];
                vec[i] = v0 * fcr - v1 * fci;
                vec[i + 1] = v0 * fci + v1 * fcr;
            }
        }

        if (fm->qk_hook)
            fm->qk_hook(fm->hook_ctx, (int)l, pos, fm->q, k);

        // Multi-head attention over positions 0..pos; query head h reads
        // K/V head h / kv_mul.
        for (int h = 0; h < p->n_heads; h++) {
            const float *q = fm->q + (size_t)h * head_size;       // (head_size)
            float *att = fm->att + (size_t)h * p->seq_len;       // (pos + 1) used
            size_t hoff = (size_t)(h / kv_mul) * head_size;      // K/V head in a cache row
            for (int t = 0; t <= pos; t++) {
                const float *kt = fm->key_cache + loff + (size_t)t * ukv + hoff;
                float score = 0.0f;
                for (int i = 0; i < head_size; i++)
                    score += q[i] * kt[i];
                score /= sqrtf((float)head_size);
                att[t] = score;
            }
            softmax(att, pos + 1);
            float *xb = fm->xb + (size_t)h * head_size; // (head_size) this head's output
            memset(xb, 0, (size_t)head_size * sizeof *xb);
            for (int t = 0; t <= pos; t++) {
                const float *vt = fm->value_cache + loff + (size_t)t * ukv + hoff;
                float a = att[t];
                for (int i = 0; i < head_size; i++)
                    xb[i] += a * vt[i];
            }
        }

        matmul(fm->xb2, fm->xb, w->wo + l * udim * udim, dim, dim);
        for (int i = 0; i < dim; i++)
            x[i] += fm->xb2[i]; // residual

        // ---- feed-forward (SwiGLU) ----
        rmsnorm(fm->xb, x, w->rms_ffn + l * udim, dim, eps);
        matmul(fm->hb, fm->xb, w->w1 + l * uhid * udim, dim, hidden_dim);
        matmul(fm->hb2, fm->xb, w->w3 + l * uhid * udim, dim, hidden_dim);
        for (int i = 0; i < hidden_dim; i++) {
            float val = fm->hb[i];
            val *= (1.0f / (1.0f + expf(-val))); // SiLU(w1 x)
            val *= fm->hb2[i];                   // gate with w3 x
            fm->hb[i] = val;
        }
        matmul(fm->xb, fm->hb, w->w2 + l * udim * uhid, hidden_dim, dim);
        for (int i = 0; i < dim; i++)
            x[i] += fm->xb[i]; // residual
    }

    rmsnorm(x, x, w->rms_final, dim, eps);
    matmul(fm->logits, x, w->wcls, dim, p->vocab_size);
    return fm->logits;
}

// ---- sampler ----

// xorshift64* as llama2.c's random_u32 (the state must be non-zero).
static uint32_t random_u32(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

// Uniform float in [0, 1) from the top 24 bits (a float's mantissa).
static float random_f32(uint64_t *state)
{
    return (random_u32(state) >> 8) / 16777216.0f;
}

// Index of the largest value; the first one wins ties.
static int sample_argmax(const float *probabilities, int n)
{
    int max_i = 0;
    float max_p = probabilities[0];
    for (int i = 1; i < n; i++) {
        if (probabilities[i] > max_p) {
            max_i = i;
            max_p = probabilities[i];
        }
    }
    return max_i;
}

// First index whose running CDF exceeds coin; the last index if rounding
// leaves the total CDF at or below coin.
static int sample_mult(const float *probabilities, int n, float coin)
{
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += probabilities[i];
        if (coin < cdf)
            return i;
    }
    return n - 1;
}

int lg_float_sample(lg_float_sampler *s, float *logits, int n)
{
    if (s->temperature == 0.0f)
        return sample_argmax(logits, n);
    // logits become probabilities in place, as in llama2.c.
    for (int q = 0; q < n; q++)
        logits[q] /= s->temperature;
    softmax(logits, n);
    float coin = random_f32(&s->rng_state);
    return sample_mult(logits, n, coin);
}

float *lg_float_forward_checked(lg_float_model *fm, int token, int pos, lg_err *err)
{
    float *logits = lg_float_forward(fm, token, pos);
    for (int i = 0; i < fm->cfg.vocab_size; i++)
        if (!isfinite(logits[i])) {
            lg_fail(err, "the float model's logit %d is not finite at position %d (the "
                         "checkpoint's weights overflow float32 arithmetic)", i, pos);
            return NULL;
        }
    return logits;
}
