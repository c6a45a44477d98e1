"""Registry entries: LU factorization (linalg.lu_factor, lu_factor_ex, lu, lu_solve, lu_unpack),
linalg.householder_product, geqrf, linalg.eig, linalg.eigvals, linalg.tensorinv, linalg.tensorsolve and
linalg.ldl_factor(_ex) / ldl_solve."""

from __future__ import annotations

import numpy as np

from .core import Sample, register

F32_64 = ("float32", "float64")


def _lu_samples(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (3, 3)),))
    yield Sample((rng.uniform(-1, 1, (2, 3, 5)),))
    yield Sample((rng.uniform(-1, 1, (4, 2)),))


def _square(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3), rng.uniform(-1, 1, (3, 2))))
    yield Sample((rng.uniform(-1, 1, (2, 3, 3)) + 2 * np.eye(3), rng.uniform(-1, 1, (2, 3, 1))))


def _lu_solve(T, a, b, **kw):
    LU, piv = T.linalg.lu_factor(a)
    return T.linalg.lu_solve(LU, piv, b, **kw)


register("linalg.lu_factor", lambda T, a: T.linalg.lu_factor(a).LU, _lu_samples, dtypes=F32_64)
register("linalg.lu_factor_ex", lambda T, a: tuple(T.linalg.lu_factor_ex(a)), _lu_samples, dtypes=F32_64)
register("linalg.lu", lambda T, a: tuple(T.linalg.lu(a)), _lu_samples, dtypes=F32_64)
register("lu_unpack", lambda T, a: tuple(T.lu_unpack(*T.linalg.lu_factor(a))), _lu_samples, dtypes=F32_64)
register("linalg.lu_solve", lambda T, a, b: _lu_solve(T, a, b), _square, dtypes=F32_64)
register("linalg.lu_solve_adjoint", lambda T, a, b: _lu_solve(T, a, b, adjoint=True), _square, dtypes=F32_64)
register("linalg.lu_solve_right", lambda T, a, b: _lu_solve(T, a, b.mT, left=False), _square, dtypes=F32_64)
register("linalg.lu_solve_right_adjoint", lambda T, a, b: _lu_solve(T, a, b.mT, left=False, adjoint=True),
         _square, dtypes=F32_64)


def _hh_samples(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (2,))))
    yield Sample((rng.uniform(-1, 1, (2, 3, 3)), rng.uniform(-1, 1, (2, 3))))


register("linalg.householder_product", lambda T, a, tau: T.linalg.householder_product(a, tau), _hh_samples,
         dtypes=F32_64)
register("geqrf", lambda T, a: tuple(T.geqrf(a)), _lu_samples, dtypes=F32_64, grad=False)


def _eig_samples(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (3, 3)),))
    yield Sample((rng.uniform(-1, 1, (2, 4, 4)),))


def _eig_parts(T, a):
    """Phase-invariant parts of eig (the sign of a real eigenvector depends on the LAPACK build)."""
    L, V = T.linalg.eig(a)
    return L.real, L.imag, V.abs()


register("linalg.eig", _eig_parts, _eig_samples, dtypes=F32_64)
register("linalg.eigvals", lambda T, a: T.view_as_real(T.linalg.eigvals(a)), _eig_samples, dtypes=F32_64)
register("linalg.tensorinv", lambda T, a: T.linalg.tensorinv(a, ind=1),
         lambda rng, dtype: iter([Sample((rng.uniform(-1, 1, (6, 2, 3)) + 3 * np.eye(6).reshape(6, 2, 3),))]),
         dtypes=F32_64)
register("linalg.tensorsolve", lambda T, a, b: T.linalg.tensorsolve(a, b),
         lambda rng, dtype: iter([Sample((rng.uniform(-1, 1, (2, 3, 6)) + 3 * np.eye(6).reshape(2, 3, 6),
                                          rng.uniform(-1, 1, (2, 3))))]),
         dtypes=F32_64)


def _sym_samples(rng, dtype):
    a = rng.uniform(-1, 1, (2, 3, 3))
    yield Sample((a + np.swapaxes(a, -1, -2),))
    yield Sample((np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]]),))


register("linalg.ldl_factor_ex", lambda T, a: tuple(T.linalg.ldl_factor_ex(a)), _sym_samples, dtypes=F32_64,
         grad=False)
register("linalg.ldl_solve", lambda T, a: T.linalg.ldl_solve(*T.linalg.ldl_factor(a), a[..., :1] + 1),
         _sym_samples, dtypes=F32_64, grad=False)


def _ormqr_samples(rng, dtype):
    a = rng.uniform(-1, 1, (4, 3))
    h, tau = np.linalg.qr(a, mode="raw")
    yield Sample((np.ascontiguousarray(h.T), tau, rng.uniform(-1, 1, (4, 2))))


register("ormqr", lambda T, a, tau, c: T.ormqr(a, tau, c), _ormqr_samples, dtypes=F32_64)
register("ormqr_right_transpose", lambda T, a, tau, c: T.ormqr(a, tau, c.mT, left=False, transpose=True),
         _ormqr_samples, dtypes=F32_64)
