"""RMSprop."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_lr, _new_step, _scalar, _steps_to_tensors,
                        _work_grad, _zeros_like)

__all__ = ["RMSprop"]

_mul = np.multiply
_sub = np.subtract
_div = np.divide
_sqrt = np.sqrt


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    ``v = alpha * v + (1 - alpha) * g * g``; centered: ``ga = lerp(ga, g, 1 - alpha)`` and
    ``avg = sqrt(v - ga * ga) + eps``, else ``avg = sqrt(v) + eps``; with momentum
    ``buf = momentum * buf + g / avg; p -= lr * buf``, else ``p -= lr * g / avg``.
    State: ``'step'``, ``'square_avg'``, ``'momentum_buffer'`` (momentum > 0), ``'grad_avg'``
    (centered).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
            alpha = group["alpha"]
            eps = group["eps"]
            wd = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            w = 1 - alpha
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["square_avg"] = _zeros_like(a)
                    if momentum > 0:
                        st["momentum_buffer"] = _zeros_like(a)
                    if centered:
                        st["grad_avg"] = _zeros_like(a)
                st["step"]._data += 1
                g = _work_grad(a, gt._data, maximize, wd, scratch)
                sq = st["square_avg"]._data
                cplx = a.dtype.kind == "c"
                if cplx:
                    a, g, sq = _as_real(a), _as_real(g), _as_real(sq)
                t1 = scratch(a, 1)
                sq *= alpha
                _mul(g, w, out=t1)
                t1 *= g
                sq += t1
                if centered:
                    ga = st["grad_avg"]._data
                    if cplx:
                        ga = _as_real(ga)
                    _sub(g, ga, out=t1)
                    t1 *= w
                    ga += t1
                    _mul(ga, ga, out=t1)
                    _sub(sq, t1, out=t1)
                    _sqrt(t1, out=t1)
                else:
                    _sqrt(sq, out=t1)
                t1 += eps
                if momentum > 0:
                    buf = st["momentum_buffer"]._data
                    if cplx:
                        buf = _as_real(buf)
                    buf *= momentum
                    buf += _div(g, t1, out=t1)
                    a -= _mul(buf, lr, out=t1)
                else:
                    t0 = _mul(g, -lr, out=scratch(a, 0))
                    t0 /= t1
                    a += t0
                p._version[0] += 1
        return loss
