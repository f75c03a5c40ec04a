/* ops_nn.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_softmax(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "softmax", "not written yet", "op missing"); }
void bwd_softmax(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "softmax", "not written yet", "op missing"); }
void fwd_log_softmax(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "log_softmax", "not written yet", "op missing"); }
void bwd_log_softmax(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "log_softmax", "not written yet", "op missing"); }
void fwd_layernorm(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "layernorm", "not written yet", "op missing"); }
void bwd_layernorm(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "layernorm", "not written yet", "op missing"); }
void fwd_embedding(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "embedding", "not written yet", "op missing"); }
void bwd_embedding(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "embedding", "not written yet", "op missing"); }
void fwd_causal_mask(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "causal_mask", "not written yet", "op missing"); }
void bwd_causal_mask(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "causal_mask", "not written yet", "op missing"); }
void fwd_split_heads(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "split_heads", "not written yet", "op missing"); }
void bwd_split_heads(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "split_heads", "not written yet", "op missing"); }
void fwd_merge_heads(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "merge_heads", "not written yet", "op missing"); }
void bwd_merge_heads(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "merge_heads", "not written yet", "op missing"); }
