/* bench_vae.c - one VAE training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 4 runs, through the same trainer (vae_trainer_step with
 * vae_config_default(): the -ELBO on the tape, 784 -> 400 -> 20 + 20,
 * 20 -> 400 -> 784, BCE with logits + Gaussian KL, backward, an Adam update,
 * at batch 128). We warm up, then report the median of several steps in
 * milliseconds at 1 thread and at the default thread count, the seconds per
 * epoch that implies (469 steps: 60,000 images in batches of 128), the
 * FLOPs, GFLOP/s, share of the FMA peak and memory (print_step_report), and
 * a per-op profile of the step's tape.
 * Leaves out: data loading and evaluation (random pixels stand in for
 * images; the chapter's per-epoch test evaluation is timed there).
 *
 * Run: make bench (or build/bench/bench_vae [--quick])
 */
#include <stdio.h>
#include <string.h>

#include "vae.h"

#include "bench_util.h"
#include "util.h"

enum { STEPS_PER_EPOCH = 469, IMAGES = 1024 };

/* One timed step, for step_timings (bench_util.h): the trainer, the images,
 * and the last step's loss. */
typedef struct {
    VaeTrainer *t;
    ImageSet *set;
    double loss;
} Step;

static void step(void *ctx) {
    Step *s = ctx;
    s->loss = vae_trainer_step(s->t, s->set, IMAGES).loss;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 2 : 10, reps = quick ? 5 : 51;
    VaeConfig cfg = vae_config_default();
    VaeTrainer *t = vae_trainer_new(&cfg, 0);
    /* IMAGES random images: whole batches only, the chapter's step size */
    ImageSet set = {.n = IMAGES,
                    .rows = 28,
                    .cols = 28,
                    .pixels = xmalloc((size_t)IMAGES * 784),
                    .labels = xcalloc(IMAGES, 1)};
    Rng r;
    rng_stream(&r, 0, "bench/pixels");
    for (long i = 0; i < (long)IMAGES * 784; i++)
        set.pixels[i] = (unsigned char)rng_int(&r, 256);
    Step st = {.t = t, .set = &set};
    printf("VAE training step (vae_trainer_step), float, batch %d, D %d, H %d, Z %d"
           " (%ld parameters), median of %d\n",
           cfg.batch, cfg.D, cfg.H, cfg.Z, t->model->ps->size, reps);
    StepTiming tm[2];
    int nt = step_timings(step, &st, warm, reps, tm);
    printf("  -> %.2f s per epoch of %d steps at %d thread%s\n", tm[nt - 1].ms * STEPS_PER_EPOCH / 1e3,
           STEPS_PER_EPOCH, tm[nt - 1].threads, tm[nt - 1].threads > 1 ? "s" : "");
    static StepProducts sp;
    step_products_add(&sp, t->tape);
    print_step_report("vae", sp.flop, tm, nt, (double)tape_bytes(t->tape));
    print_products_ceiling(&sp, tm, nt, reps);
    printf("  last loss %.2f nats/image\n", st.loss);

    /* Where the time goes: re-run each node of the last step's tape forward,
     * then each one's backward (in reverse order, as backward() does), timing
     * them by op. */
    print_profile(t->tape, reps, 16, 3, 7, 3);
    vae_trainer_free(t);
    xfree(set.pixels);
    xfree(set.labels);
    return 0;
}
