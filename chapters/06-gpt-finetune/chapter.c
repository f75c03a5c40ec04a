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
 * Run: make run-06 after make run-05 (it loads chapter 5's checkpoint:
 * $GPT_CHECKPOINT, default build/run/05-gpt-cross-entropy/gpt.ckpt, the file
 * `make run-05` writes, relative to the directory you run from).
 *
 * Dimension key: B = batch, T = context, V = vocabulary (chapter 5's bytes).
 */
#include <stdio.h>
#include <stdlib.h>

#include "data.h"
#include "gpt.h"
#include "notebook.h"
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

/* The checkpoint chapter 5 writes (`make run-05`), unless $GPT_CHECKPOINT names another. */
#define GPT_CHECKPOINT_DEFAULT "build/run/05-gpt-cross-entropy/gpt.ckpt"

/* ---- the chapter's state, shared by the cells; freed by teardown ---- */
typedef struct {
    int *tok;             /* [n] ids */
    GptTokens train, val; /* the first 90 %, and the rest */
} Split;

static struct {
    GptVocab vocab;    /* chapter 5's bytes and ids */
    Gpt *pre;          /* the pre-trained model, as loaded */
    Split poems, old;  /* songs-poems; chapter 5's corpus */
    GptTrainConfig tc; /* the reference recipe at this chapter's batch size */
    int eval_batches;
    Gpt *tuned, *scratch;
    GptTrainer *tuned_tr, *scratch_tr;
    double before_poems, before_old, tuned_poems, tuned_old;
} ch;

static void split_free(Split *s) {
    xfree(s->tok);
}

static void teardown(void) {
    gpt_trainer_free(ch.tuned_tr);
    gpt_trainer_free(ch.scratch_tr);
    gpt_free(ch.pre);
    gpt_free(ch.tuned);
    gpt_free(ch.scratch);
    split_free(&ch.poems);
    split_free(&ch.old);
}

/* Encode a text with the vocabulary (bytes it lacks are dropped and counted)
 * and split it 90/10; both splits must hold a window of the model. */
static Split encode_split(const Text *t, const char *name, long *dropped) {
    Split s = {.tok = xmalloc((size_t)(t->n > 0 ? t->n : 1) * sizeof(int))};
    long n = gpt_vocab_encode(&ch.vocab, t->bytes, t->n, s.tok);
    *dropped = t->n - n;
    s.train = (GptTokens){s.tok, n * 9 / 10};
    s.val = (GptTokens){s.tok + n * 9 / 10, n - n * 9 / 10};
    char what[96];
    const char *hint =
        "use a corpus of at least ten windows of bytes the vocabulary has (--data DIR)";
    snprintf(what, sizeof what, "%s, training split", name);
    gpt_tokens_check(s.train, ch.pre->cfg.ctx, what, hint);
    snprintf(what, sizeof what, "%s, validation split", name);
    gpt_tokens_check(s.val, ch.pre->cfg.ctx, what, hint);
    return s;
}

static const char *const NOT_POEMS[] = {"songs-poems", NULL};

/*md
## The pre-trained model

Chapter 5 saved its model with its configuration and vocabulary in the
checkpoint's meta line; we rebuild the same model and load its numbers. The
file is `build/run/05-gpt-cross-entropy/gpt.ckpt` (what `make run-05`
writes), or the one the environment variable `GPT_CHECKPOINT` names. The
vocabulary must be chapter 5's: the fine-tuning text is encoded with the same
byte ids, or the embeddings would mean nothing. (With `--quick`, chapter 6
does not depend on chapter 5 having run: it pre-trains a tiny model itself
for a few steps, and says so.)
*/
static void cell_load(void) {
    ch.tc = gpt_train_config_default();
    ch.tc.batch = nb_quick() ? 8 : 32;
    ch.tc.windows = "06/fine-tuning windows"; /* both runs: the same batches */
    Text *t = corpus_load(nb_data(), NOT_POEMS,
                          NULL); /* chapter 5's corpus: for "what it forgot" */
    long dropped;
    if (nb_quick()) {
        nb_printf("--quick: pre-training a tiny model here for 20 steps instead of "
                  "loading chapter 5's\n");
        ch.vocab = gpt_vocab_of(t->bytes, t->n);
        Rng r;
        rng_stream(&r, nb_seed(), "06/tiny init");
        ch.pre =
            gpt_new((GptConfig){.V = ch.vocab.V, .ctx = 32, .L = 2, .H = 2, .C = 32});
        gpt_init(ch.pre, &r);
        ch.old = encode_split(t, "chapter 5's corpus", &dropped);
        GptTrainConfig tiny = ch.tc;
        tiny.windows = "06/tiny pre-training windows";
        GptTrainer *tr = gpt_trainer_new(ch.pre, &tiny, nb_seed());
        gpt_trainer_run(tr, ch.old.train, 20, 20, NULL, NULL, "tiny pre-training");
        gpt_trainer_free(tr);
    } else {
        const char *env = getenv("GPT_CHECKPOINT"),
                   *path = env && *env ? env : GPT_CHECKPOINT_DEFAULT;
        ch.pre = gpt_load(path, &ch.vocab,
                          "run chapter 5 first, from the project's root (`make run-05` "
                          "writes " GPT_CHECKPOINT_DEFAULT
                          "), or set GPT_CHECKPOINT to the checkpoint it wrote");
        ch.old = encode_split(t, "chapter 5's corpus", &dropped);
        nb_printf("loaded %s\n", path);
    }
    text_free(t);
    char cs[128];
    nb_printf("model: %s, %ld parameters, vocabulary of %d bytes\n",
              gpt_config_str(&ch.pre->cfg, cs, sizeof cs), ch.pre->ps->size,
              ch.vocab.V);
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
    ch.poems = encode_split(t, "songs-poems", &dropped);
    nb_printf("songs-poems: %ld bytes (%ld not in the vocabulary, dropped); train %ld, "
              "val %ld\n",
              t->n, dropped, ch.poems.train.n, ch.poems.val.n);
    nb_printf("chapter 5's corpus, for comparison: train %ld, val %ld bytes\n",
              ch.old.train.n, ch.old.val.n);
    nb_printf("the first 200 bytes:\n----\n%.200s\n----\n", (const char *)t->bytes);
    nb_value("songs-poems train bytes", (double)ch.poems.train.n, "bytes");
    text_free(t);
}

/*md
## Fine-tuning against training from scratch

Two runs of the same length on `songs-poems`, with the same batches (the
same random windows), through chapter 5's trainer:

- *fine-tuning*: start from the pre-trained weights, peak learning rate
  $3\times10^{-4}$, a third of pre-training's. A lower rate moves the weights
  less far from the solution we started from: large early steps would
  destroy what pre-training learned before the new gradients become useful.
- *from scratch*: the same architecture from a fresh random init, with the
  reference rate $10^{-3}$ (what a model trained from scratch needs).

Both are evaluated on the `songs-poems` validation split as they train; the
fine-tuned one also on chapter 5's validation split, to watch it forget.
With {{songs-poems train bytes:'.0f}} bytes of training text,
{{fine-tune steps:'.0f}} steps of {{bytes per step:'.0f}} bytes are
{{passes over songs-poems:.1f}} passes over the corpus. Look at where each
curve starts (the pre-trained model already knows English spelling: it
starts near its final loss), how fast the fine-tuned one falls, and how far
above it the from-scratch one still is at the end. In this
seed's run the `songs-poems` validation loss goes from
{{songs-poems val, pre-trained only:.3f}} to
{{songs-poems val, fine-tuned:.3f}} nats per byte with fine-tuning; from
scratch it ends at {{songs-poems val, from scratch:.3f}}.
*/
static double eval_val(GptTrainer *t, const Split *s) {
    return gpt_trainer_eval(t, s->val, ch.eval_batches).loss;
}

/* A row of the curve at step s: the fine-tuned run fills columns 2 and 4,
 * the run from scratch column 3. */
static void log_tuned(void *curve, int s) {
    ch.tuned_poems = eval_val(ch.tuned_tr, &ch.poems),
    ch.tuned_old = eval_val(ch.tuned_tr, &ch.old);
    fprintf(curve, "%d\t%.5f\tnan\t%.5f\n", s, ch.tuned_poems, ch.tuned_old);
    fflush(curve);
}

static void log_scratch(void *curve, int s) {
    fprintf(curve, "%d\tnan\t%.5f\tnan\n", s, eval_val(ch.scratch_tr, &ch.poems));
    fflush(curve);
}

static void cell_finetune(void) {
    int steps = nb_quick() ? 20 : 600, eval_every = nb_quick() ? 10 : 50;
    ch.eval_batches = nb_quick() ? 1 : 8;
    int B = ch.tc.batch, ctx = ch.pre->cfg.ctx;
    ch.before_poems = gpt_evaluate(ch.pre, ch.poems.val, B, ch.eval_batches).loss;
    ch.before_old = gpt_evaluate(ch.pre, ch.old.val, B, ch.eval_batches).loss;
    nb_printf("%d steps each, batch %d x %d; evaluated every %d steps\n", steps, B, ctx,
              eval_every);
    nb_printf("pre-trained model, before any fine-tuning: songs-poems val %.4f, "
              "chapter 5 val %.4f nats/byte\n",
              ch.before_poems, ch.before_old);
    FILE *curve = nb_open("finetune.tsv");
    fprintf(curve, "# step\tfinetuned_val\tscratch_val\tfinetuned_old_val\n");
    GptTrainConfig ft = ch.tc;
    ft.lr = 3e-4;
    ch.tuned = gpt_copy(ch.pre);
    ch.tuned_tr = gpt_trainer_new(ch.tuned, &ft, nb_seed());
    double t0 = now_seconds();
    gpt_trainer_run(ch.tuned_tr, ch.poems.train, steps, eval_every, log_tuned, curve,
                    "fine-tuning");
    double t1 = now_seconds();
    fprintf(curve, "\n\n"); /* the from-scratch run: a second block */
    Rng r;
    rng_stream(&r, nb_seed(), "06/scratch init");
    ch.scratch = gpt_new(ch.pre->cfg);
    gpt_init(ch.scratch, &r);
    ch.scratch_tr = gpt_trainer_new(ch.scratch, &ch.tc, nb_seed());
    gpt_trainer_run(ch.scratch_tr, ch.poems.train, steps, eval_every, log_scratch,
                    curve, "from scratch");
    double t2 = now_seconds();
    fclose(curve);
    double scratch_val = eval_val(ch.scratch_tr, &ch.poems);
    nb_printf("songs-poems val after %d steps: fine-tuned %.4f, from scratch %.4f "
              "nats/byte\n",
              steps, ch.tuned_poems, scratch_val);
    nb_timing("fine-tuning time", t1 - t0, "s");
    nb_timing("from-scratch time", t2 - t1, "s");
    nb_metric("fine-tune steps", steps, "");
    nb_metric("songs-poems val, pre-trained only", ch.before_poems, "nats/byte");
    nb_metric("songs-poems val, fine-tuned", ch.tuned_poems, "nats/byte");
    nb_metric("songs-poems val, from scratch", scratch_val, "nats/byte");
    nb_value("bytes per step", (double)B * ctx, "bytes");
    nb_value("passes over songs-poems",
             (double)steps * B * ctx / (double)ch.poems.train.n, "");
    nb_figure("06-finetune", "Validation loss on songs-poems (nats per byte): "
                             "fine-tuning the pre-trained GPT against "
                             "training it from scratch, and the fine-tuned model's "
                             "loss on chapter 5's corpus");
}

/*md
## What the model forgot

*Catastrophic forgetting*: training on the new corpus alone moves the weights
toward what it needs and away from what only the old corpus needed. We
measure the loss on chapter 5's validation split before and after
fine-tuning. A small rise means the general knowledge (spelling, words,
punctuation) survived and only the style moved; the from-scratch model, which
never saw the old corpus, shows how much of that is shared. In this seed's
run the chapter-5 validation loss goes from
{{chapter 5 val, before fine-tuning:.3f}} to
{{chapter 5 val, after fine-tuning:.3f}} nats per byte.
*/
static void cell_forgetting(void) {
    double after_old = ch.tuned_old, before_old = ch.before_old;
    double scratch_old = eval_val(ch.scratch_tr, &ch.old);
    nb_printf("%-34s %14s %14s\n", "val loss (nats/byte)", "songs-poems", "chapter 5");
    nb_printf("%-34s %14.4f %14.4f\n", "pre-trained (chapter 5)", ch.before_poems,
              before_old);
    nb_printf("%-34s %14.4f %14.4f\n", "fine-tuned on songs-poems", ch.tuned_poems,
              after_old);
    nb_printf("%-34s %14.4f %14.4f\n", "trained on songs-poems only",
              eval_val(ch.scratch_tr, &ch.poems), scratch_old);
    nb_printf("forgetting: the chapter-5 loss rose by %.4f nats/byte (%+.1f %%)\n",
              after_old - before_old, 100 * (after_old - before_old) / before_old);
    nb_metric("chapter 5 val, before fine-tuning", before_old, "nats/byte");
    nb_metric("chapter 5 val, after fine-tuning", after_old, "nats/byte");
}

/*md
## Samples before and after

The same prompt and the same seed (so the same random draws) for the three
models: the pre-trained one, the fine-tuned one, and the one trained on
`songs-poems` only, at temperature $\tau = 0.8$. Look for line breaks every
few words and capitalised line starts after fine-tuning.
*/
static void cell_samples(void) {
    const char *text = "%\nThe ";
    int prompt[16], np = gpt_vocab_prompt(&ch.vocab, text, prompt, 16),
                    nnew = nb_quick() ? 60 : 300;
    int *out = xmalloc((size_t)nnew * sizeof(int));
    const unsigned char *byte = ch.vocab.byte;
    struct {
        const char *name;
        const Gpt *g;
    } models[] = {{"pre-trained", ch.pre},
                  {"fine-tuned", ch.tuned},
                  {"from scratch", ch.scratch}};
    for (int m = 0; m < 3; m++) {
        Rng r;
        rng_stream(&r, nb_seed(), "06/samples"); /* the same draws for each model */
        gpt_generate(models[m].g, prompt, np, out, nnew, 0.8, 0, &r);
        nb_printf("%s=== %s ===\n%s", m ? "\n" : "", models[m].name, text);
        for (int i = 0; i < nnew; i++) {
            if (byte[out[i]] == '%' && i > 0 && byte[out[i - 1]] == '\n')
                break; /* end of the fortune */
            nb_printf("%c", byte[out[i]]);
        }
        nb_printf("\n");
    }
    xfree(out);
}

/*md
## Experiments

Each experiment changes one setting. Predict the outcome first, then run
the command (the run goes to `build/try/06-gpt-finetune/`, leaving the
book's run alone; try other values too), then open the outcome this course's
run gives. The command repeats the chapter first. The experiments fine-tune
the pre-trained model again in short runs of {{exp steps:.0f}} steps
(warm-up {{exp warm-up:.0f}} steps, the same new windows in every run),
against a reference run at the chapter's rate, $3\times10^{-4}$, and
measure both validation losses: `songs-poems` (learned) and chapter 5's
corpus (which a long fine-tuning forgets; a short one may not yet).

### Experiment: fine-tune at the from-scratch rate

Fine-tuning used a peak learning rate of $3\times10^{-4}$, a third of the
$10^{-3}$ a model from scratch gets. Fine-tune at $10^{-3}$ instead.
*Predict*: does `songs-poems` improve faster, and what happens to chapter 5's
corpus?

Run: `build/bin/06 --set lr=1e-3`

::: outcome
At $3\times10^{-4}$: `songs-poems` {{exp reference poems val:.3f}}, chapter 5
{{exp reference old val:.3f}} nats per byte (before fine-tuning:
{{songs-poems val, pre-trained only:.3f}} and
{{chapter 5 val, before fine-tuning:.3f}}). At {{exp lr rate:.0e}}:
`songs-poems` {{exp lr poems val:.3f}}, chapter 5 {{exp lr old val:.3f}}.
The larger steps fit the new corpus {{exp lr poems verdict}} in these few
steps. On chapter 5's corpus the loss changes by {{exp lr old rise:.3f}}
nats per byte, against {{exp reference old rise:.3f}} with the chapter's rate:
{{exp lr old verdict}}.
:::

### Experiment: rehearse the old corpus

One cure for forgetting is *rehearsal*: keep training on some of the old
data. Make every second step a step on chapter 5's corpus (a share of
$\tfrac12$), at the chapter's rate. *Predict*: how does chapter 5's loss
move, against the reference run's, and what does it cost on `songs-poems`?

Run: `build/bin/06 --set old-share=0.5`

::: outcome
With a share of {{exp rehearsal share:.2f}} of the steps on the old corpus:
`songs-poems` {{exp rehearsal poems val:.3f}} (reference
{{exp reference poems val:.3f}}), chapter 5 {{exp rehearsal old val:.3f}}
(reference {{exp reference old val:.3f}}, before fine-tuning
{{chapter 5 val, before fine-tuning:.3f}}). Rehearsal keeps the old loss
{{exp rehearsal old verdict}}; on `songs-poems`, where it took half as many
steps, its loss differs from the reference's by
{{exp rehearsal poems cost:+.3f}} nats per byte.
:::
*/
/* The experiments' short fine-tuning runs, from the pre-trained weights:
 * EXP_STEPS steps (--quick: 4) at peak rate lr, warm-up EXP_WARMUP, a step on
 * chapter 5's corpus whenever the running share of such steps is below
 * old_share; windows from the stream "06/exp windows" in every run. */
enum { EXP_STEPS = 50, EXP_WARMUP = 10 }; /* a step of the reference model: ~0.1 s */

typedef struct {
    double poems, old; /* validation losses after the run, nats/byte */
} ExpResult;

static ExpResult exp_finetune(double lr, double old_share) {
    GptTrainConfig c = ch.tc;
    c.lr = lr, c.warmup = EXP_WARMUP, c.windows = "06/exp windows";
    Gpt *g = gpt_copy(ch.pre);
    GptTrainer *t = gpt_trainer_new(g, &c, nb_seed());
    int steps = nb_quick() ? 4 : EXP_STEPS, on_old = 0;
    for (int s = 0; s < steps; s++) {
        int old = on_old < old_share * (s + 1) - 1e-9;
        on_old += old;
        gpt_trainer_step(t, old ? ch.old.train : ch.poems.train);
    }
    ExpResult r = {eval_val(t, &ch.poems), eval_val(t, &ch.old)};
    nb_printf("lr %g, %d of %d steps on chapter 5's corpus: songs-poems val %.4f, "
              "chapter 5 val %.4f nats/byte\n",
              lr, on_old, steps, r.poems, r.old);
    gpt_trainer_free(t);
    gpt_free(g);
    return r;
}

/* the chapter's recipe, short: both experiments' baseline */
static ExpResult exp_reference;

static void cell_exp_lr(void) {
    nb_value("exp steps", nb_quick() ? 4 : EXP_STEPS, "");
    nb_value("exp warm-up", EXP_WARMUP, "");
    exp_reference = exp_finetune(3e-4, 0);
    double lr = nb_setting("lr");
    ExpResult r = exp_finetune(lr, 0);
    nb_value("exp reference poems val", exp_reference.poems, "nats/byte");
    nb_value("exp reference old val", exp_reference.old, "nats/byte");
    nb_value("exp reference old rise", exp_reference.old - ch.before_old, "nats/byte");
    nb_value("exp lr rate", lr, "");
    nb_value("exp lr poems val", r.poems, "nats/byte");
    nb_value("exp lr old val", r.old, "nats/byte");
    nb_value("exp lr old rise", r.old - ch.before_old, "nats/byte");
    nb_text("exp lr poems verdict", "%s",
            r.poems < exp_reference.poems ? "better" : "no better");
    nb_text("exp lr old verdict", "%s",
            r.old > exp_reference.old
                ? "larger steps move the weights further from what pre-training found"
                : "in this run the larger steps did not cost more of the old corpus");
}

static void cell_exp_rehearsal(void) {
    double share = nb_setting("old-share");
    ExpResult r = exp_finetune(3e-4, share);
    nb_value("exp rehearsal share", share, "");
    nb_value("exp rehearsal poems val", r.poems, "nats/byte");
    nb_value("exp rehearsal old val", r.old, "nats/byte");
    nb_value("exp rehearsal poems cost", r.poems - exp_reference.poems, "nats/byte");
    nb_text("exp rehearsal old verdict", "%s",
            r.old <= ch.before_old ? "at or below where it started"
            : r.old < exp_reference.old
                ? "lower than without it, though above where it started"
                : "no lower than without it");
}

static const Cell CELLS[] = {
    CELL(load, "The pre-trained model"),
    CELL(corpus, "The fine-tuning corpus"),
    CELL(finetune, "Fine-tuning against training from scratch"),
    CELL(forgetting, "What the model forgot"),
    CELL(samples, "Samples before and after"),
    CELL(exp_lr, "Experiment: fine-tune at the from-scratch rate"),
    CELL(exp_rehearsal, "Experiment: rehearse the old corpus"),
};

/* What the experiments change (--set name=value); the defaults are the
 * experiments' values, which the book's run uses. */
static const Setting SETTINGS[] = {
    {"lr", 1e-3, 1e-6, 1, 0,
     "the peak learning rate of the experiment's short fine-tuning (the chapter's: "
     "3e-4)"},
    {"old-share", 0.5, 0, 1, 0,
     "the share of the rehearsal experiment's steps on chapter 5's corpus"},
};

int main(int argc, char **argv) {
    Chapter chapter = {"06-gpt-finetune", "Fine-tuning the GPT", CELLS,
                       sizeof CELLS / sizeof CELLS[0], teardown};
    notebook_settings(SETTINGS, sizeof SETTINGS / sizeof SETTINGS[0]);
    return notebook_main(argc, argv, &chapter);
}
