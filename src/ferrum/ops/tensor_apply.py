"""``Tensor.apply_(callable)``: a Python function applied to every element, in place (CPU only).

torch's ``apply_`` calls the function once per element with the element as a Python number (float
for floating dtypes, int for integer ones, bool, complex) and stores each result converted to the
tensor's dtype as torch converts a Python scalar: a float result into an integer tensor is truncated
toward zero after a check of the float against the dtype's range, an int outside int64 raises
ValueError, one outside a narrower integer dtype RuntimeError (``uint8`` accepts -255..255 and
wraps the negatives, as torch's overflow rule for unsigned integers does), a bool tensor stores
``result != 0`` (complex included), a non-number raises TypeError with torch's messages. It is not
differentiable: torch refuses tensors that require grad, and so does this.

Differences from PyTorch: every result is computed before anything is written, so a function that
raises part-way leaves the tensor unchanged (torch leaves the elements already visited changed);
the version counter is bumped, so a tensor saved for a backward and then changed by ``apply_``
raises at backward instead of silently giving a wrong gradient (torch does not bump it).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from .inplace import writable

__all__: list[str] = []

_is_callable = callable     # apply_'s argument has torch's name, ``callable``


def _as_float(r: Any) -> float:
    if not hasattr(type(r), "__float__") and not hasattr(type(r), "__index__"):
        raise TypeError(f"must be real number, not {type(r).__name__}")
    return float(r)


def _as_complex(r: Any) -> complex:
    t = type(r)
    if not (hasattr(t, "__complex__") or hasattr(t, "__float__") or hasattr(t, "__index__")):
        raise TypeError(f"must be real number, not {t.__name__}")
    return complex(r)


def _int_converter(dt: np.dtype) -> Callable[[Any], int]:
    info = np.iinfo(dt)
    # torch lets an int in -max..-1 wrap into an unsigned dtype (not a float)
    lo = -int(info.max) if info.min == 0 else int(info.min)
    name = str(dt)

    def conv(r: Any) -> int:
        t = type(r)
        if hasattr(t, "__index__"):
            v = operator.index(r)
            if not -2 ** 63 <= v < 2 ** 63:
                raise ValueError("Overflow when unpacking long long")
        elif hasattr(t, "__float__"):
            f = float(r)
            if math.isnan(f) or not info.min <= f <= info.max:   # floats: the dtype's own range
                raise RuntimeError(f"value cannot be converted to type {name} without overflow")
            v = int(f)
        else:
            raise TypeError(f"'{t.__name__}' object cannot be interpreted as an integer")
        if not lo <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {name} without overflow")
        return v % (int(info.max) + 1) if v < 0 and info.min == 0 else v
    return conv


def _bool_converter(r: Any) -> bool:
    t = type(r)
    if hasattr(t, "__index__"):
        return operator.index(r) != 0
    if hasattr(t, "__float__") or hasattr(t, "__complex__"):
        return complex(r) != 0
    raise TypeError(f"'{t.__name__}' object cannot be interpreted as an integer")


def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002 (torch's name)
    """Replaces each element ``x`` of this CPU tensor by ``callable(x)`` (a Python number in, one
    out, converted to the tensor's dtype); returns ``self``. Any shape, views included (the values
    are written through the view). Slow (one Python call per element): meant for small tensors."""
    if not _is_callable(callable):
        raise TypeError(f"'{type(callable).__name__}' object is not callable")
    if self.requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() "
                           "instead.")
    a = self._data
    if a.__class__ is not np.ndarray:
        raise TypeError("apply_ is only implemented on CPU tensors")
    kind = a.dtype.kind
    if kind == "b":
        conv, vals = _bool_converter, a.ravel().tolist()
    elif kind in "iu":
        conv, vals = _int_converter(a.dtype), a.ravel().tolist()
    elif kind == "c":
        conv, vals = _as_complex, a.astype(np.complex128).ravel().tolist()
    else:  # float16/32/64 and bfloat16 arrive as Python floats (exactly)
        conv, vals = _as_float, a.astype(np.float64).ravel().tolist()
    out = [conv(callable(v)) for v in vals]
    if not out:
        return self
    if kind in "biu":       # already in range (and wrapped) for the dtype
        new = np.array(out, dtype=a.dtype)
    else:
        new = np.array(out, dtype=np.complex128 if kind == "c" else np.float64)
    with np.errstate(over="ignore", invalid="ignore"):   # 1e40 into float32 is inf, as torch stores it
        writable(self, "apply_")[...] = new.astype(a.dtype).reshape(a.shape)
    self._version[0] += 1
    return self


Tensor.apply_ = apply_
