/* test_gpt.c - the GPT of chapters 5 and 6 (chapters/05-gpt-cross-entropy/gpt.c).
 *
 * Proves:
 *   - backward is right: the full loss's gradient w.r.t. every parameter
 *     tensor matches central differences (double, h = 1e-5, bound 1e-6),
 *     for the forward built from small ops and for the fused one;
 *   - forward is the intended model: logits, loss, every gradient (both
 *     forms) and the losses and gradient norms of 5 AdamW steps (warm-up,
 *     clipping, decay on 2-D weights) match the PyTorch fixture
 *     tests/reference/gpt.txt;
 *   - the fused forward (GPT_FUSED) gives the composed one's numbers bit
 *     for bit: logits, loss and every gradient, at a batch large enough
 *     that t_linear's backward works in several blocks of rows;
 *   - sampling with the key/value cache gives the same logits and the same
 *     bytes as recomputing the whole window every step;
 *   - the trainer (gpt_trainer_step_on, the step every chapter and the bench
 *     run) reproduces PyTorch's 5 AdamW steps, and allocates nothing after
 *     its first step;
 *   - a loss or an evaluation changes nothing in the model;
 *   - the objective cell's categorical gradient is p - y;
 *   - bad input is a clear error, not a crash: a missing or foreign
 *     checkpoint, a checkpoint whose sizes are out of bounds or larger than
 *     the file, a split shorter than one window, a prompt with a byte the
 *     vocabulary lacks.
 * Tolerance of the reference check: 1e-8, relative to the largest entry of
 * each tensor. The fixture is float64 and this is the double build, so the
 * only differences are summation orders (~1e-15 relative per op, ~1e-13
 * after a few dozen ops and 5 optimizer steps); a wrong layout, a missing
 * bias or a misplaced scale is off by 1e-3 or more (see the README's
 * sensitivities: no clipping alone moves the AdamW losses by 1.4e-6).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpt.h"

#include "catch_fail.h"
#include "check_util.h"
#include "checkpoint.h"
#include "data.h"
#include "fixture.h"
#include "fixture_params.h"
#include "optim.h"
#include "util.h"

#define REF_TOL 1e-8

/* ---- helpers ------------------------------------------------------------ */

/* a [want->size] against the fixture's tensor, within REF_TOL (see above). */
static void expect_ref(const char *what, const real *a, const FixTensor *want) {
    expect_fixture_close(what, a, want->size, want, REF_TOL);
}

/* The fixture's model (V 11, ctx 8, L 2, H 2, C 16, weights copied by name)
 * and its batch of 2 x 8 token ids and targets. */
typedef struct {
    Fixture *f;
    Gpt *g;
    int idx[16], tgt[16];
} GptFixture;

static void ids_of(const FixTensor *t, int *out) {
    for (long i = 0; i < t->size; i++) out[i] = (int)t->data[i];
}

static GptFixture gpt_fixture_open(void) {
    GptFixture x;
    x.f = fixture_load(FIXTURE_DIR "/gpt.txt");
    x.g = gpt_new((GptConfig){.V = 11, .ctx = 8, .L = 2, .H = 2, .C = 16});
    params_from_fixture(x.g->ps, x.f, copy_fixture);
    ids_of(fixture_get(x.f, "idx"), x.idx);
    ids_of(fixture_get(x.f, "targets"), x.tgt);
    return x;
}

static void gpt_fixture_close(GptFixture *x) {
    gpt_free(x->g);
    fixture_free(x->f);
}

/* The trainer with the reference settings (the fixture's schedule: AdamW
 * 1e-3, 0.9/0.99, wd 0.1, warm-up over 100 steps, clip 1) at the fixture's
 * batch of 2 windows. */
static GptTrainer *fixture_trainer(GptFixture *x) {
    GptTrainConfig tc = gpt_train_config_default();
    tc.batch = 2;
    return gpt_trainer_new(x->g, &tc, 0);
}

/* ---- gradient check ------------------------------------------------------ */

Test(gpt, loss_gradient_matches_central_differences_for_every_parameter) {
    /* tiny: 2 layers, width 16, 2 heads, context 8, vocabulary 7, batch 2.
     * Weights larger than the training init (N(0, 0.3), biases N(0, 0.1),
     * gains 1 + N(0, 0.1)) so that every path carries an O(1e-2) gradient. */
    enum { B = 2, TT = 8 };
    Gpt *g = gpt_new((GptConfig){.V = 7, .ctx = TT, .L = 2, .H = 2, .C = 16});
    Rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < g->ps->n; i++) {
        Tensor *t = g->ps->t[i];
        int is_ln = strstr(t->name, "ln_") != NULL;
        double mean = is_ln && strstr(t->name, "weight") ? 1 : 0;
        rng_fill_normal(&r, t->data, t->size, mean, t->ndim == 2 ? 0.3 : 0.1);
    }
    int idx[B * TT], tgt[B * TT];
    for (int i = 0; i < B * TT; i++) idx[i] = rng_int(&r, 7), tgt[i] = rng_int(&r, 7);
    Tape *T = tape_new();
    for (int ops = GPT_FUSED; ops <= GPT_COMPOSED; ops++) {
        tape_reset(T);
        Tensor *loss = gpt_loss(T, g, idx, tgt, B, TT, (GptOps)ops, NULL);
        GradCheck c = gradcheck(T, loss, g->ps->t, g->ps->n, GC_H, 24);
        cr_assert(c.checked >= 24 * 10, "only %ld entries checked", c.checked);
        expect_params_gradcheck(&c, g->ps, ops == GPT_FUSED ? "fused: loss w.r.t. every parameter"
                                                            : "composed: loss w.r.t. every parameter");
    }
    tape_free(T);
    gpt_free(g);
}

/* The two forms of the forward pass compute every number by the same
 * expression in the same order (gpt.c, ops_attention.c, t_linear): equal
 * bits, not merely close. B T = 40 x 16 = 640 rows, more than t_linear's
 * backward forms at once (LINEAR_ROWS = 512), so its blocking is covered. */
Test(gpt, fused_and_composed_forward_give_the_same_bits_forward_and_backward) {
    enum { B = 40, TT = 16 };
    Gpt *g = gpt_new((GptConfig){.V = 9, .ctx = TT, .L = 2, .H = 2, .C = 16});
    Rng r;
    rng_seed(&r, 6);
    for (int i = 0; i < g->ps->n; i++) rng_fill_normal(&r, g->ps->t[i]->data, g->ps->t[i]->size, 0, 0.3);
    int idx[B * TT], tgt[B * TT];
    for (int i = 0; i < B * TT; i++) idx[i] = rng_int(&r, 9), tgt[i] = rng_int(&r, 9);
    real *logits[2], *grad[2];
    double loss[2];
    Tape *T = tape_new();
    for (int ops = GPT_FUSED; ops <= GPT_COMPOSED; ops++) {
        tape_reset(T);
        Tensor *lg, *l = gpt_loss(T, g, idx, tgt, B, TT, (GptOps)ops, &lg);
        params_zero_grad(g->ps);
        backward(T, l);
        loss[ops] = l->data[0];
        logits[ops] = xmalloc((size_t)lg->size * sizeof(real));
        memcpy(logits[ops], lg->data, (size_t)lg->size * sizeof(real));
        grad[ops] = xmalloc((size_t)g->ps->size * sizeof(real));
        memcpy(grad[ops], g->ps->grad, (size_t)g->ps->size * sizeof(real));
    }
    cr_assert(memcmp(logits[0], logits[1], (size_t)B * TT * 9 * sizeof(real)) == 0, "the logits differ");
    cr_assert(loss[0] == loss[1], "losses %.17g (fused) and %.17g (composed)", loss[0], loss[1]);
    for (int i = 0; i < g->ps->n; i++) {
        const Tensor *t = g->ps->t[i];
        long o = t->grad - g->ps->grad;
        cr_assert(memcmp(grad[0] + o, grad[1] + o, (size_t)t->size * sizeof(real)) == 0,
                  "the gradients of %s differ", t->name);
    }
    for (int k = 0; k < 2; k++) xfree(logits[k]), xfree(grad[k]);
    tape_free(T);
    gpt_free(g);
}

/* ---- reference check -------------------------------------------------------- */

Test(gpt, logits_loss_and_every_gradient_match_pytorch) {
    GptFixture x = gpt_fixture_open();
    Tape *T = tape_new();
    for (int ops = GPT_FUSED; ops <= GPT_COMPOSED; ops++) {
        tape_reset(T);
        Tensor *logits;
        Tensor *loss = gpt_loss(T, x.g, x.idx, x.tgt, 2, 8, (GptOps)ops, &logits);
        expect_ref("logits", logits->data, fixture_get(x.f, "logits"));
        expect_ref("loss", loss->data, fixture_get(x.f, "loss"));
        params_zero_grad(x.g->ps);
        backward(T, loss);
        expect_grads_match_fixture(x.f, x.g->ps, "grad.", REF_TOL);
    }
    tape_free(T);
    gpt_fixture_close(&x);
}

Test(gpt, five_trainer_steps_match_pytorch_adamw_losses_and_grad_norms) {
    GptFixture x = gpt_fixture_open();
    GptTrainer *t = fixture_trainer(&x);
    real losses[5], norms[5];
    for (int k = 0; k < 5; k++) {
        GptStepStats st = gpt_trainer_step_on(t, x.idx, x.tgt);
        cr_assert_eq(st.step, k + 1, "step %ld reported as the %dth", st.step, k + 1);
        cr_assert(fabs(st.lr - 1e-3 * (k + 1) / 100) < 1e-18, "step %d used lr %g, want the warm-up's %g", k + 1,
                  st.lr, 1e-3 * (k + 1) / 100);
        losses[k] = (real)st.loss, norms[k] = (real)st.grad_norm;
    }
    expect_ref("adamw_losses", losses, fixture_get(x.f, "adamw_losses"));
    expect_ref("grad_norm", norms, fixture_get(x.f, "grad_norm"));
    gpt_trainer_free(t);
    gpt_fixture_close(&x);
}

Test(gpt, a_trainer_step_allocates_nothing_after_the_first) {
    GptFixture x = gpt_fixture_open();
    GptTrainer *t = fixture_trainer(&x);
    int tok[40];
    for (int i = 0; i < 40; i++) tok[i] = x.idx[i % 16];
    long after_first = 0;
    size_t bytes_first = 0;
    for (int k = 0; k < 4; k++) {
        gpt_trainer_step(t, (GptTokens){tok, 40});
        if (k == 0) after_first = alloc_count(), bytes_first = tape_bytes(t->tape);
    }
    cr_assert_eq(alloc_count(), after_first, "steps 2-4 made %ld allocations", alloc_count() - after_first);
    cr_assert_eq(tape_bytes(t->tape), bytes_first, "the arena grew after step 1");
    gpt_trainer_free(t);
    gpt_fixture_close(&x);
}

/* Two trainers with the fixture's settings and seed 3, on the fixture's
 * model (a) and a copy of it (b), and a toy corpus of 400 ids. */
typedef struct {
    GptFixture x;
    Gpt *g2;
    GptTrainConfig tc;
    GptTrainer *a, *b;
    int tok[400];
    GptTokens s;
} Twins;

static void twins_open(Twins *w) {
    w->x = gpt_fixture_open();
    w->g2 = gpt_copy(w->x.g);
    w->tc = gpt_train_config_default();
    w->tc.batch = 2;
    w->a = gpt_trainer_new(w->x.g, &w->tc, 3), w->b = gpt_trainer_new(w->g2, &w->tc, 3);
    for (int i = 0; i < 400; i++) w->tok[i] = (i * 7) % 11;
    w->s = (GptTokens){w->tok, 400};
}

static void twins_close(Twins *w) {
    gpt_trainer_free(w->a);
    gpt_trainer_free(w->b);
    gpt_free(w->g2);
    gpt_fixture_close(&w->x);
}

Test(gpt, trainers_with_one_seed_and_stream_draw_the_same_windows_and_another_stream_others) {
    /* chapter 6 trains its fine-tuned and from-scratch models on the same
     * batches by giving both trainers the same seed and stream name */
    Twins w;
    twins_open(&w);
    w.tc.windows = "another purpose";
    GptTrainer *c = gpt_trainer_new(w.g2, &w.tc, 3);
    gpt_trainer_step(w.a, w.s), gpt_trainer_step(w.b, w.s), gpt_trainer_step(c, w.s);
    size_t n = 2 * 8 * sizeof(int);
    cr_assert(memcmp(w.a->x, w.b->x, n) == 0, "same seed and stream, different windows");
    cr_assert(memcmp(w.a->x, c->x, n) != 0, "another stream drew the same windows");
    gpt_trainer_free(c);
    twins_close(&w);
}

/* gpt_trainer_run's hook: records the steps it was called at. */
typedef struct {
    int n, at[8];
} RunLog;
static void log_step(void *log, int s) {
    RunLog *l = log;
    if (l->n < 8) l->at[l->n] = s;
    l->n++;
}

Test(gpt, a_run_evaluates_at_every_kth_step_and_after_the_last_and_steps_as_the_trainer_does) {
    Twins w;
    twins_open(&w);
    RunLog log = {0};
    gpt_trainer_run(w.a, w.s, 5, 2, log_step, &log, NULL);
    for (int i = 0; i < 5; i++) gpt_trainer_step(w.b, w.s);
    cr_assert(log.n == 4 && log.at[0] == 0 && log.at[1] == 2 && log.at[2] == 4 && log.at[3] == 5,
              "the hook ran %d times (at %d, %d, %d, %d), want 4: at steps 0, 2, 4 and 5", log.n, log.at[0],
              log.at[1], log.at[2], log.at[3]);
    cr_assert(w.a->steps == 5, "%ld steps taken, want 5", w.a->steps);
    cr_assert(memcmp(w.x.g->ps->data, w.g2->ps->data, (size_t)w.g2->ps->size * sizeof(real)) == 0,
              "5 steps of a run differ from 5 trainer steps");
    twins_close(&w);
}

Test(gpt, the_learning_rate_warms_up_linearly_then_holds) {
    /* chapter 6's fine-tuning leans on it: step s (from 1) uses lr min(1, s / warmup) */
    GptFixture x = gpt_fixture_open();
    GptTrainConfig tc = gpt_train_config_default();
    tc.batch = 1, tc.lr = 1e-3, tc.warmup = 4;
    GptTrainer *t = gpt_trainer_new(x.g, &tc, 3);
    int tok[400];
    for (int i = 0; i < 400; i++) tok[i] = (i * 7) % 11;
    GptTokens s = {tok, 400};
    const double want[6] = {2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3};
    for (int k = 0; k < 6; k++) {
        double lr = gpt_trainer_step(t, s).lr;
        cr_assert(fabs(lr - want[k]) <= 1e-15, "step %d used lr %g, not %g", k + 1, lr, want[k]);
    }
    gpt_trainer_free(t);
    gpt_fixture_close(&x);
}

Test(gpt, a_loss_and_an_evaluation_change_nothing_in_the_model) {
    /* gpt_forward once kept a position buffer in the model and grew it at
     * the largest batch seen: computing a loss changed the model */
    GptFixture x = gpt_fixture_open();
    Gpt before = *x.g;
    real *params = xmalloc((size_t)x.g->ps->size * sizeof(real));
    memcpy(params, x.g->ps->data, (size_t)x.g->ps->size * sizeof(real));
    Tape *T = tape_new();
    gpt_loss(T, x.g, x.idx, x.tgt, 2, 8, GPT_FUSED, NULL);
    gpt_loss(T, x.g, x.idx, x.tgt, 1, 8, GPT_COMPOSED, NULL);
    int tok[64];
    for (int i = 0; i < 64; i++) tok[i] = i % 11;
    gpt_evaluate(x.g, (GptTokens){tok, 64}, 3, 2);
    cr_assert(memcmp(&before, x.g, sizeof before) == 0, "the Gpt struct changed while computing a loss");
    cr_assert(memcmp(params, x.g->ps->data, (size_t)x.g->ps->size * sizeof(real)) == 0, "a parameter changed");
    tape_free(T);
    xfree(params);
    gpt_fixture_close(&x);
}

/* ---- the objective cell ---------------------------------------------------- */

Test(gpt, the_objective_cells_categorical_gradient_is_p_minus_y) {
    /* chapter 5's two cases (p_0 = 1/2 each) and an arbitrary one; the
     * gradient comes from the tape, p - y from softmax: equal to rounding
     * (double build: 1e-12 is a million times the rounding) */
    real cases[3][5] = {{(real)log(4.0), 0, 0, 0, 0}, {0, 0, -30, -30, -30}, {0.3, -1.2, 2.0, 0.1, -0.4}};
    int target[3] = {0, 0, 3};
    for (int c = 0; c < 3; c++) {
        GptObjective o = gpt_objective(cases[c], 5, target[c]);
        double worst = 0;
        for (int i = 0; i < 5; i++) worst = fmax(worst, fabs(o.d_categorical[i] - (o.p[i] - (i == target[c]))));
        cr_assert(worst <= 1e-12, "case %d: dL/dz differs from p - y by %.3e", c, worst);
        cr_assert(fabs(o.categorical + log(o.p[target[c]])) <= 1e-12, "case %d: loss %.6f is not -log p", c,
                  o.categorical);
    }
    GptObjective a = gpt_objective(cases[0], 5, 0), b = gpt_objective(cases[1], 5, 0);
    cr_assert(fabs(a.p[0] - 0.5) < 1e-12 && fabs(b.p[0] - 0.5) < 1e-12, "p_0 is %.6f and %.6f, not 1/2",
              (double)a.p[0], (double)b.p[0]);
    cr_assert(fabs(a.categorical - b.categorical) < 1e-12, "same p_0, categorical %.6f vs %.6f", a.categorical,
              b.categorical);
    cr_assert(fabs(a.binary - b.binary) > 0.1, "the binary form does not tell them apart: %.6f vs %.6f", a.binary,
              b.binary);
}

/* ---- the key/value cache ------------------------------------------------------ */

Test(gpt, kv_cache_logits_match_the_full_forward_at_every_position) {
    GptFixture x = gpt_fixture_open();
    Tape *T = tape_new();
    Tensor *logits = gpt_forward(T, x.g, x.idx, 1, 8, GPT_FUSED, NULL); /* [1, 8, 11] */
    GptCache *c = gpt_cache_new(x.g);
    double worst = 0;
    int at = 0;
    for (int t = 0; t < 8; t++) {
        const real *l = gpt_cache_step(c, x.idx[t]);
        for (int v = 0; v < 11; v++) {
            double d = fabs((double)l[v] - (double)logits->data[t * 11 + v]);
            if (d > worst) worst = d, at = t;
        }
    }
    /* the same arithmetic in a different order: ~1e-15; 1e-10 leaves room */
    cr_assert(worst <= 1e-10, "cached logits differ by %.3e at position %d", worst, at);
    gpt_cache_free(c);
    tape_free(T);
    gpt_fixture_close(&x);
}

Test(gpt, sampling_with_the_kv_cache_gives_the_same_bytes_as_full_recompute) {
    /* 60 new tokens with context 8: the window slides (and the cache is
     * refilled) many times. Both generators draw one uniform per token from
     * the same seed, so equal logits give equal tokens. */
    GptFixture x = gpt_fixture_open();
    Gpt *g = x.g;
    int prompt[3] = {1, 4, 2};
    struct { double temp; int top_k; } modes[] = {{1.0, 0}, {0.7, 4}, {1.5, 1}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        int a[60], b[60];
        Rng r1, r2;
        rng_seed(&r1, 11 + m);
        rng_seed(&r2, 11 + m);
        gpt_generate(g, prompt, 3, a, 60, modes[m].temp, modes[m].top_k, &r1);
        gpt_generate_nocache(g, prompt, 3, b, 60, modes[m].temp, modes[m].top_k, &r2);
        int distinct = 0, seen[11] = {0};
        for (int i = 0; i < 60; i++) {
            cr_assert_eq(a[i], b[i], "temperature %g, top-k %d: token %d is %d with the cache, %d without",
                         modes[m].temp, modes[m].top_k, i, a[i], b[i]);
            distinct += !seen[a[i]]++;
        }
        if (modes[m].top_k != 1) cr_assert(distinct >= 3, "degenerate sample: %d distinct tokens", distinct);
    }
    /* a prompt longer than the context starts from its last ctx/2 tokens */
    int longp[20], a[10], b[10];
    for (int i = 0; i < 20; i++) longp[i] = i % 11;
    Rng r1, r2;
    rng_seed(&r1, 3);
    rng_seed(&r2, 3);
    gpt_generate(g, longp, 20, a, 10, 1.0, 0, &r1);
    gpt_generate_nocache(g, longp, 20, b, 10, 1.0, 0, &r2);
    cr_assert(memcmp(a, b, sizeof a) == 0, "long prompt: cached and recomputed samples differ");
    gpt_fixture_close(&x);
}

Test(gpt, top_k_keeps_the_k_largest_logits_and_a_low_temperature_sharpens) {
    real logits[5] = {0.1, 2.0, -1.0, 1.9, 0.0};
    Rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < 100; i++) cr_assert_eq(gpt_sample_logits(logits, 5, 1.0, 1, &r), 1, "top-1 is not argmax");
    int count[5] = {0};
    for (int i = 0; i < 2000; i++) count[gpt_sample_logits(logits, 5, 1.0, 2, &r)]++;
    cr_assert(count[0] == 0 && count[2] == 0 && count[4] == 0, "top-2 drew a token outside the top 2");
    /* p(1) / p(3) = e^(0.1 / T): at T = 1 about 1.105, so ~1050 vs ~950 */
    cr_assert(count[1] > 900 && count[3] > 800, "top-2 counts %d, %d far from 1050, 950", count[1], count[3]);
    /* at T = 0.1 the ratio is e^1 = 2.72: ~1462 vs ~538 of 2000 */
    int sharp[5] = {0};
    for (int i = 0; i < 2000; i++) sharp[gpt_sample_logits(logits, 5, 0.1, 2, &r)]++;
    cr_assert(sharp[1] > 1350 && sharp[3] < 650, "T = 0.1 counts %d, %d far from 1462, 538", sharp[1], sharp[3]);
}

/* ---- bad input ------------------------------------------------------------- */

Test(gpt, a_missing_checkpoint_names_the_file_and_the_command_that_makes_it) {
    GptVocab vocab;
    EXPECT_FAIL(gpt_load("build/no-such-dir/gpt.ckpt", &vocab, "run `make run-05` first"), EXIT_NOINPUT,
                "build/no-such-dir/gpt.ckpt", "make run-05");
}

Test(gpt, a_checkpoint_of_another_model_is_refused_by_its_meta_line) {
    make_dirs("build/test-tmp");
    ParamSet *ps = params_new();
    params_add(ps, "fc1.weight", 2, SHAPE(2, 2));
    params_alloc(ps);
    checkpoint_save("build/test-tmp/not-gpt.ckpt", ps, "vae D=784");
    params_free(ps);
    GptVocab vocab;
    EXPECT_FAIL(gpt_load("build/test-tmp/not-gpt.ckpt", &vocab, "run `make run-05`"), EXIT_DATA, "not a GPT",
                "make run-05");
}

Test(gpt, a_checkpoint_round_trip_gives_the_same_model_and_vocabulary) {
    GptFixture x = gpt_fixture_open();
    Gpt *g = x.g;
    static const unsigned char text[] = "\n !abcde\xa9\xc3~ab";
    GptVocab vocab = gpt_vocab_of(text, sizeof text - 1), back;
    cr_assert_eq(vocab.V, 11, "the text has 11 distinct bytes, the vocabulary %d", vocab.V);
    make_dirs("build/test-tmp");
    gpt_save("build/test-tmp/gpt.ckpt", g, &vocab);
    Gpt *h = gpt_load("build/test-tmp/gpt.ckpt", &back, "");
    cr_assert(memcmp(&h->cfg, &g->cfg, sizeof g->cfg) == 0, "config changed in the round trip");
    cr_assert(memcmp(&back, &vocab, sizeof vocab) == 0, "vocabulary changed in the round trip");
    cr_assert(memcmp(h->ps->data, g->ps->data, (size_t)g->ps->size * sizeof(real)) == 0, "weights changed");
    gpt_free(h);
    gpt_fixture_close(&x);
}

Test(gpt, a_missing_corpus_names_the_directory_and_what_to_install) {
    /* chapter 5 loads every file but songs-poems, chapter 6 songs-poems alone */
    static const char *const not_poems[] = {"songs-poems", NULL};
    EXPECT_FAIL(corpus_load("build/no-such-fortunes", not_poems, NULL), EXIT_NOINPUT, "build/no-such-fortunes",
                "fortunes");
    make_dirs("build/test-tmp/empty-fortunes");
    EXPECT_FAIL(corpus_load("build/test-tmp/empty-fortunes", NULL, "songs-poems"), EXIT_NOINPUT, "songs-poems",
                "hint:");
}

/* ---- sizes read from a file, and data too small (issue 14) -------------------- */

Test(gpt, a_config_line_with_sizes_out_of_bounds_is_refused) {
    /* 3 C overflowed int at C = 8e8; ctx or L = 2e9 asked for terabytes */
    static const char *const bad[] = {
        "gpt V=3 ctx=8 L=1 H=1 C=800000000", "gpt V=3 ctx=2000000000 L=1 H=1 C=8",
        "gpt V=3 ctx=8 L=2000000000 H=1 C=8", "gpt V=3 ctx=8 L=1 H=1 C=99999999999",
        "gpt V=300 ctx=8 L=1 H=1 C=8",       "gpt V=3 ctx=8 L=1 H=3 C=8",
        "gpt V=3 ctx=8 L=1024 H=1 C=16384",  "gpt V=3 ctx=-8 L=1 H=1 C=8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        GptConfig c;
        char why[160];
        cr_assert_eq(gpt_config_parse(bad[i], &c, why, sizeof why), 0, "\"%s\" was accepted", bad[i]);
    }
    GptConfig c;
    char why[160];
    cr_assert(gpt_config_parse("gpt V=114 ctx=64 L=4 H=4 C=128 vocab=..", &c, why, sizeof why),
              "the reference config was refused: %s", why);
    cr_assert_eq(gpt_config_params(&c), 816128, "the reference has %lld parameters, want 816128",
                 (long long)gpt_config_params(&c));
}

/* A small valid checkpoint (one tensor) whose meta line claims a GPT. */
static void save_lying_checkpoint(const char *path, const char *meta) {
    make_dirs("build/test-tmp");
    ParamSet *ps = params_new();
    params_add(ps, "wte.weight", 2, SHAPE(3, 8));
    params_alloc(ps);
    checkpoint_save(path, ps, meta);
    params_free(ps);
}

Test(gpt, a_checkpoint_promising_more_numbers_than_it_holds_is_refused_at_once, .timeout = 20) {
    /* L = 20,000 in a file of a few hundred bytes: building that model took
     * minutes (and its checkpoint_load then failed anyway) */
    save_lying_checkpoint("build/test-tmp/lying.ckpt", "gpt V=3 ctx=4 L=20000 H=1 C=8 vocab=0a2061");
    GptVocab vocab;
    EXPECT_FAIL(gpt_load("build/test-tmp/lying.ckpt", &vocab, "run `make run-05`"), EXIT_DATA, "lying.ckpt",
                "cannot hold");
    save_lying_checkpoint("build/test-tmp/huge.ckpt", "gpt V=3 ctx=2000000000 L=1 H=1 C=8 vocab=0a2061");
    EXPECT_FAIL(gpt_load("build/test-tmp/huge.ckpt", &vocab, "run `make run-05`"), EXIT_DATA, "huge.ckpt",
                "ctx = 2000000000");
    save_lying_checkpoint("build/test-tmp/unsorted.ckpt", "gpt V=3 ctx=4 L=1 H=1 C=8 vocab=0a6120");
    EXPECT_FAIL(gpt_load("build/test-tmp/unsorted.ckpt", &vocab, "run `make run-05`"), EXIT_DATA, "vocabulary");
}

Test(gpt, a_split_shorter_than_one_window_is_a_data_error) {
    /* ctx 8 needs 9 tokens; with 8 the window span was negative and the
     * windows were read before and past the array */
    GptFixture x = gpt_fixture_open();
    GptTrainer *t = fixture_trainer(&x);
    int tok[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    EXPECT_FAIL(gpt_trainer_step(t, (GptTokens){tok, 8}), EXIT_DATA, "8 tokens", "9 tokens");
    EXPECT_FAIL(gpt_trainer_eval(t, (GptTokens){tok, 8}, 1), EXIT_DATA, "8 tokens");
    EXPECT_FAIL(gpt_evaluate(x.g, (GptTokens){tok, 3}, 2, 1), EXIT_DATA, "3 tokens");
    CATCH_FAIL(gpt_trainer_step(t, (GptTokens){tok, 9}));
    cr_assert(!caught_failed, "exactly one window was refused: %s", caught_msg);
    gpt_trainer_free(t);
    gpt_fixture_close(&x);
}

Test(gpt, a_prompt_byte_missing_from_the_vocabulary_is_a_data_error) {
    /* it was skipped, and an all-missing prompt reached gpt_generate as an
     * empty one: "internal error" (exit 70) */
    static const unsigned char text[] = "abc abc";
    GptVocab v = gpt_vocab_of(text, sizeof text - 1);
    int ids[8];
    EXPECT_FAIL(gpt_vocab_prompt(&v, "%\n", ids, 8), EXIT_DATA, "0x25", "vocabulary");
    EXPECT_FAIL(gpt_vocab_prompt(&v, "cab d", ids, 8), EXIT_DATA, "0x64");
    cr_assert_eq(gpt_vocab_prompt(&v, "cab a", ids, 3), 3, "a prompt is cut at max");
    /* ids: ' ' 0, a 1, b 2, c 3 */
    cr_assert(ids[0] == 3 && ids[1] == 1 && ids[2] == 2, "cab -> 3 1 2, got %d %d %d", ids[0], ids[1], ids[2]);
}
