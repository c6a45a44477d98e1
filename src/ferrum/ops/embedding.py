"""``F.embedding`` and ``F.embedding_bag``: looking rows of a table up by integer index.

Two internal ops carry every gradient, and each is the other's adjoint, so every order of
derivative works (gradgradcheck):

- ``_gather(w, rows)``: ``out[i] = coef[i] * w[idx[i]]`` with dropped entries (padding) giving 0;
- ``_scatter(g, rows, n)``: ``out[r] = sum over i with idx[i] == r of coef[i] * g[i]`` (dropped
  entries adding nothing), an ``(n, D)`` table.

``rows`` (:class:`_Rows`) holds the flat index, the per-entry coefficients (``scale_grad_by_freq``'s
``1/count``, the ``1/bag size`` of mode ``mean``) and the dropped entries. ``F.embedding`` is the
plain lookup ``w[idx]``; its backward is ``_scatter`` with padding dropped and the frequency scale
(PyTorch's semantics: the padding row gets no gradient, so that backward is deliberately not the
lookup's adjoint). ``F.embedding_bag`` is ``_scatter`` of ``_gather``: the lookup, then a sum of each
bag's rows (mode max gathers each column's arg-max instead).

The scatter is the hot part (the gradient of every language model's token table). It is the
product of a sparse (n, N) matrix with one entry per column and the dense (N, D) gradient, which
is what SciPy's ``csc_matvecs`` kernel computes in one pass, without sorting. Measured
(benchmarks/embedding_parts.py, float32, one thread, best of 5, us; table rows x D, N indices):

    rows x D, N          np.add.at  sort+reduceat  one-hot GEMM  bincount  csc_matvecs  torch
    65 x 128, 1024           875        170            169         801         17         58
    65 x 64, 1024            453         93             96         130         11         54
    64 x 128, 64              58         39             10          23        2.2        6.3
    1000 x 128, 1024         906        623           2254         425         27         78
    50000 x 256, 4096      14194      19248              -       35529       3847      22393

so the kernel is used on NumPy arrays, with ``np.add.at`` only where SciPy lacks it (other
devices, dtypes). float16 and bfloat16 gradients are accumulated in float32 and cast back.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _state
from .._dtype import type_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from ._common import xp_of

__all__ = ["embedding", "embedding_bag"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_ndarray = np.ndarray
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))

try:  # SciPy's sparse (CSC) matrix times dense matrix kernel: Y += A X
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover - a SciPy without the private module: np.add.at below
    _csc_matvecs = None

_PTR: dict = {}


def _ptr(n: int, dtype) -> np.ndarray:
    """A cached read-only ``arange(n + 1)``: the column pointers of a matrix with one entry per column."""
    v = _PTR.get((n, dtype))
    if v is None:
        if len(_PTR) > 32:
            _PTR.clear()
        v = _PTR[(n, dtype)] = np.arange(n + 1, dtype=dtype)
        v.flags.writeable = False
    return v


class _Rows:
    """Which rows a lookup reads (or a scatter writes): ``idx`` (flat, in range), ``coef`` (a float64
    coefficient per entry, or None for ones) and ``drop`` (a bool mask of entries that read zeros and
    add nothing, or None)."""

    __slots__ = ("idx", "coef", "drop", "_eff")

    def __init__(self, idx, coef=None, drop=None) -> None:
        self.idx = idx
        self.coef = coef
        self.drop = drop
        self._eff = None

    def target(self, n: int):
        """The index with dropped entries sent to row ``n`` (one past the table), where the
        scatter accumulates them into a row it then discards."""
        if self.drop is None:
            return self.idx
        if self._eff is None:
            self._eff = np.where(self.drop, n, self.idx).astype(self.idx.dtype, copy=False)
        return self._eff


def _acc_dtype(dt):
    """The dtype a gradient of dtype ``dt`` is accumulated in (float32 for the 16-bit floats)."""
    return dt if dt == _F64 or dt == _F32 or dt.kind == "c" else _F32


def _scatter_raw(g, rows: _Rows, n: int):
    """The raw ``(n, D)`` scatter-sum of the rows of ``g`` (``(N, D)`` or ``(*idx.shape, D)``)."""
    d = g.shape[-1]
    nidx = rows.idx.size
    dt = g.dtype
    acc = _acc_dtype(dt)
    xp = xp_of(g)
    g2 = g.reshape(nidx, d)
    extra = 1 if rows.drop is not None else 0
    out = xp.zeros((n + extra, d), dtype=acc)
    if nidx and d:
        tgt = rows.target(n)
        if g2.__class__ is _ndarray and _csc_matvecs is not None and acc.kind == "f":
            # the kernel does not check its indices: one outside the table (an index array changed
            # behind autograd's back, through .numpy()) would write outside ``out``
            if _pyint(tgt.min()) < 0 or _pyint(tgt.max()) > n + extra - 1:
                raise RuntimeError(f"embedding backward: an index outside [0, {n}): the indices were "
                                   "modified after the forward")
            g2 = np.ascontiguousarray(g2, dtype=acc)
            data = np.ones(nidx, acc) if rows.coef is None else rows.coef.astype(acc)
            # every argument of the exact dtypes: the kernel would otherwise work on a converted
            # copy of ``out`` and the result would be lost
            _csc_matvecs(n + extra, nidx, d, _ptr(nidx, tgt.dtype), tgt, data, g2.reshape(-1),
                         out.reshape(-1))
        else:
            g2 = g2.astype(acc, copy=False)
            if rows.coef is not None:
                g2 = g2 * xp.asarray(rows.coef, dtype=acc)[:, None]
            xp.add.at(out, xp.asarray(tgt), g2)
    if extra:
        out = out[:n]
    return out if acc == dt else out.astype(dt)


def _gather_raw(w, rows: _Rows, shape: tuple):
    """The raw lookup ``coef * w[idx]`` with dropped entries zero, of shape ``shape + (D,)``."""
    r = w.take(xp_of(w).asarray(rows.idx), axis=0)
    if rows.coef is not None:
        c = rows.coef.astype(_acc_dtype(w.dtype))[:, None]
        r = (r * c).astype(w.dtype, copy=False)
    if rows.drop is not None:
        r[xp_of(w).asarray(rows.drop)] = 0
    return r.reshape(shape + (w.shape[1],))


class _ScatterBackward(Node, name="EmbeddingDenseBackward0"):
    def backward_t(self, g):
        return (_gather(g, self.rows, self.shape),)


_BagBackward = _ScatterBackward.named("EmbeddingBagBackward0")


class _GatherBackward(Node, name="EmbeddingBackward0"):
    def backward_t(self, g):
        return (_scatter(g, self.rows, self.n),)


def _scatter(g: Tensor, rows: _Rows, n: int, node=_ScatterBackward) -> Tensor:
    """``(n, D)``: the rows of ``g`` (``(*S, D)``) summed into the rows ``rows`` names."""
    return record(_scatter_raw(g._data, rows, n), node, (g,), rows=rows, shape=tuple(g.shape[:-1]))


def _gather(w: Tensor, rows: _Rows, shape: tuple, back: _Rows | None = None) -> Tensor:
    """``(*shape, D)``: the rows of ``w`` that ``rows`` names, times their coefficients. ``back``:
    other rows for the backward (embedding_bag's ``scale_grad_by_freq``, which scales the gradient
    only)."""
    return record(_gather_raw(w._data, rows, shape), _GatherBackward, (w,), rows=back or rows,
                  n=w.shape[0])


class EmbeddingBackward0(Node, name="EmbeddingBackward0"):
    """Backward of ``F.embedding``: the gradient's rows summed into the table's (the padding row
    left out, each scaled by 1/frequency with ``scale_grad_by_freq``); with create_graph it is
    the differentiable ``_scatter``."""

    __slots__ = ("index", "vi", "n", "pad", "scale", "_rows")
    _saved = ("index", "_rows")

    def rows(self) -> _Rows:
        r = self.unreleased(self._rows)
        if r is None:
            idx = self.checked_input(self.index, self.vi)._data.reshape(-1)
            drop = coef = None
            if self.pad >= 0:
                drop = idx == self.pad
                if not drop.any():
                    drop = None
            if self.scale:
                counts = np.bincount(idx, minlength=self.n)
                coef = 1.0 / counts[idx]
            r = self._rows = _Rows(idx, coef, drop)
        return r

    def backward(self, g):
        rows = self.rows()
        if g.__class__ is Tensor:
            return (_scatter(g, rows, self.n),)
        return (_scatter_raw(g, rows, self.n),)


# --------------------------------------------------------------------------- argument checks
def _check_tensors(op: str, input, weight, names=("input", "weight")) -> None:
    for name, pos, t in ((names[0], 1, input), (names[1], 2, weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(t).__name__}")


def _index_array(op: str, input: Tensor, like):
    """The index as a raw array on ``like``'s device, after checking its dtype."""
    a = input._data
    if a.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"{op}(): expected the indices to have one of the scalar types Long, Int, "
                           f"but got {type_name(a.dtype)} instead")
    if a.__class__ is not like.__class__:
        raise RuntimeError(f"{op}(): expected the indices and the weight on the same device")
    return a


def _check_range(op: str, idx, weight) -> None:
    """IndexError naming the first bad index and the table size when an index is outside [0, V)."""
    if idx.size == 0:
        return
    n = weight.shape[0]
    lo = _pyint(idx.min())
    hi = _pyint(idx.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise IndexError(f"{op}(): index {bad} is out of range for an embedding table of {n} rows "
                         f"(weight of shape {list(weight.shape)}); indices must lie in [0, {n})")


def _padding_idx(op: str, padding_idx, n: int) -> int:
    """PyTorch's normalised padding index (-1 for none); AssertionError when outside [-n, n), as
    torch.nn.functional raises."""
    if padding_idx is None:
        return -1
    if isinstance(padding_idx, _pybool) or not isinstance(padding_idx, (_pyint, np.integer)):
        raise TypeError(f"{op}(): argument 'padding_idx' must be int, not {type(padding_idx).__name__}")
    padding_idx = _pyint(padding_idx)
    if padding_idx >= n or padding_idx < -n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + n if padding_idx < 0 else padding_idx


def _check_sparse(op: str, sparse) -> None:
    if sparse:
        raise NotImplementedError(f"{op}(): sparse=True is not supported: ferrum has no sparse "
                                  "gradients; use sparse=False (a dense gradient of the same values)")


def _check_weight(op: str, weight: Tensor) -> None:
    if weight.ndim != 2:
        raise RuntimeError(f"{op}(): 'weight' must be 2-D, got a weight of shape {list(weight.shape)}")


def _renorm(op: str, weight: Tensor, idx, max_norm, norm_type) -> None:
    """Rescales, in place and outside autograd, each row of ``weight`` that ``idx`` references and
    whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's
    ``embedding_renorm_``: factor ``max_norm / (norm + 1e-7)``); bumps the version counter, as
    PyTorch does, whether a row changed or not."""
    w = weight._data
    if w.dtype.kind not in "fV":  # V: bfloat16
        raise RuntimeError(f"{op}(): max_norm needs a floating point weight, got "
                           f"{type_name(w.dtype)} (norm(): input dtype should be either floating point "
                           "or complex)")
    try:
        max_norm = _pyfloat(max_norm)
        p = _pyfloat(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): max_norm and norm_type must be numbers, got {max_norm!r} and "
                        f"{norm_type!r}") from None
    xp = xp_of(w)
    if idx.size:
        u = xp.unique(idx)
        acc = _acc_dtype(w.dtype)
        r = w[u].astype(acc, copy=False)
        if p == math.inf:
            norms = xp.abs(r).max(axis=1)
        elif p == 0:
            norms = (r != 0).sum(axis=1).astype(acc)
        else:
            norms = (xp.abs(r) ** p).sum(axis=1) ** (1.0 / p)
        big = norms > max_norm
        if big.any():
            ub = u[big]
            scale = (max_norm / (norms[big] + 1e-7)).astype(acc)
            w[ub] = (r[big] * scale[:, None]).astype(w.dtype)
    weight._version[0] += 1


# --------------------------------------------------------------------------- embedding
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (V, D) at the integer indices ``input`` (*, int64 or int32) -> (*, D).

    ``padding_idx``: that row gets no gradient. ``max_norm``: before the lookup, each referenced
    row whose ``norm_type``-norm exceeds it is rescaled to norm ``max_norm`` in place (outside
    autograd, bumping ``weight``'s version). ``scale_grad_by_freq``: each row's gradient divided
    by how often its index occurs in ``input``. ``sparse=True`` raises NotImplementedError (a
    RuntimeError): ferrum has no sparse gradients. An index outside [0, V) raises IndexError
    naming it and V; nothing is modified by a failed call.

    Differences from PyTorch: the double backward with ``scale_grad_by_freq`` keeps the 1/count
    factor (the derivative of the scaled backward); torch's leaves it out.
    """
    _check_tensors("embedding", input, weight)
    w = weight._data
    idx = _index_array("embedding", input, w)
    _check_weight("embedding", weight)
    pad = _padding_idx("embedding", padding_idx, w.shape[0])
    _check_sparse("embedding", sparse)
    _check_range("embedding", idx, weight)
    if max_norm is not None:
        _renorm("embedding", weight, idx, max_norm, norm_type)
    out = _wrap(w.take(idx, axis=0))
    if _state.grad_enabled and weight.requires_grad and w.dtype.kind in "fcV":
        node = attach(out, EmbeddingBackward0, (weight,))
        node.index = input
        node.vi = input._version[0]
        node.n = w.shape[0]
        node.pad = pad
        node.scale = _pybool(scale_grad_by_freq)
        node._rows = None
    return out



# --------------------------------------------------------------------------- embedding_bag
class EmbeddingBagIndexError(RuntimeError, IndexError):
    """An index outside the table, or decreasing offsets, in ``embedding_bag``: a RuntimeError, as
    torch raises there, and an IndexError, as ``embedding`` raises."""


_MODES = ("sum", "mean", "max")


def _bag_input(input: Tensor, offsets, per_sample_weights, include_last_offset: bool):
    """(flat index, bag bounds (B + 1,) as a NumPy int64 array, flat per-sample weights) after
    PyTorch's checks (ValueError for the shapes F.embedding_bag checks in Python, RuntimeError for
    the offsets' values)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag(): if input is 2D, then offsets has to be None, as input is "
                             "treated as a mini-batch of fixed length sequences; got offsets of type "
                             f"{type(offsets)}")
        b, length = input.shape
        if length == 0:
            raise RuntimeError(f"embedding_bag(): a 2-D input of shape {list(input.shape)} has bags of "
                               "length 0 (torch: step must be nonzero); give a 1-D input with offsets")
        bounds = np.arange(b + 1, dtype=np.int64) * length
        flat = input.reshape(-1)
        psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        return flat, bounds, psw
    if input.ndim != 1:
        raise ValueError(f"embedding_bag(): input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag(): offsets has to be a 1D Tensor but got None")
    if not isinstance(offsets, Tensor):
        raise TypeError(f"embedding_bag(): argument 'offsets' must be Tensor, not {type(offsets).__name__}")
    if offsets.ndim != 1:
        raise ValueError(f"embedding_bag(): offsets has to be a 1D Tensor, got shape {list(offsets.shape)}")
    off = offsets._data
    if off.dtype not in _INDEX_DTYPES:
        raise RuntimeError("embedding_bag(): expected the offsets to have one of the scalar types Long, "
                           f"Int, but got {type_name(off.dtype)} instead")
    off = np.asarray(off.get() if hasattr(off, "get") else off, dtype=np.int64)
    n = input.shape[0]
    if off.size:
        if off[0] != 0:
            raise RuntimeError(f"embedding_bag(): offsets[0] has to be 0, i.e., the first bag has to "
                               f"start from position 0; got {int(off[0])}")
        if (off < 0).any():
            raise IndexError(f"embedding_bag(): offsets must not be negative, got {off.tolist()}")
        if (off[1:] < off[:-1]).any():  # torch raises a RuntimeError or an IndexError, by the values
            raise EmbeddingBagIndexError(f"embedding_bag(): offsets must be non-decreasing, got "
                                         f"{off.tolist()}")
        if off[-1] > n:
            raise RuntimeError(f"embedding_bag(): offsets[-1] can not be greater than input's length {n} "
                               f"but got offsets[-1] of {int(off[-1])}")
    if off.size == 0:  # no bags
        return input, np.zeros(1, np.int64), per_sample_weights
    bounds = off if include_last_offset else np.append(off, n)
    return input, bounds, per_sample_weights


def _check_psw(psw, input: Tensor, weight: Tensor, mode: str) -> None:
    if psw is None:
        return
    if not isinstance(psw, Tensor):
        raise TypeError("embedding_bag(): argument 'per_sample_weights' must be Tensor, not "
                        f"{type(psw).__name__}")
    if psw.shape != input.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(psw.shape)}) is not None, then it "
                         f"must have the same shape as the input ({list(input.shape)})")
    if psw._data.dtype != weight._data.dtype:
        raise RuntimeError(f"embedding_bag(): expected per_sample_weights of the weight's type "
                           f"{type_name(weight._data.dtype)}, got {type_name(psw._data.dtype)}")


def _bag_max(w: Tensor, rows: _Rows, bounds, bag_id) -> Tensor:
    """Mode max: per bag and column the largest entry (dropped entries excluded; zeros for a bag
    without entries), as a gather of the looked-up rows, so that the gradient reaches the arg-max
    entry only (the first on ties)."""
    n = rows.idx.size
    e = _gather(w, rows, (n,))
    ed = e._data
    d = ed.shape[1]
    xp = xp_of(ed)
    nbags = bounds.size - 1
    pos = np.full((nbags, d), n, dtype=np.int64)  # row n: the zero row appended below
    full = np.flatnonzero(np.diff(bounds) > 0)
    if full.size and d:
        vals = ed.astype(_acc_dtype(ed.dtype))
        vals = np.asarray(vals.get() if hasattr(vals, "get") else vals)
        if rows.drop is not None:
            vals[rows.drop] = -np.inf
        starts = bounds[full]  # consecutive non-empty bags: reduceat's segments are the bags
        top = np.maximum.reduceat(vals, starts, axis=0)
        rank = np.empty(nbags, np.int64)
        rank[full] = np.arange(full.size)
        hit = vals == top[rank[bag_id]]
        if rows.drop is not None:
            hit[rows.drop] = False  # a bag of padding only stays at the zero row
        # the first hit of each bag and column; int32 positions where they fit: 2.0 against 3.6 ms
        # for 4096 entries of 64 columns in 512 bags (benchmarks/embedding_parts.py bag)
        it = np.int32 if n < 2 ** 31 - 1 else np.int64
        at = np.where(hit, np.arange(n, dtype=it)[:, None], it(n))
        pos[full] = np.minimum.reduceat(at, starts, axis=0)
    from .join import cat
    ext = cat([e, _wrap(xp.zeros((1, d), dtype=ed.dtype))], 0)
    return ext.gather(0, _wrap(xp.asarray(pos)))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of rows of ``weight`` (V, D) -> (B, D), without the (N, D)
    lookup leaving the op.

    ``input``: 1-D (N) int64/int32 indices cut into bags by ``offsets`` (B, the start of each bag;
    with ``include_last_offset`` B + 1, the last being the end), or 2-D (B, L): B bags of L each,
    ``offsets`` None. ``per_sample_weights`` (input's shape, weight's dtype; mode ``sum`` only)
    scales each entry. Entries equal to ``padding_idx`` are left out (of the mean's counts too);
    an empty bag gives zeros. ``max_norm``, ``norm_type``, ``scale_grad_by_freq`` as in
    :func:`embedding`; ``sparse=True`` raises NotImplementedError. An index outside [0, V) raises
    :class:`EmbeddingBagIndexError` (a RuntimeError, as torch, and an IndexError); nothing is
    modified by a failed call.

    Differences from PyTorch 2.13 (CPU), where torch departs from its documentation:
    ``scale_grad_by_freq`` divides each row's gradient by its own index's count (torch's CPU kernel
    divides by another index's count when the counts differ, pytorch/pytorch#190063); with
    ``include_last_offset`` the last offset ends the last bag, entries after it belonging to no bag
    (torch's CPU kernel runs the last bag to the end of the input); indices must be int64 or int32
    (torch also takes int16 with 1-D input and int64 offsets).
    """
    _check_tensors("embedding_bag", input, weight)
    w = weight._data
    if w.dtype.kind not in "fV":
        raise RuntimeError("embedding_bag(): expected the weight to have one of the scalar types Half, "
                           f"BFloat16, Float, Double, but got {type_name(w.dtype)} instead")
    _check_psw(per_sample_weights, input, weight, mode)
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag(): weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    flat, bounds, psw = _bag_input(input, offsets, per_sample_weights, include_last_offset)
    if mode not in _MODES:
        raise ValueError(f"embedding_bag(): mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("embedding_bag(): max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("embedding_bag(): max mode does not support sparse weights")
    _check_sparse("embedding_bag", sparse)
    if psw is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is "
                                  f"only supported for mode='sum' (got mode='{mode}')")
    idx = _index_array("embedding_bag", flat, w)
    n = w.shape[0]
    if padding_idx is not None:
        if isinstance(padding_idx, _pybool) or not isinstance(padding_idx, (_pyint, np.integer)):
            raise TypeError("embedding_bag(): argument 'padding_idx' must be int, not "
                            f"{type(padding_idx).__name__}")
        if not -n <= padding_idx < n:
            raise RuntimeError(f"embedding_bag(): padding_idx must be within the number of embeddings, "
                               f"{-n} through {n - 1}, but got {padding_idx}")
        padding_idx = _pyint(padding_idx) % n
    try:
        _check_range("embedding_bag", idx, weight)
    except IndexError as e:
        raise EmbeddingBagIndexError(str(e)) from None
    if max_norm is not None:
        _renorm("embedding_bag", weight, idx, max_norm, norm_type)
    return _bags(weight, idx, bounds, psw, mode, padding_idx, _pybool(scale_grad_by_freq))


def _bags(weight: Tensor, idx, bounds, psw, mode: str, pad, scale: bool) -> Tensor:
    end = _pyint(bounds[-1])
    # a copy: the backward reads it, and the input tensor may change in place after the call
    idx = np.array(idx.get() if hasattr(idx, "get") else idx).reshape(-1)[:end]
    nbags = bounds.size - 1
    counts = np.diff(bounds)
    bag_id = np.repeat(np.arange(nbags), counts)
    drop = None
    if pad is not None:
        drop = idx == pad
        if not drop.any():
            drop = None
    coef = None
    if mode == "mean":
        live = counts if drop is None else counts - np.bincount(bag_id[drop], minlength=nbags)
        coef = (1.0 / np.maximum(live, 1))[bag_id]
    back = None
    if scale:
        freq = np.bincount(idx, minlength=weight.shape[0])[idx]
        back = _Rows(idx, 1.0 / freq if coef is None else coef / freq, drop)
    rows = _Rows(idx, coef, drop)
    if mode == "max":
        return _bag_max(weight, rows, bounds, bag_id)
    e = _gather(weight, rows, (idx.size,), back)
    if psw is not None:
        e = e * psw[:end].unsqueeze(-1)
    return _scatter(e, _Rows(bag_id), nbags, _BagBackward)
