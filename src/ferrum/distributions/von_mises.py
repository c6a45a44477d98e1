"""VonMises(loc, concentration): the circular normal distribution on angles (values and ``loc`` any
real, read modulo 2 pi).

The normaliser needs ``log I0(kappa)`` (and the circular variance ``I1/I0``): the polynomial
approximations of Abramowitz and Stegun 9.8.1-9.8.4 (relative error below 1e-7), the ones PyTorch
evaluates, so log_prob matches it to rounding. Sampling is Best and Fisher's (1979) rejection
sampler in float64 (as PyTorch, in double to avoid a hang at small concentration) on uniforms from
ferrum's PyTorch-stream generator, round by round as PyTorch draws them, cast to the parameters'
dtype; there is no rsample.
"""

from __future__ import annotations

import math

import numpy as np

import ferrum
from ferrum import Size

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]

# Abramowitz & Stegun 9.8.1-9.8.4: I0, I1 for x < 3.75 (in (x/3.75)^2) and x >= 3.75 (in 3.75/x)
_I0_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
             -0.1647633e-1, 0.392377e-2]
_I1_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
             -0.2895312e-1, 0.1787654e-1, -0.420059e-2]


def _eval_poly(y, coef):
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_modified_bessel_fn(x, order: int = 0):
    """``log I_order(x)`` for ``x > 0`` and order 0 or 1 (differentiable Tensor formula)."""
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1, got {order}")
    y = x / 3.75
    small = _eval_poly(y * y, _I1_SMALL if order else _I0_SMALL)
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _I1_LARGE if order else _I0_LARGE).log()
    return ferrum.where(x < 3.75, small, large)


def _rejection_sample(loc, concentration, proposal_r, shape):
    """Best-Fisher rejection sampling of ``shape`` in float64, PyTorch's way: each round draws three
    float64 uniforms for every element (``rand((3,) + shape)``, so the draws are PyTorch's) and
    every element accepted in a round takes that round's value, until all have been accepted once."""
    loc, kappa, r = (np.broadcast_to(a, shape) for a in (loc, concentration, proposal_r))
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        while not done.all():
            u1, u2, u3 = ferrum.rand((3,) + tuple(shape), dtype=ferrum.float64)._data
            z = np.cos(np.pi * u1)
            f = (1 + r * z) / (r + z)
            c = kappa * (r - f)
            accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
            if accept.any():
                x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(f), x)
                done |= accept
    return np.mod(x + np.pi + loc, 2 * np.pi) - np.pi


class VonMises(Distribution):
    """``VonMises(loc, concentration)``; mean and variance are the circular ones."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args: bool | None = None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * ferrum.cos(value - self.loc)
        return log_prob - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.detach().cpu()._data.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            r = (1 + rho ** 2) / (2 * rho)
            return np.where(kappa < 1e-5, 1 / kappa + kappa, r)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        loc = self.loc.detach().cpu()._data.astype(np.float64)
        kappa = self.concentration.detach().cpu()._data.astype(np.float64)
        x = _rejection_sample(loc, kappa, self._proposal_r, shape)
        return ferrum.tensor(x.astype(self.loc._data.dtype), device=self.loc.device)

    def expand(self, batch_shape, _instance=None):
        try:
            return super().expand(batch_shape)
        except NotImplementedError:
            validate_args = self.__dict__.get("_validate_args")
            return type(self)(self.loc.expand(batch_shape), self.concentration.expand(batch_shape),
                              validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1)
                    - _log_modified_bessel_fn(self.concentration, order=0)).exp()
