"""Laplace distribution with ``loc`` and ``scale``: density ``exp(-|x - loc| / scale) / (2 scale)``.

``rsample`` inverts the cdf at ``u`` uniform on ``(eps - 1, 1)`` (``eps`` of the dtype, so that
``log1p(-|u|)`` stays finite), so gradients reach both parameters.
"""

from __future__ import annotations

import ferrum
from ferrum import Size

from .distribution import Distribution
from .utils import _LocScale

__all__ = ["Laplace"]


class Laplace(_LocScale, Distribution):
    """``Laplace(loc, scale)``; variance ``2 scale^2``."""

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def expand(self, batch_shape, _instance=None):
        return self._expand_loc_scale(Laplace, batch_shape, _instance)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = ferrum.finfo(self.loc.dtype).eps
        u = ferrum.empty(shape, dtype=self.loc.dtype, device=self.loc.device).uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * ferrum.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -ferrum.log(2 * self.scale) - ferrum.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * ferrum.expm1(-(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * ferrum.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + ferrum.log(2 * self.scale)
