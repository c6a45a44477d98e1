"""Adadelta."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_lr, _new_step, _scalar, _steps_to_tensors,
                        _work_grad, _zeros_like)

__all__ = ["Adadelta"]

_mul = np.multiply
_add = np.add
_sqrt = np.sqrt


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    ``v = rho * v + (1 - rho) * g * g``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho * u + (1 - rho) * delta * delta``, ``p -= lr * delta``.
    State: ``'step'``, ``'square_avg'``, ``'acc_delta'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        state_of = self.state
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            w = 1 - rho
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["square_avg"] = _zeros_like(a)
                    st["acc_delta"] = _zeros_like(a)
                st["step"]._data += 1
                g = _work_grad(a, gt._data, maximize, wd, scratch)
                sq = st["square_avg"]._data
                acc = st["acc_delta"]._data
                if a.dtype.kind == "c":
                    a, g, sq, acc = _as_real(a), _as_real(g), _as_real(sq), _as_real(acc)
                t1 = scratch(a, 1)
                t2 = scratch(a, 2)
                sq *= rho
                _mul(g, w, out=t1)
                t1 *= g
                sq += t1
                _add(sq, eps, out=t1)
                _sqrt(t1, out=t1)  # std
                _add(acc, eps, out=t2)
                _sqrt(t2, out=t2)
                t2 /= t1
                t2 *= g  # delta
                acc *= rho
                _mul(t2, w, out=t1)
                t1 *= t2
                acc += t1
                t2 *= -lr
                a += t2
                p._version[0] += 1
        return loss
