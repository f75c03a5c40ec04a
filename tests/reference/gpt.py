"""gpt.py - reference fixture for chapters 05/06 (the GPT and its training step).

Writes tests/reference/gpt.txt: a GPT-2-style model (nanoGPT names) at a
small size, its logits and next-token cross-entropy on a fixed batch, the
gradient of that loss with respect to every parameter, then 5 AdamW steps
(warm-up learning rate, decoupled weight decay on 2-D weights only, gradient
clipping at global norm 1.0) on the same batch: the loss and the pre-clip
gradient norm at each step. All in float64.

    x = wte[idx] + wpe[0..T)                          [B,T,C]
    per block i:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
    logits = ln_f(x) @ wte^T                          [B,T,V]  (tied head, no bias)
    loss = mean over B*T of cross-entropy(logits, targets)

Run: /usr/bin/python3 tests/reference/gpt.py   (needs python3-torch)
"""
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixio import header, here, write_fixture

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

V, T, L, NH, C, B = 11, 8, 2, 2, 16, 2
HD = C // NH
W_STD, B_STD, LN_STD = 0.3, 0.1, 0.1   # LayerNorm weight = 1 + N(0, LN_STD)
LR, BETAS, EPS, WD, CLIP, WARMUP, STEPS = 1e-3, (0.9, 0.99), 1e-8, 0.1, 1.0, 100, 5


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)   # weight [3C, C]: rows 0..C = q, C..2C = k, 2C..3C = v
        self.c_proj = nn.Linear(C, C)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(b, t, NH, HD).transpose(1, 2)   # [B,H,T,hd]; head h = channels h*hd..(h+1)*hd
        k = k.view(b, t, NH, HD).transpose(1, 2)
        v = v.view(b, t, NH, HD).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(HD)          # [B,H,T,T]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)        # j > i
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, C)  # heads side by side
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))   # mean over B*T
        return logits, loss


model = GPT()
with torch.no_grad():
    for name, p in model.named_parameters():   # fixed order: state_dict order
        if ".ln_" in name or name.startswith("ln_"):
            p.normal_(1.0 if name.endswith("weight") else 0.0, LN_STD)
        else:
            p.normal_(0.0, W_STD if p.dim() == 2 else B_STD)

idx = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))

# self-checks: the explicit GELU is torch's tanh GELU; the loss is -mean log softmax
assert torch.allclose(gelu_tanh(torch.linspace(-4, 4, 81)),
                      F.gelu(torch.linspace(-4, 4, 81), approximate="tanh"), rtol=1e-14, atol=1e-15)

init_state = [(n, p.detach().clone()) for n, p in model.state_dict().items()]
params = list(model.named_parameters())

logits, loss = model(idx, targets)
lp = logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1))
assert torch.allclose(loss, -lp.mean(), rtol=1e-14, atol=0)
grads = torch.autograd.grad(loss, [p for _, p in params])

# ---- 5 AdamW steps on the same batch ----
decay = [p for _, p in params if p.dim() == 2]        # wte, wpe, every Linear weight
no_decay = [p for _, p in params if p.dim() != 2]     # biases, LayerNorm weights and biases
opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                         {"params": no_decay, "weight_decay": 0.0}],
                        lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
losses, norms = [], []
for t in range(STEPS):
    lr_t = LR * min(1.0, (t + 1) / WARMUP)
    for g in opt.param_groups:
        g["lr"] = lr_t
    opt.zero_grad(set_to_none=True)
    _, l_t = model(idx, targets)
    l_t.backward()
    n_t = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)   # returns pre-clip norm
    opt.step()
    losses.append(l_t.detach())
    norms.append(n_t.detach())
assert losses[0].item() == loss.item()

# self-check: the same 5 steps written out with the formulas of README.md
# (clip, then AdamW with decoupled decay) land on torch's weights.
with torch.no_grad():
    ref = GPT()
    ref.load_state_dict(dict(init_state))
    rp = [p for _, p in ref.named_parameters()]
    m = [torch.zeros_like(p) for p in rp]
    v = [torch.zeros_like(p) for p in rp]
    for t in range(STEPS):
        lr_t = LR * min(1.0, (t + 1) / WARMUP)
        with torch.enable_grad():
            gs = torch.autograd.grad(ref(idx, targets)[1], rp)
        norm = torch.sqrt(sum((g * g).sum() for g in gs))
        assert torch.allclose(norm, norms[t], rtol=1e-12, atol=0)
        scale = min(1.0, CLIP / (norm.item() + 1e-6))
        for p, g, mi, vi in zip(rp, gs, m, v):
            g = g * scale
            if p.dim() == 2:
                p.mul_(1 - lr_t * WD)
            mi.mul_(BETAS[0]).add_((1 - BETAS[0]) * g)
            vi.mul_(BETAS[1]).add_((1 - BETAS[1]) * g * g)
            mhat = mi / (1 - BETAS[0] ** (t + 1))
            denom = vi.sqrt() / math.sqrt(1 - BETAS[1] ** (t + 1)) + EPS
            p.sub_(lr_t * mhat / denom)
    for (n, a), b in zip(model.named_parameters(), rp):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-13), n
assert min(n.item() for n in norms) > CLIP, "clipping should engage at every step"

out = []
out += init_state
out += [("idx", idx), ("targets", targets), ("logits", logits), ("loss", loss)]
out += [("grad." + n, g) for (n, _), g in zip(params, grads)]
out += [("adamw_losses", torch.stack(losses)), ("grad_norm", torch.stack(norms))]

write_fixture(here("gpt.txt"),
              header("gpt.py", "V %d, T %d, L %d, H %d, C %d, B %d; 2-D weights N(0,%g), biases N(0,%g), "
                     "LayerNorm weight 1+N(0,%g) bias N(0,%g); AdamW lr %g (warm-up %d), betas %s, "
                     "eps %g, wd %g (2-D only), clip %g, %d steps"
                     % (V, T, L, NH, C, B, W_STD, B_STD, LN_STD, LN_STD, LR, WARMUP, BETAS, EPS,
                        WD, CLIP, STEPS)),
              out)
