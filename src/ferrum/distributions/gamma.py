"""Gamma(concentration, rate) and Chi2(df) = Gamma(df/2, 1/2).

``rsample`` draws standard gamma variates (``_standard_gamma.py``: NumPy's Marsaglia-Tsang sampler on
ferrum's generator) and divides by ``rate``; gradients reach ``concentration`` by implicit
reparameterisation and ``rate`` through the division. log_prob/entropy/cdf use ferrum's lgamma,
digamma and ``special.gammainc``.
"""

from __future__ import annotations

from numbers import Number

import ferrum
from ferrum import Size

from . import constraints
from ._standard_gamma import _standard_gamma
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma", "Chi2"]


class Gamma(ExponentialFamily):
    """``Gamma(concentration, rate)``: density ``rate^a x^(a-1) e^(-rate x) / G(a)``."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args: bool | None = None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        # the quotient may underflow to 0; clamp its value (not recorded: the gradient is the quotient's)
        value._data[...] = ferrum.clamp(value.detach(), min=ferrum.finfo(value.dtype).tiny)._data
        return value

    def log_prob(self, value):
        value = ferrum.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (ferrum.xlogy(self.concentration, self.rate) + ferrum.xlogy(self.concentration - 1, value)
                - self.rate * value - ferrum.lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - ferrum.log(self.rate) + ferrum.lgamma(self.concentration)
                + (1.0 - self.concentration) * ferrum.digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ferrum.lgamma(x + 1) + (x + 1) * ferrum.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ferrum.special.gammainc(self.concentration, self.rate * value)


class Chi2(Gamma):
    """``Chi2(df)``: the sum of ``df`` squared standard normals, ``Gamma(df / 2, 1 / 2)``."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args: bool | None = None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2
