/* gemm.h - the library's matrix multiply: C = op(A) @ op(B), row-major.
 *
 * Teaches: the one routine every layer spends its time in (linear layers,
 * attention, convolution via im2col), and the interface BLAS gives it:
 * sizes, leading dimensions (row strides), transpose flags, accumulate.
 * Leaves out: alpha/beta scaling (accumulate is beta = 1, otherwise beta = 0,
 * alpha is always 1) and complex numbers.
 *
 * Dimension key:  M = rows of C,  N = columns of C,  K = the summed dimension.
 *
 * Results are deterministic: each element of C is computed by one thread,
 * summing over K in a fixed order, so 1 and 2 threads give the same bits.
 * gemm is safe to call from inside an OpenMP parallel region (it then runs
 * serially on the calling thread).
 */
#ifndef GEMM_H
#define GEMM_H

#include "real.h"

/* gemm sums over K in slices of GEMM_KC terms: each element of C becomes
 * (((C + s_0) + s_1) + ...) (without the first C unless accumulating), s_i
 * the sum of slice i's products in order. So a caller that splits K at
 * multiples of GEMM_KC into calls with accumulate = 1 gets the same bits as
 * one call (t_linear's backward does, to work on a block of rows at a time). */
#ifndef GEMM_KC /* may be overridden with -D when tuning, as gemm.c's MC and NC */
#define GEMM_KC 256
#endif

/* gemm splits one product over the threads only from this many
 * multiply-adds (M N K) on; below, one thread does it. Measured inside a
 * step, not alone: the ring GAN's 256 x 128 x 128 products (4.2 M) ran a
 * little faster on two threads by themselves, but the step around them ran
 * about 13 % slower (the ops after a product, on one thread, read rows the
 * other core wrote). The tests size their threaded products from it.
 * A long sum into a small C (at most 4096 elements: a weight's gradient
 * summed over a whole batch, such as D's Conv 1->32, 9 x 32 x 12544) is
 * split from an eighth of it: nothing after it reads rows of C, and that
 * layer's backward at 2 threads went from 0.56 to 0.37 ms (bench_conv). */
#ifndef GEMM_PARALLEL_MIN_FMAS
#define GEMM_PARALLEL_MIN_FMAS (256.0 * 256 * 128)
#endif

/* C[M,N] = (accumulate ? C : 0) + op(A)[M,K] @ op(B)[K,N], all row-major.
 * op(A) = A     (A stored M x K, row stride lda >= K) when ta == 0
 *       = A^T   (A stored K x M, row stride lda >= M) when ta == 1
 * op(B) = B     (B stored K x N, ldb >= N) when tb == 0
 *       = B^T   (B stored N x K, ldb >= K) when tb == 1
 * C stored M x N, ldc >= N. K == 0 is allowed (C = 0 or unchanged). */
void gemm(int M, int N, int K, const real *A, int lda, int ta,
          const real *B, int ldb, int tb, real *C, int ldc, int accumulate);

/* The same over `batch` independent problems, A/B/C advanced by strideA/strideB/strideC
 * elements per problem (strideB may be 0: one B shared by all). Parallel over the batch when
 * the batch is large and the matrices small (attention: batch 128 of 64x16 by 16x64). */
void gemm_batched(int batch, int M, int N, int K, const real *A, int lda, long strideA, int ta,
                  const real *B, int ldb, long strideB, int tb, real *C, int ldc, long strideC, int accumulate);

/* One op(B) shared by many products (a convolution's weight, multiplied by
 * each image of a batch): pack it once into dst [gemm_packed_b_size(N, K)]
 * (32-byte aligned, e.g. from the tape's arena); gemm_packed_b then runs
 * C = (accumulate ? C : 0) + op(A) @ op(B) on the calling thread only (call
 * it from the threads of a parallel loop, each with its own A and C), with
 * the same bits as gemm(M, N, K, A, lda, ta, B, ldb, tb, C, ldc, accumulate). */
long gemm_packed_b_size(int N, int K);
void gemm_pack_b(int N, int K, const real *B, int ldb, int tb, real *dst);
void gemm_packed_b(int M, int N, int K, const real *A, int lda, int ta, const real *Bpacked, real *C, int ldc,
                   int accumulate);

/* An operand as gemm_mat reads it: stored, or gathered.
 *   stored   (gemm_stored): row stride ld, trans as gemm's ta / tb;
 *   gathered (gemm_gathered): entry (r, c) of op(X) is p[row[r] + col[c]],
 *            for the r < rows and c < cols op(X) has.
 * Gathered, a convolution's windows are read where they lie in the
 * (zero-framed) image, without copying them into rows (im2row): row[r] says
 * where window r starts, col[c] where tap c lies inside a window; and an
 * NCHW tensor is read as a [positions, channels] matrix, without copying it
 * channel-major. gemm_mat gives the same bits as gemm on the operands copied
 * out: the same products in the same order. */
typedef struct {
    const real *p;
    int ld, trans;          /* stored */
    const long *row, *col;  /* gathered (both non-NULL) */
} GemmMat;

static inline GemmMat gemm_stored(const real *p, int ld, int trans) {
    return (GemmMat){.p = p, .ld = ld, .trans = trans};
}
static inline GemmMat gemm_gathered(const real *p, const long *row, const long *col) {
    return (GemmMat){.p = p, .row = row, .col = col};
}

/* C[M,N] = (accumulate ? C : 0) + op(A)[M,K] @ op(B)[K,N], as gemm. */
void gemm_mat(int M, int N, int K, GemmMat a, GemmMat b, real *C, int ldc, int accumulate);
/* The same with op(B) packed by gemm_pack_b, on the calling thread only, as
 * gemm_packed_b. */
void gemm_mat_packed_b(int M, int N, int K, GemmMat a, const real *Bpacked, real *C, int ldc, int accumulate);

/* The wide (AVX-512) kernel, where the core has it: gemm_wide(1) or (0)
 * turns it on or off (on only where the core has it), gemm_wide(-1) asks;
 * each returns whether it is on. The bits are the same either way; tests
 * and benches compare the two. Call it outside parallel regions. */
int gemm_wide(int on);

/* The plain triple loop, for tests and the benchmark's "naive" column. */
void gemm_naive(int M, int N, int K, const real *A, int lda, int ta, const real *B, int ldb, int tb, real *C, int ldc, int accumulate);

#endif
