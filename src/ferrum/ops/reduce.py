"""Reductions and scans: sum, mean, prod, max/min, var/std, norm, logsumexp, cumulative ops,
sorting and selection (sort, topk, kthvalue, median, mode, quantile), unique, all/any.

Forward passes work on raw arrays (NumPy or CuPy through ``np.*`` dispatch). Every backward is
written with ferrum Tensor ops (the private differentiable helpers ``_reshape``, ``_expand``,
``_take``, ``_put``, ``_revcumsum`` and ``_moveaxis`` below, plus elementwise ops), so that
``create_graph=True`` and gradgradcheck work. ``sum`` and ``mean`` are on the hot path: their
nodes have ``__slots__`` and a raw-array backward.

Selection ops (max/min with ``dim``, sort, topk, kthvalue, median, mode, cummax, cummin)
return named tuples like ``torch.return_types``; they live in ``return_types`` here.
"""

from __future__ import annotations

import builtins
import collections
import functools
import math
import types
import warnings

import numpy as np

from .. import _state
from .._dtype import as_dtype, from_np, get_default_dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, edge, record
from ._common import canon_dim, canon_dims, xp_of
from .elementwise import _cast, _write_out, maximum, minimum, where

__all__ = [
    "sum", "mean", "prod", "nansum", "nanmean", "max", "min", "amax", "amin", "aminmax", "argmax",
    "argmin", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "logcumsumexp", "cumsum",
    "cumprod", "cummax", "cummin", "all", "any", "count_nonzero", "topk", "sort", "argsort", "msort",
    "kthvalue", "unique", "unique_consecutive", "median", "nanmedian", "mode", "quantile",
    "nanquantile", "return_types",
]

_new = object.__new__
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_pymax, _pyany = builtins.max, builtins.any
_INF = _pyfloat("inf")
_NAN = _pyfloat("nan")

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


# --------------------------------------------------------------------------- return types
def _return_type(name: str, fields: tuple):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "ferrum.return_types"
    cls.__qualname__ = name

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"ferrum.return_types.{name}(\n{body})"

    cls.__repr__ = __repr__
    return cls


_VI = ("values", "indices")
return_types = types.SimpleNamespace(
    max=_return_type("max", _VI), min=_return_type("min", _VI), sort=_return_type("sort", _VI),
    topk=_return_type("topk", _VI), kthvalue=_return_type("kthvalue", _VI),
    median=_return_type("median", _VI), nanmedian=_return_type("nanmedian", _VI),
    mode=_return_type("mode", _VI), cummax=_return_type("cummax", _VI),
    cummin=_return_type("cummin", _VI), aminmax=_return_type("aminmax", ("min", "max")),
)


# --------------------------------------------------------------------------- argument helpers
def _check(x, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def _tname(a) -> str:
    return _TORCH_NAMES.get(from_np(a.dtype).name, str(a.dtype))


def _is_float(a) -> bool:
    k = a.dtype.kind
    return k == "f" or k == "c" or (k == "V" and from_np(a.dtype).category >= 2)


def _is_low(a) -> bool:
    """float16 / bfloat16: reduced in float32 and cast back, for accuracy."""
    return a.dtype.itemsize == 2 and (a.dtype.kind == "f" or a.dtype.kind == "V")


def _axes(dim, ndim: int, op: str) -> tuple:
    """The sorted, non-negative axes a reduction over ``dim`` (None, int, tuple or list) covers.
    None and an empty list mean every dimension; a 0-d tensor accepts dim 0 / -1 and gives ()."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim))
        ax = canon_dims(dim, ndim, op)
    else:
        if isinstance(dim, (_pyfloat, str)):
            raise TypeError(f"{op}(): argument 'dim' must be int or tuple of ints, not {type(dim).__name__}")
        ax = (canon_dim(dim, ndim, op),)
    return ax if ndim else ()


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _out_shape(shape: tuple, axes: tuple, keepdim: bool) -> tuple:
    if keepdim:
        return _keep_shape(shape, axes)
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _dim1(dim, ndim: int, op: str) -> int:
    if dim is None or isinstance(dim, (tuple, list, _pyfloat, str)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    return canon_dim(dim, ndim, op)


def _along(n: int, d: int, ndim: int, xp=np):
    """arange(n) shaped to broadcast along axis ``d`` of an ``ndim``-d array."""
    return xp.arange(n).reshape([n if i == d else 1 for i in range(ndim)])


def _dtype_arg(input: Tensor, dtype) -> Tensor:
    if dtype is None:
        return input
    return _cast(input, as_dtype(dtype))


def _np_aliases(fn):
    """Accepts NumPy's ``axis=`` / ``keepdims=`` spellings of ``dim`` / ``keepdim``, as torch does."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                if "dim" in kwargs:
                    raise TypeError(f"{fn.__name__}(): got both 'dim' and its alias 'axis'")
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return wrapper


def _dim_alias(dim, keepdim, axis, keepdims, op: str):
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}(): got both 'dim' and its alias 'axis'")
        dim = axis
    return dim, (keepdim if keepdims is None else keepdims)


def _write_outs(out, res, op: str):
    """``out=`` for ops that may return a named tuple: ``out`` is then a tuple of tensors."""
    if isinstance(res, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(res):
            raise TypeError(f"{op}(): argument 'out' must be a tuple of {len(res)} Tensors")
        return type(res)(*(_write_out(o, r) for o, r in zip(out, res)))
    return _write_out(out, res)


# --------------------------------------------------------------------------- differentiable helpers
class _ReshapeBackward(Node):
    def backward_t(self, g):
        return (_reshape(g, self.shape),)


_ReshapeBackward.__name__ = "ViewBackward0"


def _reshape(t: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    d = t._data
    if d.shape == shape:
        return t
    return record(d.reshape(shape), _ReshapeBackward, (t,), shape=d.shape)


class _ExpandBackward(Node):
    def backward_t(self, g):
        return (_unexpand(g, self.shape),)


_ExpandBackward.__name__ = "ExpandBackward0"


def _expand(t: Tensor, shape, copy: bool = False) -> Tensor:
    """Broadcasts ``t`` to ``shape`` (a read-only view unless ``copy``)."""
    shape = tuple(shape)
    d = t._data
    if d.shape == shape:
        return t
    r = xp_of(d).broadcast_to(d, shape)
    if copy:
        r = r.copy()
    return record(r, _ExpandBackward, (t,), shape=d.shape)


def _unexpand(g: Tensor, shape: tuple) -> Tensor:
    """Sums ``g`` down to ``shape`` (undoes _expand)."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
    if axes:
        g = sum(g, axes, keepdim=True)
    return _reshape(g, shape)


class _TakeBackward(Node):
    def backward_t(self, g):
        return (_put(g, self.idx, self.dim, self.shape, self.unique),)


def _take(x: Tensor, idx, dim: int, unique: bool = False) -> Tensor:
    """``take_along_axis(x, idx, dim)``; ``unique``: no index repeats along ``dim``."""
    xp = xp_of(x._data)
    r = xp.take_along_axis(x._data, idx, axis=dim)
    return record(r, _TakeBackward, (x,), idx=idx, dim=dim, shape=x._data.shape, unique=unique)


class _PutBackward(Node):
    def backward_t(self, g):
        return (_take(g, self.idx, self.dim, self.unique),)


def _put(g: Tensor, idx, dim: int, shape: tuple, unique: bool) -> Tensor:
    """zeros(shape) with ``g`` added at ``idx`` along ``dim`` (the adjoint of _take)."""
    gd = g._data
    xp = xp_of(gd)
    z = xp.zeros(shape, dtype=gd.dtype)
    if gd.shape != idx.shape:
        gd = xp.broadcast_to(gd, idx.shape)
    if unique:
        xp.put_along_axis(z, idx, gd, axis=dim)
    else:
        full = tuple(idx if i == dim else _along(n, i, idx.ndim, xp) for i, n in enumerate(idx.shape))
        xp.add.at(z, full, gd)
    return record(z, _PutBackward, (g,), idx=idx, dim=dim, unique=unique)


class _RevCumsumBackward(Node):
    def backward_t(self, g):
        return (cumsum(g, self.dim),)


def _revcumsum(t: Tensor, d: int) -> Tensor:
    """Cumulative sum from the end along ``d``."""
    a = t._data
    xp = xp_of(a)
    r = xp.ascontiguousarray(xp.flip(xp.cumsum(xp.flip(a, d), axis=d), d))
    return record(r, _RevCumsumBackward, (t,), dim=d)


class _MoveaxisBackward(Node):
    def backward_t(self, g):
        return (_moveaxis(g, self.dst, self.src),)


def _moveaxis(t: Tensor, src: int, dst: int) -> Tensor:
    if src == dst:
        return t
    r = xp_of(t._data).moveaxis(t._data, src, dst)
    return record(r, _MoveaxisBackward, (t,), src=src, dst=dst)


def _const(a) -> Tensor:
    return _wrap(a)


# --------------------------------------------------------------------------- sum / mean (hot)
class SumBackward0(Node):
    """sum over every dimension: the gradient is broadcast back."""

    __slots__ = ("shape",)
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand(g, self.shape, copy=True),)
        return (np.broadcast_to(g, self.shape),)


class SumBackward1(Node):
    """sum over some dimensions."""

    __slots__ = ("shape", "keep")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand(_reshape(g, self.keep), self.shape, copy=True),)
        return (np.broadcast_to(g.reshape(self.keep), self.shape),)


class MeanBackward0(Node):
    __slots__ = ("shape", "n")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand(g / self.n, self.shape, copy=True),)
        return (np.broadcast_to(g / self.n, self.shape),)


class MeanBackward1(Node):
    __slots__ = ("shape", "keep", "n")
    _saved = ()

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_expand(_reshape(g, self.keep) / self.n, self.shape, copy=True),)
        return (np.broadcast_to(g.reshape(self.keep) / self.n, self.shape),)


def _fast_axes(dim, ndim: int, op: str) -> tuple:
    """_axes with a shortcut for the common in-range int."""
    if dim.__class__ is _pyint and 0 <= dim < ndim:
        return (dim,)
    return _axes(dim, ndim, op)


def _plain_float(d) -> bool:
    """float32/float64/complex arrays reduce directly with the array's own methods."""
    dt = d.dtype
    return (dt.kind == "f" or dt.kind == "c") and dt.itemsize > 2


def _np_sum(d, axes, keepdim):
    k = d.dtype.kind
    if k in "biu":
        return d.sum(axis=axes, keepdims=keepdim, dtype=np.int64)
    if _is_low(d):
        return d.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(d.dtype)
    return d.sum(axis=axes, keepdims=keepdim)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None, axis=None,  # noqa: A001
        keepdims=None) -> Tensor:
    """Sum of ``input`` over ``dim`` (int, tuple of ints or None for all). Integer and bool
    inputs sum to int64; ``dtype`` casts the input first."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _check(input, "sum")
    if axis is not None or keepdims is not None:
        dim, keepdim = _dim_alias(dim, keepdim, axis, keepdims, "sum")
    if out is not None:
        return _write_out(out, sum(input, dim, keepdim, dtype=dtype))
    if dtype is not None:
        input = _cast(input, as_dtype(dtype))
    d = input._data
    if dim is None and not keepdim:
        res = _wrap(d.sum() if _plain_float(d) else _np_sum(d, None, False))
        if input.requires_grad and _state.grad_enabled:
            node = _new(SumBackward0)
            node.next = (edge(input),)
            node.shape = d.shape
            res.requires_grad = True
            res.grad_fn = node
        return res
    axes = _fast_axes(dim, d.ndim, "sum")
    res = _wrap(d.sum(axis=axes, keepdims=keepdim) if _plain_float(d) else _np_sum(d, axes, keepdim))
    if input.requires_grad and _state.grad_enabled:
        node = _new(SumBackward1)
        node.next = (edge(input),)
        node.shape = d.shape
        node.keep = _keep_shape(d.shape, axes)
        res.requires_grad = True
        res.grad_fn = node
    return res


def _mean_dtype_error(op: str, d) -> RuntimeError:
    return RuntimeError(f"{op}(): could not infer output dtype. Input dtype must be either a floating "
                        f"point or complex dtype. Got: {_tname(d)}")


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None, axis=None,
         keepdims=None) -> Tensor:
    """Arithmetic mean over ``dim`` (int, tuple or None). Floating/complex inputs only, unless
    ``dtype`` (a floating dtype the input is cast to first) is given."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _check(input, "mean")
    if axis is not None or keepdims is not None:
        dim, keepdim = _dim_alias(dim, keepdim, axis, keepdims, "mean")
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
            node = _new(MeanBackward0)
            node.next = (edge(input),)
            node.shape = d.shape
            node.n = n
            res.requires_grad = True
            res.grad_fn = node
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
        node = _new(MeanBackward1)
        node.next = (edge(input),)
        node.shape = d.shape
        node.keep = _keep_shape(d.shape, axes)
        node.n = n
        res.requires_grad = True
        res.grad_fn = node
    return res


# --------------------------------------------------------------------------- nansum / nanmean
class _MaskedMeanBackward(Node):
    """Gradient ``g * w`` with a constant weight array ``w`` of the input's shape."""

    def backward_t(self, g):
        return (_expand(_reshape(g, self.keep), self.shape) * _const(self.w),)


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """sum treating NaN as zero."""
    _check(input, "nansum")
    input = _dtype_arg(input, dtype)
    d = input._data
    if not _is_float(d):
        return sum(input, dim, keepdim)
    axes = _axes(dim, d.ndim, "nansum")
    nan = np.isnan(d)
    src = np.where(nan, 0, d)
    r = _np_sum(src, axes, keepdim)
    return record(r, _MaskedMeanBackward, (input,), keep=_keep_shape(d.shape, axes), shape=d.shape,
                  w=(~nan).astype(d.dtype))


_MaskedMeanBackward.__name__ = "NansumBackward0"


class _NanmeanBackward(_MaskedMeanBackward):
    pass


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """mean over the non-NaN elements (NaN where there are none)."""
    _check(input, "nanmean")
    input = _dtype_arg(input, dtype)
    d = input._data
    if not _is_float(d):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_tname(d)}")
    axes = _axes(dim, d.ndim, "nanmean")
    ok = ~np.isnan(d)
    cnt = np.sum(ok, axis=axes, keepdims=True)
    s = _np_sum(np.where(ok, d, 0), axes, True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (s / cnt).astype(d.dtype)
        w = (ok / cnt).astype(d.dtype)
    if not keepdim:
        r = r.reshape(_out_shape(d.shape, axes, False))
    return record(r, _NanmeanBackward, (input,), keep=_keep_shape(d.shape, axes), shape=d.shape, w=w)


_NanmeanBackward.__name__ = "NanmeanBackward0"


# --------------------------------------------------------------------------- prod
class _ProdBackward(Node):
    def backward_t(self, g, x):
        shape = x._data.shape
        if self.dim is None:
            po = _reshape(_prod_others(_reshape(x, (-1,)), 0), shape)
            return (_expand(_reshape(g, (1,) * len(shape)), shape) * po,)
        if len(shape) == 0:
            return (g,)
        d = self.dim
        return (_expand(_reshape(g, _keep_shape(shape, (d,))), shape) * _prod_others(x, d),)


_ProdBackward.__name__ = "ProdBackward0"


def _prod_others(x: Tensor, d: int) -> Tensor:
    """For each element, the product of the other elements of its slice along ``d``, written so
    that it stays differentiable (to every order) when the slice holds zeros."""
    a = x._data
    zero = a == 0
    if not zero.any():
        return _expand(prod(x, d, keepdim=True), a.shape) / x
    xp = xp_of(a)
    has = zero.any(axis=d, keepdims=True)
    first = xp.argmax(zero, axis=d, keepdims=True)
    at_z = (_along(a.shape[d], d, a.ndim, xp) == first) & has
    atz = _const(at_z)
    x1 = where(atz, 1.0, x)  # the first zero of each slice replaced by one
    xz = _expand(sum(where(atz, x, 0.0), d, keepdim=True), a.shape)  # that zero, differentiably
    return _prod_others(x1, d) * where(_const(has & ~at_z), xz, 1.0)


def _np_prod(d, axis, keepdim):
    k = d.dtype.kind
    if k in "biu":
        return np.prod(d, axis=axis, keepdims=keepdim, dtype=np.int64)
    if _is_low(d):
        return np.prod(d, axis=axis, keepdims=keepdim, dtype=np.float32).astype(d.dtype)
    return np.prod(d, axis=axis, keepdims=keepdim)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Product of the elements over ``dim`` (a single int, or None for all). Integer and bool
    inputs give int64. The gradient is exact with zeros in the input."""
    _check(input, "prod")
    if out is not None:
        return _write_out(out, prod(input, dim, keepdim, dtype=dtype))
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple (prod reduces one dimension "
                        "or all of them)")
    input = _dtype_arg(input, dtype)
    d = input._data
    if dim is None:
        r = _np_prod(d, None, False)
        if keepdim:
            r = np.asarray(r).reshape((1,) * d.ndim)
        return record(r, _ProdBackward, (input,), save=(input,), dim=None)
    dd = _dim1(dim, d.ndim, "prod")
    r = _np_prod(d, dd if d.ndim else (), keepdim)
    return record(r, _ProdBackward, (input,), save=(input,), dim=dd)


# --------------------------------------------------------------------------- max / min / amax / amin
class _EvenlyBackward(Node):
    """Gradient of a full reduction that picks one value (max(), min(), median()): split evenly
    among the elements equal to it (NaN counts as equal to a NaN result)."""

    def backward_t(self, g, x, res):
        a, o = x._data, res._data
        mask = a == o
        if self.nan_eq and a.dtype.kind in "fc" and np.isnan(o):
            mask = np.isnan(a)
        w = mask / mask.sum()
        return (_expand(g, a.shape) * _const(w.astype(a.dtype)),)


def _full_pick(input: Tensor, op: str, fn, name: str) -> Tensor:
    d = input._data
    if d.size == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    r = fn(d)
    return record(r, _EvenlyBackward, (input,), save=(input,), save_output=True, nan_eq=True, _name=name)


class _IndexedBackward(Node):
    """Gradient of values picked at ``idx`` (kept-dim shape) along ``dim``."""

    def backward_t(self, g):
        return (_put(_reshape(g, self.idx.shape), self.idx, self.dim, self.shape, True),)


def _pick_along(input: Tensor, idx, d: int, keepdim: bool, rt, node_name: str):
    """(values, indices) for indices ``idx`` (shape with 1 at ``d``) of ``input`` along ``d``."""
    a = input._data
    xp = xp_of(a)
    vals = xp.take_along_axis(a, idx, axis=d)
    if not keepdim:
        vals = vals.reshape(_out_shape(a.shape, (d,), False))
        ind = idx.reshape(vals.shape)
    else:
        ind = idx
    values = record(vals, _IndexedBackward, (input,), idx=idx, dim=d, shape=a.shape, _name=node_name)
    return rt(values, _wrap(ind.astype(np.int64, copy=False)))


def _nonempty(a, axes, op: str) -> None:
    for ax in axes:
        if a.shape[ax] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {ax} to have non-zero size.")


def _dim_pick(input: Tensor, dim, keepdim: bool, op: str, is_max: bool, rt, node_name: str):
    a = input._data
    d = dim if dim.__class__ is _pyint and 0 <= dim < a.ndim else _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return _scalar_pick(input, rt, node_name)
    if a.shape[d] == 0:
        _nonempty(a, (d,), op)
    if is_max:
        idx = a.argmax(axis=d, keepdims=True)
        vals = a.max(axis=d, keepdims=keepdim)
    else:
        idx = a.argmin(axis=d, keepdims=True)
        vals = a.min(axis=d, keepdims=keepdim)
    values = _wrap(vals)
    if input.requires_grad and _state.grad_enabled:
        values = record(vals, _IndexedBackward, (input,), idx=idx, dim=d, shape=a.shape, _name=node_name)
    ind = idx if keepdim else idx.reshape(vals.shape)
    return rt(values, _wrap(ind.astype(np.int64, copy=False)))


def _scalar_pick(input: Tensor, rt, node_name: str):
    """A selection along dim 0 of a 0-d tensor: the value itself, index 0."""
    idx = xp_of(input._data).zeros((1,), dtype=np.int64)
    return _pick_along(_reshape(input, (1,)), idx, 0, False, rt, node_name)


def max(input, dim=None, keepdim: bool = False, *, other=None, out=None):  # noqa: A001
    """``max(input)``: the largest element (NaN propagates). ``max(input, dim, keepdim=False)``:
    named tuple (values, indices) along ``dim``. ``max(input, other)``: elementwise maximum."""
    if out is not None:
        return _write_outs(out, max(input, dim, keepdim, other=other), "max")
    _check(input, "max")
    if isinstance(dim, Tensor) or other is not None:
        return maximum(input, dim if other is None else other)
    if dim is None:
        return _full_pick(input, "max", lambda a: a.max(), "MaxBackward1")
    return _dim_pick(input, dim, keepdim, "max", True, return_types.max, "MaxBackward0")


def min(input, dim=None, keepdim: bool = False, *, other=None, out=None):  # noqa: A001
    """``min(input)``, ``min(input, dim, keepdim=False)`` -> (values, indices), or elementwise
    ``min(input, other)``."""
    if out is not None:
        return _write_outs(out, min(input, dim, keepdim, other=other), "min")
    _check(input, "min")
    if isinstance(dim, Tensor) or other is not None:
        return minimum(input, dim if other is None else other)
    if dim is None:
        return _full_pick(input, "min", lambda a: a.min(), "MinBackward1")
    return _dim_pick(input, dim, keepdim, "min", False, return_types.min, "MinBackward0")


class _AmaxBackward(Node):
    """amax/amin: the gradient is split evenly among the elements equal to the result."""

    def backward_t(self, g, x, res):
        a = x._data
        keep = self.keep
        mask = a == res._data.reshape(keep)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(a.dtype)
        return (_expand(_reshape(g, keep), a.shape) * _const(w),)


def _amaxmin(input, dim, keepdim, op: str, fn, name: str) -> Tensor:
    _check(input, op)
    a = input._data
    axes = _fast_axes(dim, a.ndim, op)
    if a.size == 0:
        if not axes or a.ndim == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        _nonempty(a, axes, op)
    r = a.max(axis=axes, keepdims=keepdim) if fn is np.amax else a.min(axis=axes, keepdims=keepdim)
    if not (input.requires_grad and _state.grad_enabled):
        return _wrap(r)
    return record(r, _AmaxBackward, (input,), save=(input,), save_output=True, axes=axes,
                  keep=_keep_shape(a.shape, axes), _name=name)


def amax(input, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Maximum over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    if out is not None:
        return _write_out(out, amax(input, dim, keepdim))
    return _amaxmin(input, dim, keepdim, "amax", np.amax, "AmaxBackward0")


def amin(input, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Minimum over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    if out is not None:
        return _write_out(out, amin(input, dim, keepdim))
    return _amaxmin(input, dim, keepdim, "amin", np.amin, "AminBackward0")


def aminmax(input, *, dim=None, keepdim: bool = False):
    """Named tuple (min, max) over ``dim`` (None for all)."""
    _check(input, "aminmax")
    dims = () if dim is None else dim
    return return_types.aminmax(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _argpick(input, dim, keepdim, op: str, fn) -> Tensor:
    _check(input, op)
    a = input._data
    xp = xp_of(a)
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = xp.asarray(fn(a), dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _wrap(r)
    d = dim if dim.__class__ is _pyint and 0 <= dim < a.ndim else _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return _wrap(xp.zeros((), dtype=np.int64))
    if a.shape[d] == 0:
        _nonempty(a, (d,), op)
    r = a.argmax(axis=d, keepdims=keepdim) if fn is np.argmax else a.argmin(axis=d, keepdims=keepdim)
    return _wrap(r.astype(np.int64, copy=False))


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None); first on ties."""
    return _argpick(input, dim, keepdim, "argmax", np.argmax)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    return _argpick(input, dim, keepdim, "argmin", np.argmin)


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


def _np_var(a, axes, corr, keepdim):
    """Two-pass variance over ``axes`` with divisor max(n - corr, 0) (real for complex input)."""
    low = _is_low(a)
    src = a.astype(np.float32) if low else a
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    with np.errstate(all="ignore"):
        c = src - src.sum(axis=axes, keepdims=True) / n
        sq = c.real * c.real + c.imag * c.imag if c.dtype.kind == "c" else c * c
        r = sq.sum(axis=axes, keepdims=keepdim) / _pymax(n - corr, 0)
    r = xp_of(a).asarray(r)
    return r.astype(a.dtype) if low else r


def _centered(x: Tensor, axes: tuple) -> Tensor:
    return x - _expand(mean(x, axes, keepdim=True), x._data.shape)


class _VarBackward(Node):
    def backward_t(self, g, x):
        shape = x._data.shape
        coef = 2.0 / self.dof if self.dof > 0 else _INF
        return (_expand(_reshape(g, self.keep), shape) * _centered(x, self.axes) * coef,)


_VarBackward.__name__ = "VarBackward0"


class _StdBackward(Node):
    def backward_t(self, g, x, res):
        shape = x._data.shape
        s = _reshape(res, self.keep)
        zero = _const(s._data == 0)
        coef = where(zero, 0.0, _reshape(g, self.keep) / where(zero, 1.0, s))
        inv = 1.0 / self.dof if self.dof > 0 else _INF
        return (_expand(coef, shape) * _centered(x, self.axes) * inv,)


_StdBackward.__name__ = "StdBackward0"


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` is 0)."""
    a, axes, corr, dof = _var_args("var", input, dim, unbiased, correction)
    if out is not None:
        return _write_out(out, var(input, axes, keepdim=keepdim, correction=corr))
    r = _np_var(a, axes, corr, keepdim)
    return record(r, _VarBackward, (input,), save=(input,), axes=axes, keep=_keep_shape(a.shape, axes),
                  dof=dof)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None) -> Tensor:
    """Standard deviation over ``dim`` (see :func:`var`); the gradient is 0 where it is 0."""
    a, axes, corr, dof = _var_args("std", input, dim, unbiased, correction)
    if out is not None:
        return _write_out(out, std(input, axes, keepdim=keepdim, correction=corr))
    with np.errstate(invalid="ignore"):
        r = np.sqrt(_np_var(a, axes, corr, keepdim))
    return record(r, _StdBackward, (input,), save=(input,), save_output=True, axes=axes,
                  keep=_keep_shape(a.shape, axes), dof=dof)


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over ``dim``."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    if isinstance(dim, (_pybool, np.bool_)):
        dim = None
    return v, mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over ``dim``."""
    s = std(input, dim, unbiased, keepdim, correction=correction)
    if isinstance(dim, (_pybool, np.bool_)):
        dim = None
    return s, mean(input, dim, keepdim)


# --------------------------------------------------------------------------- norm
class _NormBackward(Node):
    def backward_t(self, g, x, res):
        p = self.p
        xd = x._data
        shape = xd.shape
        if p == 0:
            return (_const(xp_of(xd).zeros_like(xd)),)
        gk = _expand(_reshape(g, self.keep), shape)
        if p == 1:
            return (gk * x.sign(),)
        o = _expand(_reshape(res, self.keep), shape)
        od = o._data
        if p == 2:
            oz = _const(od == 0)
            return (where(oz, 0.0, gk * x / where(oz, 1.0, o)),)
        if math.isinf(p):
            mask = np.abs(xd) == od
            with np.errstate(invalid="ignore", divide="ignore"):
                w = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(xd.dtype)
            return (gk * x.sign() * _const(w),)
        bad = _const((xd == 0) | (od == 0))
        ratio = where(bad, 1.0, x.abs()) / where(bad, 1.0, o)
        return (where(bad, 0.0, gk * x.sign() * ratio ** (p - 1)),)


_NormBackward.__name__ = "NormBackward1"


def _vector_norm_data(d, p: float, axes: tuple, keepdim: bool, who: str):
    """The vector ``p``-norm of the array ``d`` over ``axes``, in the real dtype of ``d`` (float16 and
    bfloat16 accumulated in float32). ``who`` starts the error message. Shared with
    ``ferrum.linalg.vector_norm``."""
    a = np.abs(d)
    rdt = a.dtype
    if _is_low(a):
        a = a.astype(np.float32)
    size = 1
    for ax in axes:
        size *= d.shape[ax]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if math.isinf(p):
            if size == 0:
                raise RuntimeError(f"{who} cannot compute the {'-' if p < 0 else ''}inf norm on an "
                                   "empty tensor because the operation does not have an identity")
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
        return (_expand(_reshape(g, self.keep), self.uvh.shape) * _const(self.uvh),)


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
    u, s, vh = xp.linalg.svd(m, full_matrices=False)
    r = s.sum(-1)
    uvh = xp.moveaxis(u @ vh, (-2, -1), (d0, d1))
    axes = tuple(sorted((d0, d1)))
    if keepdim:
        r = r.reshape(_keep_shape(d.shape, axes))
    return record(r.astype(d.dtype), _NucBackward, (input,), uvh=xp.ascontiguousarray(uvh),
                  keep=_keep_shape(d.shape, axes))


def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
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
class _LogsumexpBackward(Node):
    def backward_t(self, g, x, res):
        shape = x._data.shape
        o = _expand(_reshape(res, self.keep), shape)
        return (_expand(_reshape(g, self.keep), shape) * (x - o).exp(),)


_LogsumexpBackward.__name__ = "LogsumexpBackward0"


def _to_float(input: Tensor) -> Tensor:
    if _is_float(input._data):
        return input
    return _cast(input, get_default_dtype())


def logsumexp(input, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed stably; its gradient is softmax."""
    _check(input, "logsumexp")
    if out is not None:
        return _write_out(out, logsumexp(input, dim, keepdim))
    input = _to_float(input)
    d = input._data
    axes = _axes(dim, d.ndim, "logsumexp")
    keep = _keep_shape(d.shape, axes)
    xp = xp_of(d)
    src = d.astype(np.float32) if _is_low(d) else d
    if _pyany(d.shape[ax] == 0 for ax in axes):
        r = xp.full(keep, -_INF, dtype=src.dtype)
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = xp.amax(src, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(src.dtype)
            r = xp.log(xp.sum(xp.exp(src - m), axis=axes, keepdims=True)) + m
    if not keepdim:
        r = r.reshape(_out_shape(d.shape, axes, False))
    r = r.astype(d.dtype, copy=False)
    return record(r, _LogsumexpBackward, (input,), save=(input,), save_output=True, keep=keep)


# --------------------------------------------------------------------------- cumulative ops
def _scan_dtype(d, dtype):
    """Source array for cumsum/cumprod: ints and bools accumulate in int64."""
    if dtype is not None:
        return d
    if d.dtype.kind in "biu":
        return d.astype(np.int64)
    return d


class _CumsumBackward(Node):
    def backward_t(self, g):
        if g._data.ndim == 0:
            return (g,)
        return (_revcumsum(g, self.dim),)


_CumsumBackward.__name__ = "CumsumBackward0"


def cumsum(input, dim, *, dtype=None, out=None) -> Tensor:
    """Cumulative sum along ``dim`` (ints and bools give int64)."""
    _check(input, "cumsum")
    if out is not None:
        return _write_out(out, cumsum(input, dim, dtype=dtype))
    input = _dtype_arg(input, dtype)
    a = input._data
    d = _dim1(dim, a.ndim, "cumsum")
    src = _scan_dtype(a, dtype)
    if a.ndim == 0:
        r = src.copy()
    elif _is_low(src):
        r = np.cumsum(src, axis=d, dtype=np.float32).astype(src.dtype)
    else:
        r = src.cumsum(axis=d)
    return record(r, _CumsumBackward, (input,), dim=d)


class _CumprodBackward(Node):
    def backward_t(self, g, x):
        if x._data.ndim == 0:
            return (g,)
        return (_cumprod_grad(g, x, self.dim),)


_CumprodBackward.__name__ = "CumprodBackward0"


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
    before = _const(xp.broadcast_to(j < first, a.shape))
    at_z = _const(xp.broadcast_to(j == first, a.shape))
    after = _const(xp.broadcast_to(j > first, a.shape))
    # before the first zero: the usual formula; from it on: the cumprod gradient of x with that
    # zero replaced by one, times the zero itself past it (so its derivative is kept)
    head = _revcumsum(g * y, d) / where(before, x, 1.0)
    x1 = where(at_z, 1.0, x)
    xz = _expand(sum(where(at_z, x, 0.0), d, keepdim=True), a.shape)
    tail = _cumprod_grad(g, x1, d) * where(after, xz, 1.0)
    return where(before, head, tail)


def cumprod(input, dim, *, dtype=None, out=None) -> Tensor:
    """Cumulative product along ``dim``; the gradient is exact with zeros in the input."""
    _check(input, "cumprod")
    if out is not None:
        return _write_out(out, cumprod(input, dim, dtype=dtype))
    input = _dtype_arg(input, dtype)
    a = input._data
    d = _dim1(dim, a.ndim, "cumprod")
    src = _scan_dtype(a, dtype)
    if a.ndim == 0:
        r = src.copy()
    elif _is_low(src):
        r = np.cumprod(src, axis=d, dtype=np.float32).astype(src.dtype)
    else:
        r = np.cumprod(src, axis=d)
    return record(r, _CumprodBackward, (input,), save=(input,), dim=d)


class _CumExtremeBackward(Node):
    def backward_t(self, g):
        return (_put(g, self.idx, self.dim, self.idx.shape, False),)


def _cum_extreme(input, dim, op: str, ufunc, rt, name: str):
    _check(input, op)
    a = input._data
    d = _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return rt(*_over_1d(input, lambda t: _cum_extreme(t, 0, op, ufunc, rt, name)))
    xp = xp_of(a)
    m = ufunc.accumulate(a, axis=d)
    mark = a == m
    if a.dtype.kind in "fc":
        mark |= xp.isnan(a)
    # the index of the latest element that set the running extreme (ties move it forward)
    idx = xp.maximum.accumulate(xp.where(mark, _along(a.shape[d], d, a.ndim, xp), 0),
                                axis=d).astype(np.int64)
    values = record(m, _CumExtremeBackward, (input,), idx=idx, dim=d, _name=name)
    return rt(values, _wrap(idx))


def cummax(input, dim):
    """Named tuple (values, indices) of the running maximum along ``dim`` (NaN propagates)."""
    return _cum_extreme(input, dim, "cummax", np.maximum, return_types.cummax, "CummaxBackward0")


def cummin(input, dim):
    """Named tuple (values, indices) of the running minimum along ``dim`` (NaN propagates)."""
    return _cum_extreme(input, dim, "cummin", np.minimum, return_types.cummin, "CumminBackward0")


class _LogcumsumexpBackward(Node):
    def backward_t(self, g, x, res):
        # grad_j = sum_{i>=j} g_i exp(x_j - y_i), split by the sign of g and summed in log space;
        # a very negative finite stand-in for log(0) keeps every derivative finite
        d = self.dim
        gd = g._data
        low = _pyfloat(np.finfo(gd.dtype).min) / 8 if gd.dtype.kind == "f" else -1e30
        out = None
        for sgn in (1.0, -1.0):
            pm = gd * sgn > 0
            if not pm.any():
                continue
            pos = _const(pm)
            lg = where(pos, where(pos, g * sgn, 1.0).log(), low)
            term = (x + _revlogcumsumexp(lg - res, d)).exp() * sgn
            out = term if out is None else out + term
        if out is None:
            out = x * 0.0
        return (out,)


_LogcumsumexpBackward.__name__ = "LogcumsumexpBackward0"


def _revlogcumsumexp(t: Tensor, d: int) -> Tensor:
    return _flip(logcumsumexp(_flip(t, d), d), d)


class _FlipBackward(Node):
    def backward_t(self, g):
        return (_flip(g, self.dim),)


def _flip(t: Tensor, d: int) -> Tensor:
    xp = xp_of(t._data)
    return record(xp.ascontiguousarray(xp.flip(t._data, d)), _FlipBackward, (t,), dim=d)


def logcumsumexp(input, dim) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    _check(input, "logcumsumexp")
    input = _to_float(input)
    a = input._data
    d = _dim1(dim, a.ndim, "logcumsumexp")
    if a.ndim == 0:
        return input.clone()
    src = a.astype(np.float32) if _is_low(a) else a
    with np.errstate(invalid="ignore"):
        r = np.logaddexp.accumulate(src, axis=d).astype(a.dtype, copy=False)
    return record(r, _LogcumsumexpBackward, (input,), save=(input,), save_output=True, dim=d)


# --------------------------------------------------------------------------- all / any / count_nonzero
def _logical_reduce(input, dim, keepdim, op: str, fn) -> Tensor:
    _check(input, op)
    a = input._data
    axes = _axes(dim, a.ndim, op)
    r = fn(a, axis=axes, keepdims=keepdim)
    if a.dtype == np.uint8:
        r = r.astype(np.uint8)
    return _wrap(xp_of(a).asarray(r))


def all(input, dim=None, keepdim: bool = False, *, out=None) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` (int, tuple or None) is nonzero (uint8 stays uint8)."""
    if out is not None:
        return _write_out(out, all(input, dim, keepdim))
    return _logical_reduce(input, dim, keepdim, "all", np.all)


def any(input, dim=None, keepdim: bool = False, *, out=None) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` (int, tuple or None) is nonzero."""
    if out is not None:
        return _write_out(out, any(input, dim, keepdim))
    return _logical_reduce(input, dim, keepdim, "any", np.any)


def count_nonzero(input, dim=None) -> Tensor:
    """Number of nonzero elements over ``dim`` (int, tuple or None), as int64."""
    _check(input, "count_nonzero")
    a = input._data
    axes = _axes(dim, a.ndim, "count_nonzero")
    r = np.sum(a != 0, axis=axes, dtype=np.int64)
    return _wrap(xp_of(a).asarray(r))


# --------------------------------------------------------------------------- sorting and selection
def _sort_idx(a, d: int, descending: bool):
    """Stable argsort along ``d``; NaN sorts as the largest value (last ascending, first descending)."""
    xp = xp_of(a)
    if a.dtype.kind == "c":
        raise RuntimeError("sort(): complex tensors cannot be sorted")
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    i = xp.argsort(xp.flip(a, d), axis=d, kind="stable")
    return (n - 1) - xp.flip(i, d)


def _over_1d(input: Tensor, fn):
    """Runs a same-shape op on a 0-d tensor as on a 1-element vector."""
    vals, idx = fn(_reshape(input, (1,)))
    return _reshape(vals, ()), _wrap(idx._data.reshape(()))


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None):
    """Named tuple (values, indices) sorted along ``dim`` (NaN counts as largest). The sort is
    always stable."""
    if out is not None:
        return _write_outs(out, sort(input, dim, descending, stable), "sort")
    _check(input, "sort")
    a = input._data
    d = _dim1(dim, a.ndim, "sort")
    if a.ndim == 0:
        return return_types.sort(*_over_1d(input, lambda t: sort(t, 0, descending)))
    idx = _sort_idx(a, d, bool(descending)).astype(np.int64, copy=False)
    return return_types.sort(_take(input, idx, d, unique=True), _wrap(idx))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim`` (stable)."""
    _check(input, "argsort")
    a = input._data
    d = _dim1(dim, a.ndim, "argsort")
    if a.ndim == 0:
        return _wrap(xp_of(a).zeros((), dtype=np.int64))
    return _wrap(_sort_idx(a, d, bool(descending)).astype(np.int64, copy=False))


def msort(input) -> Tensor:
    """Sorts along the first dimension."""
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None):  # noqa: A002
    """Named tuple (values, indices) of the ``k`` largest (or smallest) elements along ``dim``."""
    if out is not None:
        return _write_outs(out, topk(input, k, dim, largest, sorted), "topk")
    _check(input, "topk")
    if isinstance(k, Tensor):
        k = k.__index__()
    if not isinstance(k, (_pyint, np.integer)) or isinstance(k, _pybool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    a = input._data
    d = _dim1(dim, a.ndim, "topk")
    n = a.shape[d] if a.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, dimension {d} has size {n})")
    if a.ndim == 0:
        if k == 1:
            return return_types.topk(*_over_1d(input, lambda t: topk(t, 1, 0, largest)))
        return return_types.topk(_wrap(xp_of(a).zeros((), dtype=a.dtype)[None][:0]),
                                 _wrap(xp_of(a).zeros((0,), dtype=np.int64)))
    idx = _sort_idx(a, d, bool(largest))
    idx = xp_of(a).take(idx, xp_of(a).arange(k), axis=d).astype(np.int64, copy=False)
    return return_types.topk(_take(input, idx, d, unique=True), _wrap(idx))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """Named tuple (values, indices): the ``k``-th smallest element (1-based) along ``dim``."""
    if out is not None:
        return _write_outs(out, kthvalue(input, k, dim, keepdim), "kthvalue")
    _check(input, "kthvalue")
    if isinstance(k, Tensor):
        k = k.__index__()
    if not isinstance(k, (_pyint, np.integer)) or isinstance(k, _pybool):
        raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
    a = input._data
    d = _dim1(dim, a.ndim, "kthvalue")
    n = a.shape[d] if a.ndim else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} (k={k}, "
                           f"size {n})")
    if a.ndim == 0:
        return _scalar_pick(input, return_types.kthvalue, "KthvalueBackward0")
    xp = xp_of(a)
    idx = xp.take(_sort_idx(a, d, False), xp.asarray([k - 1]), axis=d)
    return _pick_along(input, idx, d, keepdim, return_types.kthvalue, "KthvalueBackward0")


def _median_dim(input, dim, keepdim, op: str, ignore_nan: bool, rt):
    a = input._data
    name = "NanmedianBackward1" if ignore_nan else "MedianBackward1"
    d = _dim1(dim, a.ndim, op)
    if a.ndim == 0:
        return _scalar_pick(input, rt, name)
    _nonempty(a, (d,), op)
    xp = xp_of(a)
    n = a.shape[d]
    perm = _sort_idx(a, d, False)
    if a.dtype.kind in "fc":
        nn = xp.sum(xp.isnan(a), axis=d, keepdims=True)
    else:
        nn = xp.zeros(_keep_shape(a.shape, (d,)), dtype=np.int64)
    if ignore_nan:
        k = n - nn
        pos = xp.where(k > 0, (k - 1) // 2, 0)
    else:
        pos = xp.where(nn > 0, n - nn, (n - 1) // 2)
    idx = xp.take_along_axis(perm, pos.astype(np.int64), axis=d)
    return _pick_along(input, idx, d, keepdim, rt, name)


def _median_all(input, op: str, ignore_nan: bool) -> Tensor:
    a = input._data
    xp = xp_of(a)
    flat = a.reshape(-1)
    name = "NanmedianBackward0" if ignore_nan else "MedianBackward0"
    if a.dtype.kind in "fc":
        nan = xp.isnan(flat)
        if ignore_nan:
            flat = flat[~nan]
        elif nan.any():
            flat = flat[:0]
            r = xp.asarray(_NAN, dtype=a.dtype)
            return record(r, _EvenlyBackward, (input,), save=(input,), save_output=True, nan_eq=True,
                          _name=name)
    n = flat.shape[0]
    if n == 0:
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"{op}(): input tensor is empty")
        r = xp.asarray(_NAN, dtype=a.dtype)
    else:
        k = (n - 1) // 2
        r = xp.partition(flat, k)[k]
    return record(xp.asarray(r), _EvenlyBackward, (input,), save=(input,), save_output=True, nan_eq=True,
                  _name=name)


def median(input, dim=None, keepdim: bool = False, *, out=None):
    """``median(input)``: the lower median (NaN if any element is NaN); the gradient is split
    evenly among equal elements. ``median(input, dim, keepdim=False)``: named tuple (values, indices)."""
    if out is not None:
        return _write_outs(out, median(input, dim, keepdim), "median")
    _check(input, "median")
    if dim is None:
        return _median_all(input, "median", False)
    return _median_dim(input, dim, keepdim, "median", False, return_types.median)


def nanmedian(input, dim=None, keepdim: bool = False, *, out=None):
    """median ignoring NaN (NaN only where a slice holds nothing else)."""
    if out is not None:
        return _write_outs(out, nanmedian(input, dim, keepdim), "nanmedian")
    _check(input, "nanmedian")
    if dim is None:
        return _median_all(input, "nanmedian", True)
    return _median_dim(input, dim, keepdim, "nanmedian", True, return_types.nanmedian)


def mode(input, dim: int = -1, keepdim: bool = False, *, out=None):
    """Named tuple (values, indices): the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and the index of its last occurrence."""
    if out is not None:
        return _write_outs(out, mode(input, dim, keepdim), "mode")
    _check(input, "mode")
    a = input._data
    d = _dim1(dim, a.ndim, "mode")
    if a.ndim == 0:
        return _scalar_pick(input, return_types.mode, "ModeBackward0")
    _nonempty(a, (d,), "mode")
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
    return _pick_along(input, xp.ascontiguousarray(idx), d, keepdim, return_types.mode, "ModeBackward0")


def _quantile(input, q, dim, keepdim, interpolation, op: str, ignore_nan: bool) -> Tensor:
    _check(input, op)
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {_tname(a)}")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or "
                         f"nearest. Got {interpolation}")
    xp = xp_of(a)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got {q.ndim}-D")
        scalar = q.ndim == 0
        qs = q._data.reshape(-1).astype(np.float64)
    elif isinstance(q, (_pyfloat, _pyint, np.floating)) and not isinstance(q, _pybool):
        scalar = True
        qs = xp.asarray([_pyfloat(q)])
    else:
        raise TypeError(f"{op}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    if qs.size and bool(((qs < 0) | (qs > 1) | xp.isnan(qs)).any()):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if dim is None:
        x = _reshape(input, (-1,))
        d = 0
    else:
        d = _dim1(dim, a.ndim, op)
        x = input if a.ndim else _reshape(input, (1,))
    xd = x._data
    n = xd.shape[d]
    if n == 0:
        raise IndexError(f"{op}() input tensor must be non-empty")
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
    vlo = _take(s, lo, d)
    if interpolation in ("linear", "midpoint"):
        w = (rank - lo) if interpolation == "linear" else xp.where(hi > lo, 0.5, 0.0)
        vhi = _take(s, hi, d)
        res = vlo + (vhi - vlo) * _const(w.astype(xd.dtype))
    else:
        res = vlo
    bad = (k == 0) if ignore_nan else (nan_cnt > 0)
    if bool(bad.any()):
        res = where(_const(xp.broadcast_to(bad, res._data.shape)), _NAN, res)
    # res has the q values along d: move them first, then drop or keep the reduced dim
    if dim is None:
        out_shape = ((1,) * a.ndim) if keepdim else ()
        res = _reshape(res, ((qs.size,) if not scalar else ()) + out_shape)
        return res
    res = _moveaxis(res, d, 0)
    rest = res._data.shape[1:]  # the other dims, in order
    if a.ndim == 0:
        rest = ()
    elif keepdim:
        rest = rest[:d] + (1,) + rest[d:]
    return _reshape(res, (() if scalar else (qs.size,)) + rest)


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None):
    """The ``q``-th quantiles (float or 1-D tensor in [0, 1]) along ``dim`` (None: flattened);
    NaN where a slice holds NaN. A 1-D ``q`` adds a leading dimension."""
    if out is not None:
        return _write_outs(out, quantile(input, q, dim, keepdim, interpolation=interpolation), "quantile")
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None):
    """quantile ignoring NaN."""
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


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim=None):
    """Unique elements (sorted; NaNs are all distinct), optionally with the inverse indices
    (input shape, or the length of ``dim``) and the counts. With ``dim``, unique slices."""
    _check(input, "unique")
    a = input._data
    xp = xp_of(a)
    kw = {"equal_nan": False} if xp is np else {}
    if dim is None:
        u, inv, cnt = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True, **kw)
        inv = inv.reshape(a.shape)
    else:
        d = _dim1(dim, a.ndim, "unique")
        if a.ndim == 0:
            u, inv, cnt = a.copy(), xp.zeros((), np.int64), xp.ones((), np.int64)
        elif a.shape[d] == 0:
            u, inv, cnt = a.copy(), xp.zeros((0,), np.int64), xp.zeros((0,), np.int64)
        else:
            u, inv, cnt = xp.unique(a, axis=d, return_inverse=True, return_counts=True, **kw)
            inv = inv.reshape(-1)
    return _unique_out(_wrap(u), inv, cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapses runs of equal consecutive elements (or slices along ``dim``)."""
    _check(input, "unique_consecutive")
    a = input._data
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
        d = _dim1(dim, a.ndim, "unique_consecutive")
        if a.ndim == 0:
            return _unique_out(_wrap(a.copy()), xp.zeros((), np.int64), xp.ones((), np.int64),
                               return_inverse, return_counts)
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


# --------------------------------------------------------------------------- names and methods
def _named(node_cls, default):
    def name(self) -> str:
        return self.__dict__.get("_name", default)
    node_cls.name = name


for _cls, _default in ((_EvenlyBackward, "MaxBackward1"), (_IndexedBackward, "MaxBackward0"),
                       (_AmaxBackward, "AmaxBackward0"), (_CumExtremeBackward, "CummaxBackward0")):
    _named(_cls, _default)


def _tensor_cumsum_(self, dim, *, dtype=None):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda t: cumsum(t, dim, dtype=dtype), "cumsum_")


def _tensor_cumprod_(self, dim, *, dtype=None):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda t: cumprod(t, dim, dtype=dtype), "cumprod_")


_ALIASED = ("prod", "nansum", "nanmean", "max", "min", "amax", "amin", "aminmax", "argmax", "argmin",
            "var", "std", "var_mean", "std_mean", "logsumexp", "logcumsumexp", "cumsum", "cumprod",
            "cummax", "cummin", "all", "any", "count_nonzero", "topk", "sort", "argsort", "kthvalue",
            "median", "nanmedian", "mode", "quantile", "nanquantile")
for _n in _ALIASED:
    globals()[_n] = _np_aliases(globals()[_n])


def _attach() -> None:
    T = Tensor
    for name in ("sum", "mean", "prod", "nansum", "nanmean", "max", "min", "amax", "amin", "aminmax",
                 "argmax", "argmin", "var", "std", "norm", "logsumexp", "logcumsumexp", "cumsum",
                 "cumprod", "cummax", "cummin", "all", "any", "count_nonzero", "topk", "sort",
                 "argsort", "msort", "kthvalue", "unique", "unique_consecutive", "median",
                 "nanmedian", "mode", "quantile", "nanquantile"):
        setattr(T, name, globals()[name])
    T.cumsum_ = _tensor_cumsum_
    T.cumprod_ = _tensor_cumprod_


_attach()
