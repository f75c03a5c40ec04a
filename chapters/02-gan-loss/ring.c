/* chapters/02-gan-loss/ring.c - the ring GAN: model, losses, metrics, training.
 *
 * Teaches: a whole GAN in a page: two small MLPs, two losses built from one
 * op (BCE with logits), "detach" as copying numbers onto a fresh tape, the
 * alternating D step / G step with two optimizers, and the trainer every
 * model file exports (config, new / step / eval / free); then runs of it,
 * measured on the way, scheduled over seeds, written out for the figures.
 * Leaves out: everything chapter 3 adds (convolutions, images, checkpoints).
 *
 * Dimension key (as ring.h): N batch, Z latent width, H hidden width,
 * P packing degree, M = N / P rows seen by D.
 */
#include "ring.h"

#include <math.h>
#include <string.h>

#include <omp.h>

#include "init.h"
#include "notebook.h"
#include "util.h"

/*md
## The model file: `ring.c`

Both networks are three `Linear` layers with ReLU between them, each layer
one node on the tape (`linear_fused`: the product and its bias together, the
same numbers as `t_matmul` then `t_add`, with one pass over memory fewer). The
parameter names are PyTorch's `state_dict` names (`G.fc1.weight`, ...,
`D.fc3.bias`), so the reference fixture written by
`tests/reference/gan_ring.py` loads by name and the test can prove this is
the same function PyTorch computes. G and D keep their parameters in two
`ParamSet`s, so each has its own Adam and a step of one never moves the other.
*/

/* ---- the model ------------------------------------------------------------ */
RingGan *ring_new(int zdim, int hidden, int pack) {
    if (zdim < 1 || hidden < 1 || pack < 1)
        fail(EXIT_SOFTWARE, "ring_new", "pass positive sizes",
             "zdim %d, hidden %d, pack %d", zdim, hidden, pack);
    RingGan *m = xcalloc(1, sizeof *m);
    *m = (RingGan){.zdim = zdim,
                   .hidden = hidden,
                   .pack = pack,
                   .g = params_new(),
                   .d = params_new()};
    m->g1 = linear_new(m->g, "G.fc1", zdim, hidden, 1);
    m->g2 = linear_new(m->g, "G.fc2", hidden, hidden, 1);
    m->g3 = linear_new(m->g, "G.fc3", hidden, 2, 1);
    m->d1 = linear_new(m->d, "D.fc1", 2 * pack, hidden, 1);
    m->d2 = linear_new(m->d, "D.fc2", hidden, hidden, 1);
    m->d3 = linear_new(m->d, "D.fc3", hidden, 1, 1);
    params_alloc(m->g);
    params_alloc(m->d);
    return m;
}

/* G's layers first, then D's, each weight before its bias. */
void ring_init(RingGan *m, Rng *r) {
    Linear *layers[6] = {&m->g1, &m->g2, &m->g3, &m->d1, &m->d2, &m->d3};
    for (int i = 0; i < 6; i++) linear_init_pytorch(layers[i], r);
}

void ring_free(RingGan *m) {
    if (!m) return;
    params_free(m->g);
    params_free(m->d);
    xfree(m);
}

/* z [N, Z] -> [N, 2] */
Tensor *ring_generator(Tape *T, const RingGan *m, Tensor *z) {
    Tensor *h = t_relu(T, linear_fused(T, &m->g1, z)); /* [N, H] */
    h = t_relu(T, linear_fused(T, &m->g2, h));         /* [N, H] */
    return linear_fused(T, &m->g3, h);                 /* [N, 2] */
}

/* x [N, 2] -> logits [M, 1]. Packing is only a reshape: P consecutive
 * points, row-major, become one row of 2P numbers. */
Tensor *ring_discriminator(Tape *T, const RingGan *m, Tensor *x) {
    int N = x->shape[0];
    if (x->ndim != 2 || x->shape[1] != 2 || N % m->pack)
        fail(EXIT_SOFTWARE, "ring_discriminator",
             "pass points [N, 2] with N a multiple of the packing degree",
             "got %d dims, %d rows, pack %d", x->ndim, N, m->pack);
    if (m->pack > 1)
        x = t_reshape(T, x, 2, SHAPE(N / m->pack, 2 * m->pack)); /* [M, 2P] */
    Tensor *h = t_relu(T, linear_fused(T, &m->d1, x));           /* [M, H] */
    h = t_relu(T, linear_fused(T, &m->d2, h));                   /* [M, H] */
    return linear_fused(T, &m->d3, h);                           /* [M, 1] */
}

/*md
### The losses

Everything is written with one op, `t_bce_with_logits(l, y)` =
mean over rows of $\mathrm{softplus}(l) - y\,l$, which never takes the log of
a rounded probability:

- $L_D = \mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)$, each a mean over the batch;
- non-saturating $L_G = \mathrm{BCE}(D(G(z)), 1) = -\overline{\log \sigma(l)}$;
- saturating $L_G = \overline{\log(1 - \sigma(l))} = -\mathrm{BCE}(D(G(z)), 0)$.
*/
Tensor *ring_loss_d(Tape *T, Tensor *d_real, Tensor *d_fake) {
    return t_add(T, t_bce_with_logits(T, d_real, const_column(T, d_real->shape[0], 1)),
                 t_bce_with_logits(T, d_fake, const_column(T, d_fake->shape[0], 0)));
}

Tensor *ring_loss_g(Tape *T, Tensor *d_fake, int saturating) {
    if (saturating)
        return t_neg(
            T, t_bce_with_logits(T, d_fake, const_column(T, d_fake->shape[0], 0)));
    return t_bce_with_logits(T, d_fake, const_column(T, d_fake->shape[0], 1));
}

/* ---- the data and the metrics ------------------------------------------------ */
void ring_centre(int k, double *cx, double *cy) {
    double a = k * (M_PI / 4);
    *cx = RING_RADIUS * cos(a);
    *cy = RING_RADIUS * sin(a);
}

/* x [n, 2], k [n] or NULL */
void ring_sample(Rng *r, real *x, int n, int *k) {
    for (int i = 0; i < n; i++) {
        int mode = rng_int(r, RING_MODES);
        double cx, cy;
        ring_centre(mode, &cx, &cy);
        double ex = rng_normal(r), ey = rng_normal(r);
        x[2 * i] = (real)(cx + RING_STD * ex);
        x[2 * i + 1] = (real)(cy + RING_STD * ey);
        if (k) k[i] = mode;
    }
}

/*md
### The metrics

On 2,500 samples (`RING_EVAL_N`): a sample is *high quality* if it lies
within $3\sigma = 0.06$ of its nearest centre, as VEEGAN (Srivastava et al.,
2017) and PacGAN (Lin et al., 2018) count it. A mode is *covered* if at
least 25 of the samples (`RING_MODE_MIN`, $1\,\%$ of the draw) are high
quality there. That mode rule is this course's own, stricter than those
papers', which count a mode as covered when at least one high-quality sample
is nearest to it: under theirs, a $G$ that leaves a stray point or two at a
centre it has otherwise abandoned would still be credited with that mode.
*/
/* x [n, 2] */
RingMetrics ring_metrics(const real *x, int n) {
    RingMetrics r = {0};
    int hq = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int k = 0; k < RING_MODES; k++) {
            double cx, cy;
            ring_centre(k, &cx, &cy);
            double d = hypot(x[2 * i] - cx, x[2 * i + 1] - cy);
            if (d < bd) bd = d, best = k;
        }
        if (bd <= RING_HQ_DIST) hq++, r.count[best]++;
    }
    for (int k = 0; k < RING_MODES; k++) r.modes += r.count[k] >= RING_MODE_MIN;
    r.hq = n ? 100.0 * hq / n : 0;
    return r;
}

/* ---- the trainer ------------------------------------------------------------------ */
RingConfig ring_config_default(void) {
    return (RingConfig){.zdim = 16,
                        .hidden = 128,
                        .pack = 1,
                        .batch = 256,
                        .saturating = 0,
                        .lr = 1e-3,
                        .beta1 = 0.5,
                        .beta2 = 0.999,
                        .eps = 1e-8,
                        .steps = 10000,
                        .anneal = 1};
}

RingTrainer *ring_trainer_new(const RingConfig *cfg, uint64_t seed) {
    if (cfg->pack < 1 || cfg->batch < 1 || cfg->batch % cfg->pack)
        fail(EXIT_SOFTWARE, "ring_trainer_new",
             "make the batch a positive multiple of the packing degree",
             "batch %d, pack %d", cfg->batch, cfg->pack);
    RingTrainer *t = xcalloc(1, sizeof *t);
    t->cfg = *cfg;
    t->seed = seed;
    Rng init;
    rng_stream(&init, seed, "ring/init");
    rng_stream(&t->data, seed, "ring/data");
    rng_stream(&t->noise, seed, "ring/noise");
    t->model = ring_new(cfg->zdim, cfg->hidden, cfg->pack);
    ring_init(t->model, &init);
    t->opt_g = adam_new(t->model->g, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps);
    t->opt_d = adam_new(t->model->d, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps);
    t->td = tape_new();
    t->tg = tape_new();
    return t;
}

/*md
### One training step

One D step, then one G step, on the same draw of $z$:

1. draw a batch $x$ of real points and a batch $z$, and run $G(z)$ on the
   G tape (it keeps the graph for step 2);
2. *detach*: copy the numbers of $G(z)$ onto the D tape as a plain input
   without a gradient, so $L_D$'s backward stops at D; step D's Adam;
3. run the (just updated) D on the G tape's $G(z)$, frozen (`params_freeze`:
   its weights take no gradient, which G's step would never apply), backward
   $L_G$ through D into G, step G's Adam: D is held fixed while G learns.

With `anneal` below 1 the learning rate of both falls linearly to 0 over the
last steps: at step $a_0$ = `anneal * steps` it is still `lr`, at the last
step `lr / (steps - a0)`.
*/
static void schedule(RingTrainer *t) {
    const RingConfig *c = &t->cfg;
    long a0 = (long)(c->anneal * (double)c->steps);
    if (c->anneal >= 1 || t->step < a0) return;
    long left = t->step < c->steps ? c->steps - t->step
                                   : 1; /* past the end: the last step's lr */
    double lr = c->lr * (double)left / (double)(c->steps - a0);
    optim_set_lr(t->opt_g, lr);
    optim_set_lr(t->opt_d, lr);
}

RingStepStats ring_trainer_step(RingTrainer *t) {
    const RingConfig *c = &t->cfg;
    RingGan *m = t->model;
    int N = c->batch;
    RingStepStats st;
    schedule(t);
    tape_reset(t->td);
    tape_reset(t->tg);
    /* 1. data and noise */
    Tensor *x = tape_input(t->td, 2, SHAPE(N, 2), 0); /* [N, 2] */
    ring_sample(&t->data, x->data, N, NULL);
    Tensor *z = tape_input(t->tg, 2, SHAPE(N, c->zdim), 0); /* [N, Z] */
    rng_fill_normal(&t->noise, z->data, z->size, 0, 1);
    Tensor *fake = ring_generator(t->tg, m, z); /* [N, 2] */
    /* 2. the D step, on a detached copy of G(z) */
    Tensor *fake_det = tape_input(t->td, 2, SHAPE(N, 2), 0); /* [N, 2] */
    memcpy(fake_det->data, fake->data, sizeof(real) * (size_t)fake->size);
    Tensor *d_real = ring_discriminator(t->td, m, x);        /* [M, 1] */
    Tensor *d_fake = ring_discriminator(t->td, m, fake_det); /* [M, 1] */
    Tensor *loss_d = ring_loss_d(t->td, d_real, d_fake);
    params_zero_grad(m->d);
    backward(t->td, loss_d);
    optim_step(t->opt_d);
    st.loss_d = loss_d->data[0];
    st.d_real = mean_sigmoid(d_real);
    st.d_fake = mean_sigmoid(d_fake);
    /* 3. the G step, through the updated D, frozen (its weight gradients
     * would go unread) */
    params_freeze(m->d, 1);
    Tensor *loss_g =
        ring_loss_g(t->tg, ring_discriminator(t->tg, m, fake), c->saturating);
    params_zero_grad(m->g);
    backward(t->tg, loss_g);
    params_freeze(m->d, 0);
    optim_step(t->opt_g);
    st.loss_g = loss_g->data[0];
    t->step++;
    return st;
}

RingEvalStats ring_trainer_eval(RingTrainer *t, real *samples) {
    Rng er;
    rng_stream(&er, t->seed, "ring/eval");
    real *x = samples ? samples : xmalloc(sizeof(real) * RING_EVAL_N * 2);
    ring_generate(t->model, &er, x, RING_EVAL_N);
    RingEvalStats e = ring_metrics(x, RING_EVAL_N);
    if (!samples) xfree(x);
    return e;
}

void ring_trainer_free(RingTrainer *t) {
    if (!t) return;
    optim_free(t->opt_g);
    optim_free(t->opt_d);
    tape_free(t->tg);
    tape_free(t->td);
    ring_free(t->model);
    xfree(t);
}

/* out [n, 2] */
void ring_generate(const RingGan *m, Rng *r, real *out, int n) {
    Tape *T = tape_new();
    for (int i = 0; i < n; i += 500) {
        int b = n - i < 500 ? n - i : 500;
        tape_reset(T);
        Tensor *z = tape_input(T, 2, SHAPE(b, m->zdim), 0);
        rng_fill_normal(r, z->data, z->size, 0, 1);
        Tensor *y = ring_generator(T, m, z);
        memcpy(out + 2L * i, y->data, sizeof(real) * (size_t)y->size);
    }
    tape_free(T);
}

/* x [n, 2] -> out [n] */
void ring_d_prob(const RingGan *m, const real *x, int n, real *out) {
    if (m->pack != 1)
        fail(EXIT_SOFTWARE, "ring_d_prob", "use an unpacked D (pack 1)", "pack is %d",
             m->pack);
    Tape *T = tape_new();
    Tensor *xt = tape_input(T, 2, SHAPE(n, 2), 0);
    memcpy(xt->data, x, sizeof(real) * 2 * (size_t)n);
    Tensor *p = t_sigmoid(T, ring_discriminator(T, m, xt));
    memcpy(out, p->data, sizeof(real) * (size_t)n);
    tape_free(T);
}

/* ---- runs ------------------------------------------------------------------------- */
static void snapshot(const RingTrainer *t, real *out) {
    Rng zr;
    rng_stream(
        &zr, t->seed,
        "ring/snapshot"); /* the same z at every snapshot: watch the same points move */
    ring_generate(t->model, &zr, out, RING_SNAP_N);
}

/* sigmoid(D) over the grid of [-3, 3]^2, row by row (y), then x. */
static void heat_map(const RingGan *m, real *heat) {
    const double lo = -3, hi = 3;
    real *pts = xmalloc(sizeof(real) * RING_GRID * RING_GRID * 2);
    for (int i = 0; i < RING_GRID; i++)
        for (int j = 0; j < RING_GRID; j++) {
            pts[2 * (i * RING_GRID + j)] = (real)(lo + (hi - lo) * j / (RING_GRID - 1));
            pts[2 * (i * RING_GRID + j) + 1] =
                (real)(lo + (hi - lo) * i / (RING_GRID - 1));
        }
    ring_d_prob(m, pts, RING_GRID * RING_GRID, heat);
    xfree(pts);
}

void ring_run(RingRun *r) {
    RingTrainer *t = ring_trainer_new(&r->cfg, r->seed);
    long steps = r->cfg.steps, every = steps / RING_CHECKS;
    int ns = 0;
    if (!r->eval) r->eval = xmalloc(sizeof(real) * RING_EVAL_N * 2);
    if (r->figures) {
        r->trace = xmalloc(sizeof(RingStepStats) * (size_t)steps);
        r->snap = xmalloc(sizeof(real) * RING_SNAPS * RING_SNAP_N * 2);
        const long at[RING_SNAPS] = {0, steps / 10, 2 * steps / 5, steps};
        memcpy(r->snap_step, at, sizeof at);
    }
    for (long s = 0; s < steps; s++) {
        if (r->figures && ns < RING_SNAPS && s == r->snap_step[ns])
            snapshot(t, r->snap + (size_t)ns++ * RING_SNAP_N * 2);
        RingStepStats st = ring_trainer_step(t);
        if (r->figures) r->trace[s] = st;
        r->last_loss_d = st.loss_d;
        if ((s + 1) % every == 0 && (s + 1) / every <= RING_CHECKS)
            r->check[(s + 1) / every - 1] = ring_trainer_eval(t, r->eval);
    }
    if (r->figures) {
        snapshot(t, r->snap + (size_t)(RING_SNAPS - 1) * RING_SNAP_N * 2);
        if (r->cfg.pack == 1) {
            r->heat = xmalloc(sizeof(real) * RING_GRID * RING_GRID);
            heat_map(t->model, r->heat);
            real c[2 * RING_MODES];
            for (int k = 0; k < RING_MODES; k++) {
                double cx, cy;
                ring_centre(k, &cx, &cy);
                c[2 * k] = (real)cx, c[2 * k + 1] = (real)cy;
            }
            ring_d_prob(t->model, c, RING_MODES, r->d_centre);
        }
    }
    r->final = r->check[RING_CHECKS - 1];
    ring_trainer_free(t);
}

RingStepStats ring_trace_mean(const RingRun *r, long from, long to) {
    RingStepStats m = {0};
    double n = (double)(to - from);
    for (long s = from; s < to; s++) {
        const RingStepStats *st = &r->trace[s];
        m.loss_d += st->loss_d / n, m.loss_g += st->loss_g / n,
            m.d_real += st->d_real / n, m.d_fake += st->d_fake / n;
    }
    return m;
}

void ring_run_free(RingRun *r) {
    xfree(r->eval);
    xfree(r->trace);
    xfree(r->snap);
    xfree(r->heat);
    r->eval = r->snap = r->heat = NULL;
    r->trace = NULL;
}

/*md
Runs are independent, so `ring_run_all` trains them two at a time, one per
core (`omp parallel for`); inside a parallel region the library's kernels run
on one thread, and since every op computes each number in a fixed order, a
run gives the same bits alone or beside another. The progress lines count
whole runs and are printed in run order (`ordered`), so the record never
depends on which core finished first.
*/
void ring_run_all(RingRun *runs, int n, const char *label) {
    Progress pr;
    progress_start(&pr, label, n);
    double t0 = now_seconds();
    long steps = 0;
#pragma omp parallel for ordered schedule(static, 1) reduction(+ : steps)
    for (int i = 0; i < n; i++) {
        ring_run(&runs[i]);
        steps += runs[i].cfg.steps;
#pragma omp ordered
        progress_update(&pr, i + 1,
                        runs[i].last_loss_d); /* the loss shown: its last L_D */
    }
    progress_end(&pr);
    double t = now_seconds() - t0;
    char name[96]; /* a time: terminal and timing.tsv only, never the record */
    snprintf(name, sizeof name, "%s, ms per iteration per thread", label);
    nb_timing(name, 1e3 * t * omp_get_max_threads() / (double)steps, "ms");
}

/* ---- figure data ---------------------------------------------------------------- */
void ring_write_points(const char *name, Rng *r, int n) {
    FILE *f = nb_open(name);
    fprintf(f, "# x\ty (real points of the ring)\n");
    real *pts = xmalloc(sizeof(real) * 2 * (size_t)n);
    ring_sample(r, pts, n, NULL);
    for (int i = 0; i < n; i++) fprintf(f, "%.5f\t%.5f\n", pts[2 * i], pts[2 * i + 1]);
    xfree(pts);
    fclose(f);
}

void ring_write_snapshots(const char *name, const char *steps_name, const RingRun *runs,
                          int n) {
    FILE *f = nb_open(name);
    fprintf(f, "# variant (0 non-saturating, 1 saturating)\tsnapshot\tstep\tx\ty\n");
    for (int v = 0; v < n; v++)
        for (int s = 0; s < RING_SNAPS; s++)
            for (int i = 0; i < RING_SNAP_N; i++) {
                const real *p = runs[v].snap + ((size_t)s * RING_SNAP_N + i) * 2;
                fprintf(f, "%d\t%d\t%ld\t%.5f\t%.5f\n", v, s, runs[v].snap_step[s],
                        p[0], p[1]);
            }
    fclose(f);
    f = nb_open(steps_name); /* the snapshot steps, for the panel titles */
    fprintf(f, "# snapshot\tstep\n");
    for (int s = 0; s < RING_SNAPS; s++)
        fprintf(f, "%d\t%ld\n", s, runs[0].snap_step[s]);
    fclose(f);
}

void ring_write_heat(const char *name, const RingRun *r) {
    const double lo = -3, hi = 3;
    FILE *f = nb_open(name);
    fprintf(f,
            "# x\ty\tsigmoid(D(x, y)) (gnuplot grid: a blank line after each row)\n");
    for (int i = 0; i < RING_GRID; i++) {
        for (int j = 0; j < RING_GRID; j++)
            fprintf(f, "%.4f\t%.4f\t%.5f\n", lo + (hi - lo) * j / (RING_GRID - 1),
                    lo + (hi - lo) * i / (RING_GRID - 1), r->heat[i * RING_GRID + j]);
        fprintf(f, "\n");
    }
    fclose(f);
}

void ring_write_curves(const char *name, const RingRun *runs, int n) {
    long S = runs[0].cfg.steps, W = S >= 200 ? S / 200 : 1;
    FILE *f = nb_open(name);
    fprintf(f,
            "# step\tns_LD\tns_LG\tns_Dx\tns_DGz\tsat_LD\tsat_LG\tsat_Dx\tsat_DGz "
            "(means over %ld steps; nats)\n",
            W);
    for (long s0 = 0; s0 + W <= S; s0 += W) {
        fprintf(f, "%ld", s0 + W);
        for (int v = 0; v < n; v++) {
            RingStepStats a = ring_trace_mean(&runs[v], s0, s0 + W);
            fprintf(f, "\t%.5f\t%.5f\t%.5f\t%.5f", a.loss_d, a.loss_g, a.d_real,
                    a.d_fake);
        }
        fprintf(f, "\n");
    }
    fclose(f);
}

void ring_write_finals(const char *name, const RingRun *runs, int nvariants, int per) {
    FILE *f = nb_open(name);
    fprintf(
        f,
        "# variant (0 non-saturating, 1 saturating, 2 PacGAN annealed)\trun\tx\ty\n");
    for (int v = 0; v < nvariants; v++)
        for (int s = 0; s < per; s++) {
            const RingRun *r = &runs[v * per + s];
            for (int i = 0; i < RING_SNAP_N; i++)
                fprintf(f, "%d\t%d\t%.5f\t%.5f\n", v, s, r->eval[2 * i],
                        r->eval[2 * i + 1]);
        }
    fclose(f);
}

/* ---- reports: tables for a cell's output, values for the prose ---------------- */
void ring_record(const char *variant, const char *what, double x) {
    char name[160];
    snprintf(name, sizeof name, "%s, %s", variant, what);
    nb_value(name, x, "");
}

void ring_print_head(void) {
    nb_printf("%-17s %5s %6s %8s   %s\n", "variant", "run", "modes", "HQ %",
              "high-quality samples per centre k=0..7");
}

void ring_print_row(const char *variant, int run, const RingEvalStats *m) {
    nb_printf("%-17s %5d %6d %8.1f   ", variant, run, m->modes, m->hq);
    for (int k = 0; k < RING_MODES; k++) nb_printf("%5d", m->count[k]);
    nb_printf("\n");
}

void ring_print_table(const char *variant, const RingRun *runs, int n, int record) {
    double modes = 0, hq = 0, lo = 1e9, hi = -1;
    int full = 0;
    for (int s = 0; s < n; s++) {
        const RingEvalStats *m = &runs[s].final;
        ring_print_row(variant, s, m);
        modes += m->modes, hq += m->hq, full += m->modes == RING_MODES;
        lo = fmin(lo, m->hq), hi = fmax(hi, m->hq);
    }
    nb_printf("%-17s  mean %6.1f %8.1f   (8 of 8 modes in %d of %d runs; high quality "
              "%.1f to %.1f %%)\n",
              "", modes / n, hq / n, full, n, lo, hi);
    if (!record) return;
    char name[160];
    snprintf(name, sizeof name, "%s, mean modes over %d seeds", variant, n);
    nb_metric(name, modes / n, "of 8");
    snprintf(name, sizeof name, "%s, mean high-quality over %d seeds", variant, n);
    nb_metric(name, hq / n, "%");
    ring_record(variant, "runs with 8 modes", full);
    ring_record(variant, "lowest high-quality", lo);
    ring_record(variant, "highest high-quality", hi);
}

void ring_print_checks(const char *variant, const RingRun *runs, int n) {
    long every = runs[0].cfg.steps / RING_CHECKS;
    nb_printf("%-17s %5s", "variant", "run");
    for (int c = 0; c < RING_CHECKS; c++) nb_printf("   step %6ld", (c + 1) * every);
    nb_printf("   (high-quality %%, modes)\n");
    for (int s = 0; s < n; s++) {
        nb_printf("%-17s %5d", variant, s);
        for (int c = 0; c < RING_CHECKS; c++)
            nb_printf("   %6.1f %%, %d", runs[s].check[c].hq, runs[s].check[c].modes);
        nb_printf("\n");
    }
}

static int run_shows(const RingRun *r, RingPattern p) {
    int full = 0;
    for (int c = 0; c < RING_CHECKS; c++) full += r->check[c].modes == RING_MODES;
    if (p == RING_NEVER_FULL) return full == 0;
    if (p == RING_LOST_MODES) return full > 0 && r->final.modes < RING_MODES;
    return full > 0 && full < RING_CHECKS; /* RING_REFILLED */
}

void ring_record_runs(const char *variant, const RingRun *runs, int n, RingPattern p,
                      const char *what) {
    char text[512] = "", name[160];
    int len = 0, shown = 0;
    long every = runs[0].cfg.steps / RING_CHECKS;
    for (int s = 0; s < n; s++) {
        const RingRun *r = &runs[s];
        if (!run_shows(r, p)) continue;
        len += snprintf(text + len, sizeof text - (size_t)len, "%srun %d (modes",
                        shown++ ? "; " : "", s);
        for (int c = 0; c < RING_CHECKS; c++)
            len += snprintf(text + len, sizeof text - (size_t)len, "%s%d",
                            c ? ", " : " ", r->check[c].modes);
        len += snprintf(text + len, sizeof text - (size_t)len, " at steps %ld to %ld)",
                        every, every * RING_CHECKS);
    }
    snprintf(name, sizeof name, "%s, %s", variant, what);
    nb_text(name, "%s", shown ? text : "none");
}
