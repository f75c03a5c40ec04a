/* ops_reduce.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_reshape(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "reshape", "not written yet", "op missing"); }
void bwd_reshape(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "reshape", "not written yet", "op missing"); }
void fwd_transpose(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "transpose", "not written yet", "op missing"); }
void bwd_transpose(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "transpose", "not written yet", "op missing"); }
void fwd_sum(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sum", "not written yet", "op missing"); }
void bwd_sum(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sum", "not written yet", "op missing"); }
void fwd_mean(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mean", "not written yet", "op missing"); }
void bwd_mean(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mean", "not written yet", "op missing"); }
void fwd_sum_last(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sum_last", "not written yet", "op missing"); }
void bwd_sum_last(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sum_last", "not written yet", "op missing"); }
void fwd_mean_last(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mean_last", "not written yet", "op missing"); }
void bwd_mean_last(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mean_last", "not written yet", "op missing"); }
