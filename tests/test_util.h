/*
 * Shared helpers for the cmocka unit tests: where the real model files are,
 * and scratch files. Include after <cmocka.h>'s prerequisites.
 */
#ifndef LLAMAGEN_TEST_UTIL_H
#define LLAMAGEN_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

// Directory holding stories260K.bin and tok512.bin ($LG_MODELS_DIR, set by
// the Makefile to ../shared/models).
static inline const char *tu_models_dir(void)
{
    const char *d = getenv("LG_MODELS_DIR");
    return d ? d : "../shared/models";
}

// Full path of a model file in a static buffer, or NULL when it is absent.
static inline const char *tu_model_path(const char *file)
{
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 1024, "%s/%s", tu_models_dir(), file);
    return access(p, R_OK) == 0 ? p : NULL;
}

// Skips the current test with a visible message when a model file is absent.
#define TU_REQUIRE_MODEL(var, file)                                                     \
    const char *var = tu_model_path(file);                                              \
    if (!var) {                                                                         \
        fprintf(stderr, "SKIP: %s/%s not present; test needs the real model\n",          \
                tu_models_dir(), file);                                                 \
        skip();                                                                         \
    }

// A fresh scratch directory under $TMPDIR (removed by the caller with
// tu_rmtree). Returns a static buffer.
static inline const char *tu_tmpdir(void)
{
    static char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lgtest.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

static inline void tu_rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

// Writes bytes to path; aborts the test on failure.
static inline void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

#endif
