/*
 * llama2.c checkpoint I/O (float32) and seeded synthetic weights.
 * See include/llamagen/checkpoint.h for the API and docs/synthetic-weights.md
 * for the exact synthetic draw.
 *
 * Both formats are a header followed by raw little-endian float32 tensors,
 * each tensor stored row-major with all layers back to back. The loader
 * trusts nothing in the header: every field is range-checked, every size is
 * computed in 64 bits with overflow checks, and the file length must equal
 * what the header implies to the byte before anything is allocated.
 *
 * Legacy version 0 (llama2.c `legacy_export`, the format of stories*.bin):
 *   int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 *     (vocab_size > 0: classifier shared with the embedding; < 0: unshared)
 *   token_embedding (vocab, dim)
 *   rms_att (L, dim)  wq (L, dim, dim)  wk (L, kv_dim, dim)  wv (L, kv_dim, dim)
 *   wo (L, dim, dim)  rms_ffn (L, dim)  w1 (L, hidden, dim)  w2 (L, dim, hidden)
 *   w3 (L, hidden, dim)  rms_final (dim)
 *   freq_cis_real (seq_len, head_size/2)  freq_cis_imag (seq_len, head_size/2)
 *   wcls (vocab, dim)                                     only when unshared
 *
 * Version 1 "ak42" (llama2.c export.py `version1_export`; order checked
 * against karpathy/llama2.c export.py: norms first, then the embedding, then
 * the matrices, and no RoPE tables):
 *   uint32 magic 0x616b3432, int32 version = 1, the same 7 int32 (vocab > 0),
 *   uint8 shared_classifier, zero padding up to 256 bytes
 *   rms_att (L, dim)  rms_ffn (L, dim)  rms_final (dim)  token_embedding (vocab, dim)
 *   wq  wk  wv  wo  w1  w2  w3 (shapes as above)
 *   wcls (vocab, dim)                                     only when unshared
 */
#include "llamagen/checkpoint.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The files are little-endian float32/int32 and are read straight into
// memory; a big-endian host would need byte swapping that nobody has asked
// for yet, so refuse to build rather than misread silently.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c reads little-endian files directly; add byte swapping for this host"
#endif

#define AK42_MAGIC 0x616b3432u   // "ak42" read as a little-endian uint32
#define AK42_HEADER_BYTES 256
#define V0_HEADER_BYTES (7 * 4)

// No real LLaMA has a shape field anywhere near 2^24 (the largest, 405B, has
// dim 16384 and hidden 53248), so anything beyond is a corrupt header.
#define MAX_FIELD (1 << 24)
// ... and no float32 checkpoint we could ever handle is a terabyte.
#define MAX_FILE_BYTES (UINT64_C(1) << 40)

// ----------------------------------------------------------------------------
// shape checks and tensor sizes

// The rules every shape must meet (loader, allocator, saver and synthetic
// weights share them). Writes the problem into why and returns -1.
static int shape_problem(const lg_model_config *m, char *why, size_t n)
{
    const struct { const char *name; int32_t v; } f[7] = {
        {"dim", m->dim},           {"hidden_dim", m->hidden_dim}, {"n_layers", m->n_layers},
        {"n_heads", m->n_heads},   {"n_kv_heads", m->n_kv_heads}, {"vocab_size", m->vocab_size},
        {"seq_len", m->seq_len},
    };
    for (int i = 0; i < 7; i++) {
        if (f[i].v <= 0) {
            snprintf(why, n, "%s = %d (must be positive)", f[i].name, (int)f[i].v);
            return -1;
        }
        if (f[i].v > MAX_FIELD) {
            snprintf(why, n, "%s = %d is absurd (limit %d)", f[i].name, (int)f[i].v, MAX_FIELD);
            return -1;
        }
    }
    if (m->dim % m->n_heads != 0) {
        snprintf(why, n, "dim %d is not divisible by n_heads %d", (int)m->dim, (int)m->n_heads);
        return -1;
    }
    if (m->n_heads % m->n_kv_heads != 0) {
        snprintf(why, n, "n_heads %d is not a multiple of n_kv_heads %d", (int)m->n_heads,
                 (int)m->n_kv_heads);
        return -1;
    }
    if ((m->dim / m->n_heads) % 2 != 0) {
        // RoPE rotates (even, odd) pairs inside a head.
        snprintf(why, n, "head_size %d (dim/n_heads) is odd; RoPE needs pairs",
                 (int)(m->dim / m->n_heads));
        return -1;
    }
    return 0;
}

// Overflow-checked uint64 product; returns -1 on overflow.
static int mul64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

// Element counts of every tensor (all layers together). The shape has
// passed shape_problem, so each field is in 1 .. 2^24 and a product of two
// fields fits; products of three are checked.
typedef struct tensor_counts {
    uint64_t emb;   // vocab * dim (also wcls)
    uint64_t lvec;  // L * dim (rms_att, rms_ffn)
    uint64_t wq;    // L * dim * dim (also wo)
    uint64_t wkv;   // L * kv_dim * dim
    uint64_t wff;   // L * hidden * dim (w1, w2, w3)
    uint64_t fin;   // dim
    uint64_t freq;  // seq_len * head_size / 2 (each v0 RoPE table)
} tensor_counts;

static int count_tensors(const lg_model_config *m, tensor_counts *c)
{
    uint64_t L = (uint64_t)m->n_layers, d = (uint64_t)m->dim;
    uint64_t kv = d / (uint64_t)m->n_heads * (uint64_t)m->n_kv_heads;
    c->emb = (uint64_t)m->vocab_size * d;
    c->lvec = L * d;
    c->fin = d;
    c->freq = (uint64_t)m->seq_len * (d / (uint64_t)m->n_heads / 2);
    if (mul64(L * d, d, &c->wq) || mul64(L * kv, d, &c->wkv) ||
        mul64(L * (uint64_t)m->hidden_dim, d, &c->wff))
        return -1;
    return 0;
}

// ----------------------------------------------------------------------------
// file layouts: the tensors of each format, in file order

// One tensor of a file. dst == NULL marks the v0 RoPE tables, which the
// loader skips and the saver computes.
typedef struct slot {
    const char *name;
    float *dst;
    uint64_t count;
} slot;

#define MAX_SLOTS 14

// Fills s[] with the file order of `version` for weights w (w may hold NULL
// pointers when only the size is wanted) and the total file size. Returns
// the number of slots, or -1 when a size overflows 64 bits.
static int file_layout(const lg_model_config *m, int version, const lg_weights *w, slot *s,
                       uint64_t *file_bytes)
{
    tensor_counts c;
    if (count_tensors(m, &c) != 0)
        return -1;
    int n = 0;
#define ADD(nm, p, cnt) (s[n].name = (nm), s[n].dst = (p), s[n].count = (cnt), n++)
    if (version == 0) {
        ADD("token_embedding", w->token_embedding, c.emb);
        ADD("rms_att", w->rms_att, c.lvec);
        ADD("wq", w->wq, c.wq);
        ADD("wk", w->wk, c.wkv);
        ADD("wv", w->wv, c.wkv);
        ADD("wo", w->wo, c.wq);
        ADD("rms_ffn", w->rms_ffn, c.lvec);
        ADD("w1", w->w1, c.wff);
        ADD("w2", w->w2, c.wff);
        ADD("w3", w->w3, c.wff);
        ADD("rms_final", w->rms_final, c.fin);
        ADD("freq_cis_real", NULL, c.freq);
        ADD("freq_cis_imag", NULL, c.freq);
    } else {
        ADD("rms_att", w->rms_att, c.lvec);
        ADD("rms_ffn", w->rms_ffn, c.lvec);
        ADD("rms_final", w->rms_final, c.fin);
        ADD("token_embedding", w->token_embedding, c.emb);
        ADD("wq", w->wq, c.wq);
        ADD("wk", w->wk, c.wkv);
        ADD("wv", w->wv, c.wkv);
        ADD("wo", w->wo, c.wq);
        ADD("w1", w->w1, c.wff);
        ADD("w2", w->w2, c.wff);
        ADD("w3", w->w3, c.wff);
    }
    if (!m->shared_classifier)
        ADD("wcls", w->wcls, c.emb);
#undef ADD
    // Bytes, checked: a count times 4 or the running sum could wrap 64 bits.
    uint64_t bytes = version == 0 ? V0_HEADER_BYTES : AK42_HEADER_BYTES;
    for (int i = 0; i < n; i++) {
        uint64_t b;
        if (mul64(s[i].count, sizeof(float), &b) || bytes > UINT64_MAX - b)
            return -1;
        bytes += b;
    }
    *file_bytes = bytes;
    return n;
}

// ----------------------------------------------------------------------------
// weights allocation

int lg_weights_alloc(const lg_model_config *cfg, lg_weights *w, lg_err *err)
{
    char why[256];
    memset(w, 0, sizeof *w);
    if (shape_problem(cfg, why, sizeof why) != 0)
        return lg_fail(err, "weights: bad shape: %s", why);
    tensor_counts c;
    if (count_tensors(cfg, &c) != 0)
        return lg_fail(err, "weights: tensor sizes overflow 64 bits");

    // One block in lg_weights field order; the classifier gets its own rows
    // only when it is not the embedding table.
    uint64_t total = c.emb + 2 * c.lvec + 2 * c.wq + 2 * c.wkv + 3 * c.wff + c.fin;
    if (!cfg->shared_classifier)
        total += c.emb;
    if (total > MAX_FILE_BYTES / sizeof(float) || total > SIZE_MAX / sizeof(float))
        return lg_fail(err, "weights: %llu floats is more than this tool handles",
                       (unsigned long long)total);
    float *mem = lg_calloc((size_t)total, sizeof(float), err);
    if (!mem)
        return -1;

    float *p = mem;
    w->token_embedding = p; p += c.emb;
    w->rms_att = p;         p += c.lvec;
    w->wq = p;              p += c.wq;
    w->wk = p;              p += c.wkv;
    w->wv = p;              p += c.wkv;
    w->wo = p;              p += c.wq;
    w->rms_ffn = p;         p += c.lvec;
    w->w1 = p;              p += c.wff;
    w->w2 = p;              p += c.wff;
    w->w3 = p;              p += c.wff;
    w->rms_final = p;       p += c.fin;
    if (cfg->shared_classifier) {
        w->wcls = w->token_embedding;
    } else {
        w->wcls = p;
        p += c.emb;
    }
    w->mem = mem;
    w->n_floats = (size_t)total;
    return 0;
}

void lg_weights_free(lg_weights *w)
{
    if (!w)
        return;
    free(w->mem);
    memset(w, 0, sizeof *w);
}

// ----------------------------------------------------------------------------
// loading

// First non-finite element of x[0..n), or -1.
static int64_t first_nonfinite(const float *x, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return (int64_t)i;
    return -1;
}

// Reads and checks the header, fills m (without rope/eps) and *version.
// f is positioned just past the header on success.
static int read_header(FILE *f, const char *path, uint64_t file_bytes, lg_model_config *m,
                       int *version, lg_err *err)
{
    if (file_bytes < 4)
        return lg_fail(err, "%s: truncated: %llu bytes is too short for a checkpoint header",
                       path, (unsigned long long)file_bytes);
    uint32_t first;
    if (fread(&first, 4, 1, f) != 1)
        return lg_fail(err, "%s: read error in header", path);

    int32_t h[7];
    memset(m, 0, sizeof *m);
    if (first == AK42_MAGIC) {
        // 4 magic + 4 version + 28 params + 1 flag, padded to 256.
        unsigned char rest[AK42_HEADER_BYTES - 4];
        if (file_bytes < AK42_HEADER_BYTES)
            return lg_fail(err, "%s: truncated: ak42 header needs %d bytes, file has %llu bytes",
                           path, AK42_HEADER_BYTES, (unsigned long long)file_bytes);
        if (fread(rest, sizeof rest, 1, f) != 1)
            return lg_fail(err, "%s: read error in header", path);
        int32_t ver;
        memcpy(&ver, rest, 4);
        if (ver != 1)
            return lg_fail(err,
                           "%s: unsupported ak42 version %d (only version 1, float32, is read)",
                           path, (int)ver);
        memcpy(h, rest + 4, sizeof h);
        unsigned char shared = rest[4 + sizeof h];
        if (shared > 1)
            return lg_fail(err, "%s: bad header: shared_classifier byte = %u (must be 0 or 1)",
                           path, shared);
        if (h[5] <= 0)
            return lg_fail(err, "%s: bad header: vocab_size = %d (must be positive in ak42)",
                           path, (int)h[5]);
        // The padding is not checked: llama2.c writes zeros but never reads it.
        m->shared_classifier = shared;
        *version = 1;
    } else {
        // Version 0 has no magic: the first word is dim. A word that cannot be
        // a dim is most likely some other file format.
        int32_t dim;
        memcpy(&dim, &first, 4);
        if (dim > MAX_FIELD)
            return lg_fail(err,
                           "%s: bad magic 0x%08x: not an ak42 checkpoint (0x%08x) and too large "
                           "to be a legacy v0 dim",
                           path, (unsigned)first, AK42_MAGIC);
        if (file_bytes < V0_HEADER_BYTES)
            return lg_fail(err, "%s: truncated: v0 header needs %d bytes, file has %llu bytes",
                           path, V0_HEADER_BYTES, (unsigned long long)file_bytes);
        h[0] = dim;
        if (fread(h + 1, 4, 6, f) != 6)
            return lg_fail(err, "%s: read error in header", path);
        // The sign of vocab_size is the shared-classifier flag. INT32_MIN has
        // no positive counterpart; it is absurd anyway.
        if (h[5] == INT32_MIN)
            return lg_fail(err, "%s: bad header: vocab_size = %d is absurd", path, (int)h[5]);
        m->shared_classifier = h[5] > 0;
        if (h[5] < 0)
            h[5] = -h[5];
        *version = 0;
    }
    m->dim = h[0];
    m->hidden_dim = h[1];
    m->n_layers = h[2];
    m->n_heads = h[3];
    m->n_kv_heads = h[4];
    m->vocab_size = h[5];
    m->seq_len = h[6];

    char why[256];
    if (shape_problem(m, why, sizeof why) != 0)
        return lg_fail(err, "%s: bad header: %s", path, why);
    // Every llama2.c sequence starts with BOS, id 1 (run and eval feed it
    // first, the decoder embeds it): a 1-token vocabulary passed every check
    // above and then made eval read the embedding table out of bounds.
    if (m->vocab_size < 2)
        return lg_fail(err, "%s: bad header: vocab_size = %d cannot hold BOS (id 1)", path,
                       (int)m->vocab_size);
    return 0;
}

int lg_checkpoint_load(const char *path, lg_model_config *cfg, lg_weights *w, lg_err *err)
{
    uint64_t file_bytes;
    FILE *f = lg_open_regular(path, "llama2.c checkpoint", &file_bytes, err);
    if (!f)
        return -1;

    lg_model_config m;
    int version = 0;
    if (read_header(f, path, file_bytes, &m, &version, err) != 0) {
        fclose(f);
        return -1;
    }
    m.rope_theta = 10000;   // llama2.c hard-codes both
    m.norm_eps_e9 = 10000;  // 1e-5

    // The size rule, before any allocation.
    slot s[MAX_SLOTS];
    lg_weights tmp;
    memset(&tmp, 0, sizeof tmp);
    uint64_t want;
    int n = file_layout(&m, version, &tmp, s, &want);
    if (n < 0) {
        fclose(f);
        return lg_fail(err, "%s: bad header: tensor sizes overflow 64 bits", path);
    }
    if (want > MAX_FILE_BYTES) {
        fclose(f);
        return lg_fail(err, "%s: bad header: implies %llu bytes, over the 2^40-byte limit", path,
                       (unsigned long long)want);
    }
    if (file_bytes != want) {
        fclose(f);
        return lg_fail(err, "%s: %s: header implies %llu bytes, file has %llu bytes", path,
                       file_bytes < want ? "truncated" : "trailing garbage",
                       (unsigned long long)want, (unsigned long long)file_bytes);
    }
    if (!w) { // the shape only
        fclose(f);
        *cfg = m;
        return 0;
    }

    if (lg_weights_alloc(&m, &tmp, err) != 0) {
        fclose(f);
        return lg_fail_ctx(err, "%s", path);
    }
    n = file_layout(&m, version, &tmp, s, &want); // again, now with pointers
    for (int i = 0; i < n; i++) {
        if (!s[i].dst) {
            // Unused RoPE tables (the model computes RoPE itself).
            if (fseeko(f, (off_t)(s[i].count * sizeof(float)), SEEK_CUR) != 0) {
                lg_fail(err, "%s: cannot skip %s: %s", path, s[i].name, strerror(errno));
                goto fail;
            }
            continue;
        }
        // Whole tensor in one fread; a short count means the file changed
        // under us or an I/O error.
        if (fread(s[i].dst, sizeof(float), (size_t)s[i].count, f) != (size_t)s[i].count) {
            lg_fail(err, "%s: read error in %s%s", path, s[i].name,
                    feof(f) ? ": unexpected end of file" : "");
            goto fail;
        }
        int64_t bad = first_nonfinite(s[i].dst, s[i].count);
        if (bad >= 0) {
            float v = s[i].dst[bad];
            lg_fail(err, "%s: non-finite weight %s[%lld] = %s", path, s[i].name, (long long)bad,
                    isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
            goto fail;
        }
    }
    fclose(f);
    *cfg = m;
    *w = tmp;
    return 0;

fail:
    fclose(f);
    lg_weights_free(&tmp);
    return -1;
}

// ----------------------------------------------------------------------------
// saving

// Writes one v0 RoPE table as llama2.c's model.py precompute_freqs_cis does:
// freq_i = theta^(-2i/head_size), angle = pos * freq_i, table[pos][i] =
// cos(angle) (or sin). Computed in double and rounded once, so the values
// agree with PyTorch's float32 ones to a few ulp; nothing reads them back.
static int write_freq_table(FILE *f, const lg_model_config *m, int imag)
{
    int hs = m->dim / m->n_heads;
    float row[4096]; // (chunk) written in pieces so any seq_len fits on the stack
    size_t k = 0;
    for (int pos = 0; pos < m->seq_len; pos++) {
        for (int i = 0; i < hs / 2; i++) {
            double freq = 1.0 / pow(10000.0, (double)(2 * i) / hs);
            double angle = (double)pos * freq;
            row[k++] = (float)(imag ? sin(angle) : cos(angle));
            if (k == sizeof row / sizeof row[0]) {
                if (fwrite(row, sizeof(float), k, f) != k)
                    return -1;
                k = 0;
            }
        }
    }
    if (k && fwrite(row, sizeof(float), k, f) != k)
        return -1;
    return 0;
}

int lg_checkpoint_save(const char *path, const lg_model_config *cfg, const lg_weights *w,
                       int version, lg_err *err)
{
    char why[256];
    if (version != 0 && version != 1)
        return lg_fail(err, "%s: cannot write checkpoint version %d (0 = legacy, 1 = ak42)",
                       path, version);
    if (shape_problem(cfg, why, sizeof why) != 0)
        return lg_fail(err, "%s: bad shape: %s", path, why);
    if (!w->mem)
        return lg_fail(err, "%s: no weights to write", path);

    slot s[MAX_SLOTS];
    uint64_t bytes;
    int n = file_layout(cfg, version, w, s, &bytes);
    if (n < 0 || bytes > MAX_FILE_BYTES)
        return lg_fail(err, "%s: shape too large to write", path);
    // Never write a file the loader would reject.
    for (int i = 0; i < n; i++) {
        int64_t bad = s[i].dst ? first_nonfinite(s[i].dst, s[i].count) : -1;
        if (bad >= 0)
            return lg_fail(err, "%s: refusing to write non-finite weight %s[%lld]", path,
                           s[i].name, (long long)bad);
    }

    FILE *f = fopen(path, "wb");
    if (!f)
        return lg_fail(err, "%s: cannot create: %s", path, strerror(errno));

    // --- header ---
    int32_t h[7] = {cfg->dim,        cfg->hidden_dim, cfg->n_layers, cfg->n_heads,
                    cfg->n_kv_heads, cfg->vocab_size, cfg->seq_len};
    int ok = 1;
    if (version == 0) {
        if (!cfg->shared_classifier)
            h[5] = -h[5]; // the sign is v0's shared-classifier flag
        ok = fwrite(h, sizeof h, 1, f) == 1;
    } else {
        unsigned char hdr[AK42_HEADER_BYTES] = {0}; // zero padding
        uint32_t magic = AK42_MAGIC;
        int32_t ver = 1;
        memcpy(hdr, &magic, 4);
        memcpy(hdr + 4, &ver, 4);
        memcpy(hdr + 8, h, sizeof h);
        hdr[8 + sizeof h] = cfg->shared_classifier ? 1 : 0;
        ok = fwrite(hdr, sizeof hdr, 1, f) == 1;
    }

    // --- tensors ---
    for (int i = 0; ok && i < n; i++) {
        if (!s[i].dst)
            ok = write_freq_table(f, cfg, strcmp(s[i].name, "freq_cis_imag") == 0) == 0;
        else
            ok = fwrite(s[i].dst, sizeof(float), (size_t)s[i].count, f) == (size_t)s[i].count;
    }
    int saved_errno = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    if (!ok) {
        remove(path); // no half-written checkpoint left behind
        return lg_fail(err, "%s: write error: %s", path, strerror(saved_errno));
    }
    return 0;
}

// ----------------------------------------------------------------------------
// synthetic weights (the draw is specified in docs/synthetic-weights.md)

// splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter passed through a
// strong mixer; one state per tensor.
static uint64_t splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t splitmix64_next(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return splitmix64_mix(*state);
}

// Approximately standard normal: the Irwin-Hall sum of 12 uniforms, minus
// its mean. All integer arithmetic plus one exact int->double conversion and
// a division by a power of two, so the value is bit-identical on every
// IEEE-754 host (Box-Muller would depend on libm's log/cos). Range +-6.
static double normal12(uint64_t *state)
{
    int64_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (int64_t)(splitmix64_next(state) >> 32); // uniform 0 .. 2^32-1
    // Mean of 12 draws is 6 * (2^32 - 1); the variance is (2^64 - 1) / 12 each,
    // so dividing by 2^32 leaves a variance of 1 to within 2^-64.
    return (double)(sum - INT64_C(6) * (INT64_C(0xffffffff))) / 4294967296.0;
}

// How one tensor is drawn: either a zero-mean normal matrix with std
// gain / sqrt(fan_in), or RMSNorm gains c * (1 + u + u^2/2), u = s * z: the
// second-order Taylor expansion of c * exp(u), always >= c/2 (never zero or
// negative, unlike c + normal noise) and skewed right like trained gains.
typedef struct synth_spec {
    const char *name;
    float *dst;
    uint64_t count;
    int is_norm;
    double gain;  // matrices: std * sqrt(fan_in); norms: c
    int32_t fan;  // matrices: fan_in; norms: unused
    double s;     // norms: spread
} synth_spec;

int lg_weights_synthetic(const lg_model_config *cfg, uint64_t seed, lg_weights *w, lg_err *err)
{
    if (lg_weights_alloc(cfg, w, err) != 0)
        return -1;
    tensor_counts c;
    count_tensors(cfg, &c); // cannot fail: lg_weights_alloc succeeded
    int32_t d = cfg->dim, hid = cfg->hidden_dim;

    // Gains measured on stories260K.bin (per-tensor RMS * sqrt(fan_in) for
    // the matrices; mean and spread for the norms), rounded.
    const synth_spec spec[] = {
        {"token_embedding", w->token_embedding, c.emb, 0, 2.5, d, 0},
        {"rms_att", w->rms_att, c.lvec, 1, 1.16, 0, 0.25},
        {"wq", w->wq, c.wq, 0, 1.8, d, 0},
        {"wk", w->wk, c.wkv, 0, 1.6, d, 0},
        {"wv", w->wv, c.wkv, 0, 0.55, d, 0},
        {"wo", w->wo, c.wq, 0, 0.65, d, 0},
        {"rms_ffn", w->rms_ffn, c.lvec, 1, 0.80, 0, 0.24},
        {"w1", w->w1, c.wff, 0, 1.0, d, 0},
        {"w2", w->w2, c.wff, 0, 1.65, hid, 0},
        {"w3", w->w3, c.wff, 0, 1.0, d, 0},
        {"rms_final", w->rms_final, c.fin, 1, 1.72, 0, 0.32},
        {"wcls", w->wcls, c.emb, 0, 2.5, d, 0},
    };
    int nspec = (int)(sizeof spec / sizeof spec[0]);
    for (int t = 0; t < nspec; t++) {
        if (t == nspec - 1 && cfg->shared_classifier)
            break; // wcls is the embedding table
        // Each tensor has its own stream, so a tensor's values depend only on
        // the seed, its index and its own shape (not on the sizes of others).
        uint64_t state = splitmix64_mix(seed ^ (UINT64_C(0xd1b54a32d192ed03) * (uint64_t)(t + 1)));
        const synth_spec *p = &spec[t];
        if (p->is_norm) {
            for (uint64_t i = 0; i < p->count; i++) {
                double u = p->s * normal12(&state);
                p->dst[i] = (float)(p->gain * (1.0 + u + 0.5 * u * u));
            }
        } else {
            double std = p->gain / sqrt((double)p->fan);
            for (uint64_t i = 0; i < p->count; i++)
                p->dst[i] = (float)(std * normal12(&state));
        }
    }
    return 0;
}

// ---- the CLI's model options (lg_config_build) ---------------------------------

// Override keys as lg_config_override takes them, in the order they are
// applied: hardware last, so an explicit --kv-group wins over the default
// that --dim / --n-heads reset it to. A repeated key: the last one counts.
const char *const lg_override_keys[LG_N_OVERRIDES] = {
    "dim",        "hidden-dim", "n-layers", "n-heads",    "n-kv-heads", "vocab-size",
    "seq-len",    "rope-theta", "lanes",    "group-size", "kv-bits",    "kv-group",
    "kv-ports",   "vec-lanes",  "embed-stream", "mul-share", "ext-weights",
};

// The fields a checkpoint header fixes. `weights`: part of the weight shape,
// which no override may change once a checkpoint gave it.
static const struct {
    const char *name;   // field
    const char *option; // the override that sets it, or NULL
    size_t off;
    int weights;
} SHAPE[] = {
    {"dim", "--dim", offsetof(lg_model_config, dim), 1},
    {"hidden_dim", "--hidden-dim", offsetof(lg_model_config, hidden_dim), 1},
    {"n_layers", "--n-layers", offsetof(lg_model_config, n_layers), 1},
    {"n_heads", "--n-heads", offsetof(lg_model_config, n_heads), 1},
    {"n_kv_heads", "--n-kv-heads", offsetof(lg_model_config, n_kv_heads), 1},
    {"vocab_size", "--vocab-size", offsetof(lg_model_config, vocab_size), 1},
    {"seq_len", "--seq-len", offsetof(lg_model_config, seq_len), 0},
    {"shared_classifier", NULL, offsetof(lg_model_config, shared_classifier), 1},
};
#define N_SHAPE ((int)(sizeof SHAPE / sizeof SHAPE[0]))

static int32_t shape_field(const lg_model_config *m, int i)
{
    int32_t v;
    memcpy(&v, (const char *)m + SHAPE[i].off, sizeof v);
    return v;
}

int lg_config_build(const char *config, const char *checkpoint,
                    const char *const overrides[LG_N_OVERRIDES], lg_config *cfg, lg_weights *w,
                    lg_err *err)
{
    if (w)
        memset(w, 0, sizeof *w);
    memset(cfg, 0, sizeof *cfg);
    if (!config && !checkpoint)
        return lg_fail(err, "no model: give a config or a checkpoint");
    lg_config preset = {0};
    if (config && lg_config_preset(config, &preset, err))
        return -1;

    // The checkpoint's shape from its header (and size) first: a shape the
    // preset, the overrides or the limits refuse is refused before its
    // weights are allocated and read (a header can describe terabytes).
    lg_model_config ckpt = {0};
    if (checkpoint) {
        if (lg_checkpoint_load(checkpoint, &ckpt, NULL, err))
            return -1;
        if (config) {
            for (int i = 0; i < N_SHAPE; i++) {
                if (shape_field(&ckpt, i) != shape_field(&preset.m, i))
                    return lg_fail(err, "checkpoint %s has %s = %d but config '%s' has %s = %d",
                                   checkpoint, SHAPE[i].name, shape_field(&ckpt, i), config,
                                   SHAPE[i].name, shape_field(&preset.m, i));
            }
        } else {
            snprintf(preset.name, sizeof preset.name, "checkpoint");
            preset.m = ckpt;
            lg_hw_defaults(&preset.m, &preset.hw);
        }
    }
    *cfg = preset;

    for (int k = 0; k < LG_N_OVERRIDES; k++) {
        if (overrides[k] && lg_config_override(cfg, lg_override_keys[k], overrides[k], err))
            return -1;
    }
    if (checkpoint) {
        for (int i = 0; i < N_SHAPE; i++) {
            if (SHAPE[i].weights && shape_field(&cfg->m, i) != shape_field(&ckpt, i))
                return lg_fail(err, "%s %d disagrees with checkpoint %s, which has %s = %d",
                               SHAPE[i].option ? SHAPE[i].option : SHAPE[i].name,
                               shape_field(&cfg->m, i), checkpoint, SHAPE[i].name,
                               shape_field(&ckpt, i));
        }
    }
    if (lg_config_validate(cfg, err))
        return -1;
    if (checkpoint && w) {
        lg_model_config again;
        if (lg_checkpoint_load(checkpoint, &again, w, err))
            return -1;
        // the same file read twice: refuse one that changed in between
        for (int i = 0; i < N_SHAPE; i++)
            if (shape_field(&again, i) != shape_field(&ckpt, i)) {
                lg_weights_free(w);
                return lg_fail(err, "checkpoint %s changed while it was read", checkpoint);
            }
    }
    return 0;
}
