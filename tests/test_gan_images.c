/* test_gan_images.c - the image GAN of chapter 3 (chapters/03-gan-images/dcgan.c).
 *
 * Proves:
 *   - backward is right: L_D's gradient w.r.t. every D parameter and L_G's
 *     gradient w.r.t. every G parameter match central differences (double,
 *     h = 1e-5, bound 1e-6 relative; sampled entries of the big tensors);
 *   - forward is the intended model: G(z), D(x), D(G(z)), L_D, L_G and every
 *     gradient match the PyTorch fixture tests/reference/gan_images.txt;
 *   - the generator's checkpoint round trip is exact (every number, and the
 *     samples), and a foreign or missing checkpoint is a clear error;
 *   - a training step is deterministic and allocates nothing after the first;
 *     D's half alone moves only D; an evaluation moves nothing;
 *   - a shuffled pass shows each image at most once per epoch, then reshuffles;
 *     given labels, it returns the same images, and y holds the class of
 *     exactly the images of the batch it returned;
 *   - the conditional trainer (cfg.classes = K): a step is deterministic for
 *     a seed, draws the fakes' classes in [0, K) from its "dcgan/labels"
 *     stream, reads the real classes (other classes, other D), and is D's
 *     step on (x, y) and (G(z, y_fake) detached, y_fake), then G's through
 *     the updated D with y_fake (replayed by hand, 1e-10 relative, two
 *     steps); dcgan_train feeds it the classes of the pass's batch;
 *   - a run split into two dcgan_train calls is the same run: its log rows
 *     are the step stats, its snapshots G's samples at the chosen steps;
 *   - the forward passes read each layer's stride and padding fields;
 *   - a valid Fashion-MNIST set too small for what the chapter reads (1 or
 *     600 images) is a clear error with both counts and what to pass, and
 *     images of another size are refused (issue 14).
 * Tolerance of the reference check: 1e-8, relative to the largest entry of
 * each tensor. The fixture is float64 and this is the double build, so the
 * only differences are summation orders (~1e-15 relative per op, a dozen ops
 * deep); a wrong layout (a flipped kernel, a transposed ConvT weight, a
 * reshape in the wrong order), a missing bias or a different loss reduction
 * is off by 1e-2 or more.
 * Sizes are the fixture's: Z 8, c1 4, c2 3, d1 2, d2 3, batch 2.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "dcgan.h"

#include "catch_fail.h"
#include "check_util.h"
#include "checkpoint.h"
#include "fixture.h"
#include "fixture_params.h"
#include "util.h"

#define REF_TOL 1e-8
#define BATCH 2

static const DcganConfig TINY = {.zdim = 8, .c1 = 4, .c2 = 3, .d1 = 2, .d2 = 3};

/* ---- helpers ------------------------------------------------------------ */

/* A tensor against the fixture's, within REF_TOL (see above). */
static void expect_ref(const char *what, const Tensor *t, const FixTensor *want) {
    expect_fixture_close(what, t->data, t->size, want, REF_TOL);
}

static Tensor *input_from(Tape *T, const FixTensor *v) {
    Tensor *t = tape_input(T, v->ndim, v->shape, 0);
    for (long i = 0; i < t->size; i++) t->data[i] = (real)v->data[i];
    return t;
}

/* The fixture's init, so that every path carries an O(1e-2) gradient:
 * weights N(0, 1/sqrt(inputs reaching one output)), biases N(0, 0.2). */
static void fixture_like_init(ParamSet *ps, Rng *r) {
    for (int i = 0; i + 1 < ps->n; i += 2) {
        Tensor *w = ps->t[i];
        long fan = w->ndim == 2 ? w->shape[1]
                   : strstr(w->name, "deconv") ? (long)w->shape[0] * 4 /* ConvT k4 s2: 2x2 taps per input channel */
                                               : (long)w->shape[1] * w->shape[2] * w->shape[3];
        rng_fill_normal(r, w->data, w->size, 0, 1.0 / sqrt((double)fan));
        rng_fill_normal(r, ps->t[i + 1]->data, ps->t[i + 1]->size, 0, 0.2);
    }
}

/* A TINY G and D, seeded with `seed` and fixture_like_init'ed in that
 * order; *r goes on from there. */
static void fixture_like_pair(uint64_t seed, Rng *r, DcganG **g, DcganD **d) {
    rng_stream(r, seed, "test/fixture-like init");
    *g = dcgan_g_new(TINY);
    *d = dcgan_d_new(TINY);
    fixture_like_init((*g)->ps, r);
    fixture_like_init((*d)->ps, r);
}

static void expect_gradcheck(Tape *T, Tensor *loss, ParamSet *ps, long max_entries, const char *label) {
    GradCheck c = gradcheck(T, loss, ps->t, ps->n, GC_H, max_entries);
    cr_assert(c.checked >= ps->n, "%s: only %ld entries checked", label, c.checked);
    expect_params_gradcheck(&c, ps, label);
}

/* ---- gradient checks ------------------------------------------------------ */

Test(gan_images, loss_d_gradient_matches_central_differences_for_every_d_parameter) {
    Rng r;
    DcganG *g;
    DcganD *d;
    fixture_like_pair(31, &r, &g, &d);
    Tape *T = tape_new();
    Tensor *z = rand_leaf(T, &r, 2, SHAPE(BATCH, TINY.zdim), -2, 2, 0);
    Tensor *fake = dcgan_generate(T, g, z);
    Tensor *xf = tape_input(T, 4, SHAPE(BATCH, 1, 28, 28), 0); /* G(z), detached */
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(BATCH, 1, 28, 28), -1, 1, 0);
    Tensor *loss = dcgan_loss_d(T, dcgan_discriminate(T, d, x), dcgan_discriminate(T, d, xf));
    expect_gradcheck(T, loss, d->ps, 40, "L_D w.r.t. D");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

Test(gan_images, loss_g_gradient_matches_central_differences_for_every_g_parameter) {
    Rng r;
    DcganG *g;
    DcganD *d;
    fixture_like_pair(32, &r, &g, &d);
    Tape *T = tape_new();
    Tensor *z = rand_leaf(T, &r, 2, SHAPE(BATCH, TINY.zdim), -2, 2, 0);
    Tensor *loss = dcgan_loss_g(T, dcgan_discriminate(T, d, dcgan_generate(T, g, z)));
    expect_gradcheck(T, loss, g->ps, 40, "L_G w.r.t. G");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

/* ---- reference check ---------------------------------------------------------- */

Test(gan_images, outputs_losses_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/gan_images.txt");
    DcganG *g = dcgan_g_new(TINY);
    DcganD *d = dcgan_d_new(TINY);
    params_from_fixture(g->ps, f, copy_fixture_same_shape);
    params_from_fixture(d->ps, f, copy_fixture_same_shape);
    cr_assert_eq(g->ps->n + d->ps->n, 12, "the model has %d parameter tensors, the fixture 12", g->ps->n + d->ps->n);

    /* D's loss, on a detached copy of G(z), as in training */
    Tape *T = tape_new();
    Tensor *z = input_from(T, fixture_get(f, "z")), *x = input_from(T, fixture_get(f, "x"));
    Tensor *fake = dcgan_generate(T, g, z);
    expect_ref("fake", fake, fixture_get(f, "fake"));
    Tensor *xf = tape_input(T, 4, fake->shape, 0);
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *d_real = dcgan_discriminate(T, d, x), *d_fake = dcgan_discriminate(T, d, xf);
    expect_ref("d_real", d_real, fixture_get(f, "d_real"));
    expect_ref("d_fake", d_fake, fixture_get(f, "d_fake"));
    Tensor *loss_d = dcgan_loss_d(T, d_real, d_fake);
    expect_ref("loss_d", loss_d, fixture_get(f, "loss_d"));
    expect_backward_matches_fixture(T, loss_d, d->ps, f, "grad.", REF_TOL);

    /* G's loss, through D */
    Tensor *loss_g = dcgan_loss_g(T, dcgan_discriminate(T, d, fake));
    expect_ref("loss_g", loss_g, fixture_get(f, "loss_g"));
    expect_backward_matches_fixture(T, loss_g, g->ps, f, "gradg.", REF_TOL);
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
    fixture_free(f);
}

/* ---- the checkpoint ------------------------------------------------------------ */

Test(gan_images, generator_checkpoint_round_trip_is_exact) {
    Rng r;
    rng_stream(&r, 7, "test/checkpoint");
    DcganConfig cfg = {.zdim = 5, .c1 = 3, .c2 = 2, .d1 = 1, .d2 = 1};
    DcganG *g = dcgan_g_new(cfg);
    dcgan_g_init(g, &r);
    make_dirs("build/test-tmp");
    dcgan_g_save("build/test-tmp/gan-images-g.ckpt", g);
    DcganG *h = dcgan_g_load("build/test-tmp/gan-images-g.ckpt", "the test writes it");
    cr_assert(h->cfg.zdim == 5 && h->cfg.c1 == 3 && h->cfg.c2 == 2, "sizes from the meta line: %d %d %d", h->cfg.zdim,
              h->cfg.c1, h->cfg.c2);
    cr_assert_eq(h->ps->n, g->ps->n, "%d tensors loaded, %d saved", h->ps->n, g->ps->n);
    for (int i = 0; i < g->ps->n; i++) {
        cr_assert_str_eq(h->ps->t[i]->name, g->ps->t[i]->name);
        for (long j = 0; j < g->ps->t[i]->size; j++)
            cr_assert(h->ps->t[i]->data[j] == g->ps->t[i]->data[j], "%s[%ld]: loaded %.17g, saved %.17g",
                      g->ps->t[i]->name, j, (double)h->ps->t[i]->data[j], (double)g->ps->t[i]->data[j]);
    }
    real z[3 * 5], a[3 * DCGAN_PIX], b[3 * DCGAN_PIX];
    rng_fill_normal(&r, z, 15, 0, 1);
    Tape *T = tape_new();
    dcgan_sample(T, g, z, 3, a);
    dcgan_sample(T, h, z, 3, b);
    cr_assert(memcmp(a, b, sizeof a) == 0, "samples of the loaded generator differ from the saved one's");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_g_free(h);
}

Test(gan_images, a_missing_generator_checkpoint_names_the_file_and_the_command) {
    EXPECT_FAIL(dcgan_g_load("build/no-such-dir/generator.ckpt", "run `make run-03` first"), EXIT_NOINPUT,
                "build/no-such-dir/generator.ckpt", "make run-03");
}

Test(gan_images, a_checkpoint_of_another_model_is_refused_by_its_meta_line) {
    make_dirs("build/test-tmp");
    DcganD *d = dcgan_d_new(TINY);
    checkpoint_save("build/test-tmp/gan-images-d.ckpt", d->ps, "dcgan-D d1=2 d2=3");
    dcgan_d_free(d);
    EXPECT_FAIL(dcgan_g_load("build/test-tmp/gan-images-d.ckpt", "run `make run-03`"), EXIT_DATA,
                "not a chapter-3 generator", "make run-03");
}

/* ---- the training step -------------------------------------------------------------- */

/* The fixture's sizes, batch 4, the reference optimizer settings. */
/* Largest |a - b| / max(|b|, 1e-3) over n numbers: two code paths for one
 * step may order their sums differently (and the sanitizer build compiles
 * them differently), so they agree to round-off, not bit for bit. */
static double max_rel_diff(const real *a, const real *b, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / fmax(fabs((double)b[i]), 1e-3);
        if (d > worst) worst = d;
    }
    return worst;
}

/* A trainer of TINY's sizes, batch 4, conditional on `classes` (0: plain). */
static DcganTrainer *tiny_trainer_of(uint64_t seed, int classes) {
    DcganConfig cfg = dcgan_config_default();
    cfg.zdim = TINY.zdim, cfg.c1 = TINY.c1, cfg.c2 = TINY.c2, cfg.d1 = TINY.d1, cfg.d2 = TINY.d2, cfg.batch = 4;
    cfg.classes = classes;
    return dcgan_trainer_new(&cfg, seed);
}

static DcganTrainer *tiny_trainer(uint64_t seed) { return tiny_trainer_of(seed, 0); }

Test(gan_images, training_steps_are_deterministic_and_allocate_nothing_after_the_first) {
    DcganTrainer *a = tiny_trainer(3), *b = tiny_trainer(3);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 9, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    long after_first = 0;
    for (int t = 0; t < 4; t++) {
        DcganStepStats sa = dcgan_trainer_step(a, x);
        DcganStepStats sb = dcgan_trainer_step(b, x);
        cr_assert(sa.loss_d == sb.loss_d && sa.loss_g == sb.loss_g, "step %d: losses differ between equal runs", t);
        cr_assert(sa.loss_d > 0 && sa.d_real > 0 && sa.d_real < 1 && sa.d_fake > 0 && sa.d_fake < 1,
                  "step %d: L_D %g, D(x) %g, D(G(z)) %g out of range", t, sa.loss_d, sa.d_real, sa.d_fake);
        if (t == 0) after_first = alloc_count();
    }
    cr_assert(memcmp(a->g->ps->data, b->g->ps->data, (size_t)a->g->ps->size * sizeof(real)) == 0, "G differs");
    cr_assert(memcmp(a->d->ps->data, b->d->ps->data, (size_t)a->d->ps->size * sizeof(real)) == 0, "D differs");
    cr_assert_eq(alloc_count(), after_first, "steps 2-4 made %ld allocations", alloc_count() - after_first);
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}

Test(gan_images, d_step_moves_only_d_and_g_step_moves_only_g) {
    /* One step changes both networks. Replaying its two halves by hand:
     * D's half must leave G's numbers as they were (the fake is detached),
     * and the result of the whole step must equal D-then-G done separately. */
    DcganTrainer *a = tiny_trainer(4), *b = tiny_trainer(4);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 1, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    Rng rb = b->noise; /* the noise a's step draws */
    dcgan_trainer_step(a, x);

    /* by hand, on b */
    real *g0 = xmalloc((size_t)b->g->ps->size * sizeof(real));
    memcpy(g0, b->g->ps->data, (size_t)b->g->ps->size * sizeof(real));
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(4, TINY.zdim), 0);
    rng_fill_normal(&rb, z->data, z->size, 0, 1);
    Tensor *fake = dcgan_generate(T, b->g, z);
    Tensor *xr = tape_input(T, 4, SHAPE(4, 1, 28, 28), 0), *xf = tape_input(T, 4, SHAPE(4, 1, 28, 28), 0);
    memcpy(xr->data, x, sizeof x);
    memcpy(xf->data, fake->data, sizeof x);
    Tensor *ld = dcgan_loss_d(T, dcgan_discriminate(T, b->d, xr), dcgan_discriminate(T, b->d, xf));
    params_zero_grad(b->d->ps);
    params_zero_grad(b->g->ps);
    backward(T, ld);
    for (long i = 0; i < b->g->ps->size; i++)
        cr_assert(b->g->ps->grad[i] == 0, "L_D reached G's parameter %ld (grad %g)", i, (double)b->g->ps->grad[i]);
    optim_step(b->opt_d);
    cr_assert(memcmp(g0, b->g->ps->data, (size_t)b->g->ps->size * sizeof(real)) == 0, "D's step changed G");
    /* bound 1e-10: double round-off over a few thousand terms is ~1e-13;
     * a wrong half-step (G's grad in D's update, no detach) is ~1e-4 */
    double dd = max_rel_diff(a->d->ps->data, b->d->ps->data, a->d->ps->size);
    cr_assert(dd <= 1e-10, "D after the step differs from D after its own update by %.3e relative", dd);
    Tensor *lg = dcgan_loss_g(T, dcgan_discriminate(T, b->d, fake));
    params_zero_grad(b->g->ps);
    backward(T, lg);
    optim_step(b->opt_g);
    double dg = max_rel_diff(a->g->ps->data, b->g->ps->data, a->g->ps->size);
    cr_assert(dg <= 1e-10, "G after the step differs from G after L_G through the updated D by %.3e relative", dg);
    xfree(g0);
    tape_free(T);
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}

Test(gan_images, g_step_freezes_d_so_d_keeps_the_gradients_of_its_own_step) {
    /* D's weight gradients in G's step would be thrown away unread: G's step
     * freezes D (params_freeze), so after a whole step D's gradient block
     * holds, bit for bit, what D's step alone left there */
    DcganTrainer *a = tiny_trainer(6), *b = tiny_trainer(6);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 6, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    dcgan_trainer_step(a, x);
    dcgan_trainer_step_d(b, x);
    const ParamSet *da = a->d->ps, *db = b->d->ps;
    double seen = 0;
    for (long i = 0; i < db->size; i++) seen += fabs((double)db->grad[i]);
    cr_assert(seen > 0, "D's step left no gradient in D");
    long first = -1;
    for (long i = 0; i < da->size && first < 0; i++)
        if (memcmp(&da->grad[i], &db->grad[i], sizeof(real))) first = i;
    cr_assert(first < 0, "G's step changed D's gradient %ld: %g after the whole step, %g after D's step", first,
              (double)da->grad[first], (double)db->grad[first]);
    for (int i = 0; i < da->n; i++)
        cr_assert(da->t[i]->grad == da->grad + (da->t[i]->data - da->data), "D's %s left frozen", da->t[i]->name);
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}

Test(gan_images, eval_changes_no_parameter_and_a_d_only_step_moves_only_d) {
    DcganTrainer *t = tiny_trainer(5);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 5, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    const size_t gb = (size_t)t->g->ps->size * sizeof(real), db = (size_t)t->d->ps->size * sizeof(real);
    real *g0 = xmalloc(gb), *d0 = xmalloc(db);
    memcpy(g0, t->g->ps->data, gb);
    memcpy(d0, t->d->ps->data, db);
    DcganEvalStats e = dcgan_trainer_eval(t, x, 4);
    cr_assert(memcmp(g0, t->g->ps->data, gb) == 0 && memcmp(d0, t->d->ps->data, db) == 0, "eval changed a parameter");
    cr_assert(e.d_real > 0 && e.d_real < 1 && e.d_fake > 0 && e.d_fake < 1 && e.grad_g > 0 && e.grad_g_sat > 0,
              "eval: D(x) %g, D(G(z)) %g, gradient norms %g, %g", e.d_real, e.d_fake, e.grad_g, e.grad_g_sat);
    DcganStepStats st = dcgan_trainer_step_d(t, x);
    cr_assert(memcmp(g0, t->g->ps->data, gb) == 0, "a D-only step changed G");
    cr_assert(memcmp(d0, t->d->ps->data, db) != 0, "a D-only step left D unchanged");
    cr_assert(isnan(st.loss_g) && st.loss_d > 0, "D-only step: L_G %g (want NaN), L_D %g", st.loss_g, st.loss_d);
    xfree(g0);
    xfree(d0);
    dcgan_trainer_free(t);
}

/* ---- the conditional trainer (the second remedy) ---------------------------------- */

#define K_CLASSES 3

static DcganTrainer *tiny_cond_trainer(uint64_t seed) { return tiny_trainer_of(seed, K_CLASSES); }

Test(gan_images, a_conditional_step_is_deterministic_draws_fake_classes_from_its_stream_and_reads_the_real_ones) {
    DcganTrainer *a = tiny_cond_trainer(5), *b = tiny_cond_trainer(5), *o = tiny_cond_trainer(5);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 5, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    const int y[4] = {0, 1, 2, 1}, y_other[4] = {2, 0, 1, 0};
    Rng labels; /* the fakes' classes: uniform draws from the seed's "dcgan/labels" stream */
    rng_stream(&labels, 5, "dcgan/labels");
    int drawn[K_CLASSES] = {0};
    for (int t = 0; t < 3; t++) {
        DcganStepStats sa = dcgan_trainer_step_class(a, x, y), sb = dcgan_trainer_step_class(b, x, y);
        cr_assert(sa.loss_d == sb.loss_d && sa.loss_g == sb.loss_g && sa.d_real == sb.d_real &&
                      sa.d_fake == sb.d_fake,
                  "step %d: the stats differ between equal runs", t);
        cr_assert(sa.loss_d > 0 && sa.loss_g > 0, "step %d: L_D %g, L_G %g", t, sa.loss_d, sa.loss_g);
        for (int n = 0; n < 4; n++) {
            int want = rng_int(&labels, K_CLASSES);
            cr_assert(a->y_fake[n] >= 0 && a->y_fake[n] < K_CLASSES, "step %d: fake %d of class %d, not in [0, %d)",
                      t, n, a->y_fake[n], K_CLASSES);
            cr_assert(a->y_fake[n] == want && b->y_fake[n] == want,
                      "step %d: fake %d of class %d and %d, the labels stream draws %d", t, n, a->y_fake[n],
                      b->y_fake[n], want);
            drawn[want]++;
        }
        dcgan_trainer_step_class(o, x, y_other);
    }
    for (int k = 0; k < K_CLASSES; k++) cr_assert(drawn[k] > 0, "12 fakes and none of class %d", k);
    cr_assert(memcmp(a->g->ps->data, b->g->ps->data, (size_t)a->g->ps->size * sizeof(real)) == 0, "G differs");
    cr_assert(memcmp(a->d->ps->data, b->d->ps->data, (size_t)a->d->ps->size * sizeof(real)) == 0, "D differs");
    cr_assert(memcmp(a->d->embed->data, o->d->embed->data, (size_t)a->d->embed->size * sizeof(real)) != 0,
              "D.embed is the same after steps on other real classes: D ignores them");
    cr_assert(memcmp(a->d->ps->data, o->d->ps->data,
                     (size_t)(a->d->embed->data - a->d->ps->data) * sizeof(real)) != 0,
              "D's shared layers are the same after steps on other real classes");
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
    dcgan_trainer_free(o);
}

Test(gan_images, a_conditional_step_is_l_d_then_l_g_with_each_fake_judged_with_its_class) {
    /* one step of a conditional trainer, replayed by hand from copies of its
     * noise and labels streams: the fakes G(z, y_fake), D's step on x with
     * the real classes and the detached fakes with theirs, then G's step
     * through the updated D with the fakes' classes */
    DcganTrainer *a = tiny_cond_trainer(4), *b = tiny_cond_trainer(4);
    real x[4 * DCGAN_PIX];
    Rng rx;
    rng_stream(&rx, 1, "test/pixels");
    rng_fill_uniform(&rx, x, 4 * DCGAN_PIX, -1, 1);
    const int y[4] = {2, 2, 0, 1};
    for (int t = 0; t < 2; t++) { /* the second step: tables no longer zero */
        Rng rn = a->noise, rl = a->labels; /* what a's step draws */
        dcgan_trainer_step_class(a, x, y);
        Tape *T = tape_new();
        Tensor *z = tape_input(T, 2, SHAPE(4, TINY.zdim), 0);
        rng_fill_normal(&rn, z->data, z->size, 0, 1);
        int yf[4];
        for (int n = 0; n < 4; n++) yf[n] = rng_int(&rl, K_CLASSES);
        Tensor *fake = dcgan_generate_class(T, b->g, z, yf, 1);
        Tensor *xr = tape_input(T, 4, SHAPE(4, 1, 28, 28), 0), *xf = tape_input(T, 4, SHAPE(4, 1, 28, 28), 0);
        memcpy(xr->data, x, sizeof x);
        memcpy(xf->data, fake->data, sizeof x);
        Tensor *ld =
            dcgan_loss_d(T, dcgan_discriminate_class(T, b->d, xr, y), dcgan_discriminate_class(T, b->d, xf, yf));
        params_zero_grad(b->d->ps);
        backward(T, ld);
        optim_step(b->opt_d);
        /* bound 1e-10, as for the plain step: round-off is ~1e-13, a fake
         * judged with the wrong class or a real with none is ~1e-4 */
        double dd = max_rel_diff(a->d->ps->data, b->d->ps->data, a->d->ps->size);
        cr_assert(dd <= 1e-10, "step %d: D differs from D's step by hand by %.3e relative", t, dd);
        Tensor *lg = dcgan_loss_g(T, dcgan_discriminate_class(T, b->d, fake, yf));
        params_zero_grad(b->g->ps);
        backward(T, lg);
        optim_step(b->opt_g);
        double dg = max_rel_diff(a->g->ps->data, b->g->ps->data, a->g->ps->size);
        cr_assert(dg <= 1e-10, "step %d: G differs from G's step by hand by %.3e relative", t, dg);
        tape_free(T);
        /* the next step from a's weights (Adam's moments agree to round-off) */
        memcpy(b->g->ps->data, a->g->ps->data, (size_t)a->g->ps->size * sizeof(real));
        memcpy(b->d->ps->data, a->d->ps->data, (size_t)a->d->ps->size * sizeof(real));
    }
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}

Test(gan_images, a_conditional_run_trains_on_the_classes_of_the_batch_the_pass_returned) {
    enum { NIMG = 12, STEPS = 4 };
    unsigned char pixels[NIMG * DCGAN_PIX], labels[NIMG];
    Rng r;
    rng_stream(&r, 2, "test/pixels");
    for (int i = 0; i < NIMG * DCGAN_PIX; i++) pixels[i] = (unsigned char)rng_int(&r, 256);
    for (int i = 0; i < NIMG; i++) labels[i] = (unsigned char)(i % K_CLASSES);
    real zfix[8];
    rng_fill_normal(&r, zfix, TINY.zdim, 0, 1);
    const double at[1] = {1};
    DcganTrainer *a = tiny_cond_trainer(7), *b = tiny_cond_trainer(7);
    DcganPass *pa = dcgan_pass_new(pixels, labels, NIMG, 4, 7), *pb = dcgan_pass_new(pixels, labels, NIMG, 4, 7);
    DcganHistory *h = dcgan_history_new(STEPS, 1, at, zfix, 1, TINY.zdim);
    dcgan_train(a, pa, h, STEPS, NULL);
    real x[4 * DCGAN_PIX];
    for (int s = 0; s < STEPS; s++) {
        dcgan_pass_next(pb, x);
        dcgan_trainer_step_class(b, x, pb->y);
    }
    cr_assert(memcmp(a->g->ps->data, b->g->ps->data, (size_t)a->g->ps->size * sizeof(real)) == 0,
              "G after dcgan_train differs from G after steps on the pass's classes");
    cr_assert(memcmp(a->d->ps->data, b->d->ps->data, (size_t)a->d->ps->size * sizeof(real)) == 0,
              "D after dcgan_train differs from D after steps on the pass's classes");
    dcgan_history_free(h);
    dcgan_pass_free(pa);
    dcgan_pass_free(pb);
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}

Test(gan_images, a_pass_shows_each_image_once_per_epoch_then_reshuffles) {
    enum { N = 10, B = 4 }; /* 2 batches per epoch; images 8 and 9 of each order are skipped */
    unsigned char pixels[N * DCGAN_PIX];
    for (int i = 0; i < N; i++) memset(pixels + i * DCGAN_PIX, 20 * i, DCGAN_PIX); /* image i: bytes 20 i */
    unsigned char labels[N];
    for (int i = 0; i < N; i++) labels[i] = (unsigned char)((7 * i + 3) % 10); /* not the image's index */
    DcganPass *p = dcgan_pass_new(pixels, NULL, N, B, 3);
    DcganPass *q = dcgan_pass_new(pixels, labels, N, B, 3); /* the same pass, with each image's class */
    cr_assert_null(p->y, "a pass without labels has classes");
    real x[B * DCGAN_PIX], xq[B * DCGAN_PIX];
    int order[3][2 * B];
    for (int e = 0; e < 3; e++) {
        int seen[N] = {0};
        for (int b = 0; b < 2; b++) {
            dcgan_pass_next(p, x);
            dcgan_pass_next(q, xq);
            cr_assert(memcmp(x, xq, sizeof x) == 0, "epoch %d, batch %d: labels changed the images a pass returns", e,
                      b);
            for (int i = 0; i < B; i++) {
                int id = (int)lround(((double)x[i * DCGAN_PIX] + 1) * 127.5 / 20);
                cr_assert(id >= 0 && id < N && !seen[id], "epoch %d: image %d twice or out of range", e, id);
                seen[id] = 1;
                order[e][b * B + i] = id;
                cr_assert_eq(q->y[i], labels[id], "epoch %d, batch %d: image %d (class %d) came with class %d", e, b,
                             id, labels[id], q->y[i]);
            }
        }
    }
    cr_assert(memcmp(order[0], order[1], sizeof order[0]) || memcmp(order[1], order[2], sizeof order[1]),
              "three epochs in the same order: no reshuffle");
    dcgan_pass_free(p);
    dcgan_pass_free(q);
    EXPECT_FAIL(dcgan_pass_new(pixels, NULL, 3, B, 3), EXIT_DATA, "3 images cannot fill a batch of 4");
}

/* ---- a data set too small for what the chapter reads (issue 14) ------------------------ */

/* A gzip IDX pair train-{images-idx3,labels-idx1}-ubyte.gz of n images of
 * side x side pixels in dir. */
static void write_idx_set(const char *dir, int n, int side) {
    char path[512];
    make_dirs(dir);
    const long npix = (long)n * side * side;
    unsigned char *b = xcalloc((size_t)npix + 16, 1);
    const unsigned hdr[4] = {0x803, (unsigned)n, (unsigned)side, (unsigned)side};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 4; j++) b[4 * k + j] = (unsigned char)(hdr[k] >> (24 - 8 * j));
    for (long i = 0; i < npix; i++) b[16 + i] = (unsigned char)(i * 7);
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    gzFile f = gzopen(path, "wb");
    cr_assert(f && gzwrite(f, b, (unsigned)(npix + 16)) == (int)(npix + 16) && gzclose(f) == Z_OK, "cannot write %s",
              path);
    const unsigned lh[2] = {0x801, (unsigned)n};
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 4; j++) b[4 * k + j] = (unsigned char)(lh[k] >> (24 - 8 * j));
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)(i % 10);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    f = gzopen(path, "wb");
    cr_assert(f && gzwrite(f, b, (unsigned)(n + 8)) == n + 8 && gzclose(f) == Z_OK, "cannot write %s", path);
    xfree(b);
}

Test(gan_images, a_valid_but_small_fashion_set_is_refused_with_the_counts_and_what_to_pass) {
    const char *why = "32 + 1,000 for the article's schedule", *hint = "pass --quick or --data DIR";
    write_idx_set("build/test-tmp/gan-images-1", 1, 28);
    write_idx_set("build/test-tmp/gan-images-600", 600, 28);
    EXPECT_FAIL(dcgan_images_load("build/test-tmp/gan-images-1", 512, "--quick trains on 512", hint), EXIT_DATA,
                "needs 512 training images", "the files hold 1", "--quick trains on 512", "--data DIR");
    EXPECT_FAIL(dcgan_images_load("build/test-tmp/gan-images-600", 1032, why, hint), EXIT_DATA,
                "needs 1032 training images", "the files hold 600", why, "pass --quick");
    ImageSet *s = dcgan_images_load("build/test-tmp/gan-images-600", 512, "--quick", hint);
    cr_assert_eq(s->n, 600, "600 images written, %d loaded", s->n);
    imageset_free(s);
    write_idx_set("build/test-tmp/gan-images-14", 2000, 14);
    EXPECT_FAIL(dcgan_images_load("build/test-tmp/gan-images-14", 512, "--quick", hint), EXIT_DATA,
                "images are 14x14, the model needs 28x28");
}

Test(gan_images, the_forward_passes_read_each_layers_stride_and_padding) {
    /* ConvT: out = (H - 1) s - 2p + k. With deconv2's padding 2, not 1, the
     * image is 26 wide, not 28: the field, not a constant, decides. */
    DcganG *g = dcgan_g_new(TINY);
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(1, TINY.zdim), 0);
    cr_assert_eq(dcgan_generate(T, g, z)->shape[3], 28, "the reference G does not make 28x28 images");
    g->deconv2.pad = 2;
    Tensor *img = dcgan_generate(T, g, z);
    cr_assert_eq(img->shape[3], 26, "deconv2 with pad 2 gives width %d, want (14 - 1) 2 - 4 + 4 = 26", img->shape[3]);
    DcganD *d = dcgan_d_new(TINY);
    d->conv2.stride = 1; /* 14x14 stays 14x14: D's flatten to d2 * 49 must refuse it */
    Tensor *x = tape_input(T, 4, SHAPE(1, 1, 28, 28), 0);
    CATCH_FAIL(dcgan_discriminate(T, d, x));
    cr_assert(caught_failed, "D with conv2 stride 1 ran: the forward ignored the stride field");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
}

Test(gan_images, a_run_split_into_two_train_calls_equals_the_steps_taken_one_by_one) {
    /* dcgan_train's log rows (one per iteration when the run is short) are
     * the step stats, its snapshots are G's samples at the chosen steps, and
     * stopping half-way changes nothing. */
    enum { NIMG = 12, STEPS = 6, NFIX = 2 };
    unsigned char pixels[NIMG * DCGAN_PIX];
    Rng r;
    rng_stream(&r, 1, "test/pixels");
    for (int i = 0; i < NIMG * DCGAN_PIX; i++) pixels[i] = (unsigned char)rng_int(&r, 256);
    real zfix[NFIX * 8];
    rng_fill_normal(&r, zfix, NFIX * TINY.zdim, 0, 1);
    const double at[3] = {0, 0.5, 1};
    DcganTrainer *a = tiny_trainer(6), *b = tiny_trainer(6);
    DcganPass *pa = dcgan_pass_new(pixels, NULL, NIMG, 4, 6), *pb = dcgan_pass_new(pixels, NULL, NIMG, 4, 6);
    DcganHistory *h = dcgan_history_new(STEPS, 3, at, zfix, NFIX, TINY.zdim);
    dcgan_train(a, pa, h, STEPS / 2, NULL);
    dcgan_train(a, pa, h, STEPS, NULL);
    cr_assert(h->log_every == 1 && h->n_logs == STEPS, "log: every %d, %d rows", h->log_every, h->n_logs);
    real x[4 * DCGAN_PIX], snap[NFIX * DCGAN_PIX];
    Tape *T = tape_new();
    for (int s = 0; s < STEPS; s++) {
        if (s == 0 || s == STEPS / 2) {
            dcgan_sample(T, b->g, zfix, NFIX, snap);
            cr_assert(memcmp(snap, h->snaps + (long)(s ? 1 : 0) * NFIX * DCGAN_PIX, sizeof snap) == 0,
                      "snapshot at step %d differs from G's samples then", s);
        }
        dcgan_pass_next(pb, x);
        DcganStepStats st = dcgan_trainer_step(b, x);
        const double *row = h->log + s * 5;
        cr_assert(row[0] == s + 1 && row[1] == st.loss_d && row[2] == st.loss_g && row[3] == st.d_real &&
                      row[4] == st.d_fake,
                  "log row %d: step %g, L_D %.17g (want %.17g)", s, row[0], row[1], st.loss_d);
    }
    dcgan_sample(T, b->g, zfix, NFIX, snap);
    cr_assert(memcmp(snap, h->snaps + 2L * NFIX * DCGAN_PIX, sizeof snap) == 0, "the last snapshot differs");
    tape_free(T);
    dcgan_history_free(h);
    dcgan_pass_free(pa);
    dcgan_pass_free(pb);
    dcgan_trainer_free(a);
    dcgan_trainer_free(b);
}
