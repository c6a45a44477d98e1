"""``nn.utils.parametrizations``: weight_norm, spectral_norm and orthogonal as parametrizations
(nn.utils.parametrize), the forms torch recommends over the hook-based ones in ``weight_norm.py``.

- ``weight_norm``: ``weight = g * v / ||v||`` with ``g`` and ``v`` stored as
  ``parametrizations.weight.original0`` / ``original1`` (torch 2.13's names); a load-state-dict
  pre-hook renames the old ``weight_g`` / ``weight_v`` keys.
- ``spectral_norm``: ``weight / sigma`` with sigma estimated by power iteration; the vectors are
  the buffers ``parametrizations.weight.0._u`` / ``_v``, updated in place (under no_grad) on each
  access in training mode, 15 iterations at construction, as torch.
- ``orthogonal``: a (batch of) matrix mapped onto the orthogonal / unitary matrices by the matrix
  exponential or the Cayley map of its skew part, or by a product of Householder reflectors;
  ``use_trivialization`` keeps a ``base`` buffer that assignment updates (dynamic trivialization).

The Householder map uses the public ``linalg.householder_product`` and ``geqrf``
(ops/householder.py; ``geqrf`` is needed only under no_grad, by ``right_inverse``).
"""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ... import _factory
from ...random import randn
from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import no_grad
from ...ops.householder import geqrf, householder_product
from ...ops.join import cat
from ...ops.matmul import mv, vdot
from ...ops.nn_misc import normalize
from ...ops.solve import matrix_exp, solve
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize
from .weight_norm import norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# --------------------------------------------------------------------------- Householder helpers
def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of ``A = QR`` (A tall) with ``diag(R)`` real and non-negative."""
    a = np.asarray(A.detach()._data)
    q, r = np.linalg.qr(a)
    d = np.diagonal(r, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(d == 0, 0, d / np.abs(d)) if np.iscomplexobj(d) else np.sign(d)
    return _wrap(np.ascontiguousarray(q * s[..., None, :]).astype(a.dtype, copy=False))


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    q = np.asarray(Q.detach()._data)
    eps = 10.0 * n * np.finfo(q.dtype).eps
    prod = np.conj(np.swapaxes(q, -1, -2)) @ q
    return bool(np.allclose(prod, np.eye(k, dtype=q.dtype), rtol=1e-5, atol=eps))


# --------------------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is now tall (n >= k)
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                z = _factory.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype, device=X.device)
                X = cat([X, z], dim=-1)
            A = X - X.mH                                          # skew-symmetric / skew-hermitian
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:                                                 # (I + A/2)(I - A/2)^{-1}
                eye = _factory.eye(n, dtype=A.dtype, device=A.device)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # the diagonal of X holds the signs (+-1); int() so that it gets no gradient, as torch
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when use_trivialization=False.")
            A, tau = geqrf(Q)
            a = A._data
            d = np.sign(np.diagonal(a, axis1=-2, axis2=-1))
            # LAPACK returns tau == 0 exactly where it skips a reflection: flip that sign
            d = np.where(tau._data == 0.0, -d, d)
            idx = np.arange(min(a.shape[-2], a.shape[-1]))
            a[..., idx, idx] = d
            return A.mT if transpose else A
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:
            N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        # -Id, so that householder(zeros) == eye: the diagonal carries the signs
        neg_id = _factory.zeros_like(Q_init)
        a = neg_id._data
        idx = np.arange(min(a.shape[-2], a.shape[-1]))
        a[..., idx, idx] = -1.0
        return neg_id


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrizes ``module.<name>`` (a matrix or batch of matrices, (*, n, k)) to be orthogonal
    (unitary): ``Qᴴ Q = I`` if n >= k, else ``Q Qᴴ = I``. ``orthogonal_map``: "matrix_exp",
    "cayley" or "householder" (default: matrix_exp for square or complex, householder otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.size(-2) == weight.size(-1) or weight.is_complex()
                          else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# --------------------------------------------------------------------------- weight_norm
class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """``weight = g * v / ||v||`` (norm over every dim but ``dim``; ``dim=None``: over all), with
    g = ``parametrizations.<name>.original0`` and v = ``original1``."""
    _weight_norm = _WeightNorm(dim)
    parametrize.register_parametrization(module, name, _weight_norm, unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# --------------------------------------------------------------------------- spectral_norm
class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] "
                             f"but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            kw = {"dtype": weight_mat.dtype, "device": weight_mat.device}
            self.register_buffer("_u", normalize(randn(h, **kw), dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(randn(w, **kw), dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # in place on the buffers, so that a DataParallel replica and the state dict see the update
        with no_grad():
            for _ in range(n_power_iterations):
                normalize(mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
                normalize(mv(weight_mat.mH, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = vdot(u, mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """``weight / sigma(weight)``, sigma the largest singular value of the weight reshaped to a
    matrix around ``dim`` (default 0, 1 for ConvTranspose), estimated by power iteration."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
