"""Indexing: ``t[key]``, ``t[key] = v``, ``index_put``, and the three primitives every indexing op
reduces to.

The primitives work on raw keys (tuples NumPy understands):

- basic indexing (ints, slices, None, Ellipsis): a view of the input, with a hand-written node
  whose backward embeds the gradient into zeros;
- ``_adv(t, key)``: advanced indexing (a copy); backward puts (accumulating when the key can hold
  duplicates) the gradient into zeros;
- ``_put(base, key, values, acc)``: an out-of-place index_put; backward gives ``g`` (or ``g`` with
  the written positions zeroed) to ``base`` and ``g[key]`` (summed to the values' shape) to
  ``values``.

The two last ones are each other's backward, so every gradient is differentiable again. gather,
scatter, index_select, index_add, take, ... (:mod:`.gather_scatter`) build a coordinate key and call
them. Combining ints with index arrays follows PyTorch: the ints (and slices, None) are applied
first as a view, then the arrays index that view. A Python ``range`` indexes like a list.
"""

from __future__ import annotations

import builtins
import operator
import warnings

import numpy as np

from .. import _state
from .._dtype import from_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, sum_to
from . import elementwise as E
from ._common import same_device
from ._indexing import (
    _ALL, _BASIC, _ndarray, _npint32, _npint64, _pybool, _pyfloat, _pyint, _pyslice, _add_rows,
    _check_range, _fill_target, _has_arrays, _index_error, _inplace_via, _is_arr, _is_number, _may_dup,
    _needs_graph, _raw_index, _tensor_arg, _tname, _to_dev, _ufunc_at, _write, _xp, _zeros,
)
from .inplace import apply_inplace, check_inplace, check_value, overlaps, unlock
from ._autocast import autocast_op

__all__ = ["index_put", "index_put_"]


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


class UnsqueezeBackward0(SliceBackward0):
    __slots__ = ()


def _basic_node(key: tuple):
    """torch's node name for a basic tuple key: that of the last step that changes the view (an int
    selects, a partial slice slices, None unsqueezes; full slices and ... change nothing)."""
    for k in reversed(key):
        kc = k.__class__
        if kc is _pyslice:
            if k.start is None and k.stop is None and k.step in (None, 1):
                continue
            return SliceBackward0
        if k is None:
            return UnsqueezeBackward0
        if k is not Ellipsis:
            return SelectBackward0
    return SliceBackward0


class _EmbedBackward(Node, name="SliceBackwardBackward0"):
    """Backward of ``_embed_basic``: index the gradient again."""

    __slots__ = ("key",)

    def backward(self, g):
        if g.__class__ is Tensor:
            return (g[self.key],)
        return (_raw_index(g, self.key),)


def _embed_basic(g: Tensor, shape, key) -> Tensor:
    """Zeros of ``shape`` with ``g`` at basic key ``key`` (differentiable)."""
    gd = g._data
    r = _zeros(shape, gd.dtype, gd)
    r[key] = gd
    out = _wrap(r)
    if _state.grad_enabled and g.requires_grad:
        attach(out, _EmbedBackward, (g,), key=key)
    return out


def _view_out(self: Tensor, r, key, cls) -> Tensor:
    out = _wrap(r, self._version)
    out._view = (self, _Reindex(key))
    if _state.grad_enabled and self.requires_grad:
        # attributes set on the returned node: attach(**attrs) costs 0.6 us more per call
        node = attach(out, cls, (self,))
        node.shape = self._data.shape
        node.key = key
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
    """A subclass of node ``base`` that only differs in its PyTorch name."""
    return type(name, (base,), {"__slots__": ()}, name=name)


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
        node = attach(out, cls, (t,))
        node.shape = d.shape
        node.key = key
        node.dup = _may_dup(key) if dup is None else dup
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
                gb = np.array(g) if g.__class__ is not _ndarray else g.copy()  # g may be a NumPy scalar
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
        node = attach(res, cls, (base, values))
        node.key = key
        node.acc = acc
        node.vshape = vd.shape
    return res


# --------------------------------------------------------------------------- key normalization
def _seq_as_tuple(seq) -> bool:
    """PyTorch's legacy rule: a list holding a tensor, sequence, slice, Ellipsis or None indexes
    like a tuple."""
    if len(seq) >= 32:
        return False
    for x in seq:
        if isinstance(x, (Tensor, list, tuple, range, _pyslice, np.ndarray)) or x is None or x is Ellipsis:
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
    if c is range:  # a sequence index, as in PyTorch (x[range(n), y])
        a = np.arange(k.start, k.stop, k.step, dtype=np.int64)
        return _to_dev(a, like) if a.ndim else a
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
            return _basic(self, key, _basic_node(key))
    elif key is None:
        return _basic(self, key, UnsqueezeBackward0)
    elif key is Ellipsis:
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
        return _const(value, self._data, check_floats=False)
    raise TypeError(f"can't assign a {type(value).__name__} to a {_type_str(self)}")


def _type_str(t: Tensor) -> str:
    return f"ferrum.{_tname(t._data)}Tensor"


def _const(value, like, op: str = "", check_floats: bool = True) -> Tensor:
    """A 0-d tensor holding number ``value`` in ``like``'s dtype and device, range-checked as PyTorch
    converts a scalar (``check_value``); with ``check_floats=False`` (setitem) a float is cast
    without the check, as ``x[i] = 1e10`` on float16 gives inf in PyTorch."""
    dt = like.dtype
    if isinstance(value, np.generic):
        value = value.item()
    if not check_floats and value.__class__ is _pyfloat and dt.kind in "fcV":
        with np.errstate(over="ignore", invalid="ignore"):
            a = np.asarray(value).astype(dt)
    else:
        a = np.asarray(check_value(value, dt, op))
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
        value = _setitem_value(self, kind, value)
    elif _is_number(value):
        vreq = False
        dt = self._data.dtype
        if value.__class__ is not _pyfloat or dt.kind not in "fc" or dt.itemsize < 4:
            value = _const(value, self._data, check_floats=False)._data[()]
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
            vd = value
        if getattr(d.flags, "writeable", True):
            if kind[0] == "split":
                _write(_basic_raw(d, kind[1]), kind[2], vd, False)
            else:
                _write(d, kind[1], vd, False)
        else:  # a view of an expanded tensor: PyTorch refuses only a basic write whose target overlaps
            _write_locked(d, kind, vd)
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


def _write_locked(d, kind, vd) -> None:
    """setitem into read-only array ``d``: the basic part's target must not hold one memory location
    twice (PyTorch's copy_ check); an advanced write, which PyTorch allows with a deprecation
    warning, may (its value is written to every alias)."""
    k = kind[1] if kind[1].__class__ is tuple else (kind[1],)
    if kind[0] == "basic":
        _write(unlock(_basic_raw(d, k), "index_put_"), Ellipsis, vd, False)
        return
    target = _basic_raw(d, k) if kind[0] == "split" else d
    if overlaps(target):
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor "
                      "before performing this operation.", UserWarning, stacklevel=3)
    _write(unlock(target, "index_put_", True), kind[-1], vd, False)


def _setitem_value(self: Tensor, kind, value: Tensor) -> Tensor:
    """A tensor value for setitem, checked as PyTorch does: leading size-1 dims are dropped (so
    ``x[()] = ones(1)`` works on a 0-d tensor), and an advanced-index write needs the destination's
    dtype unless the key is one boolean mask and the value has one element (masked_fill)."""
    vd = value._data
    if vd.ndim and vd.shape[0] == 1:
        n = 0
        while n < vd.ndim and vd.shape[n] == 1:
            n += 1
        value = value.reshape(vd.shape[n:])
    if kind[0] != "basic" and vd.dtype != self._data.dtype:
        key = kind[-1]
        if not (vd.size == 1 and kind[0] == "adv" and len(key) == 1 and key[0].dtype.kind == "b"):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_tname(self._data)} for the destination and {_tname(vd)} for the source.")
    return value


def _basic_raw(d, key):
    """``d[key]`` for a basic tuple key, always an array view (never a NumPy scalar)."""
    try:
        r = d[key]
    except IndexError as e:
        raise _index_error(e, d) from None
    return r if r.__class__ is d.__class__ else d[(*key, Ellipsis)]




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
        if a.dtype == np.uint8 and a.ndim == 0:
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                               "unsigned char")
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


@autocast_op("index_put")
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
        if _is_arr(k) and k.dtype.kind == "b" and k.ndim:  # a 0-d mask cannot repeat a position
            out.extend(_xp(k).nonzero(k))
        else:
            out.append(k)
    return tuple(out)



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
        _write(_fill_target(input, "index_put_"), _expand_masks(key) if acc else key, values._data, acc)
        input._version[0] += 1
        return input
    return _inplace_via(input, "index_put_", lambda a, v: index_put(a, indices, v, accumulate), values)



def _attach():
    T = Tensor
    T.__getitem__ = _getitem
    T.__setitem__ = _setitem
    T.index_put = index_put
    T.index_put_ = index_put_


_attach()
