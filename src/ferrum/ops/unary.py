"""Unary elementwise ops: the math table (exp, log, trig, erf, ...), rounding, sign, abs, neg,
logit, nan_to_num and clone.

Most unary ops are one line of the table below: ``_unary_op`` builds the function from a NumPy
forward and a backward formula ``grad(g, x, y)`` that works on raw arrays (the fast path) and on
Tensors (``create_graph``), recorded as one slotted :class:`UnaryBackward` node by
``record_unary``, which ``ops/activation.py`` uses as well. relu is not here: it lives in
``ops/activation.py`` (one relu, one node for ``torch.relu`` and ``F.relu``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._dtype import float32, from_np, get_default_dtype, np_finfo
from .._tensor import Tensor, _wrap
from ..autograd.function import _FREED_MSG, FREED, Node, attach, edge, record, version_error
from . import _parallel as _par
from ._common import _write_out, p_cos, p_cosh, p_exp, p_sin, p_sinh, p_sqrt, xp_of
from ._promote import _cast, _float_dt, _float_kinds, _not_implemented, _ZeroGradBackward
from .arith import pow
from .select import where
from ._autocast import autocast_op

_new = object.__new__
_PAR_MIN = _par.MIN_SIZE

__all__ = [
    "neg", "negative", "positive", "abs", "absolute", "sign", "sgn", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf",
    "erfc", "erfinv", "floor", "ceil", "round", "trunc", "fix", "frac", "clone", "nan_to_num", "sinc",
    "deg2rad", "rad2deg", "logit",
]


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
    # HOT: inlined attach() (and edge()): tanh/exp/sigmoid and every activation record here;
    # attach() costs about 1 us more per call (measured), on ops that take 1 us
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


def _unary_op(name: str, np_fn, grad_fn, *, save_x: bool = False, save_y: bool = False,
              float_only: bool = True, bool_ok: bool = False, doc: str = ""):
    """Builds the functional form of a unary op: ``np_fn`` on the array, ``grad_fn(g, x, y)``
    for the backward (x and y saved only with ``save_x``/``save_y``). ``float_only``: integer
    and bool inputs are first cast to the default float dtype; otherwise they keep their dtype
    and bool raises NotImplementedError unless ``bool_ok``."""
    node_name = name.capitalize().replace("1p", "1P") + "Backward0"  # Log1PBackward0
    is_ufunc = isinstance(np_fn, np.ufunc)

    def conj_grad(g, x, y):
        # PyTorch's convention for a holomorphic f: grad_input = g * conj(f'(z)), which is
        # conj(grad_fn(conj(g))) for every rule of the table (each is g times f'(z))
        return grad_fn(g.conj(), x, y).conj()

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
            record_unary(input, res, grad_fn if r.dtype.kind != "c" else conj_grad, save_x, save_y, node_name)
        return res

    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise {name} of any shape; integer inputs give the default float dtype."
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


def _tanh_grad(g, x, y):
    if g.__class__ is Tensor:
        return g * (1 - y * y)
    t = y * y  # reuse one temporary on the raw path
    if t.__class__ is not np.ndarray:  # 0-d: NumPy gives a scalar, which has no out=
        return np.asarray(g * (1 - t))
    np.subtract(1, t, out=t)
    np.multiply(g, t, out=t)
    return t


def _sigmoid_grad(g, x, y):
    if g.__class__ is Tensor:
        return g * y * (1 - y)
    t = 1 - y
    if t.__class__ is not np.ndarray:  # 0-d: NumPy gives a scalar, which has no out=
        return np.asarray(g * t * y)
    np.multiply(t, y, out=t)
    np.multiply(g, t, out=t)
    return t


def _zero_grad(g, x, y):
    # zeros, not g * 0: a nan or inf in g must not become a nan gradient (PyTorch gives 0)
    if g.__class__ is Tensor:
        return _wrap(xp_of(g._data).zeros_like(g._data))
    return xp_of(g).zeros_like(g)


def _int_identity(f):
    def g(a):
        return a.copy() if a.dtype.kind in "iub" else f(a)
    return g


def _np_sign(a):
    if a.dtype.kind == "b":
        return a.copy()
    r = np.sign(a)
    if a.dtype.kind in "fV":
        nan = np.isnan(r)
        if nan.any():  # PyTorch: sign(nan) is 0
            r = np.where(nan, 0, r).astype(a.dtype, copy=False)
    return r


def _np_frac(a):
    if a.dtype.kind in "iub":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_scalar(a)}'")
    return a - np.trunc(a)


def _scalar(a) -> str:
    from .._dtype import scalar_name
    return scalar_name(from_np(a.dtype))


# the table: name, forward, backward grad(g, x, y), what the backward needs saved
U = _unary_op
exp = U("exp", np.exp, lambda g, x, y: g * y, save_y=True)
exp2 = U("exp2", np.exp2, lambda g, x, y: g * y * _LN2, save_y=True)
expm1 = U("expm1", np.expm1, lambda g, x, y: g * (y + 1), save_y=True)
log = U("log", _quiet(np.log), lambda g, x, y: g / x, save_x=True)
log2 = U("log2", _quiet(np.log2), lambda g, x, y: g / (x * _LN2), save_x=True)
log10 = U("log10", _quiet(np.log10), lambda g, x, y: g / (x * _LN10), save_x=True)
log1p = U("log1p", _quiet(np.log1p), lambda g, x, y: g / (x + 1), save_x=True)
sqrt = U("sqrt", _quiet(np.sqrt), lambda g, x, y: g / (2 * y), save_y=True)
rsqrt = U("rsqrt", _np_rsqrt, lambda g, x, y: g * (-0.5) * y * y * y, save_y=True)
reciprocal = U("reciprocal", _quiet(np.reciprocal), lambda g, x, y: -g * y * y, save_y=True)
sin = U("sin", np.sin, lambda g, x, y: g * p_cos(x), save_x=True)
cos = U("cos", np.cos, lambda g, x, y: -g * p_sin(x), save_x=True)
tan = U("tan", np.tan, lambda g, x, y: g * (1 + y * y), save_y=True)
asin = U("asin", _quiet(np.arcsin), lambda g, x, y: g / p_sqrt(1 - x * x), save_x=True)
acos = U("acos", _quiet(np.arccos), lambda g, x, y: -g / p_sqrt(1 - x * x), save_x=True)
atan = U("atan", np.arctan, lambda g, x, y: g / (1 + x * x), save_x=True)
sinh = U("sinh", np.sinh, lambda g, x, y: g * p_cosh(x), save_x=True)
cosh = U("cosh", np.cosh, lambda g, x, y: g * p_sinh(x), save_x=True)
tanh = U("tanh", np.tanh, _tanh_grad, save_y=True)
asinh = U("asinh", np.arcsinh, lambda g, x, y: g / p_sqrt(x * x + 1), save_x=True)
acosh = U("acosh", _quiet(np.arccosh), lambda g, x, y: g / _acosh_d(x), save_x=True)
atanh = U("atanh", _quiet(np.arctanh), lambda g, x, y: g / (1 - x * x), save_x=True)
sigmoid = U("sigmoid", _np_sigmoid, _sigmoid_grad, save_y=True)
erf = U("erf", _sp("erf"), lambda g, x, y: g * _2_SQRTPI * p_exp(-x * x), save_x=True)
erfc = U("erfc", _sp("erfc"), lambda g, x, y: g * (-_2_SQRTPI) * p_exp(-x * x), save_x=True)
erfinv = U("erfinv", _sp("erfinv"), lambda g, x, y: g * _SQRTPI_2 * p_exp(y * y), save_y=True)
# piecewise constant: zero gradient; integer inputs keep their dtype
floor = U("floor", _int_identity(np.floor), _zero_grad, float_only=False,
          doc="The largest integer <= each element; integer tensors are returned as a copy.")
ceil = U("ceil", _int_identity(np.ceil), _zero_grad, float_only=False,
         doc="The smallest integer >= each element; integer tensors are returned as a copy.")
trunc = U("trunc", _int_identity(np.trunc), _zero_grad, float_only=False,
          doc="Each element rounded toward zero; integer tensors are returned as a copy.")
_sign = U("sign", _np_sign, _zero_grad, float_only=False, bool_ok=True,
          doc="-1, 0 or 1 by the sign of each element (0 for nan); keeps the dtype.")
_round0 = U("round", _int_identity(np.round), _zero_grad, float_only=False)
frac = U("frac", _np_frac, lambda g, x, y: g, float_only=False,
         doc="input - trunc(input), elementwise; floating tensors only (as PyTorch).")
del U
arcsin, arccos, arctan = asin, acos, atan
fix = trunc


def sign(input: Tensor, *, out=None) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for nan); keeps the dtype. Not for complex
    tensors (``sgn`` is), as PyTorch."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. "
                                  "Please use torch.sgn instead.")
    return _sign(input, out=out)


class _SgnBackward(Node, name="SgnBackward0"):
    def backward_t(self, g, z):
        # s = z / |z|: ds/dz = 1 / (2|z|), ds/dconj(z) = -s^2 / (2|z|), so PyTorch's gradient is
        # (g - conj(g) s^2) / (2|z|); 0 at z = 0
        a = abs(z)
        zero = a == 0
        safe = where(zero, 1.0, a)
        s = z / safe
        return (where(zero, 0.0, (g - g.conj() * s * s) / (2 * safe)),)


def sgn(input: Tensor, *, out=None) -> Tensor:
    """``sign`` for real tensors; ``z / |z|`` (0 at 0) for complex ones."""
    if out is not None:
        return _write_out(out, sgn(input))
    d = input._data
    if d.dtype.kind != "c":
        return _sign(input)
    a = np.abs(d)
    with np.errstate(all="ignore"):
        r = np.where(a == 0, 0, d / np.where(a == 0, 1, a)).astype(d.dtype, copy=False)
    return record(r, _SgnBackward, (input,), save=(input,))


def _acosh_d(x):
    # d acosh = 1 / sqrt(x^2 - 1) on the reals; complex: 1 / (sqrt(x - 1) sqrt(x + 1)), the
    # branch of PyTorch (and of arccosh's cut)
    if (x._data if x.__class__ is Tensor else x).dtype.kind == "c":
        return p_sqrt(x - 1) * p_sqrt(x + 1)
    return p_sqrt(x * x - 1)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Rounds half to even, as PyTorch does; ``decimals`` rounds to that many decimal places
    (float16/bfloat16 compute in float32, as PyTorch). Floating tensors only with ``decimals``;
    integer tensors are returned as a copy without."""
    if decimals == 0:
        if input._data.dtype.kind == "b":
            raise _not_implemented("round_vml_cpu", input)
        return _round0(input)
    d = input._data
    if d.dtype.kind not in "fV":
        raise _not_implemented("round_cpu", input)
    if d.dtype.itemsize < 4:
        r = np.round(d.astype(np.float32), decimals).astype(d.dtype)
    else:
        r = np.round(d, decimals)
    return record(r, _ZeroGradBackward, (input,), shapes=(d.shape,))


class _NegBackward(Node, name="NegBackward0"):
    __slots__ = ()

    def backward(self, g):
        return (-g,)


def neg(input: Tensor, *, out=None) -> Tensor:
    """-input, elementwise (not for bool tensors, as PyTorch)."""
    if out is not None:
        return _write_out(out, neg(input))
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    res = _wrap(-d)
    if input.requires_grad and _state.grad_enabled:
        attach(res, _NegBackward, (input,))
    return res


negative = neg


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+input``); not for bool tensors, as PyTorch."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class _AbsBackward(Node, name="AbsBackward0"):
    def backward_t(self, g, x):
        return (g * sgn(x),)


def abs(input: Tensor, *, out=None) -> Tensor:  # noqa: A001
    """|input|; the gradient at 0 is 0."""
    if out is not None:
        return _write_out(out, abs(input))
    d = input._data
    if d.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return record(np.abs(d), _AbsBackward, (input,), save=(input,))


absolute = abs


def square(input: Tensor) -> Tensor:
    """input * input (bool tensors give int64, as PyTorch)."""
    if input._data.dtype.kind == "b":
        input = _cast(input, from_np(np.dtype(np.int64)))
    return pow(input, 2)


def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0; integer inputs give the default float dtype."""
    x = input if input._data.dtype.kind in _float_kinds else _cast(input, get_default_dtype())
    dt = x.dtype
    if x._data.dtype.itemsize < 4:  # float16/bfloat16 in float32, as PyTorch (sin(pi) is not 0 there)
        x = _cast(x, float32)
    px = x * math.pi
    safe = where(x == 0, 1.0, px)
    return _cast(where(x == 0, 1.0, sin(safe) / safe), dt)


def deg2rad(input: Tensor) -> Tensor:
    """input * pi / 180, elementwise (not for complex tensors, as PyTorch)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("deg2rad is not supported for complex tensors.")
    return input * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    """input * 180 / pi, elementwise (not for complex tensors, as PyTorch)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("rad2deg is not supported for complex tensors.")
    return input * (180.0 / math.pi)


class _LogitBackward(Node, name="LogitBackward0"):
    def backward_t(self, g, x):
        # PyTorch: outside the domain the gradient is nan (no eps) or 0 (with eps, where the
        # clamp is flat); at 0 and 1 it is g / 0 = +-inf
        if self.eps is None:
            out, fill = (x < 0) | (x > 1), math.nan
        else:
            out, fill = (x < self.eps) | (x > 1 - self.eps), 0.0
        return (where(out, fill, g / (x * (1 - x))),)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given; integer inputs give
    the default float dtype."""
    if input._data.dtype.kind not in _float_kinds:
        input = _cast(input, get_default_dtype())
    d = input._data
    if eps is not None:
        d = np.clip(d, eps, 1 - eps).astype(d.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(d / (1 - d)).astype(d.dtype, copy=False)
    return record(r, _LogitBackward, (input,), save=(input,), eps=eps)


class _NanToNumBackward(Node, name="NanToNumBackward0"):
    def backward_t(self, g):
        return (where(_wrap(self.mask), g, 0.0),)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
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
    return record(r, _NanToNumBackward, (input,), mask=keep)


class _CloneBackward(Node, name="CloneBackward0"):
    __slots__ = ()

    def backward(self, g):
        return (g,)


def _dense_permuted(d) -> bool:
    """True for an array that is a permutation of a dense layout, not C-contiguous (a transpose,
    a permute): PyTorch's ``preserve_format`` keeps such strides; everything else is copied
    C-contiguous (sliced, expanded and overlapping layouts)."""
    if d.flags.c_contiguous or d.__class__ is not np.ndarray:
        return False
    expected = d.itemsize
    for st, n in sorted((st, n) for st, n in zip(d.strides, d.shape) if n != 1):
        if st != expected:
            return False
        expected *= n
    return True


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``input`` that stays in the graph. With the default (``preserve_format``), a
    transposed or permuted dense input keeps its strides, as in PyTorch; any other
    ``memory_format`` gives a C-contiguous copy."""
    d = input._data
    keep = (memory_format is None or "preserve" in str(memory_format)) and _dense_permuted(d)
    res = _wrap(d.copy(order="K") if keep else d.copy())
    if input.requires_grad and _state.grad_enabled:
        attach(res, _CloneBackward, (input,))
    return res


# PyTorch's CUDA autocast runs these in float32 (ops/_autocast.py); its CPU autocast leaves them alone
for _n in ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
           "rsqrt", "sinh", "tan"):
    globals()[_n] = autocast_op(_n)(globals()[_n])
del _n


def _attach() -> None:
    Tensor.__neg__ = neg
    Tensor.__pos__ = positive
    Tensor.__abs__ = abs
    for name in __all__:
        setattr(Tensor, name, globals()[name])


_attach()
