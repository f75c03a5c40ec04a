/* fuzz.h - what the libFuzzer harnesses (fuzz/fuzz_*.c) share.
 *
 * Teaches: how a program fuzzes its own input readers. A harness is one
 * function, fuzz_<reader>(data, size), that feeds the bytes to a reader the
 * way a user's file would reach it (written to a file, then loaded), and
 * checks what must hold for ANY input: the reader either fails() with a
 * message (caught here, like tests/catch_fail.h does) or returns something
 * that obeys its documented invariants; anything else (a crash, a sanitizer
 * report, a leak, an abort() from a broken invariant) is a finding.
 * libFuzzer calls LLVMFuzzerTestOneInput, defined at the end of each harness
 * unless FUZZ_NO_MAIN is set: tests/test_fuzz_regress.c includes the
 * harnesses with FUZZ_NO_MAIN and replays every input kept in
 * fuzz/regress/<harness>/ (inputs that once crashed), without fuzzing.
 * Leaves out: the fuzzing engine (libFuzzer, from clang) and the corpora
 * (made by fuzz/seeds.sh under build/fuzz/, never committed).
 */
#ifndef FUZZ_H
#define FUZZ_H

#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static jmp_buf fuzz_jump;
static volatile unsigned long fuzz_sink; /* a value read so that the reads happen */

static inline void fuzz_fail_handler(int code, const char *message) {
    (void)code, (void)message;
    longjmp(fuzz_jump, 1);
}

/* Run stmt with fail() caught; then `failed` (an int lvalue) says whether
 * stmt failed. A local that stmt sets and the caller reads after a failure
 * must be volatile (longjmp may lose it otherwise), and so must `failed`
 * when it is read after a later FUZZ_TRY. */
#define FUZZ_TRY(failed, stmt)                                            \
    do {                                                                  \
        set_fail_handler(fuzz_fail_handler);                              \
        if (setjmp(fuzz_jump) == 0) {                                     \
            stmt;                                                         \
            (failed) = 0;                                                 \
        } else {                                                          \
            (failed) = 1;                                                 \
        }                                                                 \
        set_fail_handler(NULL);                                           \
    } while (0)

/* A broken invariant: say which, and abort (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond, ...)                                             \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "fuzz invariant broken: " __VA_ARGS__);       \
            fputc('\n', stderr);                                          \
            abort();                                                      \
        }                                                                 \
    } while (0)

static char fuzz_dir[64]; /* this process's scratch directory */

static inline int fuzz_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void fuzz_remove_dir(void) { nftw(fuzz_dir, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS); }

/* name inside this process's scratch directory, into buf. The directory is
 * made on the first call (in /dev/shm when there is one: files are written
 * on every input) and removed when the process exits normally. */
static inline const char *fuzz_path(char *buf, size_t cap, const char *name) {
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/genfuzz_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            perror("fuzz: cannot make a scratch directory");
            abort();
        }
        atexit(fuzz_remove_dir);
    }
    snprintf(buf, cap, "%s/%s", fuzz_dir, name);
    return buf;
}

static inline void fuzz_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* The pieces of data split at each occurrence of sep: piece k is
 * [start[k], start[k] + len[k]); returns how many (at most max; the last
 * takes the rest). */
static inline int fuzz_split(const uint8_t *d, size_t n, const char *sep, int max, const uint8_t **start, size_t *len) {
    size_t s = strlen(sep), at = 0;
    int k = 0;
    while (k < max - 1) {
        const uint8_t *hit = memmem(d + at, n - at, sep, s);
        if (!hit) break;
        start[k] = d + at;
        len[k++] = (size_t)(hit - (d + at));
        at = (size_t)(hit - d) + s;
    }
    start[k] = d + at;
    len[k++] = n - at;
    return k;
}

/* libFuzzer's entry point, calling the harness (left out with FUZZ_NO_MAIN). */
#ifdef FUZZ_NO_MAIN
#define FUZZ_ENTRY(harness)
#else
#define FUZZ_ENTRY(harness)                                               \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);         \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return harness(data, size); }
#endif

#endif
