"""Bernoulli distribution over ``{0, 1}``, parameterised by ``probs`` or ``logits`` (one of them; the
other is computed lazily on first read).

log_prob and entropy go through ``binary_cross_entropy_with_logits`` (stable for large logits and
differentiable in both arguments), as PyTorch does.
"""

from __future__ import annotations

import ferrum
from ferrum import Size
from ferrum.nn.functional import binary_cross_entropy_with_logits

from . import constraints
from .exp_family import ExponentialFamily
from .utils import _BinaryProbs, _batch_shape_of, broadcast_all

__all__ = ["Bernoulli"]


def _one_param(probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Bernoulli(_BinaryProbs, ExponentialFamily):
    """``Bernoulli(probs=None, logits=None)``: 1 with probability ``probs`` (``sigmoid(logits)``)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        self._set_binary_param(probs, logits)
        given = probs if probs is not None else logits
        super().__init__(_batch_shape_of([given], self._param), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(batch_shape)
        self._expand_binary_param(new, batch_shape)
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return ferrum.where(self.probs == 0.5, float("nan"), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with ferrum.no_grad():
            return ferrum.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True):
        values = ferrum.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return (ferrum.logit(self.probs),)

    def _log_normalizer(self, x):
        return ferrum.log1p(ferrum.exp(x))
