"""``GaussianBlur`` and ``gaussian_blur`` (torchvision's), the blur SimCLR-style augmentation adds.

torchvision's tensor formula: a separable kernel ``exp(-x^2 / (2 sigma^2))`` over
``x = -(k-1)/2 .. (k-1)/2``, normalised to sum 1, applied per channel after reflect-padding by
``k // 2`` on each side; integer images are rounded back. Inputs: tensor images ``(..., C, H, W)``
or the data-set HWC layout (see :mod:`.functional`); no autograd history.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .color import _chw, _gen

__all__ = ["GaussianBlur", "gaussian_blur"]


def _pair(v: Any, name: str) -> list:
    if isinstance(v, numbers.Number):
        return [v, v]
    if isinstance(v, Sequence) and len(v) in (1, 2):
        return [v[0], v[0]] if len(v) == 1 else list(v)
    raise TypeError(f"{name} should be a number or a sequence of one or two numbers. Got {v}")


def _kernel1d(k: int, sigma: float, dtype) -> np.ndarray:
    half = (k - 1) * 0.5
    x = np.linspace(-half, half, k, dtype=np.float64)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return (pdf / pdf.sum()).astype(dtype)


def gaussian_blur(img: Any, kernel_size: Any, sigma: Any = None) -> Any:
    """Blurs with a Gaussian of ``kernel_size`` (odd, positive; (kx, ky)) and ``sigma`` ((sx, sy));
    ``sigma=None`` uses torchvision's default ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``."""
    ks = _pair(kernel_size, "kernel_size")
    if any(not isinstance(k, int) or k <= 0 or k % 2 == 0 for k in ks):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sig = [k * 0.15 + 0.35 for k in ks]
    else:
        sig = [float(s) for s in _pair(sigma, "sigma")]
    if any(s <= 0 for s in sig):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    a, back = _chw(img, "gaussian_blur")
    work = a.astype(np.float64 if a.dtype == np.float64 else np.float32)
    kx, ky = _kernel1d(ks[0], sig[0], work.dtype), _kernel1d(ks[1], sig[1], work.dtype)
    px, py = ks[0] // 2, ks[1] // 2
    h, w = work.shape[-2:]
    if py >= h or px >= w:
        raise ValueError(f"gaussian_blur: padding ({px}, {py}) must be smaller than the image size "
                         f"({w}, {h})")
    pad = [(0, 0)] * (work.ndim - 2) + [(py, py), (px, px)]
    p = np.pad(work, pad, mode="reflect")
    rows = sum(kx[i] * p[..., :, i:i + w] for i in range(ks[0]))
    out = sum(ky[j] * rows[..., j:j + h, :] for j in range(ks[1]))
    if a.dtype.kind in "ui":
        out = np.rint(out)
    return back(out.astype(a.dtype))


class GaussianBlur:
    """Blurs with a sigma drawn uniformly from ``sigma`` ((min, max), or a fixed number)."""

    def __init__(self, kernel_size: Any, sigma: Any = (0.1, 2.0)) -> None:
        self.kernel_size = tuple(_pair(kernel_size, "kernel_size"))
        if any(not isinstance(k, int) or k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = tuple(sigma)

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return float(_gen().uniform(sigma_min, sigma_max))

    def __call__(self, img: Any) -> Any:
        s = self.get_params(self.sigma[0], self.sigma[1])
        return gaussian_blur(img, list(self.kernel_size), [s, s])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"
