"""``ferrum.fft``: discrete Fourier transforms, following ``torch.fft``.

A face, like ``linalg.py``: the implementations live in ``ops/fft_ops.py`` (its docstring gives the
backward formulas, the choice of SciPy's pocketfft and the differences from PyTorch).
"""

from __future__ import annotations

from ._tensor import Tensor  # noqa: F401  (torch.fft exposes torch.Tensor under its own name too)
from .ops.fft_ops import (fft, fft2, fftfreq, fftn, fftshift, hfft, hfft2, hfftn, ifft, ifft2, ifftn,
                          ifftshift, ihfft, ihfft2, ihfftn, irfft, irfft2, irfftn, rfft, rfft2, rfftfreq,
                          rfftn)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]
