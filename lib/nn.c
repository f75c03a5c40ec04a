/* nn.c - Linear, LayerNorm, BatchNorm and Embedding modules; see nn.h. */
#include "nn.h"

#include <math.h>
#include <stdio.h>

#include "init.h"

static const char *joined(char *buf, size_t len, const char *prefix, const char *leaf) {
    snprintf(buf, len, "%s.%s", prefix, leaf);
    return buf;
}

Linear linear_new(ParamSet *ps, const char *prefix, int in, int out, int bias) {
    char name[128];
    Linear l = {.in = in, .out = out};
    l.w = params_add(ps, joined(name, sizeof name, prefix, "weight"), 2, SHAPE(out, in));
    l.b = bias ? params_add(ps, joined(name, sizeof name, prefix, "bias"), 1, SHAPE(out)) : NULL;
    return l;
}

Tensor *linear(Tape *T, const Linear *l, Tensor *x) {
    Tensor *y = t_matmul(T, x, l->w, 0, 1); /* [..., in] @ [out, in]^T */
    return l->b ? t_add(T, y, l->b) : y;    /* + b, broadcast over rows */
}

Tensor *linear_fused(Tape *T, const Linear *l, Tensor *x) { return t_linear(T, x, l->w, l->b, LINEAR_NONE, NULL); }

LayerNorm layernorm_new(ParamSet *ps, const char *prefix, int C) {
    char name[128];
    LayerNorm ln = {.eps = (real)1e-5};
    ln.g = params_add(ps, joined(name, sizeof name, prefix, "weight"), 1, SHAPE(C));
    ln.b = params_add(ps, joined(name, sizeof name, prefix, "bias"), 1, SHAPE(C));
    return ln;
}

void layernorm_reset(LayerNorm *ln) {
    for (long i = 0; i < ln->g->size; i++) ln->g->data[i] = 1;
    for (long i = 0; i < ln->b->size; i++) ln->b->data[i] = 0;
}

Tensor *layernorm(Tape *T, const LayerNorm *ln, Tensor *x) { return t_layernorm(T, x, ln->g, ln->b, ln->eps); }

BatchNorm batchnorm_new(ParamSet *ps, ParamSet *buffers, const char *prefix, int C) {
    char name[128];
    BatchNorm bn = {.momentum = (real)0.1, .eps = (real)1e-5};
    bn.g = params_add(ps, joined(name, sizeof name, prefix, "weight"), 1, SHAPE(C));
    bn.b = params_add(ps, joined(name, sizeof name, prefix, "bias"), 1, SHAPE(C));
    bn.running_mean = params_add(buffers, joined(name, sizeof name, prefix, "running_mean"), 1, SHAPE(C));
    bn.running_var = params_add(buffers, joined(name, sizeof name, prefix, "running_var"), 1, SHAPE(C));
    return bn;
}

void batchnorm_reset(BatchNorm *bn) {
    for (long i = 0; i < bn->g->size; i++) {
        bn->g->data[i] = 1;
        bn->b->data[i] = 0;
        bn->running_mean->data[i] = 0;
        bn->running_var->data[i] = 1;
    }
}

Tensor *batchnorm(Tape *T, const BatchNorm *bn, Tensor *x, int train) {
    return t_batchnorm(T, x, bn->g, bn->b, bn->running_mean->data, bn->running_var->data, train, bn->momentum,
                       bn->eps);
}

Embedding embedding_new(ParamSet *ps, const char *prefix, int V, int C) {
    char name[128];
    Embedding e = {.w = params_add(ps, joined(name, sizeof name, prefix, "weight"), 2, SHAPE(V, C))};
    return e;
}

Tensor *embedding(Tape *T, const Embedding *e, const int *ids, int ndim, const int *shape) {
    return t_embedding(T, e->w, ids, ndim, shape);
}

void linear_init_pytorch(Linear *l, Rng *r) {
    double bound = 1.0 / sqrt((double)l->in);
    init_uniform_bound(l->w, r, bound);
    if (l->b) init_uniform_bound(l->b, r, bound);
}

Tensor *const_column(Tape *T, int n, real value) {
    Tensor *t = tape_input(T, 2, SHAPE(n, 1), 0);
    for (int i = 0; i < n; i++) t->data[i] = value;
    return t;
}

double mean_sigmoid(const Tensor *logits) {
    double s = 0;
    for (long i = 0; i < logits->size; i++) s += 1 / (1 + exp(-(double)logits->data[i]));
    return s / (double)logits->size;
}
