/* dcgan.h - the image GAN of chapter 3: generator, discriminator, losses,
 * the trainer (one interface for the chapter, its bench and its tests), a
 * shuffled pass over the images, the training history, sampling and the
 * generator's checkpoint.
 *
 * The reference model of DESIGN.md (pixels in [-1, 1]):
 *   G: z [N, Z] -> fc Linear(Z -> c1*7*7) -> ReLU -> view [N, c1, 7, 7]
 *      -> deconv1 ConvT(c1 -> c2, k4, s2, p1) -> ReLU        [N, c2, 14, 14]
 *      -> deconv2 ConvT(c2 -> 1,  k4, s2, p1) -> tanh        [N, 1, 28, 28]
 *   D: x [N, 1, 28, 28] -> conv1 Conv(1 -> d1, k3, s2, p1) -> LeakyReLU 0.2
 *      -> conv2 Conv(d1 -> d2, k3, s2, p1) -> LeakyReLU 0.2  [N, d2, 7, 7]
 *      -> flatten [N, d2*49] -> fc Linear(d2*49 -> 1)          logit [N, 1]
 * The course's model, not the article's: the article's G is Dense
 * 128 -> 256 -> 512 -> 1024 into one Conv2DTranspose (it cannot be built),
 * and its D uses ReLU; this D uses LeakyReLU 0.2, as the DCGAN paper
 * recommends for the discriminator (a negative input still passes a
 * gradient back to G). Reference sizes: Z 100, c1 128, c2 64, d1 32, d2 64.
 * The PyTorch fixture uses Z 8, c1 4, c2 3, d1 2, d2 3, so every size is a
 * parameter. With cfg.bn (the remedy of chapter 3, section 9) G is
 *      fc -> view [N, c1, 7, 7] -> bn1 -> ReLU -> deconv1 -> bn2 -> ReLU -> deconv2 -> tanh
 * (BatchNorm2d, PyTorch's momentum 0.1 and eps 1e-5); its fixture is in
 * tests/reference/judge.txt. With cfg.classes = K (the second remedy,
 * section 10: a GAN conditional on the class, y in 0..K-1 per image)
 *   G: fc(z) + G.embed[y]  -> ReLU -> ... as above
 *      (the same as fc on z with y's one-hot appended: Mirza and Osindero 2014)
 *   D: logit = fc(f) + <D.embed[y], f>,  f = D's flattened features [N, d2*49]
 *      (the projection discriminator of Miyato and Koyama, ICLR 2018)
 * Both tables start at zero, so a conditional pair starts as the plain one.
 *
 * Dimension key:
 *   N = batch, Z = latent width, c1, c2 = G's channels (7x7, 14x14),
 *   d1, d2 = D's channels (14x14, 7x7), IMG = 28 (image side), PIX = 784.
 *
 * Parameter names are PyTorch state_dict names, so the fixture
 * (tests/reference/gan_images.txt) and checkpoints load by name:
 *   G.fc.weight [c1*49, Z]  G.deconv1.weight [c1, c2, 4, 4]  G.deconv2.weight [c2, 1, 4, 4]
 *   D.conv1.weight [d1, 1, 3, 3]  D.conv2.weight [d2, d1, 3, 3]  D.fc.weight [1, d2*49]
 *   and a .bias [out] for each; with cfg.bn also G.bn1.weight/bias [c1] and
 *   G.bn2.weight/bias [c2] (declared last, so the three layers draw the same
 *   initial weights with or without batch norm).
 *
 * Ownership: dcgan_g_new, dcgan_d_new and dcgan_g_load return networks the
 * caller frees; the trainer makes, owns and frees its own. Every pointer a
 * function takes stays the caller's unless its comment says otherwise.
 */
#ifndef DCGAN_H
#define DCGAN_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "nn.h"
#include "notebook.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

#define DCGAN_IMG 28
#define DCGAN_PIX (DCGAN_IMG * DCGAN_IMG)
#define DCGAN_LEAK 0.2 /* D's LeakyReLU slope (DCGAN's recommendation) */

/* Every setting of the model and its training, named. */
typedef struct {
    int zdim;                      /* Z: latent width */
    int c1, c2;                    /* G's channels at 7x7 and 14x14 */
    int d1, d2;                    /* D's channels at 14x14 and 7x7 */
    int batch;                     /* N: real images (and fakes) per step */
    double lr, beta1, beta2, eps;  /* Adam, the same for G and D */
    int bn;                        /* 1: batch normalisation in G (the remedy); 0: none */
    int classes;                   /* K > 0: G and D are given each image's class (section 10); 0: not */
} DcganConfig;

/* DESIGN.md's reference settings: Z 100, c1 128, c2 64, d1 32, d2 64,
 * batch 64, Adam lr 2e-4, betas (0.5, 0.999), eps 1e-8, no batch norm. */
DcganConfig dcgan_config_default(void);

/* A convolution layer: kernel, bias, stride and padding (the forward passes
 * use stride and pad as stored). */
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
    BatchNorm bn1, bn2;    /* cfg.bn only (nn.h): after fc (c1 maps) and deconv1 (c2 maps) */
    ParamSet *bufs;        /* cfg.bn only: the running statistics "G.bn1.running_mean", ... (else NULL) */
    Tensor *embed;         /* cfg.classes only: "G.embed.weight" [K, c1*49], added to fc's output (else NULL) */
} DcganG;

typedef struct {
    DcganConfig cfg;
    ParamSet *ps;          /* "D.*" */
    Conv conv1, conv2;
    Linear fc;             /* [1, d2*49] */
    Tensor *embed;         /* cfg.classes only: "D.embed.weight" [K, d2*49], the projection (else NULL) */
} DcganD;

/* Declare and allocate the parameters (zero-filled); only cfg's sizes (and
 * cfg.bn for G: "G.bn1.*", "G.bn2.*" after the three layers; cfg.classes:
 * "G.embed.weight", "D.embed.weight" last of all) are read.
 * Sizes < 1 or classes < 0: fail(). */
DcganG *dcgan_g_new(DcganConfig cfg);
DcganD *dcgan_d_new(DcganConfig cfg);
/* PyTorch's default init for Linear, Conv2d and ConvTranspose2d: weight and
 * bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in from the weight's shape as
 * torch computes it (init.h), layers in declaration order, weight then bias.
 * Batch-norm gains 1, biases 0, class tables 0, drawing nothing: a G with
 * batch norm or classes starts from the same weights as one without. */
void dcgan_g_init(DcganG *g, Rng *r);
void dcgan_d_init(DcganD *d, Rng *r);
/* The same for any set of (weight, bias) pairs in this layout (the judge's). */
void dcgan_init_pairs(ParamSet *ps, Rng *r);
/* "<prefix>.weight" [d0, d1, k, k] and "<prefix>.bias" [nout] in ps, and
 * the layer that applies them (conv: [O, C, k, k], d0 = nout). */
Conv dcgan_conv_new(ParamSet *ps, const char *prefix, int d0, int d1, int k, int nout, int stride, int pad);
Tensor *dcgan_conv(Tape *T, const Conv *c, Tensor *x);
void dcgan_g_free(DcganG *g);
void dcgan_d_free(DcganD *d);

/* z [N, Z] -> images [N, 1, 28, 28] in (-1, 1). With cfg.bn: batch norm
 * in training mode (each batch's own statistics; updates the running ones). */
Tensor *dcgan_generate(Tape *T, const DcganG *g, Tensor *z);
/* The same with train = 0: batch norm in eval mode (the running statistics;
 * a sample does not depend on the others in its batch). Without cfg.bn
 * both modes are one function. Sampling and evaluation use eval mode. */
Tensor *dcgan_generate_mode(Tape *T, const DcganG *g, Tensor *z, int train);
/* The same for a conditional G: y [N] the classes (in 0..K-1, read again by
 * backward: keep them until the tape is reset). A conditional G without
 * y, or y for a plain G: fail(). */
Tensor *dcgan_generate_class(Tape *T, const DcganG *g, Tensor *z, const int *y, int train);
/* x [N, 1, 28, 28] -> logits [N, 1]. */
Tensor *dcgan_discriminate(Tape *T, const DcganD *d, Tensor *x);
/* The same for a conditional D, y [N] as for dcgan_generate_class. */
Tensor *dcgan_discriminate_class(Tape *T, const DcganD *d, Tensor *x, const int *y);

/* L_D = mean_n BCE(l_real, 1) + mean_n BCE(l_fake, 0), logits [N, 1] each.
 * For D's step the caller makes l_fake from a detached copy of G(z), so no
 * gradient reaches G. */
Tensor *dcgan_loss_d(Tape *T, Tensor *l_real, Tensor *l_fake);
/* Non-saturating L_G = mean_n BCE(l_fake, 1) = mean_n -log sigmoid(l_fake). */
Tensor *dcgan_loss_g(Tape *T, Tensor *l_fake);

/* ---- the trainer ------------------------------------------------------------------
 * Owns G, D, both Adam optimizers, its tapes and its named Rng streams
 * ("dcgan/init": G's then D's initial weights; "dcgan/noise": z for each
 * step; "dcgan/eval": z for dcgan_trainer_eval). The images are the
 * caller's: each call passes a batch in. The fields are visible for the
 * bench (tape sizes, replaying a step's tapes) and for tests that replay a
 * step by hand; a chapter only reads them. */
typedef struct {
    DcganConfig cfg;
    DcganG *g;
    DcganD *d;
    Optimizer *opt_g, *opt_d;  /* Adam(cfg.lr, cfg.beta1, cfg.beta2, cfg.eps) */
    Tape *tg, *td, *te;        /* G's tape (G(z), then D(G(z)) for L_G); D's; eval's */
    Rng noise, eval;
    Rng labels;                /* cfg.classes: "dcgan/labels", the fakes' classes (uniform) */
    int *y_fake;               /* cfg.classes: [N] the classes of the step's fakes (else NULL) */
} DcganTrainer;

/* What one step measured (before its updates). */
typedef struct {
    double loss_d, loss_g;     /* nats (loss_g is NaN after a D-only step) */
    double d_real, d_fake;     /* mean sigmoid(D(x)), mean sigmoid(D(G(z))) */
} DcganStepStats;

/* What an evaluation measured; nothing is updated. */
typedef struct {
    double d_real;             /* mean sigmoid(D(x)) over the images passed */
    double d_fake;             /* mean sigmoid(D(G(z))) over one batch of fresh fakes */
    double grad_g;             /* |dL_G/dtheta_G| on that batch, non-saturating L_G */
    double grad_g_sat;         /* the same for the saturating mean log(1 - D(G(z))) */
} DcganEvalStats;

/* A trainer with freshly initialised networks, all drawn from seed's named
 * streams. A config with sizes or batch < 1, or lr <= 0: fail(). */
DcganTrainer *dcgan_trainer_new(const DcganConfig *cfg, uint64_t seed);
/* One D step, then one G step, as the DCGAN paper and PyTorch's example:
 *   z ~ N(0, I) [N, Z]; fake = G(z)
 *   D: minimise L_D on x and a detached copy of fake; Adam step on D
 *   G: minimise L_G on D(fake), with D's new weights; Adam step on G
 * x [N, 784]: cfg.batch images, pixels in [-1, 1]. */
DcganStepStats dcgan_trainer_step(DcganTrainer *t, const real *x);
/* The same for a conditional pair: y [N] the classes of x; each fake's
 * class is drawn uniformly from "dcgan/labels", and D judges every image
 * with its class. The steps above (and D's or G's half alone) are for a
 * plain pair: a conditional one fails there. */
DcganStepStats dcgan_trainer_step_class(DcganTrainer *t, const real *x, const int *y);
/* D's half alone (G does not move): the article's inner loop. */
DcganStepStats dcgan_trainer_step_d(DcganTrainer *t, const real *x);
/* G's half alone, on fresh noise against D as it stands: the one G step
 * the article takes after each 1,000 of D's. Returns L_G (before the step). */
double dcgan_trainer_step_g(DcganTrainer *t);
/* D's mean verdict on n images x [n, 784] (in batches of cfg.batch), and on
 * one batch of fakes from the "dcgan/eval" stream with G's gradient norms
 * for both losses. Parameters unchanged (their gradients are overwritten). */
DcganEvalStats dcgan_trainer_eval(DcganTrainer *t, const real *x, int n);
void dcgan_trainer_free(DcganTrainer *t); /* NULL is fine */

/* ---- a shuffled pass over the caller's images ----------------------------------------
 * Batches of `batch` images in a random order, reshuffled each epoch (the
 * last n % batch images of a pass are skipped), pixels scaled to [-1, 1].
 * Holds const pointers to the caller's bytes [n, 784] and labels [n] (or
 * NULL); owns its order, its stream "dcgan/data" and the batch's labels. */
typedef struct {
    const unsigned char *pixels, *labels;
    int n, batch, pos;
    int *perm;                 /* [n] */
    int *y;                    /* [batch] the classes of the last batch (labels only, else NULL) */
    Rng r;
} DcganPass;

/* n >= batch, or fail(). labels: NULL for a plain pair's training. */
DcganPass *dcgan_pass_new(const unsigned char *pixels, const unsigned char *labels, int n, int batch,
                          uint64_t seed);
void dcgan_pass_next(DcganPass *p, real *x); /* x [batch, 784] */
void dcgan_pass_free(DcganPass *p);

/* ---- a training run: its log and its snapshots ---------------------------------------
 * The log has about DCGAN_LOG_ROWS rows, each the mean of every statistic
 * over a window of iterations; a snapshot is G's samples for n_fixed fixed
 * noise vectors at chosen fractions of the run. Owns every array. */
#define DCGAN_LOG_ROWS 200
typedef struct {
    int steps, done;           /* iterations in the run; taken so far */
    int log_every, n_logs;     /* one row per log_every iterations */
    double *log;               /* [n_logs, 5]: step, L_D, L_G, D(x), D(G(z)) */
    double acc[4];             /* the current window's sums */
    int n_snaps, n_fixed, next_snap;
    int *snap_step;            /* [n_snaps] */
    real *zfix;                /* [n_fixed, Z] a copy of the fixed noise */
    real *snaps;               /* [n_snaps, n_fixed, 784] */
    Tape *ts;                  /* sampling */
} DcganHistory;

/* snap_at [n_snaps]: fractions of the run in [0, 1], increasing. */
DcganHistory *dcgan_history_new(int steps, int n_snaps, const double *snap_at, const real *zfix, int n_fixed,
                                int zdim);
void dcgan_history_free(DcganHistory *h);
/* Run iterations h->done .. until-1 (one pass batch, one trainer step each,
 * with the batch's classes for a conditional pair),
 * logging and snapshotting on the way; the last snapshot is taken when
 * until reaches h->steps. p (may be NULL) shows progress, with L_D. */
void dcgan_train(DcganTrainer *t, DcganPass *pass, DcganHistory *h, int until, Progress *p);
/* The log row whose window ends at or before step (clamped to the log). */
const double *dcgan_history_row(const DcganHistory *h, int step);
/* What the log shows, for the prose (window means throughout). */
typedef struct {
    int low_step;                     /* the window where L_D is lowest */
    double low_loss_d, low_loss_g;    /* L_D and L_G there */
    int lead_step;                    /* the window where D(x) - D(G(z)) is largest */
    double lead_d_real, lead_d_fake;  /* D(x) and D(G(z)) there */
    int windows_ahead;                /* windows with D(x) > D(G(z)), of n_logs */
} DcganLogSummary;

DcganLogSummary dcgan_history_summary(const DcganHistory *h);
/* Figure data in the run directory: samples.tsv (one 8x8-style grid per
 * snapshot, cols tiles across), samples-steps.tsv, train-log.tsv. */
void dcgan_history_write(const DcganHistory *h, int cols);
/* Images [n, 784] in [-1, 1] as one grid of rows x cols tiles, 2 pixels of
 * white between them and around: the layout of every chapter-3 figure. */
void dcgan_grid_write(FILE *f, const real *imgs, int rows, int cols);

/* ---- the data --------------------------------------------------------------------
 * The Fashion-MNIST training split of dir (NULL: the default, data.h),
 * checked against what the caller will read: 28x28 images, at least `need`
 * of them. Otherwise fail(EXIT_DATA) naming how many are needed and what
 * for (`why`), how many the files hold, and `hint` (what to pass instead).
 * The caller frees the set (imageset_free). */
ImageSet *dcgan_images_load(const char *dir, int need, const char *why, const char *hint);

/* ---- sampling and the checkpoint ------------------------------------------------ */
/* G(z) for n latent vectors z [n, Z] into out [n, 784], on the scratch tape T
 * (reset here). A conditional G draws sample i of class i mod K, so that
 * any 10k samples hold each class equally (its eval batch does the same). */
void dcgan_sample(Tape *T, const DcganG *g, const real *z, int n, real *out);
/* The same with the classes given, y [n] (a conditional G only). */
void dcgan_sample_class(Tape *T, const DcganG *g, const real *z, const int *y, int n, real *out);

/* G's numbers, parameters then any running statistics, as one flat array
 * of dcgan_g_state_size(g) reals: a snapshot of G during training. */
long dcgan_g_state_size(const DcganG *g);
void dcgan_g_state_get(const DcganG *g, real *dst);
void dcgan_g_state_set(DcganG *g, const real *src);

/* Save G's parameters with the meta line "dcgan-G zdim=.. c1=.. c2=..".
 * A G with batch norm or classes is refused (fail): the format holds the
 * plain G's parameters (no running statistics, no class table). */
void dcgan_g_save(const char *path, const DcganG *g);
/* Build a G from a checkpoint's meta line and load its numbers. A missing,
 * damaged or foreign file is a fail() naming the file; hint says which
 * command makes it. */
DcganG *dcgan_g_load(const char *path, const char *hint);

#endif
