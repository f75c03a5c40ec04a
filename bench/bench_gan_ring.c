/* bench_gan_ring.c - one iteration of chapter 2's ring GAN, timed.
 *
 * Teaches: what a GAN iteration costs and where the time goes. The iteration
 * is the one chapter 2 runs (ring_trainer_step): draw 256 ring points and
 * 256 z, G forward, D step (L_D, backward, Adam), G step through D (L_G,
 * backward, Adam), at DESIGN.md's reference size (G 16 -> 128 -> 128 -> 2,
 * D 2 -> 128 -> 128 -> 1, batch 256). We warm up, then report the median of
 * many iterations in milliseconds, at 1 thread (how the chapter runs its
 * seeds: one run per core) and at the default thread count, with the FLOPs,
 * GFLOP/s, share of the FMA peak and memory (print_step_report; `make
 * bench-peers` times the same iteration in PyTorch). Then a breakdown in thread CPU time (meaningful even on a busy machine):
 * the data draws, each tape op's forward and backward (replayed), and the
 * two Adam updates.
 * Leaves out: evaluation (2,500 samples once per run; negligible).
 *
 * Run: make bench (or build/bench/bench_gan_ring [--quick])
 */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"

#include "bench_util.h"
#include "optim.h"
#include "tensor.h"
#include "util.h"

/* One timed iteration, for time_steps (bench_util.h). */
static void step(void *tr) { ring_trainer_step(tr); }

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 5 : 100, reps = quick ? 21 : BENCH_MAX_REPS;
    RingConfig c = ring_config_default();
    RingTrainer *tr = ring_trainer_new(&c, 0);
    printf("ring GAN iteration (D step + G step), float, batch %d, G %d->%d->%d->2, D 2->%d->%d->1, median of %d\n",
           c.batch, c.zdim, c.hidden, c.hidden, c.hidden, c.hidden, reps);
    StepTiming tm[2];
    int nt = step_timings(step, tr, warm, reps, tm); /* 1 thread: how the chapter runs its seeds, one per core */
    print_gan_step_report("ring", tr->td, tr->tg, tr->model->d, tm, nt, reps);

    /* ---- where the time goes (1 thread) ---- */
    omp_set_num_threads(1);
    int n = quick ? 20 : 200;
    double t_data = 0, t_adam = 0, f_op[OP_COUNT] = {0}, b_op[OP_COUNT] = {0};
    int count[OP_COUNT] = {0};
    real *x = xmalloc(sizeof(real) * (size_t)c.batch * 2), *z = xmalloc(sizeof(real) * (size_t)c.batch * c.zdim);
    for (int rep = 0; rep < n; rep++) {
        double t0 = thread_seconds();
        ring_sample(&tr->data, x, c.batch, NULL);
        rng_fill_normal(&tr->noise, z, (long)c.batch * c.zdim, 0, 1);
        double t1 = thread_seconds();
        optim_step(tr->opt_d);
        optim_step(tr->opt_g);
        double t2 = thread_seconds();
        t_data += t1 - t0, t_adam += t2 - t1;
        ring_trainer_step(tr); /* fresh tapes to replay */
        replay(tr->td, thread_seconds, f_op, b_op, count);
        replay(tr->tg, thread_seconds, f_op, b_op, count);
    }
    double all = ops_total(f_op, b_op) + t_data + t_adam;
    printf("  breakdown, 1 thread, CPU time (mean ms per iteration; share of the sum):\n");
    printf("    %-22s %7.3f ms  %5.1f %%\n", "data draws (x, z)", 1e3 * t_data / n, 100 * t_data / all);
    printf("    %-22s %7.3f ms  %5.1f %%\n", "Adam, G and D", 1e3 * t_adam / n, 100 * t_adam / all);
    print_op_breakdown(f_op, b_op, count, n, all);
    xfree(x);
    xfree(z);
    ring_trainer_free(tr);
    return 0;
}
