"""ContinuousBernoulli(probs | logits) on [0, 1] (Loaiza-Ganem and Cunningham, 2019): the density
``C(p) p^x (1-p)^(1-x)``, the properly normalised likelihood for [0, 1]-valued VAE outputs.

Near ``p = 1/2`` the closed forms of the normaliser, mean and variance divide 0 by 0, so inside
``lims`` (default (0.499, 0.501)) they are replaced by their Taylor expansions, as PyTorch does;
``rsample`` inverts the cdf at a uniform draw (reparameterised).
"""

from __future__ import annotations

import math

import ferrum
from ferrum import Size
from ferrum.nn.functional import binary_cross_entropy_with_logits

from . import constraints
from .exp_family import ExponentialFamily
from .utils import _batch_shape_of, _BinaryProbs, broadcast_all, clamp_probs, lazy_property, logits_to_probs

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(_BinaryProbs, ExponentialFamily):
    """``ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501))``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
            self._param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        given = probs if probs is not None else logits
        self._lims = lims
        super().__init__(_batch_shape_of([given], self._param), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = Size(batch_shape)
        self._expand_binary_param(new, batch_shape)
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return ferrum.where(self._outside_unstable_region(), self.probs,
                            self._lims[0] * ferrum.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """The log normalising constant ``log C(p)``."""
        cut = self._cut_probs()
        below = ferrum.where(cut <= 0.5, cut, ferrum.zeros_like(cut))
        above = ferrum.where(cut >= 0.5, cut, ferrum.ones_like(cut))
        log_norm = ferrum.log(ferrum.abs(ferrum.log1p(-cut) - ferrum.log(cut))) - ferrum.where(
            cut <= 0.5, ferrum.log1p(-2.0 * below), ferrum.log(2.0 * above - 1.0))
        x = ferrum.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ferrum.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (ferrum.log1p(-cut) - ferrum.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * ferrum.pow(x, 2)) * x
        return ferrum.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return ferrum.sqrt(self.variance)

    @property
    def variance(self):
        cut = self._cut_probs()
        vs = (cut * (cut - 1.0) / ferrum.pow(1.0 - 2.0 * cut, 2)
              + 1.0 / ferrum.pow(ferrum.log1p(-cut) - ferrum.log(cut), 2))
        x = ferrum.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ferrum.where(self._outside_unstable_region(), vs, taylor)

    def sample(self, sample_shape=Size()):
        with ferrum.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(ferrum.rand(tuple(shape), dtype=self.probs.dtype, device=self.probs.device))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (ferrum.pow(cut, value) * ferrum.pow(1.0 - cut, 1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = ferrum.where(self._outside_unstable_region(), cdfs, value)
        return ferrum.where(value <= 0.0, ferrum.zeros_like(value),
                            ferrum.where(value >= 1.0, ferrum.ones_like(value), unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inv = ((ferrum.log1p(-cut + value * (2.0 * cut - 1.0)) - ferrum.log1p(-cut))
               / (ferrum.log(cut) - ferrum.log1p(-cut)))
        return ferrum.where(self._outside_unstable_region(), inv, value)

    def entropy(self):
        log_probs0 = ferrum.log1p(-self.probs)
        log_probs1 = ferrum.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        out = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = ferrum.where(out, x, (self._lims[0] - 0.5) * ferrum.ones_like(x))
        log_norm = ferrum.log(ferrum.abs(ferrum.expm1(cut))) - ferrum.log(ferrum.abs(cut))
        taylor = 0.5 * x + ferrum.pow(x, 2) / 24.0 - ferrum.pow(x, 4) / 2880.0
        return ferrum.where(out, log_norm, taylor)
