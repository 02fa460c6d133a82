/*
 * Tests for src/checkpoint.c: loading the real stories260K.bin, v0/v1 round
 * trips of synthetic weights, every rejection path of the loader (each must
 * return -1, allocate nothing and say what is wrong), and the synthetic
 * weight generator (determinism, scale).
 */
#include "test_util.h"

#include <math.h>
#include <sys/stat.h>

#include "llamagen/checkpoint.h"

// ----------------------------------------------------------------------------
// helpers

// A small shape with GQA (4 query heads share 2 K/V heads), head_size 8.
static lg_model_config small_cfg(int shared)
{
    lg_model_config m = {
        .dim = 32, .hidden_dim = 80, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
        .vocab_size = 50, .seq_len = 16, .rope_theta = 10000, .norm_eps_e9 = 10000,
        .shared_classifier = shared,
    };
    return m;
}

// Path inside the test's scratch directory (static buffer, rotates over 4).
static const char *in_dir(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

// Whole file into a malloc'd buffer.
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    assert_true(sz >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)sz + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

// The loader must fail, leave cfg and w untouched, and produce a one-line
// message that names the file and contains `want`.
static void expect_load_fail(const char *path, const char *want)
{
    lg_model_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    lg_model_config before = cfg;
    lg_weights w;
    memset(&w, 0, sizeof w);
    lg_err err = {{0}};
    int rc = lg_checkpoint_load(path, &cfg, &w, &err);
    if (rc != -1 || !strstr(err.msg, want) || !strstr(err.msg, path))
        print_error("load(%s): rc=%d msg=\"%s\" (wanted \"%s\")\n", path, rc, err.msg, want);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, want));
    assert_null(strchr(err.msg, '\n'));
    assert_null(w.mem);
    assert_memory_equal(&cfg, &before, sizeof cfg);
}

// Writes a bare v0 header followed by `pad` zero bytes.
static void write_v0_header(const char *path, const int32_t h[7], size_t pad)
{
    size_t n = 28 + pad;
    unsigned char *b = calloc(1, n);
    assert_non_null(b);
    memcpy(b, h, 28);
    tu_write_file(path, b, n);
    free(b);
}

// Every tensor of a and b equal (shapes from cfg).
static void assert_weights_equal(const lg_model_config *m, const lg_weights *a, const lg_weights *b)
{
    size_t d = (size_t)m->dim, L = (size_t)m->n_layers, h = (size_t)m->hidden_dim;
    size_t kv = (size_t)lg_kv_dim(m), v = (size_t)m->vocab_size;
    assert_memory_equal(a->token_embedding, b->token_embedding, v * d * 4);
    assert_memory_equal(a->rms_att, b->rms_att, L * d * 4);
    assert_memory_equal(a->wq, b->wq, L * d * d * 4);
    assert_memory_equal(a->wk, b->wk, L * kv * d * 4);
    assert_memory_equal(a->wv, b->wv, L * kv * d * 4);
    assert_memory_equal(a->wo, b->wo, L * d * d * 4);
    assert_memory_equal(a->rms_ffn, b->rms_ffn, L * d * 4);
    assert_memory_equal(a->w1, b->w1, L * h * d * 4);
    assert_memory_equal(a->w2, b->w2, L * d * h * 4);
    assert_memory_equal(a->w3, b->w3, L * h * d * 4);
    assert_memory_equal(a->rms_final, b->rms_final, d * 4);
    assert_memory_equal(a->wcls, b->wcls, v * d * 4);
}

// Float count of all weights (classifier once when shared).
static size_t weight_floats(const lg_model_config *m)
{
    size_t d = (size_t)m->dim, L = (size_t)m->n_layers, h = (size_t)m->hidden_dim;
    size_t kv = (size_t)lg_kv_dim(m), v = (size_t)m->vocab_size;
    size_t n = v * d + 2 * L * d + 2 * L * d * d + 2 * L * kv * d + 3 * L * h * d + d;
    return m->shared_classifier ? n : n + v * d;
}

// Makes a synthetic checkpoint file of the small shape and returns its path.
static const char *make_file(const char *dir, const char *name, int shared, int version)
{
    lg_model_config m = small_cfg(shared);
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 7, &w, &err), 0);
    const char *p = in_dir(dir, name);
    assert_int_equal(lg_checkpoint_save(p, &m, &w, version, &err), 0);
    lg_weights_free(&w);
    return p;
}

// Overwrites 4 bytes of a file at offset with a float.
static void poke_float(const char *path, long offset, float v)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, offset, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, 4, 1, f), 1);
    assert_int_equal(fclose(f), 0);
}

static void truncate_to(const char *path, size_t n)
{
    assert_int_equal(truncate(path, (off_t)n), 0);
}

static void append_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fputc(0x42, f), 0x42);
    assert_int_equal(fclose(f), 0);
}

// ----------------------------------------------------------------------------
// the real stories260K.bin

static void test_load_stories260k(void **state)
{
    TU_REQUIRE_MODEL(path, "stories260K.bin");
    lg_model_config m;
    lg_weights w;
    lg_err err = {{0}};
    int rc = lg_checkpoint_load(path, &m, &w, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(m.dim, 64);
    assert_int_equal(m.hidden_dim, 172);
    assert_int_equal(m.n_layers, 5);
    assert_int_equal(m.n_heads, 8);
    assert_int_equal(m.n_kv_heads, 4);
    assert_int_equal(m.vocab_size, 512);
    assert_int_equal(m.seq_len, 512);
    assert_int_equal(m.shared_classifier, 1);
    assert_int_equal(m.rope_theta, 10000);
    assert_int_equal(m.norm_eps_e9, 10000);
    assert_ptr_equal(w.wcls, w.token_embedding);
    assert_int_equal(w.n_floats, weight_floats(&m));

    // Size rule: header + weights + two (seq_len, head_size/2) RoPE tables.
    size_t n;
    unsigned char *raw = slurp(path, &n);
    assert_int_equal(n, 28 + 4 * (weight_floats(&m) + 2 * 512 * 4));

    // Each tensor is where v0 says it is in the raw file.
    size_t off = 28, d = 64, L = 5, h = 172, kv = 32, v = 512;
    const struct { const float *p; size_t n; } t[] = {
        {w.token_embedding, v * d}, {w.rms_att, L * d}, {w.wq, L * d * d}, {w.wk, L * kv * d},
        {w.wv, L * kv * d},         {w.wo, L * d * d},  {w.rms_ffn, L * d}, {w.w1, L * h * d},
        {w.w2, L * d * h},          {w.w3, L * h * d},  {w.rms_final, d},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_memory_equal(t[i].p, raw + off, t[i].n * 4);
        off += t[i].n * 4;
    }
    // Then the RoPE tables: row 0 is cos 1 / sin 0, row 1 col 0 is cos(1)/sin(1).
    float fr[8], fi[8];
    memcpy(fr, raw + off, sizeof fr);
    memcpy(fi, raw + off + 512 * 4 * 4, sizeof fi);
    assert_true(fr[0] == 1.0f && fi[0] == 0.0f);
    assert_true(fabsf(fr[4] - 0.5403023f) < 1e-6f && fabsf(fi[4] - 0.8414710f) < 1e-6f);

    // Plausible trained values: finite, norm gains positive.
    for (size_t i = 0; i < d; i++) {
        assert_true(isfinite(w.rms_final[i]));
        assert_true(w.rms_final[i] > 0.0f);
    }
    assert_true(isfinite(w.token_embedding[0]) && w.token_embedding[0] != 0.0f);
    assert_true(isfinite(w.w2[L * d * h - 1]));
    free(raw);
    lg_weights_free(&w);
}

// Re-saving the real checkpoint as v0 reproduces the file: identical bytes
// except the RoPE tables, which we compute in double and llama2.c in float32.
static void test_resave_stories260k(void **state)
{
    TU_REQUIRE_MODEL(path, "stories260K.bin");
    lg_model_config m;
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_checkpoint_load(path, &m, &w, &err), 0);
    const char *dir = tu_tmpdir();
    const char *p0 = in_dir(dir, "re_v0.bin");
    const char *p1 = in_dir(dir, "re_v1.bin");
    assert_int_equal(lg_checkpoint_save(p0, &m, &w, 0, &err), 0);
    assert_int_equal(lg_checkpoint_save(p1, &m, &w, 1, &err), 0);

    size_t na, nb;
    unsigned char *a = slurp(path, &na), *b = slurp(p0, &nb);
    assert_int_equal(na, nb);
    size_t freq_off = 28 + 4 * weight_floats(&m), freq_bytes = 2 * 512 * 4 * 4;
    assert_memory_equal(a, b, freq_off);
    float max_diff = 0;
    for (size_t i = freq_off; i < freq_off + freq_bytes; i += 4) {
        float x, y;
        memcpy(&x, a + i, 4);
        memcpy(&y, b + i, 4);
        if (fabsf(x - y) > max_diff)
            max_diff = fabsf(x - y);
    }
    assert_true(max_diff < 1e-4f); // float32 angles up to 511 rad: ~3e-5 error
    free(a);
    free(b);

    // v1 of the real weights loads back equal.
    lg_model_config m1;
    lg_weights w1;
    assert_int_equal(lg_checkpoint_load(p1, &m1, &w1, &err), 0);
    assert_memory_equal(&m, &m1, sizeof m);
    assert_weights_equal(&m, &w, &w1);
    lg_weights_free(&w1);
    lg_weights_free(&w);
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// round trips

static void roundtrip(int version, int shared)
{
    const char *dir = tu_tmpdir();
    lg_model_config m = small_cfg(shared);
    lg_weights w, r;
    lg_err err = {{0}};
    assert_int_equal(lg_weights_synthetic(&m, 1234, &w, &err), 0);
    const char *p = in_dir(dir, "rt.bin");
    int rc = lg_checkpoint_save(p, &m, &w, version, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);

    // Exact size: header + weights (+ the v0 RoPE tables).
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    size_t rope = version == 0 ? 2 * 16 * 4 : 0; // 2 x (seq_len, head_size/2)
    size_t hdr = version == 0 ? 28 : 256;
    assert_int_equal((size_t)st.st_size, hdr + 4 * (weight_floats(&m) + rope));

    lg_model_config m2;
    rc = lg_checkpoint_load(p, &m2, &r, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_memory_equal(&m, &m2, sizeof m);
    assert_int_equal(r.n_floats, w.n_floats);
    assert_weights_equal(&m, &w, &r);
    assert_memory_equal(w.mem, r.mem, w.n_floats * 4);
    if (shared)
        assert_ptr_equal(r.wcls, r.token_embedding);
    else
        assert_ptr_not_equal(r.wcls, r.token_embedding);
    lg_weights_free(&w);
    lg_weights_free(&r);
    tu_rmtree(dir);
}

static void test_roundtrip_v0_shared(void **state) { roundtrip(0, 1); }
static void test_roundtrip_v0_unshared(void **state) { roundtrip(0, 0); }
static void test_roundtrip_v1_shared(void **state) { roundtrip(1, 1); }
static void test_roundtrip_v1_unshared(void **state) { roundtrip(1, 0); }

// The bytes of both headers, as llama2.c writes them.
static void test_header_bytes(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p0 = make_file(dir, "u0.bin", 0, 0);
    const char *p1 = make_file(dir, "s1.bin", 1, 1);
    size_t n;
    unsigned char *b = slurp(p0, &n);
    int32_t h[7];
    memcpy(h, b, sizeof h);
    const int32_t want0[7] = {32, 80, 2, 4, 2, -50, 16}; // unshared: negative vocab
    assert_memory_equal(h, want0, sizeof h);
    free(b);

    b = slurp(p1, &n);
    uint32_t magic;
    int32_t ver;
    memcpy(&magic, b, 4);
    memcpy(&ver, b + 4, 4);
    memcpy(h, b + 8, sizeof h);
    assert_int_equal(magic, 0x616b3432);
    assert_memory_equal(b, "24ka", 4); // "ak42" as a little-endian uint32
    assert_int_equal(ver, 1);
    const int32_t want1[7] = {32, 80, 2, 4, 2, 50, 16};
    assert_memory_equal(h, want1, sizeof h);
    assert_int_equal(b[36], 1); // shared flag
    for (int i = 37; i < 256; i++)
        assert_int_equal(b[i], 0);
    // v1 stores the norms first: rms_att[0] is the first float after the header.
    lg_model_config m = small_cfg(1);
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 7, &w, &err), 0);
    assert_memory_equal(b + 256, w.rms_att, 4 * 2 * 32);
    assert_memory_equal(b + 256 + 4 * 2 * 32, w.rms_ffn, 4 * 2 * 32);
    assert_memory_equal(b + 256 + 4 * 4 * 32, w.rms_final, 4 * 32);
    assert_memory_equal(b + 256 + 4 * 5 * 32, w.token_embedding, 4 * 50 * 32);
    lg_weights_free(&w);
    free(b);
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// size rule

static void test_truncated(void **state)
{
    const char *dir = tu_tmpdir();
    for (int version = 0; version <= 1; version++) {
        for (int shared = 0; shared <= 1; shared++) {
            const char *p = make_file(dir, "t.bin", shared, version);
            size_t full;
            free(slurp(p, &full));
            // One byte short: the tail of the last tensor is missing.
            truncate_to(p, full - 1);
            char want[128];
            snprintf(want, sizeof want, "truncated: header implies %zu bytes, file has %zu bytes",
                     full, full - 1);
            expect_load_fail(p, want);
            // Cut in the middle of the tensors.
            truncate_to(p, full / 2);
            expect_load_fail(p, "truncated");
        }
    }
    // Cut inside the headers.
    const char *p = make_file(dir, "h1.bin", 1, 1);
    truncate_to(p, 100);
    expect_load_fail(p, "truncated: ak42 header needs 256 bytes");
    p = make_file(dir, "h0.bin", 1, 0);
    truncate_to(p, 20);
    expect_load_fail(p, "truncated: v0 header needs 28 bytes");
    truncate_to(p, 2);
    expect_load_fail(p, "truncated");
    truncate_to(p, 0);
    expect_load_fail(p, "truncated");
    tu_rmtree(dir);
}

static void test_trailing_garbage(void **state)
{
    const char *dir = tu_tmpdir();
    for (int version = 0; version <= 1; version++) {
        const char *p = make_file(dir, "g.bin", 0, version);
        size_t full;
        free(slurp(p, &full));
        append_bytes(p, 3);
        char want[128];
        snprintf(want, sizeof want,
                 "trailing garbage: header implies %zu bytes, file has %zu bytes", full, full + 3);
        expect_load_fail(p, want);
    }
    tu_rmtree(dir);
}

// A shared-classifier v0 file that still holds a classifier (as if the
// vocab sign were flipped) is too long by exactly one table.
static void test_wrong_shared_sign(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p = make_file(dir, "s.bin", 0, 0);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    int32_t vocab = 50; // was -50
    assert_int_equal(fseek(f, 20, SEEK_SET), 0);
    assert_int_equal(fwrite(&vocab, 4, 1, f), 1);
    fclose(f);
    expect_load_fail(p, "trailing garbage");
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// bad headers

static void test_bad_magic(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p = make_file(dir, "m.bin", 1, 1);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fwrite("GGUF", 4, 1, f), 1);
    fclose(f);
    expect_load_fail(p, "bad magic 0x46554747");
    tu_rmtree(dir);
}

static void test_bad_version(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p = make_file(dir, "v.bin", 1, 1);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    int32_t v = 2; // Q8_0 export: not float32
    assert_int_equal(fseek(f, 4, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, 4, 1, f), 1);
    fclose(f);
    expect_load_fail(p, "unsupported ak42 version 2");

    // A shared flag that is not 0/1, and a negative v1 vocab.
    p = make_file(dir, "f.bin", 1, 1);
    f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 36, SEEK_SET), 0);
    assert_int_equal(fputc(2, f), 2);
    fclose(f);
    expect_load_fail(p, "shared_classifier byte = 2");

    p = make_file(dir, "n.bin", 1, 1);
    f = fopen(p, "r+b");
    assert_non_null(f);
    int32_t vocab = -50;
    assert_int_equal(fseek(f, 28, SEEK_SET), 0);
    assert_int_equal(fwrite(&vocab, 4, 1, f), 1);
    fclose(f);
    expect_load_fail(p, "vocab_size = -50");
    tu_rmtree(dir);
}

static void test_bad_fields(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p = in_dir(dir, "h.bin");
    struct {
        int32_t h[7];
        const char *want;
    } cases[] = {
        {{0, 80, 2, 4, 2, 50, 16}, "dim = 0 (must be positive)"},
        {{32, 80, -1, 4, 2, 50, 16}, "n_layers = -1 (must be positive)"},
        {{32, 0, 2, 4, 2, 50, 16}, "hidden_dim = 0"},
        {{32, 80, 2, 4, 0, 50, 16}, "n_kv_heads = 0"},
        {{32, 80, 2, 4, 2, 0, 16}, "vocab_size = 0"},
        {{32, 80, 2, 4, 2, 50, -16}, "seq_len = -16"},
        {{32, 80, 2, 4, 2, INT32_MIN, 16}, "vocab_size = -2147483648 is absurd"},
        {{32, 80, 1 << 30, 4, 2, 50, 16}, "n_layers = 1073741824 is absurd"},
        {{36, 80, 2, 8, 2, 50, 16}, "dim 36 is not divisible by n_heads 8"},
        {{36, 80, 2, 6, 4, 50, 16}, "n_heads 6 is not a multiple of n_kv_heads 4"},
        {{36, 80, 2, 12, 4, 50, 16}, "head_size 3 (dim/n_heads) is odd"},
        // 2^24 in every field: L * hidden * dim = 2^72 floats.
        {{1 << 24, 1 << 24, 1 << 24, 16, 16, 1 << 24, 1 << 24}, "overflow"},
        // No overflow, but 2^44 bytes of weights.
        {{1 << 16, 1 << 16, 1 << 10, 16, 16, 1000, 16}, "over the 2^40-byte limit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_v0_header(p, cases[i].h, 4000);
        expect_load_fail(p, cases[i].want);
    }
    tu_rmtree(dir);
}

// A vocabulary of one token is a well-formed shape (the allocator and the
// saver accept it) but cannot hold BOS, id 1, which run and eval feed
// first: such a file used to load, and eval then read the embedding table
// out of bounds. Both formats, shared and unshared classifier.
static void test_vocab_too_small(void **state)
{
    const char *dir = tu_tmpdir();
    for (int version = 0; version <= 1; version++) {
        for (int shared = 0; shared <= 1; shared++) {
            lg_model_config m = small_cfg(shared);
            m.vocab_size = 1;
            lg_weights w;
            lg_err err;
            assert_int_equal(lg_weights_synthetic(&m, 3, &w, &err), 0);
            const char *p = in_dir(dir, "v1.bin");
            assert_int_equal(lg_checkpoint_save(p, &m, &w, version, &err), 0);
            lg_weights_free(&w);
            expect_load_fail(p, "vocab_size = 1 cannot hold BOS (id 1)");
        }
    }
    // Two tokens hold BOS: still loads.
    lg_model_config m = small_cfg(1);
    m.vocab_size = 2;
    lg_weights w, back;
    lg_model_config got;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 3, &w, &err), 0);
    const char *p = in_dir(dir, "v2.bin");
    assert_int_equal(lg_checkpoint_save(p, &m, &w, 0, &err), 0);
    assert_int_equal(lg_checkpoint_load(p, &got, &back, &err), 0);
    assert_int_equal(got.vocab_size, 2);
    lg_weights_free(&back);
    lg_weights_free(&w);
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// non-finite weights

static void test_nan_weight(void **state)
{
    const char *dir = tu_tmpdir();
    // v0: wq starts after the header, the embedding and rms_att.
    const char *p = make_file(dir, "nan.bin", 1, 0);
    size_t wq_off = 28 + 4 * (50 * 32 + 2 * 32);
    poke_float(p, (long)(wq_off + 4 * 123), NAN);
    expect_load_fail(p, "non-finite weight wq[123] = NaN");
    // v1 unshared: the classifier is the last tensor.
    p = make_file(dir, "nan1.bin", 0, 1);
    size_t n;
    free(slurp(p, &n));
    poke_float(p, (long)(n - 4), -NAN);
    expect_load_fail(p, "non-finite weight wcls[1599] = NaN");
    tu_rmtree(dir);
}

static void test_inf_weight(void **state)
{
    const char *dir = tu_tmpdir();
    // v1: rms_final follows rms_att and rms_ffn (2 x L x dim floats).
    const char *p = make_file(dir, "inf.bin", 1, 1);
    poke_float(p, 256 + 4 * (4 * 32 + 5), INFINITY);
    expect_load_fail(p, "non-finite weight rms_final[5] = +Inf");
    p = make_file(dir, "inf0.bin", 1, 0);
    poke_float(p, 28, -INFINITY);
    expect_load_fail(p, "non-finite weight token_embedding[0] = -Inf");
    tu_rmtree(dir);
}

// The v0 RoPE tables are skipped, so garbage there is harmless.
static void test_rope_tables_ignored(void **state)
{
    const char *dir = tu_tmpdir();
    const char *p = make_file(dir, "rope.bin", 1, 0);
    size_t n;
    free(slurp(p, &n));
    poke_float(p, (long)(n - 4), NAN); // last float of freq_cis_imag
    lg_model_config m;
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_checkpoint_load(p, &m, &w, &err), 0);
    lg_weights_free(&w);
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// files that are not there or not files

static void test_missing_file(void **state)
{
    const char *dir = tu_tmpdir();
    expect_load_fail(in_dir(dir, "nope.bin"), "cannot open: No such file or directory");
    expect_load_fail(dir, "not a regular file");
    // A FIFO nobody writes to: fopen used to block in open() for ever (a
    // hang instead of this failure without the fix).
    const char *fifo = in_dir(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_load_fail(fifo, "not a regular file");
    expect_load_fail("/dev/null", "not a regular file");
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// saving errors

static void test_save_errors(void **state)
{
    const char *dir = tu_tmpdir();
    lg_model_config m = small_cfg(1);
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 3, &w, &err), 0);
    const char *p = in_dir(dir, "s.bin");
    assert_int_equal(lg_checkpoint_save(p, &m, &w, 2, &err), -1);
    assert_non_null(strstr(err.msg, "version 2"));
    assert_int_equal(lg_checkpoint_save(in_dir(dir, "no/such/dir.bin"), &m, &w, 0, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create"));
    w.w2[7] = NAN;
    assert_int_equal(lg_checkpoint_save(p, &m, &w, 1, &err), -1);
    assert_non_null(strstr(err.msg, "w2[7]"));
    assert_int_not_equal(access(p, F_OK), 0); // nothing written
    lg_weights_free(&w);
    lg_weights empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(lg_checkpoint_save(p, &m, &empty, 0, &err), -1);
    tu_rmtree(dir);
}

// ----------------------------------------------------------------------------
// allocation

static void test_alloc_and_free(void **state)
{
    lg_model_config m = small_cfg(1);
    lg_weights w;
    lg_err err = {{0}};
    assert_int_equal(lg_weights_alloc(&m, &w, &err), 0);
    assert_ptr_equal(w.wcls, w.token_embedding);
    assert_ptr_equal(w.mem, w.token_embedding);
    assert_int_equal(w.n_floats, weight_floats(&m));
    for (size_t i = 0; i < w.n_floats; i++)
        assert_true(w.mem[i] == 0.0f);
    // The last tensor ends exactly at the end of the block.
    assert_ptr_equal(w.rms_final + m.dim, w.mem + w.n_floats);
    lg_weights_free(&w);
    assert_null(w.mem);
    lg_weights_free(&w); // idempotent

    m = small_cfg(0);
    assert_int_equal(lg_weights_alloc(&m, &w, &err), 0);
    assert_ptr_not_equal(w.wcls, w.token_embedding);
    assert_ptr_equal(w.wcls + (size_t)m.vocab_size * m.dim, w.mem + w.n_floats);
    assert_int_equal(w.n_floats, weight_floats(&m));
    lg_weights_free(&w);

    lg_weights z;
    memset(&z, 0, sizeof z);
    lg_weights_free(&z); // zeroed struct is fine
    lg_weights_free(NULL);

    m.n_heads = 5;
    assert_int_equal(lg_weights_alloc(&m, &w, &err), -1);
    assert_non_null(strstr(err.msg, "not divisible by n_heads 5"));
    assert_null(w.mem);
}

// ----------------------------------------------------------------------------
// synthetic weights

// FNV-1a over bytes: pins the exact draw documented in docs/synthetic-weights.md.
static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void test_synthetic_deterministic(void **state)
{
    for (int shared = 0; shared <= 1; shared++) {
        lg_model_config m = small_cfg(shared);
        lg_weights a, b, c;
        lg_err err;
        assert_int_equal(lg_weights_synthetic(&m, 42, &a, &err), 0);
        assert_int_equal(lg_weights_synthetic(&m, 42, &b, &err), 0);
        assert_int_equal(lg_weights_synthetic(&m, 43, &c, &err), 0);
        assert_memory_equal(a.mem, b.mem, a.n_floats * 4);
        // A different seed changes every tensor.
        const float *ta[] = {a.token_embedding, a.rms_att, a.wq, a.wk, a.wv, a.wo,
                             a.rms_ffn, a.w1, a.w2, a.w3, a.rms_final, a.wcls};
        const float *tc[] = {c.token_embedding, c.rms_att, c.wq, c.wk, c.wv, c.wo,
                             c.rms_ffn, c.w1, c.w2, c.w3, c.rms_final, c.wcls};
        for (int i = 0; i < 12; i++)
            assert_memory_not_equal(ta[i], tc[i], 4 * 32);
        // The unshared classifier is its own draw, not a copy of the embedding.
        if (!shared)
            assert_memory_not_equal(a.wcls, a.token_embedding, 4 * 32);
        lg_weights_free(&a);
        lg_weights_free(&b);
        lg_weights_free(&c);
    }
    // Each tensor has its own stream: adding a layer keeps the first layers.
    lg_model_config m2 = small_cfg(1), m3 = small_cfg(1);
    m3.n_layers = 3;
    lg_weights a, b;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m2, 5, &a, &err), 0);
    assert_int_equal(lg_weights_synthetic(&m3, 5, &b, &err), 0);
    assert_memory_equal(a.wq, b.wq, 4 * 2 * 32 * 32);
    assert_memory_equal(a.w2, b.w2, 4 * 2 * 32 * 80);
    assert_memory_equal(a.token_embedding, b.token_embedding, 4 * 50 * 32);
    lg_weights_free(&a);
    lg_weights_free(&b);
}

// Golden hash: the draw uses integer arithmetic and correctly rounded IEEE
// operations only, so these bytes are the same on every host. A change here
// means docs/synthetic-weights.md (and any pinned downstream output) changes.
static void test_synthetic_golden(void **state)
{
    lg_model_config m = small_cfg(0);
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 42, &w, &err), 0);
    uint64_t h = fnv1a(w.mem, w.n_floats * 4);
    if (h != UINT64_C(0xaeba8666ab11a9c9))
        print_message("synthetic fnv1a = 0x%016llx\n", (unsigned long long)h);
    assert_true(h == UINT64_C(0xaeba8666ab11a9c9));
    lg_weights_free(&w);
}

// Per-tensor RMS matches the documented std (gain / sqrt(fan_in)) and the
// norm gains have the documented mean c * (1 + s^2 / 2), all positive.
static void test_synthetic_scale(void **state)
{
    lg_model_config m = {
        .dim = 128, .hidden_dim = 344, .n_layers = 2, .n_heads = 4, .n_kv_heads = 4,
        .vocab_size = 256, .seq_len = 32, .rope_theta = 10000, .norm_eps_e9 = 10000,
        .shared_classifier = 0,
    };
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 99, &w, &err), 0);
    size_t d = 128, L = 2, h = 344, v = 256;
    const struct { const char *name; const float *p; size_t n; double std; } mats[] = {
        {"token_embedding", w.token_embedding, v * d, 2.5 / sqrt(128.0)},
        {"wq", w.wq, L * d * d, 1.8 / sqrt(128.0)},
        {"wk", w.wk, L * d * d, 1.6 / sqrt(128.0)},
        {"wv", w.wv, L * d * d, 0.55 / sqrt(128.0)},
        {"wo", w.wo, L * d * d, 0.65 / sqrt(128.0)},
        {"w1", w.w1, L * h * d, 1.0 / sqrt(128.0)},
        {"w2", w.w2, L * d * h, 1.65 / sqrt(344.0)},
        {"w3", w.w3, L * h * d, 1.0 / sqrt(128.0)},
        {"wcls", w.wcls, v * d, 2.5 / sqrt(128.0)},
    };
    for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
        double s2 = 0, s = 0;
        for (size_t j = 0; j < mats[i].n; j++) {
            s += mats[i].p[j];
            s2 += (double)mats[i].p[j] * mats[i].p[j];
        }
        double rms = sqrt(s2 / (double)mats[i].n), mean = s / (double)mats[i].n;
        if (fabs(rms / mats[i].std - 1) > 0.05 || fabs(mean) > 0.05 * mats[i].std)
            print_error("%s: rms %g (want %g) mean %g\n", mats[i].name, rms, mats[i].std, mean);
        assert_true(fabs(rms / mats[i].std - 1) < 0.05);
        assert_true(fabs(mean) < 0.05 * mats[i].std);
    }
    const struct { const char *name; const float *p; size_t n; double c, s; } norms[] = {
        {"rms_att", w.rms_att, L * d, 1.16, 0.25},
        {"rms_ffn", w.rms_ffn, L * d, 0.80, 0.24},
        {"rms_final", w.rms_final, d, 1.72, 0.32},
    };
    for (size_t i = 0; i < 3; i++) {
        double s = 0;
        for (size_t j = 0; j < norms[i].n; j++) {
            assert_true(norms[i].p[j] >= 0.5 * norms[i].c * 0.999); // min of 1+u+u^2/2 is 1/2
            s += norms[i].p[j];
        }
        double mean = s / (double)norms[i].n, want = norms[i].c * (1 + norms[i].s * norms[i].s / 2);
        if (fabs(mean / want - 1) > 0.06)
            print_error("%s: mean %g (want %g)\n", norms[i].name, mean, want);
        assert_true(fabs(mean / want - 1) < 0.06);
    }
    lg_weights_free(&w);
}

static void test_synthetic_bad_shape(void **state)
{
    lg_model_config m = small_cfg(1);
    m.n_kv_heads = 3;
    lg_weights w;
    lg_err err;
    assert_int_equal(lg_weights_synthetic(&m, 1, &w, &err), -1);
    assert_non_null(strstr(err.msg, "n_kv_heads 3"));
    assert_null(w.mem);
}

// lg_config_build, the CLI's model options (llamagen and mkflash share it):
// a preset alone with overrides, hardware last; a checkpoint alone (its
// header, its seq_len overridable, its shape not); a checkpoint with a
// preset of another shape refused; no model at all refused.
static void test_config_build(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    const char *ck = make_file(dir, "cb.bin", 1, 1);
    const char *ov[LG_N_OVERRIDES] = {0};
    int k_seq = -1, k_dim = -1, k_lanes = -1;
    for (int k = 0; k < LG_N_OVERRIDES; k++) {
        k_seq = strcmp(lg_override_keys[k], "seq-len") ? k_seq : k;
        k_dim = strcmp(lg_override_keys[k], "dim") ? k_dim : k;
        k_lanes = strcmp(lg_override_keys[k], "lanes") ? k_lanes : k;
    }
    assert_true(k_seq >= 0 && k_dim >= 0 && k_lanes > k_dim);
    lg_config cfg;
    lg_weights w;
    lg_err err = {{0}};

    ov[k_seq] = "256";
    ov[k_lanes] = "2";
    assert_int_equal(lg_config_build("260k", NULL, ov, &cfg, &w, &err), 0);
    assert_int_equal(cfg.m.seq_len, 256);
    assert_int_equal(cfg.hw.lanes, 2);
    assert_int_equal(cfg.m.dim, 64);
    assert_null(w.mem);
    lg_weights_free(&w);

    ov[k_lanes] = NULL;
    ov[k_seq] = "8";
    assert_int_equal(lg_config_build(NULL, ck, ov, &cfg, &w, &err), 0);
    assert_int_equal(cfg.m.seq_len, 8);
    assert_int_equal(cfg.m.dim, 32);
    assert_non_null(w.mem);
    lg_weights_free(&w);

    ov[k_dim] = "64";
    assert_int_equal(lg_config_build(NULL, ck, ov, &cfg, &w, &err), -1);
    assert_non_null(strstr(err.msg, "--dim 64 disagrees with checkpoint"));
    lg_weights_free(&w);
    ov[k_dim] = NULL;

    assert_int_equal(lg_config_build("260k", ck, ov, &cfg, &w, &err), -1);
    assert_non_null(strstr(err.msg, "has dim = 32 but config '260k' has dim = 64"));
    lg_weights_free(&w);

    assert_int_equal(lg_config_build(NULL, NULL, ov, &cfg, &w, &err), -1);
    assert_non_null(strstr(err.msg, "no model"));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_stories260k),
        cmocka_unit_test(test_resave_stories260k),
        cmocka_unit_test(test_roundtrip_v0_shared),
        cmocka_unit_test(test_roundtrip_v0_unshared),
        cmocka_unit_test(test_roundtrip_v1_shared),
        cmocka_unit_test(test_roundtrip_v1_unshared),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_wrong_shared_sign),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_vocab_too_small),
        cmocka_unit_test(test_nan_weight),
        cmocka_unit_test(test_inf_weight),
        cmocka_unit_test(test_rope_tables_ignored),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_alloc_and_free),
        cmocka_unit_test(test_synthetic_deterministic),
        cmocka_unit_test(test_synthetic_golden),
        cmocka_unit_test(test_synthetic_scale),
        cmocka_unit_test(test_synthetic_bad_shape),
        cmocka_unit_test(test_config_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
