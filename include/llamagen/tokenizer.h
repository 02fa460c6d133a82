/*
 * llama2.c tokenizer.bin: int32 max_token_length, then per token: float32
 * score, int32 length, bytes. Encoding and decoding follow llama2.c's
 * encode()/decode() exactly (BOS, dummy-prefix space, UTF-8 code points,
 * byte fallback to <0xXX> as id byte+3, greedy best-score pair merges).
 */
#ifndef LLAMAGEN_TOKENIZER_H
#define LLAMAGEN_TOKENIZER_H

#include "llamagen/common.h"

typedef struct lg_token_index {
    const char *str; // points into vocab
    int id;
} lg_token_index;

typedef struct lg_tokenizer {
    int vocab_size;
    uint32_t max_token_length;
    char **vocab;                   // (vocab_size) NUL-terminated pieces
    float *scores;                  // (vocab_size) merge scores
    lg_token_index *sorted;         // (vocab_size) sorted by str, for lookup
    unsigned char byte_pieces[512]; // single-byte strings for raw bytes
} lg_tokenizer;

// Loads tokenizer.bin expecting exactly vocab_size tokens (the model's). A
// file with more or fewer tokens, a truncated record or trailing bytes is an
// error naming the file.
int lg_tokenizer_load(const char *path, int vocab_size, lg_tokenizer *t, lg_err *err);

void lg_tokenizer_free(lg_tokenizer *t);

// Encodes text. tokens must hold strlen(text) + 3 ids. bos/eos: prepend 1 /
// append 2. Returns 0 and sets *n_tokens.
int lg_tokenizer_encode(const lg_tokenizer *t, const char *text, int bos, int eos,
                        int *tokens, int *n_tokens, lg_err *err);

// Piece to print for token after prev (llama2.c decode: strips the leading
// space after BOS, maps <0xXX> to the raw byte). Never NULL.
const char *lg_tokenizer_decode(const lg_tokenizer *t, int prev, int token);

// Prints a piece like llama2.c's safe_printf: skips single non-printable,
// non-space bytes. Writes to the given FILE*.
void lg_tokenizer_print_piece(void *file, const char *piece);

#endif
