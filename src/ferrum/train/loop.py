"""``Trainer``: the one training loop every recipe of ``ferrum train`` uses.

A recipe declares the model, data, optimizer, schedule and loss with ferrum's public API and hands
them to :class:`Trainer`; the loop is the one PyTorch programs write by hand::

    for epoch in range(epochs):
        model.train()
        for inputs, targets in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            scheduler.step()            # scheduler_interval="step"
        scheduler.step()                # scheduler_interval="epoch"
        evaluate under ferrum.no_grad() # Evaluate callback

with callbacks (:mod:`.callbacks`) for everything around it: the progress bar, the per-epoch
history and summary line, evaluation, and whatever a program adds (checkpoints, logging, early
stopping). It stays small on purpose: one model, one optimizer, batches of ``(inputs, targets)``.

``Trainer.state_dict()``/``load_state_dict()`` save and restore where training is (the
:class:`TrainState` counters, the running loss of the epoch, the history); the
:class:`~ferrum.train.checkpoint.Checkpoint` callback saves them with everything else, and a
trainer restored in the middle of an epoch (``state.in_epoch``) continues that epoch with the
loader's remaining batches instead of starting the next one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import ferrum

from .callbacks import HOOKS, Callback, Evaluate, History, PrintMetrics, ProgressBar

__all__ = ["Trainer", "TrainState", "Accuracy"]


class Accuracy:
    """Top-1 accuracy (a fraction) of logits ``(B, C)`` against class indices ``(B,)``.

    A metric has ``reset()``, ``update(outputs, targets)`` per batch and ``compute()``; write your
    own the same way.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, outputs: ferrum.Tensor, targets: ferrum.Tensor) -> None:
        self.correct += int((outputs.argmax(dim=1) == targets).sum().item())
        self.total += int(targets.shape[0])

    def compute(self) -> float:
        return self.correct / self.total if self.total else float("nan")


@dataclass
class TrainState:
    """Where training is; callbacks read it (and may set ``should_stop``)."""

    epochs: int
    #: the current epoch, counted from 1 (0 before the first)
    epoch: int = 0
    #: optimizer steps taken, over all epochs
    step: int = 0
    #: batches done in the current epoch, and per epoch (None when the loader has no length)
    batch: int = 0
    batches: int | None = None
    #: the last batch's loss, and the sum of loss * batch size and the samples of this epoch
    loss: float = math.nan
    loss_sum: float = 0.0
    samples: int = 0
    #: this epoch's results (train_loss, lr, seconds, samples_per_s, evaluation's), set at its end
    metrics: dict[str, float] = field(default_factory=dict)
    #: set by a callback to end training after the current batch
    should_stop: bool = False
    #: between the start of an epoch and its end (its evaluation and on_epoch_end hooks run after);
    #: a state restored with in_epoch set continues that epoch
    in_epoch: bool = False
    #: the first group's learning rate at the start of this epoch (reported as ``lr``)
    epoch_lr: float = math.nan

    @property
    def train_loss(self) -> float:
        """Mean loss per sample over this epoch so far."""
        return self.loss_sum / self.samples if self.samples else math.nan


class Trainer:
    """Trains ``model`` with ``optimizer`` on the ``(inputs, targets)`` batches of ``train_loader``.

    Args:
        model: the module; put in ``train()`` mode for each epoch, ``eval()`` for evaluation.
        optimizer: a ``ferrum.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(outputs, targets)`` -> a scalar tensor, the mean over the batch (e.g.
            ``nn.CrossEntropyLoss()``).
        train_loader: an iterable of ``(inputs, targets)`` batches, usually a ``DataLoader``.
        epochs: passes over ``train_loader``.
        scheduler: an ``optim.lr_scheduler`` scheduler, stepped after every optimizer step
            (``scheduler_interval="step"``, e.g. ``CosineAnnealingLR(opt, T_max=epochs *
            len(train_loader))``) or after every epoch (``"epoch"``).
        eval_loader: evaluated after every epoch (the :class:`Evaluate` callback), its results
            named ``{eval_prefix}_loss`` and ``{eval_prefix}_{metric}``.
        metrics: name -> metric (``reset``/``update``/``compute``, like :class:`Accuracy`) for
            evaluation; default ``{"accuracy": Accuracy()}``.
        callbacks: more :class:`~ferrum.train.callbacks.Callback` objects, run after the built-in ones.
        progress: the tqdm bar: True, False, or None (only when stderr is a terminal).
        log: where the summary line of each epoch goes: True (stdout), a stream, or False/None
            (nowhere).
        device: if given, each batch is moved there (``.to(device)``) before the step.
        amp: ``"bf16"``/``"fp16"`` run the forward pass and the loss under ``ferrum.autocast("cpu")``
            in that dtype (``"fp16"`` with a ``GradScaler``: dynamic loss scaling, steps with inf/nan
            gradients skipped); ``"off"`` (default) trains in the parameters' dtype.

    ``fit()`` returns the history: one dict per epoch (``epoch``, ``train_loss``, ``lr`` (the first
    group's at the start of the epoch), ``seconds`` and ``samples_per_s`` of the training part, and
    the evaluation's results).
    """

    def __init__(self, model: ferrum.nn.Module, optimizer: Any, loss_fn: Callable, train_loader: Iterable, *,
                 epochs: int = 1, scheduler: Any = None, scheduler_interval: str = "epoch",
                 eval_loader: Iterable | None = None, metrics: dict[str, Any] | None = None,
                 eval_prefix: str = "eval", callbacks: Iterable[Callback] = (), progress: bool | None = None,
                 log: bool | TextIO | None = True, device: Any = None, amp: str = "off") -> None:
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"Trainer: epochs must be an integer >= 1, got {epochs!r}")
        if scheduler_interval not in ("step", "epoch"):
            raise ValueError(f"Trainer: scheduler_interval must be 'step' or 'epoch', got "
                             f"{scheduler_interval!r}")
        if amp not in ("off", "bf16", "fp16"):
            raise ValueError(f"Trainer: amp must be 'off', 'bf16' or 'fp16', got {amp!r}")
        self.amp = amp
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.train_loader = train_loader
        self.epochs = epochs
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.metrics = {"accuracy": Accuracy()} if metrics is None else dict(metrics)
        self.device = device
        self.history_callback = History()
        builtin: list[Callback] = []
        if eval_loader is not None:
            builtin.append(Evaluate(eval_loader, self.metrics, eval_prefix))
        builtin += [self.history_callback, ProgressBar(progress)]
        if log is not None and log is not False:
            builtin.append(PrintMetrics(None if log is True else log))
        self.callbacks: list[Callback] = builtin + list(callbacks)
        self.state = TrainState(epochs=epochs)
        self._epoch_t0 = time.perf_counter()
        self._resumed_seconds = 0.0

    @property
    def history(self) -> list[dict[str, float]]:
        """One dict of metrics per finished epoch."""
        return self.history_callback.records

    _STATE_FIELDS = ("epoch", "step", "batch", "loss", "loss_sum", "samples", "in_epoch", "epoch_lr")

    def state_dict(self) -> dict[str, Any]:
        """Where training is, for a checkpoint (``ferrum.train.checkpoint``): the :class:`TrainState`
        counters, the seconds of training spent in the current epoch, and the history."""
        st = self.state
        seconds = time.perf_counter() - self._epoch_t0 if st.in_epoch else 0.0
        return {**{k: getattr(st, k) for k in self._STATE_FIELDS}, "epochs": st.epochs,
                "epoch_seconds": seconds, "history": [dict(r) for r in self.history]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores a :meth:`state_dict`; the next ``fit()`` continues from there (in the middle of
        the saved epoch if it was saved there). ``epochs`` stays this trainer's."""
        missing = [k for k in (*self._STATE_FIELDS, "epoch_seconds", "history") if k not in state_dict]
        if missing:
            raise ValueError(f"Trainer.load_state_dict: missing {missing}")
        for k in self._STATE_FIELDS:
            setattr(self.state, k, state_dict[k])
        self._resumed_seconds = float(state_dict["epoch_seconds"])
        self.history_callback.records[:] = [dict(r) for r in state_dict["history"]]

    def _hooks(self, name: str) -> list[Callable]:
        # only the callbacks that override a hook are called: no per-step calls of empty methods
        return [getattr(cb, name) for cb in self.callbacks
                if getattr(type(cb), name, None) is not getattr(Callback, name)]

    def _batch(self, batch: Any) -> tuple[Any, Any]:
        inputs, targets = batch
        if self.device is not None:
            inputs, targets = inputs.to(self.device), targets.to(self.device)
        return inputs, targets

    def _lr(self) -> float:
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else math.nan

    def fit(self) -> list[dict[str, float]]:
        """Trains until ``state.epoch == epochs`` or a callback sets ``state.should_stop``; after
        a stop, calling ``fit()`` again resumes with the next epoch."""
        hooks = {name: self._hooks(name) for name in HOOKS}
        batch_begin, batch_end = hooks["on_batch_begin"], hooks["on_batch_end"]
        model, opt, loss_fn, sched = self.model, self.optimizer, self.loss_fn, self.scheduler
        amp = scaler = None
        if self.amp != "off":  # the forward and the loss autocast; the backward and the step outside
            amp = ferrum.autocast("cpu", dtype=ferrum.bfloat16 if self.amp == "bf16" else ferrum.float16)
            scaler = ferrum.amp.GradScaler("cpu", enabled=self.amp == "fp16")
        step_sched = sched is not None and self.scheduler_interval == "step"
        st = self.state
        try:
            st.batches = len(self.train_loader)
        except TypeError:
            st.batches = None
        st.should_stop = False
        for h in hooks["on_train_begin"]:
            h(self)
        try:
            while (st.in_epoch or st.epoch < self.epochs) and not st.should_stop:
                if st.in_epoch:  # restored in the middle of an epoch (a checkpoint): continue it
                    carried, self._resumed_seconds = self._resumed_seconds, 0.0
                else:
                    st.epoch += 1
                    st.batch = st.samples = 0
                    st.loss_sum, st.loss = 0.0, math.nan
                    st.epoch_lr = self._lr()
                    st.in_epoch = True
                    carried = 0.0
                st.metrics = {}
                lr = st.epoch_lr
                model.train()
                for h in hooks["on_epoch_begin"]:
                    h(self)
                t0 = self._epoch_t0 = time.perf_counter() - carried
                for batch in self.train_loader:
                    for h in batch_begin:
                        h(self)
                    inputs, targets = self._batch(batch)
                    opt.zero_grad(set_to_none=True)
                    if amp is None:
                        loss = loss_fn(model(inputs), targets)
                        loss.backward()
                        opt.step()
                    else:
                        with amp:
                            loss = loss_fn(model(inputs), targets)
                        scaler.scale(loss).backward()
                        scaler.step(opt)
                        scaler.update()
                    if step_sched:
                        sched.step()
                    n = len(targets)
                    st.loss = loss.item()
                    st.loss_sum += st.loss * n
                    st.samples += n
                    st.batch += 1
                    st.step += 1
                    for h in batch_end:
                        h(self)
                    if st.should_stop:
                        break
                seconds = time.perf_counter() - t0
                st.metrics.update(train_loss=st.train_loss, lr=lr, seconds=seconds,
                                  samples_per_s=st.samples / seconds if seconds > 0 else math.nan)
                st.in_epoch = False
                if sched is not None and not step_sched:
                    sched.step()
                for h in hooks["on_epoch_end"]:
                    h(self)
        finally:
            for h in hooks["on_train_end"]:
                h(self)
        return self.history

    def evaluate(self, loader: Iterable, metrics: dict[str, Any] | None = None) -> dict[str, float]:
        """Mean loss per sample and each metric of the model on ``loader``, in ``eval()`` mode
        under ``ferrum.no_grad()``; the model's mode is restored afterwards."""
        metrics = self.metrics if metrics is None else metrics
        for m in metrics.values():
            m.reset()
        model = self.model
        was_training = model.training
        model.eval()
        loss_sum, n = 0.0, 0
        try:
            with ferrum.no_grad():
                for batch in loader:
                    inputs, targets = self._batch(batch)
                    outputs = model(inputs)
                    k = len(targets)
                    loss_sum += self.loss_fn(outputs, targets).item() * k
                    n += k
                    for m in metrics.values():
                        m.update(outputs, targets)
        finally:
            model.train(was_training)
        return {"loss": loss_sum / n if n else math.nan, **{k: m.compute() for k, m in metrics.items()}}
