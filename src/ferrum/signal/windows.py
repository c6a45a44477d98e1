"""``ferrum.signal.windows``: torch.signal.windows' window functions (SciPy's names and arguments).

These are torch's second family of windows, distinct from the top-level factories of
``ops/windows.py`` (``hann_window`` & co., whose ``periodic=`` and formulas follow torch's C++
kernels): here ``M`` points, ``sym=True`` for a symmetric (filter-design) window and ``sym=False``
for a periodic (spectral-analysis) one, float32/float64 only, and each window is the same
composition of public ops torch 2.13 evaluates (``linspace`` of the sample positions, then ``abs``,
``sin``, ``exp``, ``cos``, a weighted ``sum``, ``i0``), written with ferrum's ops: so the values are
torch's up to the rounding of those ops (``ferrum.linspace`` is within 1 ulp of torch's), and with
``requires_grad=True`` the positions are a leaf that requires grad and the window carries a
``grad_fn``, as torch's does. ``M`` of 0 or 1 gives an empty tensor or ``[1.]`` (a leaf).

Differences from PyTorch: ``layout`` is accepted and ignored (ferrum tensors are strided).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import _factory
from .._dtype import float32, float64, get_default_dtype
from .._tensor import Tensor
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import cos, exp, minimum, sin, sqrt

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _check(name: str, M: int, dtype, layout) -> object:
    dtype = get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if dtype not in (float32, float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _trivial(M: int, dtype, device, requires_grad: bool, one: bool = True) -> Tensor | None:
    """The empty window (M == 0) and, where torch special-cases it, ``[1.]`` (M == 1)."""
    if M == 0:
        return _factory.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1 and one:
        return _factory.ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def _positions(start, end, M: int, dtype, device, requires_grad: bool) -> Tensor:
    return _factory.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |k|``, ``k`` from -1 in steps of ``2 / (M - 1)`` (``2 / M``
    when not ``sym``). Shape (M,)."""
    dtype = _check("bartlett", M, dtype, layout)
    t = _trivial(M, dtype, device, requires_grad)
    if t is not None:
        return t
    step = 2 / (M - 1 if sym else M)
    k = _positions(-1, -1 + (M - 1) * step, M, dtype, device, requires_grad)
    return 1 - _abs(k)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """The sine window ``sin(pi (n + 1/2) / M)`` (``M + 1`` in place of ``M`` when not ``sym`` and
    M > 1). Shape (M,)."""
    dtype = _check("cosine", M, dtype, layout)
    t = _trivial(M, dtype, device, requires_grad, one=False)
    if t is not None:
        return t
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return sin(_positions(0.5 * step, (0.5 + (M - 1)) * step, M, dtype, device, requires_grad))


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype=None,
                layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``exp(-|n - center| / tau)``; ``center`` defaults to the middle (it must be None when ``sym``).
    ValueError for ``tau <= 0``. Shape (M,)."""
    dtype = _check("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    t = _trivial(M, dtype, device, requires_grad, one=False)
    if t is not None:
        return t
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    inv = 1 / tau
    k = _positions(-center * inv, (-center + (M - 1)) * inv, M, dtype, device, requires_grad)
    return exp(-_abs(k))


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``exp(-(n - c)^2 / (2 std^2))`` around the middle ``c``. ValueError for ``std <= 0``. Shape (M,)."""
    dtype = _check("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    t = _trivial(M, dtype, device, requires_grad, one=False)
    if t is not None:
        return t
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    inv = 1 / (std * math.sqrt(2))
    k = _positions(start * inv, (start + (M - 1)) * inv, M, dtype, device, requires_grad)
    return exp(-(k ** 2))


def general_cosine(M: int, *, a: Iterable[float], sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """``sum_i (-1)^i a[i] cos(i 2 pi n / (M - 1))`` (``M`` in place of ``M - 1`` when not ``sym``).
    TypeError when ``a`` is not iterable, ValueError when it is empty. Shape (M,)."""
    dtype = _check("general_cosine", M, dtype, layout)
    t = _trivial(M, dtype, device, requires_grad)
    if t is not None:
        return t
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    step = 2 * math.pi / (M - 1 if sym else M)
    k = _positions(0, (M - 1) * step, M, dtype, device, requires_grad)
    coef = _factory.tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, device=device,
                           requires_grad=requires_grad)
    i = _factory.arange(coef.shape[0], dtype=dtype, device=device, requires_grad=requires_grad)
    return (coef.unsqueeze(-1) * cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """``alpha - (1 - alpha) cos(2 pi n / (M - 1))``: :func:`general_cosine` with ``[alpha, 1 - alpha]``."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """:func:`general_hamming` with alpha 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """:func:`general_hamming` with alpha 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """:func:`general_cosine` with ``[0.42, 0.5, 0.08]``."""
    dtype = _check("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """:func:`general_cosine` with Nuttall's four coefficients (minimum 4-term Blackman-Harris)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """``I0(sqrt(beta^2 - k^2)) / I0(beta)``, ``k`` from -beta to beta (ending short of beta by one
    step when not ``sym``). ValueError for ``beta < 0``. Shape (M,)."""
    from ..ops.special_fn import i0
    dtype = _check("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    t = _trivial(M, dtype, device, requires_grad)
    if t is not None:
        return t
    b = _factory.tensor(beta, dtype=dtype, device=device)     # beta in the window's dtype, as torch
    start = -b
    step = 2.0 * b / (M - 1 if sym else M)
    k = _positions(start, minimum(b, start + (M - 1) * step), M, dtype, device, requires_grad)
    return i0(sqrt(b * b - k ** 2)) / i0(b)
