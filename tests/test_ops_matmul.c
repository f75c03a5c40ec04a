/* test_ops_matmul.c - gradient checks and reference values of matmul.
 *
 * Proves: t_matmul's backward matches central differences (relative error
 * <= 1e-6 in double; see check_util.h) in all four transpose cases (ta, tb),
 * for 2-D operands, batched operands with one and two leading dims, and a
 * 2-D b shared by every leading index of a (the folded path when !ta, one
 * product per batch index when ta); with one tensor in both slots (a a^T);
 * with every input also feeding a later consumer, so a backward that
 * assigns (accumulate = 0) instead of adding fails. And that its forward
 * equals a plain triple loop written here (a gradient check cannot see a
 * forward that multiplies the wrong entries consistently).
 * t_linear (a linear layer with bias, GELU and residual as one node): its
 * backward matches central differences for every combination, and it gives
 * the bits of the chain matmul, add, gelu, add, forward and backward, on 1
 * and 2 threads, at sizes that cross its row blocks and gemm's K slices.
 * Shapes that do not multiply, or do not fit a linear layer, exit 70 with a
 * message naming them.
 * Leaves out: gemm's own speed and blocking (gemm's tests and the bench).
 */
#include <omp.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

/* The stored shape of an operand: [lead..., r, c] where (r, c) = (rows,
 * cols) of the matrix it holds, swapped when transposed. */
static void stored(int *shape, int nlead, const int *lead, int rows, int cols, int t) {
    for (int i = 0; i < nlead; i++) shape[i] = lead[i];
    shape[nlead] = t ? cols : rows;
    shape[nlead + 1] = t ? rows : cols;
}

/* op(a) [lead, M, K] @ op(b) [blead, K, N] with random a, b; nblead = 0 for a shared 2-D b. */
static void make_operands(Tape *T, Rng *r, int nlead, const int *lead, int nblead, int M, int K, int N, int ta, int tb,
                          Tensor **a, Tensor **b) {
    int sa[MAX_DIMS], sb[MAX_DIMS];
    stored(sa, nlead, lead, M, K, ta);
    stored(sb, nblead, lead, K, N, tb);
    *a = rand_leaf(T, r, nlead + 2, sa, -1, 1, 1);
    *b = rand_leaf(T, r, nblead + 2, sb, -1, 1, 1);
}

/* Gradient-check every (ta, tb) for operands with these leading dims. */
static void check_case(const char *what, int nlead, const int *lead, int shared_b) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 21);
    char label[160], s1[64], s2[64];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            tape_reset(T);
            Tensor *a, *b;
            make_operands(T, &r, nlead, lead, shared_b ? 0 : nlead, 3, 4, 5, ta, tb, &a, &b);
            Tensor *loss = weighted_sum(T, &r, t_matmul(T, a, b, ta, tb));
            loss = also_used_later(T, &r, loss, (Tensor *[]){a, b}, 2);
            snprintf(label, sizeof label, "%s: %s%s @ %s%s", what, shape_str(a, s1, sizeof s1), ta ? "^T" : "",
                     shape_str(b, s2, sizeof s2), tb ? "^T" : "");
            expect_grads(T, loss, (Tensor *[]){a, b}, 2, label);
        }
    tape_free(T);
}

/* ---- gradient checks ------------------------------------------------------- */

/* M, K, N = 3, 4, 5: no two equal, so a swapped index cannot go unnoticed. */
Test(matmul, matrices_in_all_four_transpose_cases_match_central_differences) {
    check_case("2-D", 0, NULL, 0);
}

Test(matmul, batched_in_all_four_transpose_cases_matches_central_differences) {
    check_case("batched [2]", 1, (const int[]){2}, 0);
    check_case("batched [2, 3]", 2, (const int[]){2, 3}, 0);
}

Test(matmul, shared_2d_b_in_all_four_transpose_cases_matches_central_differences) {
    check_case("shared b, a [2]", 1, (const int[]){2}, 1);
    check_case("shared b, a [3, 2]", 2, (const int[]){3, 2}, 1);
}

/* a a^T, a^T a (2-D and batched), and a shared square w used as w w: the
 * tensor in both slots gets both contributions. */
Test(matmul, same_tensor_in_both_slots_matches_central_differences) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 22);
    const struct { int ndim, shape[3], ta, tb; } cases[] = {
        {2, {3, 4}, 0, 1}, {2, {3, 4}, 1, 0}, {3, {2, 3, 4}, 0, 1}, {3, {2, 4, 3}, 1, 0}, {2, {4, 4}, 0, 0}, {2, {4, 4}, 1, 1},
    };
    char label[96], s[64];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tape_reset(T);
        Tensor *a = rand_leaf(T, &r, cases[k].ndim, cases[k].shape, -1, 1, 1);
        Tensor *loss = weighted_sum(T, &r, t_matmul(T, a, a, cases[k].ta, cases[k].tb));
        snprintf(label, sizeof label, "a%s a%s, a %s", cases[k].ta ? "^T" : "", cases[k].tb ? "^T" : "",
                 shape_str(a, s, sizeof s));
        expect_grads(T, loss, (Tensor *[]){a}, 1, label);
    }
    tape_free(T);
}

/* ---- forward values ---------------------------------------------------------- */

/* out[p, i, j] = sum_k op(a)[p, i, k] op(b)[p, k, j] by the textbook loop, in
 * double, for every (ta, tb), batched and shared, at sizes that cross gemm's
 * blocking (M 37, K 300 > its K slice, N 29). Tolerance 1e-12 relative to
 * sum_k |a b|: K roundings of ~1e-16 each, with room to spare. */
Test(matmul, output_matches_a_naive_loop) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 23);
    const int M = 37, K = 300, N = 29, P = 3;
    for (int shared = 0; shared < 2; shared++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                tape_reset(T);
                Tensor *a, *b;
                make_operands(T, &r, 1, (const int[]){P}, shared ? 0 : 1, M, K, N, ta, tb, &a, &b);
                Tensor *c = t_matmul(T, a, b, ta, tb);
                cr_assert(c->ndim == 3 && c->shape[0] == P && c->shape[1] == M && c->shape[2] == N,
                          "output shape is wrong");
                double worst = 0;
                int wp = 0, wi = 0, wj = 0;
                for (int p = 0; p < P; p++)
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            double s = 0, mag = 0;
                            for (int k = 0; k < K; k++) {
                                double x = ta ? a->data[((long)p * K + k) * M + i] : a->data[((long)p * M + i) * K + k];
                                long pb = shared ? 0 : p;
                                double y = tb ? b->data[(pb * N + j) * K + k] : b->data[(pb * K + k) * N + j];
                                s += x * y;
                                mag += fabs(x * y);
                            }
                            double err = fabs(c->data[((long)p * M + i) * N + j] - s) / mag;
                            if (err > worst) worst = err, wp = p, wi = i, wj = j;
                        }
                cr_expect(worst <= 1e-12, "shared %d ta %d tb %d: worst relative difference %.3e at [%d, %d, %d]",
                          shared, ta, tb, worst, wp, wi, wj);
            }
    tape_free(T);
}

/* The shared-b gradient with ta sums one product per batch index in batch
 * order: the same bits on 1 and 2 threads (large enough for gemm to thread). */
Test(matmul, shared_b_gradient_is_identical_on_one_and_two_threads) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 24);
    Tensor *a, *b;
    make_operands(T, &r, 1, (const int[]){4}, 0, 128, 96, 160, 1, 0, &a, &b);
    Tensor *loss = weighted_sum(T, &r, t_matmul(T, a, b, 1, 0));
    real *grads[2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        backward(T, loss);
        grads[t] = tape_alloc(T, b->size);
        memcpy(grads[t], b->grad, (size_t)b->size * sizeof(real)); /* backward re-zeroes the tape's grads */
    }
    omp_set_num_threads(saved);
    long diff = 0;
    for (long i = 0; i < b->size; i++) diff += memcmp(&grads[0][i], &grads[1][i], sizeof(real)) != 0;
    cr_expect(diff == 0, "%ld of %ld entries of db differ between 1 and 2 threads", diff, b->size);
    tape_free(T);
}

/* ---- t_linear: a linear layer (bias, GELU, residual) as one node ------------- */

/* out = res + act(x w^T + b) for each combination of bias, GELU and residual,
 * x [2, 3, 4] (leading dims folded), against central differences, with x, w,
 * b and res also used later (a backward that assigns instead of adding
 * fails). Inputs in [-2, 2]: GELU has no kink. */
Test(matmul, linear_with_bias_gelu_and_residual_matches_central_differences) {
    for (int k = 0; k < 8; k++) {
        int bias = k & 1, gelu = k >> 1 & 1, resid = k >> 2 & 1;
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 30 + k);
        Tensor *x = rand_leaf(T, &r, 3, SHAPE(2, 3, 4), -2, 2, 1), *w = rand_leaf(T, &r, 2, SHAPE(5, 4), -1, 1, 1);
        Tensor *b = bias ? rand_leaf(T, &r, 1, SHAPE(5), -1, 1, 1) : NULL;
        Tensor *res = resid ? rand_leaf(T, &r, 3, SHAPE(2, 3, 5), -1, 1, 1) : NULL;
        Tensor *loss = weighted_sum(T, &r, t_linear(T, x, w, b, gelu ? LINEAR_GELU : LINEAR_NONE, res));
        Tensor *wrt[4] = {x, w};
        int n = 2;
        if (b) wrt[n++] = b;
        if (res) wrt[n++] = res;
        loss = also_used_later(T, &r, loss, wrt, n);
        char label[96];
        snprintf(label, sizeof label, "linear, bias %d, gelu %d, residual %d", bias, gelu, resid);
        expect_grads(T, loss, wrt, n, label);
        tape_free(T);
    }
}

/* The same layer from matmul, add, gelu and add: the same bits, forward and
 * backward, at R = 700 rows (the GELU backward works 512 rows at a time:
 * two blocks, the second partial) and K = 300 (gemm slices the forward's
 * sum), on 1 and 2 threads. */
Test(matmul, linear_gives_the_chain_of_small_ops_bits) {
    enum { R = 700, K = 300, N = 40 };
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        for (int gelu = 0; gelu < 2; gelu++) {
            Tensor *x[2], *w[2], *b[2], *res[2], *y[2];
            Tape *T[2];
            for (int f = 0; f < 2; f++) {
                T[f] = tape_new();
                Rng r;
                rng_seed(&r, 40);
                x[f] = rand_leaf(T[f], &r, 2, SHAPE(R, K), -1, 1, 1);
                w[f] = rand_leaf(T[f], &r, 2, SHAPE(N, K), -0.1, 0.1, 1);
                b[f] = rand_leaf(T[f], &r, 1, SHAPE(N), -1, 1, 1);
                res[f] = rand_leaf(T[f], &r, 2, SHAPE(R, N), -1, 1, 1);
                if (f) {
                    y[f] = t_linear(T[f], x[f], w[f], b[f], gelu ? LINEAR_GELU : LINEAR_NONE, res[f]);
                } else {
                    y[f] = t_add(T[f], t_matmul(T[f], x[f], w[f], 0, 1), b[f]);
                    if (gelu) y[f] = t_gelu(T[f], y[f]);
                    y[f] = t_add(T[f], res[f], y[f]);
                }
                backward(T[f], weighted_sum(T[f], &r, y[f]));
            }
            const char *what[] = {"out", "dx", "dw", "db", "dres"};
            const real *got[][2] = {{y[0]->data, y[1]->data}, {x[0]->grad, x[1]->grad}, {w[0]->grad, w[1]->grad},
                                    {b[0]->grad, b[1]->grad}, {res[0]->grad, res[1]->grad}};
            const long size[] = {y[0]->size, x[0]->size, w[0]->size, b[0]->size, res[0]->size};
            for (int i = 0; i < 5; i++)
                cr_assert(memcmp(got[i][0], got[i][1], (size_t)size[i] * sizeof(real)) == 0,
                          "%s differs from the chain's (gelu %d, %d threads)", what[i], gelu, threads);
            tape_free(T[0]);
            tape_free(T[1]);
        }
    }
}

/* ---- bad input ---------------------------------------------------------------- */

/* Inner dims differ; leading dims differ; a 3-D b with a 2-D a; a vector.
 * Each: exit 70, a message naming both shapes, and a hint. */
Test(matmul, shapes_that_do_not_multiply_fail_with_a_message) {
    Tape *T = tape_new();
    const struct { int na, sa[3], nb, sb[3], ta, tb; const char *want; } cases[] = {
        {2, {3, 4}, 2, {5, 6}, 0, 0, "[3, 4] and [5, 6]"},
        {2, {3, 4}, 2, {3, 6}, 0, 1, "[3, 4] and [3, 6]^T"},
        {3, {2, 3, 4}, 3, {3, 4, 5}, 0, 0, "[2, 3, 4] and [3, 4, 5]"},
        {2, {3, 4}, 3, {2, 4, 5}, 0, 0, "[3, 4] and [2, 4, 5]"},
        {1, {4}, 2, {4, 5}, 0, 0, "[4] and [4, 5]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        Tensor *a = tape_input(T, cases[k].na, cases[k].sa, 0), *b = tape_input(T, cases[k].nb, cases[k].sb, 0);
        EXPECT_FAIL(t_matmul(T, a, b, cases[k].ta, cases[k].tb), EXIT_SOFTWARE, cases[k].want);
    }
    tape_free(T);
}

Test(matmul, a_linear_layer_with_shapes_that_do_not_fit_fails_with_a_message) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(3, 4), 1), *w = tape_input(T, 2, SHAPE(5, 4), 1);
    Tensor *w_bad = tape_input(T, 2, SHAPE(5, 6), 1), *b_bad = tape_input(T, 1, SHAPE(4), 1);
    Tensor *res_bad = tape_input(T, 2, SHAPE(3, 4), 1);
    EXPECT_FAIL(t_linear(T, x, w_bad, NULL, LINEAR_NONE, NULL), EXIT_SOFTWARE, "[3, 4], [5, 6]");
    EXPECT_FAIL(t_linear(T, x, w, b_bad, LINEAR_NONE, NULL), EXIT_SOFTWARE, "[3, 4], [5, 4] and [4]");
    EXPECT_FAIL(t_linear(T, x, w, NULL, LINEAR_NONE, res_bad), EXIT_SOFTWARE, "residual [3, 4], output [3, 5]");
    EXPECT_FAIL(t_linear(T, x, w, NULL, 7, NULL), EXIT_SOFTWARE, "act = 7");
    tape_free(T);
}
