/* gradcheck.c - central differences by tape replay; see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>

static double loss_at(Tape *T, Tensor *loss, real *x, real value) {
    *x = value;
    tape_replay(T);
    return (double)loss->data[0];
}

GradCheck gradcheck(Tape *T, Tensor *loss, Tensor **wrt, int nwrt, double h, long max_entries) {
    GradCheck g = {0};
    /* the analytic gradient, kept aside: the parameters' grads accumulate */
    for (int k = 0; k < nwrt; k++)
        for (long i = 0; i < wrt[k]->size; i++) wrt[k]->grad[i] = 0;
    backward(T, loss);
    for (int k = 0; k < nwrt; k++) {
        Tensor *t = wrt[k];
        long step = (max_entries > 0 && t->size > max_entries) ? (t->size + max_entries - 1) / max_entries : 1;
        for (long i = 0; i < t->size; i += step) {
            real x0 = t->data[i];
            double up = loss_at(T, loss, &t->data[i], (real)(x0 + h));
            double down = loss_at(T, loss, &t->data[i], (real)(x0 - h));
            t->data[i] = x0;
            /* divide by the step actually taken: in float, x0 + h rounds */
            double numeric = (up - down) / ((double)(real)(x0 + h) - (double)(real)(x0 - h));
            double analytic = (double)t->grad[i];
            double denom = fmax(fmax(fabs(analytic), fabs(numeric)), GC_FLOOR);
            double rel = fabs(analytic - numeric) / denom;
            if (rel > g.max_rel || g.checked == 0) {
                g.max_rel = rel;
                g.analytic = analytic;
                g.numeric = numeric;
                g.worst_tensor = k;
                g.worst_index = i;
            }
            g.checked++;
        }
    }
    tape_replay(T); /* leave the tape's values as they were */
    return g;
}

void gradcheck_print(FILE *f, const char *label, const GradCheck *g, Tensor **wrt) {
    const Tensor *w = wrt[g->worst_tensor];
    fprintf(f, "%-22s %6ld entries  worst rel. error %.2e  at %s[%ld] (analytic %.10g, numeric %.10g)\n", label,
            g->checked, g->max_rel, w->name ? w->name : "input", g->worst_index, g->analytic, g->numeric);
}
