"""judge.py - reference fixture for chapter 03's judge (the classifier that
measures G's samples) and for its two remedies: the generator with batch
norm, and the pair conditional on the class.

Writes tests/reference/judge.txt, all float64:

  Judge: x[N,1,28,28] -> conv1 Conv2d(1->c1, k4, s2, p1) -> LeakyReLU(0.2)  [N,c1,14,14]
         -> conv2 Conv2d(c1->c2, k4, s2, p1) -> LeakyReLU(0.2)               [N,c2,7,7]
         -> flatten [N, c2*49] -> fc1 Linear -> ReLU: features [N,F]
         -> fc2 Linear(F->10): logits [N,10]; loss = mean cross-entropy
  G with batch norm (the remedy): z -> fc -> view [N,c1,7,7] -> bn1 BatchNorm2d(c1)
         -> ReLU -> deconv1 -> bn2 BatchNorm2d(c2) -> ReLU -> deconv2 -> tanh,
         training mode (batch statistics, running statistics updated with
         momentum 0.1, eps 1e-5), then L_G through the chapter's D, and the
         same G in eval mode (running statistics) on the same z.
  The conditional pair (the second remedy), under the prefix "cond.", no
         batch norm, K classes y in 0..K-1 per image:
         G: a = fc(z) + embed[y] -> ReLU -> view [N,c1,7,7] -> deconv1 -> ReLU
            -> deconv2 -> tanh                      (embed: [K, c1*49])
         D: f = flatten(LeakyReLU(conv2(LeakyReLU(conv1 x)))) [N, d2*49];
            logit = fc(f) + sum_k embed[y][k] f[k]  (embed: [K, d2*49], projection)
         L_D = BCE(D(x, y_real), 1) + BCE(D(G(z, y_fake).detach(), y_fake), 0),
         L_G = BCE(D(G(z, y_fake), y_fake), 1) (non-saturating; means), and
         their gradients w.r.t. D's and G's parameters (cond.grad.*, cond.gradg.*).
         Drawn after everything above, so the earlier tensors do not move.

Run: /usr/bin/python3 tests/reference/judge.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dcgan_ref import Discriminator, Generator
from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

C1, C2, FEAT, N = 2, 3, 5, 3
ZDIM, G1, G2, D1, D2, NG = 8, 4, 3, 2, 3, 4
B_STD = 0.2
K, E_STD = 3, 0.3  # the conditional pair's classes; its class tables N(0, E_STD)


class Judge(nn.Module):
    def __init__(self, c1, c2, feat):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 4, stride=2, padding=1)
        self.fc1 = nn.Linear(c2 * 49, feat)
        self.fc2 = nn.Linear(feat, 10)

    def features(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return F.relu(self.fc1(h.flatten(1)))


class GeneratorBN(Generator):
    """dcgan_ref's G with BatchNorm2d after fc (reshaped) and deconv1,
    declared after its three layers, as the C model declares them."""

    def __init__(self, zdim, c1, c2):
        super().__init__(zdim, c1, c2)
        self.bn1 = nn.BatchNorm2d(c1)   # momentum 0.1, eps 1e-5: PyTorch's defaults
        self.bn2 = nn.BatchNorm2d(c2)

    def forward(self, z):
        h = F.relu(self.bn1(self.fc(z).view(-1, self.c1, 7, 7)))
        h = F.relu(self.bn2(self.deconv1(h)))
        return torch.tanh(self.deconv2(h))


class GeneratorCond(Generator):
    """dcgan_ref's G with a class table added to fc's output, declared after
    its three layers, as the C model declares it."""

    def __init__(self, zdim, c1, c2, k):
        super().__init__(zdim, c1, c2)
        self.embed = nn.Embedding(k, c1 * 49)

    def forward(self, z, y):
        h = F.relu(self.fc(z) + self.embed(y)).view(-1, self.c1, 7, 7)
        h = F.relu(self.deconv1(h))
        return torch.tanh(self.deconv2(h))


class DiscriminatorCond(Discriminator):
    """dcgan_ref's D plus the projection of its features on the class's row
    of a table (Miyato and Koyama's projection discriminator)."""

    def __init__(self, d1, d2, k):
        super().__init__(d1, d2)
        self.embed = nn.Embedding(k, d2 * 49)

    def forward(self, x, y):
        h = F.leaky_relu(self.conv1(x), 0.2)
        f = F.leaky_relu(self.conv2(h), 0.2).flatten(1)
        return self.fc(f) + (self.embed(y) * f).sum(1, keepdim=True)


def fan_init(module, fan):
    """Weights N(0, 1/sqrt(inputs reaching one output)), biases N(0, B_STD);
    batch-norm gains 1 + N(0, 0.2), its biases N(0, B_STD); class tables
    N(0, E_STD) (not zero, as the C init sets them, so the tables are exercised)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            layer = name.rsplit(".", 1)[0]
            if layer == "embed":
                p.normal_(0.0, E_STD)
            elif layer.startswith("bn"):
                p.normal_(1.0 if name.endswith("weight") else 0.0, B_STD)
            elif name.endswith("weight"):
                p.normal_(0.0, 1.0 / math.sqrt(fan[layer]))
            else:
                p.normal_(0.0, B_STD)


# ---- the judge ----
judge = Judge(C1, C2, FEAT)
fan_init(judge, {"conv1": 16, "conv2": C1 * 16, "fc1": C2 * 49, "fc2": FEAT})
with torch.no_grad():
    judge.fc1.bias.add_(0.5)  # most features alive, so every path carries a gradient
x = torch.rand(N, 1, 28, 28) * 2 - 1
labels = torch.tensor([3, 0, 7])
features = judge.features(x)
logits = judge.fc2(features)
loss = F.cross_entropy(logits, labels)
assert (features > 0).double().mean() >= 0.6, "most features dead (%s); change the init" % features
jgrads = torch.autograd.grad(loss, list(judge.parameters()))

# ---- G with batch norm, through the chapter's D ----
g = GeneratorBN(ZDIM, G1, G2)
fan_init(g, {"fc": ZDIM, "deconv1": G1 * 4, "deconv2": G2 * 4})
d = Discriminator(D1, D2)
fan_init(d, {"conv1": 9, "conv2": D1 * 9, "fc": D2 * 49})
with torch.no_grad():  # running statistics that are not the defaults, so eval mode is tested
    for bn in (g.bn1, g.bn2):
        bn.running_mean.normal_(0.0, 0.3)
        bn.running_var.uniform_(0.5, 1.5)
run0 = [(n, b.clone()) for n, b in g.named_buffers() if not n.endswith("num_batches_tracked")]
z = torch.randn(NG, ZDIM)
g.train()
fake = g(z)
loss_g = F.binary_cross_entropy_with_logits(d(fake), torch.ones(NG, 1))
ggrads = torch.autograd.grad(loss_g, list(g.parameters()))
run1 = [(n, b.clone()) for n, b in g.named_buffers() if not n.endswith("num_batches_tracked")]
g.eval()
with torch.no_grad():
    fake_eval = g(z)

# ---- the conditional pair (drawn last: nothing above moves) ----
gc = GeneratorCond(ZDIM, G1, G2, K)
fan_init(gc, {"fc": ZDIM, "deconv1": G1 * 4, "deconv2": G2 * 4})
dc = DiscriminatorCond(D1, D2, K)
fan_init(dc, {"conv1": 9, "conv2": D1 * 9, "fc": D2 * 49})
zc = torch.randn(NG, ZDIM)
xc = torch.rand(NG, 1, 28, 28) * 2 - 1
y_fake = torch.tensor([2, 0, 1, 2])  # every class, and not the real ones position by position
y_real = torch.tensor([1, 2, 0, 0])
ones, zeros = torch.ones(NG, 1), torch.zeros(NG, 1)
cfake = gc(zc, y_fake)
c_real = dc(xc, y_real)
c_fake = dc(cfake.detach(), y_fake)
closs_d = (F.binary_cross_entropy_with_logits(c_real, ones)
           + F.binary_cross_entropy_with_logits(c_fake, zeros))
closs_g = F.binary_cross_entropy_with_logits(dc(cfake, y_fake), ones)
cgrad_d = torch.autograd.grad(closs_d, list(dc.parameters()))
cgrad_g = torch.autograd.grad(closs_g, list(gc.parameters()))
proj = (dc.embed(y_real) * F.leaky_relu(dc.conv2(F.leaky_relu(dc.conv1(xc), 0.2)), 0.2).flatten(1)).sum(1)
assert proj.abs().min() > 1e-3, "the projection term vanishes (%s); change the draw" % proj

out = [("J." + n, p) for n, p in judge.named_parameters()]
out += [("x", x), ("labels", labels), ("features", features), ("logits", logits), ("loss", loss)]
out += [("grad.J." + n, gr) for (n, _), gr in zip(judge.named_parameters(), jgrads)]
out += [("G." + n, p) for n, p in g.named_parameters()]
out += [("D." + n, p) for n, p in d.named_parameters()]
out += [("before.G." + n, b) for n, b in run0]
out += [("z", z), ("fake", fake), ("loss_g", loss_g), ("fake_eval", fake_eval)]
out += [("gradg.G." + n, gr) for (n, _), gr in zip(g.named_parameters(), ggrads)]
out += [("after.G." + n, b) for n, b in run1]
out += [("cond.G." + n, p) for n, p in gc.named_parameters()]
out += [("cond.D." + n, p) for n, p in dc.named_parameters()]
out += [("cond.z", zc), ("cond.y_fake", y_fake), ("cond.x", xc), ("cond.y_real", y_real)]
out += [("cond.fake", cfake), ("cond.d_real", c_real), ("cond.d_fake", c_fake),
        ("cond.loss_d", closs_d), ("cond.loss_g", closs_g)]
out += [("cond.grad.D." + n, gr) for (n, _), gr in zip(dc.named_parameters(), cgrad_d)]
out += [("cond.gradg.G." + n, gr) for (n, _), gr in zip(gc.named_parameters(), cgrad_g)]

write_fixture(here("judge.txt"),
              header("judge.py",
                     "judge c1 %d, c2 %d, F %d, batch %d; G with batch norm zdim %d, c1 %d, c2 %d, D d1 %d, d2 %d, "
                     "batch %d; weights N(0, 1/sqrt(fan_in)), biases N(0,%g) (J.fc1.bias: N(0.5,0.2)), batch-norm gains 1 + N(0,%g); "
                     "running statistics: before.* (drawn), after.* (after one training-mode forward)"
                     % (C1, C2, FEAT, N, ZDIM, G1, G2, D1, D2, NG, B_STD, B_STD))
              + ["cond.*: the conditional pair, the same sizes and init, no batch norm, K %d classes, "
                 "class tables G.embed, D.embed N(0,%g); d_real, d_fake: D's logits" % (K, E_STD)],
              out)
