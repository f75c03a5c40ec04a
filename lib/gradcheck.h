/* gradcheck.h - proving a backward pass right with finite differences.
 *
 * Teaches: the one test every autodiff op must pass. For each checked entry
 * x_i of a leaf, the numeric derivative is the central difference
 *     (L(x_i + h) - L(x_i - h)) / 2h,
 * whose error is O(h^2) from truncation plus O(eps |L| / h) from round-off.
 * The analytic one is what backward() put in x->grad. We compare them with
 * the relative error |a - n| / max(|a|, |n|, GC_FLOOR); the floor keeps
 * gradients that are zero up to round-off from dividing by ~0.
 * The checker needs no closure over the model: it perturbs a leaf in place
 * and replays the tape (tape_replay), which re-runs every op's forward from
 * the op table. Leaves out: complex-step and higher-order checks.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <stdio.h>
#include "tensor.h"

/* Gradients smaller than this are compared absolutely. In double with
 * h = 1e-5, the central difference of an O(1) loss carries ~1e-11 of
 * round-off, i.e. 1e-7 relative to the floor, safely under the tests' 1e-6
 * bound. In float (h = 1e-2) round-off is ~1e-4, so the floor is 1e-2. */
#ifdef REAL_DOUBLE
#define GC_FLOOR 1e-4
#define GC_STEP 1e-5 /* the step h that suits this build: about eps^(1/3) */
#else
#define GC_FLOOR 1e-2
#define GC_STEP 1e-2
#endif

typedef struct {
    double max_rel;       /* worst relative error over the checked entries */
    double analytic;      /* the two derivatives at the worst entry */
    double numeric;
    int worst_tensor;     /* index into wrt[] */
    long worst_index;     /* flat index in that tensor */
    long checked;         /* how many entries were checked */
} GradCheck;

/* Check d loss / d t for every t in wrt[] (leaves on T or parameters, each
 * with a grad). backward() is run here first. At most max_entries entries of
 * each tensor are checked, spread evenly (0 = all). */
GradCheck gradcheck(Tape *T, Tensor *loss, Tensor **wrt, int nwrt, double h, long max_entries);

/* One line: label, entries checked, worst relative error, and where. */
void gradcheck_print(FILE *f, const char *label, const GradCheck *g, Tensor **wrt);

#endif
