/* dp.c - data-parallel training over MPI: see dp.h. */
#define _GNU_SOURCE /* on_exit, nftw */
#include "dp.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/*md
## The MPI parts (dp.c)

### One program, P processes

`mpirun` starts the same program P times. Each process calls `MPI_Init`
and learns its rank; from then on they run the same cells in step, and
meet in *collective* calls (`MPI_Allreduce`, `MPI_Bcast`, ...) that every
rank must make, in the same order. Two things need care. Output: only rank
0 prints and records, so the others get a throwaway run directory and
their standard output goes to `/dev/null`. Failure: a rank that stops
while the others wait in a collective would leave them waiting forever,
so an exit with an error on any rank calls `MPI_Abort`, which ends them all.
*/

static struct {
    int rank, size;
    char tmp[256]; /* ranks > 0: their throwaway run directory ("" if none) */
} world;

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* At exit: a rank that ends with a non-zero status ends every rank (no rank
 * waits forever in a collective for a rank that died); status 0 finalizes. */
static void dp_exit(int status, void *arg) {
    (void)arg;
    if (world.tmp[0]) nftw(world.tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    int done;
    MPI_Finalized(&done);
    if (done) return;
    if (status != 0) MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
}

/* fail() on any rank: its message, naming the rank, then exit (and dp_exit). */
static void rank_fail(int code, const char *message) {
    fflush(stdout);
    fprintf(stderr, "rank %d of %d: %s", world.rank, world.size, message);
    exit(code);
}

int dp_notebook_main(int argc, char **argv, const Chapter *ch) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
    on_exit(dp_exit, NULL);
    set_fail_handler(rank_fail);
    char **args = xmalloc((size_t)(argc + 3) * sizeof(char *));
    int n = 0;
    for (int i = 0; i < argc; i++) /* rank 0 alone answers --step's prompt */
        if (world.rank == 0 || strcmp(argv[i], "--step") != 0) args[n++] = argv[i];
    if (world.rank > 0) {
        const char *tmpdir = getenv("TMPDIR");
        snprintf(world.tmp, sizeof world.tmp, "%s/07-rank%d-XXXXXX",
                 tmpdir && *tmpdir ? tmpdir : "/tmp", world.rank);
        if (!mkdtemp(world.tmp)) {
            world.tmp[0] = 0;
            fail(EXIT_IOERR, "a temporary directory",
                 "set TMPDIR to a writable directory",
                 "cannot create one for rank %d's records", world.rank);
        }
        args[n++] = "--out", args[n++] = world.tmp; /* the last --out wins */
        if (!freopen("/dev/null", "w", stdout))
            fail(EXIT_IOERR, "/dev/null", "check the system",
                 "cannot send rank %d's output there", world.rank);
    }
    args[n] = NULL;
    int rc = notebook_main(n, args, ch);
    int go =
        0; /* the other ranks wait in dp_cell_begin (or here, when every cell ran) */
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    xfree(args);
    return rc;
}

void dp_cell_begin(void) {
    int go = 1;
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!go) exit(0); /* rank 0 stopped after the last cell (--step, q) */
}

Dp dp_world(void) {
    Dp d = {.comm = MPI_COMM_WORLD};
    MPI_Comm_rank(d.comm, &d.rank);
    MPI_Comm_size(d.comm, &d.size);
    return d;
}
Dp dp_self(void) {
    return (Dp){.comm = MPI_COMM_SELF, .rank = 0, .size = 1};
}

const char *dp_stream_name(char *buf, size_t len, const char *purpose, int rank) {
    snprintf(buf, len, "%s of rank %d", purpose, rank);
    return buf;
}

/*md
### The step's all-reduce

The trainer calls its `reduce` hook between backward and clipping. Here it
is one `MPI_Allreduce` over the whole gradient block (the ParamSet's
gradients are one array, so one call, whatever the model), in place, with
`MPI_SUM`; then every rank multiplies by $1/P$. The loss is averaged the
same way, for the progress line. Clipping comes after: it must see the
gradient of the whole batch, not of one rank's share.
*/

/* The mean of P ranks' (or shards') sum: every number times 1/P, the same
 * expression on every path, so the two paths can agree bit for bit. */
static void scale_mean(real *g, long n, double *loss, int P) {
    real s = (real)(1.0 / P);
    for (long i = 0; i < n; i++) g[i] *= s;
    *loss /= P;
}

void dp_average(void *dp, ParamSet *ps, double *loss) {
    Dp *d = dp;
    if (ps->size > 0x7fffffffL)
        fail(EXIT_SOFTWARE, "dp_average", "use a smaller model",
             "%ld gradients do not fit one MPI count", ps->size);
    /* BEGIN SOLUTION ex07-average
     * HINT: one MPI_Allreduce, in place (MPI_IN_PLACE), with MPI_SUM over the whole gradient
     * HINT: block (DP_REAL numbers), one more for the loss (a double); time both into
     * HINT: d->comm_seconds with MPI_Wtime, count d->reductions, then scale_mean by d->size.
     * STUB: (void)d, (void)loss, (void)scale_mean;
     */
    double t0 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, ps->grad, (int)ps->size, DP_REAL, MPI_SUM, d->comm);
    MPI_Allreduce(MPI_IN_PLACE, loss, 1, MPI_DOUBLE, MPI_SUM, d->comm);
    d->comm_seconds += MPI_Wtime() - t0;
    d->reductions++;
    scale_mean(ps->grad, ps->size, loss, d->size);
    /* END SOLUTION ex07-average */
}

void dp_attach(GptTrainer *t, Dp *d) {
    t->reduce = dp_average;
    t->reduce_arg = d;
}

/* ---- start-up checks ------------------------------------------------------------ */

uint64_t dp_hash(const void *bytes, size_t n) {
    const unsigned char *b = bytes;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

void dp_check_same(const Dp *d, uint64_t value, const char *what, const char *hint) {
    uint64_t *all = xmalloc((size_t)d->size * sizeof(uint64_t));
    MPI_Allgather(&value, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, d->comm);
    for (int r = 1; r < d->size; r++)
        if (all[r] != all[0] && d->rank == 0)
            fail(EXIT_DATA, what, hint,
                 "rank %d's checksum %016llx differs from rank 0's %016llx", r,
                 (unsigned long long)all[r], (unsigned long long)all[0]);
    xfree(all);
}

/*md
### The ring, by hand

The chunk a rank sends at step $s$ of the reduce-scatter is the one it
finished adding at step $s-1$, so every link carries one chunk per step
and no rank waits for more than its left neighbour. `MPI_Sendrecv` sends
and receives in one call, so a ring of blocking sends cannot deadlock.
*/

/* Chunk c of a block of n numbers cut into P: [n c / P, n (c + 1) / P). */
static long chunk_at(long n, int P, int c) {
    return n * c / P;
}

/* Reduce-scatter: at step s rank r sends chunk r - s to its right-hand
 * neighbour and adds chunk r - s - 1, received from its left, into its own.
 * After P - 1 steps rank r holds the whole sum of chunk r + 1 (mod P).
 * All-gather: P - 1 more steps pass the finished chunks round the ring. */
void dp_ring_allreduce(const Dp *d, real *x, long n, real *scratch) {
    int P = d->size, r = d->rank, right = (r + 1) % P, left = (r + P - 1) % P;
    /* BEGIN SOLUTION ex07-ring-allreduce
     * HINT: P - 1 steps of reduce-scatter, then P - 1 of all-gather, each one MPI_Sendrecv to
     * HINT: the right and from the left (chunk_at gives a chunk's offset); the comment above
     * HINT: says which chunk goes where at step s. Receive into scratch, then add.
     * STUB: (void)x, (void)n, (void)scratch, (void)right, (void)left, (void)chunk_at;
     */
    for (int s = 0; s < P - 1; s++) {
        int cs = ((r - s) % P + P) % P, cr = ((r - s - 1) % P + P) % P;
        long os = chunk_at(n, P, cs), ns = chunk_at(n, P, cs + 1) - os;
        long orr = chunk_at(n, P, cr), nr = chunk_at(n, P, cr + 1) - orr;
        MPI_Sendrecv(x + os, (int)ns, DP_REAL, right, 0, scratch, (int)nr, DP_REAL,
                     left, 0, d->comm, MPI_STATUS_IGNORE);
        for (long i = 0; i < nr; i++) x[orr + i] += scratch[i];
    }
    for (int s = 0; s < P - 1; s++) {
        int cs = ((r + 1 - s) % P + P) % P, cr = ((r - s) % P + P) % P;
        long os = chunk_at(n, P, cs), ns = chunk_at(n, P, cs + 1) - os;
        long orr = chunk_at(n, P, cr), nr = chunk_at(n, P, cr + 1) - orr;
        MPI_Sendrecv(x + os, (int)ns, DP_REAL, right, 1, x + orr, (int)nr, DP_REAL,
                     left, 1, d->comm, MPI_STATUS_IGNORE);
    }
    /* END SOLUTION ex07-ring-allreduce */
}

double dp_ring_bytes(int P, double bytes) {
    return 2.0 * (P - 1) / P * bytes;
}

double dp_window_flops(const GptConfig *c) {
    double matmul =
        12.0 * c->L * c->C * c->C + (double)c->V * c->C; /* weights used in products */
    return 6.0 * matmul * c->ctx + 12.0 * c->L * (double)c->ctx * c->ctx * c->C;
}

/*md
### Gradient accumulation, and the equivalence experiment

The same gradient without MPI: compute the shares one after the other on
one process and add them. This is also how one machine trains with a batch
too large for its memory. Done in rank order, with the same $1/P$, it is
what two ranks compute, to the last bit.
*/

DpAccumulate *dp_accumulate_new(const Gpt *g, int shards, int batch) {
    DpAccumulate *a = xcalloc(1, sizeof(DpAccumulate));
    a->helper = gpt_copy(g);
    a->tape = tape_new();
    a->shards = shards, a->batch = batch;
    return a;
}

void dp_accumulate(void *acc, ParamSet *ps, double *loss) {
    DpAccumulate *a = acc;
    Gpt *h = a->helper;
    int ctx = h->cfg.ctx;
    long win = (long)a->batch * ctx; /* numbers in one shard's windows */
    memcpy(h->ps->data, ps->data,
           (size_t)ps->size * sizeof(real)); /* the trained model's numbers */
    for (int s = 1; s < a->shards; s++) {
        tape_reset(a->tape);
        Tensor *l = gpt_loss(a->tape, h, a->x + s * win, a->y + s * win, a->batch, ctx,
                             GPT_FUSED, NULL);
        params_zero_grad(h->ps);
        backward(a->tape, l);
        for (long i = 0; i < ps->size; i++) ps->grad[i] += h->ps->grad[i];
        *loss += l->data[0];
    }
    scale_mean(ps->grad, ps->size, loss, a->shards);
}

void dp_accumulate_free(DpAccumulate *a) {
    if (!a) return;
    gpt_free(a->helper);
    tape_free(a->tape);
    xfree(a);
}

/* ---- the equivalence experiment -------------------------------------------------- */

struct DpCompare {
    GptTrainer *t; /* borrowed: the P-rank trainer */
    Dp d;
    Gpt *one, *acc; /* rank 0: the references' models */
    GptTrainer *t_one, *t_acc;
    DpAccumulate *a;
    int *x, *y; /* rank 0: [B, ctx] every rank's windows, in rank order */
};

DpCompare *dp_compare_new(GptTrainer *t, const Dp *d) {
    DpCompare *c = xcalloc(1, sizeof(DpCompare));
    c->t = t, c->d = *d;
    if (d->rank != 0) return c;
    int P = d->size, b = t->cfg.batch, ctx = t->model->cfg.ctx;
    GptTrainConfig one = t->cfg, acc = t->cfg;
    one.batch = b * P;
    c->one = gpt_copy(t->model), c->acc = gpt_copy(t->model);
    c->t_one = gpt_trainer_new(c->one, &one, 0),
    c->t_acc = gpt_trainer_new(c->acc, &acc, 0); /* streams unused */
    c->a = dp_accumulate_new(c->acc, P, b);
    c->t_acc->reduce = dp_accumulate, c->t_acc->reduce_arg = c->a;
    c->x = xmalloc((size_t)b * P * ctx * sizeof(int)),
    c->y = xmalloc((size_t)b * P * ctx * sizeof(int));
    c->a->x = c->x, c->a->y = c->y;
    return c;
}

static double largest_diff(const Gpt *a, const Gpt *b) {
    double d = 0;
    for (long i = 0; i < a->ps->size; i++)
        d = fmax(d, fabs((double)a->ps->data[i] - (double)b->ps->data[i]));
    return d;
}

DpCompareStep dp_compare_step(DpCompare *c, GptTokens train) {
    DpCompareStep r = {0};
    GptStepStats s = gpt_trainer_step(
        c->t, train); /* every rank: its windows, the average, the step */
    int n = c->t->cfg.batch * c->t->model->cfg.ctx;
    MPI_Gather(c->t->x, n, MPI_INT, c->x, n, MPI_INT, 0, c->d.comm);
    MPI_Gather(c->t->y, n, MPI_INT, c->y, n, MPI_INT, 0, c->d.comm);
    if (c->d.rank != 0) return r;
    r.loss_ranks = s.loss;
    r.loss_one = gpt_trainer_step_on(c->t_one, c->x, c->y).loss;
    gpt_trainer_step_on(c->t_acc, c->x,
                        c->y); /* share 0 on the trainer, the others in its hook */
    const Gpt *g = c->t->model;
    r.diff_one = largest_diff(g, c->one), r.diff_acc = largest_diff(g, c->acc);
    for (long i = 0; i < g->ps->size; i++)
        r.largest = fmax(r.largest, fabs((double)g->ps->data[i]));
    return r;
}

const Gpt *dp_compare_one(const DpCompare *c) {
    return c->one;
}
const Gpt *dp_compare_accumulated(const DpCompare *c) {
    return c->acc;
}

void dp_compare_free(DpCompare *c) {
    if (!c) return;
    gpt_trainer_free(c->t_one), gpt_trainer_free(c->t_acc);
    dp_accumulate_free(c->a);
    gpt_free(c->one), gpt_free(c->acc);
    xfree(c->x), xfree(c->y);
    xfree(c);
}
