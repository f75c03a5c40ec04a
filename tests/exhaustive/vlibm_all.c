/* vlibm_all.c - lib/vlibm.c against libm on every one of the 2^32 floats.
 *
 * Proves: vlibm_expf(x), vlibm_log1pf(x) and vlibm_tanhf(x) have the bits
 * of libm's expf(x), log1pf(x) and tanhf(x) for every float x (NaNs,
 * infinities, subnormals, both zeros included), which is what lets the BCE
 * loss and the tanh op use them without changing a single record. The fast
 * paths are the point (expf for |x| < 88, log1pf on [0, 1], tanhf for all
 * but NaN); the other inputs go to libm inside vlibm, and are checked all
 * the same.
 * Run: make check-vlibm (not part of make check: about a minute on 2 cores;
 * the sampled check in tests/test_vlibm.c is). Exits 1 at the first
 * difference, printing it.
 */
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlibm.h"

enum { CHUNK = 1 << 16 };

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* the first input whose bits differ, for one function, over all 2^32 floats;
 * returns the number of differences */
static long check(const char *name, void (*vec)(float *, const float *, long), float (*ref)(float)) {
    long bad = 0;
    double t0 = omp_get_wtime();
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : bad)
    for (long c = 0; c < (1L << 32) / CHUNK; c++) {
        float x[CHUNK], y[CHUNK];
        for (long i = 0; i < CHUNK; i++) {
            uint32_t u = (uint32_t)(c * CHUNK + i);
            memcpy(&x[i], &u, sizeof u);
        }
        vec(y, x, CHUNK);
        for (long i = 0; i < CHUNK; i++) {
            float want = ref(x[i]);
            if (bits(y[i]) != bits(want)) {
                if (bad == 0)
#pragma omp critical
                    printf("%s(%a) [0x%08" PRIx32 "]: vlibm %a [0x%08" PRIx32 "], libm %a [0x%08" PRIx32 "]\n", name,
                           x[i], bits(x[i]), y[i], bits(y[i]), want, bits(want));
                bad++;
            }
        }
    }
    printf("%-7s all 2^32 floats: %ld differ from libm (%.1f s, %d threads)\n", name, bad, omp_get_wtime() - t0,
           omp_get_max_threads());
    return bad;
}

static float libm_expf(float x) { return expf(x); }
static float libm_log1pf(float x) { return log1pf(x); }
static float libm_tanhf(float x) { return tanhf(x); }

int main(void) {
    long bad = check("expf", vlibm_expf, libm_expf);
    bad += check("log1pf", vlibm_log1pf, libm_log1pf);
    bad += check("tanhf", vlibm_tanhf, libm_tanhf);
    return bad ? 1 : 0;
}
