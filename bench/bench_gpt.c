/* bench_gpt.c - one GPT training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 5 runs: forward and loss on the tape, backward, gradient
 * clipping, an AdamW update, at batch 32 x context 64 (2,048 tokens) with
 * the reference model (4 layers, 4 heads, width 128, vocabulary 96). We warm
 * up, then report the median of several steps, split into its phases, in
 * milliseconds and tokens per second. PyTorch on this machine (2 threads)
 * takes 128 ms per step, 16,000 tokens/s (the measurement).
 * Leaves out: data loading (the chapter samples a batch in microseconds).
 *
 * Run: make bench (or build/bench/bench_gpt [--quick])
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../chapters/05-gpt-cross-entropy/gpt.h"
#include "optim.h"
#include "tensor.h"
#include "util.h"

enum { B = 32, CTX = 64, V = 96 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 1 : 3, reps = quick ? 3 : 15;
    Gpt *g = gpt_new((GptConfig){.V = V, .ctx = CTX, .L = 4, .H = 4, .C = 128});
    Rng r;
    rng_seed(&r, 0);
    gpt_init(g, &r);
    int *idx = xmalloc(B * CTX * sizeof(int)), *tgt = xmalloc(B * CTX * sizeof(int));
    for (int i = 0; i < B * CTX; i++) idx[i] = rng_int(&r, V), tgt[i] = rng_int(&r, V);
    Optimizer *o = adamw_new(g->ps, 1e-3, 0.9, 0.99, 1e-8, 0.1);
    Tape *T = tape_new();
    double fwd[64], bwd[64], opt[64], tot[64], loss = 0, cpu0 = 0;
    for (int s = 0; s < warm + reps; s++) {
        double t0 = now_seconds();
        tape_reset(T);
        Tensor *l = gpt_loss(T, g, idx, tgt, B, CTX, NULL);
        double t1 = now_seconds();
        params_zero_grad(g->ps);
        backward(T, l);
        double t2 = now_seconds();
        clip_grad_norm(g->ps, 1.0);
        optim_step(o);
        double t3 = now_seconds();
        loss = l->data[0];
        if (s == warm - 1) cpu0 = (double)clock() / CLOCKS_PER_SEC;
        if (s >= warm) {
            int k = s - warm;
            fwd[k] = 1e3 * (t1 - t0), bwd[k] = 1e3 * (t2 - t1), opt[k] = 1e3 * (t3 - t2), tot[k] = 1e3 * (t3 - t0);
        }
    }
    double cpu_ms = 1e3 * ((double)clock() / CLOCKS_PER_SEC - cpu0) / reps; /* all threads */
    double ms = median(tot, reps);
    printf("GPT training step, float, batch %d x context %d, L 4, H 4, C 128, V %d (%ld parameters), median of %d\n",
           B, CTX, V, g->ps->size, reps);
    printf("  forward+loss %7.1f ms\n  backward     %7.1f ms\n  clip+AdamW   %7.1f ms\n", median(fwd, reps),
           median(bwd, reps), median(opt, reps));
    printf("  step         %7.1f ms   %8.0f tokens/s   (PyTorch, 2 threads: 128 ms, 16,000 tokens/s)\n", ms,
           B * CTX / (ms / 1e3));
    printf("  CPU time     %7.1f ms per step, summed over threads (wall time on a busy machine is longer)\n", cpu_ms);
    printf("  arena %.1f MB, last loss %.3f (uniform: ln %d = %.3f)\n", tape_bytes(T) / 1e6, loss, V,
           __builtin_log(V));

    /* Where the time goes: re-run each tape node's forward, then each one's
     * backward (in reverse order, as backward() does), timing them by op. */
    double f_op[OP_COUNT] = {0}, b_op[OP_COUNT] = {0};
    int count[OP_COUNT] = {0};
    for (int i = 0; i < tape_len(T); i++) count[tape_node_at(T, i)->op]++;
    for (int rep = 0; rep < reps; rep++) {
        for (int i = 0; i < tape_len(T); i++) {
            Tensor *t = tape_node_at(T, i);
            if (t->op == OP_LEAF) continue;
            double t0 = now_seconds();
            OPS[t->op].forward(t);
            f_op[t->op] += now_seconds() - t0;
        }
        for (int i = tape_len(T) - 1; i >= 0; i--) {
            Tensor *t = tape_node_at(T, i);
            if (t->op == OP_LEAF || !t->grad) continue;
            double t0 = now_seconds();
            OPS[t->op].backward(t);
            b_op[t->op] += now_seconds() - t0;
        }
    }
    double all = 0;
    for (int k = 0; k < OP_COUNT; k++) all += f_op[k] + b_op[k];
    printf("  by op (mean per step; forward, backward, share of the ops' total):\n");
    for (int k = 1; k < OP_COUNT; k++)
        if (count[k])
            printf("    %-14s x%-3d %7.2f ms %7.2f ms  %5.1f %%\n", OPS[k].name, count[k], 1e3 * f_op[k] / reps,
                   1e3 * b_op[k] / reps, 100 * (f_op[k] + b_op[k]) / all);
    tape_free(T);
    optim_free(o);
    gpt_free(g);
    xfree(idx);
    xfree(tgt);
    return 0;
}
