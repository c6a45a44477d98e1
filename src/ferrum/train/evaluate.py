"""``ferrum evaluate RUN_DIR``: re-scores the model of a finished (or interrupted) recipe run.

``RUN_DIR`` is the ``--checkpoint-dir`` of a ``ferrum train`` run: it holds the resolved config
(``config.json``, :mod:`ferrum.train.config`) and the training checkpoints
(:mod:`ferrum.train.checkpoint`). :func:`load_run` reads the config, rebuilds the recipe's model with
the options it was trained with (width and layers of fashion-resnet, the language models' sizes and
vocabulary) and loads the newest checkpoint's weights into it (or the file given with
``--checkpoint``); :func:`evaluate_run` then scores it: test loss and accuracy over the test split for
the image recipes, the validation loss on the recipe's own fixed validation windows for the
language models (the number its ``val loss`` lines print, so the two can be compared).
``ferrum predict`` (:mod:`ferrum.train.predict`) uses :func:`load_run` too.

Everything that can go wrong with the user's input (no such folder, no config, no checkpoint, a
damaged one, a missing data set) raises :class:`~ferrum.train.config.BadInput` with one line naming
the problem and what to do; the command prints it and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import ferrum
from ferrum import nn
from ferrum.nn import functional as F

from .checkpoint import CheckpointError, read_checkpoint
from .config import BadInput, read_run_config

__all__ = ["IMAGE_JOBS", "LM_JOBS", "LoadedRun", "load_run", "evaluate_run", "add_arguments", "run"]

IMAGE_JOBS = ("mnist-mlp", "mnist-lenet", "fashion-lenet", "fashion-resnet")
LM_JOBS = ("shakespeare-gpt", "shakespeare-lstm")


@dataclass
class LoadedRun:
    """A recipe run rebuilt from its folder: ``model`` (in eval mode, the checkpoint's weights),
    ``config`` (the resolved config), ``checkpoint`` (the file loaded) and its ``step``; the
    language models also keep their ``train_set`` (the vocabulary) and ``val_set``."""

    job: str
    config: dict
    model: nn.Module
    checkpoint: str
    step: int | None
    train_set: Any = None
    val_set: Any = None


def _root(config: dict, root: str | None) -> str:
    from ._recipe import default_root
    return root or config.get("root") or default_root()


def _data(fn: Any, *args: Any) -> Any:
    """A data set built by ``fn(*args)``; a missing one is bad input."""
    try:
        return fn(*args)
    except (RuntimeError, OSError, ValueError) as e:
        raise BadInput(f"{e}".splitlines()[0] if str(e) else type(e).__name__) from None


def _build(job: str, config: dict, root: str | None) -> tuple[nn.Module, Any, Any]:
    """The recipe's model for ``config`` (untrained), with the LM's training and validation sets."""
    from . import fashion, fashion_resnet, mnist_lenet, mnist_mlp, shakespeare
    if job == "mnist-mlp":
        return mnist_mlp.build_model(), None, None
    if job == "mnist-lenet":
        return mnist_lenet.build_model(), None, None
    if job == "fashion-lenet":
        return fashion.build_model(), None, None
    if job == "fashion-resnet":
        width = config.get("width", fashion_resnet.DEFAULT_WIDTH)
        layers = tuple(config.get("layers", fashion_resnet.DEFAULT_LAYERS))
        return fashion_resnet.FashionResNet(width, layers), None, None
    if job in LM_JOBS:
        gpt = job == "shakespeare-gpt"
        d = shakespeare.GPT_DEFAULTS if gpt else shakespeare.LSTM_DEFAULTS
        block = config.get("block_size", d.block_size)
        root = _root(config, root) if config.get("text") is None else None
        train_set, val_set = _data(shakespeare.load_data, block, root, config.get("text"))
        kw = {k: config.get(k, v) for k, v in d.model.items()}
        build = shakespeare.build_gpt if gpt else shakespeare.build_lstm
        return build(train_set.vocab_size, block, **kw), train_set, val_set
    raise BadInput(f"unknown recipe {job!r} in the run's config.json; `ferrum train --list` shows the "
                   "recipes")


_CHECKPOINT = re.compile(r"checkpoint-(\d+)\.ckpt")  # Checkpointer's names (its default prefix)


def _checkpoints(run_dir: str) -> list[str]:
    """The run's checkpoint files, oldest first. Listed here rather than through a Checkpointer,
    which would remove the temporary file of a run still writing into the folder."""
    found = [(int(m.group(1)), os.path.join(run_dir, n)) for n in os.listdir(run_dir)
             if (m := _CHECKPOINT.fullmatch(n))]
    return [p for _, p in sorted(found)]


def _newest(run_dir: str) -> str:
    found = _checkpoints(run_dir)
    if not found:
        raise BadInput(f"no checkpoint in {run_dir!r}: the run saved none yet (it saves after every epoch, "
                       "or every --checkpoint-every steps); train longer or pass --checkpoint FILE")
    return found[-1]


def load_run(run_dir: str, checkpoint: str | None = None, root: str | None = None) -> LoadedRun:
    """Rebuilds the model of the run in ``run_dir`` and loads the weights of ``checkpoint`` (default:
    the newest in the folder). ``root``: where the data sets are (default: the run's)."""
    config = read_run_config(run_dir)
    job = config["job"]
    model, train_set, val_set = _build(job, config, root)
    path = _newest(run_dir) if checkpoint is None else checkpoint
    try:
        state = read_checkpoint(path)
    except CheckpointError as e:
        older = [p for p in _checkpoints(run_dir) if p != path]
        fix = (f"pass an older one with --checkpoint {older[-1]}" if older
               else "train again (--resume starts from scratch when none is readable)")
        raise BadInput(f"{e}; {fix}") from None
    except OSError as e:
        raise BadInput(f"cannot read checkpoint {path!r}: {e.strerror or e}; check the path") from None
    weights = state.get("model")
    if weights is None:
        raise BadInput(f"checkpoint {path!r} holds no model weights; pass a checkpoint `ferrum train` saved")
    # a data-parallel run (--nproc) saved the DistributedDataParallel wrapper's names
    if weights and all(k.startswith("module.") for k in weights):
        weights = {k[len("module."):]: v for k, v in weights.items()}
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as e:
        raise BadInput(f"checkpoint {path!r} does not fit the {job} model of config.json "
                       f"({str(e).splitlines()[0]}); was config.json edited?") from None
    model.eval()
    return LoadedRun(job, config, model, path, state.get("step"), train_set, val_set)


def _image_test_set(job: str, config: dict, root: str | None) -> Any:
    from . import fashion, mnist_mlp
    r = _root(config, root)
    if job.startswith("mnist"):
        return _data(mnist_mlp.build_datasets, r, False)[1]
    return _data(fashion.build_datasets, r, False)[1]


def evaluate_run(run: LoadedRun, root: str | None = None, test_limit: int | None = None,
                 batch_size: int = 500) -> dict[str, float]:
    """Scores ``run``'s model: ``{"test_loss", "test_accuracy", "samples"}`` over the first
    ``test_limit`` test images (all by default) for the image recipes; ``{"val_loss"}`` on the
    recipe's fixed validation windows for the language models."""
    if run.job in LM_JOBS:
        from . import shakespeare
        d = shakespeare.GPT_DEFAULTS if run.job == "shakespeare-gpt" else shakespeare.LSTM_DEFAULTS
        c = run.config
        bs = c.get("batch_size", d.batch_size)
        n = c.get("eval_batches", d.eval_batches) * bs
        # the recipe's own windows (seed + 2), so this is the number its `val loss` lines print
        starts = shakespeare.eval_starts(run.val_set, n, c.get("seed", 0) + 2)
        return {"val_loss": shakespeare.evaluate(run.model, run.val_set, starts, bs)}
    from ferrum.utils.data import DataLoader, Subset
    test_set = _image_test_set(run.job, run.config, root)
    if test_limit is not None:
        test_set = Subset(test_set, range(min(test_limit, len(test_set))))
    total = correct = 0
    loss = 0.0
    with ferrum.no_grad():
        for x, y in DataLoader(test_set, batch_size=batch_size):
            out = run.model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += int((out.argmax(1) == y).sum().item())
            total += len(y)
    return {"test_loss": loss / total, "test_accuracy": correct / total, "samples": total}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrum evaluate``."""
    p.add_argument("run_dir", metavar="RUN_DIR", help="the --checkpoint-dir of a `ferrum train` run")
    p.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="the checkpoint to score (default: the newest in RUN_DIR)")
    p.add_argument("--root", default=None, help="data folder (default: the run's --root, else $FERRUM_DATA "
                                                "or ~/.cache/ferrum)")
    p.add_argument("--test-limit", type=int, default=None, metavar="N",
                   help="score only the first N test images (image recipes)")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``ferrum evaluate``: prints the scores; :class:`BadInput` for bad input."""
    out = sys.stdout if out is None else out
    if args.test_limit is not None and args.test_limit < 1:
        raise BadInput(f"--test-limit must be an integer >= 1, got {args.test_limit}")
    loaded = load_run(args.run_dir, args.checkpoint, args.root)
    scores = evaluate_run(loaded, args.root, args.test_limit)
    where = f"{loaded.job}, {os.path.basename(loaded.checkpoint)} (step {loaded.step})"
    if "val_loss" in scores:
        print(f"{where}: validation loss {scores['val_loss']:.4f}", file=out)
    else:
        print(f"{where}: test loss {scores['test_loss']:.4f}  test accuracy {scores['test_accuracy']:.2%}  "
              f"({scores['samples']} images)", file=out)
    return 0
