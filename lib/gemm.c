/* gemm.c - a fast, deterministic matrix multiply in plain C (GotoBLAS/BLIS style).
 *
 * Teaches: why the naive triple loop runs at 1-2 % of what the core can do,
 * and the three ideas that fix it:
 *   1. a register-blocked micro-kernel: an MR x NR tile of C lives in vector
 *      registers for the whole K loop, so each loaded number feeds many FMAs;
 *   2. packing: the panels of op(B) a micro-kernel reads are copied once
 *      into contiguous buffers in exactly the order the kernel reads them,
 *      so its vector loads are never strided, and a transpose costs nothing
 *      more than a different packing loop. op(A) is read one number at a
 *      time (each broadcast to a vector), so its panels need no packing:
 *      the kernel reads MR rows of A, or MR columns when transposed, in
 *      place, with two strides; only a last, partial panel is packed (with
 *      zero rows), so edge tiles need no special kernel. Copying A costs as
 *      much as the FMAs when N is small (the attention's 64 x 64 x 32
 *      products, a linear layer of 128 outputs): reading it in place made
 *      those products 10-25 % faster. In place can also mean gathered:
 *      entry (i, k) at A[row[i] + col[k]] (gemm_mat, gemm.h), so a
 *      convolution's windows are read in the image, never copied out; a
 *      gathered op(B) is gathered by its packing (pack_B_mat);
 *   3. cache blocking: K is cut into KC-long slices and M, N into MC- and
 *      NC-wide blocks, so the A block stays in L2 and one packed B
 *      micro-panel stays in L1 while it is reused.
 * Threads (OpenMP) split C into disjoint strips; every element of C is
 * computed by one thread, summing over K in the same KC-slice order whatever
 * the thread count, so 1 and 2 threads give identical bits.
 *
 * On cores with AVX-512 a wide micro-kernel (64-byte vectors, the same
 * packed panels, the same bits) does twice the FMAs per instruction.
 *
 * Leaves out: hand-written assembly, prefetch tuning, alpha/beta scaling,
 * and a separate path for tiny matrices. The double build (-DREAL_DOUBLE)
 * uses the same code with half as many numbers per vector; it is correct but
 * not tuned.
 *
 * Dimension key:
 *   M, N, K     C is M x N, the sum runs over K
 *   MR x NR     micro-tile of C held in registers (NR = NV vectors of VL reals)
 *   MC, KC, NC  cache blocks: A block MC x KC, packed B block KC x NC
 */
#include "gemm.h"
#include "util.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parameters */

/* One vector = 32 bytes (an AVX2 ymm register): 8 floats or 4 doubles.
 * GCC vector extensions: `vec` arithmetic compiles to ymm FMA instructions
 * with -march=native. This file's code is AVX2 only (the pragma below keeps
 * AVX-512 out even when -march=native offers it), so it runs on any x86-64-v3
 * core and under valgrind 3.19, which cannot execute AVX-512; the one
 * exception is the wide kernel further down, chosen at run time on cores
 * that have AVX-512. */
#pragma GCC target("no-avx512f")
typedef real vec __attribute__((vector_size(32)));
/* The same type without the 32-byte alignment promise, for loads and stores
 * into C, whose rows start anywhere. */
typedef real vec_u __attribute__((vector_size(32), aligned(sizeof(real))));

#define VL ((int)(32 / sizeof(real))) /* reals per vector */
#define NV 2                          /* vectors per micro-tile row */
#define NR (NV * VL)                  /* micro-tile width: 16 floats / 8 doubles */
#define MR 6                          /* micro-tile height: MR*NV = 12 accumulators of 16 registers */

/* Each may be overridden with -D when tuning for another machine. */
#define KC GEMM_KC /* K slice (gemm.h): one packed B micro-panel is KC x NR (16 KB float): L1 */
#ifndef MC
#define MC 144 /* rows of the A block (multiple of MR), MC x KC = 144 KB float: L2 */
#endif
#ifndef NC
#define NC 512 /* columns of the packed B block (multiple of NR), KC x NC = 512 KB float */
#endif


/* The packing buffers: one pair per thread, allocated once with the thread
 * (thread-local storage), aligned so the kernel's vector loads are aligned. */
static _Thread_local real packA[MR * KC] __attribute__((aligned(32))); /* one partial panel, KC x MR */
static _Thread_local real packB[KC * NC] __attribute__((aligned(32))); /* NC/NR panels, each KC x NR */

/* --------------------------------------------------------------- bad input */

/* A bad size or stride is a bug in the calling op: the one error path. */
static void gemm_fail(const char *who, const char *what) {
    fail(EXIT_SOFTWARE, who, "the calling op passed a wrong size or stride: a bug to fix there", "%s", what);
}

/* The sizes, and C's row stride and pointer. */
static void check_sizes(const char *who, int M, int N, int K, const real *C, int ldc) {
    char msg[256];
    if (M < 0 || N < 0 || K < 0) {
        snprintf(msg, sizeof msg, "negative size M=%d N=%d K=%d; sizes must be >= 0", M, N, K);
        gemm_fail(who, msg);
    }
    if (ldc < N) {
        snprintf(msg, sizeof msg, "leading dimension too small: ldc=%d (needs >= %d)", ldc, N);
        gemm_fail(who, msg);
    }
    if (M > 0 && N > 0 && !C) gemm_fail(who, "NULL matrix pointer for a non-empty operand");
}

/* One operand as the kernels read it, op(X) [rows, cols]: stored, its row
 * stride covers a stored row (checked even when it is empty), and its
 * numbers are there unless it is empty; or gathered, its numbers and both
 * tables are there. */
static void check_mat(const char *who, const char *name, const GemmMat *m, int rows, int cols) {
    char msg[200];
    if (!m->row && !m->col && m->ld < (m->trans ? rows : cols)) {
        snprintf(msg, sizeof msg,
                 "leading dimension too small: %s's row stride is %d, needs >= %d; a row stride must be at "
                 "least the stored row width",
                 name, m->ld, m->trans ? rows : cols);
        gemm_fail(who, msg);
    }
    if (rows == 0 || cols == 0) return;
    if (!m->p || (m->row && !m->col) || (!m->row && m->col)) {
        snprintf(msg, sizeof msg, "%s: NULL matrix pointer, or one offset table without the other", name);
        gemm_fail(who, msg);
    }
}

/* A product's arguments: its sizes, C, op(A) and op(B) (b NULL: packed,
 * checked by the caller). */
static void check_product(const char *who, int M, int N, int K, const GemmMat *a, const GemmMat *b, const real *C,
                          int ldc) {
    check_sizes(who, M, N, K, C, ldc);
    check_mat(who, "A", a, M, K);
    if (b) check_mat(who, "B", b, K, N);
}

/* The same for stored matrices (gemm, gemm_batched, gemm_pack_b, gemm_naive). */
static void check_args(const char *who, int M, int N, int K, const real *A, int lda, int ta,
                       const real *B, int ldb, int tb, const real *C, int ldc) {
    const GemmMat a = gemm_stored(A, lda, ta), b = gemm_stored(B, ldb, tb);
    check_product(who, M, N, K, &a, &b, C, ldc);
}

/* ------------------------------------------------------------------ packing */

/* Packs rows i0..i0+mc of op(A), columns p0..p0+kc, into `dst` as panels of
 * MR rows. Panel r holds, for k = 0..kc-1, the MR values op(A)[i0+r*MR+i][p0+k]
 * contiguously (i fastest): exactly the order the micro-kernel broadcasts
 * them. Rows past mc are zero, so edge tiles need no special kernel.
 * A: stored M x K (ta = 0) or K x M (ta = 1), row stride lda.
 * dst: ceil(mc/MR) * kc * MR reals. */
static void pack_A(int mc, int kc, const real *A, int lda, int ta, int i0, int p0, real *restrict dst) {
    for (int r = 0; r < mc; r += MR) {
        int mr = mc - r < MR ? mc - r : MR;
        if (ta) { /* op(A)[i][k] = A[k][i]: each k is a contiguous run of mr values */
            const real *src = A + (size_t)p0 * lda + i0 + r;
            if (mr == MR) {
                for (int k = 0; k < kc; k++, src += lda, dst += MR) memcpy(dst, src, MR * sizeof(real));
            } else {
                for (int k = 0; k < kc; k++, src += lda, dst += MR) {
                    for (int i = 0; i < mr; i++) dst[i] = src[i];
                    for (int i = mr; i < MR; i++) dst[i] = 0;
                }
            }
        } else if (mr == MR) { /* op(A)[i][k] = A[i][k]: the MR rows side by side, k by k */
            const real *src[MR];
            for (int i = 0; i < MR; i++) src[i] = A + (size_t)(i0 + r + i) * lda + p0;
            for (int k = 0; k < kc; k++, dst += MR)
                for (int i = 0; i < MR; i++) dst[i] = src[i][k];
        } else { /* a last, partial panel: read each row along k, write it down a column */
            for (int i = 0; i < mr; i++) {
                const real *src = A + (size_t)(i0 + r + i) * lda + p0;
                for (int k = 0; k < kc; k++) dst[(size_t)k * MR + i] = src[k];
            }
            for (int i = mr; i < MR; i++)
                for (int k = 0; k < kc; k++) dst[(size_t)k * MR + i] = 0;
            dst += (size_t)kc * MR;
        }
    }
}

/* pack_A's panels from a gathered op(A): entry (i, k) = a->p[a->row[i] + a->col[k]]. */
static void pack_A_gather(int mc, int kc, const GemmMat *a, int i0, int p0, real *restrict dst) {
    const long *col = a->col + p0;
    for (int r = 0; r < mc; r += MR, dst += (size_t)kc * MR) {
        int mr = mc - r < MR ? mc - r : MR;
        for (int i = 0; i < MR; i++) {
            const real *src = i < mr ? a->p + a->row[i0 + r + i] : NULL;
            for (int k = 0; k < kc; k++) dst[(size_t)k * MR + i] = src ? src[col[k]] : 0;
        }
    }
}

/* Packs rows p0..p0+kc of op(B), columns j0..j0+nc, as panels of NR columns:
 * panel s holds, for k = 0..kc-1, the NR values op(B)[p0+k][j0+s*NR+j]
 * contiguously (j fastest). Columns past nc are zero.
 * B: stored K x N (tb = 0) or N x K (tb = 1), row stride ldb.
 * dst: ceil(nc/NR) * kc * NR reals. */
static void pack_B(int kc, int nc, const real *B, int ldb, int tb, int p0, int j0, real *restrict dst) {
    for (int s = 0; s < nc; s += NR) {
        int nr = nc - s < NR ? nc - s : NR;
        if (tb && nr == NR) { /* op(B)[k][j] = B[j][k]: the NR rows of B side by side, k by k */
            const real *src[NR];
            for (int j = 0; j < NR; j++) src[j] = B + (size_t)(j0 + s + j) * ldb + p0;
            for (int k = 0; k < kc; k++, dst += NR)
                for (int j = 0; j < NR; j++) dst[j] = src[j][k];
        } else if (tb) { /* a last, partial panel: read each row of B along k, write it down a column */
            for (int j = 0; j < nr; j++) {
                const real *src = B + (size_t)(j0 + s + j) * ldb + p0;
                for (int k = 0; k < kc; k++) dst[(size_t)k * NR + j] = src[k];
            }
            for (int j = nr; j < NR; j++)
                for (int k = 0; k < kc; k++) dst[(size_t)k * NR + j] = 0;
            dst += (size_t)kc * NR;
        } else { /* op(B)[k][j] = B[k][j]: each k is a contiguous run of nr values */
            const real *src = B + (size_t)p0 * ldb + j0 + s;
            if (nr == NR) {
                for (int k = 0; k < kc; k++, src += ldb, dst += NR)
                    for (int v = 0; v < NV; v++) ((vec *)dst)[v] = *(const vec_u *)(src + v * VL);
            } else {
                for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
                    for (int j = 0; j < nr; j++) dst[j] = src[j];
                    for (int j = nr; j < NR; j++) dst[j] = 0;
                }
            }
        }
    }
}

/* pack_B's panels from op(B) as gemm reads it: stored (pack_B), or
 * gathered, entry (k, j) = b->p[b->row[k] + b->col[j]]: one number at a
 * time, as pack_B reads a transposed B. */
static void pack_B_mat(int kc, int nc, const GemmMat *b, int p0, int j0, real *restrict dst) {
    if (!b->row) {
        pack_B(kc, nc, b->p, b->ld, b->trans, p0, j0, dst);
        return;
    }
    for (int s = 0; s < nc; s += NR, dst += (size_t)kc * NR) {
        int nr = nc - s < NR ? nc - s : NR;
        const long *col = b->col + j0 + s;
        for (int k = 0; k < kc; k++) {
            const real *src = b->p + b->row[p0 + k];
            for (int j = 0; j < nr; j++) dst[(size_t)k * NR + j] = src[col[j]];
            for (int j = nr; j < NR; j++) dst[(size_t)k * NR + j] = 0;
        }
    }
}

/* ------------------------------------------------------------- micro-kernel */

/* C tile (mr x nr valid of MR x NR) = (add ? C : 0) + sum_k a[k] (x) b[k].
 * a: MR rows of op(A), entry (i, k) at a[i * as + k * ks]: a packed panel
 * (as = 1, ks = MR), or MR rows of A read in place (as = lda, ks = 1).
 * b: one packed B panel, kc x NR. c: the tile's top-left element in C, row
 * stride ldc.
 * The MR*NV accumulators start at zero and take the kc products in order k =
 * 0, 1, ...; only then is the old C added: one fixed order per element. */
static inline void micro_kernel(int kc, const real *restrict a, long as, long ks, const real *restrict b,
                                real *restrict c, int ldc, int mr, int nr, int add) {
    vec acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = (vec){0};

#pragma GCC unroll 4
    for (int k = 0; k < kc; k++, a += ks, b += NR) {
        vec bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = ((const vec *)b)[v];
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            real ai = a[i * as]; /* broadcast by the vector-scalar multiply */
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] += ai * bv[v];
        }
    }

    if (mr == MR && nr == NR) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) {
                vec_u *p = (vec_u *)(c + (size_t)i * ldc + v * VL);
                *p = add ? *p + acc[i][v] : acc[i][v];
            }
    } else { /* edge tile: spill the registers, copy the valid part */
        real tile[MR][NR] __attribute__((aligned(32)));
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < NV; v++) *(vec *)&tile[i][v * VL] = acc[i][v];
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) c[(size_t)i * ldc + j] = add ? c[(size_t)i * ldc + j] + tile[i][j] : tile[i][j];
    }
}

/* ------------------------------------------- the wide kernel (AVX-512 cores)
 *
 * Where the core runs 512-bit FMAs at full rate (AMD Zen 5, Intel server
 * cores), one 64-byte vector holds a whole NR-wide row of a B panel, and a
 * tile of MR rows by two panels (2 * NR columns) keeps 12 such accumulators:
 * twice the FMAs per instruction of micro_kernel. The packed formats are the
 * same, and so is every element's arithmetic (the same FMAs in the same
 * order, a lane being a lane at any width): the same bits as micro_kernel.
 * Chosen at run time (gemm_wide), so the library still runs on AVX2-only
 * machines and under valgrind, which hides AVX-512 from the program. */
#pragma GCC push_options
#pragma GCC target("avx512f")
typedef real wvec __attribute__((vector_size(64)));
typedef real wvec_u __attribute__((vector_size(64), aligned(sizeof(real))));

/* C tile (mr x nr valid of MR x np*NR) = (add ? C : 0) + sum_k a[k] (x) b[k],
 * b: np (1 or 2) adjacent packed B panels, each kc x NR. The MR rows of
 * op(A) are read where they are (am = 1: A's rows, am = 2: A's columns,
 * row stride lda), gathered (am = 3: row i at a + ro[i], its k-th number
 * co[k] further) or from a packed panel (am = 0): A is not packed at all,
 * since a broadcast reads one number wherever it lies; only a partial
 * panel at the bottom edge is packed (with its zero rows). */
static inline __attribute__((always_inline)) void wide_kernel(int kc, const real *restrict a, int lda, int am,
                                                              const long *ro, const long *co,
                                                              const real *restrict b, int np, real *restrict c,
                                                              int ldc, int mr, int nr, int add) {
    wvec acc[MR][2];
    const real *b1 = b + (size_t)kc * NR;
    const real *ap[MR]; /* am = 3: row i of op(A) gathered from ap[i][co[k]] */
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) ap[i] = am == 3 ? a + ro[i] : a;
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = (wvec){0};
#pragma GCC unroll 4
    for (int k = 0; k < kc; k++, b += NR, b1 += NR) {
        const wvec bv0 = *(const wvec_u *)b, bv1 = np > 1 ? *(const wvec_u *)b1 : (wvec){0};
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            real ai = am == 0   ? a[k * MR + i]
                      : am == 1 ? a[(size_t)i * lda + k]
                      : am == 2 ? a[(size_t)k * lda + i]
                                : ap[i][co[k]];
            acc[i][0] += ai * bv0;
            if (np > 1) acc[i][1] += ai * bv1;
        }
    }
    if (mr == MR && nr == np * NR) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < np; v++) {
                wvec_u *p = (wvec_u *)(c + (size_t)i * ldc + v * NR);
                *p = add ? *p + acc[i][v] : acc[i][v];
            }
    } else { /* edge tile: spill the registers, copy the valid part */
        real tile[MR][2 * NR] __attribute__((aligned(64)));
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < 2; v++) *(wvec *)&tile[i][v * NR] = acc[i][v];
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) c[(size_t)i * ldc + j] = add ? c[(size_t)i * ldc + j] + tile[i][j] : tile[i][j];
    }
}

/* One tile: am = 1 + ta (3 gathered) where the tile has MR rows, the packed
 * edge panel (am = 0) where it has fewer; np = 2 where there are two panels
 * of B. Each case is its own copy of the kernel, with am and np constant. */
static inline __attribute__((always_inline)) void wide_tile(int kc, const real *a, int lda, int am, const long *ro,
                                                            const long *co, const real *b, real *c, int ldc, int mr,
                                                            int nr, int add) {
#define WIDE(AM, NP) wide_kernel(kc, a, lda, AM, ro, co, b, NP, c, ldc, mr, nr, add)
    if (am == 0) nr > NR ? WIDE(0, 2) : WIDE(0, 1);
    else if (am == 1) nr > NR ? WIDE(1, 2) : WIDE(1, 1);
    else if (am == 2) nr > NR ? WIDE(2, 2) : WIDE(2, 1);
    else nr > NR ? WIDE(3, 2) : WIDE(3, 1);
#undef WIDE
}

/* C block [mc, nc] (= or +=) op(A) rows i0.., columns p0..p0+kc @ the
 * packed B block [kc, nc]. edge: room for one packed panel (MR x kc). */
static void macro_kernel_wide(int mc, int nc, int kc, const GemmMat *op, int i0, int p0, const real *pb, real *C,
                              int ldc, int add, real *edge) {
    const int full = mc / MR * MR; /* rows in whole panels; a partial one is packed */
    const real *A = op->p;
    const int lda = op->ld, ta = op->trans, am = op->row ? 3 : 1 + ta;
    if (full < mc) {
        if (op->row) pack_A_gather(mc - full, kc, op, i0 + full, p0, edge);
        else pack_A(mc - full, kc, A, lda, ta, i0 + full, p0, edge);
    }
    for (int jr = 0; jr < nc; jr += 2 * NR) {
        int nr = nc - jr < 2 * NR ? nc - jr : 2 * NR;
        const real *bp = pb + (size_t)jr * kc;
        for (int ir = 0; ir < full; ir += MR) {
            const real *a = am == 3 ? A : ta ? A + (size_t)p0 * lda + i0 + ir : A + (size_t)(i0 + ir) * lda + p0;
            const long *ro = am == 3 ? op->row + i0 + ir : NULL, *co = am == 3 ? op->col + p0 : NULL;
            wide_tile(kc, a, lda, am, ro, co, bp, C + (size_t)ir * ldc + jr, ldc, MR, nr, add);
        }
        if (full < mc)
            wide_tile(kc, edge, 0, 0, NULL, NULL, bp, C + (size_t)full * ldc + jr, ldc, mc - full, nr, add);
    }
}
#pragma GCC pop_options

/* Whether gemm runs the wide kernel: set once when the program starts
 * (before any thread can read it), changed only by gemm_wide. */
static int use_wide;

__attribute__((constructor)) static void gemm_wide_init(void) {
    __builtin_cpu_init();
    use_wide = __builtin_cpu_supports("avx512f");
}

int gemm_wide(int on) {
    if (on >= 0) use_wide = on && __builtin_cpu_supports("avx512f");
    return use_wide;
}

/* ---------------------------------------------------- the blocked algorithm */

/* C block [mc, nc] (C at its top-left element) (= or + when add) op(A)
 * rows i0.., columns p0..p0+kc @ the packed B block [kc, nc]: the 256-bit
 * kernel, tile by tile. */
static void macro_kernel(int mc, int nc, int kc, const GemmMat *op, int i0, int p0, const real *packed, real *C,
                         int ldc, int add) {
    if (op->row) { /* gathered: each panel of MR rows packed once, then used by every tile of it */
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            pack_A_gather(mr, kc, op, i0 + ir, p0, packA);
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = nc - jr < NR ? nc - jr : NR;
                micro_kernel(kc, packA, 1, MR, packed + (size_t)jr * kc, C + (size_t)ir * ldc + jr, ldc, mr, nr,
                             add);
            }
        }
        return;
    }
    /* op(A) = A: its full panels of MR rows are read in place (the kernel
     * broadcasts one number at a time, from anywhere), only a last, partial
     * panel is packed (its missing rows as zeros) */
    const real *A = op->p;
    const int lda = op->ld, ta = op->trans, full = mc / MR * MR;
    long as = ta ? 1 : lda, ks = ta ? lda : 1; /* entry (i, k) of op(A) at A[i as + k ks] */
    if (full < mc) pack_A(mc - full, kc, A, lda, ta, i0 + full, p0, packA);
    for (int jr = 0; jr < nc; jr += NR) {
        int nr = nc - jr < NR ? nc - jr : NR;
        const real *bp = packed + (size_t)jr * kc; /* panel jr/NR starts at (jr/NR)*kc*NR */
        real *ct = C + jr;
        for (int ir = 0; ir < full; ir += MR)
            micro_kernel(kc, A + (i0 + ir) * as + p0 * ks, as, ks, bp, ct + (size_t)ir * ldc, ldc, MR, nr, add);
        for (int ir = full; ir < mc; ir += MR) /* one panel at most */
            micro_kernel(kc, packA, 1, MR, bp, ct + (size_t)ir * ldc, ldc, mc - ir, nr, add);
    }
}

/* One thread's share: C[M,N] (pointers already offset to the strip) =
 * (accumulate ? C : 0) + op(A) @ op(B), using this thread's pack buffers.
 * i_off / j_off: where the strip starts inside the full op(A) rows / op(B)
 * columns, so the packing routines index the caller's matrices directly.
 * Bpacked: NULL, or all of op(B) packed by gemm_pack_b (then b and j_off
 * are unused): its blocks are read in place of packing them again. */
static void gemm_serial(int M, int N, int K, const GemmMat *op, int i_off, const GemmMat *b, int j_off,
                        const real *Bpacked, real *C, int ldc, int accumulate) {
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            int add = accumulate || pc > 0; /* the first K slice overwrites unless accumulating */
            const real *packed = packB;
            if (Bpacked) /* already packed by gemm_pack_b: block (jc, pc) starts here */
                packed = Bpacked + (size_t)jc * K + (size_t)(nc + NR - 1) / NR * NR * pc;
            else
                pack_B_mat(kc, nc, b, pc, j_off + jc, packB);
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC;
                real *cb = C + (size_t)ic * ldc + jc;
                if (use_wide) /* reads A in place */
                    macro_kernel_wide(mc, nc, kc, op, i_off + ic, pc, packed, cb, ldc, add, packA);
                else
                    macro_kernel(mc, nc, kc, op, i_off + ic, pc, packed, cb, ldc, add);
            }
        }
    }
}

/* K == 0: the product is empty, C becomes 0 (or stays, when accumulating). */
static void gemm_empty_k(int M, int N, real *C, int ldc, int accumulate) {
    if (accumulate) return;
    for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(real));
}

/* How many threads to use for an M x N x K product started here. */
static int gemm_threads(int M, int N, int K) {
    if (omp_in_parallel()) return 1; /* already inside a team: stay on this thread */
    /* a long sum into a small C: split from an eighth of the threshold (gemm.h) */
    const int long_sum = (double)M * N <= 4096 && (double)M * N * K >= GEMM_PARALLEL_MIN_FMAS / 8;
    if ((double)M * N * K < GEMM_PARALLEL_MIN_FMAS && !long_sum) return 1;
    return omp_get_max_threads();
}

/* Splits C into nt strips along its longer side, in whole micro-tiles, and
 * lets each thread run gemm_serial on its strip. Which thread computes an
 * element changes with nt; how it is computed does not. */
static void gemm_parallel(int nt, int M, int N, int K, const GemmMat *op, const GemmMat *b, real *C, int ldc,
                          int accumulate) {
    int by_rows = M >= N;
    int tile = by_rows ? MR : NR, len = by_rows ? M : N;
    int tiles = (len + tile - 1) / tile;
    if (nt > tiles) nt = tiles;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int lo = (int)((long)tiles * t / n) * tile, hi = (int)((long)tiles * (t + 1) / n) * tile;
        if (hi > len) hi = len;
        if (hi > lo) {
            if (by_rows)
                gemm_serial(hi - lo, N, K, op, lo, b, 0, NULL, C + (size_t)lo * ldc, ldc, accumulate);
            else
                gemm_serial(M, hi - lo, K, op, 0, b, lo, NULL, C + lo, ldc, accumulate);
        }
    }
}

/* --------------------------------------------------------------- public API */

/* C = (accumulate ? C : 0) + op(A) op(B), its arguments already checked. */
static void gemm_run(int M, int N, int K, const GemmMat *a, const GemmMat *b, real *C, int ldc, int accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) { gemm_empty_k(M, N, C, ldc, accumulate); return; }
    int nt = gemm_threads(M, N, K);
    if (nt <= 1)
        gemm_serial(M, N, K, a, 0, b, 0, NULL, C, ldc, accumulate);
    else
        gemm_parallel(nt, M, N, K, a, b, C, ldc, accumulate);
}

void gemm(int M, int N, int K, const real *A, int lda, int ta,
          const real *B, int ldb, int tb, real *C, int ldc, int accumulate) {
    const GemmMat a = gemm_stored(A, lda, ta), b = gemm_stored(B, ldb, tb);
    check_product("gemm", M, N, K, &a, &b, C, ldc);
    gemm_run(M, N, K, &a, &b, C, ldc, accumulate);
}

void gemm_batched(int batch, int M, int N, int K, const real *A, int lda, long strideA, int ta,
                  const real *B, int ldb, long strideB, int tb, real *C, int ldc, long strideC, int accumulate) {
    if (batch < 0) gemm_fail("gemm_batched", "negative batch count; batch must be >= 0");
    if (batch == 0) return;
    check_args("gemm_batched", M, N, K, A, lda, ta, B, ldb, tb, C, ldc);
    if (strideA < 0 || strideB < 0 || strideC < 0)
        gemm_fail("gemm_batched", "negative stride; strides must be >= 0");
    if (M == 0 || N == 0) return;
    /* Many small products: one thread per product (a product is never split,
     * so the bits are the same as a serial call). Large ones: gemm threads
     * inside each product. */
    int outer = !omp_in_parallel() && omp_get_max_threads() > 1 && batch > 1 &&
                (double)M * N * K < 128.0 * 128 * 128 && (double)batch * M * N * K >= GEMM_PARALLEL_MIN_FMAS;
    if (outer) {
#pragma omp parallel for schedule(static)
        for (int b = 0; b < batch; b++) {
            if (K == 0) gemm_empty_k(M, N, C + b * strideC, ldc, accumulate);
            else {
                const GemmMat a = gemm_stored(A + b * strideA, lda, ta), bm = gemm_stored(B + b * strideB, ldb, tb);
                gemm_serial(M, N, K, &a, 0, &bm, 0, NULL, C + b * strideC, ldc, accumulate);
            }
        }
    } else {
        for (int b = 0; b < batch; b++)
            gemm(M, N, K, A + b * strideA, lda, ta, B + b * strideB, ldb, tb, C + b * strideC, ldc, accumulate);
    }
}

long gemm_packed_b_size(int N, int K) {
    if (N < 0 || K < 0) gemm_fail("gemm_packed_b_size", "negative size; sizes must be >= 0");
    return (long)(N + NR - 1) / NR * NR * K;
}

/* The blocks gemm_serial would pack, in its order: for each NC block of
 * columns, for each KC slice of K, pack_B's panels. Block (jc, pc) starts at
 * jc*K + round_up(nc, NR)*pc (every block before the last is NC wide). */
void gemm_pack_b(int N, int K, const real *B, int ldb, int tb, real *dst) {
    check_args("gemm_pack_b", 0, N, K, NULL, K, 0, B, ldb, tb, NULL, N);
    if ((uintptr_t)dst % 32)
        gemm_fail("gemm_pack_b", "dst is not 32-byte aligned (the kernel's vector loads need it)");
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            pack_B(kc, nc, B, ldb, tb, pc, jc, dst + (size_t)jc * K + (size_t)(nc + NR - 1) / NR * NR * pc);
        }
    }
}

/* C = (accumulate ? C : 0) + op(A) @ the packed op(B), checked, on this thread. */
static void packed_b_checked(const char *who, int M, int N, int K, const GemmMat *a, const real *Bpacked, real *C,
                             int ldc, int accumulate) {
    check_product(who, M, N, K, a, NULL, C, ldc);
    if (N > 0 && K > 0 && !Bpacked) gemm_fail(who, "NULL packed B for a non-empty product");
    if (M == 0 || N == 0) return;
    if (K == 0) { gemm_empty_k(M, N, C, ldc, accumulate); return; }
    gemm_serial(M, N, K, a, 0, NULL, 0, Bpacked, C, ldc, accumulate);
}

void gemm_packed_b(int M, int N, int K, const real *A, int lda, int ta, const real *Bpacked, real *C, int ldc,
                   int accumulate) {
    const GemmMat a = gemm_stored(A, lda, ta);
    packed_b_checked("gemm_packed_b", M, N, K, &a, Bpacked, C, ldc, accumulate);
}

void gemm_mat(int M, int N, int K, GemmMat a, GemmMat b, real *C, int ldc, int accumulate) {
    check_product("gemm_mat", M, N, K, &a, &b, C, ldc);
    gemm_run(M, N, K, &a, &b, C, ldc, accumulate);
}

void gemm_mat_packed_b(int M, int N, int K, GemmMat a, const real *Bpacked, real *C, int ldc, int accumulate) {
    packed_b_checked("gemm_mat_packed_b", M, N, K, &a, Bpacked, C, ldc, accumulate);
}

void gemm_naive(int M, int N, int K, const real *A, int lda, int ta, const real *B, int ldb, int tb, real *C, int ldc, int accumulate) {
    check_args("gemm_naive", M, N, K, A, lda, ta, B, ldb, tb, C, ldc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            real s = 0;
            for (int k = 0; k < K; k++) {
                real a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                real b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            C[(size_t)i * ldc + j] = accumulate ? C[(size_t)i * ldc + j] + s : s;
        }
}
