/* bench_gemm.c - how fast is the library's gemm, against the naive loop and OpenBLAS?
 *
 * Teaches: how to measure a kernel honestly: warm up first, repeat, report
 * the median, count 2*M*N*K flops, and check the fast answer against a slow
 * obviously-right one before believing any speed.
 * Leaves out: other BLAS libraries, double precision, shapes the course
 * never uses.
 *
 * Build and run (float build):
 *   gcc -O2 -march=native -fopenmp -Ilib bench/bench_gemm.c lib/gemm.c -lopenblas -lm -o build/bench_gemm
 *   ./build/bench_gemm            (or --quick: fewer repetitions)
 *
 * Shapes are the ones the chapters run: square 128/256/512, the VAE layer
 * 128x784 @ 784x400, GPT layers with 2048 tokens (32 x 64) by width 128,
 * 384 (qkv) and 512 (MLP), and the MLP's way back 512 -> 128. Each forward
 * product C = A @ B (NN) is also timed as its two backward products:
 * dA = dC @ B^T (NT) and dB = A^T @ dC (TN).
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

#ifdef REAL_DOUBLE
#error "bench_gemm compares against sgemm: build it without -DREAL_DOUBLE"
#endif

void openblas_set_num_threads(int num_threads); /* from OpenBLAS, not in every cblas.h */

/* ------------------------------------------------------------- the shapes */

typedef struct {
    int M, N, K, ta, tb;
    const char *what;
} Shape;

#define MAX_SHAPES 64
static Shape shapes[MAX_SHAPES];
static int n_shapes;

/* Adds the forward product (M x K) @ (K x N) and its two backward products. */
static void add_layer(int M, int N, int K, const char *what, int with_tt) {
    shapes[n_shapes++] = (Shape){M, N, K, 0, 0, what};     /* C  = A  @ B   */
    shapes[n_shapes++] = (Shape){M, K, N, 0, 1, "  dA"};   /* dA = dC @ B^T */
    shapes[n_shapes++] = (Shape){K, N, M, 1, 0, "  dB"};   /* dB = A^T @ dC */
    if (with_tt) shapes[n_shapes++] = (Shape){M, N, K, 1, 1, "  TT"};
}

/* ------------------------------------------------------------------ timing */

static float urand(unsigned long long *s) { /* uniform in [-1, 1) */
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { NAIVE, OURS, BLAS };

static void run(int which, const Shape *s, const float *A, const float *B, float *C) {
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    if (which == NAIVE)
        gemm_naive(s->M, s->N, s->K, A, lda, s->ta, B, ldb, s->tb, C, s->N, 0);
    else if (which == OURS)
        gemm(s->M, s->N, s->K, A, lda, s->ta, B, ldb, s->tb, C, s->N, 0);
    else
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                    s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
}

/* Median GFLOP/s over `reps` timings; each timing repeats the call enough
 * times to last about `min_sec` (so tiny shapes are not lost in timer noise). */
static double gflops(int which, const Shape *s, const float *A, const float *B, float *C, int reps, double min_sec) {
    double flop = 2.0 * s->M * s->N * s->K, t[64];
    double t0 = omp_get_wtime(); /* warm up: caches, page faults, starting the thread pool */
    do run(which, s, A, B, C); while (which != NAIVE && omp_get_wtime() - t0 < 0.05);
    t0 = omp_get_wtime();
    run(which, s, A, B, C);
    double one = omp_get_wtime() - t0;
    int inner = one > 0 ? (int)(min_sec / one) + 1 : 1000;
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        t0 = omp_get_wtime();
        for (int i = 0; i < inner; i++) run(which, s, A, B, C);
        t[r] = (omp_get_wtime() - t0) / inner;
    }
    qsort(t, reps, sizeof t[0], cmp_double);
    return flop / t[reps / 2] * 1e-9;
}

/* ------------------------------------------------------------------- main */

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 1;
    }
    FILE *la = fopen("/proc/loadavg", "r"); /* other programs on the cores make 2-thread numbers meaningless */
    char load[64] = "?";
    if (la) {
        if (!fgets(load, sizeof load, la)) strcpy(load, "?\n");
        fclose(la);
    }
    int reps = quick ? 3 : 9;
    double min_sec = quick ? 0.005 : 0.02;

    add_layer(128, 128, 128, "square 128", 1);
    add_layer(256, 256, 256, "square 256", 1);
    add_layer(512, 512, 512, "square 512", 1);
    add_layer(128, 400, 784, "128x784 @ 784x400", 0);
    add_layer(2048, 384, 128, "2048x128 @ 128x384", 0);
    add_layer(2048, 512, 128, "2048x128 @ 128x512", 0);
    add_layer(2048, 128, 512, "2048x512 @ 512x128", 0);

    double naive[MAX_SHAPES], ours1[MAX_SHAPES], ours2[MAX_SHAPES], blas1[MAX_SHAPES], blas2[MAX_SHAPES];
    double err[MAX_SHAPES];
    int max_threads = omp_get_max_threads() < 2 ? omp_get_max_threads() : 2;

    /* All of ours first, then all of OpenBLAS: OpenBLAS's own worker threads
     * keep spinning for a while after a call and would steal our cores. */
    for (int i = 0; i < n_shapes; i++) {
        const Shape *s = &shapes[i];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
        float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
        if (!A || !B || !C || !R) { fprintf(stderr, "bench_gemm: out of memory\n"); return 1; }
        unsigned long long seed = 1234 + i;
        for (size_t j = 0; j < na; j++) A[j] = urand(&seed);
        for (size_t j = 0; j < nb; j++) B[j] = urand(&seed);

        double flop = 2.0 * s->M * s->N * s->K;
        naive[i] = gflops(NAIVE, s, A, B, R, flop > 1e8 ? 1 : 3, 0.0);
        omp_set_num_threads(1);
        ours1[i] = gflops(OURS, s, A, B, C, reps, min_sec);
        omp_set_num_threads(max_threads);
        ours2[i] = gflops(OURS, s, A, B, C, reps, min_sec);

        double dmax = 0, mag = 0; /* ours vs naive, relative to the largest |C| */
        for (size_t j = 0; j < nc; j++) {
            dmax = fmax(dmax, fabs((double)C[j] - R[j]));
            mag = fmax(mag, fabs((double)R[j]));
        }
        err[i] = mag > 0 ? dmax / mag : dmax;
        free(A), free(B), free(C), free(R);
    }
    for (int i = 0; i < n_shapes; i++) {
        const Shape *s = &shapes[i];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
        if (!A || !B || !C) { fprintf(stderr, "bench_gemm: out of memory\n"); return 1; }
        unsigned long long seed = 1234 + i;
        for (size_t j = 0; j < na; j++) A[j] = urand(&seed);
        for (size_t j = 0; j < nb; j++) B[j] = urand(&seed);
        openblas_set_num_threads(1);
        blas1[i] = gflops(BLAS, s, A, B, C, reps, min_sec);
        openblas_set_num_threads(max_threads);
        blas2[i] = gflops(BLAS, s, A, B, C, reps, min_sec);
        free(A), free(B), free(C);
    }

    printf("gemm benchmark, float, GFLOP/s (median of %d), ours vs OpenBLAS sgemm, threads 1 and %d\n", reps, max_threads);
    printf("load average before the run (should be well below 1): %s", load);
    printf("%-20s %4s %4s %4s %2s | %7s | %7s %7s | %7s %7s | %5s %5s | %9s\n", "shape", "M", "N", "K", "op",
           "naive", "ours1", "ours2", "blas1", "blas2", "r1", "r2", "rel.err");
    double worst = 1e9;
    for (int i = 0; i < n_shapes; i++) {
        const Shape *s = &shapes[i];
        char op[3] = {s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', 0};
        double r1 = ours1[i] / blas1[i], r2 = ours2[i] / blas2[i];
        worst = fmin(worst, fmin(r1, r2));
        printf("%-20s %4d %4d %4d %2s | %7.1f | %7.1f %7.1f | %7.1f %7.1f | %5.2f %5.2f | %9.2e\n", s->what, s->M, s->N,
               s->K, op, naive[i], ours1[i], ours2[i], blas1[i], blas2[i], r1, r2, err[i]);
    }
    printf("r1, r2 = ours / OpenBLAS at 1 and %d threads; worst ratio %.2f\n", max_threads, worst);
    printf("rel.err = max |ours - naive| / max |naive| (float: expect ~1e-6)\n");
    return 0;
}
