"""Poisson(rate) on the non-negative integers; samples from PyTorch's Poisson sampler on ferrum's
PyTorch-stream generator (``ferrum/_rng_samplers.py``): PyTorch's draws for the same seed."""

from __future__ import annotations

import numpy as np

import ferrum
from ferrum import Size
from ferrum.random import _stream

from . import constraints
from .._rng_samplers import torch_poisson
from .exp_family import ExponentialFamily
from .utils import _batch_shape_of, broadcast_all

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    """``Poisson(rate)``: ``P(k) = rate^k e^(-rate) / k!``."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args: bool | None = None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(_batch_shape_of([rate], self.rate), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Poisson, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        # PyTorch's sampler on its stream (ferrum.poisson draws NumPy's, and fails on 0-d rates)
        rate = np.asarray(self.rate.expand(shape).detach().cpu()._data)
        return ferrum.tensor(torch_poisson(_stream(None), rate).astype(rate.dtype), device=self.rate.device)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self):
        return (ferrum.log(self.rate),)

    def _log_normalizer(self, x):
        return ferrum.exp(x)
