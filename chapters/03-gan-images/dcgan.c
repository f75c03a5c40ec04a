/* dcgan.c - the image GAN of chapter 3: the two networks, their losses, one
 * training step, sampling, and the generator's checkpoint.
 *
 * Teaches: a convolutional GAN is a short list of library ops. G grows a
 * 7x7 feature map into a 28x28 image with two stride-2 transposed
 * convolutions; D shrinks the image back with two stride-2 convolutions and
 * ends in one logit. A training step is two minimisations on two tapes: D's
 * loss on a *detached* copy of G(z) (so D's step cannot move G), then G's
 * loss through D (whose gradient we compute but do not apply).
 * Leaves out: batch normalisation (the DCGAN paper uses it; this small model
 * trains without it), label smoothing, any GAN stabiliser beyond the
 * non-saturating loss.
 *
 * Dimension key: N = batch, Z = latent width, c1, c2 = G's channels,
 * d1, d2 = D's channels, PIX = 784 pixels of a 28x28 image.
 */
#include "dcgan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "init.h"
#include "util.h"

/*md
## The two networks in code

Each layer is a named weight and bias in its network's `ParamSet` (G's and D's
are separate: two optimizers, and a checkpoint of G alone). The names are
PyTorch's, so the reference fixture and the checkpoints load by name.
*/
DcganConfig dcgan_reference(void) { return (DcganConfig){.zdim = 100, .c1 = 128, .c2 = 64, .d1 = 32, .d2 = 64}; }

static Conv conv_new(ParamSet *ps, const char *prefix, int d0, int d1, int k, int nout, int stride, int pad) {
    char name[96];
    Conv c = {.stride = stride, .pad = pad};
    snprintf(name, sizeof name, "%s.weight", prefix);
    c.w = params_add(ps, name, 4, SHAPE(d0, d1, k, k));
    snprintf(name, sizeof name, "%s.bias", prefix);
    c.b = params_add(ps, name, 1, SHAPE(nout));
    return c;
}

static void need_sizes(const char *who, int n, const int *v, const char *names) {
    for (int i = 0; i < n; i++)
        if (v[i] < 1) fail(EXIT_SOFTWARE, who, "use sizes >= 1", "size %d of (%s) is %d", i, names, v[i]);
}

DcganG *dcgan_g_new(DcganConfig cfg) {
    need_sizes("dcgan_g_new", 3, (int[]){cfg.zdim, cfg.c1, cfg.c2}, "zdim, c1, c2");
    DcganG *g = xcalloc(1, sizeof(DcganG));
    g->cfg = cfg;
    g->ps = params_new();
    g->fc = linear_new(g->ps, "G.fc", cfg.zdim, cfg.c1 * 49, 1);
    g->deconv1 = conv_new(g->ps, "G.deconv1", cfg.c1, cfg.c2, 4, cfg.c2, 2, 1); /* [C, O, k, k] */
    g->deconv2 = conv_new(g->ps, "G.deconv2", cfg.c2, 1, 4, 1, 2, 1);
    params_alloc(g->ps);
    return g;
}

DcganD *dcgan_d_new(DcganConfig cfg) {
    need_sizes("dcgan_d_new", 2, (int[]){cfg.d1, cfg.d2}, "d1, d2");
    DcganD *d = xcalloc(1, sizeof(DcganD));
    d->cfg = cfg;
    d->ps = params_new();
    d->conv1 = conv_new(d->ps, "D.conv1", cfg.d1, 1, 3, cfg.d1, 2, 1); /* [O, C, k, k] */
    d->conv2 = conv_new(d->ps, "D.conv2", cfg.d2, cfg.d1, 3, cfg.d2, 2, 1);
    d->fc = linear_new(d->ps, "D.fc", cfg.d2 * 49, 1, 1);
    params_alloc(d->ps);
    return d;
}

/* Every parameter set is (weight, bias) pairs in order: PyTorch's default
 * reset_parameters draws the weight U(+-1/sqrt(fan_in)), then the bias with
 * the same bound. */
static void init_pairs(ParamSet *ps, Rng *r) {
    for (int i = 0; i + 1 < ps->n; i += 2) {
        long fan_in, fan_out;
        init_fan(ps->t[i], &fan_in, &fan_out);
        double bound = 1.0 / sqrt((double)fan_in);
        init_uniform_bound(ps->t[i], r, bound);
        init_uniform_bound(ps->t[i + 1], r, bound);
    }
}

void dcgan_g_init(DcganG *g, Rng *r) { init_pairs(g->ps, r); }
void dcgan_d_init(DcganD *d, Rng *r) { init_pairs(d->ps, r); }

void dcgan_g_free(DcganG *g) {
    if (!g) return;
    params_free(g->ps);
    xfree(g);
}

void dcgan_d_free(DcganD *d) {
    if (!d) return;
    params_free(d->ps);
    xfree(d);
}

/*md
The forward passes, with each intermediate's shape. The `view` after G's
first layer is free: the 6,272 outputs of the linear layer, row-major, *are*
128 maps of 7×7 (channel $c$ is outputs $49c \dots 49c+48$). A transposed
convolution with $k = 4$, $s = 2$, $p = 1$ gives $(H-1)\cdot 2 - 2 + 4 = 2H$:
it exactly doubles the side, 7 → 14 → 28. D's convolutions with $k = 3$,
$s = 2$, $p = 1$ halve it, 28 → 14 → 7.
*/
Tensor *dcgan_generate(Tape *T, const DcganG *g, Tensor *z) {
    const int N = z->shape[0], c1 = g->cfg.c1;
    Tensor *h = t_relu(T, linear(T, &g->fc, z));                                  /* [N, c1*49] */
    h = t_reshape(T, h, 4, SHAPE(N, c1, 7, 7));                                   /* [N, c1, 7, 7] */
    h = t_relu(T, t_conv_transpose2d(T, h, g->deconv1.w, g->deconv1.b, 2, 1));   /* [N, c2, 14, 14] */
    return t_tanh(T, t_conv_transpose2d(T, h, g->deconv2.w, g->deconv2.b, 2, 1)); /* [N, 1, 28, 28] */
}

Tensor *dcgan_discriminate(Tape *T, const DcganD *d, Tensor *x) {
    const int N = x->shape[0];
    const real slope = (real)0.2;
    Tensor *h = t_leaky_relu(T, t_conv2d(T, x, d->conv1.w, d->conv1.b, 2, 1), slope); /* [N, d1, 14, 14] */
    h = t_leaky_relu(T, t_conv2d(T, h, d->conv2.w, d->conv2.b, 2, 1), slope);         /* [N, d2, 7, 7] */
    h = t_reshape(T, h, 2, SHAPE(N, d->cfg.d2 * 49));                                 /* [N, d2*49] */
    return linear(T, &d->fc, h);                                                      /* [N, 1] logits */
}

/*md
## The losses

With $\ell$ D's logit and $\sigma$ the logistic function, each term is a binary
cross-entropy computed from the logit in the stable form
$\max(\ell, 0) - y\ell + \log(1 + e^{-|\ell|})$ (`t_bce_with_logits`):

$$L_D = \frac1N\sum_n -\log\sigma(\ell(x_n)) + \frac1N\sum_n -\log\bigl(1 - \sigma(\ell(G(z_n)))\bigr),
\qquad L_G = \frac1N\sum_n -\log\sigma(\ell(G(z_n))).$$

$L_G$ is the non-saturating loss of chapter 2: its gradient is largest when D
rejects the fakes, which is where a generator starts.
*/
static Tensor *const_targets(Tape *T, int N, real value) {
    Tensor *y = tape_input(T, 2, SHAPE(N, 1), 0); /* [N, 1] */
    for (int i = 0; i < N; i++) y->data[i] = value;
    return y;
}

Tensor *dcgan_loss_d(Tape *T, Tensor *l_real, Tensor *l_fake) {
    Tensor *real_term = t_bce_with_logits(T, l_real, const_targets(T, l_real->shape[0], 1));
    Tensor *fake_term = t_bce_with_logits(T, l_fake, const_targets(T, l_fake->shape[0], 0));
    return t_add(T, real_term, fake_term);
}

Tensor *dcgan_loss_g(Tape *T, Tensor *l_fake) {
    return t_bce_with_logits(T, l_fake, const_targets(T, l_fake->shape[0], 1));
}

/*md
## One training step

Two tapes, because `backward` walks a tape from the loss down to its first
node: D's step is recorded on its own tape, so its backward never touches G's
layers. On G's tape, G's backward runs through D (that is how G learns what D
dislikes); the gradient this leaves in D's parameters is simply never applied,
and is zeroed before D's next step. Nothing is allocated after the first
step: each tape's arena is reused.
*/
DcganTrainer *dcgan_trainer_new(DcganG *g, DcganD *d, int batch) {
    if (batch < 1) fail(EXIT_SOFTWARE, "dcgan_trainer_new", "use a batch >= 1", "batch %d", batch);
    DcganTrainer *tr = xcalloc(1, sizeof(DcganTrainer));
    tr->g = g;
    tr->d = d;
    tr->batch = batch;
    tr->opt_g = adam_new(g->ps, 2e-4, 0.5, 0.999, 1e-8);
    tr->opt_d = adam_new(d->ps, 2e-4, 0.5, 0.999, 1e-8);
    tr->tg = tape_new();
    tr->td = tape_new();
    return tr;
}

void dcgan_trainer_free(DcganTrainer *tr) {
    if (!tr) return;
    optim_free(tr->opt_g);
    optim_free(tr->opt_d);
    tape_free(tr->tg);
    tape_free(tr->td);
    dcgan_g_free(tr->g);
    dcgan_d_free(tr->d);
    xfree(tr);
}

DcganStats dcgan_step(DcganTrainer *tr, const real *x, Rng *r) {
    const int N = tr->batch, Z = tr->g->cfg.zdim;
    const int img[4] = {N, 1, DCGAN_IMG, DCGAN_IMG};
    DcganStats st;
    tape_reset(tr->tg);
    tape_reset(tr->td);

    Tensor *z = tape_input(tr->tg, 2, SHAPE(N, Z), 0); /* [N, Z] */
    rng_fill_normal(r, z->data, z->size, 0, 1);
    Tensor *fake = dcgan_generate(tr->tg, tr->g, z); /* [N, 1, 28, 28] */

    /* D's step, on its own tape: real images and a detached copy of G(z) */
    Tensor *xr = tape_input(tr->td, 4, img, 0), *xf = tape_input(tr->td, 4, img, 0);
    memcpy(xr->data, x, (size_t)xr->size * sizeof(real));
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *l_real = dcgan_discriminate(tr->td, tr->d, xr), *l_fake = dcgan_discriminate(tr->td, tr->d, xf);
    Tensor *loss_d = dcgan_loss_d(tr->td, l_real, l_fake);
    st.loss_d = loss_d->data[0];
    st.d_real = mean_sigmoid(l_real);
    st.d_fake = mean_sigmoid(l_fake);
    params_zero_grad(tr->d->ps);
    backward(tr->td, loss_d);
    optim_step(tr->opt_d);

    /* G's step: D(G(z)) with D's new weights, backward through D into G */
    Tensor *loss_g = dcgan_loss_g(tr->tg, dcgan_discriminate(tr->tg, tr->d, fake));
    st.loss_g = loss_g->data[0];
    params_zero_grad(tr->g->ps);
    backward(tr->tg, loss_g);
    optim_step(tr->opt_g);
    return st;
}

/*md
## Sampling and the checkpoint

Sampling is G's forward pass alone. The checkpoint holds G's parameters and
a meta line with its sizes, so `dcgan_g_load` can build the right model before
it loads the numbers; D is not needed to generate and is not saved.
*/
void dcgan_sample(Tape *T, const DcganG *g, const real *z, int n, real *out) {
    tape_reset(T);
    Tensor *zt = tape_input(T, 2, SHAPE(n, g->cfg.zdim), 0); /* [n, Z] */
    memcpy(zt->data, z, (size_t)zt->size * sizeof(real));
    Tensor *img = dcgan_generate(T, g, zt); /* [n, 1, 28, 28] */
    memcpy(out, img->data, (size_t)img->size * sizeof(real));
}

void dcgan_g_save(const char *path, const DcganG *g) {
    char meta[128];
    snprintf(meta, sizeof meta, "dcgan-G zdim=%d c1=%d c2=%d", g->cfg.zdim, g->cfg.c1, g->cfg.c2);
    checkpoint_save(path, g->ps, meta);
}

DcganG *dcgan_g_load(const char *path, const char *hint) {
    char meta[256];
    checkpoint_meta(path, meta, sizeof meta, hint);
    DcganConfig cfg = {0};
    if (sscanf(meta, "dcgan-G zdim=%d c1=%d c2=%d", &cfg.zdim, &cfg.c1, &cfg.c2) != 3 || cfg.zdim < 1 ||
        cfg.c1 < 1 || cfg.c2 < 1 || cfg.zdim > 100000 || cfg.c1 > 100000 || cfg.c2 > 100000)
        fail(EXIT_DATA, path, hint, "not a chapter-3 generator checkpoint: its meta line is \"%.80s\"", meta);
    DcganG *g = dcgan_g_new(cfg);
    checkpoint_load(path, g->ps, hint);
    return g;
}
