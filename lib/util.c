/* util.c - checked calls: see util.h. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static FailHandler fail_handler;

void set_fail_handler(FailHandler h) { fail_handler = h; }

/* The message is built in one buffer that grows to fit (kept between calls,
 * so a test's handler may longjmp away without leaking it): a long path
 * never pushes the cause and the hint out of the message. If even that
 * memory is not there, the parts go to stderr one by one. */
void fail(int code, const char *what, const char *hint, const char *cause_fmt, ...) {
    static char *msg;
    static size_t cap;
    va_list ap, ap2;
    va_start(ap, cause_fmt);
    va_copy(ap2, ap);
    int clen = vsnprintf(NULL, 0, cause_fmt, ap);
    va_end(ap);
    size_t need = strlen("error: : \nhint: \n") + strlen(what) + strlen(hint) + (clen > 0 ? (size_t)clen : 0) + 1;
    if (need > cap) {
        char *p = realloc(msg, need);
        if (p) msg = p, cap = need;
    }
    if (need > cap) { /* out of memory: no buffer, no handler */
        fflush(stdout);
        fprintf(stderr, "error: %s: ", what);
        vfprintf(stderr, cause_fmt, ap2);
        fprintf(stderr, "\nhint: %s\n", hint);
        va_end(ap2);
        exit(code);
    }
    size_t k = (size_t)snprintf(msg, cap, "error: %s: ", what);
    k += (size_t)vsnprintf(msg + k, cap - k, cause_fmt, ap2);
    va_end(ap2);
    snprintf(msg + k, cap - k, "\nhint: %s\n", hint);
    if (fail_handler) fail_handler(code, msg); /* must not return */
    fflush(stdout);
    fputs(msg, stderr);
    exit(code);
}

/* ---- counted allocation ------------------------------------------------ */

static long n_allocs;

long alloc_count(void) { return n_allocs; }

static void *checked(void *p, size_t n) {
    if (!p && n)
        fail(EXIT_SOFTWARE, "memory", "reduce the sizes (batch, width) or free memory",
             "cannot allocate %zu bytes", n);
    return p;
}

void *xmalloc(size_t n) {
    __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED);
    return checked(malloc(n ? n : 1), n);
}

void *xcalloc(size_t n, size_t size) {
    __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED);
    return checked(calloc(n ? n : 1, size ? size : 1), n * size);
}

void *xrealloc(void *p, size_t n) {
    __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED);
    return checked(realloc(p, n ? n : 1), n);
}

void xfree(void *p) { free(p); }

/* ---- files --------------------------------------------------------------- */

FILE *xfopen(const char *path, const char *mode, const char *hint) {
    FILE *f = fopen(path, mode);
    if (!f) fail(mode[0] == 'r' ? EXIT_NOINPUT : EXIT_IOERR, path, hint, "cannot open (%s)", strerror(errno));
    return f;
}

void make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) fail(EXIT_IOERR, path, "use a shorter --out path", "path too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                fail(EXIT_IOERR, buf, "check the --out directory is writable", "cannot create directory (%s)",
                     strerror(errno));
            buf[i] = c;
        }
    }
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
