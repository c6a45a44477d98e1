"""The spatial-transformer tutorial, run with ferrum as torch.

A localisation net (Conv2d/MaxPool2d/ReLU) regresses an affine ``theta`` whose last layer starts
at the identity (``weight.data.zero_()``, ``bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0],
dtype=torch.float))``); ``F.affine_grid(theta, x.size())`` and ``F.grid_sample(x, grid)`` warp the
input before a small classifier with ``nn.Dropout2d`` and ``F.dropout(x, training=
self.training)``; SGD, nll_loss; the visualisation helper's ``inp.numpy().transpose((1, 2, 0))``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

SOURCE = r'''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 3 * 3, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2)
        )

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)
        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def make_loader(n, seed, batch_size=16):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 10, (n,), generator=g)
    data = torch.randn(n, 1, 28, 28, generator=g) * 0.2
    for i in range(n):
        k = int(target[i])
        data[i, 0, 4:24, 2 * k + 4:2 * k + 6] += 1.0   # a vertical stroke whose column is the class
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, target),
                                       batch_size=batch_size, shuffle=True)


def train(model, optimizer, train_loader, epoch):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % 500 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
    return losses


def test(model, test_loader):
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, size_average=False).item()
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'
              .format(test_loss, correct, len(test_loader.dataset),
                      100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def convert_image_np(inp):
    """Convert a Tensor to numpy image."""
    inp = inp.numpy().transpose((1, 2, 0))
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    inp = std * inp + mean
    inp = np.clip(inp, 0, 1)
    return inp


def visualize_stn(model, test_loader):
    with torch.no_grad():
        data = next(iter(test_loader))[0].to(device)
        input_tensor = data.cpu()
        transformed_input_tensor = model.stn(data).cpu()
        return convert_image_np(input_tensor[0]), convert_image_np(transformed_input_tensor[0])


def main(epochs=2, lr=0.01):
    torch.manual_seed(0)
    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    train_loader, test_loader = make_loader(96, 0), make_loader(32, 1)
    history = []
    for epoch in range(1, epochs + 1):
        history.append((train(model, optimizer, train_loader, epoch), test(model, test_loader)))
    return model, history, visualize_stn(model, test_loader)
'''


def test_spatial_transformer_program(run_program):
    ns = run_program(SOURCE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's size_average and align_corners deprecation warnings
        model, history, (before, after) = ns["main"](epochs=3, lr=0.05)
    assert history[-1][1][0] < history[0][1][0]  # the test loss (eval mode: no dropout noise)
    assert before.shape == after.shape == (28, 28, 3)  # the mean/std broadcast to 3 channels
    # a fresh net starts at the identity transform: grid_sample(affine_grid(I)) reproduces the input
    import ferrum

    net = ns["Net"]()
    x = ferrum.randn(2, 1, 28, 28)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ferrum.no_grad():
            np.testing.assert_allclose(net.stn(x).numpy(), x.numpy(), rtol=1e-5, atol=1e-5)


def test_spatial_transformer_warns_like_torch(run_program, torch):
    """affine_grid/grid_sample without align_corners and nll_loss(size_average=) warn in both."""
    import ferrum

    for lib in (torch, ferrum):
        theta = lib.tensor([[[1.0, 0.1, 0.0], [0.0, 1.0, 0.0]]])
        with pytest.warns(UserWarning, match="align_corners"):
            grid = lib.nn.functional.affine_grid(theta, [1, 1, 4, 4])
        with pytest.warns(UserWarning, match="align_corners"):
            lib.nn.functional.grid_sample(lib.ones(1, 1, 4, 4), grid)
        with pytest.warns(UserWarning, match="size_average"):
            lib.nn.functional.nll_loss(lib.zeros(2, 3), lib.tensor([0, 1]), size_average=False)


def test_spatial_transformer_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm = tns["Net"]()
    with torch.no_grad():  # a non-identity start so the warp matters
        tm.fc_loc[2].weight.normal_(0, 0.01)
        tm.fc_loc[2].bias.copy_(torch.tensor([0.9, 0.1, 0.05, -0.1, 1.1, 0.0]))
    fm = fns["Net"]()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tm.eval(), fm.eval()
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    y = np.array([1, 7, 2])
    res = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, m in ((torch, tm), (ferrum, fm)):
            loss = lib.nn.functional.nll_loss(m(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            res.append((loss.item(), {n: p.grad.numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-5)
    for n, g in res[0][1].items():
        np.testing.assert_allclose(res[1][1][n], g, rtol=2e-3, atol=1e-5, err_msg=n)
