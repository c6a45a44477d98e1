"""``ferrum.cpu.amp.autocast``: torch.cpu.amp's deprecated spelling of ``autocast("cpu")``; warns
as torch 2.13 does."""

from __future__ import annotations

import warnings

from .. import _dtype
from ..amp import autocast as _autocast

__all__ = ["autocast"]


class autocast(_autocast):
    def __init__(self, enabled: bool = True, dtype: _dtype.dtype = _dtype.bfloat16,
                 cache_enabled: bool = True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
