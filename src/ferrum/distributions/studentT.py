"""StudentT(df, loc, scale): ``loc + scale * X / sqrt(Z / df)`` with ``X`` standard normal and ``Z``
Chi2(df); rsample is reparameterised through both (Chi2's implicit gamma gradient for ``df``)."""

from __future__ import annotations

import math

import ferrum
from ferrum import Size

from . import constraints
from .distribution import Distribution
from .gamma import Chi2
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """``StudentT(df, loc=0.0, scale=1.0)``; mean ``loc`` for ``df > 1`` (else nan), variance
    ``scale^2 df / (df - 2)`` for ``df > 2`` (inf for ``1 < df <= 2``, nan below)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args: bool | None = None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = Size(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        super(StudentT, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return ferrum.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        safe_df = ferrum.where(self.df > 2, self.df, 3.0)
        v = self.scale.pow(2) * safe_df / (safe_df - 2)
        v = ferrum.where(self.df > 2, v, math.inf)
        return ferrum.where(self.df <= 1, math.nan, v)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        X = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        Z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (X * ferrum.rsqrt(Z / self.df))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + ferrum.lgamma(0.5 * self.df)
             - ferrum.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * ferrum.log1p(y ** 2.0 / self.df) - Z

    def entropy(self):
        lbeta = ferrum.lgamma(0.5 * self.df) + math.lgamma(0.5) - ferrum.lgamma(0.5 * (self.df + 1))
        return (self.scale.log() + 0.5 * (self.df + 1) * (ferrum.digamma(0.5 * (self.df + 1))
                                                          - ferrum.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
