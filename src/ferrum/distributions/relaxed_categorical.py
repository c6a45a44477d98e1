"""RelaxedOneHotCategorical (the Concrete / Gumbel-softmax distribution) and ExpRelaxedCategorical, its
log: a reparameterisable relaxation of OneHotCategorical on the simplex, ``softmax((logits + g) / T)``
for Gumbel noise ``g``."""

from __future__ import annotations

import math

import ferrum
from ferrum import Size

from . import constraints
from .categorical import Categorical, _WrapsCategorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .relaxed_bernoulli import _RelaxedParams
from .transforms import ExpTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(_WrapsCategorical, Distribution):
    """``ExpRelaxedCategorical(temperature, probs=None, logits=None)``: the log of a
    RelaxedOneHotCategorical sample; event shape ``(K,)``."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args: bool | None = None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_wrapper(ExpRelaxedCategorical, batch_shape, _instance, kept=("temperature",))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(ferrum.rand(tuple(shape), dtype=self.logits.dtype, device=self.logits.device))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value):
        K = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = ferrum.full_like(self.temperature, math.lgamma(K)) - self.temperature.log().mul(-(K - 1))
        score = logits - value.mul(self.temperature)
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_RelaxedParams, TransformedDistribution):
    """``RelaxedOneHotCategorical(temperature, probs=None, logits=None)``: exp of an
    ExpRelaxedCategorical, a point of the simplex."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args: bool | None = None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)

