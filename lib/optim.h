/* optim.h - optimizers (SGD with momentum, Adam, AdamW) and gradient clipping.
 *
 * Teaches: what an optimizer step is once the gradients are known. Every
 * parameter of a ParamSet sits in one flat block (ps->data, ps->grad), so
 * each optimizer is one loop over that block, with its per-number state (the
 * momentum, Adam's two moments) in flat arrays of the same size. The update
 * rules are PyTorch's, number for number, so a run can be compared with one:
 *
 *   SGD:   v = mu v + g;                      w -= lr v
 *   Adam:  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  t = step count
 *          w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW: w -= lr wd w (decoupled weight decay), then the Adam update.
 *          The decay applies only to tensors with ndim >= 2 (weight matrices,
 *          conv kernels, embeddings), never to biases or LayerNorm gains.
 *
 * A step reads ps->grad and changes ps->data; it does not zero the grads
 * (call params_zero_grad before the next backward). Each number is updated
 * on its own, so the OpenMP loop is deterministic.
 * Leaves out: dampening, Nesterov, AMSGrad, per-group learning rates,
 * learning-rate schedules (the caller sets the rate each step).
 */
#ifndef OPTIM_H
#define OPTIM_H

#include "tensor.h"

typedef struct Optimizer Optimizer;

/* v = mu v + g; w -= lr v (PyTorch SGD, dampening 0). mu = 0: plain SGD. */
Optimizer *sgd_new(ParamSet *ps, double lr, double momentum);
Optimizer *adam_new(ParamSet *ps, double lr, double beta1, double beta2, double eps);
/* AdamW: w -= lr*wd*w before the Adam update (PyTorch AdamW), only on
 * parameters with ndim >= 2. */
Optimizer *adamw_new(ParamSet *ps, double lr, double beta1, double beta2, double eps, double weight_decay);

void optim_set_lr(Optimizer *o, double lr);  /* warm-up, schedules */
double optim_lr(const Optimizer *o);
void optim_step(Optimizer *o);  /* one update from ps->grad */
void optim_free(Optimizer *o);

/* Global-norm clipping, PyTorch clip_grad_norm_ semantics:
 * norm = sqrt(sum of g^2 over every grad of ps), summed in double in a fixed
 * order (parameter by parameter, element by element); if norm > max_norm,
 * every g *= max_norm / (norm + 1e-6). Returns the norm before clipping. */
double clip_grad_norm(ParamSet *ps, double max_norm);

#endif
