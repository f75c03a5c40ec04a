/* test_init.c - initialisers: fans, distributions, determinism.
 *
 * Proves: fan_in / fan_out follow PyTorch for Linear, conv and conv-transpose
 * shapes, and a 1-D tensor is refused; each initialiser's sample mean and
 * standard deviation over a large tensor match its rule; the uniform ones
 * stay inside their bound; the same seed gives the same numbers bit for bit.
 * Tolerances (n = 100,000 draws, fixed seed, so the test is deterministic;
 * the bounds say how far off a correct draw could plausibly be):
 *   mean: |mean| <= 5 std/sqrt(n) (5 standard errors);
 *   std:  relative error <= 1 % (the standard error of a sample std is
 *         1/sqrt(2n) = 0.22 % for a normal, 0.14 % for a uniform: > 4.5 of them).
 * A wrong fan (in for out, or no receptive field) moves the std by >= 20 %.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catch_fail.h"
#include "init.h"

#define N_OUT 400
#define N_IN 250 /* a Linear weight [400, 250]: 100,000 numbers */

typedef struct {
    double mean, std, min, max;
} Stats;

static Stats stats(const Tensor *w) {
    Stats s = {0, 0, INFINITY, -INFINITY};
    for (long i = 0; i < w->size; i++) {
        s.mean += w->data[i];
        if (w->data[i] < s.min) s.min = w->data[i];
        if (w->data[i] > s.max) s.max = w->data[i];
    }
    s.mean /= (double)w->size;
    for (long i = 0; i < w->size; i++) s.std += (w->data[i] - s.mean) * (w->data[i] - s.mean);
    s.std = sqrt(s.std / (double)(w->size - 1));
    return s;
}

/* Check mean ~ 0 and std ~ want, as stated in the header. */
static void expect_moments(const char *what, const Tensor *w, double want_std, double rel_tol) {
    Stats s = stats(w);
    double mean_tol = 5 * want_std / sqrt((double)w->size);
    cr_assert(fabs(s.mean) <= mean_tol, "%s: mean %.3e, |mean| must be <= %.3e", what, s.mean, mean_tol);
    cr_assert(fabs(s.std / want_std - 1) <= rel_tol, "%s: std %.6g, want %.6g (relative error %.3e > %.0e)", what,
              s.std, want_std, fabs(s.std / want_std - 1), rel_tol);
}

/* Check every draw is in [-a, a) and the extremes come near both ends. */
static void expect_bounded(const char *what, const Tensor *w, double a) {
    Stats s = stats(w);
    cr_assert(s.min >= -a && s.max < a, "%s: range [%.9g, %.9g] leaves [-%.9g, %.9g)", what, s.min, s.max, a, a);
    cr_assert(s.min < -0.999 * a && s.max > 0.999 * a, "%s: range [%.9g, %.9g] does not fill [-%.9g, %.9g)", what,
              s.min, s.max, a, a);
}

static ParamSet *one_param(Tensor **w, int ndim, const int *shape) {
    ParamSet *ps = params_new();
    *w = params_add(ps, "w", ndim, shape);
    params_alloc(ps);
    return ps;
}

/* ---- Fans ------------------------------------------------------------------------ */

static void expect_fan(int ndim, const int *shape, long want_in, long want_out) {
    Tensor *w;
    ParamSet *ps = one_param(&w, ndim, shape);
    long fi, fo;
    init_fan(w, &fi, &fo);
    char s[64];
    cr_assert(fi == want_in && fo == want_out, "shape %s: fan_in %ld fan_out %ld, want %ld %ld",
              shape_str(w, s, sizeof s), fi, fo, want_in, want_out);
    params_free(ps);
}

Test(init, fan_of_linear_is_in_and_out) {
    expect_fan(2, SHAPE(N_OUT, N_IN), N_IN, N_OUT); /* Linear(250 -> 400) */
}

Test(init, fan_of_conv_includes_the_kernel) {
    expect_fan(4, SHAPE(64, 32, 3, 3), 32 * 9, 64 * 9);     /* Conv2d(32 -> 64, k3): [O, C, k, k] */
    expect_fan(4, SHAPE(128, 64, 4, 4), 64 * 16, 128 * 16); /* ConvT(128 -> 64, k4): [C, O, k, k], PyTorch's formula */
}

Test(init, fan_of_a_bias_is_refused) {
    Tensor *b;
    ParamSet *ps = one_param(&b, 1, SHAPE(10));
    long fi, fo;
    EXPECT_FAIL(init_fan(b, &fi, &fo), EXIT_SOFTWARE, "init_uniform_bound");
    params_free(ps);
}

/* ---- Distributions ----------------------------------------------------------------- */

Test(init, normal_has_mean_0_and_the_given_std) {
    Tensor *w;
    ParamSet *ps = one_param(&w, 2, SHAPE(N_OUT, N_IN));
    Rng r;
    rng_seed(&r, 1);
    init_normal(w, &r, 0.02);
    expect_moments("init_normal(0.02)", w, 0.02, 0.01);
    params_free(ps);
}

Test(init, xavier_uniform_has_bound_sqrt_6_over_fan_sum) {
    Tensor *w;
    ParamSet *ps = one_param(&w, 2, SHAPE(N_OUT, N_IN));
    Rng r;
    rng_seed(&r, 2);
    init_xavier_uniform(w, &r);
    double a = sqrt(6.0 / (N_IN + N_OUT)); /* std of U(-a, a) is a/sqrt(3) */
    expect_bounded("xavier", w, a);
    expect_moments("xavier", w, a / sqrt(3.0), 0.01);
    params_free(ps);
}

Test(init, kaiming_normal_has_variance_2_over_fan_in) {
    Tensor *w;
    ParamSet *ps = one_param(&w, 2, SHAPE(N_OUT, N_IN));
    Rng r;
    rng_seed(&r, 3);
    init_kaiming_normal(w, &r);
    expect_moments("kaiming linear", w, sqrt(2.0 / N_IN), 0.01);
    params_free(ps);
}

Test(init, kaiming_normal_on_conv_uses_c_k_k) {
    /* [64, 32, 3, 3]: 18,432 draws, std error of the std 0.52 %: tolerance 3 %. */
    Tensor *w;
    ParamSet *ps = one_param(&w, 4, SHAPE(64, 32, 3, 3));
    Rng r;
    rng_seed(&r, 4);
    init_kaiming_normal(w, &r);
    expect_moments("kaiming conv", w, sqrt(2.0 / (32 * 9)), 0.03);
    params_free(ps);
}

Test(init, uniform_fan_in_has_bound_1_over_sqrt_fan_in) {
    Tensor *w;
    ParamSet *ps = one_param(&w, 2, SHAPE(N_OUT, N_IN));
    Rng r;
    rng_seed(&r, 5);
    init_uniform_fan_in(w, &r);
    double a = 1.0 / sqrt((double)N_IN);
    expect_bounded("uniform_fan_in", w, a);
    expect_moments("uniform_fan_in", w, a / sqrt(3.0), 0.01);
    params_free(ps);
}

Test(init, uniform_bound_and_const_fill_a_bias) {
    Tensor *b;
    ParamSet *ps = one_param(&b, 1, SHAPE(100000));
    Rng r;
    rng_seed(&r, 6);
    init_uniform_bound(b, &r, 0.3);
    expect_bounded("uniform_bound(0.3)", b, 0.3);
    expect_moments("uniform_bound(0.3)", b, 0.3 / sqrt(3.0), 0.01);
    init_const(b, (real)0.25);
    for (long i = 0; i < b->size; i++) cr_assert(b->data[i] == (real)0.25, "init_const: entry %ld = %g", i, (double)b->data[i]);
    params_free(ps);
}

/* ---- Determinism ------------------------------------------------------------------- */

Test(init, same_seed_same_numbers_other_seed_other_numbers) {
    Tensor *a, *b, *c;
    ParamSet *pa = one_param(&a, 2, SHAPE(64, 48)), *pb = one_param(&b, 2, SHAPE(64, 48)),
             *pc = one_param(&c, 2, SHAPE(64, 48));
    Rng r;
    rng_seed(&r, 42), init_kaiming_normal(a, &r), init_xavier_uniform(a, &r);
    rng_seed(&r, 42), init_kaiming_normal(b, &r), init_xavier_uniform(b, &r);
    rng_seed(&r, 43), init_kaiming_normal(c, &r), init_xavier_uniform(c, &r);
    size_t bytes = (size_t)a->size * sizeof(real);
    cr_assert(memcmp(a->data, b->data, bytes) == 0, "seed 42 twice gave different numbers");
    cr_assert(memcmp(a->data, c->data, bytes) != 0, "seeds 42 and 43 gave the same numbers");
    params_free(pa);
    params_free(pb);
    params_free(pc);
}
