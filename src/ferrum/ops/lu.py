"""LU factorization with partial pivoting and what is built on it: ``linalg.lu_factor``,
``lu_factor_ex``, ``lu``, ``lu_solve`` and ``torch.lu_unpack`` (torch's conventions: the
factors packed in one matrix ``LU``, 1-based int32 LAPACK pivots, ``A = P L U``).

The factorization itself is LAPACK's getrf (through SciPy, one call per matrix of the batch), so
pivots and ``info`` are LAPACK's, as in PyTorch. It is the one node of this file
(``LinalgLuFactorExBackward0``, output ``LU``); ``lu``, ``lu_unpack`` and ``lu_solve`` are
compositions of differentiable ops (tril/triu, triangular solves, matmul with the constant ``P``)
on top of it, so their gradients of any order follow.

Backward of ``A = P L U`` (``L`` m x k unit lower, ``U`` k x n upper, k = min(m, n)), with
``gL``, ``gU`` the strict lower / upper parts of the gradient of ``LU``:

- square: ``gA = P L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}``;
- wide (m < n, ``U = [U1 U2]``): ``phi = tril(L^H gL - gU2 U2^H, -1) + triu(gU1 U1^H)``,
  ``gA = P L^{-H} [phi U1^{-H}, gU2]`` (``U2 = L^{-1} P^T A2`` adds the two ``gU2`` terms);
- tall (m > n, ``L = [L1; L2]``): ``phi = tril(L1^H gL1, -1) + triu(gU U^H - L2^H gL2)``,
  ``gA = P [L1^{-H} phi; gL2] U^{-H}`` (from ``L2 = A2 U^{-1}``).

The backward is written with ferrum's differentiable ops, so double backward works. At a singular
``U`` the triangular solves give inf/nan, as in PyTorch.
"""

from __future__ import annotations

import collections

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._linalg_common import (LinAlgError, _back, _batch_index, _batch_prefix, _check, _check_matrix,
                             _const_like, _mH, _np_dtype_ok, _tname)
from .elementwise import _write_out
from .join import cat
from .matmul import matmul
from .rearrange import tril, triu
from .solve import solve_triangular

__all__ = ["lu_factor", "lu_factor_ex", "linalg_lu", "linalg_lu_solve", "lu_unpack", "lu", "lu_solve"]

LUFactorResult = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = collections.namedtuple("linalg_lu", ["P", "L", "U"])
LUUnpackResult = collections.namedtuple("lu_unpack", ["P", "L", "U"])
LUWithInfoResult = collections.namedtuple("_lu_with_info", ["LU", "pivots", "info"])


def _getrf_batch(d):
    """(LU, 1-based int32 pivots of shape (*, k), int32 info of the batch shape) of array ``d``."""
    from scipy.linalg import lapack  # on first use: SciPy's import is not free

    a = _np_dtype_ok(d)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu_out = np.empty(a.shape, a.dtype)
    piv = np.empty(batch + (k,), np.int32)
    info = np.zeros(batch, np.int32)
    if a.size == 0:
        piv[...] = np.arange(1, k + 1, dtype=np.int32)
        return _back(lu_out, d), piv, info
    getrf, = lapack.get_lapack_funcs(("getrf",), (a,))
    for idx in _batch_index(batch):
        r, p, inf = getrf(a[idx])
        lu_out[idx] = r
        piv[idx] = p[:k] + 1
        info[idx] = max(int(inf), 0)
    return _back(lu_out, d), piv, info


def _perm_matrix(piv, m: int, dtype):
    """``P`` (batch, m, m) with ``A = P L U`` from 1-based LAPACK row interchanges ``piv``."""
    batch = piv.shape[:-1]
    P = np.zeros(batch + (m, m), dtype)
    for idx in _batch_index(batch):
        perm = np.arange(m)
        for i, p in enumerate(piv[idx]):
            j = int(p) - 1
            perm[i], perm[j] = perm[j], perm[i]
        # row i of P^T A is row perm[i] of A
        P[idx + (perm, np.arange(m))] = 1
    return P


def _parts(X: Tensor):
    """(strict lower m x k, upper k x n) parts of a packed ``(*, m, n)`` matrix, differentiable."""
    m, n = X._data.shape[-2:]
    k = min(m, n)
    return tril(X[..., :, :k], -1), triu(X[..., :k, :])


def _split(LU: Tensor):
    """(L, U) of a packed ``LU`` as differentiable Tensors (L unit lower m x k, U upper k x n)."""
    m, n = LU._data.shape[-2:]
    Ls, U = _parts(LU)
    return Ls + _const_like(LU, np.eye(m, min(m, n), dtype=LU._data.dtype)), U


class LinalgLuFactorExBackward0(Node):
    def backward_t(self, g, LU):
        L, U = _split(LU)
        P = _const_like(g, self.P)
        m, n = LU._data.shape[-2:]
        gL, gU = _parts(g)
        if m == n:
            phi = tril(matmul(_mH(L), gL), -1) + triu(matmul(gU, _mH(U)))
            X = solve_triangular(_mH(L), phi, upper=True, unitriangular=True)
            return (matmul(P, solve_triangular(_mH(U), X, upper=False, left=False)),)
        if m < n:
            U1, U2, gU1, gU2 = U[..., :, :m], U[..., :, m:], gU[..., :, :m], gU[..., :, m:]
            phi = tril(matmul(_mH(L), gL) - matmul(gU2, _mH(U2)), -1) + triu(matmul(gU1, _mH(U1)))
            Y = cat([solve_triangular(_mH(U1), phi, upper=False, left=False), gU2], -1)
            return (matmul(P, solve_triangular(_mH(L), Y, upper=True, unitriangular=True)),)
        L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
        phi = tril(matmul(_mH(L1), gL1), -1) + triu(matmul(gU, _mH(U)) - matmul(_mH(L2), gL2))
        Y = cat([solve_triangular(_mH(L1), phi, upper=True, unitriangular=True), gL2], -2)
        return (matmul(P, solve_triangular(_mH(U), Y, upper=False, left=False)),)


def _factor(A: Tensor, pivot: bool, op: str):
    _check(A, op, "A")
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(d.shape)} instead")
    if d.dtype.kind not in "fc" or d.dtype.itemsize < 4:  # torch has no LU for (b)float16 either
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_tname(d.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_arr, piv, info = _getrf_batch(d)
    P = _perm_matrix(piv, d.shape[-2], d.dtype)
    LU = record(lu_arr, LinalgLuFactorExBackward0, (A,), save_output=True, P=P)
    return LU, piv, info, P


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """``(LU, pivots, info)`` of ``A`` (``(*, m, n)``): ``LU`` ``(*, m, n)`` packs ``L`` (strict
    lower, unit diagonal implied) and ``U``; ``pivots`` ``(*, min(m, n))`` int32, 1-based;
    ``info`` ``(*)`` int32, LAPACK's (the 1-based index of the first zero pivot, or 0)."""
    LU, piv, info, _ = _factor(A, pivot, "linalg.lu_factor_ex")
    if check_errors:
        _raise_info(info, "torch.linalg.lu_factor_ex")
    res = LUFactorExResult(LU, _const_like(A, piv), _const_like(A, info))
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return LUFactorExResult(*out)
    return res


def _raise_info(info, op: str) -> None:
    if not info.any():
        return
    batch = info.shape
    idx = next(i for i in _batch_index(batch) if info[i])
    i = int(info[idx])
    raise LinAlgError(f"{op}: {_batch_prefix(idx, batch)}U[{i},{i}] is zero and using it on lu_solve would "
                      "result in a division by zero. If you still want to perform the factorization, "
                      "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """``(LU, pivots)`` of ``A`` (see :func:`lu_factor_ex`); raises when a pivot is exactly zero."""
    LU, piv, info, _ = _factor(A, pivot, "linalg.lu_factor")
    _raise_info(info, "torch.linalg.lu_factor")
    res = LUFactorResult(LU, _const_like(A, piv))
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return LUFactorResult(*out)
    return res


def linalg_lu(A: Tensor, *, pivot: bool = True, out=None):
    """``(P, L, U)`` with ``A = P L U``: ``P`` ``(*, m, m)``, ``L`` ``(*, m, k)`` unit lower,
    ``U`` ``(*, k, n)`` upper, k = min(m, n). Singular matrices do not raise."""
    LU, _, _, P = _factor(A, pivot, "linalg.lu")
    L, U = _split(LU)
    res = LUResult(_const_like(A, P), L, U)
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return LUResult(*out)
    return res


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True,  # noqa: N803
              *, out=None):
    """``(P, L, U)`` from the output of :func:`lu_factor`; ``L``/``U`` (resp. ``P``) are empty
    when ``unpack_data`` (resp. ``unpack_pivots``) is False."""
    _check(LU_data, "torch.lu_unpack", "LU_data")
    _check(LU_pivots, "torch.lu_unpack", "LU_pivots")
    d, pd = LU_data._data, LU_pivots._data
    if d.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(d.shape)} instead")
    if pd.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                           "dtype.\nNote: this function is intended to be used with the output produced by "
                           "torch.linalg.lu_factor")
    m, n = d.shape[-2:]
    k = min(m, n)
    if pd.shape[-1:] != (k,) or pd.shape[:-1] != d.shape[:-2]:
        raise RuntimeError(f"torch.lu_unpack: Expected LU_pivots of shape {list(d.shape[:-2]) + [k]}, got "
                           f"{list(pd.shape)}")
    empty = _const_like(LU_data, np.zeros((0,), d.dtype))
    if unpack_pivots:
        if pd.size and (pd.min() < 1 or pd.max() > m):
            raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive."
                               "Did you properly pass the result of lu_factor?")
        P = _const_like(LU_data, _perm_matrix(pd, m, d.dtype))
    else:
        P = empty
    L, U = _split(LU_data) if unpack_data else (empty, empty)
    res = LUUnpackResult(P, L, U)
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return LUUnpackResult(*out)
    return res


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,  # noqa: N803
                    out=None) -> Tensor:
    """Solves ``A X = B`` (``X A = B`` when not ``left``; with ``A^H`` when ``adjoint``) given
    ``(LU, pivots)`` of ``A`` from :func:`lu_factor`. ``LU`` ``(*, n, n)``, ``B`` ``(*, n, k)``
    (``(*, k, n)`` when not ``left``); batch dims broadcast."""
    if out is not None:
        return _write_out(out, linalg_lu_solve(LU, pivots, B, left=left, adjoint=adjoint))
    op = "linalg.lu_solve"
    _check(B, op, "B")
    _check(pivots, op, "pivots")
    _check_matrix(LU, "torch.linalg.lu_solve")
    d, bd, pd = LU._data, B._data, pivots._data
    if bd.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    n = d.shape[-1]
    if (bd.shape[-2] if left else bd.shape[-1]) != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {bd.shape[-2]}x{bd.shape[-1]})")
    if d.dtype != bd.dtype:
        raise RuntimeError(f"{op}: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_tname(d.dtype)} and B of type {_tname(bd.dtype)} instead")
    if pd.dtype != np.int32:
        raise RuntimeError(f"{op}: pivots should be a Tensor of scalar type torch.int32")
    if pd.ndim < 1 or pd.shape[-1] != n:
        raise RuntimeError(f"{op}: Number of pivots per batch should be same as the dimension of the matrix")
    if pd.shape[:-1] != d.shape[:-2]:
        raise RuntimeError(f"{op}: Expected LU.shape[:-2] == pivots.shape[:-1], but got LU.shape = "
                           f"{list(d.shape)} and pivots.shape = {list(pd.shape)}")
    P = _const_like(LU, _perm_matrix(pd, n, d.dtype))
    L, U = _split(LU)
    Pt = P.transpose(-2, -1)
    if left and not adjoint:    # X = U^{-1} L^{-1} P^T B
        Y = solve_triangular(L, matmul(Pt, B), upper=False, unitriangular=True)
        return solve_triangular(U, Y, upper=True)
    if left:                    # A^H X = B: X = P L^{-H} U^{-H} B
        Y = solve_triangular(_mH(U), B, upper=False)
        return matmul(P, solve_triangular(_mH(L), Y, upper=True, unitriangular=True))
    if not adjoint:             # X A = B: X = B U^{-1} L^{-1} P^T
        Y = solve_triangular(U, B, upper=True, left=False)
        return matmul(solve_triangular(L, Y, upper=False, left=False, unitriangular=True), Pt)
    # X A^H = B: X = B P L^{-H} U^{-H}
    Y = solve_triangular(_mH(L), matmul(B, P), upper=True, left=False, unitriangular=True)
    return solve_triangular(_mH(U), Y, upper=False, left=False)


# --------------------------------------------------------------------------- torch's deprecated forms
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """``torch.lu`` (deprecated in PyTorch for :func:`lu_factor`): ``(LU, pivots)``, or
    ``(LU, pivots, info)`` with ``get_infos``; never raises for a singular matrix, as PyTorch."""
    LU, piv, info, _ = _factor(A, pivot, "torch.lu")
    res = LUWithInfoResult(LU, _const_like(A, piv), _const_like(A, info))
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        res = LUWithInfoResult(*out) if get_infos else LUWithInfoResult(*out, None)
    return res if get_infos else (res.LU, res.pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """``torch.lu_solve`` (deprecated in PyTorch): :func:`linalg_lu_solve` with ``b`` first."""
    return linalg_lu_solve(LU_data, LU_pivots, b, out=out)


def _attach():
    Tensor.lu = lu
    Tensor.lu_solve = lu_solve


_attach()
