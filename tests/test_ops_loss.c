/* test_ops_loss.c - Criterion tests of the losses (lib/ops_loss.c).
 *
 * Proves: the backward of cross_entropy, bce_with_logits (to the logits and,
 * when it has a grad, to the targets), mse (to both sides) and gaussian_kl
 * (also with one tensor in both slots) matches central differences
 * (h = 1e-5, double build, worst relative error <= 1e-6: see check_util.h;
 * the losses are scalars already, so no weighted sum); and what a gradient
 * check cannot see: cross-entropy of uniform logits is ln V, BCE at logits
 * of +-100 is finite and equal to its known value, the KL is 0 at the prior
 * and matches a hand-computed value, MSE matches a hand-computed value, the
 * loss is bit-identical on 1 and 2 threads, and bad targets or shapes fail
 * with a clear message.
 * Leaves out: the models that use these losses (their chapters' tests).
 */
#include <omp.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

/* ---- Helpers ------------------------------------------------------------- */

/* batch > 1, 1-D to 4-D, non-square */
static const Shape SHAPES[] = {{2, {4, 3}}, {3, {2, 3, 5}}, {4, {3, 2, 2, 2}}, {1, {5}}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

/* ---- Gradient checks ----------------------------------------------------- */

Test(loss, cross_entropy_grad_matches_finite_differences) {
    /* [B, T, V] logits as the GPT has them, plus 2-D and 4-D */
    static const Shape s[] = {{3, {2, 3, 5}}, {2, {4, 7}}, {4, {2, 2, 2, 3}}, {1, {6}}};
    int targets[12];
    for (int i = 0; i < 4; i++) {
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 100 + i);
        Tensor *x = rand_leaf(T, &r, s[i].ndim, s[i].shape, -3, 3, 1);
        int V = s[i].shape[s[i].ndim - 1];
        for (long k = 0; k < x->size / V; k++) targets[k] = rng_int(&r, V);
        Tensor *loss = t_cross_entropy(T, x, targets);
        char buf[128];
        expect_grads(T, loss, &x, 1, shape_label(buf, sizeof buf, "cross_entropy", x));
        tape_free(T);
    }
}

Test(loss, bce_with_logits_grad_to_logits_and_targets_matches_finite_differences) {
    for (int i = 0; i < NSHAPES; i++) {
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 110 + i);
        /* no kink to avoid: max(l, 0) + log(1 + e^-|l|) = log(1 + e^l) is smooth */
        Tensor *l = rand_leaf(T, &r, SHAPES[i].ndim, SHAPES[i].shape, -4, 4, 1);
        Tensor *y = rand_leaf(T, &r, SHAPES[i].ndim, SHAPES[i].shape, 0, 1, 1);
        Tensor *loss = t_bce_with_logits(T, l, y);
        Tensor *wrt[] = {l, y};
        char buf[128];
        expect_grads(T, loss, wrt, 2, shape_label(buf, sizeof buf, "bce_with_logits", l));
        tape_free(T);
    }
}

Test(loss, mse_grad_to_both_sides_matches_finite_differences) {
    for (int i = 0; i < NSHAPES; i++) {
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 120 + i);
        Tensor *a = rand_leaf(T, &r, SHAPES[i].ndim, SHAPES[i].shape, -2, 2, 1);
        Tensor *b = rand_leaf(T, &r, SHAPES[i].ndim, SHAPES[i].shape, -2, 2, 1);
        Tensor *loss = t_mse(T, a, b);
        Tensor *wrt[] = {a, b};
        char buf[128];
        expect_grads(T, loss, wrt, 2, shape_label(buf, sizeof buf, "mse", a));
        tape_free(T);
    }
}

Test(loss, gaussian_kl_grad_to_mu_and_logvar_matches_finite_differences) {
    static const Shape s[] = {{2, {4, 3}}, {2, {2, 5}}, {2, {1, 1}}};
    for (int i = 0; i < 3; i++) {
        Tape *T = tape_new();
        Rng r;
        rng_seed(&r, 130 + i);
        Tensor *mu = rand_leaf(T, &r, 2, s[i].shape, -2, 2, 1);
        Tensor *lv = rand_leaf(T, &r, 2, s[i].shape, -2, 2, 1);
        Tensor *loss = t_gaussian_kl(T, mu, lv);
        Tensor *wrt[] = {mu, lv};
        char buf[128];
        expect_grads(T, loss, wrt, 2, shape_label(buf, sizeof buf, "gaussian_kl", mu));
        tape_free(T);
    }
}

/* One tensor in both slots: its gradient is the sum of both contributions. */
Test(loss, gaussian_kl_with_one_tensor_in_both_slots_accumulates_both_gradients) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 135);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(3, 4), -2, 2, 1);
    expect_grads(T, t_gaussian_kl(T, x, x), &x, 1, "gaussian_kl(x, x)");
    tape_free(T);
}

/* ---- Forward values ------------------------------------------------------ */

/* Tolerances: each value is a handful of double operations on O(1)..O(100)
 * numbers, so its round-off is ~1e-14; 1e-12 leaves room, and a wrong
 * formula is off by O(1). */

Test(loss, cross_entropy_of_uniform_logits_is_ln_V) {
    Tape *T = tape_new();
    int B = 2, Tn = 3, V = 7, targets[6] = {0, 6, 3, 3, 1, 5};
    Tensor *x = tape_input(T, 3, SHAPE(B, Tn, V), 0);
    for (long k = 0; k < x->size; k++) x->data[k] = 3.7;
    Tensor *loss = t_cross_entropy(T, x, targets);
    cr_assert(fabs(loss->data[0] - log(V)) <= 1e-12, "loss %.17g, want ln %d = %.17g", loss->data[0], V, log(V));
    /* and stable: logits (1000, 0, 0) with target 0 cost log(1 + 2e^-1000) = 0, target 1 costs 1000 */
    Tensor *big = tape_input(T, 2, SHAPE(2, 3), 0);
    real v[6] = {1000, 0, 0, 1000, 0, 0};
    memcpy(big->data, v, sizeof v);
    int t2[2] = {0, 1};
    Tensor *l2 = t_cross_entropy(T, big, t2);
    cr_assert(fabs(l2->data[0] - 500) <= 1e-12, "loss of (1000, 0, 0) over targets 0 and 1: %.17g, want 500", l2->data[0]);
    tape_free(T);
}

Test(loss, bce_with_logits_at_plus_minus_100_is_finite_and_exact) {
    Tape *T = tape_new();
    Tensor *l = tape_input(T, 2, SHAPE(4, 1), 1), *y = tape_input(T, 2, SHAPE(4, 1), 0);
    /* Not {1, 1, 0, 0}: gcc 12.2 at -O2 -march=native (AVX-512) stores a
     * double array constant {a, a, 0, 0} as {a, a, a, a} (a compiler bug). */
    real lv[4] = {100, 100, -100, -100}, yv[4] = {1, 0, 1, 0};
    memcpy(l->data, lv, sizeof lv);
    memcpy(y->data, yv, sizeof yv);
    cr_assert(y->data[1] == 0 && y->data[3] == 0, "the targets were not stored as written");
    Tensor *loss = t_bce_with_logits(T, l, y);
    /* per row: e^-100, 100 + e^-100, 100 + e^-100, e^-100; mean over N = 4 */
    double want = (4 * exp(-100.0) + 200) / 4;
    cr_assert(isfinite(loss->data[0]) && fabs(loss->data[0] - want) <= 1e-12, "loss %.17g, want %.17g", loss->data[0], want);
    backward(T, loss);
    real gw[4] = {0, 0.25, -0.25, 0}; /* (sigmoid(l) - y) / N, up to e^-100 */
    for (int i = 0; i < 4; i++)
        cr_assert(fabs(l->grad[i] - gw[i]) <= 1e-12, "d logit %d = %.17g, want %g", i, l->grad[i], gw[i]);
    tape_free(T);
}

Test(loss, gaussian_kl_is_zero_at_the_prior_and_matches_a_hand_value) {
    Tape *T = tape_new();
    Tensor *mu = tape_input(T, 2, SHAPE(2, 3), 0), *lv = tape_input(T, 2, SHAPE(2, 3), 0);
    Tensor *kl0 = t_gaussian_kl(T, mu, lv);
    cr_assert_eq(kl0->data[0], 0, "KL(N(0, 1) || N(0, 1)) = %g", kl0->data[0]);
    for (int i = 0; i < 6; i++) {
        mu->data[i] = 1;
        lv->data[i] = log(2.0);
    }
    Tensor *kl = t_gaussian_kl(T, mu, lv);
    double want = 3 * 0.5 * (1 + 2 - 1 - log(2.0)); /* summed over Z = 3, mean over N = 2 */
    cr_assert(fabs(kl->data[0] - want) <= 1e-12, "KL %.17g, want %.17g", kl->data[0], want);
    tape_free(T);
}

Test(loss, mse_matches_a_hand_value) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 2, SHAPE(2, 2), 0), *b = tape_input(T, 2, SHAPE(2, 2), 0);
    real av[4] = {1, 2, 3, -1}, bv[4] = {0, 0, 1, 1};
    memcpy(a->data, av, sizeof av);
    memcpy(b->data, bv, sizeof bv);
    Tensor *loss = t_mse(T, a, b);
    cr_assert(fabs(loss->data[0] - 13.0 / 4) <= 1e-12, "mse %.17g, want 13/4", loss->data[0]);
    tape_free(T);
}

/* ---- Determinism ------------------------------------------------------- */

/* [256, 300] logits (above the OpenMP threshold): 1 and 2 threads give the
 * same bits, for the loss and its gradient. */
static void run_ce(int threads, real *loss, real *grad, int *targets) {
    omp_set_num_threads(threads);
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 140);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(256, 300), -5, 5, 1);
    for (int k = 0; k < 256; k++) targets[k] = rng_int(&r, 300);
    Tensor *l = t_cross_entropy(T, x, targets);
    backward(T, l);
    *loss = l->data[0];
    memcpy(grad, x->grad, sizeof(real) * x->size);
    tape_free(T);
}

Test(loss, cross_entropy_is_bit_identical_on_1_and_2_threads) {
    static real g1[256 * 300], g2[256 * 300];
    static int t[256];
    real l1, l2;
    run_ce(1, &l1, g1, t);
    run_ce(2, &l2, g2, t);
    cr_assert(memcmp(&l1, &l2, sizeof l1) == 0, "loss %.17g on 1 thread, %.17g on 2", l1, l2);
    cr_assert(memcmp(g1, g2, sizeof g1) == 0, "gradient differs between 1 and 2 threads");
}

/* ---- Bad input ------------------------------------------------------------ */

Test(loss, out_of_range_targets_and_shape_mismatches_fail_with_a_clear_message) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 3, SHAPE(2, 2, 4), 1);
    int hi[4] = {0, 1, 4, 2}, lo[4] = {0, -3, 1, 2};
    EXPECT_FAIL(t_cross_entropy(T, x, hi), EXIT_SOFTWARE, "target 4 at row 2");
    EXPECT_FAIL(t_cross_entropy(T, x, lo), EXIT_SOFTWARE, "target -3 at row 1");
    Tensor *a = tape_input(T, 2, SHAPE(3, 4), 1), *b = tape_input(T, 2, SHAPE(4, 3), 1);
    EXPECT_FAIL(t_mse(T, a, b), EXIT_SOFTWARE, "[3, 4] and [4, 3]");
    EXPECT_FAIL(t_bce_with_logits(T, a, b), EXIT_SOFTWARE, "[3, 4] and [4, 3]");
    EXPECT_FAIL(t_gaussian_kl(T, a, b), EXIT_SOFTWARE, "[3, 4] and [4, 3]");
    tape_free(T);
}
