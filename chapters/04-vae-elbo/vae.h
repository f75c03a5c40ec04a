/* vae.h - the VAE of chapter 4: model, negative ELBO, plain forward passes.
 *
 * The reference model of DESIGN.md (pixels in [0, 1] as real numbers):
 *   encoder  x [N, D] -> fc1 -> ReLU -> h [N, H];  mu = fc21(h), logvar = fc22(h)  [N, Z]
 *   sample   z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)                        [N, Z]
 *   decoder  z -> fc3 -> ReLU -> fc4 -> logits [N, D]  (Bernoulli means sigmoid(logits))
 *   loss     -ELBO = BCE-with-logits summed over pixels + KL(q(z|x) || N(0, I)) summed
 *            over latents, both averaged over the N images: nats per image.
 * Parameter names are PyTorch's state_dict names (fc1, fc21, fc22, fc3, fc4),
 * so tests/reference/vae.txt loads by name. Reused by tests/test_vae.c and
 * bench/bench_vae.c.
 *
 * Dimension key:
 *   N = images in a batch, D = pixels per image (784), H = hidden width (400),
 *   Z = latent width (20, or 2 for the pictures), K = importance samples.
 */
#ifndef VAE_H
#define VAE_H

#include "nn.h"
#include "rng.h"
#include "tensor.h"

typedef struct {
    int D, H, Z;
    ParamSet *ps;
    Linear fc1;   /* weight [H, D], bias [H] */
    Linear fc21;  /* weight [Z, H], bias [Z]: mu */
    Linear fc22;  /* weight [Z, H], bias [Z]: logvar = log sigma^2 */
    Linear fc3;   /* weight [H, Z], bias [H] */
    Linear fc4;   /* weight [D, H], bias [D]: logits */
} Vae;

/* Declares and allocates the parameters (zero-filled). Stops with a clear
 * message on a non-positive size. */
Vae vae_new(int D, int H, int Z);
/* PyTorch's default Linear init, layer by layer in the order above, each
 * weight then its bias: U(-1/sqrt(in), 1/sqrt(in)) for both. */
void vae_init(Vae *m, Rng *r);
void vae_free(Vae *m);

/* ---- on the tape (training, gradient checks) ------------------------------ */
typedef struct {
    Tensor *mu, *logvar;   /* [N, Z] */
    Tensor *z;             /* [N, Z] */
    Tensor *logits;        /* [N, D] */
    Tensor *recon;         /* [1]: mean over images of sum over pixels of BCE, nats */
    Tensor *kl;            /* [1]: mean over images of the closed-form KL, nats */
    Tensor *loss;          /* [1]: recon + kl = -ELBO per image, nats */
} VaeOut;

/* x [N, D] (targets in [0, 1], no grad), eps [N, Z] (the noise, held fixed
 * by the caller: a tape input) -> every node of the loss. */
VaeOut vae_forward(Tape *T, const Vae *m, Tensor *x, Tensor *eps);

/* ---- plain forward passes, no tape (evaluation, pictures) ------------------- */
/* Working memory for the plain passes, for up to `rows` rows at a time. */
typedef struct {
    int rows;
    real *h;        /* [rows, H] */
} VaeScratch;

VaeScratch vae_scratch_new(const Vae *m, int rows);
void vae_scratch_free(VaeScratch *s);

/* x [n, D] -> mu [n, Z], logvar [n, Z] (n <= s->rows). */
void vae_encode(const Vae *m, VaeScratch *s, const real *x, int n, real *mu, real *logvar);
/* z [n, Z] -> logits [n, D] (n <= s->rows). */
void vae_decode(const Vae *m, VaeScratch *s, const real *z, int n, real *logits);
/* -log p(x|z) of each row: sum over d of softplus(l) - x l, in double.
 * x, logits [n, D] -> out [n]. */
void vae_bernoulli_nll(const real *x, const real *logits, int n, int D, double *out);
/* Closed-form KL(N(mu, e^logvar) || N(0, I)) of each row: mu, logvar [n, Z] -> out [n]. */
void vae_kl_rows(const real *mu, const real *logvar, int n, int Z, double *out);

/* log(mean(exp(a[0..k)))) without overflow: max + log mean exp(a - max). */
double log_mean_exp(const double *a, int k);

#endif
