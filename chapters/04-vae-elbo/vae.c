/* chapters/04-vae-elbo/vae.c - the VAE: model, negative ELBO, plain forward passes.
 *
 * Teaches: a whole VAE in a page. Two small MLPs, one sampling line (the
 * reparameterization z = mu + sigma * eps, built from ops so the gradient
 * flows through it), and a loss that is two library ops: BCE with logits
 * (the reconstruction term) and the closed-form Gaussian KL.
 * Leaves out: convolutional encoders and decoders, other likelihoods
 * (Gaussian, discretized logistic), KL annealing, more than one sample of
 * z per image during training.
 *
 * Dimension key (as vae.h): N images, D pixels, H hidden width, Z latent width.
 */
#include "vae.h"

#include <math.h>

#include "gemm.h"
#include "init.h"
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
Vae vae_new(int D, int H, int Z) {
    if (D < 1 || H < 1 || Z < 1)
        fail(EXIT_SOFTWARE, "vae_new", "pass positive sizes", "D %d, H %d, Z %d", D, H, Z);
    Vae m = {.D = D, .H = H, .Z = Z, .ps = params_new()};
    m.fc1 = linear_new(m.ps, "fc1", D, H, 1);
    m.fc21 = linear_new(m.ps, "fc21", H, Z, 1);
    m.fc22 = linear_new(m.ps, "fc22", H, Z, 1);
    m.fc3 = linear_new(m.ps, "fc3", Z, H, 1);
    m.fc4 = linear_new(m.ps, "fc4", H, D, 1);
    params_alloc(m.ps);
    return m;
}

/* nn.Linear.reset_parameters: kaiming_uniform(a = sqrt 5) on the weight is
 * U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound. */
void vae_init(Vae *m, Rng *r) {
    Linear *layers[5] = {&m->fc1, &m->fc21, &m->fc22, &m->fc3, &m->fc4};
    for (int i = 0; i < 5; i++) {
        init_uniform_fan_in(layers[i]->w, r);
        init_uniform_bound(layers[i]->b, r, 1.0 / sqrt((double)layers[i]->in));
    }
}

void vae_free(Vae *m) {
    params_free(m->ps);
    m->ps = NULL;
}

/*md
The loss on the tape. The sampling line is the reparameterization trick:
$\varepsilon$ is a tape *input* (drawn by the caller, no gradient), and $z$
is computed from $\mu$, $\log\sigma^2$ and $\varepsilon$ by ordinary ops, so
`backward()` reaches the encoder through $z$:
$\partial z/\partial\mu = 1$, $\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$.
*/
VaeOut vae_forward(Tape *T, const Vae *m, Tensor *x, Tensor *eps) {
    int N = x->shape[0];
    if (x->ndim != 2 || x->shape[1] != m->D || eps->ndim != 2 || eps->shape[0] != N || eps->shape[1] != m->Z)
        fail(EXIT_SOFTWARE, "vae_forward", "pass x [N, D] and eps [N, Z] with the model's D and Z",
             "x has %d dims (%d x %d), eps %d dims (%d x %d); model D %d, Z %d", x->ndim, x->shape[0],
             x->ndim > 1 ? x->shape[1] : 1, eps->ndim, eps->shape[0], eps->ndim > 1 ? eps->shape[1] : 1, m->D,
             m->Z);
    VaeOut o;
    Tensor *h = t_relu(T, linear(T, &m->fc1, x));            /* [N, H] */
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
rows as many as we like (the importance-weighted estimate decodes 100,000
latent draws). The tests check that both paths agree.
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
        fail(EXIT_SOFTWARE, who, "make the scratch with at least as many rows as one call passes",
             "%d rows, scratch holds %d", n, s->rows);
}

void vae_encode(const Vae *m, VaeScratch *s, const real *x, int n, real *mu, real *logvar) {
    need_rows(s, n, "vae_encode");
    plain_linear(&m->fc1, x, n, s->h, 1);       /* h [n, H] */
    plain_linear(&m->fc21, s->h, n, mu, 0);     /* [n, Z] */
    plain_linear(&m->fc22, s->h, n, logvar, 0); /* [n, Z] */
}

void vae_decode(const Vae *m, VaeScratch *s, const real *z, int n, real *logits) {
    need_rows(s, n, "vae_decode");
    plain_linear(&m->fc3, z, n, s->h, 1);       /* h [n, H] */
    plain_linear(&m->fc4, s->h, n, logits, 0);  /* [n, D] */
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
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < k; i++) mx = a[i] > mx ? a[i] : mx;
    if (!isfinite(mx)) return mx;
    for (int i = 0; i < k; i++) s += exp(a[i] - mx);
    return mx + log(s / k);
}
