// Tokenizer tests: llama2.c-identical encoding on the real tok512.bin, round
// trips, byte fallback, load errors, and merge priority on a synthetic
// vocabulary written by the test itself.
#include "test_util.h"

#include <math.h>
#include <sys/stat.h>

#include "llamagen/tokenizer.h"

// ---- helpers ----

// Appends one token record (float score, int32 length, bytes) to buf. The
// length field is written as given (tests pass bogus ones); the bytes
// written are always piece's own.
static size_t put_record(unsigned char *buf, size_t off, const char *piece, int32_t len_field,
                         float score)
{
    size_t n = strlen(piece);
    memcpy(buf + off, &score, 4);
    memcpy(buf + off + 4, &len_field, 4);
    memcpy(buf + off + 8, piece, n);
    return off + 8 + n;
}

typedef struct piece_def {
    const char *str;
    float score;
} piece_def;

// Writes a tokenizer file with the given pieces into dir/name and returns
// its path (static buffer).
static const char *write_tokenizer(const char *dir, const char *name, const piece_def *p, int n)
{
    static char path[512];
    unsigned char buf[8192];
    int32_t max_len = 0;
    for (int i = 0; i < n; i++)
        if ((int32_t)strlen(p[i].str) > max_len)
            max_len = (int32_t)strlen(p[i].str);
    memcpy(buf, &max_len, 4);
    size_t off = 4;
    for (int i = 0; i < n; i++) {
        assert_true(off + 8 + strlen(p[i].str) <= sizeof buf);
        off = put_record(buf, off, p[i].str, (int32_t)strlen(p[i].str), p[i].score);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, buf, off);
    return path;
}

// Reads a whole file into a malloc'd buffer.
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)size + 64); // room for appended garbage
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

// Encodes text (with BOS) and checks that decoding the tokens back, each
// after its predecessor, reproduces text exactly.
static void check_round_trip(const lg_tokenizer *t, const char *text)
{
    lg_err err = {{0}};
    size_t len = strlen(text);
    int *tokens = malloc((len + 3) * sizeof *tokens);
    assert_non_null(tokens);
    int n = -1;
    assert_int_equal(lg_tokenizer_encode(t, text, 1, 0, tokens, &n, &err), 0);
    assert_true(n >= 1 && n <= (int)len + 3);
    assert_int_equal(tokens[0], 1);
    char *out = calloc(len + 1, 1);
    assert_non_null(out);
    size_t pos = 0;
    for (int i = 1; i < n; i++) {
        assert_true(tokens[i] >= 0 && tokens[i] < t->vocab_size);
        const char *piece = lg_tokenizer_decode(t, tokens[i - 1], tokens[i]);
        size_t pl = strlen(piece);
        // <0x00> decodes to "" but never occurs in C strings; anything else
        // must fit in what is left of the input.
        assert_true(pos + pl <= len);
        memcpy(out + pos, piece, pl);
        pos += pl;
    }
    assert_int_equal(pos, len);
    assert_string_equal(out, text);
    free(out);
    free(tokens);
}

// ---- real tokenizer (tok512.bin) ----

static void test_encode_once_upon(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 512, &t, &err), 0);
    int tokens[32], n = 0;
    assert_int_equal(lg_tokenizer_encode(&t, "Once upon a time", 1, 0, tokens, &n, &err), 0);
    const int want[] = {1, 403, 407, 261, 378};
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(tokens[i], want[i]);

    // EOS only appends 2; without BOS the same body follows.
    assert_int_equal(lg_tokenizer_encode(&t, "Once upon a time", 0, 1, tokens, &n, &err), 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(tokens[i], want[i + 1]);
    assert_int_equal(tokens[4], 2);

    // Decoding strips the dummy-prefix space only right after BOS.
    assert_string_equal(lg_tokenizer_decode(&t, 1, 403), "Once");
    assert_string_equal(lg_tokenizer_decode(&t, 403, 407), " upon");
    lg_tokenizer_free(&t);
}

static void test_round_trips(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 512, &t, &err), 0);
    const char *texts[] = {
        "Once upon a time, there was a little girl named Lily.",
        "The quick brown fox jumps over the lazy dog! 1234567890 (ok?)",
        "  leading spaces and trailing  ",
        "tabs\tand\nnewlines\r\n~`|\\{}",
        "café ☃ 日本",
        "emoji 😀 and a lone ñ",
        "x",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_round_trip(&t, texts[i]);
    lg_tokenizer_free(&t);
}

static void test_empty_text(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 512, &t, &err), 0);
    int tokens[4], n = -1;
    // No dummy prefix for empty text.
    assert_int_equal(lg_tokenizer_encode(&t, "", 0, 0, tokens, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(lg_tokenizer_encode(&t, "", 1, 1, tokens, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tokens[0], 1);
    assert_int_equal(tokens[1], 2);
    lg_tokenizer_free(&t);
}

static void test_byte_fallback(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 512, &t, &err), 0);
    int tokens[16], n = 0;
    // U+2603 SNOWMAN = E2 98 83 is not a piece: one <0xXX> token per byte,
    // id = byte + 3, after the " " dummy prefix (410 in tok512).
    assert_int_equal(lg_tokenizer_encode(&t, "☃", 1, 0, tokens, &n, &err), 0);
    const int want[] = {1, 410, 0xE2 + 3, 0x98 + 3, 0x83 + 3};
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(tokens[i], want[i]);
    // é (C3 A9) is a whole piece in tok512 (id 485): no fallback.
    assert_int_equal(lg_tokenizer_encode(&t, "é", 0, 0, tokens, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tokens[1], 485);

    // <0xXX> pieces decode to the raw byte.
    assert_string_equal(lg_tokenizer_decode(&t, 0, 0x41 + 3), "A");
    assert_int_equal((unsigned char)lg_tokenizer_decode(&t, 0, 0xE2 + 3)[0], 0xE2);
    assert_int_equal(strlen(lg_tokenizer_decode(&t, 0, 0xE2 + 3)), 1);
    // Out-of-range ids decode to "" instead of crashing.
    assert_string_equal(lg_tokenizer_decode(&t, 1, 512), "");
    assert_string_equal(lg_tokenizer_decode(&t, 1, -1), "");
    assert_string_equal(lg_tokenizer_decode(&t, 1, 1 << 30), "");
    lg_tokenizer_free(&t);
}

static void test_print_piece(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    lg_tokenizer_print_piece(f, "ab");
    lg_tokenizer_print_piece(f, "\x01");   // lone control byte: skipped
    lg_tokenizer_print_piece(f, "\xE2");   // lone UTF-8 lead byte: skipped
    lg_tokenizer_print_piece(f, "\n");     // whitespace: printed
    lg_tokenizer_print_piece(f, "");       // nothing
    lg_tokenizer_print_piece(f, NULL);     // nothing
    lg_tokenizer_print_piece(f, "\xC3\xA9"); // multi-byte piece: printed
    lg_tokenizer_print_piece(f, "z");
    rewind(f);
    char buf[32] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_int_equal(n, 6);
    assert_string_equal(buf, "ab\n\xC3\xA9z");
}

// ---- load errors ----

static void test_wrong_vocab_size(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 32000, &t, &err), -1);
    assert_non_null(strstr(err.msg, "tok512.bin: tokenizer has 512 tokens, model expects 32000"));
    assert_null(strchr(err.msg, '\n'));
    assert_null(t.vocab);
    assert_int_equal(lg_tokenizer_load(path, 256, &t, &err), -1);
    assert_non_null(strstr(err.msg, "tokenizer has 512 tokens, model expects 256"));
    assert_int_equal(lg_tokenizer_load(path, 0, &t, &err), -1);
}

static void test_truncated_and_trailing(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    size_t n;
    unsigned char *buf = slurp(path, &n);
    const char *dir = tu_tmpdir();
    char p[512];
    lg_tokenizer t;
    lg_err err = {{0}};

    // Cut inside the last piece's bytes.
    snprintf(p, sizeof p, "%s/cut.bin", dir);
    tu_write_file(p, buf, n - 3);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "cut.bin: truncated record for token 511"));

    // Cut inside a record header (score + length).
    tu_write_file(p, buf, 4 + 5);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "truncated record for token 0"));

    // Header only, and shorter than the header.
    tu_write_file(p, buf, 4);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "tokenizer has 0 tokens, model expects 512"));
    tu_write_file(p, buf, 2);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "too short"));

    // Trailing garbage that does not form a record.
    memcpy(buf + n, "xyz", 3);
    snprintf(p, sizeof p, "%s/trail.bin", dir);
    tu_write_file(p, buf, n + 3);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "trail.bin: 3 trailing bytes after the 512 tokens"));

    // One extra complete record: the file simply has more tokens.
    size_t m = put_record(buf, n, "zz", 2, -1.0f);
    tu_write_file(p, buf, m);
    assert_int_equal(lg_tokenizer_load(p, 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "tokenizer has 513 tokens, model expects 512"));

    free(buf);
    tu_rmtree(dir);
}

static void test_bad_lengths(void **state)
{
    const char *dir = tu_tmpdir();
    char p[512];
    unsigned char buf[64];
    int32_t max_len = 4;
    lg_tokenizer t;
    lg_err err = {{0}};
    snprintf(p, sizeof p, "%s/len.bin", dir);

    memcpy(buf, &max_len, 4);
    size_t off = put_record(buf, 4, "ab", 2, 0.0f);
    size_t end = put_record(buf, off, "", -5, 0.0f);
    tu_write_file(p, buf, end);
    assert_int_equal(lg_tokenizer_load(p, 2, &t, &err), -1);
    assert_non_null(strstr(err.msg, "token 1 has negative length -5"));

    end = put_record(buf, off, "", INT32_MAX, 0.0f);
    tu_write_file(p, buf, end);
    assert_int_equal(lg_tokenizer_load(p, 2, &t, &err), -1);
    assert_non_null(strstr(err.msg, "token 1 has implausible length"));

    // A plausible length that runs past the end of the file.
    end = put_record(buf, off, "", 100, 0.0f);
    tu_write_file(p, buf, end);
    assert_int_equal(lg_tokenizer_load(p, 2, &t, &err), -1);
    assert_non_null(strstr(err.msg, "truncated record for token 1"));

    tu_rmtree(dir);
}

static void test_missing_file(void **state)
{
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load("/nonexistent/dir/tok.bin", 512, &t, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/tok.bin"));
    assert_null(t.vocab);
    lg_tokenizer_free(&t); // freeing a failed load is harmless
}

// ---- synthetic vocabulary: merge priority ----

enum { S_UNK, S_BOS, S_EOS, S_SP, S_A, S_B, S_C, S_AB, S_BC, S_ABC, S_SPA, S_AA, S_N };

static const piece_def synth[S_N] = {
    [S_UNK] = {"<unk>", 0},   [S_BOS] = {"\n<s>\n", 0}, [S_EOS] = {"\n</s>\n", 0},
    [S_SP] = {" ", -1},       [S_A] = {"a", -1},        [S_B] = {"b", -1},
    [S_C] = {"c", -1},        [S_AB] = {"ab", 1},       [S_BC] = {"bc", 2},
    [S_ABC] = {"abc", 0},     [S_SPA] = {" a", -5},     [S_AA] = {"aa", 1},
};

static void encode_expect(const lg_tokenizer *t, const char *text, const int *want, int n_want)
{
    int tokens[64], n = -1;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_encode(t, text, 0, 0, tokens, &n, &err), 0);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++)
        assert_int_equal(tokens[i], want[i]);
}

static void test_synthetic_merges(void **state)
{
    const char *dir = tu_tmpdir();
    const char *path = write_tokenizer(dir, "synth.bin", synth, S_N);
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, S_N, &t, &err), 0);

    // " abc": pairs " a"(-5) "ab"(1) "bc"(2) -> bc first (highest score, not
    // leftmost), then "abc"(0) beats " a"(-5); " abc" is no piece.
    encode_expect(&t, "abc", (const int[]){S_SP, S_ABC}, 2);
    // " ab": "ab"(1) beats " a"(-5).
    encode_expect(&t, "ab", (const int[]){S_SP, S_AB}, 2);
    // " a": the only pair merges.
    encode_expect(&t, "a", (const int[]){S_SPA}, 1);
    // " aaa": "aa" ties at positions 1 and 2 -> the leftmost merges
    // (strictly greater keeps the first); then " aa"/"aaa" are no pieces.
    encode_expect(&t, "aaa", (const int[]){S_SP, S_AA, S_A}, 3);
    // " cab": "ab"(1) beats " c"(none) and "ca"(none).
    encode_expect(&t, "cab", (const int[]){S_SP, S_C, S_AB}, 3);

    // No <0xXX> ids exist in this 12-token vocabulary: byte fallback fails
    // with an error instead of emitting out-of-range ids.
    int tokens[16], n;
    assert_int_equal(lg_tokenizer_encode(&t, "z", 0, 0, tokens, &n, &err), -1);
    assert_non_null(strstr(err.msg, "byte fallback"));

    assert_string_equal(lg_tokenizer_decode(&t, S_BOS, S_SPA), "a");
    assert_string_equal(lg_tokenizer_decode(&t, S_A, S_SPA), " a");
    lg_tokenizer_free(&t);
    tu_rmtree(dir);
}

// ---- the merge loop against llama2.c's ----
//
// lg_tokenizer_encode merges through a heap; llama2.c rescans every pair a
// merge. Here is that rescan (with a linear lookup of the first equal piece),
// applied to the pre-merge sequence of texts whose characters each have a
// piece of their own: BOS, the dummy-prefix " ", one id a character.

static int ref_lookup(const lg_tokenizer *t, const char *s)
{
    for (int i = 0; i < t->vocab_size; i++)
        if (strcmp(t->vocab[i], s) == 0)
            return i;
    return -1;
}

static int ref_encode(const lg_tokenizer *t, const char *text, int *tok)
{
    int n = 0;
    char buf[512], c[2] = {0, 0};
    tok[n++] = 1;
    tok[n++] = ref_lookup(t, " ");
    for (const char *p = text; *p; p++) {
        c[0] = *p;
        tok[n++] = ref_lookup(t, c);
        assert_true(tok[n - 1] >= 0);
    }
    for (;;) {
        float best_score = -1e10f;
        int best_id = -1, best_idx = -1;
        for (int i = 0; i < n - 1; i++) {
            snprintf(buf, sizeof buf, "%s%s", t->vocab[tok[i]], t->vocab[tok[i + 1]]);
            int id = ref_lookup(t, buf);
            if (id != -1 && t->scores[id] > best_score) {
                best_score = t->scores[id];
                best_id = id;
                best_idx = i;
            }
        }
        if (best_idx == -1)
            break;
        tok[best_idx] = best_id;
        memmove(tok + best_idx + 1, tok + best_idx + 2, (size_t)(n - best_idx - 2) * sizeof *tok);
        n--;
    }
    return n;
}

// Random texts of the given characters (up to max_len), encoded both ways.
static void check_merges_like_llama2c(const lg_tokenizer *t, const char *alphabet, int trials,
                                      int max_len)
{
    uint64_t rng = 12345;
    size_t na = strlen(alphabet);
    char *text = malloc((size_t)max_len + 1);
    int *got = malloc(((size_t)max_len + 4) * sizeof *got);
    int *want = malloc(((size_t)max_len + 4) * sizeof *want);
    assert_true(text && got && want);
    for (int k = 0; k < trials; k++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int len = 1 + (int)((rng >> 33) % (uint64_t)max_len);
        for (int i = 0; i < len; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            text[i] = alphabet[(rng >> 33) % na];
        }
        text[len] = '\0';
        int n = 0, m = ref_encode(t, text, want);
        lg_err err = {{0}};
        assert_int_equal(lg_tokenizer_encode(t, text, 1, 0, got, &n, &err), 0);
        if (n != m || memcmp(got, want, (size_t)n * sizeof *got) != 0)
            fail_msg("trial %d, '%s': %d tokens, llama2.c's loop %d", k, text, n, m);
    }
    free(text);
    free(got);
    free(want);
}

// Every string of up to three of "ab c" a piece, with three scores only (so
// most choices are ties), a NaN and a -1e10 (neither ever merges).
static void test_merges_like_llama2c_synthetic(void **state)
{
    static char strs[90][4];
    piece_def p[90];
    int n = 0;
    p[n++] = (piece_def){"<unk>", 0};
    p[n++] = (piece_def){"\n<s>\n", 0};
    p[n++] = (piece_def){"\n</s>\n", 0};
    const char *al = "ab c";
    for (int len = 1; len <= 3; len++)
        for (int code = 0; code < (len == 1 ? 4 : len == 2 ? 16 : 64); code++) {
            int v = code;
            for (int i = 0; i < len; i++, v /= 4)
                strs[n][i] = al[v % 4];
            strs[n][len] = '\0';
            float score = (float)((code * 7 + len) % 3);
            if (len == 2 && code == 5)
                score = NAN;
            if (len == 3 && code == 9)
                score = -1e10f;
            p[n] = (piece_def){strs[n], score};
            n++;
        }
    const char *dir = tu_tmpdir();
    const char *path = write_tokenizer(dir, "ties.bin", p, n);
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, n, &t, &err), 0);
    check_merges_like_llama2c(&t, al, 400, 200);
    lg_tokenizer_free(&t);
    tu_rmtree(dir);
}

static void test_merges_like_llama2c_tok512(void **state)
{
    TU_REQUIRE_MODEL(path, "tok512.bin");
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 512, &t, &err), 0);
    check_merges_like_llama2c(&t, "Once upon a time, there was a little girl. She liked to play!",
                              60, 600);
    // a 200 KB prompt: llama2.c's loop takes minutes, the heap well under a
    // second (not timed here; make test's run time would show it)
    size_t big = 200000;
    char *text = malloc(big + 1);
    int *tok = malloc((big + 3) * sizeof *tok), n = 0;
    assert_true(text && tok);
    for (size_t i = 0; i < big; i++)
        text[i] = "Once upon a time there was a dog. "[i % 34];
    text[big] = '\0';
    assert_int_equal(lg_tokenizer_encode(&t, text, 1, 0, tok, &n, &err), 0);
    size_t pos = 0;
    for (int i = 1; i < n; i++) {
        const char *piece = lg_tokenizer_decode(&t, tok[i - 1], tok[i]);
        assert_memory_equal(text + pos, piece, strlen(piece));
        pos += strlen(piece);
    }
    assert_int_equal(pos, big);
    free(text);
    free(tok);
    lg_tokenizer_free(&t);
}

// A vocabulary without a " " piece still gets a dummy prefix: the <0x20>
// byte token, which is what sentencepiece's byte fallback would give.
static void test_synthetic_no_space_piece(void **state)
{
    const char *dir = tu_tmpdir();
    piece_def p[262];
    static char names[256][8];
    p[0] = (piece_def){"<unk>", 0};
    p[1] = (piece_def){"\n<s>\n", 0};
    p[2] = (piece_def){"\n</s>\n", 0};
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof names[b], "<0x%02X>", b);
        p[3 + b] = (piece_def){names[b], 0};
    }
    p[259] = (piece_def){"h", -1};
    p[260] = (piece_def){"i", -1};
    p[261] = (piece_def){"hi", 3};
    // write_tokenizer's 8 KiB buffer holds 262 short records.
    const char *path = write_tokenizer(dir, "bytes.bin", p, 262);
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(path, 262, &t, &err), 0);
    encode_expect(&t, "hi!", (const int[]){' ' + 3, 261, '!' + 3}, 3);
    lg_tokenizer_free(&t);
    tu_rmtree(dir);
}

// Not a regular file: a directory used to fail with a bare "read error",
// and a device such as /dev/zero was read forever (the buffer doubled until
// memory ran out). /dev/zero itself is not tried here: without the fix the
// test would exhaust memory instead of failing (as the FIFO case below
// would block instead of failing; run the tests under a timeout).
static void test_not_regular_file(void **state)
{
    const char *dir = tu_tmpdir();
    // A FIFO nobody writes to: fopen used to block in open() for ever.
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *paths[] = {dir, "/dev/null", fifo};
    for (int i = 0; i < 3; i++) {
        lg_tokenizer t;
        lg_err err = {{0}};
        assert_int_equal(lg_tokenizer_load(paths[i], 512, &t, &err), -1);
        assert_non_null(strstr(err.msg, paths[i]));
        assert_non_null(strstr(err.msg, "not a regular file"));
        assert_null(strchr(err.msg, '\n'));
        assert_null(t.vocab);
    }
    tu_rmtree(dir);
}

// A file larger than any tokenizer of the model's vocabulary could be (a
// checkpoint given as --tokenizer) is refused by its size, before reading.
static void test_too_large(void **state)
{
    const char *dir = tu_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/big.bin", dir);
    // 2 tokens: at most 4 + 2 * (8 + 65536) bytes.
    size_t n = 4 + 2 * (8 + 65536) + 1;
    unsigned char *buf = calloc(1, n);
    assert_non_null(buf);
    tu_write_file(p, buf, n);
    free(buf);
    lg_tokenizer t;
    lg_err err = {{0}};
    assert_int_equal(lg_tokenizer_load(p, 2, &t, &err), -1);
    assert_non_null(strstr(err.msg, "big.bin: 131093 bytes is too large for a tokenizer file"));
    assert_null(t.vocab);
    tu_rmtree(dir);
}

// The header's max_token_length is not trusted in either direction: a
// header of INT32_MAX made every encode allocate 4 GiB for its merge buffer
// (an abort under ASan, a stall or an out-of-memory error otherwise). The
// longest piece present sets it.
static void test_header_max_len_ignored(void **state)
{
    const char *dir = tu_tmpdir();
    const char *path = write_tokenizer(dir, "maxlen.bin", synth, S_N);
    int32_t lies[] = {INT32_MAX, -7, 0, 1, 1 << 20};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fwrite(&lies[i], 4, 1, f), 1);
        assert_int_equal(fclose(f), 0);
        lg_tokenizer t;
        lg_err err = {{0}};
        assert_int_equal(lg_tokenizer_load(path, S_N, &t, &err), 0);
        assert_int_equal(t.max_token_length, strlen("\n</s>\n")); // the longest piece
        encode_expect(&t, "abc", (const int[]){S_SP, S_ABC}, 2);
        lg_tokenizer_free(&t);
    }
    tu_rmtree(dir);
}

// Vocabularies too small to hold BOS (1) or EOS (2): encode used to put
// the id in the token list anyway and then index vocab with it in the merge
// loop, one past the end of a 1-token vocabulary.
static void test_vocab_without_bos_eos(void **state)
{
    const char *dir = tu_tmpdir();
    const piece_def one[] = {{" ", 0}};
    const char *path = write_tokenizer(dir, "one.bin", one, 1);
    lg_tokenizer t;
    lg_err err = {{0}};
    int tokens[8], n = -1;
    assert_int_equal(lg_tokenizer_load(path, 1, &t, &err), 0);
    assert_int_equal(lg_tokenizer_encode(&t, " ", 1, 0, tokens, &n, &err), -1);
    assert_non_null(strstr(err.msg, "BOS id 1 needs vocab_size > 1 but vocab_size is 1"));
    assert_int_equal(n, 0);
    // Without BOS / EOS the same text encodes: " " + " ".
    assert_int_equal(lg_tokenizer_encode(&t, " ", 0, 0, tokens, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tokens[0], 0);
    assert_int_equal(tokens[1], 0);
    lg_tokenizer_free(&t);

    const piece_def two[] = {{" ", 0}, {"<s>", 0}};
    path = write_tokenizer(dir, "two.bin", two, 2);
    assert_int_equal(lg_tokenizer_load(path, 2, &t, &err), 0);
    assert_int_equal(lg_tokenizer_encode(&t, " ", 1, 0, tokens, &n, &err), 0);
    assert_int_equal(lg_tokenizer_encode(&t, " ", 1, 1, tokens, &n, &err), -1);
    assert_non_null(strstr(err.msg, "EOS id 2 needs vocab_size > 2 but vocab_size is 2"));
    lg_tokenizer_free(&t);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_once_upon),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_empty_text),
        cmocka_unit_test(test_byte_fallback),
        cmocka_unit_test(test_print_piece),
        cmocka_unit_test(test_wrong_vocab_size),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_synthetic_merges),
        cmocka_unit_test(test_merges_like_llama2c_synthetic),
        cmocka_unit_test(test_merges_like_llama2c_tok512),
        cmocka_unit_test(test_synthetic_no_space_piece),
        cmocka_unit_test(test_not_regular_file),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_header_max_len_ignored),
        cmocka_unit_test(test_vocab_without_bos_eos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
