"""Inverses, determinants, solvers and the Cholesky factorization (``ferrum.linalg`` and their
``torch.*`` aliases), plus the matrix functions built on them (matrix_power, matrix_exp).

Forward passes call ``np.linalg`` on the raw arrays (batched over leading dims; CuPy arrays
dispatch to ``cupy.linalg``); float16/bfloat16 are computed in float32. Backward formulas are
written with ferrum's differentiable ops, so gradients of any order work:

- inv: ``-Y^H g Y^H``; solve: ``gB = solve(A^H, g)``, ``gA = -gB X^H``; det: ``g det A^{-T}``
  (the adjugate, through the SVD, for exactly singular matrices); slogdet: ``g A^{-T}``, which at
  a singular matrix is what LU substitution gives (inf/nan, as in PyTorch) instead of an error.
- cholesky: ``sym(L^{-H} Phi(L^H gL) L^{-1})``, Phi taking the lower triangle with half diagonal.

A singular matrix is found the way LAPACK's getrf finds it (the first exactly zero pivot of an LU
factorization with partial pivoting), so ``inv_ex(...).info`` and the messages name the same
diagonal element as PyTorch. Non-finite input is passed to LAPACK only where it returns (LU,
Cholesky); a matrix with a NaN gives a NaN inverse, as in PyTorch.

Differences from PyTorch: the gradient of ``det`` at an exactly singular matrix is the adjugate
(PyTorch returns 0 there); the sign of a complex ``slogdet`` is in the graph but passes no
gradient (the sign of a real one is piecewise constant, as in PyTorch).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record, sum_to
from ._common import same_device, xp_of
from ._linalg_common import (LinAlgError, _back, _batch_index, _batch_prefix, _check, _check_matrix, _conj,
                             _const_like, _DecompNode, _eye, _lapack_error, _mH, _np_dtype_ok,
                             _real_dtype, _record_multi, _tname)
from .elementwise import _write_out, where
from .matmul import matmul
from ._autocast import autocast_op

__all__ = ["inv", "inv_ex", "det", "slogdet", "logdet", "inverse", "solve", "solve_ex", "solve_triangular",
           "cholesky", "cholesky_ex", "cholesky_solve", "cholesky_inverse", "torch_cholesky", "matrix_power",
           "linalg_matrix_power", "matrix_exp"]

SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
InvExResult = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = collections.namedtuple("linalg_solve_ex", ["result", "info"])


# --------------------------------------------------------------------------- LU (the singular cases)
def _getrf(m):
    """LU factorization with partial pivoting of one square matrix, as LAPACK's getrf does it:
    returns (LU packed in one array, row order, info) where info is the 1-based index of the first
    exactly zero pivot (0 when there is none); a zero column is skipped, not an error."""
    lu = np.array(m, dtype=np.result_type(m.dtype, np.float32))
    n = lu.shape[0]
    perm = np.arange(n)
    info = 0
    with np.errstate(all="ignore"):
        for j in range(n):
            p = j + int(np.argmax(np.abs(lu[j:, j])))
            if lu[p, j] != 0:
                if p != j:
                    lu[[j, p]] = lu[[p, j]]
                    perm[[j, p]] = perm[[p, j]]
                lu[j + 1:, j] /= lu[j, j]
            elif info == 0:
                info = j + 1
            lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    return lu, perm, info


def _singular_info(m) -> int:
    """getrf's info of matrix ``m``: 0, or the position of the first zero pivot. A NaN anywhere
    is not a zero pivot (LAPACK carries it through), so it gives 0."""
    return _getrf(m)[2]


def _lu_inverse(m):
    """The inverse of ``m`` by LU substitution, never raising: a zero pivot divides by zero
    (inf/nan entries), which is what PyTorch's getri-based inverse gives there."""
    lu, perm, _ = _getrf(m)
    n = lu.shape[0]
    x = np.eye(n, dtype=lu.dtype)[perm]
    with np.errstate(all="ignore"):
        for j in range(n):                      # L y = P e (unit lower)
            x[j + 1:] -= np.outer(lu[j + 1:, j], x[j])
        for j in range(n - 1, -1, -1):          # U x = y
            x[j] /= lu[j, j]
            x[:j] -= np.outer(lu[:j, j], x[j])
    return x.astype(m.dtype, copy=False)


def _inv_array(d, op: str, check: bool):
    """inv of the batch ``d``; a singular matrix raises (``check``) or gets LU's inf/nan, a matrix
    with a NaN gets a NaN inverse (as in PyTorch, where LAPACK does not stop on it)."""
    dd = _np_dtype_ok(d)
    try:
        r = np.linalg.inv(dd)
    except np.linalg.LinAlgError:
        pass
    else:
        nan = _nan_matrices(d)
        if nan is not None:  # LAPACK may leave finite entries in the inverse of such a matrix
            r = np.where(nan[..., None, None], np.nan, r)
        return _back(r, d)
    batch = d.shape[:-2]
    res = np.empty(dd.shape, dd.dtype)
    for idx in _batch_index(batch):
        m = dd[idx]
        if np.isnan(m).any():
            res[idx] = np.nan
            continue
        try:
            res[idx] = np.linalg.inv(m)
        except np.linalg.LinAlgError:
            if check:
                raise LinAlgError(f"{op}: {_batch_prefix(idx, batch)}The diagonal element "
                                  f"{_singular_info(m)} is zero, the inversion could not be completed "
                                  "because the input matrix is singular.") from None
            res[idx] = _lu_inverse(m)
    return _back(res, d)


# --------------------------------------------------------------------------- inv, det, slogdet
class LinalgInvExBackward0(Node):
    def backward_t(self, g, Y):
        Yh = _mH(Y)
        return (-matmul(matmul(Yh, g), Yh),)


@autocast_op("linalg_inv")
def inv(A: Tensor, *, out=None) -> Tensor:
    """Inverse of a batch of square matrices; LinAlgError (a RuntimeError) if one is singular."""
    if out is not None:
        return _write_out(out, inv(A))
    _check_matrix(A, "linalg.inv")
    return record(_inv_array(A._data, "linalg.inv", True), LinalgInvExBackward0, (A,), save_output=True)


def _inv_unchecked(A: Tensor) -> Tensor:
    """Differentiable inverse that gives LU's inf/nan for a singular matrix instead of raising
    (what backward formulas at a singular point need)."""
    return record(_inv_array(A._data, "linalg.inv", False), LinalgInvExBackward0, (A,), save_output=True)


@autocast_op("linalg_inv_ex")
def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): info is 0 where the inversion succeeded, else the (1-based) position of
    the first zero pivot of the LU factorization, as LAPACK reports it."""
    _check_matrix(A, "linalg.inv_ex")
    if check_errors:
        return InvExResult(inv(A), _const_like(A, np.zeros(A._data.shape[:-2], np.int32)))
    d = A._data
    info = np.zeros(d.shape[:-2], np.int32)
    try:
        np.linalg.inv(_np_dtype_ok(d))
    except np.linalg.LinAlgError:
        dd = _np_dtype_ok(d)
        for idx in _batch_index(d.shape[:-2]):
            info[idx] = _singular_info(dd[idx])
    return InvExResult(_inv_unchecked(A), _const_like(A, info))


class LinalgDetBackward0(Node):
    def backward_t(self, g, A, det):
        d = A._data
        gd = (g * _conj(det)).unsqueeze(-1).unsqueeze(-1)
        if not np.isfinite(d).all():  # never the adjugate's SVD (it loops on inf): LU's inf/nan
            return (gd * _mH(_inv_unchecked(A)),)
        try:
            np.linalg.inv(d)
            ok = True
        except np.linalg.LinAlgError:
            ok = False
        if ok:
            return (gd * _mH(inv(A)),)
        return (gd * 0 + g.unsqueeze(-1).unsqueeze(-1) * _const_like(g, _adjugate_t(d)),)


def _adjugate_t(d):
    """adj(A)^T (the gradient of det) through the SVD: valid for singular matrices too."""
    u, s, vh = np.linalg.svd(d)
    # p_i = prod_{j != i} s_j, without dividing by s_i: products from the left times from the right
    one = np.ones_like(s[..., :1])
    left = np.cumprod(np.concatenate([one, s[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([one, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    p = left * right
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (u * p[..., None, :]) @ vh * sign[..., None, None]


def det(A: Tensor, *, out=None) -> Tensor:
    """Determinant of a batch of square matrices."""
    if out is not None:
        return _write_out(out, det(A))
    _check_matrix(A, "linalg.det")
    d = A._data
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.asarray(np.linalg.det(_np_dtype_ok(d)))
    nan = _nan_matrices(d)
    if nan is not None:  # LAPACK's LU can step around a NaN and report 0
        r = np.where(nan, np.nan, r)
    return record(_back(r, d), LinalgDetBackward0, (A,), save=(A,), save_output=True)


def _nan_matrices(d):
    """Boolean array over the batch: the matrices with a NaN (None when there is none)."""
    if d.size == 0 or not np.isnan(d).any():
        return None
    return np.isnan(d).any(axis=(-2, -1))


class LinalgSlogdetBackward0(_DecompNode):
    def grad(self, A, outs, grads):
        gsign, glog = grads
        if glog is None:  # the sign of a real determinant is piecewise constant
            return None
        return glog.unsqueeze(-1).unsqueeze(-1) * _mH(_inv_unchecked(A))


def slogdet(A: Tensor, *, out=None):
    """(sign, log|det|) of a batch of square matrices: sign 0 and -inf for a singular one."""
    _check_matrix(A, "linalg.slogdet")
    d = A._data
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        sign, logabs = np.linalg.slogdet(_np_dtype_ok(d))
    nan = _nan_matrices(d)
    if nan is not None:  # as PyTorch: sign 0, log|det| NaN
        sign = np.where(nan, 0, sign)
        logabs = np.where(nan, np.nan, logabs)
    sign = _back(np.asarray(sign), d)
    logabs = np.asarray(logabs).astype(_real_dtype(d.dtype), copy=False)
    return SlogdetResult(*_record_multi((sign, logabs), LinalgSlogdetBackward0, A))


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): nan for a negative determinant, -inf for a zero one."""
    sign, logabs = slogdet(input)
    return where(sign < 0, math.nan, logabs) if input._data.dtype.kind != "c" else logabs + sign.log()


@autocast_op("inverse")
def inverse(input: Tensor, *, out=None) -> Tensor:
    """``torch.inverse``: :func:`inv`."""
    return inv(input, out=out)


# --------------------------------------------------------------------------- solve
class LinalgSolveBackward0(Node):
    def backward_t(self, g, A, X):
        gB = _solve(_mH(A), g)
        gA = None
        if self.next[0] is not None:
            gA = sum_to(-matmul(gB, _mH(X)), self.sa)
        return gA, (sum_to(gB, self.sb) if self.next[1] is not None else None)


def _solve(A: Tensor, B: Tensor) -> Tensor:
    """A X = B for matrices B (batch dims broadcast)."""
    ad, bd = A._data, B._data
    try:
        r = np.linalg.solve(_np_dtype_ok(ad), _np_dtype_ok(bd))
    except np.linalg.LinAlgError:
        r = _solve_singular(ad, bd)
    else:
        nan = _nan_matrices(ad)
        if nan is not None:  # all NaN, as in PyTorch (LAPACK may leave finite entries)
            r = np.where(nan[..., None, None], np.nan, r)
    return record(_back(r, ad), LinalgSolveBackward0, (A, B), save=(A,), save_output=True, sa=ad.shape,
                  sb=bd.shape)


def _solve_singular(ad, bd):
    """solve for a batch where LAPACK refused a matrix: one with a NaN gives NaN (as in PyTorch),
    an exactly singular one raises."""
    batch = np.broadcast_shapes(ad.shape[:-2], bd.shape[:-2])
    a = np.broadcast_to(_np_dtype_ok(ad), batch + ad.shape[-2:])
    b = np.broadcast_to(_np_dtype_ok(bd), batch + bd.shape[-2:])
    res = np.empty(batch + bd.shape[-2:], np.result_type(a.dtype, b.dtype))
    for idx in _batch_index(batch):
        if np.isnan(a[idx]).any():
            res[idx] = np.nan
            continue
        try:
            res[idx] = np.linalg.solve(a[idx], b[idx])
        except np.linalg.LinAlgError:
            raise LinAlgError(f"linalg.solve: {_batch_prefix(idx, batch)}The solver failed because the "
                              "input matrix is singular.") from None
    return res


@autocast_op("linalg_solve")
def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` when ``left=False``). ``B`` of shape ``(*, n)`` with
    the batch of ``A`` (or 1-D) is a batch of vectors; otherwise ``(*, n, k)``. Batch dims
    broadcast."""
    if out is not None:
        return _write_out(out, solve(A, B, left=left))
    op = "linalg.solve"
    _check_matrix(A, op)
    _check(B, op, "B")
    same_device(op, A, B)
    ad, bd = A._data, B._data
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{_tname(ad.dtype)} and B of type {_tname(bd.dtype)} instead")
    n = ad.shape[-1]
    vector = bd.ndim == 1 or (bd.ndim == ad.ndim - 1 and bd.shape == ad.shape[:-1])
    if vector:
        if not left or bd.shape[-1] != n:
            raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                               f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {bd.shape[-1]}x1)")
        return _solve(A, B.unsqueeze(-1)).squeeze(-1)
    return _solve_matrices(A, B, left, op)


def _solve_matrices(A: Tensor, B: Tensor, left: bool, op: str) -> Tensor:
    """solve for a batch of matrices ``B`` (``(*, n, k)``), batch dims broadcasting."""
    ad, bd = A._data, B._data
    n = ad.shape[-1]
    if bd.ndim < 2 or (left and bd.shape[-2] != n) or (not left and bd.shape[-1] != n):
        shp = "x".join(str(s) for s in bd.shape[-2:])
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {shp})")
    try:
        np.broadcast_shapes(ad.shape[:-2], bd.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of A {list(ad.shape[:-2])} and B {list(bd.shape[:-2])} "
                           "do not broadcast") from None
    if left:
        return _solve(A, B)
    return _solve(A.transpose(-2, -1), B.transpose(-2, -1)).transpose(-2, -1)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """(result, info) version of :func:`solve`."""
    X = solve(A, B, left=left)
    return SolveExResult(X, _const_like(A, np.zeros(A._data.shape[:-2], np.int32)))


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out=None) -> Tensor:
    """Solves a triangular system; only the triangle of ``A`` named by ``upper`` is read."""
    if out is not None:
        return _write_out(out, solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular))
    op = "linalg.solve_triangular"
    _check_matrix(A, op)
    n = A._data.shape[-1]
    mask = np.triu(np.ones((n, n)), 1 if unitriangular else 0) if upper else \
        np.tril(np.ones((n, n)), -1 if unitriangular else 0)
    T = where(_const_like(A, mask.astype(bool)), A, 0.0)
    if unitriangular:
        T = T + _eye(A, n)
    _check(B, op, "B")
    bd = B._data
    if bd.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if A._data.dtype != bd.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{_tname(A._data.dtype)} and B of type {_tname(bd.dtype)} instead")
    if (bd.shape[-2] if left else bd.shape[-1]) != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {bd.shape[-2]}x{bd.shape[-1]})")
    if left:
        return _solve(T, B)
    return _solve(T.transpose(-2, -1), B.transpose(-2, -1)).transpose(-2, -1)


# --------------------------------------------------------------------------- cholesky
class LinalgCholeskyExBackward0(Node):
    def backward_t(self, g, L):
        if self.upper:  # the output is U = L^H
            L = _mH(L)
            g = _mH(g)
        n = L._data.shape[-1]
        phi = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
        P = matmul(_mH(L), g) * _const_like(g, phi.astype(g._data.dtype))
        Lh = _mH(L)
        X = _solve(Lh, P)                 # L^{-H} P
        S = _mH(_solve(Lh, _mH(X)))        # L^{-H} P L^{-1}
        return ((S + _mH(S)) * 0.5,)


def _mH_array(d):
    d = d.swapaxes(-1, -2)
    return np.conj(d) if d.dtype.kind == "c" else d


def _pd_order(m) -> int:
    """The order of the first leading minor of ``m`` that is not positive-definite."""
    for k in range(1, m.shape[-1] + 1):
        try:
            np.linalg.cholesky(m[:k, :k])
        except np.linalg.LinAlgError:
            return k
    return m.shape[-1]


def _pd_msg(m) -> str:
    return (f"The factorization could not be completed because the input is not positive-definite (the "
            f"leading minor of order {_pd_order(m)} is not positive-definite).")


def _potf2(m):
    """What LAPACK's unblocked potf2 leaves in a matrix it fails on: the columns before the
    failing one factored, the failing diagonal entry holding its non-positive remainder, the rest
    of the lower triangle untouched (the upper triangle is zeroed, as PyTorch does)."""
    a = np.tril(np.array(m))
    n = a.shape[0]
    with np.errstate(all="ignore"):
        for j in range(n):
            ajj = a[j, j] - np.vdot(a[j, :j], a[j, :j])
            if not ajj.real > 0:
                a[j, j] = ajj
                break
            a[j, j] = np.sqrt(ajj)
            a[j + 1:, j] = (a[j + 1:, j] - a[j + 1:, :j] @ np.conj(a[j, :j])) / a[j, j]
    return a


def _cholesky_lower(d):
    """The lower factor of the matrices whose lower triangle is that of ``d``."""
    return np.linalg.cholesky(_np_dtype_ok(d))


@autocast_op("linalg_cholesky")
def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """Cholesky factor of a batch of Hermitian positive-definite matrices: lower ``L`` with
    ``A = L L^H`` reading the lower triangle of ``A``, or upper ``U`` with ``A = U^H U`` reading
    the upper triangle when ``upper``."""
    if out is not None:
        return _write_out(out, cholesky(A, upper=upper))
    _check_matrix(A, "linalg.cholesky")
    d = A._data
    src = _mH_array(d) if upper else d  # the upper triangle of A is the lower one of A^H
    try:
        r = _cholesky_lower(src)
    except np.linalg.LinAlgError:
        raise _lapack_error("linalg.cholesky", src, np.linalg.cholesky, _pd_msg) from None
    if upper:
        r = np.ascontiguousarray(_mH_array(r))
    return record(_back(r, d), LinalgCholeskyExBackward0, (A,), save_output=True, upper=upper)


@autocast_op("linalg_cholesky_ex")
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info): info is 0 on success, else the order of the failing leading minor; the factor of
    a failed matrix is what LAPACK leaves in it."""
    _check_matrix(A, "linalg.cholesky_ex")
    d = A._data
    src = _mH_array(d) if upper else d
    info = np.zeros(d.shape[:-2], np.int32)
    try:
        r = _cholesky_lower(src)
    except np.linalg.LinAlgError:
        if check_errors:
            raise _lapack_error("linalg.cholesky", src, np.linalg.cholesky, _pd_msg) from None
        s = _np_dtype_ok(src)
        r = np.zeros(s.shape, s.dtype)
        for idx in _batch_index(d.shape[:-2]):
            try:
                r[idx] = np.linalg.cholesky(s[idx])
            except np.linalg.LinAlgError:
                info[idx] = _pd_order(s[idx])
                r[idx] = _potf2(s[idx])
    if upper:
        r = np.ascontiguousarray(_mH_array(r))
    L = record(_back(r, d), LinalgCholeskyExBackward0, (A,), save_output=True, upper=upper)
    return CholeskyExResult(L, _const_like(A, info))


def _from_factor(L: Tensor, upper: bool) -> Tensor:
    Lh = _conj(L.transpose(-2, -1))  # noqa: N806
    return Lh @ L if upper else L @ Lh


@autocast_op("cholesky_solve")
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: N803
    """Solves ``A X = B`` given the Cholesky factor ``L`` of ``A`` (``(*, n, n)``); ``B`` is
    ``(*, n, k)`` and the batch dims of ``B`` and ``L`` broadcast."""
    if out is not None:
        return _write_out(out, cholesky_solve(B, L, upper))
    op = "cholesky_solve"
    _check(B, op, "input")
    _check(L, op, "input2")
    bd, ld = B._data, L._data
    for name, x in (("b", bd), ("u", ld)):
        if x.ndim < 2:
            raise RuntimeError(f"{op}: {name} should have at least 2 dimensions, but has {x.ndim} "
                               "dimensions instead")
    if bd.dtype != ld.dtype:
        raise RuntimeError(f"{op}: Expected b and A to have the same dtype, but found b of type "
                           f"{_tname(bd.dtype)} and A of type {_tname(ld.dtype)} instead.")
    if ld.shape[-1] != ld.shape[-2] or bd.shape[-2] != ld.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for {op}: each A matrix is {ld.shape[-2]} by "
                           f"{ld.shape[-1]} but each b matrix is {bd.shape[-2]} by {bd.shape[-1]}")
    same_device(op, B, L)
    return _solve_matrices(_from_factor(L, upper), B, True, op)


@autocast_op("cholesky_inverse")
def cholesky_inverse(L: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: N803
    """Inverse of ``A`` given its Cholesky factor."""
    return inv(_from_factor(L, upper), out=out)


def torch_cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky``: :func:`cholesky` with ``upper`` positional."""
    return cholesky(input, upper=upper, out=out)


# --------------------------------------------------------------------------- matrix functions
class _MatrixPower0Backward(Node, name="CopyBackwards"):
    def backward_t(self, g):
        return (_const_like(g, np.zeros(self.shape, g._data.dtype)),)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` (a batch of square matrices) to the integer power ``n`` (negative: of the inverse)."""
    _check(input, "matrix_power", "input")
    d = input._data
    if d.ndim < 2 or d.shape[-1] != d.shape[-2]:
        dims = f"{d.shape[-2]} by {d.shape[-1]}" if d.ndim >= 2 else f"{d.ndim}-D"
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{dims} matrices")
    n = int(n)
    if n == 0:
        # the identity, still part of the graph (with a zero gradient), as in PyTorch
        xp = xp_of(d)
        eye = xp.broadcast_to(xp.eye(d.shape[-1], dtype=d.dtype), d.shape).copy()
        return record(eye, _MatrixPower0Backward, (input,), shape=d.shape)
    x = input
    if n < 0:
        x = inv(input)
        n = -n
    result = None
    while True:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if not n:
            break
        x = matmul(x, x)
    return result


def linalg_matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """``linalg.matrix_power``: A to the integer power n (negative: of the inverse)."""
    if out is not None:
        return _write_out(out, matrix_power(A, n))
    return matrix_power(A, n)


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) of a batch of square matrices: scaling and squaring around a degree-18 Taylor
    polynomial, all with differentiable ops."""
    _check_matrix(A, "linalg.matrix_exp")
    d = A._data
    n = d.shape[-1]
    if n == 0 or d.size == 0:
        return A * 1
    norm1 = float(np.abs(d).sum(axis=-2).max()) if d.size else 0.0
    if not math.isfinite(norm1):  # PyTorch gives NaN for any non-finite input
        return A * math.nan
    s = max(0, int(math.ceil(math.log2(norm1 / 0.5)))) if norm1 > 0.5 else 0
    X = A / (2.0 ** s) if s else A
    eye = _eye(A, n)
    E = eye
    for k in range(18, 0, -1):
        E = eye + matmul(X, E) / k
    for _ in range(s):
        E = matmul(E, E)
    return E


# --------------------------------------------------------------------------- Tensor methods
def _attach():
    T = Tensor
    for name in ["matrix_power", "det", "logdet", "slogdet", "inverse", "cholesky_inverse",
                 "cholesky_solve", "matrix_exp"]:
        setattr(T, name, globals()[name])
    T.cholesky = torch_cholesky


_attach()
