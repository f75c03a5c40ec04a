/* peak.c - the machine's float FMA peak, at 1 and 2 threads.
 *
 * Teaches: the ceiling every other benchmark is measured against. A core
 * can start a fixed number of fused multiply-adds per cycle; independent
 * chains of them in vector registers, with no memory traffic, reach it
 * (fma_peak_gflops in bench_util.h). A model step's GFLOP/s divided by this
 * number is the share of the machine it uses.
 * It measures at the vector width lib/gemm.c runs at (512 bits where the
 * core has AVX-512, else 256): the ceiling of the kernels we actually run.
 * Leaves out: double precision.
 *
 * Run: make bench (it runs first) or build/bench/peak
 */
#include <omp.h>
#include <stdio.h>

#include "bench_util.h"

int main(void) {
    double load0 = load_average();
    int most = omp_get_num_procs() < 2 ? 1 : 2;
    printf("FMA peak, float, %d chains of %d-bit FMAs per thread (gemm's width), best of 5\n", FMA_CHAINS,
           32 * fma_lanes());
    for (int th = 1; th <= most; th++)
        printf("  peak %d thread%s %7.1f GFLOP/s\n", th, th > 1 ? "s" : " ", fma_peak_gflops(th));
    printf("  load average (1 min) %.2f before, %.2f after, on %d cores\n", load0, load_average(),
           omp_get_num_procs());
    return 0;
}
