"""Conversions between dtypes and devices: ``to``, ``type``, ``float()``, ``cuda()``, ... (differentiable)."""

from __future__ import annotations

import numpy as np

from .._device import as_device, device_of_array, move_array
from .._dtype import as_dtype, bfloat16, bool as bool_, complex64, complex128, float16, float32, float64, \
    from_scalar_name, int8, int16, int32, int64, type_name, uint8
from .._tensor import Tensor
from ..autograd.function import Node, record
from .elementwise import _cast

__all__ = ["to"]


class _ToDeviceBackward(Node, name="ToCopyBackward0"):
    def backward_t(self, g):
        return (_move(g, self.src),)


def _move(t: Tensor, d) -> Tensor:
    if as_device(t.device) == d:
        return t
    return record(move_array(t._data, d), _ToDeviceBackward, (t,), src=device_of_array(t._data))


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        dtype, device = other.dtype, other.device
    elif rest and not _is_dtype_like(rest[0]) and rest[0] is not None:
        device = rest.pop(0)
    elif rest and rest[0] is None:
        rest.pop(0)
    if rest and _is_dtype_like(rest[0]):
        dtype = rest.pop(0)
    if rest and isinstance(rest[0], bool):
        rest.pop(0)  # non_blocking
    if rest and isinstance(rest[0], bool):
        copy = rest.pop(0)
    if rest:
        raise TypeError(f"to() received an invalid combination of arguments: {args}")
    return dtype, device, copy


def _is_dtype_like(x) -> bool:
    from .._dtype import dtype
    if isinstance(x, dtype) or isinstance(x, np.dtype) or x in (float, int, bool, complex):
        return True
    if isinstance(x, type) and issubclass(x, np.generic):
        return True
    return type(x).__module__ == "torch" and "dtype" in type(x).__name__


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Returns this tensor with the requested dtype and/or device: ``to(dtype)``, ``to(device)``,
    ``to(device, dtype)``, ``to(other)``; ``self`` when nothing changes and ``copy`` is False."""
    dtype, device, copy = _parse_to(args, kwargs)
    t = self
    if device is not None:
        t = _move(t, as_device(device))
    if dtype is not None:
        t = _cast(t, as_dtype(dtype))
    if copy and t is self:
        t = self.clone()
    return t


def _type(self: Tensor, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the type name ('ferrum.FloatTensor'); otherwise a cast."""
    if dtype is None:
        return type_name(self.dtype, cuda=self.is_cuda)
    if isinstance(dtype, str):
        dtype = from_scalar_name(dtype) or dtype
    elif isinstance(dtype, type) and hasattr(dtype, "_dtype"):
        dtype = dtype._dtype
    return _cast(self, as_dtype(dtype))


def _caster(dt):
    def f(self, memory_format=None):
        return _cast(self, dt)
    f.__doc__ = f"``self.to({dt})``"
    return f


def _cpu(self, memory_format=None):
    """A copy in CPU memory (this tensor if it is already there)."""
    return _move(self, as_device("cpu"))


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    """A copy in CUDA memory on ``device`` (default: the current device)."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return _move(self, as_device(device))


def _type_as(self, other: Tensor) -> Tensor:
    return _cast(self, other.dtype)


def _attach():
    T = Tensor
    T.to = to
    T.type = _type
    T.float = _caster(float32)
    T.double = _caster(float64)
    T.half = _caster(float16)
    T.bfloat16 = _caster(bfloat16)
    T.long = _caster(int64)
    T.int = _caster(int32)
    T.short = _caster(int16)
    T.char = _caster(int8)
    T.byte = _caster(uint8)
    T.bool = _caster(bool_)
    T.cfloat = _caster(complex64)
    T.cdouble = _caster(complex128)
    T.cpu = _cpu
    T.cuda = _cuda
    T.type_as = _type_as
    T.pin_memory = lambda self, device=None: self
    T.share_memory_ = lambda self: self


_attach()
