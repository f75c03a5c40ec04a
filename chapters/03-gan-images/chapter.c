/* chapters/03-gan-images/chapter.c - Chapter 3: a GAN that draws clothing.
 *
 * Teaches: the article's image GAN (its section 5), what is broken in it and
 * why, and the corrected model trained for real: a convolutional generator
 * and discriminator (DESIGN.md's reference image GAN) on the 60,000
 * Fashion-MNIST training images, its losses and D's verdicts over training,
 * samples from a fixed noise batch as training goes, and a checkpoint of the
 * generator that loads back bit for bit. Then how GAN samples are measured:
 * a classifier trained here (the judge, judge.c) gives a Fréchet distance in
 * its features, class coverage and a memorisation check (measure.c), for
 * real images, the trained G and the article's schedule; and two remedies
 * the numbers judge, DCGAN's batch normalisation in G and a GAN conditional
 * on the class (projection discriminator), each trained by one recipe
 * (remedy_run) with the same seed for the first tenth of the run (the
 * chapter's time budget) and set beside the plain G at the same iteration
 * and at the end.
 * Leaves out: FID proper (Inception-v3 is not part of this course), the
 * Inception Score, batch norm in D, other conditioning schemes (AC-GAN,
 * conditional batch norm).
 * Run: make run-03 (minutes; its timing.tsv says how long on this machine),
 * build/bin/03 --quick (seconds), build/bin/03 --step to go cell by cell.
 *
 * Dimension key: N = batch (64), Z = latent width (100), PIX = 784 pixels of
 * a 28x28 image, GRID = 8 (an 8x8 grid of images).
 */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "dcgan.h"
#include "image.h"
#include "judge.h"
#include "measure.h"
#include "notebook.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

/*md
# A GAN on images: the article's project, corrected

The article ends with a project (its section 5): Keras code
[用于生成手写数字图像]{lang=zh}, "for generating images of handwritten
digits". Its code does not run. This chapter lists what is wrong with it,
fixes each fault, and trains the corrected model, a small DCGAN (Radford,
Metz and Chintala, ICLR 2016), on Fashion-MNIST: 28×28 grey images of
clothing, a harder and more interesting set than digits, with the same
format. Everything runs on the library of chapter 1, with its two new ops,
`conv2d` and `conv_transpose2d`.
*/

enum { GRID = 8, NSNAP = 6, NCURVE = 15 };
/* Section 8's curve: G's numbers are kept at these fractions of section 4's
 * run (finely in its first tenth, where the remedy of section 9 may stop). */
static const double CURVE_AT[NCURVE] = {0,   0.02, 0.04, 0.06, 0.08, 0.1, 0.2, 0.3,
                                        0.4, 0.5,  0.6,  0.7,  0.8,  0.9, 1};
#ifndef CH3_REMEDY_POINT
#define CH3_REMEDY_POINT                                                               \
    5 /* the remedy trains to CURVE_AT[5] = 1/10 of section 4's run (time budget) */
#endif
#ifndef CH3_EPOCHS
#define CH3_EPOCHS 10 /* the full run's length; a shorter trial build: -DCH3_EPOCHS=2 */
#endif

/* The chapter's state, shared by the cells in order; teardown frees it. */
typedef struct {
    ImageSet *train;    /* the training images, [n, 784] bytes */
    int n_train;        /* how many of them we use (all, or 512 with --quick) */
    DcganTrainer *tr;   /* G, D, their optimizers, tapes and streams */
    DcganPass *pass;    /* the shuffled pass over train */
    DcganHistory *hist; /* the training log and the snapshots */
    real zfix[GRID * GRID *
              100]; /* [64, Z] the fixed noise batch the sample grids are drawn from */
    real *g_states; /* [NCURVE, G's numbers] G at the CURVE_AT points of training */
    int curve_step[NCURVE]; /* the iterations of those points */
    DcganTrainer
        *article; /* the article's schedule of section 1, measured in section 8 */
    /* sections 7 to 9: the judge and the measurements */
    ImageSet *test;        /* the test images, [n_test, 784] bytes */
    int n_test, n_measure; /* test images used; samples per measurement */
    Judge *judge;
    Tape *
        scratch; /* one tape for every sampling and judging pass (its memory stays mapped) */
    real *train_x;  /* [n_train, 784] the training images in [-1, 1] */
    real *test_x;   /* [n_test, 784] the test images in [-1, 1] */
    real *zmeasure; /* [n_measure, Z] one noise draw for every generator measured */
    FeatureFit test_fit; /* the judge's features of the test images, fitted */
    double
        close_below; /* the 1st percentile of the test images' nearest-training distances */
    Measures m_real, m_plain, m_article, m_remedy;
    Measures m_same; /* the plain G at the remedies' iteration (sections 9 and 10) */
    double close_remedy; /* section 9's G: % of its samples nearer than close_below */
    double curve_bn[NCURVE]; /* section 9's curve, drawn again in section 10 */
    double
        fd_real_floor; /* Fréchet distance of 10,000 training images to the test fit */
    double *curve_plain; /* [NCURVE] Fréchet distance over training, plain G */
    double close_real, close_plain,
        close_article; /* % of images nearer than close_below */
    real *
        pairs_plain; /* [16, 784] the 8 plain samples nearest the training set, then those images */
} Ch3;
static Ch3 ch3;

static void teardown(void) {
    dcgan_history_free(ch3.hist);
    dcgan_pass_free(ch3.pass);
    dcgan_trainer_free(ch3.tr);
    dcgan_trainer_free(ch3.article);
    if (ch3.train) imageset_free(ch3.train);
    if (ch3.test) imageset_free(ch3.test);
    judge_free(ch3.judge);
    tape_free(ch3.scratch);
    xfree(ch3.g_states);
    xfree(ch3.train_x);
    xfree(ch3.test_x);
    xfree(ch3.zmeasure);
    xfree(ch3.curve_plain);
    xfree(ch3.pairs_plain);
    if (ch3.test_fit.mu) feature_fit_free(&ch3.test_fit);
}

/* The training images, loaded once, checked against what the cells read:
 * the article's schedule reads images 0 .. 32 + 1,000 (--quick: 32 + 200),
 * training a full pass (--quick: the first 512). */
static const ImageSet *train_set(void) {
    if (!ch3.train)
        ch3.train =
            nb_quick()
                ? dcgan_images_load(
                      nb_data(), 512, "--quick trains on the first 512",
                      "pass --data DIR with the full Fashion-MNIST set (60,000 images)")
                : dcgan_images_load(
                      nb_data(), 32 + 1000, "32 + 1,000 for the article's schedule",
                      "pass --quick (it needs 512) or --data DIR with the full "
                      "Fashion-MNIST set (60,000 images)");
    return ch3.train;
}

/* 64 random images of the n_train used, from the named stream, as one
 * 8x8 grid block of f. */
static void write_random_grid(FILE *f, const char *stream) {
    Rng r;
    rng_stream(&r, nb_seed(), stream);
    real *grid = xmalloc(GRID * GRID * DCGAN_PIX * sizeof(real)); /* [64, 784] */
    for (int i = 0; i < GRID * GRID; i++)
        pixels_to_real(grid + (long)i * DCGAN_PIX,
                       ch3.train->pixels + (long)rng_int(&r, ch3.n_train) * DCGAN_PIX,
                       DCGAN_PIX, -1, 1);
    dcgan_grid_write(f, grid, GRID, GRID);
    xfree(grid);
}

/*md
## 1. The article's code, and what is broken

Here is the article's model, as it prints it (Python with Keras; its
section 5):

```python
# 生成器模型
def build_generator():
    model = Sequential()
    model.add(Dense(128, input_shape=(100,), activation='relu'))
    model.add(Dense(256, activation='relu'))
    model.add(Dense(512, activation='relu'))
    model.add(Dense(1024, activation='relu'))
    model.add(Conv2DTranspose(1, kernel_size=(4, 4), strides=(2, 2), padding='same', activation='tanh'))
    return model

# 判别器模型
def build_discriminator():
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), strides=(2, 2), padding='same', input_shape=(28, 28, 1), activation='relu'))
    model.add(Conv2D(64, kernel_size=(3, 3), strides=(2, 2), padding='same', activation='relu'))
    model.add(Flatten())
    model.add(Dense(1, activation='sigmoid'))
    return model
```

and, after `gan_model = build_gan(generator, discriminator)` (a
`Sequential` of the two), its compilation and training loop:

```python
# 编译模型
discriminator.compile(optimizer=tf.keras.optimizers.Adam(0.0001), loss='binary_crossentropy')
gan_model.compile(optimizer=tf.keras.optimizers.Adam(0.0001), loss='binary_crossentropy')

# 训练模型
for epoch in range(100):
    for _ in range(1000):
        noise = np.random.normal(size=(32, 100))
        generated_images = generator.predict(noise)
        real_images = x_train[:32]
        combined_images = np.concatenate([real_images, generated_images], axis=0)
        labels = np.concatenate([np.ones((32, 1)), np.zeros((32, 1))], axis=0)
        discriminator.train_on_batch(combined_images, labels)
    noise = np.random.normal(size=(32, 100))
    gan_model.train_on_batch(noise, np.ones((32, 1)))
```

What is broken, each with its fix:

1. **`Dense(1024)` feeds `Conv2DTranspose` directly.** A dense layer outputs a
   vector per image, shape (32, 1024); a transposed convolution needs an image,
   (32, height, width, channels). There is no `Reshape`, so the model cannot be
   built. *Fix:* reshape the dense output into feature maps.
2. **One stride-2 transposed convolution cannot reach 28×28.** It doubles the
   side, so it needs a 14×14 input; 1,024 = 2¹⁰ reshapes only into squares
   whose side is a power of two (1, 2, 4, 8, 16, 32), never 14 (196 does not
   divide 1,024), nor 7 for two such layers (49 does not divide it). *Fix:* a
   dense layer of 128·7·7 = 6,272 units, reshaped to 128 maps of 7×7, then two
   transposed convolutions, 7 → 14 → 28.
3. **`np` and `x_train` are never defined** (no `import numpy as np`, no data
   loading), and MNIST as Keras loads it has no channel axis, (60000, 28, 28),
   while D declares `input_shape=(28, 28, 1)`. *Fix:* load the data set and
   scale its pixels to $[-1, 1]$, the range of G's tanh (section 2); our
   tensors carry the channel axis, $[N, 1, 28, 28]$.
4. **1,000 discriminator steps per generator step, always on the same 32
   images `x_train[:32]`.** D trains against a generator that never moves,
   on 32 real images it sees 1,000 times in a row, and over `range(100)` the
   generator takes 100 steps in all. The measurement below shows what that
   does. *Fix:* one D step, then one G step, each on a fresh batch of a
   shuffled pass over all 60,000 images.
5. **A sigmoid output trained with `binary_crossentropy` on probabilities.**
   Computed from $p = \sigma(\ell)$, the loss $-\log(1 - p)$ is $\log 0 = \infty$
   as soon as $p$ rounds to 1 (for $\ell > 24 \ln 2 \approx 16.6$ in float).
   Keras guards the probability form by clipping $p$ to
   $[10^{-7}, 1 - 10^{-7}]$, which caps the loss at
   $-\log 10^{-7} \approx 16.1$ nats (in float, where $1 - 10^{-7}$ rounds
   to $1 - 2^{-23}$, at $23 \ln 2 \approx 15.9$: the table below shows it)
   and zeroes its gradient beyond the clip
   (recent versions quietly recover the logit from the sigmoid instead).
   *Fix:* D outputs the logit $\ell$ and the loss is computed from it in the
   stable form $\max(\ell, 0) - y\ell + \log(1 + e^{-|\ell|})$, exact for
   every $\ell$.
6. **D is never frozen inside `gan_model`.** `discriminator` is a trainable
   part of `gan_model`, so `gan_model.train_on_batch(noise, np.ones((32, 1)))`
   updates D too, towards calling G's fakes real: each generator step also
   trains D on flipped labels. *Fix:* G's step freezes D
   (`params_freeze`: D's weights take no gradient, as Keras's
   `discriminator.trainable = False` before compiling `gan_model` would
   do) and updates G's parameters only (`dcgan_trainer_step` in `dcgan.c`).

The code below checks faults 1, 2 and 5 with this course's library, then
measures fault 4.
*/
static jmp_buf caught;
static char caught_msg[1024];

static void catch_fail(int code, const char *message) {
    (void)code;
    snprintf(caught_msg, sizeof caught_msg, "%s", message);
    longjmp(caught, 1);
}

static void cell_article(void) {
    /* Fault 1: a [32, 1024] vector into a transposed convolution. */
    Tape *T = tape_new();
    Tensor *dense = tape_input(T, 2, SHAPE(32, 1024), 0); /* the Dense layer's output */
    Tensor *w =
        tape_input(T, 4, SHAPE(1024, 1, 4, 4), 0); /* a kernel for it, if it were one */
    nb_printf(
        "fault 1: Dense(1024) gives [32, 1024]; the transposed convolution says:\n");
    set_fail_handler(catch_fail);
    if (!setjmp(caught)) {
        t_conv_transpose2d(T, dense, w, NULL, 2, 1);
        nb_printf("  (it ran?!)\n");
    } else {
        for (char *line = strtok(caught_msg, "\n"); line; line = strtok(NULL, "\n"))
            nb_printf("  %s\n", line);
    }
    set_fail_handler(NULL);
    tape_free(T);

    /* Fault 2: every square feature map a reshape of 1024 units can give. */
    nb_printf("\nfault 2: reshapes of 1024 units into side x side x channels, then "
              "ConvT(k4, s2, p1):\n");
    nb_printf("  %6s %9s %15s %17s\n", "side", "channels", "after 1 ConvT",
              "after 2 ConvT");
    for (int s = 1; s <= 32; s++)
        if (1024 % (s * s) == 0)
            nb_printf("  %6d %9d %10dx%-4d %12dx%-4d\n", s, 1024 / (s * s), 2 * s,
                      2 * s, 4 * s, 4 * s);
    nb_printf("  28x28 needs side 14 (1024 / 196 = %.2f) or side 7 (1024 / 49 = %.2f): "
              "not whole numbers.\n",
              1024 / 196.0, 1024 / 49.0);

    /* Fault 5: D's loss on a fake it calls real (label 0, logit l). */
    nb_printf("\nfault 5: -log(1 - sigmoid(l)), D's loss on a fake with logit l, in "
              "float:\n");
    nb_printf("  %6s %14s %16s %16s %14s\n", "l", "sigmoid(l)", "from p", "p clipped",
              "from logit");
    const float ls[] = {2, 8, 16, 17, 20, 40, 90};
    for (int i = 0; i < 7; i++) {
        volatile float l = ls[i], p = 1.0f / (1.0f + expf(-l));
        float naive = -logf(1.0f - p);
        float pc = fminf(fmaxf(p, 1e-7f), 1.0f - 1e-7f), clipped = -logf(1.0f - pc);
        float stable = fmaxf(l, 0) + log1pf(expf(-fabsf(l))); /* softplus(l), label 0 */
        nb_printf("  %6.0f %14.9f %16.6g %16.6g %14.6g\n", (double)l, (double)p,
                  (double)naive, (double)clipped, (double)stable);
    }
    nb_printf(
        "  from p: infinite once sigmoid(l) rounds to 1; clipped: stuck near 16 nats, "
        "gradient 0;\n"
        "  from the logit: exact (about l for large l), gradient sigmoid(l) - y.\n");
}

/*md
### Fault 4, measured

We run the article's inner loop as written: 1,000 discriminator steps
against a generator that does not move, the real batch always the same 32
images (with D's logit and the stable loss, and the course's D and Adam
settings, so only the schedule is the article's; our $L_D$ sums the real and
the fake term, twice the article's mean over its combined batch of 64, a
scale Adam does not see). Then three questions, answered in the table
below; the figures quoted are this seed's run.

- *Does D win?* Look at $D(G(z))$: it falls from
  {{article schedule D(G(z)) before:.2f}} to
  {{article schedule D(G(z)):.1e}}, and $L_D$ to
  {{article schedule L_D:.1e}} nats. D is certain.
- *Has it memorised its 32 images?* Not at this point: it calls the 1,000
  other training images just as real ($D(x)$ of
  {{article schedule D(x) on other real images:.4f}} on them against
  {{article schedule D(x) on its 32 images:.4f}} on its own 32), because an
  untrained G's noise is easy to tell from any garment. Memorising would
  start to matter once G's samples look like clothing: a D that has only
  ever seen 32 real images can only steer G toward those 32.
- *What does G get from such a D?* With the non-saturating $L_G$, a gradient
  {{article schedule non-saturating gradient growth:.0f}} times larger than
  at the start, aimed at a D that has moved 1,000 steps since G last moved,
  and one such step for every 1,000 of D's. With the saturating
  $L_G = \log(1 - D(G(z)))$, what the article's
  [最大化判别器的损失]{lang=zh} ("maximise the discriminator's loss", its
  section 3) amounts to for G, a gradient
  {{article schedule saturating gradient shrink:.0f}} times *smaller* than
  at the start: the vanishing gradient of chapter 2.

Either way, almost all of the compute goes into a D that is already certain.
The fix alternates: one D step, one G step, so neither gets far ahead.
*/
static void cell_article_schedule(void) {
    const ImageSet *s = train_set();
    const int steps = nb_quick() ? 20 : 1000, held = nb_quick() ? 200 : 1000;
    DcganConfig cfg = dcgan_config_default();
    cfg.batch = 32; /* x_train[:32] */
    DcganTrainer *t = dcgan_trainer_new(&cfg, nb_seed());
    real *x =
        xmalloc((size_t)(32 + held) * DCGAN_PIX * sizeof(real)); /* [32 + held, 784] */
    pixels_to_real(x, s->pixels, (long)(32 + held) * DCGAN_PIX, -1, 1);
    const real *other = x + 32L * DCGAN_PIX; /* images 32 .. 32 + held - 1 */
    DcganEvalStats e0 = dcgan_trainer_eval(t, x, 32),
                   o0 = dcgan_trainer_eval(t, other, held);
    Progress p;
    progress_start(&p, "D steps on x_train[:32]", steps);
    DcganStepStats st = {0};
    for (int k = 1; k <= steps; k++) {
        st = dcgan_trainer_step_d(
            t, x); /* fresh noise, a fixed G, always the same 32 images */
        progress_update(&p, k, st.loss_d);
    }
    progress_end(&p);
    DcganEvalStats e1 = dcgan_trainer_eval(t, x, 32),
                   o1 = dcgan_trainer_eval(t, other, held);
    nb_printf("after %d D steps (L_D = %.4g nats):\n", steps, st.loss_d);
    nb_printf("  %-44s %10s %10s\n", "", "before", "after");
    nb_printf("  %-44s %10.4f %10.4f\n", "mean D(x) on the 32 images x_train[:32]",
              e0.d_real, e1.d_real);
    char other_label[64];
    snprintf(other_label, sizeof other_label, "mean D(x) on %d other training images",
             held);
    nb_printf("  %-44s %10.4f %10.4f\n", other_label, o0.d_real, o1.d_real);
    nb_printf("  %-44s %10.4f %10.4f\n", "mean D(G(z)) on fresh fakes", e0.d_fake,
              e1.d_fake);
    nb_printf("  %-44s %10.4g %10.4g\n", "|dL_G / dtheta_G| (non-saturating L_G)",
              e0.grad_g, e1.grad_g);
    nb_printf("  %-44s %10.4g %10.4g\n", "|dL_G / dtheta_G| (saturating L_G)",
              e0.grad_g_sat, e1.grad_g_sat);
    nb_value("article schedule D steps", steps, "");
    nb_value("article schedule L_D", st.loss_d, "nats");
    nb_value("article schedule D(G(z)) before", e0.d_fake, "");
    nb_metric("article schedule D(x) on its 32 images", e1.d_real, "");
    nb_metric("article schedule D(x) on other real images", o1.d_real, "");
    nb_metric("article schedule D(G(z))", e1.d_fake, "");
    nb_value("article schedule non-saturating gradient growth", e1.grad_g / e0.grad_g,
             "");
    nb_value("article schedule saturating gradient shrink",
             e0.grad_g_sat / e1.grad_g_sat, "");
    xfree(x);
    ch3.article =
        t; /* section 8 gives it the article's one G step and measures its G */
}

/*md
## 2. The data

Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60,000 training images of
28×28 grey pixels in ten classes of clothing, in the same IDX format as
MNIST. `fashion_load` reads them from Debian's `dataset-fashion-mnist`
package (or `--data DIR`). The pixels are bytes, 0 = background; we scale
them to $[-1, 1]$ as we make each batch, so that real images and G's tanh
outputs live in the same range. Below: the class counts, and 64 random
training images. The files must hold what the cells read: 32 + 1,000 images
for the article's schedule (with `--quick`, the 512 it trains on). A smaller
set is refused with both counts and what to pass, never read past its end.
*/
static void cell_data(void) {
    const ImageSet *train = train_set();
    ch3.n_train = nb_quick() ? 512 : train->n;
    nb_printf("%d training images of %dx%d pixels%s\n", train->n, train->rows,
              train->cols, nb_quick() ? " (--quick: the first 512 used)" : "");
    long count[10] = {0}, sum = 0;
    for (int i = 0; i < ch3.n_train; i++) count[train->labels[i]]++;
    for (long i = 0; i < (long)ch3.n_train * DCGAN_PIX; i++) sum += train->pixels[i];
    for (int c = 0; c < 10; c++)
        nb_printf("  %d %-12s %6ld\n", c, FASHION_CLASSES[c], count[c]);
    double mean = (double)sum / ((double)ch3.n_train * DCGAN_PIX);
    nb_printf("mean pixel %.1f of 255, i.e. %.3f in [-1, 1]: most of an image is "
              "background\n",
              mean, mean / 127.5 - 1);
    FILE *f = nb_open("real-grid.tsv");
    fprintf(f, "# 8x8 grid of random training images, 242 x 242 values in [-1, 1], 1 "
               "between tiles\n");
    write_random_grid(f, "03/real grid");
    fclose(f);
    nb_figure(
        "03-real",
        "64 random Fashion-MNIST training images, the data G must learn to imitate");
}

/*md
## 3. The corrected model

G maps a noise vector $z \sim \mathcal N(0, I_{100})$ to an image; D maps an
image to one logit. These are DESIGN.md's reference sizes (the model code and
its forward passes are in `dcgan.c`, after this notebook). The cell makes
them with `dcgan_trainer_new(&cfg, seed)`, the trainer that section 4 runs,
so the table shows the very networks that are trained. The table traces a
batch through both networks layer by layer, with each layer's parameter
count. G is much bigger than D: almost all of G's weights sit in the first
linear layer (100 × 6,272) and the first transposed convolution
(128 × 64 × 4 × 4). The initialisation is PyTorch's default for each layer
type, $U(\pm 1/\sqrt{\text{fan\_in}})$ for weights and biases.

What the course changes besides the six fixes, and why:

- **G** is not the article's. Its `Dense` stack 128 → 256 → 512 → 1024 into
  one `Conv2DTranspose` cannot be built (faults 1 and 2); ours is DCGAN's
  shape: one linear layer to 128 maps of 7×7, then two transposed
  convolutions.
- **D** keeps the article's two stride-2 convolutions (32 and 64 channels,
  $3 \times 3$) and its final linear layer, but uses LeakyReLU with slope
  $0.2$ where the article has `activation='relu'`, as the DCGAN paper
  recommends for the discriminator: a ReLU passes no gradient for a negative
  input, so every unit that D switches off also cuts that path of G's
  gradient, which flows back through D; a leaky unit still passes $0.2$ of
  it. D ends in a logit, not a sigmoid (fault 5).
- **Adam** with learning rate $2 \times 10^{-4}$ and $\beta_1 = 0.5$
  (DCGAN's settings) for both networks, where the article uses
  `Adam(0.0001)` with Keras's default $\beta_1 = 0.9$.
*/
static void print_layer(const char *name, const char *op, const Tensor *out,
                        const Tensor *w, const Tensor *b) {
    char shp[64];
    long np = (w ? w->size : 0) + (b ? b->size : 0);
    nb_printf("  %-10s %-28s %-16s %9ld\n", name, op, shape_str(out, shp, sizeof shp),
              np);
}

static void cell_model(void) {
    const DcganConfig cfg = dcgan_config_default();
    ch3.tr = dcgan_trainer_new(&cfg, nb_seed()); /* the networks section 4 trains */
    const DcganG *g = ch3.tr->g;
    const DcganD *d = ch3.tr->d;
    Rng r;
    rng_stream(&r, nb_seed(), "03/model batch");

    /* a batch of 2 through both, on the tape: the shapes are the real ones */
    Tape *T = tape_new();
    Tensor *z = tape_input(T, 2, SHAPE(2, cfg.zdim), 0);
    rng_fill_normal(&r, z->data, z->size, 0, 1);
    Tensor *fake = dcgan_generate(T, g, z);
    Tensor *logit = dcgan_discriminate(T, d, fake);
    Tensor *loss = dcgan_loss_g(T, logit);
    /* walk the tape and name the layers' outputs */
    Tensor *nodes[32];
    int n = 0;
    for (int i = 0; i < tape_len(T) && n < 32; i++) {
        Tensor *t = tape_node_at(T, i);
        if (t->op == OP_LEAF) continue;
        nodes[n++] = t;
    }
    /* G: matmul, add, relu, reshape, convT, relu, convT, tanh;
     * D: conv, leaky, conv, leaky, reshape, matmul, add; then the loss */
    static const OpKind want[] = {OP_MATMUL,
                                  OP_ADD,
                                  OP_RELU,
                                  OP_RESHAPE,
                                  OP_CONV_TRANSPOSE2D,
                                  OP_RELU,
                                  OP_CONV_TRANSPOSE2D,
                                  OP_TANH,
                                  OP_CONV2D,
                                  OP_LEAKY_RELU,
                                  OP_CONV2D,
                                  OP_LEAKY_RELU,
                                  OP_RESHAPE,
                                  OP_MATMUL,
                                  OP_ADD,
                                  OP_BCE_WITH_LOGITS};
    for (int i = 0; i < 16; i++)
        if (i >= n || nodes[i]->op != want[i])
            fail(EXIT_SOFTWARE, "chapter 3, cell model",
                 "update the layer table to the model in dcgan.c",
                 "tape node %d is not %s", i, OPS[want[i]].name);
    nb_printf("  %-10s %-28s %-16s %9s\n", "layer", "op", "output (N = 2)", "params");
    print_layer("input", "z ~ N(0, I)", z, NULL, NULL);
    print_layer("G.fc", "Linear(100 -> 6272) + ReLU", nodes[2], g->fc.w, g->fc.b);
    print_layer("", "view", nodes[3], NULL, NULL);
    print_layer("G.deconv1", "ConvT(128->64,k4,s2,p1)+ReLU", nodes[5], g->deconv1.w,
                g->deconv1.b);
    print_layer("G.deconv2", "ConvT(64->1,k4,s2,p1)+tanh", nodes[7], g->deconv2.w,
                g->deconv2.b);
    print_layer("D.conv1", "Conv(1->32,k3,s2,p1)+LReLU", nodes[9], d->conv1.w,
                d->conv1.b);
    print_layer("D.conv2", "Conv(32->64,k3,s2,p1)+LReLU", nodes[11], d->conv2.w,
                d->conv2.b);
    print_layer("", "flatten", nodes[12], NULL, NULL);
    print_layer("D.fc", "Linear(3136 -> 1): logit", nodes[14], d->fc.w, d->fc.b);
    nb_printf("G: %ld parameters, D: %ld parameters\n", g->ps->size, d->ps->size);
    nb_metric("G parameters", (double)g->ps->size, "");
    nb_metric("D parameters", (double)d->ps->size, "");
    double lo = 1, hi = -1;
    for (long i = 0; i < fake->size; i++)
        lo = fmin(lo, fake->data[i]), hi = fmax(hi, fake->data[i]);
    nb_printf("at init: G's pixels in [%.3f, %.3f]; D's logits %.4f, %.4f; L_G = %.4f "
              "nats (log 2 = 0.6931)\n",
              lo, hi, (double)logit->data[0], (double)logit->data[1],
              (double)loss->data[0]);
    nb_graph("03-graph",
             "The computation graph of L_G at a batch of 2: G (noise to image), then D "
             "(image to logit), "
             "then the non-saturating loss",
             T, loss);
    tape_free(T);
}

/*md
## 4. Training

One iteration is one D step, then one G step (`dcgan_trainer_step` in
`dcgan.c`), each on the same fresh batch: 64 real images, the next 64 of a
shuffled pass over the training set (`dcgan_pass_next`: reshuffled each
epoch; the last 32 images of a pass, which do not fill a batch, are
skipped), and 64 fakes from fresh noise. Adam, learning rate
$2 \times 10^{-4}$, betas $(0.5, 0.999)$, for both. The cell itself is a
few calls: the trainer was made in section 3, `dcgan_train` runs the
iterations and keeps the log and the snapshots (`DcganHistory`).

The run length is fixed, not measured, so that one seed gives one result on
any machine: 10 epochs, {{iterations:'.0f}} iterations. The first
iterations are timed and the terminal shows the projected run time (on the
machine that built this book: {{time per iteration:.0f}} ms per iteration,
{{training time:.0f}} s of training; times are never part of the record).
What to look for in the log: $L_D$ starts near $2 \log 2 \approx 1.39$
(D guessing) and $L_G$ near $\log 2 \approx 0.69$;
neither goes to 0, because each network's progress is the other's loss. Every
so often we draw G's samples for one fixed batch of 64 noise vectors, so the
grids show the same 64 "seeds" growing into clothes.
*/
/* Run tr to iteration step[k] for k = k0 .. k1-1 in turn, keeping G's
 * numbers there: states [NCURVE, dcgan_g_state_size] (section 8's curve). */
static void train_keeping_states(DcganTrainer *tr, DcganPass *pass, DcganHistory *h,
                                 const int *step, int k0, int k1, real *states,
                                 Progress *p) {
    const long size = dcgan_g_state_size(tr->g);
    for (int k = k0; k < k1; k++) {
        if (step[k] < h->done)
            fail(EXIT_SOFTWARE, "train_keeping_states", "start it earlier",
                 "iteration %d is past, the run is at %d", step[k], h->done);
        dcgan_train(tr, pass, h, step[k], p);
        dcgan_g_state_get(tr->g, states + k * size);
    }
}

/* Trains section 4's run to iteration `until`, keeping G's state at the
 * curve points k, k+1, ... that come before it; returns the next point. */
static int train_to(int k, int until, Progress *p) {
    int k1 = k;
    while (k1 < NCURVE && ch3.curve_step[k1] < until) k1++;
    train_keeping_states(ch3.tr, ch3.pass, ch3.hist, ch3.curve_step, k, k1, ch3.g_states,
                         p);
    dcgan_train(ch3.tr, ch3.pass, ch3.hist, until, p);
    return k1;
}

static void cell_train(void) {
    const DcganConfig cfg = ch3.tr->cfg;
    const int per_epoch = ch3.n_train / cfg.batch, epochs = nb_quick() ? 1 : CH3_EPOCHS;
    const int steps = nb_quick() ? 20 : epochs * per_epoch, probe = nb_quick() ? 5 : 20;
    const double snap_at[NSNAP] = {0, 1.0 / 64, 1.0 / 16, 1.0 / 4, 1.0 / 2, 1};
    Rng r;
    rng_stream(&r, nb_seed(), "03/fixed noise");
    rng_fill_normal(&r, ch3.zfix, GRID * GRID * cfg.zdim, 0, 1);
    ch3.pass =
        dcgan_pass_new(ch3.train->pixels, NULL, ch3.n_train, cfg.batch, nb_seed());
    ch3.hist =
        dcgan_history_new(steps, NSNAP, snap_at, ch3.zfix, GRID * GRID, cfg.zdim);
    nb_printf("%d images, %d iterations of batch %d (%d per epoch)\n", ch3.n_train,
              steps, cfg.batch, per_epoch);
    nb_value("iterations", steps, "");

    Progress p;
    progress_start(&p, "iterations", steps);
    double t0 = now_seconds();
    ch3.g_states =
        xmalloc((size_t)NCURVE * dcgan_g_state_size(ch3.tr->g) * sizeof(real));
    for (int k = 0; k < NCURVE; k++)
        ch3.curve_step[k] = (int)lround(CURVE_AT[k] * steps);
    dcgan_g_state_get(ch3.tr->g, ch3.g_states); /* curve point 0: the untrained G */
    /* the projection times iterations 2 to probe: the first grows the tapes'
     * arenas, and the kernel's mapping of their fresh pages is not a step's cost */
    int k = train_to(1, 1, &p);
    double t1 = now_seconds();
    k = train_to(k, probe, &p);
    double t_probe = (now_seconds() - t1) / (ch3.hist->done - 1);
    char probed[64];
    snprintf(probed, sizeof probed, "time per iteration, iterations 2 to %d", probe);
    nb_timing(probed, 1e3 * t_probe, "ms");
    nb_timing("projected training time", t_probe * steps / 60, "min");
    train_keeping_states(ch3.tr, ch3.pass, ch3.hist, ch3.curve_step, k, NCURVE,
                         ch3.g_states, &p);
    progress_end(&p);
    double secs = now_seconds() - t0;
    nb_timing("time per iteration", 1e3 * secs / steps,
              "ms"); /* batch 64, one D + one G step */
    nb_timing("training time", secs, "s");

    const double *last = dcgan_history_row(ch3.hist, steps);
    nb_metric("final L_D", last[1], "nats");
    nb_metric("final L_G", last[2], "nats");
    nb_metric("final mean D(x)", last[3], "");
    nb_metric("final mean D(G(z))", last[4], "");
    nb_printf("(\"final\": the mean over the last %d iterations)\n",
              ch3.hist->log_every);
}

/*md
## 5. What training shows

The figures below are drawn from the training log (each point a mean over a
window of {{log window:.0f}} iterations, so the curves show trends, not
single noisy batches; the table under the figures gives, for each snapshot,
the window that ends at it or just before). What they show is this seed's
run; another seed draws other curves and other garments.

- **Samples over training**: the same 64 noise vectors at six points: step
  0, step {{snapshot 1 step:'.0f}} (1/64 of the run), step
  {{snapshot 2 step:'.0f}} (1/16), step {{snapshot 3 step:'.0f}} (a
  quarter: two and a half epochs), step {{snapshot 4 step:'.0f}} (half) and
  step {{snapshot 5 step:'.0f}} (the end, ten epochs). At step 0, G's
  output is grey noise with a fine checkerboard texture, the mark of
  untrained stride-2 transposed convolutions (neighbouring output pixels
  receive different kernel taps). What to look for after that, as an
  earlier run of this model (before the course moved to named random
  streams) showed it: at 1/64 of the run, a bright garment-sized blob on a
  dark background, nearly the same for every vector; at 1/16, blobs that
  differ from vector to vector; at a quarter, blurred silhouettes of tops,
  pullovers and trousers; from half-way on, most tiles keep their garment
  and only sharpen, ending as garments of several kinds (section 8 counts
  which) with mottled texture and rough edges, some tiles hybrids of two
  garments. The panels below are this seed's run: judge them against
  that description, and against the real images of the last figure.
  Section 8 replaces judging by eye with numbers.
- **Losses**: $L_D$ and $L_G$ in nats. A GAN's losses do not fall to zero:
  each is low only while its network is winning. $L_D$ is lowest at
  iteration {{L_D lowest at iteration:'.0f}}, at
  {{L_D lowest:.2f}} nats, with $L_G$ at {{L_G where L_D is lowest:.2f}}:
  that is where D is furthest ahead on the losses. The run ends at
  $L_D$ = {{final L_D:.2f}} and $L_G$ = {{final L_G:.2f}}, against the
  starting values $2 \log 2 \approx 1.39$ and $\log 2 \approx 0.69$.
  $L_D$ collapsing to 0 with $L_G$ climbing would mean D had won and G's
  samples had stopped improving; the lowest window of $L_D$ above shows
  whether that happened.
- **D's verdicts**: mean $D(x)$ on real and $D(G(z))$ on fake batches. At the
  game's equilibrium both would be $1/2$. $D(x)$ is above $D(G(z))$ in
  {{windows with D ahead:.0f}} of the {{log windows:.0f}} windows; D is
  furthest ahead at iteration {{D lead largest at iteration:'.0f}}
  ($D(x)$ = {{D(x) at largest lead:.2f}}, $D(G(z))$ =
  {{D(G(z)) at largest lead:.2f}}). At the end $D(x)$ =
  {{final mean D(x):.2f}} and $D(G(z))$ = {{final mean D(G(z)):.2f}}.
  Verdicts near $1/2$ say only that this D is fooled: a person may still
  tell the samples from real images at a glance (the next figure).
- **Real beside generated**: the final grid next to a grid of training images.
*/
static void cell_figures(void) {
    const DcganHistory *h = ch3.hist;
    dcgan_history_write(h, GRID);
    nb_figure("03-samples", "G's samples for one fixed batch of 64 noise vectors, at "
                            "six points of training");
    nb_figure("03-losses", "L_D and L_G over training, in nats (window means)");
    nb_figure("03-verdicts",
              "D's mean verdict on real images, D(x), and on G's samples, D(G(z))");

    nb_printf("%8s %8s %8s %8s %8s\n", "step", "L_D", "L_G", "D(x)", "D(G(z))");
    for (int k = 1; k < NSNAP; k++) {
        const double *row = dcgan_history_row(h, h->snap_step[k]);
        nb_printf("%8.0f %8.4f %8.4f %8.4f %8.4f\n", row[0], row[1], row[2], row[3],
                  row[4]);
        char name[32];
        snprintf(name, sizeof name, "snapshot %d step", k);
        nb_value(name, h->snap_step[k], "");
    }
    const DcganLogSummary m = dcgan_history_summary(h);
    nb_value("log window", h->log_every, "iterations");
    nb_value("log windows", h->n_logs, "");
    nb_value("L_D lowest", m.low_loss_d, "nats");
    nb_value("L_D lowest at iteration", m.low_step, "");
    nb_value("L_G where L_D is lowest", m.low_loss_g, "nats");
    nb_value("D lead largest at iteration", m.lead_step, "");
    nb_value("D(x) at largest lead", m.lead_d_real, "");
    nb_value("D(G(z)) at largest lead", m.lead_d_fake, "");
    nb_value("windows with D ahead", m.windows_ahead, "");

    FILE *f = nb_open("real-vs-fake.tsv");
    fprintf(f, "# block 0: 64 random training images; block 1: G's samples after "
               "training (242 x 242 each)\n");
    write_random_grid(f, "03/real vs fake");
    dcgan_grid_write(f, h->snaps + (long)(NSNAP - 1) * GRID * GRID * DCGAN_PIX, GRID,
                     GRID);
    fclose(f);
    nb_figure("03-real-vs-fake",
              "Left: 64 training images. Right: 64 samples of the trained generator");
}

/*md
## 6. Saving the generator, and loading it back

To use the generator later we only need G's numbers. `dcgan_g_save` writes
them with the checkpoint format of `lib/checkpoint.h` (names, shapes, the
numbers, a checksum) and a meta line with G's sizes. A fresh program would
call `dcgan_g_load`, which builds a G of the sizes in the meta line and fills
it. We do exactly that, sample the fixed noise batch with the loaded model,
and compare with the samples of the model in memory: they must be equal bit
for bit, since the same numbers go through the same arithmetic.
*/
static void cell_checkpoint(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s", nb_path("generator.ckpt"));
    dcgan_g_save(path, ch3.tr->g);
    FILE *f = xfopen(path, "rb", "run build/bin/03: its last cell writes it");
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fclose(f);
    nb_printf("saved %s: %ld bytes for %ld parameters (%s)\n", "generator.ckpt", bytes,
              ch3.tr->g->ps->size, REAL_NAME);

    DcganG *g2 = dcgan_g_load(path, "run build/bin/03: its last cell writes it");
    Tape *T = tape_new();
    const long n = (long)GRID * GRID * DCGAN_PIX;
    real *a = xmalloc((size_t)n * sizeof(real)),
         *b = xmalloc((size_t)n * sizeof(real)); /* [64, 784] each */
    dcgan_sample(T, ch3.tr->g, ch3.zfix, GRID * GRID, a);
    dcgan_sample(T, g2, ch3.zfix, GRID * GRID, b);
    double worst = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
    nb_printf("loaded into a fresh model (G zdim=%d c1=%d c2=%d); 64 samples from the "
              "fixed noise:\n",
              g2->cfg.zdim, g2->cfg.c1, g2->cfg.c2);
    nb_printf("  largest |loaded - in memory| over %ld pixels: %g (%s)\n", n, worst,
              worst == 0 ? "identical, bit for bit" : "DIFFERENT");
    nb_metric("checkpoint round trip, max pixel difference", worst, "");

    /* the first loaded sample, in characters: dark to bright */
    const char *shade = " .:-=+*#%@";
    nb_printf("the loaded model's first sample:\n");
    for (int y = 0; y < DCGAN_IMG; y += 2) {
        nb_printf("  ");
        for (int x = 0; x < DCGAN_IMG; x++) {
            double v = 0.5 * (b[y * DCGAN_IMG + x] +
                              b[(y + 1) * DCGAN_IMG + x]); /* two rows per line */
            int k = (int)((v + 1) / 2 * 9.999);
            nb_printf("%c", shade[k < 0 ? 0 : k > 9 ? 9 : k]);
        }
        nb_printf("\n");
    }
    xfree(a);
    xfree(b);
    tape_free(T);
    dcgan_g_free(g2);
}

/*md
## 7. A judge for the samples

Section 5 describes G's samples in words, and words are not a measurement.
Chapter 2 could count modes on its ring because it knew where every mode
was; on images we need a model that knows what a garment looks like. The
field's answer is a trained classifier used as a pair of eyes: FID (Heusel
et al., NeurIPS 2017) and the Inception Score (Salimans et al., 2016) look
through Inception-v3, a network trained on ImageNet. We train our own, the
**judge** (`judge.c`): two stride-2 convolutions with $4 \times 4$
kernels, a hidden layer of 128 ReLU units (its **features**) and a linear
layer to the ten classes, {{judge parameters:'.0f}} parameters, trained
with cross-entropy and Adam for {{judge epochs:.0f}} epochs on the same
training images as G (the last epoch at a tenth of the learning rate, a
step decay that lets the weights settle). It is checkpointed in the run directory
(`judge.ckpt`, with a meta line naming its settings and seed) and reused by
the next run if it is valid for this one. Its accuracy on the
{{test images:'.0f}} test images, which neither it nor G has seen:
{{judge test accuracy:.1f}} %. The per-class table shows which classes it
gets wrong most often: look for shirts, pullovers, coats and T-shirts,
garments that people confuse too.
*/
static void cell_judge(void) {
    ch3.test = fashion_load(nb_data(), "t10k");
    ch3.n_test = nb_quick() ? 500 : 10000; /* --quick: the first 500 */
    if (ch3.test->rows != DCGAN_IMG || ch3.test->cols != DCGAN_IMG ||
        ch3.test->n < ch3.n_test)
        fail(
            EXIT_DATA, "the Fashion-MNIST test set",
            "pass --data DIR with the Fashion-MNIST t10k files",
            "it holds %d images of %dx%d; the chapter needs %d of 28x28 (--quick: 500)",
            ch3.test->n, ch3.test->rows, ch3.test->cols, ch3.n_test);
    JudgeConfig cfg = judge_config_default();
    if (nb_quick())
        cfg.epochs = 1, cfg.lr_last = cfg.lr; /* --quick: one epoch at the full rate */
    char path[4096];
    snprintf(path, sizeof path, "%s", nb_path("judge.ckpt"));
    double t0 = now_seconds();
    const uint64_t data_id =
        judge_data_id(ch3.train->pixels, ch3.train->labels, ch3.n_train);
    ch3.judge = judge_load_if_valid(path, cfg, nb_seed(), ch3.n_train, data_id);
    if (!ch3.judge) {
        ch3.judge = judge_new(cfg, nb_seed());
        judge_train(ch3.judge, ch3.train->pixels, ch3.train->labels, ch3.n_train,
                    nb_seed());
        judge_save(path, ch3.judge, nb_seed(), ch3.n_train, data_id);
        nb_timing("judge training time", now_seconds() - t0, "s");
    } else {
        fprintf(stderr,
                "  judge: loaded %s (trained by an earlier run with these settings)\n",
                path);
    }
    const Judge *j = ch3.judge;
    ch3.scratch = tape_new();
    nb_printf("judge: Conv(1->%d,k4,s2,p1)+LReLU, Conv(%d->%d,k4,s2,p1)+LReLU, "
              "Linear(%d->%d)+ReLU (features), "
              "Linear(%d->10)\n",
              cfg.c1, cfg.c1, cfg.c2, cfg.c2 * 49, cfg.feat, cfg.feat);
    nb_printf("%ld parameters, trained %d epoch(s) on %d images, batch %d, Adam lr %g "
              "(last epoch %g)\n",
              j->ps->size, cfg.epochs, ch3.n_train, cfg.batch, cfg.lr, cfg.lr_last);
    nb_value("judge parameters", (double)j->ps->size, "");
    nb_value("judge epochs", cfg.epochs, "");
    nb_value("test images", ch3.n_test, "");

    /* the test images through the judge: accuracy, and the features of the real side */
    ch3.test_x =
        xmalloc((size_t)ch3.n_test * DCGAN_PIX * sizeof(real)); /* [n_test, 784] */
    pixels_to_real(ch3.test_x, ch3.test->pixels, (long)ch3.n_test * DCGAN_PIX, -1, 1);
    real *feat =
        xmalloc((size_t)ch3.n_test * cfg.feat * sizeof(real)); /* [n_test, F] */
    int *cls = xmalloc((size_t)ch3.n_test * sizeof(int));
    judge_apply(ch3.scratch, j, ch3.test_x, ch3.n_test, feat, cls, NULL);
    ch3.test_fit = feature_fit(feat, ch3.n_test, cfg.feat);
    long right[JUDGE_CLASSES] = {0}, total[JUDGE_CLASSES] = {0}, all = 0;
    for (int i = 0; i < ch3.n_test; i++) {
        const int y = ch3.test->labels[i];
        total[y]++, right[y] += cls[i] == y, all += cls[i] == y;
    }
    nb_printf("test accuracy per class:\n");
    for (int c = 0; c < JUDGE_CLASSES; c++)
        nb_printf("  %d %-12s %6.1f %%  (%ld images)\n", c, FASHION_CLASSES[c],
                  total[c] ? 100.0 * right[c] / total[c] : 0.0, total[c]);
    nb_metric("judge test accuracy", 100.0 * all / ch3.n_test, "%");
    xfree(feat);
    xfree(cls);
}

/*md
## 8. Measuring the samples

Three measurements, each on {{samples measured:'.0f}} images, for four
sets: real test images (the floor: what a perfect generator would score),
the trained G of section 4, the article's schedule of section 1 (its
1,000 D steps, then the one G step its loop takes after them), and, in
section 9, the remedy. The generators all draw from one noise batch.

- **Fréchet judge distance.** The FID recipe with the judge in place of
  Inception-v3: fit a Gaussian (mean $\mu$, covariance $\Sigma$) to the
  judge's 128 features of the test images and another to those of the
  samples, and compute
  $d^2 = |\mu_r - \mu_g|^2 + \operatorname{tr}\bigl(\Sigma_r + \Sigma_g - 2(\Sigma_r^{1/2}\Sigma_g\Sigma_r^{1/2})^{1/2}\bigr)$,
  the squared 2-Wasserstein distance between the fits (the square roots
  from the symmetric eigendecomposition of `lib/linalg.c`). It is 0 only
  if the two fits agree, and grows when samples are poor (the mean moves)
  or too alike (the covariance shrinks). These numbers are **not FIDs** and
  cannot be set beside published ones: another network (ours, not
  Inception-v3), other features (128 learned on Fashion-MNIST, not 2,048
  learned on ImageNet), other data (28×28 grey garments), another sample
  count (the distance is biased upward at a finite count, so even two real
  sets score above 0). The floor is that bias: {{real floor images:'.0f}}
  *training* images against the test fit.
- **Class coverage.** The judge's class for each sample: how many of the
  ten classes occur, the KL divergence of the histogram from uniform (the
  test set is uniform; 0 nats is perfect, $\log 10 \approx 2.3$ is one
  class), the rarest class's share (uniform: $10\%$) and the judge's mean
  confidence in its top class (a smudge that is half shirt, half bag gets
  a low one).
- **Memorisation.** The Euclidean distance from each image to its nearest
  training image, in pixels of $[-1, 1]$ (784 of them; two images that
  differ by $0.1$ in every pixel are $2.8$ apart). The search is
  $n \times 60{,}000$ pairs, done as one matrix product (`measure.c`). The
  test images set the scale: they are new garments, so a generator that
  copies would sit below them, and one that draws new ones at or above.
  We also count samples nearer than the nearest $1\%$ of test images.

The table holds the figures (this seed's run). The trained G's Fréchet
judge distance is {{Frechet judge distance, plain:.1f}}, against a floor of
{{Frechet judge distance, real:.2f}}; the article's schedule leaves G where
it started, at {{Frechet judge distance, article schedule:.0f}}, with its
samples in {{classes present, article schedule:.0f}} class(es). The plain
G's samples fall in {{classes present, plain:.0f}} classes, KL
{{KL from uniform, plain:.3f}} nats from uniform, the rarest class at
{{rarest class share, plain:.1f}} % and the commonest,
{{commonest class, plain}}, at {{commonest class share, plain:.1f}} %; the
judge's mean confidence is {{mean confidence, plain:.2f}} on them against
{{mean confidence, real:.2f}} on test images. Their mean distance to the
nearest training image is {{nearest training distance, plain:.2f}}, against
{{nearest training distance, real:.2f}} for test images, and
{{share nearer than test 1st percentile, plain:.2f}} % of them are nearer
than the test images' 1st percentile: {{memorisation verdict, plain}}.
The curve of the next section follows the distance over training, from G's
numbers kept at fifteen points, on {{curve samples:'.0f}} samples per point
(fewer than the table's, so its values sit higher: the bias of a finite
sample).
*/

/* G(z) for n noise vectors z [n, Z] into out [n, 784], in batches (eval mode). */
static void sample_many(const DcganG *g, const real *z, int n, real *out) {
    enum { CHUNK = 200 }; /* images per forward pass: a tape of some 40 MB */
    for (int i = 0; i < n; i += CHUNK)
        dcgan_sample(ch3.scratch, g, z + (long)i * g->cfg.zdim,
                     n - i < CHUNK ? n - i : CHUNK, out + (long)i * DCGAN_PIX);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v [n] (the entry at rank q (n - 1) of a sorted copy). */
static double percentile(const double *v, int n, double q) {
    double *s = xmalloc((size_t)n * sizeof(double));
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double r = s[(int)(q * (n - 1))];
    xfree(s);
    return r;
}

static double share_below(const double *v, int n, double t) {
    long k = 0;
    for (int i = 0; i < n; i++) k += v[i] < t;
    return 100.0 * k / n;
}

/* A generator's measurements on the shared noise batch; its samples, the
 * judge's class of each (cls may be NULL) and the nearest-training indices
 * and distances into the caller's arrays (no nearest-training search when
 * nn_dist is NULL). */
static Measures measure_generator(const DcganG *g, real *x, int *cls, int *nn_idx,
                                  double *nn_dist) {
    sample_many(g, ch3.zmeasure, ch3.n_measure, x);
    return measure_images(ch3.scratch, ch3.judge, x, ch3.n_measure, &ch3.test_fit, cls,
                          ch3.train_x, nn_dist ? ch3.n_train : 0, nn_idx, nn_dist);
}

/* n training images drawn at random (with replacement) from r into x [n, 784],
 * in [-1, 1]. */
static void random_training_images(Rng *r, real *x, int n) {
    for (int i = 0; i < n; i++)
        memcpy(x + (long)i * DCGAN_PIX,
               ch3.train_x + (long)rng_int(r, ch3.n_train) * DCGAN_PIX,
               DCGAN_PIX * sizeof(real));
}

/* The Fréchet judge distance of n images x [n, 784] to the test images. */
static double frechet_of(const real *x, int n) {
    const int F = ch3.judge->cfg.feat;
    real *feat = xmalloc((size_t)n * F * sizeof(real)); /* [n, F] */
    judge_apply(ch3.scratch, ch3.judge, x, n, feat, NULL, NULL);
    FeatureFit fit = feature_fit(feat, n, F);
    const double fd = fit_frechet(&ch3.test_fit, &fit);
    feature_fit_free(&fit);
    xfree(feat);
    return fd;
}

/* The Fréchet judge distance of G at the first npoints kept states, on n samples. */
static void frechet_curve(DcganConfig cfg, const real *states, int npoints, int n,
                          double *fd) {
    DcganG *g = dcgan_g_new(cfg);
    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    for (int k = 0; k < npoints; k++) {
        dcgan_g_state_set(g, states + k * dcgan_g_state_size(g));
        sample_many(g, ch3.zmeasure, n, x);
        fd[k] = frechet_of(x, n);
    }
    xfree(x);
    dcgan_g_free(g);
}

/* Record m under "<measure>, <what>"; close: % nearer than close_below. */
static void metric_set(const char *what, const Measures *m, double close) {
    char name[96];
#define METRIC(label, value, unit)                                                     \
    (snprintf(name, sizeof name, "%s, %s", label, what), nb_value(name, value, unit))
    METRIC("Frechet judge distance", m->frechet, "");
    METRIC("classes present", m->cov.present, "");
    METRIC("KL from uniform", m->cov.kl_uniform, "nats");
    METRIC("rarest class share", 100 * m->cov.min_share, "%");
    METRIC("mean confidence", m->cov.mean_conf, "");
    int top = 0;
    for (int c = 1; c < JUDGE_CLASSES; c++)
        if (m->cov.count[c] > m->cov.count[top]) top = c;
    METRIC("commonest class share", 100.0 * m->cov.count[top] / m->cov.n, "%");
    snprintf(name, sizeof name, "commonest class, %s", what);
    nb_text(name, "%s", FASHION_CLASSES[top]);
    if (isnan(m->nn_mean)) return; /* not searched */
    METRIC("nearest training distance", m->nn_mean, "");
    METRIC("share nearer than test 1st percentile", close, "%");
    /* what the distances say: test images are new garments, so a sample as
     * near to the training set as they are (or farther) copies nothing */
    snprintf(name, sizeof name, "memorisation verdict, %s", what);
    if (close <= 2 * ch3.close_real && m->nn_mean >= ch3.m_real.nn_mean)
        nb_text(name, "no sign of copying, the samples are farther from the training "
                      "images than new real garments are");
    else if (close <= 2 * ch3.close_real)
        nb_text(
            name,
            "no sign of copying, no more samples are that near than test images are");
    else
        nb_text(name, "more samples sit that near to a training image than test images "
                      "do: look for copies in the "
                      "nearest-neighbour figure");
#undef METRIC
}

static void print_measures_header(void) {
    nb_printf("  %-22s %10s %8s %9s %8s %8s %10s %8s\n", "", "Frechet", "classes",
              "KL nats", "rarest", "conf", "nn dist", "near %");
}

static void print_measures(const char *label, const Measures *m, double close) {
    nb_printf("  %-22s %10.3f %8d %9.4f %7.2f%% %8.3f", label, m->frechet,
              m->cov.present, m->cov.kl_uniform, 100 * m->cov.min_share,
              m->cov.mean_conf);
    if (isnan(m->nn_mean))
        nb_printf(" %10s %8s\n", "-", "-");
    else
        nb_printf(" %10.3f %7.2f%%\n", m->nn_mean, close);
}

/* The 8 samples of x [n, 784] nearest to a training image, and those
 * images, into pairs [16, 784] (the samples, then their neighbours). */
static void nearest_pairs(const real *x, const int *idx, const double *dist, int n,
                          real *pairs) {
    int pick[8];
    for (int k = 0; k < 8; k++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int m = 0; m < k; m++) taken |= pick[m] == i;
            if (!taken && (best < 0 || dist[i] < dist[best])) best = i;
        }
        pick[k] = best;
        memcpy(pairs + (long)k * DCGAN_PIX, x + (long)best * DCGAN_PIX,
               DCGAN_PIX * sizeof(real));
        memcpy(pairs + (long)(8 + k) * DCGAN_PIX,
               ch3.train_x + (long)idx[best] * DCGAN_PIX, DCGAN_PIX * sizeof(real));
    }
}

static void cell_measure(void) {
    const int n = ch3.n_measure = nb_quick() ? 500 : 10000, Z = ch3.tr->cfg.zdim;
    const double t0 = now_seconds();
    Rng r;
    rng_stream(&r, nb_seed(), "03/measure noise");
    ch3.zmeasure = xmalloc((size_t)n * Z * sizeof(real));
    rng_fill_normal(&r, ch3.zmeasure, (long)n * Z, 0, 1);
    ch3.train_x =
        xmalloc((size_t)ch3.n_train * DCGAN_PIX * sizeof(real)); /* [n_train, 784] */
    pixels_to_real(ch3.train_x, ch3.train->pixels, (long)ch3.n_train * DCGAN_PIX, -1,
                   1);
    nb_value("samples measured", n, "");

    /* the floor: real test images (coverage, memorisation), and real training images (Fréchet) */
    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    double *dist = xmalloc((size_t)n * sizeof(double));
    ch3.m_real = measure_images(ch3.scratch, ch3.judge, ch3.test_x, n, &ch3.test_fit,
                                NULL, ch3.train_x, ch3.n_train, NULL, dist);
    ch3.close_below = percentile(dist, n, 0.01);
    ch3.close_real = share_below(dist, n, ch3.close_below);
    rng_stream(&r, nb_seed(), "03/real floor");
    random_training_images(&r, x, n);
    ch3.m_real.frechet = frechet_of(x, n);
    nb_value("real floor images", n, "");

    /* the trained G, and the article's schedule (its one G step after the 1,000 D steps) */
    int *nn_idx_plain = xmalloc((size_t)n * sizeof(int));
    double *nn_dist_plain = xmalloc((size_t)n * sizeof(double));
    ch3.m_plain = measure_generator(ch3.tr->g, x, NULL, nn_idx_plain, nn_dist_plain);
    ch3.close_plain = share_below(nn_dist_plain, n, ch3.close_below);
    ch3.pairs_plain = xmalloc(16 * DCGAN_PIX * sizeof(real));
    nearest_pairs(x, nn_idx_plain, nn_dist_plain, n, ch3.pairs_plain);
    dcgan_trainer_step_g(ch3.article);
    ch3.m_article = measure_generator(ch3.article->g, x, NULL, NULL, dist);
    ch3.close_article = share_below(dist, n, ch3.close_below);

    nb_printf("%d images each; Frechet: the Frechet judge distance to the test images' "
              "features; nn dist: mean\n"
              "distance to the nearest training image; near %%: share nearer than %.3f "
              "(the test images' 1st "
              "percentile)\n",
              n, ch3.close_below);
    print_measures_header();
    print_measures("real images (floor)", &ch3.m_real, ch3.close_real);
    print_measures("trained G (plain)", &ch3.m_plain, ch3.close_plain);
    print_measures("article's schedule", &ch3.m_article, ch3.close_article);
    metric_set("real", &ch3.m_real, ch3.close_real);
    metric_set("plain", &ch3.m_plain, ch3.close_plain);
    metric_set("article schedule", &ch3.m_article, ch3.close_article);
    nb_printf("class histogram (share of the samples, %%):\n  %-12s %8s %8s %8s\n",
              "class", "real", "plain", "article");
    for (int c = 0; c < JUDGE_CLASSES; c++)
        nb_printf("  %-12s %8.2f %8.2f %8.2f\n", FASHION_CLASSES[c],
                  100.0 * ch3.m_real.cov.count[c] / n,
                  100.0 * ch3.m_plain.cov.count[c] / n,
                  100.0 * ch3.m_article.cov.count[c] / n);

    /* the curve over training */
    const int nc = nb_quick() ? 100 : 1000;
    ch3.curve_plain = xmalloc(NCURVE * sizeof(double));
    frechet_curve(ch3.tr->cfg, ch3.g_states, NCURVE, nc, ch3.curve_plain);
    nb_value("curve samples", nc, "");
    nb_printf("Frechet judge distance over training (%d samples per point):\n", nc);
    for (int k = 0; k < NCURVE; k++)
        nb_printf("  %8d %10.3f\n", ch3.curve_step[k], ch3.curve_plain[k]);
    nb_timing("measurement time, plain and article", now_seconds() - t0, "s");
    xfree(x);
    xfree(dist);
    xfree(nn_idx_plain);
    xfree(nn_dist_plain);
}

/* A remedy's run: G and D of cfg trained as section 4's run (same seed,
 * data order and noise; with cfg.classes, the images' labels too) up to the
 * curve point CH3_REMEDY_POINT, then measured like the plain G, with its
 * nearest pairs and its Fréchet curve. The one recipe of sections 9 and 10. */
typedef struct {
    DcganTrainer *tr;
    DcganHistory *h;      /* its log and its snapshots of the fixed noise batch */
    int steps;            /* iterations trained */
    Measures m;           /* on the shared noise batch */
    double close;         /* % of samples nearer than the test images' 1st percentile */
    double curve[NCURVE]; /* Fréchet judge distance at the curve points (NaN past it) */
    real *pairs;          /* [16, 784] 8 samples nearest the training set, then those */
    double agree; /* with classes: % of samples the judge puts in the class asked for */
} RemedyRun;

static RemedyRun remedy_run(DcganConfig cfg, const char *what) {
    const double t0 = now_seconds();
    const int KR = CH3_REMEDY_POINT, n = ch3.n_measure;
    const double snap_at[NSNAP] = {0, 1.0 / 64, 1.0 / 16, 1.0 / 4, 1.0 / 2, 1};
    RemedyRun r = {.steps = ch3.curve_step[KR]};
    r.tr = dcgan_trainer_new(&cfg, nb_seed());
    DcganPass *pass = dcgan_pass_new(ch3.train->pixels,
                                     cfg.classes ? ch3.train->labels : NULL,
                                     ch3.n_train, cfg.batch, nb_seed());
    r.h = dcgan_history_new(r.steps, NSNAP, snap_at, ch3.zfix, GRID * GRID, cfg.zdim);
    real *states = xmalloc((size_t)NCURVE * dcgan_g_state_size(r.tr->g) * sizeof(real));
    char label[96];
    snprintf(label, sizeof label, "iterations (%s)", what);
    Progress p;
    progress_start(&p, label, r.steps);
    train_keeping_states(r.tr, pass, r.h, ch3.curve_step, 0, KR + 1, states, &p);
    progress_end(&p);
    snprintf(label, sizeof label, "%s training time", what);
    nb_timing(label, now_seconds() - t0, "s");

    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    int *idx = xmalloc((size_t)n * sizeof(int));
    double *dist = xmalloc((size_t)n * sizeof(double));
    int *cls = xmalloc((size_t)n * sizeof(int)); /* the judge's class of each sample */
    r.m = measure_generator(r.tr->g, x, cls, idx, dist);
    r.close = share_below(dist, n, ch3.close_below);
    r.agree = NAN;
    if (cfg.classes) { /* dcgan_sample drew sample i of class i mod K */
        long k = 0;
        for (int i = 0; i < n; i++) k += cls[i] == i % cfg.classes;
        r.agree = 100.0 * k / n;
    }
    r.pairs = xmalloc(16 * DCGAN_PIX * sizeof(real));
    nearest_pairs(x, idx, dist, n, r.pairs);
    for (int k = 0; k < NCURVE; k++) r.curve[k] = NAN;
    frechet_curve(cfg, states, KR + 1, nb_quick() ? 100 : 1000, r.curve);
    xfree(x);
    xfree(idx);
    xfree(dist);
    xfree(cls);
    xfree(states);
    dcgan_pass_free(pass);
    return r;
}

static void remedy_free(RemedyRun *r) {
    xfree(r->pairs);
    dcgan_history_free(r->h);
    dcgan_trainer_free(r->tr);
}

/*md
## 9. A remedy: batch normalisation in G

Now a change the numbers can judge. The DCGAN paper (Radford, Metz and
Chintala, ICLR 2016) puts **batch normalisation** (Ioffe and Szegedy, ICML
2015) in both networks, on every layer but G's output and D's input: each
channel of a layer's output is normalised to mean 0 and variance 1 over the
batch (and, for a convolution, over its positions), then scaled and shifted
by a learned gain and bias. The paper credits it with getting deep
generators to learn at all and with stopping G from collapsing all samples
to a single point. We add it to G only (`dcgan.c`: after the linear layer,
reshaped to 128 maps, and after the first transposed convolution, before
each ReLU), and leave D as it was, so that one thing changes. (In D it would
also normalise each of D's batches, which here are all-real or all-fake, so
each batch's statistics alone would tell D which kind it holds.) In
training G normalises with each batch's own statistics and keeps running
averages of them (momentum $0.1$); samples are drawn in eval mode, with the
running averages, so a sample does not depend on the others in its batch.
Same seed, same initial weights (the gains start at 1, the biases at 0),
same data order, same noise.

The course's time budget (ten minutes for all seven chapters on a 2-core
machine; section 4's run alone took {{training time:.0f}} s on the machine
that built this book) leaves room for
{{remedy iterations:'.0f}} iterations of the remedy,
{{remedy share of the run:.0f}} % of section 4's run. So we set it beside
the plain G *at the same iteration* (its numbers were kept in section 4 for
the curve), which is the fair comparison, and beside the plain G at the end
of its run, which has trained ten times longer.

The result, in the table (this seed's run): at iteration
{{remedy iterations:'.0f}} the remedy's Fréchet judge distance is
{{Frechet judge distance, remedy:.1f}} against the plain G's
{{Frechet judge distance, plain at the remedy's length:.1f}}, a ratio of
{{remedy Frechet ratio:.2f}} (the target was at most one half:
{{remedy Frechet target met}}); against the plain G at the end of its run
the ratio is {{remedy Frechet ratio to the end of the plain run:.2f}}. The
remedy's samples fall in {{classes present, remedy:.0f}} classes, the
rarest at {{rarest class share, remedy:.1f}} % (the plain G at the same
iteration: {{rarest class share, plain at the remedy's length:.1f}} %; the
target was all ten, none below half of the uniform $10\%$:
{{remedy coverage target met}}), KL {{KL from uniform, remedy:.3f}} nats
from uniform. Their mean distance to the nearest training image is
{{nearest training distance, remedy:.2f}}: {{memorisation verdict, remedy}}.
The curve shows both models on the way, not only at the end; each point is
one measurement, and the two curves may cross. Where the remedy leads most,
at iteration {{remedy largest lead at iteration:'.0f}}, the plain G's
distance is {{remedy largest lead factor:.1f}} times the remedy's (on the
curve's {{curve samples:'.0f}} samples per point). The DCGAN paper's claim is about
getting training started and keeping it stable; a small G on 28×28
garments trains without it, and the measurements say how much it speeds
that up, and how much is left of the difference after
{{remedy iterations:'.0f}} iterations.
The figures: the Fréchet judge distance over training for both models; the
class histograms beside the test set's; the samples nearest to a training
image, each above its neighbour, for both models (pixel distance favours
little ink, so faint samples and plain dark garments come first: a copy
would show one garment twice); and the fixed noise batch
drawn by both at the remedy's last iteration.
*/
static void cell_remedy(void) {
    const double t0 = now_seconds();
    DcganConfig cfg = ch3.tr->cfg;
    cfg.bn = 1;
    const int KR = CH3_REMEDY_POINT, n = ch3.n_measure, nc = nb_quick() ? 100 : 1000;
    DcganG *g_bn = dcgan_g_new(cfg);
    nb_printf("G with batch norm: %ld parameters (plain G: %ld); %d iterations of "
              "section 4's %d\n",
              g_bn->ps->size, ch3.tr->g->ps->size, ch3.curve_step[KR], ch3.hist->steps);
    dcgan_g_free(g_bn);
    RemedyRun run = remedy_run(cfg, "remedy");
    const int steps = run.steps;
    DcganHistory *h = run.h;
    nb_value("remedy iterations", steps, "");
    nb_value("remedy share of the run", 100.0 * steps / ch3.hist->steps, "%");
    const double *last = dcgan_history_row(h, steps);
    nb_printf(
        "last %d iterations (means): L_D %.4f, L_G %.4f, D(x) %.4f, D(G(z)) %.4f\n",
        h->log_every, last[1], last[2], last[3], last[4]);

    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    /* the plain G as it was at the same iteration */
    DcganG *g_same = dcgan_g_new(ch3.tr->cfg);
    dcgan_g_state_set(g_same, ch3.g_states + KR * dcgan_g_state_size(g_same));
    const Measures m_same = ch3.m_same =
        measure_generator(g_same, x, NULL, NULL, NULL); /* no memorisation search: time */
    const double close_same = NAN;
    dcgan_g_free(g_same);
    ch3.m_remedy = run.m;
    const double close = ch3.close_remedy = run.close;
    real *pairs = xmalloc(32 * DCGAN_PIX *
                          sizeof(real)); /* [32, 784]: plain pairs, remedy pairs */
    memcpy(pairs, ch3.pairs_plain, 16 * DCGAN_PIX * sizeof(real));
    memcpy(pairs + 16 * DCGAN_PIX, run.pairs, 16 * DCGAN_PIX * sizeof(real));
    const double *curve = run.curve;
    memcpy(ch3.curve_bn, run.curve, sizeof ch3.curve_bn);

    char label[64];
    snprintf(label, sizeof label, "plain G at iter. %d", steps);
    print_measures_header();
    print_measures("real images (floor)", &ch3.m_real, ch3.close_real);
    print_measures(label, &m_same, close_same);
    print_measures("G with batch norm", &ch3.m_remedy, close);
    print_measures("plain G, end of run", &ch3.m_plain, ch3.close_plain);
    print_measures("article's schedule", &ch3.m_article, ch3.close_article);
    metric_set("remedy", &ch3.m_remedy, close);
    metric_set("plain at the remedy's length", &m_same, close_same);
    const double ratio = ch3.m_remedy.frechet / m_same.frechet,
                 ratio_end = ch3.m_remedy.frechet / ch3.m_plain.frechet;
    const int fd_met = ratio <= 0.5, cov_met = ch3.m_remedy.cov.present == 10 &&
                                               ch3.m_remedy.cov.min_share >= 0.05;
    nb_value("remedy Frechet ratio", ratio, "");
    nb_value("remedy Frechet ratio to the end of the plain run", ratio_end, "");
    nb_text("remedy Frechet target met", "%s", fd_met ? "met" : "missed");
    nb_text("remedy coverage target met", "%s", cov_met ? "met" : "missed");
    nb_printf("remedy / plain Frechet judge distance at iteration %d: %.3f (target <= "
              "0.5: %s); against the end of "
              "the plain run: %.3f\nremedy classes %d, rarest %.2f%% (target 10 and >= "
              "5%%: %s)\n",
              steps, ratio, fd_met ? "met" : "missed", ratio_end,
              ch3.m_remedy.cov.present, 100 * ch3.m_remedy.cov.min_share,
              cov_met ? "met" : "missed");
    nb_printf("class histogram (share of the samples, %%):\n  %-12s %8s %8s %8s %8s\n",
              "class", "real", "plain@", "remedy", "plain end");
    for (int c = 0; c < JUDGE_CLASSES; c++)
        nb_printf("  %-12s %8.2f %8.2f %8.2f %8.2f\n", FASHION_CLASSES[c],
                  100.0 * ch3.m_real.cov.count[c] / n, 100.0 * m_same.cov.count[c] / n,
                  100.0 * ch3.m_remedy.cov.count[c] / n,
                  100.0 * ch3.m_plain.cov.count[c] / n);

    int lead =
        0; /* the curve point where the plain G's distance is the largest multiple of the remedy's */
    for (int k = 1; k <= KR; k++)
        if (ch3.curve_plain[k] / curve[k] > ch3.curve_plain[lead] / curve[lead])
            lead = k;
    nb_value("remedy largest lead at iteration", ch3.curve_step[lead], "");
    nb_value("remedy largest lead factor", ch3.curve_plain[lead] / curve[lead], "");
    FILE *f = nb_open("frechet-curve.tsv");
    fprintf(f,
            "# iteration\tplain\tbatch_norm (NaN past its run)\treal_floor   (Frechet "
            "judge distance, %d "
            "samples per point; the floor at %d)\n",
            nc, n);
    for (int k = 0; k < NCURVE; k++)
        fprintf(f, "%d\t%.6f\t%.6f\t%.6f\n", ch3.curve_step[k], ch3.curve_plain[k],
                k <= KR ? curve[k] : NAN, ch3.m_real.frechet);
    fclose(f);
    nb_printf("Frechet judge distance over training (%d samples per point):\n  %9s "
              "%10s %10s\n",
              nc, "iteration", "plain", "batch norm");
    for (int k = 0; k <= KR; k++)
        nb_printf("  %9d %10.3f %10.3f\n", ch3.curve_step[k], ch3.curve_plain[k],
                  curve[k]);
    nb_figure("03-frechet", "The Frechet judge distance of G's samples to the test "
                            "images over training (log "
                            "scale), plain G and G with batch norm: the whole run "
                            "(left), the remedy's iterations "
                            "(right); the dashed line is real training images");
    f = nb_open("classes.tsv");
    fprintf(f,
            "# class\tname\treal_test\tplain_same_iteration\tbatch_norm\tplain_end   "
            "(share of %d images, "
            "%%)\n",
            n);
    for (int c = 0; c < JUDGE_CLASSES; c++)
        fprintf(f, "%d\t\"%s\"\t%.4f\t%.4f\t%.4f\t%.4f\n", c, FASHION_CLASSES[c],
                100.0 * ch3.m_real.cov.count[c] / n, 100.0 * m_same.cov.count[c] / n,
                100.0 * ch3.m_remedy.cov.count[c] / n,
                100.0 * ch3.m_plain.cov.count[c] / n);
    fclose(f);
    nb_figure(
        "03-classes",
        "The judge's class histogram of test images, of the plain G's samples (at the "
        "remedy's iteration count and at the end) and of the samples of G with batch "
        "norm");
    f = nb_open("nearest.tsv");
    fprintf(f, "# 4 x 8 tiles: the 8 samples of the plain G (end of run) nearest to a "
               "training image, those "
               "images; the same for G with batch norm\n");
    dcgan_grid_write(f, pairs, 4, 8);
    fclose(f);
    nb_figure("03-nearest",
              "Memorisation: rows 1 and 3 are the 8 samples (plain G, then G with "
              "batch norm) "
              "nearest to a training image; rows 2 and 4 are those training images");
    f = nb_open("remedy-samples.tsv");
    fprintf(f,
            "# the fixed noise batch of section 4 at iteration %d: block 0 plain G, "
            "block 1 G with batch norm\n",
            steps);
    DcganG *g_fix = dcgan_g_new(ch3.tr->cfg);
    dcgan_g_state_set(g_fix, ch3.g_states + KR * dcgan_g_state_size(g_fix));
    Tape *T = tape_new();
    dcgan_sample(T, g_fix, ch3.zfix, GRID * GRID, x);
    dcgan_grid_write(f, x, GRID, GRID);
    dcgan_grid_write(f, h->snaps + (long)(NSNAP - 1) * GRID * GRID * DCGAN_PIX, GRID,
                     GRID);
    fclose(f);
    tape_free(T);
    dcgan_g_free(g_fix);
    nb_figure(
        "03-remedy-samples",
        "The fixed noise batch of section 4 at the remedy's last iteration: plain G "
        "(left), G with batch norm (right)");
    nb_timing("remedy time, training and measuring", now_seconds() - t0, "s");
    xfree(x);
    xfree(pairs);
    remedy_free(&run);
}

/*md
## 10. A second remedy: tell both networks the class

Batch norm changes how G learns; it leaves D's question as it was: *is this
a real garment?* A **conditional GAN** (Mirza and Osindero, 2014) gives both
networks each image's class $y$ and asks D a sharper question: *is this a
real garment of class $y$?* G draws for a class it is told, and D can no
longer pass a convincing shoe labelled "dress". In `dcgan.c` G adds a
learned vector of its class to its first layer's output, which is the same
as appending $y$'s one-hot code to $z$; D adds to its logit the projection
of its features $f$ on a learned vector of the class,
$\ell = w^\top f + b + e_y^\top f$ (the projection discriminator of Miyato
and Koyama, ICLR 2018). Both class tables start at zero, so the pair starts
exactly where the plain pair does: same seed, same initial weights, same
data order, same noise. The real images bring their labels; each fake's
class is drawn uniformly from a stream of its own. To measure, sample $i$
is drawn of class $i \bmod 10$: an equal share of each class, as in the
test set.

This remedy uses something the plain GAN does not have, the labels, so it
answers a different question: how much of the distance comes from G not
knowing which garment to draw? Coverage is now partly ours to set, so the
judge checks something sharper: whether each sample is of the class it was
asked for.

The result (this seed's run, the same {{remedy iterations:'.0f}}
iterations as section 9): the conditional G's Fréchet judge distance is
{{Frechet judge distance, conditional:.1f}} against the plain G's
{{Frechet judge distance, plain at the remedy's length:.1f}} at the same
iteration, a ratio of {{conditional Frechet ratio:.2f}} (the target was at
most one half: {{conditional Frechet target met}}); against the plain G at
the end of its run, ten times longer, the ratio is
{{conditional Frechet ratio to the end of the plain run:.2f}}. The judge
puts {{conditional class agreement:.1f}} % of the samples in the class
they were drawn for (it classifies {{judge test accuracy:.1f}} % of the
test images right). The samples fall in
{{classes present, conditional:.0f}} classes, the rarest at
{{rarest class share, conditional:.1f}} % (the target was all ten,
none below half of the uniform $10\%$:
{{conditional coverage target met}}). Their mean distance to the
nearest training image is {{nearest training distance, conditional:.2f}}:
{{memorisation verdict, conditional}}.
The figures: the Fréchet judge distance of the three generators over the
remedies' iterations, and the conditional G's samples, one class per row,
the same eight noise vectors in every row: the class sets the garment, the
noise what varies within it.
*/
static void cell_condition(void) {
    const double t0 = now_seconds();
    DcganConfig cfg = ch3.tr->cfg;
    cfg.classes = JUDGE_CLASSES;
    const int KR = CH3_REMEDY_POINT, n = ch3.n_measure;
    RemedyRun run = remedy_run(cfg, "conditional");
    nb_printf("conditional G: %ld parameters, D: %ld (plain: %ld and %ld); %d "
              "iterations\n",
              run.tr->g->ps->size, run.tr->d->ps->size, ch3.tr->g->ps->size,
              ch3.tr->d->ps->size, run.steps);
    char label[64];
    snprintf(label, sizeof label, "plain G at iter. %d", run.steps);
    print_measures_header();
    print_measures("real images (floor)", &ch3.m_real, ch3.close_real);
    print_measures(label, &ch3.m_same, NAN);
    print_measures("G with batch norm", &ch3.m_remedy, ch3.close_remedy);
    print_measures("conditional G", &run.m, run.close);
    print_measures("plain G, end of run", &ch3.m_plain, ch3.close_plain);
    print_measures("article's schedule", &ch3.m_article, ch3.close_article);
    metric_set("conditional", &run.m, run.close);
    const double ratio = run.m.frechet / ch3.m_same.frechet,
                 ratio_end = run.m.frechet / ch3.m_plain.frechet;
    const int fd_met = ratio <= 0.5,
              cov_met = run.m.cov.present == 10 && run.m.cov.min_share >= 0.05;
    nb_value("conditional Frechet ratio", ratio, "");
    nb_value("conditional Frechet ratio to the end of the plain run", ratio_end, "");
    nb_value("conditional class agreement", run.agree, "%");
    nb_text("conditional Frechet target met", "%s", fd_met ? "met" : "missed");
    nb_text("conditional coverage target met", "%s", cov_met ? "met" : "missed");
    nb_printf("conditional / plain Frechet judge distance at iteration %d: %.3f "
              "(target <= 0.5: %s);\nagainst the end of the plain run: %.3f; "
              "samples in the class asked for: %.2f%%\n",
              run.steps, ratio, fd_met ? "met" : "missed", ratio_end, run.agree);
    nb_printf("class histogram (share of the samples, %%):\n  %-12s %8s %8s %8s\n",
              "class", "real", "plain@", "cond.");
    for (int c = 0; c < JUDGE_CLASSES; c++)
        nb_printf("  %-12s %8.2f %8.2f %8.2f\n", FASHION_CLASSES[c],
                  100.0 * ch3.m_real.cov.count[c] / n,
                  100.0 * ch3.m_same.cov.count[c] / n, 100.0 * run.m.cov.count[c] / n);

    FILE *f = nb_open("remedies-curve.tsv");
    fprintf(f, "# iteration\tplain\tbatch_norm\tconditional\treal_floor   (Frechet "
               "judge distance over the remedies' iterations)\n");
    nb_printf("Frechet judge distance over training:\n  %9s %10s %10s %12s\n",
              "iteration", "plain", "batch norm", "conditional");
    for (int k = 0; k <= KR; k++) {
        fprintf(f, "%d\t%.6f\t%.6f\t%.6f\t%.6f\n", ch3.curve_step[k],
                ch3.curve_plain[k], ch3.curve_bn[k], run.curve[k], ch3.m_real.frechet);
        nb_printf("  %9d %10.3f %10.3f %12.3f\n", ch3.curve_step[k], ch3.curve_plain[k],
                  ch3.curve_bn[k], run.curve[k]);
    }
    fclose(f);
    nb_figure("03-remedies-frechet",
              "The Frechet judge distance over the remedies' iterations (log scale): "
              "plain G, G with batch norm, conditional G; the dashed line is real "
              "training images");

    enum { COLS = 8 }; /* the first 8 fixed noise vectors, once per class */
    real *z = xmalloc((size_t)JUDGE_CLASSES * COLS * cfg.zdim * sizeof(real));
    int y[JUDGE_CLASSES * COLS];
    for (int c = 0; c < JUDGE_CLASSES; c++)
        for (int j = 0; j < COLS; j++) {
            y[c * COLS + j] = c;
            memcpy(z + (long)(c * COLS + j) * cfg.zdim, ch3.zfix + (long)j * cfg.zdim,
                   (size_t)cfg.zdim * sizeof(real));
        }
    real *x = xmalloc((size_t)JUDGE_CLASSES * COLS * DCGAN_PIX * sizeof(real));
    dcgan_sample_class(ch3.scratch, run.tr->g, z, y, JUDGE_CLASSES * COLS, x);
    f = nb_open("class-samples.tsv");
    fprintf(f, "# the conditional G at iteration %d: row c is class c, column j the "
               "fixed noise vector j\n", run.steps);
    dcgan_grid_write(f, x, JUDGE_CLASSES, COLS);
    fclose(f);
    nb_figure("03-class-samples",
              "The conditional G at the remedy's last iteration: one class per row "
              "(T-shirt/top to ankle boot), the same 8 noise vectors in every row");
    nb_timing("conditional time, training and measuring", now_seconds() - t0, "s");
    xfree(z);
    xfree(x);
    remedy_free(&run);
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/03-gan-images/`, leaving the book's
run alone), then open the outcome this course's run gives. The cell below
runs the experiment with the setting's default value, so the book can show
its outcome.

### Experiment: the Fréchet distance from fewer samples

Every Fréchet judge distance in the tables above was fitted to
{{samples measured:'.0f}} images (the curves' points to
{{curve samples:'.0f}}). Measure again with a tenth of that: real training images (the
floor), and samples of the trained G, each set fitted to $n = 1000$ images
against the same test-image fit. *Predict*: do the two distances move, in
which direction, and does the gap between G and the real images survive?

Run: `build/bin/03 --set samples=1000`

::: outcome
With {{exp samples n:'.0f}} images the floor is {{exp samples real:.2f}}
(with all of them: {{Frechet judge distance, real:.2f}}), and the trained
G's distance is {{exp samples plain:.1f}} ({{Frechet judge distance, plain:.1f}}):
the floor comes out {{exp samples real verdict}}, G's distance
{{exp samples plain verdict}}. A covariance fitted to fewer images is
noisier, and that noise adds to the distance (Chong and Forsyth, CVPR 2020,
measure this bias for FID). Next to the floor the bias is large; next to a
distance the size of G's it can be smaller than the change from drawing
other samples. Either way, two Fréchet distances are compared only at the
same number of samples.
:::
*/

/* The experiment: the floor and the trained G from n images each (the
 * setting "samples"), against the same test-image fit. */
static void cell_exp_samples(void) {
    int n = (int)nb_setting("samples");
    if (n > ch3.n_train) n = ch3.n_train; /* --quick holds 512 training images */
    const int Z = ch3.tr->cfg.zdim;
    Rng r;
    rng_stream(&r, nb_seed(), "03/exp samples");
    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    random_training_images(&r, x, n);
    const double fd_real = frechet_of(x, n);
    real *z = xmalloc((size_t)n * Z * sizeof(real)); /* [n, Z] */
    rng_fill_normal(&r, z, (long)n * Z, 0, 1);
    sample_many(ch3.tr->g, z, n, x);
    const double fd_plain = frechet_of(x, n);
    nb_printf("Frechet judge distance from %d images (from %d):\n", n, ch3.n_measure);
    nb_printf("  real training images   %10.3f (%10.3f)\n", fd_real,
              ch3.m_real.frechet);
    nb_printf("  trained G (plain)      %10.3f (%10.3f)\n", fd_plain,
              ch3.m_plain.frechet);
    nb_value("exp samples n", n, "");
    nb_value("exp samples real", fd_real, "");
    nb_value("exp samples plain", fd_plain, "");
    nb_text("exp samples real verdict", "%s",
            fd_real > ch3.m_real.frechet ? "higher" : "not higher");
    nb_text("exp samples plain verdict", "%s",
            fd_plain > ch3.m_plain.frechet ? "higher" : "not higher");
    xfree(z);
    xfree(x);
}

static const Cell CELLS[] = {
    CELL(article, "The article's code, and what is broken"),
    CELL(article_schedule, "Fault 4, measured: 1,000 D steps on 32 images"),
    CELL(data, "The data"),
    CELL(model, "The corrected model"),
    CELL(train, "Training"),
    CELL(figures, "What training shows"),
    CELL(checkpoint, "Saving the generator, and loading it back"),
    CELL(judge, "A judge for the samples"),
    CELL(measure, "Measuring the samples"),
    CELL(remedy, "A remedy: batch normalisation in G"),
    CELL(condition, "A second remedy: tell both networks the class"),
    CELL(exp_samples, "Experiment: the Fréchet distance from fewer samples"),
};

static const Setting SETTINGS[] = {
    /* name, default (the book's run), lo, hi, whole number?, --list's line */
    {"samples", 1000, 200, 60000, 1,
     "images per Frechet fit in the experiment (the chapter's: 10,000)"},
};

int main(int argc, char **argv) {
    Chapter ch = {"03-gan-images", "A GAN on images: the article's project, corrected",
                  CELLS, sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &ch);
}
