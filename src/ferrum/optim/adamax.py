"""Adamax (Adam with the infinity norm)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from . import _lowp
from .optimizer import Optimizer, _addcdiv_, _check_hparams, _lerp_, _max, _scalar

__all__ = ["Adamax"]

_abs = np.absolute


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``. State: ``'step'``, ``'exp_avg'``, ``'exp_inf'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
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
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            w1 = 1 - beta1
            for a, g, step, (m, u), r in self._grads(group, ("exp_avg", "exp_inf")):
                if r is not None:
                    _lowp.adamax(a, g, m, u, lr, beta1, beta2, eps, step, r)
                    continue
                t1 = scratch(a, 1)
                _lerp_(m, g, w1, t1)
                u *= beta2
                _abs(g, out=t1)
                t1 += eps
                _max(u, t1, out=u)
                _addcdiv_(a, m, -(lr / (1 - beta1 ** step)), u, t1)
        return loss
