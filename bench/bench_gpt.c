/* bench_gpt.c - one GPT training step at the reference size, timed.
 *
 * Teaches: what a training step costs and where the time goes. The step is
 * the one chapter 5 runs, gpt_trainer_step (gpt.h): random windows, forward
 * (fused: t_causal_attention, t_linear) and loss on the tape, backward,
 * gradient clipping, an AdamW update, with the reference settings
 * (gpt_train_config_default: batch 32 x context 64, 2,048 tokens) and the
 * reference model (4 layers, 4 heads, width 128, vocabulary 96), on random
 * tokens. The first step is timed alone (it grows the tape's arena, and the
 * kernel maps the arena's pages as they are first touched). We warm up, then
 * report the median of several steps at 1 thread
 * and at the default thread count, split into its phases, with its FLOPs,
 * GFLOP/s, share of the FMA peak and memory (print_step_report). Then a
 * breakdown at 1 thread in thread CPU time (meaningful on a busy machine):
 * each tape op's forward and backward (replayed), and the rest of the step
 * (building the tape, zeroing gradients, clipping, AdamW).
 * Then it checks that the fused forward gives the composed one's loss and
 * gradients bit for bit, in this float build at this size.
 * `make bench-peers` times the same step in PyTorch.
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

/* One timed step, for step_timings (bench_util.h): its phases' wall times
 * (forward + loss, backward, clip + AdamW) go to phase[][k % BENCH_MAX_REPS]. */
typedef struct {
    GptTrainer *t;
    GptTokens tok;
    double phase[3][BENCH_MAX_REPS], loss;
    int k;
} Step;

/* The trainer's first batch through both forms of the forward pass (gpt.h:
 * GPT_FUSED, the one timed, and GPT_COMPOSED, the chain of small ops), loss
 * and backward: 1 if the loss and every gradient are the same bits. The
 * tests prove it in the double build at small sizes; this is the float
 * build at the reference size. */
static int same_bits(GptTrainer *t, GptTokens tok) {
    Gpt *g = t->model;
    int B = t->cfg.batch, T = g->cfg.ctx;
    gpt_trainer_step(t, tok); /* draws a batch into t->x, t->y */
    real *grad = xmalloc((size_t)g->ps->size * sizeof(real));
    double loss = 0;
    int same = 1;
    Tape *tp = tape_new(); /* its own: the trainer's arena holds the fused step only */
    for (int ops = GPT_FUSED; ops <= GPT_COMPOSED; ops++) {
        tape_reset(tp);
        Tensor *l = gpt_loss(tp, g, t->x, t->y, B, T, (GptOps)ops, NULL);
        params_zero_grad(g->ps);
        backward(tp, l);
        if (ops == GPT_FUSED) {
            loss = l->data[0];
            memcpy(grad, g->ps->grad, (size_t)g->ps->size * sizeof(real));
        } else {
            same = loss == l->data[0] && memcmp(grad, g->ps->grad, (size_t)g->ps->size * sizeof(real)) == 0;
        }
    }
    tape_free(tp);
    xfree(grad);
    return same;
}

static void step(void *ctx) {
    Step *s = ctx;
    GptStepStats st = gpt_trainer_step(s->t, s->tok);
    for (int i = 0; i < 3; i++) s->phase[i][s->k % BENCH_MAX_REPS] = 1e3 * st.seconds[i];
    s->loss = st.loss;
    s->k++;
}

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
    static Step s;
    s = (Step){.t = t, .tok = {tok, NTOK}};
    printf("GPT training step (gpt_trainer_step), float, batch %d x context %d, L 4, H 4, C 128, V %d"
           " (%ld parameters), median of %d\n",
           tc.batch, CTX, V, g->ps->size, reps);
    /* the first step grows the trainer's arena (lib/tape.c): most of its time
     * is the kernel mapping fresh pages; every step timed below reuses them */
    double t0 = now_seconds();
    step(&s);
    printf("  first step %.0f ms at %d threads (it grows the %.1f MB arena: the kernel maps its pages)\n",
           1e3 * (now_seconds() - t0), omp_get_max_threads(), tape_bytes(t->tape) / 1e6);
    StepTiming tm[2];
    int n = step_timings(step, &s, warm, reps, tm);
    double ph[3]; /* the phases' medians over the last timing's steps */
    for (int i = 0; i < 3; i++) {
        double v[BENCH_MAX_REPS];
        for (int j = 0; j < reps; j++) v[j] = s.phase[i][(s.k - 1 - j) % BENCH_MAX_REPS];
        ph[i] = median(v, reps);
    }
    printf("  phases at %d threads: forward+loss %.1f ms, backward %.1f ms, clip+AdamW %.1f ms;"
           " %.0f tokens/s\n", tm[n - 1].threads, ph[0], ph[1], ph[2], tc.batch * CTX / (tm[n - 1].ms * 1e-3));
    static StepProducts sp;
    step_products_add(&sp, t->tape);
    print_step_report("gpt", sp.flop, tm, n, (double)tape_bytes(t->tape));
    print_products_ceiling(&sp, tm, n, reps);
    printf("  last loss %.3f (uniform: ln %d = %.3f)\n", s.loss, V, __builtin_log(V));
    /* after the report: the composed pass's own tape would raise the peak RSS */
    if (!same_bits(t, s.tok))
        fail(EXIT_SOFTWARE, "bench_gpt", "see tests/test_gpt.c: the two forms must agree bit for bit",
             "the fused and the composed forward pass give different loss or gradients");
    printf("  fused = composed (the chain of small ops), bit for bit: loss and every gradient of one batch\n");

    /* ---- where the time goes (1 thread, thread CPU time) ---- */
    omp_set_num_threads(1);
    int nb = quick ? 2 : 5;
    double t_step = 0, f_op[OP_COUNT] = {0}, b_op[OP_COUNT] = {0};
    int count[OP_COUNT] = {0};
    for (int rep = 0; rep < nb; rep++) {
        double t0 = thread_seconds();
        gpt_trainer_step(t, s.tok);
        t_step += thread_seconds() - t0;
        replay(t->tape, thread_seconds, f_op, b_op, count);
    }
    double ops = ops_total(f_op, b_op), all = t_step > ops ? t_step : ops;
    printf("  breakdown, 1 thread, CPU time (mean ms per step; share of the step's %.1f ms):\n", 1e3 * t_step / nb);
    printf("    %-22s %7.3f ms  %5.1f %%\n", "the rest of the step", 1e3 * (all - ops) / nb, 100 * (all - ops) / all);
    printf("    %-22s (building the tape, zeroing gradients, windows, clipping, AdamW)\n", "");
    print_op_breakdown(f_op, b_op, count, nb, all);
    gpt_trainer_free(t);
    gpt_free(g);
    xfree(tok);
    return 0;
}
