"""GeneralizedPareto(loc, scale, concentration): the tail model of extreme-value theory (Exponential
at concentration 0, Pareto above, bounded support below 0). Sampling inverts the cdf at a uniform
draw (reparameterised); concentration within ``isclose`` of 0 takes the exponential limit.

Differences from PyTorch: torch 2.13's log_prob/log_survival_function/cdf compare the concentration
with a float32 zero, so for float64 parameters they raise "Double did not match Float"; here they
compare with a zero of the parameter's dtype and return the float64 values (SciPy's genpareto in the
tests). A program torch runs gets the same results.
"""

from __future__ import annotations

import math
from numbers import Real

import ferrum
from ferrum import Size

from . import constraints
from .distribution import Distribution
from .utils import _batch_shape_of, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """``GeneralizedPareto(loc, scale, concentration)``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(_batch_shape_of([loc, scale, concentration], self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(ferrum.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device))

    def _safe_concentration(self):
        eq_zero = ferrum.isclose(self.concentration, ferrum.zeros_like(self.concentration))
        return eq_zero, ferrum.where(eq_zero, ferrum.ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ferrum.ones_like(z)
        where_nonzero = ferrum.where(y == 0, y, y * ferrum.log1p(safe_conc * z))
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -log_scale - ferrum.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        return ferrum.where(eq_zero, -z, -ferrum.log1p(safe_conc * z) / safe_conc)

    def log_cdf(self, value):
        return ferrum.log1p(-ferrum.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ferrum.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero = ferrum.isclose(self.concentration, ferrum.zeros_like(self.concentration))
        safe_conc = ferrum.where(eq_zero, ferrum.ones_like(self.concentration), self.concentration)
        logu = ferrum.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ferrum.expm1(-safe_conc * logu)
        return ferrum.where(eq_zero, self.loc - self.scale * logu, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = ferrum.where(valid, self.concentration, 0.5)
        return ferrum.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = ferrum.where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ferrum.where(valid, result, math.nan)

    def entropy(self):
        return ferrum.broadcast_to(ferrum.log(self.scale) + self.concentration + 1, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ferrum.where(self.concentration < 0, lower - self.scale / self.concentration, math.inf)
        return constraints.interval(lower, upper)
