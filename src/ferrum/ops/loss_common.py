"""Helpers every loss family shares (``ops/loss.py`` and ``ops/loss_margin.py``): reduction
arguments, argument checks, broadcasting, the stable log-sigmoid node, the strict hinge, and the
validation of class-index targets.

They live one floor below both loss modules so that neither imports the other.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._dtype import from_np, scalar_name
from .._tensor import Tensor
from ..autograd.function import Node, record
from . import elementwise as E

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_NONE, _MEAN, _SUM = 0, 1, 2
_AR: dict = {}


# --------------------------------------------------------------------------- argument helpers
def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce pair to a reduction string."""
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    ret = "mean" if sa and rd else ("sum" if rd else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' "
                  "instead.", UserWarning, stacklevel=4)
    return ret


def _reduction(reduction, size_average=None, reduce=None) -> int:
    """The reduction code (0 none, 1 mean, 2 sum); ValueError for an unknown string."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    r = _REDUCTIONS.get(reduction) if isinstance(reduction, str) else None
    if r is None:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return r


def _reduce(loss: Tensor, red: int) -> Tensor:
    if red == _MEAN:
        return loss.mean()
    if red == _SUM:
        return loss.sum()
    return loss


def _tensor(x, op: str, arg: str, pos: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _float(x, op: str, arg: str = "input", pos: int = 1) -> Tensor:
    _tensor(x, op, arg, pos)
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}(): expected a floating point {arg}, got {scalar_name(x.dtype)}")
    return x


def _floating(x: Tensor, t: Tensor, op: str) -> None:
    """NotImplementedError where neither ``x`` nor ``t`` is floating (their promoted type is an
    integer or bool one), as PyTorch's floating-only loss kernels."""
    if x._data.dtype.kind not in "fcV" and t._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(x.dtype)}'")


def _size_warning(input: Tensor, target: Tensor) -> None:
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _broadcast(a: Tensor, b: Tensor, op: str):
    sa, sb = a._data.shape, b._data.shape
    if sa == sb:
        return a, b
    try:
        shape = np.broadcast_shapes(sa, sb)
    except ValueError:
        raise RuntimeError(f"{op}(): the size of input {list(sa)} must be broadcastable with the size of "
                           f"target {list(sb)}") from None
    return a.expand(shape), b.expand(shape)


def _hinge(z: Tensor) -> Tensor:
    """max(z, 0) whose gradient is 0 at z = 0 (PyTorch's margin kernels test ``z > 0``; clamp_min
    passes the gradient at the bound)."""
    return E.where(z > 0, z, 0.0)


def _arange(m: int, xp):
    if xp is np:
        a = _AR.get(m)
        if a is None:
            if len(_AR) > 32:
                _AR.clear()
            a = _AR[m] = np.arange(m)
        return a
    return xp.arange(m)


class _LogSigmoidBackward(Node, name="LogSigmoidBackward0"):
    def backward_t(self, g, x):
        return (g * E.sigmoid(-x),)


def _logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x."""
    d = x._data
    r = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
    return record(r, _LogSigmoidBackward, (x,), save=(x,))


def _class_layout(input: Tensor, target: Tensor, op: str):
    """Validates class-index targets; returns (x2 (M, C) array, t2 (M,) int64 array, C, layout,
    moved shape) with layout 0 for an unbatched (C) input, 1 for (N, C), 2 for (N, C, d1, ...)."""
    xd = input._data
    td = target._data
    tk = td.dtype
    if tk != np.int64:
        if tk == np.uint8:
            td = td.astype(np.int64)
        else:
            raise RuntimeError(f"{op}(): expected target dtype to be Long or Byte, but got "
                               f"{scalar_name(from_np(tk))}")
    nd = xd.ndim
    if nd == 2:
        n = xd.shape[0]
        if td.ndim != 1:
            raise RuntimeError(f"{op}(): 0D or 1D target tensor expected, multi-target not supported "
                               f"(got target of shape {list(td.shape)})")
        if td.shape[0] != n:
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({td.shape[0]}).")
        return xd, td, xd.shape[1], 1, None
    if nd == 1:
        if td.ndim > 1 or (td.ndim == 1 and td.shape[0] != 1):
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {td.shape[0]}"
                             if td.ndim == 1 else
                             f"{op}(): a 1-D (unbatched) input expects a 0-D target, got {list(td.shape)}")
        c = xd.shape[0]
        return xd.reshape(1, c), td.reshape(1), c, 0, None
    if nd == 0:
        raise RuntimeError(f"{op}(): input must have at least 1 dimension (the class dim), got a 0-D tensor")
    n, c = xd.shape[0], xd.shape[1]
    if td.ndim == 0 or td.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size "
                         f"({td.shape[0] if td.ndim else 0}).")
    want = (n,) + xd.shape[2:]
    if td.shape != want:
        raise RuntimeError(f"{op}(): expected target size {list(want)}, got {list(td.shape)} "
                           f"(input size {list(xd.shape)})")
    moved = np.moveaxis(xd, 1, -1)
    return moved.reshape(-1, c), td.reshape(-1), c, 2, moved.shape


def _targets(t2, c: int, ignore_index: int):
    """(safe targets, mask of counted entries or None): ignored entries point at class 0;
    IndexError naming the first out-of-range target."""
    if t2.size and t2.view(np.uint64).max() < c:  # negatives wrap to huge values
        if 0 <= ignore_index < c:
            mask = t2 != ignore_index
            if not bool(mask.all()):
                return t2, mask
        return t2, None
    if not t2.size:
        return t2, None
    mask = t2 != ignore_index
    bad = mask & ((t2 < 0) | (t2 >= c))
    if bool(bad.any()):
        raise IndexError(f"Target {int(t2[bad][0])} is out of bounds.")
    return np.where(mask, t2, 0), mask


def _class_weight(weight, c: int, dt, op: str):
    if weight is None:
        return None
    _tensor(weight, op, "weight", 3)
    w = weight._data
    if w.shape != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but "
                           f"got weight tensor of shape: {list(w.shape)}")
    return w if w.dtype == dt else w.astype(dt)
