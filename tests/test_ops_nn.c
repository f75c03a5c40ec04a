/* test_ops_nn.c - Criterion tests of the neural-network ops (lib/ops_nn.c).
 *
 * Proves: the backward of softmax, log_softmax, layernorm (w.r.t. x, gain
 * and bias), embedding, causal_mask, split_heads and merge_heads, and of a
 * whole causal attention built from them, matches central differences
 * (h = 1e-5, double build, worst relative error <= 1e-6: see check_util.h);
 * and what a gradient check cannot see: softmax rows sum to 1 and survive
 * logits of 1000, a masked row softmaxes to one-hot, log_softmax of large
 * logits is finite, layernorm rows have mean 0 and variance 1, the mask puts
 * -inf exactly above the diagonal and its backward blocks the gradient
 * there, heads land where PyTorch's view/transpose puts them, results are
 * bit-identical on 1 and 2 threads, and bad shapes or ids fail clearly.
 * The fused causal attention (ops_attention.c): its backward matches
 * central differences, and it gives the chain of small ops' bits (output,
 * weights, d qkv) on 1 and 2 threads.
 * Leaves out: matmul and the elementwise ops (their own test files).
 */
#include <omp.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

/* ---- Helpers ------------------------------------------------------------- */

/* batch > 1, 3-D and 4-D, non-square, and a single row */
static const Shape SHAPES[] = {{2, {3, 5}}, {3, {2, 3, 7}}, {4, {2, 2, 3, 4}}, {2, {1, 6}}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

typedef Tensor *(*Unary)(Tape *, Tensor *);

/* loss = sum(f(x) * W), x uniform in [-3, 3]: d loss / d x vs central differences. */
static void check_unary(const char *op, Unary f, const Shape *s, uint64_t seed) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, seed);
    Tensor *x = rand_leaf(T, &r, s->ndim, s->shape, -3, 3, 1);
    Tensor *loss = weighted_sum(T, &r, f(T, x));
    char buf[128];
    expect_grads(T, loss, &x, 1, shape_label(buf, sizeof buf, op, x));
    tape_free(T);
}

/* ---- Gradient checks ----------------------------------------------------- */

Test(nn, softmax_grad_matches_finite_differences) {
    for (int i = 0; i < NSHAPES; i++) check_unary("softmax", t_softmax, &SHAPES[i], 10 + i);
}

Test(nn, log_softmax_grad_matches_finite_differences) {
    for (int i = 0; i < NSHAPES; i++) check_unary("log_softmax", t_log_softmax, &SHAPES[i], 20 + i);
}

Test(nn, layernorm_grad_wrt_x_gain_and_bias_matches_finite_differences) {
    for (int i = 0; i < NSHAPES; i++) {
        const Shape *s = &SHAPES[i];
        int C = s->shape[s->ndim - 1];
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 30 + i);
        Tensor *x = rand_leaf(T, &r, s->ndim, s->shape, -2, 2, 1);
        Tensor *g = rand_leaf(T, &r, 1, SHAPE(C), 0.5, 1.5, 1);
        Tensor *b = rand_leaf(T, &r, 1, SHAPE(C), -0.5, 0.5, 1);
        Tensor *loss = weighted_sum(T, &r, t_layernorm(T, x, g, b, 1e-5));
        Tensor *wrt[] = {x, g, b};
        char buf[128];
        expect_grads(T, loss, wrt, 3, shape_label(buf, sizeof buf, "layernorm", x));
        tape_free(T);
    }
}

Test(nn, embedding_grad_scatters_repeated_ids_and_matches_finite_differences) {
    static const Shape ids_shapes[] = {{1, {5}}, {2, {2, 3}}, {3, {2, 2, 3}}};
    int ids[12];
    for (int i = 0; i < 3; i++) {
        const Shape *s = &ids_shapes[i];
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 40 + i);
        Tensor *table = rand_leaf(T, &r, 2, SHAPE(7, 4), -1, 1, 1);
        long n = 1;
        for (int d = 0; d < s->ndim; d++) n *= s->shape[d];
        for (long k = 0; k < n; k++) ids[k] = rng_int(&r, 7);
        ids[1] = ids[0]; /* a repeated id: its row must get both gradients */
        Tensor *y = t_embedding(T, table, ids, s->ndim, s->shape);
        cr_assert_eq(y->ndim, s->ndim + 1);
        Tensor *loss = weighted_sum(T, &r, y);
        char buf[128];
        expect_grads(T, loss, &table, 1, shape_label(buf, sizeof buf, "embedding", y));
        tape_free(T);
    }
}

/* A gradient check sees the mask only through what follows it: after a
 * softmax, the masked entries carry no gradient anyway. */
static Tensor *masked_softmax(Tape *T, Tensor *x) { return t_softmax(T, t_causal_mask(T, x)); }

Test(nn, causal_mask_then_softmax_grad_matches_finite_differences) {
    static const Shape sq[] = {{2, {4, 4}}, {3, {3, 5, 5}}, {4, {2, 2, 3, 3}}};
    for (int i = 0; i < 3; i++) check_unary("causal_mask+softmax", masked_softmax, &sq[i], 50 + i);
}

/* ...so the mask's own backward is checked directly: seed dy = 1 everywhere
 * and the gradient must be exactly 1 on and below the diagonal, 0 above. */
Test(nn, causal_mask_backward_passes_gradient_only_below_the_diagonal) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 55);
    Tensor *x = rand_leaf(T, &r, 3, SHAPE(2, 4, 4), -1, 1, 1);
    Tensor *y = t_causal_mask(T, x);
    for (long k = 0; k < y->size; k++) y->grad[k] = 1;
    OPS[y->op].backward(y);
    for (long k = 0; k < x->size; k++) {
        long i = k / 4 % 4, j = k % 4;
        cr_assert_eq(x->grad[k], j > i ? 0 : 1, "entry %ld (query %ld, key %ld): grad %g", k, i, j, x->grad[k]);
    }
    tape_free(T);
}

Test(nn, split_heads_grad_matches_finite_differences_for_every_part) {
    /* x [B, T, P*C] -> [B, H, T, hd] */
    static const struct { int B, T, P, C, H; } cases[] = {{2, 3, 3, 4, 2}, {1, 5, 2, 6, 3}, {2, 2, 1, 6, 1}};
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < cases[i].P; p++) {
            Tape *T = tape_new();
            Rng r;
            rng_seed(&r, 60 + 10 * i + p);
            Tensor *x = rand_leaf(T, &r, 3, SHAPE(cases[i].B, cases[i].T, cases[i].P * cases[i].C), -1, 1, 1);
            Tensor *y = t_split_heads(T, x, p, cases[i].P, cases[i].H);
            Tensor *loss = weighted_sum(T, &r, y);
            char buf[128];
            expect_grads(T, loss, &x, 1, shape_label(buf, sizeof buf, "split_heads", y));
            tape_free(T);
        }
}

Test(nn, merge_heads_grad_matches_finite_differences) {
    static const Shape s[] = {{4, {2, 3, 4, 2}}, {4, {1, 2, 3, 5}}, {4, {3, 1, 2, 4}}};
    for (int i = 0; i < 3; i++) check_unary("merge_heads", t_merge_heads, &s[i], 70 + i);
}

/* The GPT's attention, op by op, exactly as chapter 5 builds it:
 * x [B, T, 3C] -> q, k, v [B, H, T, hd] -> softmax(mask(q k^T / sqrt(hd))) v
 * -> [B, T, C]. Needs t_matmul (ops_matmul.c) and t_mul_scalar. */
Test(nn, causal_attention_chain_grad_matches_finite_differences) {
    static const struct { int B, T, C, H; } cases[] = {{2, 5, 8, 2}, {1, 4, 6, 3}};
    for (int i = 0; i < 2; i++) {
        int B = cases[i].B, Tn = cases[i].T, C = cases[i].C, H = cases[i].H, hd = C / H;
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 80 + i);
        Tensor *x = rand_leaf(T, &r, 3, SHAPE(B, Tn, 3 * C), -1, 1, 1);
        Tensor *q = t_split_heads(T, x, 0, 3, H), *k = t_split_heads(T, x, 1, 3, H), *v = t_split_heads(T, x, 2, 3, H);
        Tensor *att = t_mul_scalar(T, t_matmul(T, q, k, 0, 1), 1 / sqrt((double)hd)); /* [B, H, T, T] */
        att = t_softmax(T, t_causal_mask(T, att));
        Tensor *y = t_merge_heads(T, t_matmul(T, att, v, 0, 0)); /* [B, T, C] */
        cr_assert(y->ndim == 3 && y->shape[0] == B && y->shape[1] == Tn && y->shape[2] == C);
        Tensor *loss = weighted_sum(T, &r, y);
        char buf[128];
        expect_grads(T, loss, &x, 1, shape_label(buf, sizeof buf, "attention", x));
        tape_free(T);
    }
}

/* The fused op (ops_attention.c) against finite differences, with q, k, v
 * also used later (its backward must add into the input's gradient). */
Test(nn, causal_attention_op_grad_matches_finite_differences) {
    static const struct { int B, T, C, H; } cases[] = {{2, 5, 8, 2}, {1, 4, 6, 3}, {1, 1, 4, 1}};
    for (int i = 0; i < 3; i++) {
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 85 + i);
        Tensor *x = rand_leaf(T, &r, 3, SHAPE(cases[i].B, cases[i].T, 3 * cases[i].C), -1, 1, 1);
        Tensor *loss = weighted_sum(T, &r, t_causal_attention(T, x, cases[i].H));
        loss = also_used_later(T, &r, loss, &x, 1);
        char buf[128];
        expect_grads(T, loss, &x, 1, shape_label(buf, sizeof buf, "causal_attention", x));
        tape_free(T);
    }
}

/* The chain of small ops above and the fused op: the same numbers bit for
 * bit, forward (output, attention weights) and backward (d qkv), on 1 and 2
 * threads (the fused op splits the B H heads over the threads). Two sizes:
 * T = 7, hd = 3 run gemm; T = 32, hd = 16 run the op's own small kernel
 * (head_mm: T and hd whole tiles, as the GPT's 64 and 32 are). */
Test(nn, causal_attention_op_gives_the_chain_of_small_ops_bits) {
    const struct { int B, Tn, C, H; } cases[] = {{8, 7, 12, 4}, {3, 32, 64, 4}};
    for (int c = 0; c < 2; c++)
    for (int threads = 1; threads <= 2; threads++) {
        int B = cases[c].B, Tn = cases[c].Tn, C = cases[c].C, H = cases[c].H, hd = C / H;
        omp_set_num_threads(threads);
        Tensor *x[2], *y[2], *p[2];
        Tape *T[2];
        for (int f = 0; f < 2; f++) {
            T[f] = tape_new();
            Rng r;
            rng_seed(&r, 90);
            x[f] = rand_leaf(T[f], &r, 3, SHAPE(B, Tn, 3 * C), -2, 2, 1);
            if (f) {
                y[f] = t_causal_attention(T[f], x[f], H);
            } else {
                Tensor *q = t_split_heads(T[f], x[f], 0, 3, H), *k = t_split_heads(T[f], x[f], 1, 3, H);
                Tensor *v = t_split_heads(T[f], x[f], 2, 3, H);
                Tensor *s = t_mul_scalar(T[f], t_matmul(T[f], q, k, 0, 1), 1 / sqrt((double)hd));
                p[f] = t_softmax(T[f], t_causal_mask(T[f], s));
                y[f] = t_merge_heads(T[f], t_matmul(T[f], p[f], v, 0, 0));
            }
            backward(T[f], weighted_sum(T[f], &r, y[f]));
        }
        cr_assert(memcmp(y[0]->data, y[1]->data, sizeof(real) * y[0]->size) == 0, "outputs differ (T %d, %d threads)",
                  Tn, threads);
        cr_assert(memcmp(p[0]->data, t_attention_weights(y[1]), sizeof(real) * p[0]->size) == 0,
                  "attention weights differ (T %d, %d threads)", Tn, threads);
        for (long i = 0; i < x[0]->size; i++)
            cr_assert(x[0]->grad[i] == x[1]->grad[i], "d qkv differs at %ld (part %ld): %.17g vs %.17g (T %d, %d threads)",
                      i, i % (3 * C) / C, x[0]->grad[i], x[1]->grad[i], Tn, threads);
        tape_free(T[0]);
        tape_free(T[1]);
    }
}

/* ---- Forward values ------------------------------------------------------ */

/* Tolerance 1e-12: a row sum of 6 probabilities carries ~6 ulp of round-off
 * in double (1e-15); a wrong normalisation is off by O(1). */
Test(nn, softmax_rows_sum_to_one_and_are_stable_for_logits_of_1000) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 90);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(4, 6), -5, 5, 0);
    Tensor *xs = tape_input(T, 2, SHAPE(4, 6), 0);
    for (long k = 0; k < x->size; k++) xs->data[k] = x->data[k] + 1000; /* e^1000 overflows */
    Tensor *y = t_softmax(T, x), *ys = t_softmax(T, xs);
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        double s = 0;
        for (int j = 0; j < 6; j++) {
            cr_assert(isfinite(ys->data[i * 6 + j]), "softmax(x + 1000)[%d, %d] = %g", i, j, ys->data[i * 6 + j]);
            s += ys->data[i * 6 + j];
            /* shift invariance; the shifted logits lose ~1000 * 1e-16 of precision */
            worst = fmax(worst, fabs(ys->data[i * 6 + j] - y->data[i * 6 + j]));
        }
        cr_assert(fabs(s - 1) <= 1e-12, "row %d sums to %.17g", i, s);
    }
    cr_assert(worst <= 1e-11, "softmax(x + 1000) differs from softmax(x) by %.3e", worst);
    tape_free(T);
}

Test(nn, softmax_of_a_row_masked_but_for_one_entry_is_one_hot) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(1, 4), 0);
    real row[4] = {-INFINITY, -INFINITY, 0.3, -INFINITY};
    memcpy(x->data, row, sizeof row);
    Tensor *y = t_softmax(T, x);
    for (int j = 0; j < 4; j++) cr_assert_eq(y->data[j], j == 2 ? 1 : 0, "entry %d is %g", j, y->data[j]);
    /* and through the mask: query 0 sees only key 0 */
    Tensor *s = tape_input(T, 2, SHAPE(3, 3), 0);
    for (long k = 0; k < 9; k++) s->data[k] = (real)k;
    Tensor *a = t_softmax(T, t_causal_mask(T, s));
    cr_assert(a->data[0] == 1 && a->data[1] == 0 && a->data[2] == 0, "row 0: %g %g %g", a->data[0], a->data[1], a->data[2]);
    tape_free(T);
}

/* fwd_softmax takes rows a group at a time (their chains side by side) and
 * the rows left over one by one: every row must come out as it does alone,
 * here against each row of a [19, 37] block (two groups of 8, three left
 * over) taken as a [1, 37] tensor of its own. */
Test(nn, softmax_of_a_block_of_rows_gives_each_row_alone_bits) {
    enum { R = 19, C = 37 };
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 95);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(R, C), -6, 6, 0);
    for (int i = 0; i < R; i++) x->data[i * C + (i * 7) % C] = -INFINITY; /* a masked entry per row */
    Tensor *y = t_softmax(T, x);
    for (int i = 0; i < R; i++) {
        Tensor *xi = tape_input(T, 2, SHAPE(1, C), 0);
        memcpy(xi->data, x->data + i * C, C * sizeof(real));
        Tensor *yi = t_softmax(T, xi);
        for (int j = 0; j < C; j++)
            cr_assert(yi->data[j] == y->data[i * C + j], "row %d, entry %d: %.17g in the block, %.17g alone", i, j,
                      y->data[i * C + j], yi->data[j]);
    }
    tape_free(T);
}

/* The same for layernorm's forward (rows a group at a time, the rest one
 * by one), and its backward's gain and bias gradients, summed over the rows
 * by column blocks: the block's rows one at a time, in order, must give the
 * same bits. */
Test(nn, layernorm_of_a_block_of_rows_gives_each_row_alone_bits) {
    enum { R = 19, C = 37 };
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 96);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(R, C), -3, 3, 0);
    Tensor *g = rand_leaf(T, &r, 1, SHAPE(C), 0.5, 1.5, 1), *b = rand_leaf(T, &r, 1, SHAPE(C), -1, 1, 1);
    Tensor *y = t_layernorm(T, x, g, b, 1e-5);
    Tensor *dy = rand_leaf(T, &r, 2, SHAPE(R, C), -1, 1, 0);
    memcpy(y->grad, dy->data, sizeof(real) * R * C);
    OPS[y->op].backward(y);
    real dg[C], db[C];
    memcpy(dg, g->grad, sizeof dg);
    memcpy(db, b->grad, sizeof db);
    memset(g->grad, 0, sizeof dg);
    memset(b->grad, 0, sizeof db);
    for (int i = 0; i < R; i++) {
        Tensor *xi = tape_input(T, 2, SHAPE(1, C), 0);
        memcpy(xi->data, x->data + i * C, C * sizeof(real));
        Tensor *yi = t_layernorm(T, xi, g, b, 1e-5);
        for (int j = 0; j < C; j++)
            cr_assert(yi->data[j] == y->data[i * C + j], "row %d, entry %d: %.17g in the block, %.17g alone", i, j,
                      y->data[i * C + j], yi->data[j]);
        memcpy(yi->grad, dy->data + i * C, C * sizeof(real));
        OPS[yi->op].backward(yi); /* adds row i's share to g->grad, b->grad */
    }
    cr_assert(memcmp(dg, g->grad, sizeof dg) == 0, "d gain: the block and the rows one by one differ");
    cr_assert(memcmp(db, b->grad, sizeof db) == 0, "d bias: the block and the rows one by one differ");
    tape_free(T);
}

/* exp(y) of log_softmax sums to 1 per row (tolerance 1e-12 as above). */
Test(nn, log_softmax_of_large_logits_is_finite_and_normalised) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(2, 3), 0);
    real v[6] = {1000, -1000, 0, 2000, 1999, -3000};
    memcpy(x->data, v, sizeof v);
    Tensor *y = t_log_softmax(T, x);
    for (int i = 0; i < 2; i++) {
        double s = 0;
        for (int j = 0; j < 3; j++) {
            cr_assert(isfinite(y->data[i * 3 + j]), "log_softmax[%d, %d] = %g", i, j, y->data[i * 3 + j]);
            s += exp(y->data[i * 3 + j]);
        }
        cr_assert(fabs(s - 1) <= 1e-12, "row %d: sum of exp = %.17g", i, s);
    }
    cr_assert(fabs(y->data[1] - -2000) <= 1e-9, "log_softmax(1000, -1000, 0)[1] = %.17g, want -2000", y->data[1]);
    tape_free(T);
}

/* With gain 1 and bias 0 each row has mean 0 and variance v / (v + eps):
 * for rows of variance ~3 and eps = 1e-5 that is 1 within 1e-5. */
Test(nn, layernorm_rows_have_mean_zero_and_variance_one) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 91);
    int N = 4, C = 64;
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, C), 2, 8, 0); /* mean 5, variance 3 */
    Tensor *g = tape_input(T, 1, SHAPE(C), 0), *b = tape_input(T, 1, SHAPE(C), 0);
    for (int i = 0; i < C; i++) g->data[i] = 1;
    Tensor *y = t_layernorm(T, x, g, b, 1e-5);
    for (int n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += y->data[n * C + i];
        m /= C;
        for (int i = 0; i < C; i++) v += (y->data[n * C + i] - m) * (y->data[n * C + i] - m);
        v /= C;
        cr_assert(fabs(m) <= 1e-12, "row %d: mean %.3e", n, m);
        cr_assert(fabs(v - 1) <= 1e-5, "row %d: variance %.17g", n, v);
    }
    tape_free(T);
}

Test(nn, embedding_copies_the_row_of_each_id) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 92);
    Tensor *table = rand_leaf(T, &r, 2, SHAPE(5, 3), -1, 1, 0);
    int ids[4] = {4, 0, 4, 2};
    Tensor *y = t_embedding(T, table, ids, 2, SHAPE(2, 2));
    cr_assert(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 2 && y->shape[2] == 3);
    for (int n = 0; n < 4; n++)
        for (int c = 0; c < 3; c++)
            cr_assert_eq(y->data[n * 3 + c], table->data[ids[n] * 3 + c], "position %d, column %d", n, c);
    tape_free(T);
}

Test(nn, causal_mask_sets_exactly_the_upper_triangle_to_minus_infinity) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 93);
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(2, 2, 5, 5), -1, 1, 0);
    Tensor *y = t_causal_mask(T, x);
    for (long k = 0; k < y->size; k++) {
        long i = k / 5 % 5, j = k % 5;
        if (j > i)
            cr_assert(isinf(y->data[k]) && y->data[k] < 0, "entry %ld (query %ld, key %ld) is %g, want -inf", k, i, j, y->data[k]);
        else
            cr_assert_eq(y->data[k], x->data[k], "entry %ld (query %ld, key %ld) changed", k, i, j);
    }
    tape_free(T);
}

/* x[b, t, c] = its flat index, so every entry says where it came from. */
Test(nn, split_heads_places_entries_as_view_transpose_and_merge_heads_undoes_it) {
    int B = 2, Tn = 3, P = 3, C = 8, H = 2, hd = C / H;
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 3, SHAPE(B, Tn, P * C), 0);
    for (long k = 0; k < x->size; k++) x->data[k] = (real)k;
    for (int p = 0; p < P; p++) {
        Tensor *s = t_split_heads(T, x, p, P, H);
        cr_assert(s->ndim == 4 && s->shape[0] == B && s->shape[1] == H && s->shape[2] == Tn && s->shape[3] == hd);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int t = 0; t < Tn; t++)
                    for (int d = 0; d < hd; d++) {
                        real got = s->data[((b * H + h) * Tn + t) * hd + d];
                        real want = x->data[(b * Tn + t) * P * C + p * C + h * hd + d];
                        cr_assert_eq(got, want, "part %d: out[%d, %d, %d, %d] = %g, want %g", p, b, h, t, d, got, want);
                    }
        Tensor *m = t_merge_heads(T, s); /* [B, T, C]: part p's columns, as they were */
        cr_assert(m->ndim == 3 && m->shape[2] == C);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Tn; t++)
                for (int c = 0; c < C; c++)
                    cr_assert_eq(m->data[(b * Tn + t) * C + c], x->data[(b * Tn + t) * P * C + p * C + c],
                                 "part %d: round trip changed [%d, %d, %d]", p, b, t, c);
    }
    tape_free(T);
}

/* ---- Determinism ------------------------------------------------------- */

/* Inputs above the OpenMP threshold (rows * C > 2^15): 1 and 2 threads must
 * give the same bits, forward and backward (layernorm's dgain sums rows). */
static void run_big(int threads, real *out, real *gx, real *gg) {
    omp_set_num_threads(threads);
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 99);
    int N = 512, C = 128;
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, C), -2, 2, 1);
    Tensor *g = rand_leaf(T, &r, 1, SHAPE(C), 0.5, 1.5, 1), *b = rand_leaf(T, &r, 1, SHAPE(C), -1, 1, 1);
    Tensor *y = t_softmax(T, t_layernorm(T, x, g, b, 1e-5));
    backward(T, weighted_sum(T, &r, y));
    memcpy(out, y->data, sizeof(real) * N * C);
    memcpy(gx, x->grad, sizeof(real) * N * C);
    memcpy(gg, g->grad, sizeof(real) * C);
    tape_free(T);
}

Test(nn, layernorm_and_softmax_are_bit_identical_on_1_and_2_threads) {
    static real y1[512 * 128], y2[512 * 128], gx1[512 * 128], gx2[512 * 128], gg1[128], gg2[128];
    run_big(1, y1, gx1, gg1);
    run_big(2, y2, gx2, gg2);
    cr_assert(memcmp(y1, y2, sizeof y1) == 0, "forward differs between 1 and 2 threads");
    cr_assert(memcmp(gx1, gx2, sizeof gx1) == 0, "d x differs between 1 and 2 threads");
    cr_assert(memcmp(gg1, gg2, sizeof gg1) == 0, "d gain differs between 1 and 2 threads");
}

/* ---- Bad input ------------------------------------------------------------ */

Test(nn, out_of_range_ids_and_bad_shapes_fail_with_a_clear_message) {
    Tape *T = tape_new();
    Tensor *table = tape_input(T, 2, SHAPE(5, 3), 1);
    int bad_hi[3] = {0, 5, 1}, bad_lo[2] = {-1, 0};
    EXPECT_FAIL(t_embedding(T, table, bad_hi, 1, SHAPE(3)), EXIT_SOFTWARE, "id 5 at position 1");
    EXPECT_FAIL(t_embedding(T, table, bad_lo, 1, SHAPE(2)), EXIT_SOFTWARE, "id -1 at position 0");
    Tensor *x = tape_input(T, 2, SHAPE(4, 6), 1), *g = tape_input(T, 1, SHAPE(5), 1), *b = tape_input(T, 1, SHAPE(6), 1);
    EXPECT_FAIL(t_layernorm(T, x, g, b, 1e-5), EXIT_SOFTWARE, "[4, 6]");
    EXPECT_FAIL(t_causal_mask(T, x), EXIT_SOFTWARE, "[4, 6]");
    Tensor *f = tape_input(T, 3, SHAPE(2, 3, 12), 1);
    EXPECT_FAIL(t_split_heads(T, f, 0, 3, 3), EXIT_SOFTWARE, "[2, 3, 12]"); /* C = 4 is not divisible by 3 heads */
    EXPECT_FAIL(t_split_heads(T, f, 3, 3, 2), EXIT_SOFTWARE, "part 3 of 3");
    EXPECT_FAIL(t_merge_heads(T, f), EXIT_SOFTWARE, "[2, 3, 12]");
    EXPECT_FAIL(t_causal_attention(T, f, 3), EXIT_SOFTWARE, "[2, 3, 12] and 3 heads"); /* C = 4, 3 heads */
    EXPECT_FAIL(t_causal_attention(T, x, 1), EXIT_SOFTWARE, "[4, 6] and 1 heads");    /* not [B, T, 3C] */
    EXPECT_FAIL(t_attention_weights(x), EXIT_SOFTWARE, "t_causal_attention");
    tape_free(T);
}
