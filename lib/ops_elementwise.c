/* ops_elementwise.c - PLACEHOLDER being written; every function fails loudly until then. */
#include "tensor.h"
#include "util.h"

void fwd_add(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "add", "not written yet", "op missing"); }
void bwd_add(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "add", "not written yet", "op missing"); }
void fwd_sub(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sub", "not written yet", "op missing"); }
void bwd_sub(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sub", "not written yet", "op missing"); }
void fwd_mul(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mul", "not written yet", "op missing"); }
void bwd_mul(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mul", "not written yet", "op missing"); }
void fwd_div(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "div", "not written yet", "op missing"); }
void bwd_div(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "div", "not written yet", "op missing"); }
void fwd_add_scalar(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "add_scalar", "not written yet", "op missing"); }
void bwd_add_scalar(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "add_scalar", "not written yet", "op missing"); }
void fwd_mul_scalar(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mul_scalar", "not written yet", "op missing"); }
void bwd_mul_scalar(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "mul_scalar", "not written yet", "op missing"); }
void fwd_neg(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "neg", "not written yet", "op missing"); }
void bwd_neg(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "neg", "not written yet", "op missing"); }
void fwd_relu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "relu", "not written yet", "op missing"); }
void bwd_relu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "relu", "not written yet", "op missing"); }
void fwd_leaky_relu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "leaky_relu", "not written yet", "op missing"); }
void bwd_leaky_relu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "leaky_relu", "not written yet", "op missing"); }
void fwd_sigmoid(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sigmoid", "not written yet", "op missing"); }
void bwd_sigmoid(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "sigmoid", "not written yet", "op missing"); }
void fwd_tanh(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "tanh", "not written yet", "op missing"); }
void bwd_tanh(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "tanh", "not written yet", "op missing"); }
void fwd_gelu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "gelu", "not written yet", "op missing"); }
void bwd_gelu(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "gelu", "not written yet", "op missing"); }
void fwd_exp(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "exp", "not written yet", "op missing"); }
void bwd_exp(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "exp", "not written yet", "op missing"); }
void fwd_log(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "log", "not written yet", "op missing"); }
void bwd_log(Tensor *out) { (void)out; fail(EXIT_SOFTWARE, "log", "not written yet", "op missing"); }
