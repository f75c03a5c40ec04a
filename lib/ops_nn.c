/* ops_nn.c - the neural-network ops: softmax, log-softmax, layernorm,
 * batch normalisation, embedding, and the pieces of causal self-attention.
 *
 * Teaches: the numerically stable forms (subtract the row max before exp,
 * so e^x never overflows and a masked -inf entry becomes exactly 0), the
 * closed-form backward of each op (written above it), and layernorm as two
 * plain kernels in the manner of llm.c, which a reader can lift out whole.
 * Attention is not one op here: it is built from split_heads, matmul,
 * causal_mask, softmax and merge_heads, so every step has its own gradient
 * check; ops_attention.c fuses the same steps into one op (and runs this
 * file's softmax kernels inside it).
 * Leaves out: dropout, masks other than causal, softmax along any axis but
 * the last.
 *
 * Dimension key: R = rows (the product of all dims but the last),
 * C = the last dim (width), N = rows of layernorm, V = vocabulary,
 * B = batch, T = context, H = heads, hd = head width (C / H), P = parts of
 * a fused projection (3 for q, k, v). Batchnorm: C = axis 1 (channels),
 * S = H*W, M = N*S (the entries of one channel).
 *
 * Batch normalisation normalises per channel over the batch (axis 1 is the
 * channel), with a train mode (batch statistics, running averages updated)
 * and an eval mode (the running averages: an affine map).
 *
 * Threads: every op loops over rows with OpenMP when the input is large;
 * each output element is computed by one thread in a fixed order, and the
 * sums across rows (layernorm's dgain/dbias, embedding's scatter) run
 * serially; batchnorm gives each channel to one thread, which sums it in a
 * fixed order. So results are bit-identical for any number of threads.
 */
#include "par.h"
#include "tensor.h"

#include <omp.h>
#include <tgmath.h>
#include <string.h>

#include "util.h"
#include "vmath.h"

/* Below this many elements a loop runs on one thread (spawning costs more). */
#define PAR_MIN (1L << 15)

static int last_dim(const Tensor *t) { return t->shape[t->ndim - 1]; }

/* ===========================================================================
 * Softmax and log-softmax along the last axis.
 * ======================================================================== */

/* y = e^(x - m) / sum e^(x - m), m = the row max. A row of -inf except one
 * entry (a masked attention row) gives exactly 1 there and 0 elsewhere.
 * A row of only -inf has no softmax (NaN); the causal mask never makes one,
 * since it keeps the diagonal.
 * A row's max and its sum are chains of C steps, each waiting for the one
 * before (the sum runs in order, j = 0, 1, ...: that order fixes its bits).
 * So rows go SOFTMAX_ROWS at a time, their chains side by side, step j of
 * every row together: the core overlaps them. Each row's numbers are those
 * of the row done alone. */
#define SOFTMAX_ROWS 8

/* n rows (n a constant where it is inlined: 1 or SOFTMAX_ROWS) of x [n, C]
 * into y [n, C], of which only the first `live` columns are read: the rest
 * are -inf (a causal mask's future), so their weights are 0, written as 0.
 * Skipping them changes no bit: max(m, -inf) = m, and adding e^-inf = 0 to
 * a positive sum leaves it as it was. */
static inline __attribute__((always_inline)) void softmax_rows(const real *x, real *y, long C, int n, long live) {
    real m[SOFTMAX_ROWS], s[SOFTMAX_ROWS];
    for (int r = 0; r < n; r++) m[r] = -INFINITY, s[r] = 0;
    for (long j = 0; j < live; j++)
        for (int r = 0; r < n; r++) m[r] = x[r * C + j] > m[r] ? x[r * C + j] : m[r];
    for (int r = 0; r < n; r++)
        for (long j = 0; j < live; j++) y[r * C + j] = vexp(x[r * C + j] - m[r]); /* a vector loop */
    for (long j = 0; j < live; j++)
        for (int r = 0; r < n; r++) s[r] += y[r * C + j];
    for (int r = 0; r < n; r++) {
        for (long j = 0; j < live; j++) y[r * C + j] /= s[r];
        for (long j = live; j < C; j++) y[r * C + j] = 0;
    }
}

void fwd_softmax(Tensor *out) {
    const real *x = out->in[0]->data; /* [R, C] */
    real *y = out->data;              /* [R, C] */
    long C = last_dim(out), R = out->size / C, groups = R / SOFTMAX_ROWS;
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long g = 0; g < groups; g++)
        softmax_rows(x + g * SOFTMAX_ROWS * C, y + g * SOFTMAX_ROWS * C, C, SOFTMAX_ROWS, C););
    for (long r = groups * SOFTMAX_ROWS; r < R; r++) softmax_rows(x + r * C, y + r * C, C, 1, C);
}

/* The fused attention's softmax of one head's scores s [T, T], row i over
 * columns 0..i: the softmax op's own kernel, on the live part of each group
 * of rows. Row i of a group reads up to the group's last row's diagonal, so
 * the entries right of its own diagonal there are set to -inf first. The
 * same numbers as softmax(causal_mask(s)), bit for bit. */
void softmax_causal(real *s, real *p, int T) {
    const int groups = T / SOFTMAX_ROWS;
    for (int g = 0; g < groups; g++) {
        const int i0 = g * SOFTMAX_ROWS, live = i0 + SOFTMAX_ROWS;
        for (int i = i0; i < live; i++)
            for (int j = i + 1; j < live; j++) s[(long)i * T + j] = -INFINITY;
        softmax_rows(s + (long)i0 * T, p + (long)i0 * T, T, SOFTMAX_ROWS, live);
    }
    for (int i = groups * SOFTMAX_ROWS; i < T; i++) softmax_rows(s + (long)i * T, p + (long)i * T, T, 1, i + 1);
}

/* dx = y ⊙ (dy − Σ_j dy_j y_j), per row. */
void bwd_softmax(Tensor *out) {
    Tensor *a = out->in[0];
    if (!a->grad) return;
    const real *y = out->data, *dy = out->grad; /* [R, C] */
    real *dx = a->grad;                         /* [R, C] */
    long C = last_dim(out), R = out->size / C;
    /* BEGIN SOLUTION ex05-softmax-backward
     * HINT: one pass over a row for the sum, a second to add into dx (+=, never =).
     * STUB: (void)y, (void)dy, (void)dx, (void)R;
     */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        const real *yr = y + r * C, *dyr = dy + r * C;
        real dot = 0;
        for (long j = 0; j < C; j++) dot += dyr[j] * yr[j];
        for (long j = 0; j < C; j++) dx[r * C + j] += yr[j] * (dyr[j] - dot);
    });
    /* END SOLUTION ex05-softmax-backward */
}

Tensor *t_softmax(Tape *T, Tensor *a) {
    Tensor *out = tape_node(T, OP_SOFTMAX, a->ndim, a->shape, a, NULL, NULL);
    fwd_softmax(out);
    return out;
}

/* y = x − m − log Σ e^(x − m): finite for any finite logits, however large. */
void fwd_log_softmax(Tensor *out) {
    const real *x = out->in[0]->data; /* [R, C] */
    real *y = out->data;              /* [R, C] */
    long C = last_dim(out), R = out->size / C;
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        const real *xr = x + r * C;
        real m = -INFINITY, s = 0;
        for (long j = 0; j < C; j++) m = xr[j] > m ? xr[j] : m;
        for (long j = 0; j < C; j++) s += exp(xr[j] - m);
        real lse = m + log(s);
        for (long j = 0; j < C; j++) y[r * C + j] = xr[j] - lse;
    });
}

/* dx = dy − softmax(x) Σ_j dy_j, and softmax(x) = e^y. */
void bwd_log_softmax(Tensor *out) {
    Tensor *a = out->in[0];
    if (!a->grad) return;
    const real *y = out->data, *dy = out->grad; /* [R, C] */
    real *dx = a->grad;                         /* [R, C] */
    long C = last_dim(out), R = out->size / C;
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        const real *yr = y + r * C, *dyr = dy + r * C;
        real s = 0;
        for (long j = 0; j < C; j++) s += dyr[j];
        for (long j = 0; j < C; j++) dx[r * C + j] += dyr[j] - exp(yr[j]) * s;
    });
}

Tensor *t_log_softmax(Tape *T, Tensor *a) {
    Tensor *out = tape_node(T, OP_LOG_SOFTMAX, a->ndim, a->shape, a, NULL, NULL);
    fwd_log_softmax(out);
    return out;
}

/* ===========================================================================
 * Layernorm over the last axis (as PyTorch: biased variance, eps inside the
 * square root). Two kernels in the manner of llm.c, then the op around them.
 * ======================================================================== */

/* out  [N, C]  (x - mean) * rstd * weight + bias
 * mean [N]     saved for backward
 * rstd [N]     1 / sqrt(var + eps), saved for backward
 * inp  [N, C], weight [C], bias [C] */
/* A row's mean and variance are chains of C additions in order (as
 * softmax's sum): rows go LN_ROWS at a time, step i of every row together,
 * so the core overlaps their chains; each row's numbers are those of the
 * row done alone. rows: a constant where this is inlined (1 or LN_ROWS). */
#define LN_ROWS 8
static inline __attribute__((always_inline)) void layernorm_rows(real *out, real *mean, real *rstd, const real *x,
                                                                 const real *weight, const real *bias, int rows,
                                                                 int C, real eps) {
    real m[LN_ROWS], v[LN_ROWS];
    for (int r = 0; r < rows; r++) m[r] = 0, v[r] = 0;
    for (int i = 0; i < C; i++)
        for (int r = 0; r < rows; r++) m[r] += x[(long)r * C + i];
    for (int r = 0; r < rows; r++) m[r] /= C;
    for (int i = 0; i < C; i++)
        for (int r = 0; r < rows; r++) v[r] += (x[(long)r * C + i] - m[r]) * (x[(long)r * C + i] - m[r]);
    for (int r = 0; r < rows; r++) {
        v[r] /= C;
        real s = 1 / sqrt(v[r] + eps);
        const real *xr = x + (long)r * C;
        real *o = out + (long)r * C;
        for (int i = 0; i < C; i++) o[i] = (xr[i] - m[r]) * s * weight[i] + bias[i];
        mean[r] = m[r];
        rstd[r] = s;
    }
}

static void layernorm_forward(real *out, real *mean, real *rstd, const real *inp, const real *weight,
                              const real *bias, int N, int C, real eps) {
    int groups = N / LN_ROWS;
    PAR_FOR((long)N * C > PAR_MIN, "omp parallel for",
    for (int g = 0; g < groups; g++) {
        long n = (long)g * LN_ROWS;
        layernorm_rows(out + n * C, mean + n, rstd + n, inp + n * C, weight, bias, LN_ROWS, C, eps);
    });
    for (long n = (long)groups * LN_ROWS; n < N; n++)
        layernorm_rows(out + n * C, mean + n, rstd + n, inp + n * C, weight, bias, 1, C, eps);
}

/* With xhat = (x - mean) rstd and y = xhat ⊙ w + b, per row:
 *   dbias   += dy                     dweight += dy ⊙ xhat
 *   dinp    += rstd (dy⊙w − mean(dy⊙w) − xhat ⊙ mean(dy⊙w⊙xhat))
 * dinp [N, C], dweight [C], dbias [C]: accumulated into (+=); any may be NULL.
 * dout [N, C], inp [N, C], weight [C], mean [N], rstd [N].
 * dinp is parallel over rows; dweight and dbias sum over rows, so that loop
 * runs serially, in row order (deterministic). */
static void layernorm_backward(real *dinp, real *dweight, real *dbias, const real *dout, const real *inp,
                               const real *weight, const real *mean, const real *rstd, int N, int C) {
    /* BEGIN SOLUTION ex05-layernorm-backward
     * HINT: per row, the two means first (of dy*w and of dy*w*xhat), then dinp; dweight
     * HINT: and dbias sum over the rows, serially, in row order.
     * STUB: (void)dinp, (void)dweight, (void)dbias, (void)dout, (void)inp;
     * STUB: (void)weight, (void)mean, (void)rstd, (void)N, (void)C;
     */
    if (dinp) {
        PAR_FOR((long)N * C > PAR_MIN, "omp parallel for",
        for (int n = 0; n < N; n++) {
            const real *x = inp + (long)n * C, *dy = dout + (long)n * C;
            real m = mean[n], s = rstd[n], g_mean = 0, gx_mean = 0;
            for (int i = 0; i < C; i++) {
                real g = dy[i] * weight[i];
                g_mean += g;
                gx_mean += g * (x[i] - m) * s;
            }
            g_mean /= C;
            gx_mean /= C;
            real *dx = dinp + (long)n * C;
            for (int i = 0; i < C; i++) dx[i] += s * (dy[i] * weight[i] - g_mean - (x[i] - m) * s * gx_mean);
        });
    }
    if (dweight || dbias) {
        /* a block of at most 256 columns per thread, each column summed over
         * the rows in order, in registers or the thread's own stack (one
         * cache line written by two threads would bounce between them) */
        int nt = omp_in_parallel() ? 1 : omp_get_max_threads(), w = ((C + nt - 1) / nt + 15) / 16 * 16;
        w = w < 256 ? w : 256;
        PAR_FOR((long)N * C > PAR_MIN, "omp parallel for",
        for (int c0 = 0; c0 < C; c0 += w) {
            int c1 = C - c0 < w ? C : c0 + w;
            real dw[256], db[256];
            for (int i = c0; i < c1; i++) dw[i - c0] = dweight ? dweight[i] : 0, db[i - c0] = dbias ? dbias[i] : 0;
            for (int n = 0; n < N; n++) {
                const real *x = inp + (long)n * C, *dy = dout + (long)n * C;
                real m = mean[n], s = rstd[n];
                if (dbias)
                    for (int i = c0; i < c1; i++) db[i - c0] += dy[i];
                if (dweight)
                    for (int i = c0; i < c1; i++) dw[i - c0] += dy[i] * (x[i] - m) * s;
            }
            for (int i = c0; i < c1; i++) {
                if (dweight) dweight[i] = dw[i - c0];
                if (dbias) dbias[i] = db[i - c0];
            }
        });
    }
    /* END SOLUTION ex05-layernorm-backward */
}

/* in = (x, g, b); fp[0] = eps; aux = mean [N] then rstd [N]. */
void fwd_layernorm(Tensor *out) {
    Tensor *x = out->in[0], *g = out->in[1], *b = out->in[2];
    int C = last_dim(x), N = (int)(x->size / C);
    layernorm_forward(out->data, out->aux, out->aux + N, x->data, g->data, b->data, N, C, out->fp[0]);
}

void bwd_layernorm(Tensor *out) {
    Tensor *x = out->in[0], *g = out->in[1], *b = out->in[2];
    int C = last_dim(x), N = (int)(x->size / C);
    layernorm_backward(x->grad, g->grad, b->grad, out->grad, x->data, g->data, out->aux, out->aux + N, N, C);
}

Tensor *t_layernorm(Tape *T, Tensor *x, Tensor *g, Tensor *b, real eps) {
    char sx[64], sg[64], sb[64];
    if (!g || !b)
        fail(EXIT_SOFTWARE, "t_layernorm", "pass a gain and a bias of shape [C] (ones and zeros for none)",
             "gain or bias is NULL");
    int C = last_dim(x);
    if (g->size != C || last_dim(g) != C || b->size != C || last_dim(b) != C)
        fail(EXIT_SOFTWARE, "t_layernorm", "gain and bias must have shape [C], C = the last dim of x",
             "shapes x %s, gain %s and bias %s do not match", shape_str(x, sx, sizeof sx),
             shape_str(g, sg, sizeof sg), shape_str(b, sb, sizeof sb));
    if (!(eps > 0))
        fail(EXIT_SOFTWARE, "t_layernorm", "use a small positive eps (1e-5)", "eps is %g", (double)eps);
    Tensor *out = tape_node(T, OP_LAYERNORM, x->ndim, x->shape, x, g, b);
    out->fp[0] = eps;
    out->aux = tape_alloc(T, 2 * (x->size / C));
    fwd_layernorm(out);
    return out;
}

/* ===========================================================================
 * Batch normalisation (as PyTorch's BatchNorm1d/2d): per channel, over every
 * axis but axis 1. x [N, C] or [N, C, H, W] (or [N, C, L]): channel c of
 * sample n is the S = H*W entries at x[(n C + c) S ...]; each channel
 * normalises its M = N*S entries.
 *   train: mean and biased variance of the batch; the running statistics,
 *          if given, move towards the batch's (PyTorch's update, below).
 *   eval:  mean and variance are the running statistics, fixed numbers, so
 *          the op is affine in x: y = x * (g rstd) + (b - mean g rstd).
 * Per channel the sums run in double in (n, s) order, and the loops over
 * channels split over threads with each channel owned by one thread: the
 * same bits at any thread count.
 * ======================================================================== */

/* The channel's entries x[n, c, s] for n < N, s < S sit at
 * (n C + c) S + s: a stride of C S between samples. */
#define BN_AT(n, c, s) (((long)(n) * C + (c)) * S + (s))

/* in = (x, g, b); fp[0] = eps; ip[0] = train; aux = mean [C], rstd [C],
 * var [C] (biased). train: the forward computes all three from the batch;
 * eval: the constructor filled mean and rstd from the running statistics. */
void fwd_batchnorm(Tensor *out) {
    const Tensor *x = out->in[0];
    const real *g = out->in[1]->data, *b = out->in[2]->data;
    int N = x->shape[0], C = x->shape[1], train = out->ip[0];
    long S = x->size / ((long)N * C), M = (long)N * S;
    real *mean = out->aux, *rstd = out->aux + C, *var = out->aux + 2 * C;
    PAR_FOR(x->size > PAR_MIN, "omp parallel for",
    for (int c = 0; c < C; c++) {
        if (train) {
            double m = 0, v = 0;
            for (int n = 0; n < N; n++)
                for (long s = 0; s < S; s++) m += x->data[BN_AT(n, c, s)];
            m /= M;
            for (int n = 0; n < N; n++)
                for (long s = 0; s < S; s++) {
                    double dev = x->data[BN_AT(n, c, s)] - m;
                    v += dev * dev;
                }
            v /= M;
            mean[c] = (real)m;
            var[c] = (real)v;
            rstd[c] = (real)(1 / sqrt(v + out->fp[0]));
        }
        real scale = rstd[c] * g[c];
        for (int n = 0; n < N; n++)
            for (long s = 0; s < S; s++) {
                long i = BN_AT(n, c, s);
                out->data[i] = (x->data[i] - mean[c]) * scale + b[c];
            }
    });
}

/* With xhat = (x - mean) rstd and y = g xhat + b, per channel (sums over
 * the channel's M entries):
 *   db += sum dy            dg += sum dy xhat
 *   train: dx += g rstd (dy - sum(dy) / M - xhat sum(dy xhat) / M)
 *          (mean and rstd depend on x: the two subtracted terms)
 *   eval:  dx += g rstd dy  (mean and rstd are constants) */
void bwd_batchnorm(Tensor *out) {
    Tensor *x = out->in[0], *g = out->in[1], *b = out->in[2];
    int N = x->shape[0], C = x->shape[1], train = out->ip[0];
    long S = x->size / ((long)N * C), M = (long)N * S;
    const real *mean = out->aux, *rstd = out->aux + C, *dy = out->grad;
    PAR_FOR(x->size > PAR_MIN, "omp parallel for",
    for (int c = 0; c < C; c++) {
        double sdy = 0, sdyx = 0;
        for (int n = 0; n < N; n++)
            for (long s = 0; s < S; s++) {
                long i = BN_AT(n, c, s);
                sdy += dy[i];
                sdyx += dy[i] * (x->data[i] - mean[c]) * rstd[c];
            }
        if (b->grad) b->grad[c] += (real)sdy;
        if (g->grad) g->grad[c] += (real)sdyx;
        if (!x->grad) continue;
        real k = g->data[c] * rstd[c];
        real dmean = train ? (real)(sdy / M) : 0, dvar = train ? (real)(sdyx / M) : 0;
        for (int n = 0; n < N; n++)
            for (long s = 0; s < S; s++) {
                long i = BN_AT(n, c, s);
                x->grad[i] += k * (dy[i] - dmean - (x->data[i] - mean[c]) * rstd[c] * dvar);
            }
    });
}

Tensor *t_batchnorm(Tape *T, Tensor *x, Tensor *g, Tensor *b, real *running_mean, real *running_var, int train,
                    real momentum, real eps) {
    char sx[64], sg[64], sb[64];
    if (!g || !b)
        fail(EXIT_SOFTWARE, "t_batchnorm", "pass a gain and a bias of shape [C] (ones and zeros for none)",
             "gain or bias is NULL");
    if (x->ndim < 2)
        fail(EXIT_SOFTWARE, "t_batchnorm", "x must be [N, C], [N, C, L] or [N, C, H, W] (channels on axis 1)",
             "x has shape %s", shape_str(x, sx, sizeof sx));
    int C = x->shape[1];
    long M = x->size / C;
    if (g->size != C || b->size != C)
        fail(EXIT_SOFTWARE, "t_batchnorm", "gain and bias must have shape [C], C = axis 1 of x",
             "shapes x %s, gain %s and bias %s do not match", shape_str(x, sx, sizeof sx),
             shape_str(g, sg, sizeof sg), shape_str(b, sb, sizeof sb));
    if (!(eps > 0))
        fail(EXIT_SOFTWARE, "t_batchnorm", "use a small positive eps (1e-5)", "eps is %g", (double)eps);
    if (!running_mean != !running_var)
        fail(EXIT_SOFTWARE, "t_batchnorm", "pass both running statistics or neither",
             "one of running_mean and running_var is NULL");
    if (train && M < 2)
        fail(EXIT_SOFTWARE, "t_batchnorm", "train on batches of 2 or more (or use eval mode)",
             "x %s has %ld value per channel: a batch variance needs at least 2", shape_str(x, sx, sizeof sx), M);
    if (!train && !running_mean)
        fail(EXIT_SOFTWARE, "t_batchnorm", "eval mode normalises with the running statistics: pass them",
             "running_mean and running_var are NULL");
    if (running_mean && !(momentum >= 0 && momentum <= 1))
        fail(EXIT_SOFTWARE, "t_batchnorm", "use a momentum in [0, 1] (PyTorch's default is 0.1)",
             "momentum is %g", (double)momentum);
    Tensor *out = tape_node(T, OP_BATCHNORM, x->ndim, x->shape, x, g, b);
    out->fp[0] = eps;
    out->ip[0] = train ? 1 : 0;
    out->aux = tape_alloc(T, 3L * C);
    real *mean = out->aux, *rstd = out->aux + C, *var = out->aux + 2 * C;
    if (!train)
        for (int c = 0; c < C; c++) {
            mean[c] = running_mean[c];
            var[c] = running_var[c];
            rstd[c] = (real)(1 / sqrt((double)running_var[c] + eps));
        }
    fwd_batchnorm(out);
    /* PyTorch's update, once per call (a tape replay does not repeat it):
     * r = (1 - momentum) r + momentum * batch statistic, with the unbiased
     * variance var * M / (M - 1) in running_var. */
    if (train && running_mean)
        for (int c = 0; c < C; c++) {
            running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c];
            running_var[c] = (1 - momentum) * running_var[c] + momentum * (real)((double)var[c] * M / (M - 1));
        }
    return out;
}
#undef BN_AT

/* ===========================================================================
 * Embedding: out[n, :] = table[ids[n], :].
 * ======================================================================== */

/* ids [n] (borrowed, checked by the constructor), table [V, C], out [n, C] */
void fwd_embedding(Tensor *out) {
    const Tensor *tab = out->in[0];
    long C = tab->shape[1], n = out->size / C;
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long i = 0; i < n; i++) memcpy(out->data + i * C, tab->data + (long)out->ids[i] * C, (size_t)C * sizeof(real)););
}

/* dtable[ids[n], :] += dout[n, :]. An id seen twice gets both rows, so the
 * scatter runs serially, in position order (no race, same sum every run). */
void bwd_embedding(Tensor *out) {
    Tensor *tab = out->in[0];
    if (!tab->grad) return;
    long C = tab->shape[1], n = out->size / C;
    /* BEGIN SOLUTION ex05-embedding-backward
     * HINT: row i of dout goes to row ids[i] of the table's gradient.
     * STUB: (void)n;
     */
    for (long i = 0; i < n; i++) {
        real *dt = tab->grad + (long)out->ids[i] * C;
        const real *dy = out->grad + i * C;
        for (long j = 0; j < C; j++) dt[j] += dy[j];
    }
    /* END SOLUTION ex05-embedding-backward */
}

Tensor *t_embedding(Tape *T, Tensor *table, const int *ids, int ndim, const int *shape) {
    char st[64];
    if (table->ndim != 2)
        fail(EXIT_SOFTWARE, "t_embedding", "the table must be [V, C]", "table has shape %s",
             shape_str(table, st, sizeof st));
    if (ndim < 1 || ndim > MAX_DIMS - 1)
        fail(EXIT_SOFTWARE, "t_embedding", "give the ids 1 to 3 dims (the output adds C)", "ids have %d dims", ndim);
    if (!ids) fail(EXIT_SOFTWARE, "t_embedding", "pass the token ids", "ids is NULL");
    int oshape[MAX_DIMS];
    long n = 1;
    for (int i = 0; i < ndim; i++) {
        oshape[i] = shape[i];
        n *= shape[i];
    }
    oshape[ndim] = table->shape[1];
    int V = table->shape[0];
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            fail(EXIT_SOFTWARE, "t_embedding", "every id must be in [0, V): check the tokenizer and the vocabulary size",
                 "id %d at position %ld is out of range for a table of %d rows", ids[i], i, V);
    Tensor *out = tape_node(T, OP_EMBEDDING, ndim + 1, oshape, table, NULL, NULL);
    out->ids = ids;
    fwd_embedding(out);
    return out;
}

/* ===========================================================================
 * Causal mask: scores[..., i, j] = -inf where key j > query i.
 * ======================================================================== */

/* scores [M, T, T] (M = the product of the leading dims), out [M, T, T] */
void fwd_causal_mask(Tensor *out) {
    const real *x = out->in[0]->data;
    long Tn = last_dim(out), R = out->size / Tn; /* R rows; row r is query i = r % T */
    /* BEGIN SOLUTION ex05-causal-mask
     * HINT: row r is query i = r % T; key j is in its future when j > i.
     * STUB: (void)x, (void)R;
     */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        long i = r % Tn;
        for (long j = 0; j < Tn; j++) out->data[r * Tn + j] = j > i ? -INFINITY : x[r * Tn + j];
    });
    /* END SOLUTION ex05-causal-mask */
}

/* dx = dy where j <= i, 0 where masked (the output does not depend on x there). */
void bwd_causal_mask(Tensor *out) {
    Tensor *a = out->in[0];
    if (!a->grad) return;
    long Tn = last_dim(out), R = out->size / Tn;
    /* BEGIN SOLUTION ex05-causal-mask
     * STUB: (void)R;
     */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++)
        for (long j = 0; j <= r % Tn; j++) a->grad[r * Tn + j] += out->grad[r * Tn + j];);
    /* END SOLUTION ex05-causal-mask */
}

Tensor *t_causal_mask(Tape *T, Tensor *scores) {
    char s[64];
    if (scores->ndim < 2 || scores->shape[scores->ndim - 2] != last_dim(scores))
        fail(EXIT_SOFTWARE, "t_causal_mask", "pass attention scores [..., T, T] (queries x keys)",
             "shape %s is not square in its last two dims", shape_str(scores, s, sizeof s));
    Tensor *out = tape_node(T, OP_CAUSAL_MASK, scores->ndim, scores->shape, scores, NULL, NULL);
    fwd_causal_mask(out);
    return out;
}

/* ===========================================================================
 * Heads: split part p of a fused projection into H heads, and merge back.
 *   split: out[b, h, t, d] = x[b, t, p*C + h*hd + d]
 *   merge: out[b, t, h*hd + d] = x[b, h, t, d]
 * Both are permutations of entries, so each backward is the same copy
 * reversed (with +=); no two outputs share an input entry, so any split of
 * the loop over threads is race-free.
 * ======================================================================== */

/* x [B, T, P*C], out [B, H, T, hd]; ip = (p, P, H) */
void fwd_split_heads(Tensor *out) {
    const Tensor *x = out->in[0];
    int B = out->shape[0], H = out->shape[1], Tn = out->shape[2], hd = out->shape[3];
    long W = x->shape[2], off = (long)out->ip[0] * H * hd; /* W = P*C; part p starts at p*C */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < (long)B * H * Tn; r++) { /* r = (b, h, t) */
        long b = r / ((long)H * Tn), h = r / Tn % H, t = r % Tn;
        memcpy(out->data + r * hd, x->data + (b * Tn + t) * W + off + h * hd, (size_t)hd * sizeof(real));
    });
}

void bwd_split_heads(Tensor *out) {
    Tensor *x = out->in[0];
    if (!x->grad) return;
    int B = out->shape[0], H = out->shape[1], Tn = out->shape[2], hd = out->shape[3];
    long W = x->shape[2], off = (long)out->ip[0] * H * hd;
    /* BEGIN SOLUTION ex05-heads-backward
     * HINT: the forward's copy run backwards, adding (+=) each head's row into x->grad.
     * STUB: (void)B, (void)Tn, (void)W, (void)off;
     */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < (long)B * H * Tn; r++) {
        long b = r / ((long)H * Tn), h = r / Tn % H, t = r % Tn;
        real *dx = x->grad + (b * Tn + t) * W + off + h * hd;
        const real *dy = out->grad + r * hd;
        for (int d = 0; d < hd; d++) dx[d] += dy[d];
    });
    /* END SOLUTION ex05-heads-backward */
}

Tensor *t_split_heads(Tape *T, Tensor *x, int part, int nparts, int H) {
    char s[64];
    if (x->ndim != 3 || nparts < 1 || H < 1 || x->shape[2] % nparts != 0 || x->shape[2] / nparts % H != 0)
        fail(EXIT_SOFTWARE, "t_split_heads", "x must be [B, T, P*C] with C divisible by the number of heads",
             "shape %s cannot be split into %d parts of %d heads", shape_str(x, s, sizeof s), nparts, H);
    if (part < 0 || part >= nparts)
        fail(EXIT_SOFTWARE, "t_split_heads", "part must be in [0, nparts)", "part %d of %d", part, nparts);
    int C = x->shape[2] / nparts;
    Tensor *out = tape_node(T, OP_SPLIT_HEADS, 4, SHAPE(x->shape[0], H, x->shape[1], C / H), x, NULL, NULL);
    out->ip[0] = part;
    out->ip[1] = nparts;
    out->ip[2] = H;
    fwd_split_heads(out);
    return out;
}

/* x [B, H, T, hd], out [B, T, H*hd] */
void fwd_merge_heads(Tensor *out) {
    const Tensor *x = out->in[0];
    int B = x->shape[0], H = x->shape[1], Tn = x->shape[2], hd = x->shape[3];
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < (long)B * H * Tn; r++) {
        long b = r / ((long)H * Tn), h = r / Tn % H, t = r % Tn;
        memcpy(out->data + (b * Tn + t) * H * hd + h * hd, x->data + r * hd, (size_t)hd * sizeof(real));
    });
}

void bwd_merge_heads(Tensor *out) {
    Tensor *x = out->in[0];
    if (!x->grad) return;
    int B = x->shape[0], H = x->shape[1], Tn = x->shape[2], hd = x->shape[3];
    /* BEGIN SOLUTION ex05-heads-backward
     * STUB: (void)B, (void)H, (void)Tn, (void)hd;
     */
    PAR_FOR(out->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < (long)B * H * Tn; r++) {
        long b = r / ((long)H * Tn), h = r / Tn % H, t = r % Tn;
        const real *dy = out->grad + (b * Tn + t) * H * hd + h * hd;
        for (int d = 0; d < hd; d++) x->grad[r * hd + d] += dy[d];
    });
    /* END SOLUTION ex05-heads-backward */
}

Tensor *t_merge_heads(Tape *T, Tensor *x) {
    char s[64];
    if (x->ndim != 4)
        fail(EXIT_SOFTWARE, "t_merge_heads", "x must be [B, H, T, hd] (the output of attention per head)",
             "shape %s", shape_str(x, s, sizeof s));
    Tensor *out = tape_node(T, OP_MERGE_HEADS, 3, SHAPE(x->shape[0], x->shape[2], x->shape[1] * x->shape[3]), x,
                            NULL, NULL);
    fwd_merge_heads(out);
    return out;
}
