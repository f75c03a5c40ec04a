/* bench_gpt.c - one GPT training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 5 runs, gpt_trainer_step (gpt.h): random windows, forward
 * and loss on the tape, backward, gradient clipping, an AdamW update, with
 * the reference settings (gpt_train_config_default: batch 32 x context 64,
 * 2,048 tokens) and the reference model (4 layers, 4 heads, width 128,
 * vocabulary 96), on random tokens. We warm
 * up, then report the median of several steps, split into its phases, in
 * milliseconds and tokens per second. PyTorch on this machine (2 threads)
 * takes 128 ms per step, 16,000 tokens/s (the measurement).
 * Leaves out: data loading (the step copies its windows in microseconds).
 *
 * Run: make bench (or build/bench/bench_gpt [--quick])
 */
#include <stdio.h>
#include <string.h>

#include "gpt.h"

#include "bench_util.h"
#include "optim.h"
#include "tensor.h"
#include "util.h"

enum { CTX = 64, V = 96, NTOK = 1 << 16 };

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warm = quick ? 1 : 3, reps = quick ? 3 : 15;
    Gpt *g = gpt_new((GptConfig){.V = V, .ctx = CTX, .L = 4, .H = 4, .C = 128});
    Rng r;
    rng_stream(&r, 0, "bench/gpt init");
    gpt_init(g, &r);
    int *tok = xmalloc(NTOK * sizeof(int));
    rng_stream(&r, 0, "bench/gpt tokens");
    for (int i = 0; i < NTOK; i++) tok[i] = rng_int(&r, V);
    GptTrainConfig tc = gpt_train_config_default();
    GptTrainer *t = gpt_trainer_new(g, &tc, 0);
    int B = tc.batch;
    double fwd[64], bwd[64], opt[64], tot[64], loss = 0, cpu0 = 0;
    for (int s = 0; s < warm + reps; s++) {
        if (s == warm) cpu0 = cpu_seconds();
        double t0 = now_seconds();
        GptStepStats st = gpt_trainer_step(t, (GptTokens){tok, NTOK});
        double t1 = now_seconds();
        loss = st.loss;
        if (s >= warm) {
            int k = s - warm;
            fwd[k] = 1e3 * st.seconds[0], bwd[k] = 1e3 * st.seconds[1], opt[k] = 1e3 * st.seconds[2];
            tot[k] = 1e3 * (t1 - t0);
        }
    }
    double cpu_ms = 1e3 * (cpu_seconds() - cpu0) / reps; /* all threads */
    double ms = median(tot, reps);
    printf("GPT training step, float, batch %d x context %d, L 4, H 4, C 128, V %d (%ld parameters), median of %d\n",
           B, CTX, V, g->ps->size, reps);
    printf("  forward+loss %7.1f ms\n  backward     %7.1f ms\n  clip+AdamW   %7.1f ms\n", median(fwd, reps),
           median(bwd, reps), median(opt, reps));
    printf("  step         %7.1f ms   %8.0f tokens/s   (PyTorch, 2 threads: 128 ms, 16,000 tokens/s)\n", ms,
           B * CTX / (ms / 1e3));
    printf("  CPU time     %7.1f ms per step, summed over threads (wall time on a busy machine is longer)\n", cpu_ms);
    printf("  arena %.1f MB, last loss %.3f (uniform: ln %d = %.3f)\n", tape_bytes(t->tape) / 1e6, loss, V,
           __builtin_log(V));

    /* Where the time goes: re-run each tape node's forward, then each one's
     * backward (in reverse order, as backward() does), timing them by op. */
    print_profile(t->tape, reps, 14, 3, 7, 2);
    gpt_trainer_free(t);
    gpt_free(g);
    xfree(tok);
    return 0;
}
