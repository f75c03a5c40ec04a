"""gan_images_full.py - reference fixture for chapter 03 at DESIGN.md's REAL sizes.

gan_images.py checks the image GAN with a few channels and every number in the
file. This script checks the same model at its real sizes (Z 100, c1 128,
c2 64, d1 32, d2 64, batch N 2), where every number would be megabytes. So the
weights and inputs are not stored: both sides compute them from one closed
formula (no RNG), and the file holds the formula's constants, the losses and
logits, and samples, L2 norms, sums and absolute sums of `fake` and of every
gradient. All in float64. README.md, section 5, states the formula.

    G: z[N,100] -> fc Linear(100->6272) -> ReLU -> view [N,128,7,7]
       -> deconv1 ConvTranspose2d(128->64, k4, s2, p1) -> ReLU   [N,64,14,14]
       -> deconv2 ConvTranspose2d(64->1,   k4, s2, p1) -> tanh   [N,1,28,28]
    D: x[N,1,28,28] -> conv1 Conv2d(1->32, k3, s2, p1) -> LeakyReLU(0.2) [N,32,14,14]
       -> conv2 Conv2d(32->64, k3, s2, p1) -> LeakyReLU(0.2)             [N,64,7,7]
       -> flatten [N, 3136] -> fc Linear(3136->1) -> logit [N,1]

Run: /usr/bin/python3 tests/reference/gan_images_full.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import math

import torch

from dcgan_ref import GAN, losses_and_grads
from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)

ZDIM, C1, C2, D1, D2, N = 100, 128, 64, 32, 64, 2

# ---- the formula ----------------------------------------------------------------
# Tensor number p (0..11: the state_dict order below; 12 = z, 13 = x), flat
# row-major index i:
#     k = (A*i*i + B*i + C*p + E) mod M          (exact integer arithmetic)
#     u = sin(2*pi*k / M)                        (in [-1, 1])
#     value = scale[p] * u
# The quadratic phase makes neighbouring entries look unrelated (a linear
# phase would make every row a shifted copy of one sinusoid). i*i*A < 2^63
# for i < 2^20 and A < 2^23: exact in C's int64 as in Python's int.
A, B, C, E, M = 7919, 104729, 7907, 17, 1000003  # primes; M > every tensor size
GAIN = 1.0    # weights: RMS ~ GAIN/sqrt(fan_in), as gan_images.py
B_AMP = 0.2   # biases: amplitude 0.2 (RMS 0.14): non-zero, so a lost bias shows
Z_AMP = math.sqrt(2.0)  # z: RMS 1, like N(0, 1)
X_AMP = 1.0   # x: in [-1, 1], like images scaled to [-1, 1]

# inputs that reach one output (a stride-2, k4, p1 transposed conv sends each
# output pixel 2x2 taps per input channel: C_in * 4)
FAN_IN = {"G.fc": ZDIM, "G.deconv1": C1 * 4, "G.deconv2": C2 * 4,
          "D.conv1": 1 * 9, "D.conv2": D1 * 9, "D.fc": D2 * 49}


def formula(p, size, scale):
    two_pi = 2 * math.pi
    vals = []
    for i in range(size):
        k = (A * i * i + B * i + C * p + E) % M
        vals.append(scale * math.sin(two_pi * k / M))   # same operation order as the C test
    return torch.tensor(vals, dtype=torch.float64)


model = GAN(ZDIM, C1, C2, D1, D2)
names = list(model.state_dict().keys())
assert len(names) == 12
scales = []
with torch.no_grad():
    for p, (name, t) in enumerate(model.named_parameters()):   # same order as state_dict
        assert name == names[p]
        layer = name.rsplit(".", 1)[0]
        s = GAIN * math.sqrt(2.0) / math.sqrt(FAN_IN[layer]) if name.endswith("weight") else B_AMP
        scales.append(s)
        t.copy_(formula(p, t.numel(), s).view(t.shape))

z = formula(12, N * ZDIM, Z_AMP).view(N, ZDIM)
x = formula(13, N * 28 * 28, X_AMP).view(N, 1, 28, 28)

G, D = model.G, model.D
r = losses_and_grads(model, z, x)
fake, d_real, d_fake, loss_d, loss_g = r["fake"], r["d_real"], r["d_fake"], r["loss_d"], r["loss_g"]
D_params, G_params, grad_d, grad_g = r["D_params"], r["G_params"], r["grad_d"], r["grad_g"]

# sanity: the model is in a regime where every path matters
assert (fake.abs() < 0.99).double().mean() > 0.8, "tanh saturated"
assert 0.1 < loss_d.item() < 3 and 0.1 < loss_g.item() < 3, (loss_d.item(), loss_g.item())
for (n, _), g in list(zip(D_params, grad_d)) + list(zip(G_params, grad_g)):
    assert g.abs().max() > 1e-6, "gradient of %s is ~0" % n


# ---- samples: indices 0, k, 2k, ... with k = max(1, size // target) | 1 -------
# (k odd, so the samples do not all fall in one column of an even-width row)
def sample_idx(size, target):
    k = max(1, size // target) | 1
    return torch.arange(0, size, k, dtype=torch.int64)


def stats(t):  # [sum, L2 norm, sum of |t|]
    t = t.detach().reshape(-1)
    return torch.stack([t.sum(), t.norm(), t.abs().sum()])


out = [("formula", torch.tensor([A, B, C, E, M], dtype=torch.int64)),
       ("formula.scale", torch.tensor(scales + [Z_AMP, X_AMP]))]
# a few samples of the weights and inputs themselves, so a C formula that
# drifts from this one fails on the weights, not somewhere downstream
for p, (name, t) in enumerate(list(model.state_dict().items()) + [("z", z), ("x", x)]):
    idx = sample_idx(t.numel(), 8)
    out += [("idx." + name, idx), ("sample." + name, t.reshape(-1)[idx])]
out += [("d_real", d_real), ("d_fake", d_fake), ("loss_d", loss_d), ("loss_g", loss_g)]
idx = sample_idx(fake.numel(), 200)
out += [("idx.fake", idx), ("sample.fake", fake.detach().reshape(-1)[idx]), ("stats.fake", stats(fake))]
for prefix, params, grads in (("grad.D.", D_params, grad_d), ("gradg.G.", G_params, grad_g)):
    for (n, _), g in zip(params, grads):
        idx = sample_idx(g.numel(), 50)
        out += [("idx." + prefix + n, idx), ("sample." + prefix + n, g.reshape(-1)[idx]),
                ("stats." + prefix + n, stats(g))]

write_fixture(here("gan_images_full.txt"),
              header("gan_images_full.py",
                     "the reference sizes: zdim %d, c1 %d, c2 %d, d1 %d, d2 %d, batch N %d; weights, z and x "
                     "from the closed formula of README.md section 5 (no RNG); samples, not whole tensors"
                     % (ZDIM, C1, C2, D1, D2, N)),
              out)
