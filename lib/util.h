/* util.h - checked calls: memory, files, and one way to fail.
 *
 * Teaches: a numerics program should never crash on bad input; it stops
 * with a message that names the file, says what is wrong and what to do.
 * Every error in the course goes through fail(), which prints
 *     error: <what>: <cause>
 *     hint: <hint>
 * on stderr and exits with a fixed code (sysexits.h values). The message is
 * never cut: a path of any length still leaves the cause and the hint whole.
 * Tests install a handler to catch the failure instead of exiting.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdio.h>

enum {
    EXIT_USAGE = 64,    /* bad command-line flag */
    EXIT_DATA = 65,     /* input data present but wrong (corrupt, bad shape) */
    EXIT_NOINPUT = 66,  /* input file or data set missing */
    EXIT_SOFTWARE = 70, /* internal error: a bug (shape mismatch in code) */
    EXIT_IOERR = 74,    /* cannot write output */
};

/* Print the three-part message and exit(code) (or call the test handler). */
__attribute__((noreturn, format(printf, 4, 5)))
void fail(int code, const char *what, const char *hint, const char *cause_fmt, ...);

/* A handler replaces exit for tests: it receives the code and the full
 * message and must not return (longjmp out). NULL restores exit. */
typedef void (*FailHandler)(int code, const char *message);
void set_fail_handler(FailHandler h);

/* malloc/calloc/free that never return NULL and count their calls, so a test
 * can prove a training loop allocates nothing after step 1. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void xfree(void *p);
long alloc_count(void);

/* fopen that fails with a clear message (what = the file). */
FILE *xfopen(const char *path, const char *mode, const char *hint);
/* mkdir -p; fails with a clear message. */
void make_dirs(const char *path);

/* Seconds on a monotonic clock. */
double now_seconds(void);

#endif
