"""``ferrum.linalg``: norms, decompositions, inverses and solvers, following ``torch.linalg``.

Forward passes call ``np.linalg`` on the raw arrays (batched over leading dims; CuPy arrays
dispatch to ``cupy.linalg``). Backward formulas are written with ferrum's differentiable ops, so
gradients of any order work:

- inv: ``-Y^H g Y^H``; solve: ``gB = solve(A^H, g)``, ``gA = -gB X^H``; det: ``g det A^{-T}``
  (the adjugate, through the SVD, for exactly singular matrices); slogdet: ``g A^{-T}``.
- cholesky: ``sym(L^{-H} Phi(L^H gL) L^{-1})``, Phi taking the lower triangle with half diagonal.
- qr (reduced, or complete with m <= n), eigh and svd (reduced): the usual formulas; eigh and svd
  need distinct eigen/singular values, and the loss must not depend on the sign (phase) of the
  vectors, as in PyTorch.
- vector norms: the gradient is 0 where the norm is 0 (not NaN); for inf/-inf it is shared
  equally among the tied entries, as in PyTorch.

Differences from PyTorch: the gradient of ``det`` at an exactly singular matrix is the adjugate
(PyTorch returns 0 there); svd/eigh/qr gradients are for real inputs only.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from ._dtype import as_dtype
from ._tensor import Tensor, _wrap
from .autograd.function import Function, Node, record, sum_to
from .ops._common import canon_dim, same_device
from .ops.elementwise import _cast, _write_out, where
from .ops.linalg import _check, _conj, _const_like, _cross_impl, _tname, matmul
from .ops.linalg import matrix_power as _matrix_power
from .ops.reduce import _vector_norm_data

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "det", "slogdet", "inv", "inv_ex", "solve",
    "solve_ex", "solve_triangular", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd",
    "svdvals", "pinv", "matrix_rank", "lstsq", "cond", "matrix_exp", "matrix_power", "matmul",
    "cross", "vecdot", "multi_dot", "diagonal",
]


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed (singular or not positive-definite input)."""


SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])
EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = collections.namedtuple("svd", ["U", "S", "V"])
LstsqResult = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
InvExResult = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = collections.namedtuple("linalg_solve_ex", ["result", "info"])

_INF = math.inf


# --------------------------------------------------------------------------- checks and helpers
def _check_float(A: Tensor, op: str) -> None:
    if A._data.dtype.kind not in "fc" and A.dtype.category < 2:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_tname(A._data.dtype)}")


def _check_matrix(A, op: str, square: bool = True) -> Tensor:
    _check(A, op, "A")
    _check_float(A, op)
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {d.shape[-2]} by "
                           f"{d.shape[-1]} matrices")
    return A


def _np_dtype_ok(d):
    """Arrays LAPACK takes: float16/bfloat16 are computed in float32."""
    if (d.dtype.kind == "f" and d.dtype.itemsize < 4) or d.dtype.kind == "V" or d.dtype.name == "bfloat16":
        return d.astype(np.float32)
    return d


def _back(r, like):
    """Result ``r`` in the dtype of input array ``like`` (undoes _np_dtype_ok's upcast)."""
    return r.astype(like.dtype) if r.dtype != like.dtype else r


def _real_dtype(dt):
    return np.dtype(np.float64 if dt == np.complex128 else np.float32) if dt.kind == "c" else dt


def _mH(x: Tensor) -> Tensor:
    """Conjugate transpose of the last two dims."""
    return _conj(x.transpose(-2, -1))


def _eye(like: Tensor, n: int) -> Tensor:
    return _const_like(like, np.eye(n, dtype=like._data.dtype))


def _batch_index(shape) -> list:
    return list(np.ndindex(*shape)) if shape else [()]


def _lapack_error(op: str, d, fn, what: str) -> LinAlgError:
    """The error for a failed factorization, naming the first failing batch element."""
    batch = d.shape[:-2]
    for idx in _batch_index(batch):
        try:
            fn(d[idx])
        except np.linalg.LinAlgError:
            prefix = f"(Batch element {np.ravel_multi_index(idx, batch) if batch else 0}): " if batch else ""
            return LinAlgError(f"{op}: {prefix}{what(d[idx])}")
    return LinAlgError(f"{op}: {what(d)}")


def _singular_msg(m) -> str:
    return "The diagonal element is zero, the inversion could not be completed because the input " \
        "matrix is singular."


def _pd_order(m) -> int:
    """The order of the first leading minor of ``m`` that is not positive-definite."""
    for k in range(1, m.shape[-1] + 1):
        try:
            np.linalg.cholesky(m[:k, :k])
        except np.linalg.LinAlgError:
            return k
    return m.shape[-1]


def _pd_msg(m) -> str:
    k = _pd_order(m)
    return (f"The factorization could not be completed because the input is not positive-definite (the "
            f"leading minor of order {k} is not positive-definite).")


# --------------------------------------------------------------------------- vector and matrix norms
def _norm_dims(dim, ndim: int, op: str) -> tuple:
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        ds = tuple(canon_dim(d, ndim, op) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
        return tuple(sorted(ds))
    return (canon_dim(dim, ndim, op),)


class LinalgVectorNormBackward0(Node):
    def backward_t(self, g, x, out):
        p = self.ord
        if p == 0:
            return (None,)
        if not self.keepdim:
            g = g.reshape(self.kshape)
            out = out.reshape(self.kshape)
        sg = _sgn(x)
        if p == 2:
            safe = where(out == 0, 1.0, out)
            return (g * x / safe,)
        if p == 1:
            return (g * sg,)
        xd = np.abs(x._data)
        od = out._data
        if math.isinf(p):
            mask = (xd == od)
            share = mask / np.maximum(mask.sum(axis=self.axes, keepdims=True), 1)
            return (g * sg * _const_like(g, share.astype(xd.dtype)),)
        ax = x.abs()
        ax = where(ax == 0, 1.0, ax)
        safe = where(out == 0, 1.0, out)
        r = g * sg * (ax / safe) ** (p - 1)
        if p < 0:
            r = r * _const_like(g, (od != 0).astype(xd.dtype))
        return (r,)


def _sgn(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "c":
        a = x.abs()
        return x / where(a == 0, 1.0, a)
    return x.sign()


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None): ``sum(|x|^ord)^(1/ord)``;
    inf / -inf give max / min ``|x|``, 0 counts the nonzeros. Complex inputs give real norms."""
    if out is not None:
        return _write_out(out, vector_norm(x, ord, dim, keepdim, dtype=dtype))
    _check(x, "linalg.vector_norm", "x")
    _check_float(x, "linalg.vector_norm")
    if dtype is not None:
        x = _cast(x, as_dtype(dtype))
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    p = float(ord)
    d = x._data
    axes = _norm_dims(dim, d.ndim, "linalg.vector_norm")
    r = _vector_norm_data(d, p, axes, keepdim, "linalg.vector_norm")
    kshape = tuple(1 if i in axes else s for i, s in enumerate(d.shape))
    return record(r, LinalgVectorNormBackward0, (x,), save=(x,), save_output=True, ord=p, axes=axes,
                  keepdim=keepdim, kshape=kshape)


def _to_end(A: Tensor, d0: int, d1: int) -> Tensor:
    """A with dims d0, d1 moved to the end (in that order)."""
    nd = A._data.ndim
    if (d0, d1) == (nd - 2, nd - 1):
        return A
    perm = [i for i in range(nd) if i not in (d0, d1)] + [d0, d1]
    return A.permute(perm)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf / -inf (max / min row sum of |A|),
    1 / -1 (max / min column sum), 2 / -2 (largest / smallest singular value)."""
    if out is not None:
        return _write_out(out, matrix_norm(A, ord, dim, keepdim, dtype=dtype))
    op = "linalg.matrix_norm"
    _check(A, op, "A")
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    _check_float(A, op)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        got = " ".join(str(x) for x in dim) if isinstance(dim, (tuple, list)) else dim
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {got}")
    nd = A._data.ndim
    d0, d1 = canon_dim(dim[0], nd, op), canon_dim(dim[1], nd, op)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = _cast(A, as_dtype(dtype))
    kshape = tuple(1 if i in (d0, d1) else s for i, s in enumerate(A._data.shape))
    oshape = kshape if keepdim else tuple(s for i, s in enumerate(A._data.shape) if i not in (d0, d1))
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(_to_end(A, d0, d1))
        if ord == "nuc":
            r = s.sum(-1)
        else:
            r = vector_norm(s, _INF if ord == 2 else -_INF, -1)
        return r.reshape(oshape)
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = vector_norm(A, 1, inner, keepdim=True)
        r = vector_norm(sums, _INF if ord > 0 else -_INF, outer, keepdim=True)
        return r.reshape(oshape)
    raise RuntimeError(f"{op}: Order {ord} not supported.")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Vector or matrix norm: a matrix norm when ``dim`` is a 2-tuple (or when ``ord`` is given and
    ``A`` is 2-D), else a vector norm (over all elements when ``dim`` and ``ord`` are None)."""
    if out is not None:
        return _write_out(out, norm(A, ord, dim, keepdim, dtype=dtype))
    _check(A, "linalg.norm", "A")
    if dim is not None:
        if isinstance(dim, (int, np.integer)) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    nd = A._data.ndim
    if nd not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {nd}D.")
    if nd == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (0, 1), keepdim, dtype=dtype)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """Condition number ``norm(A, p) * norm(inv(A), p)`` (the ratio of extreme singular values for
    p = None, 2 or -2)."""
    if out is not None:
        return _write_out(out, cond(A, p))
    _check_matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        big = vector_norm(s, _INF, -1)
        small = vector_norm(s, -_INF, -1)
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# --------------------------------------------------------------------------- inv, det, slogdet
class LinalgInvExBackward0(Node):
    def backward_t(self, g, Y):
        Yh = _mH(Y)
        return (-matmul(matmul(Yh, g), Yh),)


def inv(A: Tensor, *, out=None) -> Tensor:
    """Inverse of a batch of square matrices; LinAlgError (a RuntimeError) if one is singular."""
    if out is not None:
        return _write_out(out, inv(A))
    _check_matrix(A, "linalg.inv")
    d = A._data
    try:
        r = np.linalg.inv(_np_dtype_ok(d))
    except np.linalg.LinAlgError:
        raise _lapack_error("linalg.inv", d, np.linalg.inv, _singular_msg) from None
    return record(_back(r, d), LinalgInvExBackward0, (A,), save_output=True)


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): info is 0 where the inversion succeeded (the inverse is NaN elsewhere)."""
    _check_matrix(A, "linalg.inv_ex")
    try:
        r = inv(A)
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        d = A._data
        res = np.full(d.shape, np.nan, d.dtype)
        info = np.zeros(d.shape[:-2], np.int32)
        for idx in _batch_index(d.shape[:-2]):
            try:
                res[idx] = np.linalg.inv(d[idx])
            except np.linalg.LinAlgError:
                info[idx] = 1
        r = _wrap(res)
    return InvExResult(r, _const_like(A, info))


class LinalgDetBackward0(Node):
    def backward_t(self, g, A, det):
        d = A._data
        try:
            np.linalg.inv(d)
            ok = True
        except np.linalg.LinAlgError:
            ok = False
        gd = (g * _conj(det)).unsqueeze(-1).unsqueeze(-1)
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
    r = np.asarray(np.linalg.det(_np_dtype_ok(d)))
    return record(_back(r, d), LinalgDetBackward0, (A,), save=(A,), save_output=True)


class LinalgSlogdetBackward0(Node):
    def backward_t(self, g, A):
        return (g.unsqueeze(-1).unsqueeze(-1) * _mH(inv(A)),)


def slogdet(A: Tensor, *, out=None):
    """(sign, log|det|) of a batch of square matrices: sign 0 and -inf for a singular one."""
    _check_matrix(A, "linalg.slogdet")
    d = A._data
    sign, logabs = np.linalg.slogdet(_np_dtype_ok(d))
    sign = _const_like(A, _back(np.asarray(sign), d))
    real = _real_dtype(d.dtype)
    logabs = record(np.asarray(logabs).astype(real, copy=False), LinalgSlogdetBackward0, (A,), save=(A,))
    return SlogdetResult(sign, logabs)


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
        raise LinAlgError("linalg.solve: The solver failed because the input matrix is singular.") from None
    return record(_back(r, ad), LinalgSolveBackward0, (A, B), save=(A,), save_output=True, sa=ad.shape,
                  sb=bd.shape)


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
        if bd.shape[-1] != n:
            raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                               f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {bd.shape[-1]}x1)")
        return _solve(A if left else A.transpose(-2, -1), B.unsqueeze(-1)).squeeze(-1)
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
    T = A * _const_like(A, mask.astype(A._data.dtype))
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


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """Cholesky factor of a batch of Hermitian positive-definite matrices: lower ``L`` with
    ``A = L L^H`` (upper ``U = L^H`` when ``upper``). Only the lower triangle of ``A`` is read."""
    if out is not None:
        return _write_out(out, cholesky(A, upper=upper))
    _check_matrix(A, "linalg.cholesky")
    d = A._data
    try:
        r = np.linalg.cholesky(_np_dtype_ok(d))
    except np.linalg.LinAlgError:
        raise _lapack_error("linalg.cholesky", d, np.linalg.cholesky, _pd_msg) from None
    if upper:
        r = np.ascontiguousarray(np.conj(r.swapaxes(-1, -2)) if r.dtype.kind == "c" else r.swapaxes(-1, -2))
    return record(_back(r, d), LinalgCholeskyExBackward0, (A,), save_output=True, upper=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info): info is 0 on success, else the order of the failing leading minor."""
    try:
        info = _const_like(A, np.zeros(A._data.shape[:-2], np.int32))
        return CholeskyExResult(cholesky(A, upper=upper), info)
    except LinAlgError:
        if check_errors:
            raise
        d = A._data
        res = np.zeros(d.shape, d.dtype)
        info = np.zeros(d.shape[:-2], np.int32)
        for idx in _batch_index(d.shape[:-2]):
            try:
                res[idx] = np.linalg.cholesky(d[idx])
            except np.linalg.LinAlgError:
                info[idx] = _pd_order(d[idx])
        if upper:
            res = np.ascontiguousarray(res.swapaxes(-1, -2))
        return CholeskyExResult(_wrap(res), _const_like(A, info))


# --------------------------------------------------------------------------- multi-output decompositions
def _tri_mask(like: Tensor, n: int, k: int, lower: bool) -> Tensor:
    m = np.tril(np.ones((n, n)), k) if lower else np.triu(np.ones((n, n)), k)
    return _const_like(like, m.astype(like._data.dtype))


def _sel(like: Tensor, n: int, start: int, stop: int) -> Tensor:
    """The (n, stop - start) matrix selecting columns start:stop by right-multiplication."""
    return _const_like(like, np.eye(n, dtype=like._data.dtype)[:, start:stop])


def _qr_backward_tall(gQ, gR, Q, R):
    """Gradient of A = QR (A m x n, m >= n, Q m x n, R n x n); gQ or gR may be None."""
    n = R._data.shape[-1]
    M = None
    if gR is not None:
        M = matmul(R, _mH(gR))
    if gQ is not None:
        t = matmul(_mH(gQ), Q)
        M = -t if M is None else M - t
    low = M * _tri_mask(M, n, -1, True)
    sym = low + _mH(low) + M * _eye(M, n)
    b = matmul(Q, sym)
    if gQ is not None:
        b = b + gQ
    return _mH(_solve(R, _mH(b)))          # b R^{-H}


class LinalgQr(Function):
    @staticmethod
    def forward(ctx, A, mode):
        d = A._data
        if mode == "r":
            r = np.linalg.qr(_np_dtype_ok(d), mode="r")
            q = np.zeros((0,), d.dtype)
        else:
            q, r = np.linalg.qr(_np_dtype_ok(d), mode=mode)
        Q, R = _wrap(_back(q, d)), _wrap(_back(r, d))
        ctx.save_for_backward(A, Q, R)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = A._data.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                               "differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R), None
        # wide: A = [X | Y], R = [U | V]; X = Q U is square, Y = Q V
        sx, sy = _sel(A, n, 0, m), _sel(A, n, m, n)
        U = matmul(R, sx)
        gU = gV = None
        if gR is not None:
            gU, gV = matmul(gR, sx), matmul(gR, sy)
        gQ2 = gQ
        if gV is not None:
            Y = matmul(A, sy)
            t = matmul(Y, _mH(gV))
            gQ2 = t if gQ2 is None else gQ2 + t
        gX = _qr_backward_tall(gQ2, gU, Q, U)
        gA = matmul(gX, _mH(sx))
        if gV is not None:
            gA = gA + matmul(matmul(Q, gV), _mH(sy))
        return gA, None


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """QR decomposition ``A = Q R`` (Q with orthonormal columns, R upper triangular). ``mode``:
    'reduced' (k = min(m, n) columns), 'complete' (Q square) or 'r' (Q empty)."""
    _check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    return QRResult(*LinalgQr.apply(A, mode))


class LinalgEigh(Function):
    @staticmethod
    def forward(ctx, A, uplo):
        d = A._data
        w, v = np.linalg.eigh(_np_dtype_ok(d), UPLO=uplo)
        real = _real_dtype(d.dtype)
        W, V = _wrap(w.astype(real, copy=False)), _wrap(_back(v, d))
        ctx.save_for_backward(W, V)
        ctx.set_materialize_grads(False)
        return W, V

    @staticmethod
    def backward(ctx, gw, gV):
        W, V = ctx.saved_tensors
        n = W._data.shape[-1]
        inner = None
        if gw is not None:
            inner = gw.unsqueeze(-1) * _eye(gw, n)
        if gV is not None:
            E = W.unsqueeze(-2) - W.unsqueeze(-1)           # E[i, j] = w_j - w_i
            eye = _eye(E, n)
            F = (1 - eye) / (E + eye)
            t = F * matmul(_mH(V), gV)
            inner = t if inner is None else inner + t
        gA = matmul(matmul(V, inner), _mH(V))
        return (gA + _mH(gA)) * 0.5, None


def eigh(A: Tensor, UPLO: str = "L", *, out=None):  # noqa: N803
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a batch of symmetric /
    Hermitian matrices; only the ``UPLO`` triangle is read."""
    _check_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*LinalgEigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:  # noqa: N803
    """The eigenvalues (ascending) of a batch of symmetric / Hermitian matrices."""
    if out is not None:
        return _write_out(out, eigvalsh(A, UPLO))
    _check_matrix(A, "linalg.eigvalsh")
    if A.requires_grad:
        return eigh(A, UPLO)[0]
    d = A._data
    w = np.linalg.eigvalsh(_np_dtype_ok(d), UPLO=UPLO)
    real = _real_dtype(d.dtype)
    return _wrap(w.astype(real, copy=False))


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """Gradient of the reduced SVD A = U diag(S) Vh (real)."""
    if gU is None and gVh is None:
        return matmul(U * gS.unsqueeze(-2), Vh)
    m, k, n = U._data.shape[-2], S._data.shape[-1], Vh._data.shape[-1]
    eye = _eye(S, k)
    s2 = S * S
    E = s2.unsqueeze(-2) - s2.unsqueeze(-1)                 # E[i, j] = s_j^2 - s_i^2
    F = (1 - eye) / (E + eye)
    inner = None if gS is None else gS.unsqueeze(-1) * eye
    if gU is not None:
        t = matmul(_mH(U), gU)
        t = (F * (t - _mH(t))) * S.unsqueeze(-2)
        inner = t if inner is None else inner + t
    if gVh is not None:
        t = matmul(Vh, _mH(gVh))
        t = S.unsqueeze(-1) * (F * (t - _mH(t)))
        inner = t if inner is None else inner + t
    gA = matmul(matmul(U, inner), Vh)
    if gU is not None and m > k:
        t = gU / S.unsqueeze(-2)
        t = t - matmul(U, matmul(_mH(U), t))
        gA = gA + matmul(t, Vh)
    if gVh is not None and n > k:
        t = gVh / S.unsqueeze(-1)
        t = t - matmul(matmul(t, _mH(Vh)), Vh)
        gA = gA + matmul(U, t)
    return gA


class LinalgSvd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        d = A._data
        u, s, vh = np.linalg.svd(_np_dtype_ok(d), full_matrices=full_matrices)
        real = _real_dtype(d.dtype)
        U, S, Vh = _wrap(_back(u, d)), _wrap(s.astype(real, copy=False)), _wrap(_back(vh, d))
        ctx.save_for_backward(U, S, Vh)
        ctx.full = full_matrices
        ctx.set_materialize_grads(False)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = U._data.shape[-2], Vh._data.shape[-1]
        k = S._data.shape[-1]
        if ctx.full and m != n:  # only the first k singular vectors enter the gradient
            U = matmul(U, _sel(U, m, 0, k))
            Vh = matmul(_mH(_sel(Vh, n, 0, k)), Vh)
            if gU is not None:
                gU = matmul(gU, _sel(gU, m, 0, k))
            if gVh is not None:
                gVh = matmul(_mH(_sel(gVh, n, 0, k)), gVh)
        if gU is None and gS is None and gVh is None:
            return None, None
        if gS is None:
            gS = S * 0
        return _svd_backward(gU, gS, gVh, U, S, Vh), None


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh`` (S descending). Gradients need distinct
    singular values and a loss that does not depend on the signs of the singular vectors."""
    _check_matrix(A, "linalg.svd", square=False)
    return SVDResult(*LinalgSvd.apply(A, full_matrices))


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values of ``A``, descending."""
    if out is not None:
        return _write_out(out, svdvals(A))
    _check_matrix(A, "linalg.svdvals", square=False)
    from . import _state
    if A.requires_grad and _state.grad_enabled:
        return svd(A, full_matrices=False)[1]
    d = A._data
    s = np.linalg.svd(_np_dtype_ok(d), compute_uv=False)
    real = _real_dtype(d.dtype)
    return _wrap(s.astype(real, copy=False))


def _torch_svd(A: Tensor, some: bool = True, compute_uv: bool = True):
    """``torch.svd``: (U, S, V)."""
    _check_matrix(A, "svd", square=False)
    if not compute_uv:
        s = svdvals(A)
        m, n = A._data.shape[-2:]
        z = np.zeros(A._data.shape[:-2] + ((m, m) if not some else (m, min(m, n))), A._data.dtype)
        zv = np.zeros(A._data.shape[:-2] + ((n, n) if not some else (n, min(m, n))), A._data.dtype)
        return TorchSVDResult(_const_like(A, z), s, _const_like(A, zv))
    U, S, Vh = svd(A, full_matrices=not some)
    return TorchSVDResult(U, S, _mH(Vh))


def _tolerance(s: Tensor, m: int, n: int, atol, rtol, op: str):
    """Per-matrix threshold max(atol, rtol * s_max) as an array of shape (*, 1)."""
    sd = s._data
    smax = sd.max(axis=-1, keepdims=True) if sd.shape[-1] else np.zeros(sd.shape[:-1] + (1,), sd.dtype)
    if isinstance(atol, Tensor):
        atol = atol._data[..., None]
    if isinstance(rtol, Tensor):
        rtol = rtol._data[..., None]
    if rtol is None:
        pos_atol = atol is not None and np.any(np.asarray(atol) > 0)
        rtol = 0.0 if pos_atol else np.finfo(sd.dtype).eps * max(m, n)
    if atol is None:
        atol = 0.0
    return np.maximum(atol, rtol * smax)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD (eigh when ``hermitian``); singular values at
    or below ``max(atol, rtol * s_max)`` are treated as zero."""
    if out is not None:
        return _write_out(out, pinv(A, atol=atol, rtol=rtol, hermitian=hermitian))
    _check_matrix(A, "linalg.pinv", square=hermitian)
    m, n = A._data.shape[-2:]
    if hermitian:
        w, V = eigh(A)
        tol = _tolerance(_wrap(np.abs(w._data)), m, n, atol, rtol, "linalg.pinv")
        keep = np.abs(w._data) > tol
        winv = _const_like(w, keep.astype(w._data.dtype)) / where(_const_like(w, keep), w, 1.0)
        return matmul(V * winv.unsqueeze(-2), _mH(V))
    U, S, Vh = svd(A, full_matrices=False)
    tol = _tolerance(S, m, n, atol, rtol, "linalg.pinv")
    keep = S._data > tol
    sinv = _const_like(S, keep.astype(S._data.dtype)) / where(_const_like(S, keep), S, 1.0)
    return matmul(_mH(Vh) * sinv.unsqueeze(-2), _mH(U))


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None, out=None) -> Tensor:
    """The number of singular values above ``max(atol, rtol * s_max)`` (int64)."""
    _check_matrix(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A._data.shape[-2:]
    d = A._data
    if hermitian:
        s = np.abs(np.linalg.eigvalsh(_np_dtype_ok(d)))
    else:
        s = np.linalg.svd(_np_dtype_ok(d), compute_uv=False)
    t = _tolerance(_wrap(s), m, n, atol, rtol, "linalg.matrix_rank")
    return _const_like(A, np.asarray((s > t).sum(-1), np.int64))


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` through the pseudo-inverse (differentiable).
    Returns (solution, residuals, rank, singular_values) as PyTorch's default CPU driver 'gelsy'
    does: residuals (squared, summed over rows) only with 'gelsd'/'gelss'/'gels' when m > n and A
    has full rank, singular values only with 'gelsd'/'gelss'."""
    op = "linalg.lstsq"
    _check_matrix(A, op, square=False)
    _check(B, op, "B")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{_tname(A._data.dtype)} and other's dtype {_tname(B._data.dtype)}")
    m, n = A._data.shape[-2:]
    vector = B._data.ndim == A._data.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    if B2._data.shape[-2] != m:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2)")
    eps = np.finfo(A._data.dtype if A._data.dtype.kind == "f" else np.float64).eps
    rt = eps * max(m, n) if rcond is None else rcond
    X = matmul(pinv(A, rtol=rt), B2)
    rank = matrix_rank(A, rtol=rt)
    full = bool(np.all(rank._data == min(m, n)))
    dt = A._data.dtype
    if driver != "gelsy" and m > n and full:
        res = (matmul(A, X) - B2).abs()
        res = (res * res).sum(-2)
        if vector:
            res = res.squeeze(-1)
    else:
        res = _const_like(A, np.zeros((0,), dt))
    if driver in ("gelsd", "gelss"):
        sv = svdvals(A.detach())
    else:
        sv = _const_like(A, np.zeros((0,), dt))
    if driver == "gels":
        rank = _const_like(A, np.zeros((0,), np.int64))
    return LstsqResult(X.squeeze(-1) if vector else X, res, rank, sv)


# --------------------------------------------------------------------------- composites
def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) of a batch of square matrices: scaling and squaring around a degree-18 Taylor
    polynomial, all with differentiable ops."""
    _check_matrix(A, "linalg.matrix_exp")
    d = A._data
    n = d.shape[-1]
    if n == 0 or d.size == 0:
        return A * 1
    norm1 = float(np.abs(d).sum(axis=-2).max()) if d.size else 0.0
    s = max(0, int(math.ceil(math.log2(norm1 / 0.5)))) if norm1 > 0.5 else 0
    X = A / (2.0 ** s) if s else A
    eye = _eye(A, n)
    E = eye
    for k in range(18, 0, -1):
        E = eye + matmul(X, E) / k
    for _ in range(s):
        E = matmul(E, E)
    return E


def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """A to the integer power n (negative: of the inverse)."""
    if out is not None:
        return _write_out(out, matrix_power(A, n))
    return _matrix_power(A, n)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default the last); other dims broadcast."""
    if out is not None:
        return _write_out(out, cross(input, other, dim=dim))
    return _cross_impl(input, other, dim, "linalg.cross")


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Dot products of vectors along ``dim`` (``x`` conjugated), broadcasting the other dims."""
    if out is not None:
        return _write_out(out, vecdot(x, y, dim=dim))
    _check(x, "linalg.vecdot", "x")
    _check(y, "linalg.vecdot", "y")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_tname(x._data.dtype)} and y of type {_tname(y._data.dtype)} instead")
    return (_conj(x) * y).sum(dim)


def multi_dot(tensors, *, out=None) -> Tensor:
    """Product of a chain of matrices (the first may be 1-D, as may the last)."""
    if out is not None:
        return _write_out(out, multi_dot(tensors))
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        nd = t._data.ndim
        if (i in (0, len(ts) - 1) and nd not in (1, 2)) or (0 < i < len(ts) - 1 and nd != 2):
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D" +
                               (" or 1D" if i in (0, len(ts) - 1) else "") + f" but got {nd}D")
    r = ts[0]
    for t in ts[1:]:
        r = matmul(r, t)
    return r


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices (a view)."""
    return A.diagonal(offset=offset, dim1=dim1, dim2=dim2)

