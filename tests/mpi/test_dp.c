/* tests/mpi/test_dp.c - chapter 7's data-parallel training, tested on the
 * ranks of `mpirun -np 2` (make check-dp), in the double build.
 *
 * Not a Criterion test: Criterion forks each test, MPI does not survive
 * that. Each check prints one line on rank 0, "ok" or "FAIL" with the
 * largest difference; any FAIL makes every rank exit 1.
 *
 * Proven here, on a small GPT and a random corpus:
 *   - 2 ranks x batch 16 take the same 5 AdamW steps as 1 process x batch
 *     32 on the same windows: parameters equal to 1e-9 of the largest
 *     parameter. Bound: in double the gradients of the two orders of
 *     summation differ by ~1e-16 relative per sum, AdamW's step is
 *     lr m / (sqrt v + eps) with lr 1e-3, so 5 steps can move a parameter
 *     apart by ~1e-15 or so, far below 1e-9; a missing 1/P, or a rank that
 *     skips the all-reduce, is off by ~1e-3 (one lr), far above.
 *   - against gradient accumulation in rank order: bit for bit (P = 2: each
 *     sum is a + b, the same in either order).
 *   - two runs with the same seed and P: identical parameters.
 *   - dp_average leaves on every rank the mean of the ranks' gradients and
 *     losses (on its own: no model, so it tests the average alone).
 *   - the ring all-reduce of dp.c gives MPI_Allreduce's sums, exactly (P = 2).
 *   - dp_check_same: a rank whose value differs makes rank 0 fail, naming it.
 *
 * `build/test/dp --only NAME[,NAME...]` runs those tests only (same_step,
 * same_seed, average, ring, check_same); the last line counts the checks as
 * Criterion's does ("Synthesis: Tested: ..."), so exercises/grade.sh grades
 * chapter 7's exercises with it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catch_fail.h"
#include "dp.h"
#include "gpt.h"
#include "rng.h"
#include "util.h"

static int failures, checks;
static Dp world;

static void check(int ok, const char *what, const char *fmt, double value) {
    if (world.rank != 0) return;
    printf("%s %s: ", ok ? "ok  " : "FAIL", what);
    printf(fmt, value);
    printf("\n");
    failures += !ok;
    checks++;
}

/* A corpus of ids in [0, V): a noisy repeating pattern, so the model learns. */
static int *corpus(long n, int V) {
    int *tok = xmalloc((size_t)n * sizeof(int));
    Rng r;
    rng_stream(&r, 0, "test/dp corpus");
    for (long i = 0; i < n; i++) tok[i] = rng_uniform(&r) < 0.8 ? (int)(i % 7) : rng_int(&r, V);
    return tok;
}

static const GptConfig CFG = {.V = 12, .ctx = 16, .L = 2, .H = 2, .C = 16};

/* A model from the stream "test/dp init", and its trainer of batch
 * 32 / P on this rank's stream, attached to d. */
static GptTrainer *trainer(Gpt **g, Dp *d, char *name, size_t len) {
    Rng r;
    rng_stream(&r, 0, "test/dp init");
    *g = gpt_new(CFG);
    gpt_init(*g, &r);
    GptTrainConfig tc = gpt_train_config_default();
    tc.batch = 32 / d->size;
    tc.warmup = 1; /* the full rate from step 1: the steps move the parameters */
    tc.windows = dp_stream_name(name, len, "test/dp windows", d->rank);
    GptTrainer *t = gpt_trainer_new(*g, &tc, 0);
    rng_stream(&t->windows, 0, tc.windows);
    dp_attach(t, d);
    return t;
}

static void test_two_ranks_take_the_step_of_one_batch(GptTokens train) {
    Dp d = world;
    char name[64];
    Gpt *g;
    GptTrainer *t = trainer(&g, &d, name, sizeof name);
    DpCompare *c = dp_compare_new(t, &d);
    double rel = 0, acc = 0;
    for (int s = 0; s < 5; s++) {
        DpCompareStep r = dp_compare_step(c, train);
        if (world.rank == 0) rel = fmax(rel, r.diff_one / r.largest), acc = fmax(acc, r.diff_acc);
    }
    check(rel <= 1e-9, "2 ranks x 16 = 1 x 32 over 5 AdamW steps (bound 1e-9 of the largest parameter)",
          "largest difference %.3g relative", rel);
    check(acc == 0, "2 ranks = gradient accumulation in rank order, bit for bit", "largest difference %g", acc);
    dp_compare_free(c);
    gpt_trainer_free(t);
    gpt_free(g);
}

static void test_same_seed_same_parameters(GptTokens train) {
    Dp d = world;
    char name[64];
    Gpt *g[2];
    for (int k = 0; k < 2; k++) {
        GptTrainer *t = trainer(&g[k], &d, name, sizeof name);
        for (int s = 0; s < 3; s++) gpt_trainer_step(t, train);
        gpt_trainer_free(t);
    }
    double diff = 0;
    for (long i = 0; i < g[0]->ps->size; i++) diff = fmax(diff, fabs(g[0]->ps->data[i] - g[1]->ps->data[i]));
    check(diff == 0, "two runs, same seed and P: identical parameters", "largest difference %g", diff);
    gpt_free(g[0]), gpt_free(g[1]);
}

static void test_average_is_the_mean_over_the_ranks(void) {
    Dp d = world;
    ParamSet *ps = params_new();
    params_add(ps, "a", 1, SHAPE(7));
    params_add(ps, "b", 2, SHAPE(2, 3));
    params_alloc(ps);
    /* rank r's gradient i is (r + 1) (i + 1) / 8: the mean is (P + 1) / 2 (i + 1) / 8, exact in binary */
    for (long i = 0; i < ps->size; i++) ps->grad[i] = (real)((d.rank + 1) * (i + 1) / 8.0);
    double loss = d.rank + 1.0, worst = 0;
    dp_average(&d, ps, &loss);
    for (long i = 0; i < ps->size; i++)
        worst = fmax(worst, fabs(ps->grad[i] - (d.size + 1) / 2.0 * (i + 1) / 8.0));
    worst = fmax(worst, fabs(loss - (d.size + 1) / 2.0));
    MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, d.comm);
    check(worst <= 1e-12, "dp_average: every rank holds the mean gradient and loss", "largest error %g", worst);
    params_free(ps);
}

static void test_ring_equals_mpi_allreduce(void) {
    Dp d = world;
    long n = 1001; /* not a multiple of P: chunks of unequal length */
    real *x = xmalloc((size_t)n * sizeof(real)), *y = xmalloc((size_t)n * sizeof(real));
    real *scratch = xmalloc((size_t)(n / d.size + 1) * sizeof(real));
    char name[64];
    Rng r;
    rng_stream(&r, 0, dp_stream_name(name, sizeof name, "test/dp block", d.rank));
    rng_fill_normal(&r, x, n, 0, 1);
    memcpy(y, x, (size_t)n * sizeof(real));
    dp_ring_allreduce(&d, x, n, scratch);
    MPI_Allreduce(MPI_IN_PLACE, y, (int)n, DP_REAL, MPI_SUM, d.comm);
    double diff = 0;
    for (long i = 0; i < n; i++) diff = fmax(diff, fabs(x[i] - y[i]));
    MPI_Allreduce(MPI_IN_PLACE, &diff, 1, MPI_DOUBLE, MPI_MAX, d.comm);
    check(diff == 0, "ring all-reduce = MPI_Allreduce (2 ranks: exact)", "largest difference %g", diff);
    xfree(x), xfree(y), xfree(scratch);
}

static void test_a_differing_rank_is_named(void) {
    Dp d = world;
    CATCH_FAIL(dp_check_same(&d, d.rank == d.size - 1 ? 2 : 1, "the test value", "none"));
    char want[32];
    snprintf(want, sizeof want, "rank %d's checksum", d.size - 1);
    check(caught_failed && strstr(caught_msg, want), "dp_check_same: rank 0 fails naming the rank that differs",
          "%.0f", (double)caught_failed);
    if (world.rank == 0) printf("     its message: %s", caught_msg);
}

/* Is test `name` in the comma-separated list `only` (NULL: every test)? */
static int selected(const char *only, const char *name) {
    if (!only) return 1;
    size_t L = strlen(name);
    for (const char *p = only; *p;) {
        size_t k = strcspn(p, ",");
        if (k == L && strncmp(p, name, L) == 0) return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    world = dp_world();
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            if (world.rank == 0)
                fprintf(stderr, "usage: %s [--only same_step,same_seed,average,ring,check_same]\n", argv[0]);
            MPI_Finalize();
            return 64;
        }
    }
    if (world.size != 2 && world.rank == 0) printf("note: these bounds are argued for 2 ranks; this is %d\n", world.size);
    long n = 20000;
    int *tok = corpus(n, CFG.V);
    GptTokens train = {tok, n};
    if (selected(only, "same_step")) test_two_ranks_take_the_step_of_one_batch(train);
    if (selected(only, "same_seed")) test_same_seed_same_parameters(train);
    if (selected(only, "average")) test_average_is_the_mean_over_the_ranks();
    if (selected(only, "ring")) test_ring_equals_mpi_allreduce();
    if (selected(only, "check_same")) test_a_differing_rank_is_named();
    xfree(tok);
    if (world.rank == 0)
        printf("Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0\n", checks, checks - failures,
               failures);
    MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return failures ? 1 : 0;
}
