/* test_gan_images_full.c - chapter 3's image GAN at DESIGN.md's real sizes
 * against PyTorch (tests/reference/gan_images_full.txt).
 *
 * Proves: the model chapter 3 trains (Z 100, c1 128, c2 64, d1 32, d2 64;
 * built with dcgan.h exactly as the chapter builds it) is the intended
 * function at those sizes, not only at the few channels of
 * tests/test_gan_images.c: G(z), D(x), D(G(z)), L_D, L_G, and L_D's gradient
 * w.r.t. every D parameter and L_G's w.r.t. every G parameter agree with
 * PyTorch. Sizes-dependent mistakes (an index that wraps at 64 channels, a
 * flatten that assumes few channels, a buffer sized for the small model)
 * can only show here.
 *
 * The weights, z and x (about 1 M numbers) are not in the fixture: both
 * sides compute them from the closed formula of tests/reference/README.md,
 * section 5, whose constants the fixture holds. The fixture holds the logits
 * and losses whole, and for `fake` and each gradient: samples at stated
 * indices, the sum, the L2 norm and the sum of absolute values.
 *
 * Tolerances:
 *   - weights and inputs (the formula): 1e-14 relative. Both sides do the
 *     same integer arithmetic and the same IEEE double operations, then
 *     libm's sin (correctly rounded in practice); a wrong constant or index
 *     is off by O(1).
 *   - everything computed: 1e-8 relative (samples: to the largest sampled
 *     magnitude; a sum: to the sum of absolute values, the scale of its
 *     rounding). The fixture is float64 and this is the double build, so the
 *     two differ only in summation order: ~1e-16 per operation, a dozen
 *     layers deep and sums of up to 6,272 terms, so ~1e-13 at worst. A wrong
 *     slope, padding, stride, kernel orientation or reduction is off by
 *     1e-3 or more (the LeakyReLU slope 0.2 -> 0.25: see README.md).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dcgan.h"

#include "fixture.h"
#include "fixture_params.h"

#define FORMULA_TOL 1e-14
#define REF_TOL 1e-8
#define BATCH 2

/* ---- the formula (README.md section 5) -------------------------------------------
 * Tensor number p (0..11 in state_dict order, 12 = z, 13 = x), flat index i:
 *   k = (A i^2 + B i + C p + E) mod M;  value = scale[p] * sin(2 pi k / M). */
typedef struct {
    int64_t a, b, c, e, m;
    const double *scale; /* [14] */
} Formula;

static Formula formula_from(const Fixture *f) {
    const FixTensor *k = fixture_get(f, "formula"), *s = fixture_get(f, "formula.scale");
    cr_assert(k->size == 5 && s->size == 14, "formula: %ld constants and %ld scales, want 5 and 14", k->size,
              s->size);
    return (Formula){(int64_t)k->data[0], (int64_t)k->data[1], (int64_t)k->data[2], (int64_t)k->data[3],
                     (int64_t)k->data[4], s->data};
}

static void formula_fill(const Formula *F, int p, real *v, long n) {
    const double two_pi = 2 * M_PI;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (F->a * i * i + F->b * i + F->c * p + F->e) % F->m;
        v[i] = (real)(F->scale[p] * sin(two_pi * (double)k / (double)F->m)); /* order as in the script */
    }
}

/* ---- comparisons ---------------------------------------------------------------- */

static void expect_close(const char *what, double got, double want, double scale, double tol) {
    double d = fabs(got - want) / fmax(scale, 1e-300);
    cr_assert(d <= tol, "%s: relative difference %.3e > %.0e (C %.17g, PyTorch %.17g)", what, d, tol, got, want);
}

/* v [n] against sample.<name> at idx.<name>, relative to the largest sampled
 * magnitude; then, if the fixture has stats.<name>: sum (relative to the sum
 * of |v|), L2 norm, sum of |v|. */
static void expect_samples(const Fixture *f, const char *name, const real *v, long n, double tol) {
    char key[160];
    snprintf(key, sizeof key, "idx.%s", name);
    const FixTensor *idx = fixture_get(f, key);
    snprintf(key, sizeof key, "sample.%s", name);
    const FixTensor *want = fixture_get(f, key);
    cr_assert_eq(idx->size, want->size, "%s: %ld indices, %ld samples", name, idx->size, want->size);
    double scale = 1e-300, worst = 0;
    long at = 0;
    for (long j = 0; j < want->size; j++) scale = fmax(scale, fabs(want->data[j]));
    for (long j = 0; j < want->size; j++) {
        long i = (long)idx->data[j];
        cr_assert(i >= 0 && i < n, "%s: sample index %ld outside [0, %ld): the tensor has another size", name, i, n);
        double d = fabs((double)v[i] - want->data[j]);
        if (d > worst) worst = d, at = j;
    }
    long i = (long)idx->data[at];
    cr_assert(worst / scale <= tol, "%s: relative difference %.3e > %.0e at [%ld] (C %.17g, PyTorch %.17g)", name,
              worst / scale, tol, i, (double)v[i], want->data[at]);

    snprintf(key, sizeof key, "stats.%s", name);
    int has_stats = 0;
    for (int t = 0; t < f->n; t++) has_stats |= strcmp(f->t[t].name, key) == 0;
    if (!has_stats) return;
    const FixTensor *st = fixture_get(f, key); /* [sum, L2 norm, sum |v|] */
    double sum = 0, sq = 0, l1 = 0;
    for (long k = 0; k < n; k++) sum += (double)v[k], sq += (double)v[k] * (double)v[k], l1 += fabs((double)v[k]);
    char label[200];
    snprintf(label, sizeof label, "%s: sum", name);
    expect_close(label, sum, st->data[0], st->data[2], tol);
    snprintf(label, sizeof label, "%s: L2 norm", name);
    expect_close(label, sqrt(sq), st->data[1], st->data[1], tol);
    snprintf(label, sizeof label, "%s: sum of |.|", name);
    expect_close(label, l1, st->data[2], st->data[2], tol);
}

/* Fill every parameter by the formula, p counting on from p0; then check the
 * fixture's samples of each (the formulas agree). Returns the next p. */
static int fill_params(ParamSet *ps, const Formula *F, const Fixture *f, int p0) {
    for (int j = 0; j < ps->n; j++) {
        formula_fill(F, p0 + j, ps->t[j]->data, ps->t[j]->size);
        expect_samples(f, ps->t[j]->name, ps->t[j]->data, ps->t[j]->size, FORMULA_TOL);
    }
    return p0 + ps->n;
}

/* Every gradient of ps against the fixture's samples and stats of
 * "<prefix><name>", within REF_TOL. */
static void expect_grad_samples(const Fixture *f, const ParamSet *ps, const char *prefix) {
    char name[160];
    for (int i = 0; i < ps->n; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, ps->t[i]->name);
        expect_samples(f, name, ps->t[i]->grad, ps->t[i]->size, REF_TOL);
    }
}

/* ---- the check ------------------------------------------------------------------ */

Test(gan_images_full, real_size_model_matches_pytorch_outputs_losses_and_gradients) {
    Fixture *f = fixture_load(FIXTURE_DIR "/gan_images_full.txt");
    Formula F = formula_from(f);
    DcganConfig cfg = dcgan_config_default();
    cr_assert(cfg.zdim == 100 && cfg.c1 == 128 && cfg.c2 == 64 && cfg.d1 == 32 && cfg.d2 == 64 && cfg.batch == 64 &&
                  cfg.lr == 2e-4 && cfg.beta1 == 0.5 && cfg.beta2 == 0.999 && cfg.eps == 1e-8,
              "dcgan_config_default() is not DESIGN.md's Z 100, c1 128, c2 64, d1 32, d2 64, batch 64, "
              "Adam 2e-4 (0.5, 0.999) 1e-8");
    DcganG *g = dcgan_g_new(cfg);
    DcganD *d = dcgan_d_new(cfg);
    cr_assert_eq(g->ps->n + d->ps->n, 12, "the model has %d parameter tensors, PyTorch 12", g->ps->n + d->ps->n);
    int p = fill_params(g->ps, &F, f, 0); /* state_dict order: G's, then D's */
    p = fill_params(d->ps, &F, f, p);

    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(BATCH, cfg.zdim), 0);        /* [N, Z] */
    Tensor *x = tape_input(T, 4, SHAPE(BATCH, 1, 28, 28), 0);       /* [N, 1, 28, 28] */
    formula_fill(&F, p, z->data, z->size);
    formula_fill(&F, p + 1, x->data, x->size);
    expect_samples(f, "z", z->data, z->size, FORMULA_TOL);
    expect_samples(f, "x", x->data, x->size, FORMULA_TOL);

    /* D's loss on a detached copy of G(z), as dcgan_step does */
    Tensor *fake = dcgan_generate(T, g, z); /* [N, 1, 28, 28] */
    expect_samples(f, "fake", fake->data, fake->size, REF_TOL);
    Tensor *xf = tape_input(T, 4, fake->shape, 0);
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *l_real = dcgan_discriminate(T, d, x), *l_fake = dcgan_discriminate(T, d, xf); /* [N, 1] */
    expect_fixture_close("d_real", l_real->data, l_real->size, fixture_get(f, "d_real"), REF_TOL);
    expect_fixture_close("d_fake", l_fake->data, l_fake->size, fixture_get(f, "d_fake"), REF_TOL);
    Tensor *loss_d = dcgan_loss_d(T, l_real, l_fake);
    expect_fixture_close("loss_d", loss_d->data, 1, fixture_get(f, "loss_d"), REF_TOL);
    params_zero_grad(d->ps);
    backward(T, loss_d);
    expect_grad_samples(f, d->ps, "grad.");

    /* G's non-saturating loss, through D */
    Tensor *loss_g = dcgan_loss_g(T, dcgan_discriminate(T, d, fake));
    expect_fixture_close("loss_g", loss_g->data, 1, fixture_get(f, "loss_g"), REF_TOL);
    params_zero_grad(g->ps);
    backward(T, loss_g);
    expect_grad_samples(f, g->ps, "gradg.");
    tape_free(T);
    dcgan_g_free(g);
    dcgan_d_free(d);
    fixture_free(f);
}
