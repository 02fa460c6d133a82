// Error reporting and checked allocation (see include/llamagen/common.h).
#include "llamagen/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lg_fail(lg_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int lg_fail_ctx(lg_err *err, const char *fmt, ...)
{
    if (err) {
        char prefix[256];
        char old[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        // Truncation of an overlong message is acceptable: keep the head.
        size_t n = strlen(prefix);
        if (n > sizeof err->msg - 3)
            n = sizeof err->msg - 3;
        memcpy(err->msg, prefix, n);
        memcpy(err->msg + n, ": ", 2);
        size_t room = sizeof err->msg - n - 3, m = strlen(old);
        if (m > room)
            m = room;
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
    }
    return -1;
}

FILE *lg_open_regular(const char *path, const char *what, uint64_t *bytes, lg_err *err)
{
    // O_NONBLOCK: fopen on a FIFO nobody writes to blocks in open() forever;
    // this way the open returns and the FIFO is refused below. On a regular
    // file the flag changes nothing. fstat rather than seeking to the end:
    // it also tells a directory, a device or a pipe from a file.
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) != 0)
        lg_fail(err, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        lg_fail(err, "%s: not a regular file (expected a %s)", path, what);
    else if (!(f = fdopen(fd, "rb")))
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (!f) {
        close(fd);
        return NULL;
    }
    *bytes = (uint64_t)st.st_size;
    return f;
}

int lg_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

void *lg_calloc(size_t n, size_t size, lg_err *err)
{
    size_t total;
    if (lg_mul_size(n, size, &total) != 0) {
        lg_fail(err, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = calloc(total ? total : 1, 1);
    if (!p)
        lg_fail(err, "out of memory allocating %zu bytes", total);
    return p;
}
