"""Cauchy(loc, scale): the ratio of two independent standard normals, shifted and scaled. Its mean and
variance do not exist (nan and inf, as PyTorch returns); rsample is ``loc + scale * C`` with ``C`` a
standard Cauchy draw made as PyTorch's ``cauchy_`` makes it (its values for the same seed)."""

from __future__ import annotations

import math

import numpy as np

import ferrum
from ferrum import Size

from .distribution import Distribution
from .utils import _LocScale

__all__ = ["Cauchy"]


class Cauchy(_LocScale, Distribution):
    """``Cauchy(loc, scale)``: median ``loc``, half width at half maximum ``scale``."""

    def expand(self, batch_shape, _instance=None):
        return self._expand_loc_scale(Cauchy, batch_shape, _instance)

    def _full(self, v):
        return ferrum.full(self._extended_shape(), v, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mean(self):
        return self._full(math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._full(math.inf)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        # PyTorch's cauchy_: tan(pi (u - 1/2)) from a 53-bit uniform, in float64 whatever the dtype, then
        # cast. Drawn here from rand(float64) because ferrum's Tensor.cauchy_ does not follow that stream.
        u = ferrum.rand(tuple(shape), dtype=ferrum.float64)._data
        eps = ferrum.tensor(np.tan(np.pi * (u - 0.5)), device=self.loc.device).to(self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ferrum.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return ferrum.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
