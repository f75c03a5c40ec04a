/* test_ops_elementwise.c - gradient checks and known values of the elementwise ops.
 *
 * Proves: every elementwise op's backward matches central differences
 * (relative error <= 1e-6 in double, see check_util.h for why that bound is
 * safe and tight) on a vector, a non-square matrix, a 3-D and a 4-D tensor;
 * the binary ops also with b broadcast as [C] and [1, C] and with one tensor
 * in both slots (a + a); every input also feeds a later consumer, so a
 * backward that assigns instead of adding fails; the parallel loops (more
 * than 2^15 elements) likewise, on sampled entries. And what a gradient
 * check cannot see (a forward that is wrong but consistent with its
 * backward): GELU at known points, the other unary ops against libm, a
 * broadcast row landing on every row. Bad shapes exit 70 with a message
 * naming both shapes.
 * Leaves out: float-build accuracy (the chapters' own tests cover it).
 */
#include <string.h>

#include "catch_fail.h"
#include "check_util.h"

/* a vector, a batch of non-square rows, 3-D, 4-D */
static const Shape SHAPES[] = {{1, {7}}, {2, {4, 3}}, {3, {2, 3, 5}}, {4, {2, 1, 3, 2}}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

typedef Tensor *(*BinaryOp)(Tape *, Tensor *, Tensor *);
typedef Tensor *(*UnaryOp)(Tape *, Tensor *);

/* Check op(a, b) for every shape: b of a's shape, b = [C], b = [1, C], and
 * op(a, a). Entries of a in [alo, ahi], of b in [blo, bhi]. */
static void check_binary(BinaryOp op, const char *name, double alo, double ahi, double blo, double bhi) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 1);
    char label[128], s[64], s2[64];
    for (int k = 0; k < NSHAPES; k++) {
        const Shape *sh = &SHAPES[k];
        int C = sh->shape[sh->ndim - 1];
        const Shape bshapes[] = {*sh, {1, {C}}, {2, {1, C}}};
        for (int j = 0; j < 3; j++) {
            tape_reset(T);
            Tensor *a = rand_leaf(T, &r, sh->ndim, sh->shape, alo, ahi, 1);
            Tensor *b = rand_leaf(T, &r, bshapes[j].ndim, bshapes[j].shape, blo, bhi, 1);
            Tensor *loss = also_used_later(T, &r, weighted_sum(T, &r, op(T, a, b)), (Tensor *[]){a, b}, 2);
            snprintf(label, sizeof label, "%s %s by %s", name, shape_str(a, s, sizeof s), shape_str(b, s2, sizeof s2));
            expect_grads(T, loss, (Tensor *[]){a, b}, 2, label);
        }
        tape_reset(T); /* the same tensor in both slots: both contributions */
        Tensor *a = rand_leaf(T, &r, sh->ndim, sh->shape, blo, bhi, 1);
        Tensor *loss = also_used_later(T, &r, weighted_sum(T, &r, op(T, a, a)), (Tensor *[]){a}, 1);
        snprintf(label, sizeof label, "%s of %s with itself", name, shape_str(a, s, sizeof s));
        expect_grads(T, loss, (Tensor *[]){a}, 1, label);
    }
    tape_free(T);
}

/* Check op(a) for every shape, entries in [lo, hi] moved at least 0.01 away
 * from `kink` when has_kink (so x +- h never crosses it). */
static void check_unary(UnaryOp op, const char *name, double lo, double hi, int has_kink, double kink) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 2);
    char label[96];
    for (int k = 0; k < NSHAPES; k++) {
        tape_reset(T);
        Tensor *a = rand_leaf(T, &r, SHAPES[k].ndim, SHAPES[k].shape, lo, hi, 1);
        if (has_kink) avoid_kink(a, kink, 0.01);
        Tensor *loss = also_used_later(T, &r, weighted_sum(T, &r, op(T, a)), (Tensor *[]){a}, 1);
        expect_grads(T, loss, (Tensor *[]){a}, 1, shape_label(label, sizeof label, name, a));
    }
    tape_free(T);
}

/* ---- gradient checks: binary ops ---------------------------------------- */

Test(elementwise, add_matches_central_differences) { check_binary(t_add, "add", -1, 1, -1, 1); }
Test(elementwise, sub_matches_central_differences) { check_binary(t_sub, "sub", -1, 1, -1, 1); }
Test(elementwise, mul_matches_central_differences) { check_binary(t_mul, "mul", -1, 1, -1, 1); }
/* b in [0.5, 2]: away from the pole at 0 */
Test(elementwise, div_matches_central_differences) { check_binary(t_div, "div", -1, 1, 0.5, 2); }

/* ---- gradient checks: unary ops ------------------------------------------ */

static Tensor *add_scalar(Tape *T, Tensor *a) { return t_add_scalar(T, a, (real)0.7); }
static Tensor *mul_scalar(Tape *T, Tensor *a) { return t_mul_scalar(T, a, (real)-1.3); }
static Tensor *leaky(Tape *T, Tensor *a) { return t_leaky_relu(T, a, (real)0.2); }

Test(elementwise, add_scalar_matches_central_differences) { check_unary(add_scalar, "add_scalar", -1, 1, 0, 0); }
Test(elementwise, mul_scalar_matches_central_differences) { check_unary(mul_scalar, "mul_scalar", -1, 1, 0, 0); }
Test(elementwise, neg_matches_central_differences) { check_unary(t_neg, "neg", -1, 1, 0, 0); }
Test(elementwise, relu_matches_central_differences) { check_unary(t_relu, "relu", -1, 1, 1, 0); }
Test(elementwise, leaky_relu_matches_central_differences) { check_unary(leaky, "leaky_relu", -1, 1, 1, 0); }
Test(elementwise, sigmoid_matches_central_differences) { check_unary(t_sigmoid, "sigmoid", -4, 4, 0, 0); }
Test(elementwise, tanh_matches_central_differences) { check_unary(t_tanh, "tanh", -3, 3, 0, 0); }
Test(elementwise, gelu_matches_central_differences) { check_unary(t_gelu, "gelu", -4, 4, 0, 0); }
Test(elementwise, exp_matches_central_differences) { check_unary(t_exp, "exp", -2, 2, 0, 0); }
/* log on [0.2, 3]: positive, and away from 0 where 1/x blows up */
Test(elementwise, log_matches_central_differences) { check_unary(t_log, "log", 0.2, 3, 0, 0); }

/* ---- the parallel loops -------------------------------------------------- */

/* [300, 200] = 60,000 elements > 2^15: every loop takes its OpenMP path,
 * including the column sums of a broadcast b. 40 sampled entries per tensor. */
Test(elementwise, parallel_loops_match_central_differences) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 3);
    Tensor *a = rand_leaf(T, &r, 2, SHAPE(300, 200), -1, 1, 1);
    Tensor *b = rand_leaf(T, &r, 1, SHAPE(200), -1, 1, 1);
    Tensor *c = rand_leaf(T, &r, 2, SHAPE(1, 200), 0.5, 2, 1);
    /* y = ((a + b) c - b) / c = a + b - b / c: every input matters */
    Tensor *y = t_div(T, t_sub(T, t_mul(T, t_add(T, a, b), c), b), c);
    Tensor *loss = weighted_sum(T, &r, t_gelu(T, y));
    GradCheck g = gradcheck(T, loss, (Tensor *[]){a, b, c}, 3, GC_H, 40);
    cr_assert(g.max_rel <= GC_TOL, "worst relative error %.3e > %.0e at input %d, entry %ld (analytic %.12g, numeric %.12g)",
              g.max_rel, GC_TOL, g.worst_tensor, g.worst_index, g.analytic, g.numeric);
    tape_free(T);
}

/* ---- forward values ------------------------------------------------------ */

/* GELU (tanh form) at points computed in Python's double math:
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Tolerance 1e-15: a few ulps. */
Test(elementwise, gelu_matches_known_values) {
    static const double x[] = {-3, -1, -0.5, 0, 0.5, 1, 3};
    static const double want[] = {-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0,
                                  0.34571400982514394,    0.8411919906082768,   2.996362607918227};
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(7), 0);
    for (int i = 0; i < 7; i++) a->data[i] = x[i];
    Tensor *y = t_gelu(T, a);
    for (int i = 0; i < 7; i++)
        cr_expect(fabs(y->data[i] - want[i]) <= 1e-15, "gelu(%g) = %.17g, want %.17g (diff %.3e)", x[i], y->data[i],
                  want[i], fabs(y->data[i] - want[i]));
    tape_free(T);
}

/* Each unary op against its definition in libm, at points on both sides of
 * 0. Tolerance 1e-15 relative: the same formula, so at most rounding. */
Test(elementwise, unary_forward_values_match_libm) {
    static const double x[] = {-2.5, -0.3, 0.4, 1.7};
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(4), 0);
    for (int i = 0; i < 4; i++) a->data[i] = x[i];
    Tensor *abs_a = tape_input(T, 1, SHAPE(4), 0); /* for log */
    for (int i = 0; i < 4; i++) abs_a->data[i] = fabs(x[i]);
    struct { const char *name; Tensor *y; double (*f)(double); } cases[] = {
        {"sigmoid", t_sigmoid(T, a), NULL}, {"tanh", t_tanh(T, a), tanh}, {"exp", t_exp(T, a), exp},
        {"log", t_log(T, abs_a), NULL},     {"relu", t_relu(T, a), NULL}, {"leaky_relu", t_leaky_relu(T, a, 0.1), NULL},
        {"neg", t_neg(T, a), NULL},         {"add_scalar", t_add_scalar(T, a, 2), NULL},
        {"mul_scalar", t_mul_scalar(T, a, 3), NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int i = 0; i < 4; i++) {
            double v = x[i], want;
            const char *n = cases[c].name;
            if (cases[c].f) want = cases[c].f(v);
            else if (!strcmp(n, "sigmoid")) want = 1 / (1 + exp(-v));
            else if (!strcmp(n, "log")) want = log(fabs(v));
            else if (!strcmp(n, "relu")) want = v > 0 ? v : 0;
            else if (!strcmp(n, "leaky_relu")) want = v > 0 ? v : 0.1 * v;
            else if (!strcmp(n, "neg")) want = -v;
            else if (!strcmp(n, "add_scalar")) want = v + 2;
            else want = 3 * v;
            double got = cases[c].y->data[i];
            cr_expect(fabs(got - want) <= 1e-15 * fmax(1, fabs(want)), "%s(%g) = %.17g, want %.17g", n, v, got, want);
        }
    tape_free(T);
}

/* a [3, 4] OP row b [4]: z[r, c] = a[r, c] OP b[c] exactly (one rounding,
 * the same as the C expression), on every row. */
Test(elementwise, broadcast_row_reaches_every_row) {
    Tape *T = tape_new();
    Rng r;
    rng_seed(&r, 4);
    Tensor *a = rand_leaf(T, &r, 2, SHAPE(3, 4), -1, 1, 0);
    Tensor *b = rand_leaf(T, &r, 2, SHAPE(1, 4), 0.5, 2, 0);
    Tensor *z[4] = {t_add(T, a, b), t_sub(T, a, b), t_mul(T, a, b), t_div(T, a, b)};
    for (int i = 0; i < 12; i++) {
        real x = a->data[i], y = b->data[i % 4];
        real want[4] = {x + y, x - y, x * y, x / y};
        for (int k = 0; k < 4; k++)
            cr_expect(z[k]->data[i] == want[k], "op %d at [%d, %d]: %.17g, want %.17g", k, i / 4, i % 4, z[k]->data[i],
                      want[k]);
    }
    tape_free(T);
}

/* ---- bad input ----------------------------------------------------------- */

/* [3, 4] + [3, 5], + [4, 3] and + [2, 4]: each exits 70 (a bug in the calling
 * code) with a message that names both shapes. */
Test(elementwise, mismatched_shapes_fail_with_both_shapes) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 2, SHAPE(3, 4), 0);
    const int bad[][2] = {{3, 5}, {4, 3}, {2, 4}};
    for (int k = 0; k < 3; k++) {
        Tensor *b = tape_input(T, 2, bad[k], 0);
        char want[64];
        snprintf(want, sizeof want, "shapes [3, 4] and [%d, %d]", bad[k][0], bad[k][1]);
        EXPECT_FAIL(t_add(T, a, b), EXIT_SOFTWARE, want);
    }
    tape_free(T);
}
