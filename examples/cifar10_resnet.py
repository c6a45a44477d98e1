"""Train a small ResNet on CIFAR-10, for users who have the data (PyTorch code with torch renamed ferrum).

CIFAR-10 is read by ``ferrum.datasets.CIFAR10`` from ROOT/cifar-10-batches-py (the authors' Python
version, the files MD5-checked as in torchvision) or ROOT/cifar-10-batches-bin (the binary version);
``--download`` fetches the Python version (163 MB) into ROOT first. The network is torchvision's
``BasicBlock`` (``ferrum.models.resnet``) in three stages of ``--width``, 2x and 4x channels on 32x32,
16x16 and 8x8, with BatchNorm; training uses random crops (padding 4) and horizontal flips run in
DataLoader worker processes, SGD with Nesterov momentum and weight decay, and a one-cycle learning
rate. After every epoch it prints the mean training loss, the test accuracy and the time:

    python examples/cifar10_resnet.py --root ~/data --epochs 30            # about 92% at width 32
    python examples/cifar10_resnet.py --root ~/data --epochs 1 --max-steps 20 --width 8   # a quick look

Replace ``ferrum`` with ``torch`` (and the data set and block with torchvision's) and it runs under
PyTorch unchanged.
"""

from __future__ import annotations

import argparse
import time

import ferrum
import ferrum.nn as nn
import ferrum.nn.functional as F
from ferrum import transforms as T
from ferrum.datasets import CIFAR10
from ferrum.models.resnet import BasicBlock
from ferrum.utils.data import DataLoader, Subset

# CIFAR-10's per-channel training-set mean and standard deviation (pixels scaled to [0, 1])
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def stage(cin: int, cout: int, stride: int, blocks: int) -> nn.Sequential:
    """``blocks`` BasicBlocks, the first changing (cin, H, W) to (cout, H/stride, W/stride)."""
    down = None
    if stride != 1 or cin != cout:
        down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
    layers = [BasicBlock(cin, cout, stride=stride, downsample=down)]
    layers += [BasicBlock(cout, cout) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class ResNet(nn.Module):
    """(N, 3, 32, 32) images -> (N, 10) logits: conv3x3 + BN + ReLU, three stages, average pool, fc."""

    def __init__(self, width: int = 32, blocks: int = 2, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.layer1 = stage(width, width, 1, blocks)
        self.layer2 = stage(width, 2 * width, 2, blocks)
        self.layer3 = stage(2 * width, 4 * width, 2, blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x: ferrum.Tensor) -> ferrum.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(ferrum.flatten(self.pool(x), 1))


def evaluate(model: nn.Module, loader: DataLoader, device: ferrum.device) -> float:
    """Top-1 accuracy (a fraction) of ``model`` on ``loader``."""
    model.eval()
    correct = total = 0
    with ferrum.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += int((model(x).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / max(total, 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a small ResNet on CIFAR-10.")
    p.add_argument("--root", default="~/.cache/ferrum", help="folder holding cifar-10-batches-py")
    p.add_argument("--download", action="store_true", help="download CIFAR-10 into ROOT first")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--width", type=int, default=32, help="channels of the first stage")
    p.add_argument("--blocks", type=int, default=2, help="BasicBlocks per stage")
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    p.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps")
    p.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    ferrum.manual_seed(args.seed)
    # the accelerator (a CUDA GPU through CuPy) when there is one, else the CPU
    acc = ferrum.accelerator
    device = acc.current_accelerator() if acc.is_available() else ferrum.device("cpu")
    ferrum.backends.cudnn.benchmark = True

    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize(MEAN, STD)])
    test_tf = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    train_set = CIFAR10(args.root, train=True, transform=train_tf, download=args.download)
    test_set = CIFAR10(args.root, train=False, transform=test_tf)
    if args.test_limit is not None:
        test_set = Subset(test_set, range(min(args.test_limit, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                              persistent_workers=args.workers > 0, drop_last=True,
                              generator=ferrum.Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_set, batch_size=500)
    print(f"CIFAR-10 ({args.root}): {len(train_set)} training, {len(test_set)} test images; device {device}")

    model = ResNet(args.width, args.blocks).to(device)
    optimizer = ferrum.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                 weight_decay=args.weight_decay)
    steps = len(train_loader) if args.max_steps is None else min(args.max_steps, len(train_loader))
    scheduler = ferrum.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr,
                                                     total_steps=max(args.epochs * steps, 1))
    print(f"ResNet: width {args.width}, {args.blocks} blocks per stage, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")

    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        loss_sum, seen = 0.0, 0
        for step, (x, y) in enumerate(train_loader):
            if step == steps:
                break
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(y)
            seen += len(y)
        seconds = time.perf_counter() - t0
        accuracy = evaluate(model, test_loader, device)
        print(f"epoch {epoch}/{args.epochs}  train loss {loss_sum / max(seen, 1):.4f}  "
              f"test accuracy {accuracy:.2%}  {seconds:.1f}s ({seen / seconds:,.0f} samples/s)", flush=True)
    return accuracy


if __name__ == "__main__":
    main()
