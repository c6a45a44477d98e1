"""Operand coercion shared by the elementwise families: casts, PyTorch's type promotion, scalars.

Every binary op that is not one of the hand-written hot paths (add/sub/mul/div in ``arith``)
turns its two operands into same-dtype, same-device tensors here (``_coerce_pair``), so the
promotion rules, the wrapping of out-of-range Python ints and the error for shapes that do not
broadcast are written once. ``_cast`` is the differentiable ``t.to(dtype)`` used by every module
in ``ops``; the array conversion itself is ``ferrum._casting.cast_array`` (one defined rule for
floating -> integer on every NumPy version and CPU).
"""

from __future__ import annotations

import builtins

import numpy as np

from .._casting import cast_array
from .._dtype import get_default_dtype, result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._common import same_device, xp_of

_ndarray = np.ndarray
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_number_types = (_pyint, _pyfloat, _pybool, complex, np.generic)
_scalar_types = _number_types + (np.ndarray,)  # operands an operator takes besides tensors
_operand_types = (Tensor,) + _scalar_types
_float_kinds = frozenset("fcV")  # "V": bfloat16 (ml_dtypes)


# --------------------------------------------------------------------------- casts
def _cast(t: Tensor, dt) -> Tensor:
    """Differentiable dtype cast (``t.to(dt)``)."""
    npd = to_np(dt)
    if t._data.dtype == npd:
        return t
    return record(cast_array(t._data, npd), _CastBackward, (t,), src=t.dtype)


class _CastBackward(Node, name="ToCopyBackward0"):
    def backward_t(self, g):
        if g._data.dtype.kind == "c" and not self.src.is_complex:
            from .complex_ops import real  # the real part (PyTorch's convention), silently
            g = real(g)
        return (_cast(g, self.src),)


def _promote(a: Tensor, b: Tensor, op: str):
    same_device(op, a, b)
    rt = result_type(a, b)
    return _cast(a, rt), _cast(b, rt)


def _float_dt():
    return to_np(get_default_dtype())


# --------------------------------------------------------------------------- scalar operands
def _scalar_operand(ad, s, op: str):
    """(array, scalar) ready for NumPy so that the result dtype follows PyTorch."""
    k = ad.dtype.kind
    c = s.__class__
    if c is _pyfloat:
        if k in "fc":
            return ad, s
        if k == "V":  # bfloat16: NumPy would promote to float32 with a Python float
            return ad, ad.dtype.type(s)
        return ad.astype(_float_dt()), s
    if c is _pyint:
        if k == "b":
            return ad.astype(np.int64), s
        if k in "iu" and not (np.iinfo(ad.dtype).min <= s <= np.iinfo(ad.dtype).max):
            return ad, np.array(s).astype(ad.dtype)
        return ad, s
    if c is _pybool:
        return ad, s
    if c is complex:
        if k == "c":
            return ad, s
        return ad.astype(np.complex128 if ad.dtype == np.float64 else np.complex64), s
    if isinstance(s, np.generic):
        return _scalar_operand(ad, s.item(), op)
    return None, None


def _as_tensor_operand(x, like: Tensor):
    """NumPy arrays as operands become tensors; anything else unsupported gives None."""
    if isinstance(x, np.ndarray):
        return _wrap(x if like._data.__class__ is _ndarray else like._data.__class__(x))
    return None


def _require_tensors(op: str, input, other, other_name: str = "other") -> None:
    """PyTorch's TypeError for the binary functions that take only tensors (fmax, hypot, ...):
    a Python number on either side could otherwise give a silently different dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument '{other_name}' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")


def _coerce_pair(a, b, op: str, floating: bool = False):
    """Both operands as tensors of the promoted dtype (scalars become 0-d tensors); with
    ``floating``, integer results promote to the default dtype, and each operand (a Python
    scalar too) is converted directly to it, so a negative scalar never wraps into an unsigned
    tensor's dtype first."""
    at, bt = isinstance(a, Tensor), isinstance(b, Tensor)
    if not at and not bt:
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    if at and bt:
        ad, bd = a._data, b._data
        if ad.dtype is bd.dtype and ad.__class__ is bd.__class__ and (
                not floating or ad.dtype.kind in _float_kinds):
            return a, b
        same_device(op, a, b)
    rt = result_type(a, b)
    if floating:
        rt = _float_target(rt)
    if not at:
        a = _operand_tensor(a, b, op, rt)
    if not bt:
        b = _operand_tensor(b, a, op, rt)
    return _cast(a, rt), _cast(b, rt)


def _float_target(rt):
    return get_default_dtype() if rt.category < 2 else rt


def _operand_tensor(x, like: Tensor, op: str, dt=None) -> Tensor:
    """A Python number or NumPy array as a tensor beside ``like`` (of dtype ``dt`` if given,
    else of the promoted dtype)."""
    if isinstance(x, np.ndarray):
        t = _wrap(x)
    elif isinstance(x, _number_types):
        rt = result_type(like, x) if dt is None else dt
        try:
            t = _wrap(np.asarray(x, dtype=to_np(rt)))
        except OverflowError:  # a Python int out of the dtype's range wraps around, as in PyTorch
            t = _wrap(np.asarray(_int64(x, op)).astype(to_np(rt)))
    else:
        raise TypeError(f"{op}(): expected a Tensor or a number, got {type(x).__name__}")
    if like._data.__class__ is not _ndarray:
        from .._device import move_array
        t = _wrap(move_array(t._data, like.device))
    return t


def _int64(x: int, op: str):
    if not -2**63 <= x < 2**63:
        raise RuntimeError(f"{op}(): value {x} cannot be converted to type int64_t without overflow")
    return np.int64(x)


def _shape_error(op, ad, bd) -> RuntimeError:
    return RuntimeError(f"{op}(): the size of tensor a ({list(ad.shape)}) must match the size of "
                        f"tensor b ({list(bd.shape)}): shapes {tuple(ad.shape)} and {tuple(bd.shape)} "
                        "are not broadcastable")


def _not_implemented(op: str, t: Tensor) -> NotImplementedError:
    return NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(t.dtype)}'")


# --------------------------------------------------------------------------- generic binary ops
class _ZeroGradBackward(Node):
    """Piecewise-constant ops (rounding, floor_divide): zero gradient to every input."""

    def backward_t(self, g):
        # zeros, not g * 0: a nan or inf in g must not become a nan gradient (PyTorch gives 0)
        return tuple(_wrap(xp_of(g._data).zeros(s, g._data.dtype)) for s in self.shapes)


def _binary_record(op, a, b, fwd, node_cls, float_only=False, **attrs):
    """Forward and record for binary ops without a hand-written fast path."""
    a, b = _coerce_pair(a, b, op, float_only)
    ad, bd = a._data, b._data
    try:
        with np.errstate(all="ignore"):
            r = fwd(ad, bd)
    except ValueError:
        raise _shape_error(op, ad, bd) from None
    return record(r, node_cls, (a, b), save=(a, b), shapes=(ad.shape, bd.shape), **attrs)


# --------------------------------------------------------------------------- operators
def _binop_or_notimpl(fn):
    """``Tensor.__op__`` for ``fn``: NotImplemented for operand types ferrum does not take."""
    def op(self, other):
        if isinstance(other, _operand_types):
            return fn(self, other)
        return NotImplemented
    return op


def _rbinop(fn):
    """``Tensor.__rop__`` for ``fn``: the number or array on the left becomes a tensor."""
    def op(self, other):
        if isinstance(other, _scalar_types):
            return fn(_operand_tensor(other, self, fn.__name__), self)
        return NotImplemented
    return op
