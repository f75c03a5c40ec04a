/* chapters/04-vae-elbo/chapter.c - Chapter 4: the VAE and its evidence lower bound.
 *
 * Teaches: latent-variable models; why log p(x) cannot be maximised
 * directly; the ELBO derived correctly (and why the article's two "losses"
 * are not a VAE objective); the closed-form Gaussian KL; the
 * reparameterization trick; training the reference VAE on Fashion-MNIST;
 * the importance-weighted estimate of log p(x) that shows the bound is a
 * bound; a 2-D latent space drawn.
 * Leaves out: convolutional VAEs, beta-VAE and KL annealing, discrete
 * latents, flows in the posterior.
 * Run: make run-04, or build/bin/04 --step to go cell by cell.
 *
 * Dimension key: N images per batch (128), D = 784 pixels, H = 400 hidden,
 * Z latent width (20, then 2), K importance samples per image (100).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data.h"
#include "gradcheck.h"
#include "notebook.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"
#include "vae.h"

/*md
# The VAE: the evidence lower bound done right

A variational autoencoder (Kingma & Welling, ICLR 2014; Rezende, Mohamed &
Wierstra, ICML 2014) is a generative model with a hidden cause: draw a code
$z$ from a simple prior, then draw an image from a distribution the decoder
network computes from $z$. This chapter derives the objective it is trained
with, the *evidence lower bound* (ELBO), checks every piece of it
numerically, trains DESIGN.md's reference VAE on Fashion-MNIST and measures
how tight the bound is.
*/

/* ---- the chapter's state, shared by the cells ------------------------------ */
enum { D = 784, HID = 400, BATCH = 128, EPOCHS = 10, IW_K = 100 };

static ImageSet *train_set, *test_set;
static int n_train, n_test;         /* images used (all of them, or fewer with --quick) */
static Vae vae20, vae2;             /* the 20-D model and the 2-D one */

/* Pixels of images idx[0..n) as reals in [0, 1]: x [n, D]. */
static void load_pixels(const ImageSet *s, const int *idx, int n, real *x) {
    for (int i = 0; i < n; i++) {
        const unsigned char *p = s->pixels + (long)idx[i] * D;
        for (int d = 0; d < D; d++) x[(long)i * D + d] = (real)(p[d] / 255.0);
    }
}

static real sigmoid(real l) { return (real)(1 / (1 + exp(-(double)l))); }

/* An image grid as a pixel matrix for gnuplot's `matrix with image`: rows x
 * cols images of 28 x 28 (img [rows * cols, D], values in [0, 1]), one
 * separator pixel (value sep) between them. */
static void write_grid(const char *file, const real *img, int rows, int cols, double sep) {
    FILE *f = nb_open(file);
    int R = rows * 29 - 1, C = cols * 29 - 1;
    fprintf(f, "# pixel matrix: %d x %d images of 28 x 28, 1-pixel separators; intensity in [0, 1]\n", rows, cols);
    for (int y = 0; y < R; y++) {
        for (int x = 0; x < C; x++) {
            int iy = y / 29, py = y % 29, ix = x / 29, px = x % 29;
            double v = (py == 28 || px == 28) ? sep : (double)img[(long)(iy * cols + ix) * D + py * 28 + px];
            fprintf(f, "%s%.4f", x ? "\t" : "", v);
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

/*md
## A latent-variable model

The model says: an image $x$ is made by first drawing a code
$z \sim p(z) = \mathcal N(0, I)$, then drawing $x \sim p_\theta(x|z)$, where
a neural network (the *decoder*) turns $z$ into the parameters of
$p_\theta(x|z)$. Here $x$ has $D = 784$ pixels in $[0, 1]$ and
$p_\theta(x|z)$ is a product of Bernoullis with means
$\mathrm{sigmoid}(\mathrm{dec}_\theta(z))$, so
$-\log p_\theta(x|z) = \sum_d \mathrm{BCE}(\text{logit}_d, x_d)$.
(Fashion-MNIST pixels are grey levels, not 0/1; like PyTorch's example we
use them as soft targets, so "$\log p$" is that cross-entropy.)

Training should maximise the *evidence*, the likelihood of each image,

$$p_\theta(x) = \int p_\theta(x|z)\,p(z)\,dz .$$

For a neural decoder this integral has no closed form, and estimating it by
drawing $z$ from the prior, $p(x) \approx \frac1K\sum_k p_\theta(x|z_k)$, is
hopeless in 20 dimensions: almost every $z_k$ decodes to a different image,
so $p_\theta(x|z_k)$ is astronomically small for all but a vanishing
fraction of draws (cell 6 measures this). We need a distribution that
proposes the few $z$ that explain $x$. This cell loads the data and builds
the model that will provide it.
*/
static void cell_latent_model(void) {
    train_set = fashion_load(nb_data(), "train");
    test_set = fashion_load(nb_data(), "t10k");
    n_train = nb_quick() ? 2048 : train_set->n;
    n_test = nb_quick() ? 500 : test_set->n;
    nb_printf("Fashion-MNIST: %d training and %d test images of %d x %d pixels (using %d and %d)\n", train_set->n,
              test_set->n, train_set->rows, train_set->cols, n_train, n_test);
    if (train_set->rows * train_set->cols != D || test_set->rows * test_set->cols != D)
        fail(EXIT_DATA, "Fashion-MNIST", "pass --data DIR with the 28 x 28 Fashion-MNIST files",
             "images are %d x %d, expected 28 x 28", train_set->rows, train_set->cols);
    double mean = 0;
    for (long i = 0; i < (long)n_train * D; i++) mean += train_set->pixels[i] / 255.0;
    nb_printf("mean pixel intensity (training set): %.4f\n", mean / ((double)n_train * D));
    Rng r;
    rng_seed(&r, nb_seed());
    vae20 = vae_new(D, HID, 20);
    vae_init(&vae20, &r);
    nb_printf("the model: encoder %d -> %d (ReLU) -> mu, log sigma^2 in R^%d; decoder %d -> %d (ReLU) -> %d logits\n",
              D, HID, vae20.Z, vae20.Z, HID, D);
    for (int i = 0; i < vae20.ps->n; i++) {
        char shp[64];
        nb_printf("  %-12s %s\n", vae20.ps->t[i]->name, shape_str(vae20.ps->t[i], shp, sizeof shp));
    }
    nb_printf("%ld parameters, PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in))\n", vae20.ps->size);
}

/*md
## The article's "losses", and the ELBO

The article gives the VAE two losses,
$L_E = D(x) - \log\sigma(W_E x + b_E)$ for the encoder and
$L_D = \log\sigma(W_D x + b_D)$ for the decoder. Neither is a VAE objective:

- $D(x)$ is a GAN discriminator; a VAE has none.
- Neither loss compares the decoder's output with the image $x$, so nothing
  makes the decoder reconstruct anything.
- Neither has a prior: nothing ties the codes to $p(z)$, so sampling from
  the prior afterwards would decode garbage.
- $L_D$ is unbounded below: minimising it just drives every logit to
  $-\infty$, whatever the data (the cell shows it).

The correct objective comes from the evidence itself. Multiply and divide
by any density $q(z|x)$ (the *encoder*'s Gaussian) and apply Jensen's
inequality to the concave $\log$:

$$\log p(x) = \log \mathbb E_{q(z|x)}\!\left[\frac{p(x|z)\,p(z)}{q(z|x)}\right]
\;\ge\; \mathbb E_{q(z|x)}\!\left[\log\frac{p(x|z)\,p(z)}{q(z|x)}\right]
= \underbrace{\mathbb E_{q}[\log p(x|z)]}_{\text{reconstruction}}
- \underbrace{\mathrm{KL}(q(z|x)\,\|\,p(z))}_{\text{regulariser}} .$$

The gap is exactly $\mathrm{KL}(q(z|x)\,\|\,p(z|x))$, so maximising the
ELBO both raises $\log p(x)$ and pulls $q$ towards the true posterior.
We *minimise* $-\mathrm{ELBO}$ = BCE summed over pixels + KL summed over
latents, both averaged over the images of a batch: nats per image. At
initialisation the logits are near 0, so the reconstruction term should be
near $784 \ln 2 = 543.4$ nats and the KL near 0.
*/
static void cell_elbo(void) {
    enum { N = 64 };
    int idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(N, D), 0);         /* [N, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(N, vae20.Z), 0);  /* [N, Z] */
    load_pixels(test_set, idx, N, xt->data);
    Rng r;
    rng_seed(&r, nb_seed() + 2);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, &vae20, xt, eps);
    /* the article's L_D = log sigmoid(logit), averaged over pixels and images,
     * with the decoder's output bias shifted by s */
    nb_printf("the article's L_D = mean log sigmoid(logit) on %d test images, output bias shifted by s:\n", N);
    for (int k = 0; k < 4; k++) {
        double s = (double[]){0, -10, -100, -1000}[k], ld = 0;
        for (long i = 0; i < (long)N * D; i++) {
            double l = o.logits->data[i] + s; /* log sigmoid(l) = -softplus(-l) */
            ld += -(fmax(-l, 0) + log1p(exp(-fabs(l))));
        }
        nb_printf("  s = %6.0f   L_D = %10.3f\n", s, ld / ((double)N * D));
    }
    nb_printf("-> no minimum: it falls without bound, and x never enters it.\n\n");
    nb_printf("the -ELBO of the same %d images at initialisation (one draw of eps per image):\n", N);
    nb_printf("  reconstruction  E_q[-log p(x|z)]  %9.3f nats/image  (784 ln 2 = %.3f)\n", (double)o.recon->data[0],
              784 * log(2.0));
    nb_printf("  KL(q(z|x) || p(z))                %9.3f nats/image\n", (double)o.kl->data[0]);
    nb_printf("  -ELBO                             %9.3f nats/image\n", (double)o.loss->data[0]);
    nb_graph("04-vae-graph", "The computation graph of the VAE's negative ELBO, drawn from the tape", T, o.loss);
    tape_free(T);
}

/*md
## The KL term in closed form

For $q = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)$ and $p = \mathcal N(0, I)$
the KL divergence has a closed form, one term per latent:

$$\mathrm{KL}(q\,\|\,p) = \mathbb E_q[\log q(z) - \log p(z)]
= \tfrac12 \sum_j \left(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\right).$$

(Write $z_j = \mu_j + \sigma_j\varepsilon_j$: $\log q - \log p =
\sum_j \tfrac12(z_j^2 - \varepsilon_j^2) - \log\sigma_j$, and
$\mathbb E[z_j^2] = \mu_j^2 + \sigma_j^2$, $\mathbb E[\varepsilon_j^2] = 1$.)
We check it against a Monte-Carlo estimate of that expectation, printed with
its standard error: the closed form should sit within about two standard
errors. The VAE uses the closed form: it is exact and costs nothing, where
the sampled estimate adds noise to every gradient.
*/
static void cell_kl(void) {
    const int M = nb_quick() ? 20000 : 200000;
    Rng r;
    rng_seed(&r, nb_seed() + 3);
    nb_printf("%-40s %10s %22s\n", "q", "closed form", "Monte Carlo (M draws)");
    for (int c = 0; c < 4; c++) {
        int Z = c < 3 ? 2 : 20;
        double mu[20], lv[20];
        const char *label;
        if (c == 0) label = "mu = 0, sigma = 1", mu[0] = mu[1] = 0, lv[0] = lv[1] = 0;
        else if (c == 1) label = "mu = (1, -2), sigma^2 = (e, 1/4)", mu[0] = 1, mu[1] = -2, lv[0] = 1, lv[1] = log(0.25);
        else if (c == 2) label = "mu = (3, 0), sigma^2 = (0.01, 4)", mu[0] = 3, mu[1] = 0, lv[0] = log(0.01), lv[1] = log(4.0);
        else {
            label = "Z = 20, mu ~ N(0,1), log sigma^2 ~ U(-3,1)";
            for (int j = 0; j < Z; j++) mu[j] = rng_normal(&r), lv[j] = -3 + 4 * rng_uniform(&r);
        }
        double closed = 0, s = 0, s2 = 0;
        for (int j = 0; j < Z; j++) closed += 0.5 * (mu[j] * mu[j] + exp(lv[j]) - 1 - lv[j]);
        for (int k = 0; k < M; k++) {
            double v = 0; /* log q(z) - log p(z) at z = mu + sigma eps */
            for (int j = 0; j < Z; j++) {
                double e = rng_normal(&r), z = mu[j] + exp(0.5 * lv[j]) * e;
                v += 0.5 * (z * z - e * e) - 0.5 * lv[j];
            }
            s += v, s2 += v * v;
        }
        double mean = s / M, se = sqrt(fmax(s2 / M - mean * mean, 0) / M);
        nb_printf("%-40s %10.4f %12.4f +- %.4f\n", label, closed, mean, se);
    }
    nb_printf("(M = %d draws each; +- is one standard error)\n", M);
}

/*md
## The reparameterization trick

The reconstruction term is an expectation over $z \sim q_\phi(z|x)$, and
its gradient with respect to the encoder's parameters $\phi$ is needed. If
$z$ is *drawn* (a number produced by a random generator), it is a leaf: no
op connects it to $\mu$ and $\sigma$, and backward cannot reach the encoder
through it. The cell shows this: with $z$ sampled as a fresh tape input the
encoder's first layer gets exactly zero gradient from the reconstruction.

The trick is to move the randomness into an input: draw
$\varepsilon \sim \mathcal N(0, I)$, and *compute*
$z = \mu + \sigma \odot \varepsilon$ with ops. Same distribution of $z$, but
now $\partial z/\partial\mu = 1$ and
$\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$, and the
single-sample gradient is an unbiased estimate of the expectation's. Last,
with $\varepsilon$ held fixed the $-$ELBO is an ordinary function of the
parameters, so a gradient check applies: every parameter tensor of a small
VAE against central differences, $h = 10^{-2}$ in this float build. The
loss is about 20 nats, so its float round-off (about $2\times10^{-6}$)
divided by $2h$ leaves about $10^{-4}$ of noise in each numeric derivative:
relative errors of order $10^{-2}$ are what float allows here, where a wrong
backward is off by order 1. The test suite runs the same check in double,
to $10^{-6}$.
*/
static double grad_norm(const Tensor *t) {
    double s = 0;
    for (long i = 0; i < t->size; i++) s += (double)t->grad[i] * t->grad[i];
    return sqrt(s);
}

static void cell_reparam(void) {
    enum { N = 16 };
    int idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    Rng r;
    rng_seed(&r, nb_seed() + 4);
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(N, D), 0);         /* [N, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(N, vae20.Z), 0);  /* [N, Z] */
    load_pixels(test_set, idx, N, xt->data);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);

    /* (a) z drawn: a leaf with the same numbers as mu + sigma eps */
    VaeOut o = vae_forward(T, &vae20, xt, eps);
    Tensor *zleaf = tape_input(T, 2, SHAPE(N, vae20.Z), 0);
    memcpy(zleaf->data, o.z->data, sizeof(real) * N * vae20.Z);
    Tensor *logits = linear(T, &vae20.fc4, t_relu(T, linear(T, &vae20.fc3, zleaf)));
    Tensor *recon_drawn = t_bce_with_logits(T, logits, xt);
    params_zero_grad(vae20.ps);
    backward(T, recon_drawn);
    nb_printf("reconstruction term, z drawn as a leaf:        %.4f nats/image, |grad fc1.weight| = %.3g, "
              "|grad fc4.weight| = %.3g\n",
              (double)recon_drawn->data[0], grad_norm(vae20.fc1.w), grad_norm(vae20.fc4.w));
    /* (b) z = mu + sigma * eps on the tape */
    params_zero_grad(vae20.ps);
    backward(T, o.recon);
    nb_printf("reconstruction term, z = mu + sigma * eps:     %.4f nats/image, |grad fc1.weight| = %.3g, "
              "|grad fc4.weight| = %.3g\n",
              (double)o.recon->data[0], grad_norm(vae20.fc1.w), grad_norm(vae20.fc4.w));
    nb_printf("-> same value, but only the reparameterized z lets the gradient reach the encoder.\n\n");
    params_zero_grad(vae20.ps);
    tape_free(T);

    /* (c) gradient check of the whole -ELBO, eps fixed, on a small VAE. A
     * step of h must not carry a ReLU input across 0, where the derivative
     * jumps: draw weights and inputs until every ReLU input on the tape is at
     * least 0.05 from 0 (the test suite's h = 1e-5 needs no such care). */
    enum { SD = 16, SH = 6, SZ = 3, SN = 3 };
    Vae m = vae_new(SD, SH, SZ);
    T = tape_new();
    int draws = 0;
    double margin = 0;
    while (margin < 0.05) {
        draws++;
        tape_reset(T);
        for (int i = 0; i < m.ps->n; i++)
            rng_fill_normal(&r, m.ps->t[i]->data, m.ps->t[i]->size, 0, m.ps->t[i]->ndim == 2 ? 0.5 : 0.3);
        xt = tape_input(T, 2, SHAPE(SN, SD), 0);
        eps = tape_input(T, 2, SHAPE(SN, SZ), 0);
        rng_fill_uniform(&r, xt->data, xt->size, 0, 1);
        rng_fill_normal(&r, eps->data, eps->size, 0, 1);
        o = vae_forward(T, &m, xt, eps);
        margin = 1e300;
        for (int i = 0; i < tape_len(T); i++) {
            const Tensor *t = tape_node_at(T, i);
            if (t->op == OP_RELU)
                for (long j = 0; j < t->size; j++) margin = fmin(margin, fabs((double)t->in[0]->data[j]));
        }
    }
    GradCheck g = gradcheck(T, o.loss, m.ps->t, m.ps->n, 1e-2, 0);
    nb_printf("gradient check of the -ELBO (eps fixed), D %d, H %d, Z %d, N %d, every entry of every parameter\n"
              "(draw %d: every ReLU input at least %.3f from its kink), h = 1e-2:\n",
              SD, SH, SZ, SN, draws, margin);
    nb_printf("  -ELBO = %.4f nats/image; %ld entries in %d tensors, worst relative error %.2e (in %s)\n",
              (double)o.loss->data[0], g.checked, m.ps->n, g.max_rel, m.ps->t[g.worst_tensor]->name);
    nb_metric("reparameterized -ELBO gradient check, worst rel. error (float)", g.max_rel, "");
    tape_free(T);
    vae_free(&m);
}

/*md
## Training the reference VAE

DESIGN.md's reference: 784 → 400 (ReLU) → ($\mu$, $\log\sigma^2$) in
$\mathbb R^{20}$, decoder 20 → 400 (ReLU) → 784 logits, Adam with learning
rate $10^{-3}$ (betas 0.9, 0.999), batches of 128 drawn without replacement
from the 60,000 shuffled training images each epoch (469 steps, the last one
of 96 images), one $\varepsilon$ per image per step, 10 epochs. The train
column is the mean of the batch losses during the epoch (the parameters
move while it is measured, as in PyTorch's example); the test column is the
$-$ELBO of all 10,000 test images after the epoch, one $\varepsilon$ per
image, with a fixed evaluation seed. Look for: the reconstruction term
falling fast while the KL *rises* (the encoder learns to use its code), and
test close to train (a model this small does not overfit in 10 epochs).
*/
typedef struct {
    double recon, kl;   /* nats per image */
} Elbo;

typedef struct {
    Elbo train[EPOCHS], test[EPOCHS];
    double seconds[EPOCHS];
    int steps_per_epoch;
} TrainLog;

/* -ELBO of the first n images of s, one eps per image from a generator seeded with seed. */
static Elbo evaluate(const Vae *m, const ImageSet *s, int n, uint64_t seed) {
    enum { CH = 500 };
    static real x[CH * D], logits[CH * D], mu[CH * 20], lv[CH * 20], z[CH * 20];
    static double nll[CH], kl[CH];
    int idx[CH];
    Rng r;
    rng_seed(&r, seed);
    VaeScratch sc = vae_scratch_new(m, CH);
    Elbo e = {0, 0};
    for (int i0 = 0; i0 < n; i0 += CH) {
        int c = n - i0 < CH ? n - i0 : CH;
        for (int i = 0; i < c; i++) idx[i] = i0 + i;
        load_pixels(s, idx, c, x);
        vae_encode(m, &sc, x, c, mu, lv);
        for (int i = 0; i < c * m->Z; i++) z[i] = mu[i] + (real)exp(0.5 * lv[i]) * (real)rng_normal(&r);
        vae_decode(m, &sc, z, c, logits);
        vae_bernoulli_nll(x, logits, c, D, nll);
        vae_kl_rows(mu, lv, c, m->Z, kl);
        for (int i = 0; i < c; i++) e.recon += nll[i], e.kl += kl[i];
    }
    vae_scratch_free(&sc);
    e.recon /= n, e.kl /= n;
    return e;
}

/* Train m for `epochs` epochs (Adam 1e-3, batch 128), logging into lg. */
static void train(Vae *m, Rng *r, int epochs, TrainLog *lg, const char *label) {
    Optimizer *opt = adam_new(m->ps, 1e-3, 0.9, 0.999, 1e-8);
    Tape *T = tape_new();
    int *order = xmalloc(sizeof(int) * n_train);
    for (int i = 0; i < n_train; i++) order[i] = i;
    int steps = (n_train + BATCH - 1) / BATCH;
    lg->steps_per_epoch = steps;
    Progress p;
    progress_start(&p, label, (long)epochs * steps);
    for (int ep = 0; ep < epochs; ep++) {
        double t0 = now_seconds(), sr = 0, sk = 0;
        rng_shuffle(r, order, n_train);
        for (int s = 0; s < steps; s++) {
            int n = n_train - s * BATCH < BATCH ? n_train - s * BATCH : BATCH;
            tape_reset(T);
            Tensor *x = tape_input(T, 2, SHAPE(n, D), 0);      /* [n, D] */
            Tensor *eps = tape_input(T, 2, SHAPE(n, m->Z), 0); /* [n, Z] */
            load_pixels(train_set, order + s * BATCH, n, x->data);
            rng_fill_normal(r, eps->data, eps->size, 0, 1);
            VaeOut o = vae_forward(T, m, x, eps);
            params_zero_grad(m->ps);
            backward(T, o.loss);
            optim_step(opt);
            sr += (double)o.recon->data[0] * n, sk += (double)o.kl->data[0] * n;
            progress_update(&p, (long)ep * steps + s + 1, (double)o.loss->data[0]);
        }
        lg->seconds[ep] = now_seconds() - t0;
        lg->train[ep] = (Elbo){sr / n_train, sk / n_train};
        lg->test[ep] = evaluate(m, test_set, n_test, nb_seed() + 1000);
    }
    progress_end(&p);
    xfree(order);
    tape_free(T);
    optim_free(opt);
}

/* The per-epoch table (recorded) and its .tsv; seconds per epoch to the terminal only. */
static void report(const TrainLog *lg, int epochs, const char *tsv) {
    FILE *f = nb_open(tsv);
    fprintf(f, "# epoch\ttrain_neg_elbo\ttrain_recon\ttrain_kl\ttest_neg_elbo\ttest_recon\ttest_kl\n");
    nb_printf("%5s | %9s %9s %7s | %9s %9s %7s\n", "epoch", "train", "recon", "KL", "test", "recon", "KL");
    nb_printf("%5s | %27s | %27s\n", "", "-ELBO, nats per image", "-ELBO, nats per image");
    double secs = 0;
    for (int e = 0; e < epochs; e++) {
        const Elbo *a = &lg->train[e], *b = &lg->test[e];
        nb_printf("%5d | %9.2f %9.2f %7.2f | %9.2f %9.2f %7.2f\n", e + 1, a->recon + a->kl, a->recon, a->kl,
                  b->recon + b->kl, b->recon, b->kl);
        fprintf(f, "%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", e + 1, a->recon + a->kl, a->recon, a->kl,
                b->recon + b->kl, b->recon, b->kl);
        secs += lg->seconds[e];
    }
    fclose(f);
    printf("  (%.2f s per epoch, %.2f ms per step of batch %d, evaluation excluded)\n", secs / epochs,
           1e3 * secs / epochs / lg->steps_per_epoch, BATCH);
}

static void cell_train(void) {
    static TrainLog lg;
    int epochs = nb_quick() ? 2 : EPOCHS;
    Rng r;
    rng_seed(&r, nb_seed() + 5);
    train(&vae20, &r, epochs, &lg, "VAE Z=20");
    report(&lg, epochs, "vae20-epochs.tsv");
    const Elbo *t = &lg.test[epochs - 1];
    nb_metric("test -ELBO, Z = 20 (PyTorch: 244.0)", t->recon + t->kl, "nats/image");
    nb_metric("test reconstruction, Z = 20", t->recon, "nats/image");
    nb_metric("test KL, Z = 20", t->kl, "nats/image");
    nb_figure("04-elbo-curve", "Train and test -ELBO per epoch (20-D latent), with its reconstruction and KL parts");

    /* pictures: two test images of each class, and their reconstructions
     * (decoded from the mean code mu; the Bernoulli means sigmoid(logits)) */
    static real x[20 * D], logits[20 * D], mu[20 * 20], lv[20 * 20], grid[40 * D];
    int idx[20], got[10] = {0}, k = 0;
    for (int i = 0; i < n_test && k < 20; i++) {
        int c = test_set->labels[i];
        if (got[c] < 2) idx[got[c]++ * 10 + c] = i, k++;
    }
    if (k < 20) fail(EXIT_DATA, "test set", "use the full Fashion-MNIST test set", "fewer than 2 images per class");
    VaeScratch sc = vae_scratch_new(&vae20, 20 * 20);
    load_pixels(test_set, idx, 20, x);
    vae_encode(&vae20, &sc, x, 20, mu, lv);
    vae_decode(&vae20, &sc, mu, 20, logits);
    for (int row = 0; row < 2; row++)
        for (int c = 0; c < 10; c++) {
            memcpy(grid + (long)((2 * row) * 10 + c) * D, x + (long)(row * 10 + c) * D, sizeof(real) * D);
            for (int d = 0; d < D; d++)
                grid[(long)((2 * row + 1) * 10 + c) * D + d] = sigmoid(logits[(long)(row * 10 + c) * D + d]);
        }
    write_grid("reconstructions.tsv", grid, 4, 10, 0.35);
    nb_figure("04-reconstructions",
              "Test images (rows 1 and 3, two of each class) and their reconstructions from the mean code (rows 2 and 4)");

    /* samples from the prior: z ~ N(0, I), decoded to Bernoulli means */
    static real z[64 * 20], samp[64 * D];
    rng_fill_normal(&r, z, 64 * 20, 0, 1);
    vae_decode(&vae20, &sc, z, 64, samp);
    for (long i = 0; i < 64L * D; i++) samp[i] = sigmoid(samp[i]);
    write_grid("prior-samples.tsv", samp, 8, 8, 0.35);
    nb_figure("04-prior-samples", "64 images decoded from z ~ N(0, I) (20-D latent; Bernoulli means shown)");

    /* interpolation between the mean codes of two test images, twice (a
     * T-shirt to a trouser, a sneaker to a bag), the images themselves at the ends */
    static real ends[2 * D], code[2 * 20], lv2[2 * 20], path[10 * 20], strip[24 * D];
    const int pairs[2][2] = {{0, 1}, {7, 8}}; /* classes; the first test image of each */
    for (int q = 0; q < 2; q++) {
        int pair[2] = {idx[pairs[q][0]], idx[pairs[q][1]]};
        real *row = strip + (long)q * 12 * D;
        load_pixels(test_set, pair, 2, ends);
        vae_encode(&vae20, &sc, ends, 2, code, lv2);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 20; j++) {
                double t = i / 9.0;
                path[i * 20 + j] = (real)((1 - t) * code[j] + t * code[20 + j]);
            }
        vae_decode(&vae20, &sc, path, 10, row + D);
        for (long i = D; i < 11L * D; i++) row[i] = sigmoid(row[i]);
        memcpy(row, ends, sizeof(real) * D);
        memcpy(row + 11L * D, ends + D, sizeof(real) * D);
        nb_printf("interpolation %d: test image %d (%s) to test image %d (%s), 10 points on the line between "
                  "their mean codes\n",
                  q + 1, pair[0], FASHION_CLASSES[pairs[q][0]], pair[1], FASHION_CLASSES[pairs[q][1]]);
    }
    write_grid("interpolation.tsv", strip, 2, 12, 0.35);
    nb_figure("04-interpolation",
              "Decoding the straight line between the mean codes of two test images (the images themselves at the ends)");
    vae_scratch_free(&sc);
}

/*md
## The bound is a bound

The ELBO is a lower bound on $\log p(x)$; how loose is it? Importance
sampling with $q$ as the proposal gives an estimate of $\log p(x)$ itself
(Burda, Grosse & Salakhutdinov 2016):

$$\log p(x) \approx \log \frac1K \sum_{k=1}^K w_k, \qquad
w_k = \frac{p(x|z_k)\,p(z_k)}{q(z_k|x)},\quad z_k \sim q(z|x).$$

Its expectation is itself a lower bound that rises with $K$ towards
$\log p(x)$ ($K = 1$ is the ELBO). The $w_k$ are products of 784
probabilities, about $e^{-240}$, so everything happens in logs: the mean of
$K$ exponentials is computed as
$m + \log\frac1K\sum_k e^{\log w_k - m}$ with $m = \max_k \log w_k$
(log-mean-exp), which never underflows. For contrast the last column draws
the same number of $z$ from the *prior* instead of $q$: the naive estimate
of cell 1. Look for: the IW estimate above the ELBO by a few nats, growing
with $K$; the prior-sampling estimate far below both.
*/
static void cell_iw(void) {
    enum { CH = 10 }; /* images per chunk: CH * K rows decoded at once */
    int nimg = nb_quick() ? 50 : 1000;
    const int Z = vae20.Z;
    static real x[CH * D], xs[CH * IW_K * D], logits[CH * IW_K * D], mu[CH * 20], lv[CH * 20], z[CH * IW_K * 20];
    static double nll[CH * IW_K], lw[IW_K], kl[CH];
    double s_elbo = 0, s_iw[3] = {0, 0, 0}, s_prior = 0, s_kl = 0, worst_gap = 1e300;
    const int Ks[3] = {1, 10, IW_K};
    Rng r;
    rng_seed(&r, nb_seed() + 6);
    VaeScratch sc = vae_scratch_new(&vae20, CH * IW_K);
    int idx[CH];
    Progress p;
    progress_start(&p, "IW estimate", nimg / CH);
    for (int c0 = 0; c0 < nimg; c0 += CH) {
        for (int i = 0; i < CH; i++) idx[i] = c0 + i;
        load_pixels(test_set, idx, CH, x);
        for (int i = 0; i < CH * IW_K; i++) memcpy(xs + (long)i * D, x + (long)(i / IW_K) * D, sizeof(real) * D);
        vae_encode(&vae20, &sc, x, CH, mu, lv);
        vae_kl_rows(mu, lv, CH, Z, kl);
        /* z from q: z = mu + sigma eps; log p(z) - log q(z|x) = sum (eps^2 - z^2)/2 + log sigma^2 / 2 */
        static double lpq[CH * IW_K];
        for (int i = 0; i < CH * IW_K; i++) {
            const real *m = mu + (i / IW_K) * Z, *v = lv + (i / IW_K) * Z;
            double a = 0;
            for (int j = 0; j < Z; j++) {
                double e = rng_normal(&r), zz = m[j] + exp(0.5 * v[j]) * e;
                z[(long)i * Z + j] = (real)zz;
                a += 0.5 * (e * e - zz * zz) + 0.5 * v[j];
            }
            lpq[i] = a;
        }
        vae_decode(&vae20, &sc, z, CH * IW_K, logits);
        vae_bernoulli_nll(xs, logits, CH * IW_K, D, nll);
        for (int i = 0; i < CH; i++) {
            double recon = 0;
            for (int k = 0; k < IW_K; k++) lw[k] = -nll[i * IW_K + k] + lpq[i * IW_K + k], recon += nll[i * IW_K + k];
            double elbo = -(recon / IW_K + kl[i]); /* reconstruction averaged over K draws, KL in closed form */
            double iw = log_mean_exp(lw, IW_K);
            s_elbo += elbo, s_kl += kl[i];
            for (int j = 0; j < 3; j++) s_iw[j] += log_mean_exp(lw, Ks[j]);
            if (iw - elbo < worst_gap) worst_gap = iw - elbo;
        }
        /* the same number of z from the prior p(z): log p(x) ~ log mean p(x|z) */
        rng_fill_normal(&r, z, (long)CH * IW_K * Z, 0, 1);
        vae_decode(&vae20, &sc, z, CH * IW_K, logits);
        vae_bernoulli_nll(xs, logits, CH * IW_K, D, nll);
        for (int i = 0; i < CH; i++) {
            for (int k = 0; k < IW_K; k++) lw[k] = -nll[i * IW_K + k];
            s_prior += log_mean_exp(lw, IW_K);
        }
        progress_update(&p, c0 / CH + 1, -s_iw[2] / (c0 + CH));
    }
    progress_end(&p);
    vae_scratch_free(&sc);
    nb_printf("on the first %d test images, nats per image (higher is better):\n", nimg);
    nb_printf("  ELBO (recon over %d draws of q, KL closed form)   %9.2f\n", IW_K, s_elbo / nimg);
    for (int j = 0; j < 3; j++)
        nb_printf("  IW estimate of log p(x), K = %-3d                  %9.2f\n", Ks[j], s_iw[j] / nimg);
    nb_printf("  naive estimate, %d draws from the prior          %9.2f\n", IW_K, s_prior / nimg);
    nb_printf("gap log p(x) - ELBO >= %.2f nats per image on average; smallest gap of one image %.2f\n",
              (s_iw[2] - s_elbo) / nimg, worst_gap);
    nb_printf("(for comparison, KL(q(z|x) || p(z)) averages %.2f nats on these images)\n", s_kl / nimg);
    nb_metric("test -ELBO, 1000 images, Z = 20", -s_elbo / nimg, "nats/image");
    nb_metric("test -log p(x), IW K = 100, 1000 images, Z = 20", -s_iw[2] / nimg, "nats/image");
}

/*md
## A 2-D latent space

The same model with $Z = 2$ fits worse (two numbers must say everything
about an image) but its codes can be drawn. Training is as above with a
fresh initialisation. Then: the mean code $\mu(x)$ of every test image,
coloured by its class; and the decoder's view of the plane, a grid of
codes $z$ over $[-3, 3]^2$ (three prior standard deviations each way),
each decoded to an image. Look for: classes in their own regions (trousers,
bags and footwear apart, the upper-body garments overlapping as they do to
the eye), and the manifold changing smoothly from one kind of item to the
next.
*/
static void cell_latent2d(void) {
    static TrainLog lg;
    int epochs = nb_quick() ? 1 : EPOCHS;
    Rng r;
    rng_seed(&r, nb_seed() + 7);
    vae2 = vae_new(D, HID, 2);
    vae_init(&vae2, &r);
    train(&vae2, &r, epochs, &lg, "VAE Z=2");
    report(&lg, epochs, "vae2-epochs.tsv");
    const Elbo *t = &lg.test[epochs - 1];
    nb_metric("test -ELBO, Z = 2 (PyTorch: 265.1)", t->recon + t->kl, "nats/image");

    /* the mean codes of the test set, with labels */
    enum { CH = 500 };
    static real x[CH * D], mu[CH * 2], lv[CH * 2];
    int idx[CH];
    VaeScratch sc = vae_scratch_new(&vae2, CH);
    FILE *f = nb_open("latent2d.tsv");
    fprintf(f, "# mu1\tmu2\tlabel (0..9, FASHION_CLASSES order)\n");
    double lo[2] = {1e9, 1e9}, hi[2] = {-1e9, -1e9};
    for (int i0 = 0; i0 < n_test; i0 += CH) {
        int c = n_test - i0 < CH ? n_test - i0 : CH;
        for (int i = 0; i < c; i++) idx[i] = i0 + i;
        load_pixels(test_set, idx, c, x);
        vae_encode(&vae2, &sc, x, c, mu, lv);
        for (int i = 0; i < c; i++) {
            fprintf(f, "%.5f\t%.5f\t%d\n", (double)mu[2 * i], (double)mu[2 * i + 1], test_set->labels[i0 + i]);
            for (int j = 0; j < 2; j++) lo[j] = fmin(lo[j], mu[2 * i + j]), hi[j] = fmax(hi[j], mu[2 * i + j]);
        }
    }
    fclose(f);
    nb_printf("mean codes of %d test images span [%.2f, %.2f] x [%.2f, %.2f]\n", n_test, lo[0], hi[0], lo[1], hi[1]);
    nb_figure("04-latent-means", "Mean codes mu(x) of the test images in the 2-D latent space, by class");

    /* the manifold: a G x G grid of z over [-3, 3]^2, top row z2 = +3 */
    enum { G = 15 };
    static real zg[G * G * 2], img[G * G * D];
    VaeScratch sg = vae_scratch_new(&vae2, G * G);
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++) {
            zg[2 * (iy * G + ix)] = (real)(-3 + 6.0 * ix / (G - 1));
            zg[2 * (iy * G + ix) + 1] = (real)(3 - 6.0 * iy / (G - 1));
        }
    vae_decode(&vae2, &sg, zg, G * G, img);
    for (long i = 0; i < (long)G * G * D; i++) img[i] = sigmoid(img[i]);
    write_grid("manifold.tsv", img, G, G, 0.35);
    nb_printf("manifold: %d x %d codes, z1 from -3 (left) to 3 (right), z2 from 3 (top) to -3 (bottom)\n", G, G);
    nb_figure("04-manifold", "Images decoded from a 15 x 15 grid of codes over [-3, 3]^2 of the 2-D latent space");
    vae_scratch_free(&sc);
    vae_scratch_free(&sg);
    vae_free(&vae2);
    vae_free(&vae20);
    imageset_free(train_set);
    imageset_free(test_set);
}

static const Cell CELLS[] = {
    CELL(latent_model, "A latent-variable model"),
    CELL(elbo, "The article's \"losses\", and the ELBO"),
    CELL(kl, "The KL term in closed form"),
    CELL(reparam, "The reparameterization trick"),
    CELL(train, "Training the reference VAE"),
    CELL(iw, "The bound is a bound"),
    CELL(latent2d, "A 2-D latent space"),
};

int main(int argc, char **argv) {
    Chapter ch = {"04-vae-elbo", "The VAE: the evidence lower bound done right", CELLS,
                  sizeof CELLS / sizeof CELLS[0], NULL};
    return notebook_main(argc, argv, &ch);
}
