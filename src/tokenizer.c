// llama2.c tokenizer.bin loading, BPE encoding and piece decoding
// (see include/llamagen/tokenizer.h). Behaviour follows llama2.c run.c's
// Tokenizer: same dummy prefix, same UTF-8 grouping, same byte fallback and
// the same greedy "best score, first pair on ties" merge loop, so token ids
// agree with llama2.c for any input.
#include "llamagen/tokenizer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Special ids fixed by the llama2.c / sentencepiece vocabularies.
#define TOK_BOS 1
#define TOK_EOS 2
#define TOK_BYTE0 3 // <0x00>; raw byte b is id b + 3

// A piece longer than this is certainly a corrupt length field: the longest
// piece in any LLaMA vocabulary is well under 1 KiB.
#define MAX_PIECE_LEN (1 << 16)

// ---- file reading ----

// Reads the whole file into a malloc'd buffer (*data, *size). Tokenizer
// files are small (32k-128k pieces, at most a few MB), and having every
// byte in memory lets the loader count records and detect trailing bytes
// before it allocates anything. max_bytes is the largest size a valid file
// could have: anything bigger is refused before it is read.
static int read_whole_file(const char *path, size_t max_bytes, unsigned char **data,
                           size_t *size, lg_err *err)
{
    // Only regular files, as the checkpoint loader: reading a directory
    // failed with a bare "read error", a character device such as /dev/zero
    // never ends (the loop below grew the buffer until memory ran out) and a
    // FIFO blocked the open. The size bound keeps a wrong but huge file (a
    // checkpoint given as the tokenizer) from being read whole just to be
    // rejected.
    uint64_t bytes;
    FILE *f = lg_open_regular(path, "tokenizer.bin", &bytes, err);
    if (!f)
        return -1;
    if (bytes > (uint64_t)max_bytes) {
        fclose(f);
        return lg_fail(err,
                       "%s: %llu bytes is too large for a tokenizer file (at most %zu for the "
                       "model's vocabulary)",
                       path, (unsigned long long)bytes, max_bytes);
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return lg_fail(err, "%s: out of memory reading tokenizer", path);
    }
    for (;;) {
        if (n == cap) {
            // The file grew after fstat: stop at the bound all the same.
            if (cap > max_bytes) {
                free(buf);
                fclose(f);
                return lg_fail(err, "%s: too large for a tokenizer file (at most %zu bytes)",
                               path, max_bytes);
            }
            unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                fclose(f);
                return lg_fail(err, "%s: out of memory reading tokenizer", path);
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return lg_fail(err, "%s: read error: %s", path, e ? strerror(e) : "I/O error");
    }
    if (n > max_bytes) {
        free(buf);
        return lg_fail(err, "%s: too large for a tokenizer file (at most %zu bytes)", path,
                       max_bytes);
    }
    *data = buf;
    *size = n;
    return 0;
}

// Little-endian-agnostic field reads: the file is in host byte order, as
// llama2.c writes it with fwrite.
static int32_t get_i32(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static float get_f32(const unsigned char *p)
{
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

// Walks the token records from offset 4 to the end of the buffer.
// Returns the number of complete, valid records found before the first bad
// one (or the end). *clean is 1 when the walk reached exactly the end of the
// buffer; otherwise *bad_off / *bad_len describe the record that stopped it.
typedef struct record_walk {
    long count;      // complete records
    int clean;       // 1: ended exactly at end of file
    size_t bad_off;  // byte offset of the first incomplete/invalid record
    int32_t bad_len; // its length field (0 when even the 8-byte head is cut)
    int head_cut;    // 1: fewer than 8 bytes left for score + length
} record_walk;

static record_walk walk_records(const unsigned char *data, size_t size)
{
    record_walk r = {0, 1, 0, 0, 0};
    size_t off = 4;
    while (off < size) {
        if (size - off < 8) {
            r.clean = 0, r.bad_off = off, r.head_cut = 1;
            return r;
        }
        int32_t len = get_i32(data + off + 4);
        if (len < 0 || len > MAX_PIECE_LEN || (size_t)len > size - off - 8) {
            r.clean = 0, r.bad_off = off, r.bad_len = len;
            return r;
        }
        off += 8 + (size_t)len;
        r.count++;
    }
    return r;
}

// ---- load / free ----

static int compare_tokens(const void *a, const void *b)
{
    const lg_token_index *x = a, *y = b;
    int c = strcmp(x->str, y->str);
    if (c != 0)
        return c;
    // Duplicate pieces (not present in real vocabularies) resolve to the
    // lowest id, so lookups are deterministic regardless of qsort.
    return (x->id > y->id) - (x->id < y->id);
}

void lg_tokenizer_free(lg_tokenizer *t)
{
    if (!t)
        return;
    if (t->vocab) {
        for (int i = 0; i < t->vocab_size; i++)
            free(t->vocab[i]);
    }
    free(t->vocab);
    free(t->scores);
    free(t->sorted);
    memset(t, 0, sizeof *t);
}

int lg_tokenizer_load(const char *path, int vocab_size, lg_tokenizer *t, lg_err *err)
{
    memset(t, 0, sizeof *t);
    if (vocab_size <= 0)
        return lg_fail(err, "%s: model vocab_size %d is not positive", path, vocab_size);

    unsigned char *data = NULL;
    size_t size = 0;
    // The largest valid file: the header, then vocab_size records of 8 bytes
    // and at most MAX_PIECE_LEN piece bytes each (computed in 64 bits).
    uint64_t max_file = 4 + (uint64_t)vocab_size * (8 + MAX_PIECE_LEN);
    if (max_file > SIZE_MAX)
        max_file = SIZE_MAX;
    if (read_whole_file(path, (size_t)max_file, &data, &size, err) != 0)
        return -1;
    if (size < 4) {
        free(data);
        return lg_fail(err, "%s: %zu bytes is too short for the tokenizer header", path, size);
    }

    // Validate the whole layout before allocating: the count of records must
    // equal the model's vocab_size and nothing may follow the last one.
    record_walk r = walk_records(data, size);
    if (r.clean && r.count != vocab_size) {
        free(data);
        return lg_fail(err, "%s: tokenizer has %ld tokens, model expects %d", path, r.count,
                       vocab_size);
    }
    if (!r.clean && r.count < vocab_size) {
        long idx = r.count;
        free(data);
        if (r.head_cut)
            return lg_fail(err, "%s: truncated record for token %ld at byte %zu", path, idx,
                           r.bad_off);
        if (r.bad_len < 0)
            return lg_fail(err, "%s: token %ld has negative length %d", path, idx,
                           (int)r.bad_len);
        if (r.bad_len > MAX_PIECE_LEN)
            return lg_fail(err, "%s: token %ld has implausible length %d", path, idx,
                           (int)r.bad_len);
        return lg_fail(err, "%s: truncated record for token %ld (length %d, %zu bytes left)",
                       path, idx, (int)r.bad_len, size - r.bad_off - 8);
    }
    if (!r.clean) {
        // vocab_size good records, then bytes that do not form a record.
        // Find where the vocab_size-th record ends to report the excess.
        size_t off = 4;
        for (int i = 0; i < vocab_size; i++)
            off += 8 + (size_t)get_i32(data + off + 4);
        free(data);
        return lg_fail(err, "%s: %zu trailing bytes after the %d tokens", path, size - off,
                       vocab_size);
    }

    // The layout is valid: copy it out.
    // max_token_length bounds the merge buffer in encode. llama2.c trusts the
    // header; here it is the longest piece actually present (at most
    // MAX_PIECE_LEN), and the header's int32 is ignored: a header that is
    // too small would overflow the buffer, and one that is too large
    // (INT32_MAX) made every encode allocate 4 GiB, which failed or stalled.
    t->vocab_size = vocab_size;
    t->max_token_length = 0;
    t->vocab = lg_calloc((size_t)vocab_size, sizeof *t->vocab, err);       // (vocab_size)
    t->scores = lg_calloc((size_t)vocab_size, sizeof *t->scores, err);     // (vocab_size)
    t->sorted = lg_calloc((size_t)vocab_size, sizeof *t->sorted, err);     // (vocab_size)
    if (!t->vocab || !t->scores || !t->sorted)
        goto fail;
    size_t off = 4;
    for (int i = 0; i < vocab_size; i++) {
        size_t len = (size_t)get_i32(data + off + 4);
        t->scores[i] = get_f32(data + off);
        t->vocab[i] = lg_calloc(len + 1, 1, err); // piece bytes + NUL
        if (!t->vocab[i])
            goto fail;
        memcpy(t->vocab[i], data + off + 8, len);
        if (len > t->max_token_length)
            t->max_token_length = (uint32_t)len;
        off += 8 + len;
    }
    free(data);
    data = NULL;

    // Raw-byte pieces: byte_pieces[2*b] = b, byte_pieces[2*b+1] = NUL, so
    // byte_pieces + 2*b is the one-byte string for byte b.
    for (int b = 0; b < 256; b++) {
        t->byte_pieces[b * 2] = (unsigned char)b;
        t->byte_pieces[b * 2 + 1] = '\0';
    }

    // llama2.c sorts lazily on first encode; sorting here keeps encode const.
    for (int i = 0; i < vocab_size; i++) {
        t->sorted[i].str = t->vocab[i];
        t->sorted[i].id = i;
    }
    qsort(t->sorted, (size_t)vocab_size, sizeof *t->sorted, compare_tokens);
    return 0;

fail:
    free(data);
    lg_fail_ctx(err, "%s", path);
    lg_tokenizer_free(t);
    return -1;
}

// ---- encode ----

// Id of the piece equal to str, or -1. A lower-bound binary search over the
// sorted index, so with duplicate pieces the lowest id wins.
static int str_lookup(const char *str, const lg_tokenizer *t)
{
    size_t lo = 0, hi = (size_t)t->vocab_size;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->sorted[mid].str, str) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < (size_t)t->vocab_size && strcmp(t->sorted[lo].str, str) == 0)
        return t->sorted[lo].id;
    return -1;
}

// ---- the merge loop ----------------------------------------------------------
//
// llama2.c rescans every adjacent pair for each merge: O(n^2) lookups, minutes
// for a 100 KB prompt. The same merges in the same order, O(n log n): the
// tokens as a linked list, every candidate pair (a piece its concatenation
// looks up to) in a heap ordered by score, then by the left token's place
// in the text (a merged token keeps its left half's place, so that order is
// the list's order: leftmost on ties, as the rescan's strict '>' picks).
// A pair goes stale when either token is merged away or changes (its
// version); stale pairs are skipped as they come up.

typedef struct bpe_pair {
    float score;
    int id;          // the merged piece
    int left, right; // list nodes (their places in the text)
    uint32_t lv, rv; // their versions when the pair was made
} bpe_pair;

typedef struct bpe_state {
    int *next, *prev, *tok;
    uint32_t *ver;
    bpe_pair *heap;
    size_t len;
} bpe_state;

static int bpe_before(const bpe_pair *a, const bpe_pair *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void bpe_push(bpe_state *st, bpe_pair p)
{
    size_t i = st->len++;
    while (i > 0 && bpe_before(&p, &st->heap[(i - 1) / 2])) {
        st->heap[i] = st->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    st->heap[i] = p;
}

static bpe_pair bpe_pop(bpe_state *st)
{
    bpe_pair top = st->heap[0], last = st->heap[--st->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= st->len)
            break;
        if (c + 1 < st->len && bpe_before(&st->heap[c + 1], &st->heap[c]))
            c++;
        if (!bpe_before(&st->heap[c], &last))
            break;
        st->heap[i] = st->heap[c];
        i = c;
    }
    if (st->len > 0)
        st->heap[i] = last;
    return top;
}

// The pair (l, r) into the heap when its concatenation is a piece that can
// win (score above -1e10; a NaN never does).
static void bpe_offer(const lg_tokenizer *t, bpe_state *st, int l, int r, char *buf)
{
    const char *a = t->vocab[st->tok[l]], *b = t->vocab[st->tok[r]];
    size_t la = strlen(a), lb = strlen(b);
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb + 1);
    int id = str_lookup(buf, t);
    if (id != -1 && t->scores[id] > -1e10f)
        bpe_push(st, (bpe_pair){t->scores[id], id, l, r, st->ver[l], st->ver[r]});
}

static int bpe_merge(const lg_tokenizer *t, int *tokens, int *n_tokens, char *buf, lg_err *err)
{
    int n = *n_tokens;
    if (n < 2)
        return 0;
    bpe_state st = {0};
    // n - 1 pairs at first and two more a merge (at most n - 1 merges)
    st.next = lg_calloc((size_t)n, sizeof *st.next, err);
    st.prev = st.next ? lg_calloc((size_t)n, sizeof *st.prev, err) : NULL;
    st.ver = st.prev ? lg_calloc((size_t)n, sizeof *st.ver, err) : NULL;
    st.heap = st.ver ? lg_calloc(3 * (size_t)n, sizeof *st.heap, err) : NULL;
    int rc = -1;
    if (!st.heap)
        goto out;
    st.tok = tokens;
    for (int i = 0; i < n; i++) {
        st.next[i] = i + 1 < n ? i + 1 : -1;
        st.prev[i] = i - 1;
    }
    for (int i = 0; i + 1 < n; i++)
        bpe_offer(t, &st, i, i + 1, buf);
    while (st.len > 0) {
        bpe_pair p = bpe_pop(&st);
        if (st.next[p.left] != p.right || st.ver[p.left] != p.lv || st.ver[p.right] != p.rv)
            continue; // stale: a token of it was merged since
        // the right token leaves the list (its version moves on, so every
        // pair still naming it is stale), the left one becomes the piece
        st.tok[p.left] = p.id;
        st.ver[p.left]++;
        st.ver[p.right]++;
        st.next[p.left] = st.next[p.right];
        if (st.next[p.right] != -1)
            st.prev[st.next[p.right]] = p.left;
        st.next[p.right] = -1;
        if (st.prev[p.left] != -1)
            bpe_offer(t, &st, st.prev[p.left], p.left, buf);
        if (st.next[p.left] != -1)
            bpe_offer(t, &st, p.left, st.next[p.left], buf);
    }
    // the list in order, back into tokens (node 0 is never merged away)
    int m = 0;
    for (int i = 0; i != -1; i = st.next[i])
        tokens[m++] = st.tok[i];
    *n_tokens = m;
    rc = 0;
out:
    free(st.next);
    free(st.prev);
    free(st.ver);
    free(st.heap);
    return rc;
}

int lg_tokenizer_encode(const lg_tokenizer *t, const char *text, int bos, int eos,
                        int *tokens, int *n_tokens, lg_err *err)
{
    *n_tokens = 0;
    if (!text)
        return lg_fail(err, "cannot encode NULL text");
    // BOS / EOS are fixed ids; the merge loop below indexes vocab with every
    // token, so a vocabulary too small to hold them would be read out of
    // bounds (a 1-token vocabulary: BOS = 1 is past its end).
    int missing = bos && TOK_BOS >= t->vocab_size ? TOK_BOS
                  : eos && TOK_EOS >= t->vocab_size ? TOK_EOS
                                                    : -1;
    if (missing >= 0)
        return lg_fail(err, "tokenizer: %s id %d needs vocab_size > %d but vocab_size is %d",
                       missing == TOK_BOS ? "BOS" : "EOS", missing, missing, t->vocab_size);

    // Scratch for one code point (<= 4 bytes) and for the concatenation of
    // two pieces during merging: (2 * max_token_length + 1) chars, never less
    // than the 5 a code point needs.
    size_t buf_size = 2 * (size_t)t->max_token_length + 3;
    if (buf_size < 8)
        buf_size = 8;
    char *buf = lg_calloc(buf_size, 1, err); // (buf_size)
    if (!buf)
        return -1;
    size_t buf_len = 0;
    int n = 0;

    if (bos)
        tokens[n++] = TOK_BOS;

    // sentencepiece's add_dummy_prefix: a non-empty text starts with " ".
    // llama2.c emits whatever " " looks up to; vocabularies without a " "
    // piece (where llama2.c would emit -1) get the byte-fallback id instead.
    if (text[0] != '\0') {
        int id = str_lookup(" ", t);
        if (id == -1)
            id = (unsigned char)' ' + TOK_BYTE0;
        if (id >= t->vocab_size)
            goto no_byte_token;
        tokens[n++] = id;
    }

    // Split into UTF-8 code points (a lead byte plus up to three
    // continuation bytes 10xxxxxx) and look each one up whole; unknown code
    // points fall back to one <0xXX> token per byte.
    for (const char *c = text; *c != '\0'; c++) {
        if ((*c & 0xC0) != 0x80)
            buf_len = 0; // a lead (or ASCII) byte starts a new code point
        buf[buf_len++] = *c;
        buf[buf_len] = '\0';
        if ((c[1] & 0xC0) == 0x80 && buf_len < 4)
            continue; // more continuation bytes belong to this code point
        int id = str_lookup(buf, t);
        if (id != -1) {
            tokens[n++] = id;
        } else {
            for (size_t i = 0; i < buf_len; i++) {
                int b = (unsigned char)buf[i] + TOK_BYTE0;
                if (b >= t->vocab_size)
                    goto no_byte_token;
                tokens[n++] = b;
            }
        }
        buf_len = 0;
    }

    // Greedy BPE: merge the adjacent pair whose concatenation is a piece with
    // the highest score (above -1e10, as llama2.c's loop starts there), the
    // leftmost pair on ties, until none is left (bpe_merge).
    if (bpe_merge(t, tokens, &n, buf, err)) {
        free(buf);
        return -1;
    }

    if (eos)
        tokens[n++] = TOK_EOS;
    free(buf);
    *n_tokens = n;
    return 0;

no_byte_token:
    free(buf);
    return lg_fail(err, "tokenizer: byte fallback needs ids 3..258 but vocab_size is %d",
                   t->vocab_size);
}

// ---- decode / print ----

const char *lg_tokenizer_decode(const lg_tokenizer *t, int prev, int token)
{
    if (!t || !t->vocab || token < 0 || token >= t->vocab_size)
        return "";
    const char *piece = t->vocab[token];
    // After BOS, sentencepiece's dummy-prefix space is not part of the text.
    if (prev == TOK_BOS && piece[0] == ' ')
        piece++;
    // Byte-fallback pieces "<0xXX>" stand for the raw byte. Same sscanf as
    // llama2.c so borderline pieces parse identically.
    unsigned char byte_val;
    if (sscanf(piece, "<0x%02hhX>", &byte_val) == 1)
        piece = (const char *)t->byte_pieces + byte_val * 2;
    return piece;
}

void lg_tokenizer_print_piece(void *file, const char *piece)
{
    if (!piece || piece[0] == '\0')
        return;
    // A lone raw byte may be a control code or half of a UTF-8 sequence;
    // printing it could garble the terminal, so (as llama2.c) drop it.
    if (piece[1] == '\0') {
        unsigned char b = (unsigned char)piece[0];
        if (!(isprint(b) || isspace(b)))
            return;
    }
    fputs(piece, (FILE *)file);
}
