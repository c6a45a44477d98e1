"""``ferrum train fashion-resnet``: a small ResNet with BatchNorm and augmentation on Fashion-MNIST,
>= 92% test accuracy within 10 minutes on 2 cores.

The recipe is PyTorch code with ``torch`` renamed ``ferrum``: ``datasets.FashionMNIST`` (from ROOT or
Debian's dataset-fashion-mnist package, see :mod:`.fashion`) with the augmentation
``Compose([RandomCrop(28, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(...)])`` run per
image in 2 DataLoader worker processes; the network is torchvision's ``BasicBlock``
(``ferrum.models.resnet``) stacked into a ResNet for 28x28 inputs; ``SGD`` with Nesterov momentum,
weight decay and ``OneCycleLR`` stepped per batch; :class:`ferrum.train.Trainer` for the loop.

The network (``width`` w, default 16; 77,754 parameters):
conv3x3(1->w) BN ReLU (28x28) -> BasicBlock(w) (28x28) -> BasicBlock(w->2w, stride 2) (14x14) ->
BasicBlock(2w->4w, stride 2) (7x7) -> global average pool -> fc(4w->10).

The budget (10 minutes on 2 cores): the convolutions cost 9.35M multiply-adds per image forward at
w=16, against 34.4M for ../shared/bench's ``resnet`` workload (w=32 on 3x32x32, batch 32, 62 ms per
training step in torch 2.13 on this machine when quiet). An epoch of 60000 images is therefore worth
about 510 of that workload's steps: 32 s at torch's speed, 41 s at the 1.3x the issue allows ferrum,
plus the evaluation (a forward pass over 10000 images, about 1/18 of an epoch's work) and the
augmentation, which the 2 workers run beside the training process (about 40 us per image).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ferrum import nn
from ferrum import transforms as T
from ferrum.models.resnet import BasicBlock, conv1x1

from . import _recipe
from .fashion import DOWNLOAD_HELP, MEAN, ROOT_HELP, STD, build_datasets
from ._recipe import TrainResult
from .options import POSITIVE_INT, Rule

JOB = "fashion-resnet"
DEFAULTS = _recipe.Defaults(epochs=8, batch_size=128, lr={"sgd": 0.2, "adam": 4e-3}, optimizer="sgd",
                            weight_decay=5e-4)
DEFAULT_WIDTH = 16
DEFAULT_WORKERS = 2
NON_NEGATIVE_INT = Rule(int, lambda v: v >= 0, "an integer >= 0")


class FashionResNet(nn.Module):
    """A three-stage ResNet for (N, 1, 28, 28) images -> (N, num_classes) logits (see the module's
    docstring for the layers); parameter names follow torchvision's ResNet (``conv1``, ``bn1``,
    ``layer1`` ... ``fc``), with one BasicBlock per stage."""

    def __init__(self, width: int = DEFAULT_WIDTH, num_classes: int = 10) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(w, w)
        self.layer2 = BasicBlock(w, 2 * w, stride=2,
                                 downsample=nn.Sequential(conv1x1(w, 2 * w, 2), nn.BatchNorm2d(2 * w)))
        self.layer3 = BasicBlock(2 * w, 4 * w, stride=2,
                                 downsample=nn.Sequential(conv1x1(2 * w, 4 * w, 2), nn.BatchNorm2d(4 * w)))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def train_transform(augment: bool = True) -> T.Compose:
    """Random 28x28 crops of the image padded by 4 (zeros) and left-right flips, then ``ToTensor`` and
    ``Normalize`` with Fashion-MNIST's statistics; without ``augment`` only the last two."""
    plain = [T.ToTensor(), T.Normalize((MEAN,), (STD,))]
    return T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), *plain] if augment else plain)


def train(epochs: int = DEFAULTS.epochs, batch_size: int = DEFAULTS.batch_size, lr: float | None = None,
          optimizer: str = DEFAULTS.optimizer, momentum: float = 0.9,
          weight_decay: float = DEFAULTS.weight_decay, schedule: str = DEFAULTS.schedule, seed: int = 0,
          root: str | None = None, download: bool = False, threads: int | None = None,
          progress: bool | None = None, train_limit: int | None = None, test_limit: int | None = None,
          out: TextIO | None = None, quiet: bool = False, width: int = DEFAULT_WIDTH,
          num_workers: int = DEFAULT_WORKERS, augment: bool = True) -> TrainResult:
    """Train the small ResNet on Fashion-MNIST and return the test accuracy after the last epoch.

    The options are ``mnist-lenet``'s (:func:`ferrum.train.mnist_lenet.train`), with SGD (peak lr
    0.2, Nesterov momentum 0.9, weight decay 5e-4) and 8 epochs by default, plus ``width`` (the first
    stage's channels), ``num_workers`` (DataLoader worker processes running the augmentation; 0 runs
    it in this process) and ``augment``.
    """
    POSITIVE_INT.check(JOB, "width", width)
    NON_NEGATIVE_INT.check(JOB, "num_workers", num_workers)
    options = dict(locals())  # this function's arguments, by name
    del options["width"], options["augment"]

    def datasets(root: str, download: bool):
        return build_datasets(root, download, train_transform=train_transform(augment))

    return _recipe.train(JOB, DEFAULTS, "Fashion-MNIST", datasets, lambda: FashionResNet(width), **options)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command-line options of ``ferrum train fashion-resnet``."""
    _recipe.add_arguments(p, DEFAULTS, ROOT_HELP, DOWNLOAD_HELP)
    p.add_argument("--width", type=POSITIVE_INT, default=DEFAULT_WIDTH,
                   help=f"channels of the first stage; the others have 2x and 4x (default {DEFAULT_WIDTH})")
    p.add_argument("--workers", type=NON_NEGATIVE_INT, default=DEFAULT_WORKERS,
                   help=f"DataLoader worker processes for the augmentation (default {DEFAULT_WORKERS})")
    p.add_argument("--no-augment", action="store_true", help="no random crops and flips")


def run(args: argparse.Namespace) -> int:
    """Run the job for parsed command-line ``args``; returns the exit status."""
    return _recipe.run(JOB, train, args, width=args.width, num_workers=args.workers,
                       augment=not args.no_augment)


__all__ = ["JOB", "DEFAULTS", "FashionResNet", "train_transform", "train", "add_arguments", "run"]
