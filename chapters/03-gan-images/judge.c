/* judge.c - chapter 3's judge: a small classifier whose eyes measure G.
 *
 * Teaches: a classifier is the discriminator's shape with ten outputs and a
 * cross-entropy loss; trained once, its hidden layer is a feature space in
 * which two sets of images can be compared as two clouds of points.
 * Leaves out: everything judge.h lists. See judge.h for the layers.
 */
#include "judge.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "image.h"
#include "optim.h"
#include "util.h"

/*md
## The judge in code

Two stride-2 convolutions with $4 \times 4$ kernels (28 → 14 → 7), a
hidden layer of 128 units whose ReLU outputs are the **features**, and a
linear layer to the ten class logits. It is D's shape with a wider head:
what D learns to say about one question (real or fake?), the judge learns
to say about ten (which garment?).
*/
JudgeConfig judge_config_default(void) {
    return (JudgeConfig){.c1 = 32,
                         .c2 = 64,
                         .feat = 128,
                         .epochs = 3,
                         .batch = 64,
                         .lr = 1e-3,
                         .lr_last = 1e-4};
}

Judge *judge_new(JudgeConfig cfg, uint64_t seed) {
    if (cfg.c1 < 1 || cfg.c2 < 1 || cfg.feat < 1 || cfg.epochs < 0 || cfg.batch < 1 ||
        !(cfg.lr > 0) || !(cfg.lr_last > 0))
        fail(EXIT_SOFTWARE, "judge_new",
             "use sizes >= 1, epochs >= 0 and learning rates > 0",
             "c1 %d, c2 %d, feat %d, epochs %d, batch %d, lr %g, lr_last %g", cfg.c1,
             cfg.c2, cfg.feat, cfg.epochs, cfg.batch, cfg.lr, cfg.lr_last);
    Judge *j = xcalloc(1, sizeof(Judge));
    j->cfg = cfg;
    j->ps = params_new();
    j->conv1 = dcgan_conv_new(j->ps, "J.conv1", cfg.c1, 1, 4, cfg.c1, 2, 1);
    j->conv2 = dcgan_conv_new(j->ps, "J.conv2", cfg.c2, cfg.c1, 4, cfg.c2, 2, 1);
    j->fc1 = linear_new(j->ps, "J.fc1", cfg.c2 * 49, cfg.feat, 1);
    j->fc2 = linear_new(j->ps, "J.fc2", cfg.feat, JUDGE_CLASSES, 1);
    params_alloc(j->ps);
    Rng r;
    rng_stream(&r, seed, "judge/init");
    dcgan_init_pairs(j->ps, &r);
    return j;
}

void judge_free(Judge *j) {
    if (!j) return;
    params_free(j->ps);
    xfree(j);
}

Tensor *judge_features(Tape *T, const Judge *j, Tensor *x) {
    const int N = x->shape[0];
    const real slope = (real)DCGAN_LEAK;
    Tensor *h =
        t_leaky_relu(T, dcgan_conv(T, &j->conv1, x), slope); /* [N, c1, 14, 14] */
    h = t_leaky_relu(T, dcgan_conv(T, &j->conv2, h), slope); /* [N, c2, 7, 7] */
    h = t_reshape(T, h, 2, SHAPE(N, j->cfg.c2 * 49));        /* [N, c2*49] */
    return t_relu(T, linear(T, &j->fc1, h));                 /* [N, F] */
}

Tensor *judge_logits(Tape *T, const Judge *j, Tensor *features) {
    return linear(T, &j->fc2, features);
}

Tensor *judge_loss(Tape *T, const Judge *j, Tensor *x, const int *labels) {
    return t_cross_entropy(T, judge_logits(T, j, judge_features(T, j, x)), labels);
}

/*md
Training is the plainest supervised loop: shuffled batches, cross-entropy,
Adam. Its numbers are not part of the book's story, so it reports to the
terminal only; what the record keeps is the test accuracy, which is the
same whether the judge was trained now or loaded from its checkpoint.
*/
double judge_train(Judge *j, const unsigned char *pixels, const unsigned char *labels,
                   int n, uint64_t seed) {
    const int B = j->cfg.batch;
    if (n < B)
        fail(EXIT_DATA, "judge_train", "pass at least one batch of images",
             "%d images, batch %d", n, B);
    Rng r;
    rng_stream(&r, seed, "judge/data");
    int *perm = xmalloc((size_t)n * sizeof(int)), *y = xmalloc((size_t)B * sizeof(int));
    for (int i = 0; i < n; i++) perm[i] = i;
    Optimizer *opt = adam_new(j->ps, j->cfg.lr, 0.9, 0.999, 1e-8);
    Tape *T = tape_new();
    double last = 0, t0 = now_seconds();
    for (int e = 0; e < j->cfg.epochs; e++) {
        if (e == j->cfg.epochs - 1) optim_set_lr(opt, j->cfg.lr_last);
        rng_shuffle(&r, perm, n);
        double sum = 0;
        const int steps = n / B;
        for (int s = 0; s < steps; s++) {
            tape_reset(T);
            Tensor *x = tape_input(T, 4, SHAPE(B, 1, DCGAN_IMG, DCGAN_IMG), 0);
            for (int i = 0; i < B; i++) {
                const int k = perm[s * B + i];
                pixels_to_real(x->data + (long)i * DCGAN_PIX,
                               pixels + (long)k * DCGAN_PIX, DCGAN_PIX, -1, 1);
                y[i] = labels[k];
            }
            Tensor *loss = judge_loss(T, j, x, y);
            sum += loss->data[0];
            params_zero_grad(j->ps);
            backward(T, loss);
            optim_step(opt);
        }
        last = sum / steps;
        fprintf(stderr, "  judge: epoch %d/%d, mean loss %.4f nats (%.0f s)\n", e + 1,
                j->cfg.epochs, last, now_seconds() - t0);
    }
    tape_free(T);
    optim_free(opt);
    xfree(perm);
    xfree(y);
    return last;
}

void judge_apply(Tape *T, const Judge *j, const real *x, int n, real *features,
                 int *cls, double *conf) {
    enum { CHUNK = 200 }; /* images per forward pass: a tape of some 40 MB */
    const int F = j->cfg.feat;
    for (int i = 0; i < n; i += CHUNK) {
        const int b = n - i < CHUNK ? n - i : CHUNK;
        tape_reset(T);
        Tensor *xt = tape_input(T, 4, SHAPE(b, 1, DCGAN_IMG, DCGAN_IMG), 0);
        memcpy(xt->data, x + (long)i * DCGAN_PIX, (size_t)xt->size * sizeof(real));
        Tensor *f = judge_features(T, j, xt);
        if (features)
            memcpy(features + (long)i * F, f->data, (size_t)f->size * sizeof(real));
        if (!cls && !conf) continue;
        Tensor *p = t_softmax(T, judge_logits(T, j, f)); /* [b, 10] */
        for (int k = 0; k < b; k++) {
            const real *row = p->data + (long)k * JUDGE_CLASSES;
            int best = 0;
            for (int c = 1; c < JUDGE_CLASSES; c++)
                if (row[c] > row[best]) best = c;
            if (cls) cls[i + k] = best;
            if (conf) conf[i + k] = row[best];
        }
    }
}

double judge_accuracy(const Judge *j, const unsigned char *pixels,
                      const unsigned char *labels, int n) {
    real *x = xmalloc((size_t)n * DCGAN_PIX * sizeof(real)); /* [n, 784] */
    int *cls = xmalloc((size_t)n * sizeof(int));
    pixels_to_real(x, pixels, (long)n * DCGAN_PIX, -1, 1);
    Tape *T = tape_new();
    judge_apply(T, j, x, n, NULL, cls, NULL);
    tape_free(T);
    long right = 0;
    for (int i = 0; i < n; i++) right += cls[i] == labels[i];
    xfree(x);
    xfree(cls);
    return n > 0 ? (double)right / n : 0;
}

/*md
The checkpoint's meta line names every setting that made the weights, and
the seed: a file trained otherwise is not reused, and neither is a damaged
one (the checkpoint reader refuses it, and we train afresh).
*/
static void judge_meta(char *buf, size_t len, JudgeConfig c, uint64_t seed, int images,
                       uint64_t data_id) {
    snprintf(buf, len,
             "judge c1=%d c2=%d feat=%d epochs=%d batch=%d lr=%.17g lr_last=%.17g "
             "seed=%llu images=%d "
             "data=%016llx",
             c.c1, c.c2, c.feat, c.epochs, c.batch, c.lr, c.lr_last,
             (unsigned long long)seed, images, (unsigned long long)data_id);
}

/* FNV-1a 64 over the pixels, then the labels. */
uint64_t judge_data_id(const unsigned char *pixels, const unsigned char *labels,
                       int n) {
    uint64_t h = 1469598103934665603ULL;
    for (long i = 0; i < (long)n * DCGAN_PIX; i++)
        h = (h ^ pixels[i]) * 1099511628211ULL;
    for (int i = 0; i < n; i++) h = (h ^ labels[i]) * 1099511628211ULL;
    return h;
}

void judge_save(const char *path, const Judge *j, uint64_t seed, int images,
                uint64_t data_id) {
    char meta[256];
    judge_meta(meta, sizeof meta, j->cfg, seed, images, data_id);
    checkpoint_save(path, j->ps, meta);
}

static jmp_buf load_failed;
static char load_msg[1024];

static void catch_load(int code, const char *message) {
    (void)code;
    snprintf(load_msg, sizeof load_msg, "%s", message);
    longjmp(load_failed, 1);
}

Judge *judge_load_if_valid(const char *path, JudgeConfig cfg, uint64_t seed, int images,
                           uint64_t data_id) {
    if (access(path, F_OK) != 0) return NULL; /* the usual case: no judge yet */
    char want[256], meta[256];
    judge_meta(want, sizeof want, cfg, seed, images, data_id);
    Judge *volatile j = NULL;
    set_fail_handler(catch_load);
    if (setjmp(load_failed)) {
        set_fail_handler(NULL);
        judge_free(j);
        fprintf(stderr, "  judge: not reusing %s:\n%s  (training afresh)\n", path,
                load_msg);
        return NULL;
    }
    checkpoint_meta(path, meta, sizeof meta, "chapter 3 writes it");
    if (strcmp(meta, want) != 0) {
        set_fail_handler(NULL);
        fprintf(stderr,
                "  judge: not reusing %s: made by \"%s\", this run needs \"%s\" "
                "(training afresh)\n",
                path, meta, want);
        return NULL;
    }
    j = judge_new(cfg, seed);
    checkpoint_load(path, j->ps, "chapter 3 writes it");
    set_fail_handler(NULL);
    return j;
}
