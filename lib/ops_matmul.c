/* ops_matmul.c - matrix multiply on the tape: C = op(A) op(B).
 *
 * Teaches: the backward of a matrix product, which is two more products.
 * With C = op(A) op(B) and dC = dL/dC,
 *     d op(A) = dC op(B)^T        d op(B) = op(A)^T dC,
 * and when A is stored transposed (ta), its stored gradient is the transpose
 * of d op(A): dA = op(B) dC^T (likewise dB = dC^T op(A) when tb). Every one
 * of these is a gemm call with the right transpose flags and accumulate = 1,
 * so no transpose is ever copied. A batch of products is the same with
 * strides; a weight b shared by every leading index of a (a linear layer
 * on [B, T, C]) gathers one gradient from every batch index, summed in a
 * fixed order so the bits never depend on the thread count.
 * The arithmetic itself lives in gemm.c. t_linear is a linear layer, the
 * product and its bias, as one node: the numbers of t_matmul then t_add,
 * bit for bit, with one pass over the output and one gradient buffer fewer
 * (the ring GAN's small layers spend about as long in the add as
 * in the product). Leaves out: broadcasting leading dims other than "b is
 * one 2-D matrix for all".
 *
 * Dimension key: a [..., M, K] ([..., K, M] if ta), b [..., K, N] ([..., N,
 * K] if tb) or b 2-D, out [..., M, N]; batch = product of a's leading dims.
 */
#include "gemm.h"
#include "tensor.h"
#include "util.h"

/* The sizes of one call, as gemm wants them. */
typedef struct {
    int batch, M, N, K; /* batch products of op(A) [M, K] by op(B) [K, N] */
    int ta, tb, shared; /* shared: b is one 2-D matrix used by every batch index */
    int lda, ldb;       /* row strides of A and B as stored */
    long sA, sB, sC;    /* elements from one batch matrix to the next (sB = 0 if shared) */
} Dims;

static Dims dims_of(const Tensor *out) {
    const Tensor *a = out->in[0], *b = out->in[1];
    Dims d = {.ta = out->ip[0], .tb = out->ip[1], .shared = b->ndim == 2};
    int ra = a->ndim - 2, rb = b->ndim - 2; /* where the matrix dims start */
    d.M = a->shape[ra + d.ta];
    d.K = a->shape[ra + !d.ta];
    d.N = b->shape[rb + !d.tb];
    d.lda = a->shape[ra + 1];
    d.ldb = b->shape[rb + 1];
    d.batch = (int)(a->size / ((long)d.M * d.K));
    if (d.shared && !d.ta) { /* fold: [batch, M, K] rows are one [batch*M, K] matrix */
        d.M *= d.batch;
        d.batch = 1;
    }
    d.sA = (long)d.M * d.K;
    d.sB = d.shared ? 0 : (long)d.K * d.N;
    d.sC = (long)d.M * d.N;
    return d;
}

Tensor *t_matmul(Tape *T, Tensor *a, Tensor *b, int ta, int tb) {
    char sa[64], sb[64];
    if (!a || !b) fail(EXIT_SOFTWARE, "t_matmul", "pass two tensors", "an input is NULL");
    ta = !!ta, tb = !!tb;
    int ra = a->ndim - 2, rb = b->ndim - 2;
    int ok = ra >= 0 && rb >= 0 && a->shape[ra + !ta] == b->shape[rb + tb]; /* the K's agree */
    if (ok && rb > 0) { /* batched: the same leading dims */
        ok = ra == rb;
        for (int i = 0; i < ra; i++) ok = ok && a->shape[i] == b->shape[i];
    }
    if (!ok)
        fail(EXIT_SOFTWARE, "t_matmul",
             "a [..., M, K] and b [..., K, N] (or b [K, N]) after the transposes: inner dims equal, "
             "leading dims equal",
             "shapes %s%s and %s%s do not multiply", shape_str(a, sa, sizeof sa), ta ? "^T" : "",
             shape_str(b, sb, sizeof sb), tb ? "^T" : "");
    int shape[MAX_DIMS];
    for (int i = 0; i < ra; i++) shape[i] = a->shape[i];
    shape[ra] = a->shape[ra + ta];          /* M */
    shape[ra + 1] = b->shape[rb + !tb];     /* N */
    Tensor *out = tape_node(T, OP_MATMUL, a->ndim, shape, a, b, NULL);
    out->ip[0] = ta;
    out->ip[1] = tb;
    OPS[OP_MATMUL].forward(out);
    return out;
}

/* C = op(A) op(B), per batch index. */
void fwd_matmul(Tensor *out) {
    Dims d = dims_of(out);
    gemm_batched(d.batch, d.M, d.N, d.K, out->in[0]->data, d.lda, d.sA, d.ta, out->in[1]->data, d.ldb, d.sB, d.tb,
                 out->data, d.N, d.sC, 0);
}

/* BEGIN SOLUTION ex01-matmul-backward
 * HINT: each gradient is one gemm_batched call with accumulate = 1 (gemm.h); draw
 * HINT: the shapes of dC, A and B as stored, for ta and tb 0 and 1, before each call.
 * HINT: A shared 2-D b (d.shared) gathers one share per batch index, summed in order.
 * STUB: void bwd_matmul(Tensor *out) {
 * STUB:     (void)out;
 * STUB: }
 */
/* dB (+)= this batch range's share: op(A)^T dC stored [K, N], or its
 * transpose dC^T op(A) stored [N, K] when tb. sgB: stride between dB's. */
static void grad_b(const Dims *d, int batch, const real *A, const real *dC, real *gB, long sgB) {
    if (!d->tb)
        gemm_batched(batch, d->K, d->N, d->M, A, d->lda, d->sA, !d->ta, dC, d->N, d->sC, 0, gB, d->N, sgB, 1);
    else
        gemm_batched(batch, d->N, d->K, d->M, dC, d->N, d->sC, 1, A, d->lda, d->sA, d->ta, gB, d->K, sgB, 1);
}

void bwd_matmul(Tensor *out) {
    Tensor *a = out->in[0], *b = out->in[1];
    Dims d = dims_of(out);
    const real *dC = out->grad; /* [batch, M, N] */
    if (a->grad) {
        if (!d.ta) /* dA [M, K] += dC [M, N] op(B)^T [N, K] */
            gemm_batched(d.batch, d.M, d.K, d.N, dC, d.N, d.sC, 0, b->data, d.ldb, d.sB, !d.tb, a->grad, d.K, d.sA, 1);
        else       /* dA [K, M] += op(B) [K, N] dC^T [N, M] */
            gemm_batched(d.batch, d.K, d.M, d.N, b->data, d.ldb, d.sB, d.tb, dC, d.N, d.sC, 1, a->grad, d.M, d.sA, 1);
    }
    if (b->grad) {
        if (!d.shared) /* each batch index has its own b */
            grad_b(&d, d.batch, a->data, dC, b->grad, d.sB);
        else           /* one b: the batch's shares summed in batch order (1 when folded) */
            for (int i = 0; i < d.batch; i++) grad_b(&d, 1, a->data + i * d.sA, dC + i * d.sC, b->grad, 0);
    }
}
/* END SOLUTION ex01-matmul-backward */

/* ---------------------------------------------------------------------------
 * t_linear: out [R, out] = x [R, in] @ w^T + b, R = the rows of x.
 * ------------------------------------------------------------------------- */

/* Above this many output numbers the bias loops use all threads. */
#define PAR_MIN (1L << 15)

Tensor *t_linear(Tape *T, Tensor *x, Tensor *w, Tensor *b) {
    char sx[64], sw[64], sb[64];
    if (!x || !w) fail(EXIT_SOFTWARE, "t_linear", "pass x and w (b may be NULL)", "an input is NULL");
    const int in = x->shape[x->ndim - 1];
    if (w->ndim != 2 || w->shape[1] != in || (b && (b->ndim != 1 || b->shape[0] != w->shape[0])))
        fail(EXIT_SOFTWARE, "t_linear", "x [..., in], w [out, in], b [out] or NULL",
             "shapes %s, %s and %s do not fit", shape_str(x, sx, sizeof sx), shape_str(w, sw, sizeof sw),
             b ? shape_str(b, sb, sizeof sb) : "NULL");
    int shape[MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = w->shape[0];
    Tensor *out = tape_node(T, OP_LINEAR, x->ndim, shape, x, w, b);
    OPS[OP_LINEAR].forward(out);
    return out;
}

/* The product as t_matmul's folded path computes it, then + b row by row
 * as t_add does. */
void fwd_linear(Tensor *out) {
    const Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    const int in = w->shape[1], C = w->shape[0];
    const long R = x->size / in;
    real *restrict y = out->data; /* [R, C] */
    gemm((int)R, C, in, x->data, in, 0, w->data, in, 1, y, C, 0);
    if (!b) return;
    const real *restrict bias = b->data;
#pragma omp parallel for if (out->size > PAR_MIN)
    for (long r = 0; r < R; r++)
#pragma omp simd
        for (long c = 0; c < C; c++) y[r * C + c] = y[r * C + c] + bias[c];
}

/* db += the column sums of dy (each column's rows in order, from 0, as
 * t_add's broadcast backward sums them); dx += dy w; dw += dy^T x. dy is
 * the product's gradient as it is the sum's: an add passes it on as is. */
void bwd_linear(Tensor *out) {
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    const int in = w->shape[1], C = w->shape[0];
    const long R = x->size / in;
    const real *dy = out->grad; /* [R, C] */
    if (b && b->grad) {
        real *gb = b->grad;
#pragma omp parallel for if (out->size > PAR_MIN)
        for (long c0 = 0; c0 < C; c0 += 64) {
            const long n = C - c0 < 64 ? C - c0 : 64;
            real sum[64] = {0};
            for (long r = 0; r < R; r++)
                for (long j = 0; j < n; j++) sum[j] += dy[r * C + c0 + j];
            for (long j = 0; j < n; j++) gb[c0 + j] += sum[j];
        }
    }
    if (x->grad) gemm((int)R, in, C, dy, C, 0, w->data, in, 0, x->grad, in, 1);
    if (w->grad) gemm(C, in, (int)R, dy, C, 1, x->data, in, 0, w->grad, in, 1);
}
