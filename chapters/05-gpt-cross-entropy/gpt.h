/* gpt.h - a small GPT (GPT-2 layout), its byte vocabulary, its loss, its
 * one trainer, and sampling with a key/value cache. Used by chapter 5
 * (pre-training), chapter 6 (fine-tuning), bench/bench_gpt.c and the tests.
 *
 * Ownership: gpt_new, gpt_copy and gpt_load return models the caller frees
 * with gpt_free; gpt_trainer_new a trainer freed by gpt_trainer_free;
 * gpt_cache_new a cache freed by gpt_cache_free (each NULL-safe). A Gpt owns
 * its parameters. A GptTrainer borrows the Gpt it trains (the caller
 * creates and frees the model, which must outlive the trainer) and owns its
 * optimizer state, its tape and its Rng stream of random windows. Token
 * arrays (GptTokens) are always the caller's.
 *
 * Dimension key:
 *   B = batch, T = positions in the input (<= ctx), V = vocabulary,
 *   C = width, H = heads, hd = C / H (head width), L = layers.
 *
 * Parameter names are nanoGPT's without the "transformer." prefix, so the
 * PyTorch fixture (tests/reference/gpt.txt) and checkpoints load by name:
 *   wte.weight [V, C]   wpe.weight [ctx, C]
 *   h.<i>.ln_1.{weight,bias} [C]
 *   h.<i>.attn.c_attn.weight [3C, C]  .bias [3C]
 *   h.<i>.attn.c_proj.weight [C, C]   .bias [C]
 *   h.<i>.ln_2.{weight,bias} [C]
 *   h.<i>.mlp.c_fc.weight [4C, C]     .bias [4C]
 *   h.<i>.mlp.c_proj.weight [C, 4C]   .bias [C]
 *   ln_f.{weight,bias} [C]
 * The output head is wte itself (tied, no bias).
 */
#ifndef GPT_H
#define GPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

/* ---- the model ------------------------------------------------------------ */

typedef struct {
    int V;    /* vocabulary size, 1..256 */
    int ctx;  /* context length: the most positions the model sees */
    int L;    /* layers (blocks) */
    int H;    /* heads per layer */
    int C;    /* width; C % H == 0 */
} GptConfig;

/* The largest model this file will build (or load from a file): every size
 * at most GPT_MAX_SIZE, and the parameters and the key/value cache (L*ctx*C)
 * at most GPT_MAX_REALS numbers each, counted in 64 bits. */
#define GPT_MAX_SIZE 65536
#define GPT_MAX_REALS (1L << 28)

/* The number of parameters, (V + ctx) C + L (12 C^2 + 13 C) + 2 C, in 64 bits. */
int64_t gpt_config_params(const GptConfig *cfg);
/* 1 if cfg is a model gpt_new builds (sizes >= 1, C % H == 0, the bounds
 * above); else 0, with the reason in why[len]. */
int gpt_config_check(const GptConfig *cfg, char *why, size_t len);

typedef struct {
    LayerNorm ln_1, ln_2;
    Linear c_attn;    /* C -> 3C: q, k, v side by side */
    Linear attn_proj; /* C -> C   ("attn.c_proj") */
    Linear c_fc;      /* C -> 4C */
    Linear mlp_proj;  /* 4C -> C  ("mlp.c_proj") */
} GptBlock;

typedef struct {
    GptConfig cfg;
    ParamSet *ps;
    Embedding wte, wpe;
    GptBlock *h;      /* [L] */
    LayerNorm ln_f;
} Gpt;

/* Declare and allocate the parameters (all zero; call gpt_init or load). A
 * config gpt_config_check refuses is a fail(). */
Gpt *gpt_new(GptConfig cfg);
/* The reference init: 2-D weights N(0, 0.02), biases 0, LayerNorm gains 1. */
void gpt_init(Gpt *g, Rng *r);
/* A new model with g's config and numbers. */
Gpt *gpt_copy(const Gpt *g);
void gpt_free(Gpt *g);

/* How gpt_forward builds each block. GPT_COMPOSED: from the small ops the
 * chapter shows (split_heads, matmul, mul_scalar, causal_mask, softmax,
 * merge_heads; matmul, add, gelu). GPT_FUSED: attention as one op
 * (t_causal_attention) and each linear layer, with its bias, the MLP's
 * GELU and the residual add after it, as one (t_linear): the same numbers
 * bit for bit, a third of the memory, and faster. Training, evaluation and
 * the benches run fused. */
typedef enum { GPT_FUSED, GPT_COMPOSED } GptOps;

/* The forward pass on the tape. It changes nothing in g: the position ids
 * it needs live in the tape's arena.
 * idx [B*T] token ids (borrowed until tape_reset), 1 <= T <= ctx.
 * Returns logits [B, T, V]. If att is not NULL (GPT_COMPOSED only), att[l]
 * receives layer l's attention weights [B, H, T, T] (the softmax node), for
 * display. */
Tensor *gpt_forward(Tape *Tp, const Gpt *g, const int *idx, int B, int T, GptOps ops, Tensor **att);

/* Mean next-byte cross-entropy over the B*T positions (nats per token).
 * targets [B*T]; *logits (if not NULL) receives the logits node. */
Tensor *gpt_loss(Tape *Tp, const Gpt *g, const int *idx, const int *targets, int B, int T, GptOps ops,
                 Tensor **logits);

/* The objective, shown on one prediction: logits z [n] (n <= 8) whose true
 * byte is `target`, scored by the categorical cross-entropy -log p_target
 * and by the binary form -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] over
 * the n bytes, with p = softmax(z) and y one-hot. Each loss and its gradient
 * with respect to z come from their own tape. */
typedef struct {
    int n;
    real p[8];                       /* softmax(z) */
    double categorical, binary;      /* the two losses */
    real d_categorical[8], d_binary[8]; /* dL/dz of each */
} GptObjective;
GptObjective gpt_objective(const real *z, int n, int target);

/* What a head of a trained model attends to, from one layer's attention
 * weights att [1, H, n, n] (gpt_forward's att[l], n >= 2), over the queries
 * 1..n-1: the mean distance back to the most attended key, and the share of
 * queries whose most attended key is the token just before. */
typedef struct {
    double back, prev;
} GptHeadFocus;
GptHeadFocus gpt_head_focus(const Tensor *att, int h);
/* The same weights as a figure's data: "query key weight" rows, one block
 * per head separated by two blank lines (gnuplot's `index`). */
void gpt_attention_write(FILE *f, const Tensor *att, int layer);

/* ---- bytes and ids ------------------------------------------------------------ */

/* The vocabulary: the byte values present in a text, in increasing order. */
typedef struct {
    int V;
    unsigned char byte[256]; /* [V] the byte of each id */
    int id[256];             /* the id of each byte value, -1 if absent */
} GptVocab;

GptVocab gpt_vocab_of(const unsigned char *bytes, long n);
/* Encode bytes[n] into ids (room for n): bytes outside the vocabulary are
 * dropped. Returns how many ids were written. */
long gpt_vocab_encode(const GptVocab *v, const unsigned char *bytes, long n, int *ids);
/* Encode a prompt, at most max bytes of it (the first ones). Every byte must
 * be in the vocabulary: one that is not is a data error (EXIT_DATA) that
 * names the byte and the corpus, which lacks it. Returns the length (>= 1). */
int gpt_vocab_prompt(const GptVocab *v, const char *text, int *ids, int max);

/* A run of token ids (a split of a corpus), the caller's. */
typedef struct {
    const int *tok; /* [n] */
    long n;
} GptTokens;
/* Encode bytes[n] into a new id array *ids (the caller frees it with xfree)
 * and split it as the course does: the first 90 % train, the rest val (views
 * into *ids). Returns the number of ids. */
long gpt_encode_split(const GptVocab *v, const unsigned char *bytes, long n, int **ids, GptTokens *train,
                      GptTokens *val);

/* A split must hold at least one window: ctx + 1 tokens (ctx inputs and
 * their next tokens). If s is shorter, fail(EXIT_DATA) naming `what`. */
void gpt_tokens_check(GptTokens s, int ctx, const char *what, const char *hint);

/* ---- the trainer ------------------------------------------------------------ */

/* Every setting of a training run. gpt_train_config_default() is
 * DESIGN.md's reference: AdamW lr 1e-3, betas 0.9 and 0.99, eps 1e-8,
 * weight decay 0.1 on 2-D weights only, the rate warmed up linearly over
 * the first 100 steps then constant, gradients clipped to global norm 1,
 * batches of 32 windows, random windows from the stream "gpt/windows". */
typedef struct {
    double lr;           /* peak learning rate */
    double beta1, beta2; /* AdamW's moment decays */
    double eps;
    double weight_decay; /* decoupled, on tensors with ndim >= 2 (optim.h) */
    int warmup;          /* steps of linear warm-up: step s uses lr * min(1, (s + 1) / warmup) */
    double clip;         /* the global gradient norm is clipped to this */
    int batch;           /* windows per step */
    const char *windows; /* the name of the random windows' Rng stream */
} GptTrainConfig;

GptTrainConfig gpt_train_config_default(void);

typedef struct {
    GptTrainConfig cfg;
    Gpt *model;       /* borrowed: the caller's; step changes its parameters */
    Optimizer *opt;   /* owned: AdamW's moments */
    Tape *tape;       /* owned: reset at every step and every evaluation batch */
    Rng windows;      /* owned: rng_stream(seed, cfg.windows) */
    int *x, *y;       /* owned: [batch, ctx] the last batch and its targets */
    long steps;       /* optimizer steps taken */
    /* Called after backward, before clipping, when not NULL (chapter 7 sets
     * it): it may change the gradients and the loss, e.g. average them over
     * the ranks of a data-parallel run. arg is the caller's. */
    void (*reduce)(void *arg, ParamSet *ps, double *loss);
    void *reduce_arg;
} GptTrainer;

typedef struct {
    long step;          /* 1 for the first step */
    double loss;        /* the batch's mean loss before the update (nats/token) */
    double grad_norm;   /* before clipping */
    double lr;          /* the rate this step used */
    double seconds[3];  /* wall time of forward + loss, backward, clip + update (benches) */
} GptStepStats;

/* The step's whole wall time: its three phases added. */
static inline double gpt_step_seconds(GptStepStats st) {
    return st.seconds[0] + st.seconds[1] + st.seconds[2];
}

typedef struct {
    double loss;        /* mean loss over the windows (nats/token) */
    long windows;
} GptEvalStats;

GptTrainer *gpt_trainer_new(Gpt *model, const GptTrainConfig *cfg, uint64_t seed);
/* One optimizer step on cfg.batch windows of ctx + 1 tokens at random
 * offsets in train (drawn from the trainer's stream). */
GptStepStats gpt_trainer_step(GptTrainer *t, GptTokens train);
/* The same step on a given batch: x, y [batch, ctx] (borrowed until the
 * trainer's next call). The tests feed the PyTorch fixture's batch. */
GptStepStats gpt_trainer_step_on(GptTrainer *t, const int *x, const int *y);
/* The mean loss over nbatches x cfg.batch windows at evenly spaced offsets
 * in s (the same windows every call). No parameter changes. */
GptEvalStats gpt_trainer_eval(GptTrainer *t, GptTokens s, int nbatches);
void gpt_trainer_free(GptTrainer *t);

/* The same evaluation for a model without a trainer (its own tape). */
GptEvalStats gpt_evaluate(const Gpt *g, GptTokens s, int batch, int nbatches);

/* A training run with a learning curve: steps gpt_trainer_step calls of t on
 * train; at(arg, s) runs before step s whenever s % every == 0, and once
 * more after the last step (s = steps): the caller's evaluation and logging
 * (at NULL: none). Progress on the terminal under label (NULL: none). Returns the steps' own
 * time (their GptStepStats.seconds summed), in seconds. */
double gpt_trainer_run(GptTrainer *t, GptTokens train, int steps, int every,
                       void (*at)(void *arg, int step), void *arg, const char *label);

/* ---- checkpoints ------------------------------------------------------------ */

/* "gpt V=.. ctx=.. L=.. H=.. C=.." into buf (the checkpoint meta line's
 * start), and back. gpt_config_parse returns 1 if text starts with such a
 * line whose config gpt_config_check accepts; else 0, and why[len] says why. */
char *gpt_config_str(const GptConfig *cfg, char *buf, size_t len);
int gpt_config_parse(const char *text, GptConfig *cfg, char *why, size_t len);

/* Save to a checkpoint (lib/checkpoint.h) whose meta line is the config
 * then " vocab=" and the V vocabulary bytes in id order, as hex:
 *   "gpt V=3 ctx=64 L=4 H=4 C=128 vocab=0a2061"
 * gpt_load rebuilds the model from that line, loads the numbers and fills
 * *vocab. Any problem (missing file, damaged file, a meta line that is not
 * a GPT's, sizes out of bounds or larger than the file could hold) is a
 * fail() naming the file, before anything large is allocated; hint says
 * which command makes it. */
void gpt_save(const char *path, const Gpt *g, const GptVocab *vocab);
Gpt *gpt_load(const char *path, GptVocab *vocab, const char *hint);

/* ---- sampling ------------------------------------------------------------ */

/* Draw one id from logits [V] at a temperature (> 0), keeping only the
 * top_k largest logits (0 = all). Uses one rng_uniform draw. */
int gpt_sample_logits(const real *logits, int V, double temperature, int top_k, Rng *r);

/* Inference with a key/value cache: plain C, no tape. Each new token runs
 * through the layers once, attending to the keys and values cached for the
 * positions before it, so a byte costs O(params + pos*C) instead of a
 * forward pass over the whole context. */
typedef struct {
    const Gpt *g;
    int n;        /* positions in the cache (0..ctx) */
    real *k, *v;  /* [L, ctx, C] keys and values, heads side by side */
    real *x, *xn, *qkv, *att, *y, *hid, *logits; /* scratch: [C] [C] [3C] [ctx] [C] [4C] [V] */
} GptCache;

GptCache *gpt_cache_new(const Gpt *g);
void gpt_cache_free(GptCache *c);
void gpt_cache_clear(GptCache *c);
/* Feed token at position c->n; returns the logits [V] for the next token
 * (a pointer into the cache, valid until the next call). */
const real *gpt_cache_step(GptCache *c, int token);

/* Generate n_new tokens after prompt[np] (np >= 1) into out[n_new].
 * The model sees at most ctx positions: when the context is full, it keeps
 * the last ctx/2 tokens and continues from them (the cache is refilled from
 * those, since every position's embedding changes). gpt_generate_nocache
 * follows the same rule but recomputes the whole window with gpt_forward
 * for every new token: the slow reference the test compares with. */
void gpt_generate(const Gpt *g, const int *prompt, int np, int *out, int n_new, double temperature, int top_k,
                  Rng *r);
void gpt_generate_nocache(const Gpt *g, const int *prompt, int np, int *out, int n_new, double temperature, int top_k,
                          Rng *r);

#endif
