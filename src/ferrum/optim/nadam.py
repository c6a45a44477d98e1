"""NAdam (Adam with Nesterov momentum)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_betas, _check_lr, _new_step, _scalar,
                        _steps_to_tensors, _work_grad, _zeros_like)

__all__ = ["NAdam"]

_mul = np.multiply
_sub = np.subtract
_div = np.divide
_sqrt = np.sqrt


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
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
        _steps_to_tensors(self, ("step", "mu_product"))

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
            md = group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            maximize = group["maximize"]
            w1 = 1 - beta1
            w2 = 1 - beta2
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["mu_product"] = _new_step(1.0)
                    st["exp_avg"] = _zeros_like(a)
                    st["exp_avg_sq"] = _zeros_like(a)
                step_arr = st["step"]._data
                step_arr += 1
                step = float(step_arr)
                bc2 = 1 - beta2 ** step
                if wd != 0 and decoupled:
                    a *= 1 - lr * wd
                    g = _work_grad(a, gt._data, maximize, 0, scratch)
                else:
                    g = _work_grad(a, gt._data, maximize, wd, scratch)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                mp_arr = st["mu_product"]._data
                mp_arr *= mu
                mu_product = float(mp_arr)
                m = st["exp_avg"]._data
                v = st["exp_avg_sq"]._data
                if a.dtype.kind == "c":
                    a, g, m, v = _as_real(a), _as_real(g), _as_real(m), _as_real(v)
                t1 = scratch(a, 1)
                _sub(g, m, out=t1)
                t1 *= w1
                m += t1
                v *= beta2
                _mul(g, w2, out=t1)
                t1 *= g
                v += t1
                _div(v, bc2, out=t1)
                _sqrt(t1, out=t1)
                t1 += eps
                t0 = _mul(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=scratch(a, 0))
                t0 /= t1
                a += t0
                _mul(m, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=t0)
                t0 /= t1
                a += t0
                p._version[0] += 1
        return loss
