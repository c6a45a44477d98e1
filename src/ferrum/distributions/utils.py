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

from . import constraints as _constraints

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


def _batch_shape_of(given, broadcast: Tensor):
    """``()`` when every given parameter was a Python number, else the broadcast parameters' shape."""
    return ferrum.Size() if all(isinstance(v, Number) for v in given) else broadcast.size()


class _BinaryProbs:
    """The ``probs``/``logits`` pair of the two-outcome families (Bernoulli, Binomial, Geometric,
    LogitRelaxedBernoulli): one is given, the other is computed lazily; ``_param`` is the given one."""

    def _set_binary_param(self, probs, logits, *others):
        """Stores the given parameter broadcast with ``others``; returns the broadcast others."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        *rest, param = broadcast_all(*others, value)
        setattr(self, name, param)
        self._param = param
        return rest

    def _expand_binary_param(self, new, shape) -> None:
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(shape))
                new._param = new.__dict__[name]

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()


class _LocScale:
    """The real-valued location-scale families' parameters (Normal, Laplace, Cauchy): ``loc`` real,
    ``scale`` positive, broadcast together; reparameterised sampling."""

    arg_constraints = {"loc": _constraints.real, "scale": _constraints.positive}
    support = _constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape_of([loc, scale], self.loc), validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def _expand_loc_scale(self, cls, batch_shape, _instance):
        """``expand`` for class ``cls``: expanded views of the parameters, no validation."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = ferrum.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        super(_LocScale, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new
