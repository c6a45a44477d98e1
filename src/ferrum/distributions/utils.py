"""Helpers the distributions share (torch.distributions.utils): parameter broadcasting, the
probability/logit conversions, the lazily computed parameter descriptor, and the small shape helpers.

Everything here is composed of ferrum's differentiable Tensor ops, so gradients flow from a
distribution's outputs (log_prob, rsample, entropy) to its parameters.
"""

from __future__ import annotations

import functools
from numbers import Number

import ferrum
from ferrum import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix", "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values) -> tuple:
    """Broadcasts tensors and Python numbers to one shape. Numbers become tensors of the first tensor's
    dtype and device (of the default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype, device = ferrum.get_default_dtype(), None
        for v in values:
            if isinstance(v, Tensor):
                dtype, device = v.dtype, v.device
                break
        values = tuple(v if isinstance(v, Tensor) else ferrum.tensor(v, dtype=dtype, device=device)
                       for v in values)
    return tuple(ferrum.broadcast_tensors(*values))


def _standard_normal(shape, dtype, device) -> Tensor:
    return ferrum.randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sums the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Logits to probabilities: sigmoid when ``is_binary``, else softmax over the last dimension."""
    if is_binary:
        return ferrum.sigmoid(logits)
    return ferrum.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamps probabilities to ``[eps, 1 - eps]`` of their dtype, so their logits are finite."""
    eps = ferrum.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities to logits (binary: ``log p - log1p(-p)``; else ``log p``), on clamped probabilities."""
    ps = clamp_probs(probs)
    if is_binary:
        return ferrum.log(ps) - ferrum.log1p(-ps)
    return ferrum.log(ps)


class lazy_property:
    """A parameter computed on first read and then stored on the instance (``Bernoulli.logits`` from
    ``probs``). Computed with grad mode on, so the stored tensor stays differentiable."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ferrum.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property is when read on the class: a property too (for documentation tools)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (below diagonal ``diag``) of the last two dims, row by row, as a vector."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    arange = ferrum.arange(n, device=mat.device)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    return mat[..., tril_mask]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of :func:`tril_matrix_to_vec`: a vector back to a lower-triangular matrix."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = ferrum.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    arange = ferrum.arange(n, device=vec.device)
    tril_mask = arange < arange.view(-1, 1) + (diag + 1)
    mat[..., tril_mask] = vec
    return mat
