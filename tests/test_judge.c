/* test_judge.c - chapter 3's judge, its measurements and the remedies' models
 * (chapters/03-gan-images/judge.c, measure.c, dcgan.c with cfg.bn and with
 * cfg.classes).
 *
 * Proves:
 *   - the judge is the intended model: features, logits, the cross-entropy
 *     and every gradient match the PyTorch fixture tests/reference/judge.txt
 *     (1e-8 relative to each tensor's largest entry, as test_gan_images.c);
 *   - its backward is right: the loss's gradient w.r.t. every judge
 *     parameter matches central differences (double, h = 1e-5, bound 1e-6
 *     relative; sampled entries of the big tensors);
 *   - the remedy's G (batch norm after fc and deconv1) is the intended
 *     model in both modes: G(z) in training mode, L_G through D, every G
 *     gradient, the running statistics after the step, and G(z) in eval
 *     mode match the fixture; L_G's gradient w.r.t. every G parameter
 *     matches central differences; a G with batch norm starts from the
 *     plain G's weights (gains 1, biases 0); its state (parameters and
 *     running statistics) round-trips; evaluation does not move it; its
 *     checkpoint is refused with a clear message;
 *   - the pair conditional on the class (the second remedy: G adds G.embed[y]
 *     to fc's output, D adds the projection <D.embed[y], features>) is the
 *     intended model: G(z, y), D's logits, L_D, L_G and every D and G
 *     gradient match the fixture's "cond." tensors (REF_TOL, tables drawn
 *     N(0, 0.3)); L_D's gradient w.r.t. every D parameter and L_G's w.r.t.
 *     every G parameter, the tables included, match central differences
 *     (as above); it starts as the plain pair of its seed (shared layers
 *     bit-identical, tables 0: G(z, y) = G(z) and D(x, y) = D(x) for any y);
 *     dcgan_sample gives sample i class i mod K, and a non-zero G.embed
 *     makes the classes differ; a conditional network without classes, a
 *     plain one given classes, and the evaluation and checkpoint of a
 *     conditional one are refused with a clear message;
 *   - the judge's checkpoint is reused only when valid for the run: a
 *     missing, damaged or differently trained file (settings, seed, images)
 *     gives NULL, never an exit; the data id sees one changed pixel;
 *   - the measurements: nearest neighbours through gemm agree with a brute
 *     force search (ties to the lower index); class coverage is 10 classes
 *     and KL 0 for a uniform histogram, log 10 for one class; the Fréchet
 *     distance of a feature set with itself is 0 and with a shifted copy is
 *     the squared shift;
 *   - training the judge is deterministic and learns a separable toy set.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../chapters/03-gan-images/judge.h"
#include "../chapters/03-gan-images/measure.h"
#include "catch_fail.h"
#include "check_util.h"
#include "checkpoint.h"
#include "fixture.h"
#include "fixture_params.h"
#include "util.h"

#define REF_TOL 1e-8

static const JudgeConfig TINY_J = {.c1 = 2, .c2 = 3, .feat = 5, .epochs = 1, .batch = 4, .lr = 1e-3, .lr_last = 1e-3};
static const DcganConfig TINY_G = {.zdim = 8, .c1 = 4, .c2 = 3, .d1 = 2, .d2 = 3, .batch = 2, .lr = 2e-4,
                                   .beta1 = 0.5, .beta2 = 0.999, .eps = 1e-8, .bn = 1};

static Tensor *input_from(Tape *T, const FixTensor *v) {
    Tensor *t = tape_input(T, v->ndim, v->shape, 0);
    for (long i = 0; i < t->size; i++) t->data[i] = (real)v->data[i];
    return t;
}

static void expect_ref(const char *what, const Tensor *t, const FixTensor *want) {
    expect_fixture_close(what, t->data, t->size, want, REF_TOL);
}

/* ---- the judge -------------------------------------------------------------- */

Test(judge, features_logits_loss_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/judge.txt");
    Judge *j = judge_new(TINY_J, 0);
    params_from_fixture(j->ps, f, copy_fixture_same_shape);
    cr_assert_eq(j->ps->n, 8, "the judge has %d parameter tensors, the fixture 8", j->ps->n);
    Tape *T = tape_new();
    Tensor *x = input_from(T, fixture_get(f, "x"));
    const FixTensor *lab = fixture_get(f, "labels");
    int labels[3];
    for (int i = 0; i < 3; i++) labels[i] = (int)lab->data[i];
    Tensor *feat = judge_features(T, j, x);
    expect_ref("features", feat, fixture_get(f, "features"));
    Tensor *logits = judge_logits(T, j, feat);
    expect_ref("logits", logits, fixture_get(f, "logits"));
    Tensor *loss = t_cross_entropy(T, logits, labels);
    expect_ref("loss", loss, fixture_get(f, "loss"));
    params_zero_grad(j->ps);
    backward(T, loss);
    expect_grads_match_fixture(f, j->ps, "grad.", REF_TOL);
    tape_free(T);
    judge_free(j);
    fixture_free(f);
}

Test(judge, loss_gradient_matches_central_differences_for_every_parameter) {
    Judge *j = judge_new(TINY_J, 3);
    Rng r;
    rng_stream(&r, 41, "test/judge gradcheck");
    Tensor *b1 = params_get(j->ps, "J.fc1.bias"); /* as the fixture: most features alive */
    for (long i = 0; i < b1->size; i++) b1->data[i] += 0.5;
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(3, 1, 28, 28), -1, 1, 0);
    const int labels[3] = {3, 0, 9};
    Tensor *loss = judge_loss(T, j, x, labels);
    GradCheck c = gradcheck(T, loss, j->ps->t, j->ps->n, GC_H, 40);
    cr_assert(c.checked >= j->ps->n, "only %ld entries checked", c.checked);
    expect_params_gradcheck(&c, j->ps, "judge loss");
    tape_free(T);
    judge_free(j);
}

/* n images of two classes a toy judge can tell apart: class 0 dark, class 1
 * a bright left half. */
static void toy_set(int n, unsigned char *px, unsigned char *lab) {
    for (int i = 0; i < n; i++) {
        lab[i] = (unsigned char)(i % 2);
        for (int p = 0; p < DCGAN_PIX; p++) px[(long)i * DCGAN_PIX + p] = lab[i] && p % 28 < 14 ? 200 : (p * 7 + i) % 40;
    }
}

Test(judge, training_is_deterministic_and_learns_a_separable_toy_set) {
    enum { N = 64 };
    static unsigned char px[N * DCGAN_PIX], lab[N];
    toy_set(N, px, lab);
    JudgeConfig cfg = TINY_J;
    cfg.epochs = 10;
    cfg.batch = 8;
    cfg.lr = cfg.lr_last = 1e-2;
    Judge *a = judge_new(cfg, 5), *b = judge_new(cfg, 5);
    double la = judge_train(a, px, lab, N, 5), lb = judge_train(b, px, lab, N, 5);
    cr_assert(la == lb, "two trainings with one seed: last-epoch loss %.17g and %.17g", la, lb);
    cr_assert(memcmp(a->ps->data, b->ps->data, (size_t)a->ps->size * sizeof(real)) == 0, "weights differ");
    double acc = judge_accuracy(a, px, lab, N);
    cr_assert(acc == 1.0, "accuracy %.3f on a toy set of two obvious classes", acc);
    judge_free(a);
    judge_free(b);
}

Test(judge, checkpoint_is_reused_only_when_valid_for_the_run) {
    make_dirs("build/test-tmp");
    const char *path = "build/test-tmp/judge.ckpt";
    remove(path);
    cr_assert_null(judge_load_if_valid(path, TINY_J, 7, 100, 42), "a missing file is no judge");
    Judge *j = judge_new(TINY_J, 7);
    judge_save(path, j, 7, 100, 42);
    Judge *k = judge_load_if_valid(path, TINY_J, 7, 100, 42);
    cr_assert_not_null(k, "a valid checkpoint was not reused");
    cr_assert(memcmp(j->ps->data, k->ps->data, (size_t)j->ps->size * sizeof(real)) == 0, "loaded weights differ");
    judge_free(k);
    cr_assert_null(judge_load_if_valid(path, TINY_J, 8, 100, 42), "another seed must train afresh");
    cr_assert_null(judge_load_if_valid(path, TINY_J, 7, 99, 42), "another image count must train afresh");
    cr_assert_null(judge_load_if_valid(path, TINY_J, 7, 100, 43), "other images must train afresh");
    JudgeConfig other = TINY_J;
    other.epochs = 2;
    cr_assert_null(judge_load_if_valid(path, other, 7, 100, 42), "other settings must train afresh");
    /* damage one byte in the middle: NULL, and no exit */
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 200, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    cr_assert_null(judge_load_if_valid(path, TINY_J, 7, 100, 42), "a damaged checkpoint must not be reused");
    judge_free(j);
    static unsigned char px[4 * DCGAN_PIX], lab[4];
    uint64_t id = judge_data_id(px, lab, 4);
    px[3 * DCGAN_PIX + 100] = 1;
    cr_assert(judge_data_id(px, lab, 4) != id, "the data id missed a changed pixel");
}

/* ---- the remedy's G: batch norm ------------------------------------------------ */

Test(judge, generator_with_batch_norm_matches_pytorch_in_both_modes) {
    Fixture *f = fixture_load(FIXTURE_DIR "/judge.txt");
    DcganG *g = dcgan_g_new(TINY_G);
    DcganD *d = dcgan_d_new(TINY_G);
    params_from_fixture(g->ps, f, copy_fixture_same_shape);
    params_from_fixture(d->ps, f, copy_fixture_same_shape);
    cr_assert_eq(g->ps->n, 10, "G with batch norm has %d parameter tensors, the fixture 10", g->ps->n);
    const BatchNorm *bns[2] = {&g->bn1, &g->bn2};
    const char *names[2] = {"G.bn1", "G.bn2"};
    char name[96];
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "before.%s.running_mean", names[k]);
        copy_fixture(bns[k]->running_mean, fixture_get(f, name));
        snprintf(name, sizeof name, "before.%s.running_var", names[k]);
        copy_fixture(bns[k]->running_var, fixture_get(f, name));
    }
    Tape *T = tape_new();
    Tensor *z = input_from(T, fixture_get(f, "z"));
    Tensor *fake = dcgan_generate(T, g, z);
    expect_ref("fake (training mode)", fake, fixture_get(f, "fake"));
    Tensor *loss = dcgan_loss_g(T, dcgan_discriminate(T, d, fake));
    expect_ref("loss_g", loss, fixture_get(f, "loss_g"));
    params_zero_grad(g->ps);
    backward(T, loss);
    /* deconv1's bias (one per channel) just before a batch norm is
     * subtracted out with the channel's mean: its gradient is 0 up to
     * round-off (~1e-17) on both sides, so it is checked absolutely; every
     * other gradient as everywhere else (fc's bias is one per position of
     * a 7x7 map, and only its mean over the map cancels) */
    for (int i = 0; i < g->ps->n; i++) {
        const Tensor *p = g->ps->t[i];
        snprintf(name, sizeof name, "gradg.%s", p->name);
        const FixTensor *want = fixture_get(f, name);
        if (!strcmp(p->name, "G.deconv1.bias")) {
            for (long k = 0; k < p->size; k++)
                cr_assert(fabs(p->grad[k]) < 1e-12 && fabs(want->data[k]) < 1e-12, "%s[%ld]: C %g, PyTorch %g", name,
                          k, (double)p->grad[k], want->data[k]);
        } else {
            expect_fixture_close(name, p->grad, p->size, want, REF_TOL);
        }
    }
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "after.%s.running_mean", names[k]);
        expect_fixture_close(name, bns[k]->running_mean->data, bns[k]->g->size, fixture_get(f, name), REF_TOL);
        snprintf(name, sizeof name, "after.%s.running_var", names[k]);
        expect_fixture_close(name, bns[k]->running_var->data, bns[k]->g->size, fixture_get(f, name), REF_TOL);
    }
    Tensor *fake_eval = dcgan_generate_mode(T, g, z, 0);
    expect_ref("fake (eval mode)", fake_eval, fixture_get(f, "fake_eval"));
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
    fixture_free(f);
}

Test(judge, generator_with_batch_norm_loss_gradient_matches_central_differences) {
    DcganG *g = dcgan_g_new(TINY_G);
    DcganD *d = dcgan_d_new(TINY_G);
    Rng r;
    rng_stream(&r, 43, "test/bn gradcheck");
    dcgan_g_init(g, &r);
    dcgan_d_init(d, &r);
    for (int i = 6; i < 10; i++) /* gains and biases away from 1 and 0 */
        rng_fill_normal(&r, g->ps->t[i]->data, g->ps->t[i]->size, i % 2 ? 0 : 1, 0.3);
    for (int i = 0; i < d->ps->n; i++) rng_fill_normal(&r, d->ps->t[i]->data, d->ps->t[i]->size, 0, 0.3);
    Tape *T = tape_new();
    Tensor *z = rand_leaf(T, &r, 2, SHAPE(4, TINY_G.zdim), -2, 2, 0);
    Tensor *loss = dcgan_loss_g(T, dcgan_discriminate(T, d, dcgan_generate(T, g, z)));
    GradCheck c = gradcheck(T, loss, g->ps->t, g->ps->n, GC_H, 40);
    cr_assert(c.checked >= g->ps->n, "only %ld entries checked", c.checked);
    expect_params_gradcheck(&c, g->ps, "L_G w.r.t. G with batch norm");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

Test(judge, generator_with_batch_norm_starts_from_the_plain_weights_and_its_state_round_trips) {
    DcganConfig plain_cfg = TINY_G;
    plain_cfg.bn = 0;
    DcganTrainer *p = dcgan_trainer_new(&plain_cfg, 9), *b = dcgan_trainer_new(&TINY_G, 9);
    cr_assert(memcmp(p->g->ps->data, b->g->ps->data, (size_t)p->g->ps->size * sizeof(real)) == 0,
              "the shared layers start from different weights");
    cr_assert(memcmp(p->d->ps->data, b->d->ps->data, (size_t)p->d->ps->size * sizeof(real)) == 0,
              "D starts from different weights");
    for (int c = 0; c < TINY_G.c1; c++)
        cr_assert(b->g->bn1.g->data[c] == 1 && b->g->bn1.b->data[c] == 0, "bn1 gain/bias not 1/0");
    /* a step, then the state out and into a fresh G: the same eval samples */
    real x[2 * DCGAN_PIX] = {0};
    b->cfg.batch = 2;
    dcgan_trainer_step(b, x);
    const long n = dcgan_g_state_size(b->g);
    cr_assert_eq(n, b->g->ps->size + 2 * (TINY_G.c1 + TINY_G.c2));
    real *st = xmalloc((size_t)n * sizeof(real));
    dcgan_g_state_get(b->g, st);
    DcganG *h = dcgan_g_new(TINY_G);
    dcgan_g_state_set(h, st);
    real z[3 * 8], s1[3 * DCGAN_PIX], s2[3 * DCGAN_PIX];
    Rng r;
    rng_stream(&r, 1, "test/bn state");
    rng_fill_normal(&r, z, 24, 0, 1);
    Tape *T = tape_new();
    dcgan_sample(T, b->g, z, 3, s1);
    dcgan_sample(T, h, z, 3, s2);
    cr_assert(memcmp(s1, s2, sizeof s1) == 0, "a G rebuilt from the state samples differently");
    /* eval mode moves nothing: evaluation leaves the running statistics as they were */
    dcgan_trainer_eval(b, x, 2);
    real *st2 = xmalloc((size_t)n * sizeof(real));
    dcgan_g_state_get(b->g, st2);
    cr_assert(memcmp(st, st2, (size_t)n * sizeof(real)) == 0, "dcgan_trainer_eval moved G's state");
    EXPECT_FAIL(dcgan_g_save("build/test-tmp/bn-g.ckpt", b->g), EXIT_SOFTWARE, "running statistics");
    xfree(st);
    xfree(st2);
    tape_free(T);
    dcgan_g_free(h);
    dcgan_trainer_free(p);
    dcgan_trainer_free(b);
}

Test(judge, a_g_step_alone_moves_only_g) {
    DcganConfig cfg = TINY_G;
    cfg.batch = 2;
    DcganTrainer *t = dcgan_trainer_new(&cfg, 4);
    real *g0 = xmalloc((size_t)t->g->ps->size * sizeof(real)), *d0 = xmalloc((size_t)t->d->ps->size * sizeof(real));
    memcpy(g0, t->g->ps->data, (size_t)t->g->ps->size * sizeof(real));
    memcpy(d0, t->d->ps->data, (size_t)t->d->ps->size * sizeof(real));
    double l = dcgan_trainer_step_g(t);
    cr_assert(isfinite(l) && l > 0, "L_G = %g", l);
    cr_assert(memcmp(d0, t->d->ps->data, (size_t)t->d->ps->size * sizeof(real)) == 0, "D moved");
    cr_assert(memcmp(g0, t->g->ps->data, (size_t)t->g->ps->size * sizeof(real)) != 0, "G did not move");
    xfree(g0);
    xfree(d0);
    dcgan_trainer_free(t);
}

/* ---- the second remedy: a pair conditional on the class ------------------------- */

static const DcganConfig TINY_C = {.zdim = 8, .c1 = 4, .c2 = 3, .d1 = 2, .d2 = 3, .batch = 4, .lr = 2e-4,
                                   .beta1 = 0.5, .beta2 = 0.999, .eps = 1e-8, .classes = 3};

/* Every parameter of ps from the fixture's "<prefix><name>", shapes checked. */
static void params_from_fixture_prefixed(ParamSet *ps, const Fixture *f, const char *prefix) {
    char name[160];
    for (int i = 0; i < ps->n; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, ps->t[i]->name);
        copy_fixture_same_shape(ps->t[i], fixture_get(f, name));
    }
}

/* A fixture's integer tensor of n classes into y [n]. */
static void classes_from(const FixTensor *v, int *y, int n) {
    cr_assert_eq(v->size, n, "%s: %ld classes in the fixture, want %d", v->name, v->size, n);
    for (int i = 0; i < n; i++) y[i] = (int)v->data[i];
}

/* A TINY_C pair with every parameter drawn, the class tables N(0, 0.3) (not
 * the zeros dcgan_*_init sets), as the fixture, so the tables are exercised. */
static void cond_pair_drawn(uint64_t seed, Rng *r, DcganG **g, DcganD **d) {
    rng_stream(r, seed, "test/conditional pair");
    *g = dcgan_g_new(TINY_C);
    *d = dcgan_d_new(TINY_C);
    dcgan_g_init(*g, r);
    dcgan_d_init(*d, r);
    rng_fill_normal(r, (*g)->embed->data, (*g)->embed->size, 0, 0.3);
    rng_fill_normal(r, (*d)->embed->data, (*d)->embed->size, 0, 0.3);
}

/* The first n entries where a and b differ (!=, so +0 and -0 agree), or -1. */
static long first_unequal(const real *a, const real *b, long n) {
    for (long i = 0; i < n; i++)
        if (a[i] != b[i]) return i;
    return -1;
}

Test(judge, conditional_pair_fake_logits_losses_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/judge.txt");
    DcganG *g = dcgan_g_new(TINY_C);
    DcganD *d = dcgan_d_new(TINY_C);
    cr_assert(g->ps->n == 7 && d->ps->n == 7, "the conditional pair has %d + %d parameter tensors, the fixture 7 + 7",
              g->ps->n, d->ps->n);
    cr_assert(g->ps->t[6] == g->embed && d->ps->t[6] == d->embed, "the class tables are not declared last");
    params_from_fixture_prefixed(g->ps, f, "cond.");
    params_from_fixture_prefixed(d->ps, f, "cond.");
    int y_fake[4], y_real[4];
    classes_from(fixture_get(f, "cond.y_fake"), y_fake, 4);
    classes_from(fixture_get(f, "cond.y_real"), y_real, 4);
    Tape *T = tape_new();
    Tensor *z = input_from(T, fixture_get(f, "cond.z")), *x = input_from(T, fixture_get(f, "cond.x"));
    Tensor *fake = dcgan_generate_class(T, g, z, y_fake, 1);
    expect_ref("cond.fake", fake, fixture_get(f, "cond.fake"));
    /* D's loss, on a detached copy of G(z, y_fake) judged with y_fake */
    Tensor *xf = tape_input(T, 4, fake->shape, 0);
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *l_real = dcgan_discriminate_class(T, d, x, y_real), *l_fake = dcgan_discriminate_class(T, d, xf, y_fake);
    expect_ref("cond.d_real", l_real, fixture_get(f, "cond.d_real"));
    expect_ref("cond.d_fake", l_fake, fixture_get(f, "cond.d_fake"));
    Tensor *loss_d = dcgan_loss_d(T, l_real, l_fake);
    expect_ref("cond.loss_d", loss_d, fixture_get(f, "cond.loss_d"));
    expect_backward_matches_fixture(T, loss_d, d->ps, f, "cond.grad.", REF_TOL);
    /* G's loss, through D with the fakes' classes */
    Tensor *loss_g = dcgan_loss_g(T, dcgan_discriminate_class(T, d, fake, y_fake));
    expect_ref("cond.loss_g", loss_g, fixture_get(f, "cond.loss_g"));
    expect_backward_matches_fixture(T, loss_g, g->ps, f, "cond.gradg.", REF_TOL);
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
    fixture_free(f);
}

Test(judge, conditional_loss_d_and_loss_g_gradients_match_central_differences_for_every_parameter) {
    Rng r;
    DcganG *g;
    DcganD *d;
    cond_pair_drawn(44, &r, &g, &d);
    const int y_real[4] = {1, 2, 0, 0}, y_fake[4] = {2, 0, 1, 2}; /* every row of both tables is read */
    Tape *T = tape_new();
    Tensor *z = rand_leaf(T, &r, 2, SHAPE(4, TINY_C.zdim), -2, 2, 0);
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(4, 1, 28, 28), -1, 1, 0);
    Tensor *fake = dcgan_generate_class(T, g, z, y_fake, 1);
    Tensor *xf = tape_input(T, 4, fake->shape, 0); /* G(z, y_fake), detached */
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *loss_d =
        dcgan_loss_d(T, dcgan_discriminate_class(T, d, x, y_real), dcgan_discriminate_class(T, d, xf, y_fake));
    GradCheck c = gradcheck(T, loss_d, d->ps->t, d->ps->n, GC_H, 40);
    cr_assert(c.checked >= d->ps->n, "L_D: only %ld entries checked", c.checked);
    expect_params_gradcheck(&c, d->ps, "conditional L_D w.r.t. D (D.embed included)");
    tape_reset(T);
    z = rand_leaf(T, &r, 2, SHAPE(4, TINY_C.zdim), -2, 2, 0);
    Tensor *loss_g = dcgan_loss_g(T, dcgan_discriminate_class(T, d, dcgan_generate_class(T, g, z, y_fake, 1), y_fake));
    c = gradcheck(T, loss_g, g->ps->t, g->ps->n, GC_H, 40);
    cr_assert(c.checked >= g->ps->n, "L_G: only %ld entries checked", c.checked);
    expect_params_gradcheck(&c, g->ps, "conditional L_G w.r.t. G (G.embed included)");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

Test(judge, a_conditional_pair_starts_as_the_plain_pair_whatever_the_class) {
    DcganConfig plain_cfg = TINY_C;
    plain_cfg.classes = 0;
    DcganTrainer *p = dcgan_trainer_new(&plain_cfg, 9), *c = dcgan_trainer_new(&TINY_C, 9);
    const ParamSet *pair[2][2] = {{p->g->ps, c->g->ps}, {p->d->ps, c->d->ps}};
    const Tensor *tables[2] = {c->g->embed, c->d->embed};
    for (int k = 0; k < 2; k++) {
        const ParamSet *a = pair[k][0], *b = pair[k][1];
        cr_assert_eq(b->n, a->n + 1, "%s: %d tensors, the plain network %d + the table", k ? "D" : "G", b->n, a->n);
        for (int i = 0; i < a->n; i++) {
            cr_assert_str_eq(b->t[i]->name, a->t[i]->name);
            cr_assert_eq(b->t[i]->size, a->t[i]->size, "%s: %ld numbers, the plain one's %ld", a->t[i]->name,
                         b->t[i]->size, a->t[i]->size);
            long at = first_unequal(b->t[i]->data, a->t[i]->data, a->t[i]->size), j = at < 0 ? 0 : at;
            cr_assert(at < 0, "%s[%ld] starts at %.17g, the plain one's at %.17g", a->t[i]->name, at,
                      (double)b->t[i]->data[j], (double)a->t[i]->data[j]);
        }
        cr_assert(b->t[a->n] == tables[k], "%s: the class table is not declared last", b->t[a->n]->name);
        for (long i = 0; i < tables[k]->size; i++)
            cr_assert(tables[k]->data[i] == 0, "%s[%ld] starts at %g, not 0", tables[k]->name, i,
                      (double)tables[k]->data[i]);
    }
    Rng r;
    rng_stream(&r, 3, "test/conditional start");
    Tape *T = tape_new();
    Tensor *z = rand_leaf(T, &r, 2, SHAPE(4, TINY_C.zdim), -2, 2, 0);
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(4, 1, 28, 28), -1, 1, 0);
    Tensor *gp = dcgan_generate(T, p->g, z), *dp = dcgan_discriminate(T, p->d, x);
    const int ys[3][4] = {{0, 0, 0, 0}, {1, 2, 0, 1}, {2, 2, 2, 2}};
    for (int k = 0; k < 3; k++) {
        Tensor *gc = dcgan_generate_class(T, c->g, z, ys[k], 1), *dc = dcgan_discriminate_class(T, c->d, x, ys[k]);
        long at = first_unequal(gc->data, gp->data, gp->size);
        cr_assert(at < 0, "classes %d %d %d %d: G(z, y)[%ld] = %.17g, plain G(z) %.17g", ys[k][0], ys[k][1], ys[k][2],
                  ys[k][3], at, (double)gc->data[at < 0 ? 0 : at], (double)gp->data[at < 0 ? 0 : at]);
        at = first_unequal(dc->data, dp->data, dp->size);
        cr_assert(at < 0, "classes %d %d %d %d: D(x, y)[%ld] = %.17g, plain D(x) %.17g", ys[k][0], ys[k][1], ys[k][2],
                  ys[k][3], at, (double)dc->data[at < 0 ? 0 : at], (double)dp->data[at < 0 ? 0 : at]);
    }
    tape_free(T);
    dcgan_trainer_free(p);
    dcgan_trainer_free(c);
}

Test(judge, a_conditional_g_samples_class_i_mod_k_and_its_table_sets_the_class) {
    enum { N = 5 }; /* more samples than classes: classes 0 1 2 0 1 */
    Rng r;
    DcganG *g;
    DcganD *d;
    cond_pair_drawn(45, &r, &g, &d);
    real z[N * 8], a[N * DCGAN_PIX], b[N * DCGAN_PIX];
    rng_fill_normal(&r, z, N * TINY_C.zdim, 0, 1);
    const int y[N] = {0, 1, 2, 0, 1};
    Tape *T = tape_new();
    dcgan_sample(T, g, z, N, a);
    dcgan_sample_class(T, g, z, y, N, b);
    cr_assert(memcmp(a, b, sizeof a) == 0, "dcgan_sample differs from dcgan_sample_class with y = i mod 3");
    /* one z, each class: a non-zero G.embed makes three different images */
    real z3[3 * 8], s[3 * DCGAN_PIX];
    for (int k = 0; k < 3; k++) memcpy(z3 + k * 8, z, 8 * sizeof(real));
    const int y3[3] = {0, 1, 2};
    dcgan_sample_class(T, g, z3, y3, 3, s);
    for (int k = 0; k < 3; k++)
        for (int l = k + 1; l < 3; l++) {
            double most = 0;
            for (int i = 0; i < DCGAN_PIX; i++)
                most = fmax(most, fabs((double)s[k * DCGAN_PIX + i] - (double)s[l * DCGAN_PIX + i]));
            cr_assert(most > 1e-3, "classes %d and %d give the same image from one z (largest difference %g)", k, l,
                      most);
        }
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

Test(judge, a_conditional_network_without_classes_and_a_plain_one_given_classes_are_refused) {
    DcganConfig plain_cfg = TINY_C;
    plain_cfg.classes = 0;
    DcganTrainer *p = dcgan_trainer_new(&plain_cfg, 2), *c = dcgan_trainer_new(&TINY_C, 2);
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(4, TINY_C.zdim), 0), *x = tape_input(T, 4, SHAPE(4, 1, 28, 28), 0);
    const int y[4] = {0, 1, 2, 0};
    static real xb[4 * DCGAN_PIX], zb[4 * 8], out[4 * DCGAN_PIX];
    const char *need = "pass each image's class", *cond = "conditional on 3 classes";
    const char *plain = "pass NULL for a plain network", *given = "classes were given";
    /* a conditional network without its classes, by every way in */
    EXPECT_FAIL(dcgan_generate(T, c->g, z), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_generate_class(T, c->g, z, NULL, 1), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_discriminate(T, c->d, x), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_sample_class(T, c->g, zb, NULL, 4, out), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_trainer_step(c, xb), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_trainer_step_d(c, xb), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_trainer_step_g(c), EXIT_SOFTWARE, need, cond);
    EXPECT_FAIL(dcgan_trainer_eval(c, xb, 4), EXIT_SOFTWARE, "dcgan_trainer_eval", cond);
    make_dirs("build/test-tmp");
    const char *path = "build/test-tmp/cond-g.ckpt";
    remove(path);
    EXPECT_FAIL(dcgan_g_save(path, c->g), EXIT_SOFTWARE, path, "no place for the classes", "save a plain generator");
    FILE *left = fopen(path, "rb");
    cr_assert_null(left, "a refused checkpoint was written anyway");
    /* a plain network given classes */
    EXPECT_FAIL(dcgan_generate_class(T, p->g, z, y, 1), EXIT_SOFTWARE, plain, given);
    EXPECT_FAIL(dcgan_discriminate_class(T, p->d, x, y), EXIT_SOFTWARE, plain, given);
    EXPECT_FAIL(dcgan_sample_class(T, p->g, zb, y, 4, out), EXIT_SOFTWARE, plain, given);
    EXPECT_FAIL(dcgan_trainer_step_class(p, xb, y), EXIT_SOFTWARE, plain, given);
    tape_free(T);
    dcgan_trainer_free(p);
    dcgan_trainer_free(c);
}

/* ---- the measurements ------------------------------------------------------------ */

Test(measure, nearest_neighbours_by_gemm_agree_with_brute_force) {
    enum { NQ = 300, NR = 2100, D = 37 }; /* more than one block of queries and of references */
    Rng r;
    rng_stream(&r, 11, "test/nearest");
    real *q = xmalloc(NQ * D * sizeof(real)), *ref = xmalloc(NR * D * sizeof(real));
    rng_fill_uniform(&r, q, NQ * D, -1, 1);
    rng_fill_uniform(&r, ref, NR * D, -1, 1);
    memcpy(ref + 2000L * D, ref + 7L * D, D * sizeof(real)); /* a duplicate: the tie goes to 7 */
    memcpy(q + 5L * D, ref + 7L * D, D * sizeof(real));      /* a query that is a reference image */
    int idx[NQ];
    double dist[NQ];
    nearest_neighbours(q, NQ, ref, NR, D, idx, dist);
    for (int i = 0; i < NQ; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int j = 0; j < NR; j++) {
            double s = 0;
            for (int k = 0; k < D; k++) s += (q[i * D + k] - ref[j * D + k]) * (q[i * D + k] - ref[j * D + k]);
            if (s < bd) bd = s, best = j;
        }
        cr_assert_eq(idx[i], best, "query %d: nearest %d by gemm, %d by brute force", i, idx[i], best);
        cr_assert(fabs(dist[i] - sqrt(bd)) < 1e-6, "query %d: distance %.10g, brute force %.10g", i, dist[i], sqrt(bd));
    }
    cr_assert_eq(idx[5], 7, "a copy of reference 7 (duplicated at 2000) found %d", idx[5]);
    cr_assert(dist[5] < 1e-6, "a copy's distance is %g", dist[5]);
    xfree(q);
    xfree(ref);
}

Test(measure, coverage_of_a_uniform_and_of_a_collapsed_histogram) {
    enum { N = 1000 };
    int cls[N];
    double conf[N];
    for (int i = 0; i < N; i++) cls[i] = i % 10, conf[i] = 0.5 + 0.25 * (i % 2);
    Coverage c = coverage_of(cls, conf, N);
    cr_assert(c.present == 10 && fabs(c.kl_uniform) < 1e-12 && fabs(c.min_share - 0.1) < 1e-12,
              "uniform: %d classes, KL %g, rarest %g", c.present, c.kl_uniform, c.min_share);
    cr_assert(fabs(c.mean_conf - 0.625) < 1e-12, "mean confidence %g", c.mean_conf);
    for (int i = 0; i < N; i++) cls[i] = 4;
    c = coverage_of(cls, conf, N);
    cr_assert(c.present == 1 && fabs(c.kl_uniform - log(10)) < 1e-12 && c.min_share == 0 && c.count[4] == N,
              "collapsed: %d classes, KL %g (log 10 = %g)", c.present, c.kl_uniform, log(10));
}

Test(measure, frechet_of_a_feature_set_with_itself_is_zero_and_with_a_shift_the_squared_shift) {
    enum { N = 500, F = 6 };
    Rng r;
    rng_stream(&r, 12, "test/frechet fit");
    real *a = xmalloc(N * F * sizeof(real)), *b = xmalloc(N * F * sizeof(real));
    rng_fill_normal(&r, a, N * F, 0, 1);
    const double shift[F] = {0.5, -1, 0, 2, 0.25, 0};
    double s2 = 0;
    for (int k = 0; k < F; k++) s2 += shift[k] * shift[k];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < F; k++) b[i * F + k] = a[i * F + k] + shift[k];
    FeatureFit fa = feature_fit(a, N, F), fb = feature_fit(b, N, F);
    double self = fit_frechet(&fa, &fa), moved = fit_frechet(&fa, &fb);
    cr_assert(fabs(self) < 1e-9, "a set against itself: %g", self);
    cr_assert(fabs(moved - s2) < 1e-9 * s2, "against a copy shifted by |s|^2 = %g: %.12g", s2, moved);
    feature_fit_free(&fa);
    feature_fit_free(&fb);
    xfree(a);
    xfree(b);
}
