"""RAdam (rectified Adam)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_betas, _check_lr, _new_step, _scalar,
                        _steps_to_tensors, _work_grad, _zeros_like)

__all__ = ["RAdam"]

_mul = np.multiply
_sub = np.subtract
_div = np.divide
_sqrt = np.sqrt
_recip = np.reciprocal


class RAdam(Optimizer):
    """RAdam, as ``torch.optim.RAdam``.

    Adam's moments; with ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``: when ``rho_t > 5``
    ``p -= lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t`` (``r_t`` the variance
    rectification), else ``p -= lr * m_hat``. ``decoupled_weight_decay=True`` gives RAdamW.
    State: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
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
            decoupled = group["decoupled_weight_decay"]
            maximize = group["maximize"]
            w1 = 1 - beta1
            w2 = 1 - beta2
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                st = state_of[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["exp_avg"] = _zeros_like(a)
                    st["exp_avg_sq"] = _zeros_like(a)
                step_arr = st["step"]._data
                step_arr += 1
                step = float(step_arr)
                if wd != 0 and decoupled:
                    a *= 1 - lr * wd
                    g = _work_grad(a, gt._data, maximize, 0, scratch)
                else:
                    g = _work_grad(a, gt._data, maximize, wd, scratch)
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
                bc1 = 1 - beta1 ** step
                bc2 = 1 - beta2 ** step
                t0 = _div(m, bc1, out=scratch(a, 0))  # bias-corrected exp_avg
                t0 *= lr
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    _sqrt(v, out=t1)
                    t1 += eps
                    # PyTorch evaluates ``number / tensor`` as ``reciprocal(tensor) * number``
                    _recip(t1, out=t1)
                    t1 *= bc2 ** 0.5
                    t0 *= t1
                    t0 *= rect
                a -= t0
                p._version[0] += 1
        return loss
