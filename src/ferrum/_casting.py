"""Array dtype casts with one defined rule for floating -> integer.

NumPy's ``astype`` from a floating type to an integer type is C's conversion, which is undefined
for values out of the target's range and for nan/inf: the result depends on the NumPy and ml_dtypes
versions (ml_dtypes 0.7 saturates bfloat16 -> uint8, float32 wraps) and on the CPU's vector
instructions. ferrum does not go through that conversion. ``cast_array`` implements, for every
floating source (float16, bfloat16, float32, float64; complex sources use their real part, as
PyTorch does) and every integer target, the result PyTorch 2.13 gives on x86:

1. truncate toward zero (in float64, which holds every value of the narrower floats exactly);
2. an integral value outside the intermediate integer's range, or nan/+-inf, becomes that
   intermediate's minimum (x86's "integer indefinite"); the intermediate is int64 for int64
   targets and int32 for narrower ones (PyTorch converts to ``int`` first, then narrows);
3. wrap modulo 2**bits into the target (two's complement).

So ``-1.7 -> uint8`` is 255, ``300.5 -> int8`` is 44, ``nan``/``inf`` give 0 for 8/16-bit targets
and the minimum for int32/int64. A bool target is ``x != 0`` (nan is True). Every other pair of
dtypes is NumPy's cast, which is defined (integer narrowing wraps; floating narrowing rounds),
except that a nan cast to bfloat16 is the positive nan, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cast_array"]

_I32_MIN = float(-2**31)
_I32_END = float(2**31)
_I64_MIN = float(-2**63)
_I64_END = float(2**63)
_I64 = np.dtype(np.int64)


def _float_kind(dt: np.dtype) -> bool:
    return dt.kind == "f" or dt.name == "bfloat16"


def cast_array(a, dtype):
    """``a`` (a NumPy or CuPy array) converted to ``dtype``, always a new array; floating ->
    integer follows the rule in the module docstring on every library version and CPU."""
    dt = np.dtype(dtype)
    src = a.dtype
    if dt.kind not in "iub" or src.kind not in "fcV" or (src.kind == "V" and src.name != "bfloat16"):
        with np.errstate(over="ignore", invalid="ignore"):  # float narrowing overflows to inf, as torch
            r = a.astype(dt)
        if dt.name == "bfloat16" and src.kind == "f" and np.isnan(np.add.reduce(a, axis=None)):
            # PyTorch's bfloat16 conversion gives the positive quiet nan for every nan (the sign
            # bit of -nan is dropped); ml_dtypes keeps it. The sum of the source (0.1 ns/element,
            # against 1 for isnan on the bfloat16 result) is nan whenever an element is
            nan = np.isnan(r)
            if nan.any():
                r[nan] = np.abs(r[nan])
        return r
    if src.kind == "c":
        a = a.real
        src = a.dtype
    if dt.kind == "b":
        return a != 0
    f = a if src == np.float64 else a.astype(np.float64)
    t = np.trunc(f)
    if dt.itemsize == 8:
        ok = (t >= _I64_MIN) & (t < _I64_END)  # False for nan
        return np.where(ok, t, _I64_MIN).astype(np.int64)  # every value exact and in range
    ok = (t >= _I32_MIN) & (t < _I32_END)
    i = np.where(ok, t, _I32_MIN).astype(np.int64)
    if dt.itemsize == 4 and dt.kind == "i":
        return i.astype(dt)  # in int32's range already
    bits = dt.itemsize * 8
    mask = (1 << bits) - 1
    np.bitwise_and(i, mask, out=i)  # now in [0, 2**bits)
    if dt.kind == "i":
        half = 1 << (bits - 1)
        i = np.where(i >= half, i - (1 << bits), i)
    return i.astype(dt)  # every value in the target's range: an exact conversion
