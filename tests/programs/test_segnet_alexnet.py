"""Two classic architectures as their common PyTorch re-implementations write them, with ferrum as
torch: a SegNet-style encoder/decoder (``MaxPool2d(return_indices=True)`` and ``MaxUnpool2d`` with
``output_size=``, padding_mode='reflect' convolutions, per-pixel NLL over log_softmax) and AlexNet
(LocalResponseNorm, overlapping MaxPool2d(3, 2), ``AdaptiveAvgPool2d((6, 6))``, Dropout), plus the
deployment step of fusing conv + batch norm with ``torch.nn.utils.fuse_conv_bn_eval``.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, padding_mode='reflect', bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        size = x.size()
        x, idx = self.pool(x)
        return x, idx, size


class DecoderBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.unpool = nn.MaxUnpool2d(2, 2)
        self.conv = nn.Conv2d(cin, cout, 3, padding='same', bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x, idx, size):
        x = self.unpool(x, idx, output_size=size)
        return F.relu(self.bn(self.conv(x)))


class SegNet(nn.Module):
    def __init__(self, in_ch=3, n_classes=4, w=8):
        super().__init__()
        self.enc1, self.enc2 = EncoderBlock(in_ch, w), EncoderBlock(w, 2 * w)
        self.dec2, self.dec1 = DecoderBlock(2 * w, w), DecoderBlock(w, w)
        self.classifier = nn.Conv2d(w, n_classes, 1)

    def forward(self, x):
        x, i1, s1 = self.enc1(x)
        x, i2, s2 = self.enc2(x)
        x = self.dec2(x, i2, s2)
        x = self.dec1(x, i1, s1)
        return F.log_softmax(self.classifier(x), dim=1)


class AlexNet(nn.Module):
    def __init__(self, num_classes=10, w=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, w, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(w, 2 * w, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(2 * w, 2 * w, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(2 * w * 6 * 6, 64),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def fuse_for_inference(model):
    model.eval()
    for block in (model.enc1, model.enc2, model.dec2, model.dec1):
        block.conv = torch.nn.utils.fuse_conv_bn_eval(block.conv, block.bn)
        block.bn = nn.Identity()
    return model


def train_segnet(steps=6, size=20):
    torch.manual_seed(0)
    model = SegNet()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, size, size, generator=g)
    target = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0.5).long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.nll_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, x, losses
'''


def test_segnet_program_trains_and_fuses(run_program):
    import ferrum

    ns = run_program(SOURCE)
    model, x, losses = ns["train_segnet"]()
    assert losses[-1] < losses[0]
    model.eval()
    with ferrum.no_grad():
        before = model(x)
        after = ns["fuse_for_inference"](model)(x)
    assert tuple(after.shape) == (4, 4, 20, 20)
    np.testing.assert_allclose(after.numpy(), before.numpy(), rtol=1e-4, atol=1e-5)


def test_segnet_odd_sizes_match_torch(run_program, torch):
    """21x19 inputs: the pools floor, and unpool's output_size restores the odd sizes."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["SegNet"]().double(), fns["SegNet"]().double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 21, 19))
    y = np.random.default_rng(1).integers(0, 4, (2, 21, 19))
    res = []
    for lib, m in ((torch, tm), (ferrum, fm)):
        out = m(lib.tensor(x))
        loss = lib.nn.functional.nll_loss(out, lib.tensor(y))
        loss.backward()
        res.append((out.detach().numpy(), {n: p.grad.numpy() for n, p in m.named_parameters()},
                    {n: b.numpy() for n, b in m.named_buffers()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9, atol=1e-12)
    for n, g in res[0][1].items():
        np.testing.assert_allclose(res[1][1][n], g, rtol=1e-7, atol=1e-12, err_msg=n)
    for n, b in res[0][2].items():
        np.testing.assert_allclose(res[1][2][n], b, rtol=1e-9, err_msg=n)


def test_alexnet_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["AlexNet"]().double(), fns["AlexNet"]().double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tm.eval(), fm.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 99, 99))
    res = []
    for lib, m in ((torch, tm), (ferrum, fm)):
        out = m(lib.tensor(x))
        lib.nn.functional.cross_entropy(out, lib.tensor([1, 7])).backward()
        res.append((out.detach().numpy(), {n: p.grad.numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9, atol=1e-12)
    for n, g in res[0][1].items():
        np.testing.assert_allclose(res[1][1][n], g, rtol=1e-7, atol=1e-12, err_msg=n)
    ferrum.manual_seed(0)
    fm.train()
    a, b = fm(ferrum.tensor(x)), fm(ferrum.tensor(x))
    assert not ferrum.equal(a, b)  # dropout is live in train mode
