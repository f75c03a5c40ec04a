/* fixture_params.h - what every model's PyTorch reference check shares.
 *
 * Teaches: the two halves of a reference check (see fixture.h for why one
 * exists). In: copy the fixture's weights into the model's ParamSet by
 * name, asserting the sizes agree first. Out: compare a computed tensor
 * with the fixture's, relative to the fixture's largest entry, and on
 * failure name the worst entry, both values and where.
 * Leaves out: the tolerance. Each test file states and justifies its own
 * (REF_TOL) and passes it in.
 *
 * All the test files are linked into one binary: everything here is static.
 */
#ifndef FIXTURE_PARAMS_H
#define FIXTURE_PARAMS_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "fixture.h"
#include "tensor.h"

/* ---- in: fixture -> model ------------------------------------------------ */

/* Copy w's numbers into t; the counts must agree. */
static inline void copy_fixture(Tensor *t, const FixTensor *w) {
    cr_assert_eq(t->size, w->size, "%s: fixture has %ld numbers, model %ld", w->name, w->size, t->size);
    for (long j = 0; j < t->size; j++) t->data[j] = (real)w->data[j];
}

/* The same, but the shapes must agree dimension by dimension. */
static inline void copy_fixture_same_shape(Tensor *t, const FixTensor *w) {
    cr_assert_eq(t->ndim, w->ndim, "%s: fixture has %d dims, model %d", w->name, w->ndim, t->ndim);
    for (int d = 0; d < t->ndim; d++)
        cr_assert_eq(t->shape[d], w->shape[d], "%s: dim %d is %d in the fixture, %d in the model", w->name, d,
                     w->shape[d], t->shape[d]);
    copy_fixture(t, w);
}

/* Fill every parameter of ps from the fixture tensor of the same name,
 * with copy (copy_fixture or copy_fixture_same_shape). */
static inline void params_from_fixture(ParamSet *ps, const Fixture *f,
                                       void (*copy)(Tensor *, const FixTensor *)) {
    for (int i = 0; i < ps->n; i++) copy(ps->t[i], fixture_get(f, ps->t[i]->name));
}

/* ---- out: model -> comparison -------------------------------------------- */

/* max |a - b| / max |b| over n entries, and where (*at). */
static inline double fixture_rel_diff(const real *a, const double *b, long n, long *at) {
    double worst = 0, scale = 1e-300;
    for (long i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    *at = 0;
    for (long i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > worst) worst = fabs((double)a[i] - b[i]), *at = i;
    return worst / scale;
}

/* got [n] must have want's count and be within tol of it, relative to
 * want's largest entry. */
static inline void expect_fixture_close(const char *what, const real *got, long n, const FixTensor *want,
                                        double tol) {
    cr_assert_eq(n, want->size, "%s: C has %ld numbers, fixture %ld", what, n, want->size);
    long at;
    double d = fixture_rel_diff(got, want->data, want->size, &at);
    cr_assert(d <= tol, "%s: relative difference %.3e > %.0e at [%ld] (C %.17g, PyTorch %.17g)", what, d, tol, at,
              (double)got[at], want->data[at]);
}

/* Every gradient of ps against the fixture's "<prefix><name>" ("grad.",
 * "gradg.", ...), each as expect_fixture_close. */
static inline void expect_grads_match_fixture(const Fixture *f, const ParamSet *ps, const char *prefix, double tol) {
    char name[160];
    for (int i = 0; i < ps->n; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, ps->t[i]->name);
        expect_fixture_close(name, ps->t[i]->grad, ps->t[i]->size, fixture_get(f, name), tol);
    }
}

/* The gradients of loss (on T) in ps, from zero, against the fixture's
 * "<prefix><name>" as expect_grads_match_fixture. */
static inline void expect_backward_matches_fixture(Tape *T, Tensor *loss, ParamSet *ps, const Fixture *f,
                                                   const char *prefix, double tol) {
    params_zero_grad(ps);
    backward(T, loss);
    expect_grads_match_fixture(f, ps, prefix, tol);
}

#endif
