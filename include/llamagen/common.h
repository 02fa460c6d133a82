/*
 * llamagen: common definitions shared by every part of the library.
 *
 * Errors: library functions never exit and never print. They return 0 on
 * success and -1 on failure, and fill an lg_err with one line that names the
 * problem (file, field, value). The CLI prints that line and exits non-zero.
 */
#ifndef LLAMAGEN_COMMON_H
#define LLAMAGEN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LG_VERSION "0.1.0"

typedef struct lg_err {
    char msg[512]; // one line, no trailing newline
} lg_err;

// Formats the message into err (if err is not NULL) and returns -1, so a
// caller can write `return lg_fail(err, "...", ...);`.
int lg_fail(lg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Prefixes an existing message: "context: old message".
int lg_fail_ctx(lg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Checked allocation helpers: return NULL and set err on failure or on a
// size product that overflows size_t.
void *lg_calloc(size_t n, size_t size, lg_err *err);

// Overflow-checked products; return -1 on overflow.
int lg_mul_size(size_t a, size_t b, size_t *out);

// Opens a model input file for reading: a regular file only, its size in
// *bytes. A directory, a device (/dev/zero never ends) or a FIFO (whose
// open would block forever without a writer) is refused; `what` names the
// expected file in that error ("tokenizer.bin"). NULL with err set.
FILE *lg_open_regular(const char *path, const char *what, uint64_t *bytes, lg_err *err);

#endif
