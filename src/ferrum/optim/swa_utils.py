"""``optim.swa_utils``: Stochastic Weight Averaging and exponential moving averages of a model.

- ``AveragedModel(model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False)`` holds
  a deep copy of ``model`` (as ``.module``) and a ``n_averaged`` buffer (int64);
  ``update_parameters(model)`` copies the parameters on the first call and averages them in
  afterwards (equal-weight SWA by default, or ``avg_fn`` per tensor / ``multi_avg_fn`` per list of
  tensors of one device and dtype). With ``use_buffers`` the buffers are averaged too, otherwise
  they are copied from ``model``.
- ``get_swa_avg_fn`` / ``get_ema_avg_fn`` and their ``multi`` forms: torch's averaging rules.
- ``SWALR``: anneals each group's lr from its value to ``swa_lr`` over ``anneal_epochs`` steps
  (cosine or linear), then holds it.
- ``update_bn(loader, model)``: one pass over ``loader`` in train mode with cumulative
  batch-norm statistics (momentum None), to recompute the running statistics of the averaged
  weights.

The EMA/SWA multi-tensor rules are lerps, as torch's ``_foreach_lerp_``: the formula branches on
``weight < 0.5`` as torch's lerp kernel does, so the averages are torch's to the last bit for
floating tensors; integer buffers take the plain formulas.
"""

from __future__ import annotations

import itertools
import math
from copy import deepcopy
from typing import Any, Callable, Iterable

import numpy as np

from .. import _factory
from .._dtype import int64
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ._lr_base import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _lerp_(start: Tensor, end: Tensor, weight: float) -> None:
    """``start += weight * (end - start)`` in place, with torch's lerp rounding (see above)."""
    a, b = start._data, end._data
    w = np.asarray(weight, dtype=a.dtype)
    if abs(weight) < 0.5:
        r = a + w * (b - a)
    else:
        r = b - (b - a) * (1 - w)
    a[...] = r
    start._version[0] += 1


def _is_float(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """``ema = decay * ema + (1 - decay) * current`` over lists of tensors, in place."""
    def ema_update(ema_param_list: list, current_param_list: list, _) -> None:
        with no_grad():
            if _is_float(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    _lerp_(p_ema, p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """The running mean ``avg += (current - avg) / (n + 1)`` over lists of tensors, in place."""
    def swa_update(averaged_param_list: list, current_param_list: list, num_averaged) -> None:
        with no_grad():
            # a tensor count gives a default-dtype weight, as ``1 / (n + 1)`` does in torch
            w = 1 / (num_averaged + 1)
            w = w.item() if isinstance(w, Tensor) else w
            if _is_float(averaged_param_list[0]):
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    _lerp_(p_avg, p_model, w)
            else:
                # torch's integer path (addcdiv, or add with a float alpha) refuses integer tensors
                raise RuntimeError("get_swa_multi_avg_fn: integer tensors cannot be averaged in place "
                                   f"(got {averaged_param_list[0].dtype}); integer division with addcdiv "
                                   "is no longer supported")
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """Returns ``decay * ema + (1 - decay) * current`` for one tensor."""
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable:
    """Returns ``avg + (current - avg) / (n + 1)`` for one tensor."""
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A running average (SWA or EMA) of ``model``'s parameters (see the module docstring).

    Calling it runs the averaged copy, ``self.module``.
    """

    n_averaged: Tensor

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _factory.tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Averages ``model``'s current parameters (and buffers, with ``use_buffers``) into ours."""
        if self.use_buffers:
            self_params = itertools.chain(self.module.parameters(), self.module.buffers())
            model_params = itertools.chain(model.parameters(), model.buffers())
        else:
            self_params, model_params = self.parameters(), model.parameters()
        mine, theirs = [], []
        first = int(self.n_averaged.item()) == 0
        with no_grad():
            for p_avg, p_model in zip(self_params, model_params):
                p_model_ = p_model.detach().to(p_avg.device)
                mine.append(p_avg.detach())
                theirs.append(p_model_)
                if first:
                    p_avg.detach().copy_(p_model_)
            if not first:
                if self.multi_avg_fn is not None or self.avg_fn is None:
                    # one call per (device, dtype) group, in first-seen order, as torch groups them
                    groups: dict = {}
                    for a, b in zip(mine, theirs):
                        groups.setdefault((str(a.device), a.dtype), ([], []))
                        groups[(str(a.device), a.dtype)][0].append(a)
                        groups[(str(a.device), a.dtype)][1].append(b)
                    for (dev, _), (avgs, models) in groups.items():
                        n = self.n_averaged.to(dev)
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(avgs, models, n)
                        else:
                            # torch on CPU (no foreach kernels) runs the one-tensor SWA rule
                            avg_fn = get_swa_avg_fn()
                            for a, b in zip(avgs, models):
                                a.copy_(avg_fn(a, b, n))
                else:
                    for a, b in zip(mine, theirs):
                        a.copy_(self.avg_fn(a, b, self.n_averaged.to(a.device)))
            if not self.use_buffers:
                # buffers are not averaged: keep them in sync with the source model
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


def update_bn(loader: Iterable, model: Module, device=None) -> None:
    """Recomputes the running statistics of every BatchNorm in ``model`` with one pass over
    ``loader`` (batches, or tuples/lists whose first element is the input) in train mode."""
    momenta: dict = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each param group's lr to ``swa_lr`` (a float or one per group) over
    ``anneal_epochs`` steps, by ``anneal_strategy`` "cos" or "linear", and keeps it there."""

    def __init__(self, optimizer: Any, swa_lr: float | list, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must by one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy}")
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        self._warn_get_lr_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the lr the schedule started from, recovered from the current one and the previous alpha
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]
