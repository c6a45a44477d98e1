"""The extremes: max, min (over everything, along a dim with indices, or elementwise against
``other``), amax, amin, aminmax, argmax, argmin.

Split out of ``reduce.py``, which still re-exports every name here. ``max(dim)``/``min(dim)``
take their values at the argmax/argmin indices and scatter the gradient back there
(:class:`PickBackward`); the full ``max()``/``min()`` and ``amax``/``amin`` split it evenly among
tied elements, as PyTorch does. Like PyTorch, these refuse complex input (and argmax/argmin
bool input) instead of ordering it lexicographically.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._common import xp_of
from ._reduce_common import (EvenlyBackward, PickBackward, _check, _dim1, _fast_axes, _keep_shape,
                             _no_dim_empty, _nonempty, _np_axis, _pick_along, _scalar_pick, _tname,
                             _write_outs, return_types)
from .elementwise import _write_out, maximum, minimum

__all__ = ["max", "min", "amax", "amin", "aminmax", "argmax", "argmin"]

_pyint, _pybool = builtins.int, builtins.bool


_MaxBackward1 = EvenlyBackward.named("MaxBackward1")
_MinBackward1 = EvenlyBackward.named("MinBackward1")
_MaxBackward0 = PickBackward.named("MaxBackward0")
_MinBackward0 = PickBackward.named("MinBackward0")


def _no_complex(a, op: str, full: bool) -> None:
    """max/min-like ops refuse complex input as PyTorch does (NotImplementedError, a
    RuntimeError, for the full reductions)."""
    if a.dtype.kind == "c":
        if full:
            raise NotImplementedError(f"{op}(): not implemented for '{_tname(a)}'")
        raise RuntimeError(f"{op}(): does not support complex input")


def _full_pick(input: Tensor, op: str, is_max: bool, node_cls) -> Tensor:
    d = input._data
    if d.size == 0:
        raise _no_dim_empty(op)
    _no_complex(d, op, True)
    r = d.max() if is_max else d.min()
    return record(r, node_cls, (input,), save=(input,), save_output=True)


def _dim_pick(input: Tensor, dim, keepdim: bool, op: str, is_max: bool, rt, node_cls):
    a = input._data
    d = dim if dim.__class__ is _pyint and 0 <= dim < a.ndim else _dim1(dim, a.ndim, op)
    if a.ndim and a.shape[d] == 0:
        _nonempty(a, (d,), op)
    _no_complex(a, op, False)
    if a.ndim == 0:
        return _scalar_pick(input, rt, node_cls)
    idx = a.argmax(axis=d, keepdims=True) if is_max else a.argmin(axis=d, keepdims=True)
    if input.requires_grad and _state.grad_enabled:
        return _pick_along(input, idx, d, keepdim, rt, node_cls)
    vals = a.max(axis=d, keepdims=keepdim) if is_max else a.min(axis=d, keepdims=keepdim)
    ind = idx if keepdim else idx.reshape(vals.shape)
    return rt(_wrap(vals), _wrap(ind.astype(np.int64, copy=False)))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out=None, axis=None,  # noqa: A001
        keepdims=None):
    """``max(input)``: the largest element (NaN propagates). ``max(input, dim, keepdim=False)``:
    named tuple (values, indices) along ``dim``. ``max(input, other)``: elementwise maximum."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "max")
    if out is not None:
        return _write_outs(out, max(input, dim, keepdim, other=other), "max")
    _check(input, "max")
    if isinstance(dim, Tensor) or other is not None:
        return maximum(input, dim if other is None else other)
    if dim is None:
        return _full_pick(input, "max", True, _MaxBackward1)
    return _dim_pick(input, dim, keepdim, "max", True, return_types.max, _MaxBackward0)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out=None, axis=None,  # noqa: A001
        keepdims=None):
    """``min(input)``, ``min(input, dim, keepdim=False)`` -> (values, indices), or elementwise
    ``min(input, other)``."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "min")
    if out is not None:
        return _write_outs(out, min(input, dim, keepdim, other=other), "min")
    _check(input, "min")
    if isinstance(dim, Tensor) or other is not None:
        return minimum(input, dim if other is None else other)
    if dim is None:
        return _full_pick(input, "min", False, _MinBackward1)
    return _dim_pick(input, dim, keepdim, "min", False, return_types.min, _MinBackward0)


class _AmaxBackward(Node, name="AmaxBackward0"):
    """amax/amin: the gradient is split evenly among the elements equal to the result."""

    def backward_t(self, g, x, res):
        a = x._data
        keep = self.keep
        mask = a == res._data.reshape(keep)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(a.dtype)
        return (g.reshape(keep).expand(a.shape) * _wrap(w),)


_AminBackward = _AmaxBackward.named("AminBackward0")


def _amaxmin(input, dim, keepdim, op: str, is_max: bool) -> Tensor:
    _check(input, op)
    a = input._data
    axes = _fast_axes(dim, a.ndim, op)
    if a.size == 0:
        if dim is None or dim == () or dim == []:
            raise _no_dim_empty(op)
        _nonempty(a, axes, op)
    _no_complex(a, op, True)
    r = a.max(axis=axes, keepdims=keepdim) if is_max else a.min(axis=axes, keepdims=keepdim)
    if not (input.requires_grad and _state.grad_enabled):
        return _wrap(r)
    return record(r, _AmaxBackward if is_max else _AminBackward, (input,), save=(input,),
                  save_output=True, axes=axes, keep=_keep_shape(a.shape, axes))


def amax(input: Tensor, dim=(), keepdim: bool = False, *, out=None, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "amax", ())
    if out is not None:
        return _write_out(out, amax(input, dim, keepdim))
    return _amaxmin(input, dim, keepdim, "amax", True)


def amin(input: Tensor, dim=(), keepdim: bool = False, *, out=None, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "amin", ())
    if out is not None:
        return _write_out(out, amin(input, dim, keepdim))
    return _amaxmin(input, dim, keepdim, "amin", False)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False, axis=None, keepdims=None):
    """Named tuple (min, max) over ``dim`` (an int, or None for all)."""
    _check(input, "aminmax")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "aminmax")
    if dim is not None and (not isinstance(dim, (_pyint, np.integer)) or isinstance(dim, _pybool)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    a = input._data
    if dim is None and a.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                           "has no identity.")
    if dim is not None:
        d = _dim1(dim, a.ndim, "aminmax")
        if a.ndim:
            _nonempty(a, (d,), "aminmax")
    _no_complex(a, "aminmax", True)
    dims = () if dim is None else dim
    return return_types.aminmax(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _argpick(input, dim, keepdim, op: str, is_max: bool) -> Tensor:
    _check(input, op)
    a = input._data
    if isinstance(dim, (tuple, list, float, str)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    if a.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    _no_complex(a, op, False)
    xp = xp_of(a)
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = xp.asarray(a.argmax() if is_max else a.argmin(), dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _wrap(r)
    d = dim if dim.__class__ is _pyint and 0 <= dim < a.ndim else _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return _wrap(xp.zeros((), dtype=np.int64))
    if a.shape[d] == 0:
        _nonempty(a, (d,), op)
    r = a.argmax(axis=d, keepdims=keepdim) if is_max else a.argmin(axis=d, keepdims=keepdim)
    return _wrap(r.astype(np.int64, copy=False))


def argmax(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None); first on ties."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "argmax")
    return _argpick(input, dim, keepdim, "argmax", True)


def argmin(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "argmin")
    return _argpick(input, dim, keepdim, "argmin", False)


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
