/* test_rng.c - the seedable generator.
 *
 * Proves: one seed gives one stream, bit for bit (uniform, normal, int, the
 * fill helpers, shuffle); another seed gives another; uniforms lie in [0, 1)
 * with mean 1/2 and variance 1/12; normals have mean 0 and std 1; rng_int
 * stays in [0, n); a shuffle is a permutation.
 * Tolerances, over n = 100,000 draws with a fixed seed: a mean within 5
 * standard errors (5 sigma/sqrt(n)); a std within 1 % (its standard error is
 * 0.22 % for a normal, 0.14 % for a uniform).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "rng.h"

#define N 100000

Test(rng, same_seed_gives_identical_streams) {
    Rng a, b;
    rng_seed(&a, 1234);
    rng_seed(&b, 1234);
    for (int i = 0; i < 1000; i++) {
        double ua = rng_uniform(&a), ub = rng_uniform(&b);
        cr_assert(memcmp(&ua, &ub, sizeof ua) == 0, "uniform draw %d differs: %.17g vs %.17g", i, ua, ub);
        double na = rng_normal(&a), nb = rng_normal(&b);
        cr_assert(memcmp(&na, &nb, sizeof na) == 0, "normal draw %d differs: %.17g vs %.17g", i, na, nb);
        int ia = rng_int(&a, 97), ib = rng_int(&b, 97);
        cr_assert(ia == ib, "int draw %d differs: %d vs %d", i, ia, ib);
    }
    real fa[257], fb[257];
    rng_fill_normal(&a, fa, 257, 1.0, 0.5);
    rng_fill_normal(&b, fb, 257, 1.0, 0.5);
    cr_assert(memcmp(fa, fb, sizeof fa) == 0, "rng_fill_normal differs");
    rng_fill_uniform(&a, fa, 257, -2, 3);
    rng_fill_uniform(&b, fb, 257, -2, 3);
    cr_assert(memcmp(fa, fb, sizeof fa) == 0, "rng_fill_uniform differs");
}

Test(rng, reseeding_restarts_the_stream) {
    /* rng_seed also drops a pending Box-Muller spare: an odd number of
     * normals before reseeding must not shift the new stream. */
    Rng a;
    rng_seed(&a, 7);
    double first[5];
    for (int i = 0; i < 5; i++) first[i] = rng_normal(&a);
    rng_seed(&a, 7);
    for (int i = 0; i < 5; i++) {
        double x = rng_normal(&a);
        cr_assert(memcmp(&x, &first[i], sizeof x) == 0, "draw %d after reseeding: %.17g, first time %.17g", i, x,
                  first[i]);
    }
}

Test(rng, different_seeds_give_different_streams) {
    Rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    int same_u = 0, same_n = 0;
    for (int i = 0; i < 1000; i++) {
        same_u += rng_uniform(&a) == rng_uniform(&b);
        same_n += rng_normal(&a) == rng_normal(&b);
    }
    /* Equal 53-bit doubles by chance: probability ~1e-13 per draw. */
    cr_assert(same_u == 0 && same_n == 0, "seeds 1 and 2 share %d uniform and %d normal draws of 1000", same_u,
              same_n);
}

Test(rng, uniform_lies_in_0_1_with_mean_half_and_variance_twelfth) {
    Rng r;
    rng_seed(&r, 11);
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < N; i++) {
        double u = rng_uniform(&r);
        cr_assert(u >= 0.0 && u < 1.0, "draw %d = %.17g is outside [0, 1)", i, u);
        s += u, s2 += u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    double mean = s / N, sd = sqrt(s2 / N - mean * mean), want_sd = sqrt(1.0 / 12);
    cr_assert(fabs(mean - 0.5) <= 5 * want_sd / sqrt(N), "mean %.6f, want 0.5 within %.2e", mean,
              5 * want_sd / sqrt(N));
    cr_assert(fabs(sd / want_sd - 1) <= 0.01, "std %.6f, want %.6f within 1 %%", sd, want_sd);
    cr_assert(lo < 1e-3 && hi > 1 - 1e-3, "draws span only [%.6f, %.6f]", lo, hi);
}

Test(rng, normal_has_mean_0_and_std_1) {
    Rng r;
    rng_seed(&r, 12);
    double s = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        double x = rng_normal(&r);
        cr_assert(isfinite(x), "draw %d is %g", i, x);
        s += x, s2 += x * x;
    }
    double mean = s / N, sd = sqrt(s2 / N - mean * mean);
    cr_assert(fabs(mean) <= 5 / sqrt(N), "mean %.6f, want 0 within %.2e", mean, 5 / sqrt(N));
    cr_assert(fabs(sd - 1) <= 0.01, "std %.6f, want 1 within 1 %%", sd);
}

Test(rng, int_stays_in_range_and_hits_every_value) {
    Rng r;
    rng_seed(&r, 13);
    int hits[10] = {0};
    for (int i = 0; i < 10000; i++) {
        int k = rng_int(&r, 10);
        cr_assert(k >= 0 && k < 10, "rng_int(10) gave %d", k);
        hits[k]++;
    }
    /* expected 1000 each, std ~30: 800 is 6.7 std away */
    for (int k = 0; k < 10; k++) cr_assert(hits[k] > 800 && hits[k] < 1200, "value %d drawn %d times of 10000", k, hits[k]);
}

Test(rng, shuffle_is_a_permutation) {
    enum { M = 1000 };
    static int a[M];
    int seen[M] = {0}, moved = 0;
    for (int i = 0; i < M; i++) a[i] = i;
    Rng r;
    rng_seed(&r, 14);
    rng_shuffle(&r, a, M);
    for (int i = 0; i < M; i++) {
        cr_assert(a[i] >= 0 && a[i] < M, "entry %d = %d is out of range", i, a[i]);
        cr_assert(!seen[a[i]]++, "value %d appears twice", a[i]);
        moved += a[i] != i;
    }
    cr_assert(moved > M / 2, "only %d of %d entries moved", moved, M);
    /* same seed, same permutation */
    int b[M];
    for (int i = 0; i < M; i++) b[i] = i;
    rng_seed(&r, 14);
    rng_shuffle(&r, b, M);
    cr_assert(memcmp(a, b, sizeof b) == 0, "seed 14 twice gave different permutations");
}

/* Named streams: the first draws of every (seed, name) pair for seeds 0..15
 * and six names are pairwise distinct (a shared stream would repeat a first
 * draw exactly); and one (seed, name) pair always gives the same stream. */
Test(rng, named_streams_are_distinct_for_nearby_seeds_and_names) {
    static const char *const names[] = {"init", "data", "noise", "ring/init", "ring/data", "gpt/batches"};
    enum { SEEDS = 16, NAMES = 6 };
    uint64_t first[SEEDS * NAMES];
    for (int s = 0; s < SEEDS; s++)
        for (int k = 0; k < NAMES; k++) {
            Rng r;
            rng_stream(&r, (uint64_t)s, names[k]);
            first[s * NAMES + k] = rng_u64(&r);
        }
    for (int i = 0; i < SEEDS * NAMES; i++)
        for (int j = i + 1; j < SEEDS * NAMES; j++)
            cr_assert(first[i] != first[j], "(seed %d, '%s') and (seed %d, '%s') share a stream", i / NAMES,
                      names[i % NAMES], j / NAMES, names[j % NAMES]);
    Rng a, b;
    rng_stream(&a, 7, "data");
    rng_stream(&b, 7, "data");
    for (int i = 0; i < 100; i++) cr_assert(rng_u64(&a) == rng_u64(&b), "draw %d of one named stream differs", i);
}
