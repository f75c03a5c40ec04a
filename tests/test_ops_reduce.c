/* test_ops_reduce.c - gradient checks and known values of reshape, transpose, sum, mean.
 *
 * Proves: each op's backward matches central differences (relative error
 * <= 1e-6 in double; see check_util.h) on a vector, a non-square matrix,
 * 3-D and 4-D tensors; reshape also on a parameter (data outside the arena)
 * that feeds two consumers, directly and through the view; every input
 * also feeds a later consumer, so a backward that assigns instead of adding
 * fails. And what a gradient check cannot see: the view shares its input's
 * numbers, transpose puts entry [b, i, j] at [b, j, i], sums of known
 * vectors are exact, the whole-tensor sum gives the same bits on 1 and 2
 * threads. Bad shapes exit 70 with a message.
 */
#include <omp.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

static const Shape SHAPES[] = {{1, {7}}, {2, {4, 3}}, {3, {2, 3, 5}}, {4, {2, 2, 3, 2}}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

typedef Tensor *(*UnaryOp)(Tape *, Tensor *);

/* Check op(a) on every shape with at least min_ndim dims. */
static void check_shapes(UnaryOp op, const char *name, int min_ndim) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 11);
    char label[96];
    for (int k = 0; k < NSHAPES; k++) {
        if (SHAPES[k].ndim < min_ndim) continue;
        tape_reset(T);
        Tensor *a = rand_leaf(T, &r, SHAPES[k].ndim, SHAPES[k].shape, -1, 1, 1);
        Tensor *loss = also_used_later(T, &r, weighted_sum(T, &r, op(T, a)), (Tensor *[]){a}, 1);
        expect_grads(T, loss, (Tensor *[]){a}, 1, shape_label(label, sizeof label, name, a));
    }
    tape_free(T);
}

/* ---- gradient checks ------------------------------------------------------ */

/* A parameter w [4, 6] is used twice: directly (exp(w)) and as the view
 * v = reshape(w, [2, 3, 4]), which itself feeds two ops (v * x and tanh(v)).
 * Its gradient must collect all three contributions. */
Test(reduce, reshape_matches_central_differences) {
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 2, SHAPE(4, 6));
    params_alloc(ps);
    Rng r;
    rng_seed(&r, 12);
    rng_fill_uniform(&r, w->data, w->size, -1, 1);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 3, SHAPE(2, 3, 4), -1, 1, 1);
    Tensor *v = t_reshape(T, w, 3, SHAPE(2, 3, 4));
    Tensor *l1 = weighted_sum(T, &r, t_mul(T, v, x));
    Tensor *l2 = weighted_sum(T, &r, t_tanh(T, v));
    Tensor *l3 = weighted_sum(T, &r, t_exp(T, w));
    Tensor *loss = t_add(T, t_add(T, l1, l2), l3);
    expect_grads(T, loss, (Tensor *[]){w, x}, 2, "reshape of a parameter, three consumers");
    tape_free(T);
    params_free(ps);
}

static Tensor *flatten(Tape *T, Tensor *a) { return t_reshape(T, a, 2, SHAPE(1, (int)a->size)); }

Test(reduce, reshape_of_every_shape_matches_central_differences) { check_shapes(flatten, "reshape", 1); }
Test(reduce, transpose_matches_central_differences) { check_shapes(t_transpose, "transpose", 2); }
Test(reduce, sum_matches_central_differences) { check_shapes(t_sum, "sum", 1); }
Test(reduce, mean_matches_central_differences) { check_shapes(t_mean, "mean", 1); }
Test(reduce, sum_last_matches_central_differences) { check_shapes(t_sum_last, "sum_last", 1); }
Test(reduce, mean_last_matches_central_differences) { check_shapes(t_mean_last, "mean_last", 1); }

/* Sizes above 2^15 take the OpenMP loops (and several sum blocks); 30
 * sampled entries. The loss is kept O(1) (means, and row sums of tanh(a),
 * a in [-1, 1], which are near 0), so its round-off over 2h stays far below
 * the 1e-6 bound. */
Test(reduce, parallel_loops_match_central_differences) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 13);
    Tensor *a = rand_leaf(T, &r, 3, SHAPE(3, 150, 100), -1, 1, 1);
    Tensor *y = t_mean_last(T, t_tanh(T, t_transpose(T, t_reshape(T, a, 3, SHAPE(3, 100, 150)))));
    Tensor *loss = t_add(T, t_mean(T, t_mul(T, y, y)), t_mean(T, t_sum_last(T, t_tanh(T, a))));
    GradCheck g = gradcheck(T, loss, (Tensor *[]){a}, 1, GC_H, 30);
    cr_assert(g.max_rel <= GC_TOL, "worst relative error %.3e > %.0e at entry %ld (analytic %.12g, numeric %.12g)",
              g.max_rel, GC_TOL, g.worst_index, g.analytic, g.numeric);
    tape_free(T);
}

/* ---- forward values -------------------------------------------------------- */

Test(reduce, reshape_is_a_view_of_the_same_numbers) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 2, SHAPE(2, 6), 0);
    Tensor *v = t_reshape(T, a, 3, SHAPE(3, 2, 2));
    cr_expect(v->data == a->data, "reshape copied its input (data %p, input %p)", (void *)v->data, (void *)a->data);
    cr_expect(v->ndim == 3 && v->shape[0] == 3 && v->shape[1] == 2 && v->shape[2] == 2 && v->size == 12,
              "reshape gave the wrong shape");
    tape_free(T);
}

/* a [2, 3, 4] with a[b, i, j] = 100 b + 10 i + j: out[b, j, i] must hold it. */
Test(reduce, transpose_moves_each_entry_to_its_mirror) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 3, SHAPE(2, 3, 4), 0);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) a->data[(b * 3 + i) * 4 + j] = 100 * b + 10 * i + j;
    Tensor *t = t_transpose(T, a);
    cr_assert(t->ndim == 3 && t->shape[0] == 2 && t->shape[1] == 4 && t->shape[2] == 3, "wrong transposed shape");
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 3; i++) {
                real got = t->data[(b * 4 + j) * 3 + i];
                cr_expect(got == 100 * b + 10 * i + j, "out[%d, %d, %d] = %g, want %d", b, j, i, got, 100 * b + 10 * i + j);
            }
    tape_free(T);
}

/* 1, 2, ..., n with n = 100,000 (25 blocks, the parallel path): every partial
 * sum is an integer below 2^53, so the sum is exact: n (n + 1) / 2, and the
 * mean, one correctly rounded division, is exactly (n + 1) / 2. */
Test(reduce, sum_and_mean_of_1_to_n_are_exact) {
    Tape *T = tape_new();
    const int n = 100000;
    Tensor *a = tape_input(T, 1, SHAPE(n), 0);
    for (int i = 0; i < n; i++) a->data[i] = i + 1;
    double want = (double)n * (n + 1) / 2;
    Tensor *s = t_sum(T, a), *m = t_mean(T, a);
    cr_expect(s->ndim == 1 && s->shape[0] == 1, "sum is not [1]");
    cr_expect(s->data[0] == want, "sum = %.17g, want %.17g", s->data[0], want);
    cr_expect(m->data[0] == (n + 1) / 2.0, "mean = %.17g, want %.17g", m->data[0], (n + 1) / 2.0);
    tape_free(T);
}

/* [2, 3, 4] -> [2, 3] with row (b, i) = 4 copies of its own value; [5] -> [1]. */
Test(reduce, sum_last_and_mean_last_reduce_each_row) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 3, SHAPE(2, 3, 4), 0);
    for (int i = 0; i < 24; i++) a->data[i] = i / 4 + 1; /* row k holds k + 1 */
    Tensor *s = t_sum_last(T, a), *m = t_mean_last(T, a);
    cr_assert(s->ndim == 2 && s->shape[0] == 2 && s->shape[1] == 3, "sum_last of [2, 3, 4] is not [2, 3]");
    for (int k = 0; k < 6; k++) {
        cr_expect(s->data[k] == 4 * (k + 1), "sum_last row %d = %g, want %d", k, s->data[k], 4 * (k + 1));
        cr_expect(m->data[k] == k + 1, "mean_last row %d = %g, want %d", k, m->data[k], k + 1);
    }
    Tensor *v = tape_input(T, 1, SHAPE(5), 0);
    for (int i = 0; i < 5; i++) v->data[i] = i; /* 0 + 1 + 2 + 3 + 4 = 10 */
    Tensor *sv = t_sum_last(T, v);
    cr_expect(sv->ndim == 1 && sv->shape[0] == 1 && sv->data[0] == 10, "sum_last of [5] = %g (ndim %d), want [10]",
              sv->data[0], sv->ndim);
    tape_free(T);
}

/* One million random numbers summed with 1 thread and with 2: the same bits,
 * because the blocks and their order do not depend on the thread count. */
Test(reduce, sum_is_identical_on_one_and_two_threads) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 14);
    Tensor *a = rand_leaf(T, &r, 1, SHAPE(1000000), -1, 1, 0);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    real one = t_sum(T, a)->data[0];
    omp_set_num_threads(2);
    real two = t_sum(T, a)->data[0];
    omp_set_num_threads(saved);
    cr_expect(memcmp(&one, &two, sizeof one) == 0, "1 thread: %.17g, 2 threads: %.17g", one, two);
    tape_free(T);
}

/* ---- bad input -------------------------------------------------------------- */

/* reshape [2, 6] -> [5, 2], and transpose of a vector: exit 70 with a message. */
Test(reduce, bad_reshape_and_transpose_fail_with_a_message) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 2, SHAPE(2, 6), 0), *v = tape_input(T, 1, SHAPE(6), 0);
    EXPECT_FAIL(t_reshape(T, a, 2, SHAPE(5, 2)), EXIT_SOFTWARE, "[2, 6]", "[5, 2]");
    EXPECT_FAIL(t_transpose(T, v), EXIT_SOFTWARE, "[6]");
    tape_free(T);
}
