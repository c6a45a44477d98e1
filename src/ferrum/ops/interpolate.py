"""``F.interpolate`` (and the deprecated ``F.upsample*``): nearest, nearest-exact, linear,
bilinear, bicubic, trilinear and area resampling of (N, C, *spatial) tensors.

Every mode is separable: the result is one 1-D linear map per spatial axis, applied in turn. A map
is a few "taps" (an index array and a weight array over the output positions of that axis: one tap
for nearest, two for linear, four for cubic, up to ceil(in / out) + 1 for area, which is adaptive
average pooling), computed once per call on the small 1-D index grids. Applying a map is one
``take`` along the axis per tap plus a multiply-add, all vectorised. The adjoint map (the
backward: the scatter-add of the weighted gradient) is written in the same form (for each input
position, the output positions that read it), so the backward is gathers too, with no
``np.add.at`` and no ``reduceat`` (3x slower, measured).

The forward map and its adjoint are each other's backward (both are linear in their input and the
weights do not depend on it), so every order of derivative works through two nodes.

The index and weight formulas are PyTorch's (CPU kernels): source index
``scale * (dst + 0.5) - 0.5`` (clamped at 0 except for cubic) or ``scale * dst`` with
``align_corners``; ``scale`` is ``1 / scale_factor`` when a scale factor is given and not
recomputed, else ``in / out``; the arithmetic is done in float32 for float32/half/bfloat16 inputs
and float64 for double, as PyTorch's ``opmath`` type, and nearest uses float32 for every dtype.
Cubic uses Keys' kernel with A = -0.75 and clamps the four taps into the input. Anti-aliased
bilinear/bicubic (``antialias=True``) are maps of the same form with a support widened by the
downscaling factor and weights normalised per output (PIL's filters, as PyTorch's ``_aa`` kernels).

Where the axis is short (up to 64 input positions per tap, 256 in all) and the values finite, a
map is applied as one BLAS product by its dense (n_out, n_in) matrix instead (see _apply_map).
Measured (one thread, float32, (8, 64, 32, 32) -> 64 x 64, best of 5 in one process, torch 2.13
alongside; the machine is shared, so only ratios are meaningful): bilinear forward 3.6 ms (torch
5.9), backward 5.5 ms (torch 13.7); bicubic 4.9 / 10.8 ms (torch 18.5 / 46.7).
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._common import xp_of
from ._autocast import dispatch
from .. import _state

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
_CUBIC_A = -0.75
_AXIS_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


# --------------------------------------------------------------------------- 1-D maps
class _Map:
    """One axis's linear map: ``out[..., j, ...] = sum_k w_k[j] * in[..., idx_k[j], ...]``.

    ``taps`` is a list of (idx, w, valid): ``w`` is None for unit weights, ``valid`` None when every
    entry of the tap is used (else the padded entries are selected away, never multiplied by 0,
    so an inf in the input cannot become a nan elsewhere). ``adjoint()`` is the transposed map,
    whose taps (for each input position, the output positions that read it) are built on first
    use: the backward is then gathers as well, which measured 3x faster than a scatter
    (``np.add.reduceat`` over runs) for bilinear 2x upsampling. ``dense()`` is the same map as an
    (n_out, n_in) matrix, for the BLAS path (see :func:`_apply_map`)."""

    __slots__ = ("axis", "_taps", "n_in", "n_out", "_adj", "_dense")

    def __init__(self, axis: int, taps, n_in: int, n_out: int) -> None:
        self.axis, self._taps, self.n_in, self.n_out = axis, taps, n_in, n_out
        self._adj = self._dense = None

    @property
    def taps(self) -> list:
        if self._taps is None:  # an adjoint: the transpose of its forward's taps
            self._taps = _transpose(self._adj.taps, self.n_out, self.n_in)
        return self._taps

    def adjoint(self) -> _Map:
        if self._adj is None:
            self._adj = _Map(self.axis, None, self.n_out, self.n_in)
            self._adj._adj = self
        return self._adj

    def dense(self, dtype):
        if self._dense is None:
            if self._taps is None:
                self._dense = np.ascontiguousarray(self._adj.dense(dtype).T)
            else:
                d = np.zeros((self.n_out, self.n_in))
                j = np.arange(self.n_out)
                for idx, w, valid in self._taps:
                    v = np.ones(self.n_out) if w is None else w.astype(np.float64)
                    if valid is not None:
                        v = np.where(valid, v, 0.0)
                    np.add.at(d, (j, idx), v)  # (n_out * taps) entries: a small matrix
                self._dense = d
        return self._dense.astype(dtype, copy=False)


def _transpose(taps: list, n_in: int, n_out: int) -> list:
    """The taps of the transposed map: for each input position, every (output position, weight)
    pair that reads it, padded to the largest count."""
    j = np.arange(n_out)
    src = np.concatenate([t[0] for t in taps])
    dst = np.concatenate([j] * len(taps))
    unit = all(t[1] is None for t in taps)
    wt = None if unit else np.concatenate([np.ones(n_out) if t[1] is None else t[1] for t in taps])
    keep = np.concatenate([np.ones(n_out, bool) if t[2] is None else t[2] for t in taps])
    if not keep.all():
        src, dst = src[keep], dst[keep]
        wt = None if wt is None else wt[keep]
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    counts = np.bincount(src, minlength=n_in)
    k = int(counts.max()) if counts.size else 0
    pos = np.arange(src.size) - (np.cumsum(counts) - counts)[src]
    idx = np.zeros((k, n_in), np.int64)
    idx[pos, src] = dst
    valid = np.zeros((k, n_in), bool)
    valid[pos, src] = True
    if wt is not None:
        w = np.zeros((k, n_in), next(t[1].dtype for t in taps if t[1] is not None))
        w[pos, src] = wt[order]
    return [(idx[t], None if wt is None else w[t], None if valid[t].all() else valid[t]) for t in range(k)]


def _compute_scale(n_in: int, n_out: int, scale, align_corners: bool, dt):
    """PyTorch's area_pixel_compute_scale in precision ``dt``."""
    if align_corners:
        return dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n_in) / dt(n_out)


def _source_index(n_in: int, n_out: int, scale, align_corners: bool, cubic: bool, dt):
    s = _compute_scale(n_in, n_out, scale, align_corners, dt)
    dst = np.arange(n_out, dtype=dt)
    if align_corners:
        return s * dst
    src = s * (dst + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _guard(src, n_in: int, dt):
    """Integer part (at most n_in - 1) and fraction clamped into [0, 1] (guard_index_and_lambda)."""
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(dt), dt(0), dt(1)).astype(dt, copy=False)
    return i0, lam


def _cubic_weights(t, dt):
    a = dt(_CUBIC_A)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = dt(1)
    return [far(t + one), near(t), near(one - t), far(dt(2) - t)]


def _axis_map(mode: str, axis: int, n_in: int, n_out: int, scale, align_corners: bool, dt,
              nd: int) -> _Map:
    if mode == "nearest" or mode == "nearest-exact":
        # PyTorch's 2-D nearest kernel (only it) short-cuts out == in and out == 2 in to the
        # identity and to dst >> 1, whatever the scale factor given; with a scale factor that is not
        # exactly 1 or 2 this differs from the formula below, which the 1-D and 3-D kernels use
        shortcut = mode == "nearest" and nd == 2
        if shortcut and n_out == n_in:
            idx = np.arange(n_out)
        elif shortcut and n_out == 2 * n_in:
            idx = np.arange(n_out) >> 1
        else:
            # nearest always computes in float32, whatever the input dtype (PyTorch's nearest_idx)
            if scale is not None and scale > 0:
                s = np.float32(1.0 / scale)
            else:
                s = np.float32(n_in) / np.float32(n_out)
            d = np.arange(n_out, dtype=np.float32)
            if mode == "nearest-exact":
                d = d + np.float32(0.5)
            idx = np.minimum(np.floor(d * s).astype(np.int64), n_in - 1)
        return _Map(axis, [(idx, None, None)], n_in, n_out)
    if mode == "area":  # adaptive average pooling: window [floor(j in / out), ceil((j + 1) in / out))
        j = np.arange(n_out)
        start = (j * n_in) // n_out
        end = ((j + 1) * n_in + n_out - 1) // n_out
        length = end - start
        k = int(length.max())
        inv = (1.0 / length).astype(dt)
        taps = [(np.minimum(start + t, end - 1), inv, None if t < length.min() else t < length)
                for t in range(k)]
        return _Map(axis, taps, n_in, n_out)
    cubic = mode == "bicubic"
    src = _source_index(n_in, n_out, scale, align_corners, cubic, dt)
    i0, lam = _guard(src, n_in, dt)
    if cubic:
        ws = _cubic_weights(lam, dt)
        return _Map(axis, [(np.clip(i0 - 1 + t, 0, n_in - 1), ws[t], None) for t in range(4)], n_in, n_out)
    i1 = i0 + (i0 < n_in - 1)
    return _Map(axis, [(i0, dt(1) - lam, None), (i1, lam, None)], n_in, n_out)


def _aa_filter(mode: str, x):
    x = np.abs(x)
    if mode == "bilinear":
        return np.maximum(1 - x, 0)
    a = -0.5  # the anti-aliasing cubic is Keys' with a = -0.5 (PIL's), not the -0.75 above
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0))


def _aa_map(mode: str, axis: int, n_in: int, n_out: int, scale, align_corners: bool, dt, nd: int) -> _Map:
    """Anti-aliased taps (PyTorch's ``_upsample_*_aa``): the filter's support grows with the
    downscaling factor, each output's weights are normalised to sum to 1 over the inputs inside."""
    s = _compute_scale(n_in, n_out, scale, align_corners, dt)
    half = 1.0 if mode == "bilinear" else 2.0
    support = dt(half * s) if s > 1 else dt(half)
    inv = dt(1 / s) if s >= 1 else dt(1)
    center = s * (np.arange(n_out, dtype=dt) + dt(0.5))
    xmin = np.maximum((center - support + dt(0.5)).astype(np.int64), 0)
    xsize = np.minimum((center + support + dt(0.5)).astype(np.int64), n_in) - xmin
    k = int(xsize.max())
    ws = [np.where(t < xsize, _aa_filter(mode, ((t + xmin).astype(dt) - center + dt(0.5)) * inv), 0)
          .astype(dt) for t in range(k)]
    total = sum(ws)
    total = np.where(total != 0, total, dt(1))
    taps = [(np.minimum(xmin + t, n_in - 1), (w / total).astype(dt),
             None if t < xsize.min() else t < xsize) for t, w in enumerate(ws)]
    return _Map(axis, taps, n_in, n_out)


# --------------------------------------------------------------------------- applying maps
# BLAS multiplies by the dense map at about 50 GMAC/s on one core, while a tap costs about 2 ns per
# output element (take, multiply, add), so the matrix wins while the input axis is short against
# the number of taps: measured on (8, 64, 32, 32) -> 64 x 64 bilinear, forward 8.3 -> 3.7 ms and
# backward 18.8 -> 5.3 ms; (8, 16, 128, 128) -> 256 x 256 forward 43 -> 37 ms, backward 90 -> 55 ms
# (torch: 26 and 71 ms); on a 256-long axis with 2 taps (linear) the taps stay 2x faster. A
# non-finite input takes the taps, where 0 * inf cannot spread a nan along the axis.
_DENSE_PER_TAP, _DENSE_MAX_IN = 64, 256


def _use_dense(a, m: _Map) -> bool:
    if a.dtype not in (np.float32, np.float64) or a.__class__ is not np.ndarray:
        return False
    if m.n_in > min(_DENSE_MAX_IN, _DENSE_PER_TAP * len(m.taps)):
        return False
    return bool(np.isfinite(a).all())


def _apply_dense(a, m: _Map):
    shape = a.shape
    ax = m.axis
    lead = int(np.prod(shape[:ax]))
    trail = int(np.prod(shape[ax + 1:]))
    d = m.dense(a.dtype)
    if trail == 1:
        r = a.reshape(lead, m.n_in) @ d.T
    else:
        r = np.matmul(d, a.reshape(lead, m.n_in, trail))
    return r.reshape(shape[:ax] + (m.n_out,) + shape[ax + 1:])


def _apply_map(a, m: _Map):
    if a.size and _use_dense(a, m):
        return _apply_dense(a, m)
    xp = xp_of(a)
    shape = [1] * a.ndim
    shape[m.axis] = m.n_out
    r = None
    for idx, w, valid in m.taps:
        term = xp.take(a, xp.asarray(idx), axis=m.axis)
        if w is not None:
            term *= xp.asarray(w.astype(a.dtype, copy=False)).reshape(shape)
        if valid is not None:
            term = xp.where(xp.asarray(valid).reshape(shape), term, a.dtype.type(0))
        if r is None:
            r = term
        else:
            r += term
    if r is None:  # no taps (an empty axis)
        s = list(a.shape)
        s[m.axis] = m.n_out
        return xp.zeros(s, a.dtype)
    return r


def _forward_raw(a, maps):
    for m in maps:
        a = _apply_map(a, m)
    return a


def _adjoint_raw(g, maps):
    for m in reversed(maps):
        g = _apply_map(g, m.adjoint())
    return g


def _low_precision(a) -> bool:
    return a.dtype.kind == "f" and a.dtype.itemsize == 2 or a.dtype.name == "bfloat16"


def _run(a, maps, fn):
    if _low_precision(a):  # half and bfloat16 compute in float32 and round once at the end
        return fn(a.astype(np.float32), maps).astype(a.dtype)
    return fn(a, maps)


class _ResampleBackward(Node):
    def backward_t(self, g):
        return (_adjoint(g, self.maps),)


class _ResampleAdjointBackward(Node):
    def backward_t(self, g):
        return (_resample(g, self.maps, _ResampleBackward),)


def _resample(x: Tensor, maps: list, node_cls) -> Tensor:
    return record(_run(x._data, maps, _forward_raw), node_cls, (x,), maps=maps)


def _adjoint(g: Tensor, maps: list) -> Tensor:
    return record(_run(g._data, maps, _adjoint_raw), _ResampleAdjointBackward, (g,), maps=maps)


_NODES: dict = {}


def _node_for(mode: str, nd: int):
    names = {"nearest": "UpsampleNearest{}DBackward0", "nearest-exact": "UpsampleNearestExact{}DBackward0",
             "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
             "trilinear": "UpsampleTrilinear3DBackward0", "bicubic": "UpsampleBicubic2DBackward0",
             "area": "AdaptiveAvgPool{}DBackward0", "bilinear_aa": "UpsampleBilinear2DAaBackward0",
             "bicubic_aa": "UpsampleBicubic2DAaBackward0"}
    name = names[mode].format(max(nd, 2) if mode == "area" else nd)
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = _ResampleBackward.named(name)
    return cls


# --------------------------------------------------------------------------- argument handling
def _is_int(v) -> bool:
    if isinstance(v, Tensor):
        return v.ndim == 0 and v._data.dtype.kind in "iu"
    return isinstance(v, (_pyint, np.integer)) and not isinstance(v, _pybool)


def _as_float(v, what: str) -> float:
    if isinstance(v, Tensor) and v.ndim == 0:
        v = v.item()
    if isinstance(v, _pybool) or not isinstance(v, numbers.Real):
        raise TypeError(f"interpolate(): {what} must be a float or a tuple of floats, but got "
                        f"{type(v).__name__}")
    return _pyfloat(v)


def _output_geometry(input: Tensor, size, scale_factor, recompute_scale_factor, mode: str):
    """(output sizes, scale factors or None per dim) as torch's interpolate resolves them."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {spatial} and output size of {size}. Please provide input "
                    "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(v) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            out = [int(v) for v in size]
        else:
            if not _is_int(size):
                raise TypeError(f"interpolate(): size must be an int or a tuple of ints, but got "
                                f"{type(size).__name__}")
            out = [int(size)] * dim
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                    "(s1, s2, ...,sK) format.")
            scales = [_as_float(v, "scale_factor") for v in scale_factor]
        else:
            scales = [_as_float(scale_factor, "scale_factor")] * dim
        out = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out = [math.floor(_pyfloat(n) * s) for n, s in zip(spatial, scales)]
        scales = None
    if out is None:
        out = [int(n * s) for n, s in zip(spatial, scales)]  # C++'s truncating cast, as torch
    return out, scales if scales is not None else [None] * dim


def _check_sizes(input: Tensor, out: list, mode: str) -> None:
    nd = len(out)
    spatial = input.shape[2:]
    if min(spatial) <= 0 or min(out) <= 0:
        names = _AXIS_NAMES[nd]
        ins = ", ".join(f"{a}: {n}" for a, n in zip(names, spatial))
        outs = ", ".join(f"{a}: {n}" for a, n in zip(names, out))
        sep = " and" if nd == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}){sep} "
                           f"output ({outs})")
    if input.shape[1] == 0 and mode == "area" and nd == 3:
        raise RuntimeError("adaptive_avg_pool3d(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)} with dimension 1 being "
                           "empty")
    if input.shape[1] == 0 and mode != "area":  # PyTorch's 1-D and 2-D adaptive pooling allow it
        raise RuntimeError(f"Non-empty {input.ndim}D data tensor expected but got a tensor with sizes "
                           f"{list(input.shape)}")


_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_KERNEL_NAMES = {"nearest": "upsample_nearest{}d", "nearest-exact": "_upsample_nearest_exact{}d",
                 "linear": "upsample_linear1d", "bilinear": "upsample_bilinear2d",
                 "bicubic": "upsample_bicubic2d", "trilinear": "upsample_trilinear3d",
                 "area": "adaptive_avg_pool{}d"}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resamples (N, C, W), (N, C, H, W) or (N, C, D, H, W) ``input`` to ``size`` or by
    ``scale_factor`` (exactly one): -> (N, C, *size).

    ``mode``: 'nearest', 'nearest-exact' and 'area' (adaptive average pooling) for any of the
    three ranks; 'linear' (3-D), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D).
    ``align_corners`` (linear modes only, default False) maps the corner pixels' centres onto each
    other. A given ``scale_factor`` enters the source-index computation directly unless
    ``recompute_scale_factor=True``, which recomputes it from the floored output size (this changes
    results for non-integer scales). ``antialias=True`` (bilinear and bicubic, 4-D) widens the
    kernel by the downscaling factor, so that downsampling averages every input pixel it covers
    (PIL's resampling, as PyTorch).

    Differences from PyTorch: the gradient is always the exact adjoint of the forward. PyTorch's
    1-D and 3-D 'nearest' forward kernels do not take the out == in / out == 2 in shortcut its
    backward takes, so for a scale factor such as 2.3 that gives out == 2 in its gradient is not
    the adjoint of its output; ferrum's output equals PyTorch's there and its gradient is the true
    one. 'lanczos' is not a mode here. Integer inputs: uint8 in
    the nearest modes as PyTorch; PyTorch's uint8 bilinear path (fixed-point weights with its own
    rounding) is not reproduced and raises NotImplementedError, as torch does for other integers.
    """
    if _state.autocast and isinstance(input, Tensor):
        n = input.ndim - 2
        name = {"nearest": f"upsample_nearest{n}d", "nearest-exact": f"_upsample_nearest_exact{n}d",
                "linear": "upsample_linear1d", "trilinear": "upsample_trilinear3d",
                "area": f"adaptive_avg_pool{n}d",
                "bilinear": "_upsample_bilinear2d_aa" if antialias else "upsample_bilinear2d",
                "bicubic": "_upsample_bicubic2d_aa" if antialias else "upsample_bicubic2d"}.get(mode, mode)
        return dispatch(name, _interpolate, input, size, scale_factor, mode, align_corners,
                        recompute_scale_factor, antialias)
    return _interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def _interpolate(input: Tensor, size, scale_factor, mode: str, align_corners, recompute_scale_factor,
                 antialias: bool) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    out, scales = _output_geometry(input, size, scale_factor, recompute_scale_factor, mode)
    nd = input.ndim - 2
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         "requires a 4-D tensor as input")
    known = mode in ("nearest", "nearest-exact", "area") or mode in _MODE_RANK
    want = _MODE_RANK.get(mode, input.ndim)
    if not known or input.ndim not in (3, 4, 5) or (want != input.ndim and mode == "bicubic"):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
            f"(got {mode})")
    if want != input.ndim:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {want}D input")
    d = input._data
    if d.dtype.kind not in "f" and d.dtype.name != "bfloat16" and not (d.dtype == np.uint8 and mode in (
            "nearest", "nearest-exact")):
        kernel = _KERNEL_NAMES[mode].format(nd)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_torch_type(d.dtype)}\'')
    if antialias and _low_precision(d):  # as PyTorch 2.13, whose _aa kernels have no half types
        raise NotImplementedError(f'"compute_index_ranges_weights" not implemented for '
                                  f"'{_torch_type(d.dtype)}'")
    _check_sizes(input, out, mode)
    dt = np.float64 if d.dtype == np.float64 else np.float32
    make = _aa_map if antialias else _axis_map
    maps = [make(mode, 2 + i, input.shape[2 + i], out[i], scales[i], bool(align_corners), dt, nd)
            for i in range(nd)]
    # cheapest first: an axis that shrinks the array is applied before one that grows it
    order = sorted(range(nd), key=lambda i: out[i] / input.shape[2 + i])
    maps = [maps[i] for i in order]
    return _resample(input, maps, _node_for(mode + "_aa" if antialias else mode, nd))


def _torch_type(npd) -> str:
    from .._dtype import from_np, scalar_name
    return scalar_name(from_np(npd))


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')`` (warns)."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``
    (warns)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
