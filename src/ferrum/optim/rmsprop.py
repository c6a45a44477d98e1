"""RMSprop."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._tensor import Tensor
from . import _lowp
from .optimizer import (Optimizer, _addcdiv_, _check_hparams, _div, _ema_sq_, _lerp_, _mul,
                        _scalar, _sqrt, _sub)

__all__ = ["RMSprop"]


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
        _check_hparams(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("momentum", 0), ("centered", False), ("foreach", None),
                       ("maximize", False), ("differentiable", False), ("capturable", False))
    _step_keys = ("step",)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            w = 1 - alpha
            names = ("square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                     *(("grad_avg",) if centered else ()))
            for a, g, _, bufs, r in self._grads(group, names):
                sq = bufs[0]
                if r is not None:
                    _lowp.rmsprop(a, g, sq, bufs[1] if momentum > 0 else None,
                                  bufs[-1] if centered else None, lr, alpha, eps, momentum, r)
                    continue
                t1 = scratch(a, 1)
                _ema_sq_(sq, g, alpha, w, t1)
                if centered:
                    ga = bufs[-1]
                    _lerp_(ga, g, w, t1)
                    _mul(ga, ga, out=t1)
                    _sub(sq, t1, out=t1)
                    _sqrt(t1, out=t1)
                else:
                    _sqrt(sq, out=t1)
                t1 += eps
                if momentum > 0:
                    buf = bufs[1]
                    buf *= momentum
                    buf += _div(g, t1, out=t1)
                    a -= _mul(buf, lr, out=t1)
                else:
                    _addcdiv_(a, g, -lr, t1, scratch(a, 0))
        return loss
