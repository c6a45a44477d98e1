"""Rearrangements that return new memory: ``flip``/``fliplr``/``flipud``, ``roll``, ``rot90``,
``repeat``/``tile``/``repeat_interleave``, ``tril``/``triu`` (and their in-place forms and index
helpers), ``diag``/``diag_embed``/``diagflat`` and ``meshgrid``.

Every backward here is written with ferrum ops (the ``record``/``backward_t`` contract), so it is
differentiable again: flip, roll and rot90 undo themselves; repeat sums the tiles; tril/triu
mask again; ``diag``/``diag_embed`` build on the keyed diagonal view and its embed
(``subview``); ``repeat_interleave`` is an expand + reshape (one count) or an ``index_select``
(per-slice counts), as torch's own decomposition, so its gradients are those ops'. ``meshgrid``
returns expanded views of its inputs.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import as_dtype, int64, scalar_name
from .._factory import _finish, _xp_dt
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._common import canon_dim, same_device, xp_of
from ._shape_args import _data, _fmt, _int, _int_seq, _kw_arg, _overflow
from .elementwise import _write_out, clone
from .gather_scatter import index_select
from .inplace import apply_inplace
from .join import _tensor_list
from .subview import DiagEmbedBackward0, DiagonalBackward0, _embed, _key_view
from .view import expand, reshape, unsqueeze

__all__ = [
    "flip", "fliplr", "flipud", "roll", "rot90", "repeat", "tile", "repeat_interleave", "tril", "triu",
    "tril_indices", "triu_indices", "diag", "diag_embed", "diagflat", "meshgrid",
]


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose diagonals (planes ``dim1``/``dim2`` of the output) hold the last dim of
    ``input``; zeros elsewhere."""
    d = _data(input, "diag_embed")
    nd = d.ndim + 1
    a = canon_dim(dim1, nd, "diag_embed")
    b = canon_dim(dim2, nd, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    off = _int(offset, "diag_embed", "offset")
    if d.ndim == 0:
        raise IndexError("diag_embed(): Dimension out of range (expected to be in range of [-1, 0], "
                         "but got -1)")
    n = d.shape[-1] + builtins.abs(off)
    rest = iter(d.shape[:-1])
    shape = tuple(n if k == a or k == b else next(rest) for k in range(nd))
    return _embed(input, shape, ("diagonal", off, a, b), DiagEmbedBackward0)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with ``input`` on diagonal ``diagonal``; 2-D input: a copy of
    that diagonal."""
    d = _data(input, "diag")
    off = _int(diagonal, "diag", "diagonal")
    if d.ndim == 1:
        n = d.shape[0] + builtins.abs(off)
        return _embed(input, (n, n), ("diagonal", off, 0, 1), DiagEmbedBackward0)
    if d.ndim == 2:
        return clone(_key_view(input, ("diagonal", off, 0, 1), DiagonalBackward0))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {d.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` as diagonal ``offset`` of a square matrix."""
    _data(input, "diagflat")
    return diag(reshape(input, (-1,)), offset)


# --------------------------------------------------------------------------- copies: flip, roll, repeat
class FlipBackward0(Node):
    def backward_t(self, g):
        return (flip(g, self.dims),)


def flip(input: Tensor, *dims, **kw) -> Tensor:
    """A copy with the order of elements reversed along ``dims``."""
    d = _data(input, "flip")
    if kw:
        dims = _kw_arg(dims, kw, ("dims",), "flip")
    dims = _int_seq(dims, "flip", "dims")
    ks = [canon_dim(k, d.ndim, "flip") for k in dims]
    if len(set(ks)) != len(ks):
        dup = next(k for k in ks if ks.count(k) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    if d.ndim == 0 or not ks:
        r = d.copy()
    else:
        r = np.flip(d, axis=tuple(ks)).copy()
    return record(r, FlipBackward0, (input,), dims=tuple(ks))


def fliplr(input: Tensor) -> Tensor:
    """Flips dim 1 (input at least 2-D)."""
    d = _data(input, "fliplr")
    if d.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flips dim 0 (input at least 1-D)."""
    d = _data(input, "flipud")
    if d.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    def backward_t(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rolls elements along ``dims`` by ``shifts`` (wrapping around); with no dims, over the
    flattened tensor."""
    d = _data(input, "roll")
    sh = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    if not sh:
        raise RuntimeError("roll(): `shifts` required")
    sh = [_int(s, "roll", "shifts") for s in sh]
    ds = list(dims) if isinstance(dims, (tuple, list)) else [] if dims is None else [dims]
    if not ds:  # no dims (None or empty): roll the flattened tensor
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        r = np.roll(d.reshape(-1), sh[0]).reshape(d.shape)
        return record(r, RollBackward0, (input,), shifts=tuple(sh), dims=None)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    if d.ndim == 0:
        raise IndexError(f"roll(): Dimension specified as {_int(ds[0], 'roll', 'dims')} but tensor has no "
                         "dimensions")
    ks = tuple(canon_dim(k, d.ndim, "roll") for k in ds)
    return record(np.roll(d, tuple(sh), axis=ks), RollBackward0, (input,), shifts=tuple(sh), dims=ks)


class Rot90Backward0(Node):
    def backward_t(self, g):
        return (rot90(g, -self.k, self.dims),)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """A copy rotated by 90 degrees ``k`` times in the plane ``dims``, from the first dim
    towards the second."""
    d = _data(input, "rot90")
    k = _int(k, "rot90", "k")
    ds = list(dims)
    if len(ds) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(ds)}")
    if d.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {d.ndim}")
    a = canon_dim(ds[0], d.ndim, "rot90")
    b = canon_dim(ds[1], d.ndim, "rot90")
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    r = np.rot90(d, k, axes=(a, b)).copy()
    return record(r, Rot90Backward0, (input,), k=k, dims=(a, b))


class RepeatBackward0(Node):
    def backward_t(self, g):
        inter = self.inter
        gi = reshape(g, inter)
        axes = tuple(range(0, len(inter), 2))
        return (reshape(gi.sum(dim=axes) if axes else gi, self.shape),)


def repeat(input: Tensor, *sizes, **kw) -> Tensor:
    """A copy tiled ``sizes[i]`` times along each dim (extra leading sizes add dims)."""
    d = _data(input, "repeat")
    if kw:
        sizes = _kw_arg(sizes, kw, ("repeats",), "repeat")
    elif not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _int_seq(sizes, "repeat", "repeats")
    nd = d.ndim
    if len(reps) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    xs = (1,) * (len(reps) - nd) + d.shape
    target = tuple(r * s for r, s in zip(reps, xs))
    for r in reps:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: {_fmt(reps)}")
    inter = tuple(v for pair in zip(reps, xs) for v in pair)
    src = d.reshape(tuple(v for s in xs for v in (1, s)))
    try:
        out = xp_of(d).empty(target, d.dtype)
    except (ValueError, MemoryError) as e:  # NumPy: "array is too big", or no memory for it
        raise (_overflow(reps, "repeat", "repeats") or RuntimeError(
            f"repeat(): cannot allocate a tensor of size {_fmt(target)}: {e}")) from None
    if out.size:
        out.reshape(inter)[...] = src
    return record(out, RepeatBackward0, (input,), inter=inter, shape=d.shape)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with ``dims`` padded in front with ones to the input's rank."""
    d = _data(input, "tile")
    reps = _int_seq((dims,), "tile", "dims")
    if len(reps) < d.ndim:
        reps = (1,) * (d.ndim - len(reps)) + reps
    return repeat(input, reps)


def _counts(repeats: Tensor, what: str) -> np.ndarray:
    """The counts of an integer ``repeats`` tensor as a host int64 array (checked non-negative)."""
    a = repeats._data
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                  f"'{scalar_name(repeats.dtype)}'")
    c = np.asarray(a.get() if hasattr(a, "get") else a, dtype=np.int64)
    if c.ndim > 1 or (what == "index" and c.ndim != 1):
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat" if what == "index"
                           else "repeats must be 0-dim or 1-dim tensor")
    if (c < 0).any():
        raise RuntimeError("repeats can not be negative")
    return c


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeats each slice of ``input`` along ``dim`` ``repeats`` times, in place of the slice.

    ``repeats``: an int (every slice alike) or a 0-d/1-D integer tensor (one count per slice, or
    one for all); ``dim=None`` works on the flattened input. ``repeat_interleave(counts)`` alone
    gives ``arange(len(counts))`` with each index repeated by its count (the index map of the
    general form), in the counts' dtype. ``output_size``, when given, must equal the result's
    length along ``dim``. Shapes: ``(..., n, ...) -> (..., sum(counts), ...)``.
    """
    d = _data(input, "repeat_interleave")
    if repeats is None:
        c = _counts(input, "index")
        idx = np.repeat(np.arange(c.shape[0], dtype=np.int64), c).astype(d.dtype)
        return _wrap(xp_of(d).asarray(idx))
    if isinstance(repeats, Tensor):
        same_device("repeat_interleave", input, repeats)
        counts = _counts(repeats, "repeats")
    elif isinstance(repeats, (builtins.int, np.integer)) and not isinstance(repeats, (builtins.bool,
                                                                                      np.bool_)):
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        counts = np.asarray(builtins.int(repeats))
    else:
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be Tensor or int, not "
                        f"{type(repeats).__name__}")
    if dim is None:
        x, k = reshape(input, (-1,)), 0
    else:
        if d.ndim == 0:
            # as torch: a 0-d input has no dim to repeat along (only dim=None flattens it)
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        x, k = input, canon_dim(dim, d.ndim, "repeat_interleave")
    n = x.shape[k]
    if counts.ndim == 1 and counts.shape[0] != 1 and counts.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.shape[0]} and input.size({k}) = {n}")
    total = builtins.int(counts.sum()) if counts.ndim and counts.shape[0] == n else n * builtins.int(
        counts.reshape(-1)[0])
    if output_size is not None and output_size != total:
        raise RuntimeError("allocated size does not match required size")
    shape = tuple(x.shape)
    if counts.ndim == 0 or counts.shape[0] == 1:
        r = builtins.int(counts.reshape(-1)[0])
        wide = expand(unsqueeze(x, k + 1), shape[:k + 1] + (r,) + shape[k + 1:])
        # new C-contiguous memory as torch's (the reshape alone can be a view for r == 1 or n == 1)
        return reshape(clone(wide, memory_format="contiguous_format"), shape[:k] + (n * r,) + shape[k + 1:])
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    return index_select(x, k, _wrap(xp_of(d).asarray(idx)))


# --------------------------------------------------------------------------- triangles
class TrilBackward0(Node):
    def backward_t(self, g):
        return (tril(g, self.k),)


class TriuBackward0(Node):
    def backward_t(self, g):
        return (triu(g, self.k),)


def tril(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The lower triangle (on and below diagonal ``diagonal``) of the last two dims."""
    d = _data(input, "tril")
    if d.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    k = _int(diagonal, "tril", "diagonal")
    res = record(np.tril(d, k), TrilBackward0, (input,), k=k)
    if out is not None:
        return _write_out(out, res)
    return res


def triu(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The upper triangle (on and above diagonal ``diagonal``) of the last two dims."""
    d = _data(input, "triu")
    if d.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    k = _int(diagonal, "triu", "diagonal")
    res = record(np.triu(d, k), TriuBackward0, (input,), k=k)
    if out is not None:
        return _write_out(out, res)
    return res


def _tri_indices(row, col, offset, dtype, device, name, lower):
    row = _int(row, name, "row")
    col = _int(col, name, "col")
    offset = _int(offset, name, "offset")
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row ({row}) and col ({col}) must be non-negative")
    xp, dt, dev = _xp_dt(dtype, device, default=int64)
    if dt.kind not in "iu":
        raise NotImplementedError(f'"{name}" not implemented for \'{as_dtype(dt).name}\'')
    f = np.tril_indices if lower else np.triu_indices
    r, c = f(row, offset, col)
    arr = np.stack([r, c]).astype(dt) if row and col else np.zeros((2, 0), dt)
    if xp is not np:
        arr = xp.asarray(arr)
    return _finish(arr, False, dev)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The ``(2, N)`` row/column indices of the lower triangle of a ``row x col`` matrix."""
    return _tri_indices(row, col, offset, dtype, device, "tril_indices", True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The ``(2, N)`` row/column indices of the upper triangle of a ``row x col`` matrix."""
    return _tri_indices(row, col, offset, dtype, device, "triu_indices", False)


# --------------------------------------------------------------------------- meshgrid
def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 0-d/1-D tensors: output ``i`` varies along dim ``i``
    (``indexing='ij'``, the default, without PyTorch's warning) or with the first two dims
    swapped (``'xy'``). The outputs are expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: "
                         f"{indexing}")
    ts = _tensor_list(tensors, "meshgrid")
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, x in enumerate(ts):
        if x._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{x._data.ndim}D tensor at position {i}")
        if x.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    same_device("meshgrid", *ts)
    n = len(ts)
    sizes = [x._data.size for x in ts]
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    shape = tuple(sizes)
    outs = []
    for i, x in enumerate(ts):
        vs = [1] * n
        vs[pos[i]] = -1
        outs.append(expand(reshape(x, tuple(vs)), shape))
    return tuple(outs)


def _tril_(self, diagonal=0):
    return apply_inplace(self, lambda a: tril(a, diagonal), "tril_")


def _triu_(self, diagonal=0):
    return apply_inplace(self, lambda a: triu(a, diagonal), "triu_")


def _attach() -> None:
    for name in ["flip", "fliplr", "flipud", "roll", "rot90", "repeat", "tile", "repeat_interleave", "tril",
                 "triu", "diag", "diag_embed", "diagflat"]:
        setattr(Tensor, name, globals()[name])
    Tensor.tril_ = _tril_
    Tensor.triu_ = _triu_


_attach()
