/* test_ops_conv.c - conv2d and conv_transpose2d: values, gradients, shapes.
 *
 * Proves: conv2d computes the textbook direct sum (a hand-computed case and
 * random cases against a plain 7-deep loop); conv_transpose2d is conv2d's
 * adjoint (<conv2d(x), y> == <x, conv_transpose2d(y)> with the same weight)
 * and matches its own direct scatter loop; both backward passes match
 * central differences w.r.t. x, w and bias over strides 1 and 2, pads 0 and
 * 1, kernels 3 and 4, N, C, O > 1, H != W, with and without bias, and with x
 * carrying no gradient; batches of several of the kernels' 4-image chunks
 * (one partial) give the direct loops' values, dx and dW; parameter grads
 * accumulate (+=); one and two threads
 * give identical bits; the reference GAN layers have the documented shapes;
 * bad shapes stop with EXIT_SOFTWARE.
 * Leaves out: speed (timed outside the test suite).
 *
 * Built in the double build (-DREAL_DOUBLE).
 * Tolerances:
 *   gradients: check_util.h (h = 1e-5, relative error <= 1e-6).
 *   values: |fast - direct| <= 1e-12 * sum of |terms| per element. Both sum
 *   the same <= 48 products in different orders (GEMM blocking, FMA); each is
 *   within ~48 u sum|terms| = 5e-15 of the exact sum. An indexing mistake is
 *   off by O(1) relative to that magnitude.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

#define VTOL 1e-12

/* ---- Configurations ------------------------------------------------------- */

typedef struct {
    int N, C, O, H, W, k, stride, pad, bias;
} Cfg;

/* Every combination the op must handle: stride 1/2, pad 0/1, k 3/4, H != W,
 * and the GAN's own (k4 s2 p1 transposed, k3 s2 p1 forward). ops_conv.c runs
 * a product position-major or channel-major (channel_major: more positions
 * than channels or not); the last two have more channels than positions, so
 * both ways are checked (conv2d's forward with 12 outputs at 2x2; the
 * transposed op's dx with 12 inputs at 2x3). */
static const Cfg CFGS[] = {
    {2, 3, 2, 5, 6, 3, 1, 0, 1}, {2, 2, 3, 6, 5, 3, 1, 1, 1}, {3, 2, 2, 7, 6, 3, 2, 1, 0},
    {2, 3, 2, 6, 7, 4, 2, 1, 1}, {2, 2, 3, 5, 7, 4, 1, 0, 0}, {2, 2, 2, 8, 6, 4, 2, 0, 1},
    {1, 1, 1, 4, 4, 3, 1, 1, 1}, {2, 2, 12, 4, 4, 3, 1, 0, 1}, {2, 12, 2, 2, 3, 4, 2, 1, 1},
};
#define NCFG ((int)(sizeof CFGS / sizeof CFGS[0]))

static int conv_out(int H, const Cfg *c) { return (H + 2 * c->pad - c->k) / c->stride + 1; }
static int convt_out(int H, const Cfg *c) { return (H - 1) * c->stride - 2 * c->pad + c->k; }

#define CFG_FMT "N=%d C=%d O=%d H=%d W=%d k=%d stride=%d pad=%d bias=%d"
#define CFG_ARGS(c) (c)->N, (c)->C, (c)->O, (c)->H, (c)->W, (c)->k, (c)->stride, (c)->pad, (c)->bias

/* ---- Direct loops: the definitions, written as plainly as possible -------- */

/* out[n,o,oh,ow] = b[o] + sum_{c,i,j} x[n,c,oh*s-p+i, ow*s-p+j] w[o,c,i,j];
 * mag gets sum of |terms| for the tolerance. */
static void direct_conv2d(const Cfg *c, const real *x, const real *w, const real *b, double *out, double *mag) {
    int Ho = conv_out(c->H, c), Wo = conv_out(c->W, c), k = c->k;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->O; o++)
            for (int oh = 0; oh < Ho; oh++)
                for (int ow = 0; ow < Wo; ow++) {
                    double s = b ? b[o] : 0, m = b ? fabs(b[o]) : 0;
                    for (int ch = 0; ch < c->C; ch++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int ih = oh * c->stride - c->pad + i, iw = ow * c->stride - c->pad + j;
                                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                                double t = x[((n * c->C + ch) * c->H + ih) * c->W + iw] *
                                           w[((o * c->C + ch) * k + i) * k + j];
                                s += t;
                                m += fabs(t);
                            }
                    long at = ((long)(n * c->O + o) * Ho + oh) * Wo + ow;
                    out[at] = s;
                    mag[at] = m;
                }
}

/* The scatter form of the transposed convolution: every input pixel adds
 * x[n,c,ih,iw] * w[c,o,:,:] onto the output window at (ih*s-p, iw*s-p). */
static void direct_conv_transpose2d(const Cfg *c, const real *x, const real *w, const real *b, double *out,
                                    double *mag) {
    int Ho = convt_out(c->H, c), Wo = convt_out(c->W, c), k = c->k;
    long size = (long)c->N * c->O * Ho * Wo;
    for (long i = 0; i < size; i++) {
        int o = (int)(i / ((long)Ho * Wo) % c->O);
        out[i] = b ? b[o] : 0;
        mag[i] = b ? fabs(b[o]) : 0;
    }
    for (int n = 0; n < c->N; n++)
        for (int ch = 0; ch < c->C; ch++)
            for (int ih = 0; ih < c->H; ih++)
                for (int iw = 0; iw < c->W; iw++)
                    for (int o = 0; o < c->O; o++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int oh = ih * c->stride - c->pad + i, ow = iw * c->stride - c->pad + j;
                                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                                double t = x[((n * c->C + ch) * c->H + ih) * c->W + iw] *
                                           w[((ch * c->O + o) * k + i) * k + j];
                                long at = ((long)(n * c->O + o) * Ho + oh) * Wo + ow;
                                out[at] += t;
                                mag[at] += fabs(t);
                            }
}

/* Assert got == want within VTOL * mag, printing the worst entry. */
static void expect_values(const char *label, const Cfg *c, const Tensor *got, const double *want,
                          const double *mag) {
    double worst = 0;
    long at = 0;
    for (long i = 0; i < got->size; i++) {
        double rel = fabs(got->data[i] - want[i]) / fmax(mag[i], 1e-300);
        if (fabs(got->data[i] - want[i]) > 0 && rel > worst) worst = rel, at = i;
    }
    cr_assert(worst <= VTOL, "%s (" CFG_FMT "): worst relative difference %.3e > %.0e at entry %ld (got %.17g, want %.17g)",
              label, CFG_ARGS(c), worst, VTOL, at, (double)got->data[at], want[at]);
}

/* ---- Forward values --------------------------------------------------------- */

Test(conv2d, known_small_input_gives_hand_computed_output) {
    /* x = 1..9 as 3x3; w = [[1, 0], [0, -1]]: out = x[i][j] - x[i+1][j+1] = -4
     * everywhere, plus bias 0.5. With pad 1 and stride 2, out[oh][ow] =
     * x[2oh-1][2ow-1] - x[2oh][2ow] (0 off the image): [[-1, -3], [-7, 5 - 9]] + 0.5. */
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 4, SHAPE(1, 1, 3, 3), 0);
    Tensor *w = tape_input(T, 4, SHAPE(1, 1, 2, 2), 0);
    Tensor *b = tape_input(T, 1, SHAPE(1), 0);
    for (int i = 0; i < 9; i++) x->data[i] = i + 1;
    w->data[0] = 1, w->data[3] = -1;
    b->data[0] = 0.5;
    Tensor *y = t_conv2d(T, x, w, b, 1, 0);
    cr_assert(y->shape[2] == 2 && y->shape[3] == 2, "shape %dx%d, want 2x2", y->shape[2], y->shape[3]);
    for (int i = 0; i < 4; i++) cr_assert(y->data[i] == -3.5, "out[%d] = %g, want -3.5", i, (double)y->data[i]);
    Tensor *z = t_conv2d(T, x, w, b, 2, 1);
    const double want[4] = {-1 + 0.5, -3 + 0.5, -7 + 0.5, -4 + 0.5};
    cr_assert(z->shape[2] == 2 && z->shape[3] == 2, "shape %dx%d, want 2x2", z->shape[2], z->shape[3]);
    for (int i = 0; i < 4; i++)
        cr_assert(z->data[i] == want[i], "pad 1 stride 2: out[%d] = %g, want %g", i, (double)z->data[i], want[i]);
    tape_free(T);
}

Test(conv2d, forward_matches_direct_loop) {
    Rng r;
    rng_seed(&r, 1);
    for (int ci = 0; ci < NCFG; ci++) {
        const Cfg *c = &CFGS[ci];
        Tape *T = tape_new();
        Tensor *x = rand_leaf(T, &r, 4, SHAPE(c->N, c->C, c->H, c->W), -1, 1, 0);
        Tensor *w = rand_leaf(T, &r, 4, SHAPE(c->O, c->C, c->k, c->k), -1, 1, 0);
        Tensor *b = c->bias ? rand_leaf(T, &r, 1, SHAPE(c->O), -1, 1, 0) : NULL;
        Tensor *y = t_conv2d(T, x, w, b, c->stride, c->pad);
        cr_assert(y->shape[0] == c->N && y->shape[1] == c->O && y->shape[2] == conv_out(c->H, c) &&
                      y->shape[3] == conv_out(c->W, c),
                  "shape [%d, %d, %d, %d] for " CFG_FMT, y->shape[0], y->shape[1], y->shape[2], y->shape[3],
                  CFG_ARGS(c));
        double *want = malloc(y->size * sizeof *want), *mag = malloc(y->size * sizeof *mag);
        direct_conv2d(c, x->data, w->data, b ? b->data : NULL, want, mag);
        expect_values("conv2d forward", c, y, want, mag);
        free(want), free(mag);
        tape_free(T);
    }
}

Test(conv_transpose2d, forward_matches_direct_scatter_loop) {
    Rng r;
    rng_seed(&r, 2);
    for (int ci = 0; ci < NCFG; ci++) {
        const Cfg *c = &CFGS[ci];
        Tape *T = tape_new();
        Tensor *x = rand_leaf(T, &r, 4, SHAPE(c->N, c->C, c->H, c->W), -1, 1, 0);
        Tensor *w = rand_leaf(T, &r, 4, SHAPE(c->C, c->O, c->k, c->k), -1, 1, 0);
        Tensor *b = c->bias ? rand_leaf(T, &r, 1, SHAPE(c->O), -1, 1, 0) : NULL;
        Tensor *y = t_conv_transpose2d(T, x, w, b, c->stride, c->pad);
        cr_assert(y->shape[0] == c->N && y->shape[1] == c->O && y->shape[2] == convt_out(c->H, c) &&
                      y->shape[3] == convt_out(c->W, c),
                  "shape [%d, %d, %d, %d] for " CFG_FMT, y->shape[0], y->shape[1], y->shape[2], y->shape[3],
                  CFG_ARGS(c));
        double *want = malloc(y->size * sizeof *want), *mag = malloc(y->size * sizeof *mag);
        direct_conv_transpose2d(c, x->data, w->data, b ? b->data : NULL, want, mag);
        expect_values("conv_transpose2d forward", c, y, want, mag);
        free(want), free(mag);
        tape_free(T);
    }
}

/* <conv2d(x; w), y> == <x, conv_transpose2d(y; w)>: w [O, C, k, k] is a
 * conv2d weight from C to O channels and, read as [C_in = O, C_out = C, k, k],
 * a transposed-conv weight from O back to C. Sizes are chosen so that
 * (H + 2 pad - k) is a multiple of the stride, so conv_transpose2d returns
 * exactly H x W. Tolerance 1e-12 relative to sum |x| |conv_transpose2d(y)|
 * (same sums, two orders). */
Test(conv_transpose2d, is_the_adjoint_of_conv2d) {
    static const Cfg cfgs[] = {
        {2, 3, 2, 5, 6, 3, 1, 0, 0}, {2, 2, 3, 7, 5, 3, 2, 1, 0}, {2, 3, 2, 8, 6, 4, 2, 1, 0},
        {3, 2, 4, 6, 8, 4, 2, 0, 0}, {2, 1, 32, 27, 29, 3, 2, 1, 0}, /* D's first layer's kernel */
    };
    Rng r;
    rng_seed(&r, 3);
    for (int ci = 0; ci < (int)(sizeof cfgs / sizeof cfgs[0]); ci++) {
        const Cfg *c = &cfgs[ci];
        cr_assert((c->H + 2 * c->pad - c->k) % c->stride == 0 && (c->W + 2 * c->pad - c->k) % c->stride == 0,
                  "bad test configuration %d", ci);
        Tape *T = tape_new();
        Tensor *x = rand_leaf(T, &r, 4, SHAPE(c->N, c->C, c->H, c->W), -1, 1, 0);
        Tensor *w = rand_leaf(T, &r, 4, SHAPE(c->O, c->C, c->k, c->k), -1, 1, 0);
        Tensor *y = rand_leaf(T, &r, 4, SHAPE(c->N, c->O, conv_out(c->H, c), conv_out(c->W, c)), -1, 1, 0);
        Tensor *ax = t_conv2d(T, x, w, NULL, c->stride, c->pad);
        Tensor *aty = t_conv_transpose2d(T, y, w, NULL, c->stride, c->pad);
        cr_assert(shape_equal(aty, x), "config %d: conv_transpose2d(y) does not have x's shape", ci);
        double lhs = 0, rhs = 0, mag = 0;
        for (long i = 0; i < y->size; i++) lhs += ax->data[i] * y->data[i];
        for (long i = 0; i < x->size; i++) rhs += x->data[i] * aty->data[i], mag += fabs(x->data[i] * aty->data[i]);
        cr_assert(fabs(lhs - rhs) <= VTOL * mag, "config %d (" CFG_FMT "): <Ax, y> = %.17g, <x, A^T y> = %.17g, difference %.3e",
                  ci, CFG_ARGS(c), lhs, rhs, fabs(lhs - rhs));
        tape_free(T);
    }
}

/* ---- Gradients ----------------------------------------------------------------- */

/* Gradient check of one op over CFGS; x_grad = 0 leaves x without a grad (its
 * backward must then skip dx and still get w and bias right). */
static void check_grads(int transposed, int x_grad, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int ci = 0; ci < NCFG; ci++) {
        const Cfg *c = &CFGS[ci];
        Tape *T = tape_new();
        Tensor *x = rand_leaf(T, &r, 4, SHAPE(c->N, c->C, c->H, c->W), -1, 1, x_grad);
        Tensor *w = transposed ? rand_leaf(T, &r, 4, SHAPE(c->C, c->O, c->k, c->k), -1, 1, 1)
                               : rand_leaf(T, &r, 4, SHAPE(c->O, c->C, c->k, c->k), -1, 1, 1);
        Tensor *b = c->bias ? rand_leaf(T, &r, 1, SHAPE(c->O), -1, 1, 1) : NULL;
        Tensor *y = transposed ? t_conv_transpose2d(T, x, w, b, c->stride, c->pad) : t_conv2d(T, x, w, b, c->stride, c->pad);
        Tensor *loss = weighted_sum(T, &r, y);
        Tensor *wrt[3];
        int n = 0;
        if (x_grad) wrt[n++] = x;
        wrt[n++] = w;
        if (b) wrt[n++] = b;
        char label[160];
        snprintf(label, sizeof label, "%s config %d (" CFG_FMT ", x grad %d)", transposed ? "conv_transpose2d" : "conv2d",
                 ci, CFG_ARGS(c), x_grad);
        expect_grads(T, loss, wrt, n, label);
        tape_free(T);
    }
}

Test(conv2d, grads_wrt_x_w_bias_match_central_differences) { check_grads(0, 1, 10); }
Test(conv2d, grads_wrt_w_bias_are_right_when_x_has_no_grad) { check_grads(0, 0, 11); }
Test(conv_transpose2d, grads_wrt_x_w_bias_match_central_differences) { check_grads(1, 1, 12); }
Test(conv_transpose2d, grads_wrt_w_bias_are_right_when_x_has_no_grad) { check_grads(1, 0, 13); }

/* Two backward passes into parameters (whose grads the tape does not zero)
 * must give exactly twice one pass: backward adds, never overwrites.
 * Exact: the second pass adds the same numbers to equal numbers (g + g = 2g). */
static void check_accumulates(int transposed) {
    Rng r;
    rng_seed(&r, 20);
    ParamSet *ps = params_new();
    Tensor *w = transposed ? params_add(ps, "w", 4, SHAPE(3, 2, 4, 4)) : params_add(ps, "w", 4, SHAPE(2, 3, 4, 4));
    Tensor *b = params_add(ps, "b", 1, SHAPE(2));
    params_alloc(ps);
    rng_fill_uniform(&r, ps->data, ps->size, -1, 1);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(2, 3, 6, 5), -1, 1, 0);
    Tensor *y = transposed ? t_conv_transpose2d(T, x, w, b, 2, 1) : t_conv2d(T, x, w, b, 2, 1);
    Tensor *loss = weighted_sum(T, &r, y);
    backward(T, loss);
    real *once = malloc(ps->size * sizeof *once);
    memcpy(once, ps->grad, ps->size * sizeof *once);
    backward(T, loss);
    for (long i = 0; i < ps->size; i++)
        cr_assert(ps->grad[i] == 2 * once[i], "grad %ld after two passes %.17g, want 2 x %.17g", i,
                  (double)ps->grad[i], (double)once[i]);
    free(once);
    tape_free(T);
    params_free(ps);
}

Test(conv2d, backward_accumulates_into_parameter_grads) { check_accumulates(0); }
Test(conv_transpose2d, backward_accumulates_into_parameter_grads) { check_accumulates(1); }

/* ---- Batches of several chunks ---------------------------------------------- */

/* The kernels take images CHUNK (4) at a time, several chunks in parallel:
 * batches of 6 and 9 (a full chunk plus a partial one; two plus one) with
 * enough work to run threaded. Forward against the direct loops; backward
 * against the identities: conv2d's dx is the transposed convolution of dout
 * (its adjoint) and vice versa, each by the direct loop; dW by the direct
 * sum dW[o, c, i, j] = sum over n and output pixels of dout * the input
 * pixel under tap (i, j). Same tolerance as the values above. */
static void direct_dweight(const Cfg *c, int transposed, const real *x, const real *dout, double *dw, double *mag) {
    int k = c->k, Ho = transposed ? convt_out(c->H, c) : conv_out(c->H, c);
    int Wo = transposed ? convt_out(c->W, c) : conv_out(c->W, c);
    /* conv2d: the small map is dout [N, O, Ho, Wo], the big one x [N, C, H, W];
     * conv_transpose2d: small x [N, C, H, W], big dout [N, O, Ho, Wo] */
    int Hs = transposed ? c->H : Ho, Ws = transposed ? c->W : Wo, Hb = transposed ? Ho : c->H, Wb = transposed ? Wo : c->W;
    int Cs = transposed ? c->C : c->O, Cb = transposed ? c->O : c->C;
    const real *small = transposed ? x : dout, *big = transposed ? dout : x;
    for (int a = 0; a < Cs; a++)
        for (int b = 0; b < Cb; b++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    double s = 0, m = 0;
                    for (int n = 0; n < c->N; n++)
                        for (int y = 0; y < Hs; y++)
                            for (int z = 0; z < Ws; z++) {
                                int yb = y * c->stride - c->pad + i, zb = z * c->stride - c->pad + j;
                                if (yb < 0 || yb >= Hb || zb < 0 || zb >= Wb) continue;
                                double t = small[((long)(n * Cs + a) * Hs + y) * Ws + z] *
                                           big[((long)(n * Cb + b) * Hb + yb) * Wb + zb];
                                s += t, m += fabs(t);
                            }
                    long at = ((long)(a * Cb + b) * k + i) * k + j; /* w [O, C, k, k] or [C, O, k, k] */
                    dw[at] = s, mag[at] = m;
                }
}

Test(conv, batches_of_several_chunks_match_the_direct_loops) {
    /* the first two run channel-major, the next two position-major (conv2d's
     * forward: 16 positions, 48 outputs; the transposed op's dx: 36, 48), so
     * their windows are gathered, not copied out; the last is G's last layer
     * in small (O k k = 16 <= C: the transposed op's dW packs its rows as
     * they are, weight_grad in ops_conv.c) */
    static const Cfg cfgs[] = {{6, 8, 8, 10, 9, 3, 1, 1, 1},   {9, 16, 4, 8, 8, 4, 2, 1, 1},
                               {17, 32, 48, 7, 7, 3, 2, 1, 1}, {17, 48, 8, 6, 6, 4, 2, 1, 1},
                               {17, 16, 1, 12, 12, 4, 2, 1, 1}};
    Rng r;
    rng_seed(&r, 40);
    for (int ci = 0; ci < (int)(sizeof cfgs / sizeof cfgs[0]); ci++)
        for (int transposed = 0; transposed < 2; transposed++) {
            const Cfg *c = &cfgs[ci];
            Tape *T = tape_new();
            Tensor *x = rand_leaf(T, &r, 4, SHAPE(c->N, c->C, c->H, c->W), -1, 1, 1);
            Tensor *w = transposed ? rand_leaf(T, &r, 4, SHAPE(c->C, c->O, c->k, c->k), -1, 1, 1)
                                   : rand_leaf(T, &r, 4, SHAPE(c->O, c->C, c->k, c->k), -1, 1, 1);
            Tensor *b = rand_leaf(T, &r, 1, SHAPE(c->O), -1, 1, 1);
            Tensor *y = transposed ? t_conv_transpose2d(T, x, w, b, c->stride, c->pad)
                                   : t_conv2d(T, x, w, b, c->stride, c->pad);
            long work = transposed ? (long)c->N * c->H * c->W * c->O * c->k * c->k /* ops_conv.c's PAR_MIN */
                                   : (long)c->N * y->shape[2] * y->shape[3] * c->C * c->k * c->k;
            cr_assert(work > 32768, "config %d is too small to run threaded", ci);
            long nmax = y->size > x->size ? y->size : x->size;
            double *want = malloc(nmax * sizeof *want), *mag = malloc(nmax * sizeof *mag);
            if (transposed) direct_conv_transpose2d(c, x->data, w->data, b->data, want, mag);
            else direct_conv2d(c, x->data, w->data, b->data, want, mag);
            expect_values(transposed ? "conv_transpose2d forward" : "conv2d forward", c, y, want, mag);
            /* backward of sum(y * g) for a random g: dout = g */
            Tensor *loss = weighted_sum(T, &r, y);
            backward(T, loss);
            const real *g = y->grad;
            /* dx: the other op's direct loop applied to g, no bias */
            Tensor gx = *x;
            gx.data = x->grad;
            if (transposed) { /* conv2d over g [N, O, Ho, Wo] with w read as [C, O, k, k] */
                Cfg cv = {c->N, c->O, c->C, y->shape[2], y->shape[3], c->k, c->stride, c->pad, 0};
                direct_conv2d(&cv, g, w->data, NULL, want, mag);
            } else {
                Cfg cv = {c->N, c->O, c->C, y->shape[2], y->shape[3], c->k, c->stride, c->pad, 0};
                direct_conv_transpose2d(&cv, g, w->data, NULL, want, mag);
            }
            expect_values(transposed ? "conv_transpose2d dx" : "conv2d dx", c, &gx, want, mag);
            direct_dweight(c, transposed, x->data, g, want, mag);
            Tensor gw = *w;
            gw.data = w->grad;
            expect_values(transposed ? "conv_transpose2d dW" : "conv2d dW", c, &gw, want, mag);
            free(want), free(mag);
            tape_free(T);
        }
}

/* ---- Determinism and shapes ------------------------------------------------- */

/* The reference layers at batch 8, forward and backward, once with one
 * thread and once with two: every output and grad bit must agree. */
Test(conv, one_and_two_threads_give_identical_bits) {
    real *first = NULL;
    long total = 0;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        Rng r;
        rng_seed(&r, 30);
        Tape *T = tape_new();
        Tensor *z = rand_leaf(T, &r, 4, SHAPE(8, 128, 7, 7), -1, 1, 1);
        Tensor *w1 = rand_leaf(T, &r, 4, SHAPE(128, 64, 4, 4), -0.1, 0.1, 1);
        Tensor *w2 = rand_leaf(T, &r, 4, SHAPE(64, 1, 4, 4), -0.1, 0.1, 1);
        Tensor *w3 = rand_leaf(T, &r, 4, SHAPE(32, 1, 3, 3), -0.1, 0.1, 1);
        Tensor *w4 = rand_leaf(T, &r, 4, SHAPE(64, 32, 3, 3), -0.1, 0.1, 1);
        Tensor *b4 = rand_leaf(T, &r, 1, SHAPE(64), -0.1, 0.1, 1);
        Tensor *h = t_conv_transpose2d(T, z, w1, NULL, 2, 1);
        Tensor *img = t_conv_transpose2d(T, h, w2, NULL, 2, 1);
        Tensor *d = t_conv2d(T, t_conv2d(T, img, w3, NULL, 2, 1), w4, b4, 2, 1);
        backward(T, weighted_sum(T, &r, d));
        Tensor *all[] = {d, z, w1, w2, w3, w4, b4};
        long n = d->size;
        for (int i = 1; i < 7; i++) n += all[i]->size;
        real *v = malloc(n * sizeof *v), *p = v;
        memcpy(p, d->data, d->size * sizeof *p), p += d->size;
        for (int i = 1; i < 7; i++) memcpy(p, all[i]->grad, all[i]->size * sizeof *p), p += all[i]->size;
        if (!first) {
            first = v, total = n;
        } else {
            for (long i = 0; i < total; i++)
                cr_assert(memcmp(&first[i], &v[i], sizeof(real)) == 0, "value %ld: 1 thread %.17g, 2 threads %.17g", i,
                          (double)first[i], (double)v[i]);
            free(v);
        }
        tape_free(T);
    }
    free(first);
}

/* A caller's own parallel region (as chapter 2 runs its GANs, one per
 * thread) with a batch below one chunk, so the op runs on the calling
 * thread. The transposed op's forward reuses a block of rows per thread;
 * one picked by the caller's thread number would lie past a small batch's
 * rows, over whatever the tape holds next. So on each thread: the op, then
 * a sentinel on the tape, then the forward replayed (as the gradient
 * checker replays it); the sentinel must be intact and the output the bits
 * of the same call outside any region. */
Test(conv, inside_a_callers_parallel_region_stays_in_its_scratch) {
    enum { NT = 2, SENTINEL = 1 << 16 };
    real *got[NT + 1] = {0};
    long n = 0, bad[NT + 1] = {0};
    for (int pass = 0; pass < 2; pass++) {
#pragma omp parallel num_threads(pass ? NT : 1)
        {
            Rng r;
            rng_seed(&r, 41);
            Tape *T = tape_new();
            Tensor *x = rand_leaf(T, &r, 4, SHAPE(2, 16, 7, 7), -1, 1, 0);
            Tensor *w = rand_leaf(T, &r, 4, SHAPE(16, 8, 4, 4), -0.1, 0.1, 0);
            Tensor *y = t_conv_transpose2d(T, x, w, NULL, 2, 1);
            Tensor *s = tape_input(T, 1, SHAPE(SENTINEL), 0);
            for (long i = 0; i < SENTINEL; i++) s->data[i] = 7;
            OPS[y->op].forward(y);
            int slot = pass ? 1 + omp_get_thread_num() : 0;
            for (long i = 0; i < SENTINEL; i++) bad[slot] += s->data[i] != 7;
            got[slot] = malloc(y->size * sizeof(real));
            memcpy(got[slot], y->data, y->size * sizeof(real));
            if (omp_get_thread_num() == 0) n = y->size;
            tape_free(T);
        }
    }
    for (int t = 0; t <= NT; t++) {
        cr_assert(bad[t] == 0, "%s: %ld numbers of the sentinel after the op were overwritten",
                  t ? "a thread of the region" : "outside a region", bad[t]);
        for (long i = 0; t > 0 && i < n; i++)
            cr_assert(memcmp(&got[0][i], &got[t][i], sizeof(real)) == 0,
                      "thread %d, value %ld: %.17g, outside a region %.17g", t - 1, i, (double)got[t][i],
                      (double)got[0][i]);
    }
    for (int t = 0; t <= NT; t++) free(got[t]);
}

Test(conv, reference_gan_layers_have_documented_shapes) {
    Tape *T = tape_new();
    /* G: 128x7x7 -> ConvT(128->64, k4, s2, p1) -> 64x14x14 -> ConvT(64->1) -> 1x28x28 */
    Tensor *z = tape_input(T, 4, SHAPE(2, 128, 7, 7), 0);
    Tensor *g1 = t_conv_transpose2d(T, z, tape_input(T, 4, SHAPE(128, 64, 4, 4), 0), tape_input(T, 1, SHAPE(64), 0), 2, 1);
    Tensor *g2 = t_conv_transpose2d(T, g1, tape_input(T, 4, SHAPE(64, 1, 4, 4), 0), tape_input(T, 1, SHAPE(1), 0), 2, 1);
    /* D: 1x28x28 -> Conv(1->32, k3, s2, p1) -> 32x14x14 -> Conv(32->64) -> 64x7x7 */
    Tensor *d1 = t_conv2d(T, g2, tape_input(T, 4, SHAPE(32, 1, 3, 3), 0), tape_input(T, 1, SHAPE(32), 0), 2, 1);
    Tensor *d2 = t_conv2d(T, d1, tape_input(T, 4, SHAPE(64, 32, 3, 3), 0), tape_input(T, 1, SHAPE(64), 0), 2, 1);
    const struct { Tensor *t; int c, h; const char *name; } want[] = {
        {g1, 64, 14, "G deconv1"}, {g2, 1, 28, "G deconv2"}, {d1, 32, 14, "D conv1"}, {d2, 64, 7, "D conv2"}};
    for (int i = 0; i < 4; i++) {
        char buf[64];
        cr_assert(want[i].t->ndim == 4 && want[i].t->shape[0] == 2 && want[i].t->shape[1] == want[i].c &&
                      want[i].t->shape[2] == want[i].h && want[i].t->shape[3] == want[i].h,
                  "%s: shape %s, want [2, %d, %d, %d]", want[i].name, shape_str(want[i].t, buf, sizeof buf),
                  want[i].c, want[i].h, want[i].h);
    }
    tape_free(T);
}

/* ---- Bad shapes --------------------------------------------------------------- */

Test(conv, bad_shapes_stop_with_a_message) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 4, SHAPE(2, 3, 5, 5), 0);
    Tensor *w_bad_c = tape_input(T, 4, SHAPE(4, 2, 3, 3), 0);  /* 2 input channels, x has 3 */
    Tensor *w = tape_input(T, 4, SHAPE(4, 3, 3, 3), 0);
    Tensor *b_bad = tape_input(T, 1, SHAPE(5), 0);             /* 5 biases for 4 outputs */
    Tensor *w_big = tape_input(T, 4, SHAPE(4, 3, 7, 7), 0);    /* larger than the padded input */
    Tensor *x3 = tape_input(T, 3, SHAPE(3, 5, 5), 0);
    EXPECT_FAIL(t_conv2d(T, x, w_bad_c, NULL, 1, 0), EXIT_SOFTWARE, "does not fit");
    EXPECT_FAIL(t_conv2d(T, x, w, b_bad, 1, 0), EXIT_SOFTWARE, "bias");
    EXPECT_FAIL(t_conv2d(T, x, w_big, NULL, 1, 0), EXIT_SOFTWARE, "output would be");
    EXPECT_FAIL(t_conv2d(T, x, w, NULL, 0, 0), EXIT_SOFTWARE, "stride 0");
    EXPECT_FAIL(t_conv2d(T, x3, w, NULL, 1, 0), EXIT_SOFTWARE, "[N, C, H, W]");
    EXPECT_FAIL(t_conv_transpose2d(T, x, w, NULL, 1, 0), EXIT_SOFTWARE, "does not fit"); /* wants w [3, O, k, k] */
    tape_free(T);
}
