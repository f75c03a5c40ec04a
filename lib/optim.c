/* optim.c - SGD with momentum, Adam, AdamW, gradient clipping; see optim.h.
 *
 * Teaches: an optimizer is a few lines per number once the parameters are
 * one flat block. Each rule below is written out as PyTorch documents it.
 * SGD's step is computed in double and rounded to `real` when stored; Adam's
 * and AdamW's run in `real` (the float build's loop vectorises: see
 * adam_update); only their bias corrections are computed in double.
 * Leaves out: anything beyond the three rules (see optim.h).
 */
#include "optim.h"

#include <tgmath.h>
#include <string.h>

#include "par.h"
#include "util.h"

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW } OptKind;

struct Optimizer {
    OptKind kind;
    ParamSet *ps;      /* borrowed: the parameters this optimizer updates */
    double lr;
    double momentum;   /* SGD */
    double beta1, beta2, eps, weight_decay;  /* Adam, AdamW */
    long t;            /* steps taken: Adam's bias correction needs it */
    real *m;           /* [ps->size]: SGD velocity, or Adam's first moment */
    real *v;           /* [ps->size]: Adam's second moment; NULL for SGD */
};

/* Element loops above this size are shared between threads. */
#define OMP_MIN 32768

/* ---- Construction ----------------------------------------------------------- */

static Optimizer *optim_alloc(ParamSet *ps, OptKind kind, double lr, int two_moments) {
    if (!ps || !ps->data || !ps->grad)
        fail(EXIT_SOFTWARE, "optimizer", "call params_alloc before creating the optimizer",
             "parameter set is not allocated");
    if (!(lr >= 0) || !isfinite(lr))
        fail(EXIT_SOFTWARE, "optimizer", "pass a finite learning rate >= 0", "bad learning rate %g", lr);
    Optimizer *o = xcalloc(1, sizeof(Optimizer));
    o->kind = kind;
    o->ps = ps;
    o->lr = lr;
    o->m = xcalloc((size_t)ps->size, sizeof(real));
    o->v = two_moments ? xcalloc((size_t)ps->size, sizeof(real)) : NULL;
    return o;
}

Optimizer *sgd_new(ParamSet *ps, double lr, double momentum) {
    if (!(momentum >= 0 && momentum < 1))
        fail(EXIT_SOFTWARE, "sgd", "momentum must be in [0, 1)", "bad momentum %g", momentum);
    Optimizer *o = optim_alloc(ps, OPT_SGD, lr, 0);
    o->momentum = momentum;
    return o;
}

static void check_betas(const char *who, double beta1, double beta2, double eps) {
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
        fail(EXIT_SOFTWARE, who, "betas must be in [0, 1), e.g. (0.9, 0.999)", "bad betas (%g, %g)", beta1,
             beta2);
    if (!(eps > 0)) fail(EXIT_SOFTWARE, who, "eps must be > 0, e.g. 1e-8", "bad eps %g", eps);
}

Optimizer *adam_new(ParamSet *ps, double lr, double beta1, double beta2, double eps) {
    check_betas("adam", beta1, beta2, eps);
    Optimizer *o = optim_alloc(ps, OPT_ADAM, lr, 1);
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return o;
}

Optimizer *adamw_new(ParamSet *ps, double lr, double beta1, double beta2, double eps, double weight_decay) {
    check_betas("adamw", beta1, beta2, eps);
    if (!(weight_decay >= 0))
        fail(EXIT_SOFTWARE, "adamw", "weight decay must be >= 0, e.g. 0.1", "bad weight decay %g", weight_decay);
    Optimizer *o = optim_alloc(ps, OPT_ADAMW, lr, 1);
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->weight_decay = weight_decay;
    return o;
}

void optim_set_lr(Optimizer *o, double lr) {
    if (!(lr >= 0) || !isfinite(lr))
        fail(EXIT_SOFTWARE, "optimizer", "pass a finite learning rate >= 0", "bad learning rate %g", lr);
    o->lr = lr;
}

double optim_lr(const Optimizer *o) { return o->lr; }

void optim_free(Optimizer *o) {
    if (!o) return;
    xfree(o->m);
    xfree(o->v);
    xfree(o);
}

/* ---- The update rules ---------------------------------------------------------- */

/* SGD with momentum over n numbers: w [n], g [n], vel [n]. */
static void sgd_update(real *w, const real *g, real *vel, long n, double lr, double mu) {
    PAR_FOR(n > OMP_MIN, "omp parallel for schedule(static)",
    for (long i = 0; i < n; i++) {
        double v = mu * vel[i] + g[i];
        vel[i] = (real)v;
        w[i] = (real)(w[i] - lr * v);
    });
}

/* Adam over n numbers: w, g, m, v [n]. step = lr / (1 - b1^t) and
 * inv_sqrt_bc2 = 1 / sqrt(1 - b2^t) are the bias corrections; keep =
 * 1 - lr * wd is AdamW's decoupled decay (1 for Adam and for undecayed
 * tensors). In `real` arithmetic, so the float build's loop is a vector loop
 * (sqrt and divide included): the update is memory-bound, and a scalar
 * double loop cost 5 ns per parameter. */
static void adam_update(real *restrict w, const real *restrict g, real *restrict m, real *restrict v, long n, real b1,
                        real b2, real eps, real step, real inv_sqrt_bc2, real keep) {
    /* BEGIN SOLUTION ex02-adam
     * HINT: per entry: the two moments, then the step with both bias corrections (as
     * HINT: passed in) and eps added after the square root; multiply w by keep first.
     * STUB: (void)w, (void)g, (void)m, (void)v, (void)n, (void)b1, (void)b2, (void)eps;
     * STUB: (void)step, (void)inv_sqrt_bc2, (void)keep;
     */
    PAR_FOR_SIMD(n > OMP_MIN, "omp parallel for simd schedule(static)",
    for (long i = 0; i < n; i++) {
        real mi = b1 * m[i] + (1 - b1) * g[i];
        real vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * keep - step * mi / (sqrt(vi) * inv_sqrt_bc2 + eps); /* decay first, then Adam */
    });
    /* END SOLUTION ex02-adam */
}

void optim_step(Optimizer *o) {
    ParamSet *ps = o->ps;
    o->t++;
    if (o->kind == OPT_SGD) {
        sgd_update(ps->data, ps->grad, o->m, ps->size, o->lr, o->momentum);
        return;
    }
    real step = (real)(o->lr / (1 - pow(o->beta1, (double)o->t)));
    real inv_sqrt_bc2 = (real)(1 / sqrt(1 - pow(o->beta2, (double)o->t)));
    for (int k = 0; k < ps->n; k++) {
        const Tensor *p = ps->t[k];
        long off = (long)(p->data - ps->data);  /* its place in the block */
        /* BEGIN SOLUTION ex05-adamw
         * HINT: which optimizer decays, and which tensors (optim.h)?
         * STUB: double decay = 0.0;
         */
        double decay = (o->kind == OPT_ADAMW && p->ndim >= 2) ? o->lr * o->weight_decay : 0.0;
        /* END SOLUTION ex05-adamw */
        adam_update(p->data, p->grad, o->m + off, o->v + off, p->size, (real)o->beta1, (real)o->beta2, (real)o->eps,
                    step, inv_sqrt_bc2, (real)(1 - decay));
    }
}

/* ---- Gradient clipping ----------------------------------------------------------- */

double clip_grad_norm(ParamSet *ps, double max_norm) {
    /* BEGIN SOLUTION ex06-clip-grad-norm
     * HINT: the norm over every gradient (in double, in one fixed order); scale only
     * HINT: when it exceeds max_norm, by max_norm / (norm + 1e-6); return the norm
     * HINT: before clipping.
     * STUB: (void)ps, (void)max_norm;
     * STUB: return 0;
     */
    /* One thread, one order: the same grads give the same norm to the bit. */
    double ss = 0;
    for (long i = 0; i < ps->size; i++) ss += (double)ps->grad[i] * ps->grad[i];
    double norm = sqrt(ss);
    if (norm > max_norm) {
        double scale = max_norm / (norm + 1e-6);
        for (long i = 0; i < ps->size; i++) ps->grad[i] = (real)(ps->grad[i] * scale);
    }
    return norm;
    /* END SOLUTION ex06-clip-grad-norm */
}
