"""ASGD (averaged stochastic gradient descent).

SGD with a decaying step ``eta`` and a running average ``ax`` of the iterates, which starts
averaging after ``t0`` steps (before that ``ax`` just follows the parameter). The averaged iterate
is kept in the state for the caller to use; the parameter itself follows plain (decayed) SGD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor, _wrap
from ..ops import _blas
from ..ops._common import xp_of
from . import _lowp
from .optimizer import Optimizer, _as_real, _check_hparams, _new_step, _scalar, _work_grad

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD, as ``torch.optim.ASGD``.

    ``g += weight_decay * p``; ``p *= 1 - lambd * eta``; ``p -= eta * g``; ``ax += mu * (p - ax)``
    (``ax = p`` while ``mu == 1``); then ``eta = lr / (1 + lambd * lr * t)^alpha`` and
    ``mu = 1 / max(1, t - t0)``. State: ``'step'``, ``'eta'``, ``'mu'`` (0-d float32 tensors),
    ``'ax'``.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_hparams(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))
    _step_keys = ("step", "eta", "mu")

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            for p, a, gt, st in self._with_grads(group):
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["eta"] = _new_step(lr)
                    st["mu"] = _new_step(1.0)
                    st["ax"] = _wrap(xp_of(a).zeros_like(a))
                step_arr = st["step"]._data
                step_arr += 1
                eta = float(st["eta"]._data)
                mu = float(st["mu"]._data)
                ax = st["ax"]._data
                if _lowp.is_low(a):
                    _asgd_low(a, gt._data, ax, eta, mu, lambd, wd, maximize)
                else:
                    g = gt._data
                    blas = _blas.usable(a, g) and a.flags.writeable
                    if maximize:
                        g = np.negative(g, out=self._scratch(a, 0))
                    if wd != 0:
                        if blas:  # torch's add(alpha=) rounds once (a fused multiply-add)
                            if g is gt._data:
                                g = self._scratch(a, 0)
                                np.copyto(g, gt._data)
                            _blas.axpy(wd, a, g)
                        else:
                            g = _work_grad(a, gt._data, maximize, wd, self._scratch)
                    a_r, g_r, ax_r = _as_real(a), _as_real(g), _as_real(ax)
                    a_r *= 1 - lambd * eta
                    if blas:
                        _blas.axpy(-eta, g, a)
                    else:
                        a_r -= g_r * eta
                    if mu != 1:
                        ax_r += (a_r - ax_r) * mu
                    else:
                        ax_r[...] = a_r
                step = float(step_arr)
                st["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                st["mu"]._data[...] = 1 / max(1, step - t0)
                p._version[0] += 1
        return loss


def _asgd_low(a, g, ax, eta, mu, lambd, wd, maximize) -> None:
    """The float16/bfloat16 update: float32 working copies rounded after every torch op."""
    r = _lowp.rounder(a.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a32, g32, ax32 = _lowp.load(a), _lowp.load(g), _lowp.load(ax)
        if maximize:
            np.negative(g32, out=g32)
        if wd != 0:
            _lowp.add_(g32, a32, wd, r)
        _lowp.mul_(a32, 1 - lambd * eta, r)
        _lowp.add_(a32, g32, -eta, r)
        if mu != 1:
            t = r(a32 - ax32)
            _lowp.mul_(t, mu, r)
            _lowp.add_(ax32, t, 1, r)
        else:
            np.copyto(ax32, a32)
    _lowp.store(a, a32)
    _lowp.store(ax, ax32)
