/* bench_vae.c - one VAE training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 4 runs, through the same trainer (vae_trainer_step with
 * vae_config_default(): the -ELBO on the tape, 784 -> 400 -> 20 + 20,
 * 20 -> 400 -> 784, BCE with logits + Gaussian KL, backward, an Adam update,
 * at batch 128). We warm up, then report the median of several steps in
 * milliseconds, the seconds per epoch that implies (469 steps: 60,000
 * images in batches of 128), and a per-op profile of the step's tape.
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
    double tot[64], loss = 0, cpu0 = 0;
    for (int s = 0; s < warm + reps; s++) {
        if (s == warm) cpu0 = cpu_seconds();
        double t0 = now_seconds();
        loss = vae_trainer_step(t, &set, IMAGES).loss;
        if (s >= warm) tot[s - warm] = 1e3 * (now_seconds() - t0);
    }
    double cpu_ms = 1e3 * (cpu_seconds() - cpu0) / reps;
    double ms = median(tot, reps);
    printf("VAE training step (vae_trainer_step), float, batch %d, D %d, H %d, Z %d"
           " (%ld parameters), median of %d\n",
           cfg.batch, cfg.D, cfg.H, cfg.Z, t->model->ps->size, reps);
    printf("  step         %7.2f ms   -> %.2f s per epoch of %d steps\n", ms,
           ms * STEPS_PER_EPOCH / 1e3, STEPS_PER_EPOCH);
    printf("  CPU time     %7.2f ms per step, all threads together"
           " (load average matters: see bench/README.md)\n", cpu_ms);
    printf("  arena %.1f MB, last loss %.2f nats/image\n", tape_bytes(t->tape) / 1e6,
           loss);

    /* Where the time goes: re-run each node of the last step's tape forward,
     * then each one's backward (in reverse order, as backward() does), timing
     * them by op. */
    print_profile(t->tape, reps, 16, 3, 7, 3);
    vae_trainer_free(t);
    xfree(set.pixels);
    xfree(set.labels);
    return 0;
}
