/* chapters/02-gan-loss/chapter.c - Chapter 2: the GAN and its losses.
 *
 * Teaches: the GAN minimax game; L_D and L_G and who minimises what; why the
 * generator uses the non-saturating loss; the optimal discriminator; a GAN
 * trained on a ring of 8 Gaussians with both losses, measured the way the
 * mode-collapse literature measures it; and one remedy for mode collapse
 * (PacGAN's packing, with an annealed learning rate).
 * Leaves out: images (chapter 3), Wasserstein and other losses, spectral
 * normalisation, evaluation metrics for images (FID).
 * Run: make run-02, or build/bin/02 --step to go cell by cell.
 *
 * Dimension key (as ring.h): N batch, Z latent width, H hidden width,
 * P packing degree. The model, losses, metrics and training step are in
 * ring.c (woven after this file).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "notebook.h"
#include "optim.h"
#include "ring.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

/*md
# The GAN and its losses

A generative adversarial network (Goodfellow et al., 2014) learns to sample
from a distribution it only sees examples of. Two networks play a game: the
*generator* $G$ turns noise $z \sim \mathcal N(0, I)$ into a sample $G(z)$;
the *discriminator* $D$ looks at a sample and says how likely it is to be
real. $D$ learns to tell real from generated; $G$ learns to make $D$ wrong.
This chapter writes down the game and its losses exactly, shows which form
of the generator's loss actually trains, and runs a GAN on the standard
toy problem for mode collapse: a ring of 8 Gaussians in the plane.
*/

/* ---- settings ---------------------------------------------------------------- */
enum {
    QUICK_STEPS = 40, /* --quick; the full run takes ring_config_default's steps */
    NRUNS = 5,        /* runs (seeds) per variant in the tables */
    PACK = 2,         /* PacGAN's packing degree for the remedy */
};

static double logit(double p) {
    return log(p / (1 - p));
}

/* A [1, 1] tape input holding the logit l (with a gradient). */
static Tensor *logit_leaf(Tape *T, double l) {
    Tensor *t = tape_input(T, 2, SHAPE(1, 1), 1);
    t->data[0] = (real)l;
    return t;
}

/* The same, holding the logit of the probability p. */
static Tensor *one_logit(Tape *T, double p) {
    return logit_leaf(T, logit(p));
}

/*md
## The game

The value of the game is
$$V(D, G) = \mathbb E_{x \sim p_\text{data}}[\log D(x)] + \mathbb E_{z}[\log(1 - D(G(z)))],
\qquad \min_G \max_D V(D, G).$$
$D$ *maximises* $V$, which is the same as *minimising* its own loss, the
binary cross-entropy of a classifier with labels real = 1, fake = 0:
$$L_D = -\mathbb E[\log D(x)] - \mathbb E[\log(1 - D(G(z)))].$$
$G$ only appears in the second term of $V$, so $G$ *minimises*
$$L_G^\text{sat} = \mathbb E[\log(1 - D(G(z)))] .$$
The article says the discriminator is trained to *maximise* its loss and the
generator to *minimise* its own. That is wrong as stated: maximising $L_D$
would train $D$ to call real data fake. **Each network minimises its own
loss**; the game is in the fact that the two losses pull $D(G(z))$ in
opposite directions ($L_D$ rewards $D(G(z)) \to 0$, $L_G$ rewards
$D(G(z)) \to 1$).

In code $D$ outputs a *logit* $l$ and $D = \sigma(l)$; every loss is a
binary cross-entropy with logits (`t_bce_with_logits`), the stable form
$\mathrm{softplus}(l) - y\,l$ that never takes the log of a rounded
probability: $-\log D = \mathrm{BCE}(l, 1)$ and $-\log(1 - D) = \mathrm{BCE}(l, 0)$.
The cell evaluates each per-sample term that way, and the generator's two
losses with `ring_loss_g` (in `ring.c`), for a few values of $D$.
Look at what each term rewards, and at the equilibrium: when $G$ matches
the data, the best $D$ says $\tfrac12$ everywhere, and then
$L_D = 2\log 2 = \log 4 \approx 1.386$ nats and the non-saturating
$L_G = \log 2 \approx 0.693$ nats. Those are the levels to compare the
training curves with.
*/
static void cell_game(void) {
    Tape *T = tape_new();
    const double ps[] = {0.01, 0.1, 0.5, 0.9, 0.99};
    nb_printf("%-6s | %-14s | %-18s | %-15s %-15s\n", "D", "D's real term",
              "D's fake term", "G, saturating", "G, non-sat.");
    nb_printf("%-6s | %-14s | %-18s | %-15s %-15s\n", "", "-log D(x)",
              "-log(1-D(G(z)))", "log(1-D(G(z)))", "-log D(G(z))");
    for (int i = 0; i < 5; i++) {
        tape_reset(T);
        double p = ps[i];
        double real_term =
            t_bce_with_logits(T, one_logit(T, p), const_column(T, 1, 1))->data[0];
        double fake_term =
            t_bce_with_logits(T, one_logit(T, p), const_column(T, 1, 0))->data[0];
        double g_sat = ring_loss_g(T, one_logit(T, p), 1)->data[0];
        double g_ns = ring_loss_g(T, one_logit(T, p), 0)->data[0];
        nb_printf("%-6.2f | %14.4f | %18.4f | %15.4f %15.4f\n", p, real_term, fake_term,
                  g_sat, g_ns);
    }
    tape_reset(T);
    double ld = ring_loss_d(T, one_logit(T, 0.5), one_logit(T, 0.5))->data[0];
    double lg = ring_loss_g(T, one_logit(T, 0.5), 0)->data[0];
    nb_printf("\nat equilibrium (D = 1/2 everywhere): L_D = %.4f nats (log 4 = %.4f), "
              "L_G = %.4f nats (log 2)\n",
              ld, log(4), lg);
    nb_printf("D's terms fall as D(x) -> 1 and D(G(z)) -> 0; both G losses fall as "
              "D(G(z)) -> 1.\n");
    tape_free(T);
}

/*md
## Why the generator uses $-\log D(G(z))$

Early in training $G$ is bad, $D$ spots its samples easily and
$D(G(z)) \to 0$. Look at the gradient of each generator loss with respect to
$D$'s logit $l$ (everything upstream in $G$ is multiplied by it):
$$\frac{\partial}{\partial l}\log(1 - \sigma(l)) = -\sigma(l) = -D(G(z)),
\qquad \frac{\partial}{\partial l}\bigl(-\log \sigma(l)\bigr) = -(1 - D(G(z))).$$
The saturating loss gives a gradient of size $D(G(z))$: it *vanishes
exactly when $G$ is losing*. The non-saturating loss has the same fixed
point (both push $D(G(z))$ up) but a gradient near $-1$ there, and it only
fades when $G$ is already winning. Goodfellow et al. proposed it for this
reason. The cell computes both gradients by backward through the library's
losses and checks them against the two formulas.
*/
static void cell_gradients(void) {
    Tape *T = tape_new();
    FILE *f = nb_open("grad.tsv");
    fprintf(f, "# D(G(z))\tdLG_dl_saturating\tdLG_dl_nonsaturating\n");
    double worst = 0;
    nb_printf("%10s %22s %22s\n", "D(G(z))", "saturating dL/dl",
              "non-saturating dL/dl");
    for (int i = 0; i <= 400; i++) {
        /* logits from -9.2 to 9.2, so D(G(z)) runs from 1e-4 to 1 - 1e-4, evenly in the logit */
        double g[2], p = 0;
        for (int sat = 0; sat < 2; sat++) {
            tape_reset(T);
            Tensor *l = logit_leaf(T, -9.2 + 18.4 * i / 400.0);
            backward(T, ring_loss_g(T, l, !sat));
            g[sat] = l->grad[0];
            p = mean_sigmoid(l); /* D's verdict on this one logit */
        }
        worst = fmax(worst, fmax(fabs(g[0] + p), fabs(g[1] + (1 - p))));
        fprintf(f, "%.6e\t%.6e\t%.6e\n", p, g[0], g[1]);
        if (i % 50 == 0) nb_printf("%10.4g %22.4g %22.4g\n", p, g[0], g[1]);
    }
    fclose(f);
    nb_printf("largest difference from -D and -(1-D): %.1e\n", worst);
    nb_printf("at D(G(z)) = 0.0001 the saturating gradient is 10^4 times smaller than "
              "the non-saturating one.\n");
    nb_figure("02-grad", "Gradient of the generator's loss with respect to D's logit, "
                         "as a function of D(G(z))");
    tape_free(T);
}

/*md
## The optimal discriminator

For a fixed $G$ with sample density $p_g$, $D$ maximises
$\int p_\text{data}(x)\log D(x) + p_g(x)\log(1 - D(x))\,dx$ point by point;
$a\log y + b\log(1-y)$ peaks at $y = a/(a+b)$, so
$$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} ,$$
and at $D^*$ the discriminator's loss is
$L_D = \log 4 - 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$: training $D$ to
the end measures the Jensen-Shannon divergence.

What $G$ then minimises depends on its loss. With the *saturating* loss, $G$
minimises the second term of $V$; at $D^*$, $V = 2\,\mathrm{JSD} - \log 4$
and the first term does not depend on $G$, so $G$ minimises the JSD. The
*non-saturating* loss, the one this chapter trains, is another function. From
$-\log D^* = \log\frac{p_g}{p_\text{data}} - \log(1 - D^*)$,
$$\mathbb E_{p_g}[-\log D^*(x)] = \mathrm{KL}(p_g \,\|\, p_\text{data}) - \mathbb E_{p_g}[\log(1 - D^*(x))],$$
and the last term is minus the saturating loss, whose gradient is that of
$2\,\mathrm{JSD}$. So, with $D = D^*$ held fixed, the non-saturating loss
moves $G$ along the gradient of
$$\mathrm{KL}(p_g \,\|\, p_\text{data}) - 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$$
(Arjovsky & Bottou, "Towards Principled Methods for Training GANs", ICLR
2017; Huszár, "How (not) to train your generative model", 2015). The KL
term is the *reverse* KL: it costs $G$ dearly to put mass where there is no
data and almost nothing to leave a mode empty, and the JSD enters with a
minus sign. Both push towards dropping modes rather than covering them;
the ring below measures how often each loss drops modes in practice. The
next two cells check $D^*$ and then show why the non-saturating loss is used
anyway.

We check $D^*$ in 1-D: $p_\text{data} = \tfrac12\mathcal N(-1.5, 0.4^2) +
\tfrac12\mathcal N(1, 0.6^2)$, a fixed "generator" $p_g = \mathcal N(0, 1.2^2)$,
and a small D (1→32→32→1, ReLU) trained with $L_D$ on samples of both.
Look for the trained $D$ on top of $D^*$ where there are samples, and free to
do anything where both densities are nearly zero (no sample ever asks). In
this run the integrals give $L_D$ = {{1-D, L_D at D*:.4f}} nats at $D^*$ (a
JSD of {{1-D, JSD:.4f}} nats), and the trained $D$'s loss is
{{1-D, L_D of the trained D minus L_D at D*:.1e}} nats above it; where the
densities are not small, $D$ and $D^*$ differ by at most
{{1-D, largest gap between D and D*:.2f}}.
*/
static double normal_pdf(double x, double mu, double sd) {
    double u = (x - mu) / sd;
    return exp(-0.5 * u * u) / (sd * sqrt(2 * M_PI));
}
static double p_data1(double x) {
    return 0.5 * normal_pdf(x, -1.5, 0.4) + 0.5 * normal_pdf(x, 1, 0.6);
}

/* A fixed 1-D "generator": samples N(mu, sd^2). */
typedef struct {
    double mu, sd;
} Gen1;

typedef struct {
    ParamSet *ps;
    Linear fc1, fc2, fc3;
} Disc1;

/* x [n, 1] -> logits [n, 1] */
static Tensor *disc1(Tape *T, const Disc1 *d, Tensor *x) {
    Tensor *h = t_relu(T, linear(T, &d->fc1, x));
    h = t_relu(T, linear(T, &d->fc2, h));
    return linear(T, &d->fc3, h);
}

/* Train a fresh 1 -> 32 -> 32 -> 1 D with L_D, batches of 256 real points
 * and 256 of g, Adam as the ring's; streams "gan-loss/<label> init|data". */
static Disc1 train_disc1(Gen1 g, const char *label) {
    char name[64];
    Rng init, data;
    snprintf(name, sizeof name, "gan-loss/%s init", label);
    rng_stream(&init, nb_seed(), name);
    snprintf(name, sizeof name, "gan-loss/%s data", label);
    rng_stream(&data, nb_seed(), name);
    Disc1 d = {.ps = params_new()};
    d.fc1 = linear_new(d.ps, "fc1", 1, 32, 1);
    d.fc2 = linear_new(d.ps, "fc2", 32, 32, 1);
    d.fc3 = linear_new(d.ps, "fc3", 32, 1, 1);
    params_alloc(d.ps);
    Linear *ls[3] = {&d.fc1, &d.fc2, &d.fc3};
    for (int i = 0; i < 3; i++) linear_init_pytorch(ls[i], &init);
    Optimizer *opt = adam_new(d.ps, 1e-3, 0.5, 0.999, 1e-8);
    Tape *T = tape_new();
    /* a net this small is faster on one core than split across two */
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const int N = 256, steps = nb_quick() ? 100 : 4000;
    Progress pr;
    progress_start(&pr, label, steps);
    for (int s = 1; s <= steps; s++) {
        tape_reset(T);
        Tensor *x = tape_input(T, 2, SHAPE(N, 1), 0),
               *fake = tape_input(T, 2, SHAPE(N, 1), 0);
        for (int i = 0; i < N; i++) {
            x->data[i] =
                (real)(rng_uniform(&data) < 0.5 ? -1.5 + 0.4 * rng_normal(&data)
                                                : 1 + 0.6 * rng_normal(&data));
            fake->data[i] = (real)(g.mu + g.sd * rng_normal(&data));
        }
        Tensor *loss = ring_loss_d(T, disc1(T, &d, x), disc1(T, &d, fake));
        params_zero_grad(d.ps);
        backward(T, loss);
        optim_step(opt);
        progress_update(&pr, s, loss->data[0]);
    }
    progress_end(&pr);
    omp_set_num_threads(threads);
    optim_free(opt);
    tape_free(T);
    return d;
}

static void cell_optimal_d(void) {
    const Gen1 g = {0, 1.2};
    Disc1 d = train_disc1(g, "1-d");
    /* evaluate on a fine grid: D vs D*, and L_D and the JSD by integration */
    enum { NG = 2401 };
    const double lo = -6, hi = 6, dx = (hi - lo) / (NG - 1);
    Tape *T = tape_new();
    Tensor *xs = tape_input(T, 2, SHAPE(NG, 1), 0);
    for (int i = 0; i < NG; i++) xs->data[i] = (real)(lo + i * dx);
    Tensor *lg = disc1(T, &d, xs);
    Tensor *d_x = t_sigmoid(T, lg),
           *one_minus_d = t_sigmoid(T, t_neg(T, lg)); /* D and 1 - D, each exact */
    FILE *f = nb_open("optimal-d.tsv");
    fprintf(f, "# x\tp_data\tp_g\tD_star\tD_trained\n");
    double ld_trained = 0, ld_star = 0, jsd = 0, worst = 0, worst_x = 0;
    for (int i = 0; i < NG; i++) {
        double x = lo + i * dx, a = p_data1(x), b = normal_pdf(x, g.mu, g.sd),
               ds = a / (a + b), dt = d_x->data[i];
        double m = 0.5 * (a + b);
        ld_trained += dx * (-a * log(dt) - b * log(one_minus_d->data[i]));
        ld_star += dx * (-a * log(ds) - b * log1p(-ds));
        jsd += dx * 0.5 * (a * log(a / m) + b * log(b / m));
        if (m > 0.05 && fabs(dt - ds) > worst) worst = fabs(dt - ds), worst_x = x;
        if (i % 4 == 0 && x >= -4 && x <= 4)
            fprintf(f, "%.4f\t%.6e\t%.6e\t%.6f\t%.6f\n", x, a, b, ds, dt);
    }
    fclose(f);
    nb_printf("L_D at D* (integral)          = %.4f nats\n", ld_star);
    nb_printf("log 4 - 2 JSD (integral)       = %.4f nats  (JSD = %.4f nats)\n",
              log(4) - 2 * jsd, jsd);
    nb_printf("L_D of the trained D (integral) = %.4f nats  (never below D*'s: D* is "
              "the minimum)\n",
              ld_trained);
    nb_printf("largest |D - D*| where (p_data + p_g)/2 > 0.05: %.3f at x = %.2f\n",
              worst, worst_x);
    nb_value("1-D, L_D at D*", ld_star, "nats");
    nb_value("1-D, JSD", jsd, "nats");
    nb_value("1-D, largest gap between D and D*", worst, "");
    nb_metric("1-D, L_D of the trained D minus L_D at D*", ld_trained - ld_star,
              "nats");
    nb_figure("02-optimal-d", "The optimal discriminator D* = p_data / (p_data + p_g) "
                              "on a 1-D example, and a trained D");
    tape_free(T);
    params_free(d.ps);
}

/*md
## Why not the saturating loss, then? Disjoint supports

In high dimensions, and early in any training, $p_\text{data}$ and $p_g$
hardly overlap: their supports are (nearly) disjoint. Then a discriminator
can separate them almost perfectly; the JSD is $\log 2$ wherever $G$ puts
its samples, so it has no gradient to give; and the saturating loss's
gradient, of size $D(G(z))$, vanishes with it (Arjovsky & Bottou, 2017),
while the non-saturating one, of size $1 - D(G(z))$, stays near its largest.
The cell shows it with the small D of the previous cell, trained the same way
against a generator $p_g = \mathcal N(4, 0.3^2)$, off to the side of both
data modes, and then measures, per sample, how hard each loss pushes $G$'s
samples: $|\partial \ell / \partial x|$ at $x = G(z)$, through $D$.

In this run the trained $D$ gives $G$'s samples a mean $D(G(z))$ of
{{disjoint, mean D(G(z)):.1e}}. The mean push is
{{disjoint, saturating gradient:.1e}} per sample with the saturating loss and
{{disjoint, non-saturating gradient:.1e}} with the non-saturating one,
{{disjoint, gradient ratio:.0f}} times larger. This is why $G$ trains with the
non-saturating loss, although what that loss minimises is not the JSD.
*/
/* How hard each L_G pushes g's samples through a D trained against g (with
 * train_disc1 under label): the mean D(G(z)) and the mean |d loss / d x| per
 * sample, push[0] non-saturating, push[1] saturating; G's samples from the
 * stream "gan-loss/<label> samples". */
static double disjoint_push(Gen1 g, const char *label, double push[2]) {
    Disc1 d = train_disc1(g, label);
    enum { N = 1000 };
    char name[64];
    snprintf(name, sizeof name, "gan-loss/%s samples", label);
    Rng r;
    rng_stream(&r, nb_seed(), name);
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(N, 1), 1); /* G's samples, with a gradient */
    for (int i = 0; i < N; i++) x->data[i] = (real)(g.mu + g.sd * rng_normal(&r));
    Tensor *l = disc1(T, &d, x);
    double dgz = mean_sigmoid(l);
    for (int sat = 0; sat < 2; sat++) {
        backward(T, ring_loss_g(T, l, sat));
        double s =
            0; /* the loss is a mean over N samples: N * dL/dx_i is sample i's own */
        for (int i = 0; i < N; i++) s += fabs((double)x->grad[i]);
        push[sat] = s; /* = N * mean |dL/dx_i| / N */
    }
    nb_printf("mean D(G(z)) on %d samples of N(%g, %g^2): %.3g\n", N, g.mu, g.sd, dgz);
    nb_printf("mean |d loss / d x| per sample: saturating %.3g, non-saturating %.3g "
              "(ratio %.0f)\n",
              push[1], push[0], push[0] / push[1]);
    tape_free(T);
    params_free(d.ps);
    return dgz;
}

static void cell_disjoint(void) {
    double push[2], dgz = disjoint_push((Gen1){4, 0.3}, "disjoint", push);
    nb_value("disjoint, mean D(G(z))", dgz, "");
    nb_value("disjoint, saturating gradient", push[1], "");
    nb_value("disjoint, non-saturating gradient", push[0], "");
    nb_value("disjoint, gradient ratio", push[0] / push[1], "");
}

/* ---- the ring GANs ------------------------------------------------------------------ */
enum { NS, SAT, PAC_ANNEAL, NVARIANT };
static const char *VARIANT[NVARIANT] = {"non-saturating", "saturating",
                                        "PacGAN, annealed"};
#define ANNEAL 0.6 /* the remedy decays lr over the last 40 % of its steps */
#define TARGET_HQ                                                                      \
    90.0 /* the remedy's target: 8 modes in every run, this mean high-quality % */

/* The chapter's state between cells: every ring run, [variant][run];
 * runs[NS][0] and runs[SAT][0] are the figure runs of cell "train". */
static struct { RingRun runs[NVARIANT][NRUNS]; } ch;

static void teardown(void) {
    for (int v = 0; v < NVARIANT; v++)
        for (int s = 0; s < NRUNS; s++) ring_run_free(&ch.runs[v][s]);
}

/* Run s of every variant trains from the seed drawn from the stream
 * "gan-loss/run s" of --seed: no two (seed, run) pairs share one. */
static uint64_t run_seed(int s) {
    char name[32];
    snprintf(name, sizeof name, "gan-loss/run %d", s);
    Rng r;
    rng_stream(&r, nb_seed(), name);
    return rng_u64(&r);
}

/* Run s of a variant: the reference model of DESIGN.md; --quick shrinks it. */
static RingRun plan(int saturating, int pack, int s, int figures) {
    RingConfig c = ring_config_default();
    c.saturating = saturating;
    c.pack = pack;
    c.steps = nb_quick() ? QUICK_STEPS : c.steps;
    c.anneal = pack > 1 ? ANNEAL : 1;
    if (nb_quick()) c.hidden = 32, c.batch = 64;
    return (RingRun){.cfg = c, .seed = run_seed(s), .figures = figures};
}

/*md
## The ring

The data: 8 Gaussians with centres on a circle of radius 2 at angles
$k\pi/4$, standard deviation $\sigma = 0.02$ (DESIGN.md's reference; the same
model is in `tests/reference/gan_ring.py`). $G$: 16→128→128→2, $D$:
2→128→128→1 logit, ReLU between layers, PyTorch's default initialisation;
Adam with learning rate $10^{-3}$, betas `(0.5, 0.999)`; batch 256; one D
step then one G step, for the 10,000 steps of `ring_config_default()`. We
train it twice from the same seed (run 0: same initial weights, same data,
same noise), once with the non-saturating $L_G$ and once with the saturating
one. The trainer and the runs are in `ring.c`: `ring_run` drives
`ring_trainer_step` and measures with `ring_trainer_eval` on the way; the
cell plans two runs, calls `ring_run_all` and writes the figure data.

What to look for in the figures. *Samples*: at step 0 a freshly initialised
$G$ maps all of $z$ to a small blob near the origin; then the blob spreads
out over the plane and onto the circle, and the samples gather at the modes,
with a few strays on the arcs between them (a continuous $G$ has to carry
some mass across the gaps). A centre is *empty* when fewer than 25
high-quality samples sit there; in this run the non-saturating $G$ ends with
empty centres: {{non-saturating, empty centres of run 0}}; the saturating $G$:
{{saturating, empty centres of run 0}}.
*Heat map*: $D$ says "fake" ($\sigma(D) \approx 0$) almost everywhere, even
where no sample ever was, and high scores in small patches at the modes,
where real and generated points overlap. At a centre $G$ has left empty, $D$
is free to say "real" (where this run leaves one, the lists above give $D$'s
verdict there; the five-seed figure at the end of the chapter shows more),
and yet $G$ does not go there: $G$'s gradient is $D$'s slope *at $G$'s own samples*, and
no sample is near. That is mode collapse seen from inside.
*Curves*: $L_D$ climbs towards $\log 4$ and the means of $D(x)$ and
$D(G(z))$ close in on $\tfrac12$ from both sides: neither network wins
outright. Over the last tenth of this run, $L_D$ averages
{{non-saturating, L_D over the last tenth:.2f}} nats (non-saturating) and
{{saturating, L_D over the last tenth:.2f}} nats (saturating), against
$\log 4 \approx 1.386$; the mean of $D(x)$ is
{{non-saturating, mean D(x) over the last tenth:.2f}} and
{{saturating, mean D(x) over the last tenth:.2f}}, that of $D(G(z))$
{{non-saturating, mean D(G(z)) over the last tenth:.2f}} and
{{saturating, mean D(G(z)) over the last tenth:.2f}}. The game can also
move away from that balance: in means over windows of 50 steps, the largest
fall of $L_D$ from one window to the next after the run's first tenth
(before it, a fall is the game still finding its balance) is
{{non-saturating, largest drop of L_D:.2f}} nats, at step
{{non-saturating, step of the largest drop of L_D:'.0f}} (non-saturating),
and {{saturating, largest drop of L_D:.2f}} nats, at step
{{saturating, step of the largest drop of L_D:'.0f}} (saturating). The next
sections measure how much such swings change the outcome.
*/
/* Where the run's L_D, in means over windows of steps / 200, fell the most
 * from one window to the next after the run's first tenth (a fall before it
 * is the game still finding its balance), and the lowest windowed mean
 * D(G(z)) over the whole run. */
static void record_curve_facts(int v, const RingRun *r) {
    long S = r->cfg.steps, W = S >= 200 ? S / 200 : 1, at = 0;
    double drop = 0, low = 1, prev = ring_trace_mean(r, 0, W).loss_d;
    for (long s0 = W; s0 + W <= S; s0 += W) {
        RingStepStats m = ring_trace_mean(r, s0, s0 + W);
        if (s0 >= S / 10 && prev - m.loss_d > drop) drop = prev - m.loss_d, at = s0 + W;
        low = fmin(low, m.d_fake);
        prev = m.loss_d;
    }
    ring_record(VARIANT[v], "largest drop of L_D", drop);
    ring_record(VARIANT[v], "step of the largest drop of L_D", (double)at);
    ring_record(VARIANT[v], "lowest mean D(G(z))", low);
}

static void cell_train(void) {
    RingRun *two[2] = {&ch.runs[NS][0], &ch.runs[SAT][0]};
    RingRun runs[2];
    for (int v = 0; v < 2; v++) runs[v] = plan(v, 1, 0, 1);
    RingConfig c = runs[0].cfg;
    nb_printf("G: %d -> %d -> %d -> 2, D: 2 -> %d -> %d -> 1; batch %d, %ld steps; run "
              "0 of --seed %llu\n",
              c.zdim, c.hidden, c.hidden, c.hidden, c.hidden, c.batch, c.steps,
              (unsigned long long)nb_seed());
    ring_run_all(runs, 2, "ring GANs");
    *two[0] = runs[0], *two[1] = runs[1];
    Rng r;
    rng_stream(&r, nb_seed(), "gan-loss/figure points");
    ring_write_points("ring-real.tsv", &r, RING_SNAP_N);
    ring_write_snapshots("ring-samples.tsv", "ring-steps.tsv", runs, 2);
    ring_write_heat("ring-heat-ns.tsv", &runs[0]);
    ring_write_heat("ring-heat-sat.tsv", &runs[1]);
    ring_write_curves("ring-curves.tsv", runs, 2);
    nb_printf("\n%-15s %10s %10s %12s %12s\n", "variant", "L_D", "L_G", "mean D(x)",
              "mean D(G(z))");
    for (int v = 0; v < 2; v++) {
        long S = runs[v].cfg.steps;
        for (int k = 0; k < 2;
             k++) { /* the first and the last tenth: where training starts and ends */
            long a = k ? S - S / 10 : 0, b = k ? S : S / 10;
            RingStepStats m = ring_trace_mean(&runs[v], a, b);
            nb_printf(
                "%-15s %10.4f %10.4f %12.4f %12.4f   (mean over steps %ld..%ld)\n",
                VARIANT[v], m.loss_d, m.loss_g, m.d_real, m.d_fake, a + 1, b);
            if (k) ring_record(VARIANT[v], "L_D over the last tenth", m.loss_d);
            if (k) ring_record(VARIANT[v], "mean D(x) over the last tenth", m.d_real);
            if (k)
                ring_record(VARIANT[v], "mean D(G(z)) over the last tenth", m.d_fake);
        }
        record_curve_facts(v, &runs[v]);
    }
    nb_printf("step 1: mean D(G(z)) = %.3f: D starts unsure, so the saturating "
              "gradient (size D(G(z))) is not small.\n",
              runs[0].trace[0].d_fake);
    nb_value("mean D(G(z)) at step 1", runs[0].trace[0].d_fake, "");
    nb_figure("02-ring-samples",
              "Real points (grey) and samples of G (blue) at four steps of training, "
              "non-saturating loss (top) and saturating loss (bottom), same seed");
    nb_figure("02-ring-heatmap", "D's output sigmoid(D(x)) over the plane after "
                                 "training, with G's samples on top");
    nb_figure("02-ring-losses",
              "L_D and L_G during training (nats, means over windows of steps)");
    nb_figure("02-ring-dprob", "Mean D(x) on real points and mean D(G(z)) on generated "
                               "points during training");
}

/*md
## How many modes, how sharp

The two headline numbers of the mode-collapse literature (`ring_metrics` in
`ring.c`): **modes covered** out of 8 and **high-quality %**, on 2,500
samples. Per-centre counts show *where* the mass went: a collapsed run has
zeros, a blurry one has small counts everywhere. In this run, run 0 covers
{{non-saturating, modes (run 0):.0f}} modes at
{{non-saturating, high-quality (run 0):.1f}} % high quality with the
non-saturating loss, and {{saturating, modes (run 0):.0f}} modes at
{{saturating, high-quality (run 0):.1f}} % with the saturating one.
*/
/* "none", or e.g. "1 (D 0.97) and 7 (D 0.99)": the empty centres of figure
 * run r (fewer than RING_MODE_MIN high-quality samples) and D's verdict there. */
static void record_empty_centres(int v, const RingRun *r) {
    char text[256] = "none";
    int n = 0, len = 0;
    for (int k = 0; k < RING_MODES; k++)
        if (r->final.count[k] < RING_MODE_MIN) n++;
    for (int k = 0, i = 0; k < RING_MODES; k++) {
        if (r->final.count[k] >= RING_MODE_MIN) continue;
        const char *sep = i == 0 ? "" : i == n - 1 ? " and " : ", ";
        len += snprintf(text + len, sizeof text - (size_t)len,
                        "%s%d (where D says %.2f)", sep, k, (double)r->d_centre[k]);
        i++;
    }
    char name[128];
    snprintf(name, sizeof name, "%s, empty centres of run 0", VARIANT[v]);
    nb_text(name, "%s", text);
}

static void cell_metrics(void) {
    ring_print_head();
    for (int v = 0; v < 2; v++) ring_print_row(VARIANT[v], 0, &ch.runs[v][0].final);
    nb_metric("non-saturating, modes (run 0)", ch.runs[NS][0].final.modes, "of 8");
    nb_metric("non-saturating, high-quality (run 0)", ch.runs[NS][0].final.hq, "%");
    nb_metric("saturating, modes (run 0)", ch.runs[SAT][0].final.modes, "of 8");
    nb_metric("saturating, high-quality (run 0)", ch.runs[SAT][0].final.hq, "%");
    for (int v = 0; v < 2; v++) record_empty_centres(v, &ch.runs[v][0]);
}

/*md
## Five seeds

One run says little about a GAN: the same model, from another seed, can
cover every mode or collapse onto a few. So we train each variant five
times, runs 0 to 4, each from its own seed (drawn from the stream
`gan-loss/run k` of `--seed`), and print the table. Each run is measured at
the end, and also after every quarter of its steps (the second table), to
show how much one final measurement is worth.

For comparison, the same model in PyTorch with seeds 0 to 4, by
`tests/reference/gan_ring_seeds.py` (its output, `gan_ring_seeds.txt`, is
committed beside it; this build does not re-run it, and torch's random
streams are not ours, so only the spread compares): non-saturating $6$ to
$8$ modes (mean $7.4$), $71.7$ to $95.6\,\%$ high quality (mean
$89.6\,\%$); saturating $8$ modes on every seed, $66.6$ to $93.6\,\%$
(mean $87.6\,\%$).

What this run shows. The non-saturating loss covers all 8 modes in
{{non-saturating, runs with 8 modes:.0f}} of 5 runs, a mean of
{{non-saturating, mean modes over 5 seeds:.1f}} modes at
{{non-saturating, mean high-quality over 5 seeds:.1f}} % high quality
({{non-saturating, lowest high-quality:.1f}} to
{{non-saturating, highest high-quality:.1f}} %); the saturating loss in
{{saturating, runs with 8 modes:.0f}} of 5, a mean of
{{saturating, mean modes over 5 seeds:.1f}} modes at
{{saturating, mean high-quality over 5 seeds:.1f}} %
({{saturating, lowest high-quality:.1f}} to
{{saturating, highest high-quality:.1f}} %). Runs short of modes at every
check (modes never found, or lost and not found again): non-saturating
{{non-saturating, runs short of modes at every check}}; saturating
{{saturating, runs short of modes at every check}}. Runs caught mid-swing,
with all 8 modes at one check and fewer at the end: non-saturating
{{non-saturating, runs that end short of modes after a check with all 8}};
saturating {{saturating, runs that end short of modes after a check with all 8}}.

The second table is the thing to read. With a constant learning rate the
samples keep moving: the largest change of one run's high-quality % between
two checks in a row is {{largest high-quality jump between checks:.0f}}
points ({{run with the largest high-quality jump}}), and a run's mode count
changes between checks (runs short of modes at one check and with all 8 at
another, in either order:
non-saturating
{{non-saturating, runs short of modes at one check and with all 8 at another}};
saturating {{saturating, runs short of modes at one check and with all 8 at another}}).
So the mean of five final values moves with the step count: at the half-way
check the same runs give {{non-saturating, mean modes at the half-way check:.1f}}
modes at {{non-saturating, mean high-quality at the half-way check:.1f}} %
(non-saturating) and {{saturating, mean modes at the half-way check:.1f}}
modes at {{saturating, mean high-quality at the half-way check:.1f}} %
(saturating). Weigh any difference from PyTorch's means against that
spread before reading anything into it.

The previous cells' warning about the saturating loss needs a confident $D$,
one that sends $D(G(z))$ towards 0. In run 0 of this seed $D$ never gets
there: the mean of $D(G(z))$, over windows of 50 steps, never falls below
{{saturating, lowest mean D(G(z)):.2f}}, so the saturating gradient, of size
$D(G(z))$, is about as large as the non-saturating one, and whatever
separates the two losses in these tables, it is not that effect. The
argument is about what happens when $D$ wins; in that run it does not.
*/
/* The largest change of high-quality % between two checks in a row, over
 * the plain runs, and the run it happened in. */
static void record_largest_jump(void) {
    double jump = -1;
    int bv = 0, bs = 0;
    for (int v = 0; v < 2; v++)
        for (int s = 0; s < NRUNS; s++)
            for (int c = 1; c < RING_CHECKS; c++) {
                double d =
                    fabs(ch.runs[v][s].check[c].hq - ch.runs[v][s].check[c - 1].hq);
                if (d > jump) jump = d, bv = v, bs = s;
            }
    const RingRun *r = &ch.runs[bv][bs];
    nb_value("largest high-quality jump between checks", jump, "points");
    nb_text("run with the largest high-quality jump",
            "%s run %d: %.0f, %.0f, %.0f and %.0f %%", VARIANT[bv], bs, r->check[0].hq,
            r->check[1].hq, r->check[2].hq, r->check[3].hq);
}

static void cell_seeds(void) {
    /* run 0 was trained in cell "train": reuse it (same seed, same bits) */
    RingRun todo[2 * (NRUNS - 1)];
    int n = 0;
    for (int v = 0; v < 2; v++)
        for (int s = 1; s < NRUNS; s++) todo[n++] = plan(v, 1, s, 0);
    ring_run_all(todo, n, "seed runs");
    n = 0;
    for (int v = 0; v < 2; v++)
        for (int s = 1; s < NRUNS; s++) ch.runs[v][s] = todo[n++];
    ring_print_head();
    for (int v = 0; v < 2; v++) ring_print_table(VARIANT[v], ch.runs[v], NRUNS, 1);
    nb_printf("\nthe same runs measured along the way:\n");
    for (int v = 0; v < 2; v++) ring_print_checks(VARIANT[v], ch.runs[v], NRUNS);
    for (int v = 0; v < 2; v++) {
        ring_record_runs(VARIANT[v], ch.runs[v], NRUNS, RING_NEVER_FULL,
                         "runs short of modes at every check");
        ring_record_runs(VARIANT[v], ch.runs[v], NRUNS, RING_LOST_MODES,
                         "runs that end short of modes after a check with all 8");
        ring_record_runs(VARIANT[v], ch.runs[v], NRUNS, RING_REFILLED,
                         "runs short of modes at one check and with all 8 at another");
    }
    record_largest_jump();
    for (int v = 0; v < 2; v++) { /* what a shorter run would have reported */
        double modes = 0, hq = 0;
        for (int s = 0; s < NRUNS; s++) {
            modes += ch.runs[v][s].check[RING_CHECKS / 2 - 1].modes;
            hq += ch.runs[v][s].check[RING_CHECKS / 2 - 1].hq;
        }
        ring_record(VARIANT[v], "mean modes at the half-way check", modes / NRUNS);
        ring_record(VARIANT[v], "mean high-quality at the half-way check", hq / NRUNS);
    }
}

/*md
## A remedy for mode collapse: packing (PacGAN)

Mode collapse is $G$ putting its mass on a few modes while $D$, judging one
sample at a time, cannot tell: each generated point, on its own, looks like a
real one. PacGAN (Lin et al., 2018) lets $D$ judge $P$ samples at once: the
batch $[N, 2]$ is reshaped to $[N/P, 2P]$ (P points side by side; that is all
`ring_discriminator` changes), real packs come from the data and fake packs
from $G$. A pack of two fakes that both sit on the same mode is unlikely under
the data (two real points share a mode only 1 time in 8), so $D$ can now
penalise a lack of diversity, and $G$'s gradient pushes its samples apart.
Only $D$'s first layer changes (2P inputs instead of 2). We use $P = 2$,
the smallest packing (PacGAN uses 2 to 4 on this ring).

The previous cell showed a second problem, which packing does not address:
with a constant learning rate the samples keep moving on and off the modes.
Adam moves every weight by about $10^{-3}$ per step (its learning rate sets
the size of its steps), for ever, and G's
outputs move with them, while a mode is only $\sigma = 0.02$ wide. So the
remedy also *anneals* the learning rate: $10^{-3}$ for the first
$60\,\%$ of the steps (`ANNEAL`), then falling linearly to 0 (the trainer's
`anneal` setting). $G$, the non-saturating loss, the 10,000 steps and
everything else are as in the plain runs. Target: 8 of 8 modes in every run
and at least $90\,\%$ high quality on average (`TARGET_HQ`; PacGAN reports
$7.9$ modes at $95.6\,\%$ for packs of two on its ring, with VEEGAN's
looser mode rule).

What this run shows: 8 of 8 modes in
{{PacGAN, annealed, runs with 8 modes:.0f}} of 5 runs (a mean of
{{PacGAN, annealed, mean modes over 5 seeds:.1f}} modes), and
{{PacGAN, annealed, mean high-quality over 5 seeds:.1f}} % high quality on
average ({{PacGAN, annealed, lowest high-quality:.1f}} to
{{PacGAN, annealed, highest high-quality:.1f}} %): the target is
{{PacGAN target}}. The second table shows the two changes at work. Before
the decay starts the packed runs jitter too (high quality
from {{PacGAN, annealed, lowest high-quality before the decay:.0f}} to
{{PacGAN, annealed, highest high-quality before the decay:.0f}} %; runs
short of modes at one check and with all 8 at another:
{{PacGAN, annealed, runs short of modes at one check and with all 8 at another}});
once the learning rate falls, every run is at
{{PacGAN, annealed, lowest high-quality at the first check after the decay starts:.1f}} %
or more by step
{{PacGAN, annealed, step of the first check after the decay starts:'.0f}}.
This cell changes two things at once, so it does not measure how much each
one contributes; it shows what the two do together over the same 10,000
steps as the plain runs.
*/
static void cell_pacgan(void) {
    RingRun *pac = ch.runs[PAC_ANNEAL];
    for (int s = 0; s < NRUNS; s++) pac[s] = plan(0, PACK, s, 0);
    long steps = pac[0].cfg.steps, a0 = (long)(ANNEAL * (double)steps),
         every = steps / RING_CHECKS;
    nb_printf("D: %d -> %d -> %d -> 1 on packs of %d points; G and the loss unchanged; "
              "%ld steps, lr %g until step "
              "%ld, then falling linearly to 0\n",
              2 * PACK, pac[0].cfg.hidden, pac[0].cfg.hidden, PACK, steps,
              pac[0].cfg.lr, a0);
    ring_run_all(pac, NRUNS, "PacGAN runs");
    ring_print_head();
    for (int v = 0; v < NVARIANT; v++)
        ring_print_table(VARIANT[v], ch.runs[v], NRUNS, v == PAC_ANNEAL);
    nb_printf("\nmeasured along the way (the learning rate decays from step %ld on):\n",
              a0);
    ring_print_checks(VARIANT[PAC_ANNEAL], pac, NRUNS);
    /* before the decay (checks at steps <= a0) and at the first check after it */
    double lo = 1e9, hi = -1, after = 1e9;
    int c_after = (int)(a0 / every); /* index of the first check after step a0 */
    for (int s = 0; s < NRUNS; s++) {
        for (int c = 0; c < c_after; c++)
            lo = fmin(lo, pac[s].check[c].hq), hi = fmax(hi, pac[s].check[c].hq);
        after = fmin(after, pac[s].check[c_after].hq);
    }
    ring_record(VARIANT[PAC_ANNEAL], "lowest high-quality before the decay", lo);
    ring_record(VARIANT[PAC_ANNEAL], "highest high-quality before the decay", hi);
    ring_record(VARIANT[PAC_ANNEAL],
                "lowest high-quality at the first check after the decay starts", after);
    ring_record(VARIANT[PAC_ANNEAL], "step of the first check after the decay starts",
                (double)((c_after + 1) * every));
    ring_record_runs(VARIANT[PAC_ANNEAL], pac, NRUNS, RING_REFILLED,
                     "runs short of modes at one check and with all 8 at another");
    ring_record_runs(VARIANT[PAC_ANNEAL], pac, NRUNS, RING_LOST_MODES,
                     "runs that end short of modes after a check with all 8");
    double hq = 0;
    int full = 0;
    for (int s = 0; s < NRUNS; s++)
        hq += pac[s].final.hq, full += pac[s].final.modes == RING_MODES;
    nb_text("PacGAN target", "%s",
            full == NRUNS && hq / NRUNS >= TARGET_HQ ? "met" : "not met");
    ring_write_finals("ring-seeds.tsv", ch.runs[0], NVARIANT, NRUNS);
    nb_figure("02-ring-seeds",
              "Samples after training in five runs (five seeds), one row per variant: "
              "non-saturating, saturating, and PacGAN (packs of 2) with an annealed "
              "learning rate");
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/02-gan-loss/`, leaving the book's
run alone; try other values too), then open the outcome this course's run
gives. The run repeats the whole chapter before the experiments, so it takes
as long as the chapter; the cells below ran the experiments with the
settings' default values for the book.

### Experiment: a generator on top of the data

The disjoint-supports cell put $G$'s samples at $\mathcal N(4, 0.3^2)$, off
to the side of the data, and the non-saturating loss pushed them
{{disjoint, gradient ratio:.0f}} times harder than the saturating one. Put
them among the data instead, at $\mathcal N(0, 0.3^2)$, between its two
modes where both densities have mass, and train
the same $D$ against them. *Predict*: is the non-saturating push still far
larger, about equal, or smaller?

Run: `build/bin/02 --set g-mean=0`

::: outcome
The ratio falls to {{exp g-mean gradient ratio:.1f}}: $D$ cannot separate
samples well where the data has mass too, so $D(G(z))$ is
{{exp g-mean mean D(G(z)):.2f}} on average, far from 0, and the two losses'
gradients, of sizes $D(G(z))$ and $1 - D(G(z))$ per unit of $D$'s slope,
are within a small factor of each other. The saturating loss is only useless
while $D$ wins outright, which is early in training and wherever the
supports do not overlap.
:::

### Experiment: ten times the learning rate

The ring trains with Adam at $10^{-3}$. Train it for a short run of
{{exp lr steps:'.0f}} steps at the chapter's rate and at ten times that,
$10^{-2}$, from the same seed. *Predict*: after that many steps, does the
larger step find more modes, or fewer, and are its samples sharper or more
spread?

Run: `build/bin/02 --set lr=1e-2`

::: outcome
At $10^{-3}$: {{exp lr modes at the chapter's rate:.0f}} modes, with
{{exp lr high-quality at the chapter's rate:.1f}} % of the samples high
quality. At {{exp lr rate:.0e}}: {{exp lr modes at the changed rate:.0f}}
modes, with {{exp lr high-quality at the changed rate:.1f}} % high quality.
In this run the larger step {{exp lr verdict}} (the cell's table shows
where the samples went). Adam's steps are about the learning rate in size,
so a larger rate plays the game faster, mode collapse
included; one seed and one short run say little more. `--seed` and `lr`
are yours to vary.
:::
*/
/* G off to the side (the chapter) against G at the setting g-mean. */
static void cell_exp_g_mean(void) {
    double push[2],
        dgz = disjoint_push((Gen1){nb_setting("g-mean"), 0.3}, "exp g-mean", push);
    nb_value("exp g-mean mean D(G(z))", dgz, "");
    nb_value("exp g-mean gradient ratio", push[0] / push[1], "");
}

/* Two short ring runs from run 0's seed: the chapter's learning rate and the
 * setting lr. */
static void cell_exp_lr(void) {
    RingRun runs[2];
    for (int v = 0; v < 2; v++) {
        runs[v] = plan(0, 1, 0, 0);
        runs[v].cfg.steps = nb_quick() ? QUICK_STEPS : 2000;
    }
    runs[1].cfg.lr = nb_setting("lr");
    nb_printf("%ld steps, learning rate %g and %g\n", runs[0].cfg.steps, runs[0].cfg.lr,
              runs[1].cfg.lr);
    ring_run_all(runs, 2, "lr runs");
    ring_print_head();
    for (int v = 0; v < 2; v++)
        ring_print_row(v ? "changed rate" : "chapter's rate", 0, &runs[v].final);
    nb_value("exp lr steps", (double)runs[0].cfg.steps, "");
    nb_value("exp lr rate", runs[1].cfg.lr, "");
    nb_value("exp lr modes at the chapter's rate", runs[0].final.modes, "");
    nb_value("exp lr high-quality at the chapter's rate", runs[0].final.hq, "%");
    nb_value("exp lr modes at the changed rate", runs[1].final.modes, "");
    nb_value("exp lr high-quality at the changed rate", runs[1].final.hq, "%");
    const RingEvalStats *a = &runs[0].final, *b = &runs[1].final;
    nb_text("exp lr verdict", "%s",
            b->hq > a->hq && b->modes <= a->modes
                ? "gathers G's mass onto the modes sooner, but onto no more of them"
            : b->hq > a->hq
                ? "gathers G's mass onto the modes sooner, and onto more of them"
            : b->modes < a->modes
                ? "leaves G with fewer modes and no sharper samples"
                : "does not sharpen the samples, with as many modes or more");
    for (int v = 0; v < 2; v++) ring_run_free(&runs[v]);
}

static const Cell CELLS[] = {
    CELL(game, "The game"),
    CELL(gradients, "Why the generator uses -log D(G(z))"),
    CELL(optimal_d, "The optimal discriminator"),
    CELL(disjoint, "Why not the saturating loss: disjoint supports"),
    CELL(train, "The ring: both losses, one seed"),
    CELL(metrics, "How many modes, how sharp"),
    CELL(seeds, "Five seeds"),
    CELL(pacgan, "A remedy for mode collapse: packing"),
    CELL(exp_g_mean, "Experiment: a generator on top of the data"),
    CELL(exp_lr, "Experiment: ten times the learning rate"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"g-mean", 0, -6, 6, 0,
     "the mean of G's samples in the disjoint-supports experiment (the chapter's: 4)"},
    {"lr", 1e-2, 1e-6, 1, 0,
     "the learning rate of the experiment's second short ring run (the chapter's: "
     "1e-3)"},
};

int main(int argc, char **argv) {
    Chapter chapter = {"02-gan-loss", "The GAN and its losses", CELLS,
                       sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &chapter);
}
