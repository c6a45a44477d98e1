"""``autocast``: torch.autocast, for real: inside an enabled region the ops of PyTorch's lists run in
the lower-precision dtype (matmul, linear, conv, bmm, SDPA, ... in bfloat16 or float16), in float32
(the losses, prod, cdist, ...), or in the widest input dtype (cat, stack), per device type. The
lists and the casting live in ``ferrum.ops._autocast``; this module is the user-facing state:
the context manager and decorator, the thread-local switches (``is_autocast_enabled``,
``get_autocast_dtype``, ...), and ``custom_fwd``/``custom_bwd`` for user Functions.

How the lower-precision ops compute on the CPU: NumPy has no bfloat16/float16 GEMM, so an op in the
lower list rounds its inputs to the region's dtype (the cast is a real bfloat16/float16 tensor),
multiplies in float32 (NumPy's BLAS) and rounds the result once to the region's dtype. PyTorch's
CPU kernels also accumulate in float32, so the results agree within PyTorch's bfloat16/float16
tolerances. The backward runs outside autocast (in each tensor's own dtype), and gradients reach
float32 parameters in float32 through the casts.

Differences from PyTorch: ``loss.backward()`` called inside an enabled region runs its backward
ops in full precision (PyTorch would autocast them and cast the gradients back); the results are at
least as accurate.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from .. import _dtype
from ..ops import _autocast as _ac

_DEFAULT_DTYPE = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "hpu", "mtia", "maia", "ipu")


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast has op lists for ``device_type``: 'cpu' and 'cuda'."""
    return device_type in _DEFAULT_DTYPE


def _check_device(device_type: str) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEFAULT_DTYPE:
        raise RuntimeError(f"unsupported autocast device_type '{device_type}'")
    return device_type


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether this thread is inside an enabled autocast region for ``device_type`` (PyTorch's
    deprecated no-argument form asks about 'cuda')."""
    return (device_type or "cuda") in _ac.local.enabled


def set_autocast_enabled(device_type: str, enabled: bool | None = None) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or the deprecated ``(enabled)`` for 'cuda')."""
    if enabled is None:
        device_type, enabled = "cuda", bool(device_type)
    _ac.set_enabled(_check_device(device_type), bool(enabled))


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The lower-precision dtype of ``device_type``'s autocast (bfloat16 on the CPU, float16 on CUDA
    unless a region set another)."""
    return _ac.local.dtype.get(_check_device(device_type), _DEFAULT_DTYPE[device_type])


def set_autocast_dtype(device_type: str, dtype: _dtype.dtype) -> None:
    _ac.local.dtype[_check_device(device_type)] = dtype


def is_autocast_cpu_enabled() -> bool:
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype() -> _dtype.dtype:
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> _dtype.dtype:
    return get_autocast_dtype("cuda")


def is_autocast_cache_enabled() -> bool:
    return _ac.local.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _ac.local.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _ac.clear_cache()


def autocast_increment_nesting() -> int:
    _ac.local.nesting += 1
    return _ac.local.nesting


def autocast_decrement_nesting() -> int:
    _ac.local.nesting -= 1
    return _ac.local.nesting


def _cuda_available() -> bool:
    from .. import cuda
    return cuda.is_available()


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context manager
    and decorator; regions nest (an inner ``enabled=False`` region runs in the inputs' dtypes) and
    the state is thread-local. ``dtype`` defaults to ``get_autocast_dtype(device_type)``.
    On the CPU the supported dtypes are bfloat16 and float16 (others warn and disable, as PyTorch);
    'cuda' without a GPU warns and disables, as PyTorch."""

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda" and not _cuda_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling "
                              f"autocast.\n{name} Autocast only supports dtypes of torch.bfloat16, "
                              "torch.float16 currently.", stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self) -> "autocast":
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        _ac.set_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        _ac.set_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you "
                            "mean to use autocast as a context manager? For example:\n"
                            "    with torch.autocast(device_type=...):\n        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def _cast(value, device_type: str, dtype: _dtype.dtype):
    """Floating tensors of ``device_type`` (not float64) in ``value`` (nested containers) cast."""
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        ok = value.is_floating_point() and value.device.type == device_type
        return value.to(dtype) if ok and value.dtype is not _dtype.float64 else value
    if isinstance(value, (str, bytes)) or hasattr(value, "__array_interface__"):
        return value
    if isinstance(value, dict):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: _dtype.dtype | None = None):
    """Decorator for a custom Function's ``forward``: with ``cast_inputs``, inside an enabled region
    the floating tensors are cast to it and forward runs with autocast disabled; without, forward
    runs under the current state (and ``custom_bwd`` replays that state in backward)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        in_region = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if not in_region:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom Function's ``backward``: runs it under the autocast state its forward
    saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
