"""gan_ring_seeds.py - the PyTorch figures quoted in chapter 02 ("Five seeds").

Writes tests/reference/gan_ring_seeds.txt: chapter 2's plain ring GAN (no
packing, constant learning rate), trained in PyTorch with seeds 0 to 4 for
each generator loss (non-saturating, saturating), and measured at the end of
each run the way ring.c measures it: modes covered and % high quality. Not a
fixture (no C test reads it): it is the note the chapter's prose quotes.

Mirrors ring.h / ring.c and the chapter's plain runs (ring_config_default):
    data: 8 Gaussians, centres radius 2 at angles k pi/4, std 0.02, mode uniform
    G: z[N,16] ~ N(0, I) -> fc1 128 -> ReLU -> fc2 128 -> ReLU -> fc3 -> [N,2]
    D: x[N,2] -> fc1 128 -> ReLU -> fc2 128 -> ReLU -> fc3 -> logit [N,1]
    init: PyTorch's default Linear init (U(+-1/sqrt(in)) for weight and bias)
    Adam lr 1e-3, betas (0.5, 0.999), eps 1e-8, one for G, one for D; constant lr
    10,000 steps, batch 256; per step one D step, then one G step on the same z
       L_D = BCE(D(x), 1) + BCE(D(G(z).detach()), 0)
       L_G = BCE(D(G(z)), 1)  (non-saturating)  or  -BCE(D(G(z)), 0)  (saturating)
       through the just-updated D, whose weights the G step does not change
    metrics on 2,500 samples of G: high quality = within 3 * std = 0.06 of the
       nearest centre; a mode is covered with >= 25 high-quality samples.
All in float32 (the chapter's float build); one thread; deterministic.
The random streams are torch's, not the course's Rng: the numbers are not
the C runs' numbers, only the same experiment.

Run: /usr/bin/python3 tests/reference/gan_ring_seeds.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import math
import os
import time

import torch
import torch.nn.functional as F

from fixio import here
from ring_ref import MLP

torch.set_default_dtype(torch.float32)
torch.set_num_threads(1)

MODES, RADIUS, STD = 8, 2.0, 0.02       # RING_MODES, RING_RADIUS, RING_STD
HQ_DIST, MODE_MIN, EVAL_N = 3 * STD, 25, 2500  # RING_HQ_DIST, RING_MODE_MIN, RING_EVAL_N
ZDIM, HID, BATCH, STEPS = 16, 128, 256, 10000
LR, BETAS, EPS = 1e-3, (0.5, 0.999), 1e-8
SEEDS = range(5)
VARIANTS = [("non-saturating", 0), ("saturating", 1)]

ANG = torch.arange(MODES, dtype=torch.float64) * (math.pi / 4)
CENTRES = torch.stack([RADIUS * torch.cos(ANG), RADIUS * torch.sin(ANG)], 1)  # [8, 2] float64


def ring_sample(n):
    """n points of the ring [n, 2]: computed in float64 and rounded, as ring_sample."""
    k = torch.randint(0, MODES, (n,))
    e = torch.randn(n, 2, dtype=torch.float64)
    return (CENTRES[k] + STD * e).float()


def metrics(x):
    """ring_metrics: (modes, hq %, high-quality count per centre), distances in float64."""
    d = torch.cdist(x.double(), CENTRES)            # [n, 8]
    bd, best = d.min(1)
    good = bd <= HQ_DIST
    count = torch.bincount(best[good], minlength=MODES)
    return int((count >= MODE_MIN).sum()), 100.0 * float(good.sum()) / x.shape[0], count.tolist()


def run(saturating, seed):
    torch.manual_seed(seed)
    G, D = MLP(ZDIM, HID, 2), MLP(2, HID, 1)        # G's layers first, then D's (ring_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS, eps=EPS)
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    for _ in range(STEPS):
        x = ring_sample(BATCH)
        z = torch.randn(BATCH, ZDIM)
        fake = G(z)
        # the D step, on a detached copy of G(z)
        loss_d = (F.binary_cross_entropy_with_logits(D(x), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # the G step, through the updated D, frozen
        for p in D.parameters():
            p.requires_grad_(False)
        d_fake = D(fake)
        if saturating:
            loss_g = -F.binary_cross_entropy_with_logits(d_fake, zeros)
        else:
            loss_g = F.binary_cross_entropy_with_logits(d_fake, ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
    with torch.no_grad():                            # ring_trainer_eval: 2,500 fresh z
        return metrics(G(torch.randn(EVAL_N, ZDIM)))


t0 = time.time()
lines = ["# PyTorch reference for chapter 02's 'Five seeds' note, written by",
         "# tests/reference/gan_ring_seeds.py. Regenerate: /usr/bin/python3 tests/reference/gan_ring_seeds.py",
         "# torch %s, float32, 1 thread" % torch.__version__,
         "# data: %d Gaussians, radius %g, std %g; z ~ N(0, I_%d)" % (MODES, RADIUS, STD, ZDIM),
         "# G %d->%d->%d->2, D 2->%d->%d->1 (ReLU), PyTorch default Linear init"
         % (ZDIM, HID, HID, HID, HID),
         "# Adam lr %g betas (%g, %g) eps %g, constant lr; batch %d; %d steps (D step, then G step)"
         % (LR, BETAS[0], BETAS[1], EPS, BATCH, STEPS),
         "# metrics on %d samples after the last step: high quality within %g of the nearest"
         % (EVAL_N, HQ_DIST),
         "# centre; a mode is covered with >= %d high-quality samples" % MODE_MIN,
         "# seeds: torch.manual_seed(seed), seed 0..4, the same seed for both losses; one torch",
         "# stream for init, data, noise and the final z. These numbers are not the C runs'",
         "# (different random streams); only the experiment is the same.",
         "# variant\tseed\tmodes\tHQ %\t(high-quality samples per centre k=0..7)"]
summary = []
for name, sat in VARIANTS:
    res = []
    for seed in SEEDS:
        t1 = time.time()
        modes, hq, count = run(sat, seed)
        res.append((modes, hq))
        lines.append("%s\t%d\t%d\t%.1f\t(%s)" % (name, seed, modes, hq, " ".join(map(str, count))))
        print("%s seed %d: %d modes, %.1f %% high quality (%.0f s)"
              % (name, seed, modes, hq, time.time() - t1), flush=True)
    m, h = [r[0] for r in res], [r[1] for r in res]
    summary.append("summary %s: modes %d..%d (mean %.1f), high quality %.1f..%.1f %% (mean %.1f %%)"
                   % (name, min(m), max(m), sum(m) / len(m), min(h), max(h), sum(h) / len(h)))
lines += summary
path = here("gan_ring_seeds.txt")
with open(path + ".tmp", "w") as fp:
    fp.write("\n".join(lines) + "\n")
os.replace(path + ".tmp", path)
print("\n".join(summary))
print("wrote %s (%.0f s)" % (path, time.time() - t0))
