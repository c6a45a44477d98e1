"""Reductions: sum, mean, prod, nansum/nanmean, var/std, norm, logsumexp, all/any/count_nonzero.

This module is also the face of the whole family: it re-exports the extremes (``minmax.py``:
max, min, amax, amin, aminmax, argmax, argmin), the scans (``scan.py``: cumsum, cumprod, cummax,
cummin, logcumsumexp) and the sorting and selection ops (``sort.py``: sort, topk, kthvalue,
median, mode, quantile, unique, ...), so ``from ferrum.ops.reduce import X``
keeps working for every name that used to live here. Helpers the three share are in
``_reduce_common.py``.

Forward passes work on raw arrays (NumPy or CuPy through ``np.*`` dispatch). Every backward is
written with ferrum Tensor ops (called as Tensor methods: ``reshape``, ``expand``, ``scatter``,
...), so ``create_graph=True`` and gradgradcheck work. ``sum`` and ``mean`` are on the hot path:
their nodes have ``__slots__`` and a raw-array backward (the second op contract, ``attach``).
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _state
from .._dtype import as_dtype, get_default_dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from ._common import canon_dim, xp_of
from ._linalg_common import _svd_arrays
from ._reduce_common import (_axes, _expand0, _check, _dim1, _dtype_arg, _fast_axes, _is_float, _is_low,
                             _keep_shape, _np_axis, _out_shape, _required_dim, _tname, return_types)
from .elementwise import _cast, _write_out, where
from .minmax import *  # noqa: F401,F403  (the face: the extremes were part of this module)
from .minmax import __all__ as _minmax_all
from .scan import *  # noqa: F401,F403  (the face: the scans were part of this module)
from .scan import __all__ as _scan_all
from .sort import *  # noqa: F401,F403  (the face: sorting and selection were part of this module)
from .sort import __all__ as _sort_all
from ._autocast import autocast_op

__all__ = [
    "sum", "mean", "prod", "nansum", "nanmean", "var", "std", "var_mean", "std_mean", "norm",
    "logsumexp", "all", "any", "count_nonzero", "return_types", *_minmax_all, *_scan_all, *_sort_all,
]

_new = object.__new__
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_pymax, _pyany = builtins.max, builtins.any
_INF = _pyfloat("inf")
_NAN = _pyfloat("nan")


# --------------------------------------------------------------------------- sum / mean (hot)
class SumBackward0(Node, name="SumBackward0"):
    """sum over every dimension: the gradient is broadcast back."""

    __slots__ = ("shape",)
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand0(g, self.shape),)
        return (np.broadcast_to(g, self.shape),)


class SumBackward1(Node, name="SumBackward1"):
    """sum over some dimensions."""

    __slots__ = ("shape", "keep")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (g.reshape(self.keep).expand(self.shape),)
        return (np.broadcast_to(g.reshape(self.keep), self.shape),)


class MeanBackward0(Node, name="MeanBackward0"):
    __slots__ = ("shape", "n")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand0(g / self.n, self.shape),)
        return (np.broadcast_to(g / self.n, self.shape),)


class MeanBackward1(Node, name="MeanBackward1"):
    __slots__ = ("shape", "keep", "n")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return ((g.reshape(self.keep) / self.n).expand(self.shape),)
        return (np.broadcast_to(g.reshape(self.keep) / self.n, self.shape),)


def _plain_float(d) -> bool:
    """float32/float64/complex arrays reduce directly with the array's own methods."""
    dt = d.dtype
    return (dt.kind == "f" or dt.kind == "c") and dt.itemsize > 2


def _np_sum(d, axes, keepdim, own_int: bool = False):
    """Sum of array ``d``: integers and bools in int64 (in ``d``'s own dtype, wrapping, when
    ``own_int``: an explicit ``dtype=``), float16/bfloat16 accumulated in float32."""
    k = d.dtype.kind
    if k in "biu":
        r = d.sum(axis=axes, keepdims=keepdim, dtype=np.int64)
        return r.astype(d.dtype) if own_int else r
    if _is_low(d):
        with np.errstate(over="ignore"):  # overflowing to inf, as PyTorch does
            return d.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(d.dtype)
    return d.sum(axis=axes, keepdims=keepdim)


@autocast_op("sum")
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None, axis=None,  # noqa: A001
        keepdims=None) -> Tensor:
    """Sum of ``input`` over ``dim`` (int, tuple of ints or None for all). Integer and bool
    inputs sum to int64; ``dtype`` casts the input first and is the result's dtype."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _check(input, "sum")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "sum")
    if out is not None:
        return _write_out(out, sum(input, dim, keepdim, dtype=dtype))
    if dtype is not None:
        input = _cast(input, as_dtype(dtype))
        if input._data.dtype.kind in "biu":
            d = input._data
            return _wrap(_np_sum(d, _axes(dim, d.ndim, "sum"), keepdim, own_int=True))
    d = input._data
    if dim is None and not keepdim:
        res = _wrap(d.sum() if _plain_float(d) else _np_sum(d, None, False))
        cls, axes = SumBackward0, None
    else:
        axes = _fast_axes(dim, d.ndim, "sum")
        res = _wrap(d.sum(axis=axes, keepdims=keepdim) if _plain_float(d) else _np_sum(d, axes, keepdim))
        cls = SumBackward1
    if input.requires_grad and _state.grad_enabled:
        node = attach(res, cls, (input,))
        node.shape = d.shape
        if axes is not None:
            node.keep = _keep_shape(d.shape, axes)
    return res


def _mean_dtype_error(op: str, d) -> RuntimeError:
    return RuntimeError(f"{op}(): could not infer output dtype. Input dtype must be either a floating "
                        f"point or complex dtype. Got: {_tname(d)}")


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None, axis=None,
         keepdims=None) -> Tensor:
    """Arithmetic mean over ``dim`` (int, tuple or None). Floating/complex inputs only, unless
    ``dtype`` (a floating dtype the input is cast to first) is given."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _check(input, "mean")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "mean")
    if out is not None:
        return _write_out(out, mean(input, dim, keepdim, dtype=dtype))
    if dtype is not None:
        input = _cast(input, as_dtype(dtype))
    d = input._data
    if not _plain_float(d):
        if not _is_float(d):
            raise _mean_dtype_error("mean", d)
        low = True
        src = d.astype(np.float32)
    else:
        low = False
        src = d
    if dim is None and not keepdim:
        n = d.size
        if n == 0:
            r = xp_of(d).full((), _NAN, dtype=src.dtype)
        else:
            r = src.sum() / n
        if low:
            r = xp_of(d).asarray(r).astype(d.dtype)
        res = _wrap(r)
        if input.requires_grad and _state.grad_enabled:
            attach(res, MeanBackward0, (input,), shape=d.shape, n=n)
        return res
    axes = _fast_axes(dim, d.ndim, "mean")
    n = 1
    for a in axes:
        n *= d.shape[a]
    if n == 0:
        r = xp_of(d).full(_out_shape(d.shape, axes, keepdim), _NAN, dtype=src.dtype)
    else:
        r = src.sum(axis=axes, keepdims=keepdim) / n
    if low:
        r = r.astype(d.dtype)
    res = _wrap(r)
    if input.requires_grad and _state.grad_enabled:
        attach(res, MeanBackward1, (input,), shape=d.shape, keep=_keep_shape(d.shape, axes), n=n)
    return res


# --------------------------------------------------------------------------- nansum / nanmean
class _NansumBackward(Node, name="NansumBackward0"):
    """Gradient ``g * w`` with a constant weight array ``w`` of the input's shape."""

    def backward_t(self, g):
        return (g.reshape(self.keep).expand(self.shape) * _wrap(self.w),)


_NanmeanBackward = _NansumBackward.named("NanmeanBackward0")


def _no_complex_nan(d, op: str) -> None:
    if d.dtype.kind == "c":
        raise RuntimeError(f"{op}(): nansum on CPU does not support complex inputs")


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """sum treating NaN as zero."""
    _check(input, "nansum")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "nansum")
    _axes(dim, input._data.ndim, "nansum")  # dim errors come first, as in PyTorch
    _no_complex_nan(input._data, "nansum")
    if dtype is not None and _is_float(input._data) and not as_dtype(dtype).is_floating_point:
        # NaN elements are skipped before the cast to an integer dtype, as in PyTorch
        src = input._data
        return sum(_wrap(np.where(np.isnan(src), 0, src)), dim, keepdim, dtype=dtype)
    input = _dtype_arg(input, dtype)
    d = input._data
    if not _is_float(d):  # nothing to skip: the integer rules of sum, with dtype= kept
        return sum(input, dim, keepdim, dtype=dtype)
    axes = _axes(dim, d.ndim, "nansum")
    nan = np.isnan(d)
    r = _np_sum(np.where(nan, 0, d), axes, keepdim)
    return record(r, _NansumBackward, (input,), keep=_keep_shape(d.shape, axes), shape=d.shape,
                  w=(~nan).astype(d.dtype))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None,
            keepdims=None) -> Tensor:
    """mean over the non-NaN elements (NaN where there are none)."""
    _check(input, "nanmean")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "nanmean")
    input = _dtype_arg(input, dtype)
    d = input._data
    if not _is_float(d):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_tname(d)}")
    axes = _axes(dim, d.ndim, "nanmean")
    _no_complex_nan(d, "nanmean")
    ok = ~np.isnan(d)
    cnt = np.sum(ok, axis=axes, keepdims=True)
    s = _np_sum(np.where(ok, d, 0), axes, True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (s / cnt).astype(d.dtype)
        w = (ok / cnt).astype(d.dtype)
    if not keepdim:
        r = r.reshape(_out_shape(d.shape, axes, False))
    return record(r, _NanmeanBackward, (input,), keep=_keep_shape(d.shape, axes), shape=d.shape, w=w)


# --------------------------------------------------------------------------- prod
class _ProdBackward(Node, name="ProdBackward0"):
    def backward_t(self, g, x):
        shape = x._data.shape
        if self.dim is None:
            po = _prod_others(x.reshape(-1), 0).reshape(shape)
            return (g.reshape((1,) * len(shape)).expand(shape) * po.conj(),)  # conj: complex convention
        if len(shape) == 0:
            return (g,)
        d = self.dim
        return (g.reshape(_keep_shape(shape, (d,))).expand(shape) * _prod_others(x, d).conj(),)


class _ProdBackward1(_ProdBackward, name="ProdBackward1"):
    """prod along one dim."""


def _prod_others(x: Tensor, d: int) -> Tensor:
    """For each element, the product of the other elements of its slice along ``d``, written so
    that it stays differentiable (to every order) when the slice holds zeros."""
    a = x._data
    zero = a == 0
    if not zero.any():
        return prod(x, d, keepdim=True).expand(a.shape) / x
    xp = xp_of(a)
    has = zero.any(axis=d, keepdims=True)
    first = xp.argmax(zero, axis=d, keepdims=True)
    at_z = (xp.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)]) == first) & has
    atz = _wrap(at_z)
    x1 = where(atz, 1.0, x)  # the first zero of each slice replaced by one
    xz = where(atz, x, 0.0).sum(d, keepdim=True).expand(a.shape)  # that zero, differentiably
    return _prod_others(x1, d) * where(_wrap(has & ~at_z), xz, 1.0)


def _np_prod(d, axis, keepdim, own_int: bool = False):
    k = d.dtype.kind
    if k in "biu":
        # int64 products wrapped to the narrower dtype equal products wrapped at every step
        r = np.prod(d, axis=axis, keepdims=keepdim, dtype=np.int64)
        return r.astype(d.dtype) if own_int else r
    if _is_low(d):
        with np.errstate(over="ignore"):
            return np.prod(d, axis=axis, keepdims=keepdim, dtype=np.float32).astype(d.dtype)
    return np.prod(d, axis=axis, keepdims=keepdim)


@autocast_op("prod")
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None, axis=None,
         keepdims=None) -> Tensor:
    """Product of the elements over ``dim`` (a single int, or None for all). Integer and bool
    inputs give int64 (``dtype``'s own type when given). The gradient is exact with zeros."""
    _check(input, "prod")
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "prod")
    if out is not None:
        return _write_out(out, prod(input, dim, keepdim, dtype=dtype))
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple (prod reduces one dimension "
                        "or all of them)")
    input = _dtype_arg(input, dtype)
    d = input._data
    own = dtype is not None
    if dim is None:
        r = _np_prod(d, None, False, own)
        if keepdim:
            r = np.asarray(r).reshape((1,) * d.ndim)
        return record(r, _ProdBackward, (input,), save=(input,), dim=None)
    dd = _dim1(dim, d.ndim, "prod")
    r = _np_prod(d, dd if d.ndim else (), keepdim, own)
    return record(r, _ProdBackward1, (input,), save=(input,), dim=dd)


# --------------------------------------------------------------------------- var / std
def _correction(op: str, unbiased, correction):
    if correction is not None:
        if unbiased is not None:
            raise RuntimeError(f"{op}(): cannot pass both 'unbiased' and 'correction'")
        if isinstance(correction, _pybool) or not isinstance(correction, (_pyint, _pyfloat)):
            raise TypeError(f"{op}(): argument 'correction' must be a number, not "
                            f"{type(correction).__name__}")
        return correction
    if unbiased is None:
        return 1
    if not isinstance(unbiased, (_pybool, np.bool_)):
        raise TypeError(f"{op}(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
    return 1 if unbiased else 0


def _var_args(op, input, dim, unbiased, correction):
    _check(input, op)
    if isinstance(dim, (_pybool, np.bool_)):  # legacy var(input, unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}(): argument 'dim' must be int or tuple of ints, not bool")
        dim, unbiased = None, dim
    corr = _correction(op, unbiased, correction)
    a = input._data
    if not _is_float(a):
        raise RuntimeError(f"{op}(): std and var only support floating point and complex dtypes, "
                           f"got {_tname(a)}")
    axes = _axes(dim, a.ndim, op)
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    dof = _pymax(n - corr, 0)
    if dof <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the reduction factor (input numel divided by output numel).", UserWarning,
                      stacklevel=3)
    return a, axes, corr, dof


def _np_var(a, axes, corr, keepdim, sqrt: bool = False):
    """Two-pass variance over ``axes`` with divisor max(n - corr, 0) (real for complex input);
    its square root with ``sqrt``, taken before a float16/bfloat16 result is cast back (a std of
    7072 has a variance of 5e7, past float16's 65504)."""
    low = _is_low(a)
    src = a.astype(np.float32) if low else a
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    with np.errstate(all="ignore"):
        c = src - src.sum(axis=axes, keepdims=True) / n
        sq = c.real * c.real + c.imag * c.imag if c.dtype.kind == "c" else c * c
        r = sq.sum(axis=axes, keepdims=keepdim) / _pymax(n - corr, 0)
        if sqrt:
            r = np.sqrt(r)
        r = xp_of(a).asarray(r)
        return r.astype(a.dtype) if low else r  # past float16's range: inf, as torch, silently


def _centered(x: Tensor, axes: tuple) -> Tensor:
    return x - mean(x, axes, keepdim=True).expand(x._data.shape)


class _VarBackward(Node, name="VarBackward0"):
    def backward_t(self, g, x):
        shape = x._data.shape
        coef = 2.0 / self.dof if self.dof > 0 else _INF
        return (g.reshape(self.keep).expand(shape) * _centered(x, self.axes) * coef,)


class _StdBackward(Node, name="StdBackward0"):
    def backward_t(self, g, x, res):
        shape = x._data.shape
        s = res.reshape(self.keep)
        zero = _wrap(s._data == 0)
        coef = where(zero, 0.0, g.reshape(self.keep) / where(zero, 1.0, s))
        inv = 1.0 / self.dof if self.dof > 0 else _INF
        return (coef.expand(shape) * _centered(x, self.axes) * inv,)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None,
        axis=None,
        keepdims=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` is 0)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "var")
    a, axes, corr, dof = _var_args("var", input, dim, unbiased, correction)
    if out is not None:
        return _write_out(out, var(input, axes, keepdim=keepdim, correction=corr))
    r = _np_var(a, axes, corr, keepdim)
    return record(r, _VarBackward, (input,), save=(input,), axes=axes, keep=_keep_shape(a.shape, axes),
                  dof=dof)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None,
        axis=None,
        keepdims=None) -> Tensor:
    """Standard deviation over ``dim`` (see :func:`var`); the gradient is 0 where it is 0."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "std")
    a, axes, corr, dof = _var_args("std", input, dim, unbiased, correction)
    if out is not None:
        return _write_out(out, std(input, axes, keepdim=keepdim, correction=corr))
    r = _np_var(a, axes, corr, keepdim, sqrt=True)
    return record(r, _StdBackward, (input,), save=(input,), save_output=True, axes=axes,
                  keep=_keep_shape(a.shape, axes), dof=dof)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """(var, mean) over ``dim``."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "var_mean")
    v = var(input, dim, unbiased, keepdim, correction=correction)
    if isinstance(dim, (_pybool, np.bool_)):
        dim = None
    return v, mean(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """(std, mean) over ``dim``."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "std_mean")
    s = std(input, dim, unbiased, keepdim, correction=correction)
    if isinstance(dim, (_pybool, np.bool_)):
        dim = None
    return s, mean(input, dim, keepdim)


# --------------------------------------------------------------------------- norm
class _NormBackward(Node, name="LinalgVectorNormBackward0"):
    def backward_t(self, g, x, res):
        p = self.p
        xd = x._data
        shape = xd.shape
        if p == 0:
            return (_wrap(xp_of(xd).zeros_like(xd)),)
        gk = g.reshape(self.keep).expand(shape)
        if p == 1:
            return (gk * x.sgn(),)
        o = res.reshape(self.keep).expand(shape)
        od = o._data
        if p == 2:
            oz = _wrap(od == 0)
            return (where(oz, 0.0, gk * x / where(oz, 1.0, o)),)
        if math.isinf(p):
            mask = np.abs(xd) == od
            with np.errstate(invalid="ignore", divide="ignore"):
                w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(xd.dtype)
            return (gk * x.sgn() * _wrap(w),)
        bad = _wrap((xd == 0) | (od == 0))
        ratio = where(bad, 1.0, x.abs()) / where(bad, 1.0, o)
        return (where(bad, 0.0, gk * x.sgn() * ratio ** (p - 1)),)


def _vector_norm_data(d, p: float, axes: tuple, keepdim: bool, who: str):
    """The vector ``p``-norm of the array ``d`` over ``axes``, in the real dtype of ``d`` (float16 and
    bfloat16 accumulated in float32). ``who`` starts the error message. Shared with
    ``ferrum.linalg.vector_norm``. A 0-d ``d`` reduces over nothing, whatever ``axes`` says (PyTorch
    accepts dim 0 / -1 there)."""
    if d.ndim == 0:
        axes = ()
    a = np.abs(d)
    rdt = a.dtype
    if _is_low(a):
        a = a.astype(np.float32)
    size = 1
    for ax in axes:
        size *= d.shape[ax]
    if size == 0 and (p < 0 or math.isinf(p)):  # min, max and negative powers have no identity
        if len(axes) == d.ndim:
            raise RuntimeError(f"{who} cannot compute the {p:g} norm on an empty tensor because the "
                               "operation does not have an identity")
        empty = next(ax for ax in axes if d.shape[ax] == 0)
        raise RuntimeError(f"{who} cannot compute the {p:g} norm on the dimension {empty}because this "
                           "dimension is empty and the operation does not have an identity")  # torch's text
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if math.isinf(p):
            r = (np.amax if p > 0 else np.amin)(a, axis=axes, keepdims=keepdim)
        elif p == 0:
            r = np.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            r = np.sum(a, axis=axes, keepdims=keepdim)
        elif p == 2:
            r = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
        else:
            r = np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    return xp_of(d).asarray(r).astype(rdt, copy=False)


def _vector_norm(input: Tensor, p: float, axes: tuple, keepdim: bool, op: str) -> Tensor:
    d = input._data
    r = _vector_norm_data(d, p, axes, keepdim, f"{op}():")
    return record(r, _NormBackward, (input,), save=(input,), save_output=True, p=p, axes=axes,
                  keep=_keep_shape(d.shape, axes))


class _NucBackward(Node):
    def backward_t(self, g):
        return (g.reshape(self.keep).expand(self.uvh.shape) * _wrap(self.uvh),)


def _nuclear(input: Tensor, dim, keepdim: bool) -> Tensor:
    d = input._data
    if dim is None:
        if d.ndim != 2:
            raise RuntimeError(f"norm(): nuclear norm needs a 2-D input or a 2-tuple dim, got a "
                               f"{d.ndim}-D input")
        dim = (0, 1)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"norm(): nuclear norm needs dim to be a pair of dimensions, got {dim}")
    d0, d1 = (canon_dim(x, d.ndim, "norm") for x in dim)
    if d0 == d1:
        raise RuntimeError("norm(): dims of the nuclear norm must be different")
    xp = xp_of(d)
    m = xp.moveaxis(d, (d0, d1), (-2, -1))
    u, s, vh = _svd_arrays(m, full_matrices=False)  # never hangs on inf/nan (LAPACK's gesdd does)
    r = s.sum(-1)
    uvh = xp.moveaxis(u @ vh, (-2, -1), (d0, d1))
    axes = tuple(sorted((d0, d1)))
    if keepdim:
        r = r.reshape(_keep_shape(d.shape, axes))
    return record(r.astype(d.dtype), _NucBackward, (input,), uvh=xp.ascontiguousarray(uvh),
                  keep=_keep_shape(d.shape, axes))


@autocast_op("norm")
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """Vector norm (``torch.norm``): ``p`` = 'fro' (2-norm), a number, inf, -inf, or 'nuc'
    (matrix nuclear norm over two dims); over ``dim`` (int, tuple or None for all). The gradient
    is 0 at a zero norm."""
    _check(input, "norm")
    if out is not None:
        return _write_out(out, norm(input, p, dim, keepdim, dtype=dtype))
    input = _dtype_arg(input, dtype)
    d = input._data
    if not _is_float(d):
        raise RuntimeError(f"norm(): Expected a floating point or complex tensor as input. Got {_tname(d)}")
    if isinstance(p, str):
        if p == "fro":
            if isinstance(dim, (tuple, list)) and len(dim) > 2:  # torch hands these to matrix_norm
                raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                                   + " ".join(str(int(k)) for k in dim))
            pv = 2.0
        elif p == "nuc":
            return _nuclear(input, dim, keepdim)
        else:
            raise RuntimeError(f"norm(): unsupported norm type {p!r} (expected 'fro', 'nuc' or a number)")
    elif p is None:
        pv = 2.0
    elif isinstance(p, (_pyint, _pyfloat, np.number)) and not isinstance(p, _pybool):
        pv = _pyfloat(p)
    else:
        raise TypeError(f"norm(): argument 'p' must be a number or 'fro'/'nuc', not {type(p).__name__}")
    return _vector_norm(input, pv, _axes(dim, d.ndim, "norm"), keepdim, "norm")


# --------------------------------------------------------------------------- logsumexp
class _LogsumexpBackward(Node, name="LogsumexpBackward0"):
    def backward_t(self, g, x, res):
        shape = x._data.shape
        o = res.reshape(self.keep).expand(shape)
        return (g.reshape(self.keep).expand(shape) * (x - o).exp().conj(),)


@autocast_op("logsumexp")
def logsumexp(input: Tensor, dim=None, keepdim: bool = False, *, out=None, axis=None,
              keepdims=None) -> Tensor:
    """log(sum(exp(input))) over ``dim`` (int or tuple), computed stably; its gradient is softmax."""
    _check(input, "logsumexp")
    dim = _required_dim(dim, axis, "logsumexp")
    keepdim = keepdim if keepdims is None else keepdims
    if out is not None:
        return _write_out(out, logsumexp(input, dim, keepdim))
    if not _is_float(input._data):
        input = _cast(input, get_default_dtype())
    d = input._data
    axes = _axes(dim, d.ndim, "logsumexp")
    keep = _keep_shape(d.shape, axes)
    xp = xp_of(d)
    src = d.astype(np.float32) if _is_low(d) else d
    if _pyany(d.shape[ax] == 0 for ax in axes):
        r = xp.full(keep, -_INF, dtype=src.dtype)
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = xp.amax(src.real if src.dtype.kind == "c" else src, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(m.dtype)
            r = xp.log(xp.sum(xp.exp(src - m), axis=axes, keepdims=True)) + m
    if not keepdim:
        r = r.reshape(_out_shape(d.shape, axes, False))
    r = r.astype(d.dtype, copy=False)
    return record(r, _LogsumexpBackward, (input,), save=(input,), save_output=True, keep=keep)


# --------------------------------------------------------------------------- all / any / count_nonzero
def _logical_reduce(input, dim, keepdim, op: str, fn) -> Tensor:
    _check(input, op)
    a = input._data
    axes = _axes(dim, a.ndim, op)
    r = fn(a, axis=axes, keepdims=keepdim)
    if a.dtype == np.uint8:
        r = r.astype(np.uint8)
    return _wrap(xp_of(a).asarray(r))


def all(input: Tensor, dim=None, keepdim: bool = False, *, out=None, axis=None,
        keepdims=None) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` (int, tuple or None) is nonzero (uint8 stays uint8)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "all")
    if out is not None:
        return _write_out(out, all(input, dim, keepdim))
    return _logical_reduce(input, dim, keepdim, "all", np.all)


def any(input: Tensor, dim=None, keepdim: bool = False, *, out=None, axis=None,
        keepdims=None) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` (int, tuple or None) is nonzero."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "any")
    if out is not None:
        return _write_out(out, any(input, dim, keepdim))
    return _logical_reduce(input, dim, keepdim, "any", np.any)


def count_nonzero(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """Number of nonzero elements over ``dim`` (int, tuple or None), as int64."""
    _check(input, "count_nonzero")
    if axis is not None:
        dim = _np_axis(dim, False, axis, None, "count_nonzero")[0]
    a = input._data
    axes = _axes(dim, a.ndim, "count_nonzero")
    r = np.sum(a != 0, axis=axes, dtype=np.int64)
    return _wrap(xp_of(a).asarray(r))


def _attach() -> None:
    for name in ("sum", "mean", "prod", "nansum", "nanmean", "var", "std", "norm", "logsumexp", "all",
                 "any", "count_nonzero"):
        setattr(Tensor, name, globals()[name])


_attach()
