"""NegativeBinomial(total_count, probs | logits): successes before ``total_count`` failures (real
``total_count`` allowed). Sampled as a Gamma-Poisson mixture with PyTorch's samplers (its draws)."""

from __future__ import annotations

import numpy as np

import ferrum
from ferrum import Size
from ferrum.nn.functional import logsigmoid
from ferrum.random import _stream

from . import constraints
from .._rng_samplers import torch_poisson
from .distribution import Distribution
from .gamma import Gamma
from .utils import _BinaryProbs, lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(_BinaryProbs, Distribution):
    """``NegativeBinomial(total_count, probs=None, logits=None)``; ``probs`` is the success probability."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args: bool | None = None):
        (total_count,) = self._set_binary_param(probs, logits, total_count)
        self.total_count = total_count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_binary_param(new, batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.total_count * ferrum.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / ferrum.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=ferrum.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape=Size()):
        with ferrum.no_grad():
            rate = np.asarray(self._gamma.sample(sample_shape=sample_shape).cpu()._data)
            draws = torch_poisson(_stream(None), rate).astype(rate.dtype)
            return ferrum.tensor(draws, device=self._param.device)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_normalization = (-ferrum.lgamma(self.total_count + value) + ferrum.lgamma(1.0 + value)
                             + ferrum.lgamma(self.total_count))
        # total_count + value == 0: the single outcome has probability 1
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
