/* test_gpt.c - the GPT of chapters 5 and 6 (chapters/05-gpt-cross-entropy/gpt.c).
 *
 * Proves:
 *   - backward is right: the full loss's gradient w.r.t. every parameter
 *     tensor matches central differences (double, h = 1e-5, bound 1e-6);
 *   - forward is the intended model: logits, loss, every gradient and the
 *     losses and gradient norms of 5 AdamW steps (warm-up, clipping, decay on
 *     2-D weights) match the PyTorch fixture tests/reference/gpt.txt;
 *   - sampling with the key/value cache gives the same logits and the same
 *     bytes as recomputing the whole window every step;
 *   - a training step allocates nothing after the first;
 *   - a missing or foreign checkpoint is a clear error, not a crash.
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

#include "../chapters/05-gpt-cross-entropy/gpt.h"
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

/* One training step on the fixture's batch, as chapter 5 takes it: the
 * loss on a fresh tape, backward, clipping at norm 1, optimizer step.
 * Returns the loss node; the gradient norm before clipping into *norm. */
static Tensor *train_step(Tape *T, GptFixture *x, Optimizer *o, double *norm) {
    tape_reset(T);
    Tensor *loss = gpt_loss(T, x->g, x->idx, x->tgt, 2, 8, NULL);
    params_zero_grad(x->g->ps);
    backward(T, loss);
    *norm = clip_grad_norm(x->g->ps, 1.0);
    optim_step(o);
    return loss;
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
    Tensor *loss = gpt_loss(T, g, idx, tgt, B, TT, NULL);
    GradCheck c = gradcheck(T, loss, g->ps->t, g->ps->n, GC_H, 24);
    cr_assert(c.checked >= 24 * 10, "only %ld entries checked", c.checked);
    expect_params_gradcheck(&c, g->ps, "loss w.r.t. every parameter");
    tape_free(T);
    gpt_free(g);
}

/* ---- reference check -------------------------------------------------------- */

Test(gpt, logits_loss_and_every_gradient_match_pytorch) {
    GptFixture x = gpt_fixture_open();
    Tape *T = tape_new();
    Tensor *logits;
    Tensor *loss = gpt_loss(T, x.g, x.idx, x.tgt, 2, 8, &logits);
    expect_ref("logits", logits->data, fixture_get(x.f, "logits"));
    expect_ref("loss", loss->data, fixture_get(x.f, "loss"));
    params_zero_grad(x.g->ps);
    backward(T, loss);
    expect_grads_match_fixture(x.f, x.g->ps, "grad.", REF_TOL);
    tape_free(T);
    gpt_fixture_close(&x);
}

Test(gpt, five_adamw_steps_match_pytorch_losses_and_grad_norms) {
    GptFixture x = gpt_fixture_open();
    Optimizer *o = adamw_new(x.g->ps, 1e-3, 0.9, 0.99, 1e-8, 0.1);
    Tape *T = tape_new();
    real losses[5], norms[5];
    for (int t = 0; t < 5; t++) { /* the README's schedule: warm-up over 100 steps, clip at 1 */
        optim_set_lr(o, 1e-3 * fmin(1.0, (t + 1) / 100.0));
        double norm;
        losses[t] = train_step(T, &x, o, &norm)->data[0];
        norms[t] = (real)norm;
    }
    expect_ref("adamw_losses", losses, fixture_get(x.f, "adamw_losses"));
    expect_ref("grad_norm", norms, fixture_get(x.f, "grad_norm"));
    optim_free(o);
    tape_free(T);
    gpt_fixture_close(&x);
}

Test(gpt, training_step_allocates_nothing_after_the_first) {
    GptFixture x = gpt_fixture_open();
    Optimizer *o = adamw_new(x.g->ps, 1e-3, 0.9, 0.99, 1e-8, 0.1);
    Tape *T = tape_new();
    long after_first = 0;
    size_t bytes_first = 0;
    for (int t = 0; t < 4; t++) {
        double norm;
        train_step(T, &x, o, &norm);
        if (t == 0) after_first = alloc_count(), bytes_first = tape_bytes(T);
    }
    cr_assert_eq(alloc_count(), after_first, "steps 2-4 made %ld allocations", alloc_count() - after_first);
    cr_assert_eq(tape_bytes(T), bytes_first, "the arena grew after step 1");
    optim_free(o);
    tape_free(T);
    gpt_fixture_close(&x);
}

/* ---- the key/value cache ------------------------------------------------------ */

Test(gpt, kv_cache_logits_match_the_full_forward_at_every_position) {
    GptFixture x = gpt_fixture_open();
    Tape *T = tape_new();
    Tensor *logits = gpt_forward(T, x.g, x.idx, 1, 8, NULL); /* [1, 8, 11] */
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
    unsigned char vocab[256];
    EXPECT_FAIL(gpt_load("build/no-such-dir/gpt.ckpt", vocab, "run `make run-05` first"), EXIT_NOINPUT,
                "build/no-such-dir/gpt.ckpt", "make run-05");
}

Test(gpt, a_checkpoint_of_another_model_is_refused_by_its_meta_line) {
    make_dirs("build/test-tmp");
    ParamSet *ps = params_new();
    params_add(ps, "fc1.weight", 2, SHAPE(2, 2));
    params_alloc(ps);
    checkpoint_save("build/test-tmp/not-gpt.ckpt", ps, "vae D=784");
    params_free(ps);
    unsigned char vocab[256];
    EXPECT_FAIL(gpt_load("build/test-tmp/not-gpt.ckpt", vocab, "run `make run-05`"), EXIT_DATA, "not a GPT",
                "make run-05");
}

Test(gpt, a_checkpoint_round_trip_gives_the_same_model_and_vocabulary) {
    GptFixture x = gpt_fixture_open();
    Gpt *g = x.g;
    unsigned char vocab[11] = {'\n', ' ', '!', 'a', 'b', 'c', 'd', 'e', 0xc3, 0xa9, '~'}, back[256];
    make_dirs("build/test-tmp");
    gpt_save("build/test-tmp/gpt.ckpt", g, vocab);
    Gpt *h = gpt_load("build/test-tmp/gpt.ckpt", back, "");
    cr_assert(memcmp(&h->cfg, &g->cfg, sizeof g->cfg) == 0, "config changed in the round trip");
    cr_assert(memcmp(back, vocab, sizeof vocab) == 0, "vocabulary changed in the round trip");
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
