/* test_gan_ring.c - the ring GAN of chapter 2 (chapters/02-gan-loss/ring.c).
 *
 * Proves:
 *   - backward is right: L_D w.r.t. every D parameter (plain and packed D),
 *     and L_G, non-saturating and saturating, w.r.t. every G parameter
 *     (through D), match central differences (double, h = 1e-5, relative
 *     error bound 1e-6, see check_util.h);
 *   - forward is the intended model: G(z), D(x), D(G(z)), L_D, both L_G and
 *     every gradient match the PyTorch fixture tests/reference/gan_ring.txt;
 *   - the metrics count as DESIGN.md says: all samples on one centre is 1
 *     mode, exactly 25 per centre is 8 modes (24 is none), points 0.061 from
 *     a centre are not high quality (0.059 are), and real ring data scores
 *     the 1 - e^{-4.5} = 98.9 % a 2-D Gaussian puts within 3 sigma;
 *   - the trainer is deterministic: one seed gives the same losses bit for
 *     bit; an evaluation changes neither the model nor the training after
 *     it; the annealed learning rate follows its schedule;
 *   - a batch that does not split into packs is a clear error.
 * Tolerance of the reference check: 1e-8, relative to the largest entry of
 * each tensor. The fixture is float64 and this is the double build, so only
 * summation orders differ (~1e-15 relative per op, a few ops deep); a
 * missing bias, a swapped layout or a sum where a mean belongs is off by far
 * more than 1e-3.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"

#include "catch_fail.h"
#include "check_util.h"
#include "fixture.h"
#include "fixture_params.h"
#include "init.h"
#include "util.h"

#define REF_TOL 1e-8

/* ---- helpers -------------------------------------------------------------- */

/* A small model with weights U(-1, 1) and biases U(-0.5, 0.5): every ReLU
 * sees O(1) inputs, so most units are active and every path is exercised. */
static RingGan *small_model(int zdim, int hidden, int pack, uint64_t seed) {
    RingGan *m = ring_new(zdim, hidden, pack);
    Rng r;
    rng_seed(&r, seed);
    ParamSet *sets[2] = {m->g, m->d};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sets[s]->n; i++)
            init_uniform_bound(sets[s]->t[i], &r, sets[s]->t[i]->ndim == 2 ? 1.0 : 0.5);
    return m;
}

/* Also demands a non-zero gradient in every tensor: the checker replays the
 * tape, so a path cut by a copy (a wrong "detach") gives 0 analytically AND
 * numerically and would pass the comparison alone. */
static void expect_gradcheck(Tape *T, Tensor *loss, ParamSet *ps, const char *label) {
    GradCheck c = gradcheck(T, loss, ps->t, ps->n, GC_H, 0);
    for (int i = 0; i < ps->n; i++) {
        double big = 0;
        for (long j = 0; j < ps->t[i]->size; j++) big = fmax(big, fabs((double)ps->t[i]->grad[j]));
        cr_assert(big > 1e-6, "%s: the gradient of %s is zero everywhere (is the path cut?)", label, ps->t[i]->name);
    }
    cr_assert(c.checked == ps->size, "%s: checked %ld of %ld entries", label, c.checked, ps->size);
    expect_params_gradcheck(&c, ps, label);
}

/* got [n] against the fixture's tensor, within REF_TOL (see above). */
static void expect_ref(const char *what, const real *got, long n, const FixTensor *want) {
    expect_fixture_close(what, got, n, want, REF_TOL);
}

/* ---- gradient checks ------------------------------------------------------------ */

/* L_D on a real batch x and a detached fake batch: gradient w.r.t. D. */
static void check_loss_d(int pack) {
    enum { Z = 3, H = 6, N = 8 };
    RingGan *m = small_model(Z, H, pack, 5);
    Rng r;
    rng_seed(&r, 6);
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(N, 2), 0), *fake = rand_leaf(T, &r, 2, SHAPE(N, 2), -2, 2, 0);
    ring_sample(&r, x->data, N, NULL);
    Tensor *loss = ring_loss_d(T, ring_discriminator(T, m, x), ring_discriminator(T, m, fake));
    expect_gradcheck(T, loss, m->d, pack == 1 ? "L_D w.r.t. D" : "L_D w.r.t. packed D");
    tape_free(T);
    ring_free(m);
}

Test(gan_ring, loss_d_gradient_matches_central_differences_for_every_d_parameter) { check_loss_d(1); }

Test(gan_ring, loss_d_gradient_matches_central_differences_with_packed_d) { check_loss_d(2); }

/* L_G through D into G: gradient w.r.t. G (D held fixed, but on the tape). */
static void check_loss_g(int saturating, int pack) {
    enum { Z = 3, H = 6, N = 8 };
    RingGan *m = small_model(Z, H, pack, 7);
    Rng r;
    rng_seed(&r, 8);
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(N, Z), 0);
    rng_fill_normal(&r, z->data, z->size, 0, 1);
    Tensor *loss = ring_loss_g(T, ring_discriminator(T, m, ring_generator(T, m, z)), saturating);
    expect_gradcheck(T, loss, m->g, saturating ? "saturating L_G w.r.t. G" : "non-saturating L_G w.r.t. G");
    tape_free(T);
    ring_free(m);
}

Test(gan_ring, nonsaturating_loss_g_gradient_matches_central_differences_for_every_g_parameter) {
    check_loss_g(0, 1);
}

Test(gan_ring, saturating_loss_g_gradient_matches_central_differences_for_every_g_parameter) {
    check_loss_g(1, 1);
}

Test(gan_ring, loss_g_gradient_matches_central_differences_through_packed_d) { check_loss_g(0, 2); }

/* ---- reference check ----------------------------------------------------------------- */

Test(gan_ring, outputs_losses_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/gan_ring.txt");
    enum { Z = 4, H = 8, N = 6 }; /* the fixture's sizes */
    RingGan *m = ring_new(Z, H, 1);
    params_from_fixture(m->g, f, copy_fixture_same_shape);
    params_from_fixture(m->d, f, copy_fixture_same_shape);
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(N, Z), 0), *x = tape_input(T, 2, SHAPE(N, 2), 0);
    copy_fixture_same_shape(z, fixture_get(f, "z"));
    copy_fixture_same_shape(x, fixture_get(f, "x"));
    /* the D step: G(z) detached = copied onto the tape without a gradient */
    Tensor *fake = ring_generator(T, m, z);
    Tensor *fake_det = tape_input(T, 2, SHAPE(N, 2), 0);
    memcpy(fake_det->data, fake->data, sizeof(real) * N * 2);
    Tensor *d_real = ring_discriminator(T, m, x);
    Tensor *loss_d = ring_loss_d(T, d_real, ring_discriminator(T, m, fake_det));
    /* the G step: through D */
    Tensor *d_fake = ring_discriminator(T, m, fake);
    Tensor *loss_g = ring_loss_g(T, d_fake, 0), *loss_g_sat = ring_loss_g(T, d_fake, 1);
    expect_ref("fake", fake->data, fake->size, fixture_get(f, "fake"));
    expect_ref("d_real", d_real->data, d_real->size, fixture_get(f, "d_real"));
    expect_ref("d_fake", d_fake->data, d_fake->size, fixture_get(f, "d_fake"));
    expect_ref("loss_d", loss_d->data, 1, fixture_get(f, "loss_d"));
    expect_ref("loss_g", loss_g->data, 1, fixture_get(f, "loss_g"));
    expect_ref("loss_g_sat", loss_g_sat->data, 1, fixture_get(f, "loss_g_sat"));
    params_zero_grad(m->g);
    expect_backward_matches_fixture(T, loss_d, m->d, f, "grad.", REF_TOL);
    for (int i = 0; i < m->g->size; i++) /* detached: L_D reaches no G parameter */
        cr_assert(m->g->grad[i] == 0, "L_D leaked into G: grad %.3g at %d", (double)m->g->grad[i], i);
    expect_backward_matches_fixture(T, loss_g, m->g, f, "gradg.", REF_TOL);
    expect_backward_matches_fixture(T, loss_g_sat, m->g, f, "gradgsat.", REF_TOL);
    tape_free(T);
    ring_free(m);
    fixture_free(f);
}

/* ---- the metrics ---------------------------------------------------------------------- */

/* n points at distance dist from centre k (k = -1: spread over all
 * centres in turn), at varied angles around it. */
static void around(real *x, int n, int k, double dist) {
    for (int i = 0; i < n; i++) {
        double cx, cy, a = 2.399963 * i; /* golden angle: directions all around */
        ring_centre(k < 0 ? i % RING_MODES : k, &cx, &cy);
        x[2 * i] = (real)(cx + dist * cos(a));
        x[2 * i + 1] = (real)(cy + dist * sin(a));
    }
}

Test(gan_ring, metrics_count_one_mode_when_every_sample_sits_on_one_centre) {
    static real x[RING_EVAL_N * 2];
    around(x, RING_EVAL_N, 3, 0.01);
    RingMetrics m = ring_metrics(x, RING_EVAL_N);
    cr_assert(m.modes == 1, "modes %d, want 1", m.modes);
    cr_assert(m.hq == 100, "high quality %.2f %%, want 100", m.hq);
    cr_assert(m.count[3] == RING_EVAL_N, "centre 3 has %d samples, want %d", m.count[3], RING_EVAL_N);
}

Test(gan_ring, metrics_need_exactly_25_high_quality_samples_per_mode) {
    real x[RING_MODES * 25 * 2];
    around(x, RING_MODES * 25, -1, 0.03);
    RingMetrics m = ring_metrics(x, RING_MODES * 25);
    cr_assert(m.modes == 8, "25 per centre: modes %d, want 8", m.modes);
    m = ring_metrics(x, RING_MODES * 24); /* 24 per centre: 1 short everywhere */
    cr_assert(m.modes == 0, "24 per centre: modes %d, want 0", m.modes);
}

Test(gan_ring, metrics_put_the_high_quality_edge_at_three_sigma) {
    real x[400 * 2];
    around(x, 400, -1, 0.061);
    RingMetrics m = ring_metrics(x, 400);
    cr_assert(m.hq == 0 && m.modes == 0, "0.061 away: high quality %.2f %%, modes %d; want 0, 0", m.hq, m.modes);
    around(x, 400, -1, 0.059);
    m = ring_metrics(x, 400);
    cr_assert(m.hq == 100 && m.modes == 8, "0.059 away: high quality %.2f %%, modes %d; want 100, 8", m.hq,
              m.modes);
    x[0] = x[1] = 0; /* the origin is 2 from every centre */
    m = ring_metrics(x, 1);
    cr_assert(m.hq == 0, "the origin counted as high quality");
}

Test(gan_ring, real_ring_data_scores_what_a_gaussian_puts_within_three_sigma) {
    /* P(|e| <= 3 sigma) for a 2-D Gaussian is 1 - e^{-9/2} = 98.89 %. With
     * 2,500 samples its standard error is 0.21 %; allow 1 % (almost 5 s.e.). */
    static real x[RING_EVAL_N * 2];
    Rng r;
    rng_seed(&r, 42);
    ring_sample(&r, x, RING_EVAL_N, NULL);
    RingMetrics m = ring_metrics(x, RING_EVAL_N);
    double want = 100 * (1 - exp(-4.5));
    cr_assert(m.modes == 8, "real data covers %d modes, want 8", m.modes);
    cr_assert(fabs(m.hq - want) <= 1.0, "real data: %.2f %% high quality, want %.2f +- 1", m.hq, want);
}

/* ---- training ----------------------------------------------------------------------------- */

static RingConfig tiny_config(void) {
    RingConfig c = ring_config_default();
    c.hidden = 16, c.batch = 32;
    return c;
}

Test(gan_ring, one_seed_gives_the_same_training_losses_bit_for_bit) {
    enum { STEPS = 5 };
    RingStepStats a[STEPS], b[STEPS], c[STEPS];
    RingConfig cfg = tiny_config();
    RingTrainer *t1 = ring_trainer_new(&cfg, 3), *t2 = ring_trainer_new(&cfg, 3), *t3 = ring_trainer_new(&cfg, 4);
    for (int s = 0; s < STEPS; s++) a[s] = ring_trainer_step(t1);
    for (int s = 0; s < STEPS; s++) b[s] = ring_trainer_step(t2);
    for (int s = 0; s < STEPS; s++) c[s] = ring_trainer_step(t3);
    for (int s = 0; s < STEPS; s++) {
        cr_assert(a[s].loss_d == b[s].loss_d && a[s].loss_g == b[s].loss_g && a[s].d_real == b[s].d_real &&
                      a[s].d_fake == b[s].d_fake,
                  "step %d: L_D %.17g vs %.17g, L_G %.17g vs %.17g", s + 1, a[s].loss_d, b[s].loss_d, a[s].loss_g,
                  b[s].loss_g);
    }
    const RingGan *m1 = t1->model, *m2 = t2->model;
    cr_assert(memcmp(m1->g->data, m2->g->data, sizeof(real) * m1->g->size) == 0, "G's weights differ");
    cr_assert(memcmp(m1->d->data, m2->d->data, sizeof(real) * m1->d->size) == 0, "D's weights differ");
    cr_assert(a[STEPS - 1].loss_d != c[STEPS - 1].loss_d, "another seed gave the same losses: is the seed used?");
    ring_trainer_free(t1);
    ring_trainer_free(t2);
    ring_trainer_free(t3);
}

Test(gan_ring, eval_changes_neither_the_model_nor_the_training_that_follows) {
    enum { STEPS = 3 };
    RingConfig cfg = tiny_config();
    RingTrainer *t1 = ring_trainer_new(&cfg, 5), *t2 = ring_trainer_new(&cfg, 5);
    RingStepStats a[STEPS], b[STEPS];
    for (int s = 0; s < STEPS; s++) {
        RingEvalStats e1 = ring_trainer_eval(t1, NULL), e2 = ring_trainer_eval(t1, NULL);
        cr_assert(e1.hq == e2.hq && e1.modes == e2.modes, "two evaluations in a row differ: %.17g vs %.17g %%",
                  e1.hq, e2.hq);
        a[s] = ring_trainer_step(t1);
        b[s] = ring_trainer_step(t2);
        cr_assert(a[s].loss_d == b[s].loss_d && a[s].loss_g == b[s].loss_g,
                  "step %d after an evaluation: L_D %.17g vs %.17g without", s + 1, a[s].loss_d, b[s].loss_d);
    }
    ring_trainer_free(t1);
    ring_trainer_free(t2);
}

Test(gan_ring, the_annealed_learning_rate_falls_linearly_to_lr_over_the_decay_steps_at_the_last_step) {
    RingConfig cfg = tiny_config();
    cfg.steps = 10, cfg.anneal = 0.6; /* constant for steps 0..5, then 4/4, 3/4, 2/4, 1/4 of lr */
    RingTrainer *t = ring_trainer_new(&cfg, 1);
    const double want[10] = {1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25};
    double worst = 0;
    for (int s = 0; s < 10; s++) {
        ring_trainer_step(t);
        worst = fmax(worst, fabs(optim_lr(t->opt_g) - want[s] * cfg.lr) + fabs(optim_lr(t->opt_d) - want[s] * cfg.lr));
    }
    cr_assert(worst < 1e-15, "learning rate off the schedule by up to %.3g", worst);
    ring_trainer_free(t);
}

/* ---- bad input -------------------------------------------------------------------------------- */

Test(gan_ring, a_batch_that_does_not_split_into_packs_is_a_clear_error) {
    RingConfig c = ring_config_default();
    c.batch = 255, c.pack = 2;
    EXPECT_FAIL(ring_trainer_new(&c, 0), EXIT_SOFTWARE, "multiple of the packing");
}
