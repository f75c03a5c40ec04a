/* dp.h - data-parallel training of chapter 5's GPT over MPI (chapter 7).
 *
 * Teaches: data parallelism. P processes (ranks) hold the same model. At
 * each step every rank takes the gradients of its own B/P windows, one
 * all-reduce sums the P gradient blocks (a ParamSet's gradients are one
 * flat array: one call), every rank scales the sum by 1/P, and every rank
 * takes the same AdamW step, so the models stay equal without ever being
 * sent. Also: the ring all-reduce MPI libraries use for large blocks and its
 * cost, gradient accumulation (the same sum on one process, in a fixed
 * order), and the start-up checks that every rank holds the same data and
 * the same model.
 * Leaves out: overlapping the all-reduce with backward (DDP's buckets),
 * sharded optimizer state (ZeRO), model and pipeline parallelism, restarts
 * after a node fails.
 *
 * Ownership: dp_notebook_main starts and ends MPI for the whole process; a
 * Dp (a communicator, its rank and size, and the time spent in all-reduce)
 * is the caller's. A GptTrainer attached with dp_attach borrows its Dp. A
 * DpAccumulate borrows the windows it is given and owns a helper model.
 * dp_accumulate_new and dp_compare_new return objects the caller frees with
 * dp_accumulate_free and dp_compare_free (NULL-safe).
 *
 * Run: mpirun -np P build/bin/07 [notebook flags]; with one thread per rank
 * (OMP_NUM_THREADS=1). Every rank parses the same flags and runs the same
 * cells; only rank 0 prints and records: the other ranks' stdout goes to
 * /dev/null and their records to a temporary directory removed at exit.
 * A fail() on any rank prints "rank r of P: error: ..." and ends every rank
 * (MPI_Abort) with its exit code: a rank never waits for one that died.
 */
#ifndef DP_H
#define DP_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "gpt.h"
#include "notebook.h"
#include "tensor.h"

/* The MPI type of `real` (float, or double in the double build). */
#ifdef REAL_DOUBLE
#define DP_REAL MPI_DOUBLE
#else
#define DP_REAL MPI_FLOAT
#endif

typedef struct {
    MPI_Comm comm;
    int rank, size;         /* this process's rank in comm, and P */
    double comm_seconds;    /* wall time spent in dp_average so far */
    long reductions;        /* its calls */
} Dp;

/* MPI_Init, the notebook (notebook_main) on every rank, MPI_Finalize. */
int dp_notebook_main(int argc, char **argv, const Chapter *ch);
/* The first line of every cell: rank 0 lets the others into the cell, or
 * tells them to stop (after --step's q). */
void dp_cell_begin(void);
Dp dp_world(void);          /* every rank */
Dp dp_self(void);           /* this rank alone: P = 1 */

/* The name of a per-rank random stream: "<purpose> of rank <r>". */
const char *dp_stream_name(char *buf, size_t len, const char *purpose, int rank);

/* From now on t's steps average their gradients and loss over d's ranks. */
void dp_attach(GptTrainer *t, Dp *d);
/* The hook itself (GptTrainer.reduce): one MPI_Allreduce sums ps->grad over
 * the ranks, then every number is scaled by 1/P; the loss likewise. */
void dp_average(void *dp, ParamSet *ps, double *loss);

/* 64-bit FNV-1a of n bytes. */
uint64_t dp_hash(const void *bytes, size_t n);
/* Every rank passes its value; if a rank's differs from rank 0's, rank 0
 * fails naming that rank and `what` (EXIT_DATA). */
void dp_check_same(const Dp *d, uint64_t value, const char *what, const char *hint);

/* x [n] summed over d's ranks in place by the ring (reduce-scatter, then
 * all-gather), with MPI_Sendrecv; scratch [n / P + 1]. */
void dp_ring_allreduce(const Dp *d, real *x, long n, real *scratch);
/* Bytes each rank sends (and receives) in a ring all-reduce of `bytes`:
 * 2 (P - 1) / P x bytes. */
double dp_ring_bytes(int P, double bytes);
/* The forward and backward floating-point operations of one window of
 * ctx tokens: 6 per parameter and token in the matrix products (the tied
 * head included) and 12 L ctx^2 C in attention. */
double dp_window_flops(const GptConfig *c);

/* Gradient accumulation: a trainer with batch B / P on shard 0 whose hook
 * adds the gradients of shards 1 .. P-1 (from a helper model with the same
 * numbers), in shard order, then scales by 1/P as dp_average does. One
 * process, the gradient of P shards: what P ranks compute. */
typedef struct {
    Gpt *helper;            /* owned: a copy of the trained model's numbers */
    Tape *tape;             /* owned */
    const int *x, *y;       /* borrowed: [P, B / P, ctx] every shard's windows */
    int shards, batch;      /* P, and B / P windows per shard */
} DpAccumulate;

DpAccumulate *dp_accumulate_new(const Gpt *g, int shards, int batch);
void dp_accumulate(void *acc, ParamSet *ps, double *loss); /* the hook */
void dp_accumulate_free(DpAccumulate *a);

/* The equivalence experiment. Every rank steps its trainer t (batch B / P,
 * dp_attach'ed to d); rank 0 gathers the windows the ranks drew and takes
 * the same step with two references that started from t's model too: one
 * trainer of batch B on all the windows ("one batch"), and one of batch
 * B / P accumulating the P shares in rank order ("accumulated"). Their
 * settings are t's. Rank 0 owns the references. */
typedef struct {
    double loss_ranks, loss_one;   /* the step's mean loss on P ranks, in one batch */
    double diff_one, diff_acc;     /* largest |parameter difference| from the P-rank model */
    double largest;                /* largest |parameter| of the P-rank model */
} DpCompareStep;                   /* (rank 0's; zeros elsewhere) */

typedef struct DpCompare DpCompare;
DpCompare *dp_compare_new(GptTrainer *t, const Dp *d);
DpCompareStep dp_compare_step(DpCompare *c, GptTokens train);
/* The models, on rank 0 (NULL elsewhere): the references after their steps. */
const Gpt *dp_compare_one(const DpCompare *c);
const Gpt *dp_compare_accumulated(const DpCompare *c);
void dp_compare_free(DpCompare *c);

#endif
