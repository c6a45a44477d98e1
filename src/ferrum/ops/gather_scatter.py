"""Gather/scatter and their relatives: ``gather``, ``scatter``/``scatter_add``/``scatter_reduce``,
the ``index_*`` family (select, add, copy, fill), ``masked_*``, ``take``/``take_along_dim``/``put``,
``nonzero``, and their in-place forms.

Each op validates its arguments in PyTorch's words, builds a raw coordinate key (``_coords``: the
index at ``dim``, broadcast aranges elsewhere) and calls one of :mod:`.getitem`'s primitives:
``_adv`` for the reading ops, ``_put`` for the writing ones, so their gradients are the other
primitive and differentiable again. ``scatter_reduce`` has its own node (the reductions other than
sum need the output). The in-place forms run the out-of-place op through ``apply_inplace`` when a
graph is recorded, and write straight into the array otherwise.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import _state
from .._dtype import from_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import elementwise as E
from ._common import same_device
from ._indexing import (
    _check_range, _coords, _dim_arg, _dim_key, _fill_target, _inplace_via, _int_index, _is_number, _lift,
    _maybe_out, _ndarray, _needs_graph, _pyint, _pyslice, _same_dtype, _tensor_arg, _tname, _to_dev,
    _ufunc_at, _unlift, _vector_index, _write, _xp, _zeros,
)
from .getitem import (
    GatherBackward0, IndexBackward0, IndexSelectBackward0, MaskedSelectBackward0, TakeAlongDimBackward0,
    TakeBackward0, _adv, _const, _put, IndexAddBackward0, IndexCopyBackward0, IndexFillBackward0,
    MaskedScatterBackward0, PutBackward0, ScatterAddBackward0, ScatterBackward0,
)
from .inplace import apply_inplace, check_value, writable
from ._autocast import autocast_op

__all__ = [
    "index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
    "index_fill", "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim", "put",
    "nonzero", "argwhere",
]


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
    for ax in range(idx.ndim if idx.size else 0):  # an empty index is not checked (PyTorch)
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
        attach(r, _NotImplementedBackward, inputs, what=what)
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


@autocast_op("scatter_add")
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
        elif d.dtype.kind in "fcV":
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
        if d.dtype.kind in "fcV":
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
    if was0d and source._data.ndim:  # a 0-d self takes a 0-d source only (PyTorch)
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified "
                           f"dimension. Got self.shape = [] source.shape = {list(source._data.shape)}")
    _check_slices(d, s._data, dm, idx, "index_add_")
    # PyTorch's CPU kernel raises RuntimeError on its paths for a first or last dim of a tensor with
    # several dims, IndexError otherwise
    exc = RuntimeError if d.ndim > 1 and dm in (0, d.ndim - 1) else IndexError
    _check_range(idx, d.shape[dm], dm, exc, "index_add_(): ")
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
        if op == "index_copy_":  # PyTorch's types and wording differ between the two ops
            raise IndexError(f"index_copy_(): Number of indices ({idx.shape[0]}) should be equal to "
                             f"source.size(dim) ({sd.shape[dm]})")
        raise RuntimeError(f"{op}(): Number of indices ({idx.shape[0]}) should be equal to "
                           f"source.size(dim): ({sd.shape[dm]}), for dim: {dm}")


@autocast_op("index_copy")
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
    sn, n = source._data.ndim, input._data.ndim
    if sn and n and sn != n:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality "
                         f"must match. Source dimensionality ({sn}), destination dimensionality ({n})")
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
            check_value(value.item(), input._data.dtype, op)  # PyTorch converts value.item()
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
    idx = _to_dev(index._data, d)
    if idx.ndim > 1:
        raise RuntimeError("index_fill_(): Index has to be a vector/scalar")
    idx = idx.reshape(-1)
    n = t._data.shape[dm]
    _check_range(idx, n, dm, IndexError, "index_fill_(): ", allow_neg=True)
    if idx.size > 1:  # each position once, so that value's gradient counts it once
        idx = _xp(idx).unique(idx % n)
    r = _put(t, _dim_key(dm, idx), v, False, IndexFillBackward0)
    return _unlift(r, was0d)



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


class _MaskedFillBackward(E._WhereBackward, name="MaskedFillBackward0"):
    pass


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


def _check_flat_bounds(idx, n: int) -> None:
    """take/put's check: every index in [-n, n) of a tensor of ``n`` elements seen as 1-D."""
    if idx.size:
        lo, hi = _pyint(idx.min()), _pyint(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                             f"{n} elements.")


def _take_raw(input: Tensor, idx) -> Tensor:
    d = input._data
    n = d.size
    _check_flat_bounds(idx, n)
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
    shape = tuple(idx.shape[ax] if ax == dm or d.shape[ax] == 1 else d.shape[ax] for ax in range(d.ndim))
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
    _check_flat_bounds(idx, n)
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
        _ufunc_at("add", writable(self, "scatter_add_"), key, s._data)
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
        _write(writable(t, "index_add_"), _dim_key(dm, idx), sd, True)
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
    _xp(d).copyto(_fill_target(self, "masked_fill_"), v, casting="unsafe", where=m)
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
