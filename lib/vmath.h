/* vmath.h - an exp that vectorises, for the float build's hot loops.
 *
 * Teaches: how exp is computed. Write x = k ln2 + r with k an integer and
 * |r| <= ln2 / 2; then e^x = 2^k e^r. 2^k is built directly in the float's
 * exponent bits, and e^r comes from a short polynomial (its Taylor series to
 * r^6: the first dropped term, r^7/7!, is below 1.2e-7 relative, one unit in
 * the last place of a float). Every step is plain arithmetic, so a loop of
 * vexp() calls compiles to vector instructions, where libm's expf is a
 * call per element. GELU and softmax spend most of their time here.
 * The double build (the one the gradient checks run) uses libm's exp: it is
 * exact there, and speed does not matter.
 * Leaves out: subnormal results (inputs below -87 give 0), NaN inputs.
 */
#ifndef VMATH_H
#define VMATH_H

#include <math.h>
#include <stdint.h>

#include "real.h"

#ifdef REAL_DOUBLE
static inline real vexp(real x) { return exp(x); }
#else
static inline real vexp(real x0) {
    float x = x0 < -87.0f ? -87.0f : (x0 > 88.0f ? 88.0f : x0); /* keep 2^k a normal float */
    /* k = round(x / ln 2): adding then subtracting 1.5 * 2^23 rounds to an
     * integer in plain float arithmetic (floorf would stop the vectoriser) */
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = (x - k * 0.693145752f) - k * 1.42860677e-6f; /* ln 2 in two parts: r is exact */
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f +
                                      r * (8.33333377e-3f + r * 1.38888892e-3f)))));
    union { int32_t bits; float value; } two_k = {.bits = ((int32_t)k + 127) << 23}; /* 2^k: exponent k + 127 */
    return x0 < -87.0f ? 0.0f : p * two_k.value; /* e^-87 is 1.6e-38: below it, 0 (so exp(-inf) = 0) */
}
#endif

#endif
