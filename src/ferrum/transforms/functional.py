"""Functional image transforms (``torchvision.transforms.functional``'s interface, no PIL).

Images are ferrum tensors or NumPy arrays, and come back as the same kind:

- a ferrum tensor is a tensor image ``(..., C, H, W)`` (or ``(..., H, W)``), as in torchvision;
  except that a **uint8** tensor of shape ``(H, W, C)`` with ``C`` in {1, 3, 4} and ``H`` not in
  {1, 3, 4} is taken as an image in the layout a data set returns it (``CIFAR10()[i]``), the role a
  PIL image plays in torchvision;
- a NumPy array is an image in that data-set layout: ``(H, W)`` or ``(..., H, W, C)``
  (``ToTensor``'s input).

The geometric functions work on the raw arrays (slicing, one allocation) so that they cost a few
microseconds on small images; none of them records autograd history.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .._dtype import get_default_dtype, to_np
from .._tensor import Tensor, _wrap

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "normalize", "pad", "crop", "center_crop",
           "resize", "resized_crop", "hflip", "vflip", "get_dimensions", "get_image_size",
           "get_image_num_channels"]


class InterpolationMode(enum.Enum):
    """Interpolation modes (torchvision's names); ferrum implements NEAREST, NEAREST_EXACT, BILINEAR."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's integer constants, which torchvision also accepts
_PIL_INTERP = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
               4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
_SUPPORTED_INTERP = (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT, InterpolationMode.BILINEAR)
_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _interp_mode(interpolation: Any, op: str) -> InterpolationMode:
    if isinstance(interpolation, InterpolationMode):
        mode = interpolation
    elif (isinstance(interpolation, int) and not isinstance(interpolation, bool)
          and interpolation in _PIL_INTERP):
        mode = _PIL_INTERP[interpolation]
    elif isinstance(interpolation, str):
        try:
            mode = InterpolationMode(interpolation.lower())
        except ValueError:
            raise ValueError(f"{op}: unknown interpolation mode {interpolation!r}; expected one of "
                             f"{[m.value for m in InterpolationMode]}") from None
    else:
        raise TypeError(f"{op}: argument interpolation should be a InterpolationMode, a mode name or a "
                        f"corresponding Pillow integer constant, got {type(interpolation).__name__}")
    if mode not in _SUPPORTED_INTERP:
        raise NotImplementedError(f"{op}: interpolation {mode.value!r} is not implemented in ferrum; "
                                  f"use one of {[m.value for m in _SUPPORTED_INTERP]}")
    return mode


# --------------------------------------------------------------------------------------------------
# image kinds and layouts


def _unwrap(img: Any, op: str) -> tuple[Any, bool, bool]:
    """(raw array, hwc layout?, was a ferrum tensor?) of an image; TypeError for anything else."""
    if isinstance(img, Tensor):
        a = img._data
        nd = a.ndim
        if nd < 2:
            raise TypeError(f"{op}: expected a tensor image of shape (..., H, W), got a tensor of shape "
                            f"{tuple(a.shape)}")
        sh = a.shape
        hwc = nd == 3 and sh[2] in (1, 3, 4) and sh[0] not in (1, 3, 4) and a.dtype == np.uint8
        return a, hwc, True
    if isinstance(img, np.ndarray):
        if img.ndim < 2:
            raise TypeError(f"{op}: expected an image array of shape (H, W) or (..., H, W, C), got shape "
                            f"{img.shape}")
        return img, True, False
    raise TypeError(f"{op}: img should be a ferrum Tensor or a NumPy array. Got {type(img).__name__}")


def _hw_axes(a: Any, hwc: bool) -> tuple[int, int]:
    if hwc and a.ndim >= 3:
        return a.ndim - 3, a.ndim - 2
    return a.ndim - 2, a.ndim - 1


def _key(a: Any, hwc: bool, rows: slice, cols: slice) -> tuple:
    if hwc and a.ndim >= 3:
        return (Ellipsis, rows, cols, slice(None))
    return (Ellipsis, rows, cols)


def _rewrap(out: Any, is_tensor: bool) -> Any:
    return _wrap(out) if is_tensor else out


def _xp(a: Any):
    if a.__class__ is np.ndarray:
        return np
    from ..ops._common import xp_of
    return xp_of(a)


def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]`` of an image."""
    a, hwc, _ = _unwrap(img, "get_dimensions")
    ha, wa = _hw_axes(a, hwc)
    if hwc:
        c = a.shape[-1] if a.ndim >= 3 else 1
    else:
        c = a.shape[-3] if a.ndim >= 3 else 1
    return [int(c), int(a.shape[ha]), int(a.shape[wa])]


def get_image_size(img: Any) -> list[int]:
    """``[width, height]`` of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Any) -> int:
    """The number of channels of an image."""
    return get_dimensions(img)[0]


# --------------------------------------------------------------------------------------------------
# conversion and normalization


@lru_cache(maxsize=8)
def _byte_lut(npd: np.dtype) -> np.ndarray:
    # k / 255 for every byte value, computed in the target precision as torch's div(255) does
    calc = npd if npd in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)
    lut = np.arange(256, dtype=calc) / calc.type(255)
    return lut.astype(npd)


def to_tensor(pic: Any) -> Tensor:
    """An image ``(H, W)`` / ``(H, W, C)`` (NumPy array or ferrum tensor) as a ``(C, H, W)`` tensor.

    uint8 values are scaled to [0, 1] in the default floating dtype; other dtypes keep their values
    and dtype (torchvision's ``to_tensor`` for arrays). The result never shares memory with ``pic``.
    """
    if isinstance(pic, Tensor):
        a = pic._data
    elif isinstance(pic, np.ndarray):
        a = pic
    else:
        raise TypeError(f"pic should be a NumPy array or a ferrum Tensor. Got {type(pic).__name__}")
    nd = a.ndim
    if nd == 2:
        chw = a[None]
    elif nd == 3:
        chw = a.transpose(2, 0, 1)
    else:
        raise ValueError(f"pic should be 2/3 dimensional. Got {nd} dimensions.")
    if a.dtype == np.uint8:
        npd = to_np(get_default_dtype())
        if a.__class__ is np.ndarray:
            # one table look-up is the cheapest uint8 -> float conversion, and exactly k/255
            return _wrap(_byte_lut(npd).take(chw))
        xp = _xp(a)
        return _wrap(xp.ascontiguousarray(chw).astype(npd) / npd.type(255))
    if a.dtype == np.bool_:  # torch.from_numpy keeps bool; so do we
        return _wrap(_xp(a).ascontiguousarray(chw).copy())
    return _wrap(_xp(a).array(chw, copy=True, order="C"))


def _to_tensor_batch(pics: Any, scale: bool) -> Tensor:
    """``to_tensor`` (``scale``) or ``pil_to_tensor`` of each image of a stacked batch, at once:
    ``(B, H, W)`` -> ``(B, 1, H, W)``, ``(B, H, W, C)`` -> ``(B, C, H, W)``; the same values."""
    if isinstance(pics, Tensor):
        a = pics._data
    elif isinstance(pics, np.ndarray):
        a = pics
    else:
        raise TypeError(f"pic should be a NumPy array or a ferrum Tensor. Got {type(pics).__name__}")
    if a.ndim not in (3, 4):
        raise ValueError(f"pic should be 2/3 dimensional. Got {a.ndim - 1} dimensions.")
    bchw = a[:, None] if a.ndim == 3 else a.transpose(0, 3, 1, 2)
    if scale and a.dtype == np.uint8:
        lut = _byte_lut(to_np(get_default_dtype()))
        if a.__class__ is not np.ndarray:
            lut = _xp(a).asarray(lut)
        return _wrap(lut.take(bchw))  # exactly k/255, as to_tensor's per-image division
    if a.dtype == np.bool_:
        return _wrap(_xp(a).ascontiguousarray(bchw).copy())
    return _wrap(_xp(a).array(bchw, copy=True, order="C"))


def pil_to_tensor(pic: Any) -> Tensor:
    """An image ``(H, W)`` / ``(H, W, C)`` as a ``(C, H, W)`` tensor of the same dtype (no scaling)."""
    if isinstance(pic, Tensor):
        a = pic._data
    elif isinstance(pic, np.ndarray):
        a = pic
    else:
        raise TypeError(f"pic should be a NumPy array or a ferrum Tensor. Got {type(pic).__name__}")
    if a.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {a.ndim} dimensions.")
    chw = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return _wrap(_xp(a).array(chw, copy=True, order="C"))


def _channel_stats(values: Any, npd: np.dtype, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        v = np.asarray(values.detach().cpu().numpy() if hasattr(values, "detach") else values._data)
    else:
        v = np.asarray(values)
    if v.ndim > 1:
        raise ValueError(f"normalize: {name} must be a number or a 1-D sequence, got shape {v.shape}")
    return v.astype(npd).reshape(-1)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor - mean[c]) / std[c]`` for each channel ``c`` of a float image ``(..., C, H, W)``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor).__name__}")
    a = tensor._data
    if a.dtype.kind != "f" and a.dtype.name != "bfloat16":
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if a.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tuple(a.shape)}")
    m = _channel_stats(mean, a.dtype, "mean")
    s = _channel_stats(std, a.dtype, "std")
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division "
                         f"by zero.")
    return _normalize_arrays(tensor, m, s, inplace)


def _normalize_arrays(tensor: Tensor, m: np.ndarray, s: np.ndarray, inplace: bool) -> Tensor:
    a = tensor._data
    c = a.shape[-3]
    for v, name in ((m, "mean"), (s, "std")):
        if v.size not in (1, c):
            raise RuntimeError(f"normalize: {name} has {v.size} values but the image has {c} channels")
    if a.__class__ is not np.ndarray:
        xp = _xp(a)
        m, s = xp.asarray(m), xp.asarray(s)
    # 0-d scalars when there is one value: much cheaper to broadcast than (1, 1, 1) arrays
    mv = m[0] if m.size == 1 else m.reshape(-1, 1, 1)
    sv = s[0] if s.size == 1 else s.reshape(-1, 1, 1)
    if tensor.requires_grad:  # inside a model: through ferrum ops, so that it is differentiable
        mt, st = _wrap(_xp(a).asarray(mv)), _wrap(_xp(a).asarray(sv))
        return tensor.sub_(mt).div_(st) if inplace else (tensor - mt) / st
    if inplace:
        np.subtract(a, mv, out=a)
        np.divide(a, sv, out=a)
        tensor._version[0] += 1
        return tensor
    out = a - mv
    out /= sv
    return _wrap(out)


# --------------------------------------------------------------------------------------------------
# padding and cropping


def _parse_padding(padding: Any, op: str = "pad") -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int or a 1-, 2- or 4-element sequence."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, (tuple, list)):
        if not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding):
            raise TypeError(f"{op}: padding values must be ints, got {padding!r}")
        if len(padding) == 1:
            p = int(padding[0])
            return p, p, p, p
        if len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        if len(padding) == 4:
            return tuple(int(p) for p in padding)  # type: ignore[return-value]
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                         f"element tuple")
    raise TypeError(f"Got inappropriate padding arg: {padding!r}")


def _check_fill(fill: Any, op: str) -> None:
    if fill is None or isinstance(fill, numbers.Number):
        return
    if isinstance(fill, (tuple, list)) and all(isinstance(f, numbers.Number) for f in fill):
        return
    raise TypeError(f"{op}: got inappropriate fill arg {fill!r}: expected a number or a sequence of numbers")


def _filled(a: Any, hwc: bool, shape: tuple, fill: Any) -> Any:
    """A new array of ``shape`` (a's dtype and layout) holding ``fill`` (a number or one per channel)."""
    xp = _xp(a)
    if fill is None or fill == 0 or (isinstance(fill, (tuple, list)) and not any(fill)):
        return xp.zeros(shape, dtype=a.dtype)
    if isinstance(fill, (tuple, list)):
        f = np.asarray(fill, dtype=np.float64)
        if f.size == 1:
            return xp.full(shape, f[0], dtype=a.dtype)
        out = xp.empty(shape, dtype=a.dtype)
        if hwc and a.ndim >= 3:
            out[...] = xp.asarray(f).astype(a.dtype)
        else:
            out[...] = xp.asarray(f).astype(a.dtype).reshape(-1, 1, 1)
        return out
    return xp.full(shape, fill, dtype=a.dtype)


def _crop_array(a: Any, hwc: bool, top: int, left: int, height: int, width: int, fill: Any = 0,
                copy: bool = False) -> Any:
    """Rows [top, top+height) and columns [left, left+width) of ``a``; outside it, ``fill``.

    Inside the image this is a view (a copy when ``copy``); a window that reaches outside allocates
    the output once and copies the overlap, which is what padding + cropping costs at best.
    """
    ha, wa = _hw_axes(a, hwc)
    H, W = a.shape[ha], a.shape[wa]
    bottom, right = top + height, left + width
    if top >= 0 and left >= 0 and bottom <= H and right <= W:
        v = a[_key(a, hwc, slice(top, bottom), slice(left, right))]
        return v.copy() if copy else v
    shape = list(a.shape)
    shape[ha], shape[wa] = height, width
    out = _filled(a, hwc, tuple(shape), fill)
    r0, r1 = max(top, 0), min(bottom, H)
    c0, c1 = max(left, 0), min(right, W)
    if r0 < r1 and c0 < c1:
        out[_key(a, hwc, slice(r0 - top, r1 - top), slice(c0 - left, c1 - left))] = \
            a[_key(a, hwc, slice(r0, r1), slice(c0, c1))]
    return out


def _pad_array(a: Any, hwc: bool, ltrb: tuple[int, int, int, int], fill: Any, mode: str) -> Any:
    left, top, right, bottom = ltrb
    ha, wa = _hw_axes(a, hwc)
    H, W = a.shape[ha], a.shape[wa]
    if mode == "constant":
        return _crop_array(a, hwc, -top, -left, H + top + bottom, W + left + right, fill, copy=True)
    if min(ltrb) < 0:  # negative padding crops first
        rows = slice(max(-top, 0), H - max(-bottom, 0))
        a = a[_key(a, hwc, rows, slice(max(-left, 0), W - max(-right, 0)))]
        left, top, right, bottom = (max(p, 0) for p in ltrb)
    if mode == "reflect" and (max(top, bottom) >= a.shape[ha] or max(left, right) >= a.shape[wa]):
        raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension for "
                           f"reflect padding, but got padding {ltrb} for an image of size "
                           f"{(a.shape[ha], a.shape[wa])}")
    widths = [(0, 0)] * a.ndim
    widths[ha] = (top, bottom)
    widths[wa] = (left, right)
    return _xp(a).pad(a, widths, mode=mode)


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pads the image's H and W sides: ``padding`` is an int, ``(lr, tb)`` or ``(l, t, r, b)``.

    ``padding_mode``: ``constant`` (``fill``), ``edge``, ``reflect`` (without repeating the edge)
    or ``symmetric`` (repeating it).
    """
    a, hwc, is_t = _unwrap(img, "pad")
    ltrb = _parse_padding(padding)
    _check_fill(fill, "pad")
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return _rewrap(_pad_array(a, hwc, ltrb, fill, padding_mode), is_t)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` window at ``(top, left)``; parts outside the image are zeros."""
    a, hwc, is_t = _unwrap(img, "crop")
    return _rewrap(_crop_array(a, hwc, int(top), int(left), int(height), int(width)), is_t)


def _setup_size(size: Any, error_msg: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return int(size[0]), int(size[1])


def center_crop(img: Any, output_size: Any) -> Any:
    """The central ``output_size`` window (int or ``(h, w)``), zero-padded when the image is smaller."""
    a, hwc, is_t = _unwrap(img, "center_crop")
    th, tw = _setup_size(output_size, "Please provide only two dimensions (h, w) for size.")
    ha, wa = _hw_axes(a, hwc)
    H, W = a.shape[ha], a.shape[wa]
    if (H, W) == (th, tw):
        return img
    # the image is padded (t, l) = ((th-H)//2, (tw-W)//2) first when smaller, then cropped at rounded offsets
    pt = (th - H) // 2 if th > H else 0
    pl = (tw - W) // 2 if tw > W else 0
    ph = H + (pt + ((th - H + 1) // 2) if th > H else 0)
    pw = W + (pl + ((tw - W + 1) // 2) if tw > W else 0)
    top = int(round((ph - th) / 2.0)) - pt
    left = int(round((pw - tw) / 2.0)) - pl
    return _rewrap(_crop_array(a, hwc, top, left, th, tw), is_t)


def hflip(img: Any) -> Any:
    """The image mirrored left to right (a new array)."""
    a, hwc, is_t = _unwrap(img, "hflip")
    if hwc and a.ndim >= 3:
        out = a[..., ::-1, :].copy()
    else:
        out = a[..., ::-1].copy()
    return _rewrap(out, is_t)


def vflip(img: Any) -> Any:
    """The image mirrored top to bottom (a new array)."""
    a, hwc, is_t = _unwrap(img, "vflip")
    ha, _ = _hw_axes(a, hwc)
    key = [slice(None)] * a.ndim
    key[ha] = slice(None, None, -1)
    return _rewrap(a[tuple(key)].copy(), is_t)


# --------------------------------------------------------------------------------------------------
# resizing


def _compute_resized_output_size(image_size: tuple[int, int], size: list[int] | None,
                                 max_size: int | None = None) -> list[int]:
    h, w = image_size
    if size is None or len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        if size is None:
            if max_size is None:
                raise ValueError("resize: size=None requires max_size")
            new_short, new_long = int(max_size * short / long), max_size
        else:
            requested = size[0]
            new_short, new_long = requested, int(requested * long / short)
            if max_size is not None:
                if max_size <= requested:
                    raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                                     f"size for the smaller edge size = {size}")
                if new_long > max_size:
                    new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return [new_h, new_w]
    return [int(size[0]), int(size[1])]


@lru_cache(maxsize=256)
def _linear_taps(n_in: int, n_out: int, npd: np.dtype) -> tuple[np.ndarray, ...]:
    """Indices (i0, i1) and weights (w0, w1) of bilinear interpolation, align_corners=False."""
    calc = npd.type if npd == np.dtype(np.float64) else np.float32  # torch's opmath precision
    scale = calc(n_in / n_out)
    src = (np.arange(n_out, dtype=calc) + calc(0.5)) * scale - calc(0.5)
    src = np.maximum(src, calc(0))
    i0 = src.astype(np.int64)
    i0 = np.minimum(i0, n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = (src - i0.astype(calc)).astype(calc)
    w0 = (calc(1) - w1).astype(calc)
    return i0, i1, w0.astype(npd), w1.astype(npd)


@lru_cache(maxsize=256)
def _aa_matrix(n_in: int, n_out: int, npd: np.dtype) -> np.ndarray:
    """(n_out, n_in) weights of antialiased bilinear resampling (a triangle filter widened by the scale)."""
    scale = n_in / n_out
    support = max(scale, 1.0)  # the triangle's half-width in input pixels
    centers = (np.arange(n_out) + 0.5) * scale
    xmin = np.maximum((centers - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((centers + support + 0.5).astype(np.int64), n_in)
    j = np.arange(n_in)
    x = (j[None, :] - centers[:, None] + 0.5) / support
    w = np.clip(1.0 - np.abs(x), 0.0, None)
    w[(j[None, :] < xmin[:, None]) | (j[None, :] >= xmax[:, None])] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(npd)


@lru_cache(maxsize=256)
def _nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    scale = np.float32(n_in / n_out)
    d = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((d + np.float32(0.5)) * scale)
    else:
        src = np.floor(d * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _resize_array(a: Any, hwc: bool, out_h: int, out_w: int, mode: InterpolationMode,
                  antialias: bool) -> Any:
    ha, wa = _hw_axes(a, hwc)
    H, W = a.shape[ha], a.shape[wa]
    xp = _xp(a)
    if mode is not InterpolationMode.BILINEAR:
        exact = mode is InterpolationMode.NEAREST_EXACT
        out = xp.take(a, xp.asarray(_nearest_index(H, out_h, exact)), axis=ha)
        return xp.take(out, xp.asarray(_nearest_index(W, out_w, exact)), axis=wa)
    dt = a.dtype
    is_int = dt.kind in "uib"
    work = a.astype(np.float32) if is_int else a
    npd = work.dtype
    # the width pass first, then the height pass (torch's order of accumulation)
    for axis, n_in, n_out in ((wa, W, out_w), (ha, H, out_h)):
        if n_in == n_out:
            continue
        if antialias and n_out < n_in:
            m = xp.asarray(_aa_matrix(n_in, n_out, npd))
            work = xp.moveaxis(xp.tensordot(work, m, axes=([axis], [1])), -1, axis)
        else:
            i0, i1, w0, w1 = _linear_taps(n_in, n_out, npd)
            shape = [1] * work.ndim
            shape[axis] = n_out
            w0, w1 = xp.asarray(w0).reshape(shape), xp.asarray(w1).reshape(shape)
            work = (xp.take(work, xp.asarray(i0), axis=axis) * w0
                    + xp.take(work, xp.asarray(i1), axis=axis) * w1)
    if is_int:
        info = np.iinfo(dt) if dt.kind != "b" else None
        work = xp.round(work)
        if info is not None:
            work = xp.clip(work, info.min, info.max)
        return work.astype(dt)
    return xp.ascontiguousarray(work)


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True) -> Any:
    """Resizes the image to ``size``: ``(h, w)``, or an int matching the smaller edge (aspect kept).

    Bilinear uses torch's ``interpolate(mode='bilinear', align_corners=False)``; with ``antialias``
    (the default, as in torchvision), downscaling averages with a triangle filter widened by the
    scale factor (``antialias=True`` in torch). Integer images are interpolated in float32 and
    rounded back. Returns ``img`` itself when it already has the requested size.
    """
    a, hwc, is_t = _unwrap(img, "resize")
    mode = _interp_mode(interpolation, "resize")
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             f"tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller "
                             "edge, i.e. size should be an int or a sequence of length 1")
        sz = [int(s) for s in size]
    elif size is None:
        sz = None
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        sz = [int(size)]
    else:
        raise TypeError(f"Size should be int or sequence. Got {type(size).__name__}")
    ha, wa = _hw_axes(a, hwc)
    H, W = a.shape[ha], a.shape[wa]
    oh, ow = _compute_resized_output_size((H, W), sz, max_size)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"resize: the output size must be positive, got {(oh, ow)} for an image of size "
                         f"{(H, W)}")
    if (oh, ow) == (H, W):
        return img
    return _rewrap(_resize_array(a, hwc, oh, ow, mode, bool(antialias)), is_t)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: bool | None = True) -> Any:
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _rand_unit() -> float:
    """One uniform float in [0, 1) from ferrum's default generator (seeded by ``ferrum.manual_seed``)."""
    from ..random import default_generator
    return default_generator._np.random()


def _check_scale_ratio(pair: Any, name: str) -> tuple[float, float]:
    if not isinstance(pair, Sequence) or len(pair) != 2:
        raise TypeError(f"{name} should be a sequence of two numbers (min, max), got {pair!r}")
    return float(pair[0]), float(pair[1])


def _resized_crop_params(H: int, W: int, scale: tuple[float, float], ratio: tuple[float, float],
                         rand: Any) -> tuple[int, int, int, int]:
    area = H * W
    log_r = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * (scale[0] + (scale[1] - scale[0]) * rand())
        aspect = math.exp(log_r[0] + (log_r[1] - log_r[0]) * rand())
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= W and 0 < h <= H:
            i = int(rand() * (H - h + 1))
            j = int(rand() * (W - w + 1))
            return i, j, h, w
    in_ratio = W / H  # fall back to a central crop of the closest allowed aspect ratio
    if in_ratio < min(ratio):
        w = W
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = H
        w = int(round(h * max(ratio)))
    else:
        w, h = W, H
    return (H - h) // 2, (W - w) // 2, h, w


# colour and erasing functions live in color.py (imported last: it builds on the helpers above)
from .color import (adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation,  # noqa: E402,F401
                    convert_image_dtype, erase, rgb_to_grayscale, to_pil_image)
from .geometry import affine, rotate  # noqa: E402,F401
from .blur import gaussian_blur  # noqa: E402,F401
