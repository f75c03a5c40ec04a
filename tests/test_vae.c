/* test_vae.c - the VAE of chapter 4 (chapters/04-vae-elbo/vae.c).
 *
 * Proves:
 *   - backward is right: the gradient of the -ELBO (eps held fixed) w.r.t.
 *     every parameter tensor matches central differences (double, h = 1e-5,
 *     relative error bound 1e-6, see check_util.h);
 *   - forward is the intended model: mu, logvar, z, logits, the
 *     reconstruction and KL terms, the loss and every gradient match the
 *     PyTorch fixture tests/reference/vae.txt;
 *   - the closed-form KL is right on known values: 0 for mu = 0, sigma = 1,
 *     and a case computed by hand;
 *   - the plain (tape-free) forward used for evaluation computes the same
 *     numbers as the tape;
 *   - log_mean_exp is exact on known values and does not overflow.
 * Tolerance of the reference check: 1e-8, relative to the largest entry of
 * each tensor. The fixture is float64 and this is the double build, so only
 * summation orders differ (~1e-15 relative per op, a few ops deep); a
 * missing bias, a swapped head or a mean where a sum belongs is off by far
 * more than 1e-3.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "../chapters/04-vae-elbo/vae.h"
#include "check_util.h"
#include "fixture.h"
#include "fixture_params.h"

#define REF_TOL 1e-8

/* ---- helpers ------------------------------------------------------------ */

/* A tensor against the fixture's, within REF_TOL (see above). */
static void expect_ref(const char *what, const Tensor *t, const FixTensor *want) {
    expect_fixture_close(what, t->data, t->size, want, REF_TOL);
}

/* ---- gradient check ------------------------------------------------------ */

Test(vae, neg_elbo_gradient_matches_central_differences_for_every_parameter) {
    /* D 16, H 9, Z 3, N 5; weights N(0, 0.5), biases N(0, 0.3), so every
     * path carries an O(1e-2) gradient; x uniform in [0, 1], eps fixed. */
    enum { D = 16, H = 9, Z = 3, N = 5 };
    Vae m = vae_new(D, H, Z);
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < m.ps->n; i++)
        rng_fill_normal(&r, m.ps->t[i]->data, m.ps->t[i]->size, 0, m.ps->t[i]->ndim == 2 ? 0.5 : 0.3);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, D), 0, 1, 0);
    Tensor *eps = tape_input(T, 2, SHAPE(N, Z), 0);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, &m, x, eps);
    GradCheck c = gradcheck(T, o.loss, m.ps->t, m.ps->n, GC_H, 40);
    cr_assert(c.checked >= 150, "only %ld entries checked (all of each small tensor, 40 of a big one)", c.checked);
    expect_params_gradcheck(&c, m.ps, "-ELBO w.r.t. every parameter");
    tape_free(T);
    vae_free(&m);
}

/* ---- reference check -------------------------------------------------------- */

Test(vae, outputs_terms_loss_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/vae.txt");
    Vae m = vae_new(12, 7, 3); /* the fixture's D, H, Z; batch N 4 */
    params_from_fixture(m.ps, f, copy_fixture);
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(4, 12), 0), *eps = tape_input(T, 2, SHAPE(4, 3), 0);
    copy_fixture(x, fixture_get(f, "x"));
    copy_fixture(eps, fixture_get(f, "eps"));
    VaeOut o = vae_forward(T, &m, x, eps);
    expect_ref("mu", o.mu, fixture_get(f, "mu"));
    expect_ref("logvar", o.logvar, fixture_get(f, "logvar"));
    expect_ref("z", o.z, fixture_get(f, "z"));
    expect_ref("logits", o.logits, fixture_get(f, "logits"));
    expect_ref("recon", o.recon, fixture_get(f, "recon"));
    expect_ref("kl", o.kl, fixture_get(f, "kl"));
    expect_ref("loss", o.loss, fixture_get(f, "loss"));
    params_zero_grad(m.ps);
    backward(T, o.loss);
    expect_grads_match_fixture(f, m.ps, "grad.", REF_TOL);
    tape_free(T);
    vae_free(&m);
    fixture_free(f);
}

/* ---- the closed-form KL ------------------------------------------------------- */

Test(vae, kl_of_the_standard_normal_against_itself_is_zero) {
    Tape *T = tape_new();
    Tensor *mu = tape_input(T, 2, SHAPE(3, 4), 0), *lv = tape_input(T, 2, SHAPE(3, 4), 0); /* mu 0, sigma 1 */
    Tensor *kl = t_gaussian_kl(T, mu, lv);
    double rows[3];
    vae_kl_rows(mu->data, lv->data, 3, 4, rows);
    cr_assert(kl->data[0] == 0, "KL(N(0,1) || N(0,1)) = %.17g, not 0", (double)kl->data[0]);
    for (int i = 0; i < 3; i++) cr_assert(rows[i] == 0, "row %d: KL = %.17g, not 0", i, rows[i]);
    tape_free(T);
}

Test(vae, kl_matches_a_hand_computed_case) {
    /* One image, Z = 2: mu = (1, -2), sigma^2 = (e, 1/4).
     * KL = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)
     *    = 1/2 (1 + e - 1 - 1) + 1/2 (4 + 1/4 - 1 + log 4)
     *    = (e - 1)/2 + 13/8 + log 2 = 3.1772...; exact to round-off, so 1e-14. */
    double want = (exp(1.0) - 1) / 2 + 13.0 / 8 + log(2.0);
    Tape *T = tape_new();
    Tensor *mu = tape_input(T, 2, SHAPE(1, 2), 0), *lv = tape_input(T, 2, SHAPE(1, 2), 0);
    mu->data[0] = 1, mu->data[1] = -2;
    lv->data[0] = 1, lv->data[1] = (real)log(0.25);
    Tensor *kl = t_gaussian_kl(T, mu, lv);
    double row;
    vae_kl_rows(mu->data, lv->data, 1, 2, &row);
    cr_assert(fabs(kl->data[0] - want) <= 1e-14 * want, "t_gaussian_kl %.17g, by hand %.17g", (double)kl->data[0],
              want);
    cr_assert(fabs(row - want) <= 1e-14 * want, "vae_kl_rows %.17g, by hand %.17g", row, want);
    tape_free(T);
}

/* ---- the plain forward --------------------------------------------------------- */

Test(vae, plain_forward_computes_what_the_tape_computes) {
    /* same arithmetic, different code: agreement to 1e-12 relative in double
     * (a missing bias or ReLU would be off by O(1)) */
    enum { D = 10, H = 6, Z = 2, N = 3 };
    Vae m = vae_new(D, H, Z);
    Rng r;
    rng_seed(&r, 3);
    vae_init(&m, &r);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, D), 0, 1, 0);
    Tensor *eps = tape_input(T, 2, SHAPE(N, Z), 0);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, &m, x, eps);
    VaeScratch s = vae_scratch_new(&m, N);
    real mu[N * Z], lv[N * Z], logits[N * D];
    double nll[N], kl[N], recon = 0, klm = 0;
    vae_encode(&m, &s, x->data, N, mu, lv);
    vae_decode(&m, &s, o.z->data, N, logits);
    vae_bernoulli_nll(x->data, logits, N, D, nll);
    vae_kl_rows(mu, lv, N, Z, kl);
    for (int i = 0; i < N; i++) recon += nll[i] / N, klm += kl[i] / N;
    double d;
    for (int i = 0; i < N * Z; i++) {
        cr_assert(fabs(mu[i] - o.mu->data[i]) <= 1e-12, "mu[%d]: plain %.17g, tape %.17g", i, (double)mu[i],
                  (double)o.mu->data[i]);
        cr_assert(fabs(lv[i] - o.logvar->data[i]) <= 1e-12, "logvar[%d]: plain %.17g, tape %.17g", i,
                  (double)lv[i], (double)o.logvar->data[i]);
    }
    for (int i = 0; i < N * D; i++)
        cr_assert(fabs(logits[i] - o.logits->data[i]) <= 1e-12, "logits[%d]: plain %.17g, tape %.17g", i,
                  (double)logits[i], (double)o.logits->data[i]);
    d = fabs(recon - o.recon->data[0]) / fabs((double)o.recon->data[0]);
    cr_assert(d <= 1e-12, "recon: plain %.17g, tape %.17g", recon, (double)o.recon->data[0]);
    d = fabs(klm - o.kl->data[0]) / fabs((double)o.kl->data[0]);
    cr_assert(d <= 1e-12, "kl: plain %.17g, tape %.17g", klm, (double)o.kl->data[0]);
    vae_scratch_free(&s);
    tape_free(T);
    vae_free(&m);
}

Test(vae, log_mean_exp_is_exact_and_does_not_overflow) {
    double a[3] = {0, log(2.0), log(3.0)}; /* log mean (1, 2, 3) = log 2 */
    double got = log_mean_exp(a, 3);
    cr_assert(fabs(got - log(2.0)) <= 1e-15, "log_mean_exp(log 1, log 2, log 3) = %.17g, want log 2", got);
    double big[2] = {-1000, -1000 + log(3.0)}; /* exp underflows to 0 naively */
    got = log_mean_exp(big, 2);
    cr_assert(fabs(got - (-1000 + log(2.0))) <= 1e-12, "log_mean_exp near -1000 = %.17g, want %.17g", got,
              -1000 + log(2.0));
}

Test(vae, a_model_with_a_zero_size_is_a_clear_error, .exit_code = 70) {
    vae_new(784, 400, 0);
}
