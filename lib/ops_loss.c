/* ops_loss.c - the losses: cross-entropy, BCE with logits, MSE, Gaussian KL.
 *
 * Teaches: each loss in the form that cannot overflow (logsumexp with the
 * row max taken out; BCE through |l| so e^x only ever sees x <= 0), its
 * gradient in closed form (written above each backward), and a
 * deterministic mean: the rows are computed in parallel, each row's value
 * is saved, and the rows are then summed serially, in order, so the loss is
 * bit-identical for any number of threads.
 * BCE's e^-|l| and log(1 + e^-|l|) are a whole row's arrays at a time
 * (exp_each, log1p_each), so the float build runs them as vector loops with
 * libm's own bits (vlibm.h): a VAE step spent a quarter of its time in
 * those two libm calls, one pixel per call.
 * Leaves out: class weights, label smoothing, ignore-index, reductions
 * other than the one each chapter needs.
 *
 * Dimension key: R = rows, V = classes (the last dim of the logits),
 * N = shape[0] (the batch), K = entries per row (size / R), Z = latent width.
 * Every loss is a scalar [1]; g = d L / d loss, the seed of its backward.
 */
#include "par.h"
#include "tensor.h"

#include <tgmath.h>

#include "util.h"
#include "vlibm.h"
#include "vmath.h"

#define PAR_MIN (1L << 15) /* below this many elements, one thread */

/* Σ_r v[r], serially, in row order, in double. */
static real sum_rows(const real *v, long R) {
    double s = 0;
    for (long r = 0; r < R; r++) s += v[r];
    return (real)s;
}

static void need_same_shape(const char *op, const Tensor *a, const Tensor *b, const char *hint) {
    char sa[64], sb[64];
    if (!shape_equal(a, b))
        fail(EXIT_SOFTWARE, op, hint, "shapes %s and %s differ", shape_str(a, sa, sizeof sa),
             shape_str(b, sb, sizeof sb));
}

static Tensor *scalar_node(Tape *T, OpKind op, Tensor *a, Tensor *b, long rows) {
    Tensor *out = tape_node(T, op, 1, SHAPE(1), a, b, NULL);
    out->aux = tape_alloc(T, rows);
    return out;
}

/* ===========================================================================
 * Cross-entropy: L = (1/R) Σ_r (lse_r − x[r, t_r]), lse_r = log Σ_j e^x[r,j].
 * aux = lse [R], then the per-row losses [R].
 * ======================================================================== */

/* logits x [R, V], targets ids [R] (borrowed, checked by the constructor) */
void fwd_cross_entropy(Tensor *out) {
    const Tensor *x = out->in[0];
    long V = x->shape[x->ndim - 1], R = x->size / V;
    real *lse = out->aux, *row = out->aux + R;
    PAR_FOR(x->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        const real *xr = x->data + r * V;
        real m = -INFINITY, s = 0;
        for (long j = 0; j < V; j++) m = xr[j] > m ? xr[j] : m;
        /* BEGIN SOLUTION ex05-cross-entropy
         * HINT: lse = m + log of a sum that cannot overflow; the target is out->ids[r].
         * STUB: (void)s;
         * STUB: lse[r] = row[r] = m;
         */
        for (long j = 0; j < V; j++) s += exp(xr[j] - m);
        lse[r] = m + log(s);
        row[r] = lse[r] - xr[out->ids[r]];
        /* END SOLUTION ex05-cross-entropy */
    });
    out->data[0] = sum_rows(row, R) / (real)R;
}

/* dx[r, j] = g/R (softmax(x_r)_j − [j = t_r]),  softmax = e^(x − lse). */
void bwd_cross_entropy(Tensor *out) {
    Tensor *x = out->in[0];
    if (!x->grad) return;
    long V = x->shape[x->ndim - 1], R = x->size / V;
    const real *lse = out->aux;
    real gR = out->grad[0] / (real)R;
    /* BEGIN SOLUTION ex05-cross-entropy
     * HINT: the forward saved lse in aux, so softmax is one exp per entry.
     * STUB: (void)lse, (void)gR;
     */
    PAR_FOR(x->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        const real *xr = x->data + r * V;
        real *dx = x->grad + r * V;
        for (long j = 0; j < V; j++) dx[j] += gR * vexp(xr[j] - lse[r]);
        dx[out->ids[r]] -= gR;
    });
    /* END SOLUTION ex05-cross-entropy */
}

Tensor *t_cross_entropy(Tape *T, Tensor *logits, const int *targets) {
    if (!targets) fail(EXIT_SOFTWARE, "t_cross_entropy", "pass one target class per row", "targets is NULL");
    long V = logits->shape[logits->ndim - 1], R = logits->size / V;
    for (long r = 0; r < R; r++)
        if (targets[r] < 0 || targets[r] >= V)
            fail(EXIT_SOFTWARE, "t_cross_entropy", "every target must be a class in [0, V), V = the last dim of the logits",
                 "target %d at row %ld is out of range for %ld classes", targets[r], r, V);
    Tensor *out = scalar_node(T, OP_CROSS_ENTROPY, logits, NULL, 2 * R);
    out->ids = targets;
    fwd_cross_entropy(out);
    return out;
}

/* ===========================================================================
 * BCE with logits, summed over each row's entries, mean over N = shape[0]:
 *   per entry  ℓ(l, y) = max(l, 0) − l y + log(1 + e^−|l|)
 * (= −y log σ(l) − (1−y) log(1 − σ(l)), without ever forming σ or e^+big).
 * aux = the per-row sums [N], then e^−|l| per entry [N·K] for backward,
 * then [N·K] of forward's scratch (−|l|, then log(1 + e^−|l|)).
 * ======================================================================== */

/* y[i] = e^x[i] and y[i] = log(1 + x[i]) over n numbers (y and x do not
 * overlap): in the float build vlibm's vector loops, with libm's bits, so
 * the loss is the number the calls one at a time gave; in the double
 * build, libm's double functions. */
static inline void exp_each(real *restrict y, const real *restrict x, long n) {
#ifdef REAL_DOUBLE
    for (long i = 0; i < n; i++) y[i] = exp(x[i]);
#else
    vlibm_expf(y, x, n);
#endif
}

static inline void log1p_each(real *restrict y, const real *restrict x, long n) {
#ifdef REAL_DOUBLE
    for (long i = 0; i < n; i++) y[i] = log1p(x[i]);
#else
    vlibm_log1pf(y, x, n);
#endif
}

/* logits l [N, K], targets y [N, K] */
void fwd_bce_with_logits(Tensor *out) {
    const Tensor *l = out->in[0], *y = out->in[1];
    long N = l->shape[0], K = l->size / N;
    PAR_FOR(l->size > PAR_MIN, "omp parallel for",
    for (long n = 0; n < N; n++) {
        const real *ln = l->data + n * K, *yn = y->data + n * K;
        real *en = out->aux + N + n * K, *lp = out->aux + N + N * K + n * K, s = 0;
        /* BEGIN SOLUTION ex02-bce-with-logits
         * HINT: save e^-|l| in en[k] (the backward reads it), then sum the entries'
         * HINT: losses into s. log1p(e) is log(1 + e) without the rounding of 1 + e.
         * HINT: exp_each and log1p_each (above) take a whole row; lp[k] is scratch.
         * STUB: (void)yn, (void)en, (void)lp;
         * STUB: s = ln[0];
         */
        for (long k = 0; k < K; k++) lp[k] = -fabs(ln[k]);
        exp_each(en, lp, K);   /* en = e^-|l| */
        log1p_each(lp, en, K); /* lp = log(1 + e^-|l|) */
        for (long k = 0; k < K; k++) s += (ln[k] > 0 ? ln[k] : 0) - ln[k] * yn[k] + lp[k];
        /* END SOLUTION ex02-bce-with-logits */
        out->aux[n] = s;
    });
    out->data[0] = sum_rows(out->aux, N) / (real)N;
}

/* dl = g/N (σ(l) − y);  dy = −g/N l.  σ(l) from e^−|l| (never overflows). */
void bwd_bce_with_logits(Tensor *out) {
    Tensor *l = out->in[0], *y = out->in[1];
    long N = l->shape[0];
    real gN = out->grad[0] / (real)N;
    const real *e_abs = out->aux + N; /* e^−|l|, saved by the forward */
    /* BEGIN SOLUTION ex02-bce-with-logits
     * HINT: σ(l) = 1/(1 + e^-l) for l >= 0, e^l/(1 + e^l) for l < 0: both from e^-|l|.
     * HINT: Either input may have no grad (NULL): skip it then.
     * STUB: (void)gN, (void)e_abs, (void)y;
     */
    if (l->grad) {
        PAR_FOR(l->size > PAR_MIN, "omp parallel for",
        for (long i = 0; i < l->size; i++) {
            real e = e_abs[i];
            real sig = l->data[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
            l->grad[i] += gN * (sig - y->data[i]);
        });
    }
    if (y->grad)
        for (long i = 0; i < y->size; i++) y->grad[i] += -gN * l->data[i];
    /* END SOLUTION ex02-bce-with-logits */
}

Tensor *t_bce_with_logits(Tape *T, Tensor *logits, Tensor *targets) {
    need_same_shape("t_bce_with_logits", logits, targets, "targets must have the logits' shape (one per logit)");
    Tensor *out = tape_node(T, OP_BCE_WITH_LOGITS, 1, SHAPE(1), logits, targets, NULL);
    out->aux = tape_alloc_uninit(T, logits->shape[0] + 2 * logits->size); /* the forward writes all of it */
    fwd_bce_with_logits(out);
    return out;
}

/* ===========================================================================
 * MSE: L = (1/n) Σ_i (a_i − b_i)^2 over all n entries.
 * aux = per-row sums [R], rows along the last dim.
 * ======================================================================== */

/* a [R, K], b [R, K] */
void fwd_mse(Tensor *out) {
    const Tensor *a = out->in[0], *b = out->in[1];
    long K = a->shape[a->ndim - 1], R = a->size / K;
    PAR_FOR(a->size > PAR_MIN, "omp parallel for",
    for (long r = 0; r < R; r++) {
        real s = 0;
        /* BEGIN SOLUTION ex01-mse
         * HINT: row r's sum of squared differences into s.
         * STUB: (void)b;
         * STUB: s = a->data[r * K];
         */
        for (long k = 0; k < K; k++) {
            real d = a->data[r * K + k] - b->data[r * K + k];
            s += d * d;
        }
        /* END SOLUTION ex01-mse */
        out->aux[r] = s;
    });
    out->data[0] = sum_rows(out->aux, R) / (real)a->size;
}

/* da = 2g/n (a − b);  db = −da. */
void bwd_mse(Tensor *out) {
    Tensor *a = out->in[0], *b = out->in[1];
    real c = 2 * out->grad[0] / (real)a->size;
    /* BEGIN SOLUTION ex01-mse
     * HINT: either side may have no grad (NULL); both may be one tensor.
     * STUB: (void)b, (void)c;
     */
    if (a->grad)
        for (long i = 0; i < a->size; i++) a->grad[i] += c * (a->data[i] - b->data[i]);
    if (b->grad)
        for (long i = 0; i < b->size; i++) b->grad[i] -= c * (a->data[i] - b->data[i]);
    /* END SOLUTION ex01-mse */
}

Tensor *t_mse(Tape *T, Tensor *a, Tensor *b) {
    need_same_shape("t_mse", a, b, "the prediction and the target must have one shape");
    Tensor *out = scalar_node(T, OP_MSE, a, b, a->size / a->shape[a->ndim - 1]);
    fwd_mse(out);
    return out;
}

/* ===========================================================================
 * Gaussian KL to N(0, 1), per row summed over Z, mean over N:
 *   L = (1/N) Σ_n Σ_z ½ (μ² + e^v − 1 − v),  v = log σ².
 * aux = per-row sums [N].
 * ======================================================================== */

/* mu [N, Z], logvar [N, Z] */
void fwd_gaussian_kl(Tensor *out) {
    const Tensor *mu = out->in[0], *lv = out->in[1];
    long N = mu->shape[0], Z = mu->size / N;
    PAR_FOR(mu->size > PAR_MIN, "omp parallel for",
    for (long n = 0; n < N; n++) {
        const real *m = mu->data + n * Z, *v = lv->data + n * Z;
        real s = 0;
        /* BEGIN SOLUTION ex04-gaussian-kl
         * HINT: add row n's Z terms into s.
         * STUB: (void)v;
         * STUB: s = m[0];
         */
        for (long z = 0; z < Z; z++) s += (real)0.5 * (m[z] * m[z] + exp(v[z]) - 1 - v[z]);
        /* END SOLUTION ex04-gaussian-kl */
        out->aux[n] = s;
    });
    out->data[0] = sum_rows(out->aux, N) / (real)N;
}

/* dμ = g/N μ;  dv = g/N ½ (e^v − 1). */
void bwd_gaussian_kl(Tensor *out) {
    Tensor *mu = out->in[0], *lv = out->in[1];
    real gN = out->grad[0] / (real)mu->shape[0];
    /* BEGIN SOLUTION ex04-gaussian-kl
     * HINT: mu and logvar may be one tensor (both slots): add (+=) each slot's share.
     * STUB: (void)gN, (void)lv;
     */
    if (mu->grad)
        for (long i = 0; i < mu->size; i++) mu->grad[i] += gN * mu->data[i];
    if (lv->grad)
        for (long i = 0; i < lv->size; i++) lv->grad[i] += gN * (real)0.5 * (exp(lv->data[i]) - 1);
    /* END SOLUTION ex04-gaussian-kl */
}

Tensor *t_gaussian_kl(Tape *T, Tensor *mu, Tensor *logvar) {
    need_same_shape("t_gaussian_kl", mu, logvar, "mu and logvar must both be [N, Z] (the encoder's two heads)");
    Tensor *out = scalar_node(T, OP_GAUSSIAN_KL, mu, logvar, mu->shape[0]);
    fwd_gaussian_kl(out);
    return out;
}
