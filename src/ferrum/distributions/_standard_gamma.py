"""``_standard_gamma(alpha)``: Gamma(alpha, 1) draws with implicit reparameterisation gradients (the
op behind Gamma/Chi2/Beta/Dirichlet ``rsample``; PyTorch's ``torch._standard_gamma``).

Sampling: PyTorch's own CPU sampler on ferrum's PyTorch-stream generator (``ferrum/_rng_samplers.py``),
so the draws are PyTorch's for the same seed; cast to the dtype and clamped at its ``tiny`` (a NaN
to ``tiny`` as well, as C++'s ``max(min, x)`` does), so that logs of samples stay finite.

Gradient (implicit reparameterisation, Figurnov et al. 2018): holding the sample's quantile
``u = P(alpha, x)`` fixed, ``dx/dalpha = -(dP/dalpha) / p(x; alpha)`` with ``P`` the regularised lower
incomplete gamma function and ``p`` the density. From the series ``P = sum_n x^(a+n) e^-x / G(a+n+1)``,
differentiated term by term, the ``e^-x`` cancels against the density and

    dx/da = -x * sum_n [x^n G(a) / G(a+n+1)] * (log x - digamma(a+n+1)),

summed in float64 until the terms (ratio ``x/(a+n+1)``) are negligible. For ``a > 1e4`` the
Wilson-Hilferty approximation ``x = a (1 - 1/(9a) + z/(3 sqrt a))^3`` is differentiated at fixed ``z``
instead (its relative error there is below 1e-6). PyTorch uses a different approximation
(accurate to about 1e-3 relative); both are the derivative of the same quantile map, and the tests
compare this one with finite differences of SciPy's ``gammaincinv``, to 1e-6.

The gradient itself is not differentiable (as in PyTorch, whose ``_standard_gamma_grad`` has no
derivative): a second backward through it raises RuntimeError.
"""

from __future__ import annotations

import numpy as np

import ferrum
from ferrum.autograd.function import Node, record
from ferrum.random import _stream

from .._rng_samplers import torch_standard_gamma

__all__ = ["_standard_gamma"]

_MAX_TERMS = 20000
_ASYMPTOTIC_ALPHA = 1e4


def _series_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    from scipy import special as sc  # on first use: SciPy costs ~100 ms of import time

    logx = np.log(x)
    logc = logx - np.log(a)            # log of x * G(a) / G(a+1)
    psi = sc.digamma(a + 1.0)
    total = np.exp(logc) * (logx - psi)
    scale = np.abs(total)
    n_needed = int(min(_MAX_TERMS, np.max(np.maximum(x - a, 0.0) + 12.0 * np.sqrt(x + a) + 40.0)))
    for n in range(1, n_needed):
        an = a + n
        logc = logc + logx - np.log(an)
        psi = psi + 1.0 / an
        term = np.exp(logc) * (logx - psi)
        total += term
        scale = np.maximum(scale, np.abs(term))
        if n > 8 and np.all(np.abs(term) <= 1e-17 * np.maximum(np.abs(total), 1e-300)):
            break
    return -total


def _wilson_hilferty_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    c = 1.0 / (9.0 * a)
    s = np.cbrt(x / a)
    z = (s - 1.0 + c) / np.sqrt(c)
    # x = a * s^3 with s = 1 - c + z sqrt(c); ds/da at fixed z = (1/(9a^2)) - z sqrt(c)/(2a)
    ds = c / a - z * np.sqrt(c) / (2.0 * a)
    return s ** 3 + 3.0 * a * s ** 2 * ds


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dx/dalpha`` of Gamma(alpha, 1) samples ``x`` at fixed quantile (float64 arrays)."""
    a = np.asarray(alpha, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    a, x = np.broadcast_arrays(a, x)
    out = np.empty(a.shape, dtype=np.float64)
    big = a > _ASYMPTOTIC_ALPHA
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        if big.any():
            out[big] = _wilson_hilferty_grad(a[big], x[big])
        small = ~big
        if small.any():
            out[small] = _series_grad(a[small], x[small])
    return out


class _StandardGammaGradBackward(Node, name="StandardGammaGradBackward0"):
    def backward_t(self, g):
        raise RuntimeError("the derivative for '_standard_gamma_grad' is not implemented.")


def _grad_tensor(alpha, x):
    """The gradient as a Tensor whose own backward raises (PyTorch has no second derivative here)."""
    d = standard_gamma_grad(np.asarray(alpha.detach().cpu()._data), np.asarray(x.cpu()._data))
    d = ferrum.tensor(d, dtype=alpha.dtype, device=alpha.device)._data
    return record(d, _StandardGammaGradBackward, (alpha,))


class _StandardGammaBackward(Node, name="StandardGammaBackward0"):
    def backward_t(self, g, alpha, x):
        return (g * _grad_tensor(alpha, x.detach()),)


def _clamped(x64: np.ndarray, dtype) -> np.ndarray:
    """``max(tiny, x)`` in ``dtype``, NaN included (C++'s ``std::max(min, nan)`` is ``min``)."""
    x = x64.astype(dtype)
    tiny = np.finfo(dtype).tiny
    return np.where(x > tiny, x, tiny).astype(dtype)


def _standard_gamma(alpha):
    """Gamma(alpha, 1) samples of alpha's shape and dtype, differentiable in alpha."""
    a = np.asarray(alpha.detach().cpu()._data)
    draws = _clamped(torch_standard_gamma(_stream(None), a, a.dtype != np.float64), a.dtype)
    data = ferrum.tensor(draws, device=alpha.device)._data if alpha.device.type != "cpu" else draws
    return record(data, _StandardGammaBackward, (alpha,), save=(alpha,), save_output=True)


class _DirichletBackward(Node, name="_DirichletBackward"):
    def backward_t(self, g, alpha, gam, x):
        # x = gam / S: dx_k/dalpha_i = (delta_ki - x_k) (dgam_i/dalpha_i) / S, gam drawn at fixed quantile
        total = gam.sum(-1, keepdim=True)
        return (_grad_tensor(alpha, gam) / total * (g - (g * x).sum(-1, keepdim=True)),)


def _sample_dirichlet(alpha):
    """Dirichlet(alpha) samples (alpha: (..., K)) as PyTorch draws them: Gamma(alpha_i, 1) in float64
    (PyTorch's double kernel, whatever the dtype), normalised in float64, cast, and clamped into
    ``[tiny, 1)``; differentiable in alpha through the implicit gamma gradients."""
    a = np.asarray(alpha.detach().cpu()._data)
    g64 = _clamped(torch_standard_gamma(_stream(None), a, False), np.float64)
    x = (g64 / g64.sum(-1, keepdims=True)).astype(a.dtype)
    top = np.nextafter(np.array(1.0, dtype=a.dtype), np.array(0.0, dtype=a.dtype))
    x = np.where(x > np.finfo(a.dtype).tiny, x, np.finfo(a.dtype).tiny)
    x = np.where(x < top, x, top).astype(a.dtype)
    gam = ferrum.tensor(g64.astype(a.dtype), device=alpha.device)
    data = ferrum.tensor(x, device=alpha.device)._data if alpha.device.type != "cpu" else x
    return record(data, _DirichletBackward, (alpha,), save=(alpha, gam), save_output=True)
