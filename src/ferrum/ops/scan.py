"""Scans (cumulative ops along one dim): cumsum, cumprod, cummax, cummin, logcumsumexp, and the
in-place ``Tensor.cumsum_`` / ``cumprod_``.

Split out of ``reduce.py``, which still re-exports every name here. Forward passes work on raw
arrays; backward formulas are ferrum Tensor ops (reverse scans, ``flip``, ``scatter_add``), so
they are differentiable to any order. The cumprod and logcumsumexp gradients stay exact with
zeros and with gradients of either sign, where the textbook formulas divide by zero or take the
log of a negative number.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._common import xp_of
from ._reduce_common import (PickBackward, _along, _check, _dim1, _dtype_arg, _has_nan, _is_float, _is_low,
                             _over_1d, _required_dim, _tname, return_types)
from .elementwise import _cast, _write_out, where
from ._autocast import autocast_op

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

_pyfloat = builtins.float


def _scan(a, d: int, fn, own_dtype: bool):
    """``fn`` (np.cumsum / np.cumprod) of ``a`` along ``d``: integers and bools accumulate in
    int64; with an explicit integer ``dtype=`` (``own_dtype``) the result is wrapped back to it,
    which equals accumulating in that dtype with wraparound."""
    src = a.astype(np.int64) if a.dtype.kind in "biu" else a
    if a.ndim == 0:
        r = src.copy()
    elif _is_low(src):
        with np.errstate(over="ignore"):  # overflowing to inf, as PyTorch does
            r = fn(src, axis=d, dtype=np.float32).astype(src.dtype)
    else:
        r = fn(src, axis=d)
    return r.astype(a.dtype) if own_dtype and r.dtype != a.dtype else r


class _RevCumsumBackward(Node):
    def backward_t(self, g):
        return (cumsum(g, self.dim),)


def _revcumsum(t: Tensor, d: int) -> Tensor:
    """Cumulative sum from the end along ``d`` (the adjoint of cumsum), as one node."""
    a = t._data
    xp = xp_of(a)
    r = xp.ascontiguousarray(xp.flip(xp.cumsum(xp.flip(a, d), axis=d), d))
    return record(r, _RevCumsumBackward, (t,), dim=d)


class _CumsumBackward(Node, name="CumsumBackward0"):
    def backward_t(self, g):
        if g._data.ndim == 0:
            return (g,)
        return (_revcumsum(g, self.dim),)


@autocast_op("cumsum")
def cumsum(input: Tensor, dim=None, *, dtype=None, out=None, axis=None) -> Tensor:
    """Cumulative sum along ``dim`` (ints and bools give int64; ``dtype`` casts the input first
    and is the result's dtype)."""
    _check(input, "cumsum")
    dim = _required_dim(dim, axis, "cumsum")
    if out is not None:
        return _write_out(out, cumsum(input, dim, dtype=dtype))
    input = _dtype_arg(input, dtype)
    a = input._data
    d = _dim1(dim, a.ndim, "cumsum")
    r = _scan(a, d, np.cumsum, dtype is not None)
    return record(r, _CumsumBackward, (input,), dim=d)


class _CumprodBackward(Node, name="CumprodBackward0"):
    def backward_t(self, g, x):
        if x._data.ndim == 0:
            return (g,)
        if x._data.dtype.kind == "c":  # PyTorch's convention: J^H g = conj(J^T conj(g))
            return (_cumprod_grad(g.conj(), x, self.dim).conj(),)
        return (_cumprod_grad(g, x, self.dim),)


def _cumprod_grad(g: Tensor, x: Tensor, d: int) -> Tensor:
    """Vector-Jacobian product of cumprod along ``d``, exact (and differentiable) with zeros."""
    y = cumprod(x, d)
    a = x._data
    zero = a == 0
    if not zero.any():
        return _revcumsum(g * y, d) / x
    xp = xp_of(a)
    n = a.shape[d]
    has = zero.any(axis=d, keepdims=True)
    first = xp.where(has, xp.argmax(zero, axis=d, keepdims=True), n)
    j = _along(n, d, a.ndim, xp)
    before = _wrap(xp.broadcast_to(j < first, a.shape))
    at_z = _wrap(xp.broadcast_to(j == first, a.shape))
    after = _wrap(xp.broadcast_to(j > first, a.shape))
    # before the first zero: the usual formula; from it on: the cumprod gradient of x with that
    # zero replaced by one, times the zero itself past it (so its derivative is kept)
    head = _revcumsum(g * y, d) / where(before, x, 1.0)
    x1 = where(at_z, 1.0, x)
    xz = where(at_z, x, 0.0).sum(d, keepdim=True).expand(a.shape)
    tail = _cumprod_grad(g, x1, d) * where(after, xz, 1.0)
    return where(before, head, tail)


@autocast_op("cumprod")
def cumprod(input: Tensor, dim=None, *, dtype=None, out=None, axis=None) -> Tensor:
    """Cumulative product along ``dim``; the gradient is exact with zeros in the input."""
    _check(input, "cumprod")
    dim = _required_dim(dim, axis, "cumprod")
    if out is not None:
        return _write_out(out, cumprod(input, dim, dtype=dtype))
    input = _dtype_arg(input, dtype)
    a = input._data
    d = _dim1(dim, a.ndim, "cumprod")
    r = _scan(a, d, np.cumprod, dtype is not None)
    return record(r, _CumprodBackward, (input,), save=(input,), dim=d)


_CummaxBackward = PickBackward.named("CummaxBackward0")
_CumminBackward = PickBackward.named("CumminBackward0")


def _cum_extreme(input, dim, op: str, ufunc, rt, node_cls):
    _check(input, op)
    a = input._data
    d = _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return rt(*_over_1d(input, lambda t: _running(t, 0, ufunc, rt, node_cls)))
    if a.dtype.kind == "c":
        raise NotImplementedError(f"{op}(): not implemented for '{_tname(a)}'")
    return _running(input, d, ufunc, rt, node_cls)


def _running(input, d: int, ufunc, rt, node_cls):
    """(running extreme, index of the element that set it) of ``input`` along ``d``."""
    a = input._data
    xp = xp_of(a)
    m = ufunc.accumulate(a, axis=d)
    mark = a == m
    if _has_nan(a):
        mark |= xp.isnan(a)
    # the index of the latest element that set the running extreme (ties move it forward)
    idx = xp.maximum.accumulate(xp.where(mark, _along(a.shape[d], d, a.ndim, xp), 0),
                                axis=d).astype(np.int64)
    values = record(m, node_cls, (input,), idx=idx, dim=d, shape=a.shape, dup=True)
    return rt(values, _wrap(idx))


def cummax(input: Tensor, dim=None, *, axis=None):
    """Named tuple (values, indices) of the running maximum along ``dim`` (NaN propagates)."""
    dim = _required_dim(dim, axis, "cummax")
    return _cum_extreme(input, dim, "cummax", np.maximum, return_types.cummax, _CummaxBackward)


def cummin(input: Tensor, dim=None, *, axis=None):
    """Named tuple (values, indices) of the running minimum along ``dim`` (NaN propagates)."""
    dim = _required_dim(dim, axis, "cummin")
    return _cum_extreme(input, dim, "cummin", np.minimum, return_types.cummin, _CumminBackward)


class _LogcumsumexpBackward(Node, name="LogcumsumexpBackward0"):
    def backward_t(self, g, x, res):
        # grad_j = sum_{i>=j} g_i exp(x_j - y_i), split by the sign of g and summed in log space;
        # a very negative finite stand-in for log(0) keeps every derivative finite
        d = self.dim
        gd = g._data
        if gd.dtype.kind == "c":
            return (_complex_lcse_grad(g, x, res, d),)
        low = _pyfloat(np.finfo(gd.dtype).min) / 8 if gd.dtype.kind == "f" else -1e30
        out = None
        for sgn in (1.0, -1.0):
            pm = gd * sgn > 0
            if not pm.any():
                continue
            pos = _wrap(pm)
            lg = where(pos, where(pos, g * sgn, 1.0).log(), low)
            term = (x + logcumsumexp((lg - res).flip(d), d).flip(d)).exp() * sgn
            out = term if out is None else out + term
        if out is None:
            out = x * 0.0
        return (out,)


def _complex_lcse_grad(g: Tensor, x: Tensor, res: Tensor, d: int) -> Tensor:
    """grad_j = conj(sum_{i>=j} conj(g_i) exp(x_j - y_i)) (PyTorch's convention for a holomorphic
    function), with both exponentials shifted by the slice's largest real part."""
    xd = x._data
    c = _wrap(np.max(xd.real, axis=d, keepdims=True).astype(xd.dtype))
    tail = _revcumsum(g.conj() * (c - res).exp(), d)
    return ((x - c).exp() * tail).conj()


def _complex_lcse(a, d: int):
    """logcumsumexp of a complex array along ``d``: each step is PyTorch's log-add-exp, the larger
    real part plus log1p(exp(smaller - larger)) (a -inf real part adds nothing)."""
    xp = xp_of(a)
    m = xp.moveaxis(a, d, 0)
    out = xp.empty_like(m)
    acc = None
    with np.errstate(all="ignore"):
        for i in range(m.shape[0]):
            v = m[i]
            if acc is None:
                acc = v.copy()
            else:
                first = acc.real >= v.real
                hi, lo = xp.where(first, acc, v), xp.where(first, v, acc)
                acc = xp.where(xp.isneginf(lo.real), hi, hi + xp.log1p(xp.exp(lo - hi)))
                acc = xp.where(xp.isnan(acc.real) | xp.isnan(lo), complex("nan+nanj"), acc)
            out[i] = acc
    return xp.moveaxis(out, 0, d)


def logcumsumexp(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    _check(input, "logcumsumexp")
    dim = _required_dim(dim, axis, "logcumsumexp")
    if not _is_float(input._data):
        input = _cast(input, get_default_dtype())
    a = input._data
    d = _dim1(dim, a.ndim, "logcumsumexp")
    if a.ndim == 0:
        return input.clone()
    if a.dtype.kind == "c":
        r = _complex_lcse(a, d)
    else:
        src = a.astype(np.float32) if _is_low(a) else a
        with np.errstate(invalid="ignore"):
            r = np.logaddexp.accumulate(src, axis=d).astype(a.dtype, copy=False)
    return record(r, _LogcumsumexpBackward, (input,), save=(input,), save_output=True, dim=d)


def _tensor_cumsum_(self, dim, *, dtype=None):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda t: cumsum(t, dim, dtype=dtype), "cumsum_")


def _tensor_cumprod_(self, dim, *, dtype=None):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda t: cumprod(t, dim, dtype=dtype), "cumprod_")


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
Tensor.cumsum_ = _tensor_cumsum_
Tensor.cumprod_ = _tensor_cumprod_
