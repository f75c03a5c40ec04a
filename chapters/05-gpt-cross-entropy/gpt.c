/* gpt.c - the GPT of chapters 5 and 6: parameters, forward pass on the
 * tape, loss, the trainer, checkpoints, and sampling with a key/value cache.
 *
 * Teaches: a GPT-2-style transformer is a short list of library ops. The
 * forward pass below is the whole model: token + position embeddings, L
 * pre-LayerNorm blocks (causal self-attention, then an MLP, each added to
 * the residual stream), a final LayerNorm and the output head, which is the
 * token embedding matrix used a second time (tied). Sampling runs the same
 * arithmetic in plain C for one new token at a time, keeping every earlier
 * position's keys and values, so no position is computed twice.
 * The trainer is the one training step of the course's GPT (chapter 5's
 * pre-training, chapter 6's fine-tuning, the bench and the tests all call
 * it): random windows, AdamW with warm-up, clipping.
 * The forward pass comes in two forms with the same numbers: composed from
 * the small ops (the chapter's figures) and fused (training; see
 * gpt_forward's notes).
 * Leaves out: dropout, weight sharing beyond the tied head, mixed precision,
 * beam search, learning-rate decay.
 *
 * Dimension key: B = batch, T = positions (<= ctx), V = vocabulary,
 * C = width, H = heads, hd = C / H, L = layers, n = cached positions.
 */
#include "gpt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "init.h"
#include "notebook.h"
#include "optim.h"
#include "util.h"

/*md
## The model's parameters

One `ParamSet` holds every number. The names are nanoGPT's (`h.0.attn.c_attn.weight`),
so the PyTorch reference fixture and our checkpoints load by name. The init
is GPT-2's: every weight matrix (embeddings included) $\mathcal N(0, 0.02^2)$,
biases zero, LayerNorm gains one.
*/
int64_t gpt_config_params(const GptConfig *c) {
    int64_t C = c->C;
    return ((int64_t)c->V + c->ctx) * C + (int64_t)c->L * (12 * C * C + 13 * C) + 2 * C;
}

int gpt_config_check(const GptConfig *c, char *why, size_t len) {
    const int size[5] = {c->V, c->ctx, c->L, c->H, c->C};
    const char *name[5] = {"V", "ctx", "L", "H", "C"};
    for (int i = 0; i < 5; i++)
        if (size[i] < 1 || size[i] > GPT_MAX_SIZE) {
            snprintf(why, len, "%s = %d is outside [1, %d]", name[i], size[i],
                     GPT_MAX_SIZE);
            return 0;
        }
    if (c->V > 256)
        return snprintf(why, len, "V = %d: a byte vocabulary has at most 256 ids",
                        c->V),
               0;
    if (c->C % c->H)
        return snprintf(why, len, "the width C = %d is not divisible by H = %d heads",
                        c->C, c->H),
               0;
    int64_t params = gpt_config_params(c),
            cache = (int64_t)c->L * c->ctx * c->C; /* each < 2^53: no overflow */
    if (params > GPT_MAX_REALS || cache > GPT_MAX_REALS)
        return snprintf(why, len,
                        "%lld parameters and a %lld-number key/value cache: the limit "
                        "is %ld each",
                        (long long)params, (long long)cache, GPT_MAX_REALS),
               0;
    return 1;
}

Gpt *gpt_new(GptConfig cfg) {
    char why[160];
    if (!gpt_config_check(&cfg, why, sizeof why))
        fail(EXIT_SOFTWARE, "gpt_new",
             "use sizes >= 1 within the bounds of gpt.h and a width divisible by the "
             "heads",
             "bad config V=%d ctx=%d L=%d H=%d C=%d: %s", cfg.V, cfg.ctx, cfg.L, cfg.H,
             cfg.C, why);
    Gpt *g = xcalloc(1, sizeof(Gpt));
    g->cfg = cfg;
    g->ps = params_new();
    int C = cfg.C;
    g->wte = embedding_new(g->ps, "wte", cfg.V, C);
    g->wpe = embedding_new(g->ps, "wpe", cfg.ctx, C);
    g->h = xcalloc((size_t)cfg.L, sizeof(GptBlock));
    char p[64];
    for (int l = 0; l < cfg.L; l++) {
        GptBlock *b = &g->h[l];
        snprintf(p, sizeof p, "h.%d.ln_1", l);
        b->ln_1 = layernorm_new(g->ps, p, C);
        snprintf(p, sizeof p, "h.%d.attn.c_attn", l);
        b->c_attn = linear_new(g->ps, p, C, 3 * C, 1);
        snprintf(p, sizeof p, "h.%d.attn.c_proj", l);
        b->attn_proj = linear_new(g->ps, p, C, C, 1);
        snprintf(p, sizeof p, "h.%d.ln_2", l);
        b->ln_2 = layernorm_new(g->ps, p, C);
        snprintf(p, sizeof p, "h.%d.mlp.c_fc", l);
        b->c_fc = linear_new(g->ps, p, C, 4 * C, 1);
        snprintf(p, sizeof p, "h.%d.mlp.c_proj", l);
        b->mlp_proj = linear_new(g->ps, p, 4 * C, C, 1);
    }
    g->ln_f = layernorm_new(g->ps, "ln_f", C);
    params_alloc(g->ps);
    return g;
}

void gpt_init(Gpt *g, Rng *r) {
    for (int i = 0; i < g->ps->n; i++) {
        Tensor *t = g->ps->t[i];
        if (t->ndim == 2)
            init_normal(t, r, 0.02);
        else
            init_const(t, 0);
    }
    for (int l = 0; l < g->cfg.L; l++) {
        layernorm_reset(&g->h[l].ln_1);
        layernorm_reset(&g->h[l].ln_2);
    }
    layernorm_reset(&g->ln_f);
}

Gpt *gpt_copy(const Gpt *g) {
    Gpt *c = gpt_new(g->cfg);
    memcpy(c->ps->data, g->ps->data, (size_t)g->ps->size * sizeof(real));
    return c;
}

void gpt_free(Gpt *g) {
    if (!g) return;
    params_free(g->ps);
    xfree(g->h);
    xfree(g);
}

/*md
## The forward pass

Read it next to the shapes: the residual stream $x$ is $[B, T, C]$ from the
embeddings to the final LayerNorm. Each block adds two things to it:

- attention: $\mathrm{LN}_1(x)$ projected to $q, k, v$ (one $C \to 3C$
  linear), split into $H$ heads of width $h_d$; scores $q k^\top / \sqrt{h_d}$
  $[B, H, T, T]$; positions $j > i$ masked to $-\infty$ so position $i$ sees
  only its past; softmax over $j$; the weighted sum of values; heads merged
  back side by side and projected $C \to C$;
- the MLP: $\mathrm{LN}_2(x)$, $C \to 4C$, GELU, $4C \to C$.

The logits are $\mathrm{LN}_f(x)\, W_{te}^\top$: the score of byte $v$ is
the dot product of the final state with $v$'s own embedding.

Built as above, every small op keeps its output and its gradient on the
tape: attention's four $[B, H, T, T]$ tensors and the MLP's three
$[B, T, 4C]$ ones dominate. So the trainer asks for `GPT_FUSED`: attention
as one op (`t_causal_attention`, lib/ops_attention.c), which keeps only
the attention weights, and each linear layer with its bias, GELU and the
residual add after it as one (`t_linear`, lib/ops_matmul.c). Both compute
every number by the same expression in the same order as the chain of
small ops, so the two forms give the same bits, forward and backward;
`GPT_COMPOSED` is the one the figures below draw.
*/
/* Attention from the small ops, as the chapter draws it: x [B, T, 3C] ->
 * [B, T, C]; *p (if not NULL) receives the weights node [B, H, T, T]. */
static Tensor *attention_composed(Tape *Tp, Tensor *qkv, int H, Tensor **p_out) {
    int hd = qkv->shape[2] / 3 / H;
    real scale = (real)(1.0 / sqrt((double)hd));
    Tensor *q = t_split_heads(Tp, qkv, 0, 3, H); /* [B, H, T, hd] */
    Tensor *k = t_split_heads(Tp, qkv, 1, 3, H);
    Tensor *v = t_split_heads(Tp, qkv, 2, 3, H);
    Tensor *s = t_mul_scalar(Tp, t_matmul(Tp, q, k, 0, 1), scale); /* [B, H, T, T] */
    Tensor *p = t_softmax(Tp, t_causal_mask(Tp, s));               /* [B, H, T, T] */
    if (p_out) *p_out = p;
    return t_merge_heads(Tp, t_matmul(Tp, p, v, 0, 0)); /* [B, T, C] */
}

/* A linear layer with its bias, then GELU if gelu, then added to the
 * residual stream res if not NULL: from matmul, add, gelu and add
 * (composed), or as one t_linear node (fused). */
static Tensor *dense(Tape *Tp, const Linear *l, Tensor *x, int gelu, Tensor *res,
                     GptOps ops) {
    if (ops == GPT_FUSED)
        return t_linear(Tp, x, l->w, l->b, gelu ? LINEAR_GELU : LINEAR_NONE, res);
    Tensor *y = linear(Tp, l, x);
    if (gelu) y = t_gelu(Tp, y);
    return res ? t_add(Tp, res, y) : y;
}

Tensor *gpt_forward(Tape *Tp, const Gpt *g, const int *idx, int B, int T, GptOps ops,
                    Tensor **att) {
    const GptConfig *c = &g->cfg;
    if (B < 1 || T < 1 || T > c->ctx)
        fail(EXIT_SOFTWARE, "gpt_forward", "pass 1 <= T <= the context length, B >= 1",
             "B = %d, T = %d, context %d", B, T, c->ctx);
    if (ops != GPT_FUSED && ops != GPT_COMPOSED)
        fail(EXIT_SOFTWARE, "gpt_forward", "pass GPT_FUSED or GPT_COMPOSED", "ops = %d",
             (int)ops);
    if (att && ops != GPT_COMPOSED)
        fail(EXIT_SOFTWARE, "gpt_forward",
             "pass GPT_COMPOSED to receive the attention weights as nodes",
             "att asked of a fused forward");
    long n = (long)B * T;
    /* the position ids [B*T], 0..T-1 per row: the embedding borrows them until
     * tape_reset, so they live in the tape's arena (n reals hold n ints) */
    int *pos = (int *)(void *)tape_alloc(Tp, n);
    for (long i = 0; i < n; i++) pos[i] = (int)(i % T);

    Tensor *tok_emb = embedding(Tp, &g->wte, idx, 2, SHAPE(B, T)); /* [B, T, C] */
    Tensor *pos_emb = embedding(Tp, &g->wpe, pos, 2, SHAPE(B, T)); /* [B, T, C] */
    Tensor *x = t_add(Tp, tok_emb, pos_emb); /* the residual stream */
    for (int l = 0; l < c->L; l++) {
        const GptBlock *b = &g->h[l];
        Tensor *qkv = dense(Tp, &b->c_attn, layernorm(Tp, &b->ln_1, x), 0, NULL,
                            ops); /* [B, T, 3C] */
        Tensor *y = ops == GPT_FUSED
                        ? t_causal_attention(Tp, qkv, c->H) /* [B, T, C] */
                        : attention_composed(Tp, qkv, c->H, att ? &att[l] : NULL);
        x = dense(Tp, &b->attn_proj, y, 0, x, ops); /* x + proj(y) */
        Tensor *h = dense(Tp, &b->c_fc, layernorm(Tp, &b->ln_2, x), 1, NULL,
                          ops);                    /* [B, T, 4C] */
        x = dense(Tp, &b->mlp_proj, h, 0, x, ops); /* x + proj(h) */
    }
    x = layernorm(Tp, &g->ln_f, x);
    return t_matmul(Tp, x, g->wte.w, 0, 1); /* [B, T, V]: the tied head */
}

Tensor *gpt_loss(Tape *Tp, const Gpt *g, const int *idx, const int *targets, int B,
                 int T, GptOps ops, Tensor **logits) {
    Tensor *lg = gpt_forward(Tp, g, idx, B, T, ops, NULL);
    if (logits) *logits = lg;
    return t_cross_entropy(Tp, lg, targets);
}

GptObjective gpt_objective(const real *z, int n, int target) {
    if (n < 1 || n > 8 || target < 0 || target >= n)
        fail(EXIT_SOFTWARE, "gpt_objective",
             "pass 1 <= n <= 8 logits and a target in [0, n)", "n = %d, target %d", n,
             target);
    GptObjective o = {.n = n};
    int tgt[1] = {target};
    /* the categorical loss on its own tape: -log softmax(z)[target] */
    Tape *T = tape_new();
    Tensor *zc = tape_input(T, 2, SHAPE(1, n), 1);
    memcpy(zc->data, z, (size_t)n * sizeof(real));
    Tensor *ce = t_cross_entropy(T, zc, tgt);
    backward(T, ce);
    o.categorical = ce->data[0];
    memcpy(o.d_categorical, zc->grad, (size_t)n * sizeof(real));
    /* the binary form on a second tape: -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] */
    tape_reset(T);
    Tensor *zb = tape_input(T, 2, SHAPE(1, n), 1),
           *y = tape_input(T, 2, SHAPE(1, n), 0);
    memcpy(zb->data, z, (size_t)n * sizeof(real));
    y->data[target] = 1; /* one-hot */
    Tensor *p = t_softmax(T, zb);
    Tensor *one_minus_y = t_add_scalar(T, t_neg(T, y), 1),
           *one_minus_p = t_add_scalar(T, t_neg(T, p), 1);
    Tensor *bce =
        t_neg(T, t_sum(T, t_add(T, t_mul(T, y, t_log(T, p)),
                                t_mul(T, one_minus_y, t_log(T, one_minus_p)))));
    backward(T, bce);
    o.binary = bce->data[0];
    memcpy(o.p, p->data, (size_t)n * sizeof(real));
    memcpy(o.d_binary, zb->grad, (size_t)n * sizeof(real));
    tape_free(T);
    return o;
}

GptHeadFocus gpt_head_focus(const Tensor *att, int h) {
    int n = att->shape[2];
    double dist = 0;
    int prev = 0;
    for (int i = 1; i < n; i++) {
        const real *row =
            att->data + ((long)h * n + i) * n; /* [n]: query i's weights */
        int best = 0;
        for (int j = 1; j <= i; j++)
            if (row[j] > row[best]) best = j;
        dist += i - best;
        prev += best == i - 1;
    }
    return (GptHeadFocus){.back = dist / (n - 1), .prev = (double)prev / (n - 1)};
}

void gpt_attention_write(FILE *f, const Tensor *att, int layer) {
    int H = att->shape[1], n = att->shape[2];
    fprintf(f, "# query\tkey\tweight (layer %d; block h = head h)\n", layer);
    for (int h = 0; h < H; h++) {
        if (h) fprintf(f, "\n\n");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                fprintf(f, "%d\t%d\t%.5f\n", i, j,
                        j <= i ? (double)att->data[((long)h * n + i) * n + j] : 0.0);
    }
}

/* ---- bytes and ids ---------------------------------------------------------- */

GptVocab gpt_vocab_of(const unsigned char *bytes, long n) {
    GptVocab v = {.V = 0};
    int present[256] = {0};
    for (long i = 0; i < n; i++) present[bytes[i]] = 1;
    for (int b = 0; b < 256; b++) {
        v.id[b] = present[b] ? v.V : -1;
        if (present[b]) v.byte[v.V++] = (unsigned char)b;
    }
    return v;
}

long gpt_vocab_encode(const GptVocab *v, const unsigned char *bytes, long n, int *ids) {
    long k = 0;
    for (long i = 0; i < n; i++)
        if (v->id[bytes[i]] >= 0) ids[k++] = v->id[bytes[i]];
    return k;
}

long gpt_encode_split(const GptVocab *v, const unsigned char *bytes, long n, int **ids,
                      GptTokens *train, GptTokens *val) {
    *ids = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    long m = gpt_vocab_encode(v, bytes, n, *ids);
    long ntrain = m * 9 / 10;
    *train = (GptTokens){*ids, ntrain};
    *val = (GptTokens){*ids + ntrain, m - ntrain};
    return m;
}

int gpt_vocab_prompt(const GptVocab *v, const char *text, int *ids, int max) {
    int n = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s && n < max; s++) {
        if (v->id[*s] < 0)
            fail(EXIT_DATA, "the corpus",
                 "use a corpus that contains every byte of the prompts (the fortunes "
                 "package's)",
                 "byte 0x%02x ('%c') of a prompt is not in the corpus's vocabulary of "
                 "%d bytes",
                 *s, *s >= 32 && *s < 127 ? *s : '?', v->V);
        ids[n++] = v->id[*s];
    }
    if (n < 1)
        fail(EXIT_SOFTWARE, "gpt_vocab_prompt", "pass a non-empty prompt and max >= 1",
             "empty prompt");
    return n;
}

void gpt_tokens_check(GptTokens s, int ctx, const char *what, const char *hint) {
    if (s.n < (long)ctx + 1)
        fail(EXIT_DATA, what, hint,
             "%ld tokens, fewer than one window of context + 1 = %d tokens", s.n,
             ctx + 1);
}

/* ---- the trainer --------------------------------------------------------------- */

GptTrainConfig gpt_train_config_default(void) {
    return (GptTrainConfig){.lr = 1e-3,
                            .beta1 = 0.9,
                            .beta2 = 0.99,
                            .eps = 1e-8,
                            .weight_decay = 0.1,
                            .warmup = 100,
                            .clip = 1.0,
                            .batch = 32,
                            .windows = "gpt/windows"};
}

GptTrainer *gpt_trainer_new(Gpt *model, const GptTrainConfig *cfg, uint64_t seed) {
    if (cfg->batch < 1 || cfg->warmup < 1 || !(cfg->lr > 0) || !(cfg->clip > 0) ||
        !cfg->windows)
        fail(EXIT_SOFTWARE, "gpt_trainer_new", "start from gpt_train_config_default()",
             "batch %d, warmup %d, lr %g, clip %g, windows stream %s", cfg->batch,
             cfg->warmup, cfg->lr, cfg->clip, cfg->windows ? cfg->windows : "NULL");
    GptTrainer *t = xcalloc(1, sizeof(GptTrainer));
    t->cfg = *cfg;
    t->model = model;
    t->opt = adamw_new(model->ps, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps,
                       cfg->weight_decay);
    t->tape = tape_new();
    rng_stream(&t->windows, seed, cfg->windows);
    size_t n = (size_t)cfg->batch * (size_t)model->cfg.ctx;
    t->x = xmalloc(n * sizeof(int));
    t->y = xmalloc(n * sizeof(int));
    return t;
}

void gpt_trainer_free(GptTrainer *t) {
    if (!t) return;
    optim_free(t->opt);
    tape_free(t->tape);
    xfree(t->x);
    xfree(t->y);
    xfree(t);
}

/* Window i of the batch: x row i = tok[o, o + ctx), y row i = tok[o + 1, o + ctx]. */
static void window(const int *tok, long o, int i, int ctx, int *x, int *y) {
    memcpy(x + (long)i * ctx, tok + o, (size_t)ctx * sizeof(int));
    memcpy(y + (long)i * ctx, tok + o + 1, (size_t)ctx * sizeof(int));
}

GptStepStats gpt_trainer_step(GptTrainer *t, GptTokens train) {
    int ctx = t->model->cfg.ctx;
    gpt_tokens_check(train, ctx, "the training split", "use a longer corpus");
    for (int i = 0; i < t->cfg.batch; i++) /* offsets in [0, n - ctx - 1) */
        window(train.tok,
               (long)(rng_uniform(&t->windows) * (double)(train.n - ctx - 1)), i, ctx,
               t->x, t->y);
    return gpt_trainer_step_on(t, t->x, t->y);
}

GptStepStats gpt_trainer_step_on(GptTrainer *t, const int *x, const int *y) {
    const GptTrainConfig *c = &t->cfg;
    Gpt *g = t->model;
    GptStepStats st = {.step = t->steps + 1};
    /* BEGIN SOLUTION ex06-warmup
     * HINT: step t->steps + 1 (the first is 1) of the linear warm-up: c->lr times that step
     * HINT: over c->warmup, and c->lr itself once the warm-up is over.
     * STUB: st.lr = c->lr;
     */
    st.lr = c->lr * fmin(1.0, (t->steps + 1) / (double)c->warmup);
    /* END SOLUTION ex06-warmup */
    optim_set_lr(t->opt, st.lr);
    double t0 = now_seconds();
    tape_reset(t->tape);
    Tensor *loss = gpt_loss(t->tape, g, x, y, c->batch, g->cfg.ctx, GPT_FUSED, NULL);
    double t1 = now_seconds();
    params_zero_grad(g->ps);
    backward(t->tape, loss);
    st.loss = loss->data[0];
    if (t->reduce) t->reduce(t->reduce_arg, g->ps, &st.loss);
    double t2 = now_seconds();
    st.grad_norm = clip_grad_norm(g->ps, c->clip);
    optim_step(t->opt);
    double t3 = now_seconds();
    st.seconds[0] = t1 - t0, st.seconds[1] = t2 - t1, st.seconds[2] = t3 - t2;
    t->steps++;
    return st;
}

/* The mean loss of g over nb batches of B windows evenly spaced in s, on tape
 * T with window buffers x, y [B, ctx]. */
static GptEvalStats eval_windows(Tape *T, const Gpt *g, GptTokens s, int B, int nb,
                                 int *x, int *y) {
    int ctx = g->cfg.ctx;
    gpt_tokens_check(s, ctx, "the evaluation split", "use a longer corpus");
    long nwin = (long)nb * B, span = s.n - ctx - 1;
    double sum = 0;
    for (int b = 0; b < nb; b++) {
        for (int i = 0; i < B; i++)
            window(s.tok, span * (b * B + i) / nwin, i, ctx, x, y);
        tape_reset(T);
        sum += gpt_loss(T, g, x, y, B, ctx, GPT_FUSED, NULL)->data[0];
    }
    return (GptEvalStats){.loss = sum / nb, .windows = nwin};
}

GptEvalStats gpt_trainer_eval(GptTrainer *t, GptTokens s, int nbatches) {
    return eval_windows(t->tape, t->model, s, t->cfg.batch, nbatches, t->x, t->y);
}

GptEvalStats gpt_evaluate(const Gpt *g, GptTokens s, int batch, int nbatches) {
    /* checked before anything is allocated, so a failure leaks nothing */
    gpt_tokens_check(s, g->cfg.ctx, "the evaluation split", "use a longer corpus");
    size_t n = (size_t)batch * (size_t)g->cfg.ctx;
    int *x = xmalloc(n * sizeof(int)), *y = xmalloc(n * sizeof(int));
    Tape *T = tape_new();
    GptEvalStats e = eval_windows(T, g, s, batch, nbatches, x, y);
    tape_free(T);
    xfree(x);
    xfree(y);
    return e;
}

double gpt_trainer_run(GptTrainer *t, GptTokens train, int steps, int every,
                       void (*at)(void *arg, int step), void *arg, const char *label) {
    if (steps < 0 || every < 1)
        fail(EXIT_SOFTWARE, "gpt_trainer_run", "pass steps >= 0 and every >= 1",
             "steps %d, every %d", steps, every);
    Progress p;
    if (label) progress_start(&p, label, steps);
    double seconds = 0;
    for (int s = 0;; s++) {
        if (at && (s % every == 0 || s == steps)) at(arg, s);
        if (s == steps) break;
        GptStepStats st = gpt_trainer_step(t, train);
        seconds += gpt_step_seconds(st);
        if (label) progress_update(&p, s + 1, st.loss);
    }
    if (label) progress_end(&p);
    return seconds;
}

char *gpt_config_str(const GptConfig *cfg, char *buf, size_t len) {
    snprintf(buf, len, "gpt V=%d ctx=%d L=%d H=%d C=%d", cfg->V, cfg->ctx, cfg->L,
             cfg->H, cfg->C);
    return buf;
}

/* "<key><integer>" at *s: the integer into *out, *s past it. 0 if absent or not an int. */
static int parse_int(const char **s, const char *key, int *out) {
    size_t k = strlen(key);
    if (strncmp(*s, key, k) != 0) return 0;
    char *end;
    errno = 0;
    long v = strtol(*s + k, &end, 10);
    if (end == *s + k || errno == ERANGE || v < INT_MIN || v > INT_MAX) return 0;
    *out = (int)v;
    *s = end;
    return 1;
}

int gpt_config_parse(const char *text, GptConfig *cfg, char *why, size_t len) {
    GptConfig c;
    const char *s = text;
    if (!parse_int(&s, "gpt V=", &c.V) || !parse_int(&s, " ctx=", &c.ctx) ||
        !parse_int(&s, " L=", &c.L) || !parse_int(&s, " H=", &c.H) ||
        !parse_int(&s, " C=", &c.C)) {
        snprintf(why, len, "not a \"gpt V=.. ctx=.. L=.. H=.. C=..\" line of integers");
        return 0;
    }
    if (!gpt_config_check(&c, why, len)) return 0;
    *cfg = c;
    return 1;
}

void gpt_save(const char *path, const Gpt *g, const GptVocab *vocab) {
    char meta[128 + 2 * 256 + 1];
    gpt_config_str(&g->cfg, meta, sizeof meta);
    size_t k = strlen(meta);
    k += (size_t)snprintf(meta + k, sizeof meta - k, " vocab=");
    for (int i = 0; i < g->cfg.V; i++)
        k += (size_t)snprintf(meta + k, sizeof meta - k, "%02x", vocab->byte[i]);
    checkpoint_save(path, g->ps, meta);
}

static long file_bytes(const char *path, const char *hint) {
    FILE *f = xfopen(path, "rb", hint);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

Gpt *gpt_load(const char *path, GptVocab *vocab, const char *hint) {
    char meta[1024], why[160];
    checkpoint_meta(path, meta, sizeof meta,
                    hint); /* the whole file checked: lengths, checksum */
    GptConfig cfg;
    if (!gpt_config_parse(meta, &cfg, why, sizeof why))
        fail(EXIT_DATA, path, hint,
             "not a GPT checkpoint this program can build (%s): its meta line is "
             "\"%.80s\"",
             why, meta);
    const char *hex = strstr(meta, " vocab=");
    if (!hex || strlen(hex + 7) != 2 * (size_t)cfg.V)
        fail(EXIT_DATA, path, hint,
             "damaged: the meta line's vocabulary is not V = %d bytes in hex", cfg.V);
    unsigned char bytes_of[256];
    for (int i = 0; i < cfg.V; i++) {
        unsigned b;
        if (sscanf(hex + 7 + 2 * i, "%2x", &b) != 1 || (i > 0 && b <= bytes_of[i - 1]))
            fail(EXIT_DATA, path, hint,
                 "damaged: the vocabulary in the meta line is not increasing hex at "
                 "byte %d",
                 i);
        bytes_of[i] = (unsigned char)b;
    }
    /* every number takes at least 4 bytes: a meta line promising more numbers
     * than the file holds is refused before the model is allocated */
    long bytes = file_bytes(path, hint);
    if (gpt_config_params(&cfg) > bytes / 4)
        fail(EXIT_DATA, path, hint,
             "damaged: its meta line describes a model of %lld parameters, the file of "
             "%ld "
             "bytes cannot hold them",
             (long long)gpt_config_params(&cfg), bytes);
    Gpt *g = gpt_new(cfg);
    checkpoint_load(path, g->ps, hint);
    *vocab = gpt_vocab_of(bytes_of, cfg.V); /* increasing and distinct: the same list */
    return g;
}

/*md
## Sampling

To draw the next byte we divide the logits by a *temperature* $\tau$ (below 1
sharpens the distribution, above 1 flattens it), optionally keep only the
$k$ largest (top-$k$: the long tail of unlikely bytes never gets picked),
and draw from the softmax of what is left.
*/
int gpt_sample_logits(const real *logits, int V, double temperature, int top_k,
                      Rng *r) {
    /* BEGIN SOLUTION ex05-sampling
     * HINT: find the k-th largest logit (keep every logit >= it), then draw i with probability
     * HINT: exp((logit_i - max) / temperature) / sum over the kept: one rng_uniform(r) times the
     * HINT: sum, walked through the running sum.
     * STUB: (void)logits, (void)V, (void)temperature, (void)top_k, (void)r;
     * STUB: return 0;
     */
    double thresh = -INFINITY; /* keep logits >= thresh */
    if (top_k > 0 &&
        top_k <
            V) { /* thresh = the k-th largest: the smallest with fewer than k above it */
        thresh = INFINITY;
        for (int i = 0; i < V; i++) {
            int above = 0;
            for (int j = 0; j < V; j++) above += logits[j] > logits[i];
            if (above < top_k && logits[i] < thresh) thresh = logits[i];
        }
    }
    double m = -INFINITY, s = 0;
    for (int i = 0; i < V; i++)
        if (logits[i] >= thresh && logits[i] > m) m = logits[i];
    for (int i = 0; i < V; i++)
        if (logits[i] >= thresh) s += exp((logits[i] - m) / temperature);
    double u = rng_uniform(r) * s, acc = 0;
    int last = 0;
    for (int i = 0; i < V; i++) {
        if (logits[i] < thresh) continue;
        acc += exp((logits[i] - m) / temperature);
        last = i;
        if (u < acc) return i;
    }
    return last; /* u == s up to rounding */
    /* END SOLUTION ex05-sampling */
}

/*md
### The key/value cache

In a causal model, position $i$'s keys and values depend only on bytes
$0..i$, so they never change once computed. Generating byte $n+1$ needs the
new position's query against the keys of all earlier positions, and their
values: we keep them, per layer, in `k` and `v` $[L, \text{ctx}, C]$. One
step then runs a single position through the layers: a few matrix-vector
products and an attention over the $n$ cached positions. The code below is
the same arithmetic as `gpt_forward`, one row at a time, without the tape.
*/
GptCache *gpt_cache_new(const Gpt *g) {
    const GptConfig *c = &g->cfg;
    GptCache *k = xcalloc(1, sizeof(GptCache));
    k->g = g;
    long kv = (long)c->L * c->ctx * c->C;
    k->k = xcalloc((size_t)kv, sizeof(real));
    k->v = xcalloc((size_t)kv, sizeof(real));
    k->x = xcalloc((size_t)c->C, sizeof(real));
    k->xn = xcalloc((size_t)c->C, sizeof(real));
    k->qkv = xcalloc((size_t)3 * c->C, sizeof(real));
    k->att = xcalloc((size_t)c->ctx, sizeof(real));
    k->y = xcalloc((size_t)c->C, sizeof(real));
    k->hid = xcalloc((size_t)4 * c->C, sizeof(real));
    k->logits = xcalloc((size_t)c->V, sizeof(real));
    return k;
}

void gpt_cache_free(GptCache *c) {
    if (!c) return;
    real *bufs[] = {c->k, c->v, c->x, c->xn, c->qkv, c->att, c->y, c->hid, c->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) xfree(bufs[i]);
    xfree(c);
}

void gpt_cache_clear(GptCache *c) {
    c->n = 0;
}

/* out [C] = layernorm of x [C] with gain w [C], bias b [C] (as t_layernorm) */
static void ln_row(real *out, const real *x, const LayerNorm *ln, int C) {
    real m = 0, v = 0;
    for (int i = 0; i < C; i++) m += x[i];
    m /= C;
    for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
    v /= C;
    real s = (real)(1 / sqrt((double)(v + ln->eps)));
    for (int i = 0; i < C; i++)
        out[i] = (x[i] - m) * s * ln->g->data[i] + ln->b->data[i];
}

/* a [n] . b [n]. The simd reduction lets the compiler keep several partial
 * sums in vector lanes (a fixed order, so the same bits every run): without
 * it a float sum is one long serial chain and the cache gains little. */
static real dot(const real *a, const real *b, int n) {
    real s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* out [l->out] (+)= W x + b, W [out, in] */
static void linear_row(real *out, const Linear *l, const real *x, int accumulate) {
    for (int o = 0; o < l->out; o++) {
        real s =
            (l->b ? l->b->data[o] : 0) + dot(l->w->data + (long)o * l->in, x, l->in);
        out[o] = accumulate ? out[o] + s : s;
    }
}

static real gelu_scalar(real x) {
    return (real)0.5 * x *
           (1 + (real)tanh((double)((real)0.7978845608028654 *
                                    (x + (real)0.044715 * x * x * x))));
}

const real *gpt_cache_step(GptCache *c, int token) {
    const Gpt *g = c->g;
    const GptConfig *cf = &g->cfg;
    int C = cf->C, H = cf->H, hd = C / H, n = c->n;
    if (n >= cf->ctx)
        fail(EXIT_SOFTWARE, "gpt_cache_step",
             "clear the cache (or slide the window) before it overflows",
             "the cache already holds %d positions, the context is %d", n, cf->ctx);
    if (token < 0 || token >= cf->V)
        fail(EXIT_SOFTWARE, "gpt_cache_step", "pass a token id in [0, V)",
             "token %d, V = %d", token, cf->V);
    real scale = (real)(1.0 / sqrt((double)hd));
    real *x = c->x; /* [C]: this position's residual stream */
    for (int i = 0; i < C; i++)
        x[i] = g->wte.w->data[(long)token * C + i] + g->wpe.w->data[(long)n * C + i];
    for (int l = 0; l < cf->L; l++) {
        const GptBlock *b = &g->h[l];
        real *K = c->k + (long)l * cf->ctx * C,
             *Vv = c->v + (long)l * cf->ctx * C; /* [ctx, C] */
        ln_row(c->xn, x, &b->ln_1, C);
        linear_row(c->qkv, &b->c_attn, c->xn, 0); /* [3C]: q, k, v */
        memcpy(K + (long)n * C, c->qkv + C, (size_t)C * sizeof(real));
        memcpy(Vv + (long)n * C, c->qkv + 2 * C, (size_t)C * sizeof(real));
        for (int h = 0; h < H; h++) {
            const real *q = c->qkv + h * hd; /* [hd] */
            real m = -INFINITY, s = 0;
            for (int j = 0; j <= n; j++) { /* scores against positions 0..n */
                c->att[j] = dot(q, K + (long)j * C + h * hd, hd) * scale;
                if (c->att[j] > m) m = c->att[j];
            }
            for (int j = 0; j <= n; j++)
                s += c->att[j] = (real)exp((double)(c->att[j] - m));
            real *y = c->y + h * hd; /* [hd] */
            for (int e = 0; e < hd; e++) y[e] = 0;
            for (int j = 0; j <= n; j++) {
                real p = c->att[j] / s;
                const real *vj = Vv + (long)j * C + h * hd;
#pragma omp simd
                for (int e = 0; e < hd; e++) y[e] += p * vj[e];
            }
        }
        linear_row(x, &b->attn_proj, c->y, 1); /* x += proj(y) */
        ln_row(c->xn, x, &b->ln_2, C);
        linear_row(c->hid, &b->c_fc, c->xn, 0); /* [4C] */
        for (int i = 0; i < 4 * C; i++) c->hid[i] = gelu_scalar(c->hid[i]);
        linear_row(x, &b->mlp_proj, c->hid, 1); /* x += mlp */
    }
    ln_row(c->xn, x, &g->ln_f, C);
    for (int v = 0; v < cf->V; v++)
        c->logits[v] = dot(g->wte.w->data + (long)v * C, c->xn, C); /* tied head */
    c->n = n + 1;
    return c->logits;
}

/*md
### Generating past the context

The model has learned position embeddings for positions $0..\text{ctx}-1$ only.
When the window is full we keep its last $\text{ctx}/2$ bytes and go on from
those. Every kept byte now sits at a new position, so its cached keys and
values are stale and the cache is refilled from them: a cost of ctx/2 steps
once every ctx/2 new bytes, instead of a whole forward pass for every byte.
*/

/* The window [*s, len) of hist that the next prediction sees: cut to the
 * last ctx/2 tokens when it no longer fits. Returns 1 if it was cut. */
static int slide(int *s, int len, int ctx) {
    if (len - *s <= ctx) return 0;
    *s = len - (ctx / 2 > 0 ? ctx / 2 : 1);
    return 1;
}

static void check_prompt(const Gpt *g, const int *prompt, int np, int n_new) {
    if (np < 1 || n_new < 0)
        fail(EXIT_SOFTWARE, "gpt_generate", "give a prompt of at least one token",
             "np = %d, n_new = %d", np, n_new);
    for (int i = 0; i < np; i++)
        if (prompt[i] < 0 || prompt[i] >= g->cfg.V)
            fail(EXIT_DATA, "gpt_generate",
                 "encode the prompt with the model's vocabulary",
                 "prompt token %d at position %d is outside [0, %d)", prompt[i], i,
                 g->cfg.V);
}

void gpt_generate(const Gpt *g, const int *prompt, int np, int *out, int n_new,
                  double temperature, int top_k, Rng *r) {
    check_prompt(g, prompt, np, n_new);
    int ctx = g->cfg.ctx, len = np, s = 0;
    int *hist = xmalloc((size_t)(np + n_new) * sizeof(int)); /* every token so far */
    memcpy(hist, prompt, (size_t)np * sizeof(int));
    GptCache *c = gpt_cache_new(g);
    slide(&s, len, ctx);
    const real *logits = NULL;
    for (int i = s; i < len; i++) logits = gpt_cache_step(c, hist[i]); /* the prompt */
    for (int t = 0; t < n_new; t++) {
        int next = gpt_sample_logits(logits, g->cfg.V, temperature, top_k, r);
        out[t] = hist[len++] = next;
        if (t == n_new - 1) break;
        if (slide(&s, len, ctx)) { /* refill from the kept window */
            gpt_cache_clear(c);
            for (int i = s; i < len; i++) logits = gpt_cache_step(c, hist[i]);
        } else {
            logits = gpt_cache_step(c, next);
        }
    }
    gpt_cache_free(c);
    xfree(hist);
}

void gpt_generate_nocache(const Gpt *g, const int *prompt, int np, int *out, int n_new,
                          double temperature, int top_k, Rng *r) {
    check_prompt(g, prompt, np, n_new);
    int ctx = g->cfg.ctx, V = g->cfg.V, len = np, s = 0;
    int *hist = xmalloc((size_t)(np + n_new) * sizeof(int));
    memcpy(hist, prompt, (size_t)np * sizeof(int));
    Tape *Tp = tape_new();
    for (int t = 0; t < n_new; t++) {
        slide(&s, len, ctx);
        tape_reset(Tp);
        int T = len - s;
        Tensor *logits =
            gpt_forward(Tp, g, hist + s, 1, T, GPT_FUSED, NULL); /* [1, T, V] */
        int next = gpt_sample_logits(logits->data + (long)(T - 1) * V, V, temperature,
                                     top_k, r);
        out[t] = hist[len++] = next;
    }
    tape_free(Tp);
    xfree(hist);
}
