"""vae.py - reference fixture for chapter 04 (the VAE and its ELBO).

Writes tests/reference/vae.txt: the chapter's MLP VAE at a small size, its
outputs on fixed inputs and a fixed noise draw eps, the two parts of the
negative ELBO (reconstruction and KL) and the gradient of their sum with
respect to every parameter. All in float64.

    encoder: x[N,D] -> fc1 -> ReLU -> h[N,H]; mu = fc21(h), logvar = fc22(h)  [N,Z]
    reparameterise: z = mu + exp(0.5*logvar) * eps                            [N,Z]
    decoder: z -> fc3 -> ReLU -> fc4 -> logits[N,D]   (Bernoulli means = sigmoid)

Run: /usr/bin/python3 tests/reference/vae.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

D, H, Z, N = 12, 7, 3, 4
W_STD, B_STD = 0.6, 0.3


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, H)
        self.fc21 = nn.Linear(H, Z)
        self.fc22 = nn.Linear(H, Z)
        self.fc3 = nn.Linear(Z, H)
        self.fc4 = nn.Linear(H, D)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))


model = VAE()
with torch.no_grad():
    for name, p in model.named_parameters():   # fixed order: fc1, fc21, fc22, fc3, fc4
        p.normal_(0.0, W_STD if name.endswith("weight") else B_STD)

x = torch.rand(N, D)        # pixel intensities in [0, 1], not just 0/1
eps = torch.randn(N, Z)

mu, logvar = model.encode(x)
z = mu + torch.exp(0.5 * logvar) * eps
logits = model.decode(z)

# -log p(x|z), Bernoulli with means sigmoid(logits): per element
# softplus(l) - x*l = max(l,0) - l*x + log(1 + exp(-|l|)); summed over the D
# pixels of an image, then averaged over the N images of the batch.
recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean()
# KL(N(mu, exp(logvar)) || N(0, I)): summed over the Z latents, averaged over N.
kl = (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).sum(1).mean()
loss = recon + kl   # negative ELBO per image, nats

assert torch.allclose(recon, (F.softplus(logits) - x * logits).sum(1).mean(), rtol=1e-13, atol=0)

params = list(model.named_parameters())
grads = torch.autograd.grad(loss, [p for _, p in params])

out = []
out += [(n, p) for n, p in model.state_dict().items()]
out += [("x", x), ("eps", eps), ("mu", mu), ("logvar", logvar), ("z", z),
        ("logits", logits), ("recon", recon), ("kl", kl), ("loss", loss)]
out += [("grad." + n, g) for (n, _), g in zip(params, grads)]

write_fixture(here("vae.txt"),
              header("vae.py", "D %d, H %d, Z %d, batch N %d; weights N(0,%g), biases N(0,%g)"
                     % (D, H, Z, N, W_STD, B_STD)),
              out)
