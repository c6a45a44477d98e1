"""Adamax (Adam with the infinity norm)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_betas, _check_lr, _new_step, _scalar,
                        _steps_to_tensors, _work_grad, _zeros_like)

__all__ = ["Adamax"]

_mul = np.multiply
_sub = np.subtract
_abs = np.absolute
_max = np.maximum


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``. State: ``'step'``, ``'exp_avg'``, ``'exp_inf'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
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
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            w1 = 1 - beta1
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["exp_avg"] = _zeros_like(a)
                    st["exp_inf"] = _zeros_like(a)
                step_arr = st["step"]._data
                step_arr += 1
                step = float(step_arr)
                g = _work_grad(a, gt._data, maximize, wd, scratch)
                m = st["exp_avg"]._data
                u = st["exp_inf"]._data
                if a.dtype.kind == "c":
                    a, g, m, u = _as_real(a), _as_real(g), _as_real(m), _as_real(u)
                t1 = scratch(a, 1)
                _sub(g, m, out=t1)
                t1 *= w1
                m += t1
                u *= beta2
                _abs(g, out=t1)
                t1 += eps
                _max(u, t1, out=u)
                clr = lr / (1 - beta1 ** step)
                _mul(m, -clr, out=t1)
                t1 /= u
                a += t1
                p._version[0] += 1
        return loss
