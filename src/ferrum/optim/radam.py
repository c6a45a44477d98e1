"""RAdam (rectified Adam)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from . import _lowp
from .optimizer import Optimizer, _adam_moments_, _check_hparams, _div, _scalar, _sqrt

__all__ = ["RAdam"]

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
        _check_hparams(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("decoupled_weight_decay", False), ("capturable", False))
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
            w2 = 1 - beta2
            rho_inf = 2 / (1 - beta2) - 1
            for a, g, step, (m, v), r in self._grads(group, ("exp_avg", "exp_avg_sq")):
                if r is not None:
                    _lowp.radam(a, g, m, v, lr, beta1, beta2, eps, step, r)
                    continue
                t1 = scratch(a, 1)
                _adam_moments_(m, v, g, w1, beta2, w2, t1)
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
        return loss
