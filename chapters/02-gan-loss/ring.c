/* chapters/02-gan-loss/ring.c - the ring GAN: model, losses, metrics, training.
 *
 * Teaches: a whole GAN in a page: two small MLPs, two losses built from one
 * op (BCE with logits), "detach" as copying numbers onto a fresh tape, and
 * the alternating D step / G step with two optimizers.
 * Leaves out: everything chapter 3 adds (convolutions, images, checkpoints).
 *
 * Dimension key (as ring.h): N batch, Z latent width, H hidden width,
 * P packing degree, M = N / P rows seen by D.
 */
#include "ring.h"

#include <math.h>
#include <string.h>

#include "init.h"
#include "util.h"

/*md
## The model file: `ring.c`

Both networks are three `Linear` layers with ReLU between them. The
parameter names are PyTorch's `state_dict` names (`G.fc1.weight`, ...,
`D.fc3.bias`), so the reference fixture written by
`tests/reference/gan_ring.py` loads by name and the test can prove this is
the same function PyTorch computes. G and D keep their parameters in two
`ParamSet`s, so each has its own Adam and a step of one never moves the other.
*/

/* ---- the model ------------------------------------------------------------ */
RingGan ring_new(int zdim, int hidden, int pack) {
    if (zdim < 1 || hidden < 1 || pack < 1)
        fail(EXIT_SOFTWARE, "ring_new", "pass positive sizes", "zdim %d, hidden %d, pack %d", zdim, hidden, pack);
    RingGan m = {.zdim = zdim, .hidden = hidden, .pack = pack, .g = params_new(), .d = params_new()};
    m.g1 = linear_new(m.g, "G.fc1", zdim, hidden, 1);
    m.g2 = linear_new(m.g, "G.fc2", hidden, hidden, 1);
    m.g3 = linear_new(m.g, "G.fc3", hidden, 2, 1);
    m.d1 = linear_new(m.d, "D.fc1", 2 * pack, hidden, 1);
    m.d2 = linear_new(m.d, "D.fc2", hidden, hidden, 1);
    m.d3 = linear_new(m.d, "D.fc3", hidden, 1, 1);
    params_alloc(m.g);
    params_alloc(m.d);
    return m;
}

/* nn.Linear.reset_parameters: kaiming_uniform(a=sqrt 5) on the weight is
 * U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound. */
static void init_linear(Linear *l, Rng *r) {
    init_uniform_fan_in(l->w, r);
    init_uniform_bound(l->b, r, 1.0 / sqrt((double)l->in));
}

void ring_init(RingGan *m, Rng *r) {
    Linear *layers[6] = {&m->g1, &m->g2, &m->g3, &m->d1, &m->d2, &m->d3};
    for (int i = 0; i < 6; i++) init_linear(layers[i], r);
}

void ring_free(RingGan *m) {
    params_free(m->g);
    params_free(m->d);
    m->g = m->d = NULL;
}

/* z [N, Z] -> [N, 2] */
Tensor *ring_generator(Tape *T, const RingGan *m, Tensor *z) {
    Tensor *h = t_relu(T, linear(T, &m->g1, z));  /* [N, H] */
    h = t_relu(T, linear(T, &m->g2, h));          /* [N, H] */
    return linear(T, &m->g3, h);                  /* [N, 2] */
}

/* x [N, 2] -> logits [M, 1]. Packing is only a reshape: P consecutive
 * points, row-major, become one row of 2P numbers. */
Tensor *ring_discriminator(Tape *T, const RingGan *m, Tensor *x) {
    int N = x->shape[0];
    if (x->ndim != 2 || x->shape[1] != 2 || N % m->pack)
        fail(EXIT_SOFTWARE, "ring_discriminator", "pass points [N, 2] with N a multiple of the packing degree",
             "got %d dims, %d rows, pack %d", x->ndim, N, m->pack);
    if (m->pack > 1) x = t_reshape(T, x, 2, SHAPE(N / m->pack, 2 * m->pack)); /* [M, 2P] */
    Tensor *h = t_relu(T, linear(T, &m->d1, x));  /* [M, H] */
    h = t_relu(T, linear(T, &m->d2, h));          /* [M, H] */
    return linear(T, &m->d3, h);                  /* [M, 1] */
}

/*md
### The losses

Everything is written with one op, `t_bce_with_logits(l, y)` =
mean over rows of $\mathrm{softplus}(l) - y\,l$, which never takes the log of
a rounded probability:

- $L_D = \mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)$, each a mean over the batch;
- non-saturating $L_G = \mathrm{BCE}(D(G(z)), 1) = -\overline{\log \sigma(l)}$;
- saturating $L_G = \overline{\log(1 - \sigma(l))} = -\mathrm{BCE}(D(G(z)), 0)$.
*/
static Tensor *constant(Tape *T, const Tensor *like, real v) {
    Tensor *y = tape_input(T, like->ndim, like->shape, 0);
    for (long i = 0; i < y->size; i++) y->data[i] = v;
    return y;
}

Tensor *ring_loss_d(Tape *T, Tensor *d_real, Tensor *d_fake) {
    return t_add(T, t_bce_with_logits(T, d_real, constant(T, d_real, 1)),
                 t_bce_with_logits(T, d_fake, constant(T, d_fake, 0)));
}

Tensor *ring_loss_g(Tape *T, Tensor *d_fake, int saturating) {
    if (saturating) return t_neg(T, t_bce_with_logits(T, d_fake, constant(T, d_fake, 0)));
    return t_bce_with_logits(T, d_fake, constant(T, d_fake, 1));
}

/* ---- the data and the metrics ------------------------------------------------ */
void ring_centre(int k, double *cx, double *cy) {
    double a = k * (M_PI / 4);
    *cx = RING_RADIUS * cos(a);
    *cy = RING_RADIUS * sin(a);
}

/* x [n, 2], k [n] or NULL */
void ring_sample(Rng *r, real *x, int n, int *k) {
    for (int i = 0; i < n; i++) {
        int mode = rng_int(r, RING_MODES);
        double cx, cy;
        ring_centre(mode, &cx, &cy);
        double ex = rng_normal(r), ey = rng_normal(r);
        x[2 * i] = (real)(cx + RING_STD * ex);
        x[2 * i + 1] = (real)(cy + RING_STD * ey);
        if (k) k[i] = mode;
    }
}

/*md
### The metrics

As VEEGAN and PacGAN count them, on 2,500 samples: a sample is
*high quality* if it lies within $3\sigma = 0.06$ of its nearest centre; a
mode is *covered* if at least 25 samples (1 %) are high quality there.
*/
/* x [n, 2] */
RingMetrics ring_metrics(const real *x, int n) {
    RingMetrics r = {0};
    int hq = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int k = 0; k < RING_MODES; k++) {
            double cx, cy;
            ring_centre(k, &cx, &cy);
            double d = hypot(x[2 * i] - cx, x[2 * i + 1] - cy);
            if (d < bd) bd = d, best = k;
        }
        if (bd <= RING_HQ_DIST) hq++, r.count[best]++;
    }
    for (int k = 0; k < RING_MODES; k++) r.modes += r.count[k] >= RING_MODE_MIN;
    r.hq = n ? 100.0 * hq / n : 0;
    return r;
}

/* ---- training ------------------------------------------------------------------ */
RingConfig ring_config_default(void) {
    return (RingConfig){.zdim = 16, .hidden = 128, .pack = 1, .batch = 256, .saturating = 0,
                        .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.999, .seed = 0};
}

void ring_trainer_init(RingTrainer *tr, const RingConfig *cfg) {
    if (cfg->batch < 1 || cfg->batch % cfg->pack)
        fail(EXIT_USAGE, "ring_trainer_init", "make the batch a positive multiple of the packing degree",
             "batch %d, pack %d", cfg->batch, cfg->pack);
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    rng_seed(&tr->rng, cfg->seed);
    tr->m = ring_new(cfg->zdim, cfg->hidden, cfg->pack);
    ring_init(&tr->m, &tr->rng);
    tr->opt_g = adam_new(tr->m.g, cfg->lr, cfg->beta1, cfg->beta2, 1e-8);
    tr->opt_d = adam_new(tr->m.d, cfg->lr, cfg->beta1, cfg->beta2, 1e-8);
    tr->td = tape_new();
    tr->tg = tape_new();
}

/*md
### One training step

One D step, then one G step, on the same draw of $z$:

1. draw a batch $x$ of real points and a batch $z$, and run $G(z)$ on the
   G tape (it keeps the graph for step 2);
2. *detach*: copy the numbers of $G(z)$ onto the D tape as a plain input
   without a gradient, so $L_D$'s backward stops at D; step D's Adam;
3. run the (just updated) D on the G tape's $G(z)$, backward $L_G$ through D
   into G, step G's Adam. D's gradients from this pass are thrown away
   (zeroed before D's next backward): D is held fixed while G learns.
*/
RingStepStats ring_trainer_step(RingTrainer *tr) {
    const RingConfig *c = &tr->cfg;
    RingGan *m = &tr->m;
    int N = c->batch;
    RingStepStats st;
    tape_reset(tr->td);
    tape_reset(tr->tg);
    /* 1. data and noise */
    Tensor *x = tape_input(tr->td, 2, SHAPE(N, 2), 0);          /* [N, 2] */
    ring_sample(&tr->rng, x->data, N, NULL);
    Tensor *z = tape_input(tr->tg, 2, SHAPE(N, c->zdim), 0);    /* [N, Z] */
    rng_fill_normal(&tr->rng, z->data, z->size, 0, 1);
    Tensor *fake = ring_generator(tr->tg, m, z);                /* [N, 2] */
    /* 2. the D step, on a detached copy of G(z) */
    Tensor *fake_det = tape_input(tr->td, 2, SHAPE(N, 2), 0);   /* [N, 2] */
    memcpy(fake_det->data, fake->data, sizeof(real) * (size_t)fake->size);
    Tensor *d_real = ring_discriminator(tr->td, m, x);          /* [M, 1] */
    Tensor *d_fake = ring_discriminator(tr->td, m, fake_det);   /* [M, 1] */
    Tensor *loss_d = ring_loss_d(tr->td, d_real, d_fake);
    params_zero_grad(m->d);
    backward(tr->td, loss_d);
    optim_step(tr->opt_d);
    st.loss_d = loss_d->data[0];
    st.d_real = mean_sigmoid(d_real);
    st.d_fake = mean_sigmoid(d_fake);
    /* 3. the G step, through the updated D */
    Tensor *loss_g = ring_loss_g(tr->tg, ring_discriminator(tr->tg, m, fake), c->saturating);
    params_zero_grad(m->g);
    backward(tr->tg, loss_g);
    optim_step(tr->opt_g);
    st.loss_g = loss_g->data[0];
    tr->step++;
    return st;
}

void ring_trainer_free(RingTrainer *tr) {
    optim_free(tr->opt_g);
    optim_free(tr->opt_d);
    tape_free(tr->td);
    tape_free(tr->tg);
    ring_free(&tr->m);
}

/* out [n, 2] */
void ring_generate(const RingGan *m, Rng *r, real *out, int n) {
    Tape *T = tape_new();
    for (int i = 0; i < n; i += 500) {
        int b = n - i < 500 ? n - i : 500;
        tape_reset(T);
        Tensor *z = tape_input(T, 2, SHAPE(b, m->zdim), 0);
        rng_fill_normal(r, z->data, z->size, 0, 1);
        Tensor *y = ring_generator(T, m, z);
        memcpy(out + 2L * i, y->data, sizeof(real) * (size_t)y->size);
    }
    tape_free(T);
}

/* x [n, 2] -> out [n] */
void ring_d_prob(const RingGan *m, const real *x, int n, real *out) {
    if (m->pack != 1) fail(EXIT_SOFTWARE, "ring_d_prob", "use an unpacked D (pack 1)", "pack is %d", m->pack);
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(n, 2), 0);
    memcpy(xt->data, x, sizeof(real) * 2 * (size_t)n);
    Tensor *l = ring_discriminator(T, m, xt);
    for (int i = 0; i < n; i++) out[i] = (real)(1 / (1 + exp(-(double)l->data[i])));
    tape_free(T);
}
