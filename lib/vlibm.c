/* vlibm.c - libm's expf, log1pf and tanhf as loops that vectorise; see vlibm.h.
 *
 * Each loop computes every element by the fast path, with branches turned
 * into selects (a ? b : c), so the compiler can run 16 elements per
 * instruction; a second loop then hands the few inputs outside the fast
 * path to libm, one call each.
 *
 * The rounding of every step matters here, and gcc would otherwise fuse a
 * multiply and an add (a * b + c) into one FMA with one rounding wherever
 * it sees one: the pragma below stops that for this file, and the FMAs that
 * libm's own code has are written out with fma(). Nothing here depends on
 * `real`: both builds compile the same float functions.
 */
#include "vlibm.h"

#include <math.h>
#include <stdint.h>

/* no fusing here; and FP operations do not trap, so a ? b : c may compute
 * both b and c (a select, not a branch), which is what lets the loops
 * vectorise; and no jump threading, which would turn tanhf's many selects
 * back into branches ("control flow in loop": not vectorised) */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#else
#pragma GCC optimize("fp-contract=off", "no-trapping-math", "no-thread-jumps")
#endif

static inline uint32_t bits_of(float f) {
    union { float f; uint32_t u; } v = {.f = f};
    return v.u;
}
static inline float float_of(uint32_t u) {
    union { uint32_t u; float f; } v = {.u = u};
    return v.f;
}
static inline uint64_t bits_of_d(double d) {
    union { double d; uint64_t u; } v = {.d = d};
    return v.u;
}
static inline double double_of(uint64_t u) {
    union { uint64_t u; double d; } v = {.u = u};
    return v.d;
}

/* ===========================================================================
 * expf. In double: x / ln 2 = (k + r) / 32 with k an integer and |r| <= 1/2,
 * so e^x = 2^(k/32) 2^(r/32). 2^(k/32) = 2^(k div 32) 2^((k mod 32)/32): the
 * second factor from a table of 32, the first added straight into its
 * exponent bits. 2^(r/32) = 1 + C2 r + C1 r^2 + C0 r^3 (|r/32| <= 1/64 is
 * small enough for a cubic to reach float precision). Rounding k: adding
 * 1.5 * 2^52 to z leaves no bits below the units, so the sum *is* round(z)
 * (+ 1.5 * 2^52), and its low bits are k itself.
 * ======================================================================== */

#define EXP_32_LN2 0x1.71547652b82fep+5 /* 32 / ln 2 */
#define EXP_SHIFT 0x1.8p+52             /* 1.5 * 2^52 */
#define EXP_C0 0x1.c6af84b912394p-20
#define EXP_C1 0x1.ebfce50fac4f3p-13
#define EXP_C2 0x1.62e42ff0c52d6p-6

/* The bits of 2^(i/32) minus i << 47: adding k << 47 to entry k mod 32 puts
 * k div 32 into the exponent (the i << 47 cancels k mod 32's share). */
static const uint64_t EXP2_32[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* |x| < 88: e^x is a normal float, no overflow or underflow to handle */
static inline int exp_fast(float x) { return (bits_of(x) >> 20 & 0x7ff) < 0x42b; }

void vlibm_expf(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float xi = x[i];
        double xd = exp_fast(xi) ? xi : 0.0f; /* (selects between floats: a conversion may trap) */
        double kd = fma(xd, EXP_32_LN2, EXP_SHIFT); /* round(32 x / ln 2) + shift */
        uint64_t k = bits_of_d(kd);
        kd -= EXP_SHIFT;
        double r = fma(xd, EXP_32_LN2, -kd); /* 32 x / ln 2 - k, with one rounding */
        double two_k = double_of(EXP2_32[k % 32] + (k << 47));
        double p = fma(fma(r, EXP_C0, EXP_C1), r * r, fma(r, EXP_C2, 1.0));
        float e = (float)(p * two_k);
        y[i] = e;
    }
    for (long i = 0; i < n; i++) /* the rest, from libm */
        if (!exp_fast(x[i])) y[i] = expf(x[i]);
}

/* ===========================================================================
 * log1pf for 0 <= x <= 1 (fdlibm). Write 1 + x = 2^k (1 + f) with
 * sqrt(2)/2 <= 1 + f < sqrt(2); then log(1 + x) = k ln2 + log(1 + f), and
 * with s = f / (2 + f), log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))), R an
 * odd-series polynomial of degree 7 in s^2. For x < 0.41422 that holds with
 * k = 0 and f = x exactly; above, 1 + x is rounded to u, and c = the rounding
 * error / u is added back as a correction (k ln2 is split in a high part
 * with trailing zero bits and a low part, so k ln2_hi is exact). Below
 * 2^-29, log1p(x) is x - x^2/2 to float precision, and below 2^-54 just x.
 * ======================================================================== */

#define LN2_HI 0x1.62e3p-1f      /* 0x3f317180 */
#define LN2_LO 0x1.2fefa2p-17f   /* 0x3717f7d1 */
#define LP1 0x1.555556p-1f       /* 0x3f2aaaab */
#define LP2 0x1.99999ap-2f       /* 0x3ecccccd */
#define LP3 0x1.24924ap-2f       /* 0x3e924925 */
#define LP4 0x1.c71c52p-3f       /* 0x3e638e29 */
#define LP5 0x1.74664ap-3f       /* 0x3e3a3325 */
#define LP6 0x1.39a09ep-3f       /* 0x3e1cd04f */
#define LP7 0x1.2f112ep-3f       /* 0x3e178897 */

/* 0 <= x <= 1 (+0 included, -0 not: its sign bit makes the word larger) */
static inline int log1p_fast(float x) { return bits_of(x) <= 0x3f800000; }

void vlibm_log1pf(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float xi = x[i];
        uint32_t hx = bits_of(xi);
        float xv = log1p_fast(xi) ? xi : 0.5f;
        /* x >= 0.41422: u = 1 + x rounded, k its exponent (0 or 1), c the correction */
        float u = 1.0f + xv;
        uint32_t hu = bits_of(u);
        int k = (int)(hu >> 23) - 127;
        float c_up = 1.0f - (u - xv), c_down = xv - (u - 1.0f);
        float c = (k > 0 ? c_up : c_down) / u;
        hu &= 0x7fffff;
        int half = hu >= 0x3504f7; /* u's mantissa >= sqrt(2): use u / 2, k + 1 */
        float f = float_of(hu | (half ? 0x3f000000u : 0x3f800000u)) - 1.0f;
        k += half;
        hu = half ? (0x800000 - hu) >> 2 : hu; /* 0: f is within 2^-20 of 0 */
        if (hx < 0x3ed413d7) f = xv, k = 0, c = 0, hu = 1; /* x < 0.41422: f = x */
        float kf = (float)k, hfsq = 0.5f * f * f;
        float s = f / (2.0f + f), z = s * s;
        float R = z * (LP1 + z * (LP2 + z * (LP3 + z * (LP4 + z * (LP5 + z * (LP6 + z * LP7))))));
        float kc = kf * LN2_LO + c;
        float v_k0 = f - (hfsq - s * (hfsq + R));
        float v_k = kf * LN2_HI - ((hfsq - (s * (hfsq + R) + kc)) - f);
        /* f within 2^-20 of 0: a shorter series, and f = 0 exactly */
        float R0 = hfsq * (1.0f - 0x1.555556p-1f * f);
        float v0_k0 = f - R0, v0_k = kf * LN2_HI - ((R0 - kc) - f), v00_k = kf * LN2_HI + kc;
        float tiny = xv - xv * xv * 0.5f; /* 2^-54 <= x < 2^-29 */
        float v = k == 0 ? v_k0 : v_k;
        float v0 = f == 0 ? (k == 0 ? 0.0f : v00_k) : (k == 0 ? v0_k0 : v0_k);
        v = hu == 0 ? v0 : v;
        v = hx < 0x31000000 ? (hx < 0x24800000 ? xv : tiny) : v;
        y[i] = v;
    }
    for (long i = 0; i < n; i++) /* the rest, from libm */
        if (!log1p_fast(x[i])) y[i] = log1pf(x[i]);
}

/* ===========================================================================
 * tanhf: fdlibm's (Sun, 1993; glibc's s_tanhf.c, no FMA anywhere). With
 * t = expm1(+-2|x|): tanh|x| = 1 - 2 / (t + 2) for |x| >= 1, and
 * -t / (t + 2) below, where t = e^(-2|x|) - 1 comes out precise without
 * cancellation; then the sign of x. |x| >= 22 gives 1 - 1e-30, which rounds
 * to 1; |x| < 2^-55 gives x (1 + x) = x.
 * expm1 (s_expm1f.c), for the arguments tanh gives it: u = k ln2 + r with
 * |r| <= ln2 / 2 (k = +-1 straight from the sign when |u| < 1.5 ln2), r
 * held as hi - lo with its rounding error c; e^r - 1 from a rational
 * approximation in r^2 / 2 (Q1..Q5); then 2^k put back by adding k to the
 * exponent bits, in one of five forms chosen by k so that nothing cancels.
 * Every form is computed and the right one selected, which is what lets
 * the loop run 16 lanes at a time. NaNs go to libm.
 * ======================================================================== */

#define EM_LN2_HI 6.9313812256e-01f  /* 0x3f317180 */
#define EM_LN2_LO 9.0580006145e-06f  /* 0x3717f7d1 */
#define EM_INVLN2 1.4426950216e+00f  /* 0x3fb8aa3b */
#define EM_Q1 -3.3333335072e-02f     /* 0xbd088889 */
#define EM_Q2 1.5873016091e-03f      /* 0x3ad00d01 */
#define EM_Q3 -7.9365076090e-05f     /* 0xb8a670cd */
#define EM_Q4 4.0082177293e-06f      /* 0x36867e54 */
#define EM_Q5 -2.0109921195e-07f     /* 0xb457edbb */

/* expm1f(u) for 2^-54 <= |u| < 44 */
static inline float expm1_for_tanh(float u) {
    uint32_t hx = bits_of(u) & 0x7fffffff;
    int neg = bits_of(u) >> 31;
    /* u = k ln2 + hi - lo */
    int near = hx < 0x3f851592;                              /* |u| < 1.5 ln2 */
    int k_far = (int)(EM_INVLN2 * u + (neg ? -0.5f : 0.5f)); /* rounded half away from 0 */
    float t_far = (float)k_far;
    float hi = near ? (neg ? u + EM_LN2_HI : u - EM_LN2_HI) : u - t_far * EM_LN2_HI;
    float lo = near ? (neg ? -EM_LN2_LO : EM_LN2_LO) : t_far * EM_LN2_LO;
    int reduce = hx > 0x3eb17218; /* |u| > ln2 / 2 */
    int k = reduce ? (near ? (neg ? -1 : 1) : k_far) : 0;
    float x = reduce ? hi - lo : u;
    float c = reduce ? (hi - x) - lo : 0.0f;
    /* e^x - 1 on |x| <= ln2 / 2 */
    float hfx = 0.5f * x, hxs = x * hfx;
    float r1 = 1.0f + hxs * (EM_Q1 + hxs * (EM_Q2 + hxs * (EM_Q3 + hxs * (EM_Q4 + hxs * EM_Q5))));
    float t = 3.0f - r1 * hfx;
    float e = hxs * ((r1 - t) / (6.0f - x * t));
    float v_k0 = x - (x * e - hxs);
    e = x * (e - c) - c;
    e -= hxs;
    /* 2^k (1 + x - e) - 1, in the form that keeps its bits for this k */
    uint32_t k_exp = (uint32_t)k << 23; /* k added to an exponent */
    float v_km1 = 0.5f * (x - e) - 0.5f;
    float v_k1 = x < -0.25f ? -2.0f * (e - (x + 0.5f)) : 1.0f + 2.0f * (x - e);
    float v_far = float_of(bits_of(1.0f - (e - x)) + k_exp) - 1.0f;       /* k <= -2 or k > 56 */
    float one_less = float_of(0x3f800000 - (0x1000000u >> (k & 31)));     /* 1 - 2^-k */
    float v_mid = float_of(bits_of(one_less - (e - x)) + k_exp);           /* 2 <= k < 23 */
    float y_hi = x - (e + float_of((uint32_t)(0x7f - k) << 23));           /* 2^-k */
    float v_hi = float_of(bits_of(y_hi + 1.0f) + k_exp);                   /* 23 <= k <= 56 */
    float v = k < 23 ? v_mid : v_hi; /* selects, from the last case back (no && or ||: */
    v = ((k <= -2) | (k > 56)) ? v_far : v; /* they would be branches, and stop the vectoriser) */
    v = k == 1 ? v_k1 : v;
    v = k == -1 ? v_km1 : v;
    v = k == 0 ? v_k0 : v;
    float huge = 1.0e30f, big = huge + u; /* |u| < 2^-25: u itself (libm's way of saying so) */
    return hx < 0x33000000 ? u - (big - (huge + u)) : v;
}

/* NaN goes to libm (its payload is libm's business) */
static inline int tanh_fast(float x) { return (bits_of(x) & 0x7fffffff) <= 0x7f800000; }

void vlibm_tanhf(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float xi = tanh_fast(x[i]) ? x[i] : 0.0f;
        uint32_t ix = bits_of(xi) & 0x7fffffff;
        float ax = float_of(ix);
        int from_one = ix >= 0x3f800000; /* |x| >= 1 */
        float a = ((ix < 0x24000000) | (ix >= 0x41b00000)) ? 1.0f : ax; /* keep expm1's argument in range */
        float t = expm1_for_tanh(from_one ? 2.0f * a : -2.0f * a);
        float z = from_one ? 1.0f - 2.0f / (t + 2.0f) : -t / (t + 2.0f);
        z = ix >= 0x41b00000 ? 1.0f - 1.0e-30f : z; /* |x| >= 22, and inf */
        z = bits_of(xi) >> 31 ? -z : z;
        y[i] = ix < 0x24000000 ? xi * (1.0f + xi) : z; /* |x| < 2^-55, and 0 */
    }
    for (long i = 0; i < n; i++) /* the rest, from libm */
        if (!tanh_fast(x[i])) y[i] = tanhf(x[i]);
}
