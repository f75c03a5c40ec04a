"""gan_ring.py - reference fixture for chapter 02 (the GAN on a 2-D ring).

Writes tests/reference/gan_ring.txt: the chapter's MLP generator and
discriminator at a small size, their outputs on fixed inputs, the three GAN
losses (L_D, non-saturating L_G, saturating L_G) and each loss's gradient
with respect to every parameter of the network it trains. All in float64.

    G: z[N,zdim] -> fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> fake[N,2]
    D: x[N,2]    -> fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> logit[N,1]

Run: /usr/bin/python3 tests/reference/gan_ring.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixio import header, here, write_fixture
from ring_ref import MLP

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

ZDIM, HID, N = 4, 8, 6
W_STD, B_STD = 0.5, 0.3  # large enough that activations are O(1), biases non-zero


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.G = MLP(ZDIM, HID, 2)   # generator: latent -> point in the plane
        self.D = MLP(2, HID, 1)      # discriminator: point -> logit (no sigmoid)


model = GAN()
with torch.no_grad():
    for name, p in model.named_parameters():   # fixed order: G then D, fc1..fc3
        p.normal_(0.0, W_STD if name.endswith("weight") else B_STD)

z = torch.randn(N, ZDIM)
# real points: the ring of 8 Gaussians (radius 2, std 0.02) like the chapter's data
k = torch.randint(0, 8, (N,))
ang = k.double() * (torch.pi / 4)
x = torch.stack([2 * torch.cos(ang), 2 * torch.sin(ang)], 1) + 0.02 * torch.randn(N, 2)

G, D = model.G, model.D
ones, zeros = torch.ones(N, 1), torch.zeros(N, 1)

fake = G(z)
d_real = D(x)
d_fake = D(fake)

# L_D: mean over the batch of BCE(D(x), 1) plus mean of BCE(D(G(z)), 0);
# G(z) is detached, so L_D trains D only.
loss_d = (F.binary_cross_entropy_with_logits(D(x), ones)
          + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
# L_G non-saturating: mean BCE(D(G(z)), 1) = mean softplus(-logit).
loss_g = F.binary_cross_entropy_with_logits(d_fake, ones)
# L_G saturating (minimised): mean log(1 - sigmoid(logit)) = -mean softplus(logit).
loss_g_sat = -F.softplus(d_fake).mean()

# self-checks of the identities the README states
assert torch.allclose(loss_g, F.softplus(-d_fake).mean(), rtol=1e-14, atol=0)
assert torch.allclose(loss_g_sat, torch.log1p(-torch.sigmoid(d_fake)).mean(), rtol=1e-12, atol=0)

D_params = list(D.named_parameters())
G_params = list(G.named_parameters())
grad_d = torch.autograd.grad(loss_d, [p for _, p in D_params])
grad_g = torch.autograd.grad(loss_g, [p for _, p in G_params], retain_graph=True)
grad_gsat = torch.autograd.grad(loss_g_sat, [p for _, p in G_params])

out = []
out += [(n, p) for n, p in model.state_dict().items()]
out += [("z", z), ("x", x), ("fake", fake), ("d_real", d_real), ("d_fake", d_fake),
        ("loss_d", loss_d), ("loss_g", loss_g), ("loss_g_sat", loss_g_sat)]
out += [("grad.D." + n, g) for (n, _), g in zip(D_params, grad_d)]
out += [("gradg.G." + n, g) for (n, _), g in zip(G_params, grad_g)]
out += [("gradgsat.G." + n, g) for (n, _), g in zip(G_params, grad_gsat)]

write_fixture(here("gan_ring.txt"),
              header("gan_ring.py", "zdim %d, hidden %d, batch N %d; weights N(0,%g), biases N(0,%g)"
                     % (ZDIM, HID, N, W_STD, B_STD)),
              out)
