"""LKJCholesky(dim, concentration): the LKJ distribution over Cholesky factors of correlation matrices
(density of ``L L^T`` proportional to ``det^(eta - 1)``), sampled by the onion method of Lewandowski,
Kurowicka and Joe (2009): row i gets a Beta-distributed squared norm below the diagonal and a
uniform direction on the sphere, the diagonal completing the unit norm. No rsample, as in PyTorch.
"""

from __future__ import annotations

import math

import ferrum
from ferrum import Size

from . import constraints
from .dirichlet import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """``LKJCholesky(dim, concentration=1.0)``: event shape ``(dim, dim)``."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args: bool | None = None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        # row i (from 1) of the onion: squared off-diagonal norm ~ Beta(i/2, eta + (dim - 1 - i)/2)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ferrum.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = ferrum.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        with ferrum.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ferrum.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype,
                                    device=y.device).tril(-1)
            norm = u_normal.norm(dim=-1, keepdim=True)
            # row 0 is all zeros (0/0): its direction is 0
            u_hypersphere = ferrum.where(norm > 0, u_normal / ferrum.where(norm > 0, norm, 1.0), 0.0)
            w = ferrum.sqrt(y) * u_hypersphere
            eps = ferrum.finfo(w.dtype).tiny
            diag_elems = ferrum.clamp(1 - ferrum.sum(w ** 2, dim=-1), min=eps).sqrt()
            return w + ferrum.diag_embed(diag_elems)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ferrum.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ferrum.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ferrum.lgamma(alpha) * dm1
        numerator = ferrum.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
