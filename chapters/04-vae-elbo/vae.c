/* chapters/04-vae-elbo/vae.c - the VAE: model, negative ELBO, plain forward passes,
 * its trainer, and the estimates and figures of chapter 4.
 *
 * Teaches: a whole VAE in a page. Two small MLPs, one sampling line (the
 * reparameterization z = mu + sigma * eps, built from ops so the gradient
 * flows through it), and a loss that is two library ops: BCE with logits
 * (the reconstruction term) and the closed-form Gaussian KL. Then the one
 * trainer that chapter 4, bench_vae and test_vae all run (one Adam step on
 * a batch drawn without replacement; an evaluation that changes nothing),
 * the importance-weighted estimate of log p(x), and the figure data.
 * Leaves out: convolutional encoders and decoders, other likelihoods
 * (Gaussian, discretized logistic), KL annealing, more than one sample of
 * z per image during training, checkpoints.
 *
 * Dimension key (as vae.h): N images, D pixels, H hidden width, Z latent width.
 */
#include "vae.h"

#include <math.h>
#include <string.h>

#include "gemm.h"
#include "image.h"
#include "notebook.h"
#include "util.h"

/*md
## The model file: `vae.c`

The encoder maps an image to the mean and log-variance of a diagonal
Gaussian $q(z|x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma^2(x))$: one hidden
ReLU layer, then two linear heads (`fc21` for $\mu$, `fc22` for
$\log\sigma^2$). Predicting $\log\sigma^2$ rather than $\sigma$ keeps
$\sigma = e^{\log\sigma^2/2}$ positive without a constraint. The decoder maps
$z$ to one logit per pixel: $p(x|z)$ is a product of Bernoullis with means
$\mathrm{sigmoid}(\text{logit})$. The names are PyTorch's, so the fixture of
`tests/reference/vae.py` loads by name and the test proves this is the
function PyTorch computes.
*/

/* ---- the model ------------------------------------------------------------ */
Vae *vae_new(int D, int H, int Z) {
    if (D < 1 || H < 1 || Z < 1)
        fail(EXIT_SOFTWARE, "vae_new", "pass positive sizes", "D %d, H %d, Z %d", D, H,
             Z);
    Vae *m = xcalloc(1, sizeof *m);
    *m = (Vae){.D = D, .H = H, .Z = Z, .ps = params_new()};
    m->fc1 = linear_new(m->ps, "fc1", D, H, 1);
    m->fc21 = linear_new(m->ps, "fc21", H, Z, 1);
    m->fc22 = linear_new(m->ps, "fc22", H, Z, 1);
    m->fc3 = linear_new(m->ps, "fc3", Z, H, 1);
    m->fc4 = linear_new(m->ps, "fc4", H, D, 1);
    params_alloc(m->ps);
    return m;
}

void vae_init(Vae *m, Rng *r) {
    Linear *layers[5] = {&m->fc1, &m->fc21, &m->fc22, &m->fc3, &m->fc4};
    for (int i = 0; i < 5; i++) linear_init_pytorch(layers[i], r);
}

void vae_free(Vae *m) {
    if (!m) return;
    params_free(m->ps);
    xfree(m);
}

/*md
The loss on the tape. The sampling line is the reparameterization trick:
$\varepsilon$ is a tape *input* (drawn by the caller, no gradient), and $z$
is computed from $\mu$, $\log\sigma^2$ and $\varepsilon$ by ordinary ops, so
`backward()` reaches the encoder through $z$:
$\partial z/\partial\mu = 1$,
$\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$.
*/
VaeOut vae_forward(Tape *T, const Vae *m, Tensor *x, Tensor *eps) {
    int N = x->shape[0];
    if (x->ndim != 2 || x->shape[1] != m->D || eps->ndim != 2 || eps->shape[0] != N ||
        eps->shape[1] != m->Z)
        fail(EXIT_SOFTWARE, "vae_forward",
             "pass x [N, D] and eps [N, Z] with the model's D and Z",
             "x has %d dims (%d x %d), eps %d dims (%d x %d); model D %d, Z %d",
             x->ndim, x->shape[0], x->ndim > 1 ? x->shape[1] : 1, eps->ndim,
             eps->shape[0], eps->ndim > 1 ? eps->shape[1] : 1, m->D, m->Z);
    VaeOut o;
    Tensor *h = t_relu(T, linear(T, &m->fc1, x));             /* [N, H] */
    o.mu = linear(T, &m->fc21, h);                            /* [N, Z] */
    o.logvar = linear(T, &m->fc22, h);                        /* [N, Z] */
    Tensor *sigma = t_exp(T, t_mul_scalar(T, o.logvar, 0.5)); /* [N, Z] */
    o.z = t_add(T, o.mu, t_mul(T, sigma, eps));               /* [N, Z] */
    Tensor *g = t_relu(T, linear(T, &m->fc3, o.z));           /* [N, H] */
    o.logits = linear(T, &m->fc4, g);                         /* [N, D] */
    o.recon = t_bce_with_logits(T, o.logits, x);              /* [1] */
    o.kl = t_gaussian_kl(T, o.mu, o.logvar);                  /* [1] */
    o.loss = t_add(T, o.recon, o.kl);                         /* [1] */
    return o;
}

/*md
For evaluation and pictures we need no gradients, so the same function is
written a second time as plain loops around `gemm`: no tape, no arena, and
rows as many as we like (the importance-weighted estimate decodes $K = 100$
latent draws for each of ten images at once). The tests check that both
paths agree.
*/

/* ---- plain forward passes ---------------------------------------------------- */
VaeScratch vae_scratch_new(const Vae *m, int rows) {
    VaeScratch s = {.rows = rows, .h = xmalloc((size_t)rows * m->H * sizeof(real))};
    return s;
}

void vae_scratch_free(VaeScratch *s) {
    xfree(s->h);
    s->h = NULL;
}

/* y [n, out] = x [n, in] W^T + b, then ReLU if relu. */
static void plain_linear(const Linear *l, const real *x, int n, real *y, int relu) {
    gemm(n, l->out, l->in, x, l->in, 0, l->w->data, l->in, 1, y, l->out, 0);
    const real *b = l->b->data;
#pragma omp parallel for if ((long)n * l->out > 32768)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < l->out; j++) {
            real v = y[(long)i * l->out + j] + b[j];
            y[(long)i * l->out + j] = relu && v < 0 ? 0 : v;
        }
}

static void need_rows(const VaeScratch *s, int n, const char *who) {
    if (n < 0 || n > s->rows)
        fail(EXIT_SOFTWARE, who,
             "make the scratch with at least as many rows as one call passes",
             "%d rows, scratch holds %d", n, s->rows);
}

void vae_encode(const Vae *m, VaeScratch *s, const real *x, int n, real *mu,
                real *logvar) {
    need_rows(s, n, "vae_encode");
    plain_linear(&m->fc1, x, n, s->h, 1);       /* h [n, H] */
    plain_linear(&m->fc21, s->h, n, mu, 0);     /* [n, Z] */
    plain_linear(&m->fc22, s->h, n, logvar, 0); /* [n, Z] */
}

void vae_decode(const Vae *m, VaeScratch *s, const real *z, int n, real *logits) {
    need_rows(s, n, "vae_decode");
    plain_linear(&m->fc3, z, n, s->h, 1);      /* h [n, H] */
    plain_linear(&m->fc4, s->h, n, logits, 0); /* [n, D] */
}

/* softplus(l) - x l = max(l, 0) - x l + log(1 + e^-|l|): never overflows. */
void vae_bernoulli_nll(const real *x, const real *logits, int n, int D, double *out) {
#pragma omp parallel for if ((long)n * D > 32768)
    for (int i = 0; i < n; i++) {
        const real *xi = x + (long)i * D, *li = logits + (long)i * D;
        double s = 0;
        for (int d = 0; d < D; d++) {
            double l = li[d];
            s += (l > 0 ? l : 0) - (double)xi[d] * l + log1p(exp(-fabs(l)));
        }
        out[i] = s;
    }
}

void vae_kl_rows(const real *mu, const real *logvar, int n, int Z, double *out) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < Z; j++) {
            double m = mu[(long)i * Z + j], v = logvar[(long)i * Z + j];
            s += 0.5 * (m * m + exp(v) - 1 - v);
        }
        out[i] = s;
    }
}

double log_mean_exp(const double *a, int k) {
    /* BEGIN SOLUTION ex04-log-mean-exp
     * HINT: subtract the largest a[i] before exp (and add it back after the log); if the
     * HINT: largest is not finite (every a[i] is -inf), return it as it is.
     * STUB: (void)a, (void)k;
     * STUB: return 0;
     */
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < k; i++) mx = a[i] > mx ? a[i] : mx;
    if (!isfinite(mx)) return mx;
    for (int i = 0; i < k; i++) s += exp(a[i] - mx);
    return mx + log(s / k);
    /* END SOLUTION ex04-log-mean-exp */
}

/* the decoder's image: Bernoulli means sigmoid(logit), computed in double */
void vae_decode_means(const Vae *m, VaeScratch *s, const real *z, int n, real *means) {
    vae_decode(m, s, z, n, means);
    for (long i = 0; i < (long)n * m->D; i++)
        means[i] = (real)(1 / (1 + exp(-(double)means[i])));
}

/* ---- data ---------------------------------------------------------------------- */
void vae_pixels(const ImageSet *s, const int *idx, int n, real *x) {
    long D = (long)s->rows * s->cols;
    for (int i = 0; i < n; i++) {
        int k = idx ? idx[i] : i;
        if (k < 0 || k >= s->n)
            fail(EXIT_SOFTWARE, "vae_pixels", "check the image count before indexing",
                 "image %d asked for, the set holds %d", k, s->n);
        pixels_to_real(x + i * D, s->pixels + k * D, D, 0, 1);
    }
}

/* how many images each use takes: with --quick, and at full size (0 = all) */
enum { QUICK_TRAIN = 2048, QUICK_TEST = 500, QUICK_IW = 50, FULL_IW = 1000 };

/* If cause is still empty and the files of `split` hold fewer than count
 * images, say so in cause. */
static void need(char *cause, const ImageSet *s, const char *split, int count,
                 const char *use) {
    const char *kind = strcmp(split, "train") == 0 ? "training" : "test";
    if (!cause[0] && count > s->n)
        snprintf(cause, 256, "%s needs %d %s images, the %s files hold %d", use, count,
                 kind, split, s->n);
}

VaeData vae_data_load(const char *dir, int quick) {
    VaeData d = {fashion_load(dir, "train"), fashion_load(dir, "t10k"), 0, 0, 0};
    d.n_train = quick ? QUICK_TRAIN : d.train->n;
    d.n_test = quick ? QUICK_TEST : d.test->n;
    d.n_iw = quick ? QUICK_IW : FULL_IW;
    char cause[256] = "";
    if (d.train->rows != 28 || d.train->cols != 28 || d.test->rows != 28 ||
        d.test->cols != 28)
        snprintf(
            cause, sizeof cause,
            "images are %d x %d (training) and %d x %d (test), the VAE needs 28 x 28",
            d.train->rows, d.train->cols, d.test->rows, d.test->cols);
    need(cause, d.train, "train", d.n_train,
         quick ? "training with --quick" : "training");
    need(cause, d.test, "t10k", d.n_test, "evaluation");
    need(cause, d.test, "t10k", d.n_iw, "the importance-weighted estimate (cell 6)");
    need(cause, d.test, "t10k", VAE_FIRST_TEST,
         "the first test images of cells 2 and 4");
    int got[10] = {0};
    for (int i = 0; i < d.n_test && !cause[0]; i++) got[d.test->labels[i]]++;
    for (int c = 0; c < 10 && !cause[0]; c++)
        if (got[c] < 2)
            snprintf(cause, sizeof cause,
                     "the figures of cell 5 need 2 test images of each class among the"
                     " %d used; class %d (%s) has %d",
                     d.n_test, c, FASHION_CLASSES[c], got[c]);
    if (cause[0]) {
        char hint[256], more[96] = "";
        if (!quick)
            snprintf(more, sizeof more, ", or add --quick (it needs %d and %d)",
                     QUICK_TRAIN, QUICK_TEST);
        snprintf(hint, sizeof hint,
                 "pass --data DIR with the full Fashion-MNIST set"
                 " (60,000 training and 10,000 test images)%s",
                 more);
        vae_data_free(&d); /* before fail(), so a test that catches it leaks nothing */
        fail(EXIT_DATA, "Fashion-MNIST", hint, "%s", cause);
    }
    return d;
}

void vae_data_free(VaeData *d) {
    imageset_free(d->train);
    imageset_free(d->test);
    d->train = d->test = NULL;
}

/*md
## The trainer

Everything that trains a VAE goes through one object, `VaeTrainer`: the
chapter's cells, `bench/bench_vae.c` (which times exactly the chapter's
step) and the tests. It owns the model, Adam's state, the tape and its
random streams, each named after its purpose (`"<name>/init"`, `/data` for
the shuffles, `/noise` for $\varepsilon$, `/eval`), so the 20-D and 2-D
models of the chapter never share a stream. A step takes the next batch of
an epoch's shuffled order; an evaluation draws its $\varepsilon$ from a
stream started afresh each time, so every epoch is measured with the same
noise.
*/

/* ---- the trainer ----------------------------------------------------------------- */
VaeConfig vae_config_default(void) {
    return (VaeConfig){.name = "vae",
                       .D = 784,
                       .H = 400,
                       .Z = 20,
                       .batch = 128,
                       .lr = 1e-3,
                       .beta1 = 0.9,
                       .beta2 = 0.999,
                       .adam_eps = 1e-8,
                       .beta = 1};
}

/* rng_stream of "<name>/<purpose>" */
static void stream(Rng *r, const VaeTrainer *t, const char *purpose) {
    char name[128];
    snprintf(name, sizeof name, "%s/%s", t->cfg.name, purpose);
    rng_stream(r, t->seed, name);
}

VaeTrainer *vae_trainer_new(const VaeConfig *cfg, uint64_t seed) {
    if (cfg->batch < 1)
        fail(EXIT_SOFTWARE, "vae_trainer_new", "pass a positive batch", "batch %d",
             cfg->batch);
    VaeTrainer *t = xcalloc(1, sizeof *t);
    t->cfg = *cfg;
    t->seed = seed;
    t->model = vae_new(cfg->D, cfg->H, cfg->Z);
    Rng init;
    stream(&init, t, "init");
    vae_init(t->model, &init);
    stream(&t->data, t, "data");
    stream(&t->noise, t, "noise");
    t->opt = adam_new(t->model->ps, cfg->lr, cfg->beta1, cfg->beta2, cfg->adam_eps);
    t->tape = tape_new();
    return t;
}

VaeStepStats vae_trainer_step(VaeTrainer *t, const ImageSet *train, int n) {
    const Vae *m = t->model;
    if (n < 1 || n > train->n || (long)train->rows * train->cols != m->D)
        fail(EXIT_SOFTWARE, "vae_trainer_step",
             "pass 1 <= n <= the set's images, of the model's D pixels",
             "n %d, the set holds %d images of %d x %d, the model has D %d", n,
             train->n, train->rows, train->cols, m->D);
    if (t->n_order != n) { /* a new training set: the identity order, to be shuffled */
        xfree(t->order);
        t->order = xmalloc(sizeof(int) * n);
        for (int i = 0; i < n; i++) t->order[i] = i;
        t->n_order = n, t->cursor = 0;
    }
    if (t->cursor == 0) rng_shuffle(&t->data, t->order, n);
    int b = n - t->cursor < t->cfg.batch ? n - t->cursor : t->cfg.batch;
    Tape *T = t->tape;
    tape_reset(T);
    Tensor *x = tape_input(T, 2, SHAPE(b, m->D), 0);   /* [b, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(b, m->Z), 0); /* [b, Z] */
    vae_pixels(train, t->order + t->cursor, b, x->data);
    rng_fill_normal(&t->noise, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, m, x, eps);
    Tensor *loss = o.loss; /* the -ELBO, or with beta != 1: */
    if (t->cfg.beta != 1)
        loss = t_add(T, o.recon, t_mul_scalar(T, o.kl, (real)t->cfg.beta));
    params_zero_grad(m->ps);
    backward(T, loss);
    optim_step(t->opt);
    t->steps++;
    t->cursor += b;
    VaeStepStats st = {(double)loss->data[0], (double)o.recon->data[0],
                       (double)o.kl->data[0], b, 0};
    if (t->cursor == n) t->cursor = 0, st.epoch_done = 1;
    return st;
}

VaeEvalStats vae_trainer_eval(VaeTrainer *t, const ImageSet *set, int n) {
    enum { CH = 500 }; /* images per chunk */
    const Vae *m = t->model;
    if (n < 1 || n > set->n)
        fail(EXIT_SOFTWARE, "vae_trainer_eval", "pass 1 <= n <= the set's images",
             "n %d, the set holds %d", n, set->n);
    Rng r;
    stream(&r, t, "eval");
    real *x = xmalloc(sizeof(real) * CH * m->D),
         *logits = xmalloc(sizeof(real) * CH * m->D);
    real *mu = xmalloc(sizeof(real) * CH * m->Z),
         *lv = xmalloc(sizeof(real) * CH * m->Z);
    real *z = xmalloc(sizeof(real) * CH * m->Z);
    double nll[CH], kl[CH], recon = 0, kls = 0;
    int idx[CH];
    VaeScratch sc = vae_scratch_new(m, CH);
    for (int i0 = 0; i0 < n; i0 += CH) {
        int c = n - i0 < CH ? n - i0 : CH;
        for (int i = 0; i < c; i++) idx[i] = i0 + i;
        vae_pixels(set, idx, c, x);
        vae_encode(m, &sc, x, c, mu, lv);
        for (int i = 0; i < c * m->Z; i++)
            z[i] = mu[i] + (real)exp(0.5 * lv[i]) * (real)rng_normal(&r);
        vae_decode(m, &sc, z, c, logits);
        vae_bernoulli_nll(x, logits, c, m->D, nll);
        vae_kl_rows(mu, lv, c, m->Z, kl);
        for (int i = 0; i < c; i++) recon += nll[i], kls += kl[i];
    }
    vae_scratch_free(&sc);
    xfree(x), xfree(logits), xfree(mu), xfree(lv), xfree(z);
    recon /= n, kls /= n;
    return (VaeEvalStats){recon + kls, recon, kls};
}

void vae_trainer_free(VaeTrainer *t) {
    if (!t) return;
    vae_free(t->model);
    optim_free(t->opt);
    tape_free(t->tape);
    xfree(t->order);
    xfree(t);
}

/* ---- the chapter's driver -------------------------------------------------------- */
void vae_train_epochs(VaeTrainer *t, const ImageSet *train, int n_train,
                      const ImageSet *test, int n_test, int epochs, const char *tsv,
                      VaeEpoch *log) {
    int steps = (n_train + t->cfg.batch - 1) / t->cfg.batch;
    char label[32];
    snprintf(label, sizeof label, "VAE Z=%d", t->cfg.Z);
    Progress p;
    progress_start(&p, label, (long)epochs * steps);
    double seconds = 0;
    for (int ep = 0; ep < epochs; ep++) {
        double t0 = now_seconds(), sr = 0, sk = 0;
        for (int s = 0; s < steps; s++) {
            VaeStepStats st = vae_trainer_step(t, train, n_train);
            sr += st.recon * st.images, sk += st.kl * st.images;
            progress_update(&p, (long)ep * steps + s + 1, st.loss);
        }
        seconds += now_seconds() - t0;
        log[ep].train = (VaeEvalStats){(sr + sk) / n_train, sr / n_train, sk / n_train};
        log[ep].test = vae_trainer_eval(t, test, n_test);
    }
    progress_end(&p);

    FILE *f = nb_open(tsv);
    fprintf(f, "# epoch\ttrain_neg_elbo\ttrain_recon\ttrain_kl"
               "\ttest_neg_elbo\ttest_recon\ttest_kl\n");
    nb_printf("%5s | %9s %9s %7s | %9s %9s %7s\n", "epoch", "train", "recon", "KL",
              "test", "recon", "KL");
    nb_printf("%5s | %27s | %27s\n", "", "-ELBO, nats per image",
              "-ELBO, nats per image");
    for (int e = 0; e < epochs; e++) {
        const VaeEvalStats *a = &log[e].train, *b = &log[e].test;
        nb_printf("%5d | %9.2f %9.2f %7.2f | %9.2f %9.2f %7.2f\n", e + 1,
                  a->recon + a->kl, a->recon, a->kl, b->recon + b->kl, b->recon, b->kl);
        fprintf(f, "%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", e + 1, a->recon + a->kl,
                a->recon, a->kl, b->recon + b->kl, b->recon, b->kl);
    }
    fclose(f);
    char name[64];
    snprintf(name, sizeof name, "%s training, time per epoch", label);
    nb_timing(name, seconds / epochs, "s");
    snprintf(name, sizeof name, "%s training, time per step", label);
    nb_timing(name, 1e3 * seconds / epochs / steps, "ms");
}

/* ---- the KL term, two ways ------------------------------------------------------- */
double vae_kl_closed(const double *mu, const double *lv, int Z) {
    double kl = 0;
    for (int j = 0; j < Z; j++) kl += 0.5 * (mu[j] * mu[j] + exp(lv[j]) - 1 - lv[j]);
    return kl;
}

double vae_kl_monte_carlo(const double *mu, const double *lv, int Z, int M, Rng *r,
                          double *se) {
    double s = 0, s2 = 0;
    for (int k = 0; k < M; k++) {
        double v = 0; /* log q(z) - log p(z) at z = mu + sigma eps */
        for (int j = 0; j < Z; j++) {
            double e = rng_normal(r), z = mu[j] + exp(0.5 * lv[j]) * e;
            v += 0.5 * (z * z - e * e) - 0.5 * lv[j];
        }
        s += v, s2 += v * v;
    }
    double mean = s / M;
    *se = sqrt(fmax(s2 / M - mean * mean, 0) / M);
    return mean;
}

/* ---- the importance-weighted estimate -------------------------------------------- */
VaeIw vae_iw_estimate(const Vae *m, const ImageSet *set, int n, int K, Rng *r) {
    enum { CH = 10 }; /* images per chunk: CH * K rows decoded at once */
    const int D = m->D, Z = m->Z;
    if (n < CH || n % CH || n > set->n || K < 10)
        fail(EXIT_SOFTWARE, "vae_iw_estimate",
             "pass a multiple of 10 images that the set holds, K >= 10",
             "n %d (the set holds %d), K %d", n, set->n, K);
    VaeIw e = {.K = {1, 10, K}, .min_gap = INFINITY};
    real *x = xmalloc(sizeof(real) * CH * D), *xs = xmalloc(sizeof(real) * CH * K * D);
    real *logits = xmalloc(sizeof(real) * CH * K * D),
         *z = xmalloc(sizeof(real) * CH * K * Z);
    real *mu = xmalloc(sizeof(real) * CH * Z), *lv = xmalloc(sizeof(real) * CH * Z);
    double *nll = xmalloc(sizeof(double) * CH * K),
           *lpq = xmalloc(sizeof(double) * CH * K);
    double *lw = xmalloc(sizeof(double) * K), kl[CH];
    int idx[CH];
    VaeScratch sc = vae_scratch_new(m, CH * K);
    Progress p;
    progress_start(&p, "IW estimate", n / CH);
    for (int c0 = 0; c0 < n; c0 += CH) {
        for (int i = 0; i < CH; i++) idx[i] = c0 + i;
        vae_pixels(set, idx, CH, x);
        for (int i = 0; i < CH * K; i++)
            memcpy(xs + (long)i * D, x + (long)(i / K) * D, sizeof(real) * D);
        vae_encode(m, &sc, x, CH, mu, lv);
        vae_kl_rows(mu, lv, CH, Z, kl);
        /* z from q: z = mu + sigma eps;
         * log p(z) - log q(z|x) = sum (eps^2 - z^2)/2 + log sigma^2 / 2 */
        for (int i = 0; i < CH * K; i++) {
            const real *mi = mu + (i / K) * Z, *vi = lv + (i / K) * Z;
            double a = 0;
            for (int j = 0; j < Z; j++) {
                double ep = rng_normal(r), zz = mi[j] + exp(0.5 * vi[j]) * ep;
                z[(long)i * Z + j] = (real)zz;
                a += 0.5 * (ep * ep - zz * zz) + 0.5 * vi[j];
            }
            lpq[i] = a;
        }
        vae_decode(m, &sc, z, CH * K, logits);
        vae_bernoulli_nll(xs, logits, CH * K, D, nll);
        for (int i = 0; i < CH; i++) {
            double recon = 0;
            for (int k = 0; k < K; k++)
                lw[k] = -nll[i * K + k] + lpq[i * K + k], recon += nll[i * K + k];
            double elbo =
                -(recon / K +
                  kl[i]); /* reconstruction averaged over K draws, KL in closed form */
            double iw = log_mean_exp(lw, K);
            e.elbo += elbo, e.kl += kl[i];
            for (int j = 0; j < 3; j++) e.iw[j] += log_mean_exp(lw, e.K[j]);
            if (iw - elbo < e.min_gap) e.min_gap = iw - elbo;
        }
        /* the same number of z from the prior p(z): log p(x) ~ log mean p(x|z) */
        rng_fill_normal(r, z, (long)CH * K * Z, 0, 1);
        vae_decode(m, &sc, z, CH * K, logits);
        vae_bernoulli_nll(xs, logits, CH * K, D, nll);
        for (int i = 0; i < CH; i++) {
            for (int k = 0; k < K; k++) lw[k] = -nll[i * K + k];
            e.prior += log_mean_exp(lw, K);
        }
        progress_update(&p, c0 / CH + 1, -e.iw[2] / (c0 + CH));
    }
    progress_end(&p);
    vae_scratch_free(&sc);
    xfree(x), xfree(xs), xfree(logits), xfree(z), xfree(mu), xfree(lv), xfree(nll),
        xfree(lpq), xfree(lw);
    e.elbo /= n, e.prior /= n, e.kl /= n;
    for (int j = 0; j < 3; j++) e.iw[j] /= n;
    return e;
}

void vae_iw_print(const VaeIw *e, int n) {
    nb_printf("on the first %d test images, nats per image (higher is better):\n", n);
    nb_printf("  ELBO (recon over %d draws of q, KL closed form)   %9.2f\n", e->K[2],
              e->elbo);
    for (int j = 0; j < 3; j++)
        nb_printf("  IW estimate of log p(x), K = %-3d                  %9.2f\n",
                  e->K[j], e->iw[j]);
    nb_printf("  naive estimate, %d draws from the prior          %9.2f\n", e->K[2],
              e->prior);
    nb_printf("gap log p(x) - ELBO >= %.2f nats per image on average;"
              " smallest gap of one image %.2f\n",
              e->iw[2] - e->elbo, e->min_gap);
    nb_printf(
        "(for comparison, KL(q(z|x) || p(z)) averages %.2f nats on these images)\n",
        e->kl);
}

/* ---- figures --------------------------------------------------------------------- */
/* rows x cols images of 28 x 28 [rows * cols, D] as one pixel matrix, 1-pixel gaps
 * of value 0.35 */
static void write_grid(const char *file, const real *img, int rows, int cols) {
    FILE *f = nb_open(file);
    fprintf(f,
            "# pixel matrix: %d x %d images of 28 x 28, 1-pixel separators;"
            " intensity in [0, 1]\n",
            rows, cols);
    ImageGrid g = {.rows = rows,
                   .cols = cols,
                   .side = 28,
                   .gap = 1,
                   .border = 0,
                   .gap_value = 0.35};
    image_grid_write(f, &g, img);
    fclose(f);
}

void vae_class_examples(const ImageSet *set, int n, int per, int *idx) {
    int got[10] = {0}, k = 0;
    for (int i = 0; i < n && k < 10 * per; i++) {
        int c = set->labels[i];
        if (got[c] < per) idx[got[c]++ * 10 + c] = i, k++;
    }
    for (int c = 0; c < 10; c++)
        if (got[c] < per)
            fail(EXIT_DATA, "Fashion-MNIST",
                 "pass --data DIR with the full Fashion-MNIST test set",
                 "the first %d test images hold %d of class %d (%s),"
                 " the figure needs %d of each class",
                 n, got[c], c, FASHION_CLASSES[c], per);
}

void vae_write_reconstructions(const Vae *m, const ImageSet *set, const int *idx,
                               int rows, const char *file) {
    const int n = rows * 10, D = m->D;
    real *x = xmalloc(sizeof(real) * n * D), *rec = xmalloc(sizeof(real) * n * D);
    real *mu = xmalloc(sizeof(real) * n * m->Z), *lv = xmalloc(sizeof(real) * n * m->Z);
    real *grid = xmalloc(sizeof(real) * 2 * n * D);
    VaeScratch sc = vae_scratch_new(m, n);
    vae_pixels(set, idx, n, x);
    vae_encode(m, &sc, x, n, mu, lv);
    vae_decode_means(m, &sc, mu, n, rec);
    for (int row = 0; row < rows; row++) {
        memcpy(grid + (long)(2 * row) * 10 * D, x + (long)row * 10 * D,
               sizeof(real) * 10 * D);
        memcpy(grid + (long)(2 * row + 1) * 10 * D, rec + (long)row * 10 * D,
               sizeof(real) * 10 * D);
    }
    write_grid(file, grid, 2 * rows, 10);
    vae_scratch_free(&sc);
    xfree(x), xfree(rec), xfree(mu), xfree(lv), xfree(grid);
}

void vae_write_prior_samples(const Vae *m, Rng *r, int side, const char *file) {
    const int n = side * side;
    real *z = xmalloc(sizeof(real) * n * m->Z), *img = xmalloc(sizeof(real) * n * m->D);
    VaeScratch sc = vae_scratch_new(m, n);
    rng_fill_normal(r, z, (long)n * m->Z, 0, 1);
    vae_decode_means(m, &sc, z, n, img);
    write_grid(file, img, side, side);
    vae_scratch_free(&sc);
    xfree(z), xfree(img);
}

void vae_write_interpolations(const Vae *m, const ImageSet *set, const int (*pairs)[2],
                              int npairs, int steps, const char *file) {
    const int D = m->D, Z = m->Z, w = steps + 2;
    real *strip = xmalloc(sizeof(real) * npairs * w * D),
         *path = xmalloc(sizeof(real) * steps * Z);
    real *ends = xmalloc(sizeof(real) * 2 * D), *code = xmalloc(sizeof(real) * 2 * Z);
    real *lv = xmalloc(sizeof(real) * 2 * Z);
    VaeScratch sc = vae_scratch_new(m, steps > 2 ? steps : 2);
    for (int q = 0; q < npairs; q++) {
        real *row = strip + (long)q * w * D;
        vae_pixels(set, pairs[q], 2, ends);
        vae_encode(m, &sc, ends, 2, code, lv);
        for (int i = 0; i < steps; i++)
            for (int j = 0; j < Z; j++) {
                double t = i / (double)(steps - 1);
                path[i * Z + j] = (real)((1 - t) * code[j] + t * code[Z + j]);
            }
        vae_decode_means(m, &sc, path, steps, row + D);
        memcpy(row, ends, sizeof(real) * D);
        memcpy(row + (long)(w - 1) * D, ends + D, sizeof(real) * D);
        int a = pairs[q][0], b = pairs[q][1];
        nb_printf("interpolation %d: test image %d (%s) to test image %d (%s),"
                  " %d points on the line between their mean codes\n",
                  q + 1, a, FASHION_CLASSES[set->labels[a]], b,
                  FASHION_CLASSES[set->labels[b]], steps);
    }
    write_grid(file, strip, npairs, w);
    vae_scratch_free(&sc);
    xfree(strip), xfree(path), xfree(ends), xfree(code), xfree(lv);
}

void vae_write_latent_means(const Vae *m, const ImageSet *set, int n, const char *file,
                            double lo[2], double hi[2]) {
    enum { CH = 500 };
    if (m->Z != 2)
        fail(EXIT_SOFTWARE, "vae_write_latent_means", "pass a model with Z = 2", "Z %d",
             m->Z);
    real *x = xmalloc(sizeof(real) * CH * m->D), mu[CH * 2], lv[CH * 2];
    int idx[CH];
    VaeScratch sc = vae_scratch_new(m, CH);
    FILE *f = nb_open(file);
    fprintf(f, "# mu1\tmu2\tlabel (0..9, FASHION_CLASSES order)\n");
    lo[0] = lo[1] = 1e9, hi[0] = hi[1] = -1e9;
    for (int i0 = 0; i0 < n; i0 += CH) {
        int c = n - i0 < CH ? n - i0 : CH;
        for (int i = 0; i < c; i++) idx[i] = i0 + i;
        vae_pixels(set, idx, c, x);
        vae_encode(m, &sc, x, c, mu, lv);
        for (int i = 0; i < c; i++) {
            fprintf(f, "%.5f\t%.5f\t%d\n", (double)mu[2 * i], (double)mu[2 * i + 1],
                    set->labels[i0 + i]);
            for (int j = 0; j < 2; j++)
                lo[j] = fmin(lo[j], mu[2 * i + j]), hi[j] = fmax(hi[j], mu[2 * i + j]);
        }
    }
    fclose(f);
    vae_scratch_free(&sc);
    xfree(x);
}

void vae_write_manifold(const Vae *m, int G, double lim, const char *file) {
    if (m->Z != 2 || G < 2)
        fail(EXIT_SOFTWARE, "vae_write_manifold", "pass Z = 2 and G >= 2", "Z %d, G %d",
             m->Z, G);
    real *z = xmalloc(sizeof(real) * G * G * 2),
         *img = xmalloc(sizeof(real) * G * G * m->D);
    VaeScratch sc = vae_scratch_new(m, G * G);
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++) {
            z[2 * (iy * G + ix)] = (real)(-lim + 2 * lim * ix / (G - 1));
            z[2 * (iy * G + ix) + 1] = (real)(lim - 2 * lim * iy / (G - 1));
        }
    vae_decode_means(m, &sc, z, G * G, img);
    write_grid(file, img, G, G);
    nb_printf("manifold: %d x %d codes, z1 from %g (left) to %g (right), z2 from %g "
              "(top) to %g"
              " (bottom)\n",
              G, G, -lim, lim, lim, -lim);
    vae_scratch_free(&sc);
    xfree(z), xfree(img);
}

/* ---- a gradient check in float --------------------------------------------------- */
int vae_draw_away_from_kinks(Vae *m, Tape *T, Rng *r, int N, double margin, VaeOut *o,
                             double *got) {
    int draws = 0;
    *got = 0;
    while (*got < margin) {
        draws++;
        tape_reset(T);
        for (int i = 0; i < m->ps->n; i++)
            rng_fill_normal(r, m->ps->t[i]->data, m->ps->t[i]->size, 0,
                            m->ps->t[i]->ndim == 2 ? 0.5 : 0.3);
        Tensor *x = tape_input(T, 2, SHAPE(N, m->D), 0);   /* [N, D] */
        Tensor *eps = tape_input(T, 2, SHAPE(N, m->Z), 0); /* [N, Z] */
        rng_fill_uniform(r, x->data, x->size, 0, 1);
        rng_fill_normal(r, eps->data, eps->size, 0, 1);
        *o = vae_forward(T, m, x, eps);
        *got = INFINITY;
        for (int i = 0; i < tape_len(T); i++) {
            const Tensor *t = tape_node_at(T, i);
            if (t->op == OP_RELU)
                for (long j = 0; j < t->size; j++)
                    *got = fmin(*got, fabs((double)t->in[0]->data[j]));
        }
    }
    return draws;
}
