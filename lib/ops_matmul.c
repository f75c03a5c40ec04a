/* ops_matmul.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_matmul(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "matmul", "not written yet", "op missing"); }
void bwd_matmul(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "matmul", "not written yet", "op missing"); }
