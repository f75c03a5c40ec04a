/* ops_elementwise.c - ops that act on each number on its own.
 *
 * Teaches: the simplest backward passes. For y = f(x) elementwise, the chain
 * rule is one product per element: dx_i += dy_i * f'(x_i). For z = a OP b it
 * is two: da += dz * dz/da and db += dz * dz/db. When b is a row vector added
 * to every row of a (a bias), each b_c was used once per row, so its gradient
 * is the sum of dz over the rows: broadcasting in forward is a sum in
 * backward. Every backward adds (+=) and skips inputs without a grad; a
 * tensor used twice (a * a) receives both contributions, one from each slot.
 * Some derivatives are cheapest from the output y (sigmoid: y(1-y), tanh:
 * 1-y^2, exp: y), so backward reads out->data as well as the inputs.
 * Leaves out: general broadcasting, in-place ops, fused kernels.
 *
 * Dimension key: n = number of elements; for the binary ops a is [..., C]
 * viewed as R rows of C, and b is either the same shape (b_stride = C) or
 * one row [C] / [1, C] shared by every row (b_stride = 0, out->ip[0] = 1).
 */
#include <tgmath.h> /* exp, tanh, log of `real`: the float versions in the float build */

#include "par.h"
#include "tensor.h"
#include "util.h"
#include "vlibm.h"
#include "vmath.h"

/* Loops over more elements than this run on all OpenMP threads (par.h);
 * each element is computed by one thread, so the result never depends on
 * how many there are. Below it, a loop runs on the calling thread, still
 * vectorised (PAR_FOR_SIMD's plain copy is an `omp simd` loop: without it,
 * ReLU's backward ran with a branch per element, 4x slower at the ring
 * GAN's sizes). */
#define PAR_MIN (1L << 15)

/* ===========================================================================
 * Binary ops: add, sub, mul, div, with a row vector b broadcast over rows.
 * =========================================================================== */

/* The layout every binary op's loops share: R rows of C, and where row r of
 * b starts (r * b_stride: 0 when b is one row shared by all). */
typedef struct {
    const real *a, *b; /* a [R, C], b [R, C] or [C] */
    real *ga, *gb;     /* their grads (NULL if none) */
    long R, C, b_stride;
} Pair;

static Pair pair(const Tensor *out) {
    const Tensor *a = out->in[0], *b = out->in[1];
    Pair p = {a->data, b->data, a->grad, b->grad, 0, a->shape[a->ndim - 1], 0};
    p.R = a->size / p.C;
    p.b_stride = out->ip[0] ? 0 : p.C;
    return p;
}

/* Check shapes and make the node: b has a's shape, or is [C] / [1, C]. */
static Tensor *binary(Tape *T, OpKind op, const char *name, Tensor *a, Tensor *b) {
    char sa[64], sb[64];
    if (!a || !b) fail(EXIT_SOFTWARE, name, "pass two tensors", "an input is NULL");
    int C = a->shape[a->ndim - 1];
    int row = b->size == C && (b->ndim == 1 || (b->ndim == 2 && b->shape[0] == 1));
    int same = shape_equal(a, b);
    if (!same && !row)
        fail(EXIT_SOFTWARE, name, "b must have a's shape, or be a row [C] or [1, C] where C is a's last dim",
             "shapes %s and %s do not match", shape_str(a, sa, sizeof sa), shape_str(b, sb, sizeof sb));
    Tensor *out = tape_node(T, op, a->ndim, a->shape, a, b, NULL);
    out->ip[0] = !same; /* 1: b is broadcast over the rows of a */
    OPS[op].forward(out);
    return out;
}

Tensor *t_add(Tape *T, Tensor *a, Tensor *b) { return binary(T, OP_ADD, "t_add", a, b); }
Tensor *t_sub(Tape *T, Tensor *a, Tensor *b) { return binary(T, OP_SUB, "t_sub", a, b); }
Tensor *t_mul(Tape *T, Tensor *a, Tensor *b) { return binary(T, OP_MUL, "t_mul", a, b); }
Tensor *t_div(Tape *T, Tensor *a, Tensor *b) { return binary(T, OP_DIV, "t_div", a, b); }

/* Every binary op is the same three loops around its own f and two partial
 * derivatives, written with x = a[r, c] and y = b[r * b_stride + c]:
 *   forward   z[r, c]  = f(x, y)
 *   backward  da[r, c] += dz[r, c] * df/dx
 *             db[r, c] += dz[r, c] * df/dy          (b of a's shape)
 *             db[c]    += sum over r of the same    (broadcast b)
 * The broadcast sum walks the rows in order for each column (fixed bits for
 * any thread count), a block of BCOLS columns per thread, reading each row's
 * block contiguously. a and b may be one tensor (x * x), so only the output
 * and dz are declared restrict. */
#define BCOLS 64
#define BINARY(name, F, DFDX, DFDY)                                             \
    void fwd_##name(Tensor *out) {                                              \
        Pair p = pair(out);                                                     \
        real *restrict z = out->data; /* [R, C] */                              \
        long n = out->size;                                                     \
        PAR_FOR(n > PAR_MIN, "omp parallel for",                                \
        for (long r = 0; r < p.R; r++) {                                        \
            const real *ar = p.a + r * p.C, *br = p.b + r * p.b_stride;         \
            real *zr = z + r * p.C;                                             \
            _Pragma("omp simd")                                                 \
            for (long c = 0; c < p.C; c++) {                                    \
                real x = ar[c], y = br[c];                                      \
                zr[c] = (F);                                                    \
            }                                                                   \
        });                                                                     \
    }                                                                           \
    void bwd_##name(Tensor *out) {                                              \
        Pair p = pair(out);                                                     \
        const real *restrict dz = out->grad; /* [R, C] */                       \
        long n = out->size;                                                     \
        if (p.ga) {                                                             \
            PAR_FOR(n > PAR_MIN, "omp parallel for",                            \
            for (long r = 0; r < p.R; r++)                                      \
                for (long c = 0; c < p.C; c++) {                                \
                    real x = p.a[r * p.C + c], y = p.b[r * p.b_stride + c];     \
                    (void)x, (void)y;                                           \
                    p.ga[r * p.C + c] += dz[r * p.C + c] * (DFDX);              \
                });                                                             \
        }                                                                       \
        if (p.gb && p.b_stride) {                                               \
            PAR_FOR(n > PAR_MIN, "omp parallel for",                            \
            for (long i = 0; i < n; i++) {                                      \
                real x = p.a[i], y = p.b[i];                                    \
                (void)x, (void)y;                                               \
                p.gb[i] += dz[i] * (DFDY);                                      \
            });                                                                 \
        }                                                                       \
        if (p.gb && !p.b_stride) {                                              \
            PAR_FOR(n > PAR_MIN, "omp parallel for",                            \
            for (long c0 = 0; c0 < p.C; c0 += BCOLS) {                          \
                long w = p.C - c0 < BCOLS ? p.C - c0 : BCOLS;                   \
                real sum[BCOLS] = {0};                                          \
                for (long r = 0; r < p.R; r++)                                  \
                    for (long j = 0; j < w; j++) {                              \
                        real x = p.a[r * p.C + c0 + j], y = p.b[c0 + j];        \
                        (void)x, (void)y;                                       \
                        sum[j] += dz[r * p.C + c0 + j] * (DFDY);                \
                    }                                                           \
                for (long j = 0; j < w; j++) p.gb[c0 + j] += sum[j];            \
            });                                                                 \
        }                                                                       \
    }

/*     op   z = f(x, y)  df/dx   df/dy        */
BINARY(add, x + y,       1,      1)
BINARY(sub, x - y,       1,      -1)
BINARY(mul, x * y,       y,      x)
/* BEGIN SOLUTION ex01-div-backward
 * HINT: write df/dx and df/dy of x / y in x and y, as the rows above do for mul.
 * STUB: BINARY(div, x / y,       0,      0)
 */
BINARY(div, x / y,       1 / y,  -x / (y * y))
/* END SOLUTION ex01-div-backward */

/* ===========================================================================
 * Unary ops: y = f(x), dx += dy * f'(x).
 * Each is two lines below: f, then f' written with x = a[i], y = out[i] and
 * s = out->fp[0] (the scalar or slope); tanh's line has f' only, its f is
 * fwd_tanh (libm's tanhf, vectorised).
 * =========================================================================== */

static Tensor *unary(Tape *T, OpKind op, const char *name, Tensor *a, real s) {
    if (!a) fail(EXIT_SOFTWARE, name, "pass a tensor", "the input is NULL");
    Tensor *out = tape_node(T, op, a->ndim, a->shape, a, NULL, NULL);
    out->fp[0] = s;
    OPS[op].forward(out);
    return out;
}

/* GELU, tanh approximation (GPT-2):
 *   gelu(x) = x/2 (1 + tanh(u)),  u = k (x + 0.044715 x^3),  k = sqrt(2/pi).
 * Since (1 + tanh u)/2 = sigmoid(2u) = s, this is x s with one exp, and
 *   gelu'(x) = s + x * 2 s (1 - s) * k (1 + 3 * 0.044715 x^2)
 * (d/du of (1 + tanh u)/2 is (1 - tanh^2 u)/2 = 2 s (1 - s)). */
#define GELU_K ((real)0.7978845608028654) /* sqrt(2 / pi) */
#define GELU_C ((real)0.044715)

static inline real gelu_s(real x) { return 1 / (1 + vexp(-2 * GELU_K * (x + GELU_C * x * x * x))); }
static inline real gelu(real x) { return x * gelu_s(x); }
static inline real gelu_grad(real x) {
    /* BEGIN SOLUTION ex05-gelu-backward
     * HINT: the product rule on x * s, s = gelu_s(x), ds/dx from the comment above.
     * STUB: (void)x;
     * STUB: return 0;
     */
    real s = gelu_s(x);
    return s + x * 2 * s * (1 - s) * GELU_K * (1 + 3 * GELU_C * x * x);
    /* END SOLUTION ex05-gelu-backward */
}

/* Local restrict pointers: input and output are distinct buffers, and
 * saying so lets the compiler vectorise without run-time overlap checks.
 * UNARY writes both passes; UNARY_BACKWARD only the backward, for an op
 * whose forward is written out by hand (tanh, below). */
#define UNARY_FORWARD(name, F)                                                   \
    void fwd_##name(Tensor *out) {                                               \
        const real *restrict a = out->in[0]->data; /* [n] */                     \
        real *restrict z = out->data;              /* [n] */                     \
        real s = out->fp[0];                                                     \
        long n = out->size;                                                      \
        (void)s;                                                                 \
        PAR_FOR_SIMD(n > PAR_MIN, "omp parallel for simd",                       \
        for (long i = 0; i < n; i++) {                                           \
            real x = a[i];                                                       \
            z[i] = (F);                                                          \
        });                                                                      \
    }
#define UNARY_BACKWARD(name, DF)                                                 \
    void bwd_##name(Tensor *out) {                                               \
        Tensor *in = out->in[0];                                                 \
        if (!in->grad) return;                                                   \
        const real *restrict a = in->data, *restrict z = out->data;  /* [n] */   \
        const real *restrict dz = out->grad;                         /* [n] */   \
        real *restrict da = in->grad;                                /* [n] */   \
        real s = out->fp[0];                                                     \
        long n = out->size;                                                      \
        const int fresh = grad_take_fresh(in); /* then da = 0 + the share */     \
        (void)s;                                                                 \
        if (!fresh)                                                              \
            PAR_FOR_SIMD(n > PAR_MIN, "omp parallel for simd",                   \
            for (long i = 0; i < n; i++) {                                       \
                real x = a[i], y = z[i];                                         \
                (void)x, (void)y;                                                \
                da[i] += dz[i] * (DF);                                           \
            });                                                                  \
        else                                                                     \
            PAR_FOR_SIMD(n > PAR_MIN, "omp parallel for simd",                   \
            for (long i = 0; i < n; i++) {                                       \
                real x = a[i], y = z[i];                                         \
                (void)x, (void)y;                                                \
                da[i] = (real)0 + dz[i] * (DF);                                  \
            });                                                                  \
    }
#define UNARY(name, F, DF) UNARY_FORWARD(name, F) UNARY_BACKWARD(name, DF)

/* tanh's forward: in the float build, libm's tanhf 16 numbers at a time
 * (vlibm.h: the same bits as one tanhf call per number, which took 12 ns
 * each), a block of TANH_BLOCK numbers per loop turn so the threads share
 * the work; in the double build, libm's tanh. */
#define TANH_BLOCK 4096
void fwd_tanh(Tensor *out) {
    const real *restrict a = out->in[0]->data; /* [n] */
    real *restrict z = out->data;              /* [n] */
    long n = out->size, blocks = (n + TANH_BLOCK - 1) / TANH_BLOCK;
    PAR_FOR(n > PAR_MIN, "omp parallel for schedule(static)",
    for (long b = 0; b < blocks; b++) {
        long i0 = b * TANH_BLOCK, len = n - i0 < TANH_BLOCK ? n - i0 : TANH_BLOCK;
#ifdef REAL_DOUBLE
        for (long i = i0; i < i0 + len; i++) z[i] = tanh(a[i]);
#else
        vlibm_tanhf(z + i0, a + i0, len);
#endif
    });
}

/*    op          f(x)                          f'(x), from x, y = f(x), s     */
UNARY(add_scalar, x + s,                        1)
UNARY(mul_scalar, x * s,                        s)
UNARY(neg,        -x,                           -1)
/* BEGIN SOLUTION ex03-relu-backward
 * HINT: f'(x) of each, for x > 0 and x <= 0 (s is leaky ReLU's slope).
 * STUB: UNARY(relu,       x > 0 ? x : 0,                0)
 * STUB: UNARY(leaky_relu, x > 0 ? x : s * x,            0)
 */
UNARY(relu,       x > 0 ? x : 0,                x > 0 ? 1 : 0)
UNARY(leaky_relu, x > 0 ? x : s * x,            x > 0 ? 1 : s)
/* END SOLUTION ex03-relu-backward */
/* BEGIN SOLUTION ex01-sigmoid-tanh-backward
 * HINT: each derivative is cheapest from the output y = f(x).
 * STUB: UNARY(sigmoid,    1 / (1 + vexp(-x)),           0)
 * STUB: UNARY_BACKWARD(tanh,                            0)
 */
UNARY(sigmoid,    1 / (1 + vexp(-x)),           y * (1 - y))
UNARY_BACKWARD(tanh,                            1 - y * y) /* forward: fwd_tanh above */
/* END SOLUTION ex01-sigmoid-tanh-backward */
UNARY(gelu,       gelu(x),                      gelu_grad(x))
/* BEGIN SOLUTION ex04-exp-log-backward
 * HINT: exp's derivative is cheapest from the output y; log is defined for x > 0.
 * STUB: UNARY(exp,        exp(x),                       0)
 * STUB: UNARY(log,        log(x),                       0)
 */
UNARY(exp,        exp(x),                       y)
UNARY(log,        log(x),                       1 / x) /* x <= 0 is the caller's bug */
/* END SOLUTION ex04-exp-log-backward */

Tensor *t_add_scalar(Tape *T, Tensor *a, real s) { return unary(T, OP_ADD_SCALAR, "t_add_scalar", a, s); }
Tensor *t_mul_scalar(Tape *T, Tensor *a, real s) { return unary(T, OP_MUL_SCALAR, "t_mul_scalar", a, s); }
Tensor *t_neg(Tape *T, Tensor *a) { return unary(T, OP_NEG, "t_neg", a, 0); }
Tensor *t_relu(Tape *T, Tensor *a) { return unary(T, OP_RELU, "t_relu", a, 0); }
Tensor *t_leaky_relu(Tape *T, Tensor *a, real slope) { return unary(T, OP_LEAKY_RELU, "t_leaky_relu", a, slope); }
Tensor *t_sigmoid(Tape *T, Tensor *a) { return unary(T, OP_SIGMOID, "t_sigmoid", a, 0); }
Tensor *t_tanh(Tape *T, Tensor *a) { return unary(T, OP_TANH, "t_tanh", a, 0); }
Tensor *t_gelu(Tape *T, Tensor *a) { return unary(T, OP_GELU, "t_gelu", a, 0); }
Tensor *t_exp(Tape *T, Tensor *a) { return unary(T, OP_EXP, "t_exp", a, 0); }
Tensor *t_log(Tape *T, Tensor *a) { return unary(T, OP_LOG, "t_log", a, 0); }
