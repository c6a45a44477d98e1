"""Adadelta."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from . import _lowp
from .optimizer import Optimizer, _check_hparams, _ema_sq_, _scalar, _sqrt

__all__ = ["Adadelta"]

_add = np.add


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
        _check_hparams(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))
    _step_keys = ("step",)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            w = 1 - rho
            for a, g, _, (sq, acc), r in self._grads(group, ("square_avg", "acc_delta")):
                if r is not None:
                    _lowp.adadelta(a, g, sq, acc, lr, rho, eps, r)
                    continue
                t1 = scratch(a, 1)
                t2 = scratch(a, 2)
                _ema_sq_(sq, g, rho, w, t1)
                _add(sq, eps, out=t1)
                _sqrt(t1, out=t1)  # std
                _add(acc, eps, out=t2)
                _sqrt(t2, out=t2)
                t2 /= t1
                t2 *= g  # delta
                _ema_sq_(acc, t2, rho, w, t1)
                t2 *= -lr
                a += t2
        return loss
