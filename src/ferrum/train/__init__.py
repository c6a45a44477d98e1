"""``ferrum.train``: the training loop (:class:`Trainer` and its callbacks) and the jobs run by
``ferrum train JOB [OPTIONS]``, each a recipe that declares its model, data, optimizer and schedule
with ferrum's public API and trains with :class:`Trainer`.

    ferrum train mnist-mlp [--epochs 4] [--batch-size 128] [--lr LR] [--optimizer adam|sgd] ...
    ferrum train mnist-lenet | fashion-lenet | fashion-resnet [OPTIONS]
    ferrum train shakespeare-gpt | shakespeare-lstm [--steps 2000] [--batch-size 32] [--lr LR] ...
"""

from __future__ import annotations

import argparse
import sys

from . import fashion, fashion_resnet, mnist_lenet, mnist_mlp, shakespeare
from .callbacks import Callback, Evaluate, History, PrintMetrics, ProgressBar
from .checkpoint import Checkpoint, Checkpointer, load_checkpoint, save_checkpoint
from .distributed import add_nproc_argument, run_job
from .loop import Accuracy, Trainer, TrainState

# job name -> (module with add_arguments(parser) and run(args) -> exit status, one-line help)
JOBS = {
    "mnist-mlp": (mnist_mlp, "a 784-512-256-10 MLP on MNIST (>= 98% test accuracy in a few epochs)"),
    "mnist-lenet": (mnist_lenet, "LeNet-5 on MNIST (>= 99% test accuracy in 3 epochs)"),
    "fashion-lenet": (fashion, "LeNet-5 on Fashion-MNIST (>= 90% test accuracy)"),
    "fashion-resnet": (fashion_resnet, "a small ResNet with BatchNorm and augmentation on Fashion-MNIST "
                                       "(>= 92% test accuracy in 10 minutes on 2 cores)"),
    "shakespeare-gpt": (shakespeare.GPT_JOB, "a character-level GPT (4 layers, width 128, context 64) on "
                                             "Shakespeare's plays, then a generated sample"),
    "shakespeare-lstm": (shakespeare.LSTM_JOB, "a character-level 2-layer LSTM on Shakespeare's plays, then "
                                               "a generated sample"),
}

__all__ = ["Trainer", "TrainState", "Accuracy", "Callback", "Evaluate", "History", "PrintMetrics",
           "ProgressBar", "JOBS", "build_parser", "main", "Checkpoint", "Checkpointer", "save_checkpoint",
           "load_checkpoint"]


def build_parser(prog: str = "ferrum train") -> argparse.ArgumentParser:
    """The parser of ``ferrum train``: one subcommand per job."""
    ap = argparse.ArgumentParser(prog=prog, description="Train one of ferrum's example models.")
    sub = ap.add_subparsers(dest="job", metavar="JOB", required=True)
    for name, (module, help_) in JOBS.items():
        # argparse %-formats help strings (for %(default)s): the accuracies' % signs are literal
        p = sub.add_parser(name, help=help_.replace("%", "%%"), description=help_)
        module.add_arguments(p)
        add_nproc_argument(p)
        p.set_defaults(run=module.run)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ferrum train``; returns the exit status (argparse exits with 2 on bad flags)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    # the job owns the process: freed step temporaries are reused instead of faulted in again
    # (about 27 page faults, ~40 us, per step of mnist-mlp untuned; see ferrum._alloc)
    from ..backends.cpu import tune_allocator
    tune_allocator()
    return run_job(args, argv, args.run)
