// Weight memories: the weight stream image (one sequential stream of beats
// per token, consumed by the mat-vec; ROM lg_wmem), the embedding ROM
// (lg_embed) and the model's gain list. Layouts: include/llamagen/emit_mem.h
// and docs/architecture.md, "The weight stream".
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// ---- beats -----------------------------------------------------------------------

int32_t lg_wimage_ndexp(int32_t lanes, int32_t group)
{
    return lanes > group ? lanes / group : 1;
}

int64_t lg_wimage_mat_beats(const lg_qmat *m, int32_t lanes)
{
    return (int64_t)m->rows * (((int64_t)m->cols + lanes - 1) / lanes);
}

// ORs a field of at most 8 bits into a beat. Fields start at multiples of 4
// and are 4 or 8 bits wide, so none straddles a 64-bit word.
static void put_field(uint64_t *w, int bit, uint32_t v)
{
    w[bit / 64] |= (uint64_t)v << (bit % 64);
}

static int check_geometry(int32_t lanes, int32_t group, lg_err *err)
{
    if (lanes < 1 || lanes > 64 || !is_pow2(lanes))
        return lg_fail(err, "weight image: lanes = %d is not a power of two in 1..64", lanes);
    if (group < 1 || !is_pow2(group))
        return lg_fail(err, "weight image: group size %d is not a power of two", group);
    return 0;
}

int lg_wimage_pack_mat(uint64_t *beats, int32_t words, const lg_qmat *m, int32_t lanes,
                       lg_err *err)
{
    if (check_geometry(lanes, m->group, err))
        return -1;
    int32_t ndexp = lg_wimage_ndexp(lanes, m->group);
    if (words * 64 < 8 * lanes + 4 * ndexp)
        return lg_fail(err, "weight image: %d words per beat cannot hold %d bits", words,
                       8 * lanes + 4 * ndexp);
    if (m->ngroups != (m->cols + m->group - 1) / m->group)
        return lg_fail(err, "weight image: matrix %dx%d has %d groups of %d", m->rows, m->cols,
                       m->ngroups, m->group);
    int64_t bpr = ((int64_t)m->cols + lanes - 1) / lanes; // beats per row
    for (int32_t r = 0; r < m->rows; r++) {
        const int8_t *mr = m->mant + (size_t)r * (size_t)m->cols;     // (cols)
        const uint8_t *dr = m->dexp + (size_t)r * (size_t)m->ngroups; // (ngroups)
        for (int64_t b = 0; b < bpr; b++) {
            uint64_t *w = beats + ((size_t)r * (size_t)bpr + (size_t)b) * (size_t)words;
            for (int i = 0; i < lanes; i++) {
                int64_t c = b * lanes + i;
                if (c < m->cols)
                    put_field(w, 8 * i, (uint8_t)mr[c]);
            }
            for (int j = 0; j < ndexp; j++) {
                // lanes <= G: the one group holding the beat (G % lanes == 0);
                // lanes > G: groups b * ndexp .. b * ndexp + ndexp - 1
                int64_t g = lanes <= m->group ? b * lanes / m->group : b * ndexp + j;
                if (g >= m->ngroups)
                    continue; // past the row end: 0
                if (dr[g] > LG_W_DEXP_MAX)
                    return lg_fail(err, "weight image: dexp %d of row %d group %lld > %d",
                                   dr[g], r, (long long)g, LG_W_DEXP_MAX);
                put_field(w, 8 * lanes + 4 * j, dr[g]);
            }
        }
    }
    return 0;
}

// ---- the whole stream ---------------------------------------------------------------

void lg_wimage_free(lg_wimage *img)
{
    free(img->beats);
    free(img->mats);
    memset(img, 0, sizeof *img);
}

uint32_t lg_wimage_tag(const lg_wimage *img)
{
    uint64_t h = 0xcbf29ce484222325ull;
    int64_t n = img->nbeats * (int64_t)img->words;
    for (int64_t i = 0; i <= n + img->nmats; i++) {
        // the beat words, then each matrix's ebase; bytes low first
        uint64_t v = i < n ? img->beats[i]
                           : i < n + img->nmats ? (uint64_t)(int64_t)img->mats[i - n].m->ebase
                                                : (uint64_t)img->nbeats;
        for (int k = 0; k < 8; k++) {
            h ^= (v >> (8 * k)) & 0xffu;
            h *= 0x100000001b3ull;
        }
    }
    return (uint32_t)((h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) & 0xffffu);
}

int64_t lg_wimage_marks_lead(const lg_wimage *img, int64_t *changes, lg_err *err)
{
    if (changes)
        *changes = 0;
    if (img->ndexp != 1 || img->lanes < 2 || img->nmats < 1 || img->group % img->lanes) {
        lg_fail(err, "the marked flash layout needs one dexp a beat and lanes >= 2 (lanes %d, "
                     "group %d)", img->lanes, img->group);
        return -1;
    }
    int64_t bpg = img->group / img->lanes;
    const lg_wimage_mat *cls = &img->mats[img->nmats - 1];
    int64_t c = cls->first;
    int64_t bpr = (cls->m->cols + img->lanes - 1) / img->lanes;
    if (c % bpg || bpr % bpg) {
        lg_fail(err, "the marked flash layout needs the classifier at a group boundary with "
                     "whole groups a row (first beat %lld, %lld beats a row, %lld a group)",
                (long long)c, (long long)bpr, (long long)bpg);
        return -1;
    }
    // a mark at beat 0 and wherever the dexp changes before the classifier
    int64_t need = 0;
    for (int64_t b = 0; b < c; b++)
        need += b == 0 || lg_wbeat_dexp(img, b, 0) != lg_wbeat_dexp(img, b - 1, 0);
    if (changes)
        *changes = need;
    if (need > c / bpg) {
        lg_fail(err, "the marked flash layout has room for %lld dexp marks before the "
                     "classifier, the dexps change %lld times", (long long)(c / bpg),
                (long long)need);
        return -1;
    }
    return c / bpg - need;
}

int lg_wimage_build(lg_wimage *img, const lg_qmodel *qm, int32_t lanes, lg_err *err)
{
    memset(img, 0, sizeof *img);
    int L = qm->cfg.m.n_layers;
    if (lanes <= 0)
        lanes = qm->cfg.hw.lanes;
    if (L < 1 || !qm->wq || !qm->cls.mant)
        return lg_fail(err, "weight image: model has no matrices");
    int32_t group = qm->cls.group;
    if (check_geometry(lanes, group, err))
        return -1;
    img->lanes = lanes;
    img->group = group;
    img->ndexp = lg_wimage_ndexp(lanes, group);
    img->beat_bits = 8 * lanes + 4 * img->ndexp;
    img->words = (img->beat_bits + 63) / 64;
    img->nmats = 7 * L + 1;
    img->mats = lg_calloc((size_t)img->nmats, sizeof *img->mats, err);
    if (!img->mats)
        return -1;

    // Consumption order (docs/architecture.md): per layer Wq Wk Wv Wo W1 W3 W2,
    // then the classifier (lg_qmodel_matvec)
    int k;
    int64_t nb = 0;
    for (k = 0; k < img->nmats; k++) {
        lg_wimage_mat *e = &img->mats[k];
        e->m = lg_qmodel_matvec(qm, k, e->name, sizeof e->name);
        e->layer = k / 7 < L ? k / 7 : -1;
        if (e->m->group != group) {
            lg_fail(err, "weight image: %s has group size %d, wcls has %d", e->name,
                    e->m->group, group);
            lg_wimage_free(img); // e points into img->mats: message first
            return -1;
        }
        e->first = nb;
        e->nbeats = lg_wimage_mat_beats(e->m, lanes);
        nb += e->nbeats;
    }
    img->nbeats = nb;
    size_t nw;
    if (lg_mul_size((size_t)nb, (size_t)img->words, &nw)) {
        lg_wimage_free(img);
        return lg_fail(err, "weight image: %lld beats overflow memory", (long long)nb);
    }
    img->beats = lg_calloc(nw, sizeof *img->beats, err);
    if (!img->beats) {
        lg_wimage_free(img);
        return -1;
    }
    for (k = 0; k < img->nmats; k++) {
        const lg_wimage_mat *e = &img->mats[k];
        if (lg_wimage_pack_mat(img->beats + (size_t)e->first * (size_t)img->words, img->words,
                               e->m, lanes, err)) {
            lg_fail_ctx(err, "%s", e->name); // before e (in img->mats) is freed
            lg_wimage_free(img);
            return -1;
        }
    }
    return 0;
}

// ---- file output -------------------------------------------------------------------------
//
// lg_emit_hex (src/emit.c) takes words of at most 64 bits; beats are up to
// 520 bits, so this file writes its own text with the same banner and
// records it in the context the same way.

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int put(text *t, lg_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int put(text *t, lg_err *err, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return lg_fail(err, "format error");
        if (t->s && (size_t)n < room) {
            t->len += (size_t)n;
            return 0;
        }
        size_t cap = t->cap ? t->cap : 1 << 16;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return lg_fail(err, "out of memory (%zu bytes of image text)", cap);
        t->s = p;
        t->cap = cap;
    }
}

// The banner lines of src/emit.c (banner()), so every emitted file opens alike.
static int put_banner(text *t, const lg_emit_ctx *ctx, lg_err *err)
{
    const lg_config *c = ctx->cfg;
    const lg_model_config *m = &c->m;
    char name[sizeof c->name + 1];
    memcpy(name, c->name, sizeof c->name);
    name[sizeof c->name] = '\0';
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s", ctx->command ? ctx->command : "(unknown)");
    for (char *p = cmd; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return put(t, err,
               "// DO NOT EDIT: generated by llamagen " LG_VERSION "\n// regenerate: %s\n"
               "// config: %s dim=%d hidden=%d layers=%d heads=%d kv_heads=%d vocab=%d "
               "seq_len=%d lanes=%d group=%d kv_bits=%d\n",
               cmd, name[0] ? name : "unnamed", m->dim, m->hidden_dim, m->n_layers, m->n_heads,
               m->n_kv_heads, m->vocab_size, m->seq_len, c->hw.lanes, c->hw.group_size,
               c->hw.kv_bits);
}

// Writes <outdir>/<file> and records it in ctx->files (an identical second
// emission is accepted, a different one is an error, as in src/emit.c).
static int write_text(lg_emit_ctx *ctx, const char *file, const text *t, lg_err *err)
{
    if (!file || !*file || strchr(file, '/') || file[0] == '.')
        return lg_fail(err, "emit: bad output file name '%s'", file ? file : "(null)");
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", ctx->outdir, file) >= (int)sizeof path)
        return lg_fail(err, "emit %s: output path too long", file);
    for (int i = 0; i < ctx->nfiles; i++) {
        if (strcmp(ctx->files[i], file) != 0)
            continue;
        FILE *f = fopen(path, "rb");
        int same = 0;
        if (f) {
            char *old = malloc(t->len + 1);
            if (old) {
                size_t got = fread(old, 1, t->len + 1, f);
                same = got == t->len && memcmp(old, t->s, t->len) == 0;
                free(old);
            }
            fclose(f);
        }
        return same ? 0 : lg_fail(err, "emit %s: emitted twice with different content", path);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return lg_fail(err, "emit %s: %s", path, strerror(errno));
    int bad = fwrite(t->s, 1, t->len, f) != t->len;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return lg_fail(err, "emit %s: write failed: %s", path, strerror(errno));
    char **files = realloc(ctx->files, sizeof *files * (size_t)(ctx->nfiles + 1));
    if (!files)
        return lg_fail(err, "out of memory");
    ctx->files = files;
    if (!(ctx->files[ctx->nfiles] = strdup(file)))
        return lg_fail(err, "out of memory");
    ctx->nfiles++;
    return 0;
}

int lg_emit_weights_hex(lg_emit_ctx *ctx, const lg_wimage *img, const char *file, lg_err *err)
{
    if (!ctx || !ctx->cfg || !ctx->outdir)
        return lg_fail(err, "emit %s: context has no config or output directory",
                       file ? file : "(null)");
    if (!img->beats || img->nbeats < 1)
        return lg_fail(err, "emit %s: empty weight image", file ? file : "(null)");
    text t = {0};
    int digits = (img->beat_bits + 3) / 4;
    int rc = put_banner(&t, ctx, err) ||
             put(&t, err,
                 "// weight stream: %lld beats x %d bits, one per line, consumption order\n"
                 "// beat = {dexp[%d] (4 bits each), mant[%d] (int8 each)}, lane 0 in the low "
                 "byte; lanes %d, group %d\n"
                 "// matrix: first beat, beats, rows x cols, ebase\n",
                 (long long)img->nbeats, img->beat_bits, img->ndexp, img->lanes, img->lanes,
                 img->group);
    for (int k = 0; rc == 0 && k < img->nmats; k++) {
        const lg_wimage_mat *e = &img->mats[k];
        rc = put(&t, err, "//   %-8s %8lld %8lld  %d x %d  %d\n", e->name, (long long)e->first,
                 (long long)e->nbeats, e->m->rows, e->m->cols, e->m->ebase);
    }
    char line[160]; // up to 130 hex digits and a newline
    for (int64_t b = 0; rc == 0 && b < img->nbeats; b++) {
        const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
        for (int d = 0; d < digits; d++) {
            int nib = digits - 1 - d; // most significant first
            unsigned v = (unsigned)((w[nib / 16] >> (4 * (nib % 16))) & 15u);
            line[d] = "0123456789abcdef"[v];
        }
        line[digits] = '\n';
        line[digits + 1] = '\0';
        rc = put(&t, err, "%s", line);
    }
    if (!rc)
        rc = write_text(ctx, file, &t, err);
    free(t.s);
    return rc ? lg_fail_ctx(err, "weights image") : 0;
}

int lg_emit_weights_bin(lg_emit_ctx *ctx, const lg_wimage *img, const char *file, lg_err *err)
{
    if (!ctx || !ctx->cfg || !ctx->outdir)
        return lg_fail(err, "emit %s: context has no config or output directory",
                       file ? file : "(null)");
    if (!img->beats || img->nbeats < 1)
        return lg_fail(err, "emit %s: empty weight image", file ? file : "(null)");
    size_t bb = (size_t)lg_wimage_beat_bytes(img);
    text t = {0};
    t.len = bb * (size_t)img->nbeats;
    if (!(t.s = malloc(t.len ? t.len : 1)))
        return lg_fail(err, "emit %s: out of memory (%zu bytes)", file, t.len);
    for (int64_t b = 0; b < img->nbeats; b++) {
        const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
        unsigned char *o = (unsigned char *)t.s + (size_t)b * bb;
        for (size_t i = 0; i < bb; i++)
            o[i] = (unsigned char)(w[i / 8] >> (8 * (i % 8)));
    }
    int rc = write_text(ctx, file, &t, err);
    free(t.s);
    return rc ? lg_fail_ctx(err, "weights image") : 0;
}

// ---- AXI4 weight reader ------------------------------------------------------------------

int32_t lg_axi_default_width(int32_t beat_bits)
{
    int32_t w = 32;
    while (w < beat_bits && w < 512)
        w *= 2;
    return w;
}

int lg_emit_axi_wreader(lg_emit_ctx *ctx, const char *module, int32_t beat_bits,
                        int32_t beat_aw, int32_t axi_dw, lg_err *err)
{
    if (beat_bits < 1 || beat_aw < 1 || beat_aw > 40 || axi_dw < 32 || axi_dw > 1024 ||
        (axi_dw & (axi_dw - 1)))
        return lg_fail(err, "AXI weight reader: beat %d bits, %d address bits, AXI %d bits: "
                            "out of range",
                       beat_bits, beat_aw, axi_dw);
    char bw[16], baw[16], dw[16], aw[16], mb[16], mo[16];
    snprintf(bw, sizeof bw, "%d", beat_bits);
    snprintf(baw, sizeof baw, "%d", beat_aw);
    snprintf(dw, sizeof dw, "%d", axi_dw);
    snprintf(aw, sizeof aw, "%d", LG_AXI_ADDR_WIDTH);
    snprintf(mb, sizeof mb, "%d", LG_AXI_MAX_BURST);
    snprintf(mo, sizeof mo, "%d", LG_AXI_MAX_OUTSTANDING);
    lg_subst vars[] = {{"BEAT_W", bw}, {"BEAT_AW", baw},   {"AXI_DW", dw},
                       {"AXI_AW", aw}, {"MAX_BURST", mb}, {"MAX_OUTSTANDING", mo}};
    return lg_emit_module(ctx, module, "lg_axi_wreader", vars, 6,
                          "first address 2 cycles after the request; then a beat a cycle "
                          "while AXI_DW >= the beat and the memory keeps up",
                          err);
}

// ---- embedding ROM ----------------------------------------------------------------------

int64_t lg_embed_rom_words(const lg_qmat *emb)
{
    return (int64_t)emb->rows * ((int64_t)emb->cols + emb->ngroups);
}

void lg_embed_rom_build(uint8_t *rom, const lg_qmat *emb)
{
    size_t k = 0;
    for (int32_t r = 0; r < emb->rows; r++) {
        const int8_t *mr = emb->mant + (size_t)r * (size_t)emb->cols;     // (cols)
        const uint8_t *dr = emb->dexp + (size_t)r * (size_t)emb->ngroups; // (ngroups)
        for (int32_t g = 0; g < emb->ngroups; g++) {
            rom[k++] = dr[g];
            int32_t lo = g * emb->group;
            int32_t hi = lo + emb->group < emb->cols ? lo + emb->group : emb->cols;
            for (int32_t i = lo; i < hi; i++)
                rom[k++] = (uint8_t)mr[i];
        }
    }
}

int lg_emit_embed_hex(lg_emit_ctx *ctx, const lg_qmat *emb, const char *file, lg_err *err)
{
    int64_t n = lg_embed_rom_words(emb);
    for (int64_t i = 0; i < (int64_t)emb->rows * emb->ngroups; i++)
        if (emb->dexp[i] > LG_W_DEXP_MAX)
            return lg_fail(err, "embedding image: dexp %d > %d", emb->dexp[i], LG_W_DEXP_MAX);
    uint8_t *rom = lg_calloc((size_t)n, 1, err);
    int64_t *vals = rom ? lg_calloc((size_t)n, sizeof *vals, err) : NULL;
    if (!vals) {
        free(rom);
        return -1;
    }
    lg_embed_rom_build(rom, emb);
    for (int64_t i = 0; i < n; i++)
        vals[i] = rom[i];
    char what[200];
    snprintf(what, sizeof what,
             "embedding ROM: %d rows of %d words (per group: dexp, then the int8 "
             "mantissas), group %d, ebase %d",
             emb->rows, emb->cols + emb->ngroups, emb->group, emb->ebase);
    int rc = lg_emit_hex(ctx, file, vals, (size_t)n, 8, what, err);
    free(vals);
    free(rom);
    return rc;
}

// ---- gains ----------------------------------------------------------------------------

int32_t lg_model_gain_count(const lg_qmodel *qm) { return 2 * qm->cfg.m.n_layers + 1; }

void lg_model_gain_list(lg_qvec *out, const lg_qmodel *qm)
{
    int L = qm->cfg.m.n_layers;
    for (int l = 0; l < L; l++) {
        out[2 * l] = qm->rms_att[l];
        out[2 * l + 1] = qm->rms_ffn[l];
    }
    out[2 * L] = qm->rms_final;
}

// ---- units ------------------------------------------------------------------------------

void lg_wmem_module_name(char *buf, size_t n, const lg_wmem_params *p)
{
    snprintf(buf, n, "lg_wmem_l%d_g%d_d%lld", p->lanes, p->group, (long long)p->depth);
}

int lg_wmem_check(const lg_wmem_params *p, lg_err *err)
{
    if (p->lanes < 1 || p->lanes > 64 || !is_pow2(p->lanes))
        return lg_fail(err, "wmem: lanes = %d is not a power of two in 1..64", p->lanes);
    if (p->group < 4 || p->group > 256 || !is_pow2(p->group))
        return lg_fail(err, "wmem: group = %d is not a power of two in 4..256", p->group);
    if (p->depth < 2 || p->depth > ((int64_t)1 << 31))
        return lg_fail(err, "wmem: depth = %lld is not in 2..2^31", (long long)p->depth);
    if (!p->init_file || strchr(p->init_file, '"') || strchr(p->init_file, '\\'))
        return lg_fail(err, "wmem: bad init file name");
    return 0;
}

int64_t lg_wmem_run_cycles(int64_t nbeats) { return nbeats + LG_WMEM_LATENCY; }

int lg_emit_wmem(lg_emit_ctx *ctx, const char *module, const lg_wmem_params *p, lg_err *err)
{
    if (lg_wmem_check(p, err))
        return -1;
    char name[128], lanes[16], group[16], depth[32];
    if (!module) {
        lg_wmem_module_name(name, sizeof name, p);
        module = name;
    }
    snprintf(lanes, sizeof lanes, "%d", p->lanes);
    snprintf(group, sizeof group, "%d", p->group);
    snprintf(depth, sizeof depth, "%lld", (long long)p->depth);
    lg_subst vars[] = {
        {"LANES", lanes},
        {"GROUP", group},
        {"DEPTH", depth},
        {"INIT_FILE", p->init_file},
    };
    return lg_emit_module(ctx, module, "lg_wmem", vars, 4,
                          "first beat 3 cycles after start, then one beat per cycle "
                          "(N beats: done N + 3 cycles after start)",
                          err);
}

void lg_embed_params_from_qmat(lg_embed_params *p, const lg_qmat *emb, const char *init_file)
{
    p->vocab = emb->rows;
    p->dim = emb->cols;
    p->group = emb->group;
    p->ebase = emb->ebase;
    p->init_file = init_file;
}

void lg_embed_module_name(char *buf, size_t n, const lg_embed_params *p)
{
    snprintf(buf, n, "lg_embed_v%d_d%d_g%d_e%s%d", p->vocab, p->dim, p->group,
             p->ebase < 0 ? "m" : "", p->ebase < 0 ? -p->ebase : p->ebase);
}

int lg_embed_check(const lg_embed_params *p, lg_err *err)
{
    if (p->vocab < 2 || p->dim < 2 || p->group < 2)
        return lg_fail(err, "embed: vocab %d, dim %d, group %d must all be >= 2", p->vocab,
                       p->dim, p->group);
    int64_t ng = ((int64_t)p->dim + p->group - 1) / p->group;
    if ((int64_t)p->vocab * (p->dim + ng) > ((int64_t)1 << 31))
        return lg_fail(err, "embed: %d x %d table does not fit 2^31 words", p->vocab, p->dim);
    if (p->ebase < -200 || p->ebase > 200)
        return lg_fail(err, "embed: ebase %d outside -200..200", p->ebase);
    if (!p->init_file || strchr(p->init_file, '"') || strchr(p->init_file, '\\'))
        return lg_fail(err, "embed: bad init file name");
    return 0;
}

int64_t lg_embed_row_cycles(const lg_embed_params *p)
{
    int64_t ng = ((int64_t)p->dim + p->group - 1) / p->group;
    // first element LG_EMBED_LATENCY cycles after the token; the row's words
    // (dim + ng, the first a dexp word) follow at one per cycle
    return LG_EMBED_LATENCY + p->dim + ng - 2;
}

// The dequantizing shift lg_embed instantiates (lg_i8e_shift.v), emitted as
// <unit>_shift before the unit (files.f lists leaves first); lg_embstream
// has its own, specialized to its constant exponent offset.
static int emit_shift(lg_emit_ctx *ctx, const char *unit, char *name, size_t cap, lg_err *err)
{
    snprintf(name, cap, "%s_shift", unit);
    return lg_emit_module(ctx, name, "lg_i8e_shift", NULL, 0, "combinational", err);
}

int lg_emit_embed(lg_emit_ctx *ctx, const char *module, const lg_embed_params *p, lg_err *err)
{
    if (lg_embed_check(p, err))
        return -1;
    char name[128], vocab[16], dim[16], group[16], ebase[16], lat[160];
    if (!module) {
        lg_embed_module_name(name, sizeof name, p);
        module = name;
    }
    snprintf(vocab, sizeof vocab, "%d", p->vocab);
    snprintf(dim, sizeof dim, "%d", p->dim);
    snprintf(group, sizeof group, "%d", p->group);
    snprintf(ebase, sizeof ebase, "%d", p->ebase);
    snprintf(lat, sizeof lat,
             "first element 4 cycles after the token; token to last element %lld cycles "
             "(one bubble per group)",
             (long long)lg_embed_row_cycles(p));
    char shift[160];
    if (emit_shift(ctx, module, shift, sizeof shift, err))
        return -1;
    lg_subst vars[] = {
        {"VOCAB", vocab}, {"DIM", dim}, {"GROUP", group}, {"EBASE", ebase},
        {"INIT_FILE", p->init_file}, {"SHIFT_MODULE", shift},
    };
    return lg_emit_module(ctx, module, "lg_embed", vars, 6, lat, err);
}

int lg_emit_embstream(lg_emit_ctx *ctx, const char *module, const lg_embstream_params *p,
                      lg_err *err)
{
    const lg_embed_params *e = &p->e;
    if (e->vocab < 2 || e->dim < 2 || e->group < 2 || e->ebase < -200 || e->ebase > 200)
        return lg_fail(err, "embstream: vocab %d, dim %d, group %d >= 2 and ebase %d in "
                            "-200..200 required",
                       e->vocab, e->dim, e->group, e->ebase);
    if (p->lanes < 1 || p->aw < 1 || p->aw > 31 || p->base < 0)
        return lg_fail(err, "embstream: bad lanes %d / address width %d / base %lld", p->lanes,
                       p->aw, (long long)p->base);
    int64_t bpr = (e->dim + p->lanes - 1) / p->lanes;
    if (p->base + (int64_t)e->vocab * bpr > ((int64_t)1 << p->aw))
        return lg_fail(err, "embstream: %d rows of %lld beats from beat %lld exceed %d address "
                            "bits",
                       e->vocab, (long long)bpr, (long long)p->base, p->aw);
    int ndx = p->lanes > e->group ? p->lanes / e->group : 1;
    char vocab[16], dim[16], group[16], ebase[16], lanes[16], dxw[16], base[24], aw[16],
        lat[200];
    snprintf(vocab, sizeof vocab, "%d", e->vocab);
    snprintf(dim, sizeof dim, "%d", e->dim);
    snprintf(group, sizeof group, "%d", e->group);
    snprintf(ebase, sizeof ebase, "%d", e->ebase);
    snprintf(lanes, sizeof lanes, "%d", p->lanes);
    snprintf(dxw, sizeof dxw, "%d", 4 * ndx);
    snprintf(base, sizeof base, "%lld", (long long)p->base);
    snprintf(aw, sizeof aw, "%d", p->aw);
    snprintf(lat, sizeof lat,
             "range request the cycle after the token; then one element per cycle from each "
             "beat (%lld beats of %d lanes a row, one bubble per beat)",
             (long long)bpr, p->lanes);
    // the dequantizing shift is built in (its exponent offset is a constant
    // there), not lg_i8e_shift
    lg_subst vars[] = {
        {"VOCAB", vocab}, {"DIM", dim},     {"GROUP", group}, {"LANES", lanes},
        {"DXW", dxw},     {"EBASE", ebase}, {"BASE", base},   {"AW", aw},
    };
    return lg_emit_module(ctx, module, "lg_embstream", vars, 8, lat, err);
}
