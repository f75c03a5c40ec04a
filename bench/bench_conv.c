/* bench_conv.c - the image GAN's four convolutions, forward and backward, timed.
 *
 * Teaches: where an image-GAN iteration spends 89 % of its time, one layer at
 * a time: D's Conv(1->32, k3 s2 p1) on 28x28 and Conv(32->64, k3 s2 p1) on
 * 14x14, G's ConvT(128->64, k4 s2 p1) 7->14 and ConvT(64->1, k4 s2 p1)
 * 14->28, batch 64. Forward is one op call; backward is the op's backward
 * with every input carrying a gradient (dx, dW and db: all three directions).
 * Each is reported as median ms and effective GFLOP/s (2 flops per
 * multiply-add of the convolution itself, not of any scratch work), at one
 * thread by the thread's CPU clock (time descheduled by other programs does
 * not count) and at the default thread count by the wall clock.
 * Leaves out: the rest of the iteration (bench_dcgan times it all).
 *
 * Built with -DCONV_BEFORE and linked with an older ops_conv.c whose public
 * symbols carry the prefix before_ (see bench/README.md), it also times that
 * version on the same data, interleaved run by run, and prints before / now:
 * a ratio from one run, so a busy machine slows both sides alike; it first
 * checks that both give the same output and gradients, bit for bit.
 *
 * Run: make bench (or build/bench/bench_conv [--quick] [layer 0..3])
 */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

#ifdef CONV_BEFORE
Tensor *before_t_conv2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad);
Tensor *before_t_conv_transpose2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad);
void before_fwd_conv2d(Tensor *out);
void before_bwd_conv2d(Tensor *out);
void before_fwd_conv_transpose2d(Tensor *out);
void before_bwd_conv_transpose2d(Tensor *out);
#endif

enum { BATCH = 64, SIDES = 2 };

/* One layer: conv2d (transposed = 0) or conv_transpose2d, x [BATCH, C, H, H]. */
typedef struct {
    const char *name;
    int transposed, C, O, H, k, stride, pad;
} Layer;

static const Layer LAYERS[] = {
    {"D conv 1->32 k3 s2 28->14", 0, 1, 32, 28, 3, 2, 1},
    {"D conv 32->64 k3 s2 14->7", 0, 32, 64, 14, 3, 2, 1},
    {"G convT 128->64 k4 s2 7->14", 1, 128, 64, 7, 4, 2, 1},
    {"G convT 64->1 k4 s2 14->28", 1, 64, 1, 14, 4, 2, 1},
};
#define NLAYERS ((int)(sizeof LAYERS / sizeof LAYERS[0]))

/* A built node and the functions that replay it. */
typedef struct {
    Tensor *out;
    void (*fwd)(Tensor *), (*bwd)(Tensor *);
} Node;

/* Builds the layer on T with random x, w, b (same stream: same data on both
 * sides) and a random output gradient. */
static Node build(Tape *T, const Layer *l, int before) {
    Rng r;
    rng_stream(&r, 0, "bench/conv");
    int wshape[4] = {l->transposed ? l->C : l->O, l->transposed ? l->O : l->C, l->k, l->k};
    Tensor *x = tape_input(T, 4, SHAPE(BATCH, l->C, l->H, l->H), 1);
    Tensor *w = tape_input(T, 4, wshape, 1), *b = tape_input(T, 1, SHAPE(l->O), 1);
    rng_fill_uniform(&r, x->data, x->size, -1, 1);
    rng_fill_uniform(&r, w->data, w->size, -0.1, 0.1);
    rng_fill_uniform(&r, b->data, b->size, -0.1, 0.1);
    Node n = {0};
    (void)before;
#ifdef CONV_BEFORE
    if (before) {
        n.out = l->transposed ? before_t_conv_transpose2d(T, x, w, b, l->stride, l->pad)
                              : before_t_conv2d(T, x, w, b, l->stride, l->pad);
        n.fwd = l->transposed ? before_fwd_conv_transpose2d : before_fwd_conv2d;
        n.bwd = l->transposed ? before_bwd_conv_transpose2d : before_bwd_conv2d;
    } else
#endif
    {
        n.out = l->transposed ? t_conv_transpose2d(T, x, w, b, l->stride, l->pad)
                              : t_conv2d(T, x, w, b, l->stride, l->pad);
        n.fwd = OPS[n.out->op].forward;
        n.bwd = OPS[n.out->op].backward;
    }
    rng_fill_uniform(&r, n.out->grad, n.out->size, -1, 1);
    return n;
}

/* Stops unless the two versions' outputs and x, w, b grads are the same bits. */
static void same_bits(const Layer *l, const Tensor *now, const Tensor *before) {
    const char *what[4] = {"output", "x grad", "w grad", "b grad"};
    for (int i = 0; i < 4; i++) {
        const Tensor *a = i ? now->in[i - 1] : now, *b = i ? before->in[i - 1] : before;
        const real *u = i ? a->grad : a->data, *v = i ? b->grad : b->data;
        for (long j = 0; j < a->size; j++)
            if (memcmp(&u[j], &v[j], sizeof(real)))
                fail(EXIT_SOFTWARE, "bench_conv", "the two versions must agree bit for bit",
                     "%s: %s differs at %ld: now %.9g, before %.9g", l->name, what[i], j, (double)u[j],
                     (double)v[j]);
    }
}

/* Multiply-adds of the convolution: every (input pixel, output channel, tap)
 * of a transposed one, every (output pixel, input channel, tap) of a conv. */
static double flops(const Layer *l, const Tensor *out) {
    double k2 = (double)l->k * l->k;
    if (l->transposed) return 2.0 * BATCH * l->C * l->H * l->H * l->O * k2;
    return 2.0 * out->size * l->C * k2;
}

/* Median ms of `reps` timings of f(out) by `clock`, each the mean of `inner` calls. */
static double time_ms(void (*f)(Tensor *), Tensor *out, int reps, int inner, double (*clock)(void)) {
    double t[BENCH_MAX_REPS];
    f(out); /* warm: caches, page faults, the thread team */
    for (int r = 0; r < reps; r++) {
        double t0 = clock();
        for (int i = 0; i < inner; i++) f(out);
        t[r] = 1e3 * (clock() - t0) / inner;
    }
    return median(t, reps);
}

int main(int argc, char **argv) {
    int quick = 0, only = -1; /* --quick; a number 0..3: that layer alone */
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0)
            quick = 1;
        else if (argv[a][0] >= '0' && argv[a][0] < '0' + NLAYERS && !argv[a][1])
            only = argv[a][0] - '0';
        else
            fail(EXIT_USAGE, "bench_conv", "usage: bench_conv [--quick] [layer 0..3]", "unknown argument %s",
                 argv[a]);
    }
    int reps = quick ? 5 : 21, inner = quick ? 2 : 5;
    int threads = omp_get_max_threads();
    double load0 = load_average();
    int sides = 1;
#ifdef CONV_BEFORE
    sides = SIDES;
#endif
    printf("image-GAN convolutions, float, batch %d, median of %d (each the mean of %d calls), %d threads%s\n",
           BATCH, reps, inner, threads, sides > 1 ? "; before = the older ops_conv.c, linked in" : "");
    printf("  (th 1: the thread's CPU time, which a busy machine does not inflate; th %d: wall clock)\n",
           threads);
    printf("  %-28s %4s | %8s %7s | %8s %7s%s\n", "layer", "th", "fwd ms", "GFLOP/s", "bwd ms", "GFLOP/s",
           sides > 1 ? " | before fwd/bwd ms | now / before fwd, bwd" : "");
    double tot[SIDES][2] = {{0}}, flop_all = 0; /* at the default thread count */
    for (int th = 1; th <= threads; th += threads > 1 ? threads - 1 : 1) {
        omp_set_num_threads(th);
        for (int i = 0; i < NLAYERS; i++) {
            if (only >= 0 && i != only) continue;
            const Layer *l = &LAYERS[i];
            double ms[SIDES][2];
            double f = 0;
            Tape *T[SIDES];
            Node n[SIDES];
            for (int s = 0; s < sides; s++) {
                T[s] = tape_new();
                n[s] = build(T[s], l, s);
                n[s].bwd(n[s].out); /* once, from zero grads, for the comparison */
            }
            if (sides > 1) same_bits(l, n[0].out, n[1].out);
            for (int s = sides - 1; s >= 0; s--) { /* before first, then now */
                f = flops(l, n[s].out);
                double (*clock)(void) = th == 1 ? thread_seconds : now_seconds;
                ms[s][0] = time_ms(n[s].fwd, n[s].out, reps, inner, clock);
                ms[s][1] = time_ms(n[s].bwd, n[s].out, reps, inner, clock);
                if (th == threads) tot[s][0] += ms[s][0], tot[s][1] += ms[s][1], flop_all += s ? 0 : f;
                tape_free(T[s]);
            }
            printf("  %-28s %4d | %8.3f %7.1f | %8.3f %7.1f", l->name, th, ms[0][0], f / ms[0][0] * 1e-6,
                   ms[0][1], 2 * f / ms[0][1] * 1e-6);
            if (sides > 1)
                printf(" | %8.3f %8.3f | %5.2f %5.2f", ms[1][0], ms[1][1], ms[0][0] / ms[1][0],
                       ms[0][1] / ms[1][1]);
            printf("\n");
        }
    }
    double peak = fma_peak_gflops(threads);
    print_step_flops("all four, forward", flop_all, tot[0][0], peak);
    print_step_flops("all four, backward", 2 * flop_all, tot[0][1], peak);
    printf("  all four at %d threads: forward %.2f ms, backward %.2f ms", threads, tot[0][0], tot[0][1]);
    if (sides > 1)
        printf("; before %.2f, %.2f ms; now / before %.2f (forward + backward)", tot[1][0], tot[1][1],
               (tot[0][0] + tot[0][1]) / (tot[1][0] + tot[1][1]));
    printf("\n  load average (1 min) %.2f before, %.2f after, on %d cores\n", load0, load_average(),
           omp_get_num_procs());
    return 0;
}
