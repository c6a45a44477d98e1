"""``F.grid_sample`` (bilinear, nearest, bicubic; zeros, border, reflection padding; 4-D and 5-D
input) and ``F.affine_grid`` (2-D and 3-D affine transforms).

Both are compositions of ferrum's differentiable ops, which is what gives every gradient PyTorch
has and more: grid_sample is differentiable with respect to the input and the grid to any order
(PyTorch's own double backward goes through ``GridSampler2DBackwardBackward0``; here through the
ops below), and affine_grid with respect to theta.

grid_sample, per output point: the grid's normalised coordinates in [-1, 1] are unnormalised to
pixel coordinates (``align_corners`` says whether -1 and 1 are the centres or the outer edges of
the corner pixels), mapped by the padding mode (border clips into the input; reflection reflects
about the border, then clips), and the input is read at the 2^d corners of the cell around the
point (bilinear/trilinear), at the nearest pixel (round half to even, as PyTorch) or at 4 x 4 taps
(bicubic, Keys' kernel with A = -0.75, the padding applied to each tap). A corner outside the input
reads 0: the input is read channels-last with one zero row appended, which every outside point
indexes, so nothing is multiplied by a zero weight and an inf elsewhere in the input never makes
a nan. The integer taps are computed once on raw arrays and all of them are read with one ``take``
of rows (its adjoint, the input's gradient, is one ``bincount`` per channel); only the fractional
weights are Tensor ops of the grid, so the gradient with respect to the grid flows through them,
as in PyTorch's kernel. At a clipping boundary the coordinate's derivative is 0, PyTorch's
convention.

Measured (one thread, float32, input (8, 16, 32, 32), grid (8, 32, 32, 2), bilinear, best of 7):
forward 2.6 ms, backward 7.4 ms (torch 2.13's fused kernels: 0.18 ms and 0.9 ms). Reading through
``gather`` on (N, C, P) indices with ``np.add.at`` in its backward took 13 ms and 18 ms.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from . import elementwise as E
from ._common import xp_of
from .join import stack
from ._autocast import autocast_op

__all__ = ["grid_sample", "affine_grid"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75
_DEFAULT_AC_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                       "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See "
                       "the documentation of grid_sample for details.")


# --------------------------------------------------------------------------- coordinates (Tensor ops)
def _unnormalize(c: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (c + 1) / 2 * (size - 1)
    return ((c + 1) * size - 1) / 2


def _clip(c: Tensor, size: int) -> Tensor:
    # derivative 0 on the boundary itself, as PyTorch's clip_coordinates_set_grad
    return E.where(c <= 0, 0.0, E.where(c >= size - 1, float(size - 1), c))


def _reflect(c: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflects ``c`` about low = twice_low / 2 and high = twice_high / 2 until it lies between."""
    if twice_low == twice_high:
        # one point (align_corners with size 1): every coordinate maps to 0, derivative 0
        return E.where(_wrap(xp_of(c._data).ones(c.shape, bool)), 0.0, c)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    a = (c - lo).abs()
    flips = np.floor(a._data / span)  # piecewise constant: no gradient
    extra = a - _wrap((flips * span).astype(a._data.dtype, copy=False))
    even = _wrap(np.fmod(flips, 2) == 0)
    return E.where(even, extra + lo, (span + lo) - extra)


def _pad_coords(c: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        if align_corners:
            return _clip(_reflect(c, 0, 2 * (size - 1)), size)
        return _clip(_reflect(c, -1, 2 * size - 1), size)
    return c


# --------------------------------------------------------------------------- reading the input
def _channels_last(d):
    """Input array (N, C, *S) as rows (N * prod(S) + 1, C), the last row zeros: the value read at
    any point outside the input."""
    n, c = d.shape[:2]
    s = int(np.prod(d.shape[2:]))
    cl = xp_of(d).empty((n * s + 1, c), d.dtype)
    cl[:n * s].reshape(n, s, c)[...] = d.reshape(n, c, s).transpose(0, 2, 1)
    cl[n * s] = 0
    return cl


class _TakeRowsBackward(Node):
    def backward_t(self, g):
        return (_put_rows(g, self.rows, self.shape),)


class _PutRowsBackward(Node):
    def backward_t(self, g):
        return (_take_rows(g, self.rows),)


def _take_rows(x: Tensor, rows) -> Tensor:
    """Rows (M, C) of ``x`` (N, C, *S) seen channels-last, ``rows`` (M,) indexing N * prod(S)
    points, N * prod(S) meaning "outside" (zeros)."""
    cl = _channels_last(x._data)
    return record(xp_of(cl).take(cl, rows, axis=0), _TakeRowsBackward, (x,), rows=rows, shape=tuple(x.shape))


def _put_rows(g: Tensor, rows, shape: tuple) -> Tensor:
    """The adjoint of :func:`_take_rows`: sums the rows of ``g`` (M, C) into a tensor of ``shape``
    (N, C, *S); rows read outside the input are dropped. One ``bincount`` per channel (a loop over
    channels, not points): measured 1.7 ms for 32K rows of 16 channels, against 6 ms for one
    bincount over every element, 6 ms sorting and reducing runs, and 8.6 ms for ``np.add.at``."""
    d = g._data
    xp = xp_of(d)
    n, c = shape[:2]
    s = int(np.prod(shape[2:]))
    cols = xp.ascontiguousarray(d.T)
    if cols.dtype not in (np.float32, np.float64):
        cols = cols.astype(np.float64)
    acc = xp.empty((c, n * s), d.dtype)
    for ch in range(c):
        acc[ch] = xp.bincount(rows, weights=cols[ch], minlength=n * s + 1)[:n * s]
    r = xp.ascontiguousarray(acc.reshape(c, n, s).transpose(1, 0, 2))
    return record(r.reshape(shape), _PutRowsBackward, (g,), rows=rows)


class _Reader:
    """Reads ``input`` (N, C, *S) at integer points (one (N, P) int array per spatial dim), 0
    outside; all the taps of one call at once."""

    def __init__(self, input: Tensor) -> None:
        self.input = input
        self.n, self.c = input.shape[:2]
        self.sizes = tuple(input.shape[2:])
        strides = np.cumprod((1,) + self.sizes[:0:-1])[::-1]
        self.strides = [int(s) for s in strides]
        self.xp = xp_of(input._data)
        self.outside = self.n * int(np.prod(self.sizes))

    def rows(self, pts: list):
        xp = self.xp
        valid = None
        flat = 0
        for p, size, stride in zip(pts, self.sizes, self.strides):
            ok = (p >= 0) & (p < size)
            valid = ok if valid is None else valid & ok
            flat = flat + np.clip(p, 0, size - 1) * stride
        flat = flat + (xp.arange(self.n) * (self.outside // max(self.n, 1)))[:, None]
        return xp.where(valid, flat, self.outside)

    def combine(self, rows: list, weights) -> Tensor:
        """sum_k weights[k] * input at rows[k]: (N, C, P). ``weights`` None: one unit-weight tap."""
        k = len(rows)
        p = rows[0].shape[1]
        m = self.n * p
        v = _take_rows(self.input, self.xp.stack(rows).reshape(-1))
        if weights is None:
            out = v
        else:
            w = stack(weights).reshape(k, m, 1)
            out = (v.reshape(k, m, self.c) * w).sum(0)
        return out.reshape(self.n, p, self.c).permute(0, 2, 1)


def _cubic_coeffs(t: Tensor) -> list:
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _sample(input: Tensor, grid: Tensor, mode: str, padding_mode: str, align_corners: bool) -> Tensor:
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])
    nd = len(sizes)
    out_spatial = tuple(grid.shape[1:-1])
    g = grid.reshape(n, int(np.prod(out_spatial)), nd)
    reader = _Reader(input)
    # grid's last dim is (x, y[, z]): x indexes the last input dim
    coords = [_unnormalize(g[:, :, nd - 1 - d], sizes[d], align_corners) for d in range(nd)]
    if mode == "bicubic":
        out = _bicubic(reader, coords, padding_mode, align_corners)
    else:
        coords = [_pad_coords(x, s, padding_mode, align_corners) for x, s in zip(coords, sizes)]
        if mode == "nearest":
            pts = [np.rint(_safe(x._data, s)).astype(np.int64) for x, s in zip(coords, sizes)]
            out = reader.combine([reader.rows(pts)], None)
        else:
            out = _linear(reader, coords)
    return out.reshape((n, c) + out_spatial)


def _safe(v, size: int):
    """Pixel coordinates ``v`` limited to [-3, size + 2] (nan to -3): a point beyond reads only
    zeros either way, and the integer casts that follow stay defined."""
    return np.where(v == v, np.clip(v, -3, size + 2), -3).astype(v.dtype, copy=False)


def _linear(reader: _Reader, coords: list) -> Tensor:
    lo = [np.floor(_safe(x._data, s)) for x, s in zip(coords, reader.sizes)]
    # the weights of the lower and upper corner per dim: (lo + 1 - x, x - lo), PyTorch's form
    ws = [(_wrap((f + 1).astype(x._data.dtype)) - x, x - _wrap(f.astype(x._data.dtype)))
          for x, f in zip(coords, lo)]
    lo_i = [f.astype(np.int64) for f in lo]
    rows, weights = [], []
    for bits in itertools.product((0, 1), repeat=len(coords)):
        w = None
        for d, b in enumerate(bits):
            w = ws[d][b] if w is None else w * ws[d][b]
        rows.append(reader.rows([f + b for f, b in zip(lo_i, bits)]))
        weights.append(w)
    return reader.combine(rows, weights)


def _bicubic(reader: _Reader, coords: list, padding_mode: str, align_corners: bool) -> Tensor:
    lo = [np.floor(_safe(x._data, s)) for x, s in zip(coords, reader.sizes)]
    coeffs = [_cubic_coeffs(x - _wrap(f.astype(x._data.dtype))) for x, f in zip(coords, lo)]
    taps = []
    for f, size in zip(lo, reader.sizes):  # the padding moves each integer tap, not the point
        per = []
        for k in range(4):
            t = _pad_coords(_wrap(f + (k - 1)), size, padding_mode, align_corners)._data
            per.append(np.trunc(t).astype(np.int64))
        taps.append(per)
    rows, weights = [], []
    for ks in itertools.product(range(4), repeat=len(coords)):
        w = None
        for d, k in enumerate(ks):
            w = coeffs[d][k] if w is None else w * coeffs[d][k]
        rows.append(reader.rows([taps[d][k] for d, k in enumerate(ks)]))
        weights.append(w)
    return reader.combine(rows, weights)


class _GridSamplerBackward(Node):
    """The last node of the composite: names it as PyTorch does, and gives the grid the zero
    gradient PyTorch's nearest mode gives (its output does not depend on the grid)."""

    def backward_t(self, g, grid):
        if self.nearest and self.next[1] is not None:
            return g, _wrap(xp_of(grid._data).zeros_like(grid._data))
        return g, None


_NODE_2D = _GridSamplerBackward.named("GridSampler2DBackward0")
_NODE_3D = _GridSamplerBackward.named("GridSampler3DBackward0")


def _check_grid(input: Tensor, grid: Tensor, mode: str) -> None:
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input._data.__class__ is not grid._data.__class__:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    ish, gsh = list(input.shape), list(grid.shape)
    if input.ndim < 2 or grid.ndim < 1 or input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input "
                           f"with sizes {ish} and grid with sizes {gsh}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, "
                           f"but got grid with sizes {gsh}")
    for i in range(2, input.ndim):
        if input.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but "
                               f"input has sizes {ish} with dimension {i} being empty")
    want = 4 if input.ndim == 4 else 5
    if input.ndim != want or grid.ndim != want:
        raise RuntimeError(f"grid_sampler(): expected {want}D input and grid with same number of dimensions, "
                           f"but got input with sizes {ish} and grid with sizes {gsh}")
    if want == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    di, dg = input._data.dtype, grid._data.dtype
    if di.kind != "f" and di.name != "bfloat16":
        from .._dtype import from_np, scalar_name
        raise NotImplementedError(f'"grid_sampler_{want - 2}d_cpu" not implemented for '
                                  f"'{scalar_name(from_np(di))}'")
    if di != dg:
        from .._dtype import from_np, scalar_name
        raise RuntimeError(f"grid_sampler(): expected scalar type {scalar_name(from_np(di))} but found "
                           f"{scalar_name(from_np(dg))} for the grid")


@autocast_op("grid_sampler")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Samples ``input`` (N, C, H_in, W_in) at the points ``grid`` (N, H_out, W_out, 2) gives in
    normalised (x, y) coordinates ([-1, 1] spans the input): -> (N, C, H_out, W_out). 5-D input
    (N, C, D, H, W) takes a grid (N, D_out, H_out, W_out, 3) of (x, y, z).

    ``mode``: 'bilinear' (trilinear for 5-D), 'nearest' or 'bicubic' (4-D only).
    ``padding_mode``: 'zeros', 'border' or 'reflection' for points outside the input.
    ``align_corners=None`` warns and means False, as in PyTorch. Differentiable with respect to
    ``input`` and ``grid`` (to every order); the grid's gradient is 0 in nearest mode.
    Half and bfloat16 compute in their own precision through the composite ops.

    Differences from PyTorch: a nan or infinite grid coordinate gives a nan (or 0) output point
    silently; PyTorch's value there is whatever its vectorised clipping makes of it.
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT_AC_WARNING, stacklevel=2)
        align_corners = False
    _check_grid(input, grid, mode)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite grid points: no numpy warnings
        out = _sample(input, grid, mode, padding_mode, bool(align_corners))
    node = _NODE_2D if input.ndim == 4 else _NODE_3D
    return record(out._data, node, (out, grid), save=(grid,), nearest=mode == "nearest")


# --------------------------------------------------------------------------- affine_grid
def _base_coords(n: int, align_corners: bool, npd):
    if n <= 1:
        return np.zeros(max(n, 1), npd)
    r = np.linspace(-1.0, 1.0, n)
    if not align_corners:
        r = r * (n - 1) / n
    return r.astype(npd)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` for an output of ``size``: theta (N, 2, 3)
    with size (N, C, H, W) -> grid (N, H, W, 2); theta (N, 3, 4) with size (N, C, D, H, W) ->
    (N, D, H, W, 3). Each grid point is theta @ (x, y[, z], 1) for the output pixel's normalised
    coordinates. Differentiable with respect to ``theta``."""
    if align_corners is None:
        warnings.warn(_DEFAULT_AC_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid(): argument 'theta' must be Tensor, not {type(theta).__name__}")
    d = theta._data
    if d.dtype.kind != "f" and d.dtype.name != "bfloat16":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size) if not isinstance(size, tuple) else size
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", stacklevel=2)
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if size[0] != theta.shape[0]:
        raise RuntimeError(f"affine_grid(): size {list(size)} asks for a batch of {size[0]} but theta has "
                           f"{theta.shape[0]} matrices")
    npd = np.float32 if d.dtype.itemsize < 4 or d.dtype.name == "bfloat16" else d.dtype
    nd = len(spatial)
    # base[..., :] = (x, y[, z], 1) with x running along the last spatial dim
    axes = [_base_coords(s, bool(align_corners), npd) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([mesh[nd - 1 - k] for k in range(nd)] + [np.ones(spatial, npd)], axis=-1)
    xp = xp_of(d)
    base_t = _wrap(xp.asarray(base.reshape(1, -1, nd + 1).astype(d.dtype)))
    grid = base_t.matmul(theta.transpose(1, 2))
    return grid.reshape((size[0],) + tuple(spatial) + (nd,))
