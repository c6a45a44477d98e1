"""The VAE example (PyTorch's examples repository style), run with ferrum as torch.

Linear encoder/decoder, reparameterisation with ``torch.randn_like``, the loss
``F.binary_cross_entropy(..., reduction='sum')`` plus the KL term, Adam, and sampling from the
prior under ``torch.no_grad()``; the MNIST loader is replaced by small synthetic images in [0, 1].
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import argparse
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F
from torchvision.utils import save_image


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()

        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar)
        eps = torch.randn_like(std)
        return mu + eps*std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(model, optimizer, device, train_loader, epoch, log_interval):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader),
                loss.item() / len(data)))
    avg = train_loss / len(train_loader.dataset)
    print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, avg))
    return avg


def test(model, device, test_loader, epoch, results):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n],
                                      recon_batch.view(data.size(0), 1, 28, 28)[:n]])
                save_image(comparison.cpu(),
                           results + '/reconstruction_' + str(epoch) + '.png', nrow=n)
    test_loss /= len(test_loader.dataset)
    print('====> Test set loss: {:.4f}'.format(test_loss))
    return test_loss, comparison


def main(argv=None):
    parser = argparse.ArgumentParser(description='VAE MNIST Example')
    parser.add_argument('--batch-size', type=int, default=128, metavar='N')
    parser.add_argument('--epochs', type=int, default=10, metavar='N')
    parser.add_argument('--no-accel', action='store_true')
    parser.add_argument('--seed', type=int, default=1, metavar='S')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N')
    parser.add_argument('--results', default='results')
    args = parser.parse_args(argv)

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")

    images = (torch.rand(96, 1, 28, 28) > 0.7).float()   # binary "digits"
    images[:, :, 10:18, :] = 1.0
    dataset = torch.utils.data.TensorDataset(images, torch.zeros(96, dtype=torch.long))
    train_loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=False)

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses.append(train(model, optimizer, device, train_loader, epoch, args.log_interval))
        test_loss, comparison = test(model, device, test_loader, epoch, args.results)
        with torch.no_grad():
            sample = torch.randn(64, 20).to(device)
            sample = model.decode(sample).cpu()
            save_image(sample.view(64, 1, 28, 28),
                       args.results + '/sample_' + str(epoch) + '.png')
    return model, losses, comparison, sample.view(64, 1, 28, 28)


if __name__ == "__main__":
    main()
'''


def test_vae_program_trains_and_samples(run_program, tmp_path):
    ns = run_program(SOURCE)
    model, losses, comparison, sample = ns["main"](["--epochs", "3", "--batch-size", "32",
                                                    "--results", str(tmp_path)])
    # the images the example writes: 2 rows of 8 (28 + 2 padding), and an 8x8 grid of samples
    from tests.utils.test_image import _read_png

    assert _read_png((tmp_path / "reconstruction_3.png").read_bytes()).shape == (2 * 30 + 2, 8 * 30 + 2, 3)
    assert _read_png((tmp_path / "sample_1.png").read_bytes()).shape == (8 * 30 + 2, 8 * 30 + 2, 3)
    assert losses[-1] < losses[0]
    assert tuple(comparison.shape) == (16, 1, 28, 28) and tuple(sample.shape) == (64, 1, 28, 28)
    s = sample.numpy()
    assert s.min() >= 0 and s.max() <= 1 and not sample.requires_grad


def test_vae_loss_and_gradients_match_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["VAE"](), fns["VAE"]()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    x = (rng.random((5, 1, 28, 28)) > 0.5).astype(np.float32)
    eps = rng.standard_normal((5, 20)).astype(np.float32)
    res = []
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        xt = lib.tensor(x)
        mu, logvar = m.encode(xt.view(-1, 784))
        z = mu + lib.tensor(eps) * lib.exp(0.5 * logvar)  # reparameterize with a fixed eps
        loss = ns["loss_function"](m.decode(z), xt, mu, logvar)
        loss.backward()
        res.append((loss.item(), [p.grad.numpy() for p in m.parameters()]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-5)
    for gf, gt in zip(res[1][1], res[0][1]):
        np.testing.assert_allclose(gf, gt, rtol=1e-3, atol=1e-4)
