/* init.h - initialisers: the random numbers a network starts from.
 *
 * Teaches: why the scale of the first weights matters. A layer sums fan_in
 * products; with weights of variance s^2 its outputs have variance about
 * fan_in * s^2 times its inputs', so s is chosen from the fan to keep
 * signals (and gradients) from growing or vanishing layer by layer:
 *   Xavier/Glorot (2010): Var = 2 / (fan_in + fan_out), for tanh/sigmoid;
 *   Kaiming/He (2015):    Var = 2 / fan_in, for ReLU (which zeroes half);
 *   PyTorch's default:    U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * Every draw comes from the caller's Rng, so one seed gives one network.
 *
 * Fans follow PyTorch (torch.nn.init._calculate_fan_in_and_fan_out), from
 * the shape alone, receptive field rf = product of the dims after the second:
 *   Linear weight [out, in]:                 fan_in = in,      fan_out = out
 *   conv2d weight [O, C, k, k]:              fan_in = C*k*k,   fan_out = O*k*k
 *   conv-transpose2d weight [C, O, k, k]:    the same formula on its shape,
 *                                            fan_in = O*k*k,   fan_out = C*k*k
 * A 1-D tensor (a bias) has no fan: those initialisers stop with an error;
 * give a bias its weight's fan through init_uniform_bound.
 * Leaves out: orthogonal and truncated-normal init, gains other than ReLU's.
 */
#ifndef INIT_H
#define INIT_H

#include "rng.h"
#include "tensor.h"

/* fan_in / fan_out of a weight of ndim >= 2, as above. */
void init_fan(const Tensor *w, long *fan_in, long *fan_out);

void init_normal(Tensor *w, Rng *r, double std);            /* N(0, std^2) */
void init_xavier_uniform(Tensor *w, Rng *r);                /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
void init_kaiming_normal(Tensor *w, Rng *r);                /* N(0, 2 / fan_in) */
void init_uniform_fan_in(Tensor *w, Rng *r);                /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
void init_uniform_bound(Tensor *w, Rng *r, double bound);   /* U(-bound, bound) */
void init_const(Tensor *w, real value);

#endif
