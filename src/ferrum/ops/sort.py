"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
nanquantile, unique, unique_consecutive.

Split out of ``reduce.py``, which still re-exports every name here. Everything is built on one
stable argsort (:func:`_sort_idx`, NaN sorting as the largest value, as PyTorch does); the ops
that return values and indices take the values with :func:`_pick_along`, whose node scatters
the gradient back to the picked positions. ``median()`` over all elements splits its gradient
evenly among equal elements (:class:`EvenlyBackward`), as PyTorch does.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import record
from ._common import xp_of
from ._reduce_common import (EvenlyBackward, PickBackward, _check, _dim1, _has_nan, _keep_shape,
                             _nonempty, _np_axis, _over_1d, _pick_along, _scalar_pick, _tname,
                             _write_outs, return_types)
from .elementwise import where
from ._autocast import autocast_op

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
           "nanquantile", "unique", "unique_consecutive"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_NAN = _pyfloat("nan")


_SortBackward = PickBackward.named("SortBackward0")
_TopkBackward = PickBackward.named("TopkBackward0")
_KthvalueBackward = PickBackward.named("KthvalueBackward0")
_MedianBackward1 = PickBackward.named("MedianBackward1")
_NanmedianBackward1 = PickBackward.named("NanmedianBackward1")
_ModeBackward = PickBackward.named("ModeBackward0")
_MedianBackward0 = EvenlyBackward.named("MedianBackward0")
_NanmedianBackward0 = EvenlyBackward.named("NanmedianBackward0")


def _not_implemented(a, op: str, bool_too: bool = False) -> None:
    """PyTorch has no kernel of ``op`` for complex (nor, with ``bool_too``, bool) input."""
    k = a.dtype.kind
    if k == "c" or (bool_too and k == "b"):
        raise NotImplementedError(f"{op}(): not implemented for '{_tname(a)}'")


def _sort_idx(a, d: int, descending: bool, op: str = "sort"):
    """Stable argsort along ``d``; NaN sorts as the largest value (last ascending, first descending)."""
    xp = xp_of(a)
    if a.dtype.kind == "c":
        raise RuntimeError(f"{op}(): Sort does not support complex dtypes on CPU")
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    i = xp.argsort(xp.flip(a, d), axis=d, kind="stable")
    return (n - 1) - xp.flip(i, d)


def _int_arg(k, op: str, arg: str) -> int:
    if isinstance(k, Tensor):
        k = k.__index__()
    if not isinstance(k, (_pyint, np.integer)) or isinstance(k, _pybool):
        raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(k).__name__}")
    return k


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None,
         axis=None):
    """Named tuple (values, indices) sorted along ``dim`` (NaN counts as largest). The sort is
    always stable."""
    if axis is not None:
        dim = _np_axis(dim, False, axis, None, "sort", -1)[0]
    if out is not None:
        return _write_outs(out, sort(input, dim, descending, stable), "sort")
    _check(input, "sort")
    a = input._data
    d = _dim1(dim, a.ndim, "sort")
    if a.ndim == 0:
        _sort_idx(a, 0, False)  # the dtype check
        return return_types.sort(*_over_1d(input, lambda t: sort(t, 0, descending)))
    idx = _sort_idx(a, d, bool(descending))
    return _pick_along(input, idx, d, True, return_types.sort, _SortBackward)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *,
            axis=None) -> Tensor:
    """Indices that sort ``input`` along ``dim`` (stable)."""
    if axis is not None:
        dim = _np_axis(dim, False, axis, None, "argsort", -1)[0]
    _check(input, "argsort")
    a = input._data
    d = _dim1(dim, a.ndim, "argsort")
    if a.ndim == 0:
        _sort_idx(a, 0, False, "argsort")
        return _wrap(xp_of(a).zeros((), dtype=np.int64))
    return _wrap(_sort_idx(a, d, bool(descending), "argsort").astype(np.int64, copy=False))


def msort(input: Tensor) -> Tensor:
    """Sorts along the first dimension."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None,
          # noqa: A002
         axis=None):
    """Named tuple (values, indices) of the ``k`` largest (or smallest) elements along ``dim``."""
    if axis is not None:
        dim = _np_axis(dim, False, axis, None, "topk", -1)[0]
    if out is not None:
        return _write_outs(out, topk(input, k, dim, largest, sorted), "topk")
    _check(input, "topk")
    k = _int_arg(k, "topk", "k")
    a = input._data
    d = _dim1(dim, a.ndim, "topk")
    if a.dtype.kind in "bc":
        raise RuntimeError(f"topk(): topk does not support {'bool' if a.dtype.kind == 'b' else 'complex'} "
                           "dtypes on CPU")
    n = a.shape[d] if a.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, dimension {d} has size {n})")
    if a.ndim == 0:
        if k == 1:
            return return_types.topk(*_over_1d(input, lambda t: topk(t, 1, 0, largest)))
        return return_types.topk(_wrap(xp_of(a).zeros((), dtype=a.dtype)[None][:0]),
                                 _wrap(xp_of(a).zeros((0,), dtype=np.int64)))
    xp = xp_of(a)
    idx = xp.take(_sort_idx(a, d, bool(largest)), xp.arange(k), axis=d)
    return _pick_along(input, idx, d, True, return_types.topk, _TopkBackward)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None, axis=None,
             keepdims=None):
    """Named tuple (values, indices): the ``k``-th smallest element (1-based) along ``dim``."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "kthvalue", -1)
    if out is not None:
        return _write_outs(out, kthvalue(input, k, dim, keepdim), "kthvalue")
    _check(input, "kthvalue")
    k = _int_arg(k, "kthvalue", "k")
    a = input._data
    d = _dim1(dim, a.ndim, "kthvalue")
    if a.ndim:
        _nonempty(a, (d,), "kthvalue")
    n = a.shape[d] if a.ndim else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} (k={k}, "
                           f"size {n})")
    if a.ndim == 0:
        return _scalar_pick(input, return_types.kthvalue, _KthvalueBackward)
    _not_implemented(a, "kthvalue", bool_too=True)
    xp = xp_of(a)
    idx = xp.take(_sort_idx(a, d, False), xp.asarray([k - 1]), axis=d)
    return _pick_along(input, idx, d, keepdim, return_types.kthvalue, _KthvalueBackward)


def _median_dim(input, dim, keepdim, op: str, ignore_nan: bool, rt):
    a = input._data
    node_cls = _NanmedianBackward1 if ignore_nan else _MedianBackward1
    d = _dim1(dim, a.ndim, op)
    if a.ndim:
        _nonempty(a, (d,), op)
    _not_implemented(a, op, bool_too=True)
    if a.ndim == 0:
        return _scalar_pick(input, rt, node_cls)
    xp = xp_of(a)
    n = a.shape[d]
    perm = _sort_idx(a, d, False)
    if _has_nan(a):
        nn = xp.sum(xp.isnan(a), axis=d, keepdims=True)
    else:
        nn = xp.zeros(_keep_shape(a.shape, (d,)), dtype=np.int64)
    if ignore_nan:
        k = n - nn
        pos = xp.where(k > 0, (k - 1) // 2, 0)
    else:
        pos = xp.where(nn > 0, n - nn, (n - 1) // 2)
    idx = xp.take_along_axis(perm, pos.astype(np.int64), axis=d)
    return _pick_along(input, idx, d, keepdim, rt, node_cls)


def _median_all(input, op: str, ignore_nan: bool) -> Tensor:
    a = input._data
    _not_implemented(a, op, bool_too=True)
    xp = xp_of(a)
    flat = a.reshape(-1)
    node_cls = _NanmedianBackward0 if ignore_nan else _MedianBackward0
    if _has_nan(a):
        nan = xp.isnan(flat)
        if ignore_nan:
            flat = flat[~nan]
        elif nan.any():
            flat = flat[:0]
    n = flat.shape[0]
    if n == 0:
        # all-NaN, NaN-holding or empty float input; PyTorch gives an undefined value for an
        # empty integer input, ferrum refuses it
        if not _has_nan(a):
            raise RuntimeError(f"{op}(): input tensor is empty")
        r = xp.asarray(_NAN, dtype=a.dtype)
    else:
        k = (n - 1) // 2
        r = xp.partition(flat, k)[k]
    return record(xp.asarray(r), node_cls, (input,), save=(input,), save_output=True)


def median(input: Tensor, dim=None, keepdim: bool = False, *, out=None, axis=None, keepdims=None):
    """``median(input)``: the lower median (NaN if any element is NaN); the gradient is split
    evenly among equal elements. ``median(input, dim, keepdim=False)``: named tuple (values, indices)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "median")
    if out is not None:
        return _write_outs(out, median(input, dim, keepdim), "median")
    _check(input, "median")
    if dim is None:
        return _median_all(input, "median", False)
    return _median_dim(input, dim, keepdim, "median", False, return_types.median)


def nanmedian(input: Tensor, dim=None, keepdim: bool = False, *, out=None, axis=None, keepdims=None):
    """median ignoring NaN (NaN only where a slice holds nothing else)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "nanmedian")
    if out is not None:
        return _write_outs(out, nanmedian(input, dim, keepdim), "nanmedian")
    _check(input, "nanmedian")
    if dim is None:
        return _median_all(input, "nanmedian", True)
    return _median_dim(input, dim, keepdim, "nanmedian", True, return_types.nanmedian)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out=None, axis=None, keepdims=None):
    """Named tuple (values, indices): the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and the index of its last occurrence."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "mode", -1)
    if out is not None:
        return _write_outs(out, mode(input, dim, keepdim), "mode")
    _check(input, "mode")
    a = input._data
    d = _dim1(dim, a.ndim, "mode")
    if a.ndim == 0:
        return _scalar_pick(input, return_types.mode, _ModeBackward)
    _nonempty(a, (d,), "mode")
    _not_implemented(a, "mode")
    xp = xp_of(a)
    m = xp.moveaxis(a, d, -1)
    n = m.shape[-1]
    perm = xp.argsort(m, axis=-1, kind="stable")
    s = xp.take_along_axis(m, perm, axis=-1)
    new = xp.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    ar = xp.arange(n)
    start = xp.maximum.accumulate(xp.where(new, ar, 0), axis=-1)
    endf = xp.ones(s.shape, dtype=bool)
    endf[..., :-1] = new[..., 1:]
    end = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(endf, ar, n), -1), axis=-1), -1)
    best = xp.argmax(end - start, axis=-1, keepdims=True)
    pos = xp.take_along_axis(end, best, axis=-1)
    idx = xp.moveaxis(xp.take_along_axis(perm, pos, axis=-1), -1, d)
    return _pick_along(input, xp.ascontiguousarray(idx), d, keepdim, return_types.mode, _ModeBackward)


# --------------------------------------------------------------------------- quantile
def _q_values(q, op: str, xp):
    """(q values as a float64 vector, whether q was a scalar)."""
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got {q.ndim}-D")
        qs = q._data.reshape(-1).astype(np.float64)
        scalar = q.ndim == 0
    elif isinstance(q, (_pyfloat, _pyint, np.floating)) and not isinstance(q, _pybool):
        qs = xp.asarray([_pyfloat(q)])
        scalar = True
    else:
        raise TypeError(f"{op}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    if qs.size and bool(((qs < 0) | (qs > 1) | xp.isnan(qs)).any()):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    return qs, scalar


def _quantile(input, q, dim, keepdim, interpolation, op: str, ignore_nan: bool) -> Tensor:
    _check(input, op)
    if dim is not None and (not isinstance(dim, (_pyint, np.integer)) or isinstance(dim, _pybool)):
        raise TypeError(f"{op}(): argument 'dim' must be int or None, not {type(dim).__name__}")
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {_tname(a)}")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or "
                         f"nearest. Got {interpolation}")
    xp = xp_of(a)
    qs, scalar = _q_values(q, op, xp)
    if a.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = _dim1(dim, a.ndim, op)
        x = input if a.ndim else input.reshape(1)
    xd = x._data
    n = xd.shape[d]
    s = sort(x, d).values
    nan_cnt = xp.sum(xp.isnan(xd), axis=d, keepdims=True)
    k = (n - nan_cnt) if ignore_nan else xp.full(nan_cnt.shape, n)
    qshape = [1] * xd.ndim
    qshape[d] = qs.size
    rank = qs.reshape(qshape) * xp.maximum(k - 1, 0)
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)
    lo = xp.clip(xp.floor(rank), 0, n - 1).astype(np.int64)
    hi = xp.clip(xp.ceil(rank), 0, n - 1).astype(np.int64)
    vlo = s.gather(d, _wrap(lo))
    if interpolation in ("linear", "midpoint"):
        w = (rank - lo) if interpolation == "linear" else xp.where(hi > lo, 0.5, 0.0)
        vhi = s.gather(d, _wrap(hi))
        res = vlo.lerp(vhi, _wrap(w.astype(xd.dtype)))  # torch's two-sided lerp: its inf/nan results
    else:
        res = vlo
    bad = (k == 0) if ignore_nan else (nan_cnt > 0)
    if bool(bad.any()):
        res = where(_wrap(xp.broadcast_to(bad, res._data.shape)), _NAN, res)
    # res has the q values along d: move them first, then drop or keep the reduced dim
    if dim is None:
        out_shape = ((1,) * a.ndim) if keepdim else ()
        return res.reshape(((qs.size,) if not scalar else ()) + out_shape)
    res = res.movedim(d, 0)
    rest = res._data.shape[1:]  # the other dims, in order
    if a.ndim == 0:
        rest = ()
    elif keepdim:
        rest = rest[:d] + (1,) + rest[d:]
    return res.reshape((() if scalar else (qs.size,)) + rest)


@autocast_op("quantile")
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None,
             axis=None, keepdims=None):
    """The ``q``-th quantiles (float or 1-D tensor in [0, 1]) along ``dim`` (None: flattened);
    NaN where a slice holds NaN. A 1-D ``q`` adds a leading dimension."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "quantile")
    if out is not None:
        return _write_outs(out, quantile(input, q, dim, keepdim, interpolation=interpolation), "quantile")
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


@autocast_op("nanquantile")
def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None,
                axis=None, keepdims=None):
    """quantile ignoring NaN."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_axis(dim, keepdim, axis, keepdims, "nanquantile")
    if out is not None:
        res = nanquantile(input, q, dim, keepdim, interpolation=interpolation)
        return _write_outs(out, res, "nanquantile")
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)


# --------------------------------------------------------------------------- unique
def _unique_out(out: Tensor, inverse, counts, return_inverse: bool, return_counts: bool):
    res = [out]
    if return_inverse:
        res.append(_wrap(inverse.astype(np.int64, copy=False)))
    if return_counts:
        res.append(_wrap(counts.astype(np.int64, copy=False)))
    return res[0] if len(res) == 1 else tuple(res)


def _unique_dim(a, dim, op: str):
    """The checked ``dim`` of unique/unique_consecutive over slices; None when the result is
    the (empty) input itself, as PyTorch's rules for 0-size dims say."""
    if isinstance(dim, (tuple, list, _pyfloat, str)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    if a.ndim == 0:
        raise IndexError(f"{op}(): Dimension specified as {dim} but tensor has no dimensions")
    d = _dim1(dim, a.ndim, op)
    zeros = a.shape.count(0)
    if a.shape[d] == 0:
        if zeros > 1:
            raise RuntimeError(f"{op}(): Number of zero sized dimensions is more than one, so unique "
                               "cannot be applied")
        return None
    if zeros:
        raise RuntimeError(f"{op}(): There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    return d


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
            # noqa: A002
           dim=None):
    """Unique elements (sorted; NaNs are all distinct), optionally with the inverse indices
    (input shape, or the length of ``dim``) and the counts. With ``dim``, unique slices."""
    _check(input, "unique")
    a = input._data
    if dim is not None:
        d = _unique_dim(a, dim, "unique")
    _not_implemented(a, "unique")
    xp = xp_of(a)
    kw = {"equal_nan": False} if xp is np else {}
    if dim is None:
        u, inv, cnt = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True, **kw)
        inv = inv.reshape(a.shape)
    else:
        if d is None:
            u, inv, cnt = a.copy(), xp.zeros((0,), np.int64), xp.zeros((0,), np.int64)
        else:
            u, inv, cnt = xp.unique(a, axis=d, return_inverse=True, return_counts=True, **kw)
            inv = inv.reshape(-1)
    return _unique_out(_wrap(u), inv, cnt, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapses runs of equal consecutive elements (or slices along ``dim``)."""
    _check(input, "unique_consecutive")
    a = input._data
    if dim is not None:
        d = _unique_dim(a, dim, "unique_consecutive")
    _not_implemented(a, "unique_consecutive")
    xp = xp_of(a)
    if dim is None:
        f = a.reshape(-1)
        n = f.shape[0]
        change = xp.ones((n,), dtype=bool)
        if n > 1:
            change[1:] = f[1:] != f[:-1]
        u = f[change]
        inv = (xp.cumsum(change) - 1).reshape(a.shape)
    else:
        if d is None:
            empty = xp.zeros((0,), np.int64)
            return _unique_out(_wrap(a.copy()), empty, empty, return_inverse, return_counts)
        n = a.shape[d]
        m = xp.moveaxis(a, d, 0).reshape(n, -1)
        change = xp.ones((n,), dtype=bool)
        if n > 1:
            change[1:] = (m[1:] != m[:-1]).any(axis=1)
        u = xp.take(a, xp.nonzero(change)[0], axis=d)
        inv = xp.cumsum(change) - 1
    starts = xp.nonzero(change)[0]
    cnt = xp.diff(xp.concatenate([starts, xp.asarray([n])])) if n else xp.zeros((0,), np.int64)
    return _unique_out(_wrap(u), inv, cnt, return_inverse, return_counts)


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
