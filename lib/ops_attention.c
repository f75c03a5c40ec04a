/* ops_attention.c - causal self-attention as one op (fused attention).
 *
 * Teaches: what fusing buys. Chapter 5 builds attention from seven small
 * ops (split_heads x 3, matmul, mul_scalar, causal_mask, softmax, matmul,
 * merge_heads: ops_nn.c), and every one of them keeps its output and its
 * gradient on the tape: for a batch of 32 windows of 64 bytes with 4 heads
 * the four [B, H, T, T] score tensors alone are 16 MB per layer, and each
 * is written and read again. Here one node reads q, k and v where the
 * fused projection left them (rows of [B, T, 3C], no copies), writes the
 * heads merged into [B, T, C], and keeps one thing for backward: the
 * attention weights P [B, H, T, T]. Its backward is the chain rule of the
 * same seven ops, written out per head (Y = P V, P = softmax(S), S = mask(Q
 * K^T) / sqrt(hd)):
 *     dV  = P^T dY                       dP = dY V^T
 *     dS  = P (dP - rowsum(dP P)) / sqrt(hd)     (0 above the diagonal)
 *     dQ  = dS K                         dK = dS^T Q
 * Every product is computed as gemm computes it (at the GPT's sizes by
 * head_mm below, a small kernel with gemm's arithmetic), and every other
 * number by the same expression, in the same order, as in the chain of
 * small ops, so the results are the same bit for bit (tests/test_ops_nn.c
 * and tests/test_gpt.c prove it). Masked entries are never computed: their
 * weight is exactly 0, their exp adds nothing to a row's sum, and a product
 * with them adds exactly nothing to a gemm's sum.
 * Leaves out: FlashAttention's tiling with an online softmax (it recomputes
 * P in backward instead of keeping it, and never holds a whole T x T block;
 * at T = 64, P is 2 MB per layer and a block fits in L1), dropout, masks
 * other than causal, skipping the masked terms at the end of a sum (head_mm
 * says why).
 *
 * Dimension key: B = batch, T = positions, C = width, H = heads, hd = C / H
 * (head width); qkv rows are [q | k | v], each C wide, head h at columns
 * h hd .. (h + 1) hd - 1 of its part.
 *
 * Threads: the B H heads are split over the threads, each computed whole by
 * one thread (its gemm calls then run serially on it), so the results do
 * not depend on the thread count.
 */
#include "par.h"
#include "tensor.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "util.h"
#include "vmath.h"

/* Fewer multiply-adds than this over all heads: one thread is faster. */
#define PAR_MIN_FMAS 1e5
/* Reals in 64 bytes (the arena's alignment). */
#define ALIGN_REALS (64 / (int)sizeof(real))

/* The sizes of one node, and where head (b, h) starts in each array. */
typedef struct {
    int B, T, C, H, hd;
} Att;

static Att att_of(const Tensor *out) {
    const Tensor *x = out->in[0];
    Att a = {.B = x->shape[0], .T = x->shape[1], .C = x->shape[2] / 3, .H = out->ip[0]};
    a.hd = a.C / a.H;
    return a;
}

/* q of head (b, h) in a [B, T, 3C] array; k is C further, v 2C. */
static long head_qkv(const Att *a, int b, int h) { return (long)b * a->T * 3 * a->C + (long)h * a->hd; }
/* head (b, h) in the merged [B, T, C] output */
static long head_out(const Att *a, int b, int h) { return (long)b * a->T * a->C + (long)h * a->hd; }

static int parallel(const Att *a) {
    return a->B * a->H > 1 && (double)a->B * a->H * a->T * a->T * a->hd >= PAR_MIN_FMAS;
}

/* The softmax. Forward: the softmax op's own kernel, on each row's live
 * part only (ops_nn.c: softmax_causal): its max, exps and sum have no
 * multiply-add a compiler could fuse, so they round the same whatever the
 * loop's length. Backward: the op's own backward kernel, on the whole [T, T]
 * block, through two tensors that view it: `in` (the scores' gradient) and
 * `out` (the weights, and theirs). Why not a loop written here: a
 * compiler may vectorise a row's sum with separate multiplies and adds and
 * fuse them into FMAs in the scalar tail, and where the tail starts depends
 * on the row's length and address; the same machine code on rows at the
 * same addresses modulo 64 bytes (see scratch_of) rounds the same. */
static void softmax_views(int T, real *ds, real *p, real *dp, Tensor *in, Tensor *out) {
    *in = (Tensor){.ndim = 2, .shape = {T, T}, .size = (long)T * T, .grad = ds};
    *out = (Tensor){.ndim = 2, .shape = {T, T}, .size = (long)T * T, .op = OP_SOFTMAX, .data = p, .grad = dp,
                    .in = {in}};
}

/* n rounded up to whole 64-byte lines. */
static long lines(long n) { return (n + ALIGN_REALS - 1) / ALIGN_REALS * ALIGN_REALS; }

/* Scratch blocks [T, T] for head bh on this thread: `which` of the three
 * per thread (scores, dP, dS), each placed so that its rows sit where the
 * chain's [B, H, T, T] tensors hold head bh's rows, modulo 64 bytes (aux,
 * like every arena block, starts on a 64-byte line). */
static real *scratch_of(const Tensor *out, const Att *a, int bh, int which) {
    long tt = (long)a->T * a->T, block = lines(tt) + ALIGN_REALS; /* a block, and room to shift it */
    real *base = out->aux + lines((long)a->B * a->H * tt) + (3L * omp_get_thread_num() + which) * block;
    return base + (long)bh * tt % ALIGN_REALS;
}

/* ---------------------------------------------------------------------------
 * One head's products, without gemm's machinery.
 *
 * At T = 64 and hd = 32 a product is 64 x 64 x 32: 131,072 multiply-adds,
 * about 3 microseconds of one core. gemm pays for generality there: it
 * packs op(B) into panels, cuts blocks, handles edge tiles. head_mm does
 * only what these shapes need: B is read in place, row by row (a transpose,
 * K^T or V^T, is copied once per head into scratch), and C is cut into
 * tiles of HM_ROWS rows by two vectors, whose accumulators stay in
 * registers over the whole sum.
 *
 * Its arithmetic is gemm's, element for element (gemm.h, gemm.c's
 * micro-kernel): every element's products are summed by fused multiply-adds
 * into an accumulator that starts at zero, k = 0, 1, ... in order (one K
 * slice: K <= GEMM_KC here), and only then is the old C added (add = 1).
 * A lane of a vector is a lane at any width, so the bits are gemm's.
 *
 * The causal mask lets it skip work, exactly:
 *   HM_COLS  (S = Q K^T): a tile whose columns all lie above the diagonal
 *            (j > i for every row) is not computed; the mask overwrites it.
 *   HM_FROM_ROW (dV = P^T dY, dK = dS^T Q): the sum for output row j runs
 *            over k = i, and the masked terms (i < j) lead the sum. Each is
 *            0 times a finite number, and an accumulator at +0 stays +0
 *            when one is added (+0 + -0 = +0 in round-to-nearest), so the
 *            sum may start at k = the tile's first row instead.
 * (Trailing masked terms, as in P V, are not skipped: an accumulator at -0
 * would become +0 on them, so skipping would change a zero's sign.)
 * ------------------------------------------------------------------------ */

#ifdef __AVX512F__
typedef real hvec __attribute__((vector_size(64)));
typedef real hvec_u __attribute__((vector_size(64), aligned(sizeof(real))));
#else
typedef real hvec __attribute__((vector_size(32)));
typedef real hvec_u __attribute__((vector_size(32), aligned(sizeof(real))));
#endif
#define HV ((int)(sizeof(hvec) / sizeof(real))) /* reals per vector */
#define HM_COLS_TILE (2 * HV)                   /* a tile: two vectors wide */
#define HM_ROWS (HV >= 16 ? 8 : 4)              /* and this many rows: 16 or 8 accumulators */

enum { HM_ALL, HM_COLS, HM_FROM_ROW };

/* C [M, N] = (add ? C : 0) + op(A) [M, K] B [K, N]. op(A) (i, k) at
 * A[i as + k ks]; B row-major, row stride ldb; C row stride ldc. M a
 * multiple of HM_ROWS, N of HM_COLS_TILE (head_kernel_fits). */
static void head_mm(int M, int N, int K, const real *A, long as, long ks, const real *B, int ldb, real *C, int ldc,
                    int add, int causal) {
    for (int i0 = 0; i0 < M; i0 += HM_ROWS)
        for (int j0 = 0; j0 < N; j0 += HM_COLS_TILE) {
            if (causal == HM_COLS && j0 > i0 + HM_ROWS - 1) break; /* above the diagonal: masked */
            hvec acc[HM_ROWS][2];
            for (int r = 0; r < HM_ROWS; r++) acc[r][0] = acc[r][1] = (hvec){0};
            for (int k = causal == HM_FROM_ROW ? i0 : 0; k < K; k++) {
                const hvec b0 = *(const hvec_u *)(B + (long)k * ldb + j0);
                const hvec b1 = *(const hvec_u *)(B + (long)k * ldb + j0 + HV);
#pragma GCC unroll 8
                for (int r = 0; r < HM_ROWS; r++) {
                    real a = A[(i0 + r) * as + k * ks];
                    acc[r][0] += a * b0; /* one fused multiply-add per lane, as gemm's kernel */
                    acc[r][1] += a * b1;
                }
            }
            for (int r = 0; r < HM_ROWS; r++)
                for (int v = 0; v < 2; v++) {
                    hvec_u *c = (hvec_u *)(C + (long)(i0 + r) * ldc + j0 + v * HV);
                    *c = add ? *c + acc[r][v] : acc[r][v];
                }
        }
}

/* Whether head_mm takes these sizes (T = 64, hd = 32 does); others go to gemm. */
static int head_kernel_fits(const Att *a) {
    return a->T % HM_ROWS == 0 && a->T % HM_COLS_TILE == 0 && a->hd % HM_COLS_TILE == 0 && a->hd <= a->T;
}

/* dst [hd, T] = the head's [T, hd] block src (row stride ld), transposed. */
static void transpose_head(int T, int hd, const real *src, int ld, real *dst) {
    for (int j = 0; j < T; j++)
        for (int d = 0; d < hd; d++) dst[(long)d * T + j] = src[(long)j * ld + d];
}

/* in = (qkv); ip[0] = H, ip[1] = threads the scratch is for; fp[0] =
 * 1/sqrt(hd); aux = P [B, H, T, T], then 3 scratch blocks per thread. */
void fwd_causal_attention(Tensor *out) {
    Att a = att_of(out);
    const real *x = out->in[0]->data;
    int T = a.T, ld = 3 * a.C, fits = head_kernel_fits(&a);
    real scale = out->fp[0];
    int threads = omp_get_max_threads() < out->ip[1] ? omp_get_max_threads() : out->ip[1];
    PAR_FOR(parallel(&a), "omp parallel for schedule(static) num_threads(threads)",
    for (int bh = 0; bh < a.B * a.H; bh++) {
        int b = bh / a.H, h = bh % a.H;
        const real *q = x + head_qkv(&a, b, h), *k = q + a.C, *v = q + 2 * a.C;
        real *s = scratch_of(out, &a, bh, 0), *p = out->aux + (long)bh * T * T, *y = out->data + head_out(&a, b, h);
        if (fits) { /* S = Q K^T, the tiles on or below the diagonal */
            real *kt = scratch_of(out, &a, bh, 1);
            transpose_head(T, a.hd, k, ld, kt);
            head_mm(T, T, a.hd, q, ld, 1, kt, T, s, T, 0, HM_COLS);
        } else {
            gemm(T, T, a.hd, q, ld, 0, k, ld, 1, s, T, 0);
        }
        for (int i = 0; i < T; i++) /* scaled; the future is the mask's, softmax_causal's */
            for (int j = 0; j <= i; j++) s[i * T + j] = s[i * T + j] * scale;
        softmax_causal(s, p, T); /* P */
        if (fits)                     /* Y = P V */
            head_mm(T, a.hd, T, p, T, 1, v, ld, y, a.C, 0, HM_ALL);
        else
            gemm(T, a.hd, T, p, T, 0, v, ld, 0, y, a.C, 0);
    });
}

void bwd_causal_attention(Tensor *out) {
    Tensor *qkv = out->in[0];
    if (!qkv->grad) return;
    Att a = att_of(out);
    const real *x = qkv->data;
    real *dx = qkv->grad, scale = out->fp[0];
    int T = a.T, ld = 3 * a.C, fits = head_kernel_fits(&a);
    const int add = !grad_take_fresh(qkv); /* fresh: each head's dQ, dK, dV written once, = 0 + its product */
    int threads = omp_get_max_threads() < out->ip[1] ? omp_get_max_threads() : out->ip[1];
    PAR_FOR(parallel(&a), "omp parallel for schedule(static) num_threads(threads)",
    for (int bh = 0; bh < a.B * a.H; bh++) {
        int b = bh / a.H, h = bh % a.H;
        long o = head_qkv(&a, b, h);
        const real *q = x + o, *k = q + a.C, *v = q + 2 * a.C, *dy = out->grad + head_out(&a, b, h);
        real *p = out->aux + (long)bh * T * T, *dp = scratch_of(out, &a, bh, 1), *ds = scratch_of(out, &a, bh, 2);
        real *dq = dx + o, *dk = dq + a.C, *dv = dq + 2 * a.C;
        if (fits) {
            real *vt = scratch_of(out, &a, bh, 0);
            head_mm(T, a.hd, T, p, 1, T, dy, a.C, dv, ld, add, HM_FROM_ROW); /* dV += P^T dY */
            transpose_head(T, a.hd, v, ld, vt);
            head_mm(T, T, a.hd, dy, a.C, 1, vt, T, dp, T, 0, HM_ALL); /* dP = dY V^T */
        } else {
            gemm(T, a.hd, T, p, T, 1, dy, a.C, 0, dv, ld, add); /* dV += P^T dY */
            gemm(T, T, a.hd, dy, a.C, 0, v, ld, 1, dp, T, 0); /* dP = dY V^T */
        }
        memset(ds, 0, (size_t)T * T * sizeof(real));
        Tensor in, sm;
        softmax_views(T, ds, p, dp, &in, &sm);
        OPS[OP_SOFTMAX].backward(&sm); /* softmax's backward: dS (unscaled) += P (dP - rowsum(dP P)) */
        for (int i = 0; i < T; i++)    /* the mask's and the scale's backward */
            for (int j = 0; j < T; j++) ds[i * T + j] = j > i ? 0 : ds[i * T + j] * scale;
        if (fits) {
            head_mm(T, a.hd, T, ds, T, 1, k, ld, dq, ld, add, HM_ALL);      /* dQ += dS K */
            head_mm(T, a.hd, T, ds, 1, T, q, ld, dk, ld, add, HM_FROM_ROW); /* dK += dS^T Q */
        } else {
            gemm(T, a.hd, T, ds, T, 0, k, ld, 0, dq, ld, add); /* dQ += dS K */
            gemm(T, a.hd, T, ds, T, 1, q, ld, 0, dk, ld, add); /* dK += dS^T Q */
        }
    });
}

Tensor *t_causal_attention(Tape *T, Tensor *qkv, int H) {
    char s[64];
    if (!qkv || qkv->ndim != 3 || H < 1 || qkv->shape[2] % 3 != 0 || qkv->shape[2] / 3 % H != 0)
        fail(EXIT_SOFTWARE, "t_causal_attention", "pass qkv [B, T, 3C] (q, k, v side by side) with C divisible by H",
             "shape %s and %d heads", qkv ? shape_str(qkv, s, sizeof s) : "NULL", H);
    int B = qkv->shape[0], Tn = qkv->shape[1], C = qkv->shape[2] / 3;
    Tensor *out = tape_node(T, OP_CAUSAL_ATTENTION, 3, SHAPE(B, Tn, C), qkv, NULL, NULL);
    int threads = omp_get_max_threads();
    out->ip[0] = H;
    out->ip[1] = threads;
    out->fp[0] = (real)(1.0 / sqrt((double)(C / H)));
    long tt = (long)Tn * Tn;
    out->aux = tape_alloc_uninit(T, lines((long)B * H * tt) + 3L * threads * (lines(tt) + ALIGN_REALS));
    fwd_causal_attention(out);
    return out;
}

const real *t_attention_weights(const Tensor *att) {
    if (!att || att->op != OP_CAUSAL_ATTENTION)
        fail(EXIT_SOFTWARE, "t_attention_weights", "pass a node made by t_causal_attention", "another node");
    return att->aux;
}
