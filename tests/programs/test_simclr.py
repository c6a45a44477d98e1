"""A SimCLR-style contrastive program (as the popular PyTorch re-implementations write it), run with
ferrum as torch.

The augmentation pipeline (RandomResizedCrop, RandomHorizontalFlip, RandomApply([ColorJitter]),
RandomGrayscale, GaussianBlur, ToTensor, Normalize) applied twice per image in a Dataset, a
resnet18 backbone with ``fc`` replaced by ``nn.Identity()`` and a projection head, the NT-Xent loss
(``F.normalize``, a similarity matrix, ``torch.eye(..., dtype=torch.bool)`` and ``masked_fill``,
``F.cross_entropy`` against the positive pair), and a CIFAR-style augmentation with RandomErasing
and RandomRotation/RandomAffine.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models, transforms


class TwoViews(torch.utils.data.Dataset):
    def __init__(self, images, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = self.images[i]
        return self.transform(img), self.transform(img)


def simclr_transform(size=32):
    color_jitter = transforms.ColorJitter(0.8, 0.8, 0.8, 0.2)
    return transforms.Compose([
        transforms.RandomResizedCrop(size=size),
        transforms.RandomHorizontalFlip(),
        transforms.RandomApply([color_jitter], p=0.8),
        transforms.RandomGrayscale(p=0.2),
        transforms.GaussianBlur(kernel_size=3),
        transforms.ToTensor(),
        transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    ])


def cifar_train_transform():
    return transforms.Compose([
        transforms.RandomRotation(15),
        transforms.RandomAffine(0, translate=(0.1, 0.1)),
        transforms.ToTensor(),
        transforms.RandomErasing(p=0.5, value='random'),
    ])


class SimCLR(nn.Module):
    def __init__(self, out_dim=16):
        super().__init__()
        self.backbone = models.resnet18(weights=None)
        dim = self.backbone.fc.in_features
        self.backbone.fc = nn.Identity()
        self.projector = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out_dim))

    def forward(self, x):
        return self.projector(self.backbone(x))


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / temperature
    mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(mask, float('-inf'))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def train(steps=3, n=8, batch_size=4):
    torch.manual_seed(0)
    images = (torch.rand(n, 32, 32, 3) * 255).to(torch.uint8)
    loader = torch.utils.data.DataLoader(TwoViews(images, simclr_transform()), batch_size=batch_size,
                                         shuffle=True, drop_last=True)
    model = SimCLR()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    losses = []
    fixed = next(iter(loader))
    for _ in range(steps):
        x1, x2 = fixed
        opt.zero_grad()
        loss = nt_xent(model(x1), model(x2))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses, next(iter(loader))
'''


def test_simclr_program(run_program):
    import ferrum

    ns = run_program(SOURCE)
    model, losses, (x1, x2) = ns["train"](steps=4)
    assert tuple(x1.shape) == tuple(x2.shape) == (4, 3, 32, 32) and x1.dtype == ferrum.float32
    assert not ferrum.equal(x1, x2)  # two different views
    assert losses[-1] < losses[0]
    tf = ns["cifar_train_transform"]()
    out = tf(ferrum.tensor((np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)))
    assert tuple(out.shape) == (3, 32, 32) and np.isfinite(out.numpy()).all()


def test_nt_xent_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    res = []
    for lib, ns in ((torch, tns), (ferrum, fns)):
        z1, z2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        loss = ns["nt_xent"](z1, z2, 0.3)
        loss.backward()
        res.append((loss.item(), z1.grad.numpy(), z2.grad.numpy()))
    for f, t in zip(res[1], res[0]):
        np.testing.assert_allclose(f, t, rtol=1e-10, atol=1e-12)
