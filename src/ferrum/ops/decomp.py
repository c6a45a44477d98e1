"""The spectral and orthogonal decompositions (qr, eigh, svd) and what is built on them: svdvals,
pinv, matrix_rank, lstsq; with the ``torch.svd`` / ``torch.qr`` / ``torch.pinverse`` aliases.

A decomposition has several outputs; each gets its own node (a ``_DecompNode``, see
``_linalg_common``) that computes its output's part of the gradient:

- qr (reduced, or complete with m <= n), eigh and svd (reduced): the usual formulas; eigh and svd
  need distinct eigen/singular values, and the loss must not depend on the sign (phase) of the
  vectors, as in PyTorch. Complex inputs follow PyTorch's convention (the real part of the
  diagonal in qr's symmetrisation, svd's gauge term i Im(diag(U^H gU)) / S).

Non-finite input never reaches a LAPACK routine that loops on it (``_svd_arrays``,
``_eigh_arrays``): a NaN raises LinAlgError and an infinity gives NaN singular values or
eigenvalues, as in PyTorch; pinv and matrix_rank then drop them (0), lstsq gives a NaN solution.
"""

from __future__ import annotations

import collections

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ._linalg_common import (_back, _check, _check_matrix, _const_like, _DecompNode, _eigh_arrays, _eye,
                             _mH, _nonfinite, _np_dtype_ok, _real_dtype, _record_multi, _svd_arrays,
                             _tname)
from .elementwise import _write_out, where
from .matmul import matmul
from .solve import _solve
from ._autocast import autocast_op

__all__ = ["qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "lstsq", "torch_svd",
           "torch_qr", "pinverse"]

QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])
EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = collections.namedtuple("svd", ["U", "S", "V"])
LstsqResult = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def _tri_mask(like: Tensor, n: int, k: int, lower: bool) -> Tensor:
    m = np.tril(np.ones((n, n)), k) if lower else np.triu(np.ones((n, n)), k)
    return _const_like(like, m.astype(like._data.dtype))


def _sel(like: Tensor, n: int, start: int, stop: int) -> Tensor:
    """The (n, stop - start) matrix selecting columns start:stop by right-multiplication."""
    return _const_like(like, np.eye(n, dtype=like._data.dtype)[:, start:stop])


# --------------------------------------------------------------------------- qr
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
    dg = M * _eye(M, n)
    if dg._data.dtype.kind == "c":  # PyTorch's convention: only the real part of the diagonal
        dg = (dg + dg.conj()) * 0.5
    sym = low + _mH(low) + dg
    b = matmul(Q, sym)
    if gQ is not None:
        b = b + gQ
    return _mH(_solve(R, _mH(b)))          # b R^{-H}


class LinalgQrBackward0(_DecompNode):
    def grad(self, A, outs, grads):
        Q, R = outs
        gQ, gR = grads
        m, n = A._data.shape[-2:]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                               "differentiate through linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R)
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
        return gA


@autocast_op("linalg_qr")
def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """QR decomposition ``A = Q R`` (Q with orthonormal columns, R upper triangular). ``mode``:
    'reduced' (k = min(m, n) columns), 'complete' (Q square) or 'r' (Q empty)."""
    _check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           "(default), 'r', or 'complete'")
    d = A._data
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if mode == "r":
            r = np.linalg.qr(_np_dtype_ok(d), mode="r")
            q = np.zeros((0,), d.dtype)
        else:
            q, r = np.linalg.qr(_np_dtype_ok(d), mode=mode)
    return QRResult(*_record_multi((_back(q, d), _back(r, d)), LinalgQrBackward0, A, mode=mode))


def torch_qr(input: Tensor, some: bool = True, *, out=None):
    """``torch.qr``: reduced (``some``) or complete QR."""
    return qr(input, "reduced" if some else "complete")


# --------------------------------------------------------------------------- eigh
class LinalgEighBackward0(_DecompNode):
    def grad(self, A, outs, grads):
        W, V = outs
        gw, gV = grads
        n = W._data.shape[-1]
        if gw is not None:
            inner = gw.unsqueeze(-1) * _eye(V, n)  # V's dtype: complex for Hermitian input
        else:
            E = W.unsqueeze(-2) - W.unsqueeze(-1)           # E[i, j] = w_j - w_i
            eye = _eye(E, n)
            F = (1 - eye) / (E + eye)
            inner = F * matmul(_mH(V), gV)
        gA = matmul(matmul(V, inner), _mH(V))
        return (gA + _mH(gA)) * 0.5


@autocast_op("linalg_eigh")
def eigh(A: Tensor, UPLO: str = "L", *, out=None):  # noqa: N803
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a batch of symmetric /
    Hermitian matrices; only the ``UPLO`` triangle is read."""
    _check_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    d = A._data
    w, v = _eigh_arrays(d, UPLO)
    w = w.astype(_real_dtype(d.dtype), copy=False)
    return EighResult(*_record_multi((w, _back(v, d)), LinalgEighBackward0, A))


@autocast_op("linalg_eigvalsh")
def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:  # noqa: N803
    """The eigenvalues (ascending) of a batch of symmetric / Hermitian matrices."""
    if out is not None:
        return _write_out(out, eigvalsh(A, UPLO))
    _check_matrix(A, "linalg.eigvalsh")
    if A.requires_grad:
        return eigh(A, UPLO)[0]
    d = A._data
    return _wrap(_eigh_arrays(d, UPLO, compute_v=False).astype(_real_dtype(d.dtype), copy=False))


# --------------------------------------------------------------------------- svd
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
    if gU is not None and U._data.dtype.kind == "c":
        # complex: the gauge term i Im(diag(U^H gU)) / S (PyTorch's gradient for a loss invariant
        # under U -> U e^{i phi}, V -> V e^{i phi})
        d = (matmul(_mH(U), gU) * eye).sum(-1)
        t = ((d - d.conj()) * 0.5 / S) * eye
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


class LinalgSvdBackward0(_DecompNode):
    def grad(self, A, outs, grads):
        U, S, Vh = outs
        gU, gS, gVh = grads
        m, n = U._data.shape[-2], Vh._data.shape[-1]
        k = S._data.shape[-1]
        if self.full and m != n:  # only the first k singular vectors enter the gradient
            U = matmul(U, _sel(U, m, 0, k))
            Vh = matmul(_mH(_sel(Vh, n, 0, k)), Vh)
            if gU is not None:
                gU = matmul(gU, _sel(gU, m, 0, k))
            if gVh is not None:
                gVh = matmul(_mH(_sel(gVh, n, 0, k)), gVh)
        if gS is None:
            gS = S * 0
        return _svd_backward(gU, gS, gVh, U, S, Vh)


@autocast_op("linalg_svd")
def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh`` (S descending). Gradients need distinct
    singular values and a loss that does not depend on the signs of the singular vectors."""
    _check_matrix(A, "linalg.svd", square=False)
    d = A._data
    u, s, vh = _svd_arrays(d, full_matrices=full_matrices)
    outs = (_back(u, d), s.astype(_real_dtype(d.dtype), copy=False), _back(vh, d))
    return SVDResult(*_record_multi(outs, LinalgSvdBackward0, A, full=full_matrices))


@autocast_op("linalg_svdvals")
def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values of ``A``, descending."""
    if out is not None:
        return _write_out(out, svdvals(A))
    _check_matrix(A, "linalg.svdvals", square=False)
    if A.requires_grad and _state.grad_enabled:
        return svd(A, full_matrices=False)[1]
    d = A._data
    return _wrap(_svd_arrays(d, compute_uv=False).astype(_real_dtype(d.dtype), copy=False))


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """``torch.svd``: (U, S, V) with V (not its conjugate transpose); reduced when ``some``."""
    A = input
    _check_matrix(A, "svd", square=False)
    if not compute_uv:
        s = svdvals(A)
        m, n = A._data.shape[-2:]
        z = np.zeros(A._data.shape[:-2] + ((m, m) if not some else (m, min(m, n))), A._data.dtype)
        zv = np.zeros(A._data.shape[:-2] + ((n, n) if not some else (n, min(m, n))), A._data.dtype)
        return TorchSVDResult(_const_like(A, z), s, _const_like(A, zv))
    U, S, Vh = svd(A, full_matrices=not some)
    return TorchSVDResult(U, S, _mH(Vh))


# --------------------------------------------------------------------------- pinv, rank, lstsq
def _tolerance(s: Tensor, m: int, n: int, atol, rtol):
    """Per-matrix threshold max(atol, rtol * s_max) as an array of shape (*, 1) (NaN for a matrix
    with NaN singular values, which then count as zero)."""
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
    with np.errstate(invalid="ignore"):
        if hermitian:
            w, V = eigh(A)
            tol = _tolerance(_wrap(np.abs(w._data)), m, n, atol, rtol)
            keep = np.abs(w._data) > tol
            winv = where(_const_like(w, keep), 1 / where(_const_like(w, keep), w, 1.0), 0.0)
            return matmul(V * winv.unsqueeze(-2), _mH(V))
        U, S, Vh = svd(A, full_matrices=False)
        tol = _tolerance(S, m, n, atol, rtol)
        keep = S._data > tol
    sinv = where(_const_like(S, keep), 1 / where(_const_like(S, keep), S, 1.0), 0.0)
    return matmul(_mH(Vh) * sinv.unsqueeze(-2), _mH(U))


@autocast_op("pinverse")
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: :func:`pinv` with relative tolerance ``rcond``."""
    return pinv(input, rtol=rcond)


@autocast_op("linalg_matrix_rank")
def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None, out=None) -> Tensor:
    """The number of singular values above ``max(atol, rtol * s_max)`` (int64)."""
    _check_matrix(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A._data.shape[-2:]
    d = A._data
    if hermitian:
        s = np.abs(_eigh_arrays(d, "L", compute_v=False))
    else:
        s = _svd_arrays(d, compute_uv=False)
    with np.errstate(invalid="ignore"):
        t = _tolerance(_wrap(s), m, n, atol, rtol)
        return _const_like(A, np.asarray((s > t).sum(-1), np.int64))


@autocast_op("linalg_lstsq")
def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` through the pseudo-inverse (differentiable).
    Returns (solution, residuals, rank, singular_values) as PyTorch's default CPU driver 'gelsy'
    does: residuals (squared, summed over rows) only with 'gelsd'/'gelss'/'gels' when m > n and A
    has full rank, singular values only with 'gelsd'/'gelss'. A matrix with an infinity gets a NaN
    solution (one with a NaN raises LinAlgError)."""
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
    bad = _nonfinite(A._data)
    if bad is not None:  # pinv dropped the NaN singular values; the solution is undefined
        X = where(_const_like(X, bad[1][..., None, None]), np.nan, X)
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


# --------------------------------------------------------------------------- Tensor methods
def _attach():
    T = Tensor
    T.svd = torch_svd
    T.qr = torch_qr
    T.pinverse = pinverse


_attach()
