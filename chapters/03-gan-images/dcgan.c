/* dcgan.c - the image GAN of chapter 3: the two networks, their losses, the
 * trainer, a shuffled pass over the images, the training history, sampling,
 * and the generator's checkpoint.
 *
 * Teaches: a convolutional GAN is a short list of library ops. G grows a
 * 7x7 feature map into a 28x28 image with two stride-2 transposed
 * convolutions; D shrinks the image back with two stride-2 convolutions and
 * ends in one logit. A training step is two minimisations on two tapes: D's
 * loss on a *detached* copy of G(z) (so D's step cannot move G), then G's
 * loss through D (whose gradient we compute but do not apply).
 * With cfg.bn, G normalises its two hidden layers (DCGAN's batch norm): the
 * remedy of chapter 3's section 9. D never does (the chapter says why).
 * Leaves out: batch norm in D, label smoothing, any GAN stabiliser beyond
 * the non-saturating loss and G's batch norm.
 *
 * Dimension key: N = batch, Z = latent width, c1, c2 = G's channels,
 * d1, d2 = D's channels, PIX = 784 pixels of a 28x28 image.
 */
#include "dcgan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "image.h"
#include "init.h"
#include "util.h"

/*md
## The two networks in code

Each layer is a named weight and bias in its network's `ParamSet` (G's and D's
are separate: two optimizers, and a checkpoint of G alone). The names are
PyTorch's, so the reference fixture and the checkpoints load by name.
*/
DcganConfig dcgan_config_default(void) {
    return (DcganConfig){.zdim = 100,
                         .c1 = 128,
                         .c2 = 64,
                         .d1 = 32,
                         .d2 = 64,
                         .batch = 64,
                         .lr = 2e-4,
                         .beta1 = 0.5,
                         .beta2 = 0.999,
                         .eps = 1e-8};
}

Conv dcgan_conv_new(ParamSet *ps, const char *prefix, int d0, int d1, int k, int nout,
                    int stride, int pad) {
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
        if (v[i] < 1)
            fail(EXIT_SOFTWARE, who, "use sizes >= 1", "size %d of (%s) is %d", i,
                 names, v[i]);
}

static void need_classes(const char *who, int classes) {
    if (classes < 0)
        fail(EXIT_SOFTWARE, who,
             "use classes = 0 (a plain GAN) or the number of classes", "classes is %d",
             classes);
}

DcganG *dcgan_g_new(DcganConfig cfg) {
    need_sizes("dcgan_g_new", 3, (int[]){cfg.zdim, cfg.c1, cfg.c2}, "zdim, c1, c2");
    need_classes("dcgan_g_new", cfg.classes);
    DcganG *g = xcalloc(1, sizeof(DcganG));
    g->cfg = cfg;
    g->ps = params_new();
    g->fc = linear_new(g->ps, "G.fc", cfg.zdim, cfg.c1 * 49, 1);
    g->deconv1 = dcgan_conv_new(g->ps, "G.deconv1", cfg.c1, cfg.c2, 4, cfg.c2, 2,
                                1); /* [C, O, k, k] */
    g->deconv2 = dcgan_conv_new(g->ps, "G.deconv2", cfg.c2, 1, 4, 1, 2, 1);
    if (cfg.bn) {
        g->bufs = params_new();
        g->bn1 = batchnorm_new(g->ps, g->bufs, "G.bn1", cfg.c1);
        g->bn2 = batchnorm_new(g->ps, g->bufs, "G.bn2", cfg.c2);
    }
    if (cfg.classes)
        g->embed =
            params_add(g->ps, "G.embed.weight", 2, SHAPE(cfg.classes, cfg.c1 * 49));
    params_alloc(g->ps);
    if (cfg.bn) {
        params_alloc(g->bufs);
        batchnorm_reset(&g->bn1);
        batchnorm_reset(&g->bn2);
    }
    return g;
}

DcganD *dcgan_d_new(DcganConfig cfg) {
    need_sizes("dcgan_d_new", 2, (int[]){cfg.d1, cfg.d2}, "d1, d2");
    need_classes("dcgan_d_new", cfg.classes);
    DcganD *d = xcalloc(1, sizeof(DcganD));
    d->cfg = cfg;
    d->ps = params_new();
    d->conv1 =
        dcgan_conv_new(d->ps, "D.conv1", cfg.d1, 1, 3, cfg.d1, 2, 1); /* [O, C, k, k] */
    d->conv2 = dcgan_conv_new(d->ps, "D.conv2", cfg.d2, cfg.d1, 3, cfg.d2, 2, 1);
    d->fc = linear_new(d->ps, "D.fc", cfg.d2 * 49, 1, 1);
    if (cfg.classes)
        d->embed =
            params_add(d->ps, "D.embed.weight", 2, SHAPE(cfg.classes, cfg.d2 * 49));
    params_alloc(d->ps);
    return d;
}

/* Every parameter set is (weight, bias) pairs in order: PyTorch's default
 * reset_parameters draws the weight U(+-1/sqrt(fan_in)), then the bias with
 * the same bound; a batch norm's pair (1-D weight) is set to 1 and 0. A
 * tensor left over at the end (a class table) is the caller's to set. */
void dcgan_init_pairs(ParamSet *ps, Rng *r) {
    for (int i = 0; i + 1 < ps->n; i += 2) {
        if (ps->t[i]->ndim == 1) {
            init_const(ps->t[i], 1);
            init_const(ps->t[i + 1], 0);
            continue;
        }
        long fan_in, fan_out;
        init_fan(ps->t[i], &fan_in, &fan_out);
        double bound = 1.0 / sqrt((double)fan_in);
        init_uniform_bound(ps->t[i], r, bound);
        init_uniform_bound(ps->t[i + 1], r, bound);
    }
}

/* A class table (declared last, outside the pairs) starts at zero: the
 * conditional pair starts as the plain one, and learns what each class adds. */
void dcgan_g_init(DcganG *g, Rng *r) {
    dcgan_init_pairs(g->ps, r);
    if (g->embed) init_const(g->embed, 0);
}
void dcgan_d_init(DcganD *d, Rng *r) {
    dcgan_init_pairs(d->ps, r);
    if (d->embed) init_const(d->embed, 0);
}

void dcgan_g_free(DcganG *g) {
    if (!g) return;
    if (g->bufs) params_free(g->bufs);
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
first layer is free: the $128 \cdot 49 = 6272$ outputs of the linear layer,
row-major, *are* 128 maps of 7×7 (channel $c$ is outputs $49c \dots 49c+48$).
A transposed convolution with $k = 4$, $s = 2$, $p = 1$ gives
$(H-1)\cdot 2 - 2 + 4 = 2H$: it exactly doubles the side, 7 → 14 → 28. D's
convolutions with $k = 3$, $s = 2$, $p = 1$ halve it, 28 → 14 → 7. Each
layer's stride and padding are stored with its kernel and read from there.
*/
Tensor *dcgan_conv(Tape *T, const Conv *c, Tensor *x) {
    return t_conv2d(T, x, c->w, c->b, c->stride, c->pad);
}
static Tensor *deconv(Tape *T, const Conv *c, Tensor *x) {
    return t_conv_transpose2d(T, x, c->w, c->b, c->stride, c->pad);
}

/*md
The remedy of section 8 puts batch normalisation after G's two hidden
layers (after the reshape, so it normalises each of the $c_1$ maps over the
batch and its 7×7 positions; then each of the $c_2$ maps), before the ReLU,
as the DCGAN paper does; never on the output.
*/
Tensor *dcgan_generate(Tape *T, const DcganG *g, Tensor *z) {
    return dcgan_generate_mode(T, g, z, 1);
}

Tensor *dcgan_generate_mode(Tape *T, const DcganG *g, Tensor *z, int train) {
    return dcgan_generate_class(T, g, z, NULL, train);
}

/* y must come with a conditional network and only with one. */
static void need_classes_given(const char *who, int classes, const int *y) {
    if (classes && !y)
        fail(EXIT_SOFTWARE, who, "pass each image's class (the _class functions)",
             "the network is conditional on %d classes and no classes were given",
             classes);
    if (!classes && y)
        fail(EXIT_SOFTWARE, who, "pass NULL for a plain network",
             "classes were given to a network made without them");
}

/*md
The second remedy (section 10) gives G each sample's class $y$ as a learned
vector added to its first layer's output, `G.embed` row $y$: the same as
appending $y$'s one-hot code to $z$, since
$W [z; e_y] + b = W_z z + b + W_y e_y$ and $W_y e_y$ is column $y$ of $W_y$.
*/
Tensor *dcgan_generate_class(Tape *T, const DcganG *g, Tensor *z, const int *y,
                             int train) {
    const int N = z->shape[0], c1 = g->cfg.c1;
    need_classes_given("dcgan_generate_class", g->cfg.classes, y);
    Tensor *a = linear(T, &g->fc, z); /* [N, c1*49] */
    if (y) a = t_add(T, a, t_embedding(T, g->embed, y, 1, SHAPE(N)));
    if (g->cfg.bn) {
        Tensor *h = t_reshape(T, a, 4, SHAPE(N, c1, 7, 7)); /* [N, c1, 7, 7] */
        h = t_relu(T, batchnorm(T, &g->bn1, h, train));
        h = t_relu(T, batchnorm(T, &g->bn2, deconv(T, &g->deconv1, h),
                                train));             /* [N, c2, 14, 14] */
        return t_tanh(T, deconv(T, &g->deconv2, h)); /* [N, 1, 28, 28] */
    }
    Tensor *h = t_relu(T, a);                    /* [N, c1*49] */
    h = t_reshape(T, h, 4, SHAPE(N, c1, 7, 7));  /* [N, c1, 7, 7] */
    h = t_relu(T, deconv(T, &g->deconv1, h));    /* [N, c2, 14, 14] */
    return t_tanh(T, deconv(T, &g->deconv2, h)); /* [N, 1, 28, 28] */
}

Tensor *dcgan_discriminate(Tape *T, const DcganD *d, Tensor *x) {
    return dcgan_discriminate_class(T, d, x, NULL);
}

/*md
The conditional D keeps its one logit and adds to it the projection of its
features $f$ on a learned vector of the image's class,
$\ell = w^\top f + b + e_y^\top f$ (Miyato and Koyama's projection
discriminator): a class's vector says which features make an image a
convincing member of that class.
*/
Tensor *dcgan_discriminate_class(Tape *T, const DcganD *d, Tensor *x, const int *y) {
    const int N = x->shape[0];
    need_classes_given("dcgan_discriminate_class", d->cfg.classes, y);
    const real slope = (real)DCGAN_LEAK;
    Tensor *h =
        t_leaky_relu(T, dcgan_conv(T, &d->conv1, x), slope); /* [N, d1, 14, 14] */
    h = t_leaky_relu(T, dcgan_conv(T, &d->conv2, h), slope); /* [N, d2, 7, 7] */
    h = t_reshape(T, h, 2, SHAPE(N, d->cfg.d2 * 49));        /* [N, d2*49] */
    Tensor *logit = linear(T, &d->fc, h);                    /* [N, 1] */
    if (!y) return logit;
    Tensor *proj = t_sum_last(T, t_mul(T, t_embedding(T, d->embed, y, 1, SHAPE(N)), h));
    return t_add(T, logit, t_reshape(T, proj, 2, SHAPE(N, 1))); /* [N, 1] logits */
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
Tensor *dcgan_loss_d(Tape *T, Tensor *l_real, Tensor *l_fake) {
    Tensor *real_term =
        t_bce_with_logits(T, l_real, const_column(T, l_real->shape[0], 1));
    Tensor *fake_term =
        t_bce_with_logits(T, l_fake, const_column(T, l_fake->shape[0], 0));
    return t_add(T, real_term, fake_term);
}

Tensor *dcgan_loss_g(Tape *T, Tensor *l_fake) {
    return t_bce_with_logits(T, l_fake, const_column(T, l_fake->shape[0], 1));
}

/*md
## The trainer: one training step

Two tapes, because `backward` walks a tape from the loss down to its first
node: D's step is recorded on its own tape, so its backward never touches G's
layers. On G's tape, G's backward runs through D (that is how G learns what D
dislikes) with D frozen (`params_freeze`): the gradient flows through D's
layers to G, but D's weights take none, since G's step would never apply it.
Nothing is allocated after the first step: each tape's arena is reused.
*/
DcganTrainer *dcgan_trainer_new(const DcganConfig *cfg, uint64_t seed) {
    if (cfg->batch < 1 || !(cfg->lr > 0))
        fail(EXIT_SOFTWARE, "dcgan_trainer_new",
             "use a batch >= 1 and a learning rate > 0", "batch %d, lr %g", cfg->batch,
             cfg->lr);
    DcganTrainer *t = xcalloc(1, sizeof(DcganTrainer));
    t->cfg = *cfg;
    t->g = dcgan_g_new(*cfg);
    t->d = dcgan_d_new(*cfg);
    Rng init;
    rng_stream(&init, seed, "dcgan/init");
    dcgan_g_init(t->g, &init);
    dcgan_d_init(t->d, &init);
    rng_stream(&t->noise, seed, "dcgan/noise");
    rng_stream(&t->eval, seed, "dcgan/eval");
    if (cfg->classes) {
        rng_stream(&t->labels, seed, "dcgan/labels");
        t->y_fake = xmalloc((size_t)cfg->batch * sizeof(int));
    }
    t->opt_g = adam_new(t->g->ps, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps);
    t->opt_d = adam_new(t->d->ps, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps);
    t->tg = tape_new();
    t->td = tape_new();
    t->te = tape_new();
    return t;
}

void dcgan_trainer_free(DcganTrainer *t) {
    if (!t) return;
    optim_free(t->opt_g);
    optim_free(t->opt_d);
    tape_free(t->tg);
    tape_free(t->td);
    tape_free(t->te);
    xfree(t->y_fake);
    dcgan_g_free(t->g);
    dcgan_d_free(t->d);
    xfree(t);
}

/* D's step on x (of classes y, or NULL) and a detached copy of G(z), z fresh
 * from the noise stream (and each fake's class from the labels stream);
 * returns G(z) on G's tape for the G step. */
static Tensor *step_d(DcganTrainer *t, const real *x, const int *y,
                      DcganStepStats *st) {
    const int N = t->cfg.batch, Z = t->cfg.zdim;
    const int img[4] = {N, 1, DCGAN_IMG, DCGAN_IMG};
    tape_reset(t->tg);
    tape_reset(t->td);
    Tensor *z = tape_input(t->tg, 2, SHAPE(N, Z), 0); /* [N, Z] */
    rng_fill_normal(&t->noise, z->data, z->size, 0, 1);
    const int *yf = y ? t->y_fake : NULL;
    if (y)
        for (int n = 0; n < N; n++) t->y_fake[n] = rng_int(&t->labels, t->cfg.classes);
    Tensor *fake = dcgan_generate_class(t->tg, t->g, z, yf, 1); /* [N, 1, 28, 28] */

    Tensor *xr = tape_input(t->td, 4, img, 0), *xf = tape_input(t->td, 4, img, 0);
    memcpy(xr->data, x, (size_t)xr->size * sizeof(real));
    memcpy(xf->data, fake->data, (size_t)xf->size * sizeof(real));
    Tensor *l_real = dcgan_discriminate_class(t->td, t->d, xr, y),
           *l_fake = dcgan_discriminate_class(t->td, t->d, xf, yf);
    Tensor *loss_d = dcgan_loss_d(t->td, l_real, l_fake);
    st->loss_d = loss_d->data[0];
    st->d_real = mean_sigmoid(l_real);
    st->d_fake = mean_sigmoid(l_fake);
    st->loss_g = NAN;
    params_zero_grad(t->d->ps);
    backward(t->td, loss_d);
    optim_step(t->opt_d);
    return fake;
}

DcganStepStats dcgan_trainer_step_d(DcganTrainer *t, const real *x) {
    DcganStepStats st;
    step_d(t, x, NULL, &st);
    return st;
}

/* G's step on fake = G(z), on G's tape: D(G(z)) with D's current weights,
 * frozen, backward through D into G; returns L_G before the update. */
static double step_g(DcganTrainer *t, Tensor *fake, const int *yf) {
    params_freeze(t->d->ps, 1); /* D's weight gradients would go unread */
    Tensor *loss_g =
        dcgan_loss_g(t->tg, dcgan_discriminate_class(t->tg, t->d, fake, yf));
    params_zero_grad(t->g->ps);
    backward(t->tg, loss_g);
    params_freeze(t->d->ps, 0);
    optim_step(t->opt_g);
    return loss_g->data[0];
}

DcganStepStats dcgan_trainer_step(DcganTrainer *t, const real *x) {
    return dcgan_trainer_step_class(t, x, NULL);
}

DcganStepStats dcgan_trainer_step_class(DcganTrainer *t, const real *x, const int *y) {
    need_classes_given("dcgan_trainer_step_class", t->cfg.classes, y);
    DcganStepStats st;
    Tensor *fake = step_d(t, x, y, &st);
    st.loss_g = step_g(t, fake, y ? t->y_fake : NULL); /* with D's new weights */
    return st;
}

double dcgan_trainer_step_g(DcganTrainer *t) {
    tape_reset(t->tg);
    Tensor *z = tape_input(t->tg, 2, SHAPE(t->cfg.batch, t->cfg.zdim), 0); /* [N, Z] */
    rng_fill_normal(&t->noise, z->data, z->size, 0, 1);
    return step_g(t, dcgan_generate(t->tg, t->g, z), NULL);
}

static double grad_norm(const ParamSet *ps) {
    double s = 0;
    for (long i = 0; i < ps->size; i++) s += (double)ps->grad[i] * ps->grad[i];
    return sqrt(s);
}

DcganEvalStats dcgan_trainer_eval(DcganTrainer *t, const real *x, int n) {
    const int B = t->cfg.batch;
    if (t->cfg.classes)
        fail(EXIT_SOFTWARE, "dcgan_trainer_eval", "evaluate a plain trainer",
             "the trainer is conditional on %d classes: D's verdict on real images "
             "needs their classes, and eval takes none",
             t->cfg.classes);
    DcganEvalStats e;
    double s = 0;
    for (int i = 0; i < n; i += B) {
        int b = n - i < B ? n - i : B;
        tape_reset(t->te);
        Tensor *xt = tape_input(t->te, 4, SHAPE(b, 1, DCGAN_IMG, DCGAN_IMG), 0);
        memcpy(xt->data, x + (long)i * DCGAN_PIX, (size_t)b * DCGAN_PIX * sizeof(real));
        s += mean_sigmoid(dcgan_discriminate(t->te, t->d, xt)) * b;
    }
    e.d_real = n > 0 ? s / n : NAN;

    tape_reset(t->te);
    Tensor *z = tape_input(t->te, 2, SHAPE(B, t->cfg.zdim), 0); /* [B, Z] */
    rng_fill_normal(&t->eval, z->data, z->size, 0, 1);
    Tensor *lf =
        dcgan_discriminate(t->te, t->d, dcgan_generate_mode(t->te, t->g, z, 0));
    e.d_fake = mean_sigmoid(lf);
    Tensor *loss_sat = t_neg(
        t->te,
        t_bce_with_logits(t->te, lf, const_column(t->te, B, 0))); /* mean log(1 - D) */
    params_zero_grad(t->g->ps);
    backward(t->te, loss_sat);
    e.grad_g_sat = grad_norm(t->g->ps);
    Tensor *loss = dcgan_loss_g(t->te, lf);
    params_zero_grad(t->g->ps);
    backward(t->te, loss);
    e.grad_g = grad_norm(t->g->ps);
    params_zero_grad(t->g->ps);
    params_zero_grad(t->d->ps);
    return e;
}

/*md
## A shuffled pass, and the history of a run

Each iteration takes the next `batch` images of a shuffled pass over the
training set, scaled to $[-1, 1]$ as it goes; a new epoch reshuffles. The
history keeps a log row per window of iterations (the mean of each
statistic, so a curve shows trends, not single noisy batches) and G's
samples for the fixed noise vectors at chosen points of the run.
*/
DcganPass *dcgan_pass_new(const unsigned char *pixels, const unsigned char *labels,
                          int n, int batch, uint64_t seed) {
    if (batch < 1 || n < batch)
        fail(EXIT_DATA, "dcgan_pass_new",
             "pass a data set with at least one batch of images",
             "%d images cannot fill a batch of %d", n, batch);
    DcganPass *p = xcalloc(1, sizeof(DcganPass));
    p->pixels = pixels;
    p->labels = labels;
    if (labels) p->y = xmalloc((size_t)batch * sizeof(int));
    p->n = n;
    p->batch = batch;
    p->perm = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) p->perm[i] = i;
    p->pos = n / batch * batch; /* the first call shuffles */
    rng_stream(&p->r, seed, "dcgan/data");
    return p;
}

void dcgan_pass_next(DcganPass *p, real *x) {
    const int per_epoch = p->n / p->batch * p->batch;
    if (p->pos + p->batch > per_epoch) { /* a new epoch: reshuffle */
        rng_shuffle(&p->r, p->perm, p->n);
        p->pos = 0;
    }
    for (int i = 0; i < p->batch; i++) {
        const int k = p->perm[p->pos + i];
        pixels_to_real(x + (long)i * DCGAN_PIX, p->pixels + (long)k * DCGAN_PIX,
                       DCGAN_PIX, -1, 1);
        if (p->labels) p->y[i] = p->labels[k];
    }
    p->pos += p->batch;
}

void dcgan_pass_free(DcganPass *p) {
    if (!p) return;
    xfree(p->perm);
    xfree(p->y);
    xfree(p);
}

DcganHistory *dcgan_history_new(int steps, int n_snaps, const double *snap_at,
                                const real *zfix, int n_fixed, int zdim) {
    if (steps < 1)
        fail(EXIT_SOFTWARE, "dcgan_history_new", "run at least one iteration",
             "steps %d", steps);
    DcganHistory *h = xcalloc(1, sizeof(DcganHistory));
    h->steps = steps;
    h->log_every = steps >= DCGAN_LOG_ROWS ? steps / DCGAN_LOG_ROWS : 1;
    h->n_logs = steps / h->log_every;
    h->log = xcalloc((size_t)h->n_logs * 5, sizeof(double));
    h->n_snaps = n_snaps;
    h->n_fixed = n_fixed;
    h->snap_step = xmalloc((size_t)n_snaps * sizeof(int));
    for (int k = 0; k < n_snaps; k++) h->snap_step[k] = (int)lround(snap_at[k] * steps);
    h->zfix = xmalloc((size_t)n_fixed * zdim * sizeof(real));
    memcpy(h->zfix, zfix, (size_t)n_fixed * zdim * sizeof(real));
    h->snaps = xmalloc((size_t)n_snaps * n_fixed * DCGAN_PIX * sizeof(real));
    h->ts = tape_new();
    return h;
}

void dcgan_history_free(DcganHistory *h) {
    if (!h) return;
    xfree(h->log);
    xfree(h->snap_step);
    xfree(h->zfix);
    xfree(h->snaps);
    tape_free(h->ts);
    xfree(h);
}

/* Every snapshot due at the current step (--quick: two can share a step). */
static void snapshots_due(DcganHistory *h, const DcganG *g) {
    for (; h->next_snap < h->n_snaps && h->done == h->snap_step[h->next_snap];
         h->next_snap++)
        dcgan_sample(h->ts, g, h->zfix, h->n_fixed,
                     h->snaps + (long)h->next_snap * h->n_fixed * DCGAN_PIX);
}

void dcgan_train(DcganTrainer *t, DcganPass *pass, DcganHistory *h, int until,
                 Progress *p) {
    if (t->cfg.classes && !pass->y)
        fail(EXIT_SOFTWARE, "dcgan_train", "make the pass with the images' labels",
             "the trainer is conditional on %d classes and the pass has no labels",
             t->cfg.classes);
    real *x = xmalloc((size_t)t->cfg.batch * DCGAN_PIX *
                      sizeof(real)); /* [N, 784] one real batch */
    if (until > h->steps) until = h->steps;
    for (; h->done < until; h->done++) {
        snapshots_due(h, t->g);
        dcgan_pass_next(pass, x);
        DcganStepStats st =
            dcgan_trainer_step_class(t, x, t->cfg.classes ? pass->y : NULL);
        const double v[4] = {st.loss_d, st.loss_g, st.d_real, st.d_fake};
        for (int k = 0; k < 4; k++) h->acc[k] += v[k];
        if ((h->done + 1) % h->log_every == 0) {
            double *row = h->log + (long)((h->done + 1) / h->log_every - 1) * 5;
            row[0] = h->done + 1;
            for (int k = 0; k < 4; k++)
                row[k + 1] = h->acc[k] / h->log_every, h->acc[k] = 0;
        }
        if (p) progress_update(p, h->done + 1, st.loss_d);
    }
    if (h->done == h->steps) snapshots_due(h, t->g);
    xfree(x);
}

const double *dcgan_history_row(const DcganHistory *h, int step) {
    int i = step / h->log_every - 1;
    if (i < 0) i = 0;
    if (i >= h->n_logs) i = h->n_logs - 1;
    return h->log + (long)i * 5;
}

DcganLogSummary dcgan_history_summary(const DcganHistory *h) {
    DcganLogSummary m = {0};
    double low = INFINITY, lead = -INFINITY;
    for (int i = 0; i < h->n_logs; i++) {
        const double *row = h->log + (long)i * 5; /* step, L_D, L_G, D(x), D(G(z)) */
        if (row[1] < low)
            low = row[1], m.low_step = (int)row[0], m.low_loss_d = row[1],
            m.low_loss_g = row[2];
        if (row[3] - row[4] > lead)
            lead = row[3] - row[4], m.lead_step = (int)row[0], m.lead_d_real = row[3],
            m.lead_d_fake = row[4];
        m.windows_ahead += row[3] > row[4];
    }
    return m;
}

void dcgan_grid_write(FILE *f, const real *imgs, int rows, int cols) {
    const ImageGrid grid = {.rows = rows,
                            .cols = cols,
                            .side = DCGAN_IMG,
                            .gap = 2,
                            .border = 1,
                            .gap_value = 1};
    image_grid_write(f, &grid, imgs);
}

void dcgan_history_write(const DcganHistory *h, int cols) {
    const int rows = h->n_fixed / cols, side_y = rows * (DCGAN_IMG + 2) + 2,
              side_x = cols * (DCGAN_IMG + 2) + 2;
    FILE *f = nb_open("samples.tsv");
    fprintf(f,
            "# %d blocks (gnuplot index 0..%d): G(zfix) for the same %d noise vectors "
            "at the steps of "
            "samples-steps.tsv; %d x %d values each\n",
            h->n_snaps, h->n_snaps - 1, h->n_fixed, side_y, side_x);
    for (int k = 0; k < h->n_snaps; k++)
        dcgan_grid_write(f, h->snaps + (long)k * h->n_fixed * DCGAN_PIX, rows, cols);
    fclose(f);
    f = nb_open("samples-steps.tsv");
    fprintf(f, "# block\tstep\n");
    for (int k = 0; k < h->n_snaps; k++) fprintf(f, "%d\t%d\n", k, h->snap_step[k]);
    fclose(f);
    f = nb_open("train-log.tsv");
    fprintf(f,
            "# step\tL_D\tL_G\tD_x\tD_Gz   (means over the %d iterations up to step)\n",
            h->log_every);
    for (int i = 0; i < h->n_logs; i++) {
        const double *row = h->log + (long)i * 5;
        fprintf(f, "%.0f\t%.6f\t%.6f\t%.6f\t%.6f\n", row[0], row[1], row[2], row[3],
                row[4]);
    }
    fclose(f);
}

ImageSet *dcgan_images_load(const char *dir, int need, const char *why,
                            const char *hint) {
    ImageSet *s = fashion_load(dir, "train");
    const int n = s->n, rows = s->rows, cols = s->cols;
    const char *what = dir ? dir : "the Fashion-MNIST training set";
    if (rows != DCGAN_IMG || cols != DCGAN_IMG) {
        imageset_free(s);
        fail(EXIT_DATA, what, "pass --data DIR with the 28x28 Fashion-MNIST files",
             "images are %dx%d, the model needs 28x28", rows, cols);
    }
    if (n < need) {
        imageset_free(s);
        fail(EXIT_DATA, what, hint, "needs %d training images (%s); the files hold %d",
             need, why, n);
    }
    return s;
}

/*md
## Sampling and the checkpoint

Sampling is G's forward pass alone. The checkpoint holds G's parameters and
a meta line with its sizes, so `dcgan_g_load` can build the right model before
it loads the numbers; D is not needed to generate and is not saved.
*/
void dcgan_sample(Tape *T, const DcganG *g, const real *z, int n, real *out) {
    int *y = NULL; /* a conditional G: class i mod K for sample i */
    if (g->cfg.classes) {
        y = xmalloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; i++) y[i] = i % g->cfg.classes;
    }
    dcgan_sample_class(T, g, z, y, n, out);
    xfree(y);
}

void dcgan_sample_class(Tape *T, const DcganG *g, const real *z, const int *y, int n,
                        real *out) {
    tape_reset(T);
    Tensor *zt = tape_input(T, 2, SHAPE(n, g->cfg.zdim), 0); /* [n, Z] */
    memcpy(zt->data, z, (size_t)zt->size * sizeof(real));
    Tensor *img = dcgan_generate_class(T, g, zt, y, 0); /* [n, 1, 28, 28] */
    memcpy(out, img->data, (size_t)img->size * sizeof(real));
}

long dcgan_g_state_size(const DcganG *g) {
    return g->ps->size + (g->bufs ? g->bufs->size : 0);
}

void dcgan_g_state_get(const DcganG *g, real *dst) {
    memcpy(dst, g->ps->data, (size_t)g->ps->size * sizeof(real));
    if (g->bufs)
        memcpy(dst + g->ps->size, g->bufs->data, (size_t)g->bufs->size * sizeof(real));
}

void dcgan_g_state_set(DcganG *g, const real *src) {
    memcpy(g->ps->data, src, (size_t)g->ps->size * sizeof(real));
    if (g->bufs)
        memcpy(g->bufs->data, src + g->ps->size, (size_t)g->bufs->size * sizeof(real));
}

void dcgan_g_save(const char *path, const DcganG *g) {
    if (g->cfg.bn)
        fail(EXIT_SOFTWARE, path, "save a generator without batch norm",
             "a checkpoint holds parameters, not a batch norm's running statistics");
    if (g->cfg.classes)
        fail(EXIT_SOFTWARE, path, "save a plain generator",
             "the checkpoint's meta line has no place for the classes");
    char meta[128];
    snprintf(meta, sizeof meta, "dcgan-G zdim=%d c1=%d c2=%d", g->cfg.zdim, g->cfg.c1,
             g->cfg.c2);
    checkpoint_save(path, g->ps, meta);
}

DcganG *dcgan_g_load(const char *path, const char *hint) {
    char meta[256];
    checkpoint_meta(path, meta, sizeof meta, hint);
    DcganConfig cfg = dcgan_config_default();
    if (sscanf(meta, "dcgan-G zdim=%d c1=%d c2=%d", &cfg.zdim, &cfg.c1, &cfg.c2) != 3 ||
        cfg.zdim < 1 || cfg.c1 < 1 || cfg.c2 < 1 || cfg.zdim > 100000 ||
        cfg.c1 > 100000 || cfg.c2 > 100000)
        fail(EXIT_DATA, path, hint,
             "not a chapter-3 generator checkpoint: its meta line is \"%.80s\"", meta);
    DcganG *g = dcgan_g_new(cfg);
    checkpoint_load(path, g->ps, hint);
    return g;
}
