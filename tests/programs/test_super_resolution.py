"""The super-resolution example (PyTorch's examples repository style), run with ferrum as torch.

The ESPCN-style net: four convolutions, ``nn.PixelShuffle(upscale_factor)``, weights initialised
with ``init.orthogonal_(w, init.calculate_gain('relu'))``, MSELoss, Adam, PSNR in the test loop
(``10 * log10(1 / mse.item())``) and ``torch.save(model, path)`` of the whole model. Image pairs
are synthetic: smooth low-resolution images and their bilinear upsamplings.
"""

from __future__ import annotations

import math

import numpy as np

SOURCE = r'''
import argparse
from math import log10

import torch
import torch.nn as nn
import torch.nn.init as init
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 64, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(64, 64, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(64, 32, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(32, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


def make_pairs(n, size, factor, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 1, size // 4, size // 4, generator=g)
    low = F.interpolate(coarse, size=(size, size), mode='bilinear', align_corners=False)
    high = F.interpolate(low, scale_factor=factor, mode='bicubic', align_corners=False).clamp(0, 1)
    return TensorDataset(low, high)


def main(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch Super Res Example')
    parser.add_argument('--upscale_factor', type=int, required=True)
    parser.add_argument('--batchSize', type=int, default=64)
    parser.add_argument('--testBatchSize', type=int, default=10)
    parser.add_argument('--nEpochs', type=int, default=2)
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--seed', type=int, default=123)
    parser.add_argument('--save', default='model_epoch.pth')
    opt = parser.parse_args(argv)

    torch.manual_seed(opt.seed)
    device = torch.device("cpu")

    training_data_loader = DataLoader(dataset=make_pairs(32, 16, opt.upscale_factor, 0),
                                      batch_size=opt.batchSize, shuffle=True)
    testing_data_loader = DataLoader(dataset=make_pairs(10, 16, opt.upscale_factor, 1),
                                     batch_size=opt.testBatchSize, shuffle=False)

    model = Net(upscale_factor=opt.upscale_factor).to(device)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=opt.lr)

    def train(epoch):
        epoch_loss = 0
        for iteration, batch in enumerate(training_data_loader, 1):
            input, target = batch[0].to(device), batch[1].to(device)
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
        print("===> Epoch {} Complete: Avg. Loss: {:.4f}".format(
            epoch, epoch_loss / len(training_data_loader)))
        return epoch_loss / len(training_data_loader)

    def test():
        avg_psnr = 0
        with torch.no_grad():
            for batch in testing_data_loader:
                input, target = batch[0].to(device), batch[1].to(device)
                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * log10(1 / mse.item())
                avg_psnr += psnr
        print("===> Avg. PSNR: {:.4f} dB".format(avg_psnr / len(testing_data_loader)))
        return avg_psnr / len(testing_data_loader)

    history = []
    for epoch in range(1, opt.nEpochs + 1):
        history.append((train(epoch), test()))
        torch.save(model, opt.save)
    return model, history
'''


def test_super_resolution_program(run_program, tmp_path, capsys):
    import ferrum

    ns = run_program(SOURCE)
    path = str(tmp_path / "model_epoch.pth")
    model, history = ns["main"](["--upscale_factor", "3", "--batchSize", "8", "--nEpochs", "3",
                                 "--lr", "0.001", "--save", path])
    assert "Avg. PSNR" in capsys.readouterr().out
    assert history[-1][0] < history[0][0] and history[-1][1] > history[0][1]
    x = ferrum.rand(2, 1, 16, 16)
    with ferrum.no_grad():
        y = model(x)
    assert tuple(y.shape) == (2, 1, 48, 48)
    whole = ferrum.load(path, weights_only=False)  # torch.save(model): the whole module
    for (n, a), (_, b) in zip(model.state_dict().items(), whole.state_dict().items()):
        assert ferrum.equal(a, b), n
    with ferrum.no_grad():  # OpenBLAS's sgemm rounding depends on the operands' addresses: not bitwise
        np.testing.assert_allclose(whole(x).numpy(), y.numpy(), rtol=1e-5, atol=1e-6)


def test_orthogonal_init_with_relu_gain(run_program):
    ns = run_program(SOURCE)
    net = ns["Net"](2)
    w = net.conv2.weight.detach().numpy().reshape(64, -1)  # 64 rows of 576: orthogonal rows
    np.testing.assert_allclose(w @ w.T, 2.0 * np.eye(64), atol=1e-4)  # gain sqrt(2) squared
    assert math.isclose(ns["init"].calculate_gain("relu"), math.sqrt(2))


def test_super_resolution_net_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["Net"](2), fns["Net"](2)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    target = np.random.default_rng(1).random((2, 1, 16, 16)).astype(np.float32)
    tl = torch.nn.MSELoss()(tm(torch.tensor(x)), torch.tensor(target))
    fl = ferrum.nn.MSELoss()(fm(ferrum.tensor(x)), ferrum.tensor(target))
    tl.backward(), fl.backward()
    np.testing.assert_allclose(fl.item(), tl.item(), rtol=1e-5)
    for (n, tp), (_, fp) in zip(tm.named_parameters(), fm.named_parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=n)
    # the synthetic data pipeline (bilinear then bicubic interpolation) agrees too
    coarse = np.random.default_rng(2).random((1, 1, 4, 4)).astype(np.float32)
    for lib in (torch, ferrum):
        low = lib.nn.functional.interpolate(lib.tensor(coarse), size=(16, 16), mode="bilinear",
                                            align_corners=False)
        high = lib.nn.functional.interpolate(low, scale_factor=3, mode="bicubic", align_corners=False)
        if lib is torch:
            want = high.numpy()
    np.testing.assert_allclose(high.numpy(), want, rtol=1e-5, atol=1e-6)
