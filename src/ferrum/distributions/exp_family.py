"""ExponentialFamily: distributions with density ``exp(<t(x), theta> - F(theta) + k(x))``.

A subclass gives its natural parameters ``theta`` (``_natural_params``), the log normaliser ``F``
(``_log_normalizer``) and the carrier measure's mean ``E[k(x)]`` (``_mean_carrier_measure``); the
entropy then follows from the Bregman divergence of ``F``, computed with ferrum's autograd (the
gradient of ``F`` is the mean of ``t(x)``), and ``kl.py`` uses the same to give KL between two
members of one family that have no closed form registered.
"""

from __future__ import annotations

import ferrum

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of the exponential-family distributions."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """``F(theta) - <theta, grad F(theta)> - E[k(x)]``, with the gradient from autograd (so it is
        itself differentiable in the parameters)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ferrum.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
