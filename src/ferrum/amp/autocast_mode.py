"""``autocast``: torch.autocast's interface, with the region run in full precision.

torch.autocast makes a list of ops (matmul, linear, conv, ...) cast their inputs to float16/bfloat16
inside the region. ferrum's ops have no per-op cast table, so an enabled autocast cannot do that;
instead it does what torch does when autocast cannot work on the requested device (CUDA without a
GPU): it warns once and disables itself, and the region runs in the inputs' dtypes. A program that
uses autocast for speed gets float32 results, which are at least as accurate as torch's; only a
program that checks for a bfloat16/float16 result inside the region sees the difference.
``enabled=False`` (what CPU programs usually pass: ``enabled=amp`` with ``amp`` off) behaves exactly
as in torch. The state functions (``is_autocast_enabled``, ``get_autocast_dtype``) answer for this
disabled state.

Differences from PyTorch: no op casts to a lower precision inside an enabled region (above).
"""

from __future__ import annotations

import functools
import warnings

from .. import _dtype

_DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16"}
_warned: set = set()


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast has a cast table for ``device_type``: none in ferrum (see the module)."""
    return False


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an enabled autocast region is active: never in ferrum (enabled regions disable)."""
    return False


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The lower-precision dtype autocast would use on ``device_type`` (torch's defaults)."""
    name = _DEFAULT_DTYPE.get(device_type)
    if name is None:
        raise RuntimeError(f"unsupported scalarType for autocast device {device_type!r}")
    return getattr(_dtype, name)


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context manager
    and decorator. Enabled, it warns once per device type and runs the region in full precision
    (see the module docstring); disabled, it does nothing, as torch."""

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cpu", "cuda", "mps", "xpu", "xla", "hpu", "mtia", "maia", "ipu", "meta"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            get_autocast_dtype(device_type) if device_type in _DEFAULT_DTYPE else _dtype.float16)
        self._enabled = bool(enabled)
        if self._enabled and device_type not in _warned:
            _warned.add(device_type)
            warnings.warn(f"ferrum.autocast: mixed precision is not implemented for '{device_type}'; "
                          "disabling autocast (the region runs in the inputs' precision)", UserWarning,
                          stacklevel=2)
        self._enabled = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper
