/* fuzz_idx.c - libFuzzer harness for the IDX reader (lib/data.c idx_load).
 *
 * The input's first byte is a mode. Bit 0 picks which file the rest is:
 * 0, the image file (a label file is made to match the count its header
 * claims); 1, the label file (with a matching image file of 1 x 1 images).
 * Bit 1: 0, the rest is written as is (a gzip or a plain input reaches the
 * reader as the fuzzer made it); 1, the harness gzips it first, so the
 * fuzzer's changes to the IDX header also reach the reader through zlib.
 * Must hold for any input: idx_load fails cleanly, or returns n >= 1 images
 * of rows x cols >= 1 whose every pixel and label (<= 9) can be read.
 */
#include "fuzz.h" /* first: it sets _GNU_SOURCE */

#include <zlib.h>

#include "data.h"

#define FUZZ_IDX_MAX_N 4096 /* the made-up partner file holds at most this many */

static uint32_t fuzz_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The partner file: `n` labels (i mod 10), or `n` images of 1 x 1. */
static void fuzz_idx_partner(const char *path, int labels, uint32_t n) {
    static uint8_t b[16 + FUZZ_IDX_MAX_N];
    if (n > FUZZ_IDX_MAX_N) n = FUZZ_IDX_MAX_N;
    size_t head = labels ? 8 : 16;
    uint32_t h[4] = {labels ? 0x801u : 0x803u, n, 1, 1};
    for (size_t k = 0; k < head / 4; k++)
        for (int j = 0; j < 4; j++) b[4 * k + (size_t)j] = (uint8_t)(h[k] >> (24 - 8 * j));
    for (uint32_t i = 0; i < n; i++) b[head + i] = (uint8_t)(i % 10);
    fuzz_write(path, b, head + n);
}

/* data[n] as one gzip member into path. */
static void fuzz_write_gzip(const char *path, const uint8_t *d, size_t n) {
    z_stream z = {0};
    FUZZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    size_t cap = deflateBound(&z, (uLong)n);
    uint8_t *out = malloc(cap);
    z.next_in = (uint8_t *)d;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    fuzz_write(path, out, cap - z.avail_out);
    deflateEnd(&z);
    free(out);
}

int fuzz_idx(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    int input_is_labels = d[0] & 1, gzip_it = d[0] & 2;
    d++, n--;
    char ip[128], lp[128];
    fuzz_path(ip, sizeof ip, "images-idx3-ubyte");
    fuzz_path(lp, sizeof lp, "labels-idx1-ubyte");
    uint32_t claimed = n >= 8 ? fuzz_be32(d + 4) : 0;
    if (gzip_it) fuzz_write_gzip(input_is_labels ? lp : ip, d, n);
    else fuzz_write(input_is_labels ? lp : ip, d, n);
    fuzz_idx_partner(input_is_labels ? ip : lp, !input_is_labels, claimed);

    ImageSet *volatile got = NULL;
    volatile int failed;
    FUZZ_TRY(failed, got = idx_load(ip, lp));
    if (failed) return 0;
    ImageSet *s = got;
    FUZZ_CHECK(s->n >= 1 && s->rows >= 1 && s->cols >= 1, "idx_load returned %d images of %d x %d", s->n, s->rows,
               s->cols);
    unsigned long sum = 0;
    for (long i = 0; i < (long)s->n * s->rows * s->cols; i++) sum += s->pixels[i];
    for (int i = 0; i < s->n; i++) FUZZ_CHECK(s->labels[i] <= 9, "label %d is %d", i, s->labels[i]);
    fuzz_sink = sum; /* every pixel is a read that ASan checks */
    imageset_free(s);
    return 0;
}

FUZZ_ENTRY(fuzz_idx)
