/* ops_conv.c - 2-D convolution and transposed convolution (PyTorch layouts, NCHW).
 *
 * Teaches: how a convolution becomes one matrix multiply. im2col copies every
 * k x k window of the input into a column of a matrix `col`; the convolution
 * is then W [O, C*k*k] @ col [C*k*k, positions], which the library's GEMM
 * runs near the machine's peak. The backward pass is two more multiplies
 * (dW = dout @ col^T, dcol = W^T @ dout) and col2im, the adjoint of im2col,
 * which adds each column back onto the window it came from.
 * A transposed convolution is the adjoint of a convolution: its forward is
 * exactly conv2d's input-gradient (W^T @ x, then col2im), and its backward
 * is conv2d's forward (im2col of dout, then W @ col). So the four passes
 * share the same three kernels: im2col, col2im and GEMM.
 * Leaves out: dilation, groups, output_padding, non-square kernels, and
 * direct (Winograd/FFT) algorithms.
 *
 * Dimension key:
 *   N = batch, C = input channels, O = output channels, k = kernel size,
 *   H, W = input height/width, Ho, Wo = output height/width,
 *   P = Ho * Wo (conv2d) or H * W (conv_transpose2d): positions per image,
 *   KK = C*k*k (conv2d) or O*k*k (conv_transpose2d): rows of col.
 *
 * Layouts. Tensors are NCHW. Inside the kernels, matrices are "channel
 * major" [channels, N*P]: the column index is n*P + p, so a whole batch is
 * ONE GEMM whose summed dimension for dW is N*P (a fixed order: the batch
 * reduction of dW is deterministic, whatever the thread count).
 *
 * Scratch (out->aux, from the tape's arena, sized in the constructors):
 *   conv2d:            col [C*k*k, N*P] | tmp [O, N*P] | dcol [C*k*k, N*P] (if x has a grad)
 *   conv_transpose2d:  xt  [C, N*H*W]   | col [O*k*k, N*H*W] | dxt [C, N*H*W] (if x has a grad)
 * Forward rewrites all it uses from the inputs (the gradient checker replays
 * it); backward only reads what the last forward left, and adds (+=) into
 * the grads that exist.
 */
#include "tensor.h"

#include <string.h>

#include "gemm.h"
#include "util.h"

/* Work below this many elements runs on one thread: waking the team costs
 * more than it saves. Only the schedule changes, never the arithmetic. */
#define PAR_MIN 32768L

/* ---------------------------------------------------------------------------
 * The shared kernels.
 * ------------------------------------------------------------------------- */

/* col [C*k*k, N*Ho*Wo]  <-  img [N, C, H, W]
 * col[(c*k + i)*k + j][n*Ho*Wo + oh*Wo + ow] = img[n, c, oh*s - pad + i, ow*s - pad + j]
 * (0 where the window hangs over the padding). Each (row, n) block is written
 * by one thread. */
static void im2col(real *col, const real *img, int N, int C, int H, int W, int k, int stride, int pad, int Ho,
                   int Wo) {
    const long P = (long)Ho * Wo, NP = N * P;
    const int KK = C * k * k;
#pragma omp parallel for collapse(2) schedule(static) if ((long)KK * NP > PAR_MIN)
    for (int r = 0; r < KK; r++) {
        for (int n = 0; n < N; n++) {
            const int c = r / (k * k), i = (r / k) % k, j = r % k;
            const real *plane = img + ((long)n * C + c) * H * W; /* [H, W] */
            real *dst = col + r * NP + n * P;                     /* [Ho, Wo] */
            for (int oh = 0; oh < Ho; oh++) {
                const int ih = oh * stride - pad + i;
                real *d = dst + (long)oh * Wo;
                if (ih < 0 || ih >= H) {
                    memset(d, 0, (size_t)Wo * sizeof(real));
                    continue;
                }
                const real *row = plane + (long)ih * W;
                for (int ow = 0; ow < Wo; ow++) {
                    const int iw = ow * stride - pad + j;
                    d[ow] = (iw >= 0 && iw < W) ? row[iw] : 0;
                }
            }
        }
    }
}

/* img [N, C, H, W]  +=  col2im(col [C*k*k, N*Ho*Wo]): the adjoint of im2col.
 * Windows overlap when stride < k, so one image entry gathers several
 * columns: each (n, c) plane is owned by one thread, which adds in the fixed
 * order (i, j, oh, ow). */
static void col2im(real *img, const real *col, int N, int C, int H, int W, int k, int stride, int pad, int Ho,
                   int Wo) {
    const long P = (long)Ho * Wo, NP = N * P;
#pragma omp parallel for collapse(2) schedule(static) if ((long)C * k * k * NP > PAR_MIN)
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) {
            real *plane = img + ((long)n * C + c) * H * W; /* [H, W] */
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    const real *src = col + ((long)(c * k + i) * k + j) * NP + n * P; /* [Ho, Wo] */
                    for (int oh = 0; oh < Ho; oh++) {
                        const int ih = oh * stride - pad + i;
                        if (ih < 0 || ih >= H) continue;
                        real *row = plane + (long)ih * W;
                        const real *s = src + (long)oh * Wo;
                        for (int ow = 0; ow < Wo; ow++) {
                            const int iw = ow * stride - pad + j;
                            if (iw >= 0 && iw < W) row[iw] += s[ow];
                        }
                    }
                }
            }
        }
    }
}

/* dst [C, N*P]  <-  src [N, C, P]   (NCHW to channel major) */
static void to_channel_major(real *dst, const real *src, int N, int C, long P) {
#pragma omp parallel for collapse(2) schedule(static) if ((long)N * C * P > PAR_MIN)
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            memcpy(dst + (long)c * N * P + n * P, src + ((long)n * C + c) * P, (size_t)P * sizeof(real));
}

/* dst [N, C, P]  (= or +=)  src [C, N*P]  (+ bias [C] if not NULL)   (channel major to NCHW) */
static void from_channel_major(real *dst, const real *src, const real *bias, int N, int C, long P, int accumulate) {
#pragma omp parallel for collapse(2) schedule(static) if ((long)N * C * P > PAR_MIN)
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) {
            real *d = dst + ((long)n * C + c) * P;
            const real *s = src + (long)c * N * P + n * P;
            const real b = bias ? bias[c] : 0;
            if (accumulate)
                for (long p = 0; p < P; p++) d[p] += s[p] + b;
            else
                for (long p = 0; p < P; p++) d[p] = s[p] + b;
        }
    }
}

/* dbias [C]  +=  sum over n, p of x [N, C, P]; one thread per channel,
 * summing n then p in order. */
static void bias_backward(real *dbias, const real *x, int N, int C, long P) {
#pragma omp parallel for schedule(static) if ((long)N * C * P > PAR_MIN)
    for (int c = 0; c < C; c++) {
        real s = 0;
        for (int n = 0; n < N; n++) {
            const real *row = x + ((long)n * C + c) * P;
            for (long p = 0; p < P; p++) s += row[p];
        }
        dbias[c] += s;
    }
}

/* ---------------------------------------------------------------------------
 * conv2d: out = W * x + b.
 * ------------------------------------------------------------------------- */

/* out    [N, O, Ho, Wo]   the result
 * col    [C*k*k, N*P]     scratch: im2col(inp), kept for backward
 * tmp    [O, N*P]         scratch: W @ col, channel major
 * inp    [N, C, H, W]
 * weight [O, C, k, k]     = [O, C*k*k] as a matrix
 * bias   [O] or NULL */
static void conv2d_forward(real *out, real *col, real *tmp, const real *inp, const real *weight, const real *bias,
                           int N, int C, int H, int W, int O, int k, int stride, int pad) {
    const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
    const int KK = C * k * k, NP = N * Ho * Wo;
    im2col(col, inp, N, C, H, W, k, stride, pad, Ho, Wo);
    gemm(O, NP, KK, weight, KK, 0, col, NP, 0, tmp, NP, 0); /* tmp = W @ col */
    from_channel_major(out, tmp, bias, N, O, (long)Ho * Wo, 0);
}

/* dinp    [N, C, H, W] or NULL    += d loss / d inp
 * dweight [O, C, k, k] or NULL    += d loss / d weight
 * dbias   [O] or NULL             += d loss / d bias
 * dcol    [C*k*k, N*P]            scratch (needed iff dinp)
 * dtmp    [O, N*P]                scratch: dout, channel major
 * dout    [N, O, Ho, Wo]
 * col     [C*k*k, N*P]            im2col(inp) from the forward (needed iff dweight)
 * weight  [O, C, k, k] */
static void conv2d_backward(real *dinp, real *dweight, real *dbias, real *dcol, real *dtmp, const real *dout,
                            const real *col, const real *weight, int N, int C, int H, int W, int O, int k,
                            int stride, int pad) {
    const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
    const int KK = C * k * k, NP = N * Ho * Wo;
    if (dbias) bias_backward(dbias, dout, N, O, (long)Ho * Wo);
    if (!dinp && !dweight) return;
    to_channel_major(dtmp, dout, N, O, (long)Ho * Wo);
    /* dW [O, KK] += dout [O, NP] @ col^T [NP, KK]: the batch is the summed dimension */
    if (dweight) gemm(O, KK, NP, dtmp, NP, 0, col, NP, 1, dweight, KK, 1);
    if (dinp) {
        gemm(KK, NP, O, weight, KK, 1, dtmp, NP, 0, dcol, NP, 0); /* dcol = W^T @ dout */
        col2im(dinp, dcol, N, C, H, W, k, stride, pad, Ho, Wo);
    }
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
 * xt     [C, N*H*W]      scratch: inp, channel major, kept for backward
 * col    [O*k*k, N*H*W]  scratch: W^T @ xt
 * inp    [N, C, H, W]
 * weight [C, O, k, k]    = [C, O*k*k] as a matrix
 * bias   [O] or NULL */
static void conv_transpose2d_forward(real *out, real *xt, real *col, const real *inp, const real *weight,
                                     const real *bias, int N, int C, int H, int W, int O, int k, int stride,
                                     int pad) {
    const int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    const int KK = O * k * k, NP = N * H * W;
    to_channel_major(xt, inp, N, C, (long)H * W);
    gemm(KK, NP, C, weight, KK, 1, xt, NP, 0, col, NP, 0); /* col = W^T @ x */
    const long P = (long)Ho * Wo;
    /* out = bias, then col2im adds the windows */
#pragma omp parallel for collapse(2) schedule(static) if ((long)N * O * P > PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            real *plane = out + ((long)n * O + o) * P, b = bias ? bias[o] : 0;
            for (long p = 0; p < P; p++) plane[p] = b;
        }
    col2im(out, col, N, O, Ho, Wo, k, stride, pad, H, W);
}

/* dinp    [N, C, H, W] or NULL   += d loss / d inp
 * dweight [C, O, k, k] or NULL   += d loss / d weight
 * dbias   [O] or NULL            += d loss / d bias
 * col     [O*k*k, N*H*W]         scratch: im2col(dout)
 * dxt     [C, N*H*W]             scratch (needed iff dinp)
 * dout    [N, O, Ho, Wo]
 * xt      [C, N*H*W]             inp, channel major, from the forward
 * weight  [C, O, k, k] */
static void conv_transpose2d_backward(real *dinp, real *dweight, real *dbias, real *col, real *dxt,
                                      const real *dout, const real *xt, const real *weight, int N, int C, int H,
                                      int W, int O, int k, int stride, int pad) {
    const int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    const int KK = O * k * k, NP = N * H * W;
    if (dbias) bias_backward(dbias, dout, N, O, (long)Ho * Wo);
    if (!dinp && !dweight) return;
    /* conv2d's forward, from dout [N, O, Ho, Wo] to [N, C, H, W] */
    im2col(col, dout, N, O, Ho, Wo, k, stride, pad, H, W);
    /* dW [C, KK] += x [C, NP] @ col^T [NP, KK] */
    if (dweight) gemm(C, KK, NP, xt, NP, 0, col, NP, 1, dweight, KK, 1);
    if (dinp) {
        gemm(C, NP, KK, weight, KK, 0, col, NP, 0, dxt, NP, 0); /* dx = W @ col */
        from_channel_major(dinp, dxt, NULL, N, C, (long)H * W, 1);
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

void fwd_conv2d(Tensor *out) {
    ConvDims d = dims_of(out, 0);
    long NP = (long)d.N * out->shape[2] * out->shape[3];
    real *col = out->aux, *tmp = col + (long)d.C * d.k * d.k * NP;
    conv2d_forward(out->data, col, tmp, out->in[0]->data, out->in[1]->data, out->in[2] ? out->in[2]->data : NULL,
                   d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

void bwd_conv2d(Tensor *out) {
    ConvDims d = dims_of(out, 0);
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    long NP = (long)d.N * out->shape[2] * out->shape[3], KKNP = (long)d.C * d.k * d.k * NP;
    real *col = out->aux, *tmp = col + KKNP, *dcol = tmp + d.O * NP;
    conv2d_backward(x->grad, w->grad, b ? b->grad : NULL, dcol, tmp, out->grad, col, w->data, d.N, d.C, d.H, d.W,
                    d.O, d.k, d.stride, d.pad);
}

void fwd_conv_transpose2d(Tensor *out) {
    ConvDims d = dims_of(out, 1);
    long NP = (long)d.N * d.H * d.W;
    real *xt = out->aux, *col = xt + d.C * NP;
    conv_transpose2d_forward(out->data, xt, col, out->in[0]->data, out->in[1]->data,
                             out->in[2] ? out->in[2]->data : NULL, d.N, d.C, d.H, d.W, d.O, d.k, d.stride, d.pad);
}

void bwd_conv_transpose2d(Tensor *out) {
    ConvDims d = dims_of(out, 1);
    Tensor *x = out->in[0], *w = out->in[1], *b = out->in[2];
    long NP = (long)d.N * d.H * d.W;
    real *xt = out->aux, *col = xt + d.C * NP, *dxt = col + (long)d.O * d.k * d.k * NP;
    conv_transpose2d_backward(x->grad, w->grad, b ? b->grad : NULL, col, dxt, out->grad, xt, w->data, d.N, d.C, d.H,
                              d.W, d.O, d.k, d.stride, d.pad);
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
    const int N = x->shape[0], C = x->shape[1], O = w->shape[0];
    Tensor *out = tape_node(T, OP_CONV2D, 4, SHAPE(N, O, Ho, Wo), x, w, bias);
    out->ip[0] = stride;
    out->ip[1] = pad;
    const long NP = (long)N * Ho * Wo, KKNP = (long)C * k * k * NP;
    out->aux = tape_alloc(T, KKNP + O * NP + (x->grad ? KKNP : 0)); /* col | tmp | dcol */
    fwd_conv2d(out);
    return out;
}

Tensor *t_conv_transpose2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad) {
    const int k = w->shape[2];
    const int Ho = (x->shape[2] - 1) * stride - 2 * pad + k, Wo = (x->shape[3] - 1) * stride - 2 * pad + k;
    check_conv("conv_transpose2d", x, w, bias, 0, 1, stride, pad, Ho, Wo);
    const int N = x->shape[0], C = x->shape[1], O = w->shape[1];
    Tensor *out = tape_node(T, OP_CONV_TRANSPOSE2D, 4, SHAPE(N, O, Ho, Wo), x, w, bias);
    out->ip[0] = stride;
    out->ip[1] = pad;
    const long NP = (long)N * x->shape[2] * x->shape[3];
    out->aux = tape_alloc(T, C * NP + (long)O * k * k * NP + (x->grad ? C * NP : 0)); /* xt | col | dxt */
    fwd_conv_transpose2d(out);
    return out;
}
