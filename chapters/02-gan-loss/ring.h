/* ring.h - the ring GAN of chapter 2: data, model, losses, metrics, training.
 *
 * The reference model of DESIGN.md: a mixture of 8 Gaussians on a circle
 * (radius 2, angles k pi/4, std 0.02); G: Z -> H -> H -> 2 (ReLU, linear
 * output); D: 2P -> H -> H -> 1 logit (ReLU). P is the packing degree: P = 1
 * is the plain GAN; P > 1 is PacGAN, where D judges P samples at once.
 * Reused by tests/test_gan_ring.c (gradient, reference and metric tests).
 *
 * Dimension key:
 *   N = batch (real or fake points), Z = latent width (16), H = hidden width
 *   (128), P = packing degree (N must be a multiple of P), M = N / P = the
 *   rows D sees.
 */
#ifndef RING_H
#define RING_H

#include <stdint.h>

#include "nn.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

#define RING_MODES 8
#define RING_RADIUS 2.0
#define RING_STD 0.02
#define RING_HQ_DIST (3 * RING_STD)  /* "high quality": within 3 sigma of a centre */
#define RING_MODE_MIN 25             /* a mode is covered with >= 25 high-quality samples */
#define RING_EVAL_N 2500             /* samples the metrics are measured on */

/* ---- the model ------------------------------------------------------------ */
typedef struct {
    int zdim, hidden, pack;
    ParamSet *g, *d;            /* G's and D's parameters: two optimizers */
    Linear g1, g2, g3;          /* G.fc1 [H, Z], G.fc2 [H, H], G.fc3 [2, H] */
    Linear d1, d2, d3;          /* D.fc1 [H, 2P], D.fc2 [H, H], D.fc3 [1, H] */
} RingGan;

/* Declares and allocates the parameters (zero-filled); names as PyTorch's
 * state_dict: "G.fc1.weight" ... "D.fc3.bias". */
RingGan ring_new(int zdim, int hidden, int pack);
/* PyTorch's default Linear init: weight and bias U(-1/sqrt(in), 1/sqrt(in)),
 * G's layers first, then D's, each weight before its bias. */
void ring_init(RingGan *m, Rng *r);
void ring_free(RingGan *m);

/* z [N, Z] -> points [N, 2]. */
Tensor *ring_generator(Tape *T, const RingGan *m, Tensor *z);
/* x [N, 2] -> logits [M, 1], M = N / P (rows of P points side by side). */
Tensor *ring_discriminator(Tape *T, const RingGan *m, Tensor *x);

/* ---- the losses (each a scalar [1], in nats) ---------------------------------- */
/* L_D = BCE(D(x), 1) + BCE(D(G(z)), 0); d_real, d_fake logits [M, 1].
 * The caller makes d_fake from a detached copy of G(z). */
Tensor *ring_loss_d(Tape *T, Tensor *d_real, Tensor *d_fake);
/* Non-saturating L_G = BCE(D(G(z)), 1) = mean -log sigmoid(l);
 * saturating L_G = mean log(1 - sigmoid(l)) = -BCE(D(G(z)), 0). */
Tensor *ring_loss_g(Tape *T, Tensor *d_fake, int saturating);

/* ---- the data and the metrics ---------------------------------------------------- */
/* n points of the ring into x [n, 2]; also the mode of each into k [n] if k. */
void ring_sample(Rng *r, real *x, int n, int *k);
void ring_centre(int k, double *cx, double *cy);
typedef struct {
    int modes;           /* centres with >= RING_MODE_MIN high-quality samples */
    double hq;           /* % of samples within RING_HQ_DIST of their nearest centre */
    int count[RING_MODES]; /* high-quality samples per centre */
} RingMetrics;
/* x [n, 2]: the metrics of DESIGN.md. */
RingMetrics ring_metrics(const real *x, int n);

/* ---- training ---------------------------------------------------------------------- */
typedef struct {
    int zdim, hidden, pack, batch;
    int saturating;              /* 0: non-saturating L_G, 1: saturating */
    double lr, beta1, beta2;
    uint64_t seed;
} RingConfig;

/* DESIGN.md's reference: Z 16, H 128, P 1, N 256, Adam 1e-3 (0.5, 0.999). */
RingConfig ring_config_default(void);

typedef struct {
    RingConfig cfg;
    RingGan m;
    Optimizer *opt_g, *opt_d;
    Rng rng;                      /* init, then every batch of x and z */
    Tape *td, *tg;                /* the D step's tape, the G step's tape */
    int step;                     /* steps taken */
} RingTrainer;

typedef struct {
    double loss_d, loss_g;        /* nats, before this step's updates */
    double d_real, d_fake;        /* mean sigmoid(D(x)), mean sigmoid(D(G(z))) */
} RingStepStats;

/* Builds the model from cfg (seeded init) and the two Adam optimizers. */
void ring_trainer_init(RingTrainer *tr, const RingConfig *cfg);
/* One D step, then one G step on the same z. */
RingStepStats ring_trainer_step(RingTrainer *tr);
void ring_trainer_free(RingTrainer *tr);

/* n samples of G into out [n, 2], z drawn from r (any n; batches of 500). */
void ring_generate(const RingGan *m, Rng *r, real *out, int n);
/* sigmoid(D) of a single point per row (pack 1 only): x [n, 2] -> out [n]. */
void ring_d_prob(const RingGan *m, const real *x, int n, real *out);

#endif
