"""Indexing ops: ``t[key]``, ``t[key] = v``, gather/scatter, index_*, masked_*, take, nonzero.

Everything reduces to three primitives on raw keys (tuples NumPy understands):

- basic indexing (ints, slices, None, Ellipsis): a view of the input, with a hand-written node
  whose backward embeds the gradient into zeros;
- ``_adv(t, key)``: advanced indexing (a copy); backward puts (accumulating when the key can hold
  duplicates) the gradient into zeros;
- ``_put(base, key, values, acc)``: an out-of-place index_put; backward gives ``g`` (or ``g`` with
  the written positions zeroed) to ``base`` and ``g[key]`` (summed to the values' shape) to
  ``values``.

The two last ones are each other's backward, so every gradient is differentiable again. gather,
scatter, index_select, index_add, take, ... build a coordinate key and call them. Combining ints
with index arrays follows PyTorch: the ints (and slices, None) are applied first as a view, then
the arrays index that view.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import _state
from .._dtype import from_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, edge, record, sum_to
from . import elementwise as E
from ._common import canon_dim, same_device, xp_of
from .inplace import apply_inplace, check_inplace

__all__ = [
    "index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
    "index_fill", "index_put", "index_put_", "masked_fill", "masked_select", "masked_scatter", "take",
    "take_along_dim", "put", "nonzero", "argwhere",
]

_new = object.__new__
_ndarray = np.ndarray
_pyint, _pyfloat, _pybool, _pyslice = builtins.int, builtins.float, builtins.bool, builtins.slice
_NoneType = type(None)
_EllipsisType = type(Ellipsis)
_BASIC = frozenset((_pyint, _NoneType, _EllipsisType))
_ALL = _pyslice(None)
_npint64, _npint32 = np.int64, np.int32

_TNAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(a) -> str:
    """PyTorch's scalar type name of an array's dtype ('Float', 'Long', ...)."""
    try:
        return _TNAMES.get(from_np(a.dtype).name, str(a.dtype))
    except TypeError:
        return str(a.dtype)


def _is_number(v) -> bool:
    return isinstance(v, (_pyint, _pyfloat, complex, np.generic)) and not isinstance(v, np.ndarray)


# --------------------------------------------------------------------------- raw helpers
def _zeros(shape, dt, like):
    if like.__class__ is _ndarray:
        return np.zeros(shape, dt)
    return xp_of(like).zeros(shape, dt)


def _xp(like):
    return np if like.__class__ is _ndarray else xp_of(like)


def _to_dev(a, like):
    """Index array ``a`` on the device of array ``like``."""
    if a.__class__ is like.__class__:
        return a
    if like.__class__ is _ndarray:
        return a.get()
    return xp_of(like).asarray(a)


def _ufunc_at(name: str, a, key, v) -> None:
    """``np.<name>.at(a, key, v)`` (unbuffered, duplicates combine) on NumPy or CuPy arrays."""
    if a.__class__ is _ndarray:
        getattr(np, name).at(a, key, v)
        return
    import cupyx
    fn = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max, "minimum": cupyx.scatter_min}.get(name)
    if fn is not None:
        fn(a, key, v)
    else:
        getattr(xp_of(a), name).at(a, key, v)


def _has_arrays(key) -> bool:
    for k in key:
        if hasattr(k, "dtype") and hasattr(k, "shape"):
            return True
    return False


def _may_dup(key) -> bool:
    """True when an index array in ``key`` holds integers (duplicates possible)."""
    for k in key:
        if hasattr(k, "dtype") and k.dtype.kind != "b":
            return True
    return False


def _raw_index(a, key):
    r = a[key]
    if r.__class__ is not a.__class__:
        r = np.asarray(r)
    return r


def _index_error(e: Exception, d) -> IndexError:
    """PyTorch's wording for a NumPy IndexError raised while indexing array ``d``."""
    msg = str(e)
    if "out of bounds" in msg:
        return IndexError(msg.replace("for axis", "for dimension"))
    if "too many indices" in msg:
        if d.ndim == 0:
            return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                              "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        return IndexError(f"too many indices for tensor of dimension {d.ndim}")
    if "shape mismatch" in msg:
        return IndexError(msg.replace("indexing arrays", "indexing tensors"))
    if "boolean index did not match" in msg:
        return IndexError("The shape of the mask does not match the shape of the indexed tensor: "
                          + msg.replace("axis", "dimension"))
    return IndexError(msg)


def _write(out, key, v, acc: bool) -> None:
    """``out[key] = v`` or, with ``acc``, ``out[key] += v`` with duplicates accumulating."""
    try:
        if acc:
            if not _add_rows(out, key, v):
                _ufunc_at("add", out, key, v)
        else:
            out[key] = v
    except IndexError as e:
        raise _index_error(e, out) from None
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                               "refers to a single memory location (for example an expanded view). "
                               "Please clone() the tensor before performing the operation.") from None
        try:
            rs = list(out[key].shape)
        except Exception:
            rs = "?"
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {rs}") from None


def _add_rows(out, key, v) -> bool:
    """Fast ``out[key] += v`` (duplicates accumulating) for ``key = (:, .., :, idx)`` with a 1-D
    integer ``idx`` on a NumPy array, as in embedding / index_select backward; False when the key has
    another form (the caller falls back to ``np.add.at``, which is slow per element).

    Entries are sorted by how many times their index occurred before; each such round has distinct
    indices and is one vectorized ``+=``. Once a round is thin (fewer than 16 indices repeat that
    often), the remaining entries of each of those few indices are summed in one go."""
    if out.__class__ is not _ndarray or v.__class__ is not _ndarray:
        return False
    dim = len(key) - 1
    idx = key[-1]
    if dim < 0 or not hasattr(idx, "dtype") or idx.ndim != 1 or idx.dtype.kind not in "iu":
        return False
    n = idx.shape[0]
    if n < 2 or v.size < 4096:
        return False
    for k in key[:-1]:
        if k is not _ALL and k != _ALL:
            return False
    size = out.shape[dim]
    if v.shape != out.shape[:dim] + (n,) + out.shape[dim + 1:]:
        return False
    lo, hi = _pyint(idx.min()), _pyint(idx.max())
    if lo < -size or hi >= size:
        return False  # np.add.at raises the error
    if lo < 0:
        idx = np.where(idx < 0, idx + size, idx)
    pre = (_ALL,) * dim
    order = np.argsort(idx, kind="stable")
    si = idx[order]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(si[1:], si[:-1], out=new[1:])
    if new.all():  # no duplicates: one round
        out[pre + (idx,)] += v
        return True
    starts = np.flatnonzero(new)
    rank = np.arange(n) - starts[np.cumsum(new) - 1]
    by_rank = order[np.argsort(rank, kind="stable")]
    counts = np.bincount(rank)
    pos = 0
    for c in counts:
        c = _pyint(c)
        if c < 16:
            break
        sel = by_rank[pos:pos + c]
        out[pre + (idx[sel],)] += v[pre + (sel,)]
        pos += c
    if pos < n:  # fewer than 16 indices occur this often: sum each one's entries at once
        sel = by_rank[pos:]
        ti = idx[sel]
        for u in np.unique(ti):
            out[pre + (_pyint(u),)] += v[pre + (sel[ti == u],)].sum(axis=dim)
    return True


def _check_range(idx, n: int, dim: int, exc, prefix: str = "", allow_neg: bool = False) -> None:
    """Raises ``exc`` when an index in ``idx`` falls outside ``[0, n)`` (``[-n, n)`` with allow_neg)."""
    if idx.size == 0:
        return
    lo = _pyint(idx.min())
    hi = _pyint(idx.max())
    low = -n if allow_neg else 0
    if lo < low or hi >= n:
        bad = lo if lo < low else hi
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {n}")


def _coords(idx, dim: int, sizes, like) -> tuple:
    """Key selecting ``a[i0, .., idx[i0, ..], ..]``: ``idx`` at ``dim``, broadcast aranges elsewhere."""
    nd = len(sizes)
    xp = _xp(like)
    key = []
    for ax in range(nd):
        if ax == dim:
            key.append(idx)
        else:
            sh = [1] * nd
            sh[ax] = sizes[ax]
            key.append(xp.arange(sizes[ax]).reshape(sh))
    return tuple(key)


# --------------------------------------------------------------------------- basic indexing (views)
class _Reindex:
    """The view function of a basic-indexing view: re-applies the key to any tensor."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __call__(self, t):
        return t[self.key]


class SliceBackward0(Node):
    """Backward of basic indexing: the gradient embedded into zeros of the input's shape."""

    __slots__ = ("shape", "key")

    def backward(self, g):
        if g.__class__ is Tensor:
            return (_embed_basic(g, self.shape, self.key),)
        r = _zeros(self.shape, g.dtype, g)
        r[self.key] = g
        return (r,)


class SelectBackward0(SliceBackward0):
    __slots__ = ()


class _EmbedBackward(Node):
    """Backward of ``_embed_basic``: index the gradient again."""

    __slots__ = ("key",)

    def backward(self, g):
        if g.__class__ is Tensor:
            return (g[self.key],)
        return (_raw_index(g, self.key),)


_EmbedBackward.__name__ = "SliceBackwardBackward0"


def _embed_basic(g: Tensor, shape, key) -> Tensor:
    """Zeros of ``shape`` with ``g`` at basic key ``key`` (differentiable)."""
    gd = g._data
    r = _zeros(shape, gd.dtype, gd)
    r[key] = gd
    out = _wrap(r)
    if _state.grad_enabled and g.requires_grad:
        node = _new(_EmbedBackward)
        node.next = (edge(g),)
        node.key = key
        out.requires_grad = True
        out.grad_fn = node
    return out


def _view_out(self: Tensor, r, key, cls) -> Tensor:
    out = _new(Tensor)
    out._data = r
    out._grad = None
    out._version = self._version
    out._view = (self, _Reindex(key))
    out._hooks = None
    if _state.grad_enabled and self.requires_grad:
        node = _new(cls)
        node.next = (edge(self),)
        node.shape = self._data.shape
        node.key = key
        out.requires_grad = True
        out.grad_fn = node
    else:
        out.requires_grad = False
        out.grad_fn = None
    return out


def _basic(self: Tensor, key, cls=SliceBackward0) -> Tensor:
    d = self._data
    try:
        r = d[key]
    except IndexError as e:
        raise _index_error(e, d) from None
    if r.__class__ is not d.__class__:  # NumPy gives a scalar for a full integer key; we want a view
        r = d[(*key, Ellipsis)] if key.__class__ is tuple else d[key, ...]
    return _view_out(self, r, key, cls)


# --------------------------------------------------------------------------- advanced indexing
class IndexBackward0(Node):
    """Backward of advanced indexing: put (accumulating duplicates) the gradient into zeros."""

    __slots__ = ("shape", "key", "dup")

    def backward(self, g):
        if g.__class__ is Tensor:
            z = _wrap(_zeros(self.shape, g._data.dtype, g._data))
            return (_put(z, self.key, g, self.dup, IndexPutBackward0),)
        r = _zeros(self.shape, g.dtype, g)
        if self.dup:
            if not _add_rows(r, self.key, g):
                _ufunc_at("add", r, self.key, g)
        else:
            r[self.key] = g
        return (r,)


def _named(base, name):
    return type(name, (base,), {"__slots__": ()})


IndexSelectBackward0 = _named(IndexBackward0, "IndexSelectBackward0")
GatherBackward0 = _named(IndexBackward0, "GatherBackward0")
TakeBackward0 = _named(IndexBackward0, "TakeBackward0")
TakeAlongDimBackward0 = _named(IndexBackward0, "TakeAlongDimBackward0")
MaskedSelectBackward0 = _named(IndexBackward0, "MaskedSelectBackward0")


def _adv(t: Tensor, key, cls=IndexBackward0, dup=None) -> Tensor:
    """``t[key]`` for an advanced (or any) raw key, as a new tensor."""
    d = t._data
    try:
        r = d[key]
    except IndexError as e:
        raise _index_error(e, d) from None
    if r.__class__ is not d.__class__:
        r = np.asarray(r)
    elif not _has_arrays(key):
        r = r.copy()  # a basic key gives a view; this op promises a new tensor
    elif not r.flags.c_contiguous:  # NumPy may lay the result out transposed; PyTorch's is contiguous
        r = _xp(r).ascontiguousarray(r)
    out = _wrap(r)
    if _state.grad_enabled and t.requires_grad:
        node = _new(cls)
        node.next = (edge(t),)
        node.shape = d.shape
        node.key = key
        node.dup = _may_dup(key) if dup is None else dup
        out.requires_grad = True
        out.grad_fn = node
    return out


class IndexPutBackward0(Node):
    """Backward of ``_put``: ``base`` gets ``g`` (zeroed where written unless accumulating),
    ``values`` gets ``g[key]`` summed down to their shape."""

    __slots__ = ("key", "acc", "vshape")

    def backward(self, g):
        key = self.key
        gb = gv = None
        graph = g.__class__ is Tensor
        if self.next[0] is not None:
            if self.acc:
                gb = g
            elif graph:
                gb = _put(g, key, _wrap(_zeros((), g._data.dtype, g._data)), False, IndexPutBackward0)
            else:
                gb = g.copy()
                gb[key] = 0
        if self.next[1] is not None:
            if graph:
                gv = _adv(g, key)
            else:
                gv = _raw_index(g, key)
            vs = self.vshape
            if len(gv.shape) < len(vs):  # the values had extra leading ones
                pad = (None,) * (len(vs) - len(gv.shape))
                gv = gv[pad + (Ellipsis,)]
            if tuple(gv.shape) != tuple(vs):
                gv = sum_to(gv, vs)
        return gb, gv


IndexAddBackward0 = _named(IndexPutBackward0, "IndexAddBackward0")
IndexCopyBackward0 = _named(IndexPutBackward0, "IndexCopyBackward0")
IndexFillBackward0 = _named(IndexPutBackward0, "IndexFillBackward0")
ScatterBackward0 = _named(IndexPutBackward0, "ScatterBackward0")
ScatterAddBackward0 = _named(IndexPutBackward0, "ScatterAddBackward0")
MaskedScatterBackward0 = _named(IndexPutBackward0, "MaskedScatterBackward0")
PutBackward0 = _named(IndexPutBackward0, "PutBackward0")


def _put(base: Tensor, key, values: Tensor, acc: bool, cls=IndexPutBackward0) -> Tensor:
    """Out of place ``base[key] = values`` (``+=`` with duplicates accumulating when ``acc``)."""
    d = base._data
    if values._data.dtype != d.dtype:
        values = E._cast(values, from_np(d.dtype))
    vd = values._data
    if vd.__class__ is not d.__class__:
        if vd.ndim == 0 and not values.requires_grad:
            vd = _to_dev(vd, d)
        else:
            same_device("index_put", base, values)
    out = d.copy()
    _write(out, key, vd, acc)
    res = _wrap(out)
    if _state.grad_enabled and (base.requires_grad or values.requires_grad):
        node = _new(cls)
        node.next = (edge(base), edge(values))
        node.key = key
        node.acc = acc
        node.vshape = vd.shape
        res.requires_grad = True
        res.grad_fn = node
    return res


# --------------------------------------------------------------------------- key normalization
def _seq_as_tuple(seq) -> bool:
    """PyTorch's legacy rule: a list holding a tensor, sequence, slice, Ellipsis or None indexes
    like a tuple."""
    if len(seq) >= 32:
        return False
    for x in seq:
        if isinstance(x, (Tensor, list, tuple, _pyslice, np.ndarray)) or x is None or x is Ellipsis:
            return True
    return False


_BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
              "indices (got {})")
_BAD_TENSOR = "tensors used as indices must be long, int, byte or bool tensors"


def _slice_part(v):
    if v is None or v.__class__ is _pyint:
        return v
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("slice indices must be integers or None or have an __index__ method") from None


def _norm_array(a, like):
    """An index array: a bool mask, an integer array, or (0-d integer) a Python int."""
    k = a.dtype.kind
    if k == "b":
        return _to_dev(a, like)
    if k in "iu":
        if a.dtype == np.uint8:  # deprecated in PyTorch: a uint8 tensor indexes as a mask
            return _to_dev(a.astype(bool), like)
        if a.ndim == 0:
            return _pyint(a)
        if a.dtype == np.int64 or a.dtype == np.int32:
            return _to_dev(a, like)
    raise IndexError(_BAD_TENSOR)


def _norm_item(k, like):
    c = k.__class__
    if c is _pyint or k is None or k is Ellipsis:
        return k
    if c is _pybool or c is np.bool_:
        return np.asarray(k) if like.__class__ is _ndarray else _xp(like).asarray(k)
    if c is _pyslice:
        st = _slice_part(k.step)
        if st is not None and st <= 0:
            raise ValueError("step must be greater than zero")
        return _pyslice(_slice_part(k.start), _slice_part(k.stop), st)
    if c is Tensor or isinstance(k, Tensor):
        return _norm_array(k._data, like)
    if hasattr(k, "dtype") and hasattr(k, "shape") and hasattr(k, "ndim"):  # NumPy / CuPy arrays
        if isinstance(k, np.generic):
            k = np.asarray(k)
        return _norm_array(k, like)
    if isinstance(k, (list, tuple)):
        try:
            a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in k]
                           if any(isinstance(x, Tensor) for x in k) else k)
        except ValueError:
            raise IndexError("an index sequence must be rectangular (nested lists of equal lengths)") \
                from None
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.int64)
        if a.dtype.kind not in "biu":
            raise IndexError(_BAD_TENSOR)
        return _norm_array(a, like)
    if isinstance(k, (_pyfloat, complex, str, bytes)):
        raise IndexError(_BAD_INDEX.format(type(k).__name__))
    if hasattr(k, "__index__"):
        return operator.index(k)
    raise IndexError(_BAD_INDEX.format(type(k).__name__))


def _is_arr(k) -> bool:
    return hasattr(k, "dtype") and hasattr(k, "shape")


def _normalize(key, d):
    """Normalizes an indexing key for array ``d``.

    Returns ``("basic", key)``, ``("adv", key)`` or ``("split", basic_key, adv_key)`` (ints mixed
    with index arrays: the basic part is applied first, then the arrays index that view).
    """
    if key.__class__ is list:
        key = tuple(key) if _seq_as_tuple(key) else (key,)
    elif key.__class__ is not tuple:
        key = (key,)
    items = [_norm_item(k, d) for k in key]
    has_arr = has_int = False
    consumed = 0
    n_ell = 0
    for k in items:
        c = k.__class__
        if c is _pyint:
            has_int = True
            consumed += 1
        elif c is _pyslice:
            consumed += 1
        elif k is None:
            pass
        elif k is Ellipsis:
            n_ell += 1
        else:
            has_arr = True
            consumed += k.ndim if k.dtype.kind == "b" else 1
    nd = d.ndim
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > nd:
        if nd == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    if not has_arr:
        return ("basic", tuple(items))
    if n_ell:
        i = next(j for j, k in enumerate(items) if k is Ellipsis)
        items[i:i + 1] = [_ALL] * (nd - consumed)
    # bounds and mask-shape checks in PyTorch's words (input dims / step-1 output dims)
    shape = d.shape
    in_dim = 0
    out_dim = 0
    arrs = []
    for k in items:
        c = k.__class__
        if c is _pyint:
            n = shape[in_dim]
            if k < -n or k >= n:
                raise IndexError(f"index {k} is out of bounds for dimension {in_dim} with size {n}")
            in_dim += 1
        elif c is _pyslice:
            in_dim += 1
            out_dim += 1
        elif k is None:
            out_dim += 1
        elif k.dtype.kind == "b":
            m = k.ndim
            if tuple(k.shape) != tuple(shape[in_dim:in_dim + m]):
                j = next((j for j in range(m) if k.shape[j] != shape[in_dim + j]), 0)
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {j} does not match the "
                                 f"shape of the indexed tensor {list(shape)} at index {in_dim + j}")
            arrs.append((out_dim, k))
            in_dim += m
            out_dim += m
        else:
            if d.__class__ is not _ndarray:  # CuPy does not check bounds
                _check_range(k, shape[in_dim], in_dim, IndexError, allow_neg=True)
            arrs.append((out_dim, k))
            in_dim += 1
            out_dim += 1
    if not has_int:
        return ("adv", tuple(items))
    k1 = []
    for k in items:
        if _is_arr(k):
            k1.extend([_ALL] * (k.ndim if k.dtype.kind == "b" else 1))
        else:
            k1.append(k)
    k2 = []
    pos = 0
    for od, k in arrs:
        k2.extend([_ALL] * (od - pos))
        k2.append(k)
        pos = od + (k.ndim if k.dtype.kind == "b" else 1)
    return ("split", tuple(k1), tuple(k2))


# --------------------------------------------------------------------------- __getitem__
def _getitem(self: Tensor, key) -> Tensor:
    """``self[key]``: basic indexing gives a view, advanced indexing a copy (PyTorch's rules)."""
    c = key.__class__
    if c is _pyint:
        d = self._data
        if d.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        n = d.shape[0]
        if key < -n or key >= n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        r = d[key] if d.ndim > 1 else d[key, ...]
        return _view_out(self, r, key, SelectBackward0)
    if c is _pyslice:
        st = key.step
        if (st is None or (st.__class__ is _pyint and st > 0)) and \
                key.start.__class__ in _BASIC and key.stop.__class__ in _BASIC:
            if self._data.ndim == 0:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                                 "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
            return _view_out(self, self._data[key], key, SliceBackward0)
    elif c is tuple:
        for k in key:
            kc = k.__class__
            if kc in _BASIC:
                continue
            if kc is _pyslice:
                st = k.step
                if (st is None or (st.__class__ is _pyint and st > 0)) and \
                        k.start.__class__ in _BASIC and k.stop.__class__ in _BASIC:
                    continue
            break
        else:
            return _basic(self, key)
    elif key is None or key is Ellipsis:
        return _basic(self, key)
    elif c is Tensor:  # x[idx] with an index tensor (data loops)
        kd = key._data
        d = self._data
        if kd.ndim and kd.__class__ is d.__class__ and (kd.dtype == np.int64 or kd.dtype.kind == "b") \
                and d.ndim:
            if kd.dtype.kind == "b":
                if kd.shape != d.shape[:kd.ndim]:
                    return _adv(self, _normalize(key, d)[1])  # raises PyTorch's mask error
                return _adv(self, (kd,), IndexBackward0, False)
            if d.__class__ is _ndarray:
                return _adv(self, (kd,), IndexBackward0, True)
    elif c is _npint64 or c is _npint32:
        return _getitem(self, _pyint(key))
    kind = _normalize(key, self._data)
    if kind[0] == "basic":
        return _basic(self, kind[1])
    if kind[0] == "adv":
        return _adv(self, kind[1])
    return _adv(_basic(self, kind[1]), kind[2])


# --------------------------------------------------------------------------- __setitem__
def _value_for(self: Tensor, value):
    """The value of a setitem-like op as a Tensor (numbers become 0-d constants of self's dtype)."""
    if isinstance(value, Tensor):
        return value
    if _is_number(value):
        return _const(value, self._data)
    raise TypeError(f"can't assign a {type(value).__name__} to a {_type_str(self)}")


def _type_str(t: Tensor) -> str:
    return f"ferrum.{_tname(t._data)}Tensor"


def _const(value, like) -> Tensor:
    """A 0-d tensor holding number ``value`` in ``like``'s dtype and device."""
    dt = like.dtype
    if isinstance(value, complex) and dt.kind != "c":
        raise RuntimeError(f"value cannot be converted to type {from_np(dt).name} without overflow")
    if isinstance(value, np.generic):
        value = value.item()
    a = np.asarray(value).astype(dt)
    if like.__class__ is not _ndarray:
        a = _xp(like).asarray(a)
    return _wrap(a)


def _setitem(self: Tensor, key, value) -> None:
    """``self[key] = value``: value a tensor (broadcast, cast to self's dtype) or a number."""
    c = key.__class__
    if c is _pyint or key is Ellipsis or key is None:
        kind = ("basic", key)
    elif c is _pyslice and key.step is None and key.start.__class__ in _BASIC and \
            key.stop.__class__ in _BASIC:
        kind = ("basic", key)
    else:
        kind = _normalize(key, self._data)
    if value.__class__ is Tensor or isinstance(value, Tensor):
        vreq = value.requires_grad
    elif _is_number(value):
        vreq = False
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a {_type_str(self)}")
    if not (_state.grad_enabled and (self.requires_grad or vreq)):
        d = self._data
        if isinstance(value, Tensor):
            vd = value._data
            if vd.__class__ is not d.__class__:
                if vd.ndim == 0:
                    vd = _to_dev(vd, d)
                else:
                    same_device("index_put_", self, value)
        else:
            if isinstance(value, complex) and d.dtype.kind != "c":
                raise RuntimeError(f"value cannot be converted to type {from_np(d.dtype).name} without "
                                   "overflow")
            vd = value
        if kind[0] == "split":
            _write(_basic_raw(d, kind[1]), kind[2], vd, False)
        else:
            _write(d, kind[1], vd, False)
        self._version[0] += 1
        return
    check_inplace(self, "index_put_")
    v = _value_for(self, value)
    others = (v,) if vreq else ()
    if kind[0] == "split":
        view = _basic(self, kind[1])
        k2 = kind[2]
        apply_inplace(view, lambda a, *o: _put(a, k2, o[0] if o else v, False), "index_put_", *others)
        if self._view is not None:  # refresh self's grad_fn from the rebuilt base graph
            from ..autograd.function import _view_chain
            base, fn = _view_chain(self)
            nv = fn(base)
            self.grad_fn = nv.grad_fn
            self.requires_grad = True
        return
    k = kind[1]
    apply_inplace(self, lambda a, *o: _put(a, k, o[0] if o else v, False), "index_put_", *others)


def _basic_raw(d, key):
    """``d[key]`` for a basic tuple key, always an array view (never a NumPy scalar)."""
    try:
        r = d[key]
    except IndexError as e:
        raise _index_error(e, d) from None
    return r if r.__class__ is d.__class__ else d[(*key, Ellipsis)]


# --------------------------------------------------------------------------- argument checks
def _tensor_arg(x, op: str, arg: str, pos: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _dim_arg(dim, ndim: int, op: str) -> int:
    if isinstance(dim, (_pyfloat, complex, str)) or dim is None:
        raise TypeError(f"{op}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")
    return canon_dim(dim, ndim, op)


def _int_index(index, op: str, like, exc=RuntimeError, msg=None):
    """The raw integer array of ``index`` (int32/int64), on ``like``'s device."""
    _tensor_arg(index, op, "index", 2)
    a = index._data
    if a.dtype != np.int64 and a.dtype != np.int32:
        raise exc(msg or f"{op}(): Expected dtype int32/int64 for index")
    return _to_dev(a, like)


def _same_dtype(a: Tensor, b: Tensor, msg: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(msg)


def _vector_index(idx, op: str):
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{_tname(idx)} and size: {list(idx.shape)}")
    return idx.reshape(-1) if idx.ndim == 0 else idx


def _lift(t: Tensor) -> Tensor:
    return t[None] if t._data.ndim == 0 else t


def _unlift(r: Tensor, was0d: bool) -> Tensor:
    if was0d and r._data.ndim == 1 and r._data.shape[0] == 1:
        return r[0]
    return r


def _dim_key(dim: int, idx) -> tuple:
    return (_ALL,) * dim + (idx,)


def _maybe_out(res: Tensor, out) -> Tensor:
    if out is None:
        return res
    return E._write_out(out, res)


# --------------------------------------------------------------------------- index_select & co
def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """Entries of ``input`` along ``dim`` at the positions in 1-D ``index``; that dim gets size
    ``len(index)``."""
    _tensor_arg(input, "index_select", "input", 1)
    d = input._data
    idx = _vector_index(_int_index(index, "index_select", d, msg="index_select(): Expected dtype int32 "
                                   "or int64 for index"), "index_select")
    was0d = d.ndim == 0
    t = _lift(input)
    dm = _dim_arg(dim, t._data.ndim, "index_select")
    n = t._data.shape[dm]
    _check_range(idx, n, dm, IndexError, "index_select(): ")
    r = _adv(t, _dim_key(dm, idx), IndexSelectBackward0, True)
    return _maybe_out(_unlift(r, was0d), out)


def _check_gather_shapes(inp, idx, dim, op):
    if idx.ndim != inp.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for ax in range(idx.ndim):
        if ax != dim and idx.shape[ax] > inp.shape[ax]:
            raise RuntimeError(f"Size does not match at dimension {ax} expected index {list(idx.shape)} "
                               f"to be no larger than self {list(inp.shape)} apart from dimension {dim}")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out=None) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for dim 0): values along ``dim`` picked by
    ``index``, which has input's number of dims and the result's shape."""
    _tensor_arg(input, "gather", "input", 1)
    d = input._data
    idx = _int_index(index, "gather", d)
    if d.ndim == 0 or idx.ndim == 0:
        if d.ndim > 1 or idx.ndim > 1:
            raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
        r = gather(_lift(input), dim, _lift(index))
        return _maybe_out(r[0] if idx.ndim == 0 else r, out)
    dm = _dim_arg(dim, d.ndim, "gather")
    _check_gather_shapes(d, idx, dm, "gather")
    _check_range(idx, d.shape[dm], dm, RuntimeError, "gather(): ")
    r = _adv(input, _coords(idx, dm, idx.shape, d), GatherBackward0, True)
    return _maybe_out(r, out)


def _scatter_prep(input, dim, index, src, op):
    """Validates scatter-like arguments; returns (dim, key, src restricted to index's shape)."""
    d = input._data
    idx = _int_index(index, op, d, msg="scatter(): Expected dtype int32/int64 for index")
    if idx.ndim != d.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    dm = _dim_arg(dim, d.ndim, op)
    if src is not None:
        sd = src._data
        if sd.ndim != d.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for ax in range(idx.ndim):
        if (ax != dm and idx.shape[ax] > d.shape[ax]) or (src is not None and idx.shape[ax] > sd.shape[ax]):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self {list(d.shape)} "
                               f"apart from dimension {dm} and to be no larger size than src "
                               f"{list(sd.shape) if src is not None else list(idx.shape)}")
    _check_range(idx, d.shape[dm], dm, RuntimeError, f"{op}(): ")
    key = _coords(idx, dm, idx.shape, d)
    if src is not None and tuple(src._data.shape) != tuple(idx.shape):
        src = src[tuple(_pyslice(0, s) for s in idx.shape)]
    return dm, key, src


class _NotImplementedBackward(Node):
    __slots__ = ("what",)

    def backward(self, g):
        raise RuntimeError(f"derivative for {self.what} is not implemented")


def _no_grad_result(r: Tensor, inputs, what: str) -> Tensor:
    if _state.grad_enabled and any(t is not None and t.requires_grad for t in inputs):
        node = _new(_NotImplementedBackward)
        node.next = tuple(None if t is None else edge(t) for t in inputs)
        node.what = what
        r.requires_grad = True
        r.grad_fn = node
    return r


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None,
            out=None) -> Tensor:
    """Out-of-place ``scatter_``: ``out[index[i][j]][j] = src[i][j]`` (dim 0); ``src`` may be a number
    (or given as ``value=``). ``reduce='add'|'multiply'`` combines instead of overwriting."""
    _tensor_arg(input, "scatter", "input", 1)
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' (or 'value')")
    if src is None:
        src = value
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if input._data.ndim == 0 and isinstance(index, Tensor):
        s = _lift(src) if isinstance(src, Tensor) else src
        return _maybe_out(scatter(input[None], dim, _lift(index), s, reduce=reduce)[0], out)
    if isinstance(src, Tensor):
        _same_dtype(input, src, "scatter(): Expected self.dtype to be equal to src.dtype")
        same_device("scatter", input, src)
        dm, key, s = _scatter_prep(input, dim, index, src, "scatter")
        cls = ScatterBackward0
    elif _is_number(src):
        dm, key, _ = _scatter_prep(input, dim, index, None, "scatter")
        s = _const(src, input._data)
        cls = ScatterBackward0
    else:
        raise TypeError(f"scatter(): argument 'src' must be Tensor or Number, not {type(src).__name__}")
    if reduce is None:
        r = _put(input, key, s, False, cls)
    elif reduce == "add":
        r = _put(input, key, s, True, cls)
    else:
        od = input._data.copy()
        _ufunc_at("multiply", od, key, s._data)
        r = _no_grad_result(_wrap(od), (input, s), "aten::scatter")
    return _maybe_out(r, out)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, out=None) -> Tensor:
    """Out-of-place ``scatter_add_``: ``out[index[i][j]][j] += src[i][j]`` (dim 0), duplicates add up."""
    _tensor_arg(input, "scatter_add", "input", 1)
    _tensor_arg(src, "scatter_add", "src", 4)
    _same_dtype(input, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    same_device("scatter_add", input, src)
    if input._data.ndim == 0 and isinstance(index, Tensor):
        return _maybe_out(scatter_add(input[None], dim, _lift(index), _lift(src))[0], out)
    dm, key, s = _scatter_prep(input, dim, index, src, "scatter_add")
    return _maybe_out(_put(input, key, s, True, ScatterAddBackward0), out)


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _sr_forward(d, key, s, red: str, inc: bool):
    out = d.copy()
    if not inc:
        if red in ("sum", "mean"):
            ident = 0
        elif red == "prod":
            ident = 1
        elif d.dtype.kind in "fc":
            ident = -np.inf if red == "amax" else np.inf
        elif d.dtype.kind == "b":
            ident = red == "amin"
        else:
            info = np.iinfo(d.dtype)
            ident = info.min if red == "amax" else info.max
        out[key] = ident
    _ufunc_at(_REDUCE_UFUNC[red], out, key, s)
    cnt = None
    if red == "mean":
        cnt = np.ones(d.shape, d.dtype) if d.__class__ is _ndarray else _xp(d).ones(d.shape, d.dtype)
        if not inc:
            cnt[key] = 0
        _ufunc_at("add", cnt, key, 1)
        if d.dtype.kind in "fc":
            out = out / cnt
        else:
            out = out // cnt
        out = out.astype(d.dtype, copy=False)
    return out, cnt


class ScatterReduceBackward0(Node):
    def backward_t(self, g, inp, src, out):
        key, red, inc = self.key, self.reduce, self.include_self
        dt = inp.dtype
        smask = _wrap(self.smask)
        gi = gs = None
        if red == "sum":
            gi = g if inc else E.where(smask, 0.0, g)
            gs = _adv(g, key)
        elif red == "mean":
            gc = g / _wrap(self.cnt)
            gi = gc if inc else E.where(smask, 0.0, gc)
            gs = _adv(gc, key)
        elif red in ("amax", "amin"):
            self_eq = E.eq(inp, out)
            if not inc:
                self_eq = E.logical_and(self_eq, E.logical_not(smask))
            src_eq = E.eq(src, _adv(out, key))
            z = _wrap(_zeros(inp._data.shape, inp._data.dtype, inp._data))
            cnt = E._cast(self_eq, dt) + _put(z, key, E._cast(src_eq, dt), True)
            gc = g / cnt
            gi = E.where(self_eq, gc, 0.0)
            gs = E.where(src_eq, _adv(gc, key), 0.0)
        else:  # prod, with zeros handled: d/dx of a product is the product of the others
            part = E.logical_not(smask) if not inc else _wrap(np.ones_like(self.smask))
            izero = E.logical_and(E.eq(inp, 0.0), part)
            szero = E.eq(src, 0.0)
            z = _wrap(_zeros(inp._data.shape, inp._data.dtype, inp._data))
            zc = E._cast(izero, dt) + _put(z, key, E._cast(szero, dt), True)
            inp1 = E.where(E.eq(inp, 0.0), 1.0, inp)
            src1 = E.where(szero, 1.0, src)
            nzp = _scatter_reduce_key(inp1, key, src1, "prod", inc)
            one_zero = E.where(E.eq(zc, 1.0), nzp, 0.0)
            no_zero = E.where(E.eq(zc, 0.0), out, 0.0)
            gi = g * E.where(izero, one_zero, no_zero / inp1)
            if not inc:
                gi = E.where(smask, 0.0, gi)
            gs = _adv(g, key) * E.where(szero, _adv(one_zero, key), _adv(no_zero, key) / src1)
        return gi, gs


def _scatter_reduce_key(input: Tensor, key, src: Tensor, red: str, inc: bool) -> Tensor:
    d = input._data
    od, cnt = _sr_forward(d, key, src._data, red, inc)
    smask = np.zeros(d.shape, bool) if d.__class__ is _ndarray else _xp(d).zeros(d.shape, bool)
    smask[key] = True
    return record(od, ScatterReduceBackward0, (input, src), save=(input, src), save_output=True,
                  key=key, reduce=red, include_self=inc, smask=smask, cnt=cnt)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True, out=None) -> Tensor:
    """Scatters ``src`` into ``input`` along ``dim`` combining with ``reduce`` ('sum', 'prod', 'mean',
    'amax', 'amin'); with ``include_self=False`` the original values at scattered positions are left
    out of the reduction."""
    _tensor_arg(input, "scatter_reduce", "input", 1)
    _tensor_arg(src, "scatter_reduce", "src", 4)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _same_dtype(input, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    same_device("scatter_reduce", input, src)
    if input._data.ndim == 0 and isinstance(index, Tensor):
        r = scatter_reduce(input[None], dim, _lift(index), _lift(src), reduce, include_self=include_self)
        return _maybe_out(r[0], out)
    dm, key, s = _scatter_prep(input, dim, index, src, "scatter_reduce")
    return _maybe_out(_scatter_reduce_key(input, key, s, reduce, builtins.bool(include_self)), out)


def _index_source_prep(input, dim, index, source, op):
    """Checks for index_add / index_copy: returns (was0d, lifted input, lifted source, dim)."""
    _tensor_arg(input, op, "input", 1)
    _tensor_arg(source, op, "source", 3)
    d = input._data
    was0d = d.ndim == 0
    t = _lift(input)
    s = _lift(source)
    dm = _dim_arg(dim, t._data.ndim, op)
    return was0d, t, s, dm


def _index_add_prep(input, dim, index, source, op):
    was0d, t, s, dm = _index_source_prep(input, dim, index, source, op)
    d = t._data
    idx = _vector_index(_int_index(index, "index_add_", d, msg="index_add_(): Expected dtype int32/int64 "
                                   f"for index but got: {_tname(index._data)}"), "index_add_")
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(f"index_add_(): self ({_tname(input._data)}) and source ({_tname(source._data)}) "
                           "must have the same scalar type")
    same_device(op, input, source)
    _check_slices(d, s._data, dm, idx, "index_add_")
    _check_range(idx, d.shape[dm], dm, IndexError, "index_add_(): ")
    return was0d, t, s, dm, idx


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1, out=None) -> Tensor:
    """``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``
    (duplicates add up)."""
    was0d, t, s, dm, idx = _index_add_prep(input, dim, index, source, "index_add")
    if alpha != 1:
        s = s * alpha
    r = _put(t, _dim_key(dm, idx), s, True, IndexAddBackward0)
    return _maybe_out(_unlift(r, was0d), out)


def _check_slices(d, sd, dm, idx, op):
    if sd.ndim != d.ndim or any(sd.shape[a] != d.shape[a] for a in range(d.ndim) if a != dm):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified "
                           f"dimension. Got self.shape = {list(d.shape)} source.shape = {list(sd.shape)}")
    if sd.shape[dm] != idx.shape[0]:
        raise RuntimeError(f"{op}(): Number of indices ({idx.shape[0]}) should be equal to "
                           f"source.size(dim): ({sd.shape[dm]}), for dim: {dm}")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices of ``source`` copied to positions ``index`` along ``dim``."""
    was0d, t, s, dm = _index_source_prep(input, dim, index, source, "index_copy")
    d = t._data
    _tensor_arg(index, "index_copy", "index", 2)
    if index._data.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_tname(index._data)}")
    idx = _vector_index(_to_dev(index._data, d), "index_copy_")
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got "
                           f"(self) {_tname(input._data)} and (source) {_tname(source._data)}")
    same_device("index_copy", input, source)
    _check_slices(d, s._data, dm, idx, "index_copy_")
    _check_range(idx, d.shape[dm], dm, IndexError, "index_copy_(): ")
    r = _put(t, _dim_key(dm, idx), s, False, IndexCopyBackward0)
    return _unlift(r, was0d)


def _scalar_value(input: Tensor, value, op: str) -> Tensor:
    """A 0-d value (number, or 0-d tensor cast differentiably) in ``input``'s dtype."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if value._data.__class__ is not input._data.__class__:
            if value.requires_grad:
                same_device(op, input, value)
            return _const(value.item(), input._data)
        if value._data.dtype != input._data.dtype:
            if value._data.dtype.kind == "c" and input._data.dtype.kind != "c":
                raise RuntimeError(f"value cannot be converted to type {from_np(input._data.dtype).name} "
                                   "without overflow")
            value = E._cast(value, from_np(input._data.dtype))
        return value
    if _is_number(value):
        return _const(value, input._data)
    raise TypeError(f"{op}(): argument 'value' must be Number or Tensor, not {type(value).__name__}")


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices at positions ``index`` along ``dim`` set to ``value`` (a number or a
    0-d tensor, differentiable)."""
    _tensor_arg(input, "index_fill", "input", 1)
    d = input._data
    _tensor_arg(index, "index_fill", "index", 2)
    if index._data.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    v = _scalar_value(input, value, "index_fill_")
    was0d = d.ndim == 0
    t = _lift(input)
    dm = _dim_arg(dim, t._data.ndim, "index_fill")
    idx = _vector_index(_to_dev(index._data, d), "index_fill_")
    _check_range(idx, t._data.shape[dm], dm, IndexError, "index_fill_(): ", allow_neg=True)
    r = _put(t, _dim_key(dm, idx), v, False, IndexFillBackward0)
    return _unlift(r, was0d)


def _indices_key(input: Tensor, indices, op: str) -> tuple:
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    d = input._data
    key = []
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
        a = t._data
        if a.dtype.kind == "b" or a.dtype == np.uint8:
            key.append(_to_dev(a.astype(bool, copy=False), d))
        elif a.dtype == np.int64 or a.dtype == np.int32:
            key.append(_to_dev(a, d))
        else:
            raise IndexError(_BAD_TENSOR)
    consumed = sum(k.ndim if k.dtype.kind == "b" else 1 for k in key)
    if consumed > d.ndim:
        raise IndexError(f"too many indices for tensor of dimension {d.ndim} (got {consumed})")
    if d.__class__ is not _ndarray:
        dim = 0
        for k in key:
            if k.dtype.kind != "b":
                _check_range(k, d.shape[dim], dim, IndexError, allow_neg=True)
            dim += k.ndim if k.dtype.kind == "b" else 1
    return tuple(key)


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """Out-of-place ``input[indices] = values`` (``+=`` with duplicates adding up when
    ``accumulate``); ``indices`` is a tuple of integer or boolean tensors."""
    _tensor_arg(input, "index_put", "input", 0)
    key = _indices_key(input, indices, "index_put")
    _tensor_arg(values, "index_put", "values", 2)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_tname(input._data)} for the destination and {_tname(values._data)} for the "
                           "source.")
    acc = builtins.bool(accumulate)
    if acc:
        key = _expand_masks(key)
    return _put(input, key, values, acc, IndexPutBackward0)


def _expand_masks(key) -> tuple:
    """Boolean masks replaced by their nonzero coordinates (for the accumulating writes)."""
    if all(k.dtype.kind != "b" for k in key if _is_arr(k)):
        return key
    out = []
    for k in key:
        if _is_arr(k) and k.dtype.kind == "b":
            out.extend(_xp(k).nonzero(k))
        else:
            out.append(k)
    return tuple(out)


# --------------------------------------------------------------------------- masked ops
def _mask_arg(mask, op: str, msg: str, like):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    m = mask._data
    if m.dtype.kind != "b":
        raise RuntimeError(msg.format(_tname(m)))
    return _to_dev(m, like)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` where boolean ``mask`` (broadcast) is True; ``value`` is a number or a
    0-d tensor (differentiable)."""
    _tensor_arg(input, "masked_fill", "input", 0)
    _mask_arg(mask, "masked_fill", "masked_fill_ only supports boolean masks, but got mask with dtype {}",
              input._data)
    v = _scalar_value(input, value, "masked_fill_")
    if mask._data.__class__ is not input._data.__class__:
        mask = _wrap(_to_dev(mask._data, input._data))
    r = E.where(mask, v, input)
    if r.grad_fn.__class__ is E._WhereBackward:
        r.grad_fn.__class__ = _MaskedFillBackward
    return r


class _MaskedFillBackward(E._WhereBackward):
    pass


_MaskedFillBackward.__name__ = "MaskedFillBackward0"


def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """The entries of ``input`` where boolean ``mask`` is True, as a 1-D tensor (both broadcast)."""
    _tensor_arg(input, "masked_select", "input", 0)
    d = input._data
    m = _mask_arg(mask, "masked_select", "masked_select: expected BoolTensor for mask", d)
    if m.shape == d.shape and d.ndim:
        return _maybe_out(_adv(input, (m,), MaskedSelectBackward0, False), out)
    t = _lift(input)
    d = t._data
    if m.ndim == 0:
        m = m.reshape(1)
    try:
        bs = np.broadcast_shapes(d.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select(): the shape of the mask {list(m.shape)} and of input "
                           f"{list(d.shape)} are not broadcastable") from None
    xp = _xp(d)
    nz = xp.nonzero(xp.broadcast_to(m, bs))
    lead = len(bs) - d.ndim
    key = tuple(nz[lead + i] if d.shape[i] == bs[lead + i] else xp.zeros_like(nz[lead + i])
                for i in range(d.ndim))
    return _maybe_out(_adv(t, key, MaskedSelectBackward0, True), out)


def _flat_first(source: Tensor, n: int) -> Tensor:
    """The first ``n`` entries of ``source`` in row-major order, as a 1-D tensor (differentiable)."""
    s = _lift(source)
    sd = s._data
    xp = _xp(sd)
    key = xp.unravel_index(xp.arange(n), sd.shape)
    return _adv(s, tuple(key), IndexBackward0, False)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the entries where ``mask`` is True replaced, in row-major order, by the first
    entries of ``source``."""
    _tensor_arg(input, "masked_scatter", "input", 0)
    _tensor_arg(source, "masked_scatter", "source", 2)
    d = input._data
    m = _mask_arg(mask, "masked_scatter",
                  "masked_scatter_ only supports boolean masks, but got mask with dtype {}", d)
    if source._data.dtype != d.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_tname(d)} and {_tname(source._data)}")
    same_device("masked_scatter", input, source)
    try:
        bs = np.broadcast_shapes(d.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter(): the shape of the mask {list(m.shape)} and of input "
                           f"{list(d.shape)} are not broadcastable") from None
    xp = _xp(d)
    if m.shape != bs:
        m = xp.broadcast_to(m, bs)
    base = input if d.shape == bs else input.expand(bs)
    n = _pyint(m.sum())
    if n > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if base._data.ndim == 0:
        r = _put(base[None], (m.reshape(1),), _flat_first(source, n), False, MaskedScatterBackward0)
        return r[0]
    return _put(base, (m,), _flat_first(source, n), False, MaskedScatterBackward0)


# --------------------------------------------------------------------------- take / put
def _flat_key(idx, shape, like):
    xp = _xp(like)
    numel = 1
    for s in shape:
        numel *= s
    if idx.size == 0:
        return tuple(xp.zeros(idx.shape, np.intp) for _ in shape)
    return tuple(xp.unravel_index(idx % numel, shape))


def _take_raw(input: Tensor, idx) -> Tensor:
    d = input._data
    n = d.size
    if idx.size:
        lo, hi = _pyint(idx.min()), _pyint(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                             f"{n} elements.")
    t = _lift(input)
    return _adv(t, _flat_key(idx, t._data.shape, d), TakeBackward0, True)


def take(input: Tensor, index: Tensor, *, out=None) -> Tensor:
    """``input`` treated as 1-D, indexed by ``index`` (negative indices count from the end); the
    result has ``index``'s shape."""
    _tensor_arg(input, "take", "input", 1)
    _tensor_arg(index, "take", "index", 2)
    if index._data.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_tname(index._data)}")
    return _maybe_out(_take_raw(input, _to_dev(index._data, input._data)), out)


def take_along_dim(input: Tensor, indices: Tensor, dim=None, *, out=None) -> Tensor:
    """Values of ``input`` picked along ``dim`` by ``indices`` (broadcast against ``input`` apart
    from ``dim``); with ``dim=None`` both are flattened."""
    _tensor_arg(input, "take_along_dim", "input", 1)
    _tensor_arg(indices, "take_along_dim", "indices", 2)
    d = input._data
    idx = indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_tname(idx)}")
    idx = _to_dev(idx, d)
    if dim is None:
        return _maybe_out(_take_raw(input, idx.reshape(-1)), out)
    dm = _dim_arg(dim, d.ndim, "take_along_dim")
    if idx.ndim != d.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {d.ndim} dimensions for input, and {idx.ndim} dimensions "
                           "for indices")
    for ax in range(d.ndim):
        if ax != dm and d.shape[ax] != idx.shape[ax] and d.shape[ax] != 1 and idx.shape[ax] != 1:
            raise RuntimeError(f"The size of tensor a ({d.shape[ax]}) must match the size of tensor b "
                               f"({idx.shape[ax]}) at non-singleton dimension {ax}")
    if d.ndim == 0:
        return _maybe_out(gather(input, 0, indices), out)
    _check_range(idx, d.shape[dm], dm, RuntimeError, "take_along_dim(): ", allow_neg=True)
    key = list(_coords(idx, dm, d.shape, d))
    key[dm] = idx % d.shape[dm] if d.shape[dm] else idx
    # a broadcast size-1 index dim against a larger input dim: the input's aranges cover it; a
    # broadcast size-1 input dim against a larger index dim: arange(1) broadcasts
    shape = tuple(idx.shape[ax] if ax == dm else max(d.shape[ax], idx.shape[ax]) for ax in range(d.ndim))
    xp = _xp(d)
    key = tuple(xp.broadcast_to(k, shape) for k in key)
    return _maybe_out(_adv(input, key, TakeAlongDimBackward0, True), out)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Out-of-place ``put_``: ``input`` (as 1-D) with ``source``'s entries written (or added, when
    ``accumulate``) at positions ``index``."""
    _tensor_arg(input, "put", "input", 0)
    _tensor_arg(index, "put", "index", 1)
    _tensor_arg(source, "put", "source", 2)
    d = input._data
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_tname(idx)}")
    if source._data.dtype != d.dtype:
        raise RuntimeError(f"put_(): self ({_tname(d)}) and source ({_tname(source._data)}) must have the "
                           "same scalar type")
    same_device("put", input, source)
    if idx.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {idx.size}")
    idx = _to_dev(idx, d)
    n = d.size
    if idx.size:
        lo, hi = _pyint(idx.min()), _pyint(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                             f"{n} elements.")
    t = _lift(input)
    src = _flat_first(source, idx.size)
    r = _put(t, _flat_key(idx.reshape(-1), t._data.shape, d), src, builtins.bool(accumulate), PutBackward0)
    return r[0] if d.ndim == 0 else r


# --------------------------------------------------------------------------- nonzero
def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """Indices of the non-zero entries: an ``(n, ndim)`` int64 tensor, or with ``as_tuple`` one 1-D
    tensor per dimension."""
    _tensor_arg(input, "nonzero", "input", 0)
    d = input._data
    xp = _xp(d)
    if as_tuple:
        a = d.reshape(1) if d.ndim == 0 else d
        return tuple(_wrap(c.astype(np.int64, copy=False)) for c in xp.nonzero(a))
    if d.ndim == 0:
        r = xp.zeros((1 if builtins.bool(d) else 0, 0), np.int64)
    else:
        r = xp.stack(xp.nonzero(d), axis=1).astype(np.int64, copy=False) if d.size else \
            xp.zeros((0, d.ndim), np.int64)
    return _maybe_out(_wrap(r), out)


def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero entries, ``(n, ndim)`` int64 (``nonzero(input)``)."""
    return nonzero(input)


# --------------------------------------------------------------------------- in-place variants
def _needs_graph(t: Tensor, *others) -> bool:
    if not _state.grad_enabled:
        return False
    if t.requires_grad:
        return True
    return any(isinstance(o, Tensor) and o.requires_grad for o in others)


def _writable(t: Tensor, op: str):
    d = t._data
    if not getattr(d.flags, "writeable", True):
        raise RuntimeError(f"{op}: unsupported operation: the tensor is read-only (for example an "
                           "expanded view); clone() it first")
    return d


def _inplace_via(self: Tensor, op: str, fn, *tensors) -> Tensor:
    """In-place op computed by out-of-place ``fn(self, *tensors)`` (autograd through apply_inplace)."""
    _tensor_arg(self, op, "self", 0)
    return apply_inplace(self, fn, op, *tensors)


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """In-place :func:`scatter`."""
    if src is None:
        src = value
    if isinstance(src, Tensor):
        return _inplace_via(self, "scatter_", lambda a, s: scatter(a, dim, index, s, reduce=reduce), src)
    return _inplace_via(self, "scatter_", lambda a: scatter(a, dim, index, src, reduce=reduce))


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place :func:`scatter_add`."""
    if not _needs_graph(self, src) and isinstance(src, Tensor) and isinstance(self, Tensor):
        _same_dtype(self, src, "scatter(): Expected self.dtype to be equal to src.dtype")
        same_device("scatter_add_", self, src)
        _, key, s = _scatter_prep(self, dim, index, src, "scatter_add_")
        _ufunc_at("add", _writable(self, "scatter_add_"), key, s._data)
        self._version[0] += 1
        return self
    return _inplace_via(self, "scatter_add_", lambda a, s: scatter_add(a, dim, index, s), src)


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """In-place :func:`scatter_reduce`."""
    return _inplace_via(self, "scatter_reduce_",
                        lambda a, s: scatter_reduce(a, dim, index, s, reduce, include_self=include_self), src)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place :func:`index_add`."""
    if not _needs_graph(self, source) and isinstance(self, Tensor) and isinstance(source, Tensor):
        _, t, s, dm, idx = _index_add_prep(self, dim, index, source, "index_add_")
        sd = s._data if alpha == 1 else s._data * alpha
        _write(_writable(t, "index_add_"), _dim_key(dm, idx), sd, True)
        self._version[0] += 1
        return self
    return _inplace_via(self, "index_add_", lambda a, s: index_add(a, dim, index, s, alpha=alpha), source)


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`index_copy`."""
    return _inplace_via(self, "index_copy_", lambda a, s: index_copy(a, dim, index, s), source)


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place :func:`index_fill`."""
    if isinstance(value, Tensor):
        return _inplace_via(self, "index_fill_", lambda a, v: index_fill(a, dim, index, v), value)
    return _inplace_via(self, "index_fill_", lambda a: index_fill(a, dim, index, value))


def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """In-place :func:`index_put`."""
    _tensor_arg(input, "index_put_", "input", 0)
    if not _needs_graph(input, values):
        key = _indices_key(input, indices, "index_put_")
        _tensor_arg(values, "index_put_", "values", 2)
        if values._data.dtype != input._data.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_tname(input._data)} for the destination and {_tname(values._data)} for "
                               "the source.")
        same_device("index_put_", input, values)
        acc = builtins.bool(accumulate)
        _write(_writable(input, "index_put_"), _expand_masks(key) if acc else key, values._data, acc)
        input._version[0] += 1
        return input
    return _inplace_via(input, "index_put_", lambda a, v: index_put(a, indices, v, accumulate), values)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """In-place :func:`masked_fill` (``mask`` must broadcast to ``self``'s shape)."""
    _tensor_arg(self, "masked_fill_", "self", 0)
    d = self._data
    m = _mask_arg(mask, "masked_fill_", "masked_fill_ only supports boolean masks, but got mask with "
                  "dtype {}", d)
    if isinstance(value, Tensor) and _needs_graph(self, value):
        _scalar_value(self, value, "masked_fill_")
        return apply_inplace(self, lambda a, v: masked_fill(a, mask, v), "masked_fill_", value)
    if _needs_graph(self):
        return apply_inplace(self, lambda a: masked_fill(a, mask, value), "masked_fill_")
    v = _scalar_value(self, value, "masked_fill_")._data
    if m.shape != d.shape:
        try:
            ok = np.broadcast_shapes(m.shape, d.shape) == d.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"masked_fill_: output with shape {list(d.shape)} doesn't match the "
                               f"broadcast shape {list(_bshape(m.shape, d.shape))}")
    _xp(d).copyto(_writable(self, "masked_fill_"), v, casting="unsafe", where=m)
    self._version[0] += 1
    return self


def _bshape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return a


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`masked_scatter`."""
    return _inplace_via(self, "masked_scatter_", lambda a, s: masked_scatter(a, mask, s), source)


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Writes (or with ``accumulate`` adds) ``source``'s entries into ``self`` viewed as 1-D, at
    positions ``index``."""
    return _inplace_via(self, "put_", lambda a, s: put(a, index, s, accumulate), source)


# --------------------------------------------------------------------------- attach
def _attach():
    T = Tensor
    T.__getitem__ = _getitem
    T.__setitem__ = _setitem
    T.index_select = index_select
    T.gather = gather
    T.scatter = scatter
    T.scatter_ = scatter_
    T.scatter_add = scatter_add
    T.scatter_add_ = scatter_add_
    T.scatter_reduce = scatter_reduce
    T.scatter_reduce_ = scatter_reduce_
    T.index_add = index_add
    T.index_add_ = index_add_
    T.index_copy = index_copy
    T.index_copy_ = index_copy_
    T.index_fill = index_fill
    T.index_fill_ = index_fill_
    T.index_put = index_put
    T.index_put_ = index_put_
    T.masked_fill = masked_fill
    T.masked_fill_ = masked_fill_
    T.masked_select = masked_select
    T.masked_scatter = masked_scatter
    T.masked_scatter_ = masked_scatter_
    T.take = take
    T.take_along_dim = take_along_dim
    T.put = put
    T.put_ = put_
    T.nonzero = nonzero
    T.argwhere = argwhere


_attach()
