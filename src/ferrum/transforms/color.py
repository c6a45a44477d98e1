"""Colour and erasing transforms (torchvision.transforms' v1 names): ``Grayscale``,
``RandomGrayscale``, ``ColorJitter``, ``RandomErasing``, ``ConvertImageDtype``, and their
functional forms (``rgb_to_grayscale``, ``adjust_brightness/contrast/saturation/hue``, ``erase``,
``convert_image_dtype``, re-exported by :mod:`ferrum.transforms.functional`).

The formulas are torchvision's tensor-image ones: grey is 0.2989 R + 0.587 G + 0.114 B;
brightness, contrast and saturation blend the image with black, its grey mean and its grey image
(``ratio * img + (1 - ratio) * other``, clamped to [0, 1] or [0, 255] and cast back to the image's
dtype, truncating for uint8); hue shifts H in HSV space. Inputs are tensor images ``(..., C, H, W)``
or the data-set layout (uint8 ``(H, W, C)`` tensors or arrays, see :mod:`.functional`), which
takes PIL's place here and gets the tensor formulas (PIL's own integer arithmetic rounds
differently by at most one grey level). Results never record autograd history.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import random as _random
from .._dtype import as_dtype, to_np
from .._tensor import Tensor
from .functional import _rewrap, _unwrap, get_dimensions

__all__ = ["ColorJitter", "ConvertImageDtype", "Grayscale", "RandomErasing", "RandomGrayscale", "ToPILImage",
           "to_pil_image", "adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "convert_image_dtype", "erase", "rgb_to_grayscale"]


def _gen():
    return _random.default_generator._np


def _chw(img: Any, op: str) -> tuple[np.ndarray, Any]:
    """(channel-first view of the image's array, a function putting a result back in its layout/kind)."""
    a, hwc, is_tensor = _unwrap(img, op)
    if hwc:
        if a.ndim == 2:
            a = a[..., None]
        a = np.moveaxis(a, -1, -3)
    elif a.ndim == 2:
        a = a[None]

    def back(r: np.ndarray) -> Any:
        r = np.moveaxis(r, -3, -1) if hwc else r
        if not is_tensor and not hwc and r.ndim == 3 and r.shape[0] == 1:
            r = r[0]
        return _rewrap(np.ascontiguousarray(r), is_tensor)

    return a, back


def _work_dtype(a: np.ndarray) -> np.dtype:
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _bound(a: np.ndarray) -> float:
    return 1.0 if a.dtype.kind == "f" else 255.0


def _cast_back(r: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.dtype.kind == "f":
        return r.astype(like.dtype, copy=False)
    return np.trunc(r).astype(like.dtype)  # torchvision's .to(uint8) after the clamp truncates


def _grey(a: np.ndarray) -> np.ndarray:
    w = _work_dtype(a)
    r, g, b = (a[..., i, :, :].astype(w) for i in range(3))
    return (0.2989 * r + 0.587 * g + 0.114 * b)[..., None, :, :]


def _channels(a: np.ndarray, allowed: Sequence[int], op: str) -> int:
    c = a.shape[-3]
    if c not in allowed:
        raise TypeError(f"{op}: input image tensor permitted channel values are {list(allowed)}, but "
                        f"found {c}")
    return c


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """(..., 3, H, W) -> (..., num_output_channels, H, W) grey (one-channel images pass through)."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    a, back = _chw(img, "rgb_to_grayscale")
    c = _channels(a, (1, 3), "rgb_to_grayscale")
    g = _cast_back(_grey(a), a) if c == 3 else a.copy()
    if num_output_channels == 3:
        g = np.broadcast_to(g, g.shape[:-3] + (3,) + g.shape[-2:])
    return back(g)


def _blend(a: np.ndarray, other: np.ndarray, ratio: float) -> np.ndarray:
    w = _work_dtype(a)
    r = ratio * a.astype(w) + (1.0 - ratio) * other
    return _cast_back(np.clip(r, 0, _bound(a)), a)


def _check_factor(f: float, name: str) -> float:
    if f < 0:
        raise ValueError(f"{name} ({f}) is not non-negative.")
    return float(f)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Blends with black: 0 gives black, 1 the image, 2 twice as bright."""
    f = _check_factor(brightness_factor, "brightness_factor")
    a, back = _chw(img, "adjust_brightness")
    _channels(a, (1, 3), "adjust_brightness")
    return back(_blend(a, np.zeros((), _work_dtype(a)), f))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blends with the mean grey level of the image."""
    f = _check_factor(contrast_factor, "contrast_factor")
    a, back = _chw(img, "adjust_contrast")
    c = _channels(a, (1, 3), "adjust_contrast")
    w = _work_dtype(a)
    grey = _cast_back(_grey(a), a).astype(w) if c == 3 else a.astype(w)
    return back(_blend(a, grey.mean(axis=(-3, -2, -1), keepdims=True), f))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blends with the grey image: 0 gives grey, 1 the image."""
    f = _check_factor(saturation_factor, "saturation_factor")
    a, back = _chw(img, "adjust_saturation")
    if _channels(a, (1, 3), "adjust_saturation") == 1:
        return back(a.copy())
    return back(_blend(a, _cast_back(_grey(a), a).astype(_work_dtype(a)), f))


def _rgb2hsv(x: np.ndarray) -> np.ndarray:
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    crd = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(x: np.ndarray) -> np.ndarray:
    h, s, v = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = (np.stack((v, q, p, p, t, v), -3), np.stack((t, v, v, q, p, p), -3),
             np.stack((p, p, t, v, v, q), -3))
    sel = i[..., None, :, :]
    return np.stack([np.take_along_axis(c, sel, axis=-3)[..., 0, :, :] for c in table], axis=-3)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Shifts the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    a, back = _chw(img, "adjust_hue")
    if _channels(a, (1, 3), "adjust_hue") == 1:
        return back(a.copy())
    x = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a
    hsv = _rgb2hsv(x)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + hue_factor, 1.0) % 1.0
    rgb = _hsv2rgb(hsv)
    if a.dtype == np.uint8:
        return back((rgb * (255 + 1.0 - 1e-3)).astype(np.uint8))
    return back(rgb.astype(a.dtype, copy=False))


def convert_image_dtype(image: Tensor, dtype=None) -> Tensor:
    """Converts a tensor image's dtype, rescaling values (uint8 [0, 255] <-> float [0, 1])."""
    from .._dtype import float32
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    npd = to_np(as_dtype(dtype if dtype is not None else float32))
    a = image._data
    if a.dtype == npd:
        return image
    if a.dtype.kind == "f":
        if npd.kind == "f":
            return _rewrap(a.astype(npd), True)
        if (a.dtype, npd) in ((np.float32, np.int32), (np.float32, np.int64), (np.float64, np.int64)):
            raise RuntimeError(f"The cast from {a.dtype} to {npd} cannot be performed safely.")
        top = float(np.iinfo(npd).max)
        return _rewrap((a * (top + 1.0 - 1e-3)).astype(npd), True)
    top_in = float(np.iinfo(a.dtype).max)
    if npd.kind == "f":
        return _rewrap((a.astype(npd) / top_in).astype(npd), True)
    top_out = float(np.iinfo(npd).max)
    if top_in > top_out:
        factor = int((top_in + 1) // (top_out + 1))
        return _rewrap((a // factor).astype(npd), True)
    factor = int((top_out + 1) // (top_in + 1))
    return _rewrap(a.astype(npd) * factor, True)


def to_pil_image(pic: Any, mode: str | None = None) -> Tensor:
    """A tensor image (C, H, W) or (H, W) (float in [0, 1], or uint8) or an (H, W[, C]) array ->
    the 8-bit (H, W, C) image that stands for a PIL image in ferrum (what data sets return and
    every transform takes). Float values are scaled by 255 and truncated as torchvision does.

    Differences from torchvision: values outside [0, 1] saturate at 0 and 255 (torchvision's byte
    cast wraps them around); ``mode`` is accepted for "L", "RGB", "RGBA" (checked against the
    channel count) and otherwise refused."""
    if isinstance(pic, Tensor):
        a = pic._data
        if a.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {a.ndim} dimensions.")
        a = a[None] if a.ndim == 2 else a
        if a.shape[0] > 4 and a.shape[-1] <= 4:
            raise ValueError(f"pic should not have > 4 channels. Got {a.shape[0]} channels.")
        a = np.moveaxis(a, 0, -1)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        a = pic[..., None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if a.dtype.kind == "f":
        a = np.trunc(np.clip(a.astype(np.float64) * 255.0, 0, 255))
    elif a.dtype != np.uint8:
        raise TypeError(f"Input type {a.dtype} is not supported")
    want = {"L": 1, "RGB": 3, "RGBA": 4}
    if mode is not None and want.get(mode) != a.shape[-1]:
        raise ValueError(f"Incorrect mode ({mode}) supplied for input of {a.shape[-1]} channels")
    from .functional import _rewrap as wrap
    return wrap(np.ascontiguousarray(a.astype(np.uint8)), True)


class ToPILImage:
    """``to_pil_image`` as a transform (see there: the result is ferrum's 8-bit HWC image)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Tensor:
        return to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()" if self.mode is None else f"{type(self).__name__}(mode={self.mode})"


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """Sets ``img[..., i:i+h, j:j+w]`` to ``v`` (a tensor broadcastable to (C, h, w), or a number)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    out = img if inplace else img.clone()
    vv = v._data if isinstance(v, Tensor) else v
    out._data[..., i:i + h, j:j + w] = vv
    out._version[0] += 1
    return out


# ------------------------------------------------------------------------------------------- classes
class Grayscale:
    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        c = get_dimensions(img)[0]
        if _gen().random() < self.p:
            return rgb_to_grayscale(img, c)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def _check_input(value: Any, name: str, center: float = 1.0, bound=(0, float("inf")),
                 clip_first_on_zero: bool = True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    if value[0] == value[1] == center:
        return None
    return tuple(value)


class ColorJitter:
    """Random brightness, contrast, saturation and hue changes, applied in a random order."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0) -> None:
        self.brightness = _check_input(brightness, "brightness")
        self.contrast = _check_input(contrast, "contrast")
        self.saturation = _check_input(saturation, "saturation")
        self.hue = _check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue) -> tuple:
        g = _gen()
        order = g.permutation(4)
        factors = [None if r is None else float(g.uniform(r[0], r[1]))
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img: Any) -> Any:
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for k in order:
            if k == 0 and b is not None:
                img = adjust_brightness(img, b)
            elif k == 1 and c is not None:
                img = adjust_contrast(img, c)
            elif k == 2 and s is not None:
                img = adjust_saturation(img, s)
            elif k == 3 and h is not None:
                img = adjust_hue(img, h)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class RandomErasing:
    """With probability ``p`` erases a random rectangle of a tensor image (C, H, W) (area fraction
    in ``scale``, aspect ratio in ``ratio``) with ``value``: a number, a per-channel sequence, or
    "random" (standard normal noise)."""

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value: Any = 0,
                 inplace: bool = False) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence) or not isinstance(ratio, Sequence):
            raise TypeError("Scale and ratio should be sequences")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img: Tensor, scale, ratio, value=None) -> tuple:
        c, ih, iw = img.shape[-3], img.shape[-2], img.shape[-1]
        area = ih * iw
        g = _gen()
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * g.uniform(scale[0], scale[1])
            aspect = math.exp(g.uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < ih and w < iw):
                continue
            if value is None:
                v = g.standard_normal((c, h, w)).astype(img._data.dtype)
            else:
                v = np.asarray(value, dtype=img._data.dtype)[:, None, None]
            i = int(g.integers(0, ih - h + 1))
            j = int(g.integers(0, iw - w + 1))
            return i, j, h, w, _rewrap(v, True)
        return 0, 0, ih, iw, img

    def __call__(self, img: Tensor) -> Tensor:
        if _gen().random() < self.p:
            if isinstance(self.value, (int, float)):
                value = [float(self.value)]
            elif isinstance(self.value, str):
                value = None
            else:
                value = list(self.value)
            if value is not None and len(value) not in (1, img.shape[-3]):
                raise ValueError("If value is a sequence, it should have either a single value or "
                                 f"{img.shape[-3]} (number of input channels)")
            x, y, h, w, v = self.get_params(img, self.scale, self.ratio, value)
            return erase(img, x, y, h, w, v, self.inplace)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")


class ConvertImageDtype:
    def __init__(self, dtype) -> None:
        self.dtype = dtype

    def __call__(self, image: Tensor) -> Tensor:
        return convert_image_dtype(image, self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype})"
