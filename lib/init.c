/* init.c - initialisers; see init.h for the rules and the fan conventions.
 *
 * Every initialiser fills w->data in order, element 0 first, from the Rng,
 * so the same seed and the same call order give the same network.
 */
#include "init.h"

#include <math.h>

#include "util.h"

static void need_data(const Tensor *w, const char *who) {
    if (!w || !w->data)
        fail(EXIT_SOFTWARE, who, "call params_alloc before initialising parameters", "tensor has no data");
}

void init_fan(const Tensor *w, long *fan_in, long *fan_out) {
    if (w->ndim < 2)
        fail(EXIT_SOFTWARE, w->name ? w->name : "init", "pass the weight's fan to init_uniform_bound for a bias",
             "fan_in/fan_out need a tensor of at least 2 dims, this one has %d", w->ndim);
    long rf = 1;  /* receptive field: k*k for a conv kernel, 1 for a matrix */
    for (int i = 2; i < w->ndim; i++) rf *= w->shape[i];
    *fan_in = (long)w->shape[1] * rf;
    *fan_out = (long)w->shape[0] * rf;
}

void init_normal(Tensor *w, Rng *r, double std) {
    need_data(w, "init_normal");
    rng_fill_normal(r, w->data, w->size, 0.0, std);
}

void init_uniform_bound(Tensor *w, Rng *r, double bound) {
    need_data(w, "init_uniform_bound");
    rng_fill_uniform(r, w->data, w->size, -bound, bound);
}

void init_xavier_uniform(Tensor *w, Rng *r) {
    long fi, fo;
    init_fan(w, &fi, &fo);
    init_uniform_bound(w, r, sqrt(6.0 / (double)(fi + fo)));
}

void init_kaiming_normal(Tensor *w, Rng *r) {
    long fi, fo;
    init_fan(w, &fi, &fo);
    init_normal(w, r, sqrt(2.0 / (double)fi));
}

void init_uniform_fan_in(Tensor *w, Rng *r) {
    long fi, fo;
    init_fan(w, &fi, &fo);
    init_uniform_bound(w, r, 1.0 / sqrt((double)fi));
}

void init_const(Tensor *w, real value) {
    need_data(w, "init_const");
    for (long i = 0; i < w->size; i++) w->data[i] = value;
}
