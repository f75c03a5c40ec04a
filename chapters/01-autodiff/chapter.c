/* chapters/01-autodiff/chapter.c - Chapter 1: automatic differentiation.
 *
 * Teaches: what a gradient is in code; the tape; why gradients accumulate;
 * why the tape runs backwards; how to prove a backward pass right with finite
 * differences, and how small the step h may be in float and in double.
 * Leaves out: the models (chapters 2-6), higher-order derivatives.
 * Run: make run-01, or build/bin/01 --step to go cell by cell.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "gradcheck.h"
#include "init.h"
#include "nn.h"
#include "notebook.h"
#include "rng.h"
#include "tensor.h"

/*md
# Automatic differentiation

Every model in this course learns the same way: compute a loss $L$, compute
$\partial L / \partial \theta$ for every parameter $\theta$, take a step
downhill. This chapter builds the machine that computes those derivatives,
*reverse-mode automatic differentiation*, and the test that proves it right,
the *gradient check*. Everything later stands on these two pieces.
*/

/*md
## A derivative by hand

Take $f(a, b) = \tanh(ab + b)$ at $a = 0.5$, $b = -1.5$. With $u = ab + b$,
the chain rule gives

$$\frac{\partial f}{\partial a} = (1 - \tanh^2 u)\, b, \qquad
  \frac{\partial f}{\partial b} = (1 - \tanh^2 u)\,(a + 1).$$

We compute both by hand first, to have numbers to compare the machine with.
*/
static const double A0 = 0.5, B0 = -1.5;

/* The chapter's state between cells (freed by teardown): the derivatives by
 * hand (cell by_hand), and the MLP with its loss on a tape (cell mlp, drawn
 * by cell graph). */
typedef struct {
    ParamSet *ps;
    Linear fc1, fc2;
} Mlp;

static struct {
    double hand_da, hand_db;
    Mlp mlp;
    Tape *tape;
    Tensor *loss;
} ch;

static void teardown(void) {
    tape_free(ch.tape);
    if (ch.mlp.ps) params_free(ch.mlp.ps);
}

static void cell_by_hand(void) {
    double u = A0 * B0 + B0, f = tanh(u), dtanh = 1 - f * f;
    ch.hand_da = dtanh * B0;
    ch.hand_db = dtanh * (A0 + 1);
    nb_printf("u = ab + b      = %.6f\n", u);
    nb_printf("f = tanh(u)     = %.6f\n", f);
    nb_printf("df/da = (1 - f^2) b       = %.6f\n", ch.hand_da);
    nb_printf("df/db = (1 - f^2) (a + 1) = %.6f\n", ch.hand_db);
}

/*md
## The same on the tape

Each op, as it runs, appends one node to the *tape*: its output, its inputs
and which op made it. Because a node can only be made after its inputs, the
tape is in topological order. `backward()` sets $\partial L/\partial L = 1$ on
the last node and walks the tape in reverse: each node hands its gradient to
its inputs through the chain rule (the op's `backward` in the op table). We
print the tape, run backward, and compare with the hand-computed values.
*/
static void print_tape(Tape *T) {
    char shp[64];
    for (int i = 0; i < tape_len(T); i++) {
        Tensor *t = tape_node_at(T, i);
        nb_printf("  node %d: %-10s %-6s value % .6f", i, OPS[t->op].name,
                  shape_str(t, shp, sizeof shp), (double)t->data[0]);
        for (int k = 0; k < 3 && t->in[k]; k++)
            nb_printf("%s%d", k ? ", " : "   inputs: ", t->in[k]->id);
        nb_printf("\n");
    }
}

static void cell_on_tape(void) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(1), 1), *b = tape_input(T, 1, SHAPE(1), 1);
    a->data[0] = (real)A0;
    b->data[0] = (real)B0;
    Tensor *f = t_tanh(T, t_add(T, t_mul(T, a, b), b));
    print_tape(T);
    backward(T, f);
    nb_printf("tape:    df/da = % .6f   df/db = % .6f\n", (double)a->grad[0],
              (double)b->grad[0]);
    nb_printf("by hand: df/da = % .6f   df/db = % .6f\n", ch.hand_da, ch.hand_db);
    nb_printf(
        "b is used twice (in ab and in + b): its gradient is the sum of both paths.\n");
    tape_free(T);
}

/*md
## Why gradients accumulate

In $y = a + a$ the input $a$ feeds the same op twice, and $\partial y/\partial a = 2$.
The add's backward visits its two input slots one after the other; if it
*assigned* `a->grad = dy` the second visit would overwrite the first and we
would get 1. So every backward *adds*: `dinp += ...`, and `backward()` zeroes
each node's gradient just before the first add into it. (Many ops skip even
that, this chapter's tanh among them: the first op to reach a gradient writes
$0 +$ its share into it, the same numbers, and the ones after it add;
`WRITES_FRESH` in `tape.c`.) Parameters are not nodes of the tape: their
gradients accumulate from one `backward` to the next, which is what
gradient accumulation over batches wants, so a training step calls
`params_zero_grad` before its backward. For the same
reason a node's backward may only run after *all* its consumers have run: the
reverse of a topological order guarantees that, and the tape is one.
*/
static void cell_used_twice(void) {
    Tape *T = tape_new();
    Tensor *a = tape_input(T, 1, SHAPE(1), 1);
    a->data[0] = 3;
    Tensor *y = t_add(T, a, a);
    backward(T, y);
    nb_printf("y = a + a at a = 3: y = %g, dy/da = %g (assigning instead of adding "
              "would give 1)\n",
              (double)y->data[0], (double)a->grad[0]);
    Tensor *z = t_mul(T, t_mul(T, a, a), a);
    backward(T, z);
    nb_printf("z = a * a * a:      z = %g, dz/da = %g (= 3 a^2 = 27)\n",
              (double)z->data[0], (double)a->grad[0]);
    tape_free(T);
}

/*md
## Backward through a tiny MLP

A two-layer perceptron $\hat y = W_2\,\mathrm{relu}(W_1 x + b_1) + b_2$ with a
mean-squared-error loss. The parameters live in a `ParamSet` (one block of
numbers); the per-step nodes live in the tape's arena. We check the gradient
of every parameter against central differences (the next sections explain
the check and its step $h$; this float build uses $h = 10^{-2}$).

What error should we expect? ReLU is piecewise linear and the loss squares,
so away from a kink the loss is a quadratic in any one parameter, and the
central difference of a quadratic has no truncation error at all. What is
left is round-off: $L(\theta \pm h)$ are each off by about $\epsilon|L|$, so
the difference quotient is off by about $\epsilon|L|/h$ =
{{mlp round-off estimate:.1e}} for this loss. The checker divides by
$\max(|g|, 10^{-2})$ (the floor keeps tiny gradients from dividing by nearly
zero), so at the entry this run finds worst, whose gradient is
{{mlp gradient at the worst entry:.2f}}, round-off allows a relative error of
about {{mlp round-off bound at the worst entry:.1e}}. The run measures
{{mlp worst relative error:.1e}}: round-off, nothing more. A wrong backward
is off by order 1. The double build in the tests, with its $\epsilon$
$2^{29}$ times smaller, reaches far below its $10^{-6}$ bound.
*/
enum { MLP_N = 4, MLP_D = 3, MLP_H = 5, MLP_O = 2 };

static Mlp mlp_new(Rng *r) {
    Mlp m = {.ps = params_new()};
    m.fc1 = linear_new(m.ps, "fc1", MLP_D, MLP_H, 1);
    m.fc2 = linear_new(m.ps, "fc2", MLP_H, MLP_O, 1);
    params_alloc(m.ps);
    for (int i = 0; i < m.ps->n; i++) init_uniform_bound(m.ps->t[i], r, 1.0);
    return m;
}

/* x [N, D], y [N, O] -> scalar mse */
static Tensor *mlp_loss(Tape *T, const Mlp *m, Tensor *x, Tensor *y) {
    Tensor *h = t_relu(T, linear(T, &m->fc1, x));
    return t_mse(T, linear(T, &m->fc2, h), y);
}

static void cell_mlp(void) {
    Rng r, data;
    rng_stream(&r, nb_seed(), "autodiff/mlp init");
    rng_stream(&data, nb_seed(), "autodiff/mlp data");
    ch.mlp = mlp_new(&r);
    ch.tape = tape_new();
    Tensor *x = tape_input(ch.tape, 2, SHAPE(MLP_N, MLP_D), 0),
           *y = tape_input(ch.tape, 2, SHAPE(MLP_N, MLP_O), 0);
    rng_fill_normal(&data, x->data, x->size, 0, 1);
    rng_fill_normal(&data, y->data, y->size, 0, 1);
    ch.loss = mlp_loss(ch.tape, &ch.mlp, x, y);
    nb_printf("loss = %.6f, %d nodes on the tape, %ld parameters\n",
              (double)ch.loss->data[0], tape_len(ch.tape), ch.mlp.ps->size);
    GradCheck g = gradcheck(ch.tape, ch.loss, ch.mlp.ps->t, ch.mlp.ps->n, GC_STEP, 0);
    gradcheck_print(stdout, "mlp, every parameter", &g, ch.mlp.ps->t);
    nb_printf("worst relative error over all %ld parameters: %.2e\n", g.checked,
              g.max_rel);
    /* round-off of the difference quotient, absolute and relative to the worst entry */
    double eps = sizeof(real) == sizeof(float) ? FLT_EPSILON : DBL_EPSILON;
    double roundoff = eps * fabs((double)ch.loss->data[0]) / GC_STEP;
    nb_value("mlp worst relative error", g.max_rel, "");
    nb_value("mlp round-off estimate", roundoff, "");
    nb_value("mlp gradient at the worst entry", g.analytic, "");
    nb_value("mlp round-off bound at the worst entry",
             roundoff / fmax(fabs(g.analytic), GC_FLOOR), "");
}

/*md
## A gradient check of every op

The op table (`OPS` in `lib/tape.c`) lists every op once; we walk it and check
each op on a small random input. The checker perturbs one input entry by
$\pm h$, *replays* the tape (re-running each op's forward from the table) and
compares $(L(x+h) - L(x-h))/2h$ with what backward computed. The loss is
$L = \sum_i w_i y_i$ with fixed random $w$, so every output entry counts.
In float we use $h = 10^{-2}$; the worst op in this run is off by
{{worst relative error of any op, float:.1e}} (the previous section's
round-off, grown by ops that are not quadratic and by loss values far from
1), while a wrong backward gives errors of order 1. The test suite runs the same check
in double with $h = 10^{-5}$ and the bound $10^{-6}$; `make gradcheck-table`
builds this chapter in double and prints this table from it.
*/
static Tensor *leaf(Tape *T, Rng *r, int ndim, const int *shape, double lo, double hi) {
    Tensor *t = tape_input(T, ndim, shape, 1);
    rng_fill_uniform(r, t->data, t->size, lo, hi);
    return t;
}

static const int example_ids[12] = {0, 2, 1, 4, 3, 3, 0, 1, 2, 4, 1, 0};

/* A small expression around one op; its differentiable leaves go to wrt[]. */
static Tensor *op_example(Tape *T, Rng *r, OpKind op, Tensor **wrt, int *n) {
    Tensor *a = leaf(T, r, 2, SHAPE(3, 4), 0.5, 1.5),
           *b = leaf(T, r, 2, SHAPE(3, 4), 0.5, 1.5);
    Tensor *row = leaf(T, r, 1, SHAPE(4), -1, 1),
           *s = leaf(T, r, 2, SHAPE(3, 4), -2, 2);
    *n = 1;
    wrt[0] = a;
    switch (op) {
    case OP_ADD: wrt[(*n)++] = row; return t_add(T, a, row);
    case OP_SUB: wrt[(*n)++] = b; return t_sub(T, a, b);
    case OP_MUL: wrt[(*n)++] = b; return t_mul(T, a, b);
    case OP_DIV: wrt[(*n)++] = b; return t_div(T, a, b);
    case OP_ADD_SCALAR: return t_add_scalar(T, a, 2);
    case OP_MUL_SCALAR: return t_mul_scalar(T, a, -3);
    case OP_NEG: return t_neg(T, a);
    case OP_RELU: wrt[0] = s; return t_relu(T, s);
    case OP_LEAKY_RELU: wrt[0] = s; return t_leaky_relu(T, s, 0.2f);
    case OP_SIGMOID: wrt[0] = s; return t_sigmoid(T, s);
    case OP_TANH: wrt[0] = s; return t_tanh(T, s);
    case OP_GELU: wrt[0] = s; return t_gelu(T, s);
    case OP_EXP: return t_exp(T, a);
    case OP_LOG: return t_log(T, a);
    case OP_RESHAPE: return t_reshape(T, a, 2, SHAPE(2, 6));
    case OP_TRANSPOSE: return t_transpose(T, a);
    case OP_SUM: return t_sum(T, a);
    case OP_MEAN: return t_mean(T, a);
    case OP_SUM_LAST: return t_sum_last(T, a);
    case OP_MEAN_LAST: return t_mean_last(T, a);
    case OP_MATMUL: wrt[(*n)++] = b; return t_matmul(T, a, b, 0, 1);
    case OP_SOFTMAX: wrt[0] = s; return t_softmax(T, s);
    case OP_LOG_SOFTMAX: wrt[0] = s; return t_log_softmax(T, s);
    case OP_LAYERNORM: {
        Tensor *bias = leaf(T, r, 1, SHAPE(4), -1, 1);
        wrt[0] = s;
        wrt[(*n)++] = row;
        wrt[(*n)++] = bias;
        return t_layernorm(T, s, row, bias, 1e-5f);
    }
    case OP_EMBEDDING: {
        Tensor *table = leaf(T, r, 2, SHAPE(5, 3), -1, 1);
        wrt[0] = table;
        return t_embedding(T, table, example_ids, 2, SHAPE(2, 6));
    }
    case OP_CAUSAL_MASK: {
        Tensor *sc = leaf(T, r, 3, SHAPE(2, 4, 4), -1, 1);
        wrt[0] = sc;
        return t_softmax(T, t_causal_mask(T, sc));
    }
    case OP_SPLIT_HEADS: {
        Tensor *x = leaf(T, r, 3, SHAPE(2, 3, 12), -1, 1);
        wrt[0] = x;
        return t_split_heads(T, x, 1, 3, 2);
    }
    case OP_MERGE_HEADS: {
        Tensor *x = leaf(T, r, 4, SHAPE(2, 2, 3, 2), -1, 1);
        wrt[0] = x;
        return t_merge_heads(T, x);
    }
    case OP_CROSS_ENTROPY: wrt[0] = s; return t_cross_entropy(T, s, example_ids);
    case OP_BCE_WITH_LOGITS: {
        Tensor *y = tape_input(T, 2, SHAPE(3, 4), 0);
        rng_fill_uniform(r, y->data, y->size, 0, 1);
        wrt[0] = s;
        return t_bce_with_logits(T, s, y);
    }
    case OP_MSE: wrt[(*n)++] = b; return t_mse(T, a, b);
    case OP_GAUSSIAN_KL:
        wrt[0] = s;
        wrt[(*n)++] = b;
        return t_gaussian_kl(T, s, b);
    case OP_CONV2D:
    case OP_CONV_TRANSPOSE2D: {
        Tensor *x = leaf(T, r, 4, SHAPE(2, 2, 5, 4), -1, 1),
               *w = leaf(T, r, 4, SHAPE(3, 2, 3, 3), -1, 1);
        Tensor *bias = leaf(T, r, 1, SHAPE(op == OP_CONV2D ? 3 : 2), -1, 1);
        if (op == OP_CONV_TRANSPOSE2D) { /* x [2, 3, 5, 4], w [3 in, 2 out, 3, 3] */
            x = leaf(T, r, 4, SHAPE(2, 3, 5, 4), -1, 1);
        }
        wrt[0] = x;
        wrt[(*n)++] = w;
        wrt[(*n)++] = bias;
        return op == OP_CONV2D ? t_conv2d(T, x, w, bias, 2, 1)
                               : t_conv_transpose2d(T, x, w, bias, 2, 1);
    }
    case OP_BATCHNORM: { /* train mode: the batch statistics move with x */
        Tensor *x = leaf(T, r, 4, SHAPE(2, 3, 2, 2), -1, 1);
        Tensor *g = leaf(T, r, 1, SHAPE(3), 0.5, 1.5);
        Tensor *bias = leaf(T, r, 1, SHAPE(3), -1, 1);
        wrt[0] = x;
        wrt[(*n)++] = g;
        wrt[(*n)++] = bias;
        return t_batchnorm(T, x, g, bias, NULL, NULL, 1, 0.1f, 1e-5f);
    }
    case OP_LINEAR: { /* the fused layer of chapter 5: res + gelu(x w^T + b) */
        Tensor *w = leaf(T, r, 2, SHAPE(5, 4), -1, 1),
               *bias = leaf(T, r, 1, SHAPE(5), -1, 1);
        Tensor *res = leaf(T, r, 2, SHAPE(3, 5), -1, 1);
        wrt[(*n)++] = w;
        wrt[(*n)++] = bias;
        wrt[(*n)++] = res;
        return t_linear(T, a, w, bias, LINEAR_GELU, res);
    }
    case OP_CAUSAL_ATTENTION: { /* x [B 2, T 4, 3C 12], 2 heads */
        Tensor *x = leaf(T, r, 3, SHAPE(2, 4, 12), -1, 1);
        wrt[0] = x;
        return t_causal_attention(T, x, 2);
    }
    case OP_LEAF:
    case OP_COUNT: break;
    }
    return NULL;
}

static void cell_every_op(void) {
    Rng r;
    rng_stream(&r, nb_seed(), "autodiff/every op");
    Tape *T = tape_new();
    double worst = 0;
    nb_printf("%-18s %8s %12s\n", "op", "entries", "worst rel.");
    for (int op = OP_LEAF + 1; op < OP_COUNT; op++) {
        tape_reset(T);
        Tensor *wrt[4];
        int n;
        Tensor *y = op_example(T, &r, (OpKind)op, wrt, &n);
        Tensor *w = tape_input(T, y->ndim, y->shape, 0);
        rng_fill_uniform(&r, w->data, w->size, -1, 1);
        Tensor *loss = t_sum(T, t_mul(T, y, w));
        GradCheck g = gradcheck(T, loss, wrt, n, GC_STEP, 0);
        nb_printf("%-18s %8ld %12.2e\n", OPS[op].name, g.checked, g.max_rel);
        if (g.max_rel > worst) worst = g.max_rel;
    }
    nb_metric("worst relative error of any op, " REAL_NAME, worst, "");
    tape_free(T);
}

/*md
## How small should $h$ be?

The central difference has two errors that pull in opposite directions.
*Truncation*: the Taylor series gives $\frac{f(x+h)-f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + \dots$,
so the error shrinks like $h^2$. *Round-off*: $f(x\pm h)$ are each off by
about $\epsilon |f|$ (machine epsilon $\epsilon$: $2^{-23} \approx 1.2\times10^{-7}$
in float, $2^{-52} \approx 2.2\times10^{-16}$ in double), and dividing by $2h$
blows that up like $\epsilon/h$. With
$$E(h) \approx \frac{h^2}{6}\,|f'''(x)| + \frac{\epsilon\,|f(x)|}{h}$$
the total is smallest at $h^* = (3\epsilon|f|/|f'''|)^{1/3}$, where
$E(h^*) = \tfrac12 h^{*2} |f'''|$. Both are powers of $\epsilon$
($h^* \propto \epsilon^{1/3}$, $E(h^*) \propto \epsilon^{2/3}$), so the floors
of the two types should lie
$\tfrac23\log_{10}(\epsilon_\text{float}/\epsilon_\text{double})$ orders of
magnitude apart. We measure it on $f(x) = \tanh(x)\,e^{x}$ at $x = 0.7$,
where $f'''$ is known in closed form. On a log-log plot, look for the V:
slope 2 on the right (truncation), slope −1 on the left (round-off).

The theory for this $f$: $h^*$ = {{theory best h in float:.1e}} in float and
{{theory best h in double:.1e}} in double, with floors
{{theory smallest error in float:.1e}} and {{theory smallest error in double:.1e}},
{{theory floor ratio, orders of magnitude:.1f}} orders of magnitude apart.
This run: the smallest float error, {{smallest error in float:.1e}}, is at
$h$ = {{best h in float:.1e}}; the smallest double error,
{{smallest error in double:.1e}}, at $h$ = {{best h in double:.1e}}; the two
floors are {{floor ratio, orders of magnitude:.1f}} orders of magnitude apart.
The model predicts sizes, not digits: at any one $h$ the round-off has a
sign, and it can cancel part of the truncation error. At the measured best
float $h$ the truncation error alone is
{{truncation error at the best float h:.1e}} (the double curve, which has
almost no round-off there, shows it), larger than the float error measured:
the float minimum is a lucky cancellation, not a better step. $h^*$ is the
step to choose. That double is so much more precise is why the tests check
gradients in double.

Left of the V the float curve has a second lesson, so the cell computes the
float difference two ways. *As written* (`central_float`): each $f(x\pm h)$
is rounded to float, then the two are subtracted. Once $h$ is below half the
float spacing at $x$ ({{float half spacing at x:.1e}}), $x \pm h$ rounds to
$x$, the difference is exactly 0 and the error is $|f'(x)|$ =
{{exact derivative:.2f}}: the flat end of the float curve. *Fused*
(`central_float_fma`): GCC at `-O3 -march=native` contracts
`ff(x + h) - ff(x - h)`, that is $\tanh(a)e^a - \tanh(b)e^b$, into one fused
multiply-add, `fmaf(tanhf(a), expf(a), -ff(b))`, which never rounds the
first product. With $a = b$ the result is then not 0 but the rounding error
of the other product, about $\epsilon|f|$, and dividing it by $2h$ makes the
error grow like $1/h$ without end: {{float error with fma at the smallest h:.1e}}
at $h$ = {{smallest h:.0e}}. Neither is wrong arithmetic; they are two
different formulas, and the compiler may pick either unless told
(`-ffp-contract=off`, or, as here, a `volatile` that forces each value to be
rounded and stored). A finite difference that must be reproducible has to
say which one it computes.
*/
static float ff(float x) {
    return tanhf(x) * expf(x);
}
static double fd(double x) {
    return tanh(x) * exp(x);
}

/* (f(x+h) - f(x-h)) / 2h as written: the volatile stores round each f to
 * float and keep the compiler from fusing the subtraction into an FMA. */
static float central_float(float x, float h) {
    volatile float up = ff(x + h), down = ff(x - h);
    return (up - down) / (2 * h);
}

/* The same difference as GCC fuses it: the first product is never rounded. */
static float central_float_fma(float x, float h) {
    volatile float down = ff(x - h);
    return fmaf(tanhf(x + h), expf(x + h), -down) / (2 * h);
}

static double central_double(double x, double h) {
    volatile double up = fd(x + h), down = fd(x - h);
    return (up - down) / (2 * h);
}

/* f''' of tanh(x) e^x, with t = tanh x and s = 1 - t^2. */
static double fd3(double x) {
    double t = tanh(x), s = 1 - t * t;
    return exp(x) * (3 * s + t - 6 * t * s - 2 * s * s + 4 * t * t * s);
}

/* The optimum of E(h) = h^2/6 |f'''| + eps |f| / h: h* and E(h*). */
static void theory(const char *type, double eps, double x) {
    double h = cbrt(3 * eps * fabs(fd(x)) / fabs(fd3(x))),
           e = 0.5 * h * h * fabs(fd3(x));
    char name[64];
    snprintf(name, sizeof name, "theory best h in %s", type);
    nb_value(name, h, "");
    snprintf(name, sizeof name, "theory smallest error in %s", type);
    nb_value(name, e, "");
}

static void cell_step_size(void) {
    const float x = 0.7f; /* the same x in both types */
    const double exact = (1 - tanh(x) * tanh(x)) * exp(x) + tanh(x) * exp(x);
    FILE *f = nb_open("fd-error.tsv");
    fprintf(f, "# h\tfloat_error\tdouble_error\tfloat_fused_error\n");
    double best_f = 1, best_d = 1, h_f = 0, h_d = 0, e_fma = 0, h = 1;
    nb_printf("%10s %14s %14s %14s\n", "h", "float error", "double error",
              "float, fused");
    for (int k = 0; k <= 48; k++) {
        h = pow(10.0, -k / 4.0);
        double ef = fabs(central_float(x, (float)h) - exact),
               ed = fabs(central_double(x, h) - exact);
        e_fma = fabs(central_float_fma(x, (float)h) - exact);
        /* an error of exactly 0 (by luck) is drawn at 1e-17, to stay on the log plot */
        fprintf(f, "%.6e\t%.6e\t%.6e\t%.6e\n", h, fmax(ef, 1e-17), fmax(ed, 1e-17),
                fmax(e_fma, 1e-17));
        if (k % 4 == 0) nb_printf("%10.0e %14.3e %14.3e %14.3e\n", h, ef, ed, e_fma);
        if (ef < best_f) best_f = ef, h_f = h;
        if (ed < best_d) best_d = ed, h_d = h;
    }
    fclose(f);
    nb_metric("best h in float", h_f, "");
    nb_metric("smallest error in float", best_f, "");
    nb_metric("best h in double", h_d, "");
    nb_metric("smallest error in double", best_d, "");
    nb_metric("floor ratio, orders of magnitude", log10(best_f / best_d), "");
    theory("float", FLT_EPSILON, x);
    theory("double", DBL_EPSILON, x);
    nb_value("theory floor ratio, orders of magnitude",
             2.0 / 3 * log10(FLT_EPSILON / DBL_EPSILON), "");
    nb_value("truncation error at the best float h", h_f * h_f / 6 * fabs(fd3(x)), "");
    nb_value("float half spacing at x", (nextafterf(x, 1) - x) / 2, "");
    nb_value("exact derivative", exact, "");
    nb_value("smallest h", h, "");
    nb_value("float error with fma at the smallest h", e_fma, "");
    nb_figure("01-fd-error", "Error of the central difference against the step h: "
                             "float as written, float with the "
                             "subtraction fused into an FMA, and double");
}

/*md
## The graph of a loss

The tape is a graph, and we can draw it: `dot_write` walks back from the loss
and writes each node (op name and output shape; parameters by name) as
Graphviz. This is the MLP's loss from above. Later chapters draw their models
the same way, from the real tape, so the picture cannot drift from the code.
*/
static void cell_graph(void) {
    nb_graph("01-mlp-graph",
             "The computation graph of the tiny MLP's loss, drawn from the tape",
             ch.tape, ch.loss);
    nb_printf("wrote %s.dot: %d tape nodes plus %d parameters\n", "01-mlp-graph",
              tape_len(ch.tape), ch.mlp.ps->n);
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/01-autodiff/`, leaving the book's
run alone; any other value works too), then open the outcome this course's
run gives. The cells below run both experiments with the settings' default
values, so the book can show their outcomes.

### Experiment: the MLP's check with a hundred times smaller step

The MLP's gradient check above uses $h = 10^{-2}$ in float and finds a worst
relative error of {{mlp worst relative error:.1e}}. Check it again with
$h = 10^{-4}$. *Predict*: does the worst relative error shrink, as the
truncation error ($\propto h^2$) would, or grow, and by about how much?

Run: `build/bin/01 --set h=1e-4`

::: outcome
It grows: {{exp h worst relative error:.1e}} at $h$ = {{exp h step:.0e}},
about {{exp h growth:.0f}} times the error at $h = 10^{-2}$. The loss is a
quadratic away from the ReLU's kinks, so there was no truncation error to
shrink; all of it is round-off, $\epsilon|L|/h$, and that grows roughly like $1/h$
(the estimate for this step: {{exp h round-off estimate:.1e}}, against
{{mlp round-off estimate:.1e}} before). A smaller step is not a more careful
check.
:::

### Experiment: an input next to a kink

A ReLU has a kink at 0, where its derivative jumps from 0 to 1. Check
$L = \mathrm{relu}(x)$ at an input $x$ a little right of the kink, closer
to it than the step $h = 10^{-2}$: $x = 0.004$. The backward is right
($\partial L/\partial x = 1$ for $x > 0$). *Predict*: does the gradient
check pass (a relative error near round-off) or fail?

Run: `build/bin/01 --set kink-distance=0.004`

::: outcome
It fails: the relative error is {{exp kink relative error:.2f}}. The
central difference straddles the kink: $(\mathrm{relu}(x+h) -
\mathrm{relu}(x-h))/2h = (x+h)/2h$ = {{exp kink numeric derivative:.2f}},
not 1. A correct backward "fails" a finite-difference check within $h$ of a
kink, so a test draws its inputs away from kinks (or the check is read with
that in mind); try `--set kink-distance=0.02`, outside the step, to see it
pass.
:::
*/
/* The MLP's check again, with the step of the setting h. */
static void cell_exp_h(void) {
    double h = nb_setting("h");
    GradCheck g = gradcheck(ch.tape, ch.loss, ch.mlp.ps->t, ch.mlp.ps->n, h, 0);
    double eps = sizeof(real) == sizeof(float) ? FLT_EPSILON : DBL_EPSILON;
    GradCheck g0 = gradcheck(ch.tape, ch.loss, ch.mlp.ps->t, ch.mlp.ps->n, GC_STEP, 0);
    nb_printf("worst relative error: %.2e at h = %g, %.2e at h = %g\n", g.max_rel, h,
              g0.max_rel, (double)GC_STEP);
    nb_value("exp h step", h, "");
    nb_value("exp h worst relative error", g.max_rel, "");
    nb_value("exp h growth", g.max_rel / g0.max_rel, "");
    nb_value("exp h round-off estimate", eps * fabs((double)ch.loss->data[0]) / h, "");
}

/* relu(x) at x = the setting kink-distance, checked with the step GC_STEP. */
static void cell_exp_kink(void) {
    Tape *T = tape_new();
    Tensor *x = tape_input(T, 1, SHAPE(1), 1);
    x->data[0] = (real)nb_setting("kink-distance");
    Tensor *loss = t_sum(T, t_relu(T, x));
    GradCheck g = gradcheck(T, loss, &x, 1, GC_STEP, 0);
    nb_printf(
        "relu at x = %g, h = %g: analytic %g, numeric %.4f, relative error %.3f\n",
        (double)x->data[0], (double)GC_STEP, g.analytic, g.numeric, g.max_rel);
    nb_value("exp kink relative error", g.max_rel, "");
    nb_value("exp kink numeric derivative", g.numeric, "");
    tape_free(T);
}

static const Cell CELLS[] = {
    CELL(by_hand, "A derivative by hand"),
    CELL(on_tape, "The same on the tape"),
    CELL(used_twice, "Why gradients accumulate"),
    CELL(mlp, "Backward through a tiny MLP"),
    CELL(every_op, "A gradient check of every op"),
    CELL(step_size, "How small should h be?"),
    CELL(graph, "The graph of a loss"),
    CELL(exp_h, "Experiment: the MLP's check with a smaller step"),
    CELL(exp_kink, "Experiment: an input next to a kink"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"h", 1e-4, 1e-8, 1, 0,
     "the step of the MLP's check in the experiment (the chapter's: 1e-2 in float)"},
    {"kink-distance", 0.004, -1, 1, 0,
     "the input of the experiment's relu check (its kink is at 0)"},
};

int main(int argc, char **argv) {
    Chapter chapter = {"01-autodiff", "Automatic differentiation", CELLS,
                       sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &chapter);
}
