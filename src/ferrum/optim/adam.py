"""Adam (and, with ``decoupled_weight_decay=True``, AdamW)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._tensor import Tensor
from . import _lowp
from .optimizer import (Optimizer, _adam_moments_, _addcdiv_, _check_fused, _check_hparams, _max,
                        _scalar, _sqrt)

__all__ = ["Adam"]

_BUFS = ("exp_avg", "exp_avg_sq")
_BUFS_AMSGRAD = (*_BUFS, "max_exp_avg_sq")


def _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable) -> tuple:
    """Validates Adam-family hyperparameters as PyTorch does; returns ``betas`` as numbers."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    _check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
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

    One parameter at a time (the shared loop), not a multi-tensor update over flat buffers: on the gpt
    workload's 54 parameters (818,241 float32) the flat AdamW arithmetic alone took 2.38 and 2.49 ms
    against 2.38 and 2.44 ms for this whole step, before the 0.23 ms of gathering the gradients into
    the buffer (``benchmarks/adamw_flat.py``, one thread): each parameter's arrays stay in cache.
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
        _check_fused(fused, differentiable, foreach)
        if fused:
            self._step_supports_amp_scaling = True

    _group_defaults = (("amsgrad", False), ("maximize", False), ("foreach", None),
                       ("capturable", False), ("differentiable", False),
                       ("decoupled_weight_decay", False), ("fused", None))
    _step_keys = ("step",)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        if self._step_supports_amp_scaling and self._amp_skip(
                _BUFS_AMSGRAD if self.defaults["amsgrad"] else _BUFS):
            return loss
        scratch = self._scratch
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            beta1 = _scalar(beta1)
            beta2 = _scalar(beta2)
            eps = group["eps"]
            amsgrad = group["amsgrad"]
            fused = bool(group["fused"])
            w1 = 1 - beta1
            w2 = 1 - beta2
            for a, g, step, bufs, r in self._grads(group, _BUFS_AMSGRAD if amsgrad else _BUFS):
                m, v = bufs[0], bufs[1]
                if r is not None:
                    _lowp.adam(a, g, m, v, bufs[2] if amsgrad else None, lr, beta1, beta2, eps,
                               step, r, fused)
                    continue
                t1 = scratch(a, 1)
                _adam_moments_(m, v, g, w1, beta2, w2, t1)
                bc1 = 1 - beta1 ** step
                bc2 = 1 - beta2 ** step
                if amsgrad:
                    vmax = bufs[2]
                    _max(vmax, v, out=vmax)
                    _sqrt(vmax, out=t1)
                else:
                    _sqrt(v, out=t1)
                t1 /= bc2 ** 0.5
                t1 += eps
                # scratch slot 0 (the working gradient) is no longer needed
                _addcdiv_(a, m, -(lr / bc1), t1, scratch(a, 0))
        return loss
