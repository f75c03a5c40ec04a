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
 * The model, its trainer, the estimates and the figure data live in vae.c;
 * the cells call them. State between cells: the struct st, freed by
 * teardown (which copes with --cell N having run only some cells).
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

/* ---- the chapter's state, shared by the cells; freed by teardown ---------------- */
enum { D = 784, EPOCHS = 10, IW_K = 100 };

static struct {
    VaeData data;             /* the images, and how many each use takes */
    VaeTrainer *vae20, *vae2; /* the 20-D model and the 2-D one */
} st;

static void teardown(void) {
    vae_trainer_free(st.vae20);
    vae_trainer_free(st.vae2);
    vae_data_free(&st.data);
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
    st.data = vae_data_load(nb_data(), nb_quick()); /* checks what every cell reads */
    const VaeData *d = &st.data;
    nb_printf("Fashion-MNIST: %d training and %d test images of %d x %d pixels"
              " (using %d and %d)\n",
              d->train->n, d->test->n, d->train->rows, d->train->cols, d->n_train,
              d->n_test);
    double mean = 0;
    for (long i = 0; i < (long)d->n_train * D; i++) mean += d->train->pixels[i] / 255.0;
    nb_printf("mean pixel intensity (training set): %.4f\n",
              mean / ((double)d->n_train * D));
    VaeConfig cfg = vae_config_default();
    cfg.name = "vae-z20";
    st.vae20 = vae_trainer_new(&cfg, nb_seed());
    const Vae *m = st.vae20->model;
    nb_printf("the model: encoder %d -> %d (ReLU) -> mu, log sigma^2 in R^%d;"
              " decoder %d -> %d (ReLU) -> %d logits\n",
              m->D, m->H, m->Z, m->Z, m->H, m->D);
    for (int i = 0; i < m->ps->n; i++) {
        char shp[64];
        nb_printf("  %-12s %s\n", m->ps->t[i]->name,
                  shape_str(m->ps->t[i], shp, sizeof shp));
    }
    nb_printf(
        "%ld parameters, PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in))\n",
        m->ps->size);
    nb_value("parameters", (double)m->ps->size, "numbers");
}

/*md
## The article's "losses", and the ELBO

The article (its section `4.2`, "变分自编码器（VAE）") gives the VAE two losses:

> 编码器E的损失函数通常定义为：
> $$L_E = D(x) - \log(\sigma(W_E x + b_E))$$
>
> 其中，$D$是数据分布，$\sigma$是sigmoid函数，$W_E$和$b_E$是编码器的权重和偏置。
>
> 解码器D的损失函数通常定义为：
> $$L_D = \log(\sigma(W_D x + b_D))$$

that is, a loss for the encoder E in which "$D$ is the data distribution,
$\sigma$ the sigmoid, $W_E$ and $b_E$ the encoder's weights and bias", and
a loss for "the decoder D". Neither is a VAE objective:

- $D$ is the data distribution, so $D(x)$ is $p_{\text{data}}(x)$: unknown
  (we only have samples of it) and free of every parameter, so it adds
  nothing to any gradient. Minimising $L_E$ is minimising
  $-\log\sigma(W_E x + b_E)$ alone, which pushes $W_E x + b_E$ towards
  $+\infty$ for every $x$: an encoder that says the same thing about every
  image. (The next formula then calls the decoder $D$ too: one letter, two
  meanings.)
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
near $784 \ln 2 \approx 543.4$ nats and the KL near 0; on the first
{{first test images:.0f}} test images this seed's run gives
{{initial reconstruction, Z = 20:.1f}} and {{initial KL, Z = 20:.3f}} nats.
*/
static void cell_elbo(void) {
    enum { N = VAE_FIRST_TEST };
    const Vae *m = st.vae20->model;
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(N, D), 0);     /* [N, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(N, m->Z), 0); /* [N, Z] */
    vae_pixels(st.data.test, NULL, N, xt->data);
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/elbo-eps");
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);
    VaeOut o = vae_forward(T, m, xt, eps);
    /* the article's L_D = log sigmoid(logit), averaged over pixels and images,
     * with the decoder's output bias shifted by s */
    nb_printf("the article's L_D = mean log sigmoid(logit) on %d test images,"
              " output bias shifted by s:\n",
              N);
    for (int k = 0; k < 4; k++) {
        double s = (double[]){0, -10, -100, -1000}[k], ld = 0;
        for (long i = 0; i < (long)N * D; i++) {
            double l = o.logits->data[i] + s; /* log sigmoid(l) = -softplus(-l) */
            ld += -(fmax(-l, 0) + log1p(exp(-fabs(l))));
        }
        nb_printf("  s = %6.0f   L_D = %10.3f\n", s, ld / ((double)N * D));
    }
    nb_printf("-> no minimum: it falls without bound, and x never enters it.\n\n");
    nb_printf("the -ELBO of the same %d images at initialisation"
              " (one draw of eps per image):\n",
              N);
    nb_printf(
        "  reconstruction  E_q[-log p(x|z)]  %9.3f nats/image  (784 ln 2 = %.3f)\n",
        (double)o.recon->data[0], 784 * log(2.0));
    nb_printf("  KL(q(z|x) || p(z))                %9.3f nats/image\n",
              (double)o.kl->data[0]);
    nb_printf("  -ELBO                             %9.3f nats/image\n",
              (double)o.loss->data[0]);
    nb_value("first test images", N, "images");
    nb_value("initial reconstruction, Z = 20", o.recon->data[0], "nats/image");
    nb_value("initial KL, Z = 20", o.kl->data[0], "nats/image");
    nb_graph("04-vae-graph",
             "The computation graph of the VAE's negative ELBO, drawn from the tape", T,
             o.loss);
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
    struct {
        const char *label;
        double mu[2], lv[2];
    } two_d[3] = {
        {"mu = 0, sigma = 1", {0, 0}, {0, 0}},
        {"mu = (1, -2), sigma^2 = (e, 1/4)", {1, -2}, {1, log(0.25)}},
        {"mu = (3, 0), sigma^2 = (0.01, 4)", {3, 0}, {log(0.01), log(4.0)}},
    };
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/kl-monte-carlo");
    nb_printf("%-40s %10s %22s\n", "q", "closed form", "Monte Carlo (M draws)");
    for (int c = 0; c < 4; c++) {
        double mu20[20], lv20[20], se;
        const double *mu = c < 3 ? two_d[c].mu : mu20, *lv = c < 3 ? two_d[c].lv : lv20;
        int Z = c < 3 ? 2 : 20;
        for (int j = 0; c == 3 && j < Z; j++)
            mu20[j] = rng_normal(&r), lv20[j] = -3 + 4 * rng_uniform(&r);
        double closed = vae_kl_closed(mu, lv, Z);
        double mc = vae_kl_monte_carlo(mu, lv, Z, M, &r, &se);
        nb_printf("%-40s %10.4f %12.4f +- %.4f\n",
                  c < 3 ? two_d[c].label : "Z = 20, mu ~ N(0,1), log sigma^2 ~ U(-3,1)",
                  closed, mc, se);
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
loss is {{gradient check -ELBO, small VAE:.1f}} nats in this seed's run, so
its float round-off (a float's relative precision, about $10^{-7}$, of
that) divided by $2h$ leaves about $10^{-4}$ of noise in each numeric
derivative: relative errors of order $10^{-2}$ are what float allows here
(this run's worst:
{{reparameterized -ELBO gradient check, worst rel. error (float):.1e}}),
where a wrong backward is off by order 1. The test suite runs the same
check in double, to $10^{-6}$.
*/
static double grad_norm(const Tensor *t) {
    double s = 0;
    for (long i = 0; i < t->size; i++) s += (double)t->grad[i] * t->grad[i];
    return sqrt(s);
}

static void cell_reparam(void) {
    enum { N = 16 };
    Vae *m = st.vae20->model;
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/reparam");
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(N, D), 0);     /* [N, D] */
    Tensor *eps = tape_input(T, 2, SHAPE(N, m->Z), 0); /* [N, Z] */
    vae_pixels(st.data.test, NULL, N, xt->data);
    rng_fill_normal(&r, eps->data, eps->size, 0, 1);

    /* (a) z drawn: a leaf with the same numbers as mu + sigma eps */
    VaeOut o = vae_forward(T, m, xt, eps);
    Tensor *zleaf = tape_input(T, 2, SHAPE(N, m->Z), 0);
    memcpy(zleaf->data, o.z->data, sizeof(real) * N * m->Z);
    Tensor *logits = linear(T, &m->fc4, t_relu(T, linear(T, &m->fc3, zleaf)));
    Tensor *recon_drawn = t_bce_with_logits(T, logits, xt);
    params_zero_grad(m->ps);
    backward(T, recon_drawn);
    nb_printf("reconstruction term, z drawn as a leaf:        %.4f nats/image,"
              " |grad fc1.weight| = %.3g, |grad fc4.weight| = %.3g\n",
              (double)recon_drawn->data[0], grad_norm(m->fc1.w), grad_norm(m->fc4.w));
    /* (b) z = mu + sigma * eps on the tape */
    params_zero_grad(m->ps);
    backward(T, o.recon);
    nb_printf("reconstruction term, z = mu + sigma * eps:     %.4f nats/image,"
              " |grad fc1.weight| = %.3g, |grad fc4.weight| = %.3g\n",
              (double)o.recon->data[0], grad_norm(m->fc1.w), grad_norm(m->fc4.w));
    nb_printf("-> same value, but only the reparameterized z lets the gradient"
              " reach the encoder.\n\n");
    params_zero_grad(m->ps);
    tape_free(T);

    /* (c) gradient check of the whole -ELBO, eps fixed, on a small VAE whose
     * ReLU inputs all sit at least 0.05 from their kink */
    enum { SD = 16, SH = 6, SZ = 3, SN = 3 };
    Vae *small = vae_new(SD, SH, SZ);
    T = tape_new();
    double margin;
    int draws = vae_draw_away_from_kinks(small, T, &r, SN, 0.05, &o, &margin);
    GradCheck g = gradcheck(T, o.loss, small->ps->t, small->ps->n, 1e-2, 0);
    nb_printf("gradient check of the -ELBO (eps fixed), D %d, H %d, Z %d, N %d,"
              " every entry of every parameter\n"
              "(draw %d: every ReLU input at least %.3f from its kink), h = 1e-2:\n",
              SD, SH, SZ, SN, draws, margin);
    nb_printf("  -ELBO = %.4f nats/image; %ld entries in %d tensors,"
              " worst relative error %.2e (in %s)\n",
              (double)o.loss->data[0], g.checked, small->ps->n, g.max_rel,
              small->ps->t[g.worst_tensor]->name);
    nb_metric("reparameterized -ELBO gradient check, worst rel. error (float)",
              g.max_rel, "");
    nb_value("gradient check -ELBO, small VAE", o.loss->data[0], "nats/image");
    tape_free(T);
    vae_free(small);
}

/*md
## Training the reference VAE

DESIGN.md's reference (`vae_config_default()` in `vae.c`): 784 → 400
(ReLU) → ($\mu$, $\log\sigma^2$) in $\mathbb R^{20}$, decoder 20 → 400
(ReLU) → 784 logits, Adam with learning rate $10^{-3}$ and
$\beta = (0.9, 0.999)$, batches of 128 drawn without replacement from the
{{training images:'.0f}} shuffled training images each epoch
({{steps per epoch:.0f}} steps, the last one of {{last batch:.0f}} images),
one $\varepsilon$ per image per step, {{epochs, Z = 20:.0f}} epochs. The
cell is a few calls: `vae_train_epochs` runs `vae_trainer_step` (one Adam
step, the step `bench/bench_vae.c` times) and, after each epoch,
`vae_trainer_eval`. The train column is the mean of the batch losses during
the epoch (the parameters move while it is measured, as in PyTorch's
example); the test column is the $-$ELBO of all {{test images:'.0f}} test
images after the epoch, one $\varepsilon$ per image from a fixed
evaluation stream.

In this seed's run the reconstruction term fell from
{{train reconstruction, first epoch, Z = 20:.1f}} nats in the first epoch
to {{train reconstruction, last epoch, Z = 20:.1f}} in the last, while the
train column's KL *rose*, from {{train KL, first epoch, Z = 20:.2f}} to
{{train KL, last epoch, Z = 20:.2f}} (the first epoch's mean includes the
untrained start, whose codes say almost nothing): the encoder learns to use
its code, paying in KL for the reconstruction it buys. After the last epoch
the test $-$ELBO is {{test -ELBO, Z = 20:.1f}} nats per image, against
{{train -ELBO, last epoch, Z = 20:.1f}} in that epoch's train column. Look
in the curves below, epoch by epoch, for a test value that drifts up away
from train: the sign of overfitting.
*/
/* The figures the prose cites: data and schedule, first and last epoch. */
static void record_training(const VaeEpoch *log, int epochs, int batch) {
    const VaeEpoch *first = &log[0], *last = &log[epochs - 1];
    int n = st.data.n_train, steps = (n + batch - 1) / batch;
    nb_value("training images", n, "images");
    nb_value("test images", st.data.n_test, "images");
    nb_value("steps per epoch", steps, "steps");
    nb_value("last batch", n - (steps - 1) * batch, "images");
    nb_value("epochs, Z = 20", epochs, "epochs");
    nb_value("train reconstruction, first epoch, Z = 20", first->train.recon,
             "nats/image");
    nb_value("train reconstruction, last epoch, Z = 20", last->train.recon,
             "nats/image");
    nb_value("train KL, first epoch, Z = 20", first->train.kl, "nats/image");
    nb_value("train KL, last epoch, Z = 20", last->train.kl, "nats/image");
    nb_value("train -ELBO, last epoch, Z = 20", last->train.neg_elbo, "nats/image");
}

static void cell_train(void) {
    const VaeData *d = &st.data;
    VaeTrainer *t = st.vae20;
    VaeEpoch log[EPOCHS];
    int epochs = nb_quick() ? 2 : EPOCHS;
    vae_train_epochs(t, d->train, d->n_train, d->test, d->n_test, epochs,
                     "vae20-epochs.tsv", log);
    const VaeEvalStats *e = &log[epochs - 1].test;
    nb_metric("test -ELBO, Z = 20", e->neg_elbo, "nats/image");
    nb_metric("test reconstruction, Z = 20", e->recon, "nats/image");
    nb_metric("test KL, Z = 20", e->kl, "nats/image");
    record_training(log, epochs, t->cfg.batch);
    nb_figure(
        "04-elbo-curve",
        "Train and test -ELBO per epoch (20-D latent), with its reconstruction and KL"
        " parts");

    int idx[20]; /* two test images of each class: idx[row * 10 + class] */
    vae_class_examples(d->test, d->n_test, 2, idx);
    vae_write_reconstructions(t->model, d->test, idx, 2, "reconstructions.tsv");
    nb_figure("04-reconstructions",
              "Test images (rows 1 and 3, two of each class) and their"
              " reconstructions from the mean code (rows 2 and 4)");
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/prior-samples");
    vae_write_prior_samples(t->model, &r, 8, "prior-samples.tsv");
    nb_figure(
        "04-prior-samples",
        "64 images decoded from z ~ N(0, I) (20-D latent; Bernoulli means shown)");
    /* the first test image of a T-shirt and a trouser, of a sneaker and a bag */
    const int pairs[2][2] = {{idx[0], idx[1]}, {idx[7], idx[8]}};
    vae_write_interpolations(t->model, d->test, pairs, 2, 10, "interpolation.tsv");
    nb_figure("04-interpolation",
              "Decoding the straight line between the mean codes of two"
              " test images (the images themselves at the ends)");
}

/*md
## The bound is a bound

The ELBO is a lower bound on $\log p(x)$; how loose is it? Importance
sampling with $q$ as the proposal gives an estimate of $\log p(x)$ itself
(Burda, Grosse & Salakhutdinov 2016):

$$\log p(x) \approx \log \frac1K \sum_{k=1}^K w_k, \qquad
w_k = \frac{p(x|z_k)\,p(z_k)}{q(z_k|x)},\quad z_k \sim q(z|x).$$

Its expectation is itself a lower bound that rises with $K$ towards
$\log p(x)$ (at $K = 1$ that expectation is the ELBO). $\log w_k$ is about minus the $-$ELBO,
hundreds of nats, and $e^{-104}$ is already below the smallest float, so
everything happens in logs: the mean of $K$ exponentials is computed as
$m + \log\frac1K\sum_k e^{\log w_k - m}$ with $m = \max_k \log w_k$
(log-mean-exp), which never underflows. For contrast the last row draws
the same number of $z$ from the *prior* instead of $q$: the naive estimate
of cell 1.

The caveat of the first cell holds here too. Fashion-MNIST's grey levels
are soft targets of the Bernoulli cross-entropy, so what this cell calls
"$\log p(x)$" is the log of $\int e^{-\mathrm{BCE}(x, z)}\,p(z)\,dz$, not
the log-probability of an image under a normalised distribution over grey
images. The inequalities hold all the same (Jensen's inequality needs only
a positive $p(x|z)$), so the ELBO, the IW estimates and the naive estimate
can be compared with one another; they cannot be compared with published
log-likelihoods of binarized data sets.

In this seed's run, on the first {{IW images:.0f}} test images, the $K = 100$
estimate, {{IW log p(x), K = 100, Z = 20:.1f}} nats, is
{{IW gap, K = 100:.1f}} nats above the ELBO,
{{IW ELBO, Z = 20:.1f}}, and rises with $K$ (from
{{IW log p(x), K = 1, Z = 20:.1f}} at $K = 1$ and
{{IW log p(x), K = 10, Z = 20:.1f}} at $K = 10$); the prior-sampling
estimate, {{naive log p(x) from the prior, Z = 20:.1f}}, is far below both.
*/
static void cell_iw(void) {
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/iw");
    VaeIw e = vae_iw_estimate(st.vae20->model, st.data.test, st.data.n_iw, IW_K, &r);
    vae_iw_print(&e, st.data.n_iw);
    nb_metric("IW test -ELBO, Z = 20", -e.elbo, "nats/image");
    nb_metric("IW test -log p(x), K = 100, Z = 20", -e.iw[2], "nats/image");
    nb_value("IW images", st.data.n_iw, "images");
    nb_value("IW ELBO, Z = 20", e.elbo, "nats/image");
    nb_value("IW log p(x), K = 1, Z = 20", e.iw[0], "nats/image");
    nb_value("IW log p(x), K = 10, Z = 20", e.iw[1], "nats/image");
    nb_value("IW log p(x), K = 100, Z = 20", e.iw[2], "nats/image");
    nb_value("IW gap, K = 100", e.iw[2] - e.elbo, "nats/image");
    nb_value("naive log p(x) from the prior, Z = 20", e.prior, "nats/image");
}

/*md
## A 2-D latent space

The same model with $Z = 2$ fits worse (two numbers must say everything
about an image: in this seed's run its test $-$ELBO is
{{test -ELBO, Z = 2:.1f}} nats after {{epochs, Z = 2:.0f}} epochs, against
{{test -ELBO, Z = 20:.1f}} for $Z = 20$ after {{epochs, Z = 20:.0f}}), but
its codes can be drawn. Training is as above, from a fresh initialisation
(the trainer's own named streams). Then: the mean code $\mu(x)$ of every test image,
coloured by its class; and the decoder's view of the plane, a grid of
codes $z$ over $[-3, 3]^2$ (three prior standard deviations each way),
each decoded to an image. Look for: classes in their own regions (trousers,
bags and footwear apart, the upper-body garments overlapping as they do to
the eye), and the manifold changing smoothly from one kind of item to the
next.
*/
static void cell_latent2d(void) {
    const VaeData *d = &st.data;
    VaeEpoch log[EPOCHS];
    int epochs = nb_quick() ? 1 : EPOCHS;
    VaeConfig cfg = vae_config_default();
    cfg.name = "vae-z2", cfg.Z = 2;
    VaeTrainer *t = st.vae2 = vae_trainer_new(&cfg, nb_seed());
    vae_train_epochs(t, d->train, d->n_train, d->test, d->n_test, epochs,
                     "vae2-epochs.tsv", log);
    nb_metric("test -ELBO, Z = 2", log[epochs - 1].test.neg_elbo, "nats/image");
    nb_value("epochs, Z = 2", epochs, "epochs");

    double lo[2], hi[2];
    vae_write_latent_means(t->model, d->test, d->n_test, "latent2d.tsv", lo, hi);
    nb_printf("mean codes of %d test images span [%.2f, %.2f] x [%.2f, %.2f]\n",
              d->n_test, lo[0], hi[0], lo[1], hi[1]);
    nb_figure("04-latent-means",
              "Mean codes mu(x) of the test images in the 2-D latent space, by class");
    vae_write_manifold(t->model, 15, 3, "manifold.tsv");
    nb_figure(
        "04-manifold",
        "Images decoded from a 15 x 15 grid of codes over [-3, 3]^2 of the 2-D latent"
        " space");
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/04-vae-elbo/`, leaving the book's
run alone; try other values too), then open the outcome this course's run
gives. The command runs the whole chapter first (the cells below share its
data and its model); each experiment itself costs seconds.

### Experiment: weigh the KL term by $\beta = 4$

The loss is reconstruction + KL, each counted once. Weigh the KL term four
times ($\beta = 4$, the "$\beta$-VAE" of Higgins et al., 2017) and train
a short run, one pass over the first {{exp images:'.0f}} training images,
with $\beta = 4$ and one with $\beta = 1$. Then measure both on test
images with the plain, unweighted $-$ELBO. *Predict*: which of the two
parts moves, in which direction, and is the $-$ELBO (the bound we report)
better or worse?

Run: `build/bin/04 --set beta=4`

::: outcome
With $\beta = 1$: reconstruction {{exp beta recon at beta 1:.1f}}, KL
{{exp beta KL at beta 1:.1f}}, $-$ELBO {{exp beta -ELBO at beta 1:.1f}}
nats per image. With $\beta$ = {{exp beta beta:.0f}}: reconstruction
{{exp beta recon at the changed beta:.1f}}, KL
{{exp beta KL at the changed beta:.1f}}, $-$ELBO
{{exp beta -ELBO at the changed beta:.1f}}. With $\beta > 1$ the KL term is
cut: the codes carry less information about each image, and the
reconstructions get worse;
{{exp beta verdict}}. $\beta \ne 1$ trains something other than the ELBO;
it is chosen for what the codes look like, not for the likelihood.
:::

### Experiment: a thousand importance samples

The bound-is-a-bound cell estimated $\log p(x)$ with $K = 100$ draws from
$q$ per image, {{IW gap, K = 100:.1f}} nats above the ELBO. Take $K = 1000$
on the first {{exp k images:.0f}} test images, next to $K = 100$ on the
same images (`--quick` takes a tenth of the draws). *Predict*: how much
higher does the estimate go: about as much again, much less, or much more?

Run: `build/bin/04 --set k=1000`

::: outcome
On these images the ELBO is {{exp k ELBO:.2f}}; $K = 100$ gives
{{exp k log p(x) at K 100:.2f}} and $K$ = {{exp k K:.0f}} gives
{{exp k log p(x) at the changed K:.2f}} nats per image: ten times the
draws add {{exp k gain:.2f}} nats, against the
{{exp k gap at K 100:.2f}} that the first hundred gained over the ELBO:
{{exp k verdict}}. Each draw only helps when it lands where $p(x|z)p(z)$ is
large, and $q$ already proposes those places.
:::
*/
/* The beta experiment's short runs: one pass over the first EXP_IMAGES
 * training images (512 with --quick), then the plain -ELBO on the
 * first EXP_TEST_IMAGES test images (100 with --quick). */
enum { EXP_IMAGES = 10000, EXP_TEST_IMAGES = 2000 };

static int exp_images(void) {
    return nb_quick() ? 512 : EXP_IMAGES;
}

static int exp_test_images(void) {
    return nb_quick() ? 100 : EXP_TEST_IMAGES;
}

/* A short run weighing KL by beta, one shuffled pass over the first
 * exp_images() training images in the trainer's batches (streams "<name>/..."). */
static VaeEvalStats exp_run(const char *name, double beta) {
    VaeConfig cfg = vae_config_default();
    cfg.name = name, cfg.beta = beta;
    VaeTrainer *t = vae_trainer_new(&cfg, nb_seed());
    for (int done = 0; !done;)
        done = vae_trainer_step(t, st.data.train, exp_images()).epoch_done;
    int n = exp_test_images();
    VaeEvalStats e = vae_trainer_eval(t, st.data.test, n);
    nb_printf("beta = %g: test -ELBO %.2f = reconstruction %.2f + KL %.2f nats/image\n",
              beta, e.neg_elbo, e.recon, e.kl);
    vae_trainer_free(t);
    return e;
}

static void cell_exp_beta(void) {
    nb_printf("one pass over the first %d training images, batches of 128; then the "
              "first %d test images\n",
              exp_images(), exp_test_images());
    nb_value("exp images", exp_images(), "images");
    VaeEvalStats e1 = exp_run("vae-exp-beta 1", 1);
    double beta = nb_setting("beta");
    VaeEvalStats e = exp_run("vae-exp-beta", beta);
    nb_value("exp beta beta", beta, "");
    nb_value("exp beta recon at beta 1", e1.recon, "nats/image");
    nb_value("exp beta KL at beta 1", e1.kl, "nats/image");
    nb_value("exp beta -ELBO at beta 1", e1.neg_elbo, "nats/image");
    nb_value("exp beta recon at the changed beta", e.recon, "nats/image");
    nb_value("exp beta KL at the changed beta", e.kl, "nats/image");
    nb_value("exp beta -ELBO at the changed beta", e.neg_elbo, "nats/image");
    double lost = e.recon - e1.recon, saved = e1.kl - e.kl;
    nb_text(
        "exp beta verdict", "%s",
        lost > saved && saved > 0
            ? "they lose more than the KL saves, so the bound on log p(x) gets looser"
        : saved > 0 ? "yet the KL saves more than they lose: in this short run the "
                      "bound is tighter"
                    : "and in this short run the KL did not even fall");
}

/* The IW estimate of the chapter's model with K and with the setting k draws,
 * on the same EXP_IW_IMAGES test images (stream "vae-elbo/exp k"; --quick:
 * a tenth of the draws). */
enum { EXP_IW_IMAGES = 20 };

static void cell_exp_k(void) {
    int n = nb_quick() ? 10 : EXP_IW_IMAGES,
        K = (int)nb_setting("k") / (nb_quick() ? 10 : 1);
    if (K < 10) K = 10;
    Rng r;
    rng_stream(&r, nb_seed(), "vae-elbo/exp k");
    VaeIw e100 = vae_iw_estimate(st.vae20->model, st.data.test, n, IW_K, &r);
    VaeIw ek = vae_iw_estimate(st.vae20->model, st.data.test, n, K, &r);
    nb_printf("first %d test images: ELBO %.3f; log p(x) with K = %d: %.3f, with K = "
              "%d: %.3f nats/image\n",
              n, e100.elbo, IW_K, e100.iw[2], K, ek.iw[2]);
    nb_value("exp k images", n, "images");
    nb_value("exp k K", K, "");
    nb_value("exp k ELBO", e100.elbo, "nats/image");
    nb_value("exp k log p(x) at K 100", e100.iw[2], "nats/image");
    nb_value("exp k log p(x) at the changed K", ek.iw[2], "nats/image");
    nb_value("exp k gain", ek.iw[2] - e100.iw[2], "nats/image");
    nb_value("exp k gap at K 100", e100.iw[2] - e100.elbo, "nats/image");
    double gain = ek.iw[2] - e100.iw[2], gap = e100.iw[2] - e100.elbo;
    nb_text("exp k verdict", "%s",
            gain > 0 && gain < gap
                ? "the estimate still rises, but ever more slowly, towards log p(x)"
            : gain > 0 ? "here the second tenfold gains more than the first"
                       : "here the larger K even comes out lower: on so few images the "
                         "draws' noise "
                         "is larger than the gain");
}

static const Cell CELLS[] = {
    CELL(latent_model, "A latent-variable model"),
    CELL(elbo, "The article's \"losses\", and the ELBO"),
    CELL(kl, "The KL term in closed form"),
    CELL(reparam, "The reparameterization trick"),
    CELL(train, "Training the reference VAE"),
    CELL(iw, "The bound is a bound"),
    CELL(latent2d, "A 2-D latent space"),
    CELL(exp_beta, "Experiment: weigh the KL term by beta"),
    CELL(exp_k, "Experiment: a thousand importance samples"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"beta", 4, 0, 100, 0,
     "the weight of the KL term in the experiment's second short run (the ELBO's: 1)"},
    {"k", 1000, 10, 100000, 1,
     "the importance samples per image of the experiment (the chapter's: 100)"},
};

int main(int argc, char **argv) {
    Chapter ch = {"04-vae-elbo", "The VAE: the evidence lower bound done right", CELLS,
                  sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &ch);
}
