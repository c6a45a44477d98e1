"""Callbacks of :class:`ferrum.train.Trainer`: what happens around the training step.

A callback subclasses :class:`Callback` and overrides any of its hooks; each hook receives the
trainer, whose ``state`` (a :class:`~ferrum.train.loop.TrainState`) says where training is (epoch,
step, last loss, this epoch's metrics) and whose ``model``, ``optimizer`` and ``scheduler`` it may
use. Hooks run in the order of ``Trainer.callbacks``; the built-in ones come first, so a callback
of yours sees this epoch's evaluation results in ``on_epoch_end``. Setting
``trainer.state.should_stop = True`` ends training after the current batch.

Built in:

- :class:`Evaluate`: the model on a held-out loader after every epoch (loss and metrics);
- :class:`History`: one dict of metrics per epoch (train loss, lr, seconds, evaluation results);
- :class:`ProgressBar`: nested tqdm bars (epochs, steps) with rate, ETA and loss, only on terminals;
- :class:`PrintMetrics`: one summary line per epoch.

Checkpoints are :class:`ferrum.train.checkpoint.Checkpoint` (every epoch or N steps, keep-last-k,
bit-exact resume); a callback of yours that keeps a state across steps gets saved and restored
with them if it has ``state_dict()`` and ``load_state_dict()``. Logging to a file is a callback
too: ``on_epoch_end`` with a write of ``trainer.state.metrics``.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .loop import Trainer

__all__ = ["Callback", "Evaluate", "History", "ProgressBar", "PrintMetrics", "HOOKS"]

#: the hooks, in the order one epoch calls them (``on_train_*`` once around all epochs)
HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end",
         "on_train_end")


class Callback:
    """Base class: every hook does nothing. Override the ones you need."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Once, before the first epoch."""

    def on_epoch_begin(self, trainer: Trainer) -> None:
        """At the start of each epoch (``trainer.state.epoch`` is already the new epoch), and when
        an epoch resumed from a checkpoint continues (``trainer.state.batch`` > 0 then)."""

    def on_batch_begin(self, trainer: Trainer) -> None:
        """Before each training step."""

    def on_batch_end(self, trainer: Trainer) -> None:
        """After each training step (``state.loss`` is its loss, ``state.step`` counts it)."""

    def on_epoch_end(self, trainer: Trainer) -> None:
        """After each epoch; ``state.metrics`` holds the epoch's results."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Once, after the last epoch (also when a callback stopped training early)."""


class Evaluate(Callback):
    """Evaluates the model on ``loader`` after every epoch, adding ``{prefix}_loss`` and
    ``{prefix}_{name}`` for each metric to ``state.metrics`` (see :meth:`Trainer.evaluate`)."""

    def __init__(self, loader: Any, metrics: dict[str, Any] | None = None, prefix: str = "eval") -> None:
        self.loader = loader
        self.metrics = metrics
        self.prefix = prefix

    def on_epoch_end(self, trainer: Trainer) -> None:
        results = trainer.evaluate(self.loader, self.metrics)
        trainer.state.metrics.update({f"{self.prefix}_{k}": v for k, v in results.items()})


class History(Callback):
    """Keeps ``records``: a copy of ``state.metrics`` per epoch, with its ``epoch`` number."""

    def __init__(self) -> None:
        self.records: list[dict[str, float]] = []

    def on_epoch_end(self, trainer: Trainer) -> None:
        self.records.append({"epoch": trainer.state.epoch, **trainer.state.metrics})


def _is_tty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressBar(Callback):
    """tqdm bars: an outer one over the epochs (``epochs``, ETA of the whole run, the last epoch's
    metrics in its postfix; only when there is more than one epoch) and an inner one over the
    current epoch's steps (``epoch 2/4``, steps done, rate, ETA, running loss in the postfix), erased
    at the end of the epoch. ``enabled=None`` shows them only when ``stream`` (default stderr) is a
    terminal, so logs and pipes get no carriage-return noise (``--quiet`` and ``--no-progress``
    pass ``enabled=False``); without tqdm installed there is no bar. ``bar`` is the step bar (its
    ``write`` prints a line without breaking the bars)."""

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None,
                 min_interval: float = 0.1) -> None:
        self.enabled = enabled
        self.stream = stream
        self.min_interval = min_interval
        self.bar = None
        self.epoch_bar = None
        self._tqdm = None

    def on_train_begin(self, trainer: Trainer) -> None:
        stream = sys.stderr if self.stream is None else self.stream
        on = _is_tty(stream) if self.enabled is None else self.enabled
        self._tqdm = None
        if on:
            try:
                from tqdm import tqdm
            except ImportError:
                warnings.warn("ferrum.train: no progress bar, tqdm is not installed (pip install tqdm)",
                              RuntimeWarning, stacklevel=2)
            else:
                self._tqdm = tqdm

    def on_epoch_begin(self, trainer: Trainer) -> None:
        if self._tqdm is None:
            return
        self._close_step_bar()
        st = trainer.state
        stream = sys.stderr if self.stream is None else self.stream
        if self.epoch_bar is None and st.epochs > 1:
            # made here, not in on_train_begin: a run resumed from a checkpoint (restored after the
            # built-in callbacks' on_train_begin) starts the bar at the epochs already done
            self.epoch_bar = self._tqdm(total=st.epochs, initial=st.epoch - 1, desc="epochs", unit="epoch",
                                        position=0, leave=True, dynamic_ncols=True, file=stream)
        nested = self.epoch_bar is not None
        self.bar = self._tqdm(total=st.batches, initial=st.batch, desc=f"epoch {st.epoch}/{st.epochs}",
                              unit="batch", leave=False, dynamic_ncols=True, mininterval=self.min_interval,
                              position=1 if nested else 0, file=stream)

    def on_batch_end(self, trainer: Trainer) -> None:
        bar = self.bar
        if bar is not None:
            # refresh=False: the text is drawn with the next update, at most every min_interval
            bar.set_postfix_str(f"loss {trainer.state.train_loss:.4f}", refresh=False)
            bar.update(1)

    def on_epoch_end(self, trainer: Trainer) -> None:
        self._close_step_bar()
        if self.epoch_bar is not None:
            m = {k: v for k, v in trainer.state.metrics.items() if k.endswith(("loss", "accuracy"))}
            shown = [f"{k.replace('_', ' ')} {v:.2%}" if k.endswith("accuracy") else
                     f"{k.replace('_', ' ')} {v:.4f}" for k, v in m.items()]
            self.epoch_bar.set_postfix_str("  ".join(shown), refresh=False)
            self.epoch_bar.update(1)

    def on_train_end(self, trainer: Trainer) -> None:
        self._close_step_bar()
        if self.epoch_bar is not None:
            self.epoch_bar.close()
            self.epoch_bar = None

    def _close_step_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_metrics(metrics: dict[str, float]) -> str:
    """``train loss 0.0812  test accuracy 98.21%  lr 0.000854  4.1s (14,634 samples/s)``."""
    parts = []
    for k, v in metrics.items():
        if k in ("seconds", "samples_per_s", "epoch"):
            continue
        name = k.replace("_", " ")
        if k.endswith("accuracy"):
            parts.append(f"{name} {v:.2%}")
        elif k == "lr":
            parts.append(f"lr {v:.3g}")
        else:
            parts.append(f"{name} {v:.4f}")
    if "seconds" in metrics:
        t = f"{metrics['seconds']:.1f}s"
        if "samples_per_s" in metrics:
            t += f" ({metrics['samples_per_s']:,.0f} samples/s)"
        parts.append(t)
    return "  ".join(parts)


class PrintMetrics(Callback):
    """Prints ``epoch 2/4  train loss ...  eval accuracy ...  3.2s (...)`` after each epoch."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def on_epoch_end(self, trainer: Trainer) -> None:
        st = trainer.state
        write_line(trainer, f"epoch {st.epoch}/{st.epochs}  {format_metrics(st.metrics)}",
                   sys.stdout if self.stream is None else self.stream)


def write_line(trainer: Trainer, line: str, stream: TextIO) -> None:
    """Prints ``line`` to ``stream``; while a :class:`ProgressBar` shows bars, through tqdm's
    ``write`` (which clears the bars, prints, and draws them again below), so that the line does
    not land on the bar's own line."""
    bar = next((b for cb in trainer.callbacks if isinstance(cb, ProgressBar)
                for b in (cb.bar, cb.epoch_bar) if b is not None), None)
    if bar is not None:
        bar.write(line, file=stream)
        stream.flush()
    else:
        print(line, file=stream, flush=True)
