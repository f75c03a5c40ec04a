"""batchnorm.py - reference fixture for the batch-norm op (lib/ops_nn.c, t_batchnorm).

Writes tests/reference/batchnorm.txt: PyTorch's BatchNorm1d on x [N, C] and
BatchNorm2d on x [N, C, H, W] (eps 1e-5, momentum 0.1, affine), in float64:
two training steps (outputs, the running statistics after each, gradients
of a weighted sum of the first step's output), then eval mode on a third
batch (output and gradients).

Run: /usr/bin/python3 tests/reference/batchnorm.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import torch
import torch.nn as nn

from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

EPS, MOMENTUM = 1e-5, 0.1
CASES = [("nc", nn.BatchNorm1d, (5, 3)), ("nchw", nn.BatchNorm2d, (3, 2, 3, 4))]


def batch(shape, scale, offset):
    """Entries N(0,1) * scale[c] + offset[c]: each channel its own mean and
    variance, so a statistic taken over the wrong axes changes the numbers."""
    view = [1, shape[1]] + [1] * (len(shape) - 2)
    return torch.randn(*shape) * scale.view(view) + offset.view(view)


tensors = []
for prefix, cls, shape in CASES:
    C = shape[1]
    bn = cls(C, eps=EPS, momentum=MOMENTUM)
    scale = 0.5 + torch.rand(C) * 2      # channel scales in [0.5, 2.5]
    offset = torch.randn(C) * 2          # channel means ~ N(0, 4)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.3 * torch.randn(C))
        bn.bias.copy_(0.3 * torch.randn(C))
        # start the running statistics away from PyTorch's (0, 1), so the
        # (1 - momentum) r part of the update shows in the numbers
        bn.running_mean.copy_(0.5 * torch.randn(C))
        bn.running_var.copy_(0.5 + torch.rand(C))
    tensors += [(prefix + ".weight", bn.weight.detach().clone()),
                (prefix + ".bias", bn.bias.detach().clone()),
                (prefix + ".running_mean.0", bn.running_mean.clone()),
                (prefix + ".running_var.0", bn.running_var.clone())]

    # step 1 (train): output, running statistics, gradients of sum(y * w)
    bn.train()
    x1 = batch(shape, scale, offset).requires_grad_(True)
    w1 = torch.rand(*shape) * 2 - 1
    y1 = bn(x1)
    (y1 * w1).sum().backward()
    # the identities the C op implements: biased variance in the output,
    # unbiased in running_var
    axes = [0] + list(range(2, len(shape)))
    M = x1.numel() // C
    view = [1, C] + [1] * (len(shape) - 2)
    mean = x1.detach().mean(axes)
    var = x1.detach().var(axes, unbiased=False)
    want = (x1.detach() - mean.view(view)) / torch.sqrt(var.view(view) + EPS) * bn.weight.detach().view(view) \
        + bn.bias.detach().view(view)
    assert torch.allclose(y1, want, rtol=1e-12, atol=1e-12)
    rv = (1 - MOMENTUM) * tensors[-1][1] + MOMENTUM * var * M / (M - 1)
    assert torch.allclose(bn.running_var, rv, rtol=1e-14, atol=0)
    tensors += [(prefix + ".x1", x1.detach()), (prefix + ".w1", w1), (prefix + ".y1", y1.detach()),
                (prefix + ".running_mean.1", bn.running_mean.clone()),
                (prefix + ".running_var.1", bn.running_var.clone()),
                (prefix + ".grad.x1", x1.grad), (prefix + ".grad.weight.train", bn.weight.grad.clone()),
                (prefix + ".grad.bias.train", bn.bias.grad.clone())]

    # step 2 (train): the running statistics move again
    x2 = batch(shape, scale, offset)
    y2 = bn(x2)
    tensors += [(prefix + ".x2", x2), (prefix + ".y2", y2.detach()),
                (prefix + ".running_mean.2", bn.running_mean.clone()),
                (prefix + ".running_var.2", bn.running_var.clone())]

    # eval on a third batch: normalised with the running statistics after step 2
    bn.eval()
    bn.weight.grad = None
    bn.bias.grad = None
    x3 = batch(shape, scale, offset).requires_grad_(True)
    w3 = torch.rand(*shape) * 2 - 1
    y3 = bn(x3)
    (y3 * w3).sum().backward()
    assert torch.equal(bn.running_mean, tensors[-2][1])  # eval leaves the statistics alone
    tensors += [(prefix + ".x3", x3.detach()), (prefix + ".w3", w3), (prefix + ".y3", y3.detach()),
                (prefix + ".grad.x3", x3.grad), (prefix + ".grad.weight.eval", bn.weight.grad.clone()),
                (prefix + ".grad.bias.eval", bn.bias.grad.clone())]

write_fixture(here("batchnorm.txt"),
              header("batchnorm.py", "eps %g, momentum %g; nc: BatchNorm1d on x %s; nchw: BatchNorm2d on x %s"
                     % (EPS, MOMENTUM, list(CASES[0][2]), list(CASES[1][2]))),
              tensors)
