"""Raw-array helpers shared by the indexing modules (:mod:`.getitem`, :mod:`.gather_scatter`).

Everything here works on NumPy/CuPy arrays and index keys, not on Tensors with history: writing a
key into an array (``_write``, with a fast path for accumulating rows), coordinate keys for
gather-like ops, bounds checks in PyTorch's words, and the argument checks the op wrappers share.
They sit one floor below both modules so that neither imports the other's private helpers.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .. import _state
from .._dtype import from_np, scalar_name
from .._tensor import Tensor
from . import elementwise as E
from ._common import canon_dim, xp_of
from .inplace import OVERLAP_MSG, apply_inplace, overlaps, unlock

_ndarray = np.ndarray
_pyint, _pyfloat, _pybool, _pyslice = builtins.int, builtins.float, builtins.bool, builtins.slice
_NoneType = type(None)
_EllipsisType = type(Ellipsis)
_BASIC = frozenset((_pyint, _NoneType, _EllipsisType))
_ALL = _pyslice(None)
_npint64, _npint32 = np.int64, np.int32


def _tname(a) -> str:
    """PyTorch's scalar type name of an array's dtype ('Float', 'Long', ...)."""
    try:
        return scalar_name(from_np(a.dtype))
    except (TypeError, KeyError):
        return str(a.dtype)


def _is_arr(k) -> bool:
    return hasattr(k, "dtype") and hasattr(k, "shape")


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
        if getattr(v, "ndim", 0):
            # NumPy's ufunc.at reads uninitialised memory when values with fewer dims than the
            # indexed result are broadcast over a multi-dim index (numpy 2.4): give them all dims
            nd = a[key].ndim
            if v.ndim < nd:
                v = v.reshape((1,) * (nd - v.ndim) + v.shape)
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
    except (ValueError, TypeError) as e:  # TypeError: NumPy's mask assignment of a 2-D value
        if "read-only" in str(e):
            raise RuntimeError(OVERLAP_MSG) from None
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


def _needs_graph(t: Tensor, *others) -> bool:
    if not _state.grad_enabled:
        return False
    if t.requires_grad:
        return True
    return any(isinstance(o, Tensor) and o.requires_grad for o in others)


def _inplace_via(self: Tensor, op: str, fn, *tensors) -> Tensor:
    """In-place op computed by out-of-place ``fn(self, *tensors)`` (autograd through apply_inplace)."""
    _tensor_arg(self, op, "self", 0)
    return apply_inplace(self, fn, op, *tensors)


def _fill_target(t: Tensor, op: str):
    """The array ``index_put_``/``masked_fill_`` write into: PyTorch still allows them on an
    expanded tensor (with a deprecation warning), writing the value to every alias."""
    d = t._data
    if getattr(d.flags, "writeable", True):
        return d
    if overlaps(d):
        warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor before "
                      "performing this operation.", UserWarning, stacklevel=3)
    return unlock(d, op, True)
