/* gpt.h - a small GPT (GPT-2 layout), its loss, and sampling with a
 * key/value cache. Used by chapter 5 (pre-training), chapter 6
 * (fine-tuning) and the tests.
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

#include "nn.h"
#include "rng.h"
#include "tensor.h"

typedef struct {
    int V;    /* vocabulary size */
    int ctx;  /* context length: the most positions the model sees */
    int L;    /* layers (blocks) */
    int H;    /* heads per layer */
    int C;    /* width; C % H == 0 */
} GptConfig;

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
    int *pos;         /* [pos_cap] position ids 0..T-1 repeated per row (borrowed by the tape) */
    long pos_cap;
} Gpt;

/* Declare and allocate the parameters (all zero; call gpt_init or load). A
 * bad config (C not divisible by H, a size < 1) is a fail(). */
Gpt *gpt_new(GptConfig cfg);
/* The reference init: 2-D weights N(0, 0.02), biases 0, LayerNorm gains 1. */
void gpt_init(Gpt *g, Rng *r);
void gpt_free(Gpt *g);

/* The forward pass on the tape.
 * idx [B*T] token ids (borrowed until tape_reset), 1 <= T <= ctx.
 * Returns logits [B, T, V]. If att is not NULL, att[l] receives layer l's
 * attention weights [B, H, T, T] (the softmax node), for display. */
Tensor *gpt_forward(Tape *Tp, Gpt *g, const int *idx, int B, int T, Tensor **att);

/* Mean next-byte cross-entropy over the B*T positions (nats per token).
 * targets [B*T]; *logits (if not NULL) receives the logits node. */
Tensor *gpt_loss(Tape *Tp, Gpt *g, const int *idx, const int *targets, int B, int T, Tensor **logits);

/* "gpt V=.. ctx=.. L=.. H=.. C=.." into buf (the checkpoint meta line's
 * start), and back. gpt_config_parse returns 0 if text is not such a line. */
char *gpt_config_str(const GptConfig *cfg, char *buf, size_t len);
int gpt_config_parse(const char *text, GptConfig *cfg);

/* Save to a checkpoint (lib/checkpoint.h) whose meta line is the config
 * then " vocab=" and the V vocabulary bytes in id order, as hex:
 *   "gpt V=3 ctx=64 L=4 H=4 C=128 vocab=0a2061"
 * gpt_load rebuilds the model from that line, loads the numbers and fills
 * vocab[V] (byte of each id). Any problem (missing file, damaged file, a meta
 * line that is not a GPT's) is a fail() naming the file; hint says which
 * command makes it. */
void gpt_save(const char *path, const Gpt *g, const unsigned char *vocab);
Gpt *gpt_load(const char *path, unsigned char *vocab, const char *hint);

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
void gpt_generate_nocache(Gpt *g, const int *prompt, int np, int *out, int n_new, double temperature, int top_k,
                          Rng *r);

#endif
