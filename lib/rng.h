/* rng.h - the one source of randomness: an explicit, seedable generator.
 *
 * Teaches: reproducible experiments. Nothing in the course calls rand():
 * every random number comes from an Rng the caller owns and seeds, so the
 * same seed gives bit-identical runs. The generator is xoshiro256** (Blackman
 * & Vigna), seeded through splitmix64. Normals use Box-Muller, computed in
 * double so the float and double builds draw the same values.
 * Named streams: every purpose draws from its own stream, derived from the
 * run's seed and a name ("ring/init", "ring/data", ...) by rng_stream, so no
 * two (seed, purpose) pairs share a stream: --seed 1's data stream is never
 * --seed 0's init stream, as seed + k schemes would make it.
 * Leaves out: jumping; to give threads their own stream, name one per thread.
 */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>
#include "real.h"

typedef struct {
    uint64_t s[4];
    double spare;     /* Box-Muller makes normals in pairs */
    int has_spare;
} Rng;

void rng_seed(Rng *r, uint64_t seed);
/* Seed r with the stream called name of the run seeded with seed: a 64-bit
 * FNV-1a hash of the name, mixed with the seed by splitmix64. */
void rng_stream(Rng *r, uint64_t seed, const char *name);
uint64_t rng_u64(Rng *r);
double rng_uniform(Rng *r);               /* [0, 1) with 53 random bits */
double rng_normal(Rng *r);                /* N(0, 1) */
int rng_int(Rng *r, int n);               /* uniform in [0, n) */
void rng_fill_normal(Rng *r, real *x, long n, double mean, double std);
void rng_fill_uniform(Rng *r, real *x, long n, double lo, double hi);
void rng_shuffle(Rng *r, int *a, int n);  /* Fisher-Yates */

#endif
