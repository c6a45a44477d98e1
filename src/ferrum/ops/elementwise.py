"""Elementwise ops: arithmetic operators, unary math, comparisons, logical and bitwise ops.

The arithmetic operators are the hottest code in ferrum: each keeps to one NumPy call, one
Tensor construction and, when recording, one node with ``__slots__``. Mixed dtypes and devices
leave the fast path for ``_promote``, which casts differentiably by PyTorch's promotion rules.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _state
from .._dtype import from_np, get_default_dtype, np_finfo, result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import _FREED_MSG, FREED, Node, edge, record, sum_to, version_error
from . import _parallel as _par
from ._common import p_cos, p_exp, p_sin, p_sqrt, same_device, zeros_like_layout

_new = object.__new__
_ndarray = np.ndarray
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "float_power", "neg", "negative", "positive", "abs", "absolute",
    "sign", "sgn", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
    "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan",
    "atan2", "arctan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "relu", "erf",
    "erfc", "erfinv", "floor", "ceil", "round", "trunc", "fix", "frac", "clamp", "clip", "clamp_min",
    "clamp_max", "minimum", "maximum", "fmin", "fmax", "where", "lerp", "eq", "ne", "lt", "le", "gt",
    "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "isclose", "allclose",
    "equal", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "clone", "hypot", "logaddexp",
    "nan_to_num", "xlogy", "sinc", "deg2rad", "rad2deg", "logit", "signbit", "copysign", "heaviside",
]


# --------------------------------------------------------------------------- promotion
def _cast(t: Tensor, dt) -> Tensor:
    """Differentiable dtype cast (``t.to(dt)``)."""
    npd = to_np(dt)
    if t._data.dtype == npd:
        return t
    return record(t._data.astype(npd), _CastBackward, (t,), src=t.dtype)


class _CastBackward(Node):
    def backward_t(self, g):
        return (_cast(g, self.src),)


_CastBackward.__name__ = "ToCopyBackward0"


def _promote(a: Tensor, b: Tensor, op: str):
    same_device(op, a, b)
    rt = result_type(a, b)
    return _cast(a, rt), _cast(b, rt)


def _float_dt():
    return to_np(get_default_dtype())


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


# --------------------------------------------------------------------------- nodes (hot)
class AddBackward0(Node):
    __slots__ = ("ash", "bsh", "alpha")

    def backward(self, g):
        ga = g if g.shape == self.ash else sum_to(g, self.ash)
        gb = g if self.alpha == 1 else g * self.alpha
        if gb.shape != self.bsh:
            gb = sum_to(gb, self.bsh)
        return ga, gb


class SubBackward0(Node):
    __slots__ = ("ash", "bsh", "alpha")

    def backward(self, g):
        ga = g if g.shape == self.ash else sum_to(g, self.ash)
        gb = -g if self.alpha == 1 else g * (-self.alpha)
        if gb.shape != self.bsh:
            gb = sum_to(gb, self.bsh)
        return ga, gb


class AddBackward1(Node):
    """add/sub with a scalar: the gradient passes through (times ``sign``)."""

    __slots__ = ("sign",)

    def backward(self, g):
        return (g if self.sign == 1 else -g,)


class _SubScalarBackward(AddBackward1):
    __slots__ = ()


class _RsubScalarBackward(AddBackward1):
    __slots__ = ()


# PyTorch's names for the scalar forms (they wrap the scalar in a tensor)
AddBackward1.__name__ = "AddBackward0"
_SubScalarBackward.__name__ = "SubBackward0"
_RsubScalarBackward.__name__ = "RsubBackward1"


def _unpack(t, v, node, graph):
    if t._version[0] != v:
        raise version_error(t, v, node)
    return t if graph else t._data


class MulBackward0(Node):
    __slots__ = ("a", "b", "va", "vb", "a_sh", "b_sh")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        a, b = self.a, self.b
        ga = gb = None
        if b is not None:
            ga = g * _unpack(b, self.vb, self, graph)
            if ga.shape != self.a_sh:
                ga = sum_to(ga, self.a_sh)
        if a is not None:
            gb = g * _unpack(a, self.va, self, graph)
            if gb.shape != self.b_sh:
                gb = sum_to(gb, self.b_sh)
        return ga, gb


class MulBackward1(Node):
    """mul by a scalar."""

    __slots__ = ("s",)

    def backward(self, g):
        return (g * self.s,)


class _DivScalarBackward(MulBackward1):
    """div by a scalar (``s`` is its reciprocal)."""

    __slots__ = ()


MulBackward1.__name__ = "MulBackward0"
_DivScalarBackward.__name__ = "DivBackward0"


class DivBackward0(Node):
    __slots__ = ("a", "b", "va", "vb", "a_sh", "b_sh")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        bv = _unpack(self.b, self.vb, self, graph)
        ga = gb = None
        if self.next[0] is not None:
            ga = g / bv
            if ga.shape != self.a_sh:
                ga = sum_to(ga, self.a_sh)
        if self.next[1] is not None:
            av = _unpack(self.a, self.va, self, graph)
            gb = -g * av / (bv * bv)
            if gb.shape != self.b_sh:
                gb = sum_to(gb, self.b_sh)
        return ga, gb


class RDivBackward(Node):
    """scalar / tensor."""

    __slots__ = ("b", "vb", "s")
    _saved = ("b",)

    def backward(self, g):
        graph = g.__class__ is Tensor
        bv = _unpack(self.b, self.vb, self, graph)
        return (-g * self.s / (bv * bv),)


_float_kinds = frozenset("fcV")  # "V": bfloat16 (ml_dtypes)
_PAR_MIN = _par.MIN_SIZE


def _finish_binary(r, a, b, node_cls, shapes: bool, alpha=1):
    """Wraps ``r`` and records the node for tensor-tensor add/sub."""
    out = _wrap(r)
    if _state.grad_enabled and (a.requires_grad or b.requires_grad):
        node = _new(node_cls)
        node.next = (edge(a), edge(b))
        node.ash = a._data.shape
        node.bsh = b._data.shape
        node.alpha = alpha
        out.requires_grad = True
        out.grad_fn = node
    return out


def _tensor_pair(a, b, op):
    """Coerces the operands of a binary op to two same-dtype, same-device tensors (or None)."""
    if not isinstance(b, Tensor):
        b = _as_tensor_operand(b, a)
        if b is None:
            return None, None
    if a._data.dtype is not b._data.dtype or a._data.__class__ is not b._data.__class__:
        return _promote(a, b, op)
    return a, b


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, with broadcasting and type promotion."""
    a = input
    if not isinstance(a, Tensor):
        if isinstance(other, Tensor):
            return add(other, a, alpha=alpha, out=out) if alpha == 1 else add(
                _scalar_tensor(a, other), other, alpha=alpha, out=out)
        raise TypeError(f"add(): argument 'input' must be Tensor, not {type(a).__name__}")
    if out is not None:
        return _write_out(out, add(a, other, alpha=alpha))
    if isinstance(other, Tensor):
        ad = a._data
        bd = other._data
        if ad.dtype is not bd.dtype or ad.__class__ is not bd.__class__:
            a, other = _promote(a, other, "add")
            ad, bd = a._data, other._data
        try:
            r = ad + bd if alpha == 1 else ad + bd * alpha
        except ValueError:
            raise _shape_error("add", ad, bd) from None
        return _finish_binary(r, a, other, AddBackward0, True, alpha)
    ad, s = _scalar_operand(a._data, other, "add")
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"add(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return add(a, b, alpha=alpha)
    s = s if alpha == 1 else s * alpha
    r = ad + s if ad.size < _PAR_MIN else _par.binary(np.add, ad, s)
    return _scalar_result(r, a, AddBackward1, 1)


def _scalar_result(r, a: Tensor, node_cls, sign: int) -> Tensor:
    """Wraps the result of ``a`` (+/-) a scalar, recording a pass-through node times ``sign``."""
    out = _wrap(r)
    if a.requires_grad and _state.grad_enabled:
        node = _new(node_cls)
        node.next = (edge(a),)
        node.sign = sign
        out.requires_grad = True
        out.grad_fn = node
    return out


def _scalar_tensor(s, like: Tensor) -> Tensor:
    return _wrap(np.asarray(s, dtype=result_type(like, s).np if not isinstance(s, Tensor) else None))


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other."""
    a = input
    if not isinstance(a, Tensor):
        if isinstance(other, Tensor):
            return _rsub_scalar(other, a) if alpha == 1 else sub(_scalar_tensor(a, other), other, alpha=alpha)
        raise TypeError(f"sub(): argument 'input' must be Tensor, not {type(a).__name__}")
    if out is not None:
        return _write_out(out, sub(a, other, alpha=alpha))
    if isinstance(other, Tensor):
        ad = a._data
        bd = other._data
        if ad.dtype is not bd.dtype or ad.__class__ is not bd.__class__:
            if ad.dtype.kind == "b" or bd.dtype.kind == "b":
                raise _bool_sub_error(False)
            a, other = _promote(a, other, "sub")
            ad, bd = a._data, other._data
        elif ad.dtype.kind == "b":
            raise _bool_sub_error(True)
        try:
            r = ad - bd if alpha == 1 else ad - bd * alpha
        except ValueError:
            raise _shape_error("sub", ad, bd) from None
        return _finish_binary(r, a, other, SubBackward0, True, alpha)
    ad = a._data
    if ad.dtype.kind == "b" or other.__class__ is _pybool or other.__class__ is np.bool_:
        raise _bool_sub_error(False)
    ad, s = _scalar_operand(ad, other, "sub")
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"sub(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return sub(a, b, alpha=alpha)
    s = s if alpha == 1 else s * alpha
    r = ad - s if ad.size < _PAR_MIN else _par.binary(np.subtract, ad, s)
    return _scalar_result(r, a, _SubScalarBackward, 1)


def _bool_sub_error(both: bool) -> RuntimeError:
    if both:
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                            "Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                        "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _rsub_scalar(t: Tensor, s) -> Tensor:
    td = t._data
    if td.dtype.kind == "b" or s.__class__ is _pybool or s.__class__ is np.bool_:
        raise _bool_sub_error(False)
    td, s2 = _scalar_operand(td, s, "rsub")
    if td is None:
        b = _as_tensor_operand(s, t)
        if b is None:
            return NotImplemented
        return sub(b, t)
    return _scalar_result(s2 - td, t, _RsubScalarBackward, -1)


def mul(input, other, *, out=None) -> Tensor:
    """input * other, elementwise with broadcasting."""
    a = input
    if not isinstance(a, Tensor):
        if isinstance(other, Tensor):
            return mul(other, a, out=out)
        raise TypeError(f"mul(): argument 'input' must be Tensor, not {type(a).__name__}")
    if out is not None:
        return _write_out(out, mul(a, other))
    if isinstance(other, Tensor):
        ad = a._data
        bd = other._data
        if ad.dtype is not bd.dtype or ad.__class__ is not bd.__class__:
            a, other = _promote(a, other, "mul")
            ad, bd = a._data, other._data
        try:
            r = ad * bd
        except ValueError:
            raise _shape_error("mul", ad, bd) from None
        res = _wrap(r)
        ra, rb = a.requires_grad, other.requires_grad
        if _state.grad_enabled and (ra or rb):
            node = _new(MulBackward0)
            node.next = (edge(a), edge(other))
            node.a = a if rb else None
            node.b = other if ra else None
            node.va = a._version[0]
            node.vb = other._version[0]
            node.a_sh = ad.shape
            node.b_sh = bd.shape
            res.requires_grad = True
            res.grad_fn = node
        return res
    ad, s = _scalar_operand(a._data, other, "mul")
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"mul(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return mul(a, b)
    res = _wrap(ad * s if ad.size < _PAR_MIN else _par.binary(np.multiply, ad, s))
    if a.requires_grad and _state.grad_enabled:
        node = _new(MulBackward1)
        node.next = (edge(a),)
        node.s = s
        res.requires_grad = True
        res.grad_fn = node
    return res


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """input / other. ``rounding_mode``: None (true division), 'trunc' or 'floor'."""
    a = input
    if out is not None:
        return _write_out(out, div(a, other, rounding_mode=rounding_mode))
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                             f"found '{rounding_mode}'")
        return _rounded_div(a, other, rounding_mode)
    if not isinstance(a, Tensor):
        if isinstance(other, Tensor):
            return _rdiv_scalar(other, a)
        raise TypeError(f"div(): argument 'input' must be Tensor, not {type(a).__name__}")
    if isinstance(other, Tensor):
        ad = a._data
        bd = other._data
        if ad.dtype is not bd.dtype or ad.__class__ is not bd.__class__ or ad.dtype.kind not in _float_kinds:
            a, other = _coerce_pair(a, other, "div", True)
            ad, bd = a._data, other._data
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                r = ad / bd
            except ValueError:
                raise _shape_error("div", ad, bd) from None
        res = _wrap(r)
        if _state.grad_enabled and (a.requires_grad or other.requires_grad):
            node = _new(DivBackward0)
            node.next = (edge(a), edge(other))
            node.a = a
            node.b = other
            node.va = a._version[0]
            node.vb = other._version[0]
            node.a_sh = ad.shape
            node.b_sh = bd.shape
            res.requires_grad = True
            res.grad_fn = node
        return res
    ad = a._data
    if ad.dtype.kind not in _float_kinds:
        ad = ad.astype(_float_dt())
    ad, s = _scalar_operand(ad, other, "div")
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"div(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return div(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ad / s if s != 0 else np.divide(ad, ad.dtype.type(s))  # keeps the sign of -0.0
    res = _wrap(r)
    if a.requires_grad and _state.grad_enabled:
        node = _new(_DivScalarBackward)
        node.next = (edge(a),)
        node.s = 1.0 / s if s != 0 else math.copysign(math.inf, s.real)
        res.requires_grad = True
        res.grad_fn = node
    return res


def _rdiv_scalar(t: Tensor, s) -> Tensor:
    td = t._data
    if td.dtype.kind not in _float_kinds:
        td = td.astype(_float_dt())
    td, s2 = _scalar_operand(td, s, "div")
    if td is None:
        b = _as_tensor_operand(s, t)
        if b is None:
            return NotImplemented
        return div(b, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = _wrap(s2 / td)
    if t.requires_grad and _state.grad_enabled:
        node = _new(RDivBackward)
        node.next = (edge(t),)
        node.b = t
        node.vb = t._version[0]
        node.s = s2
        res.requires_grad = True
        res.grad_fn = node
    return res


def _rounded_div(a, b, mode):
    a, b = _coerce_pair(a, b, "div")
    ad, bd = a._data, b._data
    if ad.dtype.kind == "b":
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    with np.errstate(divide="ignore", invalid="ignore"):
        if ad.dtype.kind in "iub":
            if mode == "floor":
                if ad.size and bd.size and np.any(bd == 0):
                    raise RuntimeError("ZeroDivisionError")
                r = np.floor_divide(ad, bd)
            else:
                if ad.size and bd.size and np.any(bd == 0):
                    raise RuntimeError("ZeroDivisionError")
                q = np.floor_divide(ad, bd)
                q = q + ((q < 0) & (q * bd != ad))
                r = q.astype(ad.dtype)
        else:
            q = ad / bd
            r = np.floor(q) if mode == "floor" else np.trunc(q)
    return record(r, _ZeroGradBackward, (a, b), shapes=(ad.shape, bd.shape))


class _ZeroGradBackward(Node):
    """Piecewise-constant ops (rounding, floor_divide): zero gradient to every input."""

    def backward_t(self, g):
        return tuple(sum_to(g * 0, s) for s in self.shapes)


def _coerce_pair(a, b, op: str, floating: bool = False):
    """Both operands as tensors of the promoted dtype (scalars become 0-d tensors); with
    ``floating``, integer results promote to the default dtype (each operand is cast directly)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    if not isinstance(a, Tensor):
        a = _operand_tensor(a, b, op)
    if not isinstance(b, Tensor):
        b = _operand_tensor(b, a, op)
    if a._data.dtype is not b._data.dtype or a._data.__class__ is not b._data.__class__ or (
            floating and a._data.dtype.kind not in _float_kinds):
        same_device(op, a, b)
        rt = result_type(a, b)
        if floating and rt.category < 2:
            rt = get_default_dtype()
        a, b = _cast(a, rt), _cast(b, rt)
    return a, b


def _operand_tensor(x, like: Tensor, op: str) -> Tensor:
    if isinstance(x, np.ndarray):
        t = _wrap(x)
    elif isinstance(x, (_pyint, _pyfloat, _pybool, complex, np.generic)):
        rt = result_type(like, x)
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


def _write_out(out: Tensor, res: Tensor) -> Tensor:
    """Implements ``out=``: resizes ``out`` if needed and copies the result into it."""
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
    if _state.grad_enabled and (res.requires_grad or out.requires_grad):
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    rd = res._data
    if rd.dtype != out._data.dtype and from_np(rd.dtype).category > from_np(out._data.dtype).category:
        raise RuntimeError(f"result type {scalar_name(from_np(rd.dtype))} can't be cast to the desired "
                           f"output type {scalar_name(from_np(out._data.dtype))}")
    if out._data.shape != rd.shape:
        out._data = rd.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = rd
    out._version[0] += 1
    return out


# --------------------------------------------------------------------------- generic binary ops
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


class _PowBackward(Node):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(where(b == 0, 0.0, g * b * a ** (b - 1)), sa)
        if self.next[1] is not None:
            out = a ** b
            gb = sum_to(where((a == 0) & (b >= 0), 0.0, g * out * log(a)), sb)
        return ga, gb


_PowBackward.__name__ = "PowBackward1"


class _PowScalarBackward(Node):
    def backward_t(self, g, a):
        e = self.e
        if e == 0:
            return (g * 0,)
        return (g * e * a ** (e - 1),)


_PowScalarBackward.__name__ = "PowBackward0"


class _RPowBackward(Node):
    """scalar ** tensor."""

    def backward_t(self, g, b):
        s = self.s
        if s == 0:
            return (where(b >= 0, 0.0, g * (s ** b) * math.log(s) if s > 0 else g * math.nan),)
        return (g * (s ** b) * math.log(s) if s > 0 else g * math.nan,)


_RPowBackward.__name__ = "PowBackward2"
RDivBackward.__name__ = "MulBackward0"  # PyTorch computes s / x as reciprocal(x) * s


def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001
    """input ** exponent (either may be a Python number)."""
    if out is not None:
        return _write_out(out, pow(input, exponent))
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        if isinstance(exponent, np.ndarray):
            return pow(input, _wrap(exponent))
        if not isinstance(exponent, (_pyint, _pyfloat, _pybool, complex, np.generic)):
            raise TypeError(f"pow(): exponent must be a Tensor or a number, got {type(exponent).__name__}")
        k = input._data.dtype.kind
        if k in "iub" and exponent.__class__ is _pyint:
            if exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if k != "b" and exponent > np.iinfo(input._data.dtype).max:
                raise RuntimeError(f"pow(): value {exponent} cannot be converted to type "
                                   f"{input.dtype.name}_t without overflow")
        ad, e = _scalar_operand(input._data, exponent, "pow")
        if ad.dtype.kind == "b" and e.__class__ is _pyint:
            ad = ad.astype(np.int64)
        with np.errstate(all="ignore"):
            if e == 2:
                r = ad * ad
            elif e == 1:
                r = ad.copy()
            elif e == 0.5 and ad.dtype.kind == "f":
                r = np.sqrt(ad)
            else:
                r = ad ** e
        if r.dtype != ad.dtype and (ad.dtype.kind in "iu" and e.__class__ is _pyint or
                                    ad.dtype.kind == "b" and e.__class__ is _pybool):
            r = r.astype(ad.dtype)
        return record(r, _PowScalarBackward, (input,), save=(input,), e=e)
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow(): expected at least one Tensor argument")
        if exponent._data.dtype.kind == "b" and input.__class__ is _pybool:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        bd, s = _scalar_operand(exponent._data, input, "pow")
        with np.errstate(all="ignore"):
            r = _np_pow(np.asarray(s, dtype=bd.dtype), bd) if bd.dtype.kind in "fcViu" else \
                np.power(s, bd)
        return record(r, _RPowBackward, (exponent,), save=(exponent,), s=s)
    a, b = _coerce_pair(input, exponent, "pow")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return _binary_record("pow", a, b, _np_pow, _PowBackward)


def _np_pow(a, b):
    """``np.power``; integer powers with negative exponents give PyTorch's results (1 for a base
    of 1, +-1 for -1, else 0) instead of NumPy's error."""
    if b.dtype.kind in "iu" and a.dtype.kind in "iu":
        neg = b < 0
        if neg.any():
            r = np.power(a, np.where(neg, 0, b))
            alt = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
            return np.where(neg, alt, r).astype(r.dtype, copy=False)
    return np.power(a, b)


def float_power(input, exponent) -> Tensor:
    """pow computed in float64."""
    a = input.to(np.float64) if isinstance(input, Tensor) else _pyfloat(input)
    e = exponent.to(np.float64) if isinstance(exponent, Tensor) else exponent
    if isinstance(a, Tensor) and isinstance(e, (_pyint, _pyfloat)):
        return pow(a, e)
    return pow(a, e)


class _Atan2Backward(Node):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        den = a * a + b * b
        return sum_to(g * b / den, sa), sum_to(-g * a / den, sb)


_Atan2Backward.__name__ = "Atan2Backward0"


def atan2(input, other, *, out=None) -> Tensor:
    """Elementwise arctan(input / other) with the quadrant of (other, input)."""
    if out is not None:
        return _write_out(out, atan2(input, other))
    return _binary_record("atan2", input, other, np.arctan2, _Atan2Backward, float_only=True)


class _RemainderBackward(Node):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        q = floor(a / b) if self.floor else trunc(a / b)
        return sum_to(g, sa), sum_to(-g * q.detach(), sb)

    def name(self) -> str:
        return "RemainderBackward0" if self.floor else "FmodBackward0"


def remainder(input, other, *, out=None) -> Tensor:
    """Python-style modulus: the result has the sign of the divisor."""
    if out is not None:
        return _write_out(out, remainder(input, other))
    return _binary_record("remainder", input, other, _np_remainder, _RemainderBackward, floor=True)


def _np_remainder(a, b):
    if a.dtype.kind == "b":
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    if a.dtype.kind in "iu" and a.size and b.size and np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")
    return np.remainder(a, b)


def _np_fmod(a, b):
    if a.dtype.kind == "b":
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    if a.dtype.kind in "iu" and a.size and b.size and np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")
    return np.fmod(a, b)


def fmod(input, other, *, out=None) -> Tensor:
    """C-style modulus: the result has the sign of the dividend."""
    if out is not None:
        return _write_out(out, fmod(input, other))
    return _binary_record("fmod", input, other, _np_fmod, _RemainderBackward, floor=False)


def floor_divide(input, other, *, out=None) -> Tensor:
    """floor(input / other) (PyTorch >= 1.13 semantics)."""
    if out is not None:
        return _write_out(out, floor_divide(input, other))
    return _rounded_div(input, other, "floor")


class _MinMaxBackward(Node):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        pick_a = (a > b) if self.is_max else (a < b)
        tie = a == b
        half = g * 0.5
        ga = where(pick_a, g, where(tie, half, 0.0))
        gb = where(pick_a, 0.0, where(tie, half, g))
        return sum_to(ga, sa), sum_to(gb, sb)

    def name(self) -> str:
        return "MaximumBackward0" if self.is_max else "MinimumBackward0"


def maximum(input, other, *, out=None) -> Tensor:
    """Elementwise maximum (NaN propagates); ties split the gradient equally."""
    if out is not None:
        return _write_out(out, maximum(input, other))
    return _binary_record("maximum", input, other, np.maximum, _MinMaxBackward, is_max=True)


def minimum(input, other, *, out=None) -> Tensor:
    """Elementwise minimum (NaN propagates); ties split the gradient equally."""
    if out is not None:
        return _write_out(out, minimum(input, other))
    return _binary_record("minimum", input, other, np.minimum, _MinMaxBackward, is_max=False)


def fmax(input, other) -> Tensor:
    """Elementwise maximum ignoring NaN."""
    return _binary_record("fmax", input, other, np.fmax, _MinMaxBackward, is_max=True)


def fmin(input, other) -> Tensor:
    """Elementwise minimum ignoring NaN."""
    return _binary_record("fmin", input, other, np.fmin, _MinMaxBackward, is_max=False)


class _HypotBackward(Node):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        h = hypot(a, b)
        return sum_to(g * a / h, sa), sum_to(g * b / h, sb)


_HypotBackward.__name__ = "HypotBackward0"


def hypot(input, other) -> Tensor:
    """sqrt(input**2 + other**2)."""
    return _binary_record("hypot", input, other, np.hypot, _HypotBackward, float_only=True)


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)), computed stably."""
    a, b = _coerce_pair(input, other, "logaddexp")
    m = maximum(a, b).detach()
    m = where(isinf(m), 0.0, m)
    return m + log(exp(a - m) + exp(b - m))


def xlogy(input, other) -> Tensor:
    """input * log(other), 0 where input == 0."""
    a, b = _coerce_pair(input, other, "xlogy", True)
    return where((a == 0) & ~isnan(b), 0.0, a * log(b))


def copysign(input, other) -> Tensor:
    """|input| with the sign of other."""
    a, b = _coerce_pair(input, other, "copysign", True)
    sgn = _wrap(np.where(np.signbit(b._data), -1.0, 1.0).astype(a._data.dtype))
    return abs(a) * sgn + b * 0


def heaviside(input, values) -> Tensor:
    a, v = _coerce_pair(input, values, "heaviside")
    return _wrap(np.heaviside(a._data, v._data).astype(a._data.dtype))


def lerp(input, end, weight) -> Tensor:
    """input + weight * (end - input)."""
    return input + weight * (end - input)


# --------------------------------------------------------------------------- unary ops
class UnaryBackward(Node):
    """Backward of a unary op: ``self.fn(g, x, y)`` with x the input and y the output, each
    saved only when the formula needs it; arrays or Tensors, so the formula is differentiable."""

    __slots__ = ("fn", "x", "vx", "y", "vy", "yver", "opname")
    _saved = ("x", "y")

    def backward(self, g):
        graph = g.__class__ is Tensor
        x = self.x
        if x is not None:
            if x._version[0] != self.vx:
                raise version_error(x, self.vx, self)
            x = x if graph else x._data
        y = self.y
        if y is not None:
            if y is FREED:
                raise RuntimeError(_FREED_MSG)
            if self.yver[0] != self.vy:
                raise version_error(_wrap(y, version=self.yver), self.vy, self)
            if graph:
                t = _wrap(y, version=self.yver)
                t.requires_grad = True
                t.grad_fn = self
                y = t
        return (self.fn(g, x, y),)

    def name(self) -> str:
        return self.opname


def record_unary(input: Tensor, res: Tensor, grad_fn, save_x: bool, save_y: bool, node_name: str) -> None:
    """Makes ``res`` (the fresh output of a unary op on ``input``) require grad through one
    :class:`UnaryBackward` running ``grad_fn(g, x, y)``; x and y are saved only when asked for."""
    node = _new(UnaryBackward)
    f = input.grad_fn
    node.next = (f if f is not None and input._view is None else edge(input),)
    node.fn = grad_fn
    node.opname = node_name
    if save_x:
        node.x = input
        node.vx = input._version[0]
    else:
        node.x = None
    if save_y:
        node.y = res._data
        node.yver = res._version
        node.vy = 0
    else:
        node.y = None
    res.requires_grad = True
    res.grad_fn = node


def _unary_op(name: str, np_fn, grad_fn, save_x: bool, save_y: bool, float_only=True,
              int_ok=False, bool_ok=False):
    """Builds the functional form of a unary op."""
    node_name = name.capitalize().replace("1p", "1P") + "Backward0"  # Log1PBackward0
    is_ufunc = isinstance(np_fn, np.ufunc)

    def op(input, *, out=None) -> Tensor:
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        if out is not None:
            return _write_out(out, op(input))
        d = input._data
        if float_only and d.dtype.kind not in _float_kinds:
            d = d.astype(_float_dt())
        elif not float_only and d.dtype.kind == "b" and not bool_ok:
            raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
        r = np_fn(d) if d.size < _PAR_MIN or not is_ufunc else _par.unary(np_fn, d)
        res = _wrap(r)
        if input.requires_grad and _state.grad_enabled:
            record_unary(input, res, grad_fn, save_x, save_y, node_name)
        return res

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}."
    return op


def _quiet(f):
    def g(a):
        with np.errstate(all="ignore"):
            return f(a)
    return g


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)
_SQRTPI_2 = math.sqrt(math.pi) / 2.0


def _np_sigmoid(a):
    # exp(-|x|) never overflows; halves of the formula are selected by sign
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a)) if a.dtype.kind == "c" else _stable_sigmoid(a)


def _stable_sigmoid(a):
    e = np.exp(-np.abs(a))
    r = 1.0 / (1.0 + e)
    return np.where(a >= 0, r, e * r).astype(a.dtype, copy=False)


# zero as a scalar of the array's dtype: a Python int costs a promotion lookup that doubles the time
# of a small np.maximum
_TYPED_ZERO = {np.dtype(t): np.dtype(t).type(0) for t in (np.float32, np.float64, np.float16, np.int64,
                                                          np.int32, np.int16, np.int8, np.uint8)}


def _np_relu(a):
    if a.dtype.kind == "b":
        return a.copy()
    return np.maximum(a, zeros_like_layout(a, _TYPED_ZERO.get(a.dtype, 0)))


def _np_rsqrt(a):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1.0 / np.sqrt(a)).astype(a.dtype, copy=False)


def _sp(name):
    from .. import _special
    f = getattr(_special, name)

    def g(a):
        r = f(a)
        return r.astype(a.dtype, copy=False) if r.dtype != a.dtype else r
    return g


def _relu_grad(g, x, y):
    yd = y._data if y.__class__ is Tensor else y
    mask = yd > _TYPED_ZERO.get(yd.dtype, 0)
    return g * (_wrap(mask) if g.__class__ is Tensor else mask)


exp = _unary_op("exp", np.exp, lambda g, x, y: g * y, False, True)
exp2 = _unary_op("exp2", np.exp2, lambda g, x, y: g * y * _LN2, False, True)
expm1 = _unary_op("expm1", np.expm1, lambda g, x, y: g * (y + 1), False, True)
log = _unary_op("log", _quiet(np.log), lambda g, x, y: g / x, True, False)
log2 = _unary_op("log2", _quiet(np.log2), lambda g, x, y: g / (x * _LN2), True, False)
log10 = _unary_op("log10", _quiet(np.log10), lambda g, x, y: g / (x * _LN10), True, False)
log1p = _unary_op("log1p", _quiet(np.log1p), lambda g, x, y: g / (x + 1), True, False)
sqrt = _unary_op("sqrt", _quiet(np.sqrt), lambda g, x, y: g / (2 * y), False, True)
rsqrt = _unary_op("rsqrt", _np_rsqrt, lambda g, x, y: g * (-0.5) * y * y * y, False, True)
reciprocal = _unary_op("reciprocal", _quiet(np.reciprocal), lambda g, x, y: -g * y * y, False, True)
sin = _unary_op("sin", np.sin, lambda g, x, y: g * p_cos(x), True, False)
cos = _unary_op("cos", np.cos, lambda g, x, y: -g * p_sin(x), True, False)
tan = _unary_op("tan", np.tan, lambda g, x, y: g * (1 + y * y), False, True)
asin = _unary_op("asin", _quiet(np.arcsin), lambda g, x, y: g / p_sqrt(1 - x * x), True, False)
acos = _unary_op("acos", _quiet(np.arccos), lambda g, x, y: -g / p_sqrt(1 - x * x), True, False)
atan = _unary_op("atan", np.arctan, lambda g, x, y: g / (1 + x * x), True, False)
sinh = _unary_op("sinh", np.sinh, lambda g, x, y: g * _p_cosh(x), True, False)
cosh = _unary_op("cosh", np.cosh, lambda g, x, y: g * _p_sinh(x), True, False)
def _tanh_grad(g, x, y):
    if g.__class__ is Tensor:
        return g * (1 - y * y)
    t = y * y  # reuse one temporary on the raw path
    np.subtract(1, t, out=t)
    np.multiply(g, t, out=t)
    return t


def _sigmoid_grad(g, x, y):
    if g.__class__ is Tensor:
        return g * y * (1 - y)
    t = 1 - y
    np.multiply(t, y, out=t)
    np.multiply(g, t, out=t)
    return t


tanh = _unary_op("tanh", np.tanh, _tanh_grad, False, True)
asinh = _unary_op("asinh", np.arcsinh, lambda g, x, y: g / p_sqrt(x * x + 1), True, False)
acosh = _unary_op("acosh", _quiet(np.arccosh), lambda g, x, y: g / p_sqrt(x * x - 1), True, False)
atanh = _unary_op("atanh", _quiet(np.arctanh), lambda g, x, y: g / (1 - x * x), True, False)
sigmoid = _unary_op("sigmoid", _np_sigmoid, _sigmoid_grad, False, True)
relu = _unary_op("relu", _np_relu, _relu_grad, False, True, float_only=False, int_ok=True)
erf = _unary_op("erf", _sp("erf"), lambda g, x, y: g * _2_SQRTPI * p_exp(-x * x), True, False)
erfc = _unary_op("erfc", _sp("erfc"), lambda g, x, y: g * (-_2_SQRTPI) * p_exp(-x * x), True, False)
erfinv = _unary_op("erfinv", _sp("erfinv"), lambda g, x, y: g * _SQRTPI_2 * p_exp(y * y), False, True)
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def _p_cosh(x):
    return x.cosh() if x.__class__ is Tensor else np.cosh(x)


def _p_sinh(x):
    return x.sinh() if x.__class__ is Tensor else np.sinh(x)


def _zero_grad(g, x, y):
    return g * 0


def _int_identity(f):
    def g(a):
        return a.copy() if a.dtype.kind in "iub" else f(a)
    return g


floor = _unary_op("floor", _int_identity(np.floor), _zero_grad, False, False, float_only=False, int_ok=True)
ceil = _unary_op("ceil", _int_identity(np.ceil), _zero_grad, False, False, float_only=False, int_ok=True)
trunc = _unary_op("trunc", _int_identity(np.trunc), _zero_grad, False, False, float_only=False, int_ok=True)
fix = trunc
def _np_sign(a):
    if a.dtype.kind == "b":
        return a.copy()
    r = np.sign(a)
    if a.dtype.kind in "fV":
        nan = np.isnan(r)
        if nan.any():  # PyTorch: sign(nan) is 0
            r = np.where(nan, 0, r).astype(a.dtype, copy=False)
    return r


sign = _unary_op("sign", _np_sign, _zero_grad, False, False, float_only=False, int_ok=True, bool_ok=True)
sgn = sign
_round0 = _unary_op("round", _int_identity(np.round), _zero_grad, False, False, float_only=False,
                    int_ok=True)
frac = _unary_op("frac", lambda a: a - np.trunc(a), lambda g, x, y: g, False, False)


def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Rounds half to even, as PyTorch does; ``decimals`` rounds to that many decimal places."""
    if decimals == 0:
        return _round0(input)
    return record(np.round(input._data, decimals), _ZeroGradBackward, (input,),
                  shapes=(input._data.shape,))


class _NegBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (-g,)


_NegBackward.__name__ = "NegBackward0"


def neg(input, *, out=None) -> Tensor:
    """-input."""
    if out is not None:
        return _write_out(out, neg(input))
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    res = _wrap(-d)
    if input.requires_grad and _state.grad_enabled:
        node = _new(_NegBackward)
        node.next = (edge(input),)
        res.requires_grad = True
        res.grad_fn = node
    return res


negative = neg


def positive(input) -> Tensor:
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def abs(input, *, out=None) -> Tensor:  # noqa: A001
    """|input|; the gradient at 0 is 0."""
    if out is not None:
        return _write_out(out, abs(input))
    d = input._data
    if d.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return record(np.abs(d), _AbsBackward, (input,), save=(input,))


class _AbsBackward(Node):
    def backward_t(self, g, x):
        return (g * sign(x),)


_AbsBackward.__name__ = "AbsBackward0"


absolute = abs


def square(input) -> Tensor:
    """input * input."""
    if input._data.dtype.kind == "b":
        input = _cast(input, from_np(np.dtype(np.int64)))
    return pow(input, 2)


def sinc(input) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0."""
    x = input if input._data.dtype.kind in _float_kinds else _cast(input, get_default_dtype())
    px = x * math.pi
    safe = where(x == 0, 1.0, px)
    return where(x == 0, 1.0, sin(safe) / safe)


def deg2rad(input) -> Tensor:
    return input * (math.pi / 180.0)


def rad2deg(input) -> Tensor:
    return input * (180.0 / math.pi)


def logit(input, eps=None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    if input._data.dtype.kind not in _float_kinds:
        input = _cast(input, get_default_dtype())
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(x / (1 - x))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """Replaces NaN, +inf and -inf with finite numbers (the dtype's extremes by default)."""
    d = input._data
    if d.dtype.kind not in _float_kinds:
        return clone(input)
    fi = np_finfo(d.dtype)
    pi = fi.max if posinf is None else posinf
    ni = fi.min if neginf is None else neginf
    keep = np.isfinite(d)
    if d.dtype.kind == "V":  # bfloat16
        r = np.nan_to_num(d.astype(np.float32), nan=nan, posinf=pi, neginf=ni).astype(d.dtype)
    else:
        r = np.nan_to_num(d, nan=nan, posinf=pi, neginf=ni)
    return record(r, _MaskBackward, (input,), mask=keep)


class _MaskBackward(Node):
    def backward_t(self, g):
        return (g * _wrap(self.mask),)


_MaskBackward.__name__ = "NanToNumBackward0"


# --------------------------------------------------------------------------- clamp / where
class _ClampBackward(Node):
    def backward_t(self, g, x):
        d = x._data
        m = np.ones(d.shape, dtype=bool)
        if self.lo is not None:
            m &= d >= self.lo
        if self.hi is not None:
            m &= d <= self.hi
        return (g * _wrap(m),)


_ClampBackward.__name__ = "ClampBackward1"


def clamp(input, min=None, max=None, *, out=None) -> Tensor:  # noqa: A002
    """Clamps every element into [min, max] (either bound may be a tensor or omitted)."""
    if out is not None:
        return _write_out(out, clamp(input, min, max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = input
        if min is not None:
            r = maximum(r, min)
        if max is not None:
            r = minimum(r, max)
        return r
    d = input._data
    if d.dtype.kind in "iub" and (isinstance(min, _pyfloat) or isinstance(max, _pyfloat)):
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


def clamp_min(input, min) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


class _WhereBackward(Node):
    def backward_t(self, g, cond):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(where(cond, g, 0.0), sa)
        if self.next[1] is not None:
            gb = sum_to(where(cond, 0.0, g), sb)
        return ga, gb


_WhereBackward.__name__ = "WhereBackward0"


def where(condition, input=None, other=None, *, out=None):
    """Elementwise ``input if condition else other``; ``where(condition)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if out is not None:
        return _write_out(out, where(condition, input, other))
    if not isinstance(condition, Tensor):
        condition = _wrap(np.asarray(condition))
    if condition._data.dtype.kind != "b":
        if condition._data.dtype.kind in "iu":
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


# --------------------------------------------------------------------------- comparisons etc.
def _compare(name, np_fn):
    def op(input, other, *, out=None) -> Tensor:
        if out is not None:
            return _write_out(out, op(input, other))
        if isinstance(input, Tensor) and not isinstance(other, (Tensor, np.ndarray)):
            if not isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic)):
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
    op.__name__ = name
    op.__doc__ = f"Elementwise comparison ({name}); returns a bool tensor."
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(name, np_fn):
    def op(input, other, *, out=None) -> Tensor:
        if out is not None:
            return _write_out(out, op(input, other))
        a, b = _coerce_pair(input, other, name)
        try:
            return _wrap(np_fn(a._data, b._data))
        except ValueError:
            raise _shape_error(name, a._data, b._data) from None
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; returns a bool tensor."
    return op


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input, *, out=None) -> Tensor:
    if out is not None:
        return _write_out(out, logical_not(input))
    return _wrap(np.logical_not(input._data))


def _bitwise(name, np_fn, kinds="iub"):
    def op(input, other, *, out=None) -> Tensor:
        if out is not None:
            return _write_out(out, op(input, other))
        a, b = _coerce_pair(input, other, name)
        if a._data.dtype.kind not in kinds:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{scalar_name(a.dtype)}'")
        try:
            return _wrap(np_fn(a._data, b._data))
        except ValueError:
            raise _shape_error(name, a._data, b._data) from None
    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of integer or bool tensors."
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, "iu")
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, "iu")


def bitwise_not(input, *, out=None) -> Tensor:
    if input._data.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{scalar_name(input.dtype)}'")
    return _wrap(np.invert(input._data))


def isnan(input) -> Tensor:
    return _wrap(np.isnan(input._data) if input._data.dtype.kind in _float_kinds
                 else np.zeros(input._data.shape, bool))


def isinf(input) -> Tensor:
    return _wrap(np.isinf(input._data) if input._data.dtype.kind in _float_kinds
                 else np.zeros(input._data.shape, bool))


def isposinf(input) -> Tensor:
    d = input._data
    return _wrap(d == np.inf if d.dtype.kind in "fV" else np.zeros(d.shape, bool))


def isneginf(input) -> Tensor:
    d = input._data
    return _wrap(d == -np.inf if d.dtype.kind in "fV" else np.zeros(d.shape, bool))


def isfinite(input) -> Tensor:
    return _wrap(np.isfinite(input._data) if input._data.dtype.kind in _float_kinds
                 else np.ones(input._data.shape, bool))


def isreal(input) -> Tensor:
    d = input._data
    return _wrap(np.imag(d) == 0 if d.dtype.kind == "c" else np.ones(d.shape, bool))


def signbit(input) -> Tensor:
    return _wrap(np.signbit(input._data))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise."""
    a, b = _coerce_pair(input, other, "isclose")
    return _wrap(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when every element is close (see isclose)."""
    return _pybool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    a, b = input._data, other._data
    same_device("equal", input, other)
    return a.shape == b.shape and _pybool((a == b).all())


# --------------------------------------------------------------------------- clone
class _CloneBackward(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


_CloneBackward.__name__ = "CloneBackward0"


def clone(input, *, memory_format=None) -> Tensor:
    """A copy of ``input`` that stays in the graph."""
    d = input._data
    res = _wrap(d.copy())
    if input.requires_grad and _state.grad_enabled:
        node = _new(_CloneBackward)
        node.next = (edge(input),)
        res.requires_grad = True
        res.grad_fn = node
    return res


# --------------------------------------------------------------------------- operators
def _radd(self, other):
    if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return add(self, other)
    return NotImplemented


def _rmul(self, other):
    if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return mul(self, other)
    return NotImplemented


def _rsub(self, other):
    if isinstance(other, np.ndarray):
        return sub(_wrap(other), self)
    if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic)):
        return _rsub_scalar(self, other)
    return NotImplemented


def _rtruediv(self, other):
    if isinstance(other, np.ndarray):
        return div(_wrap(other), self)
    if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic)):
        return _rdiv_scalar(self, other)
    return NotImplemented


def _binop_or_notimpl(fn):
    def op(self, other):
        if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
            return fn(self, other)
        return NotImplemented
    return op


def _rbinop(fn):
    def op(self, other):
        if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
            return fn(_operand_tensor(other, self, fn.__name__), self)
        return NotImplemented
    return op


_operand_types = (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)


def _fast_binary(npop, node_cls, general):
    """An operator: a fast path for two tensors of one dtype on the CPU; anything else goes to
    ``general`` (promotion, scalars, devices, errors), or NotImplemented for foreign types."""
    is_mul = node_cls is MulBackward0

    def op(self, other):
        if other.__class__ is Tensor:
            ad = self._data
            bd = other._data
            if ad.dtype is bd.dtype and ad.__class__ is _ndarray and bd.__class__ is _ndarray:
                try:
                    r = npop(ad, bd) if ad.size < _PAR_MIN else _par.binary(npop, ad, bd)
                except (ValueError, TypeError):
                    return general(self, other)
                if r.__class__ is not _ndarray:
                    r = np.asarray(r)
                out = _new(Tensor)
                out._data = r
                out._grad = None
                out._version = [0]
                out._view = None
                out._hooks = None
                if _state.grad_enabled and (self.requires_grad or other.requires_grad):
                    node = _new(node_cls)
                    # edge() inlined for the common cases: a non-view result of an op, or a
                    # constant that needs no gradient
                    f = self.grad_fn
                    ea = f if f is not None and self._view is None else edge(self)
                    if other.requires_grad:
                        f = other.grad_fn
                        eb = f if f is not None and other._view is None else edge(other)
                    else:
                        eb = None
                    node.next = (ea, eb)
                    if is_mul:
                        node.a = self if other.requires_grad else None
                        node.b = other if self.requires_grad else None
                        node.va = self._version[0]
                        node.vb = other._version[0]
                        node.a_sh = ad.shape
                        node.b_sh = bd.shape
                    else:
                        node.ash = ad.shape
                        node.bsh = bd.shape
                        node.alpha = 1
                    out.requires_grad = True
                    out.grad_fn = node
                else:
                    out.requires_grad = False
                    out.grad_fn = None
                return out
        if isinstance(other, _operand_types):
            return general(self, other)
        return NotImplemented
    return op


_add_op = _fast_binary(np.add, AddBackward0, lambda a, b: add(a, b))
_sub_op = _fast_binary(np.subtract, SubBackward0, lambda a, b: sub(a, b))
_mul_op = _fast_binary(np.multiply, MulBackward0, lambda a, b: mul(a, b))


def _div_op(self, other):
    if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return div(self, other)
    return NotImplemented


def _pow_op(self, other):
    if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return pow(self, other)
    return NotImplemented


def _rpow_op(self, other):
    if isinstance(other, (_pyint, _pyfloat, _pybool, complex, np.generic)):
        return pow(other, self)
    if isinstance(other, np.ndarray):
        return pow(_wrap(other), self)
    return NotImplemented


def _invert(self):
    d = self._data
    if d.dtype.kind == "b":
        return _wrap(~d)
    return bitwise_not(self)


def _eq_op(self, other):
    if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return eq(self, other)
    return False


def _ne_op(self, other):
    if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
        return ne(self, other)
    return True


def _attach():
    T = Tensor
    T.__add__ = _add_op
    T.__radd__ = _radd
    T.__sub__ = _sub_op
    T.__rsub__ = _rsub
    T.__mul__ = _mul_op
    T.__rmul__ = _rmul
    T.__truediv__ = _div_op
    T.__rtruediv__ = _rtruediv
    T.__floordiv__ = _binop_or_notimpl(floor_divide)
    T.__rfloordiv__ = _rbinop(floor_divide)
    T.__mod__ = _binop_or_notimpl(remainder)
    T.__rmod__ = _rbinop(remainder)
    T.__pow__ = _pow_op
    T.__rpow__ = _rpow_op
    T.__neg__ = neg
    T.__pos__ = positive
    T.__abs__ = abs
    T.__invert__ = _invert
    T.__eq__ = _eq_op
    T.__ne__ = _ne_op
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
    T.__hash__ = lambda self: id(self)
    for name in ["add", "sub", "mul", "div", "pow", "neg", "abs", "sign", "sgn", "exp", "exp2", "expm1",
                 "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square", "sin", "cos",
                 "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan", "arctan2", "sinh",
                 "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "relu", "erf", "erfc", "erfinv",
                 "floor", "ceil", "round", "trunc", "fix", "frac", "clamp", "clip", "clamp_min",
                 "clamp_max", "minimum", "maximum", "fmin", "fmax", "lerp", "eq", "ne", "lt", "le",
                 "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "isclose",
                 "allclose", "equal", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal",
                 "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                 "bitwise_right_shift", "clone", "remainder", "fmod", "floor_divide", "hypot",
                 "logaddexp", "nan_to_num", "xlogy", "sinc", "deg2rad", "rad2deg", "logit", "signbit",
                 "copysign", "heaviside", "float_power", "negative", "positive", "absolute",
                 "subtract", "multiply", "divide", "true_divide"]:
        setattr(T, name, globals()[name])
    T.where = lambda self, condition, other: where(condition, self, other)


subtract, multiply, divide, true_divide = sub, mul, div, div
_attach()
