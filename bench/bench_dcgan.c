/* bench_dcgan.c - one iteration of chapter 3's image GAN, timed.
 *
 * Teaches: what a convolutional GAN iteration costs and where the time goes.
 * The iteration is the one chapter 3 runs (dcgan_trainer_step): z ~ N(0, I), G(z),
 * D step (L_D on real and detached fake, backward, Adam), G step through D
 * (L_G, backward, Adam), at DESIGN.md's reference sizes (G: Linear(100 ->
 * 6272), ConvT 128 -> 64 -> 1; D: Conv 1 -> 32 -> 64, Linear(3136 -> 1)),
 * batch 64. We warm up, then report the median wall-clock time of several
 * iterations at 1 thread and at the default thread count (the chapter's
 * setting), the CPU time per iteration (all threads together: on a busy
 * machine the wall clock counts time spent descheduled, CPU time does not),
 * the FLOPs, GFLOP/s, share of the FMA peak and memory (print_step_report;
 * `make bench-peers` times the same iteration in PyTorch). Then a breakdown in thread CPU time at 1 thread: each tape
 * op's forward and backward (replayed) and the two Adam updates.
 * Leaves out: data loading and shuffling (random pixels in [-1, 1] stand in
 * for a batch of Fashion-MNIST; the chapter reads from memory, so it is cheap).
 *
 * Run: make bench (or build/bench/bench_dcgan [--quick])
 */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "dcgan.h"

#include "bench_util.h"
#include "optim.h"
#include "tensor.h"
#include "util.h"

/* What one timed iteration needs: the trainer and a batch x [N, 784]. */
typedef struct {
    DcganTrainer *tr;
    const real *x;
} Step;

/* One timed iteration, for time_steps (bench_util.h). */
static void step(void *ctx) {
    Step *s = ctx;
    dcgan_trainer_step(s->tr, s->x);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 2 : 10, reps = quick ? 5 : 41;
    const DcganConfig cfg = dcgan_config_default(); /* the chapter's settings, batch 64 */
    DcganTrainer *tr = dcgan_trainer_new(&cfg, 0);
    long n_g = tr->g->ps->size, n_d = tr->d->ps->size;
    Rng r;
    rng_stream(&r, 0, "bench/pixels");
    real *x = xmalloc(sizeof(real) * cfg.batch * DCGAN_PIX); /* [N, 784] */
    rng_fill_uniform(&r, x, (long)cfg.batch * DCGAN_PIX, -1, 1);

    printf("image GAN iteration (D step + G step, dcgan_trainer_step), float, batch %d, Z %d, G %d->%d->%d->1 (%ld params), "
           "D 1->%d->%d->1 (%ld params), median of %d\n",
           cfg.batch, cfg.zdim, cfg.zdim, cfg.c1, cfg.c2, n_g, cfg.d1, cfg.d2, n_d, reps);
    Step st = {tr, x};
    StepTiming tm[2];
    int nt = step_timings(step, &st, warm, reps, tm);
    print_gan_step_report("dcgan", tr->td, tr->tg, tr->d->ps, tm, nt, reps);

    /* ---- where the time goes (1 thread) ---- */
    omp_set_num_threads(1);
    int n = quick ? 2 : 10;
    double t_adam = 0, f_op[OP_COUNT] = {0}, b_op[OP_COUNT] = {0};
    int count[OP_COUNT] = {0};
    for (int rep = 0; rep < n; rep++) {
        double t0 = thread_seconds();
        optim_step(tr->opt_d);
        optim_step(tr->opt_g);
        t_adam += thread_seconds() - t0;
        dcgan_trainer_step(tr, x); /* fresh tapes to replay */
        replay(tr->td, thread_seconds, f_op, b_op, count);
        replay(tr->tg, thread_seconds, f_op, b_op, count);
    }
    double all = t_adam + ops_total(f_op, b_op);
    printf("  breakdown, 1 thread, CPU time (mean ms per iteration; share of the sum):\n");
    printf("    %-22s %7.3f ms  %5.1f %%\n", "Adam, G and D", 1e3 * t_adam / n, 100 * t_adam / all);
    print_op_breakdown(f_op, b_op, count, n, all);
    xfree(x);
    dcgan_trainer_free(tr);
    return 0;
}
