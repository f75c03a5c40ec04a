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
 * The arithmetic itself lives in gemm.c. Leaves out: broadcasting leading
 * dims other than "b is one 2-D matrix for all".
 * Below it, t_linear: a linear layer (x w^T + b, then GELU if asked) as one
 * node, for the GPT. Chained from matmul, add and gelu, the layer keeps
 * three outputs and three gradients; fused, it keeps its output, its
 * gradient and, with GELU, the pre-activation. Its backward forms the
 * pre-activation's gradient a block of rows at a time, in scratch, and
 * feeds each block to the same gemm calls matmul's backward makes.
 *
 * Dimension key: a [..., M, K] ([..., K, M] if ta), b [..., K, N] ([..., N,
 * K] if tb) or b 2-D, out [..., M, N]; batch = product of a's leading dims.
 */
#include <string.h>

#include "gemm.h"
#include "par.h"
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

/* ===========================================================================
 * linear: out = res + act(x w^T + b) in one node.
 * x [R, K] (any leading dims), w [N, K], b [N] or NULL, res [R, N] or NULL,
 * out [R, N]. Bit for bit the chain t_matmul(x, w, 0, 1), t_add(., b),
 * t_gelu(.), t_add(res, .):
 *   - forward: the same gemm call; b added to each row after it (z = y + b,
 *     one rounding, as the add op); GELU by the gelu op's own kernel; then
 *     res + that, one more rounding;
 *   - backward: dres += dz, as the add op's; then, with du = dz (no act) or
 *     du = dz gelu'(u) (the gelu op's backward kernel again): db += the
 *     column sums of du, rows in order,
 *     as the add op's broadcast backward; dx += du w and dw += du^T x, the
 *     gemm calls of matmul's backward. du is formed LINEAR_ROWS rows at a
 *     time; LINEAR_ROWS is a multiple of GEMM_KC, so dw's sum over rows is
 *     cut where one gemm call over all rows cuts it (gemm.h): same bits.
 * ======================================================================== */

/* Rows of du formed at a time by the backward of a layer with GELU. */
#define LINEAR_ROWS (2 * GEMM_KC)
/* Loops over more numbers than this use every thread (a number, one thread). */
#define PAR_MIN (1L << 15)

typedef struct {
    long R;   /* rows of x and out */
    int N, K; /* out features, in features */
    int act;  /* LINEAR_NONE or LINEAR_GELU */
    real *u;  /* [R, N] x w^T + b, kept for GELU's backward (aux); else out->data */
    real *sum; /* [N] the column sums of du (aux, after u) */
    real *du; /* [LINEAR_ROWS, N] backward's scratch (aux, after sum) */
} Lin;

static Lin lin_of(const Tensor *out) {
    const Tensor *w = out->in[1];
    Lin l = {.N = w->shape[0], .K = w->shape[1], .act = out->ip[0]};
    l.R = out->size / l.N;
    l.u = l.act ? out->aux : out->data;
    if (out->grad) {
        l.sum = out->aux + (l.act ? l.R * l.N : 0);
        l.du = l.sum + l.N;
    }
    return l;
}

/* Rows [r0, r0 + rows) of u and h = gelu(u) as two tensors, so the gelu op's
 * own kernels (ops_elementwise.c) run on them: the same code, the same bits.
 * du: the gradient of those u rows (the caller marks it fresh: the gelu op
 * writes it), or NULL. */
static void gelu_views(const Tensor *out, const Lin *l, long r0, long rows, real *du, Tensor *u, Tensor *h) {
    *u = (Tensor){.ndim = 2, .shape = {(int)rows, l->N}, .size = rows * l->N, .data = l->u + r0 * l->N, .grad = du};
    *h = (Tensor){.ndim = 2, .shape = {(int)rows, l->N}, .size = rows * l->N, .op = OP_GELU,
                  .data = out->data + r0 * l->N, .grad = out->grad ? out->grad + r0 * l->N : NULL, .in = {u}};
}

void fwd_linear(Tensor *out) {
    const Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    Lin l = lin_of(out);
    gemm((int)l.R, l.N, l.K, x->data, l.K, 0, w->data, l.K, 1, l.u, l.N, 0);
    if (b) {
        PAR_FOR(l.R * l.N > PAR_MIN, "omp parallel for",
        for (long r = 0; r < l.R; r++)
            for (int c = 0; c < l.N; c++) l.u[r * l.N + c] = l.u[r * l.N + c] + b->data[c];);
    }
    if (l.act) {
        Tensor u, h;
        gelu_views(out, &l, 0, l.R, NULL, &u, &h);
        OPS[OP_GELU].forward(&h);
    }
    if (out->in[3]) {
        const real *r = out->in[3]->data;
        real *z = out->data;
        PAR_FOR(l.R * l.N > PAR_MIN, "omp parallel for",
        for (long i = 0; i < l.R * l.N; i++) z[i] = r[i] + z[i];);
    }
}

/* sum [N] += the column sums of du [rows, N], each column over the rows in
 * order (the add op's broadcast backward), a block of columns per thread. */
static void column_sums(real *sum, const real *du, long rows, int N) {
    PAR_FOR(rows * N > PAR_MIN, "omp parallel for",
    for (int c0 = 0; c0 < N; c0 += 64) {
        int w = N - c0 < 64 ? N - c0 : 64;
        for (long r = 0; r < rows; r++)
            for (int j = 0; j < w; j++) sum[c0 + j] += du[r * N + c0 + j];
    });
}

void bwd_linear(Tensor *out) {
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2], *res = out->in[3];
    Lin l = lin_of(out);
    if (res && res->grad) { /* dres (+)= dz: written, 0 + dz, where fresh (backward in tape.c) */
        real *dr = res->grad;
        const real *dz = out->grad;
        const int fresh = grad_take_fresh(res);
        if (fresh)
            PAR_FOR(l.R * l.N > PAR_MIN, "omp parallel for",
            for (long i = 0; i < l.R * l.N; i++) dr[i] = (real)0 + dz[i];);
        else
            PAR_FOR(l.R * l.N > PAR_MIN, "omp parallel for",
            for (long i = 0; i < l.R * l.N; i++) dr[i] += dz[i];);
    }
    /* dx fresh: each block's gemm writes its rows (accumulate = 0) */
    const int x_fresh = grad_take_fresh(x), dx_add = x->grad && !x_fresh;
    int db = b && b->grad;
    if (db) memset(l.sum, 0, (size_t)l.N * sizeof(real));
    long block = l.act ? LINEAR_ROWS : l.R; /* without GELU, du is dz: one block */
    for (long r0 = 0; r0 < l.R; r0 += block) {
        long rows = l.R - r0 < block ? l.R - r0 : block;
        const real *du = out->grad + r0 * l.N;
        if (l.act) { /* du = dz gelu'(u) for these rows: the gelu op writes them, fresh */
            Tensor u, h;
            gelu_views(out, &l, r0, rows, l.du, &u, &h);
            u.grad_fresh = 1;
            OPS[OP_GELU].backward(&h);
            du = l.du;
        }
        if (db) column_sums(l.sum, du, rows, l.N);
        if (x->grad) /* dx [rows, K] (+)= du [rows, N] w [N, K] */
            gemm((int)rows, l.K, l.N, du, l.N, 0, w->data, l.K, 0, x->grad + r0 * l.K, l.K, dx_add);
        if (w->grad) /* dw [N, K] += du^T [N, rows] x [rows, K] */
            gemm(l.N, l.K, (int)rows, du, l.N, 1, x->data + r0 * l.K, l.K, 0, w->grad, l.K, 1);
    }
    if (db)
        for (int c = 0; c < l.N; c++) b->grad[c] += l.sum[c];
}

Tensor *t_linear(Tape *T, Tensor *x, Tensor *w, Tensor *b, int act, Tensor *res) {
    char sx[64], sw[64], sb[64], sr[64];
    if (!x || !w) fail(EXIT_SOFTWARE, "t_linear", "pass an input and a weight", "an input is NULL");
    int K = x->shape[x->ndim - 1];
    if (w->ndim != 2 || w->shape[1] != K || (b && (b->size != w->shape[0] || b->shape[b->ndim - 1] != w->shape[0])))
        fail(EXIT_SOFTWARE, "t_linear", "x [..., K], w [N, K] and b [N] (or NULL)", "shapes %s, %s and %s do not fit",
             shape_str(x, sx, sizeof sx), shape_str(w, sw, sizeof sw), b ? shape_str(b, sb, sizeof sb) : "no bias");
    if (act != LINEAR_NONE && act != LINEAR_GELU)
        fail(EXIT_SOFTWARE, "t_linear", "act is LINEAR_NONE or LINEAR_GELU", "act = %d", act);
    int shape[MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = w->shape[0];
    Tensor *out = tape_node(T, OP_LINEAR, x->ndim, shape, x, w, b);
    if (res) {
        if (!shape_equal(res, out))
            fail(EXIT_SOFTWARE, "t_linear", "the residual must have the output's shape [..., N]",
                 "residual %s, output %s", shape_str(res, sr, sizeof sr), shape_str(out, sx, sizeof sx));
        out->in[3] = res;
        if (res->grad && !out->grad) out->grad = tape_alloc_uninit(T, out->size); /* backward zeroes it */
    }
    out->ip[0] = act;
    long R = out->size / w->shape[0], N = w->shape[0];
    long rows = R < LINEAR_ROWS ? R : LINEAR_ROWS;
    long aux = (act ? R * N : 0) + (out->grad ? N + (act ? rows * N : 0) : 0); /* u, sum, du: see Lin */
    out->aux = aux ? tape_alloc_uninit(T, aux) : NULL; /* forward writes u; backward zeroes sum, writes du */
    fwd_linear(out);
    return out;
}
