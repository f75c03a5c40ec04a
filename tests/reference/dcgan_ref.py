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


def losses_and_grads(model, z, x):
    """The chapter's two losses on one batch, and each one's gradients:
    L_D = mean BCE(D(x), 1) + mean BCE(D(G(z).detach()), 0), w.r.t. D only;
    L_G = mean BCE(D(G(z)), 1) (non-saturating), w.r.t. G only.
    Returns a dict of the tensors both fixture scripts write."""
    G, D = model.G, model.D
    n = z.shape[0]
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
    fake = G(z)
    d_real = D(x)
    d_fake = D(fake)
    loss_d = (F.binary_cross_entropy_with_logits(d_real, ones)
              + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
    loss_g = F.binary_cross_entropy_with_logits(d_fake, ones)
    D_params = list(D.named_parameters())
    G_params = list(G.named_parameters())
    grad_d = torch.autograd.grad(loss_d, [p for _, p in D_params], retain_graph=True)
    grad_g = torch.autograd.grad(loss_g, [p for _, p in G_params])
    return dict(fake=fake, d_real=d_real, d_fake=d_fake, loss_d=loss_d, loss_g=loss_g,
                D_params=D_params, G_params=G_params, grad_d=grad_d, grad_g=grad_g)
