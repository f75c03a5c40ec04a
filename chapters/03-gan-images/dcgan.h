/* dcgan.h - the image GAN of chapter 3: generator, discriminator, losses,
 * one training step, sampling and the generator's checkpoint.
 * Reused by tests/test_gan_images.c (gradient, reference, checkpoint tests).
 *
 * The reference model of DESIGN.md (pixels in [-1, 1]):
 *   G: z [N, Z] -> fc Linear(Z -> c1*7*7) -> ReLU -> view [N, c1, 7, 7]
 *      -> deconv1 ConvT(c1 -> c2, k4, s2, p1) -> ReLU        [N, c2, 14, 14]
 *      -> deconv2 ConvT(c2 -> 1,  k4, s2, p1) -> tanh        [N, 1, 28, 28]
 *   D: x [N, 1, 28, 28] -> conv1 Conv(1 -> d1, k3, s2, p1) -> LeakyReLU 0.2
 *      -> conv2 Conv(d1 -> d2, k3, s2, p1) -> LeakyReLU 0.2  [N, d2, 7, 7]
 *      -> flatten [N, d2*49] -> fc Linear(d2*49 -> 1)          logit [N, 1]
 * Reference sizes: Z 100, c1 128, c2 64, d1 32, d2 64. The PyTorch fixture
 * uses Z 8, c1 4, c2 3, d1 2, d2 3, so every size is a parameter.
 *
 * Dimension key:
 *   N = batch, Z = latent width, c1, c2 = G's channels (7x7, 14x14),
 *   d1, d2 = D's channels (14x14, 7x7), IMG = 28 (image side), PIX = 784.
 *
 * Parameter names are PyTorch state_dict names, so the fixture
 * (tests/reference/gan_images.txt) and checkpoints load by name:
 *   G.fc.weight [c1*49, Z]  G.deconv1.weight [c1, c2, 4, 4]  G.deconv2.weight [c2, 1, 4, 4]
 *   D.conv1.weight [d1, 1, 3, 3]  D.conv2.weight [d2, d1, 3, 3]  D.fc.weight [1, d2*49]
 *   and a .bias [out] for each.
 */
#ifndef DCGAN_H
#define DCGAN_H

#include <stddef.h>

#include "nn.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

#define DCGAN_IMG 28
#define DCGAN_PIX (DCGAN_IMG * DCGAN_IMG)

typedef struct {
    int zdim;       /* Z: latent width */
    int c1, c2;     /* G's channels at 7x7 and 14x14 */
    int d1, d2;     /* D's channels at 14x14 and 7x7 */
} DcganConfig;

/* DESIGN.md's reference sizes: Z 100, c1 128, c2 64, d1 32, d2 64. */
DcganConfig dcgan_reference(void);

/* A convolution layer: kernel, bias, stride and padding. */
typedef struct {
    Tensor *w;      /* conv: [O, C, k, k]; transposed conv: [C, O, k, k] */
    Tensor *b;      /* [O] */
    int stride, pad;
} Conv;

typedef struct {
    DcganConfig cfg;
    ParamSet *ps;          /* "G.*": one block, one optimizer, one checkpoint */
    Linear fc;             /* [c1*49, Z] */
    Conv deconv1, deconv2; /* transposed convs */
} DcganG;

typedef struct {
    DcganConfig cfg;
    ParamSet *ps;          /* "D.*" */
    Conv conv1, conv2;
    Linear fc;             /* [1, d2*49] */
} DcganD;

/* Declare and allocate the parameters (zero-filled). Sizes < 1: fail(). */
DcganG *dcgan_g_new(DcganConfig cfg);
DcganD *dcgan_d_new(DcganConfig cfg);
/* PyTorch's default init for Linear, Conv2d and ConvTranspose2d: weight and
 * bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in from the weight's shape as
 * torch computes it (init.h), layers in declaration order, weight then bias. */
void dcgan_g_init(DcganG *g, Rng *r);
void dcgan_d_init(DcganD *d, Rng *r);
void dcgan_g_free(DcganG *g);
void dcgan_d_free(DcganD *d);

/* z [N, Z] -> images [N, 1, 28, 28] in (-1, 1). */
Tensor *dcgan_generate(Tape *T, const DcganG *g, Tensor *z);
/* x [N, 1, 28, 28] -> logits [N, 1]. */
Tensor *dcgan_discriminate(Tape *T, const DcganD *d, Tensor *x);

/* L_D = mean_n BCE(l_real, 1) + mean_n BCE(l_fake, 0), logits [N, 1] each.
 * For D's step the caller makes l_fake from a detached copy of G(z), so no
 * gradient reaches G. */
Tensor *dcgan_loss_d(Tape *T, Tensor *l_real, Tensor *l_fake);
/* Non-saturating L_G = mean_n BCE(l_fake, 1) = mean_n -log sigmoid(l_fake). */
Tensor *dcgan_loss_g(Tape *T, Tensor *l_fake);

/* ---- training -------------------------------------------------------------- */
typedef struct {
    DcganG *g;
    DcganD *d;
    Optimizer *opt_g, *opt_d;  /* Adam, lr 2e-4, betas (0.5, 0.999), eps 1e-8 */
    Tape *tg, *td;             /* G's tape (G(z), then D(G(z)) for L_G); D's tape */
    int batch;                 /* N */
} DcganTrainer;

/* What one step measured (before its updates). */
typedef struct {
    double loss_d, loss_g;     /* nats */
    double d_real, d_fake;     /* mean sigmoid(D(x)), mean sigmoid(D(G(z))) */
} DcganStats;

/* Take ownership of g and d; make the optimizers and tapes. */
DcganTrainer *dcgan_trainer_new(DcganG *g, DcganD *d, int batch);
void dcgan_trainer_free(DcganTrainer *tr);  /* frees g and d too */
/* One D step, then one G step, as the DCGAN paper and PyTorch's example:
 *   z ~ N(0, I) [N, Z]; fake = G(z)
 *   D: minimise L_D on x and a detached copy of fake; Adam step on D
 *   G: minimise L_G on D(fake), with D's new weights; Adam step on G
 * x [N, 784] pixels in [-1, 1]. The noise comes from r. */
DcganStats dcgan_step(DcganTrainer *tr, const real *x, Rng *r);

/* ---- sampling and the checkpoint ------------------------------------------------ */
/* G(z) for n latent vectors z [n, Z] into out [n, 784], on the scratch tape T
 * (reset here). */
void dcgan_sample(Tape *T, const DcganG *g, const real *z, int n, real *out);

/* Save G's parameters with the meta line "dcgan-G zdim=.. c1=.. c2=..". */
void dcgan_g_save(const char *path, const DcganG *g);
/* Build a G from a checkpoint's meta line and load its numbers. A missing,
 * damaged or foreign file is a fail() naming the file; hint says which
 * command makes it. */
DcganG *dcgan_g_load(const char *path, const char *hint);

#endif
