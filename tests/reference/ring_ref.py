"""The chapter-2 MLP in PyTorch: the one definition that gan_ring.py (the
fixture, float64, small width) and gan_ring_seeds.py (the five-seed runs,
float32, the real width) both build. G and D are each one: Linear, ReLU,
Linear, ReLU, Linear (D ends in a logit, no sigmoid)."""
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, din, dh, dout):
        super().__init__()
        self.fc1 = nn.Linear(din, dh)
        self.fc2 = nn.Linear(dh, dh)
        self.fc3 = nn.Linear(dh, dout)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
