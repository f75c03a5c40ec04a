/* test_gemm.c - the fast gemm computes the same product as the plain triple loop.
 *
 * Proves: for every transpose case, for sizes that are and are not multiples
 * of the micro-tile and cache blocks, with padded rows (leading dimensions
 * wider than the matrix), with and without accumulate, and for K = 0, gemm
 * and gemm_batched agree with gemm_naive; gemm_packed_b (B packed once) gives
 * gemm's exact bits, and so does gemm_mat with gathered operands (read
 * through offset tables); the threaded result is bit-for-bit the serial one,
 * and the wide (AVX-512) kernel's the narrow one's; gemm called inside a
 * parallel region is correct; bad arguments stop the program with a message.
 * Leaves out: speed (bench/bench_gemm.c measures it).
 *
 * Built in the double build (-DREAL_DOUBLE).
 * Tolerance: |gemm - naive| <= 1e-12 * (|C0| + sum_k |op(A)[i][k] op(B)[k][j]|)
 * per element. Both compute the same sum, only in a different order (KC
 * slices, FMA contraction); each order's rounding error is at most about
 * K * u * sum_k |terms| with u = 1.1e-16, so for K <= 301 both are within
 * ~3.4e-14 of the exact sum relative to that magnitude. 1e-12 leaves a
 * 30x margin yet is 10^4 times tighter than any indexing mistake (which
 * gives errors of order 1 relative to the magnitude).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "util.h"

/* valgrind 3.19 cannot execute AVX-512 instructions, which -march=native may
 * emit for this file's own loops; keep them out so the test runs under it. */
#pragma GCC target("no-avx512f")

#define TOL 1e-12
#define PAD (-777.0) /* written into padding; must survive every call */

/* ------------------------------------------------------------------ helpers */

static unsigned long long rng_state;

static real urand(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (real)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* rows x cols matrix with row stride ld >= cols; padding holds PAD. */
static real *new_matrix(int rows, int cols, int ld) {
    size_t n = (size_t)(rows > 0 ? rows : 1) * (ld > 0 ? ld : 1);
    real *m = malloc(n * sizeof *m);
    cr_assert(m, "out of memory");
    for (size_t i = 0; i < n; i++) m[i] = PAD;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) m[(size_t)i * ld + j] = urand();
    return m;
}

/* Checks C (from gemm) against R (from gemm_naive), both M x N with row
 * stride ldc, using the error bound above; also checks the padding columns
 * of C are untouched. A, B, C0 are the inputs (C0 the initial C). */
static void expect_close(const char *what, int M, int N, int K, const real *A, int lda, int ta, const real *B,
                         int ldb, int tb, const real *C0, int accumulate, const real *C, const real *R, int ldc) {
    double worst = 0, diff_at_worst = 0;
    int wi = -1, wj = -1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double mag = accumulate ? fabs(C0[(size_t)i * ldc + j]) : 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                mag += fabs(a * b);
            }
            double d = fabs((double)C[(size_t)i * ldc + j] - R[(size_t)i * ldc + j]);
            double rel = d / (mag > 0 ? mag : 1e-300);
            if (d > 0 && rel > worst) worst = rel, diff_at_worst = d, wi = i, wj = j;
        }
        for (int j = N; j < ldc; j++)
            cr_assert(C[(size_t)i * ldc + j] == PAD, "%s: padding C[%d][%d] was overwritten", what, i, j);
    }
    cr_assert(worst <= TOL, "%s (M=%d N=%d K=%d ta=%d tb=%d acc=%d): largest relative difference %.3g "
              "(absolute %.3g) at C[%d][%d], tolerance %.0e", what, M, N, K, ta, tb, accumulate, worst,
              diff_at_worst, wi, wj, TOL);
}

/* One full comparison: random op(A), op(B), C0 with padded leading dimensions
 * (extra = 0 for tight rows), gemm vs gemm_naive. */
static void check_case(int M, int N, int K, int ta, int tb, int extra, int accumulate) {
    rng_state = 42 + (unsigned long long)M * 1000003 + N * 1009 + K * 17 + ta * 2 + tb;
    int a_rows = ta ? K : M, a_cols = ta ? M : K, b_rows = tb ? N : K, b_cols = tb ? K : N;
    int lda = a_cols + extra, ldb = b_cols + extra, ldc = N + extra;
    if (lda < 1) lda = 1;
    if (ldb < 1) ldb = 1;
    if (ldc < 1) ldc = 1;
    real *A = new_matrix(a_rows, a_cols, lda), *B = new_matrix(b_rows, b_cols, ldb);
    real *C0 = new_matrix(M, N, ldc);
    size_t nc = (size_t)(M > 0 ? M : 1) * ldc;
    real *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
    memcpy(C, C0, nc * sizeof *C);
    memcpy(R, C0, nc * sizeof *R);
    gemm(M, N, K, A, lda, ta, B, ldb, tb, C, ldc, accumulate);
    gemm_naive(M, N, K, A, lda, ta, B, ldb, tb, R, ldc, accumulate);
    expect_close("gemm vs naive", M, N, K, A, lda, ta, B, ldb, tb, C0, accumulate, C, R, ldc);
    free(A), free(B), free(C0), free(C), free(R);
}

/* Every transpose case, accumulate off and on. */
static void check_all_cases(int M, int N, int K, int extra) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int acc = 0; acc < 2; acc++) check_case(M, N, K, ta, tb, extra, acc);
}

/* ----------------------------------------------------- agreement with naive */

Test(gemm, one_by_one_matches_naive_in_all_transpose_cases) { check_all_cases(1, 1, 1, 0); }

Test(gemm, small_odd_7x5x3_matches_naive_in_all_transpose_cases) { check_all_cases(7, 5, 3, 0); }

Test(gemm, odd_33x65x17_matches_naive_in_all_transpose_cases) { check_all_cases(33, 65, 17, 0); }

/* 157 > MC = 144, 523 > NC = 512, 301 > KC = 256, none a multiple of MR, NR:
 * every block loop runs more than once and ends on a partial block. */
Test(gemm, sizes_crossing_every_block_boundary_match_naive) { check_all_cases(157, 523, 301, 0); }

Test(gemm, leading_dimensions_wider_than_rows_are_respected) {
    check_all_cases(7, 5, 3, 3);
    check_all_cases(33, 65, 17, 5);
    check_all_cases(50, 40, 260, 7);
}

Test(gemm, k_zero_gives_zero_or_leaves_c_unchanged) {
    for (int acc = 0; acc < 2; acc++) {
        real C[3 * 4];
        for (int i = 0; i < 12; i++) C[i] = i + 1;
        real A[1] = {5}, B[1] = {7};
        gemm(3, 4, 0, A, 1, 0, B, 4, 0, C, 4, acc);
        for (int i = 0; i < 12; i++)
            cr_assert(C[i] == (acc ? i + 1 : 0), "K=0 acc=%d: C[%d] = %g, expected %g", acc, i, (double)C[i],
                      (double)(acc ? i + 1 : 0));
    }
    check_all_cases(9, 11, 0, 2); /* the same through the generic checker */
}

Test(gemm, empty_m_or_n_touches_nothing) {
    check_all_cases(0, 5, 3, 1);
    check_all_cases(5, 0, 3, 1);
}

/* ---------------------------------------------------------------- batched */

/* gemm_batched vs a loop of gemm_naive, for a given strideB (0 = shared B). */
static void check_batched(int batch, int M, int N, int K, int ta, int tb, int shared_b, int accumulate) {
    rng_state = 7 + batch + shared_b;
    int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
    long sA = (long)M * K + 3, sB = shared_b ? 0 : (long)K * N + 1, sC = (long)M * N + 2; /* gaps between problems */
    size_t nA = (size_t)sA * batch, nB = shared_b ? (size_t)K * N : (size_t)sB * batch, nC = (size_t)sC * batch;
    real *A = malloc(nA * sizeof *A), *B = malloc(nB * sizeof *B);
    real *C = malloc(nC * sizeof *C), *R = malloc(nC * sizeof *R), *C0 = malloc(nC * sizeof *C0);
    for (size_t i = 0; i < nA; i++) A[i] = urand();
    for (size_t i = 0; i < nB; i++) B[i] = urand();
    for (size_t i = 0; i < nC; i++) C0[i] = C[i] = R[i] = urand();
    gemm_batched(batch, M, N, K, A, lda, sA, ta, B, ldb, sB, tb, C, ldc, sC, accumulate);
    for (int b = 0; b < batch; b++) {
        gemm_naive(M, N, K, A + b * sA, lda, ta, B + b * sB, ldb, tb, R + b * sC, ldc, accumulate);
        expect_close("gemm_batched vs naive", M, N, K, A + b * sA, lda, ta, B + b * sB, ldb, tb, C0 + b * sC,
                     accumulate, C + b * sC, R + b * sC, ldc);
        for (long g = (long)M * N; g < sC; g++) /* the gap after each C is not touched */
            cr_assert(C[b * sC + g] == C0[b * sC + g], "gemm_batched wrote outside problem %d's C", b);
    }
    free(A), free(B), free(C), free(R), free(C0);
}

/* The attention shape: many small products, run one product per thread. */
Test(gemm_batched, many_small_products_match_naive_with_own_and_shared_b) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int shared = 0; shared < 2; shared++) check_batched(128, 64, 64, 32, ta, tb, shared, ta ^ tb);
}

/* Few large products: threads inside each product instead. */
Test(gemm_batched, few_large_products_match_naive_with_own_and_shared_b) {
    for (int shared = 0; shared < 2; shared++) check_batched(3, 200, 170, 260, 0, 1, shared, shared);
}

Test(gemm_batched, odd_sizes_and_k_zero_match_naive) {
    check_batched(5, 7, 5, 3, 1, 0, 0, 1);
    check_batched(4, 3, 6, 0, 0, 0, 1, 0);
}

/* ---------------------------------------------------------- determinism */

/* Runs gemm (accumulating onto 0.5) with nt threads; returns the new C.
 * A, B: stored for (ta, tb) with tight rows. */
static real *run_with_threads(int nt, int M, int N, int K, int ta, int tb, const real *A, const real *B) {
    real *C = malloc((size_t)M * N * sizeof *C);
    for (size_t i = 0; i < (size_t)M * N; i++) C[i] = 0.5;
    omp_set_num_threads(nt);
    gemm(M, N, K, A, ta ? M : K, ta, B, tb ? K : N, tb, C, N, 1);
    return C;
}

/* 200 x 190 x 300 is above the threading threshold and is split by rows
 * (M >= N); 90 x 261 x 400 is split by columns. Every transpose case. */
Test(gemm, one_and_two_threads_give_identical_bits) {
    int shapes[2][3] = {{200, 190, 300}, {90, 261, 400}};
    for (int s = 0; s < 2; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                cr_assert((double)M * N * K >= GEMM_PARALLEL_MIN_FMAS,
                          "%d x %d x %d is below GEMM_PARALLEL_MIN_FMAS: one thread would do it all", M, N, K);
                rng_state = 99;
                real *A = new_matrix(ta ? K : M, ta ? M : K, ta ? M : K);
                real *B = new_matrix(tb ? N : K, tb ? K : N, tb ? K : N);
                real *C1 = run_with_threads(1, M, N, K, ta, tb, A, B);
                real *C2 = run_with_threads(2, M, N, K, ta, tb, A, B);
                size_t first = (size_t)-1;
                for (size_t i = 0; i < (size_t)M * N && first == (size_t)-1; i++)
                    if (memcmp(&C1[i], &C2[i], sizeof(real))) first = i;
                cr_assert(first == (size_t)-1, "ta=%d tb=%d: 1 vs 2 threads differ at C[%zu][%zu]: %.17g vs %.17g",
                          ta, tb, first / N, first % N, (double)C1[first], (double)C2[first]);
                free(A), free(B), free(C1), free(C2);
            }
    omp_set_num_threads(2);
}

/* Batched, one product per thread vs all products on one thread. */
Test(gemm_batched, one_and_two_threads_give_identical_bits) {
    int batch = 64, M = 64, N = 64, K = 64;
    cr_assert((double)batch * M * N * K >= GEMM_PARALLEL_MIN_FMAS && (double)M * N * K < 128.0 * 128 * 128,
              "the batch must take gemm_batched's one-product-per-thread path");
    rng_state = 5;
    real *A = new_matrix(batch * M, K, K), *B = new_matrix(K, N, N);
    real *C[2];
    for (int t = 0; t < 2; t++) {
        C[t] = calloc((size_t)batch * M * N, sizeof(real));
        omp_set_num_threads(t + 1);
        gemm_batched(batch, M, N, K, A, K, (long)M * K, 0, B, N, 0, 0, C[t], N, (long)M * N, 0);
    }
    omp_set_num_threads(2);
    cr_assert(memcmp(C[0], C[1], (size_t)batch * M * N * sizeof(real)) == 0, "batched: 1 vs 2 threads differ");
    free(A), free(B), free(C[0]), free(C[1]);
}

/* Inside a parallel region gemm runs serially on each calling thread; each
 * thread's product must still be right (its pack buffers are its own). */
Test(gemm, calls_from_inside_a_parallel_region_are_correct) {
    int M = 130, N = 120, K = 270;
    rng_state = 11;
    real *A = new_matrix(M, K, K), *B = new_matrix(K, N, N);
    real *R = calloc((size_t)M * N, sizeof *R);
    gemm_naive(M, N, K, A, K, 0, B, N, 0, R, N, 0);
    real *C[2] = {calloc((size_t)M * N, sizeof(real)), calloc((size_t)M * N, sizeof(real))};
    omp_set_num_threads(2);
#pragma omp parallel num_threads(2)
    gemm(M, N, K, A, K, 0, B, N, 0, C[omp_get_thread_num()], N, 0);
    for (int t = 0; t < 2; t++)
        expect_close("gemm inside a parallel region", M, N, K, A, K, 0, B, N, 0, NULL, 0, C[t], R, N);
    free(A), free(B), free(R), free(C[0]), free(C[1]);
}

/* ------------------------------------------------------ pre-packed B */

/* gemm_packed_b with B packed once by gemm_pack_b gives exactly gemm's bits,
 * for both tb, accumulate off and on, sizes that cross the NC column block
 * (N = 523 > 512) and the KC slice (K = 301 > 256) and leave edge tiles, and
 * a padded B (ldb wider than its rows). Exact: the same products in the same
 * order; only where the packed panels come from differs. */
Test(gemm_packed_b, gives_the_same_bits_as_gemm) {
    const int M = 37, N = 523, K = 301, extra = 3;
    for (int tb = 0; tb < 2; tb++)
        for (int acc = 0; acc < 2; acc++) {
            rng_state = 77 + tb;
            int ldb = (tb ? K : N) + extra;
            real *A = new_matrix(M, K, K), *B = new_matrix(tb ? N : K, tb ? K : N, ldb);
            real *C0 = new_matrix(M, N, N);
            real *C = malloc((size_t)M * N * sizeof *C), *R = malloc((size_t)M * N * sizeof *R);
            real *Bp = aligned_alloc(32, ((size_t)gemm_packed_b_size(N, K) * sizeof(real) + 31) / 32 * 32);
            cr_assert(Bp, "out of memory");
            memcpy(C, C0, (size_t)M * N * sizeof *C), memcpy(R, C0, (size_t)M * N * sizeof *R);
            gemm_pack_b(N, K, B, ldb, tb, Bp);
            gemm_packed_b(M, N, K, A, K, 0, Bp, C, N, acc);
            gemm(M, N, K, A, K, 0, B, ldb, tb, R, N, acc);
            for (size_t i = 0; i < (size_t)M * N; i++)
                cr_assert(memcmp(&C[i], &R[i], sizeof(real)) == 0, "tb=%d acc=%d: C[%zu][%zu] = %.17g, gemm gives %.17g",
                          tb, acc, i / N, i % N, (double)C[i], (double)R[i]);
            free(A), free(B), free(C0), free(C), free(R), free(Bp);
        }
}

/* The wide (AVX-512) kernel and the 256-bit one give the same bits: the
 * same FMAs per element in the same order. Every transpose case, with and
 * without accumulate, edge tiles in both directions (M = 37: 6 rows and a
 * 1-row tail; N = 523: pairs of panels, a lone panel, a partial one), more
 * than one KC slice (K = 301) and NC block (N > 512). Skipped where the core
 * has no AVX-512 (gemm_wide(1) stays off). */
Test(gemm, wide_and_narrow_kernels_give_identical_bits) {
    const int M = 37, N = 523, K = 301;
    if (!gemm_wide(1)) cr_skip_test("this core has no AVX-512: only the narrow kernel runs here");
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int acc = 0; acc < 2; acc++) {
                rng_state = 31 + ta + 2 * tb;
                real *A = new_matrix(ta ? K : M, ta ? M : K, ta ? M : K);
                real *B = new_matrix(tb ? N : K, tb ? K : N, tb ? K : N);
                real *C[2];
                for (int w = 0; w < 2; w++) {
                    rng_state = 5;
                    C[w] = new_matrix(M, N, N);
                    gemm_wide(w);
                    gemm(M, N, K, A, ta ? M : K, ta, B, tb ? K : N, tb, C[w], N, acc);
                }
                for (size_t i = 0; i < (size_t)M * N; i++)
                    cr_assert(memcmp(&C[0][i], &C[1][i], sizeof(real)) == 0,
                              "ta=%d tb=%d acc=%d: C[%zu][%zu] narrow %.17g, wide %.17g", ta, tb, acc, i / N, i % N,
                              (double)C[0][i], (double)C[1][i]);
                free(A), free(B), free(C[0]), free(C[1]);
            }
}

/* ------------------------------------------------------ gathered op(A) */

/* gemm_mat with a gathered operand (entry (r, c) at S[row[r] + col[c]]: a
 * convolution's windows in its image) gives exactly the bits of gemm on that
 * operand copied out into a matrix: the same products in the same order.
 * A gathered, B gathered, both, and A gathered with B packed
 * (gemm_mat_packed_b); windows that overlap (random offsets into a small
 * S), both tb for a stored B, accumulate off and on, both kernels, 1 and 2
 * threads (157 x 523 x 301 is above gemm's threading threshold), edge
 * tiles, more than one KC slice and NC block. */

/* rows x cols gathered from S at random offsets (overlapping), and copied out. */
static real *gathered(const real *S, int SN, int rows, int cols, long **row, long **col) {
    real *X = malloc((size_t)rows * cols * sizeof *X);
    *row = malloc(rows * sizeof **row), *col = malloc(cols * sizeof **col);
    cr_assert(X && *row && *col, "out of memory");
    for (int r = 0; r < rows; r++) (*row)[r] = (long)((urand() + 1) * 0.5 * (SN / 2));
    for (int c = 0; c < cols; c++) (*col)[c] = (long)((urand() + 1) * 0.5 * (SN / 2 - 1));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) X[(size_t)r * cols + c] = S[(*row)[r] + (*col)[c]];
    return X;
}

Test(gemm_mat, gathered_operands_give_the_bits_of_gemm_on_them_copied_out) {
    const int M = 157, N = 523, K = 301, SN = 4096;
    rng_state = 123;
    real *S = new_matrix(1, SN, SN);
    long *ar, *ac, *br, *bc;
    real *A = gathered(S, SN, M, K, &ar, &ac), *Bg = gathered(S, SN, K, N, &br, &bc);
    real *Bp = aligned_alloc(32, ((size_t)gemm_packed_b_size(N, K) * sizeof(real) + 31) / 32 * 32);
    cr_assert(Bp, "out of memory");
    const GemmMat ga = gemm_gathered(S, ar, ac), gb = gemm_gathered(S, br, bc);
    for (int wide = 0; wide < 2; wide++) {
        if (wide && !gemm_wide(1)) continue; /* no AVX-512 here: the narrow kernel only */
        gemm_wide(wide);
        for (int tb = 0; tb < 2; tb++)
            for (int acc = 0; acc < 2; acc++)
                for (int nt = 1; nt <= 2; nt++) {
                    real *B = new_matrix(tb ? N : K, tb ? K : N, tb ? K : N), *C0 = new_matrix(M, N, N);
                    real *R[2], *C[4];
                    for (int v = 0; v < 2; v++) R[v] = malloc((size_t)M * N * sizeof *R[v]);
                    for (int v = 0; v < 4; v++) C[v] = malloc((size_t)M * N * sizeof *C[v]);
                    for (int v = 0; v < 2; v++) memcpy(R[v], C0, (size_t)M * N * sizeof *R[v]);
                    for (int v = 0; v < 4; v++) memcpy(C[v], C0, (size_t)M * N * sizeof *C[v]);
                    omp_set_num_threads(nt);
                    const GemmMat sb = gemm_stored(B, tb ? K : N, tb);
                    gemm(M, N, K, A, K, 0, B, tb ? K : N, tb, R[0], N, acc);  /* A copied out, B stored */
                    gemm(M, N, K, A, K, 0, Bg, N, 0, R[1], N, acc);           /* both copied out */
                    gemm_mat(M, N, K, ga, sb, C[0], N, acc);
                    gemm_pack_b(N, K, B, tb ? K : N, tb, Bp);
                    gemm_mat_packed_b(M, N, K, ga, Bp, C[1], N, acc);
                    gemm_mat(M, N, K, gemm_stored(A, K, 0), gb, C[2], N, acc);
                    gemm_mat(M, N, K, ga, gb, C[3], N, acc);
                    static const char *what[4] = {"A gathered", "A gathered, B packed", "B gathered", "both gathered"};
                    for (int v = 0; v < 4; v++) {
                        const real *want = v < 2 ? R[0] : R[1];
                        for (size_t i = 0; i < (size_t)M * N; i++)
                            cr_assert(memcmp(&C[v][i], &want[i], sizeof(real)) == 0,
                                      "%s, wide=%d tb=%d acc=%d threads=%d: C[%zu][%zu] = %.17g, gemm gives %.17g",
                                      what[v], wide, tb, acc, nt, i / N, i % N, (double)C[v][i], (double)want[i]);
                    }
                    free(B), free(C0), free(R[0]), free(R[1]);
                    for (int v = 0; v < 4; v++) free(C[v]);
                }
    }
    gemm_wide(1);
    omp_set_num_threads(omp_get_num_procs());
    free(S), free(A), free(Bg), free(ar), free(ac), free(br), free(bc), free(Bp);
}

Test(gemm_mat, one_offset_table_without_the_other_exits_with_a_message, .exit_code = EXIT_SOFTWARE) {
    real x[16] = {0};
    long col[2] = {0, 1};
    gemm_mat(2, 2, 2, (GemmMat){.p = x, .col = col}, gemm_stored(x, 2, 0), x, 2, 0);
}

Test(gemm_packed_b, unaligned_destination_exits_with_a_message, .exit_code = EXIT_SOFTWARE) {
    static real buf[64] __attribute__((aligned(32))), b[4] = {1, 2, 3, 4};
    gemm_pack_b(2, 2, b, 2, 0, buf + 1);
}

/* -------------------------------------------------------------- bad input */

Test(gemm, negative_size_exits_with_a_message, .exit_code = EXIT_SOFTWARE) {
    real x[4] = {0};
    gemm(-1, 2, 2, x, 2, 0, x, 2, 0, x, 2, 0);
}

Test(gemm, too_small_leading_dimension_exits_with_a_message, .exit_code = EXIT_SOFTWARE) {
    real x[16] = {0};
    gemm(2, 4, 3, x, 2 /* < K = 3 */, 0, x, 4, 0, x, 4, 0);
}
