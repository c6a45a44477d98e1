"""Adam (and, with ``decoupled_weight_decay=True``, AdamW)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _as_real, _check_betas, _check_lr, _new_step, _scalar,
                        _steps_to_tensors, _work_grad, _zeros_like)

__all__ = ["Adam"]

_mul = np.multiply
_sub = np.subtract
_sqrt = np.sqrt
_max = np.maximum


def _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable) -> tuple:
    """Validates Adam-family hyperparameters as PyTorch does; returns ``betas`` as numbers."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    _check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    _check_betas(betas)
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False "
                                 "and foreach=True")
            if betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
    return tuple(_scalar(b) for b in betas)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``.

    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`` (``v`` replaced by its
    running maximum with ``amsgrad``). ``weight_decay`` is L2 (added to the gradient) unless
    ``decoupled_weight_decay=True`` (AdamW: ``p *= 1 - lr * weight_decay`` first).
    State: ``'step'`` (0-d float32 tensor), ``'exp_avg'``, ``'exp_avg_sq'``, ``'max_exp_avg_sq'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        betas = _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        _steps_to_tensors(self)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        scratch = self._scratch
        state_of = self.state
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            beta1 = _scalar(beta1)
            beta2 = _scalar(beta2)
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
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
                    st["exp_avg"] = _zeros_like(a)
                    st["exp_avg_sq"] = _zeros_like(a)
                    if amsgrad:
                        st["max_exp_avg_sq"] = _zeros_like(a)
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
                vmax = st["max_exp_avg_sq"]._data if amsgrad else None
                if a.dtype.kind == "c":
                    a, g, m, v = _as_real(a), _as_real(g), _as_real(m), _as_real(v)
                    if amsgrad:
                        vmax = _as_real(vmax)
                t1 = scratch(a, 1)
                # m = lerp(m, g, 1 - beta1)
                _sub(g, m, out=t1)
                t1 *= w1
                m += t1
                v *= beta2
                _mul(g, w2, out=t1)
                t1 *= g
                v += t1
                bc1 = 1 - beta1 ** step
                bc2 = 1 - beta2 ** step
                step_size = lr / bc1
                if amsgrad:
                    _max(vmax, v, out=vmax)
                    _sqrt(vmax, out=t1)
                else:
                    _sqrt(v, out=t1)
                t1 /= bc2 ** 0.5
                t1 += eps
                t0 = scratch(a, 0)  # the working gradient there is no longer needed
                _mul(m, -step_size, out=t0)
                t0 /= t1
                a += t0
                p._version[0] += 1
        return loss

