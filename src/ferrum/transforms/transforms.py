"""Image transforms as callable objects (``torchvision.transforms``' v1 interface, no PIL).

Random transforms draw from ferrum's default generator, so ``ferrum.manual_seed`` (and a
DataLoader's per-worker seeding) makes augmentations reproducible. See :mod:`.functional` for the
image kinds and layouts accepted.

Batches: the deterministic per-image transforms (``ToTensor``, ``PILToTensor``, ``Normalize`` and a
``Compose`` of them) also have ``apply_batch(images)``, which takes the images of a batch stacked
along a new first axis and returns exactly ``stack([t(img) for img in images])`` in one vectorised
step. Data sets' ``__getitems__`` use it (see :func:`supports_batch`), so a DataLoader over
``MNIST(..., transform=Compose([ToTensor(), Normalize(...)]))`` converts a whole batch at once.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from .._dtype import as_dtype, to_np
from .._tensor import Tensor, _wrap
from . import functional as F
from .functional import InterpolationMode

__all__ = ["supports_batch", "Compose", "ToTensor", "PILToTensor", "ToImageTensor", "Normalize", "Pad",
           "RandomCrop", "CenterCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "Resize",
           "RandomResizedCrop", "Lambda", "Scale", "GaussianNoise", "ToOneHot", "RandomApply"]


def _gen():
    # the NumPy generator behind ferrum's default generator (re-read: manual_seed replaces it)
    return _random.default_generator._np


def _defining_class(cls: type, name: str) -> type | None:
    return next((k for k in cls.__mro__ if name in k.__dict__), None)


_batch_classes: dict[type, bool] = {}  # class -> whether it defines apply_batch with its __call__


def supports_batch(transform: Callable | None) -> bool:
    """Whether ``transform`` (or None, no transform) can be applied to a stacked batch of images
    with ``transform.apply_batch(images)``, giving exactly the stack of its per-image results.

    A transform supports it when its ``apply_batch`` is defined by the class of its ``__call__`` or
    a subclass of it (a subclass overriding only ``__call__`` does not: the batch would skip its
    logic), and,
    for ``Compose``, when every member does. Your own transforms opt in the same way.
    """
    if transform is None:
        return True
    cls = type(transform)
    ok = _batch_classes.get(cls)
    if ok is None:
        owner = _defining_class(cls, "apply_batch")
        ok = _batch_classes[cls] = owner is not None and issubclass(owner, _defining_class(cls, "__call__"))
    if not ok:
        return False
    if isinstance(transform, Compose):
        return all(supports_batch(t) for t in transform.transforms)
    return True


class Compose:
    """Applies ``transforms`` in order: ``Compose([ToTensor(), Normalize(m, s)])(img)``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def apply_batch(self, images: Any) -> Any:
        """Each transform's ``apply_batch`` in order (see :func:`supports_batch`)."""
        for t in self.transforms:
            images = t.apply_batch(images)
        return images

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """Image ``(H, W)`` / ``(H, W, C)`` (NumPy array or ferrum tensor) -> ``(C, H, W)`` tensor.

    uint8 images become the default float dtype scaled to [0, 1]; other dtypes are only transposed.
    """

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def apply_batch(self, pics: Any) -> Tensor:
        """Images ``(B, H, W)`` / ``(B, H, W, C)`` -> ``(B, C, H, W)``, as ``ToTensor`` of each."""
        return F._to_tensor_batch(pics, scale=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """Image ``(H, W)`` / ``(H, W, C)`` -> ``(C, H, W)`` tensor of the same dtype, values unchanged."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)

    def apply_batch(self, pics: Any) -> Tensor:
        """Images ``(B, H, W)`` / ``(B, H, W, C)`` -> ``(B, C, H, W)``, as ``PILToTensor`` of each."""
        return F._to_tensor_batch(pics, scale=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


#: the same as :class:`PILToTensor` (ferrum has no PIL images; the name says what it does)
ToImageTensor = PILToTensor


class Normalize:
    """``(img - mean[c]) / std[c]`` per channel of a float tensor image ``(..., C, H, W)``."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace
        self._cache: dict = {}  # NumPy dtype -> (mean, std) arrays, converted once

    def __call__(self, tensor: Tensor) -> Tensor:
        if tensor.__class__ is Tensor:
            a = tensor._data
            hit = self._cache.get(a.dtype)
            if hit is not None and a.ndim >= 3:
                return F._normalize_arrays(tensor, hit[0], hit[1], self.inplace)
            out = F.normalize(tensor, self.mean, self.std, self.inplace)
            self._cache[a.dtype] = (F._channel_stats(self.mean, a.dtype, "mean"),
                                    F._channel_stats(self.std, a.dtype, "std"))
            return out
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def apply_batch(self, tensors: Tensor) -> Tensor:
        """Normalizes a batch ``(B, C, H, W)`` of tensor images (each ``(C, H, W)``) at once."""
        if isinstance(tensors, Tensor) and tensors.ndim < 4:
            # each image would be 2-D, which Normalize refuses; do not read B as the channels
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {tuple(tensors.shape[1:])}")
        return self(tensors)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _check_padding_mode(padding_mode: str) -> None:
    if padding_mode not in F._PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


class Pad:
    """Pads all sides: ``padding`` int, ``(lr, tb)`` or ``(l, t, r, b)``; modes as in :func:`F.pad`."""

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        F._parse_padding(padding)
        F._check_fill(fill, "Pad")
        _check_padding_mode(padding_mode)
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop:
    """A ``size`` window at a uniformly random position, after optional padding.

    ``padding`` (int, ``(lr, tb)`` or ``(l, t, r, b)``) is applied first with ``fill`` /
    ``padding_mode``; ``pad_if_needed`` pads images smaller than ``size``. With constant padding the
    padded image is never built: the output is allocated once and the overlap copied.
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        self.size = F._setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self._ltrb = F._parse_padding(padding) if padding is not None else (0, 0, 0, 0)
        F._check_fill(fill, "RandomCrop")
        _check_padding_mode(padding_mode)

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of an ``output_size`` crop of ``img``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        g = _gen()
        return int(g.random() * (h - th + 1)), int(g.random() * (w - tw + 1)), th, tw

    def __call__(self, img: Any) -> Any:
        a, hwc, is_t = F._unwrap(img, "RandomCrop")
        l, t, r, b = self._ltrb
        nd = a.ndim
        if hwc and nd >= 3:
            H, W = a.shape[nd - 3], a.shape[nd - 2]
        else:
            H, W = a.shape[nd - 2], a.shape[nd - 1]
        th, tw = self.size
        constant = self.padding_mode == "constant"
        if not constant and (l or t or r or b):
            a = F._pad_array(a, hwc, self._ltrb, self.fill, self.padding_mode)
            H, W, l, t, r, b = H + t + b, W + l + r, 0, 0, 0, 0
        ph, pw = H + t + b, W + l + r  # the size of the (virtually) padded image
        if self.pad_if_needed and (ph < th or pw < tw):
            ey = th - ph if ph < th else 0
            ex = tw - pw if pw < tw else 0
            if constant:
                t, b, l, r = t + ey, b + ey, l + ex, r + ex
            else:
                a = F._pad_array(a, hwc, (ex, ey, ex, ey), self.fill, self.padding_mode)
                H, W = H + 2 * ey, W + 2 * ex
            ph, pw = ph + 2 * ey, pw + 2 * ex
        if ph < th or pw < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(ph, pw)}")
        g = _gen()
        i = int(g.random() * (ph - th + 1)) if ph != th else 0
        j = int(g.random() * (pw - tw + 1)) if pw != tw else 0
        out = F._crop_array(a, hwc, i - t, j - l, th, tw, self.fill)
        return _wrap(out) if is_t else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class CenterCrop:
    """The central ``size`` window (zero-padded when the image is smaller)."""

    def __init__(self, size: Any) -> None:
        self.size = F._setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


def _check_p(p: Any) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"p should be a float, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p should be a probability in [0, 1], got {p}")
    return p


class RandomHorizontalFlip:
    """Mirrors the image left to right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _check_p(p)

    def __call__(self, img: Any) -> Any:
        if _gen().random() < self.p:
            return F.hflip(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip:
    """Mirrors the image top to bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _check_p(p)

    def __call__(self, img: Any) -> Any:
        if _gen().random() < self.p:
            return F.vflip(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Resize:
    """Resizes to ``size``: ``(h, w)``, or an int that the smaller edge is matched to (aspect kept).

    ``interpolation``: ``InterpolationMode.BILINEAR`` (default), ``NEAREST`` or ``NEAREST_EXACT``
    (or their names); ``max_size`` bounds the longer edge when ``size`` is an int; ``antialias``
    filters when downscaling, as torch's ``interpolate(antialias=True)``.
    """

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        if not isinstance(size, (int, Sequence)) or isinstance(size, (bool, str)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interp_mode(interpolation, "Resize")
        self.antialias = antialias

    def __call__(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class RandomResizedCrop:
    """A random crop (area fraction in ``scale``, aspect ratio in ``ratio``) resized to ``size``."""

    def __init__(self, size: Any, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: bool | None = True) -> None:
        self.size = F._setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.scale = F._check_scale_ratio(scale, "Scale")
        self.ratio = F._check_scale_ratio(ratio, "Ratio")
        if self.scale[0] > self.scale[1] or self.ratio[0] > self.ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = F._interp_mode(interpolation, "RandomResizedCrop")
        self.antialias = antialias

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``img`` for the given scale and ratio."""
        _, h, w = F.get_dimensions(img)
        return F._resized_crop_params(h, w, tuple(scale), tuple(ratio), _gen().random)

    def __call__(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


class Lambda:
    """Applies a user function: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomApply:
    """Applies the list of ``transforms`` (in order) with probability ``p``."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms = list(transforms)
        self.p = _check_p(p)

    def __call__(self, img: Any) -> Any:
        if self.p < _gen().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class Scale:
    """ferrum's ``Scale(factor)``: multiplies the image's values by ``factor``.

    Note: torchvision's old ``transforms.Scale`` (removed long ago) was a *resize*. For programs that
    still call it that way, ``Scale(size=...)`` (and ``Scale(size, interpolation)`` positionally
    with an int/sequence size and an interpolation mode) returns a :class:`Resize`.

    A ferrum tensor goes through ``tensor * factor`` (so a uint8 image becomes float, by type
    promotion); a NumPy array through ``array * factor``.
    """

    def __new__(cls, factor: Any = None, interpolation: Any = None, *, size: Any = None,
                **resize_kwargs: Any):
        if size is not None or interpolation is not None or resize_kwargs:
            if size is None:
                size, factor = factor, None
            if factor is not None:
                raise TypeError("Scale: pass either a factor or size=..., not both")
            if interpolation is not None:
                resize_kwargs["interpolation"] = interpolation
            return Resize(size, **resize_kwargs)
        return super().__new__(cls)

    def __init__(self, factor: Any = None, interpolation: Any = None, *, size: Any = None, **kw: Any) -> None:
        if not isinstance(factor, numbers.Number) or isinstance(factor, bool):
            raise TypeError(f"Scale: factor must be a number, got {type(factor).__name__}")
        self.factor = factor

    def __call__(self, img: Any) -> Any:
        return img * self.factor

    def __repr__(self) -> str:
        return f"{type(self).__name__}(factor={self.factor})"


class GaussianNoise:
    """Adds ``N(mean, sigma^2)`` noise to a float image; ``clip`` clamps the result to [0, 1].

    (``torchvision.transforms.v2.GaussianNoise``.)
    """

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True) -> None:
        if sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def __call__(self, img: Any) -> Any:
        if isinstance(img, Tensor):
            a = img._data
        elif isinstance(img, np.ndarray):
            a = img
        else:
            raise TypeError(f"GaussianNoise: expected a ferrum Tensor or a NumPy array, got "
                            f"{type(img).__name__}")
        if a.dtype.kind != "f":
            raise ValueError(f"Input tensor is expected to be in float dtype, got dtype={a.dtype}")
        noise = _gen().standard_normal(a.shape, dtype=np.float64 if a.dtype == np.float64 else np.float32)
        if a.__class__ is not np.ndarray:
            noise = F._xp(a).asarray(noise)
        out = a + (noise * self.sigma + self.mean).astype(a.dtype)
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return _wrap(out) if isinstance(img, Tensor) else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"


class ToOneHot:
    """Target transform: class index (int or integer tensor/array of any shape) -> one-hot tensor.

    Output shape ``(*target.shape, num_classes)``, dtype ``dtype`` (default float32, usable as soft
    targets of ``CrossEntropyLoss``; ``F.one_hot`` gives int64). Raises ``RuntimeError`` for an index
    outside ``[0, num_classes)``.
    """

    def __init__(self, num_classes: int, dtype: Any = None) -> None:
        if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool):
            raise TypeError(f"ToOneHot: num_classes must be an int, got {type(num_classes).__name__}")
        if num_classes <= 0:
            raise ValueError(f"ToOneHot: num_classes must be positive, got {num_classes}")
        self.num_classes = int(num_classes)
        self.dtype = as_dtype(dtype) if dtype is not None else as_dtype("float32")
        self._eye = np.eye(self.num_classes, dtype=to_np(self.dtype))

    def __call__(self, target: Any) -> Tensor:
        if isinstance(target, Tensor):
            idx = np.asarray(target._data.get() if hasattr(target._data, "get") else target._data)
        elif isinstance(target, (numbers.Integral, np.ndarray, list, tuple)) and not isinstance(target, bool):
            idx = np.asarray(target)
        else:
            raise TypeError(f"ToOneHot: target must be an int or an integer tensor, got "
                            f"{type(target).__name__}")
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"one_hot is only applicable to index tensor, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_classes):
            raise RuntimeError(f"ToOneHot: class values must be in [0, {self.num_classes}), got "
                               f"min {idx.min()} max {idx.max()}")
        return _wrap(self._eye[idx])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_classes={self.num_classes})"

