"""Symbolics of the image ops: ``interpolate`` (ONNX Resize), pixel (un)shuffle, channel shuffle,
LP pooling and local response normalization, and the circular padding of opsets below 19.

``interpolate`` maps PyTorch's sampling rules onto Resize's coordinate transforms: ``nearest``
(src = floor(dst / scale)) is ``asymmetric`` + ``floor``, ``nearest-exact`` (floor((dst + 0.5) /
scale)) is ``tf_half_pixel_for_nn`` + ``floor``, ``(bi|tri)linear`` is ``pytorch_half_pixel`` (or
``align_corners``) and ``bicubic`` is ``half_pixel`` with PyTorch's A = -0.75. Resize gets the
scales when PyTorch uses the given ``scale_factor`` for the mapping and the sizes otherwise, only
for the spatial axes (``axes``, opset 18) or, at opset 17, with N and C taken from the input's
shape, so the batch stays dynamic.
"""

from __future__ import annotations

import numpy as np

from ._graph import dtype_of as _dt
from ._graph import int_list, register
from ._symint import has_sym, int_values
from .errors import UnsupportedOperatorError

_COORD = {"nearest": ("asymmetric", "nearest"), "nearest-exact": ("tf_half_pixel_for_nn", "nearest"),
          "linear": ("pytorch_half_pixel", "linear"), "bilinear": ("pytorch_half_pixel", "linear"),
          "trilinear": ("pytorch_half_pixel", "linear"), "bicubic": ("half_pixel", "cubic")}


@register("interpolate", "upsample")
def _interpolate(g, y, input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None, antialias=False):
    if mode not in _COORD or antialias:
        raise UnsupportedOperatorError("interpolate", f"mode {mode!r}, antialias={antialias}")
    n = input.dim() - 2
    axes = list(range(2, input.dim()))
    coord, onnx_mode = _COORD[mode]
    if align_corners:
        coord = "align_corners"
    attrs = {"mode": onnx_mode, "coordinate_transformation_mode": coord, "axes": axes}
    if onnx_mode == "nearest":
        attrs["nearest_mode"] = "floor"
    if onnx_mode == "cubic":
        attrs["cubic_coeff_a"] = -0.75
    x = g.name_of(input)
    old = g.opset < 18   # no axes: scales and sizes cover every axis, N and C included
    if old:
        del attrs["axes"]
    if scale_factor is not None and not recompute_scale_factor:
        sf = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * n
        sf = [1.0, 1.0] + sf if old else sf
        return g.op("Resize", x, None, g.const(np.asarray(sf, np.float32), "scales"), **attrs)
    given = list(size) if isinstance(size, (tuple, list)) else [size] * n
    sizes = int_values(g, given) if size is not None and has_sym(given) else g.ints(y.shape[2:])
    if old:  # N and C from the input's shape, so the batch stays dynamic
        sizes = g.op("Concat", g.slice(g.op("Shape", x), [0], [2], [0]), sizes, axis=0)
        return g.op("Resize", x, g.const(np.zeros(0, np.float32), "roi"), g.const(np.zeros(0, np.float32),
                                                                                  "scales"), sizes, **attrs)
    return g.op("Resize", x, None, None, sizes, **attrs)


register("upsample_nearest")(lambda g, y, input, size=None, scale_factor=None:
                             _interpolate(g, y, input, size, scale_factor, "nearest"))
register("upsample_bilinear")(lambda g, y, input, size=None, scale_factor=None:
                              _interpolate(g, y, input, size, scale_factor, "bilinear", True))


@register("pixel_shuffle")
def _pixel_shuffle(g, y, input, upscale_factor):
    r = int(upscale_factor)
    if input.dim() == 4:
        return g.op("DepthToSpace", g.name_of(input), blocksize=r, mode="CRD")
    raise UnsupportedOperatorError("pixel_shuffle", f"a {input.dim()}-D input (4-D only)")


@register("pixel_unshuffle")
def _pixel_unshuffle(g, y, input, downscale_factor):
    if input.dim() != 4:
        raise UnsupportedOperatorError("pixel_unshuffle", f"a {input.dim()}-D input (4-D only)")
    r = int(downscale_factor)
    _, c, h, w = input.shape
    x = g.op("Reshape", g.name_of(input), g.ints([0, c, h // r, r, w // r, r]))
    x = g.op("Transpose", x, perm=[0, 1, 3, 5, 2, 4])
    return g.op("Reshape", x, g.ints([0, c * r * r, h // r, w // r]))


@register("channel_shuffle", "native_channel_shuffle")
def _channel_shuffle(g, y, input, groups):
    c = input.shape[1]
    x = g.name_of(input)
    grouped = g.op("Reshape", x, g.ints([0, int(groups), c // int(groups), -1]))
    return g.op("Reshape", g.op("Transpose", grouped, perm=[0, 2, 1, 3]), g.op("Shape", x))


def _lp_pool(nd: int):
    def sym(g, y, input, norm_type, kernel_size, stride=None, ceil_mode=False):
        p = float(norm_type)
        if ceil_mode or p != int(p) or int(p) % 2:
            # ONNX's LpPool sums |x|^p, PyTorch sums x^p: equal for even integer p only
            raise UnsupportedOperatorError(f"lp_pool{nd}d", f"norm_type={norm_type}" + (" with ceil_mode"
                                                                                     if ceil_mode else ""))
        k = int_list(kernel_size, nd)
        s = k if stride is None else int_list(stride, nd)
        x = g.name_of(input)
        batched = input.dim() == nd + 2
        if not batched:
            x = g.unsqueeze(x, [0])
        r = g.op("LpPool", x, kernel_shape=k, strides=s, p=int(p))
        return r if batched else g.squeeze(r, [0])
    return sym


for _i in (1, 2, 3):
    register(f"lp_pool{_i}d")(_lp_pool(_i))


@register("local_response_norm")
def _lrn(g, y, input, size, alpha=1e-4, beta=0.75, k=1.0):
    if input.dim() < 3:
        raise UnsupportedOperatorError("local_response_norm", f"a {input.dim()}-D input")
    x = g.name_of(input)
    if size % 2:  # ONNX's window, floor((size-1)/2) before and ceil after, is PyTorch's for odd sizes
        return g.op("LRN", x, size=int(size), alpha=float(alpha), beta=float(beta), bias=float(k))
    # an even size (onnxruntime's LRN takes odd ones only): PyTorch's own formula, a channel-window
    # mean of x^2 through AveragePool over (N, 1, C, rest) with size//2 zeros before, (size-1)//2 after
    dt = _dt(y)
    sq = g.op("Reshape", g.op("Mul", x, x), g.ints([0, 1, input.shape[1], -1]))
    sq = g.op("Pad", sq, g.ints([0, 0, size // 2, 0, 0, 0, (size - 1) // 2, 0]))
    avg = g.op("Reshape", g.op("AveragePool", sq, kernel_shape=[int(size), 1]), g.op("Shape", x))
    den = g.op("Pow", g.op("Add", g.op("Mul", avg, g.scalar(alpha, dt)), g.scalar(k, dt)), g.scalar(beta, dt))
    return g.op("Div", x, den)


def circular_pad(g, x: str, begins: list, ends: list) -> str:
    """Circular padding composed of Slice and Concat (ONNX's Pad has ``wrap`` from opset 19)."""
    for ax, (b, e) in enumerate(zip(begins, ends)):
        if b < 0 or e < 0:
            raise UnsupportedOperatorError("pad", "negative circular padding")
        parts = []
        if b:
            parts.append(g.slice(x, [-b], [np.iinfo(np.int64).max], [ax]))
        parts.append(x)
        if e:
            parts.append(g.slice(x, [0], [e], [ax]))
        if len(parts) > 1:
            x = g.op("Concat", *parts, axis=ax)
    return x
