/* tensor.h - tensors, the tape, and every op of the library.
 *
 * Teaches: reverse-mode automatic differentiation the way real frameworks do
 * it, small enough to read in one sitting. A Tensor is a node: data, grad,
 * the op that made it and that op's inputs. Building an expression appends
 * nodes to a Tape in creation order (which is a topological order), and
 * backward() walks the tape in reverse, calling each op's backward.
 * Leaves out: views with strides, broadcasting beyond "a row vector over
 * rows", in-place ops, higher-order derivatives, GPUs.
 *
 * Ownership:
 *   - Parameters live in a ParamSet (params_new / params_free): every data and
 *     grad buffer of the set is one malloc'd block, so an optimizer is one
 *     loop over a flat array and a checkpoint is one block of numbers.
 *   - Everything else (per-step inputs, intermediates, op scratch) lives in a
 *     Tape's arena (tape_new / tape_free). tape_reset() forgets the nodes but
 *     keeps the memory, so a training loop allocates nothing after step 1.
 *   - Integer ids (embedding indices, class targets) are borrowed: the caller
 *     keeps them alive until the tape is reset.
 *
 * Dimension key used in the comments:
 *   N = rows (batch), D = input width, C = channels / model width,
 *   T = context length, V = vocabulary, H = heads, B = leading batch dims.
 */
#ifndef TENSOR_H
#define TENSOR_H

#include <stddef.h>
#include "real.h"

#define MAX_DIMS 4
#define MAX_INPUTS 4 /* tensor inputs of one op (t_linear with a residual has 4) */

/* ---------------------------------------------------------------------------
 * The op table. One X-macro list names every op once; it generates the enum,
 * the names for DOT export, and the forward/backward declarations. Each op
 * `foo` has `void fwd_foo(Tensor *out)` (compute out->data from out->in[...])
 * and `void bwd_foo(Tensor *out)` (add d loss / d input into each input's
 * grad, given out->grad), defined in the module of its family.
 * ------------------------------------------------------------------------- */
#define OP_LIST(X)                                                          \
    /* leaves: no forward, no backward */                                   \
    X(LEAF, leaf)                                                           \
    /* elementwise (ops_elementwise.c) */                                   \
    X(ADD, add) X(SUB, sub) X(MUL, mul) X(DIV, div)                         \
    X(ADD_SCALAR, add_scalar) X(MUL_SCALAR, mul_scalar) X(NEG, neg)         \
    X(RELU, relu) X(LEAKY_RELU, leaky_relu) X(SIGMOID, sigmoid)             \
    X(TANH, tanh) X(GELU, gelu) X(EXP, exp) X(LOG, log)                     \
    /* shape and reductions (ops_reduce.c) */                               \
    X(RESHAPE, reshape) X(TRANSPOSE, transpose)                             \
    X(SUM, sum) X(MEAN, mean) X(SUM_LAST, sum_last) X(MEAN_LAST, mean_last) \
    /* matrix multiply (ops_matmul.c) */                                    \
    X(MATMUL, matmul)                                                       \
    /* neural-network ops (ops_nn.c) */                                     \
    X(SOFTMAX, softmax) X(LOG_SOFTMAX, log_softmax) X(LAYERNORM, layernorm) \
    X(EMBEDDING, embedding) X(CAUSAL_MASK, causal_mask)                     \
    X(SPLIT_HEADS, split_heads) X(MERGE_HEADS, merge_heads)                 \
    /* losses (ops_loss.c) */                                               \
    X(CROSS_ENTROPY, cross_entropy) X(BCE_WITH_LOGITS, bce_with_logits)     \
    X(MSE, mse) X(GAUSSIAN_KL, gaussian_kl)                                 \
    /* convolutions (ops_conv.c) */                                         \
    X(CONV2D, conv2d) X(CONV_TRANSPOSE2D, conv_transpose2d)                 \
    X(BATCHNORM, batchnorm) /* batch normalisation (ops_nn.c) */           \
    X(LINEAR, linear) X(CAUSAL_ATTENTION, causal_attention) /* fused ops */

typedef enum {
#define X(ENUM, name) OP_##ENUM,
    OP_LIST(X)
#undef X
    OP_COUNT
} OpKind;

typedef struct Tensor Tensor;

typedef struct {
    const char *name;              /* "matmul": shown in DOT graphs and tables */
    void (*forward)(Tensor *out);  /* NULL for leaves */
    void (*backward)(Tensor *out); /* NULL for leaves */
} OpInfo;

extern const OpInfo OPS[OP_COUNT];

/* ---------------------------------------------------------------------------
 * Tensors.
 * ------------------------------------------------------------------------- */
struct Tensor {
    int ndim;                /* 1..MAX_DIMS */
    int shape[MAX_DIMS];     /* row-major, contiguous */
    long size;               /* product of shape */
    real *data;              /* [size] */
    real *grad;              /* [size], NULL if no gradient flows here */
    OpKind op;               /* OP_LEAF for inputs and parameters */
    Tensor *in[MAX_INPUTS];  /* the op's tensor inputs (NULL if unused) */
    real fp[2];              /* the op's real attributes (scalar, slope, eps) */
    int ip[4];               /* the op's int attributes (flags, stride, pad) */
    const int *ids;          /* the op's integer input (borrowed), or NULL */
    real *aux;               /* scratch that forward saves for backward */
    const char *name;        /* parameters: "fc1.weight"; else NULL */
    int id;                  /* position on the tape (or in the ParamSet) */
    int grad_fresh;          /* 1: grad holds old numbers, and the op now running
                                backward writes it whole (=, see backward) */
};

/* Shapes are passed as (ndim, dims[]); SHAPE(2, N, D) builds the array. */
#define SHAPE(...) ((const int[]){__VA_ARGS__})

int shape_equal(const Tensor *a, const Tensor *b);
/* "[32, 64, 128]" into buf; returns buf. */
char *shape_str(const Tensor *t, char *buf, size_t len);

/* ---------------------------------------------------------------------------
 * Parameters: persistent tensors, one block for all of a model's numbers.
 * ------------------------------------------------------------------------- */
/* Names are found through a hash table (open addressing, linear probing):
 * slot[hash(name) & (n_slots - 1)], then the next slots, until the name or
 * an empty slot (-1). n_slots is a power of two kept at least twice n, so a
 * search looks at a couple of slots and declaring n parameters takes time
 * linear in n, even for the 200,000 names a crafted checkpoint can ask for. */
typedef struct {
    int n, cap;
    Tensor **t;       /* the parameters, in declaration order */
    long size;        /* total number of reals */
    real *data;       /* [size], one block: every parameter's data */
    real *grad;       /* [size], one block: every parameter's grad */
    int *slot;        /* [n_slots]: an index into t, or -1 for an empty slot */
    int n_slots;      /* 0 or a power of two >= 2 n */
} ParamSet;

ParamSet *params_new(void);
/* Declare a parameter (the set keeps a copy of the name); its data/grad
 * point into the block after params_alloc. A name declared twice, or a
 * shape whose size does not fit in memory, is an error (EXIT_SOFTWARE). */
Tensor *params_add(ParamSet *ps, const char *name, int ndim, const int *shape);
/* Allocate the block (zero-filled). Call once, after the last params_add. */
void params_alloc(ParamSet *ps);
Tensor *params_get(const ParamSet *ps, const char *name); /* NULL if absent */
void params_zero_grad(ParamSet *ps);
/* frozen = 1: the set's tensors carry no grad until params_freeze(ps, 0),
 * so a backward through them computes only what flows past them, to the
 * inputs, and leaves the grad block alone (PyTorch: requires_grad_(False)).
 * A GAN freezes D in G's step: D's weight gradients there would be thrown
 * away unread. Nodes built while frozen still see the weights' data. */
void params_freeze(ParamSet *ps, int frozen);
void params_free(ParamSet *ps);

/* ---------------------------------------------------------------------------
 * The tape and its arena.
 * ------------------------------------------------------------------------- */
typedef struct Tape Tape;

Tape *tape_new(void);
void tape_reset(Tape *T);  /* forget all nodes, keep the memory */
void tape_free(Tape *T);
int tape_len(const Tape *T);
Tensor *tape_node_at(const Tape *T, int i);

/* A per-step input on the tape (no grad unless requires_grad). Zero-filled. */
Tensor *tape_input(Tape *T, int ndim, const int *shape, int requires_grad);
/* Reals from the arena, zero-filled (op scratch). */
real *tape_alloc(Tape *T, long n);
/* The same, not zeroed: for what an op's forward writes whole before
 * anything reads it (a convolution's rows, attention weights: megabytes a
 * step that zeroing would only overwrite). */
real *tape_alloc_uninit(Tape *T, long n);
/* Used by op constructors: a new node with inputs a, b, c (may be NULL). Its
 * grad is allocated iff some input carries a grad. */
Tensor *tape_node(Tape *T, OpKind op, int ndim, const int *shape,
                  Tensor *a, Tensor *b, Tensor *c);

/* Backward from a scalar loss: zero every tape node's grad, seed dloss = 1,
 * run each op's backward in reverse tape order. Parameter grads ACCUMULATE
 * (call params_zero_grad before each step).
 * The first op to write a node's grad may write it (=) instead of adding to
 * zeros (+=): an op listed in tape.c's WRITES_FRESH finds grad_fresh = 1 on
 * such an input, writes every number of its grad as 0 + its share (the same
 * bits as adding it to zeros), and clears the flag; every other op gets the
 * grad zeroed first. tape_fresh_grads(0) zeroes them all, as before (tests
 * compare the two); it returns the setting it replaced. */
void backward(Tape *T, Tensor *loss);
int tape_fresh_grads(int on);
/* An op of WRITES_FRESH, starting its backward: whether input t's grad is to
 * be written whole (1: 0 + the share) or added to (0). Clears the flag, so
 * the ops after it add. */
static inline int grad_take_fresh(Tensor *t) {
    const int fresh = t->grad_fresh;
    t->grad_fresh = 0;
    return fresh;
}
/* Re-run every op's forward in tape order (after changing a leaf's data):
 * the gradient checker perturbs one number and replays. */
void tape_replay(Tape *T);

/* Bytes the arena currently holds, and a process-wide count of mallocs made
 * through xmalloc (see util.h): a training loop's count must stop growing. */
size_t tape_bytes(const Tape *T);

/* ---------------------------------------------------------------------------
 * Ops. Each builds one node, runs its forward, and returns it.
 * ------------------------------------------------------------------------- */
/* Elementwise. b has a's shape, or b is a row vector: shape [C] (or [1, C])
 * where C is a's last dim, added to every row. */
Tensor *t_add(Tape *T, Tensor *a, Tensor *b);
Tensor *t_sub(Tape *T, Tensor *a, Tensor *b);
Tensor *t_mul(Tape *T, Tensor *a, Tensor *b);
Tensor *t_div(Tape *T, Tensor *a, Tensor *b);
Tensor *t_add_scalar(Tape *T, Tensor *a, real s);
Tensor *t_mul_scalar(Tape *T, Tensor *a, real s);
Tensor *t_neg(Tape *T, Tensor *a);
Tensor *t_relu(Tape *T, Tensor *a);
Tensor *t_leaky_relu(Tape *T, Tensor *a, real slope);
Tensor *t_sigmoid(Tape *T, Tensor *a);
Tensor *t_tanh(Tape *T, Tensor *a);
Tensor *t_gelu(Tape *T, Tensor *a);      /* tanh approximation, as GPT-2 */
Tensor *t_exp(Tape *T, Tensor *a);
Tensor *t_log(Tape *T, Tensor *a);

/* Shape and reductions. */
Tensor *t_reshape(Tape *T, Tensor *a, int ndim, const int *shape); /* view */
Tensor *t_transpose(Tape *T, Tensor *a);  /* swap the last two dims */
Tensor *t_sum(Tape *T, Tensor *a);        /* all elements -> [1] */
Tensor *t_mean(Tape *T, Tensor *a);       /* all elements -> [1] */
Tensor *t_sum_last(Tape *T, Tensor *a);   /* [..., C] -> [...] ([C] -> [1]) */
Tensor *t_mean_last(Tape *T, Tensor *a);

/* Matrix multiply: op(a) @ op(b), op = transpose of the last two dims when
 * ta / tb is set. a [..., M, K], b [..., K, N] with equal leading dims
 * (batched), or b 2-D [K, N] shared by every leading index of a. */
Tensor *t_matmul(Tape *T, Tensor *a, Tensor *b, int ta, int tb);
/* A linear layer as one node (ops_matmul.c): out = res + act(x @ w^T + b),
 * x [..., K], w [N, K], b [N] or NULL, out [..., N]; act = LINEAR_GELU
 * applies GELU (tanh form); res (a residual stream, out's shape) or NULL.
 * The same numbers, bit for bit, as t_matmul(x, w, 0, 1), then t_add of b,
 * then t_gelu, then t_add(res, .), without the intermediate nodes and their
 * gradients. */
enum { LINEAR_NONE = 0, LINEAR_GELU = 1 };
Tensor *t_linear(Tape *T, Tensor *x, Tensor *w, Tensor *b, int act, Tensor *res);

/* Causal self-attention as one node (ops_attention.c): qkv [B, T, 3C] (q,
 * k, v side by side, each split into H heads of hd = C / H) -> out
 * [B, T, C], the heads merged: per head softmax(mask(q k^T / sqrt(hd))) v.
 * The same numbers, bit for bit, as the chain split_heads, matmul,
 * mul_scalar, causal_mask, softmax, matmul, merge_heads; it keeps only the
 * attention weights for backward. Those of batch b, head h:
 * t_attention_weights(out) + (b H + h) T T. */
Tensor *t_causal_attention(Tape *T, Tensor *qkv, int H);
const real *t_attention_weights(const Tensor *att);
/* Its softmax (ops_nn.c, the softmax op's kernel): p [T, T] = the weights of
 * the scores s [T, T] (scaled), row i over columns 0..i; entries of s right
 * of the diagonal are ignored (overwritten: s is scratch). */
void softmax_causal(real *s, real *p, int T);

/* Neural-network ops, all along the last axis (but batchnorm: axis 1). */
Tensor *t_softmax(Tape *T, Tensor *a);
Tensor *t_log_softmax(Tape *T, Tensor *a);
/* x [..., C], gain g [C], bias b [C]. */
Tensor *t_layernorm(Tape *T, Tensor *x, Tensor *g, Tensor *b, real eps);
/* Batch normalisation, PyTorch's BatchNorm1d/2d: x [N, C] or [N, C, H, W]
 * (or [N, C, L]), normalised per channel over every axis but axis 1, then
 * scaled by gain g [C] and shifted by bias b [C].
 * train = 1: with the batch's mean and biased variance (needs N*H*W >= 2);
 *   if running_mean and running_var [C] are given (not NULL), each call
 *   updates them once, as PyTorch does:
 *   r = (1 - momentum) r + momentum * stat, with the UNBIASED batch variance
 *   in running_var (momentum 0.1 is PyTorch's default; start them at 0, 1).
 *   A tape replay (the gradient checker) recomputes the batch statistics but
 *   does not update the running ones again.
 * train = 0: with running_mean and running_var (required), read at the
 *   call: the op is then affine in x, and backward treats them as constants.
 * eps (1e-5 in PyTorch) sits inside the square root: rstd = 1/sqrt(var + eps). */
Tensor *t_batchnorm(Tape *T, Tensor *x, Tensor *g, Tensor *b, real *running_mean, real *running_var, int train,
                    real momentum, real eps);
/* table [V, C], ids[n] in [0, V) -> out [ndim dims..., C], n = prod(dims). */
Tensor *t_embedding(Tape *T, Tensor *table, const int *ids, int ndim, const int *shape);
/* scores [..., T, T]: entries above the diagonal (key j > query i) -> -inf. */
Tensor *t_causal_mask(Tape *T, Tensor *scores);
/* x [B, T, P*C]: take part p of P (q, k, v of a fused projection) and split
 * its C = H*hd columns into heads: out [B, H, T, hd]. */
Tensor *t_split_heads(Tape *T, Tensor *x, int part, int nparts, int H);
/* x [B, H, T, hd] -> out [B, T, H*hd]. */
Tensor *t_merge_heads(Tape *T, Tensor *x);

/* Losses, each a scalar [1]. */
/* logits [..., V], targets[n] (n = rows) -> mean over rows of -log softmax. */
Tensor *t_cross_entropy(Tape *T, Tensor *logits, const int *targets);
/* logits [N, ...], targets same shape (values in [0,1], no grad): the stable
 * form max(l,0) - l*y + log(1 + e^-|l|), summed over each row, mean over N. */
Tensor *t_bce_with_logits(Tape *T, Tensor *logits, Tensor *targets);
/* mean over all elements of (a - b)^2; gradient flows to both. */
Tensor *t_mse(Tape *T, Tensor *a, Tensor *b);
/* KL(N(mu, e^logvar) || N(0, 1)) = 1/2 (mu^2 + e^logvar - 1 - logvar),
 * mu and logvar [N, Z]: summed over Z, mean over N. */
Tensor *t_gaussian_kl(Tape *T, Tensor *mu, Tensor *logvar);

/* Convolutions (PyTorch layouts, NCHW). x [N, C, H, W]; square kernel k.
 * conv2d: w [O, C, k, k], bias [O] or NULL -> [N, O, Ho, Wo],
 *   Ho = (H + 2 pad - k) / stride + 1.
 * conv_transpose2d: w [C, O, k, k], bias [O] or NULL -> [N, O, Ho, Wo],
 *   Ho = (H - 1) stride - 2 pad + k. */
Tensor *t_conv2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad);
Tensor *t_conv_transpose2d(Tape *T, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad);

#endif
