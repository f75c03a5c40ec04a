/* vlibm.h - libm's expf, log1pf and tanhf, 16 numbers at a time, with libm's bits.
 *
 * Teaches: that a "faster exp" need not be a different exp. A loss that
 * calls expf and log1pf once per pixel spends most of its time in those
 * calls (one number per call, through the PLT). Written out as plain
 * arithmetic on arrays, the same algorithm runs as vector instructions,
 * and if every step rounds exactly as libm's does (the same constants, the
 * same operations in the same order, fused multiply-adds exactly where
 * libm's machine code has them and nowhere else), the results are libm's,
 * bit for bit: a chapter's record does not change by one digit.
 * The reference is glibc 2.36 on x86-64 with FMA (Debian 12): expf is its
 * FMA variant (__expf_fma, the algorithm of ARM's optimized-routines:
 * 2^(k/32) from a table times a cubic in double), log1pf is fdlibm's float
 * log1p (Sun, 1993), and tanhf is fdlibm's too, with its expm1f inside.
 * tests/test_vlibm.c compares against libm; the program
 * tests/exhaustive/vlibm_all.c (make check-vlibm) compares every float.
 * Leaves out: the rare inputs, which go to libm itself, one call each:
 * expf for |x| >= 88 (overflow, underflow to subnormals, inf, NaN), log1pf
 * outside [0, 1] (the BCE loss only asks for log1p(e^-|l|)), tanhf of NaN.
 *
 * All three are float functions in either build (the double build's ops
 * call libm's double exp, log1p and tanh, and only its tests call these).
 */
#ifndef VLIBM_H
#define VLIBM_H

/* y[i] = expf(x[i]), i < n, with libm's bits; x and y do not overlap. */
void vlibm_expf(float *restrict y, const float *restrict x, long n);

/* y[i] = log1pf(x[i]), i < n, with libm's bits; x and y do not overlap. */
void vlibm_log1pf(float *restrict y, const float *restrict x, long n);

/* y[i] = tanhf(x[i]), i < n, with libm's bits; x and y do not overlap. */
void vlibm_tanhf(float *restrict y, const float *restrict x, long n);

#endif
