/* bench_vae.c - one VAE training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 4 runs: the -ELBO on the tape (784 -> 400 -> 20 + 20,
 * 20 -> 400 -> 784, BCE with logits + Gaussian KL), backward, an Adam update,
 * at batch 128. We warm up, then report the median of several steps, split
 * into phases, in milliseconds, and the seconds per epoch that implies (469
 * steps: 60,000 images in batches of 128). PyTorch on this machine
 * (2 threads) takes 2.6 s per epoch, 5.5 ms per step (the measurement).
 * Leaves out: data loading and evaluation (random pixels stand in for images;
 * the chapter's per-epoch test evaluation is timed there).
 *
 * Run: make bench (or build/bench/bench_vae [--quick])
 */
#include <stdio.h>
#include <string.h>

#include "../chapters/04-vae-elbo/vae.h"
#include "bench_util.h"
#include "optim.h"
#include "tensor.h"
#include "util.h"

enum { N = 128, D = 784, H = 400, Z = 20, STEPS_PER_EPOCH = 469 };

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 2 : 10, reps = quick ? 5 : 51;
    Vae m = vae_new(D, H, Z);
    Rng r;
    rng_seed(&r, 0);
    vae_init(&m, &r);
    real *x = xmalloc(sizeof(real) * N * D);
    rng_fill_uniform(&r, x, (long)N * D, 0, 1);
    Optimizer *o = adam_new(m.ps, 1e-3, 0.9, 0.999, 1e-8);
    Tape *T = tape_new();
    double fwd[64], bwd[64], opt[64], tot[64], loss = 0, cpu0 = 0;
    for (int s = 0; s < warm + reps; s++) {
        if (s == warm) cpu0 = cpu_seconds();
        double t0 = now_seconds();
        tape_reset(T);
        Tensor *xt = tape_input(T, 2, SHAPE(N, D), 0), *eps = tape_input(T, 2, SHAPE(N, Z), 0);
        memcpy(xt->data, x, sizeof(real) * N * D);
        rng_fill_normal(&r, eps->data, eps->size, 0, 1);
        VaeOut out = vae_forward(T, &m, xt, eps);
        double t1 = now_seconds();
        params_zero_grad(m.ps);
        backward(T, out.loss);
        double t2 = now_seconds();
        optim_step(o);
        double t3 = now_seconds();
        loss = out.loss->data[0];
        if (s >= warm) {
            int k = s - warm;
            fwd[k] = 1e3 * (t1 - t0), bwd[k] = 1e3 * (t2 - t1), opt[k] = 1e3 * (t3 - t2), tot[k] = 1e3 * (t3 - t0);
        }
    }
    double cpu_ms = 1e3 * (cpu_seconds() - cpu0) / reps;
    double ms = median(tot, reps);
    printf("VAE training step, float, batch %d, D %d, H %d, Z %d (%ld parameters), median of %d\n", N, D, H, Z,
           m.ps->size, reps);
    printf("  forward+loss %7.2f ms\n  backward     %7.2f ms\n  Adam         %7.2f ms\n", median(fwd, reps),
           median(bwd, reps), median(opt, reps));
    printf("  step         %7.2f ms   -> %.2f s per epoch of %d steps   (PyTorch, 2 threads: 2.6 s per epoch)\n",
           ms, ms * STEPS_PER_EPOCH / 1e3, STEPS_PER_EPOCH);
    printf("  CPU time     %7.2f ms per step, all threads together (load average matters: see bench/README.md)\n",
           cpu_ms);
    printf("  arena %.1f MB, last loss %.2f nats/image\n", tape_bytes(T) / 1e6, loss);

    /* Where the time goes: re-run each tape node's forward, then each one's
     * backward (in reverse order, as backward() does), timing them by op. */
    print_profile(T, reps, 16, 3, 7, 3);
    tape_free(T);
    optim_free(o);
    vae_free(&m);
    xfree(x);
    return 0;
}
