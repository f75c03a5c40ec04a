/* test_vlibm.c - Criterion tests of lib/vlibm.c (expf, log1pf, tanhf, vectorised).
 *
 * Proves: vlibm_expf, vlibm_log1pf and vlibm_tanhf give libm's bits on a sample of every
 * 257th float over all 2^32 (16.7 million inputs each, every exponent and
 * sign, NaNs and infinities included) and on the edges of their fast paths
 * (|x| = 88, the underflow thresholds of expf; 2^-54, 2^-29, 0.41422, the
 * sqrt(2) split and 1 for log1pf; 2^-55, 2^-26 (expm1's own tiny case),
 * ln2 / 4 and 0.75 ln2 (expm1's k = 0, +-1 splits), 1, 11.5 ln2 (k = 23)
 * and 22 for tanhf), at every array length up to 40 (the
 * vector loop's tail); and, whatever the libm, that they are within one
 * unit in the last place of the double-precision exp and log1p, and two of
 * tanh.
 * The bit comparison needs the libm vlibm copies (glibc 2.36, x86-64 with
 * FMA) and is skipped elsewhere. The check of all 2^32 floats is
 * tests/exhaustive/vlibm_all.c (make check-vlibm).
 * Leaves out: the BCE loss and the tanh op that use them (test_ops_loss.c,
 * test_ops_elementwise.c, and the chapters' records, which do not change).
 */
#include <criterion/criterion.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vlibm.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* the libm vlibm reproduces, on this machine? */
static int same_libm(void) {
    return strcmp(gnu_get_libc_version(), "2.36") == 0 && __builtin_cpu_supports("fma");
}

static float libm_expf(float x) { return expf(x); }
static float libm_log1pf(float x) { return log1pf(x); }
static float libm_tanhf(float x) { return tanhf(x); }

/* compare vec with ref on n inputs x; the first difference fails the test */
static void expect_libm_bits(const char *name, void (*vec)(float *, const float *, long),
                             float (*ref)(float), const float *x, long n) {
    float *y = malloc(sizeof(float) * n);
    vec(y, x, n);
    for (long i = 0; i < n; i++) {
        float want = ref(x[i]);
        cr_assert(bits(y[i]) == bits(want), "%s(%a) [0x%08x]: vlibm %a [0x%08x], libm %a [0x%08x]", name,
                  x[i], bits(x[i]), y[i], bits(y[i]), want, bits(want));
    }
    free(y);
}

/* every 257th float bit pattern, then the edges: 16.7 million + a few */
static float *sample(long *n, const uint32_t *edges, int n_edges) {
    long m = (1L << 32) / 257 + 1;
    float *x = malloc(sizeof(float) * (m + 5 * n_edges));
    long k = 0;
    for (long u = 0; u < (1L << 32); u += 257) x[k++] = from_bits((uint32_t)u);
    for (int e = 0; e < n_edges; e++) /* each edge, its neighbours, and its negative */
        for (int d = -2; d <= 2; d++) x[k++] = from_bits(edges[e] + (uint32_t)d);
    *n = k;
    return x;
}

Test(vlibm, expf_has_libm_bits_on_a_sample_of_all_floats_and_the_edges) {
    if (!same_libm()) cr_skip_test("libm is not glibc 2.36 with FMA: vlibm copies that one");
    /* 88, -88, 88.72 (overflow), -103.28 and -103.97 (underflow), 0, -0, 1, inf, -inf, NaN */
    static const uint32_t edges[] = {0x42b00000, 0xc2b00000, 0x42b17217, 0xc2ce8ecf, 0xc2cff1b4,
                                     0x00000002, 0x80000002, 0x3f800000, 0x7f800000, 0xff800000, 0x7fc00000};
    long n;
    float *x = sample(&n, edges, sizeof edges / sizeof edges[0]);
    expect_libm_bits("expf", vlibm_expf, libm_expf, x, n);
    free(x);
}

Test(vlibm, log1pf_has_libm_bits_on_a_sample_of_all_floats_and_the_edges) {
    if (!same_libm()) cr_skip_test("libm is not glibc 2.36 with FMA: vlibm copies that one");
    /* 2^-54, 2^-29, 0.41422, 1 + x at the sqrt(2) split, 1 - 3 2^-23 and up (1 + x near 2), 1, 0, -0, NaN */
    static const uint32_t edges[] = {0x24800000, 0x31000000, 0x3ed413d7, 0x3ed413dc, 0x3f7ffffb,
                                     0x3f800000, 0x00000002, 0x80000002, 0x7fc00000};
    long n;
    float *x = sample(&n, edges, sizeof edges / sizeof edges[0]);
    expect_libm_bits("log1pf", vlibm_log1pf, libm_log1pf, x, n);
    free(x);
}

Test(vlibm, tanhf_has_libm_bits_on_a_sample_of_all_floats_and_the_edges) {
    if (!same_libm()) cr_skip_test("libm is not glibc 2.36 with FMA: vlibm copies that one");
    /* 2^-55, 2^-26, ln2 / 4 and 0.75 ln2 (2|x| at expm1's splits), 1, 11.5 ln2, 22, and their
     * negatives; 0, -0, inf, -inf, NaN */
    static const uint32_t edges[] = {0x24000000, 0x32800000, 0x3e317218, 0x3f051592, 0x3f800000, 0x40ff0000,
                                     0x41b00000, 0xa4000000, 0xb2800000, 0xbe317218, 0xbf051592, 0xbf800000,
                                     0xc0ff0000, 0xc1b00000, 0x00000002, 0x80000002, 0x7f800000, 0xff800000,
                                     0x7fc00000};
    long n;
    float *x = sample(&n, edges, sizeof edges / sizeof edges[0]);
    expect_libm_bits("tanhf", vlibm_tanhf, libm_tanhf, x, n);
    free(x);
}

Test(vlibm, every_length_gives_the_same_bits_as_one_call_per_number) {
    /* the vector loop's remainder: lengths 0..40, each element alone as reference */
    float x[40], y[40], one;
    for (int i = 0; i < 40; i++) x[i] = -0.37f * (float)i; /* log1p's inputs below: e^x in (0, 1] */
    for (int n = 0; n <= 40; n++) {
        vlibm_expf(y, x, n);
        for (int i = 0; i < n; i++) {
            vlibm_expf(&one, &x[i], 1);
            cr_assert(bits(y[i]) == bits(one), "expf, length %d, element %d", n, i);
        }
    }
    for (int i = 0; i < 40; i++) x[i] = expf(-0.37f * (float)i);
    for (int n = 0; n <= 40; n++) {
        vlibm_log1pf(y, x, n);
        for (int i = 0; i < n; i++) {
            vlibm_log1pf(&one, &x[i], 1);
            cr_assert(bits(y[i]) == bits(one), "log1pf, length %d, element %d", n, i);
        }
    }
    for (int i = 0; i < 40; i++) x[i] = 0.61f * (float)(i - 20); /* tanh: every form of expm1 */
    for (int n = 0; n <= 40; n++) {
        vlibm_tanhf(y, x, n);
        for (int i = 0; i < n; i++) {
            vlibm_tanhf(&one, &x[i], 1);
            cr_assert(bits(y[i]) == bits(one), "tanhf, length %d, element %d", n, i);
        }
    }
}

/* |got - want| in units of the last place of float at want */
static double ulps(float got, double want) {
    int e;
    frexp(want, &e);
    return fabs((double)got - want) / ldexp(1, e - 24 < -149 ? -149 : e - 24);
}

/* expf and log1pf within 1 ulp of the double functions; tanhf within 2:
 * after expm1 it rounds three more times (t + 2, the division, 1 - q),
 * and glibc's tanhf itself reaches 1.94 ulp on this grid. */
Test(vlibm, within_one_or_two_ulps_of_the_double_functions) {
    enum { N = 100000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = -87.0f + 174.0f * (float)i / N; /* the fast path of expf */
    vlibm_expf(y, x, N);
    for (int i = 0; i < N; i++)
        cr_assert(ulps(y[i], exp((double)x[i])) < 1, "expf(%a) = %a, exp = %a", x[i], y[i], exp((double)x[i]));
    for (int i = 0; i < N; i++) x[i] = (float)i / N * (i % 2 ? 1.0f : 1e-6f); /* [0, 1], and near 0 */
    vlibm_log1pf(y, x, N);
    for (int i = 0; i < N; i++)
        cr_assert(ulps(y[i], log1p((double)x[i])) < 1, "log1pf(%a) = %a, log1p = %a", x[i], y[i],
                  log1p((double)x[i]));
    for (int i = 0; i < N; i++) x[i] = -12.0f + 24.0f * (float)i / N; /* tanh through all its forms */
    vlibm_tanhf(y, x, N);
    for (int i = 0; i < N; i++)
        cr_assert(ulps(y[i], tanh((double)x[i])) < 2, "tanhf(%a) = %a, tanh = %a", x[i], y[i], tanh((double)x[i]));
}
