/* bench_util.h - what the model benchmarks (bench_gpt, bench_vae,
 * bench_dcgan, bench_gan_ring) share: clocks, the median, the load average,
 * time_steps (median ms of repeated steps at a thread count), the machine's
 * FMA peak (fma_peak_gflops) and a step's share of it (print_step_flops),
 * what a step computes and holds (node_products: the matrix products of
 * each node on its tapes, whose FLOPs are the step's, step_products_add;
 * max_rss_mb), the report every model bench prints for its step
 * (step_timings, print_step_report: ms, GFLOP/s, share of the FMA peak,
 * memory, and the `result <model> <ms>` line bench/peers/compare.py reads),
 * the step's ceiling (print_products_ceiling: those products alone, by gemm
 * on the same shapes), and a per-op profile of a recorded tape with the
 * tables that print it.
 *
 * Teaches: three clocks answer three questions. Wall time (now_seconds in
 * lib/util.h) is what a user waits; on a busy machine it counts time spent
 * descheduled. Process CPU time (cpu_seconds) sums every thread's work:
 * with one thread it is what the step costs on an idle machine. Thread CPU
 * time (thread_seconds) is the calling thread's work alone, the honest clock
 * for a one-thread breakdown. The median of repeated timings, not the mean,
 * so one descheduled repetition does not move the answer.
 * Peak: a step's effective GFLOP/s means little alone; divided by what this
 * machine's cores can do at most (independent FMA chains, no memory
 * traffic), it says how much is left to win. The ceiling says how much of
 * that can be won at all: a step is never faster than its products.
 * The profile replays a tape node by node (forward in order, backward in
 * reverse, as backward() does) and adds the time per op kind.
 * Leaves out: the steps being timed (each bench's own main).
 *
 * Each bench is its own program: everything here is static.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "gemm.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

/* ---- clocks -------------------------------------------------------------- */

/* CPU seconds used by the whole process (every thread). On a busy machine
 * the wall-clock median is inflated by time spent descheduled; with one
 * thread, CPU time per step is what the step costs on an idle machine. */
static inline double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of the calling thread: a one-thread breakdown uses it, and it
 * does not count time spent descheduled by other programs. */
static inline double thread_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The 1-minute load average, or -1 if /proc is not there. */
static inline double load_average(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* ---- the median ------------------------------------------------------------ */

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v [n]; sorts v. */
static inline double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { BENCH_MAX_REPS = 401 };

/* Median wall-clock ms of one step(ctx) at `threads` threads, after `warm`
 * untimed steps; CPU ms per step (all threads) into *cpu_ms.
 * reps <= BENCH_MAX_REPS. */
static inline double time_steps(void (*step)(void *), void *ctx, int threads, int warm, int reps, double *cpu_ms) {
    static double t[BENCH_MAX_REPS];
    if (reps < 1 || reps > BENCH_MAX_REPS)
        fail(EXIT_SOFTWARE, "time_steps", "raise BENCH_MAX_REPS in bench/bench_util.h", "%d repetitions, at most %d",
             reps, BENCH_MAX_REPS);
    omp_set_num_threads(threads);
    for (int s = 0; s < warm; s++) step(ctx);
    double c0 = cpu_seconds();
    for (int s = 0; s < reps; s++) {
        double t0 = now_seconds();
        step(ctx);
        t[s] = 1e3 * (now_seconds() - t0);
    }
    *cpu_ms = 1e3 * (cpu_seconds() - c0) / reps;
    return median(t, reps);
}

/* ---- the machine's FMA peak, and a step's share of it ----------------------- */

/* FMA_CHAINS independent accumulators, each one vector register: each
 * a = a*x + y is one fused multiply-add instruction, and with more chains
 * than the FMA units' latency times their count (4 cycles x 2 units here)
 * the units never wait. The vector width is the one lib/gemm.c runs at:
 * 512 bits where the core has AVX-512 (gemm_wide: this machine's EPYC runs
 * those at full rate, twice the flops of 256-bit FMAs), else 256 bits. */
enum { FMA_CHAINS = 12 };

/* Runs `iters` rounds of FMA_CHAINS FMAs of VEC (LANES floats); returns a
 * sum so nothing is optimised away. */
#define FMA_CHAINS_FN(NAME, LANES, ATTR)                                                   \
    typedef float NAME##_vec __attribute__((vector_size(4 * (LANES))));                    \
    ATTR static float NAME(long iters) {                                                   \
        NAME##_vec a[FMA_CHAINS], x = {0}, y = {0};                                        \
        for (int i = 0; i < FMA_CHAINS; i++) a[i] = (NAME##_vec){0} + (float)i;            \
        x += 0.999f, y += 1e-3f; /* a stays bounded: a -> y / (1 - x) */                   \
        __asm__ volatile("" : "+v"(x), "+v"(y)); /* unknown to the compiler: no folding */ \
        for (long it = 0; it < iters; it++)                                                \
            for (int i = 0; i < FMA_CHAINS; i++) a[i] = a[i] * x + y;                      \
        NAME##_vec s = {0};                                                                \
        for (int i = 0; i < FMA_CHAINS; i++) s += a[i];                                    \
        return s[0];                                                                       \
    }
FMA_CHAINS_FN(fma_chains, 8, __attribute__((unused)))
FMA_CHAINS_FN(fma_chains_wide, 16, __attribute__((unused, target("avx512f"))))

/* The vector width, in floats, the FMA peak is measured at (gemm's). */
static inline int fma_lanes(void) { return gemm_wide(-1) ? 16 : 8; }

/* The float FMA peak of `threads` threads in GFLOP/s (2 flops per multiply-
 * add per lane, at fma_lanes()): every thread runs the chains for about
 * 50 ms and divides its flops by its own CPU time (thread_seconds), so time
 * spent descheduled by other programs does not lower the peak; the threads'
 * rates add up. Best of 5. */
static inline double fma_peak_gflops(int threads) {
    const int lanes = fma_lanes();
    float (*chains)(long) = lanes == 16 ? fma_chains_wide : fma_chains;
    const double flop_per_iter = 2.0 * lanes * FMA_CHAINS;
    volatile float sink = 0;
    long iters = 1 << 16;
    double t0 = thread_seconds();
    sink += chains(iters); /* calibrate: iterations for about 50 ms */
    double t = thread_seconds() - t0;
    iters = (long)(iters * 0.05 / (t > 1e-6 ? t : 1e-6)) + 1;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double rate = 0;
        float s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : s, rate)
        {
            double c0 = thread_seconds();
            s += chains(iters);
            rate += iters * flop_per_iter / (thread_seconds() - c0) * 1e-9;
        }
        sink += s;
        if (rate > best) best = rate;
    }
    (void)sink;
    return best;
}

/* One line for a timed step: its flops (counted by the caller: 2 per
 * multiply-add of its matrix products and convolutions), the median ms per
 * step, the effective GFLOP/s = flops / time, and its share of `peak`
 * (fma_peak_gflops at the thread count the step ran with). */
static inline void print_step_flops(const char *what, double flop, double ms, double peak) {
    double gflops = flop / (ms * 1e-3) * 1e-9;
    printf("  %-24s %8.3f GFLOP  %9.3f ms  %7.1f GFLOP/s  %5.1f %% of the %.0f GFLOP/s FMA peak\n", what,
           flop * 1e-9, ms, gflops, 100 * gflops / peak, peak);
}

/* ---- what a step computes and holds ----------------------------------------- */

/* One matrix product of a step: `count` products of op(A) [M, K] by
 * op(B) [K, N], each 2 M N K FLOPs. */
typedef struct {
    int count, M, N, K, ta, tb;
} Product;

#define MAX_NODE_PRODUCTS 6

/* The products node t's forward and backward make, as gemm shapes (into
 * p[MAX_NODE_PRODUCTS]); returns how many: the forward one(s) and, when a
 * gradient reaches t, one more per input its backward differentiates.
 * Products: matmul and linear (out [..., N] summed over K), conv2d and
 * conv_transpose2d (every output pixel sums C k k terms; transposed, every
 * input pixel spreads over O k k), and causal attention's q k^T and p v per
 * head (two forward, four backward), counted over every key, the masked ones
 * too, as PyTorch's counters do. Everything else (softmax, layernorm, GELU,
 * adds, the optimizer) is not counted: a few flops per number, next to a
 * product's K. */
static inline int node_products(const Tensor *t, Product *p) {
    const Tensor *a = t->in[0], *b = t->in[1];
    int n = 0, back = t->grad != NULL;
#define PRODUCT(c, m, nn, k, ta_, tb_) (p[n++] = (Product){(c), (m), (nn), (k), (ta_), (tb_)})
    switch (t->op) {
    case OP_MATMUL: { /* a [..., M, K] (or [..., K, M] when ta), out [..., M, N] */
        int M = t->shape[t->ndim - 2], N = t->shape[t->ndim - 1];
        int K = a->shape[a->ndim - 2 + !t->ip[0]], c = (int)(t->size / ((long)M * N));
        PRODUCT(c, M, N, K, 0, 0);
        if (back && a->grad) PRODUCT(c, M, K, N, 0, 1); /* dA = dC B^T */
        if (back && b->grad) PRODUCT(c, K, N, M, 1, 0); /* dB = A^T dC */
        break;
    }
    case OP_LINEAR: { /* x [R, K] @ w [N, K]^T */
        int K = a->shape[a->ndim - 1], N = t->shape[t->ndim - 1], R = (int)(t->size / N);
        PRODUCT(1, R, N, K, 0, 1);
        if (back && a->grad) PRODUCT(1, R, K, N, 0, 0); /* dx = du w */
        if (back && b->grad) PRODUCT(1, N, K, R, 1, 0); /* dw = du^T x */
        break;
    }
    case OP_CONV2D: { /* rows [NP, KK] @ W^T [KK, O] */
        int O = b->shape[0], KK = b->shape[1] * b->shape[2] * b->shape[3], NP = (int)(t->size / O);
        PRODUCT(1, NP, O, KK, 0, 1);
        if (back && a->grad) PRODUCT(1, NP, KK, O, 0, 0); /* drows = dout W */
        if (back && b->grad) PRODUCT(1, O, KK, NP, 1, 0); /* dW = dout^T rows */
        break;
    }
    case OP_CONV_TRANSPOSE2D: { /* rows [NP, KK] = x^T [NP, C] @ W [C, KK] */
        int C = b->shape[0], KK = b->shape[1] * b->shape[2] * b->shape[3], NP = (int)(a->size / C);
        PRODUCT(1, NP, KK, C, 0, 0);
        if (back && a->grad) PRODUCT(1, NP, C, KK, 0, 1); /* dx^T = drows W^T */
        if (back && b->grad) PRODUCT(1, C, KK, NP, 1, 0); /* dW = x drows */
        break;
    }
    case OP_CAUSAL_ATTENTION: { /* qkv [B, T, 3C], per batch and head: S = Q K^T, Y = P V */
        int T = a->shape[1], hd = a->shape[2] / 3 / t->ip[0], c = a->shape[0] * t->ip[0];
        PRODUCT(c, T, T, hd, 0, 1);
        PRODUCT(c, T, hd, T, 0, 0);
        if (back && a->grad) {
            PRODUCT(c, T, hd, T, 1, 0); /* dV = P^T dY */
            PRODUCT(c, T, T, hd, 0, 1); /* dP = dY V^T */
            PRODUCT(c, T, hd, T, 0, 0); /* dQ = dS K */
            PRODUCT(c, T, hd, T, 1, 0); /* dK = dS^T Q */
        }
        break;
    }
    default:
        break;
    }
#undef PRODUCT
    return n;
}

/* The flops of products p[0..n): 2 per multiply-add. */
static inline double products_flops(const Product *p, int n) {
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * p[i].count * p[i].M * p[i].N * p[i].K;
    return f;
}

/* The process's peak memory so far: its largest resident set (getrusage's
 * ru_maxrss, in kB on Linux), in MB. */
static inline double max_rss_mb(void) {
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss / 1e3 : -1;
}

/* ---- the step report every model bench prints --------------------------------- */

/* A step timed at one thread count: median wall ms and CPU ms (all threads). */
typedef struct {
    int threads;
    double ms, cpu_ms;
} StepTiming;

/* Times step(ctx) by time_steps at 1 thread, then at the default thread
 * count if that is more, into tm[]; returns how many entries (1 or 2). The
 * last is the default count's: the chapters' setting, the one compared with
 * PyTorch. */
static inline int step_timings(void (*step)(void *), void *ctx, int warm, int reps, StepTiming tm[2]) {
    int most = omp_get_max_threads(), n = most > 1 ? 2 : 1;
    tm[0].threads = 1;
    tm[n - 1].threads = most;
    for (int i = 0; i < n; i++) tm[i].ms = time_steps(step, ctx, tm[i].threads, warm, reps, &tm[i].cpu_ms);
    omp_set_num_threads(most);
    return n;
}

/* The lines every model bench prints for its step: its FLOPs (`flop`, from
 * step_products_add), then per timing the median ms, the effective GFLOP/s
 * (flop / ms) and its share of the FMA peak measured now at that thread
 * count (fma_peak_gflops); then the same by CPU time (flop / (CPU ms /
 * threads)): on a busy machine the wall clock counts time spent
 * descheduled and the CPU time does not, though at 2 threads it counts a
 * thread's spinning at a barrier as work. Then the memory (the step's arenas,
 * arena_bytes, and the process's max RSS), the load average, and last
 * `result <model> <ms>` at the default thread count (tm[n - 1]), the line
 * bench/peers/compare.py reads. */
static inline void print_step_report(const char *model, double flop, const StepTiming *tm, int n,
                                     double arena_bytes) {
    printf("  FLOPs per step %.3f GFLOP (2 per multiply-add of its matrix products, convolutions and attention,\n"
           "    forward and backward, counted from the shapes on its tapes: node_products in bench_util.h)\n",
           flop * 1e-9);
    printf("  %-10s %9s %9s %7s %9s | %9s %9s %7s  (CPU ms: all threads' CPU time per step)\n", "", "ms",
           "GFLOP/s", "of peak", "FMA peak", "CPU ms", "GFLOP/s", "of peak");
    for (int i = 0; i < n; i++) {
        double peak = fma_peak_gflops(tm[i].threads), gflops = flop / (tm[i].ms * 1e-3) * 1e-9;
        double cpu_gflops = flop / (tm[i].cpu_ms / tm[i].threads * 1e-3) * 1e-9;
        printf("  %d thread%s  %9.3f %9.1f %6.1f%% %9.1f | %9.3f %9.1f %6.1f%%\n", tm[i].threads,
               tm[i].threads > 1 ? "s" : " ", tm[i].ms, gflops, 100 * gflops / peak, peak, tm[i].cpu_ms, cpu_gflops,
               100 * cpu_gflops / peak);
    }
    printf("  memory    arena %.1f MB (the step's tapes), peak RSS %.1f MB (the process's max resident set)\n",
           arena_bytes / 1e6, max_rss_mb());
    double load = load_average();
    printf("  load average (1 min) %.2f on %d cores%s\n", load, omp_get_num_procs(),
           load > 1.5 ? ": busy; the wall clock (ms, GFLOP/s) counts time spent descheduled,\n"
                        "    the CPU time does not (and OMP_WAIT_POLICY=passive helps: bench/README.md)"
                      : "");
    printf("result %s %.3f\n", model, tm[n - 1].ms);
}

/* ---- the ceiling: the step's products alone ---------------------------------- */

/* Runs products p[0..n) once with gemm (gemm_batched where count > 1) on
 * the operands A, B, C, each large enough for any of them. */
static inline void run_products(const Product *p, int n, const real *A, const real *B, real *C) {
    for (int i = 0; i < n; i++) {
        const Product *q = &p[i];
        int lda = q->ta ? q->M : q->K, ldb = q->tb ? q->K : q->N;
        long sA = (long)q->M * q->K, sB = (long)q->K * q->N, sC = (long)q->M * q->N;
        if (q->count > 1)
            gemm_batched(q->count, q->M, q->N, q->K, A, lda, sA, q->ta, B, ldb, sB, q->tb, C, q->N, sC, 0);
        else
            gemm(q->M, q->N, q->K, A, lda, q->ta, B, ldb, q->tb, C, q->N, 0);
    }
}

/* A step's products: those of every node on its tapes, and their FLOPs. */
typedef struct {
    Product p[4096];
    int n;
    double flop;
} StepProducts;

/* Adds the products of the nodes on T (as they stand now: a frozen
 * parameter set's weights take no gradient) and their FLOPs to sp. */
static inline void step_products_add(StepProducts *sp, const Tape *T) {
    for (int i = 0; i < tape_len(T); i++) {
        const Tensor *t = tape_node_at(T, i);
        if (sp->n + MAX_NODE_PRODUCTS > (int)(sizeof sp->p / sizeof sp->p[0]))
            fail(EXIT_SOFTWARE, "step_products_add", "raise the size of StepProducts.p", "more than %d products",
                 (int)(sizeof sp->p / sizeof sp->p[0]));
        int k = node_products(t, sp->p + sp->n);
        sp->flop += products_flops(sp->p + sp->n, k);
        sp->n += k;
    }
}

/* The most the step could reach: its matrix products (sp) alone, run by
 * gemm on their shapes, median of `reps` rounds at each timing's thread
 * count (1 thread: the thread's CPU time; more: the wall clock). If every
 * other op of the step took no time, the step would run at this share of
 * the FMA peak, and no faster while its products run at gemm's speed. */
static inline void print_products_ceiling(const StepProducts *sp, const StepTiming *tm, int ntm, int reps) {
    const Product *p = sp->p;
    const int n = sp->n;
    long most = 1;
    for (int i = 0; i < n; i++) {
        long a = (long)p[i].count * p[i].M * p[i].K, b = (long)p[i].count * p[i].K * p[i].N,
             c = (long)p[i].count * p[i].M * p[i].N;
        most = a > most ? a : most, most = b > most ? b : most, most = c > most ? c : most;
    }
    real *A = xmalloc(most * sizeof(real)), *B = xmalloc(most * sizeof(real)), *C = xmalloc(most * sizeof(real));
    Rng r;
    rng_stream(&r, 0, "bench/products");
    rng_fill_uniform(&r, A, most, -1, 1);
    rng_fill_uniform(&r, B, most, -1, 1);
    printf("  ceiling: its %d matrix products alone, by gemm on the same shapes, median of %d\n"
           "    rounds (1 thread: the thread's CPU time; more: the wall clock). With every other op\n"
           "    free, the step would run at the products' GFLOP/s, and no faster while they run\n"
           "    at gemm's speed:\n", n, reps);
    printf("  %-10s %9s %9s %7s   %s\n", "", "ms", "GFLOP/s", "of peak", "share of the step's time");
    for (int i = 0; i < ntm; i++) {
        int th = tm[i].threads;
        double v[BENCH_MAX_REPS];
        omp_set_num_threads(th);
        run_products(p, n, A, B, C); /* warm up */
        for (int j = 0; j < reps; j++) {
            double t0 = th == 1 ? thread_seconds() : now_seconds();
            run_products(p, n, A, B, C);
            v[j] = (th == 1 ? thread_seconds() : now_seconds()) - t0;
        }
        double ms = 1e3 * median(v, reps), gflops = sp->flop / (ms * 1e-3) * 1e-9;
        double step_ms = th == 1 ? tm[i].cpu_ms : tm[i].ms; /* the same clock as the products' */
        printf("  %d thread%s  %9.3f %9.1f %6.1f%%   %5.1f%%\n", th, th > 1 ? "s" : " ", ms, gflops,
               100 * gflops / fma_peak_gflops(th), 100 * ms / step_ms);
    }
    omp_set_num_threads(tm[ntm - 1].threads);
    xfree(A), xfree(B), xfree(C);
}

/* The report and ceiling of a GAN iteration: D's step on td, then G's step
 * on tg, which runs D (parameter set d) frozen, without its weight
 * gradients; its tape is counted so. */
static inline void print_gan_step_report(const char *model, const Tape *td, const Tape *tg, ParamSet *d,
                                         const StepTiming *tm, int ntm, int reps) {
    static StepProducts sp;
    sp.n = 0, sp.flop = 0;
    step_products_add(&sp, td);
    params_freeze(d, 1);
    step_products_add(&sp, tg);
    params_freeze(d, 0);
    print_step_report(model, sp.flop, tm, ntm, (double)(tape_bytes(td) + tape_bytes(tg)));
    print_products_ceiling(&sp, tm, ntm, reps);
}

/* ---- where the time goes: per-op profile ------------------------------------ */

/* Replays every node of T (forward in order, backward in reverse), adding
 * seconds by `timer` per op kind into f_op, b_op [OP_COUNT] and node counts
 * into count [OP_COUNT]. */
static inline void replay(Tape *T, double (*timer)(void), double *f_op, double *b_op, int *count) {
    for (int i = 0; i < tape_len(T); i++) {
        Tensor *t = tape_node_at(T, i);
        if (t->op == OP_LEAF) continue;
        double t0 = timer();
        OPS[t->op].forward(t);
        f_op[t->op] += timer() - t0;
        count[t->op]++;
    }
    for (int i = tape_len(T) - 1; i >= 0; i--) {
        Tensor *t = tape_node_at(T, i);
        if (t->op == OP_LEAF || !t->grad) continue;
        double t0 = timer();
        OPS[t->op].backward(t);
        b_op[t->op] += timer() - t0;
    }
}

/* Seconds of f_op and b_op together, every op kind. */
static inline double ops_total(const double *f_op, const double *b_op) {
    double all = 0;
    for (int k = 0; k < OP_COUNT; k++) all += f_op[k] + b_op[k];
    return all;
}

/* One line per op kind seen in n replays: name, nodes per replay, mean ms
 * forward and backward, share of `all` seconds. name_w, count_w, ms_w and
 * ms_prec set the column widths and the ms decimals. */
static inline void print_ops(const double *f_op, const double *b_op, const int *count, int n, double all,
                             int name_w, int count_w, int ms_w, int ms_prec) {
    for (int k = 1; k < OP_COUNT; k++)
        if (count[k])
            printf("    %-*s x%-*d %*.*f ms %*.*f ms  %5.1f %%\n", name_w, OPS[k].name, count_w, count[k] / n, ms_w,
                   ms_prec, 1e3 * f_op[k] / n, ms_w, ms_prec, 1e3 * b_op[k] / n, 100 * (f_op[k] + b_op[k]) / all);
}

/* The profile of a step already on T: replay it reps times by the wall
 * clock and print a line per op kind (columns as print_ops). */
static inline void print_profile(Tape *T, int reps, int name_w, int count_w, int ms_w, int ms_prec) {
    double f_op[OP_COUNT] = {0}, b_op[OP_COUNT] = {0};
    int count[OP_COUNT] = {0};
    for (int rep = 0; rep < reps; rep++) replay(T, now_seconds, f_op, b_op, count);
    printf("  by op (mean per step; forward, backward, share of the ops' total):\n");
    print_ops(f_op, b_op, count, reps, ops_total(f_op, b_op), name_w, count_w, ms_w, ms_prec);
}

/* The op rows of a one-thread breakdown over n iterations, under a header,
 * and the closing "sum" line; `all` is every second the breakdown counted. */
static inline void print_op_breakdown(const double *f_op, const double *b_op, const int *count, int n, double all) {
    printf("    %-16s %5s %9s %9s\n", "op", "nodes", "forward", "backward");
    print_ops(f_op, b_op, count, n, all, 16, 4, 6, 3);
    printf("    %-22s %7.3f ms (the step's own median above also holds tape and zeroing overheads)\n", "sum",
           1e3 * all / n);
}

#endif
