"""Rprop (resilient backpropagation): per-element step sizes driven by the gradient's sign.

Each step compares the gradient's sign with the previous one: the step size grows by ``etaplus``
where it agrees, shrinks by ``etaminus`` where it flips (and that element's gradient is taken as
zero for this step, so the next step does not flip again), within ``step_sizes``; the parameter
moves by ``-sign(grad) * step_size``. The sign of the product is what matters, so the update
multiplies nothing but step sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor, _wrap
from ..ops._common import xp_of
from . import _lowp
from .optimizer import Optimizer, _as_real, _check_lr, _new_step, _scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, as ``torch.optim.Rprop``.

    Per element, with ``s = sign(g * prev)``: ``step_size *= etaplus`` (s > 0), ``etaminus``
    (s < 0) or 1, clamped to ``step_sizes``; ``g = 0`` where ``s < 0``;
    ``p -= sign(g) * step_size``; ``prev = g``.
    State: ``'step'``, ``'prev'`` (zeros), ``'step_size'`` (filled with ``lr``).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2), step_sizes: tuple[float, float] = (1e-6, 50),
                 *, capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))
    _step_keys = ("step",)

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            lo, hi = group["step_sizes"]
            maximize = group["maximize"]
            for p, a, gt, st in self._with_grads(group):
                if len(st) == 0:
                    lr = _scalar(group["lr"])
                    st["step"] = _new_step()
                    st["prev"] = _wrap(xp_of(a).zeros_like(a))
                    value = complex(lr, lr) if a.dtype.kind == "c" else lr
                    st["step_size"] = _wrap(xp_of(a).full_like(gt._data, value))
                st["step"]._data += 1
                prev = st["prev"]._data
                size = st["step_size"]._data
                if _lowp.is_low(a):
                    _rprop_low(a, gt._data, prev, size, etaminus, etaplus, lo, hi, maximize)
                else:
                    g = gt._data
                    g = -g if maximize else g.copy()
                    _rprop_kernel(_as_real(a), _as_real(g), _as_real(prev), _as_real(size),
                                  etaminus, etaplus, lo, hi)
                p._version[0] += 1
        return loss


def _factors(g, prev, etaminus, etaplus, dtype):
    """``etaplus``/``etaminus``/1 where ``sign(g * prev)`` is +/-/0, in ``dtype`` (torch writes
    them into the sign tensor, so they take the parameter's precision)."""
    xp = xp_of(g)
    s = xp.sign(g * prev)
    return xp.where(s > 0, dtype.type(etaplus), xp.where(s < 0, dtype.type(etaminus), dtype.type(1)))


def _rprop_kernel(a, g, prev, size, etaminus, etaplus, lo, hi) -> None:
    """One float32/float64 update in place (``g``: a private copy of the working gradient)."""
    xp = xp_of(a)
    f = _factors(g, prev, etaminus, etaplus, a.dtype)
    size *= f
    xp.clip(size, lo, hi, out=size)
    g[f == a.dtype.type(etaminus)] = 0
    a -= xp.sign(g) * size
    prev[...] = g


def _rprop_low(a, g, prev, size, etaminus, etaplus, lo, hi, maximize) -> None:
    """The float16/bfloat16 update: float32 working copies rounded after every torch op."""
    r = _lowp.rounder(a.dtype)
    rs = _lowp.round_scalar
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a32, g32, p32, s32 = (_lowp.load(x) for x in (a, g, prev, size))
        if maximize:
            np.negative(g32, out=g32)
        em, ep = rs(etaminus, r), rs(etaplus, r)
        s = np.sign(r(g32 * p32))
        f = np.where(s > 0, np.float32(ep), np.where(s < 0, np.float32(em), np.float32(1)))
        s32 *= f
        r(s32)
        np.clip(s32, rs(lo, r), rs(hi, r), out=s32)
        g32[f == np.float32(em)] = 0
        a32 -= np.sign(g32) * s32
        r(a32)
    for dst, x in ((a, a32), (prev, g32), (size, s32)):
        _lowp.store(dst, x)
