/* par.h - when a loop runs on all OpenMP threads, and when it does not.
 *
 * Teaches: a parallel region has a fixed cost, so small loops stay on the
 * calling thread. The obvious way to say so,
 *     #pragma omp parallel for if (n > PAR_MIN)
 * still calls into the OpenMP runtime when the condition is false: libgomp
 * starts a team of one thread for the loop, about a microsecond a call on the
 * course's machine. A ring-GAN step makes some 120 such calls on tensors of
 * 256 x 128, a tenth of its time. PAR_FOR writes the loop twice instead, one
 * copy under the pragma and one plain, and the condition picks:
 *     PAR_FOR(n > PAR_MIN, "omp parallel for",
 *             for (long i = 0; i < n; i++) z[i] = x[i] + y[i];);
 * Both copies are the same statements, and every loop given to it computes
 * each element on one thread in a fixed order, so which copy runs never
 * changes a number. PAR_FOR_SIMD keeps a `simd` loop vectorised on one
 * thread too (the plain copy gets "omp simd").
 * Leaves out: nested parallelism (a loop inside a parallel region runs on
 * its thread either way), tasks, and choosing PAR_MIN per machine.
 * The loop is a macro argument: write any pragma inside it as _Pragma("...").
 */
#ifndef PAR_H
#define PAR_H

#define PAR_FOR(big, pragma, ...)                                              \
    do {                                                                       \
        if (big) {                                                             \
            _Pragma(pragma) __VA_ARGS__                                        \
        } else {                                                               \
            __VA_ARGS__                                                        \
        }                                                                      \
    } while (0)

#define PAR_FOR_SIMD(big, pragma, ...)                                         \
    do {                                                                       \
        if (big) {                                                             \
            _Pragma(pragma) __VA_ARGS__                                        \
        } else {                                                               \
            _Pragma("omp simd") __VA_ARGS__                                    \
        }                                                                      \
    } while (0)

#endif
