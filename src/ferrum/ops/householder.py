"""Householder reflectors: ``linalg.householder_product`` (alias ``torch.orgqr``), ``torch.ormqr``
(a product with the full Q, formed by householder_product) and ``torch.geqrf``, the pair LAPACK's
QR is made of (``Q = householder_product(*geqrf(A))``).

``householder_product`` is composed of ferrum's differentiable ops, one rank-1 update per
reflector applied from the last to the first (``E <- E - tau_i v_i (v_i^H E)``, starting from the
first n columns of the identity), so gradients wrt ``A`` and ``tau`` of any order follow; only the
entries of ``A`` strictly below the diagonal of its first k columns are read (the others get a zero
gradient, as in PyTorch). The cost is k matrix-vector products per matrix, which for the small
matrices parametrizations use is below the price of a LAPACK round trip through Python.

``geqrf`` is LAPACK's, through ``numpy.linalg.qr(mode="raw")`` (batched); as in PyTorch it has no
derivative: backward through it raises NotImplementedError.
"""

from __future__ import annotations

import collections

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._linalg_common import _back, _check, _conj, _const_like, _np_dtype_ok, _tname
from .elementwise import _write_out
from .join import cat
from .matmul import matmul
from .select import where

__all__ = ["householder_product", "orgqr", "ormqr", "geqrf"]

GeqrfResult = collections.namedtuple("geqrf", ["a", "tau"])


def _check_args(A: Tensor, tau: Tensor, op: str) -> None:
    _check(A, op, "input")
    _check(tau, op, "tau")
    d, td = A._data, tau._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if d.shape[-2] < d.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if td.ndim < 1 or d.shape[-1] < td.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if td.ndim - 1 != d.ndim - 2 or td.shape[:-1] != d.shape[:-2]:
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(td.shape[:-1])}")
    if td.dtype != d.dtype:
        raise RuntimeError(f"{op}: tau dtype {_tname(td.dtype)} does not match input dtype {_tname(d.dtype)}")
    if d.dtype.kind not in "fc" or d.dtype.itemsize < 4:  # no (b)float16 in torch either
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{_tname(d.dtype)}'")


class LinalgHouseholderProductBackward0(Node):
    """Only for an empty ``tau`` (the product is the identity): no gradient, as in PyTorch."""

    def backward_t(self, g):
        return None, None


def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """The first n columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H``, ``v_i`` the i-th
    column of ``A`` below the diagonal with a unit i-th entry. ``A`` (*, m, n) with m >= n,
    ``tau`` (*, k) with k <= n -> (*, m, n)."""
    if out is not None:
        return _write_out(out, householder_product(A, tau))
    _check_args(A, tau, "torch.linalg.householder_product")
    m, n = A._data.shape[-2:]
    k = tau._data.shape[-1]
    dt = A._data.dtype
    E = _const_like(A, np.broadcast_to(np.eye(m, n, dtype=dt), A._data.shape).copy())
    if k == 0:  # the identity, in the graph of A and tau but passing them no gradient, as in PyTorch
        return record(E._data, LinalgHouseholderProductBackward0, (A, tau))
    rows = np.arange(m)
    for i in range(k - 1, -1, -1):
        unit = _const_like(A, (rows == i).astype(dt))
        v = where(_const_like(A, rows > i), A[..., :, i], unit)        # (*, m)
        w = _conj(v).unsqueeze(-2) @ E                                 # (*, 1, n)
        E = E - (tau[..., i].unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1)) * w
    return E


def orgqr(input: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """``torch.orgqr``: :func:`householder_product`."""
    return householder_product(input, tau, out=out)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False, *,  # noqa: A002
          out=None) -> Tensor:
    """``Q @ other`` (``other @ Q`` when not ``left``; ``Q^H`` when ``transpose``) with ``Q`` the
    full (*, m, m) product of the Householder reflectors in ``(input, tau)`` from :func:`geqrf`;
    differentiable in all three (``Q`` is formed by :func:`householder_product`)."""
    if out is not None:
        return _write_out(out, ormqr(input, tau, other, left, transpose))
    op = "torch.ormqr"
    for t, name in ((input, "input"), (tau, "tau"), (other, "other")):
        _check(t, op, name)
    d, od = input._data, other._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if od.ndim < 2:
        raise RuntimeError(f"{op}: other must have at least 2 dimensions.")
    m = d.shape[-2]
    side = -2 if left else -1
    if od.shape[side] != m:
        raise RuntimeError(f"{op}: other.shape[{side}] must be equal to input.shape[-2]")
    k = tau._data.shape[-1] if tau._data.ndim else 0
    if k != min(od.shape[side], d.shape[-1]):
        raise RuntimeError(f"{op}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    if od.dtype != d.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but input has dtype"
                           f"{_tname(d.dtype)} and other has dtype {_tname(od.dtype)}")
    V = input[..., :, :k]
    if k < m:
        V = cat([V, _const_like(input, np.zeros(d.shape[:-1] + (m - k,), d.dtype))], -1)
    Q = householder_product(V, tau)
    if transpose:
        Q = _conj(Q.transpose(-2, -1))
    return matmul(Q, other) if left else matmul(other, Q)


class GeqrfBackward0(Node):
    def backward_t(self, g):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input: Tensor, *, out=None):
    """LAPACK's geqrf of ``input`` (*, m, n): ``a`` (*, m, n) holds R on and above the diagonal and
    the Householder vectors below it, ``tau`` (*, min(m, n)) their scales. Not differentiable."""
    _check(input, "torch.geqrf", "input")
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if d.dtype.kind not in "fc" or d.dtype.itemsize < 4:
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{_tname(d.dtype)}'")
    a = _np_dtype_ok(d)
    m, n = a.shape[-2:]
    if a.size == 0:
        h, tau = np.zeros(a.shape, a.dtype), np.zeros(a.shape[:-2] + (min(m, n),), a.dtype)
    else:
        h, tau = np.linalg.qr(a, mode="raw")
        h = np.ascontiguousarray(np.swapaxes(h, -1, -2))
    res = GeqrfResult(record(_back(h, d), GeqrfBackward0, (input,)),
                      record(_back(np.ascontiguousarray(tau), d), GeqrfBackward0, (input,)))
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return GeqrfResult(*out)
    return res


def _attach():
    Tensor.geqrf = geqrf
    Tensor.orgqr = orgqr
    Tensor.ormqr = ormqr


_attach()
