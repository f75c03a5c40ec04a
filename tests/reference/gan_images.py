"""gan_images.py - reference fixture for chapter 03 (the image GAN).

Writes tests/reference/gan_images.txt: the chapter's convolutional generator
and discriminator (same layer types, kernels, strides and paddings as
DESIGN.md, fewer channels), their outputs on fixed inputs, L_D and the
non-saturating L_G, and each loss's gradient with respect to every parameter
of the network it trains. All in float64.

    G: z[N,zdim] -> fc -> ReLU -> view [N,c1,7,7]
       -> deconv1 ConvTranspose2d(c1->c2, k4, s2, p1) -> ReLU     [N,c2,14,14]
       -> deconv2 ConvTranspose2d(c2->1,  k4, s2, p1) -> tanh     [N,1,28,28]
    D: x[N,1,28,28] -> conv1 Conv2d(1->d1, k3, s2, p1) -> LeakyReLU(0.2) [N,d1,14,14]
       -> conv2 Conv2d(d1->d2, k3, s2, p1) -> LeakyReLU(0.2)              [N,d2,7,7]
       -> flatten [N, d2*7*7] (index c*49 + h*7 + w) -> fc -> logit [N,1]

Run: /usr/bin/python3 tests/reference/gan_images.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import math

import torch
import torch.nn.functional as F

from dcgan_ref import GAN, losses_and_grads
from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

ZDIM, C1, C2, D1, D2, N = 8, 4, 3, 2, 3, 2
B_STD = 0.2  # biases: non-zero, so a missing or misplaced bias shows


# Weight std = gain / sqrt(inputs that reach one output), so activations stay
# O(1) through every layer. A stride-2, k4, p1 transposed conv sends each
# output pixel 2x2 taps from each input channel: fan-in = C_in * 4.
FAN_IN = {"G.fc": ZDIM, "G.deconv1": C1 * 4, "G.deconv2": C2 * 4,
          "D.conv1": 1 * 9, "D.conv2": D1 * 9, "D.fc": D2 * 49}
GAIN = 1.0

model = GAN(ZDIM, C1, C2, D1, D2)
with torch.no_grad():
    for name, p in model.named_parameters():   # fixed order: G then D, as declared
        layer = name.rsplit(".", 1)[0]
        std = GAIN / math.sqrt(FAN_IN[layer]) if name.endswith("weight") else B_STD
        p.normal_(0.0, std)

z = torch.randn(N, ZDIM)
x = torch.rand(N, 1, 28, 28) * 2 - 1           # "images" in [-1, 1]

G, D = model.G, model.D
r = losses_and_grads(model, z, x)
fake, d_real, d_fake, loss_d, loss_g = r["fake"], r["d_real"], r["d_fake"], r["loss_d"], r["loss_g"]
D_params, G_params, grad_d, grad_g = r["D_params"], r["G_params"], r["grad_d"], r["grad_g"]

# self-check: the index formulas README.md states for the two conv layers
# reproduce torch's layers (explicit loops, so the layouts are pinned down).
def conv2d_loops(x, w, b, s, p):      # w [O,C,k,k]
    n_, c_, hi, wi = x.shape
    o_, _, k_, _ = w.shape
    ho, wo = (hi + 2 * p - k_) // s + 1, (wi + 2 * p - k_) // s + 1
    y = b.view(1, o_, 1, 1).repeat(n_, 1, ho, wo)
    for oy in range(ho):
        for ox in range(wo):
            for ky in range(k_):
                for kx in range(k_):
                    iy, ix = oy * s - p + ky, ox * s - p + kx
                    if 0 <= iy < hi and 0 <= ix < wi:
                        y[:, :, oy, ox] += x[:, :, iy, ix] @ w[:, :, ky, kx].t()
    return y


def conv_transpose2d_loops(x, w, b, s, p):   # w [C_in,C_out,k,k]
    n_, c_, hi, wi = x.shape
    _, o_, k_, _ = w.shape
    ho, wo = (hi - 1) * s - 2 * p + k_, (wi - 1) * s - 2 * p + k_
    y = b.view(1, o_, 1, 1).repeat(n_, 1, ho, wo)
    for iy in range(hi):
        for ix in range(wi):
            for ky in range(k_):
                for kx in range(k_):
                    oy, ox = iy * s - p + ky, ix * s - p + kx
                    if 0 <= oy < ho and 0 <= ox < wo:
                        y[:, :, oy, ox] += x[:, :, iy, ix] @ w[:, :, ky, kx]
    return y


with torch.no_grad():
    h0 = F.relu(G.fc(z)).view(-1, C1, 7, 7)
    assert torch.allclose(conv_transpose2d_loops(h0, G.deconv1.weight, G.deconv1.bias, 2, 1),
                          G.deconv1(h0), rtol=1e-12, atol=1e-14)
    assert torch.allclose(conv2d_loops(x, D.conv1.weight, D.conv1.bias, 2, 1),
                          D.conv1(x), rtol=1e-12, atol=1e-14)

# the generator should not be saturated: most tanh outputs well inside (-1, 1)
assert (fake.abs() < 0.99).double().mean() > 0.8, "tanh saturated; lower GAIN"

out = []
out += [(n, p) for n, p in model.state_dict().items()]
out += [("z", z), ("x", x), ("fake", fake), ("d_real", d_real), ("d_fake", d_fake),
        ("loss_d", loss_d), ("loss_g", loss_g)]
out += [("grad.D." + n, g) for (n, _), g in zip(D_params, grad_d)]
out += [("gradg.G." + n, g) for (n, _), g in zip(G_params, grad_g)]

write_fixture(here("gan_images.txt"),
              header("gan_images.py",
                     "zdim %d, c1 %d, c2 %d, d1 %d, d2 %d, batch N %d; weights N(0, %g/sqrt(fan_in)), "
                     "biases N(0,%g)" % (ZDIM, C1, C2, D1, D2, N, GAIN, B_STD)),
              out)
