/* ops_conv.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_conv2d(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "conv2d", "not written yet", "op missing"); }
void bwd_conv2d(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "conv2d", "not written yet", "op missing"); }
void fwd_conv_transpose2d(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "conv_transpose2d", "not written yet", "op missing"); }
void bwd_conv_transpose2d(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "conv_transpose2d", "not written yet", "op missing"); }
