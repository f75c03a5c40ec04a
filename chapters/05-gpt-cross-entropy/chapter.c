/* chapters/05-gpt-cross-entropy/chapter.c - Chapter 5: a small GPT,
 * pre-trained with cross-entropy on the bytes of the fortunes corpus.
 *
 * Teaches: what a GPT's training objective really is (the categorical
 * cross-entropy of the next byte, not the binary cross-entropy the article
 * writes), a baseline to beat (a counting bigram model), the transformer
 * piece by piece with its shapes, pre-training with AdamW, sampling with
 * temperature and top-k from a key/value cache, and a checkpoint for
 * chapter 6. The model and its one trainer are in gpt.c, after this file.
 * Leaves out: sub-word tokenizers (bytes are the tokens), dropout, learning
 * rate decay, mixed precision, multi-GPU anything.
 * Run: make run-05 (minutes; its timing.tsv says how long on this machine), or
 *   build/bin/05 --step.
 *
 * Dimension key: B = batch, T = context (positions), V = vocabulary (the
 * bytes present), C = width, H = heads, hd = C/H, L = layers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "gpt.h"
#include "notebook.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

/*md
# A GPT, trained with cross-entropy

A GPT (Radford et al., 2018, "Improving Language Understanding by Generative
Pre-Training") is a stack of causal self-attention blocks trained to predict
the next token of a text from the tokens before it. Ours reads *bytes*: the
vocabulary is every byte value that occurs in the corpus, so there is no
tokenizer to explain, and any text made of those bytes can be encoded. The
model is the reference GPT of this course: 4 layers, 4 heads, width 128,
context 64, {{parameters:'.0f}} parameters, trained on the
{{train MB:.1f}} MB training split of {{corpus MB:.1f}} MB of
fortune-cookie text.
*/

/* ---- the chapter's state, shared by the cells; freed by teardown ---- */
static struct {
    Text *corpus;
    GptVocab vocab; /* the bytes present, and their ids */
    int *tok;       /* [ntok] the corpus as ids */
    long ntok;
    GptTokens train, val; /* the first 90 % of tok, and the rest */
    GptConfig cfg;        /* the model's shape (smaller with --quick) */
    Gpt *gpt;
    GptTrainer *trainer;
    double uniform_loss, bigram_loss;
} ch;

static void teardown(void) {
    gpt_trainer_free(ch.trainer);
    gpt_free(ch.gpt);
    xfree(ch.tok);
    text_free(ch.corpus);
}

/*md
## The corpus and its bytes

Every plain file of Debian's `fortunes` package except `songs-poems` (kept
back for fine-tuning in chapter 6), concatenated in file-name order. Each
byte becomes an id: the vocabulary is the set of byte values present,
sorted, so id $i$ is the $i$-th smallest byte. The first $90\%$ is the
training split, the last $10\%$ the validation split; because the files are
concatenated in order, the validation text is the end of `tao` (whose
beginning is in the training split), then files the model never trains on
(`translate-me`, `wisdom`, `work` and `zippy`): a more honest test than a
random split, which would put windows of the same fortunes on both sides.
*/
static void cell_corpus(void) {
    static const char *const exclude[] = {"songs-poems", NULL};
    ch.corpus = corpus_load(nb_data(), exclude, NULL);
    ch.vocab = gpt_vocab_of(ch.corpus->bytes, ch.corpus->n);
    int V = ch.vocab.V;
    ch.ntok = gpt_encode_split(&ch.vocab, ch.corpus->bytes, ch.corpus->n, &ch.tok,
                               &ch.train, &ch.val);
    if (nb_quick())
        ch.cfg = (GptConfig){.V = V, .ctx = 32, .L = 2, .H = 2, .C = 32};
    else
        ch.cfg = (GptConfig){.V = V, .ctx = 64, .L = 4, .H = 4, .C = 128};
    const char *hint =
        "use a corpus of at least ten windows (--data DIR, or the fortunes package)";
    gpt_tokens_check(ch.train, ch.cfg.ctx, "the corpus's training split", hint);
    gpt_tokens_check(ch.val, ch.cfg.ctx, "the corpus's validation split", hint);
    nb_printf("corpus: %ld bytes, vocabulary V = %d distinct bytes\n", ch.ntok, V);
    nb_printf("train: %ld bytes, val: %ld bytes\n", ch.train.n, ch.val.n);
    int ascii = 0;
    for (int i = 0; i < V; i++) ascii += ch.vocab.byte[i] < 128;
    nb_printf("%d of the %d bytes are ASCII; the others are pieces of UTF-8 or Latin-1 "
              "characters\n",
              ascii, V);
    nb_printf("the first 240 bytes (fortunes are separated by a line holding %%):\n");
    nb_printf("----\n%.240s\n----\n", (const char *)ch.corpus->bytes);
    nb_metric("corpus bytes", (double)ch.ntok, "bytes");
    nb_metric("vocabulary", V, "bytes");
    nb_value("corpus MB", ch.ntok / 1e6, "MB");
    nb_value("train MB", ch.train.n / 1e6, "MB");
}

/*md
## The objective

The article (its section `4.3`) writes the GPT loss as
$$L = -\sum_{i=1}^T [y_i \log(p_{\theta}(y_i | x_1, \ldots, x_{i-1})) + (1 - y_i) \log(1 - p_{\theta}(y_i | x_1, \ldots, x_{i-1}))$$
Its sum over the positions $i = 1..T$ of the text is right: the
log-likelihood of a text is a sum over its positions. Its defect is $y_i$,
which plays two parts. It is the next word, the thing predicted
("预测下一个词$y_i$的概率"), and it is a 0/1 label
("$y_i$是实际生成的标签"): only a number can be
subtracted from 1 in $1 - y_i$. Read with $y_i$ as the label 1 of the word
that occurred, the second term is always zero and what remains,
$-\sum_i \log p_\theta(y_i \mid x_1, \ldots, x_{i-1})$, is the right loss;
read with $y_i$ as a word, the formula has no meaning. (Its bracket never
closes, either.) What its second term reaches for
("我们希望模型能够最小化未发生的概率$1 - y_i$") is a binary
cross-entropy over the vocabulary, $-\sum_v [y_v \log p_v + (1 - y_v)\log(1 - p_v)]$
with $y$ one-hot: the loss of $V$ independent yes/no questions ("is the
next byte an `a`? a `b`? ..."), the right loss for multi-label outputs.

A language model answers one question with $V$ possible answers: its output
is one probability distribution $p = \mathrm{softmax}(z)$ over the
vocabulary, and the probability it gives a text is the product of the
probabilities of each actual next byte. So it is trained by maximum
likelihood, minimising the *categorical* cross-entropy, the negative
log-likelihood of the next byte:
$$\mathcal L = -\frac{1}{N}\sum_{t} \log p(x_t \mid x_{<t}),$$
in nats per byte. Only $p$ of the byte that occurred matters, and its
gradient with respect to the logits is $p - y$. Below, two predictions
give the true byte (id 0) the same probability $\frac12$ but spread the
other half differently: A evenly over four bytes ($z_0 = \ln 4$, the others
$0$), B on one byte. The likelihood (and the categorical loss) cannot tell
them apart; the binary form over the vocabulary can, and its gradient is
not $p - y$.
*/
static void print_vec(const char *before, const real *v, int n, const char *fmt) {
    nb_printf("%s[", before);
    for (int i = 0; i < n; i++) {
        if (i) nb_printf(" ");
        nb_printf(fmt, (double)v[i]);
    }
    nb_printf("]");
}

static GptObjective show_objective(const char *label, const real *z) {
    GptObjective o = gpt_objective(z, 5, 0);
    print_vec(label, o.p, 5, "%.3f");
    nb_printf("\n    categorical  -log p_0 = %.4f   dL/dz = ", o.categorical);
    real pmy[5]; /* p - y, to print under the tape's gradient */
    for (int i = 0; i < 5; i++) pmy[i] = o.p[i] - (i == 0);
    print_vec("", o.d_categorical, 5, "% .3f");
    print_vec("\n                                     p - y = ", pmy, 5, "% .3f");
    nb_printf("\n    binary over the bytes  = %.4f   dL/dz = ", o.binary);
    print_vec("", o.d_binary, 5, "% .3f");
    nb_printf("\n");
    return o;
}

static void cell_objective(void) {
    /* both put p_0 = 1/2 on the true byte; A spreads the rest evenly, B on one byte */
    real za[5] = {(real)log(4.0), 0, 0, 0, 0}; /* p = [4, 1, 1, 1, 1] / 8 */
    real zb[5] = {0, 0, -30, -30, -30};        /* p ~ [0.5, 0.5, 0, 0, 0] */
    GptObjective a = show_objective("A: p = ", za), b = show_objective("B: p = ", zb);
    int same = fabs(a.categorical - b.categorical) < 1e-6;
    nb_printf("categorical loss: A %.4f, B %.4f: %s\n", a.categorical, b.categorical,
              same ? "the same, as the likelihood of the text is" : "DIFFERENT");
    nb_printf("binary form:      A %.4f, B %.4f: %s\n", a.binary, b.binary,
              fabs(a.binary - b.binary) > 1e-3 ? "it ranks them differently"
                                               : "the same");
    ch.uniform_loss = log((double)ch.vocab.V);
    nb_printf("\nA model that knows nothing gives every byte 1/V: loss ln V = ln %d = "
              "%.4f nats per byte.\n",
              ch.vocab.V, ch.uniform_loss);
    nb_printf("A perfect model of an unpredictable text still pays its entropy; the "
              "gap between the two is\n"
              "what training can win. (1 nat = 1.443 bits.)\n");
    nb_metric("uniform loss ln V", ch.uniform_loss, "nats/byte");
}

/*md
## A baseline: the bigram model

Before a transformer, the simplest model that uses context: count, in the
training split, how often byte $b$ follows byte $a$, and predict
$p(b \mid a) = (n_{ab} + \alpha) / (n_a + \alpha V)$. The pseudo-count
$\alpha$ keeps unseen pairs from getting probability 0 (an infinite loss).
Its validation loss is the line the GPT has to get below: anything a model
learns beyond it comes from looking further back than one byte.
*/
static void cell_bigram(void) {
    int V = ch.vocab.V;
    const int *tok = ch.tok;
    long ntrain = ch.train.n, ntok = ch.ntok;
    long *n = xcalloc((size_t)V * V, sizeof(long)),
         *row = xcalloc((size_t)V, sizeof(long));
    for (long i = 0; i + 1 < ntrain; i++)
        n[(long)tok[i] * V + tok[i + 1]]++, row[tok[i]]++;
    const double alphas[] = {1, 0.1, 0.01};
    nb_printf("%8s %14s %14s\n", "alpha", "train loss", "val loss");
    ch.bigram_loss = INFINITY;
    for (int a = 0; a < 3; a++) {
        double al = alphas[a], loss[2] = {0, 0};
        long from[2] = {0, ntrain}, to[2] = {ntrain, ntok};
        for (int s = 0; s < 2; s++) {
            for (long i = from[s]; i + 1 < to[s]; i++) {
                long c = n[(long)tok[i] * V + tok[i + 1]];
                loss[s] -= log((c + al) / (row[tok[i]] + al * V));
            }
            loss[s] /= (double)(to[s] - from[s] - 1);
        }
        nb_printf("%8g %14.4f %14.4f\n", al, loss[0], loss[1]);
        if (loss[1] < ch.bigram_loss) ch.bigram_loss = loss[1];
    }
    nb_printf("the best, %.4f nats per byte, is the baseline (generous: alpha picked "
              "on val)\n",
              ch.bigram_loss);
    nb_metric("bigram val loss", ch.bigram_loss, "nats/byte");
    xfree(n);
    xfree(row);
}
/*md
## The model, piece by piece

We build the model (`gpt_new`, `gpt_init` in gpt.c) and run it once on a
short prompt, then walk the tape that the forward pass recorded: every op
with its output shape, for the embeddings, the first block and the head (the
other blocks repeat the first). Look for: the two embeddings added into the
residual stream $[B, T, C]$; the fused $q,k,v$ projection $[B, T, 3C]$ split
into heads $[B, H, T, h_d]$; the scores $[B, H, T, T]$, scaled, masked and
softmaxed; the MLP widening to $4C$; and the last `matmul` with `wte.weight`,
the tied head, giving $[B, T, V]$ logits.

Then the causal mask at work, in layer 0, head 0. Row $i$ is the query at
position $i$, column $j$ a key; entries $j > i$ are set to $-\infty$ before
the softmax, so they get weight exactly 0 and no position sees its future.
At initialisation all scores are near 0, so each row spreads its weight
evenly over the past: $1/(i+1)$.

Then the parameter count. Per block: the $q,k,v$ and output projections
$4C^2 + 4C$, the MLP $8C^2 + 5C$, two LayerNorms $4C$: $12C^2 + 13C$. Plus
the embeddings $(V + T)C$ and the final LayerNorm $2C$; the head adds
nothing, it is `wte`.

Last, the whole model as a graph, drawn from the tape of a tiny
configuration (1 layer, 2 heads, width 8, context 4) so that it fits on a
page. Every box is an op that really ran, with its output shape.
*/
static const char *PROMPT = "The cat sat on the mat.";

static void print_node(const Tensor *t) {
    char s[64];
    nb_printf("  %-13s %-16s <-", OPS[t->op].name, shape_str(t, s, sizeof s));
    for (int k = 0; k < MAX_INPUTS && t->in[k]; k++) {
        const Tensor *a = t->in[k];
        if (a->name)
            nb_printf(" %s", a->name);
        else
            nb_printf(" #%d", a->id);
    }
    nb_printf("   #%d\n", t->id);
}

/* A byte for display: space and newline made visible. */
static const char *show_byte(unsigned char b) {
    static char buf[8];
    if (b == ' ') return "\xe2\x90\xa3";  /* ␣ */
    if (b == '\n') return "\xe2\x86\xb5"; /* ↵ */
    if (b == '\t') return "\xe2\x87\xa5"; /* ⇥ */
    if (b < 32 || b >= 127) {
        snprintf(buf, sizeof buf, "x%02x", b);
        return buf;
    }
    buf[0] = (char)b, buf[1] = 0;
    return buf;
}

/* s right-aligned in w columns (a UTF-8 character is one column). */
static void print_label(const char *s, int w) {
    int cols = 0;
    for (const char *c = s; *c; c++) cols += ((unsigned char)*c & 0xc0) != 0x80;
    nb_printf("%*s%s", w > cols ? w - cols : 0, "", s);
}

static void cell_model(void) {
    const GptConfig cfg = ch.cfg;
    int V = cfg.V;
    Rng r;
    rng_stream(&r, nb_seed(), "05/init");
    ch.gpt = gpt_new(cfg);
    Gpt *gpt = ch.gpt;
    gpt_init(gpt, &r);
    int ids[64],
        n = gpt_vocab_prompt(&ch.vocab, PROMPT, ids, cfg.ctx < 64 ? cfg.ctx : 64);
    Tape *T = tape_new();
    Tensor *att[8];
    Tensor *logits = gpt_forward(T, gpt, ids, 1, n, GPT_COMPOSED, att);
    nb_printf(
        "config: V %d, context %d, layers %d, heads %d, width %d (head width %d)\n",
        cfg.V, cfg.ctx, cfg.L, cfg.H, cfg.C, cfg.C / cfg.H);
    nb_printf("prompt \"%s\": B = 1, T = %d\n", PROMPT, n);
    /* the tape: the embeddings (3 nodes), L blocks of equal length, ln_f and the head (2 nodes) */
    int len = tape_len(T), per_block = (len - 3 - 2) / cfg.L;
    for (int i = 0; i < len; i++) {
        if (i == 3) nb_printf(" block 0:\n");
        if (i == 3 + per_block)
            nb_printf(" ... blocks 1..%d repeat these %d ops ...\n head:\n", cfg.L - 1,
                      per_block);
        if (i >= 3 + per_block && i < len - 2) continue;
        print_node(tape_node_at(T, i));
    }
    double lo = INFINITY,
           hi = -INFINITY; /* at init the logits are all near 0: every byte ~ 1/V */
    for (long i = 0; i < logits->size; i++)
        lo = fmin(lo, logits->data[i]), hi = fmax(hi, logits->data[i]);
    nb_printf(
        "logits [1, %d, %d], all in [%.3f, %.3f] at init: every byte gets about 1/V\n",
        n, V, lo, hi);

    /* the causal mask at work: one head's weights */
    int show = n < 8 ? n : 8;
    nb_printf("\nlayer 0, head 0, first %d positions (rows: query byte, columns: key "
              "byte):\n      ",
              show);
    for (int j = 0; j < show; j++) print_label(show_byte((unsigned char)PROMPT[j]), 6);
    nb_printf("\n");
    for (int i = 0; i < show; i++) {
        print_label(show_byte((unsigned char)PROMPT[i]), 6);
        for (int j = 0; j < show; j++)
            nb_printf("%6.3f", (double)att[0]->data[(long)i * n + j]);
        nb_printf("\n");
    }

    /* the parameter count, by formula and as the ParamSet counts it */
    long emb = (long)(cfg.V + cfg.ctx) * cfg.C, blk = 12L * cfg.C * cfg.C + 13L * cfg.C;
    nb_printf("\nparameters: embeddings %ld + %d blocks x %ld + final LayerNorm %d = "
              "%ld (ParamSet holds %ld)\n",
              emb, cfg.L, blk, 2 * cfg.C, emb + cfg.L * blk + 2 * cfg.C, gpt->ps->size);
    nb_metric("parameters", (double)gpt->ps->size, "");
    tape_free(T);

    /* the graph of a tiny configuration's loss */
    Gpt *tiny = gpt_new((GptConfig){.V = 5, .ctx = 4, .L = 1, .H = 2, .C = 8});
    rng_stream(&r, nb_seed(), "05/tiny init");
    gpt_init(tiny, &r);
    static const int tin[4] = {0, 1, 2, 3}, tout[4] = {1, 2, 3, 4};
    Tape *T2 = tape_new();
    Tensor *loss = gpt_loss(T2, tiny, tin, tout, 1, 4, GPT_COMPOSED, NULL);
    nb_graph("05-gpt-graph",
             "The computation graph of a 1-layer GPT's loss (width 8, 2 heads, context "
             "4), from the tape",
             T2, loss);
    nb_printf("graph of a tiny GPT's loss: %d tape nodes, %d parameter tensors\n",
              tape_len(T2), tiny->ps->n);
    tape_free(T2);
    gpt_free(tiny);
}

/*md
## Pre-training

The reference recipe (`gpt_train_config_default` in gpt.c): batches of
$B = 32$ windows of $T = 64$ bytes at random offsets in the training split,
targets the same windows shifted by one byte (so one window gives 64
predictions, each from its own prefix); AdamW (learning rate $10^{-3}$,
betas $0.9$ and $0.99$, weight decay $0.1$ on the weight matrices only),
the rate warmed up linearly over the first 100 steps, gradients clipped to
global norm 1. Each step resets the tape and reuses its memory, so after the
first step the loop allocates nothing. The step is `gpt_trainer_step`, the
same one chapter 6 fine-tunes with and the bench times.

We evaluate at a fixed interval (the cell's first line says which) on fixed
windows spread evenly over each split. Watch the validation loss cross the bigram line early (the model has
learned byte pairs), then keep falling as attention learns to use longer
contexts: words, spelling, the `%` between fortunes. The train and
validation curves stay together: {{steps:'.0f}} steps of {{bytes per step:'.0f}}
bytes are {{passes over the training split:.1f}} passes over the
{{train MB:.1f}} MB training split, too little for a model of
{{parameters:'.0f}} parameters to memorise it. In this seed's run the
validation loss ends at {{val loss:.3f}} nats per byte
({{val bits per byte:.2f}} bits), against the bigram's
{{bigram val loss:.3f}} and the uniform {{uniform loss ln V:.3f}}.
*/
/* The learning curve: loss.tsv, the batches per evaluation, the run's length
 * and the latest losses. */
typedef struct {
    FILE *f;
    int batches, steps;
    double train, val;
} Curve;

/* One evaluation of both splits at step s: a row of loss.tsv, and a line
 * of the output at every tenth of the run. */
static void evaluate(void *curve, int s) {
    Curve *c = curve;
    c->train = gpt_trainer_eval(ch.trainer, ch.train, c->batches).loss;
    c->val = gpt_trainer_eval(ch.trainer, ch.val, c->batches).loss;
    fprintf(c->f, "%d\t%.5f\t%.5f\t%.5f\t%.5f\n", s, c->train, c->val, ch.bigram_loss,
            ch.uniform_loss);
    fflush(c->f);
    if (s % (c->steps / 10 > 0 ? c->steps / 10 : 1) == 0 || s == c->steps)
        nb_printf("step %5d  train %.4f  val %.4f nats/byte\n", s, c->train, c->val);
}

static void cell_train(void) {
    GptTrainConfig tc = gpt_train_config_default();
    tc.batch = nb_quick() ? 8 : 32;
    int steps = nb_quick() ? 30 : 2000, eval_every = nb_quick() ? 10 : 100,
        eval_batches = nb_quick() ? 1 : 8;
    int Tn = ch.cfg.ctx;
    ch.trainer = gpt_trainer_new(ch.gpt, &tc, nb_seed()); /* windows: "gpt/windows" */
    Curve c = {nb_open("loss.tsv"), eval_batches, steps, 0, 0};
    fprintf(c.f, "# step\ttrain_loss\tval_loss\tbigram_val\tuniform\n");
    nb_printf("%d steps of batch %d x %d bytes, evaluated every %d steps on %d x %d "
              "windows per split\n",
              steps, tc.batch, Tn, eval_every, eval_batches, tc.batch);
    double t_train = gpt_trainer_run(ch.trainer, ch.train, steps, eval_every, evaluate,
                                     &c, "pre-training");
    fclose(c.f);
    double train = c.train, val = c.val;
    double step_ms = 1e3 * t_train / steps;
    nb_timing("time per step", step_ms, "ms");
    nb_timing("tokens per second", tc.batch * Tn / (step_ms / 1e3), "tokens/s");
    nb_timing("arena (reused every step)", tape_bytes(ch.trainer->tape) / 1e6, "MB");
    nb_printf(
        "val loss %.4f nats/byte (%.3f bits) against bigram %.4f and uniform %.4f\n",
        val, val / log(2.0), ch.bigram_loss, ch.uniform_loss);
    nb_metric("steps", steps, "");
    nb_metric("train loss", train, "nats/byte");
    nb_metric("val loss", val, "nats/byte");
    nb_value("val bits per byte", val / log(2.0), "bits/byte");
    nb_value("bytes per step", (double)tc.batch * Tn, "bytes");
    nb_value("passes over the training split",
             (double)steps * tc.batch * Tn / (double)ch.train.n, "");
    nb_figure("05-loss", "Train and validation loss of the GPT (nats per byte), with "
                         "the bigram and uniform baselines");
}
/*md
## What attention learned

The trained model's attention weights on a prompt, one map per head of the
first layer: row $i$ is the query at byte $i$, column $j$ the key at byte $j$;
above the diagonal is empty (the mask). A head that puts its weight on the
byte just before hands each position that byte: context beyond the current
byte, which a bigram model lacks. The cell prints, for every head of every
layer, how far back its most attended key lies on average and how often it
is the byte just before. Look at how close to the diagonal the first
layer's heads stay, and whether the heads of deeper layers look further
back.
*/
static const char *ATT_PROMPT =
    "Whenever you find yourself on the side of the majority, pause.";

enum { ATT_LAYER = 0 }; /* the layer the figure shows */

static void cell_attention(void) {
    const GptConfig cfg = ch.cfg;
    int ids[128], n = gpt_vocab_prompt(&ch.vocab, ATT_PROMPT, ids, cfg.ctx);
    Tape *T = tape_new();
    Tensor *att[8];
    gpt_forward(T, ch.gpt, ids, 1, n, GPT_COMPOSED, att);
    FILE *f = nb_open("attention.tsv");
    gpt_attention_write(f, att[ATT_LAYER], ATT_LAYER);
    fclose(f);
    f = nb_open("attention-bytes.tsv");
    fprintf(f, "# position\tbyte\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%d\t%s\n", i, show_byte(ch.vocab.byte[ids[i]]));
    fclose(f);
    nb_printf("prompt: \"%.*s\" (%d bytes)\n", n, ATT_PROMPT, n);
    nb_printf("per head: the mean distance back to the most attended key, and the "
              "share of queries\n"
              "whose top key is the byte just before\n");
    for (int l = 0; l < cfg.L; l++) {
        nb_printf("layer %d:", l);
        for (int h = 0; h < cfg.H; h++) {
            GptHeadFocus hf = gpt_head_focus(att[l], h);
            nb_printf("  h%d: %4.1f back, %3.0f%% prev", h, hf.back, 100.0 * hf.prev);
        }
        nb_printf("\n");
    }
    nb_figure("05-attention", "Attention weights of each head of layer 0 on a prompt "
                              "(rows: query byte, columns: key byte)");
    tape_free(T);
}

/*md
## Sampling

To write, the model predicts a distribution for the next byte, we draw one,
append it and repeat. The *temperature* $\tau$ divides the logits first:
$\tau < 1$ sharpens the distribution toward the likeliest bytes (safer,
more repetitive text), $\tau > 1$ flattens it (more surprising, more
misspelt). *Top-k* keeps only the $k$ likeliest bytes. Each sample starts
from `%\n`, the line that separates fortunes, so the model begins a new one;
we stop at the next separator.

Generating byte $n$ would cost a forward pass over the whole window if done
naively. `gpt_generate` keeps every layer's keys and values for the
positions already seen (the *KV cache*, in gpt.c) and runs one position per
new byte. The timing at the end compares it with recomputing every step.
*/
static void print_sample(const int *out, int n) {
    nb_printf("%%\n");
    for (int i = 0; i < n; i++) {
        const unsigned char *b = ch.vocab.byte;
        if (b[out[i]] == '%' && i > 0 && b[out[i - 1]] == '\n')
            break; /* the next separator */
        nb_printf("%c", b[out[i]]);
    }
    nb_printf("\n");
}

static void cell_sample(void) {
    int prompt[2], np = gpt_vocab_prompt(&ch.vocab, "%\n", prompt, 2),
                   nnew = nb_quick() ? 60 : 400;
    int *out = xmalloc((size_t)nnew * sizeof(int));
    struct {
        double temp;
        int top_k;
    } modes[] = {{0.6, 0}, {1.0, 0}, {1.0, 10}};
    Rng r;
    rng_stream(&r, nb_seed(), "05/samples");
    for (int m = 0; m < 3; m++) {
        nb_printf("%s=== temperature %.1f, %s ===\n", m ? "\n" : "", modes[m].temp,
                  modes[m].top_k ? "top-k 10" : "no top-k");
        for (int k = 0; k < 2; k++) {
            gpt_generate(ch.gpt, prompt, np, out, nnew, modes[m].temp, modes[m].top_k,
                         &r);
            print_sample(out, nnew);
        }
    }
    /* the cache against recomputation, same seed: same bytes, different cost */
    int nt = nb_quick() ? 32 : 256;
    int *a = xmalloc((size_t)nt * sizeof(int)), *b = xmalloc((size_t)nt * sizeof(int));
    Rng r1, r2;
    rng_stream(&r1, nb_seed(), "05/cache check");
    rng_stream(&r2, nb_seed(), "05/cache check");
    double t0 = now_seconds();
    gpt_generate(ch.gpt, prompt, np, a, nt, 1.0, 0, &r1);
    double t1 = now_seconds();
    gpt_generate_nocache(ch.gpt, prompt, np, b, nt, 1.0, 0, &r2);
    double t2 = now_seconds();
    int same = memcmp(a, b, (size_t)nt * sizeof(int)) == 0;
    nb_printf("\n%d bytes with the KV cache and by recomputing the window: %s\n", nt,
              same ? "the same bytes" : "DIFFERENT bytes (float rounding)");
    nb_timing("sampling with KV cache", nt / (t1 - t0), "bytes/s");
    nb_timing("sampling without cache", nt / (t2 - t1), "bytes/s");
    xfree(a);
    xfree(b);
    xfree(out);
}

/*md
## A checkpoint for chapter 6

The parameters go to a checkpoint file (lib/checkpoint.h: magic number,
version, names, shapes, a checksum). Its meta line carries the configuration
and the vocabulary, so chapter 6 can rebuild exactly this model and encode
its new corpus with the same byte ids. We reload it and check the numbers.
*/
static void cell_checkpoint(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s", nb_path("gpt.ckpt"));
    const Gpt *gpt = ch.gpt;
    gpt_save(path, gpt, &ch.vocab);
    GptVocab v2;
    Gpt *back = gpt_load(path, &v2, "run `make run-05`");
    int same = back->ps->size == gpt->ps->size &&
               memcmp(back->ps->data, gpt->ps->data,
                      (size_t)gpt->ps->size * sizeof(real)) == 0 &&
               v2.V == ch.vocab.V && memcmp(v2.byte, ch.vocab.byte, (size_t)v2.V) == 0;
    nb_printf(
        "wrote gpt.ckpt in the run directory (%ld numbers, %d tensors); reloaded: %s\n",
        gpt->ps->size, gpt->ps->n,
        same ? "identical parameters and vocabulary" : "MISMATCH");
    gpt_free(back);
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/05-gpt-cross-entropy/`, leaving the
book's run alone; try other values too), then open the outcome this course's
run gives. The command pre-trains the model again first (the same seed gives
the same model); the experiments then only sample from it, which takes a
moment.

Both measure a long sample, {{exp sample bytes:'.0f}} bytes written from
`%\n` on (across fortunes), by how repetitive it is: the share of its
4-byte strings that are *distinct* (1 when no 4 bytes in a row ever recur,
near 0 when the text goes round in a loop), and how many different bytes it
uses (the vocabulary has {{vocabulary:.0f}}).

### Experiment: a cold temperature

The Sampling cell wrote at temperatures $0.6$ and $1$. Sample at $\tau = 0.3$
instead of $\tau = 1$. *Predict*: how far does the share of distinct 4-byte
strings fall, and what happens to the bytes used?

Run: `build/bin/05 --set temperature=0.3`

::: outcome
At $\tau = 1$: {{exp temperature distinct 4-grams at 1:.2f}} of the 4-byte
strings are distinct, and the text uses
{{exp temperature bytes used at 1:.0f}} different bytes. At $\tau$ =
{{exp temperature temperature:.1f}}: {{exp temperature distinct 4-grams:.2f}}
distinct, {{exp temperature bytes used:.0f}} bytes: the cold sample is
{{exp temperature verdict}}. Dividing the logits by $\tau < 1$ multiplies
their differences, so the likeliest continuation wins almost every draw:
the text keeps to the corpus's commonest words and phrases, and the rare
bytes drop out. The cell's output shows the start of both samples.
:::

### Experiment: greedy decoding

Keep only the single likeliest byte at every step: top-$k$ with $k = 1$,
at temperature $1$ (which then does not matter: the draw has one candidate).
*Predict*: what does the text look like after a few hundred bytes?

Run: `build/bin/05 --set top-k=1`

::: outcome
With $k$ = {{exp top-k k:.0f}} only {{exp top-k distinct 4-grams:.3f}} of
the 4-byte strings are distinct, and {{exp top-k bytes used:.0f}} different
bytes appear; {{exp top-k loop}}. Greedy decoding is deterministic given
the context, so once the model meets a context it has met before, it writes
the same bytes again, and again. The likeliest next byte, each time, is not
the likeliest text: sampling is how a language model writes.
:::
*/
/* A long sample and how repetitive it is: the share of distinct 4-byte
 * strings and the number of different bytes. */
enum { EXP_SAMPLE = 3000 };

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int *exp_last; /* the last sample (for the loop finder) and its length */
static int exp_last_n;

static void exp_sample(double temp, int top_k, const char *stream, double *distinct,
                       int *bytes) {
    int prompt[2], np = gpt_vocab_prompt(&ch.vocab, "%\n", prompt, 2),
                   n = nb_quick() ? 300 : EXP_SAMPLE;
    int *out = xmalloc((size_t)n * sizeof(int));
    Rng r;
    rng_stream(&r, nb_seed(), stream);
    gpt_generate(ch.gpt, prompt, np, out, n, temp, top_k, &r);
    int used[256] = {0}, V = ch.vocab.V, unique = 0;
    *bytes = 0;
    for (int i = 0; i < n; i++) *bytes += !used[out[i]]++;
    /* a 4-byte string as one number in base V; distinct ones counted by sorting */
    long *g = xmalloc((size_t)n * sizeof(long));
    int m = n - 3;
    for (int i = 0; i < m; i++)
        g[i] = ((out[i] * (long)V + out[i + 1]) * V + out[i + 2]) * V + out[i + 3];
    qsort(g, (size_t)m, sizeof(long), cmp_long);
    for (int i = 0; i < m; i++) unique += i == 0 || g[i] != g[i - 1];
    *distinct = (double)unique / m;
    nb_printf("temperature %g, %s: %d of %d 4-byte strings distinct (%.3f), %d bytes "
              "used; it begins:\n",
              temp, top_k ? "top-k" : "no top-k", unique, m, *distinct, *bytes);
    nb_printf("%%\n");
    for (int i = 0; i < n && i < 240; i++) nb_printf("%c", ch.vocab.byte[out[i]]);
    nb_printf("\n...\n");
    xfree(g);
    xfree(exp_last);
    exp_last = out, exp_last_n = n;
}

/* The shortest period p <= n/4 with which the second half of the last
 * sample repeats itself (out[i] == out[i - p] for every i there), or 0. */
static int exp_loop_period(void) {
    const int *o = exp_last;
    int n = exp_last_n;
    for (int p = 1; p <= n / 4; p++) {
        int i = n / 2;
        while (i < n && o[i] == o[i - p]) i++;
        if (i == n) return p;
    }
    return 0;
}

static void cell_exp_temperature(void) {
    double d1, dt;
    int b1, bt;
    exp_sample(1, 0, "05/exp temperature 1", &d1, &b1);
    double t = nb_setting("temperature");
    exp_sample(t, 0, "05/exp temperature", &dt, &bt);
    nb_value("exp sample bytes", nb_quick() ? 300 : EXP_SAMPLE, "bytes");
    nb_value("exp temperature temperature", t, "");
    nb_value("exp temperature distinct 4-grams at 1", d1, "");
    nb_value("exp temperature bytes used at 1", b1, "");
    nb_value("exp temperature distinct 4-grams", dt, "");
    nb_value("exp temperature bytes used", bt, "");
    nb_text("exp temperature verdict", "%s",
            dt < d1 && bt <= b1 ? "more repetitive, and uses no more bytes"
            : dt < d1           ? "more repetitive, though it uses more bytes"
                                : "no more repetitive in this run");
    xfree(exp_last);
    exp_last = NULL;
}

static void cell_exp_top_k(void) {
    double d;
    int b, k = (int)nb_setting("top-k");
    exp_sample(1, k, "05/exp top-k", &d, &b);
    nb_value("exp top-k k", k, "");
    nb_value("exp top-k context", ch.cfg.ctx, "bytes");
    nb_value("exp top-k distinct 4-grams", d, "");
    nb_value("exp top-k bytes used", b, "");
    int p = exp_loop_period();
    if (p)
        nb_text("exp top-k loop", "its second half is one loop of %d byte%s, repeated",
                p, p > 1 ? "s" : "");
    else
        nb_text("exp top-k loop",
                "in this run its second half does not repeat one loop");
    xfree(exp_last);
    exp_last = NULL;
}

static const Cell CELLS[] = {
    CELL(corpus, "The corpus and its bytes"),
    CELL(objective, "The objective"),
    CELL(bigram, "A baseline: the bigram model"),
    CELL(model, "The model, piece by piece"),
    CELL(train, "Pre-training"),
    CELL(attention, "What attention learned"),
    CELL(sample, "Sampling"),
    CELL(checkpoint, "A checkpoint for chapter 6"),
    CELL(exp_temperature, "Experiment: a cold temperature"),
    CELL(exp_top_k, "Experiment: greedy decoding"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"temperature", 0.3, 0.01, 100, 0,
     "the temperature of the experiment's second sample (the first's: 1)"},
    {"top-k", 1, 0, 256, 1, "the bytes kept in the top-k experiment's sample (0: all)"},
};

int main(int argc, char **argv) {
    Chapter chapter = {"05-gpt-cross-entropy", "A GPT, trained with cross-entropy",
                       CELLS, sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &chapter);
}
