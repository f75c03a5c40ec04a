/* chapters/06-gpt-finetune/chapter.c - Chapter 6: fine-tuning the GPT of
 * chapter 5 on a corpus it has never seen.
 *
 * Teaches: what pre-training buys. The chapter-5 model, trained on every
 * fortune file except `songs-poems`, is trained further on `songs-poems`
 * with a lower learning rate, and compared with the same model trained
 * from scratch on `songs-poems` for the same number of steps. Then: what the
 * fine-tuned model forgot of its first corpus, and how its samples changed.
 * Leaves out: parameter-efficient fine-tuning (LoRA, adapters), freezing
 * layers, instruction tuning, RLHF.
 * Run: make run-06 after make run-05 (it loads chapter 5's checkpoint).
 *
 * Dimension key: B = batch, T = context, V = vocabulary (chapter 5's bytes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "data.h"
#include "gpt.h"
#include "notebook.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"
#include "util.h"

/*md
# Fine-tuning the GPT

Pre-training gives a model the statistics of a large general corpus; fine-tuning
continues training on a smaller, specific one. Here the general corpus is
chapter 5's (every fortune file but one) and the specific one is the file
left out, `songs-poems`: verse, lyrics and limericks, whose line breaks,
rhymes and rhythm the pre-trained model has seen little of. The questions:
does starting from the pre-trained weights beat starting from random ones,
for the same number of steps? And what does the model lose of its first
corpus along the way?
*/

/* ---- the chapter's state ---- */
typedef struct {
    int *tok;         /* [n] ids */
    long n, ntrain;   /* train = [0, ntrain), val = [ntrain, n) */
} Split;

static unsigned char vocab[256]; /* [V] byte of each id (chapter 5's vocabulary) */
static int id_of[256], V;
static Gpt *pre;                 /* the pre-trained model, as loaded */
static Split poems, old;         /* songs-poems; chapter 5's corpus */
static int batch, steps, eval_every, eval_batches;
static Gpt *tuned, *scratch;

/* ---- shared helpers ---- */

/* Encode a text with the vocabulary; bytes it lacks are dropped and counted. */
static Split encode_split(const Text *t, long *dropped) {
    Split s = {.tok = xmalloc((size_t)(t->n > 0 ? t->n : 1) * sizeof(int))};
    *dropped = 0;
    for (long i = 0; i < t->n; i++) {
        int id = id_of[t->bytes[i]];
        if (id < 0) (*dropped)++;
        else s.tok[s.n++] = id;
    }
    s.ntrain = s.n * 9 / 10;
    return s;
}

static void fill_batch(const int *tok, long off, int i, int Tn, int *x, int *y) {
    memcpy(x + (long)i * Tn, tok + off, (size_t)Tn * sizeof(int));
    memcpy(y + (long)i * Tn, tok + off + 1, (size_t)Tn * sizeof(int));
}

/* Mean loss of g over nb batches of windows evenly spaced in tok[from, to). */
static double eval_loss(Gpt *g, const int *tok, long from, long to, int nb) {
    int Tn = g->cfg.ctx;
    int *x = xmalloc((size_t)batch * Tn * sizeof(int)), *y = xmalloc((size_t)batch * Tn * sizeof(int));
    Tape *T = tape_new();
    long nwin = (long)nb * batch, span = to - from - Tn - 1;
    double sum = 0;
    for (int b = 0; b < nb; b++) {
        for (int i = 0; i < batch; i++) fill_batch(tok, from + span * (b * batch + i) / nwin, i, Tn, x, y);
        tape_reset(T);
        sum += gpt_loss(T, g, x, y, batch, Tn, NULL)->data[0];
    }
    tape_free(T);
    xfree(x);
    xfree(y);
    return sum / nb;
}

/* A fresh copy of a model (same config, same numbers). */
static Gpt *gpt_copy(const Gpt *g) {
    Gpt *c = gpt_new(g->cfg);
    memcpy(c->ps->data, g->ps->data, (size_t)g->ps->size * sizeof(real));
    return c;
}

/* Train g on s's train split for n steps with the reference recipe at peak
 * rate lr (linear warm-up over 100 steps, AdamW, clip 1). Every eval_every
 * steps, if log is not NULL, calls log(step). */
static void train(Gpt *g, const Split *s, int n, double lr, uint64_t seed, const char *label, void (*log)(int)) {
    int Tn = g->cfg.ctx;
    int *x = xmalloc((size_t)batch * Tn * sizeof(int)), *y = xmalloc((size_t)batch * Tn * sizeof(int));
    Rng r;
    rng_seed(&r, seed);
    Optimizer *o = adamw_new(g->ps, lr, 0.9, 0.99, 1e-8, 0.1);
    Tape *T = tape_new();
    Progress p;
    progress_start(&p, label, n);
    for (int step = 0; step < n; step++) {
        if (log && step % eval_every == 0) log(step);
        for (int i = 0; i < batch; i++)
            fill_batch(s->tok, (long)(rng_uniform(&r) * (double)(s->ntrain - Tn - 1)), i, Tn, x, y);
        optim_set_lr(o, lr * fmin(1.0, (step + 1) / 100.0));
        tape_reset(T);
        Tensor *loss = gpt_loss(T, g, x, y, batch, Tn, NULL);
        params_zero_grad(g->ps);
        backward(T, loss);
        clip_grad_norm(g->ps, 1.0);
        optim_step(o);
        progress_update(&p, step + 1, loss->data[0]);
    }
    if (log) log(n);
    progress_end(&p);
    optim_free(o);
    tape_free(T);
    xfree(x);
    xfree(y);
}

static const char *const NOT_POEMS[] = {"songs-poems", NULL};

/*md
## The pre-trained model

Chapter 5 saved its model with its configuration and vocabulary in the
checkpoint's meta line; we rebuild the same model and load its numbers. The
vocabulary must be chapter 5's: the fine-tuning text is encoded with the same
byte ids, or the embeddings would mean nothing. (With `--quick`, chapter 6
does not depend on chapter 5 having run: it pre-trains a tiny model itself
for a few steps, and says so.)
*/
static void cell_load(void) {
    batch = nb_quick() ? 8 : 32;
    Text *t = corpus_load(nb_data(), NOT_POEMS, NULL); /* chapter 5's corpus: for "what it forgot" */
    if (nb_quick()) {
        nb_printf("--quick: pre-training a tiny model here for 20 steps instead of loading chapter 5's\n");
        long count[256] = {0};
        for (long i = 0; i < t->n; i++) count[t->bytes[i]]++;
        for (int b = 0; b < 256; b++) {
            id_of[b] = count[b] ? V : -1;
            if (count[b]) vocab[V++] = (unsigned char)b;
        }
        long dropped;
        old = encode_split(t, &dropped);
        Rng r;
        rng_seed(&r, nb_seed());
        pre = gpt_new((GptConfig){.V = V, .ctx = 32, .L = 2, .H = 2, .C = 32});
        gpt_init(pre, &r);
        eval_every = 10;
        train(pre, &old, 20, 1e-3, nb_seed() + 1, "tiny pre-training", NULL);
    } else {
        char path[4096], *slash;
        snprintf(path, sizeof path, "%s", nb_out());
        slash = strrchr(path, '/'); /* chapter 5's run directory is our sibling */
        snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
                 "05-gpt-cross-entropy/gpt.ckpt");
        pre = gpt_load(path, vocab, "run `make run-05` first: it pre-trains the model and writes this checkpoint");
        V = pre->cfg.V;
        for (int b = 0; b < 256; b++) id_of[b] = -1;
        for (int i = 0; i < V; i++) id_of[vocab[i]] = i;
        long dropped;
        old = encode_split(t, &dropped);
        nb_printf("loaded %s\n", path);
    }
    text_free(t);
    char cs[128];
    nb_printf("model: %s, %ld parameters, vocabulary of %d bytes\n", gpt_config_str(&pre->cfg, cs, sizeof cs),
              pre->ps->size, V);
}

/*md
## The fine-tuning corpus

`songs-poems` alone, split 90/10 the same way as chapter 5's corpus. Every one
of its bytes should be in chapter 5's vocabulary (the corpora are the same
kind of text); a byte that is not is dropped, and counted.
*/
static void cell_corpus(void) {
    Text *t = corpus_load(nb_data(), NULL, "songs-poems");
    long dropped;
    poems = encode_split(t, &dropped);
    nb_printf("songs-poems: %ld bytes (%ld not in the vocabulary, dropped); train %ld, val %ld\n", t->n, dropped,
              poems.ntrain, poems.n - poems.ntrain);
    nb_printf("chapter 5's corpus, for comparison: train %ld, val %ld bytes\n", old.ntrain, old.n - old.ntrain);
    nb_printf("the first 200 bytes:\n----\n%.200s\n----\n", (const char *)t->bytes);
    text_free(t);
}

/*md
## Fine-tuning against training from scratch

Two runs of the same length on `songs-poems`, same batches (same seed):

- *fine-tuning*: start from the pre-trained weights, peak learning rate
  $3\times10^{-4}$, a third of pre-training's. A lower rate moves the weights
  less far from the solution we started from: large early steps would
  destroy what pre-training learned before the new gradients become useful.
- *from scratch*: the same architecture from a fresh random init, with the
  reference rate $10^{-3}$ (what a model trained from scratch needs).

Both are evaluated on the `songs-poems` validation split as they train; the
fine-tuned one also on chapter 5's validation split, to watch it forget.
With about 210 KB of training text, 600 steps of 2,048 bytes are almost six
passes over the corpus. Look at where each curve starts (the pre-trained
model already knows English spelling: it starts near its final loss), how
fast the fine-tuned one reaches its floor, and how far above it the
from-scratch one still is at the end.
*/
static FILE *curve;
static double ft_vals[2]; /* [0] songs-poems val, [1] old val: the latest fine-tuning eval */

static void log_tuned(int step) {
    ft_vals[0] = eval_loss(tuned, poems.tok, poems.ntrain, poems.n, eval_batches);
    ft_vals[1] = eval_loss(tuned, old.tok, old.ntrain, old.n, eval_batches);
    fprintf(curve, "%d\t%.5f\tnan\t%.5f\n", step, ft_vals[0], ft_vals[1]);
    fflush(curve);
}

static void log_scratch(int step) {
    fprintf(curve, "%d\tnan\t%.5f\tnan\n", step, eval_loss(scratch, poems.tok, poems.ntrain, poems.n, eval_batches));
    fflush(curve);
}

static double before_poems, before_old;

static void cell_finetune(void) {
    steps = nb_quick() ? 20 : 600;
    eval_every = nb_quick() ? 10 : 50;
    eval_batches = nb_quick() ? 1 : 8;
    before_poems = eval_loss(pre, poems.tok, poems.ntrain, poems.n, eval_batches);
    before_old = eval_loss(pre, old.tok, old.ntrain, old.n, eval_batches);
    nb_printf("%d steps each, batch %d x %d; evaluated every %d steps\n", steps, batch, pre->cfg.ctx, eval_every);
    nb_printf("pre-trained model, before any fine-tuning: songs-poems val %.4f, chapter 5 val %.4f nats/byte\n",
              before_poems, before_old);
    curve = nb_open("finetune.tsv");
    fprintf(curve, "# step\tfinetuned_val\tscratch_val\tfinetuned_old_val\n");
    tuned = gpt_copy(pre);
    double t0 = now_seconds();
    train(tuned, &poems, steps, 3e-4, nb_seed() + 10, "fine-tuning", log_tuned);
    double t1 = now_seconds();
    fprintf(curve, "\n\n"); /* the from-scratch run: a second block */
    Rng r;
    rng_seed(&r, nb_seed() + 20);
    scratch = gpt_new(pre->cfg);
    gpt_init(scratch, &r);
    train(scratch, &poems, steps, 1e-3, nb_seed() + 10, "from scratch", log_scratch);
    double t2 = now_seconds();
    fclose(curve);
    double scratch_val = eval_loss(scratch, poems.tok, poems.ntrain, poems.n, eval_batches);
    nb_printf("songs-poems val after %d steps: fine-tuned %.4f, from scratch %.4f nats/byte (%.1f s and %.1f s)\n",
              steps, ft_vals[0], scratch_val, t1 - t0, t2 - t1);
    nb_metric("fine-tune steps", steps, "");
    nb_metric("songs-poems val, pre-trained only", before_poems, "nats/byte");
    nb_metric("songs-poems val, fine-tuned", ft_vals[0], "nats/byte");
    nb_metric("songs-poems val, from scratch", scratch_val, "nats/byte");
    nb_figure("06-finetune", "Validation loss on songs-poems (nats per byte): fine-tuning the pre-trained GPT against "
                             "training it from scratch, and the fine-tuned model's loss on chapter 5's corpus");
}

/*md
## What the model forgot

*Catastrophic forgetting*: training on the new corpus alone moves the weights
toward what it needs and away from what only the old corpus needed. We
measure the loss on chapter 5's validation split before and after
fine-tuning. A small rise means the general knowledge (spelling, words,
punctuation) survived and only the style moved; the from-scratch model, which
never saw the old corpus, shows how much of that is shared.
*/
static void cell_forgetting(void) {
    double after_old = ft_vals[1];
    double scratch_old = eval_loss(scratch, old.tok, old.ntrain, old.n, eval_batches);
    nb_printf("%-34s %14s %14s\n", "val loss (nats/byte)", "songs-poems", "chapter 5");
    nb_printf("%-34s %14.4f %14.4f\n", "pre-trained (chapter 5)", before_poems, before_old);
    nb_printf("%-34s %14.4f %14.4f\n", "fine-tuned on songs-poems", ft_vals[0], after_old);
    nb_printf("%-34s %14.4f %14.4f\n", "trained on songs-poems only",
              eval_loss(scratch, poems.tok, poems.ntrain, poems.n, eval_batches), scratch_old);
    nb_printf("forgetting: the chapter-5 loss rose by %.4f nats/byte (%+.1f %%)\n", after_old - before_old,
              100 * (after_old - before_old) / before_old);
    nb_metric("chapter 5 val, before fine-tuning", before_old, "nats/byte");
    nb_metric("chapter 5 val, after fine-tuning", after_old, "nats/byte");
}

/*md
## Samples before and after

The same prompt and the same seed (so the same random draws) for the three
models: the pre-trained one, the fine-tuned one, and the one trained on
`songs-poems` only. Temperature 0.8. Look for line breaks every few words,
capitalised line starts and rhyme-like endings after fine-tuning.
*/
static void cell_samples(void) {
    const char *text = "%\nThe ";
    int prompt[16], np = 0, nnew = nb_quick() ? 60 : 300;
    for (const char *c = text; *c; c++)
        if (id_of[(unsigned char)*c] >= 0) prompt[np++] = id_of[(unsigned char)*c];
    int *out = xmalloc((size_t)nnew * sizeof(int));
    struct { const char *name; Gpt *g; } models[] = {{"pre-trained", pre}, {"fine-tuned", tuned}, {"from scratch", scratch}};
    for (int m = 0; m < 3; m++) {
        Rng r;
        rng_seed(&r, nb_seed() + 30);
        gpt_generate(models[m].g, prompt, np, out, nnew, 0.8, 0, &r);
        nb_printf("%s=== %s ===\n%s", m ? "\n" : "", models[m].name, text);
        for (int i = 0; i < nnew; i++) {
            if (vocab[out[i]] == '%' && i > 0 && vocab[out[i - 1]] == '\n') break; /* end of the fortune */
            nb_printf("%c", vocab[out[i]]);
        }
        nb_printf("\n");
    }
    xfree(out);
    gpt_free(pre);
    gpt_free(tuned);
    gpt_free(scratch);
    xfree(poems.tok);
    xfree(old.tok);
}

static const Cell CELLS[] = {
    CELL(load, "The pre-trained model"),
    CELL(corpus, "The fine-tuning corpus"),
    CELL(finetune, "Fine-tuning against training from scratch"),
    CELL(forgetting, "What the model forgot"),
    CELL(samples, "Samples before and after"),
};

int main(int argc, char **argv) {
    Chapter ch = {"06-gpt-finetune", "Fine-tuning the GPT", CELLS, sizeof CELLS / sizeof CELLS[0], NULL};
    return notebook_main(argc, argv, &ch);
}
