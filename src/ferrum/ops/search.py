"""Searching and counting: searchsorted, bucketize, bincount, histc, histogram, histogramdd, isin.

None of these is differentiable in torch, and their integer or boolean outputs never require grad.
Two exceptions follow torch exactly: ``bincount`` with weights and ``histogram``/``histogramdd``
give an output that requires grad when a weight (or the input) does, and whose backward raises
("derivative for ... is not implemented": torch's ``grad_fn=<NotImplemented>``), while ``histc``'s
output never requires grad.

searchsorted over an N-D sorted sequence (one search per row) is torch's binary search run on all
values at once: ceil(log2(M + 1)) NumPy passes of a gather and a comparison; rows holding many values
go to one ``np.searchsorted`` each instead (the crossover is measured in ``_search_rows``). A 1-D
sequence without NaN goes to ``np.searchsorted``, whose indices are torch's there (NaN values land at
the end in both); with NaN in the sequence the binary search (torch's path) is used.

Histograms follow torch's kernel: the bin edges are ``linspace`` in the input's dtype (torch's
scalar formula from both ends; torch's vectorised kernel can differ from it by an ulp inside the
range), an element outside ``[edges[0], edges[-1]]`` or NaN is dropped, the last bin is closed.
``histc`` places an element by linear interpolation, ``(x - lo) * bins / (hi - lo)`` in the input's
dtype, as torch's histc does; ``histogram(dd)`` by a binary search in the edges (torch's local search
around the interpolated bin gives the same bin). Counts are accumulated in float64 and rounded once
to the input's dtype (torch accumulates float16 in float16, which stops counting at 2048).
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from .._casting import cast_array
from .._dtype import from_np, result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ._common import _write_out, xp_of
from ._reduce_common import _return_type
from .gather_scatter import _no_grad_result

__all__ = ["searchsorted", "bucketize", "bincount", "histc", "histogram", "histogramdd", "isin"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool

histogram_result = _return_type("histogram", ("hist", "bin_edges"))
histogramdd_result = _return_type("histogramdd", ("hist", "bin_edges"))
_PRE = "torch.histogramdd"


def _tensor_arg(x, op: str, arg: str, pos: int | None = None) -> Tensor:
    if not isinstance(x, Tensor):
        where = f" (position {pos})" if pos else ""
        raise TypeError(f"{op}(): argument '{arg}'{where} must be Tensor, not {type(x).__name__}")
    return x


def _int_arg(x, op: str, arg: str) -> int:
    if isinstance(x, Tensor) and x.numel() == 1 and x._data.dtype.kind in "iu":
        return _pyint(x.item())
    if isinstance(x, _pybool) or not isinstance(x, (_pyint, np.integer)):
        raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(x).__name__}")
    return _pyint(x)


def _number(x, op: str, arg: str) -> float:
    if isinstance(x, Tensor) and x.numel() == 1:
        return _pyfloat(x.item())
    if isinstance(x, _pybool) or not isinstance(x, (_pyint, _pyfloat, np.integer, np.floating)):
        raise TypeError(f"{op}(): argument '{arg}' must be Number, not {type(x).__name__}")
    return _pyfloat(x)


def _scalar_tensor(x, op: str, arg: str, like: Tensor) -> Tensor:
    """A Python number as the 0-d tensor torch makes of it (int64, float64 or bool), on ``like``'s
    device."""
    if not isinstance(x, (_pybool, _pyint, _pyfloat, np.integer, np.floating, np.bool_)):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor or Number, not {type(x).__name__}")
    return _wrap(xp_of(like._data).asarray(x))


def _tname(a) -> str:
    return scalar_name(from_np(a.dtype))


def _out_exact(out, res: Tensor, op: str, what: str = "out") -> Tensor:
    """``out=`` for the ops whose out tensor must already have the result's dtype, as torch requires."""
    if isinstance(out, Tensor) and out._data.dtype != res._data.dtype:
        raise RuntimeError(f"{op}: expected the {what} tensor to have dtype {_tname(res._data)}, but got "
                           f"{_tname(out._data)}")
    return _write_out(out, res)


def _is_floating(a) -> bool:
    return a.dtype.kind == "f" or a.dtype.name == "bfloat16"


# --------------------------------------------------------------------------- searchsorted
def _bisect(seq, vals, right: bool):
    """torch's binary search, vectorised: for each value of ``vals`` (R, K) the first index ``i`` of
    its row of ``seq`` (R, M) with ``seq[i] >= v`` (``> v`` when ``right``), moving right whenever
    the comparison is false, so a NaN value lands at M and a NaN in the sequence sends the search
    the way torch's does. ceil(log2(M + 1)) passes of a gather and a comparison."""
    xp = xp_of(seq)
    m = seq.shape[-1]
    lo = xp.zeros(vals.shape, dtype=np.int64)
    hi = xp.full(vals.shape, m, dtype=np.int64)
    if m == 0:
        return lo
    for _ in range(max(m, 1).bit_length()):
        active = lo < hi
        mid = (lo + hi) >> 1
        at = xp.take_along_axis(seq, xp.minimum(mid, m - 1), axis=-1)
        with np.errstate(invalid="ignore"):
            go_right = ~(at > vals) if right else ~(at >= vals)
        move = active & go_right
        lo = xp.where(move, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
    return lo


def _search_rows(seq, vals, side: str):
    """Insertion points of ``vals`` (..., K) in each row of ``seq`` (..., M) (same leading dims), or
    of ``vals`` of any shape in a 1-D ``seq``. Without NaN in ``seq``, NumPy's searchsorted gives
    torch's indices: one call for a 1-D sequence, one per row when rows hold many values (below);
    otherwise the vectorised binary search."""
    xp = xp_of(seq)
    right = side == "right"
    plain = not (seq.dtype.kind == "f" and xp.isnan(seq).any())
    if seq.ndim == 1:
        if plain:
            return xp.asarray(xp.searchsorted(seq, vals, side=side))
        return _bisect(seq.reshape(1, -1), vals.reshape(1, vals.size), right).reshape(vals.shape)
    rows_n, m, k = math.prod(seq.shape[:-1]), seq.shape[-1], vals.shape[-1]
    s2 = seq.reshape(rows_n, m)
    v2 = vals.reshape(rows_n, k)
    # per value: ~60 ns in np.searchsorted against ~16 ns per bisection pass; per row the loop pays
    # ~1.3 us of call overhead, the bisection ~60 us in all (benchmarks/searchsorted_rows.py: 1000
    # rows of 64, 16 values each: 1.3 ms bisecting, 1.7 ms looping; 100 rows of 1000, 1000 values
    # each: 16.5 ms, 6.2 ms; 10 rows of 64, 16 values each: 0.07 ms, 0.016 ms)
    if plain and (rows_n <= 32 or k * (16 * (m + 1).bit_length() - 60) > 1300):
        out = xp.empty((rows_n, k), dtype=np.int64)
        for i in range(rows_n):
            out[i] = xp.searchsorted(s2[i], v2[i], side=side)
        return out.reshape(vals.shape)
    return _bisect(s2, v2, right).reshape(vals.shape)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None, out: Tensor | None = None) -> Tensor:
    """Indices at which ``input`` would be inserted into the innermost dim of ``sorted_sequence`` to
    keep it sorted: ``sorted_sequence`` (M,) with ``input`` of any shape (or a number, giving a 0-d
    result), or (..., M) with ``input`` (..., K). ``right``/``side='right'`` takes the last such
    index; ``sorter`` holds the indices that sort an unsorted ``sorted_sequence``. int64 result
    (int32 with ``out_int32``). A NaN value goes last; NaN in the sequence gives torch's indices."""
    op = "torch.searchsorted()"
    _tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence", 1)
    if out is not None:
        res = searchsorted(sorted_sequence, input, out_int32=out_int32, right=right, side=side, sorter=sorter)
        return _out_exact(out, res, "torch.searchsorted()")
    scalar = not isinstance(input, Tensor)
    values = _scalar_tensor(input, "searchsorted", "input", sorted_sequence) if scalar else input
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}: side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left while "
                               "right was True")
    seq, v = sorted_sequence._data, values._data
    if seq.ndim == 0:
        raise RuntimeError(f"{op}: boundaries tensor should have positive dimension, but got 0 dimension")
    if seq.ndim != 1 and (scalar or v.ndim == 0):
        raise RuntimeError(f"{op}: input value can be a scalar only when boundaries tensor dimension is 1, "
                           f"but we got boundaries tensor dim({seq.ndim}) and input value's dim({v.ndim}) "
                           f"numel({v.size})")
    if seq.ndim != 1 and (v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                           "boundaries tensor and input value tensor must match, but we got boundaries "
                           f"tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
    if sorter is not None:
        _tensor_arg(sorter, "searchsorted", "sorter")
        sd = sorter._data
        if sd.dtype != np.int64:
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got dtype {_tname(sd)}")
        if sd.shape != seq.shape:
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got boundary tensor "
                               f"{list(seq.shape)}and got sorter tensor {list(sd.shape)}")
        if sd.size and (sd.min() < 0 or sd.max() >= seq.shape[-1]):
            raise RuntimeError(f"{op}: sorter index out of range")
    dt = to_np(result_type(sorted_sequence, values))
    if dt.kind in "bc":
        name = scalar_name(from_np(dt))
        raise NotImplementedError(f"\"searchsorted_out_cpu\" not implemented for '{name}'")
    if dt.itemsize < 4 and dt.kind not in "iu":  # float16/bfloat16: float32 holds them exactly, sorts faster
        dt = np.dtype(np.float32)
    s = seq if seq.dtype == dt else cast_array(seq, dt)
    vv = v if v.dtype == dt else cast_array(v, dt)
    if sorter is not None:
        s = np.take_along_axis(s, sorter._data, axis=-1)
    r = _search_rows(s, vv, "right" if right or side == "right" else "left")
    return _wrap(r.astype(np.int32 if out_int32 else np.int64, copy=False))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out: Tensor | None = None) -> Tensor:
    """Index of the bucket of each element of ``input`` (a tensor or a number) among the 1-D sorted
    ``boundaries``: ``boundaries[i-1] < x <= boundaries[i]``, or ``boundaries[i-1] <= x <
    boundaries[i]`` with ``right=True``. int64 result (int32 with ``out_int32``), ``input``'s shape."""
    _tensor_arg(boundaries, "bucketize", "boundaries", 2)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# --------------------------------------------------------------------------- bincount
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count of each value of the 1-D non-negative integer ``input``: length ``max(input) + 1`` (at
    least ``minlength``). With ``weights`` (same length) the sums of the weights instead: float32
    for float32 weights, float64 for every other dtype. An empty ``input`` gives int64 zeros of
    length ``minlength``, weights or not (as torch does)."""
    _tensor_arg(input, "bincount", "input", 1)
    minlength = _int_arg(minlength, "bincount", "minlength")
    a = input._data
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_tname(a)}'")
    if weights is not None:
        _tensor_arg(weights, "bincount", "weights", 2)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = xp_of(a)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights._data.ndim != 1 or weights._data.shape[0] != a.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if a.size == 0:
        return _wrap(xp.zeros(minlength, dtype=np.int64))
    n = max(_pyint(a.max()) + 1, minlength)
    idx = a.astype(np.intp, copy=False)
    if weights is None:
        return _wrap(xp.bincount(idx, minlength=n).astype(np.int64, copy=False))
    w = weights._data
    if w.dtype.kind == "c":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_tname(w)}'")
    r = xp.bincount(idx, weights=w.astype(np.float64, copy=False), minlength=n)
    if w.dtype == np.float32:
        r = r.astype(np.float32)
    return _no_grad_result(_wrap(r), (weights,), "bincount")


# --------------------------------------------------------------------------- histograms
def _linspace(lo: float, hi: float, steps: int, dt):
    """torch's linspace formula in dtype ``dt``: the first half from ``lo``, the second from ``hi``,
    each operation rounded to ``dt`` (float16/bfloat16 included)."""
    with np.errstate(over="ignore"):
        start = np.asarray(lo).astype(dt)
        end = np.asarray(hi).astype(dt)
        if steps == 1:
            return start.reshape(1)
        step = (end - start) / np.asarray(steps - 1).astype(dt)
        i = np.arange(steps)
        head = start + step * i.astype(dt)
        tail = end - step * (steps - 1 - i).astype(dt)
    return np.where(i < steps // 2, head, tail).astype(dt, copy=False)


def _count(index, keep, weight, nbins: int, dt):
    """Sum of ``weight`` (or 1) per flat bin ``index`` over the elements where ``keep``, as ``dt``."""
    w = None if weight is None else weight[keep].astype(np.float64)
    return np.bincount(index[keep], weights=w, minlength=nbins).astype(dt)


def histc(input: Tensor, bins: int = 100, min=0, max=0, *, out: Tensor | None = None) -> Tensor:
    """Histogram of ``input``'s elements in ``bins`` equal-width bins over ``[min, max]`` (the data's
    range when ``min == max``; a degenerate range is widened by 1 on each side). Elements outside the
    range and NaN are ignored. Floating input only; the result has its dtype and no gradient."""
    op = "torch.histc"
    _tensor_arg(input, "histc", "input", 1)
    bins = _int_arg(bins, "histc", "bins")
    lo, hi = _number(min, "histc", "min"), _number(max, "histc", "max")
    if out is not None:
        return _out_exact(out, histc(input, bins, lo, hi), "torch.histc", "hist")
    a = input._data
    if not _is_floating(a):
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_tname(a)}'")
    if lo == hi and a.size:
        lo, hi = _pyfloat(a.min()), _pyfloat(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"{op}: range of [{lo:g}, {hi:g}] is not finite")
    if not lo < hi:
        raise RuntimeError(f"{op}: max must be larger than min")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    dt = a.dtype
    edges = _linspace(lo, hi, bins + 1, dt)
    x = a.reshape(-1)
    left, right = edges[0], edges[-1]
    with np.errstate(invalid="ignore", over="ignore"):
        keep = (x >= left) & (x <= right)
        # torch's order of operations, each rounded to the input's dtype
        pos = ((x[keep] - left) * np.asarray(bins).astype(dt)[()] / (right - left)).astype(np.float64)
    idx = np.minimum(np.trunc(pos).astype(np.int64), bins - 1)
    hist = np.bincount(idx, minlength=bins).astype(dt)
    return _wrap(hist)


def _outer_edges(x2, d: int, rng):
    """(lo, hi) of dimension ``d`` of the points ``x2`` (n, D): ``rng`` or the data's range; checked
    and widened by 0.5 on each side when empty, as torch.histogramdd does."""
    if rng is not None:
        lo, hi = rng[2 * d], rng[2 * d + 1]
    elif x2.shape[0]:
        lo, hi = _pyfloat(x2[:, d].min()), _pyfloat(x2[:, d].max())
    else:
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"{_PRE}: dimension {d}'s range [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError(f"{_PRE}: min should not exceed max, but got min {lo:g} max {hi:g} for "
                           f"dimension {d}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _range_arg(rng, n: int, op: str):
    if rng is None:
        return None
    if isinstance(rng, Tensor) or not isinstance(rng, (tuple, list)):
        raise TypeError(f"{op}(): argument 'range' must be tuple of floats, not {type(rng).__name__}")
    vals = [_number(v, op, "range") for v in rng]
    if len(vals) != 2 * n:
        raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range should have {2 * n} "
                           f"elements, but got {len(vals)}")
    return vals


def _weight_arg(weight, a, flat: bool, op: str):
    """``weight`` as a flat array, checked against the points ``a``."""
    if weight is None:
        return None
    _tensor_arg(weight, op, "weight")
    wd = weight._data
    if wd.dtype != a.dtype:
        raise RuntimeError(f"{_PRE}: if weight tensor is provided, input tensor and weight tensor should "
                           f"have the same dtype, but got input({_tname(a)}), and weight({_tname(wd)})")
    if (wd.size != a.size) if flat else (wd.shape != a.shape[:-1]):
        shape_in = [a.size, 1] if flat else list(a.shape)
        raise RuntimeError(f"{_PRE}: if weight tensor is provided it should have the same shape as the "
                           "input tensor excluding its innermost dimension, but got input with shape "
                           f"{shape_in} and weight with shape {list(wd.shape)}")
    return wd.reshape(-1)


def _edges(b, d: int, x2, rng, op: str):
    """The edges array of dimension ``d``: a copy of the tensor ``b``, or ``b`` bins over the range."""
    a = x2
    if isinstance(b, Tensor):
        e = b._data
        if e.ndim != 1:
            raise RuntimeError(f"{_PRE}: bins tensor should have one dimension, but got {e.ndim} "
                               f"dimensions in the bins tensor for dimension {d}")
        if e.dtype != a.dtype:
            raise RuntimeError(f"{_PRE}: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {_tname(a)} and bins for dimension {d} with dtype "
                               f"{_tname(e)}")
        if e.size < 2:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {e.size - 1} for dimension {d}")
        return e.copy()
    nb = _int_arg(b, op, "bins")
    if nb <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nb} for dimension {d}")
    lo, hi = _outer_edges(x2, d, rng)
    return xp_of(a).asarray(_linspace(lo, hi, nb + 1, a.dtype))


def _bins_list(bins, n_dim: int, rng, op: str) -> list:
    if isinstance(bins, (tuple, list)):
        if len(bins) != n_dim:
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of "
                               "the input.")
        bins = list(bins)
    else:
        bins = [bins] * n_dim
    tensor_bins = [isinstance(b, Tensor) for b in bins]
    if any(tensor_bins) and not all(tensor_bins):
        raise TypeError(f"{op}(): argument 'bins' must be int, a sequence of ints or a sequence of Tensors")
    if bins and all(tensor_bins) and rng is not None:
        raise TypeError(f"{op}(): argument 'range' is not accepted together with Tensor bins")
    return bins


def _histdd(input: Tensor, bins, rng, weight, density: bool, op: str, flat: bool):
    """(hist, list of edge tensors) of the points ``input`` (..., D) (``flat``: every element is a
    1-D point, torch.histogram's view)."""
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_tname(a)}'")
    if not flat and a.ndim < 2:
        raise RuntimeError(f"{_PRE}: input tensor should have at least 2 dimensions, but got {a.ndim}")
    x2 = a.reshape(a.size, 1) if flat else a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
    n_dim = x2.shape[1]
    bins = _bins_list(bins, n_dim, rng, op)
    rng = _range_arg(rng, n_dim, op)
    w = _weight_arg(weight, a, flat, op)
    edges = [_edges(b, d, x2, rng, op) for d, b in enumerate(bins)]
    sizes = [e.size - 1 for e in edges]
    xp = xp_of(a)
    keep = xp.ones(x2.shape[0], dtype=bool)
    flat_idx = xp.zeros(x2.shape[0], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for d, e in enumerate(edges):
            col = x2[:, d]
            keep &= (col >= e[0]) & (col <= e[-1])
            pos = np.minimum(np.searchsorted(e, col, side="right") - 1, sizes[d] - 1)
            flat_idx = flat_idx * sizes[d] + np.maximum(pos, 0)
    if n_dim:
        hist = _count(flat_idx, keep, w, math.prod(sizes), a.dtype).reshape(sizes)
    else:
        hist = xp.zeros((), a.dtype)
    if density and n_dim:
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = hist / hist.sum()
            for d, e in enumerate(edges):
                shape = [1] * n_dim
                shape[d] = sizes[d]
                hist = hist / np.diff(e).reshape(shape)
        hist = hist.astype(a.dtype, copy=False)
    grads_from = (input, weight, *(b for b in bins if isinstance(b, Tensor)))
    hist_t = _no_grad_result(_wrap(hist), grads_from, op)
    return hist_t, [_no_grad_result(_wrap(e), grads_from, op) for e in edges]


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None, density: bool = False,
              out=None):
    """Named tuple (hist, bin_edges) of the histogram of ``input``'s elements: ``bins`` equal-width
    bins over ``range`` (default: the data's range), or the 1-D increasing edges ``bins``.
    ``weight`` (same number of elements) weights each element; ``density`` normalises so that the
    histogram integrates to 1. float32/float64 input; the last bin includes its right edge."""
    _tensor_arg(input, "histogram", "input", 1)
    if not isinstance(bins, Tensor):
        bins = _int_arg(bins, "histogram", "bins")
    if out is not None:
        res = histogram(input, bins, range=range, weight=weight, density=density)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("histogram(): argument 'out' must be a tuple of 2 Tensors")
        return histogram_result(_out_exact(out[0], res.hist, "torch.histogram", "hist"),
                                _out_exact(out[1], res.bin_edges, "torch.histogram", "bin_edges"))
    hist, edges = _histdd(input, bins, range, weight, density, "histogram", flat=True)
    return histogram_result(hist, edges[0])


def histogramdd(input: Tensor, bins=10, *, range=None, weight: Tensor | None = None, density: bool = False):
    """Named tuple (hist, bin_edges) of the D-dimensional histogram of the points ``input`` (..., D):
    ``bins`` is an int, D ints or D 1-D edge tensors; ``range`` holds D (min, max) pairs, flattened;
    ``weight`` has ``input``'s shape without the last dim. ``bin_edges`` is a tuple of D tensors."""
    _tensor_arg(input, "histogramdd", "input", 1)
    hist, edges = _histdd(input, bins, range, weight, density, "histogramdd", flat=False)
    return histogramdd_result(hist, tuple(edges))


# --------------------------------------------------------------------------- isin
def _isin_dtype_check(a) -> None:
    if a.dtype.kind in "bc":
        raise RuntimeError(f"Unsupported input type encountered for isin(): {_tname(a)}")


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False,
         out: Tensor | None = None) -> Tensor:
    """Boolean tensor of ``elements``' shape: whether each element is in ``test_elements`` (compared
    in their promoted dtype; NaN is in nothing). Either argument may be a number, not both; a
    number ``test_elements`` is compared as ``elements == test_elements`` (so it is converted to an
    integer ``elements``' dtype, as torch does). ``invert`` negates; ``assume_unique`` is accepted
    and changes nothing (the result is the same for unique inputs)."""
    if out is not None:
        res = isin(elements, test_elements, assume_unique=assume_unique, invert=invert)
        return _out_exact(out, res, "isin")
    e_tensor, t_tensor = isinstance(elements, Tensor), isinstance(test_elements, Tensor)
    if not (e_tensor or t_tensor):
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}): one must be a Tensor")
    if not t_tensor:
        tt = _scalar_tensor(test_elements, "isin", "test_element", elements)
        _isin_dtype_check(tt._data)
        _isin_dtype_check(elements._data)
        dt = to_np(result_type(elements, test_elements))
        ed = elements._data
        e = ed if ed.dtype == dt else cast_array(ed, dt)
        v = cast_array(tt._data, dt)[()]  # wraps an out-of-range integer, as torch's eq does
        r = operator.ne(e, v) if invert else operator.eq(e, v)
        return _wrap(xp_of(ed).asarray(r))
    if not e_tensor:
        elements = _scalar_tensor(elements, "isin", "element", test_elements)
    ed, td = elements._data, test_elements._data
    _isin_dtype_check(ed)
    _isin_dtype_check(td)
    dt = to_np(result_type(elements, test_elements))
    e = ed if ed.dtype == dt else cast_array(ed, dt)
    t = td if td.dtype == dt else cast_array(td, dt)
    if dt.itemsize < 4 and dt.kind == "V":  # bfloat16: compare exactly in float32 (sorting support)
        e, t = e.astype(np.float32), t.astype(np.float32)
    xp = xp_of(e)
    r = xp.isin(e, t.reshape(-1), invert=invert)
    return _wrap(xp.asarray(r, dtype=bool).reshape(ed.shape))


def _attach() -> None:
    def _histogram_method(self, bins=100, *, range=None, weight=None, density=False, out=None):
        return histogram(self, bins, range=range, weight=weight, density=density, out=out)

    Tensor.bincount = bincount
    Tensor.histc = histc
    Tensor.histogram = _histogram_method


_attach()
