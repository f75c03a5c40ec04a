/* ops_loss.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_cross_entropy(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "cross_entropy", "not written yet", "op missing"); }
void bwd_cross_entropy(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "cross_entropy", "not written yet", "op missing"); }
void fwd_bce_with_logits(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "bce_with_logits", "not written yet", "op missing"); }
void bwd_bce_with_logits(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "bce_with_logits", "not written yet", "op missing"); }
void fwd_mse(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mse", "not written yet", "op missing"); }
void bwd_mse(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mse", "not written yet", "op missing"); }
void fwd_gaussian_kl(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "gaussian_kl", "not written yet", "op missing"); }
void bwd_gaussian_kl(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "gaussian_kl", "not written yet", "op missing"); }
