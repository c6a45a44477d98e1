"""Comparison, logical, bitwise and classification ops: eq/ne/lt/le/gt/ge, logical_*, bitwise_*
and shifts, isnan/isinf/isfinite/..., isclose/allclose/equal, and their operators.

None of them is differentiable (bool or integer results), so they wrap NumPy's result without
recording a node. The binary ones coerce their operands with ``_promote._coerce_pair``; one
factory builds the comparisons and one the logical and bitwise functions.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import scalar_name
from .._tensor import Tensor, _wrap
from ._common import _write_out, same_device
from ._promote import (
    _binop_or_notimpl, _coerce_pair, _float_kinds, _number_types, _operand_types, _rbinop, _require_tensors,
    _shape_error,
)

_pybool = builtins.bool

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "isclose", "allclose", "equal", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "signbit",
]


def _compare(name, np_fn):
    def op(input: Tensor, other, *, out=None) -> Tensor:
        if out is not None:
            return _write_out(out, op(input, other))
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        if not isinstance(other, (Tensor, np.ndarray)):
            if not isinstance(other, _number_types):
                raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not "
                                f"{type(other).__name__}")
            with np.errstate(invalid="ignore"):
                return _wrap(np_fn(input._data, other))
        a, b = _coerce_pair(input, other, name)
        try:
            with np.errstate(invalid="ignore"):
                return _wrap(np_fn(a._data, b._data))
        except ValueError:
            raise _shape_error(name, a._data, b._data) from None
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise comparison ({name}) of a tensor with a tensor or a number, with "
                  "broadcasting and type promotion; returns a bool tensor.")
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bool_int_op(name, np_fn, kinds=None, cpu_name=None, tensors_only=False, doc=""):
    """A binary logical (``kinds`` None: any dtype, bool result) or bitwise (integer/bool
    ``kinds``, result of the promoted dtype) function."""
    def op(input, other, *, out=None) -> Tensor:
        if tensors_only:
            _require_tensors(name, input, other)
        if out is not None:
            return _write_out(out, op(input, other))
        a, b = _coerce_pair(input, other, name)
        if kinds is not None and a._data.dtype.kind not in kinds:
            raise NotImplementedError(f"\"{cpu_name or name}_cpu\" not implemented for "
                                      f"'{scalar_name(a.dtype)}'")
        try:
            return _wrap(np_fn(a._data, b._data))
        except ValueError:
            raise _shape_error(name, a._data, b._data) from None
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_LOGICAL_DOC = "Elementwise {} of two tensors (nonzero is true), broadcast; returns a bool tensor."
_BITWISE_DOC = ("Elementwise {} of integer or bool tensors (either may be a Python int), with "
                "broadcasting and type promotion.")
_SHIFT_DOC = ("Elementwise {} of integer tensors (broadcast, promoted); shifting by the bit width or "
              "more gives 0 (-1 for a negative value shifted right), as PyTorch.")
logical_and = _bool_int_op("logical_and", np.logical_and, tensors_only=True, doc=_LOGICAL_DOC.format("and"))
logical_or = _bool_int_op("logical_or", np.logical_or, tensors_only=True, doc=_LOGICAL_DOC.format("or"))
logical_xor = _bool_int_op("logical_xor", np.logical_xor, tensors_only=True, doc=_LOGICAL_DOC.format("xor"))
bitwise_and = _bool_int_op("bitwise_and", np.bitwise_and, "iub", doc=_BITWISE_DOC.format("and"))
bitwise_or = _bool_int_op("bitwise_or", np.bitwise_or, "iub", doc=_BITWISE_DOC.format("or"))
bitwise_xor = _bool_int_op("bitwise_xor", np.bitwise_xor, "iub", doc=_BITWISE_DOC.format("xor"))
bitwise_left_shift = _bool_int_op("bitwise_left_shift", np.left_shift, "iu", "lshift",
                                  doc=_SHIFT_DOC.format("left shift"))
bitwise_right_shift = _bool_int_op("bitwise_right_shift", np.right_shift, "iu", "rshift",
                                   doc=_SHIFT_DOC.format("right shift"))


def logical_not(input: Tensor, *, out=None) -> Tensor:
    """Elementwise not (zero is false); returns a bool tensor of input's shape."""
    if out is not None:
        return _write_out(out, logical_not(input))
    return _wrap(np.logical_not(input._data))


def bitwise_not(input: Tensor, *, out=None) -> Tensor:
    """Elementwise bitwise not of an integer tensor (logical not of a bool tensor)."""
    if out is not None:
        return _write_out(out, bitwise_not(input))
    if input._data.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{scalar_name(input.dtype)}'")
    return _wrap(np.invert(input._data))


def _classify(name, np_fn, non_float: bool, kinds=_float_kinds, doc=""):
    def op(input: Tensor) -> Tensor:
        d = input._data
        return _wrap(np_fn(d) if d.dtype.kind in kinds else np.full(d.shape, non_float))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " Returns a bool tensor of input's shape."
    return op


isnan = _classify("isnan", np.isnan, False, doc="True where an element is nan.")
isinf = _classify("isinf", np.isinf, False, doc="True where an element is +inf or -inf.")
isfinite = _classify("isfinite", np.isfinite, True, doc="True where an element is neither nan nor +-inf.")
isposinf = _classify("isposinf", lambda d: d == np.inf, False, "fV", doc="True where an element is +inf.")
isneginf = _classify("isneginf", lambda d: d == -np.inf, False, "fV", doc="True where an element is -inf.")
isreal = _classify("isreal", lambda d: np.imag(d) == 0, True, "c",
                   doc="True where an element has no imaginary part (always for real dtypes).")


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0); a bool tensor."""
    return _wrap(np.signbit(input._data))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise: two tensors of one dtype,
    broadcast; a bool tensor."""
    _require_tensors("isclose", input, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{scalar_name(input.dtype)} did not match {scalar_name(other.dtype)}")
    same_device("isclose", input, other)
    a, b = input._data, other._data
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            return _wrap(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise _shape_error("isclose", a, b) from None


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element is close (see isclose)."""
    return _pybool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    a, b = input._data, other._data
    same_device("equal", input, other)
    return a.shape == b.shape and _pybool((a == b).all())


# --------------------------------------------------------------------------- operators
def _invert(self):
    d = self._data
    if d.dtype.kind == "b":
        return _wrap(~d)
    return bitwise_not(self)


def _eq_op(self, other):
    if isinstance(other, _operand_types):
        return eq(self, other)
    return False


def _ne_op(self, other):
    if isinstance(other, _operand_types):
        return ne(self, other)
    return True


def _attach() -> None:
    T = Tensor
    T.__invert__ = _invert
    T.__eq__ = _eq_op
    T.__ne__ = _ne_op
    T.__hash__ = lambda self: id(self)
    T.__lt__ = _binop_or_notimpl(lt)
    T.__le__ = _binop_or_notimpl(le)
    T.__gt__ = _binop_or_notimpl(gt)
    T.__ge__ = _binop_or_notimpl(ge)
    T.__and__ = _binop_or_notimpl(bitwise_and)
    T.__or__ = _binop_or_notimpl(bitwise_or)
    T.__xor__ = _binop_or_notimpl(bitwise_xor)
    T.__rand__ = _rbinop(bitwise_and)
    T.__ror__ = _rbinop(bitwise_or)
    T.__rxor__ = _rbinop(bitwise_xor)
    T.__lshift__ = _binop_or_notimpl(bitwise_left_shift)
    T.__rshift__ = _binop_or_notimpl(bitwise_right_shift)
    T.__rlshift__ = _rbinop(bitwise_left_shift)
    T.__rrshift__ = _rbinop(bitwise_right_shift)
    for name in __all__:
        setattr(T, name, globals()[name])


_attach()
