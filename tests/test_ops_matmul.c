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
 * Shapes that do not multiply exit 70 with a message naming both.
 * t_linear (product and bias in one node): its gradient check, and the
 * bits of t_matmul then t_add, output and gradients.
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

/* ---- t_linear: the product and its bias as one node ---------------------------- */

/* x [2, 3, 4] @ w [5, 4]^T + b [5], and without b, every input also used
 * later (a backward that assigns fails). */
Test(linear, matches_central_differences_with_and_without_bias) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 25);
    for (int with_b = 0; with_b < 2; with_b++) {
        tape_reset(T);
        Tensor *x = rand_leaf(T, &r, 3, SHAPE(2, 3, 4), -1, 1, 1), *w = rand_leaf(T, &r, 2, SHAPE(5, 4), -1, 1, 1);
        Tensor *b = with_b ? rand_leaf(T, &r, 1, SHAPE(5), -1, 1, 1) : NULL;
        Tensor *loss = weighted_sum(T, &r, t_linear(T, x, w, b));
        loss = also_used_later(T, &r, loss, (Tensor *[]){x, w, b}, with_b ? 3 : 2);
        expect_grads(T, loss, (Tensor *[]){x, w, b}, with_b ? 3 : 2, with_b ? "linear, x [2, 3, 4]" : "linear, no bias");
    }
    tape_free(T);
}

/* The reference for t_linear is the pair it fuses, t_matmul then t_add
 * (each checked against PyTorch through the models' fixtures): output and
 * every gradient the same bits, at sizes where gemm blocks and threads
 * (R 300, in 270 > its K slice, out 70) and the bias sums run in blocks. */
Test(linear, gives_the_bits_of_matmul_then_add) {
    const int R = 300, in = 270, out = 70;
    Tape *T[2] = {tape_new(), tape_new()};
    Tensor *y[2], *x[2], *w[2], *b[2];
    for (int f = 0; f < 2; f++) {
        Rng r;
        rng_seed(&r, 26);
        x[f] = rand_leaf(T[f], &r, 2, SHAPE(R, in), -1, 1, 1);
        w[f] = rand_leaf(T[f], &r, 2, SHAPE(out, in), -1, 1, 1);
        b[f] = rand_leaf(T[f], &r, 1, SHAPE(out), -1, 1, 1);
        y[f] = f ? t_linear(T[f], x[f], w[f], b[f]) : t_add(T[f], t_matmul(T[f], x[f], w[f], 0, 1), b[f]);
        backward(T[f], weighted_sum(T[f], &r, y[f]));
    }
    const char *what[4] = {"output", "dx", "dw", "db"};
    const real *u[4] = {y[0]->data, x[0]->grad, w[0]->grad, b[0]->grad};
    const real *v[4] = {y[1]->data, x[1]->grad, w[1]->grad, b[1]->grad};
    const long n[4] = {y[0]->size, x[0]->size, w[0]->size, b[0]->size};
    for (int i = 0; i < 4; i++)
        for (long j = 0; j < n[i]; j++)
            cr_assert(memcmp(&u[i][j], &v[i][j], sizeof(real)) == 0, "%s[%ld]: matmul + add %.17g, linear %.17g",
                      what[i], j, (double)u[i][j], (double)v[i][j]);
    tape_free(T[0]), tape_free(T[1]);
}

/* w [5, 3] does not fit x [2, 4]; a bias [4] does not fit w [5, 4]. */
Test(linear, shapes_that_do_not_fit_fail_with_a_message) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(2, 4), 1);
    Tensor *w53 = tape_input(T, 2, SHAPE(5, 3), 1), *w54 = tape_input(T, 2, SHAPE(5, 4), 1);
    Tensor *b4 = tape_input(T, 1, SHAPE(4), 1);
    EXPECT_FAIL(t_linear(T, x, w53, NULL), EXIT_SOFTWARE, "[2, 4], [5, 3] and NULL do not fit");
    EXPECT_FAIL(t_linear(T, x, w54, b4), EXIT_SOFTWARE, "[2, 4], [5, 4] and [4] do not fit");
    tape_free(T);
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
