/* ops_attention.c - causal self-attention as one op (fused attention).
 *
 * Teaches: what fusing buys. Chapter 5 builds attention from seven small
 * ops (split_heads x 3, matmul, mul_scalar, causal_mask, softmax, matmul,
 * merge_heads: ops_nn.c), and every one of them keeps its output and its
 * gradient on the tape: for a batch of 32 windows of 64 bytes with 4 heads
 * the four [B, H, T, T] score tensors alone are 16 MB per layer, and each
 * is written and read again. Here one node reads q, k and v where the
 * fused projection left them (rows of [B, T, 3C], no copies), writes the
 * heads merged into [B, T, C], and keeps one thing for backward: the
 * attention weights P [B, H, T, T]. Its backward is the chain rule of the
 * same seven ops, written out per head (Y = P V, P = softmax(S), S = mask(Q
 * K^T) / sqrt(hd)):
 *     dV  = P^T dY                       dP = dY V^T
 *     dS  = P (dP - rowsum(dP P)) / sqrt(hd)     (0 above the diagonal)
 *     dQ  = dS K                         dK = dS^T Q
 * Every product is a gemm of the same shape, and every other number is
 * computed by the same expression, in the same order, as in the chain of
 * small ops, so the results are the same bit for bit (tests/test_ops_nn.c
 * and tests/test_gpt.c prove it). Masked entries are never computed: their
 * weight is exactly 0, their exp adds nothing to a row's sum, and a product
 * with them adds exactly nothing to a gemm's sum.
 * Leaves out: FlashAttention's tiling with an online softmax (it recomputes
 * P in backward instead of keeping it, and never holds a whole T x T block;
 * at T = 64, P is 2 MB per layer and a block fits in L1), dropout, masks
 * other than causal, skipping the masked half of the products.
 *
 * Dimension key: B = batch, T = positions, C = width, H = heads, hd = C / H
 * (head width); qkv rows are [q | k | v], each C wide, head h at columns
 * h hd .. (h + 1) hd - 1 of its part.
 *
 * Threads: the B H heads are split over the threads, each computed whole by
 * one thread (its gemm calls then run serially on it), so the results do
 * not depend on the thread count.
 */
#include "tensor.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "util.h"
#include "vmath.h"

/* Fewer multiply-adds than this over all heads: one thread is faster. */
#define PAR_MIN_FMAS 1e5
/* Reals in 64 bytes (the arena's alignment). */
#define ALIGN_REALS (64 / (int)sizeof(real))

/* The sizes of one node, and where head (b, h) starts in each array. */
typedef struct {
    int B, T, C, H, hd;
} Att;

static Att att_of(const Tensor *out) {
    const Tensor *x = out->in[0];
    Att a = {.B = x->shape[0], .T = x->shape[1], .C = x->shape[2] / 3, .H = out->ip[0]};
    a.hd = a.C / a.H;
    return a;
}

/* q of head (b, h) in a [B, T, 3C] array; k is C further, v 2C. */
static long head_qkv(const Att *a, int b, int h) { return (long)b * a->T * 3 * a->C + (long)h * a->hd; }
/* head (b, h) in the merged [B, T, C] output */
static long head_out(const Att *a, int b, int h) { return (long)b * a->T * a->C + (long)h * a->hd; }

static int parallel(const Att *a) {
    return a->B * a->H > 1 && (double)a->B * a->H * a->T * a->T * a->hd >= PAR_MIN_FMAS;
}

/* The softmax op's own kernels (ops_nn.c) run on one head's [T, T] block,
 * through two tensors that view it: `in` (the scores, and their gradient)
 * and `out` (the weights, and theirs). Why not a loop written here: a
 * compiler may vectorise a row's sum with separate multiplies and adds and
 * fuse them into FMAs in scalar code, so two loops that say the same thing
 * can round differently. The same machine code on rows at the same
 * addresses modulo 64 bytes (see scratch_of) rounds the same. */
static void softmax_views(int T, real *s, real *ds, real *p, real *dp, Tensor *in, Tensor *out) {
    *in = (Tensor){.ndim = 2, .shape = {T, T}, .size = (long)T * T, .data = s, .grad = ds};
    *out = (Tensor){.ndim = 2, .shape = {T, T}, .size = (long)T * T, .op = OP_SOFTMAX, .data = p, .grad = dp,
                    .in = {in}};
}

/* n rounded up to whole 64-byte lines. */
static long lines(long n) { return (n + ALIGN_REALS - 1) / ALIGN_REALS * ALIGN_REALS; }

/* Scratch blocks [T, T] for head bh on this thread: `which` of the three
 * per thread (scores, dP, dS), each placed so that its rows sit where the
 * chain's [B, H, T, T] tensors hold head bh's rows, modulo 64 bytes (aux,
 * like every arena block, starts on a 64-byte line). */
static real *scratch_of(const Tensor *out, const Att *a, int bh, int which) {
    long tt = (long)a->T * a->T, block = lines(tt) + ALIGN_REALS; /* a block, and room to shift it */
    real *base = out->aux + lines((long)a->B * a->H * tt) + (3L * omp_get_thread_num() + which) * block;
    return base + (long)bh * tt % ALIGN_REALS;
}

/* in = (qkv); ip[0] = H, ip[1] = threads the scratch is for; fp[0] =
 * 1/sqrt(hd); aux = P [B, H, T, T], then 3 scratch blocks per thread. */
void fwd_causal_attention(Tensor *out) {
    Att a = att_of(out);
    const real *x = out->in[0]->data;
    int T = a.T, ld = 3 * a.C;
    real scale = out->fp[0];
    int threads = omp_get_max_threads() < out->ip[1] ? omp_get_max_threads() : out->ip[1];
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel(&a))
    for (int bh = 0; bh < a.B * a.H; bh++) {
        int b = bh / a.H, h = bh % a.H;
        const real *q = x + head_qkv(&a, b, h), *k = q + a.C, *v = q + 2 * a.C;
        real *s = scratch_of(out, &a, bh, 0), *p = out->aux + (long)bh * T * T;
        gemm(T, T, a.hd, q, ld, 0, k, ld, 1, s, T, 0); /* S = Q K^T */
        for (int i = 0; i < T; i++)                    /* scaled, the future masked */
            for (int j = 0; j < T; j++) s[i * T + j] = j > i ? -INFINITY : s[i * T + j] * scale;
        Tensor in, sm;
        softmax_views(T, s, NULL, p, NULL, &in, &sm);
        OPS[OP_SOFTMAX].forward(&sm);                                                /* P */
        gemm(T, a.hd, T, p, T, 0, v, ld, 0, out->data + head_out(&a, b, h), a.C, 0); /* Y = P V */
    }
}

void bwd_causal_attention(Tensor *out) {
    Tensor *qkv = out->in[0];
    if (!qkv->grad) return;
    Att a = att_of(out);
    const real *x = qkv->data;
    real *dx = qkv->grad, scale = out->fp[0];
    int T = a.T, ld = 3 * a.C;
    int threads = omp_get_max_threads() < out->ip[1] ? omp_get_max_threads() : out->ip[1];
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel(&a))
    for (int bh = 0; bh < a.B * a.H; bh++) {
        int b = bh / a.H, h = bh % a.H;
        long o = head_qkv(&a, b, h);
        const real *q = x + o, *k = q + a.C, *v = q + 2 * a.C, *dy = out->grad + head_out(&a, b, h);
        real *p = out->aux + (long)bh * T * T, *dp = scratch_of(out, &a, bh, 1), *ds = scratch_of(out, &a, bh, 2);
        gemm(T, a.hd, T, p, T, 1, dy, a.C, 0, dx + o + 2 * a.C, ld, 1); /* dV += P^T dY */
        gemm(T, T, a.hd, dy, a.C, 0, v, ld, 1, dp, T, 0);               /* dP = dY V^T */
        memset(ds, 0, (size_t)T * T * sizeof(real));
        Tensor in, sm;
        softmax_views(T, NULL, ds, p, dp, &in, &sm);
        OPS[OP_SOFTMAX].backward(&sm); /* softmax's backward: dS (unscaled) += P (dP - rowsum(dP P)) */
        for (int i = 0; i < T; i++)    /* the mask's and the scale's backward */
            for (int j = 0; j < T; j++) ds[i * T + j] = j > i ? 0 : ds[i * T + j] * scale;
        gemm(T, a.hd, T, ds, T, 0, k, ld, 0, dx + o, ld, 1);       /* dQ += dS K */
        gemm(T, a.hd, T, ds, T, 1, q, ld, 0, dx + o + a.C, ld, 1); /* dK += dS^T Q */
    }
}

Tensor *t_causal_attention(Tape *T, Tensor *qkv, int H) {
    char s[64];
    if (!qkv || qkv->ndim != 3 || H < 1 || qkv->shape[2] % 3 != 0 || qkv->shape[2] / 3 % H != 0)
        fail(EXIT_SOFTWARE, "t_causal_attention", "pass qkv [B, T, 3C] (q, k, v side by side) with C divisible by H",
             "shape %s and %d heads", qkv ? shape_str(qkv, s, sizeof s) : "NULL", H);
    int B = qkv->shape[0], Tn = qkv->shape[1], C = qkv->shape[2] / 3;
    Tensor *out = tape_node(T, OP_CAUSAL_ATTENTION, 3, SHAPE(B, Tn, C), qkv, NULL, NULL);
    int threads = omp_get_max_threads();
    out->ip[0] = H;
    out->ip[1] = threads;
    out->fp[0] = (real)(1.0 / sqrt((double)(C / H)));
    long tt = (long)Tn * Tn;
    out->aux = tape_alloc_uninit(T, lines((long)B * H * tt) + 3L * threads * (lines(tt) + ALIGN_REALS));
    fwd_causal_attention(out);
    return out;
}

const real *t_attention_weights(const Tensor *att) {
    if (!att || att->op != OP_CAUSAL_ATTENTION)
        fail(EXIT_SOFTWARE, "t_attention_weights", "pass a node made by t_causal_attention", "another node");
    return att->aux;
}
