"""Normal (Gaussian) distribution parameterised by ``loc`` and ``scale``.

``rsample`` is ``loc + scale * eps`` with ``eps`` standard normal from ferrum's generator, so
gradients reach ``loc`` and ``scale``; log_prob, cdf, icdf and entropy are ferrum Tensor formulas
(differentiable), written in PyTorch's order of operations so float32 values agree to rounding.
"""

from __future__ import annotations

import math
from numbers import Real

import ferrum
from ferrum import Size

from .exp_family import ExponentialFamily
from .utils import _LocScale, _standard_normal

__all__ = ["Normal"]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class Normal(_LocScale, ExponentialFamily):
    """``Normal(loc, scale)``: mean ``loc``, standard deviation ``scale``; batch shape is their
    broadcast shape (``()`` when both are numbers)."""

    _mean_carrier_measure = 0

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def expand(self, batch_shape, _instance=None):
        return self._expand_loc_scale(Normal, batch_shape, _instance)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with ferrum.no_grad():
            return ferrum.normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - _LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ferrum.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * ferrum.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + ferrum.log(self.scale)

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * ferrum.log(-math.pi / y)
