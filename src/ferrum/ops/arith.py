"""Arithmetic: add, sub, mul, div (with their hand-written hot nodes), pow, remainder, fmod,
floor_divide, and the arithmetic operators (``+ - * / // % **``).

These are the hottest code in ferrum: each keeps to one NumPy call, one ``_wrap`` and, when
recording, one node with ``__slots__`` whose ``backward(g)`` runs on raw arrays (or on Tensors
under ``create_graph``). Mixed dtypes and devices leave the fast path for ``_promote``, which
casts differentiably by PyTorch's promotion rules. The functional forms record through
``attach()``; the operators' fast path (``_fast_binary``, what micro_chain measures) inlines the
Tensor construction and the recording, marked ``# HOT: inlined _wrap() and attach()``: one of the
three marked sites of the package (with ``unary.record_unary`` and ``linear``).
"""

from __future__ import annotations

import builtins
import cmath
import math

import numpy as np

from .. import _state
from .._dtype import from_np, result_type, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, edge, record, sum_to, version_error
from . import _parallel as _par
from ._common import _write_out, p_where, xp_of
from ._promote import (
    _as_tensor_operand, _binary_record, _cast, _binop_or_notimpl, _coerce_pair, _float_dt, _float_kinds,
    _not_implemented, _number_types, _operand_types, _promote, _rbinop, _scalar_operand, _scalar_types,
    _shape_error, _ZeroGradBackward,
)
from ._autocast import autocast_op

_new = object.__new__
_ndarray = np.ndarray
_float_scalars = (builtins.float, np.floating)
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
           "remainder", "fmod", "pow"]


# --------------------------------------------------------------------------- nodes (hot)
class AddBackward0(Node):
    __slots__ = ("ash", "bsh", "alpha")

    def backward(self, g):
        ga = g if g.shape == self.ash else sum_to(g, self.ash)
        gb = g if self.alpha == 1 else g * _conj_scalar(self.alpha)
        if gb.shape != self.bsh:
            gb = sum_to(gb, self.bsh)
        return ga, gb


class SubBackward0(Node):
    __slots__ = ("ash", "bsh", "alpha")

    def backward(self, g):
        ga = g if g.shape == self.ash else sum_to(g, self.ash)
        gb = -g if self.alpha == 1 else g * (-_conj_scalar(self.alpha))
        if gb.shape != self.bsh:
            gb = sum_to(gb, self.bsh)
        return ga, gb


class AddBackward1(Node, name="AddBackward0"):
    """add/sub with a scalar: the gradient passes through (times ``sign``)."""

    __slots__ = ("sign",)

    def backward(self, g):
        return (g if self.sign == 1 else -g,)


class _SubScalarBackward(AddBackward1, name="SubBackward0"):
    __slots__ = ()


class _RsubScalarBackward(AddBackward1, name="RsubBackward1"):
    __slots__ = ()


def _unpack(t, v, node, graph):
    if t._version[0] != v:
        raise version_error(t, v, node)
    return t if graph else t._data


def _lifted(t: Tensor, d) -> Tensor:
    """``t``, or its differentiable cast when a complex scalar operand lifted its real array ``d``
    to complex: the cast's backward keeps the real part of the gradient (PyTorch's convention),
    so no complex gradient reaches the real nodes behind ``t``. The common case is one identity
    check."""
    if d is not t._data and d is not None and d.dtype.kind == "c" and t._data.dtype.kind != "c" \
            and t.requires_grad:
        return _cast(t, from_np(d.dtype))
    return t


def _conj_scalar(s):
    """PyTorch's complex convention: the gradient of ``x * s`` is ``g * conj(s)`` (a Python or
    NumPy number; real ones pass through without a call)."""
    return s if s.__class__ is float or s.__class__ is int else s.conjugate()


def _unpack_cj(t, v, node, graph):
    """``_unpack``, conjugated for complex dtypes: the gradients of holomorphic binary ops are
    ``g * conj(df/dz)`` (PyTorch's convention); one dtype-kind check per operand on the real path."""
    if t._version[0] != v:
        raise version_error(t, v, node)
    if t._data.dtype.kind == "c":
        return t.conj() if graph else t._data.conj()
    return t if graph else t._data


class MulBackward0(Node):
    __slots__ = ("a", "b", "va", "vb", "a_sh", "b_sh")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        a, b = self.a, self.b
        ga = gb = None
        if b is not None:
            ga = g * _unpack_cj(b, self.vb, self, graph)
            if ga.shape != self.a_sh:
                ga = sum_to(ga, self.a_sh)
        if a is not None:
            gb = g * _unpack_cj(a, self.va, self, graph)
            if gb.shape != self.b_sh:
                gb = sum_to(gb, self.b_sh)
        return ga, gb


class MulBackward1(Node, name="MulBackward0"):
    """mul by a scalar."""

    __slots__ = ("s",)

    def backward(self, g):
        return (g * _conj_scalar(self.s),)


class _DivScalarBackward(MulBackward1, name="DivBackward0"):
    """div by a scalar (``s`` is its reciprocal)."""

    __slots__ = ()


class DivBackward0(Node):
    __slots__ = ("a", "b", "va", "vb", "a_sh", "b_sh")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        bv = _unpack_cj(self.b, self.vb, self, graph)
        ga = gb = None
        if self.next[0] is not None:
            ga = g / bv
            if ga.shape != self.a_sh:
                ga = sum_to(ga, self.a_sh)
        if self.next[1] is not None:
            av = _unpack_cj(self.a, self.va, self, graph)
            gb = -g * av / (bv * bv)
            if gb.shape != self.b_sh:
                gb = sum_to(gb, self.b_sh)
        return ga, gb


class RDivBackward(Node, name="MulBackward0"):  # PyTorch computes s / x as reciprocal(x) * s
    """scalar / tensor."""

    __slots__ = ("b", "vb", "s")
    _saved = ("b",)

    def backward(self, g):
        graph = g.__class__ is Tensor
        bv = _unpack_cj(self.b, self.vb, self, graph)
        return (-g * _conj_scalar(self.s) / (bv * bv),)


_PAR_MIN = _par.MIN_SIZE


def _hot_node(out: Tensor, node_cls, a: Tensor, b: Tensor | None = None):
    """``attach()`` for one or two operands; the caller fills the returned node's slots."""
    return attach(out, node_cls, (a,) if b is None else (a, b))


def _finish_binary(r, a, b, node_cls, alpha=1):
    """Wraps ``r`` and records the node for tensor-tensor add/sub."""
    out = _wrap(r)
    if _state.grad_enabled and (a.requires_grad or b.requires_grad):
        node = _hot_node(out, node_cls, a, b)
        node.ash = a._data.shape
        node.bsh = b._data.shape
        node.alpha = alpha
    return out


def _check_alpha(alpha, kind: str) -> None:
    """PyTorch's checks of ``alpha`` against the result's dtype kind (only for alpha != 1)."""
    if isinstance(alpha, (_pybool, np.bool_)):
        if kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, (_pyfloat, np.floating)):
        if kind in "iub":
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point "
                               "number.")
    elif isinstance(alpha, (complex, np.complexfloating)) and kind != "c":
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")


def _alpha_op(npop, ad, bd, alpha):
    """``ad (+/-) alpha * bd`` with alpha != 1; on bool results ``alpha * b`` is ``b and alpha``."""
    _check_alpha(alpha, ad.dtype.kind)
    if ad.dtype.kind == "b":
        return np.logical_or(ad, np.logical_and(bd, _pybool(alpha)))
    return npop(ad, bd * alpha)


def add(input: Tensor, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other, elementwise with broadcasting and PyTorch's type promotion (either
    operand may be a Python number). alpha must not be a float for an integer result nor a bool
    for a non-bool one; on bool results alpha * other is ``other and alpha``."""
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
            r = ad + bd if alpha == 1 and alpha.__class__ is _pyint else _alpha_op(np.add, ad, bd, alpha)
        except ValueError:
            raise _shape_error("add", ad, bd) from None
        return _finish_binary(r, a, other, AddBackward0, alpha)
    ad, s = _scalar_operand(a._data, other, "add")
    a = _lifted(a, ad)
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"add(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return add(a, b, alpha=alpha)
    if alpha != 1 or alpha.__class__ is not _pyint:
        r = _alpha_op(np.add, ad, s, alpha)
    else:
        r = ad + s if ad.size < _PAR_MIN else _par.binary(np.add, ad, s)
    return _scalar_result(r, a, AddBackward1, 1)


def _scalar_result(r, a: Tensor, node_cls, sign: int) -> Tensor:
    """Wraps the result of ``a`` (+/-) a scalar, recording a pass-through node times ``sign``."""
    out = _wrap(r)
    if a.requires_grad and _state.grad_enabled:
        _hot_node(out, node_cls, a).sign = sign
    return out


def _scalar_tensor(s, like: Tensor) -> Tensor:
    return _wrap(np.asarray(s, dtype=result_type(like, s).np if not isinstance(s, Tensor) else None))


def sub(input: Tensor, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other, elementwise with broadcasting and type promotion (see add); bool
    operands raise, as in PyTorch."""
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
            r = ad - bd if alpha == 1 and alpha.__class__ is _pyint else _alpha_op(np.subtract, ad, bd, alpha)
        except ValueError:
            raise _shape_error("sub", ad, bd) from None
        return _finish_binary(r, a, other, SubBackward0, alpha)
    ad = a._data
    if ad.dtype.kind == "b" or other.__class__ is _pybool or other.__class__ is np.bool_:
        raise _bool_sub_error(False)
    ad, s = _scalar_operand(ad, other, "sub")
    a = _lifted(a, ad)
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"sub(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return sub(a, b, alpha=alpha)
    if alpha != 1 or alpha.__class__ is not _pyint:
        r = _alpha_op(np.subtract, ad, s, alpha)
    else:
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
    t = _lifted(t, td)
    if td is None:
        b = _as_tensor_operand(s, t)
        if b is None:
            return NotImplemented
        return sub(b, t)
    return _scalar_result(s2 - td, t, _RsubScalarBackward, -1)


def mul(input: Tensor, other, *, out: Tensor | None = None) -> Tensor:
    """input * other, elementwise with broadcasting and type promotion (either operand may be a
    Python number)."""
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
            node = _hot_node(res, MulBackward0, a, other)
            node.a = a if rb else None
            node.b = other if ra else None
            node.va = a._version[0]
            node.vb = other._version[0]
            node.a_sh = ad.shape
            node.b_sh = bd.shape
        return res
    ad, s = _scalar_operand(a._data, other, "mul")
    a = _lifted(a, ad)
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"mul(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return mul(a, b)
    res = _wrap(ad * s if ad.size < _PAR_MIN else _par.binary(np.multiply, ad, s))
    if a.requires_grad and _state.grad_enabled:
        _hot_node(res, MulBackward1, a).s = s
    return res


def div(input: Tensor, other, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """input / other, elementwise with broadcasting. ``rounding_mode``: None (true division;
    integers give the default float dtype), 'trunc' (toward zero) or 'floor' (Python's ``//``;
    these two keep integer dtypes and raise on an integer division by zero)."""
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
            node = _hot_node(res, DivBackward0, a, other)
            node.a = a
            node.b = other
            node.va = a._version[0]
            node.vb = other._version[0]
            node.a_sh = ad.shape
            node.b_sh = bd.shape
        return res
    ad = a._data
    if ad.dtype.kind not in _float_kinds:
        ad = ad.astype(_float_dt())
    ad, s = _scalar_operand(ad, other, "div")
    a = _lifted(a, ad)
    if ad is None:
        b = _as_tensor_operand(other, a)
        if b is None:
            raise TypeError(f"div(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return div(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ad / s if s != 0 else np.divide(ad, ad.dtype.type(s))  # keeps the sign of -0.0
    res = _wrap(r)
    if a.requires_grad and _state.grad_enabled:
        _hot_node(res, _DivScalarBackward, a).s = 1.0 / s if s != 0 else math.copysign(math.inf, s.real)
    return res


def _rdiv_scalar(t: Tensor, s) -> Tensor:
    td = t._data
    if td.dtype.kind not in _float_kinds:
        td = td.astype(_float_dt())
    td, s2 = _scalar_operand(td, s, "div")
    t = _lifted(t, td)
    if td is None:
        b = _as_tensor_operand(s, t)
        if b is None:
            return NotImplemented
        return div(b, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = _wrap(s2 / td)
    if t.requires_grad and _state.grad_enabled:
        node = _hot_node(res, RDivBackward, t)
        node.b = t
        node.vb = t._version[0]
        node.s = s2
    return res


def _rounded_div(a, b, mode):
    sa = a if a.__class__ in (_pyint, _pyfloat) else None  # Python numbers, for the float32 path
    sb = b if b.__class__ in (_pyint, _pyfloat) else None
    a, b = _coerce_pair(a, b, "div")
    ad, bd = a._data, b._data
    if ad.dtype.kind in "bc":
        raise _not_implemented(f"div_{mode}_cpu", a)
    try:
        np.broadcast_shapes(ad.shape, bd.shape)
    except ValueError:
        raise _shape_error("div", ad, bd) from None
    with np.errstate(divide="ignore", invalid="ignore"):
        if ad.dtype.kind in "iub":
            if ad.size and bd.size and np.any(bd == 0):
                raise RuntimeError("ZeroDivisionError")
            q = np.floor_divide(ad, bd)
            if mode == "trunc":
                q = (q + ((q < 0) & (q * bd != ad))).astype(ad.dtype)
            r = q
        else:
            x, y = ad, bd
            if ad.dtype.itemsize < 4:
                # PyTorch computes float16/bfloat16 in float32, a Python number operand in float32 too
                x = ad.astype(np.float32) if sa is None else np.float32(sa)
                y = bd.astype(np.float32) if sb is None else np.float32(sb)
            r = np.floor_divide(x, y) if mode == "floor" else np.trunc(x / y)
            r = r.astype(ad.dtype, copy=False)
    return record(r, _ZeroGradBackward, (a, b), shapes=(ad.shape, bd.shape))




class _PowBackward(Node, name="PowBackward1"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(p_where(b == 0, 0.0, g * (b * a ** (b - 1)).conj()), sa)
        if self.next[1] is not None:
            d = (a ** b * a.log()).conj()
            gb = sum_to(p_where((a == 0) & (b.real >= 0), 0.0, g * d), sb)
        return ga, gb


class _PowScalarBackward(Node, name="PowBackward0"):
    def backward_t(self, g, a):
        e = self.e
        if e == 0:  # zeros, not g * 0 (a nan in g must not leak), as PyTorch
            return (_wrap(xp_of(g._data).zeros(g.shape, g._data.dtype)),)
        return (g * (e * a ** (e - 1)).conj(),)


class _RPowBackward(Node, name="PowBackward2"):
    """scalar ** tensor."""

    def backward_t(self, g, b):
        s = self.s
        if s == 0:
            return (p_where(b.real >= 0, 0.0, g * math.nan),)
        if isinstance(s, (complex, np.complexfloating)) or b._data.dtype.kind == "c":
            # d/db s**b = s**b log(s) (the principal complex log), conjugated
            return (g * ((s ** b) * cmath.log(s)).conj(),)
        return (g * ((s ** b) * math.log(s)).conj() if s > 0 else g * math.nan,)


@autocast_op("pow")
def pow(input, exponent, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """input ** exponent, elementwise with broadcasting and type promotion (either may be a
    Python number); integers to negative integer powers raise, as in PyTorch."""
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
        input = _lifted(input, ad)
        if ad.dtype.kind == "b" and e.__class__ is _pyint:
            ad = ad.astype(np.int64)
        with np.errstate(all="ignore"):
            if e == 2:
                r = ad * ad
            elif e == 1:
                r = ad.copy()
            elif ad.dtype.itemsize < 4 and ad.dtype.kind in "fV" and isinstance(exponent, _float_scalars):
                r = _half_pow(ad, float(exponent))
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
        exponent = _lifted(exponent, bd)
        with np.errstate(all="ignore"):
            r = _np_pow(np.asarray(s, dtype=bd.dtype), bd) if bd.dtype.kind in "fcViu" else \
                np.power(s, bd)
        return record(r, _RPowBackward, (exponent,), save=(exponent,), s=s)
    a, b = _coerce_pair(input, exponent, "pow")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return _binary_record("pow", a, b, _np_pow, _PowBackward)


def _half_pow(ad, e: float):
    """float16/bfloat16 ** a float, as PyTorch computes it on the CPU: in float32, bfloat16 with
    sqrt/rsqrt for +-0.5 (so (-0.0) ** 0.5 is -0.0 in bfloat16 and +0.0 in float16)."""
    f = ad.astype(np.float32)
    if ad.dtype.kind == "V" and e in (0.5, -0.5):
        r = np.sqrt(f) if e == 0.5 else np.float32(1) / np.sqrt(f)
    else:
        # an array exponent: NumPy turns a scalar 0.5 into sqrt, which keeps the sign of -0.0
        r = np.power(f, np.full(f.shape, e, np.float32))
    return r.astype(ad.dtype)


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


class _RemainderBackward(Node, name="RemainderBackward0"):
    mode = "floor"

    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        q = _rounded_div(a.detach(), b.detach(), self.mode)
        return sum_to(g, sa), sum_to(-g * q, sb)


class _FmodBackward(_RemainderBackward, name="FmodBackward0"):
    mode = "trunc"


def remainder(input, other, *, out: Tensor | None = None) -> Tensor:
    """Python-style modulus (``%``): the result has the sign of the divisor; broadcasting."""
    if out is not None:
        return _write_out(out, remainder(input, other))
    return _binary_record("remainder", input, other, _np_remainder, _RemainderBackward)


def _check_modulus(op: str, a, b) -> None:
    if a.dtype.kind in "bc":
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{scalar_name(from_np(a.dtype))}'")
    if a.dtype.kind in "iu" and a.size and b.size and np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")


def _np_remainder(a, b):
    _check_modulus("remainder", a, b)
    return np.remainder(a, b)


def _np_fmod(a, b):
    _check_modulus("fmod", a, b)
    return np.fmod(a, b)


def fmod(input, other, *, out: Tensor | None = None) -> Tensor:
    """C-style modulus: the result has the sign of the dividend; broadcasting. ``other`` may be a
    Python number, ``input`` may not (as in PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if out is not None:
        return _write_out(out, fmod(input, other))
    return _binary_record("fmod", input, other, _np_fmod, _FmodBackward)


def floor_divide(input, other, *, out: Tensor | None = None) -> Tensor:
    """The largest integer <= input / other, as Python's ``//`` (consistent with ``remainder``:
    ``input == other * floor_divide(input, other) + remainder(input, other)``); broadcasting."""
    if out is not None:
        return _write_out(out, floor_divide(input, other))
    return _rounded_div(input, other, "floor")


# --------------------------------------------------------------------------- operators
def _radd(self, other):
    if isinstance(other, _scalar_types):
        return add(self, other)
    return NotImplemented


def _rmul(self, other):
    if isinstance(other, _scalar_types):
        return mul(self, other)
    return NotImplemented


def _rsub(self, other):
    if isinstance(other, np.ndarray):
        return sub(_wrap(other), self)
    if isinstance(other, _number_types):
        return _rsub_scalar(self, other)
    return NotImplemented


def _rtruediv(self, other):
    if isinstance(other, np.ndarray):
        return div(_wrap(other), self)
    if isinstance(other, _number_types):
        return _rdiv_scalar(self, other)
    return NotImplemented


def _fast_binary(npop, node_cls, general):
    """An operator: a fast path for two tensors of one dtype on the CPU; anything else goes to
    ``general`` (promotion, scalars, devices, errors), or NotImplemented for foreign types."""
    is_mul = node_cls is MulBackward0
    # module globals as closure cells: a cell load is cheaper than a global lookup on this path
    T, nd, state, par_min, new = Tensor, _ndarray, _state, _PAR_MIN, _new

    def op(self, other):
        if other.__class__ is T:
            ad = self._data
            bd = other._data
            if ad.dtype is bd.dtype and ad.__class__ is nd and bd.__class__ is nd:
                try:
                    r = npop(ad, bd) if ad.size < par_min else _par.binary(npop, ad, bd)
                except (ValueError, TypeError):
                    return general(self, other)
                # HOT: inlined _wrap() and attach() (and edge()): micro_chain is these three
                # operators; the _wrap() call alone was 4% of micro_chain (3.57 vs 3.44 us/op)
                out = new(T)
                out._data = r if r.__class__ is nd else np.asarray(r)  # 0-d operands give scalars
                out._grad = out.grad_fn = out._view = out._hooks = None
                out._version = [0]
                if state.grad_enabled and (self.requires_grad or other.requires_grad):
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
                return out
        if isinstance(other, _operand_types):
            return general(self, other)
        return NotImplemented
    return op


_add_op = _fast_binary(np.add, AddBackward0, lambda a, b: add(a, b))
_sub_op = _fast_binary(np.subtract, SubBackward0, lambda a, b: sub(a, b))
_mul_op = _fast_binary(np.multiply, MulBackward0, lambda a, b: mul(a, b))


def _div_op(self, other):
    if isinstance(other, _operand_types):
        return div(self, other)
    return NotImplemented


def _pow_op(self, other):
    if isinstance(other, _operand_types):
        return pow(self, other)
    return NotImplemented


def _rpow_op(self, other):
    if isinstance(other, _number_types):
        return pow(other, self)
    if isinstance(other, np.ndarray):
        return pow(_wrap(other), self)
    return NotImplemented


def _attach() -> None:
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
    for name in ("add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "subtract",
                 "multiply", "divide", "true_divide"):
        setattr(T, name, globals()[name])


subtract, multiply, divide, true_divide = sub, mul, div, div
_attach()
