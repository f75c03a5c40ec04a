/* test_batchnorm.c - Criterion tests of the batch-norm op (t_batchnorm in
 * lib/ops_nn.c) and its module (BatchNorm in lib/nn.h).
 *
 * Proves: the backward w.r.t. x, gain and bias matches central differences
 * in train mode (where the batch statistics depend on x) and in eval mode
 * (where they are constants), for x [N, C], [N, C, L] and [N, C, H, W]
 * (h = 1e-5, double build, bound 1e-6: see check_util.h; every input also
 * feeds a later consumer, so a backward that assigns instead of adding
 * fails); the op is PyTorch's BatchNorm1d/2d: train-mode output, running
 * statistics after one and two steps, eval-mode output and every gradient
 * match tests/reference/batchnorm.txt; a tape replay (what the gradient
 * checker does) does not move the running statistics again; 1 and 2 threads
 * give the same bits; bad shapes and arguments fail clearly.
 *
 * Reference tolerance: 1e-10 relative to the fixture tensor's largest entry.
 * Both sides compute in float64 and differ only in summation order (a few
 * units of 1e-16 per sum of at most 36 entries); measured at most 2.7e-15 (grad.bias.train of nchw).
 * A statistic over the wrong axes, the biased variance in running_var, or a
 * missing term of the backward changes results by 1e-3 or more.
 */
#include <omp.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"
#include "fixture.h"
#include "fixture_params.h"
#include "nn.h"

#define REF_TOL 1e-10

/* ---- Gradient checks ------------------------------------------------------- */

static const Shape BN_SHAPES[] = {{2, {4, 3}}, {3, {3, 2, 5}}, {4, {3, 2, 3, 4}}, {4, {1, 2, 2, 3}}};
#define BN_NSHAPES (int)(sizeof BN_SHAPES / sizeof BN_SHAPES[0])

static void check_batchnorm_grad(const Shape *s, int train, uint64_t seed) {
    int C = s->shape[1];
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, seed);
    Tensor *x = rand_leaf(T, &r, s->ndim, s->shape, -2, 2, 1);
    Tensor *g = rand_leaf(T, &r, 1, SHAPE(C), 0.5, 1.5, 1);
    Tensor *b = rand_leaf(T, &r, 1, SHAPE(C), -0.5, 0.5, 1);
    real rm[4], rv[4];
    for (int c = 0; c < C; c++) {
        rm[c] = (real)(rng_uniform(&r) - 0.5);
        rv[c] = (real)(0.5 + rng_uniform(&r));
    }
    Tensor *loss = weighted_sum(T, &r, t_batchnorm(T, x, g, b, rm, rv, train, 0.1, 1e-5));
    Tensor *wrt[] = {x, g, b};
    loss = also_used_later(T, &r, loss, wrt, 3);
    char buf[128], op[32];
    snprintf(op, sizeof op, "batchnorm (%s)", train ? "train" : "eval");
    expect_grads(T, loss, wrt, 3, shape_label(buf, sizeof buf, op, x));
    tape_free(T);
}

Test(batchnorm, train_mode_grad_wrt_x_gain_and_bias_matches_finite_differences) {
    for (int i = 0; i < BN_NSHAPES; i++) check_batchnorm_grad(&BN_SHAPES[i], 1, 700 + i);
}

Test(batchnorm, eval_mode_grad_wrt_x_gain_and_bias_matches_finite_differences) {
    for (int i = 0; i < BN_NSHAPES; i++) check_batchnorm_grad(&BN_SHAPES[i], 0, 710 + i);
}

/* ---- PyTorch reference ------------------------------------------------------ */

static Tensor *input_from(Tape *T, const FixTensor *f, int grad) {
    Tensor *t = tape_input(T, f->ndim, f->shape, grad);
    copy_fixture_same_shape(t, f);
    return t;
}

static const FixTensor *get(const Fixture *f, const char *prefix, const char *name) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return fixture_get(f, full);
}


/* One fixture case: the BatchNorm module with the fixture's weights and
 * starting statistics; train on x1 (output, statistics, gradients of
 * sum(y1 * w1)), train on x2 (output, statistics), eval on x3 (output,
 * gradients of sum(y3 * w3)). */
static void check_reference(const Fixture *f, const char *prefix) {
    int C = get(f, prefix, "weight")->shape[0];
    ParamSet *ps = params_new(), *buffers = params_new();
    BatchNorm bn = batchnorm_new(ps, buffers, prefix, C);
    params_alloc(ps);
    params_alloc(buffers);
    batchnorm_reset(&bn);
    copy_fixture(bn.g, get(f, prefix, "weight"));
    copy_fixture(bn.b, get(f, prefix, "bias"));
    copy_fixture(bn.running_mean, get(f, prefix, "running_mean.0"));
    copy_fixture(bn.running_var, get(f, prefix, "running_var.0"));
    char what[64];
#define CHECK(name, got, n)                                                                                      \
    do {                                                                                                         \
        snprintf(what, sizeof what, "%s.%s", prefix, name);                                                       \
        expect_fixture_close(what, got, n, get(f, prefix, name), REF_TOL);                                       \
    } while (0)
    Tape *T = tape_new();
    /* step 1, train */
    Tensor *x1 = input_from(T, get(f, prefix, "x1"), 1);
    Tensor *y1 = batchnorm(T, &bn, x1, 1);
    params_zero_grad(ps);
    backward(T, t_sum(T, t_mul(T, y1, input_from(T, get(f, prefix, "w1"), 0))));
    CHECK("y1", y1->data, y1->size);
    CHECK("running_mean.1", bn.running_mean->data, C);
    CHECK("running_var.1", bn.running_var->data, C);
    CHECK("grad.x1", x1->grad, x1->size);
    CHECK("grad.weight.train", bn.g->grad, C);
    CHECK("grad.bias.train", bn.b->grad, C);
    /* step 2, train */
    tape_reset(T);
    Tensor *y2 = batchnorm(T, &bn, input_from(T, get(f, prefix, "x2"), 0), 1);
    CHECK("y2", y2->data, y2->size);
    CHECK("running_mean.2", bn.running_mean->data, C);
    CHECK("running_var.2", bn.running_var->data, C);
    /* eval */
    tape_reset(T);
    Tensor *x3 = input_from(T, get(f, prefix, "x3"), 1);
    Tensor *y3 = batchnorm(T, &bn, x3, 0);
    params_zero_grad(ps);
    backward(T, t_sum(T, t_mul(T, y3, input_from(T, get(f, prefix, "w3"), 0))));
    CHECK("y3", y3->data, y3->size);
    CHECK("running_mean.2", bn.running_mean->data, C); /* eval leaves them alone */
    CHECK("grad.x3", x3->grad, x3->size);
    CHECK("grad.weight.eval", bn.g->grad, C);
    CHECK("grad.bias.eval", bn.b->grad, C);
#undef CHECK
    tape_free(T);
    params_free(ps);
    params_free(buffers);
}

Test(batchnorm, matches_pytorch_in_train_and_eval_mode_with_running_statistics) {
    Fixture *f = fixture_load(FIXTURE_DIR "/batchnorm.txt");
    check_reference(f, "nc");   /* BatchNorm1d, x [5, 3] */
    check_reference(f, "nchw"); /* BatchNorm2d, x [3, 2, 3, 4] */
    fixture_free(f);
}

/* ---- What a gradient check cannot see -------------------------------------- */

/* The running statistics move once per call, not once per forward: the
 * gradient checker replays the tape dozens of times. And from PyTorch's
 * start (0, 1) one step gives 0.1 * mean and 0.9 + 0.1 * unbiased variance. */
Test(batchnorm, a_tape_replay_does_not_move_the_running_statistics_again) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 720);
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(6, 2), -1, 3, 1);
    Tensor *g = rand_leaf(T, &r, 1, SHAPE(2), 0.5, 1.5, 1), *b = rand_leaf(T, &r, 1, SHAPE(2), -1, 1, 1);
    real rm[2] = {0, 0}, rv[2] = {1, 1};
    Tensor *loss = weighted_sum(T, &r, t_batchnorm(T, x, g, b, rm, rv, 1, 0.1, 1e-5));
    for (int c = 0; c < 2; c++) {
        double m = 0, v = 0;
        for (int n = 0; n < 6; n++) m += x->data[n * 2 + c] / 6;
        for (int n = 0; n < 6; n++) v += (x->data[n * 2 + c] - m) * (x->data[n * 2 + c] - m) / 5;
        cr_assert(fabs(rm[c] - 0.1 * m) <= 1e-15, "running_mean[%d] = %.17g, want %.17g", c, rm[c], 0.1 * m);
        cr_assert(fabs(rv[c] - (0.9 + 0.1 * v)) <= 1e-15, "running_var[%d] = %.17g, want %.17g", c, rv[c],
                  0.9 + 0.1 * v);
    }
    real rm1[2] = {rm[0], rm[1]}, rv1[2] = {rv[0], rv[1]};
    Tensor *wrt[] = {x, g, b};
    gradcheck(T, loss, wrt, 3, GC_H, 0);
    cr_assert(memcmp(rm, rm1, sizeof rm) == 0 && memcmp(rv, rv1, sizeof rv) == 0,
              "the replays moved the running statistics");
    tape_free(T);
}

/* Above the OpenMP threshold (2^15 entries): 1 and 2 threads, same bits. */
static void run_big(int threads, int train, real *out, real *gx, real *gg) {
    omp_set_num_threads(threads);
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 730);
    int N = 16, C = 32, H = 8;
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(N, C, H, H), -2, 2, 1);
    Tensor *g = rand_leaf(T, &r, 1, SHAPE(C), 0.5, 1.5, 1), *b = rand_leaf(T, &r, 1, SHAPE(C), -1, 1, 1);
    real rm[32] = {0}, rv[32];
    for (int c = 0; c < C; c++) rv[c] = 1;
    Tensor *y = t_batchnorm(T, x, g, b, rm, rv, train, 0.1, 1e-5);
    backward(T, weighted_sum(T, &r, y));
    memcpy(out, y->data, sizeof(real) * x->size);
    memcpy(gx, x->grad, sizeof(real) * x->size);
    memcpy(gg, g->grad, sizeof(real) * C);
    tape_free(T);
}

Test(batchnorm, is_bit_identical_on_1_and_2_threads) {
    enum { SIZE = 16 * 32 * 8 * 8 };
    static real y1[SIZE], y2[SIZE], gx1[SIZE], gx2[SIZE], gg1[32], gg2[32];
    for (int train = 0; train < 2; train++) {
        run_big(1, train, y1, gx1, gg1);
        run_big(2, train, y2, gx2, gg2);
        cr_assert(memcmp(y1, y2, sizeof y1) == 0, "train %d: forward differs between 1 and 2 threads", train);
        cr_assert(memcmp(gx1, gx2, sizeof gx1) == 0, "train %d: d x differs between 1 and 2 threads", train);
        cr_assert(memcmp(gg1, gg2, sizeof gg1) == 0, "train %d: d gain differs between 1 and 2 threads", train);
    }
}

Test(batchnorm, bad_shapes_and_arguments_fail_with_a_clear_message) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(4, 3), 1), *g = tape_input(T, 1, SHAPE(3), 1), *b = tape_input(T, 1, SHAPE(3), 1);
    Tensor *g4 = tape_input(T, 1, SHAPE(4), 1), *flat = tape_input(T, 1, SHAPE(3), 1);
    Tensor *one = tape_input(T, 2, SHAPE(1, 3), 1);
    real rm[4] = {0}, rv[4] = {1, 1, 1, 1};
    EXPECT_FAIL(t_batchnorm(T, x, g4, b, rm, rv, 1, 0.1, 1e-5), EXIT_SOFTWARE, "[4, 3]", "[4]");
    EXPECT_FAIL(t_batchnorm(T, flat, g, b, rm, rv, 1, 0.1, 1e-5), EXIT_SOFTWARE, "axis 1");
    EXPECT_FAIL(t_batchnorm(T, one, g, b, rm, rv, 1, 0.1, 1e-5), EXIT_SOFTWARE, "at least 2");
    EXPECT_FAIL(t_batchnorm(T, x, g, b, NULL, NULL, 0, 0.1, 1e-5), EXIT_SOFTWARE, "running statistics");
    EXPECT_FAIL(t_batchnorm(T, x, g, b, rm, NULL, 1, 0.1, 1e-5), EXIT_SOFTWARE, "both");
    EXPECT_FAIL(t_batchnorm(T, x, g, b, rm, rv, 1, 1.5, 1e-5), EXIT_SOFTWARE, "momentum is 1.5");
    EXPECT_FAIL(t_batchnorm(T, x, g, b, rm, rv, 1, 0.1, 0), EXIT_SOFTWARE, "eps is 0");
    t_batchnorm(T, one, g, b, rm, rv, 0, 0.1, 1e-5); /* eval mode needs no batch: one row is fine */
    tape_free(T);
}
