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
 *   - log_mean_exp is exact on known values and does not overflow;
 *   - the trainer (the one chapter 4 and bench_vae run) is reproducible for
 *     a seed, visits every training image once per epoch, and its
 *     evaluation changes no parameter;
 *   - a small but valid Fashion-MNIST set (1 or 600 images, gzip IDX files in
 *     a temporary directory) is a clear data error naming both counts, never
 *     a read past the end (issue 14).
 * Tolerance of the reference check: 1e-8, relative to the largest entry of
 * each tensor. The fixture is float64 and this is the double build, so only
 * summation orders differ (~1e-15 relative per op, a few ops deep); a
 * missing bias, a swapped head or a mean where a sum belongs is off by far
 * more than 1e-3.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vae.h"

#include "catch_fail.h"
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
    Vae *m = vae_new(D, H, Z);
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < m->ps->n; i++)
        rng_fill_normal(&r, m->ps->t[i]->data, m->ps->t[i]->size, 0,
                        m->ps->t[i]->ndim == 2 ? 0.5 : 0.3);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, D), 0, 1, 0);
    Tensor *eps = tape_input(T, 2, SHAPE(N, Z), 0);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, m, x, eps);
    GradCheck c = gradcheck(T, o.loss, m->ps->t, m->ps->n, GC_H, 40);
    cr_assert(c.checked >= 150,
              "only %ld entries checked (all of each small tensor, 40 of a big one)",
              c.checked);
    expect_params_gradcheck(&c, m->ps, "-ELBO w.r.t. every parameter");
    tape_free(T);
    vae_free(m);
}

/* ---- reference check -------------------------------------------------------- */

Test(vae, outputs_terms_loss_and_every_gradient_match_pytorch) {
    Fixture *f = fixture_load(FIXTURE_DIR "/vae.txt");
    Vae *m = vae_new(12, 7, 3); /* the fixture's D, H, Z; batch N 4 */
    params_from_fixture(m->ps, f, copy_fixture);
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(4, 12), 0),
           *eps = tape_input(T, 2, SHAPE(4, 3), 0);
    copy_fixture(x, fixture_get(f, "x"));
    copy_fixture(eps, fixture_get(f, "eps"));
    VaeOut o = vae_forward(T, m, x, eps);
    expect_ref("mu", o.mu, fixture_get(f, "mu"));
    expect_ref("logvar", o.logvar, fixture_get(f, "logvar"));
    expect_ref("z", o.z, fixture_get(f, "z"));
    expect_ref("logits", o.logits, fixture_get(f, "logits"));
    expect_ref("recon", o.recon, fixture_get(f, "recon"));
    expect_ref("kl", o.kl, fixture_get(f, "kl"));
    expect_ref("loss", o.loss, fixture_get(f, "loss"));
    expect_backward_matches_fixture(T, o.loss, m->ps, f, "grad.", REF_TOL);
    tape_free(T);
    vae_free(m);
    fixture_free(f);
}

/* ---- the closed-form KL ------------------------------------------------------- */

Test(vae, kl_of_the_standard_normal_against_itself_is_zero) {
    Tape *T = tape_new();
    Tensor *mu = tape_input(T, 2, SHAPE(3, 4), 0),
           *lv = tape_input(T, 2, SHAPE(3, 4), 0); /* mu 0, sigma 1 */
    Tensor *kl = t_gaussian_kl(T, mu, lv);
    double rows[3];
    vae_kl_rows(mu->data, lv->data, 3, 4, rows);
    cr_assert(kl->data[0] == 0, "KL(N(0,1) || N(0,1)) = %.17g, not 0",
              (double)kl->data[0]);
    for (int i = 0; i < 3; i++)
        cr_assert(rows[i] == 0, "row %d: KL = %.17g, not 0", i, rows[i]);
    tape_free(T);
}

Test(vae, kl_matches_a_hand_computed_case) {
    /* One image, Z = 2: mu = (1, -2), sigma^2 = (e, 1/4).
     * KL = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)
     *    = 1/2 (1 + e - 1 - 1) + 1/2 (4 + 1/4 - 1 + log 4)
     *    = (e - 1)/2 + 13/8 + log 2 = 3.1772...; exact to round-off, so 1e-14. */
    double want = (exp(1.0) - 1) / 2 + 13.0 / 8 + log(2.0);
    Tape *T = tape_new();
    Tensor *mu = tape_input(T, 2, SHAPE(1, 2), 0),
           *lv = tape_input(T, 2, SHAPE(1, 2), 0);
    mu->data[0] = 1, mu->data[1] = -2;
    lv->data[0] = 1, lv->data[1] = (real)log(0.25);
    Tensor *kl = t_gaussian_kl(T, mu, lv);
    double row;
    vae_kl_rows(mu->data, lv->data, 1, 2, &row);
    cr_assert(fabs(kl->data[0] - want) <= 1e-14 * want,
              "t_gaussian_kl %.17g, by hand %.17g", (double)kl->data[0], want);
    cr_assert(fabs(row - want) <= 1e-14 * want, "vae_kl_rows %.17g, by hand %.17g", row,
              want);
    tape_free(T);
}

/* ---- the plain forward --------------------------------------------------------- */

Test(vae, plain_forward_computes_what_the_tape_computes) {
    /* same arithmetic, different code: agreement to 1e-12 relative in double
     * (a missing bias or ReLU would be off by O(1)) */
    enum { D = 10, H = 6, Z = 2, N = 3 };
    Vae *m = vae_new(D, H, Z);
    Rng r;
    rng_seed(&r, 3);
    vae_init(m, &r);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 2, SHAPE(N, D), 0, 1, 0);
    Tensor *eps = tape_input(T, 2, SHAPE(N, Z), 0);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, m, x, eps);
    VaeScratch s = vae_scratch_new(m, N);
    real mu[N * Z], lv[N * Z], logits[N * D];
    double nll[N], kl[N], recon = 0, klm = 0;
    vae_encode(m, &s, x->data, N, mu, lv);
    vae_decode(m, &s, o.z->data, N, logits);
    vae_bernoulli_nll(x->data, logits, N, D, nll);
    vae_kl_rows(mu, lv, N, Z, kl);
    for (int i = 0; i < N; i++) recon += nll[i] / N, klm += kl[i] / N;
    double d;
    for (int i = 0; i < N * Z; i++) {
        cr_assert(fabs(mu[i] - o.mu->data[i]) <= 1e-12,
                  "mu[%d]: plain %.17g, tape %.17g", i, (double)mu[i],
                  (double)o.mu->data[i]);
        cr_assert(fabs(lv[i] - o.logvar->data[i]) <= 1e-12,
                  "logvar[%d]: plain %.17g, tape %.17g", i, (double)lv[i],
                  (double)o.logvar->data[i]);
    }
    for (int i = 0; i < N * D; i++)
        cr_assert(fabs(logits[i] - o.logits->data[i]) <= 1e-12,
                  "logits[%d]: plain %.17g, tape %.17g", i, (double)logits[i],
                  (double)o.logits->data[i]);
    d = fabs(recon - o.recon->data[0]) / fabs((double)o.recon->data[0]);
    cr_assert(d <= 1e-12, "recon: plain %.17g, tape %.17g", recon,
              (double)o.recon->data[0]);
    d = fabs(klm - o.kl->data[0]) / fabs((double)o.kl->data[0]);
    cr_assert(d <= 1e-12, "kl: plain %.17g, tape %.17g", klm, (double)o.kl->data[0]);
    vae_scratch_free(&s);
    tape_free(T);
    vae_free(m);
}

Test(vae, log_mean_exp_is_exact_and_does_not_overflow) {
    double a[3] = {0, log(2.0), log(3.0)}; /* log mean (1, 2, 3) = log 2 */
    double got = log_mean_exp(a, 3);
    cr_assert(fabs(got - log(2.0)) <= 1e-15,
              "log_mean_exp(log 1, log 2, log 3) = %.17g, want log 2", got);
    double big[2] = {-1000, -1000 + log(3.0)}; /* exp underflows to 0 naively */
    got = log_mean_exp(big, 2);
    cr_assert(fabs(got - (-1000 + log(2.0))) <= 1e-12,
              "log_mean_exp near -1000 = %.17g, want %.17g", got, -1000 + log(2.0));
}

Test(vae, a_model_with_a_zero_size_is_a_clear_error, .exit_code = 70) {
    vae_new(784, 400, 0);
}

/* ---- the trainer ----------------------------------------------------------------- */

/* n images of side x side, pixel bytes from r, label i % 10 (the caller frees). */
static ImageSet *fake_set(int n, int side, Rng *r) {
    ImageSet *s = xcalloc(1, sizeof *s);
    s->n = n, s->rows = s->cols = side;
    s->pixels = xmalloc((size_t)n * side * side);
    s->labels = xmalloc((size_t)n);
    for (long i = 0; i < (long)n * side * side; i++)
        s->pixels[i] = (unsigned char)rng_int(r, 256);
    for (int i = 0; i < n; i++) s->labels[i] = (unsigned char)(i % 10);
    return s;
}

static VaeConfig tiny_config(void) {
    VaeConfig c = vae_config_default();
    c.name = "test-vae", c.D = 16, c.H = 8, c.Z = 2, c.batch = 4;
    return c;
}

Test(vae, trainer_is_reproducible_and_visits_every_image_once_per_epoch) {
    /* 10 images of 4 x 4 in batches of 4: an epoch is 4 + 4 + 2 images */
    Rng r;
    rng_seed(&r, 5);
    ImageSet *set = fake_set(10, 4, &r);
    VaeConfig cfg = tiny_config();
    VaeTrainer *a = vae_trainer_new(&cfg, 7), *b = vae_trainer_new(&cfg, 7),
               *c = vae_trainer_new(&cfg, 8);
    const int want[6] = {4, 4, 2, 4, 4, 2};
    for (int s = 0; s < 6; s++) {
        if (s % 3 == 0) { /* a new epoch: after the step, its order is a permutation */
            vae_trainer_step(b, set, 10), vae_trainer_step(c, set, 10);
            VaeStepStats st = vae_trainer_step(a, set, 10);
            int seen[10] = {0};
            for (int i = 0; i < 10; i++) seen[a->order[i]]++;
            for (int i = 0; i < 10; i++)
                cr_assert(seen[i] == 1, "epoch %d: image %d in the order %d times",
                          s / 3, i, seen[i]);
            cr_assert(st.images == want[s] && !st.epoch_done,
                      "step %d: %d images, done %d", s, st.images, st.epoch_done);
            continue;
        }
        VaeStepStats st = vae_trainer_step(a, set, 10);
        vae_trainer_step(b, set, 10), vae_trainer_step(c, set, 10);
        cr_assert(st.images == want[s], "step %d: %d images, want %d", s, st.images,
                  want[s]);
        cr_assert(st.epoch_done == (s % 3 == 2), "step %d: epoch_done %d", s,
                  st.epoch_done);
        cr_assert(fabs(st.loss - (st.recon + st.kl)) <= 1e-12 * st.loss,
                  "step %d: loss %.17g != recon + kl %.17g", s, st.loss,
                  st.recon + st.kl);
    }
    double same = 0,
           other = 0; /* largest difference of a parameter: seed 7 twice, seed 7 vs 8 */
    for (long i = 0; i < a->model->ps->size; i++) {
        same = fmax(same, fabs(a->model->ps->data[i] - b->model->ps->data[i]));
        other = fmax(other, fabs(a->model->ps->data[i] - c->model->ps->data[i]));
    }
    cr_assert(same == 0, "two trainers with seed 7 differ by %.3g after 6 steps", same);
    cr_assert(other > 1e-3, "seeds 7 and 8 give parameters within %.3g", other);
    vae_trainer_free(a), vae_trainer_free(b), vae_trainer_free(c);
    imageset_free(set);
}

Test(vae, a_step_with_beta_minimises_recon_plus_beta_times_kl) {
    /* trainer a takes one step of recon + 3 KL; b (beta 1, same seed, so the
     * same weights, shuffle and noise) is stepped by hand on that loss:
     * the two must agree bit for bit, and differ from a beta-1 step */
    Rng r;
    rng_seed(&r, 5);
    ImageSet *set = fake_set(8, 4, &r);
    VaeConfig cfg = tiny_config(), cfg3 = tiny_config();
    cfg3.beta = 3;
    VaeTrainer *a = vae_trainer_new(&cfg3, 7), *b = vae_trainer_new(&cfg, 7),
               *c = vae_trainer_new(&cfg, 7);
    VaeStepStats st = vae_trainer_step(a, set, 4);
    vae_trainer_step(c, set, 4);
    const Vae *m = b->model;
    Tape *T = b->tape;
    tape_reset(T);
    Tensor *x = tape_input(T, 2, SHAPE(4, m->D), 0);   /* [4, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(4, m->Z), 0); /* [4, Z] */
    vae_pixels(set, a->order, 4, x->data); /* a's batch: its shuffle of images 0..3 */
    rng_fill_normal(&b->noise, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, m, x, eps);
    Tensor *loss = t_add(T, o.recon, t_mul_scalar(T, o.kl, 3));
    params_zero_grad(m->ps);
    backward(T, loss);
    optim_step(b->opt);
    double hand = 0, beta1 = 0; /* largest difference: a vs by hand, a vs beta 1 */
    for (long i = 0; i < m->ps->size; i++) {
        hand = fmax(hand, fabs(a->model->ps->data[i] - m->ps->data[i]));
        beta1 = fmax(beta1, fabs(a->model->ps->data[i] - c->model->ps->data[i]));
    }
    cr_assert(hand == 0, "the beta-3 step differs from a step by hand by %.3g", hand);
    cr_assert(beta1 > 0, "the beta-3 step equals the beta-1 step");
    cr_assert(fabs(st.loss - (st.recon + 3 * st.kl)) <= 1e-6 * fabs(st.loss),
              "loss %.9g != recon + 3 kl %.9g", st.loss, st.recon + 3 * st.kl);
    vae_trainer_free(a), vae_trainer_free(b), vae_trainer_free(c);
    imageset_free(set);
}

Test(vae, evaluation_changes_no_parameter_and_draws_the_same_noise_each_time) {
    Rng r;
    rng_seed(&r, 6);
    ImageSet *set = fake_set(12, 4, &r);
    VaeConfig cfg = tiny_config();
    VaeTrainer *t = vae_trainer_new(&cfg, 3);
    vae_trainer_step(t, set, 12);
    long n = t->model->ps->size;
    real *before = xmalloc(sizeof(real) * n);
    memcpy(before, t->model->ps->data, sizeof(real) * n);
    VaeEvalStats e1 = vae_trainer_eval(t, set, 12), e2 = vae_trainer_eval(t, set, 12);
    cr_assert(memcmp(before, t->model->ps->data, sizeof(real) * n) == 0,
              "vae_trainer_eval changed a parameter");
    cr_assert(e1.neg_elbo == e2.neg_elbo && e1.kl == e2.kl,
              "two evaluations: %.17g and %.17g", e1.neg_elbo, e2.neg_elbo);
    cr_assert(fabs(e1.neg_elbo - (e1.recon + e1.kl)) <= 1e-12 * e1.neg_elbo,
              "-ELBO %.17g != recon + KL %.17g", e1.neg_elbo, e1.recon + e1.kl);
    xfree(before);
    vae_trainer_free(t);
    imageset_free(set);
}

/* ---- a small but valid data set (issue 14) --------------------------------------- */

static char tmp[256]; /* scratch directory of the data tests */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/test_vae_XXXXXX");
    cr_assert(mkdtemp(tmp), "cannot create a temporary directory");
}

static void remove_tmp(void) {
    if (tmp[0]) nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put_be32(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void gz_write(const char *split, const char *kind, const unsigned char *b,
                     size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%s-ubyte.gz", tmp, split, kind);
    gzFile f = gzopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    cr_assert(gzwrite(f, b, (unsigned)n) == (int)n, "cannot write %s", path);
    cr_assert(gzclose(f) == Z_OK, "cannot close %s", path);
}

/* A valid split of n 28 x 28 images in tmp, gzip IDX: pixels i % 256, label
 * i % 10, or every label `label` if label >= 0. */
static void write_split(const char *split, int n, int label) {
    size_t ni = 16 + (size_t)n * 784, nl = 8 + (size_t)n;
    unsigned char *b = xmalloc(ni > nl ? ni : nl);
    put_be32(b, 0x803), put_be32(b + 4, n), put_be32(b + 8, 28), put_be32(b + 12, 28);
    for (size_t i = 0; i < (size_t)n * 784; i++) b[16 + i] = (unsigned char)(i % 256);
    gz_write(split, "images-idx3", b, ni);
    put_be32(b, 0x801), put_be32(b + 4, n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)(label >= 0 ? label : i % 10);
    gz_write(split, "labels-idx1", b, nl);
    xfree(b);
}

TestSuite(vae_data, .init = make_tmp, .fini = remove_tmp);

Test(vae_data, six_hundred_images_are_a_clear_error_naming_both_counts) {
    write_split("train", 600, -1), write_split("t10k", 600, -1);
    EXPECT_FAIL(vae_data_load(tmp, 1), EXIT_DATA,
                "training with --quick needs 2048 training images", "hold 600",
                "--data DIR");
    EXPECT_FAIL(vae_data_load(tmp, 0), EXIT_DATA,
                "importance-weighted estimate (cell 6) needs 1000 test images",
                "hold 600", "--quick");
}

Test(vae_data, one_image_is_a_clear_error_naming_both_counts) {
    write_split("train", 1, -1), write_split("t10k", 1, -1);
    EXPECT_FAIL(vae_data_load(tmp, 1), EXIT_DATA, "needs 2048 training images",
                "the train files hold 1");
    EXPECT_FAIL(vae_data_load(tmp, 0), EXIT_DATA, "needs 1000 test images",
                "the t10k files hold 1");
}

Test(vae_data, a_test_set_without_every_class_is_a_clear_error) {
    write_split("train", 2048, -1),
        write_split("t10k", 500, 3); /* enough images, all of class 3 */
    EXPECT_FAIL(vae_data_load(tmp, 1), EXIT_DATA, "2 test images of each class",
                "class 0 (T-shirt/top) has 0");
}

Test(vae_data, a_set_just_large_enough_loads_with_the_counts_it_needs) {
    write_split("train", 2048, -1), write_split("t10k", 500, -1);
    VaeData d = vae_data_load(tmp, 1);
    cr_assert(d.n_train == 2048 && d.n_test == 500 && d.n_iw == 50,
              "counts %d, %d, %d; want 2048, 500, 50", d.n_train, d.n_test, d.n_iw);
    vae_data_free(&d);
}
