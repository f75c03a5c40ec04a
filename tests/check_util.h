/* check_util.h - what every gradient-check test shares.
 *
 * The recipe: random inputs away from kinks, a loss L = sum(y * W) with a
 * fixed random W (so every output entry matters, each with its own weight),
 * then gradcheck() with h = 1e-5 in double. Bound: relative error 1e-6
 * (see GC_FLOOR in gradcheck.h for why that is safe and still tight: a wrong
 * backward is off by O(1), a right one by ~1e-9).
 * Also here: also_used_later() (every input feeds a second consumer, so a
 * backward that assigns instead of adding fails), a Shape value for tables
 * of cases, shape_label() to name a case in a failure message, and
 * expect_params_gradcheck() for a gradcheck over a whole model's ParamSet.
 */
#ifndef CHECK_UTIL_H
#define CHECK_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "gradcheck.h"
#include "rng.h"
#include "tensor.h"

#define GC_H 1e-5
#define GC_TOL 1e-6

/* A shape as a value, for tables of test cases: {ndim, {d0, d1, ...}}. */
typedef struct {
    int ndim, shape[MAX_DIMS];
} Shape;

/* "op [d0, d1, ...]" in buf: names a case in a failure message. */
static inline char *shape_label(char *buf, size_t n, const char *op, const Tensor *t) {
    char s[64];
    snprintf(buf, n, "%s %s", op, shape_str(t, s, sizeof s));
    return buf;
}

/* A leaf with entries uniform in [lo, hi]. */
static inline Tensor *rand_leaf(Tape *T, Rng *r, int ndim, const int *shape, double lo, double hi, int grad) {
    Tensor *t = tape_input(T, ndim, shape, grad);
    rng_fill_uniform(r, t->data, t->size, lo, hi);
    return t;
}

/* Push entries of t at least `gap` away from `kink` (ReLU at 0, ...), so a
 * step of h never crosses a point where the derivative jumps. */
static inline void avoid_kink(Tensor *t, double kink, double gap) {
    for (long i = 0; i < t->size; i++)
        if (fabs(t->data[i] - kink) < gap) t->data[i] = (real)(kink + (t->data[i] < kink ? -gap : gap));
}

/* L = sum(y * W), W uniform in [-1, 1], fixed. */
static inline Tensor *weighted_sum(Tape *T, Rng *r, Tensor *y) {
    Tensor *w = rand_leaf(T, r, y->ndim, y->shape, -1, 1, 0);
    return t_sum(T, t_mul(T, y, w));
}

/* loss + sum(x * W') for each x: every input also feeds a consumer made
 * after the op, whose share reaches x->grad first in backward. A backward
 * that assigns (=) instead of adding (+=) overwrites it and fails the check. */
static inline Tensor *also_used_later(Tape *T, Rng *r, Tensor *loss, Tensor **xs, int n) {
    for (int i = 0; i < n; i++) {
        Tensor *more = weighted_sum(T, r, xs[i]);
        loss = t_add(T, loss, more);
    }
    return loss;
}

/* Assert every listed gradient matches its central difference. */
static inline void expect_grads(Tape *T, Tensor *loss, Tensor **wrt, int n, const char *label) {
    GradCheck g = gradcheck(T, loss, wrt, n, GC_H, 0);
    cr_assert(g.checked > 0, "%s: nothing was checked", label);
    cr_assert(g.max_rel <= GC_TOL,
              "%s: worst relative error %.3e > %.0e at input %d, entry %ld (analytic %.12g, numeric %.12g)", label,
              g.max_rel, GC_TOL, g.worst_tensor, g.worst_index, g.analytic, g.numeric);
}

/* Assert c, a gradcheck over every tensor of ps, stays within GC_TOL; on
 * failure name the worst parameter tensor and entry. */
static inline void expect_params_gradcheck(const GradCheck *c, const ParamSet *ps, const char *label) {
    cr_assert(c->max_rel <= GC_TOL, "%s: worst relative error %.3e > %.0e in %s[%ld] (analytic %.12g, numeric %.12g)",
              label, c->max_rel, GC_TOL, ps->t[c->worst_tensor]->name, c->worst_index, c->analytic, c->numeric);
}

#endif
