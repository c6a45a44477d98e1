"""Selection ops: where, clamp (clip, clamp_min, clamp_max), maximum/minimum, fmax/fmin.

Each output element is one of its inputs' elements, so every backward here routes the gradient
with ``where`` (a selection), never by multiplying with a 0/1 mask: a nan or inf in one input
must not reach the gradient of elements that did not come from it.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record, sum_to
from ._common import _write_out, same_device
from ._promote import (
    _binary_record, _cast, _float_dt, _operand_tensor, _require_tensors,
)

_pyfloat = builtins.float

__all__ = ["where", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin"]


# --------------------------------------------------------------------------- where
class _WhereBackward(Node, name="WhereBackward0"):
    def backward_t(self, g, cond):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(where(cond, g, 0.0), sa)
        if self.next[1] is not None:
            gb = sum_to(where(cond, 0.0, g), sb)
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Elementwise ``input if condition else other`` with broadcasting and type promotion (either
    value may be a number); ``where(condition)`` is ``nonzero(as_tuple=True)``. The condition
    must be bool (uint8 is accepted, as PyTorch still does)."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if out is not None:
        return _write_out(out, where(condition, input, other))
    if not isinstance(condition, Tensor):
        condition = _wrap(np.asarray(condition))
    if condition._data.dtype.kind != "b":
        if condition._data.dtype == np.uint8:
            condition = _wrap(condition._data != 0)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                               f"with dtype {scalar_name(condition.dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # both scalars: PyTorch gives the default dtype for floats
        rt = result_type(input, other)
        r = np.where(condition._data, input, other).astype(to_np(rt))
        return _wrap(r)
    ref = input if isinstance(input, Tensor) else other
    a = input if isinstance(input, Tensor) else _operand_tensor(input, ref, "where")
    b = other if isinstance(other, Tensor) else _operand_tensor(other, ref, "where")
    if a._data.dtype is not b._data.dtype:
        rt = result_type(a, b)
        a, b = _cast(a, rt), _cast(b, rt)
    same_device("where", condition, a, b)
    try:
        r = np.where(condition._data, a._data, b._data)
    except ValueError:
        raise RuntimeError(f"where(): shapes {tuple(condition._data.shape)}, {tuple(a._data.shape)} and "
                           f"{tuple(b._data.shape)} are not broadcastable") from None
    return record(r, _WhereBackward, (a, b), save=(condition,), shapes=(a._data.shape, b._data.shape))


# --------------------------------------------------------------------------- clamp
class _ClampBackward(Node, name="ClampBackward1"):
    """Number bounds: the gradient passes where lo <= x <= hi (also at lo == hi)."""

    def backward_t(self, g, x):
        d = x._data
        m = np.ones(d.shape, dtype=bool)
        if self.lo is not None:
            m &= d >= self.lo
        if self.hi is not None:
            m &= d <= self.hi
        return (where(_wrap(m), g, 0.0),)


class _ClampTensorBackward(Node, name="ClampBackward0"):
    """Tensor bounds, PyTorch's rule: x gets the gradient where lo <= x <= hi; lo where x < lo
    (and lo < hi); hi where x > hi or hi < lo."""

    def backward_t(self, g, x, lo, hi):
        sx, slo, shi = self.shapes
        zero = 0.0
        m = None
        if lo is not None:
            m = x >= lo
        if hi is not None:
            m = (x <= hi) if m is None else m & (x <= hi)
        gx = sum_to(where(m, g, zero), sx)
        glo = ghi = None
        if lo is not None and self.next[1] is not None:
            sel = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = sum_to(where(sel, g, zero), slo)
        if hi is not None and self.next[2] is not None:
            sel = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = sum_to(where(sel, g, zero), shi)
        return gx, glo, ghi


def _clamp_tensor(input: Tensor, min, max) -> Tensor:  # noqa: A002
    """clamp with a tensor bound: all three promote together (PyTorch), then max(min(...))."""
    bounds = [b for b in (min, max) if b is not None]
    rt = result_type(input, *bounds)
    x = _cast(input, rt)
    lo = hi = None
    if min is not None:
        lo = _cast(min, rt) if isinstance(min, Tensor) else _operand_tensor(min, input, "clamp", rt)
    if max is not None:
        hi = _cast(max, rt) if isinstance(max, Tensor) else _operand_tensor(max, input, "clamp", rt)
    same_device("clamp", x, lo, hi)
    r = x._data
    try:
        if lo is not None:
            r = np.maximum(r, lo._data)
        if hi is not None:
            r = np.minimum(r, hi._data)
        r = np.broadcast_to(r, np.broadcast_shapes(*(t._data.shape for t in (x, lo, hi) if t is not None)))
    except ValueError:
        raise RuntimeError(f"clamp(): shapes {[tuple(t._data.shape) for t in (x, lo, hi) if t is not None]} "
                           "are not broadcastable") from None
    shapes = tuple(None if t is None else t._data.shape for t in (x, lo, hi))
    return record(np.array(r), _ClampTensorBackward, (x, lo, hi), save=(x, lo, hi), shapes=shapes)


def clamp(input: Tensor, min=None, max=None, *, out=None) -> Tensor:  # noqa: A002
    """Clamps every element into [min, max] (either bound may be a number, a tensor or omitted;
    with min > max the result is max). The result dtype promotes the input with the bounds, as
    PyTorch does (a bool input with a number bound gives int64, an integer input with a float
    bound the default float dtype). Lenient where PyTorch raises: integer bounds outside an
    integer input's range are clipped to it, which cannot change a result PyTorch computes."""
    if out is not None:
        return _write_out(out, clamp(input, min, max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    d = input._data
    if d.dtype.kind == "b":
        input = _cast(input, result_type(input, *(b for b in (min, max) if b is not None)))
        d = input._data
    if d.dtype.kind in "iu" and (isinstance(min, _pyfloat) or isinstance(max, _pyfloat)):
        d = d.astype(_float_dt())
    if d.dtype.kind in "iu":
        ii = np.iinfo(d.dtype)
        lo = None if min is None else np.clip(min, ii.min, ii.max)
        hi = None if max is None else np.clip(max, ii.min, ii.max)
    else:
        lo, hi = min, max
    r = np.clip(d, lo, hi)
    if min is not None and max is not None and min > max:
        r = np.full_like(d, max)
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)
    return record(r, _ClampBackward, (input,), save=(input,), lo=min, hi=max)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    """clamp(input, max=max)."""
    return clamp(input, max=max)


# --------------------------------------------------------------------------- maximum / minimum
class _MaximumBackward(Node, name="MaximumBackward0"):
    """maximum/minimum, PyTorch's rule: ties split the gradient equally, the smaller (larger)
    input gets none, and where a nan makes every comparison false both inputs get it."""

    is_max = True

    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        both = where(a == b, g * 0.5, g)
        a_loses, b_loses = (a < b, a > b) if self.is_max else (a > b, a < b)
        return sum_to(where(a_loses, 0.0, both), sa), sum_to(where(b_loses, 0.0, both), sb)


class _MinimumBackward(_MaximumBackward, name="MinimumBackward0"):
    is_max = False


class _FmaxBackward(Node, name="FmaxBackward0"):
    """fmax/fmin: PyTorch gives ties (and a nan ``other``) all to the first input."""

    is_max = True

    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        first = ((a >= b) if self.is_max else (a <= b)) | b.isnan()
        return sum_to(where(first, g, 0.0), sa), sum_to(where(first, 0.0, g), sb)


class _FminBackward(_FmaxBackward, name="FminBackward0"):
    is_max = False


def maximum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise maximum of two tensors (broadcast, promoted); nan propagates; ties split the
    gradient equally."""
    _require_tensors("maximum", input, other)
    if out is not None:
        return _write_out(out, maximum(input, other))
    return _binary_record("maximum", input, other, np.maximum, _MaximumBackward)


def minimum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise minimum of two tensors (broadcast, promoted); nan propagates; ties split the
    gradient equally."""
    _require_tensors("minimum", input, other)
    if out is not None:
        return _write_out(out, minimum(input, other))
    return _binary_record("minimum", input, other, np.minimum, _MinimumBackward)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum of two tensors ignoring nan (nan only where both are nan)."""
    _require_tensors("fmax", input, other)
    return _binary_record("fmax", input, other, np.fmax, _FmaxBackward)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum of two tensors ignoring nan (nan only where both are nan)."""
    _require_tensors("fmin", input, other)
    return _binary_record("fmin", input, other, np.fmin, _FminBackward)


def _attach() -> None:
    T = Tensor
    for name in __all__:
        if name != "where":
            setattr(T, name, globals()[name])
    T.where = lambda self, condition, other: where(condition, self, other)


_attach()
