"""NAdam (Adam with Nesterov momentum)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from . import _lowp
from .optimizer import (Optimizer, _adam_moments_, _addcdiv_, _check_hparams, _div, _new_step,
                        _scalar, _sqrt, _zeros_like)

__all__ = ["NAdam"]

_BUFS = ("mu_product", "exp_avg", "exp_avg_sq")
_f32 = np.float32


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``.

    ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``, ``mu_product *= mu_t``; Adam's
    moments; ``denom = sqrt(v / (1 - beta2^t)) + eps``;
    ``p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom``
    ``+ lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom``.
    ``decoupled_weight_decay=True`` gives NAdamW. State: ``'step'``, ``'mu_product'``,
    ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                       momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("maximize", False), ("foreach", None), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False))
    _step_keys = ("step", "mu_product")

    def _init_state(self, st: dict, a, names: tuple[str, ...]) -> None:
        st["step"] = _new_step()
        st["mu_product"] = _new_step(1.0)
        st["exp_avg"] = _zeros_like(a)
        st["exp_avg_sq"] = _zeros_like(a)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            md = group["momentum_decay"]
            w1 = 1 - beta1
            w2 = 1 - beta2
            for a, g, step, (mp_arr, m, v), r in self._grads(group, _BUFS):
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                if _lowp.is_low(mp_arr):
                    # a half mu_product (loaded from a state dict): float32 product, rounded
                    mp_arr[...] = _lowp.round_scalar(float(_f32(float(mp_arr)) * _f32(mu)),
                                                     _lowp.rounder(mp_arr.dtype))
                else:
                    mp_arr *= mu
                mu_product = float(mp_arr)
                if r is not None:
                    _lowp.nadam(a, g, m, v, -lr * (1.0 - mu) / (1.0 - mu_product),
                                (-lr * mu_next) / (1.0 - mu_product * mu_next), beta1, beta2, eps,
                                step, r)
                    continue
                t1 = scratch(a, 1)
                _adam_moments_(m, v, g, w1, beta2, w2, t1)
                _div(v, 1 - beta2 ** step, out=t1)
                _sqrt(t1, out=t1)
                t1 += eps
                t0 = scratch(a, 0)
                _addcdiv_(a, g, -lr * (1.0 - mu) / (1.0 - mu_product), t1, t0)
                _addcdiv_(a, m, (-lr * mu_next) / (1.0 - mu_product * mu_next), t1, t0)
        return loss
