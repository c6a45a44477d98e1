"""The siamese-network example (PyTorch's examples repository style), run with ferrum as torch.

``torchvision.models.resnet18(weights=None)`` with its first conv replaced for one channel, its
``fc`` dropped through ``list(children())[:-1]`` after reading ``fc.in_features``, the two
embeddings joined with ``torch.cat``, a Linear head with Sigmoid, BCELoss, Adadelta/StepLR, and
``torch.where(outputs > 0.5, 1, 0)`` in the test loop. Pairs are synthetic: "same" when both
images carry the same band.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import argparse
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import Dataset


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.resnet = torchvision.models.resnet18(weights=None)
        # grayscale input: the first conv takes 1 channel
        self.resnet.conv1 = nn.Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
        self.fc_in_features = self.resnet.fc.in_features
        # everything but the last (fc) layer
        self.resnet = torch.nn.Sequential(*(list(self.resnet.children())[:-1]))
        self.fc = nn.Sequential(
            nn.Linear(self.fc_in_features * 2, 256),
            nn.ReLU(inplace=True),
            nn.Linear(256, 1),
        )
        self.sigmoid = nn.Sigmoid()
        self.resnet.apply(self.init_weights)
        self.fc.apply(self.init_weights)

    def init_weights(self, m):
        if isinstance(m, nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            m.bias.data.fill_(0.01)

    def forward_once(self, x):
        output = self.resnet(x)
        output = output.view(output.size()[0], -1)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        output = self.fc(output)
        output = self.sigmoid(output)
        return output


class BandPairs(Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.a = torch.randint(0, 4, (n,), generator=g)
        same = torch.rand(n, generator=g) < 0.5
        self.b = torch.where(same, self.a, (self.a + torch.randint(1, 4, (n,), generator=g)) % 4)
        self.noise = torch.randn(n, 2, 1, 28, 28, generator=g) * 0.2

    def image(self, k, noise):
        img = noise.clone()
        img[:, 7 * k:7 * k + 7, :] += 1.0
        return img

    def __len__(self):
        return len(self.a)

    def __getitem__(self, i):
        x1 = self.image(int(self.a[i]), self.noise[i, 0])
        x2 = self.image(int(self.b[i]), self.noise[i, 1])
        return x1, x2, torch.tensor(float(self.a[i] == self.b[i]))


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    criterion = nn.BCELoss()
    losses = []
    for batch_idx, (images_1, images_2, targets) in enumerate(train_loader):
        images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(images_1, images_2).squeeze()
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(images_1), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
    return losses


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    criterion = nn.BCELoss()
    with torch.no_grad():
        for (images_1, images_2, targets) in test_loader:
            images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
            outputs = model(images_1, images_2).squeeze()
            test_loss += criterion(outputs, targets).sum().item()
            pred = torch.where(outputs > 0.5, 1, 0)
            correct += pred.eq(targets.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset), 100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def main(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch Siamese network Example')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=14)
    parser.add_argument('--lr', type=float, default=1.0)
    parser.add_argument('--gamma', type=float, default=0.7)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--log-interval', type=int, default=10)
    parser.add_argument('--n', type=int, default=64)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"
    train_loader = torch.utils.data.DataLoader(BandPairs(args.n, 0), batch_size=args.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(BandPairs(32, 1), batch_size=args.batch_size)
    model = SiameseNetwork().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    history = []
    for epoch in range(1, args.epochs + 1):
        history.append((train(args, model, device, train_loader, optimizer, epoch),
                        test(model, device, test_loader)))
        scheduler.step()
    return model, history


if __name__ == '__main__':
    main()
'''


def test_siamese_program_trains(run_program, capsys):
    import ferrum

    ns = run_program(SOURCE)
    model, history = ns["main"](["--epochs", "1", "--batch-size", "16", "--n", "32"])
    assert "Test set: Average loss" in capsys.readouterr().out
    assert model.fc_in_features == 512 and len(model.resnet) == 9  # resnet18 minus fc
    assert len(history[0][0]) == 2 and 0 <= history[0][1][1] <= 32
    # a few steps on one fixed batch bring its loss down
    x1, x2, y = next(iter(ferrum.utils.data.DataLoader(ns["BandPairs"](16, 2), batch_size=16)))
    opt = ferrum.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = ferrum.nn.BCELoss()(model(x1, x2).squeeze(), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_siamese_forward_backward_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["SiameseNetwork"](), fns["SiameseNetwork"]()
    assert list(fm.state_dict()) == list(tm.state_dict())
    # float64: batch norm over 3 samples at the 1x1 last stage amplifies float32 rounding
    tm.double(), fm.double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    x1, x2 = (rng.standard_normal((3, 1, 28, 28)) for _ in range(2))
    y = np.array([1.0, 0.0, 1.0])
    outs = []
    for lib, m in ((torch, tm), (ferrum, fm)):
        m.train()
        out = m(lib.tensor(x1), lib.tensor(x2)).squeeze()
        loss = lib.nn.BCELoss()(out, lib.tensor(y))
        loss.backward()
        outs.append((out.detach().numpy(), {n: p.grad.numpy() for n, p in m.named_parameters()},
                     {n: b.numpy() for n, b in m.named_buffers()}))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-9)
    for n, g in outs[0][1].items():
        np.testing.assert_allclose(outs[1][1][n], g, rtol=1e-7, atol=1e-9, err_msg=n)
    for n, b in outs[0][2].items():
        np.testing.assert_allclose(outs[1][2][n], b, rtol=1e-9, atol=1e-12, err_msg=n)
