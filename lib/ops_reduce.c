/* ops_reduce.c - shape ops and reductions: reshape, transpose, sum, mean.
 *
 * Teaches: that moving numbers around has a gradient too, and what it is.
 * reshape is a view (the output shares the input's numbers), so its backward
 * just hands the gradient back in the input's shape; transpose's backward is
 * the transpose of the gradient. A sum copies its output gradient to every
 * element it summed (mean scales it by 1/n): a reduction in forward is a
 * broadcast in backward, the mirror of ops_elementwise.c.
 * Deterministic sums: floating-point addition is not associative, so a sum
 * split over threads must not depend on the thread count. We sum fixed-size
 * blocks (each by one thread, in order), then the block sums in order: the
 * same bits on 1 or 2 threads, and a smaller round-off than one long loop.
 * Leaves out: reductions over any axis but the last, strided views.
 *
 * Dimension key: n = elements of the input; for the *_last ops the input is
 * [R, C] (R = product of the leading dims) and the output [R].
 */
#include <stdio.h>

#include "par.h"
#include "tensor.h"
#include "util.h"

#define PAR_MIN (1L << 15) /* parallel loops above this many elements */
#define BLOCK 4096         /* elements per block of a deterministic sum */

static void need(const Tensor *a, const char *name) {
    if (!a) fail(EXIT_SOFTWARE, name, "pass a tensor", "the input is NULL");
}

/* ===========================================================================
 * reshape: a view. tape_node points out->data at the input's data.
 * =========================================================================== */

Tensor *t_reshape(Tape *T, Tensor *a, int ndim, const int *shape) {
    char sa[64], sn[64];
    need(a, "t_reshape");
    if (ndim < 1 || ndim > MAX_DIMS)
        fail(EXIT_SOFTWARE, "t_reshape", "use 1 to 4 dimensions", "asked for %d dimensions", ndim);
    Tensor want = {.ndim = ndim, .size = 1}; /* only to print the shape */
    for (int i = 0; i < ndim; i++) {
        want.shape[i] = shape[i];
        want.size *= shape[i] > 0 ? shape[i] : 0;
    }
    if (want.size != a->size)
        fail(EXIT_SOFTWARE, "t_reshape", "the new shape must hold the same number of elements (each dim >= 1)",
             "cannot reshape %s (%ld elements) to %s", shape_str(a, sa, sizeof sa), a->size,
             shape_str(&want, sn, sizeof sn));
    return tape_node(T, OP_RESHAPE, ndim, shape, a, NULL, NULL); /* nothing to compute */
}

void fwd_reshape(Tensor *out) { (void)out; /* out->data is in[0]->data */ }

void bwd_reshape(Tensor *out) {
    Tensor *a = out->in[0];
    if (!a->grad) return;
    /* BEGIN SOLUTION ex01-reshape-transpose-backward
     * HINT: out and a hold the same n numbers in one order; only the shape differs.
     * STUB: (void)out;
     */
    const real *restrict dz = out->grad; /* [n] */
    real *restrict da = a->grad;         /* [n], its own buffer: only data is shared */
    long n = out->size;
    PAR_FOR_SIMD(n > PAR_MIN, "omp parallel for simd",
    for (long i = 0; i < n; i++) da[i] += dz[i];);
    /* END SOLUTION ex01-reshape-transpose-backward */
}

/* ===========================================================================
 * transpose of the last two dims: a [B, R, C] -> out [B, C, R] (B = the
 * product of the leading dims, 1 for a matrix). A copy, not a view.
 * =========================================================================== */

Tensor *t_transpose(Tape *T, Tensor *a) {
    char sa[64];
    need(a, "t_transpose");
    if (a->ndim < 2)
        fail(EXIT_SOFTWARE, "t_transpose", "transpose needs a matrix; t_reshape a vector to [1, C] first",
             "shape %s has one dimension", shape_str(a, sa, sizeof sa));
    int shape[MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) shape[i] = a->shape[i];
    shape[a->ndim - 2] = a->shape[a->ndim - 1];
    shape[a->ndim - 1] = a->shape[a->ndim - 2];
    Tensor *out = tape_node(T, OP_TRANSPOSE, a->ndim, shape, a, NULL, NULL);
    OPS[OP_TRANSPOSE].forward(out);
    return out;
}

/* dst[b, j, i] (+)= src[b, i, j] for src [B, R, C]; one thread per dst row. */
static void transpose_into(real *dst, const real *src, long B, long R, long C, int add) {
    PAR_FOR(B * R * C > PAR_MIN, "omp parallel for",
    for (long bj = 0; bj < B * C; bj++) {
        long b = bj / C, j = bj % C;
        const real *s = src + b * R * C + j; /* column j of matrix b */
        real *d = dst + bj * R;              /* row j of the output matrix b */
        for (long i = 0; i < R; i++) d[i] = (add ? d[i] : 0) + s[i * C];
    });
}

void fwd_transpose(Tensor *out) {
    const Tensor *a = out->in[0];
    long R = a->shape[a->ndim - 2], C = a->shape[a->ndim - 1];
    transpose_into(out->data, a->data, a->size / (R * C), R, C, 0);
}

void bwd_transpose(Tensor *out) { /* da += transpose(dout): dout is [B, C, R] */
    Tensor *a = out->in[0];
    if (!a->grad) return;
    /* BEGIN SOLUTION ex01-reshape-transpose-backward
     * HINT: transpose_into, with add = 1 so the gradient accumulates.
     * STUB: (void)out;
     */
    long R = a->shape[a->ndim - 2], C = a->shape[a->ndim - 1];
    transpose_into(a->grad, out->grad, a->size / (R * C), C, R, 1);
    /* END SOLUTION ex01-reshape-transpose-backward */
}

/* ===========================================================================
 * sum and mean of all elements -> [1].
 * =========================================================================== */

static Tensor *reduce_all(Tape *T, OpKind op, Tensor *a) {
    need(a, OPS[op].name);
    Tensor *out = tape_node(T, op, 1, SHAPE(1), a, NULL, NULL);
    out->aux = tape_alloc(T, (a->size + BLOCK - 1) / BLOCK); /* one partial sum per block */
    OPS[op].forward(out);
    return out;
}

Tensor *t_sum(Tape *T, Tensor *a) { return reduce_all(T, OP_SUM, a); }
Tensor *t_mean(Tape *T, Tensor *a) { return reduce_all(T, OP_MEAN, a); }

/* What a sum is divided by: 1, or the count for a mean (a division, not a
 * product with 1/n, so the mean of 1..n is exact where the sum is). */
static real divisor(const Tensor *out, long n) { return out->op == OP_MEAN || out->op == OP_MEAN_LAST ? (real)n : 1; }

/* out = sum(a) / divisor: blocks of BLOCK summed in parallel into aux, then
 * aux summed in order. */
static void fwd_reduce_all(Tensor *out) {
    const Tensor *a = out->in[0];
    long nb = (a->size + BLOCK - 1) / BLOCK;
    PAR_FOR(a->size > PAR_MIN, "omp parallel for",
    for (long k = 0; k < nb; k++) {
        long end = (k + 1) * BLOCK < a->size ? (k + 1) * BLOCK : a->size;
        real s = 0;
        for (long i = k * BLOCK; i < end; i++) s += a->data[i];
        out->aux[k] = s;
    });
    real s = 0;
    for (long k = 0; k < nb; k++) s += out->aux[k];
    out->data[0] = s / divisor(out, a->size);
}

/* da_i += dout / divisor: every element moved the sum by the same amount. */
static void bwd_reduce_all(Tensor *out) {
    Tensor *a = out->in[0];
    if (!a->grad) return;
    real g = out->grad[0] / divisor(out, a->size);
    PAR_FOR(a->size > PAR_MIN, "omp parallel for",
    for (long i = 0; i < a->size; i++) a->grad[i] += g;);
}

void fwd_sum(Tensor *out) { fwd_reduce_all(out); }
void bwd_sum(Tensor *out) { bwd_reduce_all(out); }
void fwd_mean(Tensor *out) { fwd_reduce_all(out); }
void bwd_mean(Tensor *out) { bwd_reduce_all(out); }

/* ===========================================================================
 * sum_last and mean_last: a [R, C] -> out [R]; each row summed by one thread.
 * =========================================================================== */

static Tensor *reduce_last(Tape *T, OpKind op, Tensor *a) {
    need(a, OPS[op].name);
    /* [..., C] -> [...]; a vector [C] -> [1] */
    Tensor *out = a->ndim == 1 ? tape_node(T, op, 1, SHAPE(1), a, NULL, NULL)
                               : tape_node(T, op, a->ndim - 1, a->shape, a, NULL, NULL);
    OPS[op].forward(out);
    return out;
}

Tensor *t_sum_last(Tape *T, Tensor *a) { return reduce_last(T, OP_SUM_LAST, a); }
Tensor *t_mean_last(Tape *T, Tensor *a) { return reduce_last(T, OP_MEAN_LAST, a); }

static void fwd_reduce_last(Tensor *out) {
    const Tensor *a = out->in[0];
    long C = a->shape[a->ndim - 1], R = a->size / C;
    PAR_FOR(a->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        real s = 0;
        for (long c = 0; c < C; c++) s += a->data[r * C + c];
        out->data[r] = s / divisor(out, C);
    });
}

static void bwd_reduce_last(Tensor *out) { /* da[r, c] += dout[r] / divisor */
    Tensor *a = out->in[0];
    if (!a->grad) return;
    /* BEGIN SOLUTION ex01-sum-mean-rows-backward
     * HINT: as bwd_reduce_all above, once per row: row r of a was reduced into out[r].
     * STUB: (void)out;
     */
    long C = a->shape[a->ndim - 1], R = a->size / C;
    PAR_FOR(a->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        real g = out->grad[r] / divisor(out, C);
        for (long c = 0; c < C; c++) a->grad[r * C + c] += g;
    });
    /* END SOLUTION ex01-sum-mean-rows-backward */
}

void fwd_sum_last(Tensor *out) { fwd_reduce_last(out); }
void bwd_sum_last(Tensor *out) { bwd_reduce_last(out); }
void fwd_mean_last(Tensor *out) { fwd_reduce_last(out); }
void bwd_mean_last(Tensor *out) { bwd_reduce_last(out); }
