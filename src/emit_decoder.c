// Emitter of the whole decoder (include/llamagen/emit_decoder.h): the units
// through their own emitters, the controller, vector buffers and top from
// rtl_templates/lg_decoder.v, lg_vecbuf.v and lg_top.v, the memory images,
// files.f, manifest.json and README.md.
#include "llamagen/emit_decoder.h"

#include "llamagen/emit_attn.h"
#include "llamagen/emit_mem.h"
#include "llamagen/emit_units.h"
#include "llamagen/emit_units2.h"
#include "llamagen/quantize.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- the quantized model -----------------------------------------------------------

int lg_decoder_qmodel(lg_qmodel *qm, const lg_config *cfg, const lg_weights *w, lg_err *err)
{
    lg_weights syn;
    memset(&syn, 0, sizeof syn);
    memset(qm, 0, sizeof *qm);
    if (!w) {
        if (lg_weights_synthetic(&cfg->m, LG_DECODER_SYNTH_SEED, &syn, err))
            return -1;
        w = &syn;
    }
    lg_quant_opts qo;
    lg_quant_opts_default(&qo);
    int rc = lg_quantize_model(qm, cfg, w, &qo, err);
    lg_weights_free(&syn);
    return rc;
}

// ---- hash and prefix -----------------------------------------------------------------

typedef struct fnv {
    uint64_t h;
} fnv;

static void fnv_bytes(fnv *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        f->h ^= b[i];
        f->h *= 0x100000001b3ull;
    }
}

static void fnv_i64(fnv *f, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    fnv_bytes(f, b, 8);
}

static void fnv_mat(fnv *f, const lg_qmat *m)
{
    fnv_i64(f, m->rows);
    fnv_i64(f, m->cols);
    fnv_i64(f, m->group);
    fnv_i64(f, m->ngroups);
    fnv_i64(f, m->ebase);
    fnv_bytes(f, m->mant, (size_t)m->rows * (size_t)m->cols);
    fnv_bytes(f, m->dexp, (size_t)m->rows * (size_t)m->ngroups);
}

static void fnv_vec(fnv *f, const lg_qvec *v)
{
    fnv_i64(f, v->n);
    fnv_i64(f, v->exp);
    for (int i = 0; i < v->n; i++)
        fnv_i64(f, v->mant[i]);
}

uint64_t lg_decoder_hash(const lg_qmodel *qm)
{
    fnv f = {0xcbf29ce484222325ull};
    const lg_config *c = &qm->cfg;
    const lg_model_config *m = &c->m;
    int64_t fields[] = {m->dim,        m->hidden_dim, m->n_layers,          m->n_heads,
                        m->n_kv_heads, m->vocab_size, m->seq_len,           m->rope_theta,
                        m->norm_eps_e9, m->shared_classifier, c->hw.lanes, c->hw.group_size,
                        c->hw.kv_bits, c->hw.kv_group};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        fnv_i64(&f, fields[i]);
    // added later: hashed only when not the default, so older hashes stay valid
    if (c->hw.kv_ports != 2)
        fnv_i64(&f, c->hw.kv_ports);
    if (c->hw.vec_lanes != 0)
        fnv_i64(&f, 1000 + lg_decoder_vec_lanes(c));
    if (c->hw.embed_stream)
        fnv_i64(&f, 2001);
    if (c->hw.mul_share)
        fnv_i64(&f, 3001);
    if (c->hw.ext_weights)
        fnv_i64(&f, 4000 + c->hw.ext_weights);
    fnv_mat(&f, &qm->embed);
    fnv_mat(&f, &qm->cls);
    for (int l = 0; l < m->n_layers; l++) {
        fnv_mat(&f, &qm->wq[l]);
        fnv_mat(&f, &qm->wk[l]);
        fnv_mat(&f, &qm->wv[l]);
        fnv_mat(&f, &qm->wo[l]);
        fnv_mat(&f, &qm->w1[l]);
        fnv_mat(&f, &qm->w2[l]);
        fnv_mat(&f, &qm->w3[l]);
        fnv_vec(&f, &qm->rms_att[l]);
        fnv_vec(&f, &qm->rms_ffn[l]);
    }
    fnv_vec(&f, &qm->rms_final);
    int kvd = lg_kv_dim(m);
    for (int i = 0; i < m->n_layers * kvd; i++)
        fnv_i64(&f, qm->k_offset[i]);
    for (int j = 0; j < lg_head_size(m) / 2; j++)
        fnv_i64(&f, qm->rope_inc[j]);
    fnv_i64(&f, qm->score_c);
    for (int s = 0; s <= LG_A16_SHIFT_MAX; s++)
        fnv_i64(&f, (int64_t)qm->eps_tab[s]);
    fnv_bytes(&f, &qm->luts, sizeof qm->luts); // uint32 arrays only: no padding
    return f.h;
}

void lg_decoder_prefix(char *buf, size_t n, const lg_qmodel *qm)
{
    char name[sizeof qm->cfg.name + 1];
    size_t k = 0;
    for (size_t i = 0; i < sizeof qm->cfg.name && qm->cfg.name[i]; i++) {
        char c = qm->cfg.name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        name[k++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    name[k] = '\0';
    snprintf(buf, n, "lg_%s_%08x", k ? name : "custom",
             (unsigned)(lg_decoder_hash(qm) & 0xffffffffu));
}

// ---- shapes ---------------------------------------------------------------------------

static int32_t clog2(int64_t v) // Verilog $clog2
{
    int32_t k = 0;
    while (((int64_t)1 << k) < v)
        k++;
    return k;
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int lg_decoder_shape_of(lg_decoder_shape *s, const lg_config *cfg, lg_err *err)
{
    const lg_model_config *m = &cfg->m;
    int64_t lanes = cfg->hw.lanes, d = m->dim, hd = m->hidden_dim, kvd = lg_kv_dim(m);
    int64_t v = m->vocab_size, L = m->n_layers;
    memset(s, 0, sizeof *s);
    s->pos_w = clog2((int64_t)m->seq_len + 1);
    s->tok_w = clog2(v + 1);
    s->dexps = lg_wimage_ndexp(cfg->hw.lanes, cfg->hw.group_size);
    s->wl_dw = (int32_t)(8 * lanes + 4 * s->dexps);
    int64_t bd = cdiv(d, lanes), bh = cdiv(hd, lanes);
    s->nbeats = L * (2 * d * bd + 2 * kvd * bd + 2 * hd * bd + d * bh) + v * bd;
    s->wl_aw = clog2(s->nbeats);
    s->rows_d = (int32_t)max64(max64(d, kvd), max64(hd, v));
    s->max_run_beats = max64(max64(d * bd, hd * bd), max64(d * bh, v * bd));
    lg_attn_params ap;
    lg_attn_params_from_cfg(&ap, cfg, 1);
    s->kv_beat = lg_attn_beat(&ap);
    if (s->pos_w > 31 || s->tok_w > 31)
        return lg_fail(err, "decoder: seq_len %d or vocab %d too large", m->seq_len,
                       m->vocab_size);
    if (s->max_run_beats >= ((int64_t)1 << 31) || s->nbeats >= ((int64_t)1 << 31))
        return lg_fail(err, "decoder: %lld weight beats per token at lanes %d exceed 2^31",
                       (long long)s->nbeats, cfg->hw.lanes);
    if (s->wl_aw < 1)
        s->wl_aw = 1;
    return 0;
}

// ---- cycle model ------------------------------------------------------------------------

// The decoder's one mat-vec engine: dim-long rows in region 0, hidden-long
// (W2) rows in region 1 (COLS2). Its serial output stage (--mul-share) needs
// both row lengths long enough and the same step counts (shifter and high
// part: the same latency) for both, else the
// engine keeps the one-cycle barrel shifter (the template refuses a COLS2
// that does not fit the serial stage).
static void decoder_matvec_params(lg_matvec_params *p, const lg_config *cfg, int32_t rows)
{
    lg_matvec_params_from_cfg(p, cfg, rows, cfg->m.dim);
    lg_matvec_params h;
    lg_matvec_params_from_cfg(&h, cfg, rows, cfg->m.hidden_dim);
    if (lg_matvec_serial(p) &&
        (!lg_matvec_serial(&h) || lg_matvec_serial_steps(&h) != lg_matvec_serial_steps(p) ||
         lg_matvec_latency(&h) != lg_matvec_latency(p)))
        p->mul_share = 0;
}

int32_t lg_decoder_vec_lanes(const lg_config *cfg)
{
    if (cfg->hw.vec_lanes > 0)
        return cfg->hw.vec_lanes;
    return cfg->hw.lanes < 16 ? cfg->hw.lanes : 16;
}

// The shared quantizer's state in lean_qkv_cycles.
typedef struct lean_kvq {
    int64_t g, r;  // KV_GROUP; R, a group's read-out
    int64_t last;  // the cycle its last element was taken
    int64_t glast; // ... the last group's last element
} lean_kvq;

// Element e of a row, offered from cycle v: the cycle the quantizer takes it.
static int64_t kvq_take(lean_kvq *q, int64_t e, int64_t v)
{
    int64_t t = max64(v, q->last + 1);
    if (e % q->g == 0 && e > 0)
        t = max64(t, q->last + 2); // none in the cycle after a group's last
    if (e % q->g == q->g - 1 && e >= q->g)
        t = max64(t, q->glast + q->r + 2); // the previous group's read-out
    q->last = t;
    if (e % q->g == q->g - 1)
        q->glast = t;
    return t;
}

// The lean form's (mul_share) Wq -> Wk -> Wv stretch, from the Wq run's
// start to the V row's last element taken by the shared K/V quantizer, as a
// max-plus recurrence over the elements: the lean units' documented pacing,
// any of which can set the pace when the rows come fast (small dims, many
// lanes; at stories260K only the V row's wait for the K row's done shows,
// 117 cycles a layer):
//  - a mat-vec run of n rows starting at s offers row r at s + lat + (r+1) rd
//    and after row r-1 has been taken; while row r-1 waits in the output
//    register the engine freezes, `slack` cycles before row r would be
//    offered, and everything behind it moves by the freeze (the default
//    engine, lg_matvec.v: when row r reaches the output stage, 1; the
//    serial one, lg_matvec_share.v: when row r's shift is done and its
//    rounding waits for the output register, lat - 4 - S);
//  - the RoPE (lg_rope_share.v) takes a pair's two elements on consecutive
//    cycles once the previous pair's y[2j+1] is valid (63 cycles after that
//    pair's second handshake at the earliest), starts the pair's sequence
//    the cycle after that y[2j+1] was taken, and puts out y[2j] 39 cycles
//    after the start, y[2j+1] 63 after it and at least 24 after y[2j] was
//    taken;
//  - q elements go to the q buffer at once; k elements to the shared
//    quantizer (lg_kvquant_share.v), which takes one a cycle but none in the
//    cycle after a group's last, a group's last only R + 2 cycles after the
//    previous group's last (its read-out), and a row's first only in the
//    previous row's done cycle (R + 3 after its last);
//  - Wk starts the cycle after Wq's last row was taken, Wv after Wk's (the
//    lean controller chains no runs);
//  - the V row's elements go to the quantizer as Wv offers them, after the K
//    row's done.
// (Times relative to the Wq run's start cycle; the stretch ends the cycle
// after the V row's last element was taken, where the attention terms of
// lg_decoder_cycles take over.)
static int64_t lean_qkv_cycles(int64_t d, int64_t kvd, int64_t rd, int64_t lat, int64_t slack,
                               int64_t g, int64_t r)
{
    lean_kvq q = {g, r, -1, -1};
    int64_t rope_free = 0; // the RoPE may take its next pair's first element
    int64_t y1_taken = 0;  // the previous pair's y[2j+1] was taken
    int64_t s = 0;         // the current run's start
    int64_t kdone = 0;     // the K row's done cycle
    for (int run = 0; run < 3; run++) { // Wq, Wk, Wv
        int64_t n = run == 0 ? d : kvd;
        int64_t prev = -1; // the cycle row i-1 was taken
        int64_t frz = 0;   // the engine's freezes so far in this run
        for (int64_t i = 0; i < n; i++) {
            int64_t o = s + lat + (i + 1) * rd + frz; // row i offered
            if (i > 0 && prev > o - slack) {         // frozen until row i-1 went
                frz += prev - (o - slack);
                o = prev + slack;
            }
            if (i > 0)
                o = max64(o, prev + 1);
            int64_t a; // row i taken
            if (run == 2) {
                // V: to the quantizer, the row's first element in the K row's done cycle
                a = kvq_take(&q, i, i == 0 ? max64(o, kdone) : o);
            } else if (!(i & 1)) {
                a = max64(o, rope_free); // x[2j]
            } else {
                // x[2j+1]: the pair's handshake h, its sequence from st (the
                // previous y[2j+1] gone); the pair's outputs go to the q buffer
                // at once, or (k) to the quantizer, y[2j] Y0 cycles after st,
                // y[2j+1] Y1 after it and Y1 - Y0 after y[2j] went
                int64_t h = max64(max64(o, rope_free + 1), prev + 1);
                int64_t st = max64(h, y1_taken + 1);
                int64_t y1 = st + LG_ROPE_SHARE_Y1;
                if (run == 1) {
                    int64_t y0 = kvq_take(&q, i - 1, st + LG_ROPE_SHARE_Y0);
                    y1 = max64(y1, y0 + LG_ROPE_SHARE_Y1 - LG_ROPE_SHARE_Y0);
                    rope_free = y1;
                    y1_taken = kvq_take(&q, i, y1);
                } else {
                    rope_free = y1_taken = y1;
                }
                a = h;
            }
            prev = a;
        }
        if (run == 1)
            kdone = q.last + r + 3;
        s = prev + 1; // the next run starts the cycle after this one's last row was taken
    }
    return s;
}

// The default form's Wq -> Wk -> Wv -> attention stretch, from the Wq run's
// start to the Wo run's start (measured stage by stage on nine designs,
// head sizes 4 to 32, lanes 1 to 64, vector lanes 1 to 16, both embedding
// sources). The runs are chained: Wk starts d rd + 1 cycles after Wq, Wv
// kv_dim rd + 1 after Wk. The attention starts when the last q element is
// in the q buffer (lat + 7 after Wk's start: the engine, the RoPE, the
// buffer write) and runs its query path at once, but the cache takes its
// K requests only once this position's K row is written (k_ok: lat + 8 +
// the cache's done latency after Wv's start) and its V requests once the V
// row is (v_ok: the done latency after the V row's last element, kv_dim rd
// + lat + 3 after Wv's start); lg_attn_cycles_at runs the unit's control
// with those two cycles. Its output then goes through the packer (none at
// one vector lane) and the quantizer's output pass: the Wo run starts
// nch_d + 3 (+1 with the packer) cycles after the attention's done. In the
// decoder the attention's done comes one cycle after lg_attn_cycles_at's
// (measured on all nine designs; the +1 below, not traced to its cause).
static int64_t default_attn_end(const lg_attn_params *ap, int32_t pos, int64_t d, int64_t kvd,
                                int64_t rd, int64_t lat, int64_t nch_d, int64_t vl)
{
    int64_t dl = lg_kvcache_done_latency(ap);
    int64_t wv = (d + kvd) * rd + 2;     // Wv's start
    int64_t go = d * rd + 1 + lat + 7;   // the attention's start
    int64_t tk = wv + lat + 8 + dl - go; // k_ok, from the attention's start
    int64_t tv = wv + kvd * rd + lat + 2 + dl - 1 - go;
    return go + lg_attn_cycles_at(ap, pos, tk, tv) + 1 + nch_d + 3 + (vl > 1);
}

int64_t lg_decoder_cycles(const lg_config *cfg, int32_t pos)
{
    const lg_model_config *m = &cfg->m;
    int64_t lanes = cfg->hw.lanes, d = m->dim, hd = m->hidden_dim, kvd = lg_kv_dim(m);
    int64_t hs = lg_head_size(m), v = m->vocab_size, L = m->n_layers;
    int64_t bd = cdiv(d, lanes), bh = cdiv(hd, lanes);
    int64_t ng = cdiv(d, cfg->hw.group_size);
    int64_t vl = lg_decoder_vec_lanes(cfg), nch_d = cdiv(d, vl), nch_h = cdiv(hd, vl);
    lg_attn_params ap;
    lg_attn_params_from_cfg(&ap, cfg, 1);
    lg_matvec_params mp;
    decoder_matvec_params(&mp, cfg, 1);
    int64_t lat = lg_matvec_latency(&mp);
    // cycles of a dim-input and of a hidden-input row (the lean engine takes
    // a beat in lanes cycles: lg_matvec_beat_cycles)
    int64_t rd = bd * lg_matvec_beat_cycles(&mp), rh = bh * lg_matvec_beat_cycles(&mp);
    // a standalone mat-vec run: start, rows * beats, the engine's pipeline,
    // the last result's bookkeeping (+1 through the residual add's x writes)
    int64_t run = lat + 3;
    // after the last x element: the norm's sum and output passes at VL per
    // cycle (its load pass overlapped the producer), the quantizer's passes
    // (18: measured exactly from dim 8 at 8 vector lanes to dim 64 at 16 and
    // dim 32 at 2); the lean norm (--mul-share) takes lg_rmsnorm_cycles() -
    // dim instead
    int64_t norm = 2 * nch_d + nch_d + 18;
    const int ms = cfg->hw.mul_share != 0;
    // the quantizer's output pass after its last input (in the terms below:
    // NBT + 3 cycles); the lean quantizer (--mul-share, one beat every 5
    // cycles) takes lg_actq_share_run_cycles - lg_actq_run_cycles more
    int64_t aq_d = 0, aq_h = 0;
    if (ms) {
        lg_actq_params qd = {.cols = (int32_t)nch_d}, qh = {.cols = (int32_t)nch_h};
        aq_d = lg_actq_share_run_cycles(&qd) - lg_actq_run_cycles(&qd);
        aq_h = lg_actq_share_run_cycles(&qh) - lg_actq_run_cycles(&qh);
        uint64_t eps[LG_A16_SHIFT_MAX + 1]; // the sum width depends on it
        lg_eps_table(eps, m);
        lg_rmsnorm_unit nu = {0};
        nu.dim = (int32_t)d;
        nu.eps_tab = eps;
        nu.mul_share = 1;
        norm = lg_rmsnorm_cycles(&nu, (int32_t)vl) - d + nch_d + 3 + aq_d;
    }
    // the embedding row: from its ROM (one bubble per group), or as a range
    // of the weight stream (one bubble per beat, the source's latency)
    int64_t emb = cfg->hw.embed_stream ? d + bd + LG_WMEM_LATENCY + 6 : d + ng + 5;
    // Wq, Wk, Wv chained (one cycle between the runs), then the drain; the
    // lean form runs them one after the other, paced by whichever of the
    // engine, the RoPE and the shared K/V quantizer is slowest
    // (lean_qkv_cycles)
    int64_t qkv = (d + 2 * kvd) * rd + 4 + lat + 2;
    if (ms)
        qkv = lean_qkv_cycles(d, kvd, rd, lat,
                              lg_matvec_serial(&mp) ? lat - 4 - lg_matvec_serial_steps(&mp) : 1,
                              cfg->hw.kv_group, lg_kvcache_done_latency(&ap) - 3);
    // the attention, to the Wo run's start: the default form's from
    // default_attn_end (its overlap with Wk / Wv run cycle by cycle); the
    // lean form's after the V row write (its last group's read-out:
    // lg_kvcache_done_latency - 3, shown whole), then the packer and the
    // quantizer's output pass, less the overlap of the first head's query
    // passes, its first row's q.k steps and the score steps of all but the
    // row's last K group: 3 hs + 10 + (hs / kv_group - 1)(2 LA + 2) in all,
    // measured on thirteen lean designs, head sizes 2 to 16, kv_group 1 to 8
    int64_t att;
    if (ms)
        att = lg_attn_cycles(&ap, pos) - 2 * hs + (lg_kvcache_done_latency(&ap) - 3) + nch_d +
              1 + aq_d + 3 - (hs + 10) -
              (hs / cfg->hw.kv_group - 1) * (2 * lg_attn_share_limbs(&ap) + 2);
    else
        att = default_attn_end(&ap, pos, d, kvd, rd, lat, nch_d, vl) - qkv;
    // W1, W3 chained; the last h3 -> silu -> packer -> quantizer output pass
    // (the lean SiLU: LG_SILU_SHARE_ELEM cycles an element and of latency,
    // against the default's one and 6)
    // (13 measured exactly on four default-form designs, 10 on eight lean
    // ones); the lean SiLU paces the tail when W3's rows come faster than
    // it takes them: (hd - 1) (LG_SILU_SHARE_ELEM - rd) cycles more, and 2
    // (measured on the same eight)
    int64_t w13 = 2 * hd * rd + lat + nch_h + (ms ? 10 : 13) + aq_h;
    if (ms)
        w13 += LG_SILU_SHARE_ELEM - 6 + max64(0, (hd - 1) * (LG_SILU_SHARE_ELEM - rd) + 2);
    // the lean controller chains no runs: W3 starts after W1's last result
    // (its pipeline drained), lat + 1 more
    if (ms)
        w13 += lat + 1;
    int64_t layer = 2 * norm + qkv + att + (d * rd + run) + w13 + (d * rh + run);
    return emb + L * layer + norm + v * rd + lat + 2 + 2;
}

// ---- small text helpers ----------------------------------------------------------------

typedef struct text {
    char *s;
    size_t len, cap;
    int bad; // out of memory: the text is incomplete
} text;

static void tput(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(text *t, const char *fmt, ...)
{
    if (t->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->bad = 1;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) {
            t->bad = 1;
            return;
        }
        t->s = p;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

// A JSON string literal of s (quotes included).
static void tjson(text *t, const char *s)
{
    tput(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            tput(t, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            tput(t, "\\u%04x", *p);
        else
            tput(t, "%c", *p);
    }
    tput(t, "\"");
}

static int write_text(const char *dir, const char *file, const text *t, lg_err *err)
{
    if (t->bad)
        return lg_fail(err, "emit %s: out of memory", file);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return lg_fail(err, "emit %s: output path too long", file);
    FILE *f = fopen(path, "wb");
    if (!f)
        return lg_fail(err, "emit %s: %s", path, strerror(errno));
    size_t wr = t->len ? fwrite(t->s, 1, t->len, f) : 0;
    int bad = wr != t->len;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return lg_fail(err, "emit %s: write failed: %s", path, strerror(errno));
    return 0;
}

// ---- names of everything emitted ---------------------------------------------------------

typedef struct names {
    char prefix[80];
    char top[128], dec[128], wmem[128], wrd[128], vecbuf[128], vecbuf_xh[128], actq[128], matvec[128], embed[128];
    char norm[128], rsqrt[128], rope[128], sincos[128], silu[128], sigmoid[128], resid[128];
    char kvc[128], att[128], exp2[128], smp[128];
    char f_weights[128], f_wbin[128], f_emb[128], f_gain[128], f_inc[128], f_koff[128], f_eps[128];
} names;

static void make_names(names *n, const lg_qmodel *qm)
{
    lg_decoder_prefix(n->prefix, sizeof n->prefix, qm);
    const char *p = n->prefix;
#define NM(field, suffix) snprintf(n->field, sizeof n->field, "%s_%s", p, suffix)
    NM(top, "top");
    NM(dec, "decoder");
    NM(wmem, "wmem");
    NM(wrd, "axi_wreader");
    NM(vecbuf, "vecbuf");
    NM(vecbuf_xh, "vecbuf_xh");
    NM(actq, "actq");
    NM(matvec, "matvec");
    NM(embed, "embed");
    NM(norm, "rmsnorm");
    NM(rsqrt, "rsqrt");
    NM(rope, "rope");
    NM(sincos, "sincos");
    NM(silu, "silu_gate");
    NM(sigmoid, "sigmoid");
    NM(resid, "residual");
    NM(kvc, "kvcache");
    NM(att, "attention");
    NM(exp2, "exp2");
    NM(smp, "sampler");
    NM(f_weights, "weights.hex");
    NM(f_wbin, "weights.bin");
    NM(f_emb, "emb.hex");
    NM(f_gain, "gain.hex");
    NM(f_inc, "rope_inc.hex");
    NM(f_koff, "koff.hex");
    NM(f_eps, "eps.hex");
#undef NM
}

// ---- the generated Verilog pieces ----------------------------------------------------------

// Case items of the decoder's ebase table: matrix index in stream order (7
// per layer: Wq, Wk, Wv, Wo, W1, W3, W2; then the classifier) -> ebase. The
// controller looks the table up by {layer, kind} (kind 0..6 in that order,
// the classifier 7 in the last layer), so the label of matrix idx is
// 8 l + k: idx = 7 l + k, and the classifier's 8 (n_layers - 1) + 7.
// *most (if not NULL) gets the ebase most matrices share (the lean form's
// default: the unused labels then cost the table nothing).
static char *ebase_cases(const lg_qmodel *qm, int wsel_w, int *most, lg_err *err)
{
    int vals[256], cnt[256], nv = 0, best = 0;
    const lg_model_config *m = &qm->cfg.m;
    text t = {0};
    const lg_qmat *q;
    for (int idx = 0; (q = lg_qmodel_matvec(qm, idx, NULL, 0)); idx++) {
        int l = idx / 7, e = q->ebase;
        // shift = -(ebase + s), s in 0..17, must fit signed 8 bits (the
        // quantizer refuses other ebases: kept for hand-made models)
        if (e < LG_W_EBASE_MIN || e > LG_W_EBASE_MAX) {
            free(t.s);
            lg_fail(err, "decoder: matrix %d has ebase %d; the mat-vec shift -(ebase + s) "
                         "would not fit 8 bits",
                    idx, e);
            return NULL;
        }
        int v = 0;
        while (v < nv && vals[v] != e)
            v++;
        if (v == nv && nv < 256) {
            vals[nv] = e;
            cnt[nv++] = 0;
        }
        if (v < nv && ++cnt[v] > cnt[best])
            best = v;
        int label = l < m->n_layers ? 8 * l + idx % 7 : 8 * (m->n_layers - 1) + 7;
        tput(&t, "%s        %d'd%d: ebase = %s10'sd%d;", idx ? "\n" : "", wsel_w, label,
             e < 0 ? "-" : "", e < 0 ? -e : e);
    }
    if (t.bad) {
        free(t.s);
        lg_fail(err, "out of memory");
        return NULL;
    }
    if (most)
        *most = nv ? vals[best] : 0;
    return t.s;
}

#define NUM(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))

// The decoder's engine is the lean one (lg_matvec_share.v, its rows tens of
// cycles apart): the x and h1 buffers then take the lean form
// (lg_vecbuf_share: read at the write address, no counter; the q buffer
// always streams with its own counter), and the engine's runs are open
// (OPEN_RUN: the controller counts the beats, no row counter in the engine).
static int mv_lean(const lg_config *cfg)
{
    lg_matvec_params p;
    decoder_matvec_params(&p, cfg, 1);
    return lg_matvec_serial(&p);
}

static int emit_vecbuf(lg_emit_ctx *ctx, const names *n, const lg_config *cfg, lg_err *err)
{
    char depth[24];
    NUM(depth, cfg->m.dim);
    lg_subst v[] = {{"DEPTH", depth}};
    return lg_emit_module(ctx, n->vecbuf, "lg_vecbuf", v, 1,
                          "first element 2 cycles after rd_start, then one per cycle "
                          "(DEPTH + 1 cycles to the last without stalls)",
                          err) ||
           (mv_lean(cfg) &&
            lg_emit_module(ctx, n->vecbuf_xh, "lg_vecbuf_share", v, 1,
                           "the element at the write address, 2 cycles after it is set", err));
}

// The embedding unit's instance in the decoder (lg_decoder.v's ${EMBED_INST}):
// lg_embed with its ROM, or lg_embstream on the weight stream.
static char *embed_inst(const names *n, int stream)
{
    const char *common = "    .clk(clk),\n"
                         "    .rst(rst),\n"
                         "    .s_tok_valid(emb_req_reg),\n"
                         "    .s_tok_ready(emb_tok_ready),\n"
                         "    .s_tok_data({{(32-TOK_W){1'b0}}, tok_reg}),\n";
    const char *out = "    .m_x_valid(emb_x_valid),\n"
                      "    .m_x_ready(emb_x_ready),\n"
                      "    .m_x_data(emb_x_data),\n"
                      "    .m_x_last(emb_x_last),\n"
                      "    .err_oob(emb_err)\n"
                      ");";
    size_t cap = 2048;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    if (stream)
        snprintf(b, cap,
                 "%s u_emb (\n%s"
                 "    .w_start(emb_w_start),\n"
                 "    .w_start_addr(emb_w_start_addr),\n"
                 "    .w_last_addr(emb_w_last_addr),\n"
                 "    .s_w_valid(s_w_valid),\n"
                 "    .s_w_ready(emb_s_w_ready),\n"
                 "    .s_w_mant(s_w_mant),\n"
                 "    .s_w_dexp(s_w_dexp),\n%s",
                 n->embed, common, out);
    else
        snprintf(b, cap,
                 "%s u_emb (\n%s%s\n"
                 "assign emb_w_start = 1'b0;\n"
                 "assign emb_w_start_addr = {WL_AW{1'b0}};\n"
                 "assign emb_w_last_addr = {WL_AW{1'b0}};\n"
                 "assign emb_s_w_ready = 1'b0;",
                 n->embed, common, out);
    return b;
}

static int emit_decoder_module(lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm,
                               const lg_decoder_shape *s, lg_err *err)
{
    const lg_config *cfg = &qm->cfg;
    const lg_model_config *m = &cfg->m;
    lg_attn_params ap;
    lg_attn_params_from_cfg(&ap, cfg, qm->score_c);
    int ngb = s->kv_beat > cfg->hw.kv_group ? s->kv_beat / cfg->hw.kv_group : 1;
    // {layer, kind}: LW + 3 bits (LW = clog2(n_layers), at least 1)
    int wsel_w = (m->n_layers > 1 ? clog2(m->n_layers) : 1) + 3;
    int most = 0;
    char *cases = ebase_cases(qm, wsel_w, &most, err);
    if (!cases)
        return -1;
    char *einst = embed_inst(n, cfg->hw.embed_stream);
    if (!einst) {
        free(cases);
        return lg_fail(err, "decoder: out of memory");
    }
    char pos_w[16], tok_w[16], lanes[16], dxw[16], dim[16], hid[16], kvd[16], nl[16], voc[16],
        seq[16], rows_d[16], kv_mw[16], kv_ew[16], nkv[16], bl_w[16], group[16], vl[16],
        wl_aw[16], nbeats[24], emb_stream[8];
    NUM(vl, lg_decoder_vec_lanes(cfg));
    NUM(wl_aw, s->wl_aw);
    snprintf(nbeats, sizeof nbeats, "%lld", (long long)s->nbeats);
    NUM(emb_stream, cfg->hw.embed_stream ? 1 : 0);
    NUM(pos_w, s->pos_w);
    NUM(tok_w, s->tok_w);
    NUM(lanes, cfg->hw.lanes);
    NUM(dxw, 4 * s->dexps);
    NUM(dim, m->dim);
    NUM(hid, m->hidden_dim);
    NUM(kvd, lg_kv_dim(m));
    NUM(nl, m->n_layers);
    NUM(voc, m->vocab_size);
    NUM(seq, m->seq_len);
    NUM(rows_d, s->rows_d);
    NUM(kv_mw, s->kv_beat * cfg->hw.kv_bits);
    NUM(kv_ew, ngb * 5);
    NUM(nkv, m->n_kv_heads);
    NUM(bl_w, clog2(s->max_run_beats + 1) < 1 ? 1 : clog2(s->max_run_beats + 1));
    NUM(group, cfg->hw.group_size);
    char lat[256];
    snprintf(lat, sizeof lat,
             "one position per token: about %lld cycles at position 0 and %lld at position %d "
             "without stalls (lg_decoder_cycles)",
             (long long)lg_decoder_cycles(cfg, 0), (long long)lg_decoder_cycles(cfg, m->seq_len - 1),
             m->seq_len - 1);
    // The lean form (--mul-share) trades cycles for logic cells in the
    // controller: runs over the same vector are not chained (each starts
    // after its predecessor's last result: a pipeline drain more per chain,
    // against the flash's ~12 cycles a beat).
    const int lean = cfg->hw.mul_share != 0;
    const char *chain = lean ? "1'b0 /* (lean) no chaining: a run starts after the last result */"
                             : "kind_reg == K_Q || kind_reg == K_K || kind_reg == K_1";
    const char *ok_reg =
        lean ? "// (lean) the results leaving are the running kind's own (no chaining)\n"
               "wire [2:0] okind_reg = kind_reg;"
             : "reg [2:0] okind_reg;   // run whose results leave the engine (kind_reg feeds weights)";
    const char *ok_next =
        lean ? ""
             : "    if (mv_start && !(kind_reg == K_K || kind_reg == K_V || kind_reg == K_3))\n"
               "        okind_reg <= kind_reg;\n"
               "    else if (mv_out_fire && out_last_row && (okind_reg == K_Q || okind_reg == K_K || "
               "okind_reg == K_1))\n"
               "        okind_reg <= okind_reg + 3'd1;\n";
    const char *ok_rst = lean ? "" : "        okind_reg <= K_Q;\n";
    // the table's default (labels no matrix uses): 0, or in the lean form the
    // most common ebase, so that only the bits the matrices vary in cost LUTs
    char ebase_def[24];
    snprintf(ebase_def, sizeof ebase_def, "%s10'sd%d", lean && most < 0 ? "-" : "",
             lean ? (most < 0 ? -most : most) : 0);
    char att_name[160], kvc_name[160];
    snprintf(att_name, sizeof att_name, "%s", n->att);
    snprintf(kvc_name, sizeof kvc_name, "%s", n->kvc);
    lg_subst v[] = {
        {"POS_W", pos_w},          {"TOK_W", tok_w},          {"LANES", lanes},
        {"DXW", dxw},              {"KOFF_FILE", n->f_koff},  {"DIM", dim},
        {"HIDDEN", hid},           {"KV_DIM", kvd},           {"N_LAYERS", nl},
        {"VOCAB", voc},            {"SEQ_LEN", seq},          {"ROWS_D", rows_d},
        {"KV_MW", kv_mw},          {"KV_EW", kv_ew},          {"N_KV_HEADS", nkv},
        {"BL_W", bl_w},            {"EBASE_CASES", cases},    {"ACTQ_MODULE", n->actq},
        {"MATVEC_MODULE", n->matvec}, {"GROUP", group},       {"VECBUF_MODULE", n->vecbuf},
        {"VECBUF_XH_MODULE", mv_lean(cfg) ? n->vecbuf_xh : n->vecbuf},
        {"MATVEC_OPEN_RUN", mv_lean(cfg) ? ",\n    .OPEN_RUN(1)" : ""},
        {"EMBED_MODULE", n->embed}, {"NORM_MODULE", n->norm}, {"RESID_MODULE", n->resid},
        {"ROPE_MODULE", n->rope},  {"KVCACHE_MODULE", kvc_name}, {"ATTN_MODULE", att_name},
        {"SILU_MODULE", n->silu},  {"SAMPLER_MODULE", n->smp}, {"VL", vl},
        {"WL_AW", wl_aw},          {"NBEATS", nbeats},        {"EMB_STREAM", emb_stream},
        {"EMBED_INST", einst},     {"CHAIN_NEXT", chain},     {"OKIND_REG", ok_reg},
        {"OKIND_NEXT", ok_next},   {"OKIND_RST", ok_rst},     {"EBASE_DEFAULT", ebase_def},
        {"RO_IS_K", lean ? "// (lean) >= RC_DIM as gates: yosys maps a compare to a carry chain whose\n"
                           "// cells hold nothing else\n"
                           "function ge_dim(input [RC_W-1:0] a);\n"
                           "    integer i;\n"
                           "    begin\n"
                           "        ge_dim = 1'b1;\n"
                           "        for (i = 0; i < RC_W; i = i + 1)\n"
                           "            ge_dim = RC_DIM[i] ? a[i] & ge_dim : a[i] | ge_dim;\n"
                           "    end\n"
                           "endfunction\n"
                           "wire        ro_is_k = ge_dim(ro_cnt_reg);"
                         : "wire        ro_is_k = ro_cnt_reg >= RC_DIM;"},
        {"LEAN_NOTE", lean ? "\n * The lean form (--mul-share) chains no runs (each starts after its\n"
                             " * predecessor's last result, okind_reg is kind_reg)."
                           : ""},
    };
    int rc = lg_emit_module(ctx, n->dec, "lg_decoder", v, (int)(sizeof v / sizeof v[0]), lat,
                            err);
    free(cases);
    free(einst);
    return rc;
}

// The embedding unit: lg_embed and its ROM image, or (--embed-stream)
// lg_embstream reading the classifier's rows, the last vocab * ceil(dim /
// lanes) beats of the weight stream.
static int emit_embedding(lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm,
                          const lg_decoder_shape *s, const lg_embed_params *ep, lg_err *err)
{
    const lg_config *cfg = &qm->cfg;
    if (!cfg->hw.embed_stream)
        return lg_emit_embed_hex(ctx, &qm->embed, n->f_emb, err) ||
               lg_emit_embed(ctx, n->embed, ep, err);
    if (qm->cls.mant != qm->embed.mant)
        return lg_fail(err, "decoder: --embed-stream needs a shared classifier");
    int64_t bd = (cfg->m.dim + cfg->hw.lanes - 1) / cfg->hw.lanes;
    lg_embstream_params p = {*ep, cfg->hw.lanes, s->nbeats - (int64_t)cfg->m.vocab_size * bd,
                             s->wl_aw};
    return lg_emit_embstream(ctx, n->embed, &p, err);
}

static int emit_top(lg_emit_ctx *ctx, const names *n, const lg_config *cfg,
                    const lg_decoder_shape *s, lg_err *err)
{
    char pos_w[16], tok_w[16], wl_aw[16], wl_dw[16], lanes[16], dxw[16], nbeats[24];
    NUM(pos_w, s->pos_w);
    NUM(tok_w, s->tok_w);
    NUM(wl_aw, s->wl_aw);
    NUM(wl_dw, s->wl_dw);
    NUM(lanes, cfg->hw.lanes);
    NUM(dxw, 4 * s->dexps);
    NUM(nbeats, s->nbeats);
    char axi_dw[16], axi_aw[16], axi_mb[16], axi_mo[16];
    NUM(axi_dw, lg_axi_default_width(s->wl_dw));
    NUM(axi_aw, LG_AXI_ADDR_WIDTH);
    NUM(axi_mb, LG_AXI_MAX_BURST);
    NUM(axi_mo, LG_AXI_MAX_OUTSTANDING);
    lg_subst v[13] = {
        {"POS_W", pos_w}, {"TOK_W", tok_w}, {"WL_AW", wl_aw},   {"WL_DW", wl_dw},
        {"LANES", lanes}, {"DXW", dxw},     {"NBEATS", nbeats}, {"DECODER_MODULE", n->dec},
    };
    int nv = 8, ext = cfg->hw.ext_weights;
    // the modules each top names beyond the decoder: the weight memory (on
    // chip), the AXI reader (--ext-weights 2), none (--ext-weights 1)
    if (ext == 0)
        v[nv++] = (lg_subst){"WMEM_MODULE", n->wmem};
    if (ext == 2) {
        v[nv++] = (lg_subst){"READER_MODULE", n->wrd};
        v[nv++] = (lg_subst){"AXI_DW", axi_dw};
        v[nv++] = (lg_subst){"AXI_AW", axi_aw};
        v[nv++] = (lg_subst){"MAX_BURST", axi_mb};
        v[nv++] = (lg_subst){"MAX_OUTSTANDING", axi_mo};
    }
    static const char *const TMPL[3] = {"lg_top", "lg_top_ext", "lg_top_axi"};
    char lat[200];
    snprintf(lat, sizeof lat, "one position per token, %lld cycles at position 0 (model)",
             (long long)lg_decoder_cycles(cfg, 0));
    return lg_emit_module(ctx, n->top, TMPL[ext], v, nv, lat, err);
}

// ---- memory images -----------------------------------------------------------------------

static int emit_koff(lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm, lg_err *err)
{
    size_t cnt = (size_t)qm->cfg.m.n_layers * (size_t)lg_kv_dim(&qm->cfg.m);
    // then the two saturated values of k - mu, 2^31 - 1 and -(2^31 - 1),
    // which the decoder reads in place of -mu for an element that saturates
    int64_t *w = lg_calloc(cnt + 2, sizeof *w, err);
    if (!w)
        return -1;
    // stored negated (the decoder adds it: no inverters in front of the carry
    // chain); the quantizer clamps mu to +-(2^31 - 1), so -mu fits 32 bits
    for (size_t i = 0; i < cnt; i++) {
        if (qm->k_offset[i] == INT32_MIN) {
            free(w);
            return lg_fail(err, "emit %s: K offset %zu is -2^31, its negation does not fit",
                           n->f_koff, i);
        }
        w[i] = -(int64_t)qm->k_offset[i];
    }
    w[cnt] = INT32_MAX;
    w[cnt + 1] = -(int64_t)INT32_MAX;
    int rc = lg_emit_hex(ctx, n->f_koff, w, cnt + 2, 32,
                         "K offset -mu (n_layers, kv_dim) Q16, added to K after RoPE; then the "
                         "saturated k - mu, 2^31 - 1 and -(2^31 - 1)",
                         err);
    free(w);
    return rc;
}

static int emit_eps(lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm, lg_err *err)
{
    int64_t w[LG_A16_SHIFT_MAX + 1];
    for (int s = 0; s <= LG_A16_SHIFT_MAX; s++)
        w[s] = (int64_t)qm->eps_tab[s];
    int width = lg_rmsnorm_sum_width(qm->cfg.m.dim, qm->eps_tab);
    return lg_emit_hex(ctx, n->f_eps, w, LG_A16_SHIFT_MAX + 1, width > 63 ? 64 : width,
                       "RMSNorm EPS[s] = round(eps * dim * 2^(32 - 2s)), s = 0..17 (reference "
                       "copy: the norm module bakes these into a case table)",
                       err);
}

// ---- manifest, files.f, README --------------------------------------------------------------

typedef struct mem_row {
    const char *name;  // what it holds
    const char *owner; // module (instance) that holds it
    int64_t depth;     // words
    int64_t width;     // bits per word
    int64_t count;     // copies
    const char *file;  // $readmemh image, or NULL (RAM)
} mem_row;

static int lut_width(const uint32_t *t, int n)
{
    int64_t words[LG_SIG_N];
    lg_lut_layout l;
    lg_err e;
    if (lg_lut_pack(words, &l, t, n, "lut", &e))
        return 0;
    return l.t_w + l.d_w;
}

static int rsqrt_width(const lg_luts *t)
{
    uint32_t lo = t->rsqrt[0], hi = t->rsqrt[0];
    for (int i = 0; i < LG_RSQRT_N; i++) {
        lo = t->rsqrt[i] < lo ? t->rsqrt[i] : lo;
        hi = t->rsqrt[i] > hi ? t->rsqrt[i] : hi;
    }
    int w = lg_bitlen(hi - lo);
    return w > 0 ? w : 1;
}

static int build_mems(mem_row *r, const names *n, const lg_qmodel *qm,
                      const lg_decoder_shape *s)
{
    const lg_config *cfg = &qm->cfg;
    const lg_model_config *m = &cfg->m;
    int64_t d = m->dim, hd = m->hidden_dim, kvd = lg_kv_dim(m), L = m->n_layers;
    int64_t lanes = cfg->hw.lanes, beat = s->kv_beat, grp = cfg->hw.kv_group;
    int64_t egw = beat > grp ? beat : grp, ngb = beat > grp ? beat / grp : 1;
    int64_t hs = lg_head_size(m);
    lg_attn_params ap; // the cache's own rule for where its exponents live
    lg_attn_params_from_cfg(&ap, cfg, qm->score_c);
    int k = 0;
    if (cfg->hw.ext_weights) // outside the design: the reader serves weights.bin
        r[k++] = (mem_row){cfg->hw.ext_weights == 2
                               ? "weight stream image (external memory at w_base, read by "
                                 "u_wrd over AXI4; beats of ceil(WL_DW / 8) bytes, least "
                                 "significant first)"
                               : "weight stream image (external memory behind the m_wreq / "
                                 "s_w ports; beats of ceil(WL_DW / 8) bytes, least significant "
                                 "first)",
                           "external", s->nbeats, s->wl_dw, 1, n->f_wbin};
    else
        r[k++] = (mem_row){"weight stream (all matrices, consumption order)", "u_wmem",
                           s->nbeats, s->wl_dw, 1, n->f_weights};
    if (!cfg->hw.embed_stream) // else the rows are the classifier's, in the weight stream
        r[k++] = (mem_row){"token embedding (I8E rows: dexp word + mantissas per group)",
                           "u_dec.u_emb", lg_embed_rom_words(&qm->embed), 8, 1, n->f_emb};
    r[k++] = (mem_row){"RMSNorm gains * sqrt(dim) (att[0], ffn[0], ..., final)", "u_dec.u_norm",
                       (2 * L + 1) * d, 16, 1, n->f_gain};
    r[k++] = (mem_row){"RoPE phase increments", "u_dec.u_rope", hs / 2, 32, 1, n->f_inc};
    r[k++] = (mem_row){"K offset -mu (n_layers, kv_dim) and the saturated k - mu", "u_dec",
                       L * kvd + 2, 32, 1, n->f_koff};
    if (cfg->hw.mul_share) // the lean units hold the table's T column as constants
        r[k++] = (mem_row){"exp2 table, T column (built into the lean attention and sampler)",
                           "u_dec.u_att, u_dec.u_smp", LG_EXP2_N, 16, 2, NULL};
    else
        r[k++] = (mem_row){"exp2 LUT (attention, sampler)", "u_dec.u_att, u_dec.u_smp",
                           LG_EXP2_N, lut_width(qm->luts.exp2, LG_EXP2_N), 2, LG_EXP2_HEX};
    if (cfg->hw.mul_share) // T column only, even and odd entries in two ROMs
        r[k++] = (mem_row){"sigmoid table, T column (built into the lean SiLU's table stage)",
                           "u_dec.u_gate", LG_SIG_N / 2, 16, 2, NULL};
    else
        r[k++] = (mem_row){"sigmoid LUT", "u_dec.u_gate", LG_SIG_N,
                           lut_width(qm->luts.sigmoid, LG_SIG_N), 1, LG_SIGMOID_HEX};
    if (cfg->hw.mul_share) // T column only, read twice per lookup
        r[k++] = (mem_row){"quarter-wave sine table, T column (built into the lean RoPE's "
                           "table stage)",
                           "u_dec.u_rope", LG_SIN_N, 16, 1, NULL};
    else
        r[k++] = (mem_row){"quarter-wave sine LUT", "u_dec.u_rope", LG_SIN_N,
                           lut_width(qm->luts.sine, LG_SIN_N), 1, LG_SINE_HEX};
    if (cfg->hw.mul_share) // the seeds share the lean norm's one RAM with the gains
        r[k++] = (mem_row){"rsqrt seeds (in the lean norm's RAM image, after the gains)",
                           "u_dec.u_norm", LG_RSQRT_N, rsqrt_width(&qm->luts), 1, n->f_gain};
    else
        r[k++] = (mem_row){"rsqrt seed LUT", "u_dec.u_norm", LG_RSQRT_N, rsqrt_width(&qm->luts),
                           1, LG_RSQRT_HEX};
    r[k++] = (mem_row){"K and V mantissa RAMs (all layers)", "u_dec.u_kv",
                       L * m->seq_len * kvd / beat, beat * cfg->hw.kv_bits, 2, NULL};
    r[k++] = (mem_row){lg_kvcache_exp_in_mant(&ap)
                           ? "K and V exponents (all layers; in the mantissa RAMs' spare words)"
                           : "K and V exponent RAMs (all layers)", "u_dec.u_kv",
                       L * m->seq_len * kvd / egw, ngb * 5, 2, NULL};
    r[k++] = (mem_row){"residual stream x", "u_dec.u_xbuf", d, 32, 1, NULL};
    r[k++] = (mem_row){"rotated query q", "u_dec.u_qbuf", d, 32, 1, NULL};
    r[k++] = (mem_row){"FFN gate h1", "u_dec.u_hbuf", hd, 32, 1, NULL};
    // one engine: the dim vector (region 0) below the hidden vector (region 1)
    r[k++] = (mem_row){"mat-vec activation banks, dim + hidden inputs (per lane)", "u_dec.u_mv",
                       cdiv(d, lanes) + cdiv(hd, lanes), 16,
                       lanes < max64(d, hd) ? lanes : max64(d, hd), NULL};
    r[k++] = (mem_row){"activation quantizer buffer (dim or hidden vector)", "u_dec.u_aq",
                       max64(d, hd), 32, 1, NULL};
    r[k++] = (mem_row){"query quantizer buffer (head)", "u_dec.u_att", hs, 32, 1, NULL};
    r[k++] = (mem_row){"RMSNorm input", "u_dec.u_norm", d, 32, 1, NULL};
    r[k++] = (mem_row){"logit RAM", "u_dec.u_smp", m->vocab_size, 32, 1, NULL};
    return k;
}

typedef struct port_row {
    const char *name;
    const char *dir;
    int64_t width;
} port_row;

static int build_ports(port_row *p, const lg_decoder_shape *s, int ext_weights)
{
    int k = 0;
    p[k++] = (port_row){"clk", "input", 1};
    p[k++] = (port_row){"rst", "input", 1};
    p[k++] = (port_row){"ctl_start", "input", 1};
    p[k++] = (port_row){"ctl_inv_temp", "input", 24};
    p[k++] = (port_row){"ctl_seed_we", "input", 1};
    p[k++] = (port_row){"ctl_seed_byte", "input", 8};
    p[k++] = (port_row){"ctl_n_gen", "input", s->pos_w};
    p[k++] = (port_row){"s_tok_valid", "input", 1};
    p[k++] = (port_row){"s_tok_ready", "output", 1};
    p[k++] = (port_row){"s_tok_data", "input", s->tok_w};
    p[k++] = (port_row){"s_tok_last", "input", 1};
    p[k++] = (port_row){"m_tok_valid", "output", 1};
    p[k++] = (port_row){"m_tok_ready", "input", 1};
    p[k++] = (port_row){"m_tok_data", "output", s->tok_w};
    p[k++] = (port_row){"m_logit_valid", "output", 1};
    p[k++] = (port_row){"m_logit_data", "output", 32};
    p[k++] = (port_row){"m_logit_last", "output", 1};
    p[k++] = (port_row){"st_busy", "output", 1};
    p[k++] = (port_row){"st_pos", "output", s->pos_w};
    p[k++] = (port_row){"st_err_pos", "output", 1};
    p[k++] = (port_row){"st_err_token", "output", 1};
    if (ext_weights == 2) {
        int64_t dw = lg_axi_default_width(s->wl_dw);
        p[k++] = (port_row){"w_base", "input", 32};
        p[k++] = (port_row){"m_axi_araddr", "output", 32};
        p[k++] = (port_row){"m_axi_arlen", "output", 8};
        p[k++] = (port_row){"m_axi_arsize", "output", 3};
        p[k++] = (port_row){"m_axi_arburst", "output", 2};
        p[k++] = (port_row){"m_axi_arcache", "output", 4};
        p[k++] = (port_row){"m_axi_arprot", "output", 3};
        p[k++] = (port_row){"m_axi_arvalid", "output", 1};
        p[k++] = (port_row){"m_axi_arready", "input", 1};
        p[k++] = (port_row){"m_axi_rdata", "input", dw};
        p[k++] = (port_row){"m_axi_rresp", "input", 2};
        p[k++] = (port_row){"m_axi_rlast", "input", 1};
        p[k++] = (port_row){"m_axi_rvalid", "input", 1};
        p[k++] = (port_row){"m_axi_rready", "output", 1};
        p[k++] = (port_row){"w_image_ready", "input", 1};
    } else if (ext_weights) {
        p[k++] = (port_row){"m_wreq_valid", "output", 1};
        p[k++] = (port_row){"m_wreq_ready", "input", 1};
        p[k++] = (port_row){"m_wreq_first", "output", s->wl_aw};
        p[k++] = (port_row){"m_wreq_last", "output", s->wl_aw};
        p[k++] = (port_row){"s_w_valid", "input", 1};
        p[k++] = (port_row){"s_w_ready", "output", 1};
        p[k++] = (port_row){"s_w_data", "input", s->wl_dw};
        p[k++] = (port_row){"w_image_ready", "input", 1};
    } else {
        p[k++] = (port_row){"wl_we", "input", 1};
        p[k++] = (port_row){"wl_addr", "input", s->wl_aw};
        p[k++] = (port_row){"wl_data", "input", s->wl_dw};
        p[k++] = (port_row){"wl_done", "input", 1};
    }
    p[k++] = (port_row){"st_weights_ready", "output", 1};
    if (ext_weights == 2) {
        p[k++] = (port_row){"st_err_wresp", "output", 1};
        p[k++] = (port_row){"st_err_wbase", "output", 1};
    }
    p[k++] = (port_row){"cnt_total", "output", 64};
    p[k++] = (port_row){"cnt_matvec", "output", 64};
    p[k++] = (port_row){"cnt_attn", "output", 64};
    p[k++] = (port_row){"cnt_other", "output", 64};
    return k;
}

static int is_verilog(const char *f)
{
    size_t n = strlen(f);
    return n > 2 && strcmp(f + n - 2, ".v") == 0;
}

static int write_files_f(const lg_emit_ctx *ctx, lg_err *err)
{
    text t = {0};
    for (int i = 0; i < ctx->nfiles; i++)
        if (is_verilog(ctx->files[i]))
            tput(&t, "%s\n", ctx->files[i]);
    int rc = write_text(ctx->outdir, "files.f", &t, err);
    free(t.s);
    return rc;
}

static int write_manifest(const lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm,
                          const lg_decoder_shape *s, const lg_wimage *img,
                          const lg_decoder_opts *o, lg_err *err)
{
    const lg_config *cfg = &qm->cfg;
    const lg_model_config *m = &cfg->m;
    lg_config_stats st;
    lg_config_stats_compute(cfg, &st);
    char cname[sizeof cfg->name + 1];
    memcpy(cname, cfg->name, sizeof cfg->name);
    cname[sizeof cfg->name] = '\0';
    // --ext-weights 2: the AXI top's parameter defaults, and the words of
    // the image a token reads from an aligned w_base (the embedding row's,
    // with --embed-stream, come on top)
    char axi_json[320] = "";
    if (cfg->hw.ext_weights == 2) {
        int32_t dw = lg_axi_default_width(s->wl_dw);
        int64_t bytes = s->nbeats * lg_wimage_beat_bytes(img);
        snprintf(axi_json, sizeof axi_json,
                 "    \"axi\": {\"addr_width\": %d, \"data_width\": %d, \"max_burst\": %d, "
                 "\"max_outstanding\": %d, \"image_words_per_token\": %lld},\n",
                 LG_AXI_ADDR_WIDTH, (int)dw, LG_AXI_MAX_BURST, LG_AXI_MAX_OUTSTANDING,
                 (long long)((bytes + dw / 8 - 1) / (dw / 8)));
    }
    text t = {0};
    tput(&t, "{\n  \"generator\": \"llamagen\",\n  \"version\": \"%s\",\n  \"command\": ",
         LG_VERSION);
    tjson(&t, o && o->command ? o->command : "");
    tput(&t, ",\n  \"prefix\": \"%s\",\n  \"top\": \"%s\",\n", n->prefix, n->top);
    tput(&t, "  \"hash\": \"%016llx\",\n", (unsigned long long)lg_decoder_hash(qm));
    tput(&t, "  \"weights\": ");
    tjson(&t, o && o->weights ? o->weights : "unspecified");
    tput(&t, ",\n  \"config\": {\n    \"name\": ");
    tjson(&t, cname);
    tput(&t,
         ",\n    \"dim\": %d,\n    \"hidden_dim\": %d,\n    \"n_layers\": %d,\n"
         "    \"n_heads\": %d,\n    \"n_kv_heads\": %d,\n    \"head_size\": %d,\n"
         "    \"kv_dim\": %d,\n    \"vocab_size\": %d,\n    \"seq_len\": %d,\n"
         "    \"rope_theta\": %u,\n    \"norm_eps_e9\": %u,\n    \"shared_classifier\": %s\n  },\n",
         m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads, lg_head_size(m),
         lg_kv_dim(m), m->vocab_size, m->seq_len, m->rope_theta, m->norm_eps_e9,
         m->shared_classifier ? "true" : "false");
    tput(&t,
         "  \"hardware\": {\n    \"lanes\": %d,\n    \"group_size\": %d,\n    \"kv_bits\": %d,\n"
         "    \"kv_group\": %d,\n    \"kv_ports\": %d,\n    \"vec_lanes\": %d,\n"
         "    \"embed_stream\": %s,\n    \"mul_share\": %s,\n    \"ext_weights\": %d,\n"
         "    \"weight_source\": \"%s\",\n"
         "    \"kv_beat\": %d,\n"
         "    \"weight_beat_bits\": %d,\n    \"weight_beat_bytes\": %d,\n"
         "    \"weight_beats_per_token\": %lld,\n    \"weight_tag\": \"%04x\",\n"
         "    \"weight_marks_lead\": %lld,\n"
         "    \"weight_bytes_per_token\": %lld,\n"
         "%s"
         "    \"matvec_engines\": [\n"
         "      {\"instance\": \"u_dec.u_mv\", \"rows\": %d, \"cols\": %d, \"cols2\": %d}\n"
         "    ]\n  },\n",
         cfg->hw.lanes, cfg->hw.group_size, cfg->hw.kv_bits, cfg->hw.kv_group, cfg->hw.kv_ports,
         lg_decoder_vec_lanes(cfg), cfg->hw.embed_stream ? "true" : "false",
         cfg->hw.mul_share ? "true" : "false", cfg->hw.ext_weights,
         cfg->hw.ext_weights == 2   ? "AXI4 read master (lg_axi_wreader), image weights.bin"
         : cfg->hw.ext_weights == 1 ? "external stream (m_wreq / s_w ports), image weights.bin"
                                    : "on-chip memory (u_wmem), image weights.hex",
         s->kv_beat, s->wl_dw, (int)lg_wimage_beat_bytes(img), (long long)s->nbeats,
         (unsigned)lg_wimage_tag(img),
         (long long)lg_wimage_marks_lead(img, NULL, NULL),
         (long long)(s->nbeats * lg_wimage_beat_bytes(img)), axi_json, s->rows_d, m->dim,
         m->hidden_dim);
    tput(&t,
         "  \"constants\": {\n    \"score_c\": %d,\n    \"POS_W\": %d,\n    \"TOK_W\": %d,\n"
         "    \"WL_AW\": %d,\n    \"WL_DW\": %d\n  },\n",
         qm->score_c, s->pos_w, s->tok_w, s->wl_aw, s->wl_dw);

    port_row ports[56];
    int np = build_ports(ports, s, cfg->hw.ext_weights);
    tput(&t, "  \"ports\": [\n");
    for (int i = 0; i < np; i++)
        tput(&t, "    {\"name\": \"%s\", \"dir\": \"%s\", \"width\": %lld}%s\n", ports[i].name,
             ports[i].dir, (long long)ports[i].width, i + 1 < np ? "," : "");
    tput(&t, "  ],\n  \"modules\": [\n");
    int first = 1;
    for (int i = 0; i < ctx->nfiles; i++) {
        if (!is_verilog(ctx->files[i]))
            continue;
        char mod[256];
        snprintf(mod, sizeof mod, "%.*s", (int)strlen(ctx->files[i]) - 2, ctx->files[i]);
        tput(&t, "%s    {\"name\": \"%s\", \"file\": \"%s\"}", first ? "" : ",\n", mod,
             ctx->files[i]);
        first = 0;
    }
    tput(&t, "\n  ],\n  \"memories\": [\n");
    mem_row mems[32];
    int nm = build_mems(mems, n, qm, s);
    for (int i = 0; i < nm; i++) {
        tput(&t, "    {\"name\": ");
        tjson(&t, mems[i].name);
        tput(&t, ", \"owner\": ");
        tjson(&t, mems[i].owner);
        tput(&t, ", \"depth\": %lld, \"width\": %lld, \"count\": %lld, \"image\": ",
             (long long)mems[i].depth, (long long)mems[i].width, (long long)mems[i].count);
        if (mems[i].file)
            tjson(&t, mems[i].file);
        else
            tput(&t, "null");
        tput(&t, "}%s\n", i + 1 < nm ? "," : "");
    }
    tput(&t, "  ],\n  \"matrices\": [\n");
    for (int i = 0; i < img->nmats; i++)
        tput(&t, "    {\"name\": \"%s\", \"first_beat\": %lld, \"beats\": %lld, \"ebase\": %d}%s\n",
             img->mats[i].name, (long long)img->mats[i].first, (long long)img->mats[i].nbeats,
             img->mats[i].m->ebase, i + 1 < img->nmats ? "," : "");
    tput(&t, "  ],\n");
    tput(&t,
         "  \"macs_per_token\": {\"weight\": %llu, \"attention_pos0\": %llu, "
         "\"attention_last\": %llu},\n",
         (unsigned long long)st.weight_macs, (unsigned long long)st.attn_macs_pos0,
         (unsigned long long)st.attn_macs_last);
    int64_t c0 = lg_decoder_cycles(cfg, 0), cl = lg_decoder_cycles(cfg, m->seq_len - 1);
    tput(&t,
         "  \"expected_cycles_per_token\": {\"pos0\": %lld, \"last_pos\": %lld, "
         "\"last_pos_index\": %d, \"lane_utilization_pos0\": %.3f, "
         "\"lane_utilization_last\": %.3f}\n}\n",
         (long long)c0, (long long)cl, m->seq_len - 1,
         (double)(st.weight_macs + st.attn_macs_pos0) / cfg->hw.lanes / (double)c0,
         (double)(st.weight_macs + st.attn_macs_last) / cfg->hw.lanes / (double)cl);
    int rc = write_text(ctx->outdir, "manifest.json", &t, err);
    free(t.s);
    return rc;
}

static int write_readme(const lg_emit_ctx *ctx, const names *n, const lg_qmodel *qm,
                        const lg_decoder_shape *s, const lg_decoder_opts *o, lg_err *err)
{
    const lg_config *cfg = &qm->cfg;
    const lg_model_config *m = &cfg->m;
    char cname[sizeof cfg->name + 1];
    memcpy(cname, cfg->name, sizeof cfg->name);
    cname[sizeof cfg->name] = '\0';
    text t = {0};
    tput(&t, "# %s: llamagen decoder (%s)\n\n", n->top, cname);
    tput(&t, "Generated by llamagen %s; do not edit. Regenerate with:\n\n    %s\n\n", LG_VERSION,
         o && o->command ? o->command : "(unknown)");
    tput(&t,
         "Model: dim %d, hidden %d, %d layers, %d heads (%d K/V heads, head size %d), vocab "
         "%d, seq_len %d. Hardware: %d MAC lanes, weight group %d, K/V %d-bit mantissas with "
         "one exponent per %d elements. Weights: %s.\n\n",
         m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads, lg_head_size(m),
         m->vocab_size, m->seq_len, cfg->hw.lanes, cfg->hw.group_size, cfg->hw.kv_bits,
         cfg->hw.kv_group, o && o->weights ? o->weights : "unspecified");
    char wdesc[512];
    if (cfg->hw.ext_weights)
        snprintf(wdesc, sizeof wdesc,
                 "`%s` (not a `$readmemh` image: the external memory's content, --ext-weights) "
                 "holds the weight stream, %lld beats of %d bits in the order the mat-vec "
                 "engines consume them, beat b at byte offset b x %d, least significant byte "
                 "first; ",
                 n->f_wbin, (long long)s->nbeats, s->wl_dw, (s->wl_dw + 7) / 8);
    else
        snprintf(wdesc, sizeof wdesc,
                 "`%s` holds the weight stream (%lld beats of %d bits, the order the mat-vec "
                 "engines consume them), ",
                 n->f_weights, (long long)s->nbeats, s->wl_dw);
    tput(&t,
         "## Files\n\n"
         "- `files.f`: every module, one per file, in dependency order; the top module is "
         "`%s` (`%s.v`).\n"
         "- `*.hex`: `$readmemh` images, read relative to the working directory of the "
         "simulator or synthesizer: run tools from this directory (or override the `*_FILE` "
         "parameters). %s`%s` the embedding, `%s` the norm gains, `%s` the "
         "RoPE phase increments, `%s` the K offsets; %s; "
         "`%s` is a reference copy of the RMSNorm eps table (baked into the norm module).\n"
         "- `manifest.json`: config, ports, modules, memories (depth x width), the weight "
         "stream's matrices and ebases, expected cycles per token.\n",
         n->top, n->top, wdesc,
         cfg->hw.embed_stream ? "(none: --embed-stream reads the classifier's rows)" : n->f_emb,
         n->f_gain, n->f_inc, n->f_koff,
         cfg->hw.mul_share ? "no function-table images: the lean units (--mul-share) hold "
                             "their tables' T columns as ROM contents and the norm's rsqrt "
                             "seeds follow its gains"
                           : "`lg_*_lut.hex` are the function tables",
         n->f_eps);
    if (o && o->tok)
        tput(&t, "- `tokens.txt`: the tokenizer's %d pieces, `id<TAB>piece` (C escapes), for a "
                 "host that prints the token stream.\n",
             o->tok->vocab_size);
    // the AXI top's paragraph, with its parameter defaults
    char axi_use[900];
    snprintf(axi_use, sizeof axi_use,
             " Weights (--ext-weights 2): `weights.bin` loaded in memory at byte address "
             "`w_base` (AXI_DW / 8-aligned; `st_err_wbase` otherwise), read by the AXI4 "
             "read master `m_axi_ar*` / `m_axi_r*` (ID 0, INCR bursts of at most MAX_BURST "
             "words, never across 4 KiB, at most MAX_OUTSTANDING of them outstanding; AXI_AW "
             "(%d), AXI_DW (%d), MAX_BURST (%d) and MAX_OUTSTANDING (%d) are parameters of the "
             "top: a word a cycle needs MAX_BURST x MAX_OUTSTANDING at or above the memory's "
             "latency in cycles); `w_image_ready` says the image is there and gates the first "
             "token; `st_err_wresp` flags an error response. The cycle figures below count a "
             "memory serving a beat a cycle from 3 cycles after the request.",
             LG_AXI_ADDR_WIDTH, (int)lg_axi_default_width(s->wl_dw), LG_AXI_MAX_BURST,
             LG_AXI_MAX_OUTSTANDING);
    tput(&t,
         "\n## Use\n\n"
         "Simulate: `verilator --cc -f files.f --top-module %s` (or `iverilog -g2005 -c "
         "files.f`), from this directory. Synthesize for a part with block RAM, e.g. "
         "`yosys -p 'read_verilog %s.v; hierarchy -libdir . -top %s; synth_ecp5 -top "
         "%s'` (`synth_xilinx`, `synth_ice40 -dsp` alike): a generic `synth` has no block "
         "RAM to map the memories to and builds them from flip-flops (slow, and not the "
         "design).\n\n"
         "Interface (docs/architecture.md, \"The top module\"): write the xorshift32 seed "
         "while `st_busy` is low, a byte a cycle on `ctl_seed_we` / `ctl_seed_byte`, least "
         "significant first (four writes; none: the PRNG goes on from the last run); pulse "
         "`ctl_start` while `st_busy` is low (with `ctl_inv_temp` = 1/T in Q16, 0 for greedy, "
         "held until `st_busy` falls, and `ctl_n_gen`); send the prompt on `s_tok` (BOS = 1 first, `s_tok_last` on the last "
         "token); generated tokens come out on `m_tok` and are fed back internally; "
         "`m_logit` taps every logit.%s Widths: POS_W = %d, TOK_W = %d, WL_AW = %d, WL_DW = "
         "%d.\n\n"
         "Cycles per token without stalls (model, see manifest.json): about %lld at position 0, "
         "%lld at position %d.\n",
         n->top, n->top, n->top, n->top,
         cfg->hw.ext_weights == 2 ? axi_use
         : cfg->hw.ext_weights
             ? " Weights (--ext-weights 1): the top asks for beat ranges on `m_wreq` (valid / "
               "ready, `m_wreq_first` .. `m_wreq_last` inclusive: per token the whole image, "
               "and an embedding row first with --embed-stream) and takes the beats, in order, "
               "on `s_w` (valid / ready, one beat of the image on `s_w_data`); "
               "`w_image_ready` says the memory holds the image and gates the first token. "
               "The cycle figures below count a reader serving a beat a cycle from 3 cycles "
               "after the request."
             : " The `wl_*` port rewrites the weight memory at boot (`st_weights_ready` falls "
               "until `wl_done`).",
         s->pos_w, s->tok_w, s->wl_aw, s->wl_dw,
         (long long)lg_decoder_cycles(cfg, 0), (long long)lg_decoder_cycles(cfg, m->seq_len - 1),
         m->seq_len - 1);
    int rc = write_text(ctx->outdir, "README.md", &t, err);
    free(t.s);
    return rc;
}

static int write_tokens(const lg_emit_ctx *ctx, const lg_tokenizer *tok, lg_err *err)
{
    text t = {0};
    for (int i = 0; i < tok->vocab_size; i++) {
        tput(&t, "%d\t", i);
        for (const unsigned char *p = (const unsigned char *)tok->vocab[i]; *p; p++) {
            if (*p == '\\')
                tput(&t, "\\\\");
            else if (*p == '\n')
                tput(&t, "\\n");
            else if (*p == '\t')
                tput(&t, "\\t");
            else if (*p < 0x20 || *p == 0x7f)
                tput(&t, "\\x%02x", *p);
            else
                tput(&t, "%c", *p);
        }
        tput(&t, "\n");
    }
    int rc = write_text(ctx->outdir, "tokens.txt", &t, err);
    free(t.s);
    return rc;
}

// ---- the decoder ------------------------------------------------------------------------------

int lg_emit_decoder(const char *outdir, const lg_qmodel *qm, const lg_decoder_opts *o,
                    lg_err *err)
{
    const lg_config *cfg = &qm->cfg;
    const lg_model_config *m = &cfg->m;
    lg_decoder_shape s;
    if (lg_config_validate(cfg, err) || lg_decoder_shape_of(&s, cfg, err))
        return -1;
    names n;
    make_names(&n, qm);

    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, cfg, outdir,
                     o && o->command ? o->command : "llamagen (command line unknown)");
    lg_wimage img;
    memset(&img, 0, sizeof img);
    lg_qvec *gains = NULL;
    int rc = -1;

    // leaf units first (files.f follows the emission order)
    lg_matvec_params mvp;
    decoder_matvec_params(&mvp, cfg, s.rows_d);
    lg_actq_params aqp = {m->dim};
    lg_attn_params ap;
    lg_attn_params_from_cfg(&ap, cfg, qm->score_c);
    lg_embed_params ep;
    lg_embed_params_from_qmat(&ep, &qm->embed, n.f_emb);
    lg_sampler_params sp = {m->vocab_size, n.exp2, LG_EXP2_HEX, cfg->hw.mul_share};
    lg_wmem_params wp = {cfg->hw.lanes, cfg->hw.group_size, 0, n.f_weights};
    int32_t ngains = lg_model_gain_count(qm);
    if (!(gains = lg_calloc((size_t)ngains, sizeof *gains, err)))
        goto out;
    lg_model_gain_list(gains, qm);
    lg_rmsnorm_unit nu = {n.norm,  n.rsqrt,     LG_RSQRT_HEX, n.f_gain,
                          m->dim,  ngains,      gains,        qm->eps_tab, cfg->hw.mul_share};
    lg_rope_unit ru = {n.rope, n.sincos, LG_SINE_HEX, n.f_inc, m->n_heads + m->n_kv_heads,
                       lg_head_size(m), qm->rope_inc, cfg->hw.mul_share};

    // the lean units (--mul-share) build their tables in (T columns as ROM
    // contents, the rsqrt seeds in the norm's RAM image): no table images
    if ((!cfg->hw.mul_share && lg_emit_lut_images(&ctx, &qm->luts, err)) ||
        (!cfg->hw.mul_share && lg_emit_exp2(&ctx, n.exp2, LG_EXP2_HEX, &qm->luts, err)) ||
        lg_emit_sigmoid(&ctx, n.sigmoid, LG_SIGMOID_HEX, &qm->luts, cfg->hw.mul_share, err) ||
        lg_emit_sincos(&ctx, n.sincos, LG_SINE_HEX, &qm->luts, cfg->hw.mul_share, err) ||
        // the lean norm computes the rsqrt inline (same seed image)
        (!cfg->hw.mul_share && lg_emit_rsqrt(&ctx, n.rsqrt, LG_RSQRT_HEX, &qm->luts, err)) ||
        lg_emit_actq(&ctx, n.actq, &aqp, err) || lg_emit_matvec(&ctx, n.matvec, &mvp, err) ||
        emit_vecbuf(&ctx, &n, cfg, err) || emit_embedding(&ctx, &n, qm, &s, &ep, err) ||
        lg_emit_rmsnorm(&ctx, &nu, err) ||
        lg_emit_rope(&ctx, &ru, err) || lg_emit_silu_gate(&ctx, n.silu, n.sigmoid,
                                                          LG_SIGMOID_HEX, cfg->hw.mul_share, err) ||
        lg_emit_residual(&ctx, n.resid, cfg->hw.mul_share, err) ||
        lg_emit_kvcache(&ctx, n.kvc, &ap, err) ||
        lg_emit_attention(&ctx, n.att, &ap, n.exp2, LG_EXP2_HEX, n.actq, err) ||
        lg_emit_sampler(&ctx, n.smp, &sp, err) || emit_koff(&ctx, &n, qm, err) ||
        emit_eps(&ctx, &n, qm, err) || emit_decoder_module(&ctx, &n, qm, &s, err))
        goto out;
    if (lg_wimage_build(&img, qm, cfg->hw.lanes, err))
        goto out;
    wp.depth = img.nbeats;
    if (img.nbeats != s.nbeats) {
        lg_fail(err, "decoder: weight image has %lld beats, the controller expects %lld",
                (long long)img.nbeats, (long long)s.nbeats);
        goto out;
    }
    // on-chip: the weight memory and its image; external (--ext-weights): the
    // image as the reader's binary, no memory
    if ((cfg->hw.ext_weights ? lg_emit_weights_bin(&ctx, &img, n.f_wbin, err)
                             : lg_emit_weights_hex(&ctx, &img, n.f_weights, err) ||
                                   lg_emit_wmem(&ctx, n.wmem, &wp, err)) ||
        (cfg->hw.ext_weights == 2 &&
         lg_emit_axi_wreader(&ctx, n.wrd, s.wl_dw, s.wl_aw, lg_axi_default_width(s.wl_dw),
                             err)) ||
        emit_top(&ctx, &n, cfg, &s, err) || write_files_f(&ctx, err) ||
        write_manifest(&ctx, &n, qm, &s, &img, o, err) || write_readme(&ctx, &n, qm, &s, o, err) ||
        (o && o->tok && write_tokens(&ctx, o->tok, err)))
        goto out;
    rc = 0;
out:
    free(gains);
    lg_wimage_free(&img);
    lg_emit_ctx_free(&ctx);
    return rc;
}
