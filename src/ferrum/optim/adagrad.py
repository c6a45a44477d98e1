"""Adagrad."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import (Optimizer, _as_real, _check_lr, _new_step, _scalar, _steps_to_tensors,
                        _work_grad)
from ..ops._common import xp_of

__all__ = ["Adagrad"]

_mul = np.multiply
_sqrt = np.sqrt


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    ``clr = lr / (1 + (t - 1) * lr_decay)``, ``sum += g * g``, ``p -= clr * g / (sqrt(sum) + eps)``.
    State (created for every parameter at construction, as PyTorch does): ``'step'``, ``'sum'``
    (filled with ``initial_accumulator_value``).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p: Tensor, init: float) -> None:
        st = self.state[p]
        a = p._data
        st["step"] = _new_step()
        value = complex(init, init) if a.dtype.kind == "c" else init
        st["sum"] = _wrap(xp_of(a).full_like(a, value))

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        _steps_to_tensors(self)

    def share_memory(self) -> None:
        """No-op kept for API compatibility (state lives in process memory)."""

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        state_of = self.state
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                step_arr = st["step"]._data
                step_arr += 1
                step = float(step_arr)
                g = _work_grad(a, gt._data, maximize, wd, scratch)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = st["sum"]._data
                if a.dtype.kind == "c":
                    a, g, s = _as_real(a), _as_real(g), _as_real(s)
                t1 = scratch(a, 1)
                s += _mul(g, g, out=t1)
                _sqrt(s, out=t1)
                t1 += eps
                t0 = _mul(g, -clr, out=scratch(a, 0))
                t0 /= t1
                a += t0
                p._version[0] += 1
        return loss
