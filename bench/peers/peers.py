"""peers.py - the four model steps of bench/, in PyTorch, timed the same way.

Teaches: how to compare with a mature framework honestly: the same model,
batch and optimizer as our benches, warm-up first, the median of repeated
steps, torch at 2 threads with its BLAS at 1 thread (PyTorch's fastest
setting on 2 cores; `make bench-peers` sets OPENBLAS_NUM_THREADS=1).
The models are not written again here: they are the reference scripts'
own definitions (tests/reference/), read by reference_defs below.

    ring   the ring GAN iteration: G 16->128->128->2, D 2->128->128->1 (ReLU),
           batch 256, Adam lr 1e-3 betas (0.5, 0.999); one D step, one G step
           on the same z (gan_ring.py's MLP)
    dcgan  the image GAN iteration, batch 64, Adam lr 2e-4 betas (0.5, 0.999)
           (dcgan_ref.py's GAN: G 100->128x7x7->64->1, D 1->32->64->1)
    vae    a VAE step, batch 128: 784->400->(20, 20), 20->400->784, BCE with
           logits summed + KL, Adam lr 1e-3 (vae.py's VAE); an epoch is 469 steps
    gpt    a GPT step, batch 32 x context 64, 4 layers, 4 heads, width 128,
           vocabulary 96, AdamW with decay on 2-D weights, clip at 1.0 (gpt.py's GPT)

Random numbers stand in for data (as in our benches): the time of a step
does not depend on the values.
Prints one line per model, `result <model> <median ms per step>`, after a
human-readable line. Leaves out: data loading, evaluation.

Run: make bench-peers, or
     OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/peers.py [--quick] [model ...]
"""
import ast
import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import torch
import torch.nn.functional as F

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference")
sys.path.insert(0, REF)


def reference_defs(script, **sizes):
    """The classes and functions of tests/reference/<script>, without running
    it (run, a reference script writes its fixture). Its module-level size
    constants (C, V, ...) are read when a model is built, so `sizes` sets
    them to the bench's sizes."""
    path = os.path.join(REF, script)
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef))]
    ns = {"__name__": "reference_" + script[:-3]}
    exec(compile(ast.Module(body=keep, type_ignores=[]), path, "exec"), ns)
    ns.update(sizes)
    return ns


def median_ms(step, warm, reps):
    for _ in range(warm):
        step()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        t.append(1e3 * (time.perf_counter() - t0))
    t.sort()
    return t[len(t) // 2] if len(t) % 2 else (t[len(t) // 2 - 1] + t[len(t) // 2]) / 2


def gan_iteration(G, D, opt_g, opt_d, real, z):
    """One D step, then one G step on the same G(z) through D frozen (our ring
    and image GANs: D's weight gradients in G's step would go unread)."""
    n = real.shape[0]
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
    fake = G(z)
    loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
              + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    D.requires_grad_(False)
    loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    D.requires_grad_(True)
    opt_g.step()


def ring(quick):
    MLP = reference_defs("gan_ring.py")["MLP"]
    G, D = MLP(16, 128, 2), MLP(2, 128, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def step():
        k = torch.randint(0, 8, (256,)).float() * (torch.pi / 4)
        x = torch.stack([2 * torch.cos(k), 2 * torch.sin(k)], 1) + 0.02 * torch.randn(256, 2)
        gan_iteration(G, D, opt_g, opt_d, x, torch.randn(256, 16))
    return median_ms(step, 20, 41 if quick else 401)


def dcgan(quick):
    from dcgan_ref import GAN
    m = GAN(100, 128, 64, 32, 64)
    opt_g = torch.optim.Adam(m.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(m.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x = torch.rand(64, 1, 28, 28) * 2 - 1

    def step():
        gan_iteration(m.G, m.D, opt_g, opt_d, x, torch.randn(64, 100))
    return median_ms(step, 3 if quick else 10, 5 if quick else 41)


def vae(quick):
    ns = reference_defs("vae.py", D=784, H=400, Z=20)
    m = ns["VAE"]()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.rand(128, 784)

    def step():
        mu, logvar = m.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(m.decode(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
        loss = (rec + kl) / x.shape[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return median_ms(step, 5 if quick else 10, 11 if quick else 51)


def gpt(quick):
    ns = reference_defs("gpt.py", V=96, T=64, L=4, NH=4, C=128, HD=32)
    m = ns["GPT"]()
    params = list(m.parameters())
    opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() == 2], "weight_decay": 0.1},
                             {"params": [p for p in params if p.dim() != 2], "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    idx, targets = torch.randint(0, 96, (32, 64)), torch.randint(0, 96, (32, 64))

    def step():
        _, loss = m(idx, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return median_ms(step, 2 if quick else 5, 3 if quick else 21)


MODELS = {"ring": ring, "dcgan": dcgan, "vae": vae, "gpt": gpt}

if __name__ == "__main__":
    args = sys.argv[1:]
    quick = "--quick" in args
    names = [a for a in args if a != "--quick"] or list(MODELS)
    bad = [n for n in names if n not in MODELS]
    if bad:
        sys.exit("peers.py: unknown model %s; use any of %s [--quick]" % (", ".join(bad), " ".join(MODELS)))
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print("PyTorch %s, %d threads (BLAS: OPENBLAS_NUM_THREADS=%s), median ms per step"
          % (torch.__version__, torch.get_num_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset")))
    for n in names:
        ms = MODELS[n](quick)
        print("result %s %.3f" % (n, ms), flush=True)
