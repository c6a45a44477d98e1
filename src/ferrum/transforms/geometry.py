"""Rotation and affine warps (torchvision.transforms' ``RandomRotation``, ``RandomAffine`` and the
functional ``rotate``/``affine``), the augmentations MNIST- and CIFAR-style training scripts add.

The geometry is torchvision's tensor path: the inverse affine matrix of torchvision's
``_get_inverse_affine_matrix`` (rotation about the centre, translation, scale, shear), applied to
output pixel centres measured from the image centre, the source sampled with ``grid_sample``'s
``align_corners=False`` convention (nearest rounds half to even, bilinear reads zeros outside),
``expand`` growing the canvas to the rotated bounding box, ``fill`` painting what comes from
outside the image, integer images rounded back. Inputs: tensor images ``(..., C, H, W)`` or the
data-set HWC layout (see :mod:`.functional`); results never record autograd history.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .color import _chw, _gen
from .functional import InterpolationMode, _check_fill, _interp_mode, get_dimensions

__all__ = ["RandomAffine", "RandomRotation", "affine", "rotate"]


def _inverse_affine(center, angle, translate, scale, shear) -> list[float]:
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def _expanded_size(m: list[float], w: int, h: int) -> tuple[int, int]:
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], np.float32)
    new = pts @ np.asarray(m, np.float32).reshape(2, 3).T
    lo, hi = new.min(0) + (w * 0.5, h * 0.5), new.max(0) + (w * 0.5, h * 0.5)
    tol = 1e-4
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _warp(img: Any, m: list[float], mode: InterpolationMode, fill: Any, out_wh=None) -> Any:
    a, back = _chw(img, "affine")
    h, w = a.shape[-2:]
    ow, oh = out_wh or (w, h)
    work = a.astype(np.float64 if a.dtype == np.float64 else np.float32)
    xs = np.arange(ow) - ow * 0.5 + 0.5
    ys = np.arange(oh) - oh * 0.5 + 0.5
    gx, gy = np.meshgrid(xs, ys)
    sx = m[0] * gx + m[1] * gy + m[2] + w * 0.5 - 0.5  # source pixel coordinates
    sy = m[3] * gx + m[4] * gy + m[5] + h * 0.5 - 0.5
    lead = work.shape[:-2]
    if mode is InterpolationMode.NEAREST:
        ix, iy = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        out = np.where(inside, work[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)], 0.0)
        weight = inside.astype(work.dtype)
    else:
        x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
        fx, fy = (sx - x0).astype(work.dtype), (sy - y0).astype(work.dtype)
        out = np.zeros(lead + (oh, ow), work.dtype)
        weight = np.zeros((oh, ow), work.dtype)
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                xx, yy = x0 + dx, y0 + dy
                ok = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
                wgt = np.where(ok, wx * wy, 0).astype(work.dtype)
                out += wgt * work[..., np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
                weight += wgt
    if fill is not None and (not isinstance(fill, numbers.Number) or fill != 0):
        f = np.asarray(fill, work.dtype).reshape(-1, 1, 1) if not isinstance(fill, numbers.Number) else fill
        if mode is InterpolationMode.NEAREST:
            out = np.where(weight < 0.5, f, out)
        else:
            out = out + (1.0 - weight) * f
    if a.dtype.kind in "ui":
        out = np.rint(out)
    return back(out.astype(a.dtype))


def _mode(interpolation: Any, op: str) -> InterpolationMode:
    mode = _interp_mode(interpolation, op)
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"{op}: interpolation {mode.value!r} is not supported (nearest, bilinear)")
    return mode


def _center_offset(center, w: int, h: int) -> list[float]:
    return [0.0, 0.0] if center is None else [float(c) - s * 0.5 for c, s in zip(center, (w, h))]


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
           center: Sequence[int] | None = None, fill: Any = None) -> Any:
    """Rotates by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre)."""
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    _check_fill(fill, "rotate")
    c, h, w = get_dimensions(img)
    m = _inverse_affine(_center_offset(center, w, h), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return _warp(img, m, _mode(interpolation, "rotate"), fill, _expanded_size(m, w, h) if expand else None)


def affine(img: Any, angle: float, translate: Sequence[int], scale: float, shear: Any,
           interpolation: Any = InterpolationMode.NEAREST, fill: Any = None,
           center: Sequence[int] | None = None) -> Any:
    """Rotation by ``angle`` (degrees), translation, scale and shear (degrees) about ``center``."""
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]
    shear = list(shear) + [0.0] * (2 - len(shear))
    _check_fill(fill, "affine")
    c, h, w = get_dimensions(img)
    m = _inverse_affine(_center_offset(center, w, h), float(angle), [float(t) for t in translate],
                        float(scale), [float(s) for s in shear])
    return _warp(img, m, _mode(interpolation, "affine"), fill)


def _range(value: Any, name: str, center: float = 0.0) -> tuple[float, float]:
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (center - float(value), center + float(value))
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return (float(value[0]), float(value[1]))


class RandomRotation:
    """Rotates by an angle drawn uniformly from ``degrees`` ((-d, d) for a number d)."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
                 center: Sequence[int] | None = None, fill: Any = 0) -> None:
        self.degrees = _range(degrees, "degrees")
        self.interpolation = _interp_mode(interpolation, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill
        _check_fill(fill, "RandomRotation")

    @staticmethod
    def get_params(degrees) -> float:
        return float(_gen().uniform(degrees[0], degrees[1]))

    def __call__(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(degrees={list(self.degrees)}, "
                f"interpolation={self.interpolation.value}, expand={self.expand}, fill={self.fill})")


class RandomAffine:
    """Random rotation (``degrees``), translation (fractions of width/height), scale and shear."""

    def __init__(self, degrees: Any, translate=None, scale=None, shear=None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0, center=None) -> None:
        self.degrees = _range(degrees, "degrees")
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of two values between 0 and 1")
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _range(shear, "shear")
            elif len(shear) not in (2, 4):
                raise ValueError("shear should be a number or a sequence of 2 or 4 values")
            shear = tuple(float(s) for s in shear)
        _check_fill(fill, "RandomAffine")
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation = _interp_mode(interpolation, "RandomAffine")
        self.fill, self.center = fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size) -> tuple:
        g = _gen()
        angle = float(g.uniform(degrees[0], degrees[1]))
        if translate is not None:
            mx, my = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx, ty = int(round(g.uniform(-mx, mx))), int(round(g.uniform(-my, my)))
        else:
            tx = ty = 0
        s = float(g.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shx = shy = 0.0
        if shears is not None:
            shx = float(g.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shy = float(g.uniform(shears[2], shears[3]))
        return angle, (tx, ty), s, (shx, shy)

    def __call__(self, img: Any) -> Any:
        _, h, w = get_dimensions(img)
        angle, t, s, sh = self.get_params(self.degrees, self.translate, self.scale, self.shear, [w, h])
        return affine(img, angle, list(t), s, list(sh), self.interpolation, self.fill, self.center)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(degrees={list(self.degrees)})"
