/* chapters/07-gpt-data-parallel/chapter.c - Chapter 7: chapter 5's GPT,
 * trained data-parallel on P processes with MPI.
 *
 * Teaches: why P ranks with B/P windows each take the same step as one
 * process with B (and when it is the same to the last bit), the ring
 * all-reduce and its cost, where a data-parallel step spends its time, a
 * model of how far it scales over a network, and what a cluster run needs.
 * The MPI parts are in dp.c; the model and its trainer are chapter 5's
 * (gpt.c), unchanged but for the trainer's reduce hook.
 * Leaves out: overlapping communication with backward, GPUs (NCCL), model
 * and pipeline parallelism, sharded optimizer state.
 * Run: make run-07 (mpirun -np 2, one thread per rank; about a minute), or
 *   mpirun -np P -x OMP_NUM_THREADS=1 build/bin/07 [--quick] [--step] ...
 * Every notebook flag works on every rank; only rank 0 prints and records.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "dp.h"
#include "gpt.h"
#include "notebook.h"
#include "rng.h"
#include "util.h"

/*md
# Past one machine: data-parallel training

Chapter 5's GPT trains at the speed of one machine. The field's way past
that is *data parallelism*: P processes, each with a full copy of the
model, share every batch. Each computes the gradient of its share, the P
gradients are averaged, and each applies the same update to its copy. It
is what PyTorch's DistributedDataParallel, Horovod and DeepSpeed do, and
llm.c with MPI and NCCL. We use a real MPI (Open MPI): the processes are
*ranks* $0..P-1$ started by `mpirun -np P`, and the averaging is one call,
`MPI_Allreduce`, on the gradient block (with the step's loss beside it). This run used
{{ranks:.0f}} ranks.
*/

/* ---- the chapter's state, shared by the cells; freed by teardown ---- */
static struct {
    Dp dp; /* every rank of the run */
    Text *corpus;
    GptVocab vocab;
    int *tok; /* [ntok] the corpus as ids */
    long ntok;
    GptTokens train, val; /* the first 90 % of tok, and the rest */
    GptConfig cfg;
    int batch; /* B: windows per step, over all ranks */
    Gpt *init; /* the initial model: the same numbers on every rank */
    Gpt *gpt;  /* the data-parallel run's model */
    GptTrainer *trainer;
    char windows[64];      /* the name of this rank's stream of windows */
    double window_seconds; /* measured: compute time of one window on one rank */
} ch;

static void teardown(void) {
    gpt_trainer_free(ch.trainer);
    gpt_free(ch.gpt);
    gpt_free(ch.init);
    xfree(ch.tok);
    text_free(ch.corpus);
}

/* The reference model of chapter 5 for a vocabulary of V bytes. */
static GptConfig reference_config(int V) {
    return (GptConfig){.V = V, .ctx = 64, .L = 4, .H = 4, .C = 128};
}

/* A trainer of batch B / P for this rank (of d): its windows from its own stream. */
static GptTrainer *rank_trainer(Gpt *g, Dp *d) {
    GptTrainConfig tc = gpt_train_config_default();
    tc.batch = ch.batch / d->size;
    tc.windows = ch.windows;
    GptTrainer *t = gpt_trainer_new(g, &tc, nb_seed());
    rng_stream(&t->windows, nb_seed(),
               tc.windows); /* the trainer's stream, named as gpt.h says */
    dp_attach(t, d);
    return t;
}

/*md
## Ranks, and what they must share

Every rank runs this same program from the first line: it reads the corpus
and builds the model itself. Nothing but gradients and losses (and a few
checks) is ever sent. So the ranks must start equal, and we check that they do: each
rank hashes its corpus and its initial parameters (64-bit FNV-1a of the
bytes), the hashes are gathered, and a rank whose hash differs from rank
0's stops the run with an error that names it. The initial parameters come
from one stream, `dp/init`, the same on every rank; the windows of a step
come from one stream per rank (`dp/windows of rank r`), so the ranks see
different windows. A batch of $B$ windows is split into $P$ shares of
$B/P$: a $P$ that does not divide $B$ is refused.
*/
static void cell_ranks(void) {
    dp_cell_begin();
    ch.dp = dp_world();
    int P = ch.dp.size;
    ch.batch = nb_quick() ? 8 : gpt_train_config_default().batch;
    if (ch.dp.rank == 0 && ch.batch % P)
        fail(EXIT_USAGE, "mpirun -np",
             "run with a P that divides the batch (1, 2, 4, 8, ...)",
             "a batch of %d windows cannot be split evenly over %d ranks", ch.batch, P);
    static const char *const exclude[] = {"songs-poems", NULL}; /* chapter 5's corpus */
    ch.corpus = corpus_load(nb_data(), exclude, NULL);
    ch.vocab = gpt_vocab_of(ch.corpus->bytes, ch.corpus->n);
    ch.ntok = gpt_encode_split(&ch.vocab, ch.corpus->bytes, ch.corpus->n, &ch.tok,
                               &ch.train, &ch.val);
    int V = ch.vocab.V;
    if (nb_quick())
        ch.cfg = (GptConfig){.V = V, .ctx = 32, .L = 2, .H = 2, .C = 32};
    else
        ch.cfg = reference_config(V);
    dp_stream_name(ch.windows, sizeof ch.windows, "dp/windows", ch.dp.rank);
    gpt_tokens_check(ch.val, ch.cfg.ctx, "the corpus's validation split",
                     "use a longer corpus");
    uint64_t corpus_hash = dp_hash(ch.corpus->bytes, (size_t)ch.corpus->n);
    dp_check_same(&ch.dp, corpus_hash, "the corpus",
                  "every node must read the same corpus: copy it, or point --data at "
                  "the same files");
    Rng r;
    rng_stream(&r, nb_seed(), "dp/init");
    ch.init = gpt_new(ch.cfg);
    gpt_init(ch.init, &r);
    uint64_t param_hash =
        dp_hash(ch.init->ps->data, (size_t)ch.init->ps->size * sizeof(real));
    dp_check_same(
        &ch.dp, param_hash, "the initial parameters",
        "every node must run the same build of build/bin/07 with the same --seed");
    nb_printf("P = %d rank%s; a step of B = %d windows: %d per rank, each from its own "
              "stream\n",
              P, P > 1 ? "s" : "", ch.batch, ch.batch / P);
    nb_printf("corpus: %ld bytes, V = %d; hash %016llx on every rank\n", ch.ntok, V,
              (unsigned long long)corpus_hash);
    nb_printf("model: ctx %d, %d layers, %d heads, width %d: %ld parameters; hash "
              "%016llx on every rank\n",
              ch.cfg.ctx, ch.cfg.L, ch.cfg.H, ch.cfg.C, ch.init->ps->size,
              (unsigned long long)param_hash);
    nb_metric("ranks", P, "");
    nb_metric("parameters", (double)ch.init->ps->size, "");
    nb_value("batch", ch.batch, "windows");
    nb_value("windows per rank", ch.batch / P, "windows");
}

/*md
## P ranks with B/P windows take the step of one process with B

The loss of a step is the mean over its $B$ windows (and their positions).
A mean over $B$ is the mean of $P$ means over $B/P$, and the gradient is
linear, so
$$\nabla \frac1B \sum_{i=1}^{B} \ell_i = \frac1P \sum_{r=0}^{P-1} \nabla \frac{P}{B} \sum_{i \in \text{rank } r} \ell_i .$$
Each rank computes one term on the right; `dp_average` (dp.c) sums them
with `MPI_Allreduce` and multiplies by $1/P$; clipping and AdamW then see
the gradient of the whole batch, on every rank, so every rank makes the
same update. Below, the {{ranks:.0f}} ranks take a few steps, rank 0
gathers the windows they drew, and two references start from the same
initial model on rank 0 alone. *One batch*: one trainer with batch $B$ on
those windows. *Accumulated*: one trainer with batch $B/P$ whose hook
(`dp_accumulate`) adds the gradients of the other shares, computed one
after the other, in rank order, then scales by $1/P$.

Against one batch the parameters differ in the last bits: this seed's run
shows a largest difference of {{largest difference one batch:.1e}}, relative
to the largest parameter. That is round-off, not a bug. In one batch every
sum over windows (a weight's gradient sums the contributions of all $B T$
positions) runs in one order, with the mean's $1/(BT)$ applied inside
backward; on $P$ ranks each rank's backward sums its own windows with its
own $P/(BT)$, the ranks' results are added, and $1/P$ is applied after.
Floating-point addition is not associative, so the two orders round
differently, by up to half a unit in the last place of a float ($2^{-24}$
relative) per addition. AdamW's step,
$\eta\, \hat m / (\sqrt{\hat v} + \epsilon)$, hardly depends on the scale
of the gradient, so a gradient off in its last bits gives a step off in its
last bits. Each step adds its own round-off, so the difference creeps up
from step to step; after these few steps it is still in the last bits of
a float (over a long run the two can drift further apart).

Against accumulation the difference is {{largest difference accumulated:.0f}}:
the same numbers to the last bit. With two ranks each gradient entry is one
addition of two numbers, $a + b$, and $a + b = b + a$ exactly in IEEE
arithmetic, so the order MPI adds in cannot matter. With more ranks it can:
$(a + b) + c$ and $a + (b + c)$ may differ, and an all-reduce picks its
order by its algorithm (the ring below starts each chunk at a different
rank). To be bit-exact at any P, gather the gradients and add them in rank
order, at the price of more traffic.
*/
static void cell_same_step(void) {
    dp_cell_begin();
    Dp d = ch.dp;
    Gpt *g = gpt_copy(ch.init);
    GptTrainer *t = rank_trainer(g, &d);
    DpCompare *c = dp_compare_new(t, &d);
    nb_printf("%4s %12s %12s %24s %24s\n", "step", "loss, P", "loss, one",
              "largest diff, one batch", "largest diff, accumulated");
    double rel = 0, acc = 0;
    for (int s = 1; s <= (nb_quick() ? 3 : 5); s++) {
        DpCompareStep r = dp_compare_step(c, ch.train);
        rel = fmax(rel, r.diff_one / r.largest), acc = fmax(acc, r.diff_acc);
        nb_printf("%4d %12.6f %12.6f %13.2e (%.1e rel) %24.2e\n", s, r.loss_ranks,
                  r.loss_one, r.diff_one, r.diff_one / r.largest, r.diff_acc);
    }
    nb_printf(
        "P = %d against one batch of %d: %s; against accumulation in rank order: %s\n",
        d.size, ch.batch, rel == 0 ? "identical" : "round-off apart",
        acc == 0 ? "identical, bit for bit"
                 : "round-off apart (MPI adds 3 or more numbers in its own order)");
    nb_metric("largest difference one batch", rel, "relative");
    nb_metric("largest difference accumulated", acc, "");
    dp_compare_free(c);
    gpt_trainer_free(t);
    gpt_free(g);
}

/*md
## The ring all-reduce and its cost

An all-reduce leaves on every rank the sum of every rank's block. The
simplest way, send everything to rank 0 and back, makes rank 0 move
$2(P-1)$ whole blocks: it gets slower with every rank added. The *ring*
(Patarasuk and Yuan, 2009; what MPI libraries and NCCL use for large
blocks) puts the ranks in a circle and cuts the block into $P$ chunks. In
$P-1$ steps of *reduce-scatter*, every rank sends one chunk to its right
neighbour and adds the chunk it receives from its left into its own copy;
after them rank $r$ holds the full sum of one chunk. In $P-1$ steps of
*all-gather* the summed chunks go once more round the ring. Every rank
sends, and receives, $2(P-1)$ chunks of $1/P$ of the block:
$$\text{bytes per rank} = \frac{2(P-1)}{P} \times \text{bytes of the block},$$
less than twice the block whatever $P$ is, and all links busy at once. At
a bandwidth of $\beta$ bytes per second the all-reduce takes at least that
over $\beta$, plus a latency for each of its $2(P-1)$ messages.

`dp_ring_allreduce` (dp.c) is that algorithm in a dozen lines of
`MPI_Sendrecv`. Below it sums a random block the size of the gradient
block, and is checked and timed against `MPI_Allreduce`. The gradient
block of this run is {{gradient MB:.2f}} MB, so each rank sends
{{ring MB per rank:.2f}} MB per step. The times are measured here, between
processes on one machine (shared memory, no network):
`MPI_Allreduce` took {{MPI_Allreduce of the gradient block:.2f}} ms, the
ring of dp.c {{ring all-reduce by hand:.2f}} ms.
*/
static void cell_allreduce(void) {
    dp_cell_begin();
    Dp d = ch.dp;
    int P = d.size, reps = nb_quick() ? 5 : 40;
    long n = ch.init->ps->size;
    double bytes = (double)n * sizeof(real), ring = dp_ring_bytes(P, bytes);
    nb_printf("gradient block: %ld numbers of %zu bytes = %.3f MB; each rank sends "
              "2(P-1)/P of it: %.3f MB\n",
              n, sizeof(real), bytes / 1e6, ring / 1e6);
    nb_value("gradient MB", bytes / 1e6, "MB");
    nb_value("ring MB per rank", ring / 1e6, "MB");
    real *x = xmalloc((size_t)n * sizeof(real)), *y = xmalloc((size_t)n * sizeof(real));
    real *scratch = xmalloc((size_t)(n / P + 1) * sizeof(real));
    char name[64];
    Rng r;
    rng_stream(&r, nb_seed(),
               dp_stream_name(name, sizeof name, "dp/allreduce block", d.rank));
    rng_fill_normal(&r, x, n, 0, 1);
    memcpy(y, x, (size_t)n * sizeof(real));
    dp_ring_allreduce(&d, x, n, scratch);
    MPI_Allreduce(MPI_IN_PLACE, y, (int)n, DP_REAL, MPI_SUM, d.comm);
    double diff = 0;
    for (long i = 0; i < n; i++) diff = fmax(diff, fabs((double)x[i] - (double)y[i]));
    MPI_Allreduce(MPI_IN_PLACE, &diff, 1, MPI_DOUBLE, MPI_MAX, d.comm);
    nb_printf(
        "ring of dp.c against MPI_Allreduce, largest difference on any rank: %g\n",
        diff);
    double t[2];
    for (int k = 0; k < 2; k++) { /* the mean over reps calls, the slowest rank's */
        MPI_Barrier(d.comm);
        double t0 = MPI_Wtime();
        for (int i = 0; i < reps; i++) {
            if (k == 0)
                MPI_Allreduce(MPI_IN_PLACE, y, (int)n, DP_REAL, MPI_SUM, d.comm);
            else
                dp_ring_allreduce(&d, x, n, scratch);
        }
        t[k] = (MPI_Wtime() - t0) / reps;
        MPI_Allreduce(MPI_IN_PLACE, &t[k], 1, MPI_DOUBLE, MPI_MAX, d.comm);
    }
    nb_timing("MPI_Allreduce of the gradient block", 1e3 * t[0], "ms");
    nb_timing("ring all-reduce by hand", 1e3 * t[1], "ms");
    if (P > 1)
        nb_timing("MPI_Allreduce bandwidth, 2(P-1)/P bytes per second",
                  ring / t[0] / 1e9, "GB/s");
    xfree(x), xfree(y), xfree(scratch);
}

/*md
## Training on P ranks

The run itself: chapter 5's reference model and recipe (`gpt_train_config_default`),
$B$ windows a step split over the ranks, every step one `gpt_trainer_step`
on each rank with `dp_average` hooked between backward and clipping. Every
rank evaluates the same fixed windows (it is cheap and needs no message),
so their losses agree without a check. This seed's run ends at a
validation loss of {{val loss:.3f}} nats per byte after {{steps:.0f}} steps.

The time per step, measured on this machine with one thread per rank, is
split into compute (forward, backward, the update) and communication (the
time inside `dp_average`, which includes waiting for the slower rank). On
{{ranks:.0f}} ranks a step took {{time per step P ranks:.0f}} ms, of which
{{communication per step:.1f}} ms were communication; one rank doing the
whole batch took {{time per step 1 rank:.0f}} ms, a speed-up of
{{speed-up over 1 rank:.2f}}. (The one rank's steps are timed after an
untimed first one: a new trainer's first step grows its arena, and the
kernel maps each fresh page of it on first touch, which can cost more than
the step's arithmetic. The ranks' run has such a step too, but among
{{steps:.0f}} steps it weighs little.)
Two ranks on the cores of one machine share its memory, its caches and
whatever else runs on it, and each works on half the batch, so the speed-up
need not be 2: communication, shared memory bandwidth and other work push
it below, half a batch fitting the caches better can push it above.
*/
/* The learning curve: loss.tsv, the batches per evaluation, the latest losses. */
typedef struct {
    FILE *f;
    int batches;
    double train, val;
} Curve;

/* One evaluation of both splits at step s (of the whole batch B, on every
 * rank): a row of loss.tsv and a line of the output. */
static void evaluate(void *curve, int s) {
    Curve *c = curve;
    c->train = gpt_evaluate(ch.gpt, ch.train, ch.batch, c->batches).loss;
    c->val = gpt_evaluate(ch.gpt, ch.val, ch.batch, c->batches).loss;
    fprintf(c->f, "%d\t%.5f\t%.5f\n", s, c->train, c->val);
    nb_printf("step %5d  train %.4f  val %.4f nats/byte\n", s, c->train, c->val);
}

static void cell_train(void) {
    dp_cell_begin();
    Dp *d = &ch.dp;
    int steps = nb_quick() ? 20 : 600, eval_every = nb_quick() ? 10 : 50,
        eval_batches = nb_quick() ? 1 : 8;
    ch.gpt = gpt_copy(ch.init);
    ch.trainer = rank_trainer(ch.gpt, d);
    Curve c = {nb_open("loss.tsv"), eval_batches, 0, 0};
    fprintf(c.f, "# step\ttrain_loss\tval_loss\n");
    nb_printf(
        "%d steps of %d windows (%d per rank) of %d bytes; evaluated every %d steps\n",
        steps, ch.batch, ch.batch / d->size, ch.cfg.ctx, eval_every);
    d->comm_seconds = 0;
    double t_step = gpt_trainer_run(ch.trainer, ch.train, steps, eval_every, evaluate,
                                    &c, "data-parallel training");
    fclose(c.f);
    double train = c.train, val = c.val;
    nb_metric("steps", steps, "");
    nb_metric("train loss", train, "nats/byte");
    nb_metric("val loss", val, "nats/byte");
    nb_figure(
        "07-loss",
        "Train and validation loss of the GPT trained on P ranks (nats per byte)");
    double step_ms = 1e3 * t_step / steps, comm_ms = 1e3 * d->comm_seconds / steps;
    ch.window_seconds = (step_ms - comm_ms) / 1e3 / (ch.batch / d->size);
    /* the same step on one rank alone, batch B, for the comparison: k steps
     * timed after one that is not (a new trainer's first step grows its arena) */
    int k = nb_quick() ? 3 : 20;
    double one_ms = 0;
    if (d->rank == 0) {
        Gpt *g = gpt_copy(ch.gpt);
        Dp self = dp_self();
        GptTrainer *t = rank_trainer(g, &self);
        gpt_trainer_step(t, ch.train);
        for (int s = 0; s < k; s++) {
            GptStepStats st = gpt_trainer_step(t, ch.train);
            one_ms += 1e3 * gpt_step_seconds(st) / k;
        }
        gpt_trainer_free(t);
        gpt_free(g);
    }
    MPI_Barrier(d->comm);
    nb_timing("time per step P ranks", step_ms, "ms");
    nb_timing("computation per step", step_ms - comm_ms, "ms");
    nb_timing("communication per step", comm_ms, "ms");
    nb_timing("time per step 1 rank", one_ms, "ms");
    nb_timing("speed-up over 1 rank", one_ms / step_ms, "x");
}

/*md
## More machines: a model

One machine cannot show what a network does, so here the figures are
*modelled*, not measured. The model: each of $P$ nodes computes $B/P$
windows, at a stated speed of `DP_NODE_GFLOPS` ($100$ GFLOP/s; each rank
of the run above, one core of the machine that built this book, computed
{{GFLOP per second per rank, measured:.0f}} GFLOP/s); a window costs
{{GFLOP per window:.3f}} GFLOP (`dp_window_flops`: $6$ per parameter and
token, plus attention); then a ring all-reduce of the gradient block sends
$2(P-1)/P$ of its bytes over a link of $10$ or $100$ Gbit/s (latency left
out: it flatters large $P$). Our step does not overlap the two, so its time
is their sum. Real frameworks start the all-reduce of the last layers'
gradients while backward is still working on the first ones; the
communication is then *hidden* when there is at least as much compute as
communication. The last column of each link gives the smallest batch for
which that holds.

The ratio does not depend on the model's size: per window, compute grows
as $6 N T$ operations for $N$ parameters and $T$ tokens, the all-reduce as
$2 \cdot 4N$ bytes (floats). Communication is hidden when each node
processes at least
$$\frac{8 N / \beta}{6 N T / S} = \frac{4 S}{3 T \beta}$$
windows per step, for a node of speed $S$ on a link of $\beta$ bytes per
second. That is why GPU clusters ($S$ a thousand times larger) need
links of hundreds of Gbit/s and batches of millions of tokens. In this
model, with $P = 32$ nodes on a $10$ Gbit/s link the speed-up is
{{speed-up 32 nodes at 10 Gbit/s:.1f}}, on $100$ Gbit/s
{{speed-up 32 nodes at 100 Gbit/s:.1f}}.
*/
enum { DP_NODE_GFLOPS = 100 }; /* the modelled node's speed */

static void cell_scaling(void) {
    dp_cell_begin();
    GptConfig cfg =
        reference_config(ch.vocab.V); /* even with --quick: the model is arithmetic */
    int B = gpt_train_config_default().batch;
    double bytes = (double)gpt_config_params(&cfg) * sizeof(real),
           tw = dp_window_flops(&cfg) / (DP_NODE_GFLOPS * 1e9);
    const double gbit[2] = {10, 100};
    nb_printf("modelled: node %d GFLOP/s, window %.3f GFLOP = %.2f ms, gradient block "
              "%.3f MB, B = %d\n",
              DP_NODE_GFLOPS, dp_window_flops(&cfg) / 1e9, 1e3 * tw, bytes / 1e6, B);
    nb_printf("%5s %8s %10s | %-37s | %-37s\n", "", "", "", "           10 Gbit/s",
              "          100 Gbit/s");
    nb_printf("%5s %8s %10s |", "P", "win/node", "compute ms");
    for (int k = 0; k < 2; k++)
        nb_printf(" %8s %8s %8s %9s |", "comm ms", "step ms", "speed-up", "B to hide");
    nb_printf("\n");
    FILE *f = nb_open("scaling.tsv");
    fprintf(f, "# P\tspeedup_10gbit\tspeedup_100gbit (modelled, B = %d)\n", B);
    nb_value("GFLOP per window", dp_window_flops(&cfg) / 1e9, "GFLOP");
    for (int P = 1; P <= B; P *= 2) {
        double compute = B / (double)P * tw;
        nb_printf("%5d %8d %10.2f |", P, B / P, 1e3 * compute);
        fprintf(f, "%d", P);
        for (int k = 0; k < 2; k++) {
            double comm = dp_ring_bytes(P, bytes) / (gbit[k] * 1e9 / 8),
                   step = compute + comm;
            long hide =
                P * (long)ceil(comm /
                               tw); /* windows per node with compute >= comm, times P */
            if (P == 1)
                nb_printf(" %8.2f %8.2f %8.2f %9s |", 1e3 * comm, 1e3 * step,
                          B * tw / step, "-");
            else
                nb_printf(" %8.2f %8.2f %8.2f %9ld |", 1e3 * comm, 1e3 * step,
                          B * tw / step, hide);
            fprintf(f, "\t%.4f", B * tw / step);
            char name[64];
            snprintf(name, sizeof name, "speed-up %d nodes at %.0f Gbit/s", P, gbit[k]);
            if (P == 32) nb_value(name, B * tw / step, "x");
        }
        nb_printf("\n");
        fprintf(f, "\n");
    }
    fclose(f);
    nb_figure("07-scaling", "Modelled speed-up of a step of B windows on P nodes, ring "
                            "all-reduce at 10 and 100 Gbit/s");
    if (ch.window_seconds >
        0) { /* the same model with this machine's measured compute speed */
        nb_timing("GFLOP per second per rank, measured",
                  dp_window_flops(&ch.cfg) / ch.window_seconds / 1e9, "GFLOP/s");
        double own = (double)ch.init->ps->size * sizeof(real); /* this run's block */
        nb_timing("windows per node to hide a 10 Gbit/s all-reduce at this speed",
                  2 * own / (10e9 / 8) / ch.window_seconds, "windows");
    }
}

/*md
## A checkpoint for chapters 5 and 6

The ranks' models are equal, so rank 0 alone writes the checkpoint, in
chapter 5's format (`gpt_save`): chapter 6 fine-tunes it with
`GPT_CHECKPOINT=build/run/07-gpt-data-parallel/gpt.ckpt build/bin/06`. We
check once more that the ranks ended equal (the hash of the trained
parameters), then reload the file.
*/
static void cell_checkpoint(void) {
    dp_cell_begin();
    const Gpt *g = ch.gpt;
    uint64_t h = dp_hash(g->ps->data, (size_t)g->ps->size * sizeof(real));
    dp_check_same(&ch.dp, h, "the trained parameters",
                  "a rank took a different step: report this as a bug");
    if (ch.dp.rank != 0) return;
    char path[4096];
    snprintf(path, sizeof path, "%s", nb_path("gpt.ckpt"));
    gpt_save(path, g, &ch.vocab);
    GptVocab v2;
    Gpt *back = gpt_load(path, &v2, "run `make run-07`");
    int same =
        back->ps->size == g->ps->size &&
        memcmp(back->ps->data, g->ps->data, (size_t)g->ps->size * sizeof(real)) == 0 &&
        v2.V == ch.vocab.V;
    nb_printf("trained parameters: hash %016llx on every rank\n",
              (unsigned long long)h);
    nb_printf(
        "rank 0 wrote gpt.ckpt (%ld numbers); reloaded with chapter 5's gpt_load: %s\n",
        g->ps->size, same ? "identical" : "MISMATCH");
    gpt_free(back);
}

/*md
## On a real cluster

On several machines nothing in the program changes; only `mpirun` is told
where to start the ranks. A *hostfile* lists the nodes and how many ranks
each takes:

```
node1 slots=2
node2 slots=2
```

and `mpirun --hostfile hosts -np 4 -x OMP_NUM_THREADS=1 build/bin/07`
starts two ranks on each (Open MPI reaches the nodes by `ssh`, which must
work without a password). What must be the same on every node: the binary
(the same build, at the same path), the corpus (the same bytes), and the
flags (`mpirun` passes the same command line to every rank). The start-up
checks catch a node that differs: a different corpus or a different seed
or build gives a different hash, and the run stops before its first step
with an error naming the rank, instead of training P models that drift
apart. A rank that cannot read its corpus, or any other error on any rank,
ends every rank (`MPI_Abort` in dp.c): no rank waits forever for one that
died. The cell prints the command for this run's settings.
*/
static void cell_cluster(void) {
    dp_cell_begin();
    nb_printf("hostfile \"hosts\": one line per node, \"<name> slots=<ranks>\"\n");
    nb_printf("mpirun --hostfile hosts -np %d -x OMP_NUM_THREADS=1 build/bin/07 --seed "
              "%llu%s\n",
              ch.dp.size, (unsigned long long)nb_seed(), nb_quick() ? " --quick" : "");
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/07-gpt-data-parallel/`, leaving the
book's run alone; try other values too), then open the outcome this course's
run gives. The command runs the whole chapter first, as `make run-07` does.

### Experiment: four shares, added in two orders

With two ranks, the sum of the two gradient shares was the same to the last
bit in any order, because $a + b = b + a$. Cut one batch of $B$ windows into
four shares instead, take each share's gradient on rank 0, and add the four
in rank order, $((g_0 + g_1) + g_2) + g_3$, and as a ring or a tree might,
$(g_0 + g_1) + (g_2 + g_3)$. *Predict*: identical, or not, and by how much?

Run: `mpirun -np 2 -x OMP_NUM_THREADS=1 build/bin/07 --set shares=4`

::: outcome
With {{exp shares shares:.0f}} shares the two sums differ by up to
{{exp shares largest difference:.1e}} relative to the largest gradient entry
({{exp shares entries that differ:'.0f}} of {{exp shares entries:'.0f}}
entries differ); with two shares, by {{exp shares largest difference at 2:.0f}}.
Float addition is commutative but not associative: three or more numbers
added in another grouping round differently, by up to half a unit in the
last place per addition. Bit-exact data parallelism at any $P$ needs one fixed order of
addition, at the price of gathering every gradient.
:::

### Experiment: a quarter of the batch

Train a short run from the same initial model with a global batch of
$B = 8$ windows instead of 32 (4 per rank instead of 16), next to one with
$B = 32$, for the same {{exp batch steps:.0f}} steps. *Predict*: which ends
at the lower validation loss, and which spends the larger share of its step
communicating?

Run: `mpirun -np 2 -x OMP_NUM_THREADS=1 build/bin/07 --set batch=8`

::: outcome
After {{exp batch steps:.0f}} steps the validation loss is
{{exp batch val loss at 32:.3f}} nats per byte with $B = 32$ and
{{exp batch val loss:.3f}} with $B$ = {{exp batch batch:.0f}}:
{{exp batch verdict}}. A step's all-reduce moves the whole gradient block
whatever the batch, while its compute shrinks with the batch: on this machine
communication took {{exp batch communication share at 32:.0f}} % of a step
with $B = 32$ and {{exp batch communication share:.0f}} % with the smaller
batch. Data parallelism pays when each rank has enough windows to hide the
all-reduce behind its compute.
:::
*/
/* Rank 0: the gradients of SHARES shares of one batch of B windows (stream
 * "dp/exp shares windows"), added in rank order and in pairs. */
static void cell_exp_shares(void) {
    dp_cell_begin();
    if (ch.dp.rank != 0) return;
    int S = (int)nb_setting("shares"), B = ch.batch, ctx = ch.cfg.ctx;
    if (B % S)
        fail(EXIT_USAGE, "--set shares",
             "pass a number of shares that divides the batch",
             "a batch of %d windows cannot be cut into %d equal shares", B, S);
    Gpt *g = gpt_copy(ch.init);
    long n = g->ps->size;
    int b = B / S;
    real *grads = xmalloc((size_t)S * n * sizeof(real));
    int *x = xmalloc((size_t)b * ctx * sizeof(int)),
        *y = xmalloc((size_t)b * ctx * sizeof(int));
    Rng r;
    rng_stream(&r, nb_seed(), "dp/exp shares windows");
    Tape *T = tape_new();
    for (int k = 0; k < S; k++) {
        for (int i = 0; i < b; i++) {
            long off = (long)(rng_uniform(&r) * (double)(ch.train.n - ctx - 1));
            for (int t = 0; t < ctx; t++) {
                x[i * ctx + t] = ch.train.tok[off + t];
                y[i * ctx + t] = ch.train.tok[off + t + 1];
            }
        }
        tape_reset(T);
        Tensor *loss = gpt_loss(T, g, x, y, b, ctx, GPT_FUSED, NULL);
        params_zero_grad(g->ps);
        backward(T, loss);
        memcpy(grads + (long)k * n, g->ps->grad, (size_t)n * sizeof(real));
    }
    /* in rank order, and in pairs (pairs of pairs ...); also 2 shares: a + b */
    double diff = 0, largest = 0, diff2 = 0;
    long differ = 0;
    for (long i = 0; i < n; i++) {
        real in_order = 0;
        for (int k = 0; k < S; k++) in_order += grads[(long)k * n + i];
        real part[32] = {0}; /* S <= 32: the setting's range */
        for (int k = 0; k < S; k++) part[k] = grads[(long)k * n + i];
        /* one level of pairs at a time: w partial sums become (w + 1) / 2 */
        for (int w = S; w > 1;) {
            int h = w / 2;
            for (int k = 0; k < h; k++) part[k] = part[2 * k] + part[2 * k + 1];
            if (w % 2) part[h++] = part[w - 1];
            w = h;
        }
        double d = fabs((double)in_order - (double)part[0]);
        diff = fmax(diff, d), differ += d > 0,
        largest = fmax(largest, fabs((double)in_order));
        real a = grads[i], c = S > 1 ? grads[n + i] : 0;
        diff2 = fmax(diff2, fabs((double)(a + c) - (double)(c + a)));
    }
    nb_printf("%d shares of %d windows: rank order against pairs: largest difference "
              "%.2e (%.1e relative), "
              "%ld of %ld entries differ; two shares, a + b against b + a: %g\n",
              S, b, diff, diff / largest, differ, n, diff2);
    nb_value("exp shares shares", S, "");
    nb_value("exp shares largest difference", diff / largest, "relative");
    nb_value("exp shares entries that differ", differ, "");
    nb_value("exp shares entries", n, "");
    nb_value("exp shares largest difference at 2", diff2, "");
    tape_free(T);
    xfree(x), xfree(y), xfree(grads);
    gpt_free(g);
}

/* A short data-parallel run from the initial model with a global batch of
 * B windows (stream "dp/exp batch windows of rank r"): its validation loss,
 * and the share of its step time spent in the all-reduce. */
static double exp_batch_run(int B, int steps, double *comm_share) {
    Dp d = ch.dp;
    d.comm_seconds = 0, d.reductions = 0; /* this run's own */
    Gpt *g = gpt_copy(ch.init);
    GptTrainConfig tc = gpt_train_config_default();
    char name[64];
    tc.batch = B / d.size;
    tc.windows = dp_stream_name(name, sizeof name, "dp/exp batch windows", d.rank);
    GptTrainer *t = gpt_trainer_new(g, &tc, nb_seed());
    dp_attach(t, &d);
    double total = 0; /* the steps after the first, which grows the arena */
    for (int s = 0; s < steps; s++) {
        GptStepStats st = gpt_trainer_step(t, ch.train);
        if (s == 0) d.comm_seconds = 0;
        else total += gpt_step_seconds(st);
    }
    *comm_share = 100 * d.comm_seconds / total;
    double val = gpt_evaluate(g, ch.val, ch.batch, nb_quick() ? 1 : 8).loss;
    nb_printf("B = %2d (%2d per rank), %d steps: val loss %.4f nats/byte\n", B,
              B / d.size, steps, val);
    gpt_trainer_free(t);
    gpt_free(g);
    return val;
}

static void cell_exp_batch(void) {
    dp_cell_begin();
    int B = (int)nb_setting("batch"), steps = nb_quick() ? 3 : 30;
    if (B % ch.dp.size)
        fail(EXIT_USAGE, "--set batch", "pass a batch that the number of ranks divides",
             "a batch of %d windows cannot be split evenly over %d ranks", B,
             ch.dp.size);
    double c32, cb, v32 = exp_batch_run(ch.batch, steps, &c32),
                    vb = exp_batch_run(B, steps, &cb);
    nb_value("exp batch steps", steps, "");
    nb_value("exp batch batch", B, "windows");
    nb_value("exp batch val loss at 32", v32, "nats/byte");
    nb_value("exp batch val loss", vb, "nats/byte");
    nb_text("exp batch verdict", "%s",
            vb > v32 ? "the smaller batch is behind, having seen a quarter of the "
                       "windows with noisier gradients"
                     : "in this short run the smaller batch is not behind");
    nb_timing("exp batch communication share at 32", c32, "%");
    nb_timing("exp batch communication share", cb, "%");
}

static const Cell CELLS[] = {
    CELL(ranks, "Ranks, and what they must share"),
    CELL(same_step, "P ranks with B/P windows take the step of one process with B"),
    CELL(allreduce, "The ring all-reduce and its cost"),
    CELL(train, "Training on P ranks"),
    CELL(scaling, "More machines: a model"),
    CELL(checkpoint, "A checkpoint for chapters 5 and 6"),
    CELL(cluster, "On a real cluster"),
    CELL(exp_shares, "Experiment: four shares, added in two orders"),
    CELL(exp_batch, "Experiment: a quarter of the batch"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"shares", 4, 1, 32, 1,
     "the shares one batch is cut into in the order experiment (two ranks: 2)"},
    {"batch", 8, 1, 256, 1,
     "the global batch of the experiment's second short run (the chapter's: 32)"},
};

int main(int argc, char **argv) {
    Chapter chapter = {"07-gpt-data-parallel",
                       "Past one machine: data-parallel training", CELLS,
                       sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return dp_notebook_main(argc, argv, &chapter);
}
