"""Binomial(total_count, probs | logits) and Multinomial(total_count, probs | logits).

Binomial draws come from PyTorch's binomial sampler on ferrum's PyTorch-stream generator
(``ferrum/_rng_samplers.py``: PyTorch's values for the same seed); Multinomial draws ``total_count``
categorical indices and counts them, as PyTorch does. log_prob uses lgamma for the
binomial coefficients and a form stable for large logits."""

from __future__ import annotations

import math

import numpy as np

import ferrum
from ferrum import Size
from ferrum.random import _stream

from . import constraints
from .._rng_samplers import torch_binomial
from .categorical import Categorical, _WrapsCategorical
from .distribution import Distribution
from .utils import _BinaryProbs, broadcast_all

__all__ = ["Binomial", "Multinomial"]


def _clamp_by_zero(x):
    # max(x, 0), with gradient 1/2 at 0 (as PyTorch's)
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(_BinaryProbs, Distribution):
    """``Binomial(total_count=1, probs=None, logits=None)``: successes in ``total_count`` trials."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args: bool | None = None):
        (total_count,) = self._set_binary_param(probs, logits, total_count)
        self.total_count = total_count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_binary_param(new, batch_shape)
        super(Binomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with ferrum.no_grad():
            n = np.asarray(self.total_count.expand(shape).detach().cpu()._data)
            p = np.asarray(self.probs.expand(shape).detach().cpu()._data)
            draws = torch_binomial(_stream(None), n, p).astype(p.dtype)
            return ferrum.tensor(draws, device=self._param.device)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = ferrum.lgamma(self.total_count + 1)
        log_factorial_k = ferrum.lgamma(value + 1)
        log_factorial_nmk = ferrum.lgamma(self.total_count - value + 1)
        # n log(1 + e^l) written as n max(l, 0) + n log1p(e^-|l|): finite for large |logits|
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * ferrum.log1p(ferrum.exp(-ferrum.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ferrum.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = ferrum.arange(1 + total_count, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Multinomial(_WrapsCategorical, Distribution):
    """``Multinomial(total_count=1, probs=None, logits=None)``: category counts of ``total_count``
    categorical draws; event shape ``(K,)``. log_prob accepts any total count per value."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args: bool | None = None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_wrapper(Multinomial, batch_shape, _instance, kept=("total_count",))

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        samples = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        order = list(range(1, samples.dim())) + [0]
        samples = samples.permute(*order)
        counts = ferrum.zeros(self._extended_shape(sample_shape), dtype=samples.dtype, device=samples.device)
        counts.scatter_add_(-1, samples, ferrum.ones_like(samples))
        return counts.type_as(self.probs)

    def entropy(self):
        n = ferrum.tensor(self.total_count)  # int64; its lgamma is of the default dtype, as in PyTorch
        term1 = n * self._categorical.entropy() - ferrum.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = ferrum.exp(self._binomial.log_prob(support))
        weights = ferrum.lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum([0, -1])

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = ferrum.lgamma(value.sum(-1) + 1)
        log_factorial_xs = ferrum.lgamma(value + 1).sum(-1)
        # a zero count of an impossible category contributes 0, not 0 * -inf
        logits = ferrum.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
