/* ring.h - the ring GAN of chapter 2: data, model, losses, metrics, training.
 *
 * The reference model of DESIGN.md: a mixture of 8 Gaussians on a circle
 * (radius 2, angles k pi/4, std 0.02); G: Z -> H -> H -> 2 (ReLU, linear
 * output); D: 2P -> H -> H -> 1 logit (ReLU). P is the packing degree: P = 1
 * is the plain GAN; P > 1 is PacGAN, where D judges P samples at once.
 * The trainer (RingConfig, ring_trainer_new / step / eval / free) is the one
 * that chapter 2, bench/bench_gan_ring.c and tests/test_gan_ring.c all call.
 * Ownership: ring_new and ring_trainer_new return heap objects the caller
 * frees with ring_free and ring_trainer_free. A RingTrainer owns its model,
 * optimizers, tapes and Rng streams (ring_trainer_free frees them all); a
 * RingRun is the caller's, but owns the arrays ring_run fills
 * (ring_run_free); every other function borrows its arguments.
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
#define RING_MODE_MIN 25             /* a mode is covered with >= 25 high-quality samples
                                        (this course's rule; VEEGAN and PacGAN count 1) */
#define RING_EVAL_N 2500             /* samples the metrics are measured on */

/* ---- the model ------------------------------------------------------------ */
typedef struct {
    int zdim, hidden, pack;
    ParamSet *g, *d;            /* G's and D's parameters: two optimizers */
    Linear g1, g2, g3;          /* G.fc1 [H, Z], G.fc2 [H, H], G.fc3 [2, H] */
    Linear d1, d2, d3;          /* D.fc1 [H, 2P], D.fc2 [H, H], D.fc3 [1, H] */
} RingGan;

/* A new model (free it with ring_free): declares and allocates the
 * parameters (zero-filled); names as PyTorch's state_dict: "G.fc1.weight"
 * ... "D.fc3.bias". */
RingGan *ring_new(int zdim, int hidden, int pack);
/* PyTorch's default Linear init: weight and bias U(-1/sqrt(in), 1/sqrt(in)),
 * G's layers first, then D's, each weight before its bias. */
void ring_init(RingGan *m, Rng *r);
void ring_free(RingGan *m); /* NULL is fine */

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

/* ---- the trainer (the same shape in every model file) ---------------------------- */
typedef struct {
    int zdim, hidden, pack, batch;  /* Z, H, P, N */
    int saturating;                 /* 0: non-saturating L_G, 1: saturating */
    double lr, beta1, beta2, eps;   /* Adam, the same settings for G and D */
    long steps;                     /* the run's length: the schedule needs it */
    double anneal;                  /* from step anneal * steps on, the learning rate
                                       falls linearly to 0; 1 = constant */
} RingConfig;

/* DESIGN.md's reference: Z 16, H 128, P 1, N 256, Adam 1e-3 (0.5, 0.999,
 * eps 1e-8), 10,000 steps at a constant learning rate. */
RingConfig ring_config_default(void);

/* The trainer owns the model, both optimizers, both tapes and its Rng
 * streams; the data (the ring) is drawn from its own stream. Callers may
 * read the fields (the bench replays the tapes, the tests compare weights)
 * but change them only through the functions below. */
typedef struct {
    RingConfig cfg;
    uint64_t seed;
    RingGan *model;
    Optimizer *opt_g, *opt_d;
    Rng data, noise;              /* streams "ring/data" (x) and "ring/noise" (z) */
    Tape *td, *tg;                /* the D step's tape, the G step's tape */
    long step;                    /* steps taken */
} RingTrainer;

typedef struct {
    double loss_d, loss_g;        /* nats, before this step's updates */
    double d_real, d_fake;        /* mean sigmoid(D(x)), mean sigmoid(D(G(z))) */
} RingStepStats;

/* The trainer's evaluation is the ring's metrics. */
typedef RingMetrics RingEvalStats;

/* A new trainer (free it with ring_trainer_free): the model built from cfg
 * and initialised from the stream "ring/init" of seed, and the two Adam
 * optimizers; every stream is rng_stream(seed, "ring/<purpose>"). A batch
 * that is not a positive multiple of the packing degree is a clear error. */
RingTrainer *ring_trainer_new(const RingConfig *cfg, uint64_t seed);
/* One D step, then one G step on the same z, at the schedule's learning rate. */
RingStepStats ring_trainer_step(RingTrainer *t);
/* The metrics of G now, on RING_EVAL_N samples from z of its own (stream
 * "ring/eval", restarted at every call: the same z each time); the samples
 * go to samples [RING_EVAL_N, 2] unless NULL. Changes no parameter and no
 * training stream. */
RingEvalStats ring_trainer_eval(RingTrainer *t, real *samples);
void ring_trainer_free(RingTrainer *t); /* NULL is fine */

/* n samples of G into out [n, 2], z drawn from r (any n; batches of 500). */
void ring_generate(const RingGan *m, Rng *r, real *out, int n);
/* sigmoid(D) of a single point per row (pack 1 only): x [n, 2] -> out [n]. */
void ring_d_prob(const RingGan *m, const real *x, int n, real *out);

/* ---- runs: a trainer driven to its last step, measured on the way ---------------- */
enum {
    RING_CHECKS = 4,    /* ring_trainer_eval after every quarter of the steps */
    RING_SNAPS = 4,     /* sample snapshots of a figure run */
    RING_SNAP_N = 500,  /* points per snapshot */
    RING_GRID = 81,     /* heat map: RING_GRID x RING_GRID points over [-3, 3]^2 */
};

/* One run. The caller sets cfg, seed and figures; ring_run fills the rest,
 * which the run owns (ring_run_free frees it; a zeroed RingRun is a no-op). */
typedef struct {
    RingConfig cfg;
    uint64_t seed;
    int figures;                     /* also keep the trace, snapshots, heat map */
    RingEvalStats check[RING_CHECKS]; /* at steps / 4, 2 steps / 4, ..., steps */
    RingEvalStats final;             /* = check[RING_CHECKS - 1] */
    double last_loss_d;              /* L_D of the last step (nats) */
    real *eval;                      /* [RING_EVAL_N, 2] samples of the last check */
    RingStepStats *trace;            /* [steps] if figures */
    real *snap;                      /* [RING_SNAPS, RING_SNAP_N, 2] if figures: G on one fixed z
                                        (stream "ring/snapshot") */
    long snap_step[RING_SNAPS];
    real *heat;                      /* [RING_GRID, RING_GRID] sigmoid(D), if figures and pack 1 */
    real d_centre[RING_MODES];       /* sigmoid(D) at each centre at the end, likewise */
} RingRun;

void ring_run(RingRun *r);
/* The mean of a figure run's trace over steps [from, to). */
RingStepStats ring_trace_mean(const RingRun *r, long from, long to);
void ring_run_free(RingRun *r);
/* ring_run on each of runs[n], one run per core (OpenMP); the results are
 * the same bits at any thread count. Progress on the terminal under label. */
void ring_run_all(RingRun *runs, int n, const char *label);

/* ---- figure data (files in the run directory, see plots/02-*.gp) ---------------- */
/* n points of the ring drawn from r: "x y" lines. */
void ring_write_points(const char *name, Rng *r, int n);
/* The snapshots of figure runs runs[0..n): "variant snapshot step x y" lines;
 * and the snapshot steps of runs[0] in steps_name. */
void ring_write_snapshots(const char *name, const char *steps_name, const RingRun *runs, int n);
/* The heat map of one figure run, as a gnuplot grid. */
void ring_write_heat(const char *name, const RingRun *r);
/* The training curves of figure runs runs[0..n), means over windows. */
void ring_write_curves(const char *name, const RingRun *runs, int n);
/* The first RING_SNAP_N final samples of runs[v * per + s]: "v s x y" lines. */
void ring_write_finals(const char *name, const RingRun *runs, int nvariants, int per);

/* ---- reports: tables for a cell's output, values for the prose ---------------- */
/* nb_value "<variant>, <what>". */
void ring_record(const char *variant, const char *what, double x);
void ring_print_head(void);
void ring_print_row(const char *variant, int run, const RingEvalStats *m);
/* One row per run of runs[n] and their mean; with record, the means as
 * metrics ("<variant>, mean modes over <n> seeds", "... high-quality ...")
 * and the count of full runs and the range of high quality as values. */
void ring_print_table(const char *variant, const RingRun *runs, int n, int record);
/* Each run's high-quality % and modes at every check. */
void ring_print_checks(const char *variant, const RingRun *runs, int n);
typedef enum {
    RING_NEVER_FULL,  /* short of modes at every check */
    RING_LOST_MODES,  /* all 8 at some check, short at the end */
    RING_REFILLED,    /* short at one check, all 8 at another */
} RingPattern;
/* nb_text "<variant>, <what>": the runs showing pattern p with their modes
 * at every check ("run 3 (modes 8, 8, 8, 6 at steps 2500 to 10000)"), or "none". */
void ring_record_runs(const char *variant, const RingRun *runs, int n, RingPattern p, const char *what);

#endif
