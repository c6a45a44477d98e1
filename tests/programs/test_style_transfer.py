"""The fast-neural-style example (PyTorch's examples repository style), run with ferrum as torch.

TransformerNet: ReflectionPad2d convolutions, ``InstanceNorm2d(affine=True)``, residual blocks,
upsampling convolutions through ``F.interpolate(mode='nearest', scale_factor=...)``; the loss
network is ``vgg16().features`` sliced into four ``nn.Sequential`` blocks via ``add_module(str(x),
...)`` with ``requires_grad = False``; the Gram matrix via ``bmm``; Adam; content and style MSE.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
from collections import namedtuple

import torch
from torchvision import models


class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super(ConvLayer, self).__init__()
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        out = self.reflection_pad(x)
        out = self.conv2d(out)
        return out


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super(ResidualBlock, self).__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        out = out + residual
        return out


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super(UpsampleConvLayer, self).__init__()
        self.upsample = upsample
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        x_in = x
        if self.upsample:
            x_in = torch.nn.functional.interpolate(x_in, mode='nearest', scale_factor=self.upsample)
        out = self.reflection_pad(x_in)
        out = self.conv2d(out)
        return out


class TransformerNet(torch.nn.Module):
    def __init__(self, width=32):
        super(TransformerNet, self).__init__()
        w = width
        self.conv1 = ConvLayer(3, w, kernel_size=9, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(w, affine=True)
        self.conv2 = ConvLayer(w, 2 * w, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(2 * w, affine=True)
        self.conv3 = ConvLayer(2 * w, 4 * w, kernel_size=3, stride=2)
        self.in3 = torch.nn.InstanceNorm2d(4 * w, affine=True)
        self.res1 = ResidualBlock(4 * w)
        self.res2 = ResidualBlock(4 * w)
        self.deconv1 = UpsampleConvLayer(4 * w, 2 * w, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(2 * w, affine=True)
        self.deconv2 = UpsampleConvLayer(2 * w, w, kernel_size=3, stride=1, upsample=2)
        self.in5 = torch.nn.InstanceNorm2d(w, affine=True)
        self.deconv3 = ConvLayer(w, 3, kernel_size=9, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res1(y)
        y = self.res2(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        y = self.deconv3(y)
        return y


class Vgg16(torch.nn.Module):
    def __init__(self, requires_grad=False):
        super(Vgg16, self).__init__()
        vgg_pretrained_features = models.vgg16(weights=None).features
        self.slice1 = torch.nn.Sequential()
        self.slice2 = torch.nn.Sequential()
        self.slice3 = torch.nn.Sequential()
        self.slice4 = torch.nn.Sequential()
        for x in range(4):
            self.slice1.add_module(str(x), vgg_pretrained_features[x])
        for x in range(4, 9):
            self.slice2.add_module(str(x), vgg_pretrained_features[x])
        for x in range(9, 16):
            self.slice3.add_module(str(x), vgg_pretrained_features[x])
        for x in range(16, 23):
            self.slice4.add_module(str(x), vgg_pretrained_features[x])
        if not requires_grad:
            for param in self.parameters():
                param.requires_grad = False

    def forward(self, X):
        h = self.slice1(X)
        h_relu1_2 = h
        h = self.slice2(h)
        h_relu2_2 = h
        h = self.slice3(h)
        h_relu3_3 = h
        h = self.slice4(h)
        h_relu4_3 = h
        vgg_outputs = namedtuple("VggOutputs", ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'])
        out = vgg_outputs(h_relu1_2, h_relu2_2, h_relu3_3, h_relu4_3)
        return out


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    # normalize using imagenet mean and std
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


def train(steps=3, batch_size=2, size=32, content_weight=1e5, style_weight=1e10, lr=1e-3):
    torch.manual_seed(42)
    transformer = TransformerNet(width=8)
    optimizer = torch.optim.Adam(transformer.parameters(), lr)
    mse_loss = torch.nn.MSELoss()
    vgg = Vgg16(requires_grad=False)
    style = torch.rand(1, 3, size, size) * 255
    style = style.repeat(batch_size, 1, 1, 1)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]
    x = torch.rand(batch_size, 3, size, size) * 255
    history = []
    transformer.train()
    for step in range(steps):
        n_batch = len(x)
        optimizer.zero_grad()
        y = transformer(x)
        y = normalize_batch(y)
        xn = normalize_batch(x.clone())
        features_y = vgg(y)
        features_x = vgg(xn)
        content_loss = content_weight * mse_loss(features_y.relu2_2, features_x.relu2_2)
        style_loss = 0.
        for ft_y, gm_s in zip(features_y, gram_style):
            gm_y = gram_matrix(ft_y)
            style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
        style_loss *= style_weight
        total_loss = content_loss + style_loss
        total_loss.backward()
        optimizer.step()
        history.append(total_loss.item())
    return transformer, vgg, history
'''


def test_style_transfer_program(run_program):
    ns = run_program(SOURCE)
    transformer, vgg, history = ns["train"](steps=4)
    assert history[-1] < history[0]
    assert all(not p.requires_grad and p.grad is None for p in vgg.parameters())
    import ferrum

    with ferrum.no_grad():
        assert tuple(transformer(ferrum.rand(1, 3, 20, 28)).shape) == (1, 3, 20, 28)
    assert [len(s) for s in (vgg.slice1, vgg.slice2, vgg.slice3, vgg.slice4)] == [4, 5, 7, 7]


def test_style_transfer_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm = tns["TransformerNet"](width=4).double()
    fm = fns["TransformerNet"](width=4).double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tv, fv = tns["Vgg16"]().double(), fns["Vgg16"]().double()
    fv.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tv.state_dict().items()})
    x = np.random.default_rng(0).random((2, 3, 24, 24)) * 255
    res = []
    for lib, ns, m, vgg in ((torch, tns, tm, tv), (ferrum, fns, fm, fv)):
        y = ns["normalize_batch"](m(lib.tensor(x)))
        feats = vgg(y)
        loss = sum(ns["gram_matrix"](f).pow(2).sum() for f in feats) + feats.relu2_2.abs().mean()
        loss.backward()
        res.append((loss.item(), {n: p.grad.numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9)
    scale = max(np.abs(g).max() for g in res[0][1].values())
    for n, g in res[0][1].items():  # biases before an instance norm have zero gradient: rounding only
        np.testing.assert_allclose(res[1][1][n], g, rtol=1e-6, atol=1e-10 * scale, err_msg=n)
