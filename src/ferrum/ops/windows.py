"""Window functions for spectral analysis (``stft``'s usual windows): ``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window`` and ``kaiser_window``, torch's top-level factories.

Each follows torch's sequence of elementwise steps in the requested dtype (bin numbers, times the
angular step, cosine, scale, offset), every step and every Python scalar operand rounded to the dtype
as torch's ops round them (float16/bfloat16 steps computed in float32 and rounded, as torch's half
kernels do). Measured over lengths 0..40, periodic and symmetric: float64, float16 and bfloat16 windows
equal torch's bit for bit; float32 ones differ by at most one ulp where NumPy's cos and torch's
vectorised one round differently. ``kaiser_window`` takes NumPy's float64 ``i0`` and rounds once
(float16/bfloat16 bit-exact, float32 within 7e-7, float64 within 2e-15 of torch's). ``periodic``
windows are the first ``N`` points of the ``N + 1``-point symmetric one.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .._dtype import as_dtype, scalar_name
from .._tensor import Tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _setup(op: str, window_length, periodic, dtype, device):
    from .._factory import _xp_dt
    if not isinstance(window_length, (builtins.int, np.integer)) or isinstance(window_length, builtins.bool):
        raise TypeError(f"{op}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{op} requires non-negative window_length, got window_length={window_length}")
    xp, dt, dev = _xp_dt(dtype, device)
    if dt.kind == "c":
        raise NotImplementedError(f"{op}(): not implemented for '{scalar_name(as_dtype(dtype))}'")
    if dt.kind not in "fV":
        raise RuntimeError(f"{op} expects floating point dtypes, got: {scalar_name(as_dtype(dtype))}")
    n = builtins.int(window_length) + (1 if periodic and window_length > 1 else 0)
    return xp, dt, dev, n


def _finish(w, dt, window_length: int, requires_grad: bool, dev) -> Tensor:
    """The first ``window_length`` points (all but the last of a periodic window) in ``dt``."""
    from .._factory import _finish as finish
    return finish(w[:window_length].astype(dt), requires_grad, dev)


def _r(a, dt):
    """``a`` rounded to ``dt`` and computed on in float32 (float64 for float64): one torch step."""
    cdt = np.float64 if dt == np.float64 else np.float32
    return a.astype(dt).astype(cdt)


def _s(v: float, dt):
    """A Python scalar operand of an in-place op on a ``dt`` tensor: torch rounds it to ``dt`` first."""
    cdt = np.float64 if dt == np.float64 else np.float32
    return np.asarray(v).astype(dt).astype(cdt)[()]


def _special(xp, dt, window_length, dev, requires_grad):
    if window_length <= 1:
        from .._factory import _finish as finish
        return finish(xp.ones(window_length, dt), requires_grad, dev)
    return None


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``alpha - beta * cos(2 pi n / (N - 1))`` for ``n < N`` (``N = window_length + 1`` when periodic,
    keeping the first ``window_length`` points)."""
    return _hamming("hamming_window", window_length, periodic, alpha, beta, dtype, device, requires_grad)


def _hamming(op: str, window_length, periodic, alpha, beta, dtype, device, requires_grad) -> Tensor:
    xp, dt, dev, n = _setup(op, window_length, periodic, dtype, device)
    s = _special(xp, dt, window_length, dev, requires_grad)
    if s is not None:
        return s
    cdt = np.float64 if dt == np.float64 else np.float32
    k = xp.arange(n, dtype=cdt)
    w = _r(xp.cos(_r(k * _s(2 * math.pi / (n - 1), dt), dt)), dt)
    w = _r(_r(w * _s(-beta, dt), dt) + _s(alpha, dt), dt)
    return _finish(w, dt, window_length, requires_grad, dev)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                requires_grad: bool = False) -> Tensor:
    """``0.5 - 0.5 * cos(2 pi n / (N - 1))`` (a Hamming window with alpha = beta = 0.5)."""
    return _hamming("hann_window", window_length, periodic, 0.5, 0.5, dtype, device, requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    xp, dt, dev, n = _setup("blackman_window", window_length, periodic, dtype, device)
    s = _special(xp, dt, window_length, dev, requires_grad)
    if s is not None:
        return s
    cdt = np.float64 if dt == np.float64 else np.float32
    k = _r(xp.arange(n, dtype=cdt) * _s(math.pi / (n - 1), dt), dt)
    a = _r(_r(xp.cos(_r(k * _s(4, dt), dt)), dt) * _s(0.08, dt), dt)
    b = _r(_r(xp.cos(_r(k * _s(2, dt), dt)), dt) * _s(0.5, dt), dt)
    w = _r(_r(a - b, dt) + _s(0.42, dt), dt)
    return _finish(w, dt, window_length, requires_grad, dev)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2 n / (N - 1) - 1|``."""
    xp, dt, dev, n = _setup("bartlett_window", window_length, periodic, dtype, device)
    s = _special(xp, dt, window_length, dev, requires_grad)
    if s is not None:
        return s
    cdt = np.float64 if dt == np.float64 else np.float32
    w = _r(xp.arange(n, dtype=cdt) * _s(2.0 / (n - 1), dt), dt)
    half = ((n - 1) >> 1) + 1
    w[half:] = _r(_r(w[half:] * _s(-1, dt), dt) + _s(2, dt), dt)
    return _finish(w, dt, window_length, requires_grad, dev)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, layout=None,
                  device=None, requires_grad: bool = False) -> Tensor:
    """``I0(beta * sqrt(1 - ((n - a) / a) ** 2)) / I0(beta)`` with ``a = (N - 1) / 2`` (``I0``: the
    modified Bessel function of order 0)."""
    xp, dt, dev, n = _setup("kaiser_window", window_length, periodic, dtype, device)
    s = _special(xp, dt, window_length, dev, requires_grad)
    if s is not None:
        return s
    a = (n - 1) / 2.0
    k = xp.arange(n, dtype=np.float64)
    w = xp.i0(beta * xp.sqrt(xp.maximum(1 - ((k - a) / a) ** 2, 0.0))) / np.i0(beta)
    return _finish(w, dt, window_length, requires_grad, dev)
