/* test_optim.c - the optimizers and gradient clipping against hand arithmetic.
 *
 * Proves: one SGD-momentum, two Adam and one AdamW step give the numbers the
 * PyTorch update rules give, worked out by hand in the comments; AdamW decays
 * 2-D weights and leaves 1-D biases and gains alone; clip_grad_norm returns
 * the pre-clip norm, scales large gradients to the max norm and leaves small
 * ones bit for bit untouched.
 * Tolerance: 1e-14 absolute. Every quantity is O(1) and takes a few double
 * operations, so the rounding error is a few ulps (~1e-16); the expected
 * values are typed with 16-17 significant digits. A wrong rule (no bias
 * correction, eps in the wrong place, decay on a bias) is off by >= 1e-9.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "optim.h"
#include "tensor.h"

#define TOL 1e-14

/* Assert x[i] == want[i] within TOL; on failure name the worst entry. */
static void expect_close(const char *what, const real *x, const double *want, int n) {
    double worst = 0;
    int at = 0;
    for (int i = 0; i < n; i++)
        if (fabs(x[i] - want[i]) > worst) worst = fabs(x[i] - want[i]), at = i;
    cr_assert(worst <= TOL, "%s: largest difference %.3e > %.0e at [%d] (got %.17g, want %.17g)", what, worst, TOL,
              at, (double)x[at], want[at]);
}

/* A set with one 2-D weight [2, 2] and one 1-D bias [2]. */
static ParamSet *two_params(Tensor **w, Tensor **b) {
    ParamSet *ps = params_new();
    *w = params_add(ps, "fc.weight", 2, SHAPE(2, 2));
    *b = params_add(ps, "fc.bias", 1, SHAPE(2));
    params_alloc(ps);
    return ps;
}

/* ---- SGD -------------------------------------------------------------------------- */

Test(optim, sgd_momentum_two_steps_match_hand_arithmetic) {
    /* lr = 0.1, mu = 0.9; w = [1, -2], g = [0.5, 0.25] on both steps.
     * step 1: v = 0*0.9 + g = [0.5, 0.25];         w = [1 - 0.05, -2 - 0.025]      = [0.95, -2.025]
     * step 2: v = 0.9 v + g = [0.95, 0.475];       w = [0.95 - 0.095, -2.025 - 0.0475] = [0.855, -2.0725] */
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 1, SHAPE(2));
    params_alloc(ps);
    w->data[0] = 1, w->data[1] = -2;
    w->grad[0] = 0.5, w->grad[1] = 0.25;
    Optimizer *o = sgd_new(ps, 0.1, 0.9);
    optim_step(o);
    expect_close("sgd step 1", w->data, (double[]){0.95, -2.025}, 2);
    optim_step(o);
    expect_close("sgd step 2", w->data, (double[]){0.855, -2.0725}, 2);
    /* the step reads the grads, it does not clear them */
    cr_assert(w->grad[0] == 0.5 && w->grad[1] == 0.25, "optim_step changed the gradients");
    optim_free(o);
    params_free(ps);
}

/* ---- Adam ------------------------------------------------------------------------- */

/* lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, w0 = 1; g1 = 0.5, g2 = -0.25.
 * step 1: m = 0.1*0.5 = 0.05;  v = 0.001*0.25 = 0.00025
 *         mhat = 0.05/(1-0.9) = 0.5;  vhat = 0.00025/(1-0.999) = 0.25;  sqrt(vhat) = 0.5
 *         w1 = 1 - 0.1*0.5/(0.5 + 1e-8) = 1 - 0.1*(1 - 2e-8 + 4e-16 ...) = 0.900000002 (to 1e-17)
 *         (Adam's first step is lr * sign(g), whatever the size of g.)
 * step 2: m = 0.9*0.05 + 0.1*(-0.25) = 0.045 - 0.025 = 0.02
 *         v = 0.999*0.00025 + 0.001*0.0625 = 0.00024975 + 0.0000625 = 0.00031225
 *         mhat = 0.02/(1-0.81) = 0.02/0.19 = 0.10526315789473684
 *         vhat = 0.00031225/(1-0.998001) = 0.00031225/0.001999 = 0.15620310155077538
 *         sqrt(vhat) = 0.3952253807016642
 *         w2 = w1 - 0.1*0.10526315789473684/(0.3952253807016642 + 1e-8)
 *            = 0.900000002 - 0.026633703292153796 = 0.8733662987078463
 * Without bias correction step 2 would move w by 0.1*0.02/sqrt(0.00031225) = 0.1132, not 0.0266. */
#define ADAM_W1 0.900000002
#define ADAM_W2 0.8733662987078463

Test(optim, adam_two_steps_match_hand_arithmetic_with_bias_correction) {
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 1, SHAPE(1));
    params_alloc(ps);
    w->data[0] = 1;
    Optimizer *o = adam_new(ps, 0.1, 0.9, 0.999, 1e-8);
    w->grad[0] = 0.5;
    optim_step(o);
    expect_close("adam step 1", w->data, (double[]){ADAM_W1}, 1);
    w->grad[0] = -0.25;
    optim_step(o);
    expect_close("adam step 2", w->data, (double[]){ADAM_W2}, 1);
    optim_free(o);
    params_free(ps);
}

Test(optim, adam_first_step_is_lr_times_sign_of_gradient) {
    /* mhat/sqrt(vhat) = g/|g| on step 1, so every entry moves by lr (eps/|g| aside: <= 1e-8/1e-3 relative). */
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 1, SHAPE(4));
    params_alloc(ps);
    const double g[4] = {1e3, -2.0, 1e-3, -0.5};
    for (int i = 0; i < 4; i++) w->grad[i] = g[i];
    Optimizer *o = adam_new(ps, 0.01, 0.9, 0.999, 1e-8);
    optim_step(o);
    for (int i = 0; i < 4; i++) {
        double want = g[i] > 0 ? -0.01 : 0.01;
        cr_assert(fabs(w->data[i] - want) <= 1e-12 + 0.01 * 1e-8 / fabs(g[i]),
                  "entry %d moved by %.17g, want %.17g", i, (double)w->data[i], want);
    }
    optim_free(o);
    params_free(ps);
}

/* ---- AdamW ------------------------------------------------------------------------ */

Test(optim, adamw_decays_2d_weights_not_1d_biases) {
    /* lr = 0.1, wd = 0.1, betas (0.9, 0.999), eps 1e-8; every entry starts at 1 with g = 0.5.
     * Adam's step-1 move is 0.1*0.5/(0.5 + 1e-8) = 0.099999998 (see above).
     * weight [2, 2]: w = 1*(1 - 0.1*0.1) - 0.099999998 = 0.99 - 0.099999998 = 0.890000002
     * bias [2]:      w = 1 - 0.099999998 = 0.900000002 (no decay)
     * With lr = 0.1 the decay changes a weight by 0.01, a million times the tolerance. */
    Tensor *w, *b;
    ParamSet *ps = two_params(&w, &b);
    for (long i = 0; i < ps->size; i++) ps->data[i] = 1, ps->grad[i] = 0.5;
    Optimizer *o = adamw_new(ps, 0.1, 0.9, 0.999, 1e-8, 0.1);
    optim_step(o);
    expect_close("adamw weight (decayed)", w->data, (double[]){0.890000002, 0.890000002, 0.890000002, 0.890000002}, 4);
    expect_close("adamw bias (not decayed)", b->data, (double[]){0.900000002, 0.900000002}, 2);
    optim_free(o);
    params_free(ps);
}

Test(optim, adamw_with_zero_decay_equals_adam) {
    /* Two steps of AdamW(wd = 0) and of Adam from the same start: bit for bit the same. */
    Tensor *w1, *b1, *w2, *b2;
    ParamSet *p1 = two_params(&w1, &b1), *p2 = two_params(&w2, &b2);
    for (long i = 0; i < p1->size; i++)
        p1->data[i] = p2->data[i] = (real)(0.3 * i - 0.5), p1->grad[i] = p2->grad[i] = (real)(0.1 * i - 0.2);
    Optimizer *a = adam_new(p1, 1e-3, 0.9, 0.99, 1e-8), *aw = adamw_new(p2, 1e-3, 0.9, 0.99, 1e-8, 0.0);
    for (int s = 0; s < 2; s++) optim_step(a), optim_step(aw);
    cr_assert(memcmp(p1->data, p2->data, (size_t)p1->size * sizeof(real)) == 0, "AdamW(wd=0) differs from Adam");
    optim_free(a);
    optim_free(aw);
    params_free(p1);
    params_free(p2);
}

Test(optim, learning_rate_can_be_read_and_set) {
    Tensor *w, *b;
    ParamSet *ps = two_params(&w, &b);
    Optimizer *o = adamw_new(ps, 1e-3, 0.9, 0.99, 1e-8, 0.1);
    cr_assert(optim_lr(o) == 1e-3, "optim_lr = %g, want 1e-3", optim_lr(o));
    optim_set_lr(o, 2.5e-4);
    cr_assert(optim_lr(o) == 2.5e-4, "after optim_set_lr: %g, want 2.5e-4", optim_lr(o));
    /* SGD at lr 0 with zero momentum leaves the weights alone */
    Optimizer *s = sgd_new(ps, 0.5, 0.0);
    optim_set_lr(s, 0.0);
    for (long i = 0; i < ps->size; i++) ps->data[i] = 1, ps->grad[i] = 1;
    optim_step(s);
    for (long i = 0; i < ps->size; i++) cr_assert(ps->data[i] == 1, "lr 0 changed entry %ld", i);
    optim_free(o);
    optim_free(s);
    params_free(ps);
}

/* ---- Clipping --------------------------------------------------------------------- */

/* grads: weight [2, 2] = [3, 0, 0, 0], bias [2] = [0, 4]: global norm sqrt(9 + 16) = 5. */
static ParamSet *norm5(void) {
    Tensor *w, *b;
    ParamSet *ps = two_params(&w, &b);
    w->grad[0] = 3;
    b->grad[1] = 4;
    return ps;
}

Test(optim, clip_grad_norm_scales_large_gradients_to_max_norm) {
    /* max 1: scale = 1/(5 + 1e-6); g = [3, 4] * scale = [0.59999988..., 0.79999984...], new norm 5/(5+1e-6). */
    ParamSet *ps = norm5();
    double n = clip_grad_norm(ps, 1.0);
    cr_assert(fabs(n - 5.0) <= TOL, "returned norm %.17g, want the pre-clip norm 5", n);
    double s = 1.0 / (5.0 + 1e-6);
    expect_close("clipped grads", ps->grad, (double[]){3 * s, 0, 0, 0, 0, 4 * s}, 6);
    double after = 0;
    for (long i = 0; i < ps->size; i++) after += ps->grad[i] * ps->grad[i];
    cr_assert(fabs(sqrt(after) - 1.0) <= 1e-6, "norm after clipping %.17g, want 1 (within the 1e-6 guard)", sqrt(after));
    params_free(ps);
}

Test(optim, clip_grad_norm_leaves_small_gradients_untouched) {
    /* max 10 (and max exactly 5) >= norm 5: no scaling at all, bit for bit. */
    ParamSet *ps = norm5();
    real before[6];
    memcpy(before, ps->grad, sizeof before);
    double n = clip_grad_norm(ps, 10.0);
    cr_assert(fabs(n - 5.0) <= TOL, "returned norm %.17g, want 5", n);
    cr_assert(memcmp(before, ps->grad, sizeof before) == 0, "grads changed although norm 5 <= max 10");
    n = clip_grad_norm(ps, 5.0);
    cr_assert(memcmp(before, ps->grad, sizeof before) == 0, "grads changed although norm 5 <= max 5");
    params_free(ps);
}
