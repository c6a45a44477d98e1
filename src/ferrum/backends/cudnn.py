"""``ferrum.backends.cudnn``: the cuDNN flags PyTorch programs set before they build a model.

Vision programs write ``torch.backends.cudnn.benchmark = True`` (or ``deterministic = True`` for
reproducibility) near the top; they run unchanged with ferrum in torch's place. The flags are module
attributes, set and read as in torch, checked as torch checks them (a flag that is not a ``bool``
raises ``RuntimeError``, as torch's setter does), and restored by the :func:`flags` context manager.

What they change: ferrum's CPU code has nothing to tune or to make deterministic (every CPU op is
already deterministic), so on the CPU they change nothing, as in PyTorch on a CPU-only machine.
cuDNN itself is reached through CuPy, so :func:`is_available` is True only when CuPy sees a GPU and
its cuDNN bindings load, and :func:`version` is then cuDNN's version number (e.g. 90100), else None.

Differences from PyTorch: :func:`set_flags` checks every value before it changes any, so a bad value
leaves all flags as they were (torch 2.13 has already changed the earlier ones when it raises).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

# the flags (enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision,
# depthwise_kernel) are properties of the module's class, so they are not module globals
__all__ = ["is_available", "version", "is_acceptable", "set_flags", "flags"]

_PRECISIONS = ("none", "ieee", "tf32")
_DEPTHWISE = ("auto", "cudnn", "native")
# the flags' values; the module's properties below read and write this dict
_FLAGS: dict = {"enabled": True, "benchmark": False, "benchmark_limit": None, "deterministic": False,
                "allow_tf32": True, "fp32_precision": "none", "depthwise_kernel": "auto"}
# torch's setter names, used in its messages
_SETTER = {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
           "deterministic": "set_deterministic_cudnn", "allow_tf32": "set_allow_tf32_cublas"}


def _cudnn_lib():
    """CuPy's cuDNN bindings when CuPy sees a GPU and they load, else None."""
    from .._device import cupy_module
    if cupy_module() is None:
        return None
    try:
        from cupy_backends.cuda.libs import cudnn
    except Exception:
        return None
    return cudnn


def is_available() -> bool:
    """True when cuDNN can be used: CuPy sees a GPU and its cuDNN bindings load."""
    return _cudnn_lib() is not None


def version() -> int | None:
    """cuDNN's version as an integer (major*10000 + minor*100 + patch for cuDNN 9), None without it."""
    lib = _cudnn_lib()
    return None if lib is None else int(lib.getVersion())


def is_acceptable(tensor) -> bool:
    """Whether cuDNN would run an op on ``tensor``: enabled, a cuda tensor of float16/32/64, cuDNN there."""
    from .. import float16, float32, float64
    if not _FLAGS["enabled"] or not tensor.is_cuda or tensor.dtype not in (float16, float32, float64):
        return False
    return is_available()


def _checked(name: str, value):
    if name in _SETTER:
        if not isinstance(value, bool):
            raise RuntimeError(f"{_SETTER[name]} expects a bool, but got {type(value).__name__}")
    elif name == "benchmark_limit":
        # without cuDNN torch's attribute is a plain one: anything assigned is kept, unused
        if is_available() and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise RuntimeError(f"benchmark_limit must be an integer >= 0, got {value!r}")
    elif name == "fp32_precision":
        if value not in _PRECISIONS:
            if value == "bf16":
                raise RuntimeError(f"backend 'cuda' does not support precision '{value}'")
            raise RuntimeError(f"Unknown precision: {value}")
    elif name == "depthwise_kernel":
        if value not in _DEPTHWISE:
            raise RuntimeError(f"Unknown cuDNN depthwise kernel mode: {value}. "
                               f"Expected one of: {', '.join(_DEPTHWISE)}")
    return value


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None,
              _fp32_precision="none", _depthwise_kernel=None) -> tuple:
    """Sets every flag that is not None; returns the previous values in this argument order."""
    orig = tuple(_FLAGS[k] for k in _FLAGS)
    new = dict(zip(_FLAGS, (_enabled, _benchmark, _benchmark_limit, _deterministic, _allow_tf32,
                            _fp32_precision, _depthwise_kernel)))
    if not is_available():
        del new["benchmark_limit"]  # torch ignores it without cuDNN
    checked = {k: _checked(k, v) for k, v in new.items() if v is not None}
    _FLAGS.update(checked)
    return orig


@contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none",
          depthwise_kernel: str = "auto") -> Iterator[None]:
    """Sets all flags for the body of a ``with`` block (torch's defaults: note ``enabled=False``)
    and restores the previous values afterwards, also when the body raises."""
    orig = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision,
                     depthwise_kernel)
    try:
        yield
    finally:
        _FLAGS.update(zip(_FLAGS, orig))


def _flag(name: str) -> property:
    def get(self):
        return _FLAGS[name]

    def set_(self, value):
        _FLAGS[name] = _checked(name, value)
    return property(get, set_, doc=f"``{name}`` (default {_FLAGS[name]!r})")


class _CudnnModule(types.ModuleType):
    """The module's class: its flags are properties, so an assignment is checked as torch checks it."""


for _name in _FLAGS:
    setattr(_CudnnModule, _name, _flag(_name))
del _name

# the flags live only in _FLAGS: module globals of the same names would hide the properties
sys.modules[__name__].__class__ = _CudnnModule
