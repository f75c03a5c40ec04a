/* vae.h - the VAE of chapter 4: model, negative ELBO, plain forward passes,
 * and its trainer (the interface every model file of the course exports).
 *
 * The reference model of DESIGN.md (pixels in [0, 1] as real numbers):
 *   encoder  x [N, D] -> fc1 -> ReLU -> h [N, H];  mu = fc21(h), logvar = fc22(h)  [N, Z]
 *   sample   z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)                        [N, Z]
 *   decoder  z -> fc3 -> ReLU -> fc4 -> logits [N, D]  (Bernoulli means sigmoid(logits))
 *   loss     -ELBO = BCE-with-logits summed over pixels + KL(q(z|x) || N(0, I)) summed
 *            over latents, both averaged over the N images: nats per image.
 * Parameter names are PyTorch's state_dict names (fc1, fc21, fc22, fc3, fc4),
 * so tests/reference/vae.txt loads by name. Used by chapter 4,
 * tests/test_vae.c and bench/bench_vae.c (all three through VaeTrainer).
 *
 * Ownership: vae_new and vae_trainer_new return heap objects the caller
 * frees with vae_free and vae_trainer_free. A Vae owns its ParamSet; a
 * VaeTrainer owns its Vae, its Adam state, its tape, its order array and its
 * named random streams. Image sets are always the caller's: passed to each
 * call, never kept.
 *
 * Dimension key:
 *   N = images in a batch, D = pixels per image (784), H = hidden width (400),
 *   Z = latent width (20, or 2 for the pictures), K = importance samples.
 */
#ifndef VAE_H
#define VAE_H

#include <stdint.h>

#include "data.h"
#include "nn.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

typedef struct {
    int D, H, Z;
    ParamSet *ps;
    Linear fc1;  /* weight [H, D], bias [H] */
    Linear fc21; /* weight [Z, H], bias [Z]: mu */
    Linear fc22; /* weight [Z, H], bias [Z]: logvar = log sigma^2 */
    Linear fc3;  /* weight [H, Z], bias [H] */
    Linear fc4;  /* weight [D, H], bias [D]: logits */
} Vae;

/* A new model (free it with vae_free): declares and allocates the
 * parameters (zero-filled). Stops with a clear message on a non-positive
 * size. */
Vae *vae_new(int D, int H, int Z);
/* PyTorch's default Linear init, layer by layer in the order above, each
 * weight then its bias: U(-1/sqrt(in), 1/sqrt(in)) for both. */
void vae_init(Vae *m, Rng *r);
void vae_free(Vae *m); /* NULL is fine */

/* ---- on the tape (training, gradient checks) ------------------------------ */
typedef struct {
    Tensor *mu, *logvar; /* [N, Z] */
    Tensor *z;           /* [N, Z] */
    Tensor *logits;      /* [N, D] */
    Tensor *recon;       /* [1]: mean over images of sum over pixels of BCE, nats */
    Tensor *kl;          /* [1]: mean over images of the closed-form KL, nats */
    Tensor *loss;        /* [1]: recon + kl = -ELBO per image, nats */
} VaeOut;

/* x [N, D] (targets in [0, 1], no grad), eps [N, Z] (the noise, held fixed
 * by the caller: a tape input) -> every node of the loss. */
VaeOut vae_forward(Tape *T, const Vae *m, Tensor *x, Tensor *eps);

/* ---- plain forward passes, no tape (evaluation, pictures) ------------------- */
/* Working memory for the plain passes, for up to `rows` rows at a time. */
typedef struct {
    int rows;
    real *h; /* [rows, H] */
} VaeScratch;

VaeScratch vae_scratch_new(const Vae *m, int rows);
void vae_scratch_free(VaeScratch *s);

/* x [n, D] -> mu [n, Z], logvar [n, Z] (n <= s->rows). */
void vae_encode(const Vae *m, VaeScratch *s, const real *x, int n, real *mu,
                real *logvar);
/* z [n, Z] -> logits [n, D] (n <= s->rows). */
void vae_decode(const Vae *m, VaeScratch *s, const real *z, int n, real *logits);
/* -log p(x|z) of each row: sum over d of softplus(l) - x l, in double.
 * x, logits [n, D] -> out [n]. */
void vae_bernoulli_nll(const real *x, const real *logits, int n, int D, double *out);
/* Closed-form KL(N(mu, e^logvar) || N(0, I)) of each row:
 * mu, logvar [n, Z] -> out [n]. */
void vae_kl_rows(const real *mu, const real *logvar, int n, int Z, double *out);

/* z [n, Z] -> Bernoulli means sigmoid(logits) [n, D], the decoder's image. */
void vae_decode_means(const Vae *m, VaeScratch *s, const real *z, int n, real *means);

/* log(mean(exp(a[0..k)))) without overflow: max + log mean exp(a - max). */
double log_mean_exp(const double *a, int k);

/* ---- data -------------------------------------------------------------------- */
/* Pixels of images idx[0..n) of s (idx NULL: images 0..n-1) as reals in
 * [0, 1]: x [n, D]. Stops with a clear message if an index is outside s. */
void vae_pixels(const ImageSet *s, const int *idx, int n, real *x);
/* Fashion-MNIST as chapter 4 reads it, from dir (NULL: the default, see
 * fashion_load): n_train training images (quick ? 2048 : all), n_test test
 * images for evaluation and the 2-D latent (quick ? 500 : all), n_iw for
 * the importance-weighted estimate (quick ? 50 : 1000), and VAE_FIRST_TEST
 * for the cells that look at the first test images. Checked here, before
 * anything runs: images of 28 x 28, every count no larger than the files
 * hold, two images of each class among the first n_test (the figures). A
 * shortfall is an EXIT_DATA error that says what needs how many images,
 * how many the files hold, and what to pass. The caller owns the sets. */
enum { VAE_FIRST_TEST = 64 };
typedef struct {
    ImageSet *train, *test;
    int n_train, n_test, n_iw;
} VaeData;
VaeData vae_data_load(const char *dir, int quick);
void vae_data_free(VaeData *d);

/* ---- the trainer ------------------------------------------------------------- */
typedef struct {
    const char *name; /* names the random streams "<name>/init", "<name>/data", ... */
    int D, H, Z;      /* pixels, hidden width, latent width: 784, 400, 20 */
    int batch;        /* images per step: 128 */
    double lr, beta1, beta2, adam_eps; /* Adam: 1e-3, 0.9, 0.999, 1e-8 */
    double beta; /* the loss is recon + beta KL: 1, the -ELBO (beta-VAE: > 1) */
} VaeConfig;

/* DESIGN.md's reference settings (above), with name "vae" and beta 1. */
VaeConfig vae_config_default(void);

typedef struct {
    VaeConfig cfg;
    uint64_t seed;
    Vae *model;          /* PyTorch's default init from stream "<name>/init" */
    Optimizer *opt;      /* Adam over model.ps */
    Tape *tape;          /* reset at every step */
    Rng data;            /* "<name>/data": the shuffle of each epoch */
    Rng noise;           /* "<name>/noise": eps of each step */
    int *order;          /* [n_order]: this epoch's order of the training images */
    int n_order, cursor; /* images in the order, next position in it */
    long steps;          /* optimizer steps taken */
} VaeTrainer;

typedef struct {
    double loss, recon, kl; /* of this batch, nats per image (-ELBO = recon + kl) */
    int images;             /* in this batch (the last of an epoch may be short) */
    int epoch_done;         /* 1 if this step finished an epoch */
} VaeStepStats;

typedef struct {
    double neg_elbo, recon, kl; /* mean over the images, nats per image */
} VaeEvalStats;

/* A trainer for cfg, seeded with the run's seed. cfg is copied, but not
 * the string cfg->name points to: it must outlive the trainer (a literal). */
VaeTrainer *vae_trainer_new(const VaeConfig *cfg, uint64_t seed);
/* One Adam step on the next batch of train's first n images, drawn without
 * replacement: the order is reshuffled at the start of every epoch, and an
 * epoch ends with a short batch if batch does not divide n. Pass the same
 * n every step. The step minimises recon + cfg.beta KL; the stats report
 * the batch's loss as that sum. */
VaeStepStats vae_trainer_step(VaeTrainer *t, const ImageSet *train, int n);
/* -ELBO of set's first n images, one eps per image drawn from the stream
 * "<name>/eval" started afresh at each call (the same noise every time);
 * no parameter changes. */
VaeEvalStats vae_trainer_eval(VaeTrainer *t, const ImageSet *set, int n);
/* Frees everything the trainer owns; NULL is a no-op. */
void vae_trainer_free(VaeTrainer *t);

/* ---- the chapter's driver, estimates and figures (record via notebook.h) ---- */
typedef struct {
    VaeEvalStats train; /* mean of the epoch's batch losses (parameters moving) */
    VaeEvalStats test;  /* vae_trainer_eval after the epoch */
} VaeEpoch;

/* epochs epochs of steps on train's first n_train images, each followed by
 * the -ELBO of test's first n_test, into log[0..epochs): prints the table
 * (recorded), writes it to <out>/<tsv> and reports the time per epoch and
 * per step through nb_timing (never recorded). */
void vae_train_epochs(VaeTrainer *t, const ImageSet *train, int n_train,
                      const ImageSet *test, int n_test, int epochs, const char *tsv,
                      VaeEpoch *log);

/* Closed-form KL(N(mu, e^lv) || N(0, I)) of one q in Z dimensions, and a
 * Monte-Carlo estimate of E_q[log q(z) - log p(z)] from M draws (with its
 * standard error in *se) to check it against. */
double vae_kl_closed(const double *mu, const double *lv, int Z);
double vae_kl_monte_carlo(const double *mu, const double *lv, int Z, int M, Rng *r,
                          double *se);

/* The importance-weighted estimate of log p(x) (Burda et al. 2016) on set's
 * first n images (a multiple of 10), K draws of z from q per image, next to
 * the ELBO and the naive estimate from K draws of the prior. Nats per image. */
typedef struct {
    int K[3];       /* the K of each IW column: 1, 10, K */
    double elbo;    /* reconstruction averaged over K draws, KL closed form */
    double iw[3];   /* log p(x) estimated with K[j] draws from q */
    double prior;   /* log p(x) estimated with K draws from p(z) */
    double kl;      /* mean KL(q(z|x) || p(z)) */
    double min_gap; /* the smallest iw[2] - elbo of one image */
} VaeIw;
VaeIw vae_iw_estimate(const Vae *m, const ImageSet *set, int n, int K, Rng *r);
/* The estimate's table, recorded (n: the images it was computed on). */
void vae_iw_print(const VaeIw *e, int n);

/* For a gradient check of the -ELBO in float: fill m (any sizes) with
 * weights N(0, 0.5) and biases N(0, 0.3), x [N, D] uniform in [0, 1] and
 * eps [N, Z] normal, all from r, and redraw until every ReLU input on the
 * tape is at least margin from 0, so that a finite-difference step does not
 * cross a kink. Leaves the last draw's forward on T (reset first) in *o;
 * returns the number of draws and the smallest distance in *got. */
int vae_draw_away_from_kinks(Vae *m, Tape *T, Rng *r, int N, double margin, VaeOut *o,
                             double *got);

/* Figures: pixel matrices for gnuplot (lib/image.h's grid, 1-pixel gaps). */
/* idx[per * 10]: the first `per` images of each class among set's first n,
 * idx[row * 10 + class]; a clear EXIT_DATA error if a class has fewer. */
void vae_class_examples(const ImageSet *set, int n, int per, int *idx);
/* rows of images idx[row * 10 + 0..9], each followed by its reconstruction
 * from the mean code (Bernoulli means). */
void vae_write_reconstructions(const Vae *m, const ImageSet *set, const int *idx,
                               int rows, const char *file);
/* side x side images decoded from z ~ N(0, I) drawn from r. */
void vae_write_prior_samples(const Vae *m, Rng *r, int side, const char *file);
/* For each pair (a, b) of image indices, one row: image a, `steps` images
 * decoded on the line between their mean codes, image b; prints (records)
 * one line per pair. */
void vae_write_interpolations(const Vae *m, const ImageSet *set, const int (*pairs)[2],
                              int npairs, int steps, const char *file);
/* The mean codes of set's first n images (Z = 2), with labels; returns
 * their bounding box lo[0], hi[0] (z1), lo[1], hi[1] (z2). */
void vae_write_latent_means(const Vae *m, const ImageSet *set, int n, const char *file,
                            double lo[2], double hi[2]);
/* Images decoded from a G x G grid of codes over [-lim, lim]^2 (Z = 2),
 * top row z2 = lim, left column z1 = -lim; prints (records) the layout. */
void vae_write_manifold(const Vae *m, int G, double lim, const char *file);

#endif
