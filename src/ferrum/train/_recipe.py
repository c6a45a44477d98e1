"""What the image-classification recipes (``mnist-lenet``, ``fashion-lenet``, ``fashion-resnet``)
share: their options and the rules that check them, the optimizer and learning-rate schedule they
build from those options, the :class:`~ferrum.train.Trainer` run with the per-epoch report, and the
command-line side (the flags, the error line, the final line). ``mnist-mlp`` uses it too.

Each recipe keeps what makes it itself in its own module (data, model, defaults), written as a
PyTorch user would write it with ``torch`` renamed ``ferrum``; this module is the part a user would
copy from one script to the next. Every recipe returns a :class:`TrainResult` and reports the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

import ferrum
from ferrum import nn, optim

from ferrum.utils.data import DataLoader, Dataset, Subset

from .checkpoint import checkpoint_callbacks
from .distributed import data_parallel
from .loop import Trainer
from .tracking import add_tracking_arguments, configure, tracking_callbacks
from .options import (FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, add_amp_argument,
                      add_checkpoint_arguments, report_error)

__all__ = ["Defaults", "SCHEDULES", "EVAL_BATCH_SIZE", "EpochStats", "TrainResult", "default_root",
           "check_options", "make_loaders", "make_optimizer", "make_scheduler", "fit", "train",
           "add_arguments", "run"]

#: learning-rate schedules over the whole run, all stepped per batch
SCHEDULES = ("onecycle", "cosine", "constant")
# evaluation batches of the convolutional recipes: large enough to amortise the per-batch cost, small
# enough that a convolution's patch buffer stays small (LeNet's first conv on 500 images: 500*784*25
# floats, 39 MB)
EVAL_BATCH_SIZE = 500


def default_root() -> str:
    """Where data sets are looked for and cached: $FERRUM_DATA, else ~/.cache/ferrum."""
    return os.environ.get("FERRUM_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "ferrum")


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
    """What a recipe's ``train()`` returns: final test accuracy (a fraction), training seconds (the
    training steps of all epochs, without data set loading and evaluation), wall time, per-epoch
    stats, the model."""
    test_accuracy: float
    wall_time: float
    train_time: float = 0.0
    history: list[EpochStats] = field(default_factory=list)
    model: nn.Module | None = None


@dataclass(frozen=True)
class Defaults:
    """A recipe's defaults: the values its ``train()`` and its flags start from (``nesterov``: SGD's
    momentum kind; ``eval_batch_size``: the test loader's batches)."""

    epochs: int
    batch_size: int
    lr: dict  # optimizer name -> peak learning rate
    optimizer: str = "adam"
    schedule: str = "onecycle"
    weight_decay: float = 0.0
    nesterov: bool = True
    eval_batch_size: int = EVAL_BATCH_SIZE

    def lr_text(self) -> str:
        return ", ".join(f"{v:g} for {k}" for k, v in self.lr.items())


def check_options(job: str, d: Defaults, *, epochs: Any, batch_size: Any, lr: Any, optimizer: Any,
                  momentum: Any, weight_decay: Any, schedule: Any, threads: Any = None,
                  train_limit: Any = None, test_limit: Any = None) -> tuple[str, float]:
    """Checks a recipe's options with the rules of its flags; returns ``(optimizer, lr)`` with the
    optimizer's default learning rate filled in. Raises ``ValueError("<job>: ...")``."""
    optimizer = optimizer.lower() if isinstance(optimizer, str) else optimizer
    if optimizer not in d.lr:
        raise ValueError(f"{job}: optimizer must be one of {sorted(d.lr)}, got {optimizer!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"{job}: schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    lr = d.lr[optimizer] if lr is None else lr
    for name, rule, value in (("epochs", POSITIVE_INT, epochs), ("batch_size", POSITIVE_INT, batch_size),
                              ("lr", POSITIVE, lr), ("momentum", FRACTION, momentum),
                              ("weight_decay", NON_NEGATIVE, weight_decay)):
        rule.check(job, name, value)
    for name, value in (("threads", threads), ("train_limit", train_limit), ("test_limit", test_limit)):
        if value is not None:
            POSITIVE_INT.check(job, name, value)
    return optimizer, lr


def make_loaders(train_set: Dataset, test_set: Dataset, batch_size: int, seed: int,
                 train_limit: int | None = None, test_limit: int | None = None, num_workers: int = 0,
                 eval_batch_size: int = EVAL_BATCH_SIZE) -> tuple[DataLoader, DataLoader]:
    """The shuffling training loader (a generator seeded with ``seed``; ``num_workers`` worker
    processes, kept across epochs) and the test loader, over the first ``train_limit`` /
    ``test_limit`` samples of each set (all when None)."""
    def first(ds, n):
        return ds if n is None else Subset(ds, range(min(n, len(ds))))

    train_loader = DataLoader(first(train_set, train_limit), batch_size=batch_size, shuffle=True,
                              generator=ferrum.Generator().manual_seed(seed), num_workers=num_workers,
                              persistent_workers=num_workers > 0)
    test_loader = DataLoader(first(test_set, test_limit), batch_size=eval_batch_size)
    return train_loader, test_loader


def make_optimizer(model: nn.Module, optimizer: str, lr: float, momentum: float, weight_decay: float,
                   nesterov: bool = True) -> optim.Optimizer:
    """``Adam(lr, weight_decay)`` or ``SGD(lr, momentum, weight_decay)`` (Nesterov's momentum when
    ``nesterov`` and momentum > 0)."""
    if optimizer == "adam":
        return optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0,
                     weight_decay=weight_decay)


def make_scheduler(opt: optim.Optimizer, schedule: str, lr: float, total_steps: int) -> Any:
    """The per-step schedule over ``total_steps``: ``"onecycle"`` (warm up to ``lr`` over the first
    30%, then anneal to ~0, cycling momentum or Adam's beta1 inversely), ``"cosine"`` (half a cosine
    from ``lr`` to 0) or ``"constant"`` (None)."""
    if schedule == "onecycle":
        return optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps)
    if schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    return None


def fit(model: nn.Module, train_loader: Any, test_loader: Any, *, epochs: int, optimizer: str, lr: float,
        momentum: float, weight_decay: float, schedule: str, progress: bool | None, out: TextIO,
        quiet: bool, t0: float, nesterov: bool = True, callbacks: Any = (), amp: str = "off") -> TrainResult:
    """Trains ``model`` with cross-entropy, evaluating on ``test_loader`` after every epoch; one line
    per epoch goes to ``out`` (and the tqdm bar to stderr) unless ``quiet``. ``t0`` is when the run
    started (``time.perf_counter()``), for the wall time. ``callbacks`` go to the Trainer (a
    checkpoint callback from :func:`~ferrum.train.checkpoint.checkpoint_callbacks`)."""
    opt = make_optimizer(model, optimizer, lr, momentum, weight_decay, nesterov)
    scheduler = make_scheduler(opt, schedule, lr, epochs * len(train_loader))
    callbacks = [*callbacks, *tracking_callbacks(None if quiet else out)]  # metrics, TensorBoard, plots
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train_loader, epochs=epochs, scheduler=scheduler,
                      scheduler_interval="step", eval_loader=test_loader, eval_prefix="test",
                      progress=False if quiet else progress, log=None if quiet else out,
                      callbacks=callbacks, amp=amp)
    history = trainer.fit()
    stats = [EpochStats(h["epoch"], h["train_loss"], h["test_accuracy"], h["seconds"], h["samples_per_s"],
                        h["lr"]) for h in history]
    return TrainResult(test_accuracy=stats[-1].test_accuracy, wall_time=time.perf_counter() - t0,
                       train_time=sum(s.seconds for s in stats), history=stats, model=model)


def train(job: str, d: Defaults, data_name: str, make_datasets: Callable[[str, bool], tuple[Dataset, Any]],
          make_model: Callable[[], nn.Module], *, epochs: int, batch_size: int, lr: float | None,
          optimizer: str, momentum: float, weight_decay: float, schedule: str, seed: int, root: str | None,
          download: bool, threads: int | None, progress: bool | None, train_limit: int | None,
          test_limit: int | None, out: TextIO | None, quiet: bool, num_workers: int = 0,
          checkpoint_dir: str | None = None, resume: bool = False, keep_checkpoints: int = 3,
          checkpoint_every: int | None = None, amp: str = "off") -> TrainResult:
    """A recipe's run: checks the options, sets the BLAS threads, builds the data sets
    (``make_datasets(root, download)`` -> training set (with a ``source``), test set) and loaders,
    prints the data line, seeds and builds the model (``make_model()``) and trains it (:func:`fit`).

    With ``checkpoint_dir``, a checkpoint goes there after every epoch (every ``checkpoint_every``
    steps when given), the newest ``keep_checkpoints`` kept; ``resume`` first continues from the
    newest readable one there, where it stopped (same options assumed): bit-exactly, except for
    random augmentation run inside DataLoader worker processes (fashion-resnet's with workers),
    whose streams restart from the worker seeds (see ``DataLoader.state_dict``)."""
    optimizer, lr = check_options(job, d, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                                  momentum=momentum, weight_decay=weight_decay, schedule=schedule,
                                  threads=threads, train_limit=train_limit, test_limit=test_limit)
    out = sys.stdout if out is None else out
    POSITIVE_INT.check(job, "keep_checkpoints", keep_checkpoints)
    if checkpoint_every is not None:
        POSITIVE_INT.check(job, "checkpoint_every", checkpoint_every)
    callbacks = checkpoint_callbacks(job, checkpoint_dir, resume, keep_checkpoints, checkpoint_every,
                                     log=None if quiet else out)
    t0 = time.perf_counter()
    if threads is not None:
        ferrum.set_num_threads(threads)
    root = default_root() if root is None else root
    train_set, test_set = make_datasets(root, download)
    train_loader, test_loader = make_loaders(train_set, test_set, batch_size, seed, train_limit, test_limit,
                                             num_workers, d.eval_batch_size)
    dp = data_parallel()  # one rank of `ferrum train --nproc N` (ferrum.train.distributed)
    if dp is not None:
        train_loader = dp.loader(job, train_loader, seed)
        callbacks = dp.adapt(callbacks)
        make_model = dp.wrapping(make_model)  # the model in DistributedDataParallel
    if not quiet:
        print(f"{data_name} ({train_set.source}, {root}): {len(train_loader.dataset)} training, "
              f"{len(test_loader.dataset)} test images; {ferrum.get_num_threads()} BLAS threads",
              file=out, flush=True)
    ferrum.manual_seed(seed)
    return fit(make_model(), train_loader, test_loader, epochs=epochs, optimizer=optimizer, lr=lr,
               momentum=momentum, weight_decay=weight_decay, schedule=schedule, progress=progress, out=out,
               quiet=quiet, t0=t0, nesterov=d.nesterov, callbacks=callbacks, amp=amp)


def add_arguments(p: argparse.ArgumentParser, d: Defaults, data_help: str, download_help: str) -> None:
    """The flags every image recipe has, with its defaults ``d``."""
    p.add_argument("--epochs", type=POSITIVE_INT, default=d.epochs,
                   help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=d.batch_size,
                   help=f"samples per step (default {d.batch_size})")
    p.add_argument("--lr", type=POSITIVE, default=None, help=f"peak learning rate (default {d.lr_text()})")
    p.add_argument("--optimizer", choices=sorted(d.lr), default=d.optimizer, help=f"default {d.optimizer}")
    p.add_argument("--momentum", type=FRACTION, default=0.9,
                   help=f"SGD {'(Nesterov) ' if d.nesterov else ''}momentum (default 0.9)")
    p.add_argument("--weight-decay", type=NON_NEGATIVE, default=d.weight_decay,
                   help=f"default {d.weight_decay:g}")
    p.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                   help=f"learning-rate schedule over the run, stepped per batch (default {d.schedule})")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the initialisation, the shuffling and the augmentation (default 0)")
    p.add_argument("--root", default=None, help=data_help + " (default $FERRUM_DATA or ~/.cache/ferrum)")
    p.add_argument("--download", action="store_true", help=download_help)
    p.add_argument("--threads", type=POSITIVE_INT, default=None, help="BLAS threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch only)")
    p.add_argument("--quiet", action="store_true", help="print only the final result")
    add_amp_argument(p)
    p.add_argument("--train-limit", type=POSITIVE_INT, default=None,
                   help="use only the first N training images")
    p.add_argument("--test-limit", type=POSITIVE_INT, default=None, help="use only the first N test images")
    add_checkpoint_arguments(p)
    add_tracking_arguments(p)


def run(job: str, train: Callable[..., TrainResult], args: argparse.Namespace, **extra: Any) -> int:
    """Runs ``train`` with the common flags of ``args`` (and ``extra`` keyword arguments); prints
    the final line, or ``ferrum train JOB: error: ...`` on stderr with exit status 1."""
    if configure(job, args):  # the run directory (ferrum.train.tracking); 2: it cannot be written
        return 2
    try:
        res = train(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                    momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                    seed=args.seed, root=args.root, download=args.download, threads=args.threads,
                    progress=False if args.no_progress else None, train_limit=args.train_limit,
                    test_limit=args.test_limit, quiet=args.quiet, checkpoint_dir=args.checkpoint_dir,
                    resume=args.resume, keep_checkpoints=args.keep_checkpoints,
                    checkpoint_every=args.checkpoint_every, amp=args.amp, **extra)
    except (RuntimeError, ValueError, OSError) as e:
        return report_error(job, args, e)
    print(f"final test accuracy: {res.test_accuracy:.2%}  training time: {res.train_time:.1f}s  "
          f"wall time: {res.wall_time:.1f}s")
    return 0
