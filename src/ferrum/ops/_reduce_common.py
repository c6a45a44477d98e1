"""What the reductions (``reduce.py``), the scans (``scan.py``) and the sorting and selection ops
(``sort.py``) share: the named tuples of ``torch.return_types``, argument checks (dims, the NumPy
``axis``/``keepdims`` spellings, ``out=`` tuples), dtype predicates, and the two backward steps
of a reduction that picks elements instead of combining them:

- :class:`PickBackward` for values taken at known indices along a dim (``max(dim)``, ``sort``,
  ``kthvalue``, ``median(dim)``, ``mode``, ...): the gradient is scattered back to those indices;
- :class:`EvenlyBackward` for a full reduction to one picked value (``max()``, ``median()``):
  the gradient is split evenly among the elements equal to it.

Each user subclasses them with PyTorch's node name (``class _MaxBackward0(PickBackward,
name="MaxBackward0")``). The module sits one floor below the three op modules so that none of
them imports another.
"""

from __future__ import annotations

import builtins
import collections
import types

import numpy as np

from .._dtype import as_dtype, from_np, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._common import canon_dim, canon_dims, xp_of
from .elementwise import _cast, _write_out

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool


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
    """PyTorch's scalar-type name of array ``a`` ('Float', 'Long', ...) for error messages."""
    return scalar_name(from_np(a.dtype))


def _is_float(a) -> bool:
    """Floating or complex array, bfloat16 (NumPy kind 'V') included."""
    k = a.dtype.kind
    return k == "f" or k == "c" or (k == "V" and from_np(a.dtype).category >= 2)


def _is_low(a) -> bool:
    """float16 / bfloat16: reduced in float32 and cast back, for accuracy."""
    return a.dtype.itemsize == 2 and (a.dtype.kind == "f" or a.dtype.kind == "V")


def _has_nan(a) -> bool:
    """Whether values of ``a``'s dtype can be NaN (floating, complex, bfloat16)."""
    return a.dtype.kind in "fcV"


def _no_complex(a, op: str) -> None:
    """Ordering ops refuse complex input, as PyTorch's do."""
    if a.dtype.kind == "c":
        raise RuntimeError(f"{op}(): does not support complex input")


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


def _fast_axes(dim, ndim: int, op: str) -> tuple:
    """_axes with a shortcut for the common in-range int."""
    if dim.__class__ is _pyint and 0 <= dim < ndim:
        return (dim,)
    return _axes(dim, ndim, op)


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


def _np_axis(dim, keepdim, axis, keepdims, op: str, default=None):
    """NumPy's ``axis=`` / ``keepdims=`` spellings of ``dim`` / ``keepdim``, which PyTorch accepts
    everywhere: every op takes them as explicit keywords and calls this only when one is given."""
    if axis is not None:
        if not (dim is default or dim == default):
            raise TypeError(f"{op}(): got both 'dim' and its alias 'axis'")
        dim = axis
    return dim, (keepdim if keepdims is None else keepdims)


def _required_dim(dim, axis, op: str):
    """``dim`` of an op that needs one (given positionally, as ``dim=`` or as ``axis=``)."""
    if axis is not None:
        dim = _np_axis(dim, False, axis, None, op)[0]
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'dim'")
    return dim


def _nonempty(a, axes, op: str) -> None:
    for ax in axes:
        if a.shape[ax] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {ax} to have non-zero size.")


def _no_dim_empty(op: str) -> RuntimeError:
    return RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                        "Specify the reduction dim with the 'dim' argument.")


def _write_outs(out, res, op: str):
    """``out=`` for ops that may return a named tuple: ``out`` is then a tuple of tensors."""
    if isinstance(res, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(res):
            raise TypeError(f"{op}(): argument 'out' must be a tuple of {len(res)} Tensors")
        return type(res)(*(_write_out(o, r) for o, r in zip(out, res)))
    return _write_out(out, res)


# --------------------------------------------------------------------------- picking reductions
class PickBackward(Node):
    """Gradient of values taken at ``idx`` (an int64 array of the kept-dim shape) along ``dim`` of
    an input of ``shape``: scattered back to those positions (``dup``: indices may repeat, so
    they accumulate)."""

    def backward_t(self, g):
        idx = self.idx
        z = g.new_zeros(self.shape)
        if self.dup:
            return (z.scatter_add(self.dim, _wrap(idx), g),)
        return (z.scatter(self.dim, _wrap(idx), g.reshape(idx.shape)),)


def _pick_along(input: Tensor, idx, d: int, keepdim: bool, rt, node_cls):
    """(values, indices) for indices ``idx`` (shape with 1 at ``d``, or any size along ``d`` when
    ``keepdim``) of ``input`` along ``d``."""
    a = input._data
    xp = xp_of(a)
    idx = idx.astype(np.int64, copy=False)
    vals = xp.take_along_axis(a, idx, axis=d)
    if not keepdim:
        vals = vals.reshape(_out_shape(a.shape, (d,), False))
        ind = idx.reshape(vals.shape)
    else:
        ind = idx
    values = record(vals, node_cls, (input,), idx=idx, dim=d, shape=a.shape, dup=False)
    return rt(values, _wrap(ind))


def _scalar_pick(input: Tensor, rt, node_cls):
    """A selection along dim 0 of a 0-d tensor: the value itself, index 0."""
    idx = xp_of(input._data).zeros((1,), dtype=np.int64)
    return _pick_along(input.reshape(1), idx, 0, False, rt, node_cls)


def _over_1d(input: Tensor, fn):
    """Runs a same-shape (values, indices) op on a 0-d tensor as on a 1-element vector."""
    vals, idx = fn(input.reshape(1))
    return vals.reshape(()), _wrap(idx._data.reshape(()))


def _expand0(g: Tensor, shape: tuple) -> Tensor:
    """A 0-d gradient broadcast to ``shape``: first to as many ones as ``shape`` has dims, so that
    ``expand`` never has to add a leading 0-size dim (which it gets wrong for shapes like (1, 0))."""
    return g.reshape((1,) * len(shape)).expand(shape)


class EvenlyBackward(Node):
    """Gradient of a full reduction to one picked value: split evenly among the elements equal to
    it (NaN counts as equal to a NaN result)."""

    def backward_t(self, g, x, res):
        a, o = x._data, res._data
        mask = a == o
        if _has_nan(a) and np.isnan(o):
            mask = np.isnan(a)
        w = mask / mask.sum()
        return (_expand0(g, a.shape) * _wrap(w.astype(a.dtype)),)
