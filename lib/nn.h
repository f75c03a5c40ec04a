/* nn.h - the three modules every model here is built from.
 *
 * Teaches: a "layer" is only a named bundle of parameters plus a function
 * that strings ops together on the tape; no classes needed. Linear weights
 * use PyTorch's layout [out, in], so the reference fixtures load as they are.
 * Leaves out: initialisation (see init.h: the chapter chooses), dropout.
 */
#ifndef NN_H
#define NN_H

#include "rng.h"
#include "tensor.h"

/* y = x W^T + b.  W [out, in], b [out] (or NULL). x [..., in] -> y [..., out]. */
typedef struct {
    Tensor *w, *b;
    int in, out;
} Linear;

/* Declares "<prefix>.weight" and (if bias) "<prefix>.bias" in ps. */
Linear linear_new(ParamSet *ps, const char *prefix, int in, int out, int bias);
/* linear: t_matmul then t_add, two nodes (the tapes chapters 1, 3, 4 and 5
 * draw and count); linear_fused: the same numbers, bit for bit, as one
 * t_linear node (the ring GAN's small layers, where the add's pass
 * over memory costs as much as the product). */
Tensor *linear(Tape *T, const Linear *l, Tensor *x);
Tensor *linear_fused(Tape *T, const Linear *l, Tensor *x);

/* PyTorch's nn.Linear.reset_parameters: kaiming_uniform(a = sqrt 5) on the
 * weight is U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound. */
void linear_init_pytorch(Linear *l, Rng *r);

/* Layer normalisation over the last axis with gain and bias [C], eps 1e-5. */
typedef struct {
    Tensor *g, *b;
    real eps;
} LayerNorm;

/* Declares "<prefix>.weight" (set to 1 by layernorm_reset) and "<prefix>.bias". */
LayerNorm layernorm_new(ParamSet *ps, const char *prefix, int C);
void layernorm_reset(LayerNorm *ln); /* g = 1, b = 0; call after params_alloc */
Tensor *layernorm(Tape *T, const LayerNorm *ln, Tensor *x);

/* A lookup table [V, C]: row i is the vector of id i. */
typedef struct {
    Tensor *w;
} Embedding;

Embedding embedding_new(ParamSet *ps, const char *prefix, int V, int C);
/* ids[n] -> [shape..., C], n = prod(shape). */
Tensor *embedding(Tape *T, const Embedding *e, const int *ids, int ndim, const int *shape);

/* A constant [n, 1] tensor on the tape (no grad): GAN labels 1 or 0. */
Tensor *const_column(Tape *T, int n, real value);

/* The mean of sigmoid(logit) over a tensor of logits: D's average verdict. */
double mean_sigmoid(const Tensor *logits);

#endif
