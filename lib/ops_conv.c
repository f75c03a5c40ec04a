/* ops_conv.c - 2-D convolution and transposed convolution (PyTorch layouts, NCHW).
 *
 * Teaches: how a convolution becomes matrix multiplies. im2row copies every
 * k x k window of an image into a row of a matrix `rows`, one row per output
 * position; the convolution is then rows [P, C*k*k] @ W^T [C*k*k, O], which
 * the library's GEMM runs near the machine's peak (where the rows are the
 * GEMM's first operand, it reads each window where it lies in the image
 * instead: Windows and gemm_mat below). The backward pass is two
 * more multiplies (dW = dout @ rows, summed over the batch; drows = dout^T @
 * W) and row2im, the adjoint of im2row, which adds each row back onto the
 * window it came from. A transposed convolution is the adjoint of a
 * convolution: its forward is exactly conv2d's input-gradient (x^T @ W, then
 * row2im), and its backward is conv2d's forward (im2row of dout, then a
 * multiply by W^T) and conv2d's weight-gradient with x and dout swapped. So
 * the four passes share the same three kernels: im2row, row2im and GEMM.
 * How it is made fast: a few images at a time (CHUNK): their rows are
 * written and read again while they sit in the core's L2 cache, and the
 * chunks are shared out among the threads (each number is computed by one
 * thread, in one order: the same bits at any thread count). The weight is
 * packed for the GEMM once per pass (gemm_pack_b), not once per chunk. Rows
 * are position-major, so a conv2d's output [P, O] is one transpose away from
 * NCHW (from_rows, which adds the bias on the way) and row2im reads each row
 * contiguously. Channel-major copies [channels, N*P] are made only of what
 * a GEMM must read across images: dout for conv2d, x for conv_transpose2d.
 * Where a layer has few channels and large images (D's Conv 1->32 at 28x28,
 * G's ConvT 64->1), a product whose result is an image's [channels, P] block
 * runs the other way round instead, W @ rows^T, straight into NCHW, one image
 * at a time (channel_major below: the same bits). A padded image is read
 * and added to through a copy inside a zero frame (windows below), so no
 * window needs a bounds test.
 * Leaves out: dilation, groups, output_padding, non-square kernels, and
 * direct (Winograd/FFT) algorithms.
 *
 * Dimension key:
 *   N = batch, C = input channels, O = output channels, k = kernel size,
 *   H, W = input height/width, Ho, Wo = output height/width,
 *   P = Ho * Wo (conv2d) or H * W (conv_transpose2d): positions per image,
 *   NP = N * P, KK = C*k*k (conv2d) or O*k*k (conv_transpose2d): a row's length.
 *
 * Summation order. Every output and gradient element is summed in the same
 * order as the im2col formulation this file replaced (one channel-major GEMM
 * over the whole batch), so results are bit-for-bit those of before: the
 * GEMM's summed dimension is the same (KK, O, C, or N*P in image order for
 * the weight-gradients) and row2im adds the taps (i, j) of a pixel in order.
 *
 * Scratch (out->aux, from the tape's arena, laid out by conv2d_layout and
 * convt_layout, sized in the constructors by the same functions, not
 * zeroed: every part is written before it is read):
 *   conv2d:            wp | windows of x | tmp [NP, O] | dtab | drows [NP, ld] (if x has a grad)
 *   conv_transpose2d:  wp | rows         | xtab | xt [C, NP] | dxt [NP, C] (if x has a grad)
 * where wp holds the weight packed once per pass (gemm_pack_b), and the
 * weight gradient transposed while weight_grad sums it; the windows are
 * rows [NP, ld] (channel-major) or the batch framed in zeros with two offset
 * tables (Windows); conv_transpose2d's rows hold its forward's blocks of
 * rows (one chunk's per thread) or its backward's windows of dout; dtab and
 * xtab are the offset tables that read dout and x as matrices in place
 * (Nchw), while the weight gradients read channel-major copies, tmp (as
 * dout [O, NP] in backward) and xt; ld = row_stride(KK) >= KK is the row
 * stride of rows and drows (channel-major, tmp is unused in forward and dxt
 * holds each image's [C, P] block).
 * Forward rewrites all it uses from the inputs (the gradient checker replays
 * it); backward only reads what the last forward left and the inputs' data,
 * and adds (+=) into the grads that exist.
 */
#include "par.h"
#include "tensor.h"

#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "util.h"

/* Work below this many elements runs on one thread: waking the team costs
 * more than it saves. Only the schedule changes, never the arithmetic. */
#define PAR_MIN 32768L

/* The row stride of `rows`: KK, padded when KK is a multiple of 64. row2im
 * reads a column of `rows`, one number per row; rows 4 KB apart (KK = 1024
 * floats) all land in the same set of the 8-way L1 cache and evict each
 * other on every read. 16 more reals shift each row to the next set. */
static long row_stride(int KK) { return KK % 64 ? KK : KK + 16; }

/* Reals for the weight [a, b] packed as a GEMM's B, either way round
 * (W or W^T: forward packs one, backward the other), rounded up so what
 * follows in out->aux stays aligned. */
static long wpack_size(int a, int b) {
    long s1 = gemm_packed_b_size(a, b), s2 = gemm_packed_b_size(b, a);
    return ((s1 > s2 ? s1 : s2) + 15) / 16 * 16;
}

/* Images go through the GEMMs CHUNK at a time: a product of CHUNK*P rows
 * fills the kernel's 6-row tiles better than P = 49 alone (196 = 32 2/3
 * tiles, not 49 = 8 1/6), and reads the packed weight once per chunk. Its
 * rows (at most a few hundred KB here) stay in the core's L2 cache from the
 * GEMM to row2im. The chunks are fixed, whatever the thread count. */
#define CHUNK 4

/* The loops over chunks share them out among the threads (statically) when
 * there are two or more and enough work; the GEMM inside (gemm_packed_b)
 * runs on its own thread. */
static int per_image_threads(int N, long work) { return N > CHUNK && work > PAR_MIN; }

/* ---------------------------------------------------------------------------
 * The shared kernels, one image at a time.
 * ------------------------------------------------------------------------- */

/* One window: d [C*k*k] (= or, if add, +=) the k x k windows of img [C, H, W]
 * whose top-left corner is (ih0, iw0), 0 over the padding. `k` is a
 * constant where it is inlined below, so the inner loops unroll. */
static inline void window(real *restrict d, real *restrict img, int add, int C, int H, int W, int k, int ih0,
                          int iw0) {
    typedef real v4 __attribute__((vector_size(4 * sizeof(real)), aligned(sizeof(real))));
    if (ih0 >= 0 && ih0 + k <= H && iw0 >= 0 && iw0 + k <= W) { /* inside: no bounds to test */
        for (int c = 0; c < C; c++)
            for (int i = 0; i < k; i++, d += k) {
                real *row = img + ((long)c * H + ih0 + i) * W + iw0;
                if (k == 4) { /* a window row is one short vector: 4 additions or copies at once */
                    if (add)
                        *(v4 *)row = *(v4 *)row + *(const v4 *)d;
                    else
                        *(v4 *)d = *(const v4 *)row;
                } else if (k == 3 && iw0 + 4 <= W && (c < C - 1 || i < k - 1)) {
                    /* 3 numbers through one 4-wide vector: the 4th lane reads the
                     * image row's next number (still in the row) and d's next
                     * tap (still in the window). A copy writes that tap too,
                     * which the next row of the loop then overwrites; an
                     * addition puts the image's own 4th number back (a lane
                     * select, no arithmetic). The window's last row, whose 4th
                     * lane lies past it, takes the loop below. */
                    if (add) {
                        const v4 r = *(v4 *)row, s = r + *(const v4 *)d;
                        *(v4 *)row = (v4){s[0], s[1], s[2], r[3]};
                    } else
                        *(v4 *)d = *(const v4 *)row;
                } else if (add)
                    for (int j = 0; j < k; j++) row[j] += d[j];
                else
                    for (int j = 0; j < k; j++) d[j] = row[j];
            }
        return;
    }
    /* at the border: the taps i in [i0, i1), j in [j0, j1) fall inside the
     * image; the others read 0 (im2row) or add nothing (row2im) */
    const int i0 = ih0 < 0 ? -ih0 : 0, i1 = ih0 + k > H ? H - ih0 : k;
    const int j0 = iw0 < 0 ? -iw0 : 0, j1 = iw0 + k > W ? W - iw0 : k;
    if (!add) memset(d, 0, (size_t)C * k * k * sizeof(real));
    for (int c = 0; c < C; c++)
        for (int i = i0; i < i1; i++) {
            real *row = img + ((long)c * H + ih0 + i) * W + iw0, *dd = d + ((long)c * k + i) * k;
            if (add)
                for (int j = j0; j < j1; j++) row[j] += dd[j];
            else
                for (int j = j0; j < j1; j++) dd[j] = row[j];
        }
}

/* Every window of one image, rows [Ho*Wo, C*k*k] (row stride ld) <-> img [C, H, W].
 * add = 0 (im2row): rows[oh*Wo + ow][(c*k + i)*k + j] = img[c, oh*s - pad + i, ow*s - pad + j].
 * add = 1 (row2im, its adjoint): img += each row, added onto its window.
 * Windows overlap when stride < k, so one image entry gathers several rows;
 * row2im visits the windows last to first, and then each entry receives its
 * taps in the order (i, j) = (0, 0), (0, 1), ...: a later window reaches a
 * pixel through an earlier tap. (The order the im2col version used: the same
 * bits.) */
static void windows_in(real *rows, int ld, real *img, int add, int C, int H, int W, int k, int stride, int pad,
                       int Ho, int Wo) {
    for (int q = 0; q < Ho * Wo; q++) {
        const int p = add ? Ho * Wo - 1 - q : q, oh = p / Wo, ow = p % Wo;
        real *d = rows + (long)p * ld;
        if (k == 3)
            window(d, img, add, C, H, W, 3, oh * stride - pad, ow * stride - pad);
        else if (k == 4)
            window(d, img, add, C, H, W, 4, oh * stride - pad, ow * stride - pad);
        else
            window(d, img, add, C, H, W, k, oh * stride - pad, ow * stride - pad);
    }
}

/* With padding, a window at the border takes window()'s slow path, one
 * number at a time; at 7x7 outputs that is 24 windows of 49. So the image is
 * first copied into the middle of a zero frame `pad` wide (this thread's
 * `framed`, when it fits), where every window lies inside; row2im adds into
 * the framed copy and the middle is copied back. Each pixel receives the same
 * additions in the same order, and the frame's own sums are dropped: the
 * same bits as without the frame. */
#define FRAMED_MAX (32 * 1024) /* reals: 128 KB float, [64, 16, 16] x 2 */
static _Thread_local real framed[FRAMED_MAX] __attribute__((aligned(64)));

/* fresh (row2im only): img holds old numbers, to be replaced by the sums
 * (0 + the rows added onto it: a fresh grad, see backward in tape.c). */
static void windows(real *rows, int ld, real *img, int add, int fresh, int C, int H, int W, int k, int stride,
                    int pad, int Ho, int Wo) {
    const int Hp = H + 2 * pad, Wp = W + 2 * pad;
    if (pad == 0 || (long)C * Hp * Wp > FRAMED_MAX) {
        if (fresh) memset(img, 0, (size_t)C * H * W * sizeof(real));
        windows_in(rows, ld, img, add, C, H, W, k, stride, pad, Ho, Wo);
        return;
    }
    memset(framed, 0, (size_t)C * Hp * Wp * sizeof(real));
    if (!fresh)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++) {
                const real *src = img + ((long)c * H + h) * W;
                real *dst = framed + ((long)c * Hp + h + pad) * Wp + pad;
                for (int w = 0; w < W; w++) dst[w] = src[w];
            }
    windows_in(rows, ld, framed, add, C, Hp, Wp, k, stride, 0, Ho, Wo);
    if (add)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++) {
                const real *src = framed + ((long)c * Hp + h + pad) * Wp + pad;
                real *dst = img + ((long)c * H + h) * W;
                for (int w = 0; w < W; w++) dst[w] = src[w];
            }
}

static void im2row(real *rows, int ld, const real *img, int C, int H, int W, int k, int stride, int pad, int Ho,
                   int Wo) {
    windows(rows, ld, (real *)img, 0, 0, C, H, W, k, stride, pad, Ho, Wo); /* add = 0 only reads img */
}

static void row2im(real *img, int fresh, const real *rows, int ld, int C, int H, int W, int k, int stride, int pad,
                   int Ho, int Wo) {
    windows((real *)rows, ld, img, 1, fresh, C, H, W, k, stride, pad, Ho, Wo); /* add = 1 only reads rows */
}

/* dst [C, N*P]  <-  src [N, C, P]   (NCHW to channel major): the operand of
 * a weight-gradient GEMM that sums over the whole batch. (Read in place
 * through tables (Nchw below), this operand made the GEMM's packing of it
 * slower than the copy: 16 numbers 49 or 196 apart per row of the panel.) */
static void to_channel_major(real *dst, const real *src, int N, int C, long P) {
    PAR_FOR((long)N * C * P > PAR_MIN, "omp parallel for collapse(2) schedule(static)",
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            memcpy(dst + (long)c * N * P + n * P, src + ((long)n * C + c) * P, (size_t)P * sizeof(real)););
}

/* An NCHW tensor [N, C, P] read as a matrix without copying it: entry
 * (n P + p, c) is at pos[n P + p] + ch[c], with pos = n C P + p and ch = c P.
 * nchw_rows gives its rows from n P + p on, position-major, [N P, C]: the
 * first operand of conv2d's dx and the transposed convolution's forward. */
typedef struct {
    const real *t;
    long *pos, *ch;
} Nchw;

static long round16(long n) { return (n + 15) / 16 * 16; }
static long reals_for_longs(long n) { return (n * (long)sizeof(long) + (long)sizeof(real) - 1) / (long)sizeof(real); }

/* Reals the two tables of an [N, C, P] tensor take in scratch. */
static long nchw_size(long NP, int C) { return round16(reals_for_longs(NP)) + round16(reals_for_longs(C)); }

/* The tables of t [N, C, P] in scratch s (nchw_size reals), filled. */
static Nchw nchw_at(real *s, const real *t, int N, int C, long P) {
    Nchw m = {.t = t, .pos = (long *)s};
    m.ch = (long *)(s + round16(reals_for_longs((long)N * P)));
    for (int n = 0; n < N; n++)
        for (long p = 0; p < P; p++) m.pos[n * P + p] = (long)n * C * P + p;
    for (int c = 0; c < C; c++) m.ch[c] = c * P;
    return m;
}

/* Rows p0.. of the tensor, position-major, as a GEMM operand. */
static GemmMat nchw_rows(const Nchw *m, long p0) { return gemm_gathered(m->t, m->pos + p0, m->ch); }

/* dst [C, P]  (= or +=)  src [P, C]^T  (+ bias [C] if not NULL): one image's
 * position-major result into its NCHW block. */
static void from_rows(real *restrict dst, const real *restrict src, const real *bias, int C, long P,
                      int accumulate) {
    for (int c = 0; c < C; c++) {
        real *d = dst + c * P;
        const real *s = src + c;
        const real b = bias ? bias[c] : 0;
        if (accumulate)
            for (long p = 0; p < P; p++) d[p] += s[p * C] + b;
        else
            for (long p = 0; p < P; p++) d[p] = s[p * C] + b;
    }
}

/* Position-major or channel-major? A product whose result is one image's
 * [channels, P] block can also be run the other way round: W [channels, KK]
 * @ rows^T gives [channels, P] directly, NCHW, with no transpose after it
 * (from_rows reads its source with a stride of `channels` reals, one pass per
 * channel). Each element is the same sum of the same products in the same
 * order (gemm.h), so the bits do not change. It pays where an image has many
 * positions and the layer few channels (D's Conv 1->32 on 28x28, G's ConvT
 * 64->1 on 14x14: P = 196 > 32, 64): then the product is wide enough for the
 * kernel's tiles one image at a time. Where P is small (P = 49, at 7x7) the
 * position-major product of CHUNK images fills the tiles better. */
static int channel_major(long P, int channels) { return P > channels; }

/* dbias [C]  +=  sum over n, p of x [N, C, P], each channel's sum in the
 * order n, then p. One running sum waits for the previous addition (about 4
 * cycles) at every step; so BIAS_GROUP channels are summed side by side,
 * each in its own order, and the additions overlap. */
#define BIAS_GROUP 8
static void bias_backward(real *dbias, const real *x, int N, int C, long P) {
    PAR_FOR((long)N * C * P > PAR_MIN, "omp parallel for schedule(static)",
    for (int c0 = 0; c0 < C; c0 += BIAS_GROUP) {
        real s[BIAS_GROUP] = {0};
        if (C - c0 >= BIAS_GROUP) {
            for (int n = 0; n < N; n++) {
                const real *rows = x + ((long)n * C + c0) * P; /* BIAS_GROUP rows of P */
                for (long p = 0; p < P; p++)
                    for (int j = 0; j < BIAS_GROUP; j++) s[j] += rows[j * P + p];
            }
            for (int j = 0; j < BIAS_GROUP; j++) dbias[c0 + j] += s[j];
        } else { /* the last few channels, one at a time */
            for (int c = c0; c < C; c++) {
                real t = 0;
                for (int n = 0; n < N; n++)
                    for (long p = 0; p < P; p++) t += x[((long)n * C + c) * P + p];
                dbias[c] += t;
            }
        }
    });
}

/* dst [cols, rows] = src [rows, cols]^T, in TILE x TILE blocks: a plain
 * loop writes dst with a stride of `rows` numbers, one cache line per
 * number; a block's lines are reused while it lasts. */
#define TILE 16
static void transpose(real *restrict dst, const real *restrict src, int rows, int cols) {
    for (int i0 = 0; i0 < rows; i0 += TILE)
        for (int j0 = 0; j0 < cols; j0 += TILE) {
            const int i1 = i0 + TILE < rows ? i0 + TILE : rows, j1 = j0 + TILE < cols ? j0 + TILE : cols;
            for (int j = j0; j < j1; j++)
                for (int i = i0; i < i1; i++) dst[(long)j * rows + i] = src[(long)i * cols + j];
        }
}

/* ---------------------------------------------------------------------------
 * A batch's windows, the first operand of the products that read im2row's
 * rows: copied out (rows [NP, ld], im2row), or read where they lie. For the
 * second, the batch is copied once into zero frames, xf [N, C, Hp, Wp] (Hp =
 * H + 2 pad), and two tables say where each number of `rows` is:
 *     rows[p][t] = xf[at[p] + tap[t]],
 * at[p] = n C Hp Wp + (oh s) Wp + ow s  where window p = (n, oh, ow) starts,
 * tap[t] = (c Hp + i) Wp + j            where tap t = (c, i, j) lies in it.
 * gemm_mat reads op(A) through such tables (gemm_gathered): the same
 * numbers in the same order as from the rows, so the same bits, without
 * writing the rows (G's ConvT 128->64 backward: 13 MB of them, read twice)
 * or making room for them (the framed batch is about k^2 / s^2 = 4 times
 * smaller).
 * The products that take the rows as their second operand (channel_major)
 * still copy them out.
 * ------------------------------------------------------------------------- */
typedef struct {
    real *rows; /* copied out [NP, ld], or NULL: gathered */
    int ld;
    real *xf;          /* gathered: the framed batch */
    long *at, *tap;    /* and where windows start, and taps lie in them */
} Windows;

/* Reals the framed batch takes (its tables follow it). */
static long framed_size(int N, int C, int H, int W, int pad) {
    return round16((long)N * C * (H + 2 * pad) * (W + 2 * pad));
}

/* Reals the windows of the batch img [N, C, H, W] (k x k, pad; NP windows)
 * take in scratch, copied out or gathered. */
static long windows_size(int gathered, int N, int C, int H, int W, int k, int pad, long NP) {
    const long KK = (long)C * k * k;
    if (!gathered) return row_stride((int)KK) * NP;
    return framed_size(N, C, H, W, pad) + round16(reals_for_longs(NP)) + round16(reals_for_longs(KK));
}

/* Where the windows live in scratch s (windows_size reals). */
static Windows windows_at(real *s, int gathered, int N, int C, int H, int W, int k, int pad, long NP) {
    Windows w = {.ld = row_stride(C * k * k)};
    if (!gathered) {
        w.rows = s;
        return w;
    }
    w.xf = s;
    w.at = (long *)(s + framed_size(N, C, H, W, pad));
    w.tap = (long *)((real *)w.at + round16(reals_for_longs(NP)));
    return w;
}

/* Gathered windows: frames the batch img [N, C, H, W] into w->xf and fills
 * the two tables (Ho x Wo windows per image). */
static void windows_frame(Windows *w, const real *img, int N, int C, int H, int W, int k, int stride, int pad,
                          int Ho, int Wo) {
    const int Hp = H + 2 * pad, Wp = W + 2 * pad;
    PAR_FOR((long)N * C * Hp * Wp > PAR_MIN, "omp parallel for collapse(2) schedule(static)",
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            real *dst = w->xf + ((long)n * C + c) * Hp * Wp;
            const real *src = img + ((long)n * C + c) * H * W;
            memset(dst, 0, (size_t)Hp * Wp * sizeof(real));
            for (int h = 0; h < H; h++) memcpy(dst + (long)(h + pad) * Wp + pad, src + (long)h * W, W * sizeof(real));
        });
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                w->at[((long)n * Ho + oh) * Wo + ow] = (long)n * C * Hp * Wp + (long)oh * stride * Wp + ow * stride;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) w->tap[((long)c * k + i) * k + j] = ((long)c * Hp + i) * Wp + j;
}

/* The windows from p0 on as a GEMM operand: rows [NP - p0, KK], or
 * (transposed) rows^T [KK, NP]. */
static GemmMat windows_mat(const Windows *w, long p0) {
    return w->rows ? gemm_stored(w->rows + p0 * w->ld, w->ld, 0) : gemm_gathered(w->xf, w->at + p0, w->tap);
}
static GemmMat windows_mat_t(const Windows *w) {
    return w->rows ? gemm_stored(w->rows, w->ld, 1) : gemm_gathered(w->xf, w->tap, w->at);
}

/* dW [M, KK] += A [M, NP] @ rows [NP, KK] (row stride ld): a weight's
 * gradient, summed over the whole batch. gemm copies (packs) its second
 * operand and reads the first in place. Where rows is the bigger one (NP x
 * KK, megabytes, KK > M), the product runs transposed, dW^T [KK, M] +=
 * rows^T @ A^T, in scratch [KK, M], and packs A (NP x M) instead; the rows
 * may then be gathered (Windows): op(A) = rows^T is read with the two tables
 * swapped. Where rows is the smaller (KK <= M) and its rows fill whole
 * 16-wide panels of the packed B (G's ConvT 64->1, KK = 16, channel-major,
 * so copied out), it is packed as it is, and dW needs no transposes:
 * 0.14 instead of 0.22 ms for that product at 2 threads. (D's Conv 1->32,
 * KK = 9, stays transposed: padded to 16, the rows would make the kernel do
 * 16/9 of the work, 0.20 ms against 0.17.) Each element is the same sum of
 * the same products in the same order either way: the same bits. */
static void weight_grad(real *dW, const real *A, const Windows *w, int M, int KK, int NP, real *scratch) {
    if (w->rows && KK <= M && KK % 16 == 0) {
        gemm(M, KK, NP, A, NP, 0, w->rows, w->ld, 0, dW, KK, 1);
        return;
    }
    transpose(scratch, dW, M, KK);
    gemm_mat(KK, M, NP, windows_mat_t(w), gemm_stored(A, NP, 1), scratch, M, 1);
    transpose(dW, scratch, KK, M);
}
/* ---------------------------------------------------------------------------
 * conv2d: out = W * x + b.
 * ------------------------------------------------------------------------- */

/* out    [N, O, Ho, Wo]   the result
 * wp     [wpack_size]     scratch: W^T packed for the GEMM
 * win    windows          scratch: the windows of inp, kept for backward
 *                         (copied out channel-major, else gathered)
 * tmp    [NP, O]          scratch: rows @ W^T, position major
 * inp    [N, C, H, W]
 * weight [O, C, k, k]     = [O, C*k*k] as a matrix
 * bias   [O] or NULL */
static void conv2d_forward(real *out, real *wp, Windows *win, real *tmp, const real *inp, const real *weight,
                           const real *bias, int N, int C, int H, int W, int O, int k, int stride, int pad) {
    const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
    const int KK = C * k * k, P = Ho * Wo, ld = win->ld;
    const int cm = channel_major(P, O);
    if (!cm) {
        gemm_pack_b(O, KK, weight, KK, 1, wp); /* W^T [KK, O] */
        windows_frame(win, inp, N, C, H, W, k, stride, pad, Ho, Wo);
    }
    PAR_FOR(per_image_threads(N, (long)N * P * KK), "omp parallel for schedule(static)",
    for (int n0 = 0; n0 < N; n0 += CHUNK) {
        const int nb = N - n0 < CHUNK ? N - n0 : CHUNK;
        real *t = tmp + (long)n0 * P * O;
        if (cm) { /* out [O, P] = W @ rows^T, image by image, then + bias */
            real *r = win->rows + (long)n0 * P * ld;
            for (int n = 0; n < nb; n++)
                im2row(r + (long)n * P * ld, ld, inp + (long)(n0 + n) * C * H * W, C, H, W, k, stride, pad, Ho, Wo);
            for (int n = 0; n < nb; n++) {
                real *o = out + (long)(n0 + n) * O * P;
                gemm(O, P, KK, weight, KK, 0, r + (long)n * P * ld, ld, 1, o, P, 0);
                for (int c = 0; c < O; c++) {
                    const real b = bias ? bias[c] : 0; /* + 0 without a bias, as from_rows */
                    for (long p = 0; p < P; p++) o[c * P + p] += b;
                }
            }
        } else {
            gemm_mat_packed_b(nb * P, O, KK, windows_mat(win, (long)n0 * P), wp, t, O, 0); /* t = rows @ W^T */
            for (int n = 0; n < nb; n++)
                from_rows(out + (long)(n0 + n) * O * P, t + (long)n * P * O, bias, O, P, 0);
        }
    });
}

/* dinp    [N, C, H, W] or NULL    += d loss / d inp
 * dweight [O, C, k, k] or NULL    += d loss / d weight
 * dbias   [O] or NULL             += d loss / d bias
 * wp      [wpack_size]            scratch: W packed for the GEMM (needed iff dinp)
 * drows   [NP, ld]                scratch (needed iff dinp)
 * dtmp    [O, NP]                 scratch: dout, channel major (needed iff dweight)
 * dtab    [nchw_size(NP, O)]      scratch: dout's tables (Nchw)
 * dout    [N, O, Ho, Wo]
 * win     windows                 of inp, from the forward (needed iff dweight)
 * weight  [O, C, k, k] */
static void conv2d_backward(real *dinp, int dinp_fresh, real *dweight, real *dbias, real *wp, real *drows,
                            real *dtmp, real *dtab, const real *dout, const Windows *win, const real *weight, int N,
                            int C, int H, int W, int O, int k, int stride, int pad) {
    const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
    const int KK = C * k * k, P = Ho * Wo, NP = N * P, ld = row_stride(KK);
    if (dbias) bias_backward(dbias, dout, N, O, P);
    if (!dinp && !dweight) return;
    if (dweight) to_channel_major(dtmp, dout, N, O, P);
    /* dW [O, KK] += dout [O, NP] @ rows [NP, KK]: the batch is the summed dimension */
    if (dweight) weight_grad(dweight, dtmp, win, O, KK, NP, wp); /* wp is free until dinp's */
    if (!dinp) return;
    gemm_pack_b(KK, O, weight, KK, 0, wp); /* W [O, KK] */
    const Nchw d = nchw_at(dtab, dout, N, O, P);
    PAR_FOR(per_image_threads(N, (long)N * P * KK), "omp parallel for schedule(static)",
    for (int n0 = 0; n0 < N; n0 += CHUNK) {
        const int nb = N - n0 < CHUNK ? N - n0 : CHUNK;
        real *dr = drows + (long)n0 * P * ld;
        /* drows = dout^T @ W */
        gemm_mat_packed_b(nb * P, KK, O, nchw_rows(&d, (long)n0 * P), wp, dr, ld, 0);
        for (int n = 0; n < nb; n++)
            row2im(dinp + (long)(n0 + n) * C * H * W, dinp_fresh, dr + (long)n * P * ld, ld, C, H, W, k, stride, pad,
                   Ho, Wo);
    });
}

/* ---------------------------------------------------------------------------
 * conv_transpose2d: the adjoint of conv2d. With the same weight w [C, O, k, k]
 * read as a conv2d weight from O channels to C, conv2d maps [N, O, Ho, Wo] to
 * [N, C, H, W]; the transposed convolution maps back, [N, C, H, W] to
 * [N, O, Ho, Wo]. Forward = conv2d's input-gradient; backward = conv2d's
 * forward (for dx) and conv2d's weight-gradient with the roles of x and dout
 * swapped (for dW).
 * ------------------------------------------------------------------------- */

/* out    [N, O, Ho, Wo]
 * wp     [wpack_size]    scratch: W packed for the GEMM
 * rows   [NP, ld]        scratch: x^T @ W, one chunk's block per thread
 * xtab   [nchw_size(NP, C)] scratch: inp's tables (Nchw)
 * inp    [N, C, H, W]
 * weight [C, O, k, k]    = [C, O*k*k] as a matrix
 * bias   [O] or NULL */
static void conv_transpose2d_forward(real *out, real *wp, real *rows, real *xtab, const real *inp,
                                     const real *weight, const real *bias, int N, int C, int H, int W, int O, int k,
                                     int stride, int pad) {
    const int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    const int KK = O * k * k, P = H * W, ld = row_stride(KK);
    const long Q = (long)Ho * Wo;
    gemm_pack_b(KK, C, weight, KK, 0, wp); /* W [C, KK] */
    const Nchw x = nchw_at(xtab, inp, N, C, P);
    const int par = per_image_threads(N, (long)N * P * KK);
    PAR_FOR(par, "omp parallel for schedule(static)",
    for (int n0 = 0; n0 < N; n0 += CHUNK) {
        const int nb = N - n0 < CHUNK ? N - n0 : CHUNK;
        /* row2im reads these rows at once and backward never does, so each
         * thread reuses one chunk's block, the one numbered as the thread
         * (a static schedule's first chunk for thread t is chunk t or later,
         * so that block exists): it stays in the core's cache, and the
         * batch's rows (13 MB for G's ConvT 128->64) are never written out.
         * On one thread, block 0 (whatever team the caller may be in). */
        real *r = rows + (long)(par ? omp_get_thread_num() : 0) * CHUNK * P * ld;
        /* rows = x^T @ W */
        gemm_mat_packed_b(nb * P, KK, C, nchw_rows(&x, (long)n0 * P), wp, r, ld, 0);
        for (int n = 0; n < nb; n++) {
            real *o = out + (long)(n0 + n) * O * Q;
            for (int c = 0; c < O; c++) /* out = bias, then row2im adds the windows */
                for (long q = 0; q < Q; q++) o[c * Q + q] = bias ? bias[c] : 0;
            row2im(o, 0, r + (long)n * P * ld, ld, O, Ho, Wo, k, stride, pad, H, W);
        }
    });
}

/* dinp    [N, C, H, W] or NULL   += d loss / d inp
 * dweight [C, O, k, k] or NULL   += d loss / d weight
 * dbias   [O] or NULL            += d loss / d bias
 * wp      [wpack_size]           scratch: W^T packed for the GEMM (needed iff dinp)
 * win     windows                scratch: the windows of dout (copied out
 *                                channel-major, else gathered)
 * dxt     [NP, C]                scratch (needed iff dinp)
 * dout    [N, O, Ho, Wo]
 * xt      [C, NP]                scratch: inp, channel major (needed iff dweight)
 * inp     [N, C, H, W]
 * weight  [C, O, k, k] */
static void conv_transpose2d_backward(real *dinp, int dinp_fresh, real *dweight, real *dbias, real *wp,
                                      Windows *win, real *dxt, const real *dout, real *xt, const real *inp,
                                      const real *weight, int N, int C, int H, int W, int O, int k, int stride,
                                      int pad) {
    const int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    const int KK = O * k * k, P = H * W, NP = N * P, ld = win->ld;
    if (dbias) bias_backward(dbias, dout, N, O, (long)Ho * Wo);
    if (!dinp && !dweight) return;
    /* conv2d's forward, from dout [N, O, Ho, Wo] to [N, C, H, W] */
    const int cm = channel_major(P, C);
    if (dinp && !cm) gemm_pack_b(C, KK, weight, KK, 1, wp); /* W^T [KK, C] */
    if (!cm) windows_frame(win, dout, N, O, Ho, Wo, k, stride, pad, H, W);
    PAR_FOR(per_image_threads(N, (long)N * P * KK), "omp parallel for schedule(static)",
    for (int n0 = 0; n0 < N; n0 += CHUNK) {
        const int nb = N - n0 < CHUNK ? N - n0 : CHUNK;
        real *r = cm ? win->rows + (long)n0 * P * ld : NULL;
        for (int n = 0; cm && n < nb; n++)
            im2row(r + (long)n * P * ld, ld, dout + (long)(n0 + n) * O * Ho * Wo, O, Ho, Wo, k, stride, pad, H, W);
        if (dinp && cm) /* dx [C, P] = W @ rows^T, image by image, then added to dinp */
            for (int n = 0; n < nb; n++) {
                real *d = dxt + (long)(n0 + n) * P * C, *dx = dinp + (long)(n0 + n) * C * P;
                gemm(C, P, KK, weight, KK, 0, r + (long)n * P * ld, ld, 1, d, P, 0);
                if (dinp_fresh)
                    for (long e = 0; e < (long)C * P; e++) dx[e] = (real)0 + d[e];
                else
                    for (long e = 0; e < (long)C * P; e++) dx[e] += d[e];
            }
        else if (dinp) {
            real *d = dxt + (long)n0 * P * C;
            gemm_mat_packed_b(nb * P, C, KK, windows_mat(win, (long)n0 * P), wp, d, C, 0); /* dx^T = rows @ W^T */
            for (int n = 0; n < nb; n++)
                from_rows(dinp + (long)(n0 + n) * C * P, d + (long)n * P * C, NULL, C, P, !dinp_fresh);
        }
    });
    if (dweight) { /* dW [C, KK] += x [C, NP] @ rows [NP, KK] */
        to_channel_major(xt, inp, N, C, P);
        weight_grad(dweight, xt, win, C, KK, NP, wp); /* wp: dinp is done with it */
    }
}

/* ---------------------------------------------------------------------------
 * The op table entries and the constructors.
 * ------------------------------------------------------------------------- */

/* The dims of a conv node, read back from its inputs. */
typedef struct {
    int N, C, H, W, O, k, stride, pad;
} ConvDims;

static ConvDims dims_of(const Tensor *out, int transposed) {
    const Tensor *x = out->in[0], *w = out->in[1];
    return (ConvDims){x->shape[0], x->shape[1], x->shape[2], x->shape[3],
                      transposed ? w->shape[1] : w->shape[0], w->shape[2], out->ip[0], out->ip[1]};
}

/* A node's scratch (out->aux): where each part starts, in reals, and the
 * size of the whole. One function per op lays it out, for its constructor
 * (the size) and its forward and backward (the parts). dx: the last part,
 * needed only when x has a gradient, is counted. */
typedef struct {
    long wp, rows, tab, xt, dx, size;
} ConvLayout;

/* conv2d: wp | windows of x (rows) | tmp (xt) | dtab (tab) | drows (dx). */
static ConvLayout conv2d_layout(const ConvDims *d, int P, int dx) {
    const long NP = (long)d->N * P, KK = (long)d->C * d->k * d->k;
    ConvLayout l = {.wp = 0, .rows = wpack_size(d->O, (int)KK)};
    l.xt = l.rows + windows_size(!channel_major(P, d->O), d->N, d->C, d->H, d->W, d->k, d->pad, NP);
    l.tab = l.xt + d->O * NP;
    l.dx = l.tab + nchw_size(NP, d->O);
    l.size = l.dx + (dx ? row_stride((int)KK) * NP : 0);
    return l;
}

/* conv_transpose2d: wp | rows | xtab (tab) | xt | dxt (dx). rows holds
 * forward's blocks of rows (one per thread, at most NP rows in all) and
 * backward's windows of dout, whichever needs more. */
static ConvLayout convt_layout(const ConvDims *d, int Ho, int Wo, int dx) {
    const long P = (long)d->H * d->W, NP = d->N * P, KK = (long)d->O * d->k * d->k;
    const long fwd = row_stride((int)KK) * NP,
               bwd = windows_size(!channel_major(P, d->C), d->N, d->O, Ho, Wo, d->k, d->pad, NP);
    ConvLayout l = {.wp = 0, .rows = wpack_size(d->C, (int)KK)};
    l.tab = l.rows + (fwd > bwd ? fwd : bwd);
    l.xt = l.tab + nchw_size(NP, d->C);
    l.dx = l.xt + d->C * NP;
    l.size = l.dx + (dx ? d->C * NP : 0);
    return l;
}

/* conv2d's windows of x, in its scratch. */
static Windows conv2d_windows(const Tensor *out, const ConvDims *d, const ConvLayout *l) {
    const int P = out->shape[2] * out->shape[3];
    return windows_at(out->aux + l->rows, !channel_major(P, d->O), d->N, d->C, d->H, d->W, d->k, d->pad,
                      (long)d->N * P);
}

void fwd_conv2d(Tensor *out) {
    ConvDims d = dims_of(out, 0);
    const ConvLayout l = conv2d_layout(&d, out->shape[2] * out->shape[3], 0);
    Windows win = conv2d_windows(out, &d, &l);
    conv2d_forward(out->data, out->aux + l.wp, &win, out->aux + l.xt, out->in[0]->data, out->in[1]->data,
                   out->in[2] ? out->in[2]->data : NULL, d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

void bwd_conv2d(Tensor *out) {
    ConvDims d = dims_of(out, 0);
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    const ConvLayout l = conv2d_layout(&d, out->shape[2] * out->shape[3], 0);
    const Windows win = conv2d_windows(out, &d, &l);
    real *a = out->aux;
    const int fresh = grad_take_fresh(x);
    conv2d_backward(x->grad, fresh, w->grad, b ? b->grad : NULL, a + l.wp, a + l.dx, a + l.xt, a + l.tab, out->grad,
                    &win, w->data, d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

void fwd_conv_transpose2d(Tensor *out) {
    ConvDims d = dims_of(out, 1);
    const ConvLayout l = convt_layout(&d, out->shape[2], out->shape[3], 0);
    real *a = out->aux;
    conv_transpose2d_forward(out->data, a + l.wp, a + l.rows, a + l.tab, out->in[0]->data, out->in[1]->data,
                             out->in[2] ? out->in[2]->data : NULL, d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

void bwd_conv_transpose2d(Tensor *out) {
    ConvDims d = dims_of(out, 1);
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    const int Ho = out->shape[2], Wo = out->shape[3];
    const ConvLayout l = convt_layout(&d, Ho, Wo, 0);
    real *a = out->aux;
    Windows win = windows_at(a + l.rows, !channel_major((long)d.H * d.W, d.C), d.N, d.O, Ho, Wo, d.k, d.pad,
                             (long)d.N * d.H * d.W);
    const int fresh = grad_take_fresh(x);
    conv_transpose2d_backward(x->grad, fresh, w->grad, b ? b->grad : NULL, a + l.wp, &win, a + l.dx, out->grad,
                              a + l.xt, x->data, w->data, d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

/* Shape checks shared by both constructors (Ho, Wo: the output size it would have). */
static void check_conv(const char *op, const Tensor *x, const Tensor *w, const Tensor *bias, int wc, int wo,
                       int stride, int pad, int Ho, int Wo) {
    char bx[64], bw[64];
    if (x->ndim != 4 || w->ndim != 4)
        fail(EXIT_SOFTWARE, op, "x is [N, C, H, W] and w is 4-D", "x %s, w %s", shape_str(x, bx, sizeof bx),
             shape_str(w, bw, sizeof bw));
    if (w->shape[wc] != x->shape[1] || w->shape[2] != w->shape[3])
        fail(EXIT_SOFTWARE, op, "conv2d: w [O, C, k, k]; conv_transpose2d: w [C, O, k, k] (square k)",
             "x %s does not fit w %s", shape_str(x, bx, sizeof bx), shape_str(w, bw, sizeof bw));
    if (bias && (bias->size != w->shape[wo]))
        fail(EXIT_SOFTWARE, op, "bias is [O] or NULL", "bias %s for %d output channels",
             shape_str(bias, bx, sizeof bx), w->shape[wo]);
    if (stride < 1 || pad < 0)
        fail(EXIT_SOFTWARE, op, "use stride >= 1 and pad >= 0", "stride %d, pad %d", stride, pad);
    if (Ho < 1 || Wo < 1)
        fail(EXIT_SOFTWARE, op, "use a smaller kernel or padding, or a larger input",
             "output would be %d x %d (x %s, w %s, stride %d, pad %d)", Ho, Wo, shape_str(x, bx, sizeof bx),
             shape_str(w, bw, sizeof bw), stride, pad);
}

Tensor *t_conv2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad) {
    const int k = w->shape[2];
    const int Ho = stride > 0 ? (x->shape[2] + 2 * pad - k) / stride + 1 : 0;
    const int Wo = stride > 0 ? (x->shape[3] + 2 * pad - k) / stride + 1 : 0;
    /* (H + 2pad - k) < 0 truncates toward 0 in C: catch it before the division hides it */
    const int neg = x->shape[2] + 2 * pad < k || x->shape[3] + 2 * pad < k;
    check_conv("conv2d", x, w, bias, 1, 0, stride, pad, neg ? 0 : Ho, neg ? 0 : Wo);
    const int N = x->shape[0], O = w->shape[0];
    Tensor *out = tape_node(T, OP_CONV2D, 4, SHAPE(N, O, Ho, Wo), x, w, bias);
    out->ip[0] = stride;
    out->ip[1] = pad;
    const ConvDims d = dims_of(out, 0);
    out->aux = tape_alloc_uninit(T, conv2d_layout(&d, Ho * Wo, x->grad != NULL).size);
    fwd_conv2d(out);
    return out;
}

Tensor *t_conv_transpose2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad) {
    const int k = w->shape[2];
    const int Ho = (x->shape[2] - 1) * stride - 2 * pad + k, Wo = (x->shape[3] - 1) * stride - 2 * pad + k;
    check_conv("conv_transpose2d", x, w, bias, 0, 1, stride, pad, Ho, Wo);
    const int N = x->shape[0], O = w->shape[1];
    Tensor *out = tape_node(T, OP_CONV_TRANSPOSE2D, 4, SHAPE(N, O, Ho, Wo), x, w, bias);
    out->ip[0] = stride;
    out->ip[1] = pad;
    const ConvDims d = dims_of(out, 1);
    out->aux = tape_alloc_uninit(T, convt_layout(&d, Ho, Wo, x->grad != NULL).size);
    fwd_conv_transpose2d(out);
    return out;
}
