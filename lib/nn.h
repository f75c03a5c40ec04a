/* nn.h - the modules every model here is built from.
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
Tensor *linear(Tape *T, const Linear *l, Tensor *x);

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

/* Batch normalisation over axis 1 (t_batchnorm), as PyTorch's BatchNorm1d/2d:
 * gain and bias [C] are parameters; the running mean and variance [C] are
 * buffers, statistics the training run keeps but no optimizer trains. */
typedef struct {
    Tensor *g, *b;                      /* "<prefix>.weight", "<prefix>.bias" in ps */
    Tensor *running_mean, *running_var; /* "<prefix>.running_mean", "<prefix>.running_var" in buffers */
    real momentum, eps;                 /* 0.1 and 1e-5, PyTorch's defaults */
} BatchNorm;

/* buffers: the set for the running statistics. A set of its own keeps them
 * out of the optimizer (save it beside the parameters); or pass ps itself:
 * their grads stay 0, and SGD, Adam and AdamW leave a 1-D tensor with zero
 * gradient unchanged, so one checkpoint then holds everything. */
BatchNorm batchnorm_new(ParamSet *ps, ParamSet *buffers, const char *prefix, int C);
/* g = 1, b = 0, running mean 0, running variance 1 (PyTorch's start); call
 * after params_alloc of both sets. */
void batchnorm_reset(BatchNorm *bn);
/* train = 1: batch statistics, running statistics updated; 0: running ones. */
Tensor *batchnorm(Tape *T, const BatchNorm *bn, Tensor *x, int train);

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
