"""The chapter-3 GAN in PyTorch, at any channel counts: the one definition
that gan_images.py (small channels) and gan_images_full.py (the real sizes)
both build. Layer names are the C model's parameter names (G.fc,
G.deconv1, G.deconv2, D.conv1, D.conv2, D.fc)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self, zdim, c1, c2):
        super().__init__()
        self.c1 = c1
        self.fc = nn.Linear(zdim, c1 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1)
        self.deconv2 = nn.ConvTranspose2d(c2, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.fc(z)).view(-1, self.c1, 7, 7)
        h = F.relu(self.deconv1(h))
        return torch.tanh(self.deconv2(h))


class Discriminator(nn.Module):
    def __init__(self, d1, d2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, d1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(d1, d2, 3, stride=2, padding=1)
        self.fc = nn.Linear(d2 * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return self.fc(h.flatten(1))


class GAN(nn.Module):
    def __init__(self, zdim, c1, c2, d1, d2):
        super().__init__()
        self.G = Generator(zdim, c1, c2)
        self.D = Discriminator(d1, d2)
