/* tests/test_tape.c - the tape, the arena, determinism, DOT export, the runtime's flags.
 *
 * Proves: gradients accumulate (a + a); a grad written fresh by its first
 * consumer has the bits of one zeroed and added to; backward runs in reverse order
 * through a chain; a training loop allocates nothing after its first step;
 * the same seed gives bit-identical training, a different seed does not;
 * the DOT export names every op; bad notebook flags exit 64.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "dot.h"
#include "init.h"
#include "nn.h"
#include "notebook.h"
#include "optim.h"
#include "util.h"

Test(tape, input_used_twice_gets_both_contributions) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(3), 1);
    for (int i = 0; i < 3; i++) a->data[i] = (real)(i + 1);
    Tensor *y = t_sum(T, t_add(T, a, a));
    backward(T, y);
    for (int i = 0; i < 3; i++) cr_assert_eq(a->grad[i], 2, "d(a+a)/da[%d] = %g, want 2", i, (double)a->grad[i]);
    tape_free(T);
}

Test(tape, backward_twice_gives_the_same_input_grads) {
    /* backward zeroes the tape's grads first, so a second call must not double them */
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(2), 1);
    a->data[0] = 2;
    a->data[1] = -1;
    Tensor *y = t_sum(T, t_mul(T, a, a));
    backward(T, y);
    backward(T, y);
    cr_assert_eq(a->grad[0], 4);
    cr_assert_eq(a->grad[1], -2);
    tape_free(T);
}

/* Every op in tape.c's WRITES_FRESH, each fed by another node (whose grad
 * it then writes fresh), in one graph: the convolutions, the activations,
 * the scalar ops, linear with GELU and with its input as the residual,
 * attention. Run backward with fresh grads, every node's grad first filled
 * with NaN (a number a writer missed stays NaN), then again with every grad
 * zeroed first: every node's and every input's grad must be the same bits. */
Test(tape, fresh_grads_written_whole_give_the_bits_of_zeroed_ones) {
    Rng r;
    rng_seed(&r, 11);
    Tape *T = tape_new();
    Tensor *x = rand_leaf(T, &r, 4, SHAPE(2, 2, 6, 6), -1, 1, 1);
    Tensor *w1 = rand_leaf(T, &r, 4, SHAPE(3, 2, 3, 3), -0.5, 0.5, 1), *b1 = rand_leaf(T, &r, 1, SHAPE(3), -0.1, 0.1, 1);
    Tensor *w2 = rand_leaf(T, &r, 4, SHAPE(3, 2, 4, 4), -0.5, 0.5, 1), *b2 = rand_leaf(T, &r, 1, SHAPE(2), -0.1, 0.1, 1);
    Tensor *w3 = rand_leaf(T, &r, 2, SHAPE(96, 36), -0.3, 0.3, 1), *b3 = rand_leaf(T, &r, 1, SHAPE(96), -0.1, 0.1, 1);
    Tensor *w4 = rand_leaf(T, &r, 2, SHAPE(32, 32), -0.3, 0.3, 1), *b4 = rand_leaf(T, &r, 1, SHAPE(32), -0.1, 0.1, 1);
    Tensor *h = t_conv2d(T, t_mul_scalar(T, x, (real)1.5), w1, b1, 1, 1); /* [2, 3, 6, 6] */
    h = t_leaky_relu(T, t_relu(T, h), (real)0.2);
    h = t_sigmoid(T, t_tanh(T, t_conv_transpose2d(T, h, w2, b2, 2, 1)));           /* [2, 2, 12, 12] */
    h = t_exp(T, t_log(T, t_add_scalar(T, t_neg(T, h), 3)));
    h = t_gelu(T, t_mul_scalar(T, h, (real)0.5));
    h = t_reshape(T, h, 3, SHAPE(2, 8, 36));
    Tensor *a = t_causal_attention(T, t_linear(T, h, w3, b3, LINEAR_GELU, NULL), 2); /* [2, 8, 32] */
    Tensor *loss = t_sum(T, t_linear(T, a, w4, b4, LINEAR_NONE, a));
    const int n = tape_len(T);
    real **fresh = malloc((size_t)n * sizeof(real *));
    int was = tape_fresh_grads(1);
    for (int i = 0; i < n; i++) {
        Tensor *t = tape_node_at(T, i);
        if (t->grad && t->op != OP_LEAF)
            for (long e = 0; e < t->size; e++) t->grad[e] = NAN;
    }
    backward(T, loss);
    for (int i = 0; i < n; i++) {
        Tensor *t = tape_node_at(T, i);
        fresh[i] = t->grad ? memcpy(malloc((size_t)t->size * sizeof(real)), t->grad, (size_t)t->size * sizeof(real))
                           : NULL;
    }
    tape_fresh_grads(0);
    backward(T, loss);
    tape_fresh_grads(was);
    for (int i = 0; i < n; i++) {
        Tensor *t = tape_node_at(T, i);
        if (!t->grad) continue;
        long diff = -1;
        for (long e = 0; e < t->size && diff < 0; e++)
            if (memcmp(&fresh[i][e], &t->grad[e], sizeof(real))) diff = e;
        cr_assert(diff < 0, "node %d (%s): grad[%ld] is %.17g fresh, %.17g zeroed first", i, OPS[t->op].name, diff,
                  diff < 0 ? 0.0 : (double)fresh[i][diff], diff < 0 ? 0.0 : (double)t->grad[diff]);
        free(fresh[i]);
    }
    free(fresh);
    tape_free(T);
}

Test(tape, reshape_is_a_view_of_its_input) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 2, SHAPE(2, 3), 1);
    Tensor *r = t_reshape(T, a, 1, SHAPE(6));
    cr_assert_eq(r->data, a->data, "reshape must share its input's numbers");
    tape_free(T);
}

/* ---- a small MLP trained with Adam: the arena and determinism ---------------- */
typedef struct {
    ParamSet *ps;
    Linear fc1, fc2;
} Mlp;

static Mlp mlp_make(uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    Mlp m = {.ps = params_new()};
    m.fc1 = linear_new(m.ps, "fc1", 8, 32, 1);
    m.fc2 = linear_new(m.ps, "fc2", 32, 1, 1);
    params_alloc(m.ps);
    init_kaiming_normal(m.fc1.w, &r);
    init_kaiming_normal(m.fc2.w, &r);
    return m;
}

/* Train for `steps` steps on random regression data; losses[] gets each step's
 * loss; allocs_after_first (if not NULL) the mallocs made after step 1. */
static void mlp_train(uint64_t seed, int steps, double *losses, long *allocs_after_first) {
    Mlp m = mlp_make(seed);
    Optimizer *opt = adam_new(m.ps, 1e-2, 0.9, 0.999, 1e-8);
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, seed + 100);
    long after_first = 0;
    for (int s = 0; s < steps; s++) {
        tape_reset(T);
        Tensor *x = tape_input(T, 2, SHAPE(16, 8), 0), *y = tape_input(T, 2, SHAPE(16, 1), 0);
        rng_fill_normal(&r, x->data, x->size, 0, 1);
        for (int i = 0; i < 16; i++) y->data[i] = x->data[i * 8] * x->data[i * 8 + 1];
        Tensor *loss = t_mse(T, linear(T, &m.fc2, t_relu(T, linear(T, &m.fc1, x))), y);
        params_zero_grad(m.ps);
        backward(T, loss);
        optim_step(opt);
        losses[s] = (double)loss->data[0];
        if (s == 0) after_first = alloc_count();
    }
    if (allocs_after_first) *allocs_after_first = alloc_count() - after_first;
    tape_free(T);
    optim_free(opt);
    params_free(m.ps);
}

Test(arena, training_allocates_nothing_after_step_one) {
    double losses[100];
    long extra = -1;
    mlp_train(1, 100, losses, &extra);
    cr_assert_eq(extra, 0, "steps 2..100 made %ld allocations; the arena should have made them all in step 1", extra);
    cr_assert(losses[99] < losses[0], "the MLP did not learn: loss %g -> %g", losses[0], losses[99]);
}

Test(determinism, same_seed_gives_identical_losses) {
    double a[30], b[30];
    mlp_train(7, 30, a, NULL);
    mlp_train(7, 30, b, NULL);
    for (int i = 0; i < 30; i++)
        cr_assert(memcmp(&a[i], &b[i], sizeof a[i]) == 0, "step %d: %.17g vs %.17g", i, a[i], b[i]);
}

Test(determinism, different_seed_gives_different_losses) {
    double a[5], b[5];
    mlp_train(7, 5, a, NULL);
    mlp_train(8, 5, b, NULL);
    int differ = 0;
    for (int i = 0; i < 5; i++) differ += a[i] != b[i];
    cr_assert_eq(differ, 5, "only %d of 5 losses differ between seeds 7 and 8", differ);
}

/* ---- DOT export ------------------------------------------------------------------ */
Test(dot, graph_names_every_op_and_parameter) {
    Mlp m = mlp_make(3);
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 2, SHAPE(4, 8), 0), *y = tape_input(T, 2, SHAPE(4, 1), 0);
    Tensor *loss = t_mse(T, linear(T, &m.fc2, t_tanh(T, linear(T, &m.fc1, x))), y);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    dot_write(f, T, loss, "test");
    fclose(f);
    const char *want[] = {"digraph", "matmul", "tanh", "mse", "fc1.weight", "fc2.bias", "[4, 32]"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(buf, want[i]), "the DOT output lacks \"%s\":\n%s", want[i], buf);
    free(buf);
    tape_free(T);
    params_free(m.ps);
}

/* ---- the notebook runtime's command line --------------------------------------- */
static int ran;
static void cell_one(void) { ran++; }
static const Cell CELLS[] = {CELL(one, "one"), CELL(one, "two")};
static const Chapter CH = {"99-test", "test chapter", CELLS, 2, NULL};

static int run_nb(int argc, char **argv) {
    cr_redirect_stderr();
    cr_redirect_stdout();
    return notebook_main(argc, argv, &CH);
}

Test(notebook, unknown_flag_exits_64, .exit_code = EXIT_USAGE) {
    char *argv[] = {"nb", "--bogus", NULL};
    run_nb(2, argv);
}

Test(notebook, cell_out_of_range_exits_64, .exit_code = EXIT_USAGE) {
    char *argv[] = {"nb", "--cell", "3", NULL};
    run_nb(3, argv);
}

Test(notebook, seed_without_value_exits_64, .exit_code = EXIT_USAGE) {
    char *argv[] = {"nb", "--seed", NULL};
    run_nb(2, argv);
}

Test(notebook, cell_n_runs_only_the_first_n) {
    char *argv[] = {"nb", "--cell", "1", "--out", "build/test-tmp/nb", NULL};
    ran = 0;
    cr_assert_eq(run_nb(5, argv), 0);
    cr_assert_eq(ran, 1, "--cell 1 ran %d cells", ran);
    FILE *f = fopen("build/test-tmp/nb/cells.list", "r");
    cr_assert(f, "the runtime did not write cells.list");
    fclose(f);
}

/* ---- parameter names (issue 14) --------------------------------------------- */

/* Declaring and finding parameters takes linear time: 200,000 names (what a
 * crafted 100-byte checkpoint meta can ask a model for) in about a second
 * (bound 10 s, room for a sanitizer build); the old pairwise duplicate
 * check needed minutes. */
Test(params, two_hundred_thousand_names_declare_and_look_up_in_linear_time, .timeout = 60) {
    enum { NP = 200000 };
    char name[32];
    double t0 = now_seconds();
    ParamSet *ps = params_new();
    for (int k = 0; k < NP; k++) {
        snprintf(name, sizeof name, "layer.%d.weight", k);
        params_add(ps, name, 1, SHAPE(2));
    }
    params_alloc(ps);
    for (int k = 0; k < NP; k++) {
        snprintf(name, sizeof name, "layer.%d.weight", k);
        Tensor *t = params_get(ps, name);
        cr_assert(t && t->id == k, "params_get(\"%s\") found %s", name, t ? t->name : "nothing");
    }
    double dt = now_seconds() - t0;
    cr_assert(params_get(ps, "layer.200000.weight") == NULL, "found a name never declared");
    cr_assert(params_get(ps, "") == NULL, "found the empty name");
    cr_assert(dt < 10.0, "%d names took %.1f s to declare and look up (bound 10 s)", NP, dt);
    params_free(ps);
}

static void add_twice(void) {
    ParamSet *ps = params_new();
    params_add(ps, "w", 1, SHAPE(2));
    params_add(ps, "b", 1, SHAPE(2));
    params_add(ps, "w", 1, SHAPE(3));
}

Test(params, duplicate_name_is_refused, .exit_code = EXIT_SOFTWARE) {
    cr_redirect_stderr();
    add_twice();
}

/* A shape whose product does not fit is an error, not a signed overflow
 * (a parameter of 2^31-1 cubed numbers cannot be allocated anyway). */
static void add_huge(void) {
    ParamSet *ps = params_new();
    params_add(ps, "w", 4, SHAPE(2147483647, 2147483647, 2147483647, 2));
}

Test(params, shape_too_large_to_count_is_refused, .exit_code = EXIT_SOFTWARE) {
    cr_redirect_stderr();
    add_huge();
}

/* ---- a frozen parameter set ---------------------------------------------------- */

/* loss = sum(tanh(x w^T)), x [4, 3] (an input with a grad), w [2, 3] */
static void frozen_case(ParamSet *ps, int frozen, real *dx) {
    Tape *T = tape_new();
    Tensor *w = params_get(ps, "w");
    Tensor *x = tape_input(T, 2, SHAPE(4, 3), 1);
    for (int i = 0; i < 12; i++) x->data[i] = (real)(0.1 * i - 0.5);
    params_freeze(ps, frozen);
    backward(T, t_sum(T, t_tanh(T, t_matmul(T, x, w, 0, 1))));
    params_freeze(ps, 0);
    memcpy(dx, x->grad, 12 * sizeof(real));
    tape_free(T);
}

Test(params, a_frozen_set_passes_the_gradient_on_and_keeps_none_of_its_own) {
    ParamSet *ps = params_new();
    Tensor *w = params_add(ps, "w", 2, SHAPE(2, 3));
    params_alloc(ps);
    for (int i = 0; i < 6; i++) w->data[i] = (real)(0.3 * i - 0.7);
    real dx_thawed[12], dx_frozen[12];
    frozen_case(ps, 0, dx_thawed);
    double seen = 0; /* the thawed case must reach w, or the frozen check below proves nothing */
    for (int i = 0; i < 6; i++) seen += fabs((double)ps->grad[i]);
    cr_assert(seen > 0, "w took no gradient even when thawed");
    params_zero_grad(ps);
    frozen_case(ps, 1, dx_frozen);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(ps->grad[i], 0, "frozen w took a gradient: grad[%d] = %g", i, (double)ps->grad[i]);
    cr_assert(memcmp(dx_thawed, dx_frozen, sizeof dx_frozen) == 0,
              "the input's gradient changed when w was frozen (it must be bit for bit the same)");
    cr_assert_eq(w->grad, ps->grad, "thawing must point w's grad back into the block");
    params_free(ps);
}

/* ---- grads zeroed by backward, just before their first use -------------------- */

/* loss = sum(tanh(a) * tanh(a) + tanh(a)): the tanh node has two consumers;
 * a node made after the loss (extra) takes no gradient. */
static void reused_arena_case(Tape *T, real *da, real *dt, real *dextra) {
    tape_reset(T);
    Tensor *a = tape_input(T, 1, SHAPE(5), 1);
    for (int i = 0; i < 5; i++) a->data[i] = (real)(0.3 * i - 0.6);
    Tensor *t = t_tanh(T, a);
    Tensor *loss = t_sum(T, t_add(T, t_mul(T, t, t), t));
    Tensor *extra = t_exp(T, t);
    backward(T, loss);
    memcpy(da, a->grad, 5 * sizeof(real));
    memcpy(dt, t->grad, 5 * sizeof(real));
    memcpy(dextra, extra->grad, 5 * sizeof(real));
}

Test(tape, a_reused_arena_gives_the_same_grads_not_the_last_steps_plus_new) {
    /* the second step's nodes land where the first step's did, on top of
     * their old grads: backward must zero each before adding to it */
    Tape *T = tape_new();
    real da[2][5], dt[2][5], dx[2][5];
    for (int k = 0; k < 2; k++) reused_arena_case(T, da[k], dt[k], dx[k]);
    for (int i = 0; i < 5; i++) {
        double y = tanh(0.3 * i - 0.6), want_dt = 2 * y + 1; /* d/dt (t^2 + t), to double round-off */
        cr_assert(fabs(dt[0][i] - want_dt) < 1e-12, "step 1: dL/dt[%d] = %.17g, want %.17g", i, dt[0][i], want_dt);
        cr_assert(memcmp(&da[0][i], &da[1][i], sizeof(real)) == 0 && memcmp(&dt[0][i], &dt[1][i], sizeof(real)) == 0,
                  "entry %d: step 2 gave dL/da %.17g, dL/dt %.17g; step 1 %.17g, %.17g", i, da[1][i], dt[1][i],
                  da[0][i], dt[0][i]);
        cr_assert(dx[0][i] == 0 && dx[1][i] == 0, "a node made after the loss has grad %g, %g", dx[0][i], dx[1][i]);
    }
    tape_free(T);
}

Test(tape, a_node_of_another_tape_as_input_is_refused, .exit_code = EXIT_SOFTWARE) {
    /* its grad belongs to the other tape, which zeroes it in its own backward */
    cr_redirect_stderr();
    Tape *A = tape_new(), *B = tape_new();
    Tensor *a = tape_input(A, 1, SHAPE(3), 1);
    Tensor *n = t_tanh(A, a); /* a node of A */
    backward(B, t_sum(B, t_tanh(B, n)));
}
