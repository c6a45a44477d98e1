"""The MNIST CNN example (PyTorch's examples repository style), run with ferrum as torch.

The data set is replaced by a small synthetic one (the program's loaders are built from
``torch.utils.data.TensorDataset``) so the program runs in seconds; everything else is what the
example does: argparse flags, ``torch.accelerator``, ``torch.backends.mps``, Conv2d/dropout/
max_pool2d/log_softmax/nll_loss, Adadelta with StepLR, the test loop with ``pred.eq(...)``, and
``torch.save(model.state_dict(), ...)``.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import argparse
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
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
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break
    return losses


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def synthetic_mnist(n, seed):
    # digits stand-in: class k lights up a horizontal band k of a 28x28 image, plus noise
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 10, (n,), generator=g)
    data = torch.randn(n, 1, 28, 28, generator=g) * 0.3
    for i in range(n):
        k = int(target[i])
        data[i, 0, 2 + 2 * k:4 + 2 * k, :] += 1.0
    data = (data - 0.1307) / 0.3081
    return TensorDataset(data, target)


def main(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N')
    parser.add_argument('--epochs', type=int, default=14, metavar='N')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M')
    parser.add_argument('--no-accel', action='store_true')
    parser.add_argument('--dry-run', action='store_true')
    parser.add_argument('--seed', type=int, default=1, metavar='S')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N')
    parser.add_argument('--save-model', action='store_true')
    parser.add_argument('--save-path', default='mnist_cnn.pt')
    parser.add_argument('--n-train', type=int, default=256)
    args = parser.parse_args(argv)

    use_accel = not args.no_accel and torch.accelerator.is_available()

    torch.manual_seed(args.seed)

    if use_accel:
        device = torch.accelerator.current_accelerator()
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_accel:
        accel_kwargs = {'num_workers': 1, 'pin_memory': True, 'shuffle': True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)
    else:
        train_kwargs['shuffle'] = True

    dataset1 = synthetic_mnist(args.n_train, 0)
    dataset2 = synthetic_mnist(64, 1)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    history = []
    for epoch in range(1, args.epochs + 1):
        losses = train(args, model, device, train_loader, optimizer, epoch)
        history.append((losses, test(model, device, test_loader), scheduler.get_last_lr()[0]))
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), args.save_path)
    return model, history


if __name__ == '__main__':
    main()
'''


def test_mnist_program_trains_and_saves(run_program, tmp_path):
    path = tmp_path / "mnist_cnn.pt"
    ns = run_program(SOURCE, run_main=False)
    model, history = ns["main"](["--epochs", "2", "--batch-size", "32", "--n-train", "128",
                                 "--save-model", "--save-path", str(path), "--log-interval", "2"])
    (losses1, (test_loss1, correct1), lr1), (losses2, (test_loss2, correct2), lr2) = history
    assert lr1 == 1.0 and abs(lr2 - 0.7) < 1e-12  # StepLR(gamma=0.7) stepped once
    assert np.mean(losses2) < np.mean(losses1[:2])
    assert correct2 >= 32  # the bands are easy: well above chance (6/64) after 8 steps
    import ferrum
    state = ferrum.load(str(path))
    fresh = ns["Net"]()
    fresh.load_state_dict(state)
    fresh.eval()
    model.eval()
    x = ferrum.randn(3, 1, 28, 28)
    with ferrum.no_grad():
        assert ferrum.equal(fresh(x), model(x))
    assert list(state) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                           "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_mnist_program_dry_run_as_main(run_program, capsys):
    run_program(SOURCE, run_main=True, argv=["--epochs", "1", "--dry-run", "--n-train", "64"])
    out = capsys.readouterr().out
    assert "Train Epoch: 1 [0/64 (0%)]" in out and "Test set: Average loss:" in out


def test_mnist_program_matches_torch(run_program, torch):
    """One forward/backward of the example's Net, weights copied from torch's, equals torch's."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tmodel, fmodel = tns["Net"](), fns["Net"]()
    fmodel.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
    tmodel.eval(), fmodel.eval()  # dropout off: same function in both
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = np.array([3, 1, 4, 1])
    tl = torch.nn.functional.nll_loss(tmodel(torch.tensor(x)), torch.tensor(y))
    fl = ferrum.nn.functional.nll_loss(fmodel(ferrum.tensor(x)), ferrum.tensor(y))
    tl.backward(), fl.backward()
    np.testing.assert_allclose(fl.item(), tl.item(), rtol=1e-5)
    for (n, tp), (_, fp) in zip(tmodel.named_parameters(), fmodel.named_parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)
