"""``ferrum.testing.assert_close`` and ``make_tensor``, as in ``torch.testing``."""

from __future__ import annotations

import numpy as np

from ._dtype import as_dtype, from_np
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# default (rtol, atol) per dtype, as PyTorch's assert_close uses
_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
        "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _arr(x):
    if isinstance(x, Tensor):
        d = x._data
        return d if isinstance(d, np.ndarray) else d.get()
    return np.asarray(x)


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raises AssertionError unless ``actual`` and ``expected`` are close elementwise:
    |actual - expected| <= atol + rtol * |expected|, with dtype-based default tolerances."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"sequence lengths differ: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            raise AssertionError(f"dict keys differ: {sorted(actual)} != {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    a, e = _arr(actual), _arr(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                             f"{from_np(a.dtype)} != {from_np(e.dtype)}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if rtol is None:
        name = from_np(a.dtype).name if a.dtype.kind in "fc" or a.dtype.name == "bfloat16" else ""
        rtol, atol = _TOL.get(name, (0.0, 0.0))
    af = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    ef = e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
    ok = np.isclose(af, ef, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not ok.all():
        bad = int((~ok).sum())
        diff = np.abs(af - ef)
        diff = np.where(np.isnan(diff), np.inf, diff)
        i = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {a.size} "
            f"({100.0 * bad / max(a.size, 1):.1f}%)\nGreatest absolute difference: {diff[i]} at index "
            f"{tuple(int(x) for x in i)} (up to {atol} allowed)\n(rtol={rtol})"))


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, **kw) -> Tensor:
    """A tensor of the given shape filled with uniform random values in [low, high)."""
    from . import random as _r
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    d = as_dtype(dtype)
    g = _r.default_generator._np
    if d.name == "bool":
        arr = g.random(shape) < 0.5
    elif d.category == 1:
        lo = -9 if low is None else int(low)
        hi = 10 if high is None else int(high)
        lo = max(lo, 0) if d.name == "uint8" else lo
        arr = g.integers(lo, hi, shape)
    else:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        arr = g.uniform(lo, hi, shape)
    if exclude_zero:
        arr = np.where(arr == 0, 1, arr)
    from ._factory import tensor
    t = tensor(arr, dtype=d, device=device)
    if noncontiguous and t.numel() > 1:
        t = tensor(np.repeat(t._data, 2, axis=-1)[..., ::2], dtype=d, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t
