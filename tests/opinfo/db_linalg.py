"""Registry entries: matrix products and torch.linalg."""

from __future__ import annotations

import numpy as np

from .core import INTS, Sample, register, shapes

F32_64 = ("float32", "float64")


def _spd(rng, n, batch=()):
    a = rng.uniform(-1, 1, batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


register(
    "matmul",
    lambda T, a, b: T.matmul(a, b),
    shapes(
        ((3, 4), (4, 2)),
        ((4,), (4,)),
        ((2, 3, 4), (4,)),
        ((4,), (2, 4, 3)),
        ((2, 1, 3, 4), (3, 4, 2)),
        ((0, 4), (4, 2)),
        ((3, 0), (0, 2)),
    ),
    dtypes=F32_64 + ("int64",),
)
register("mm", lambda T, a, b: T.mm(a, b), shapes(((3, 4), (4, 2))), dtypes=F32_64 + ("int64",))
register("bmm", lambda T, a, b: T.bmm(a, b), shapes(((2, 3, 4), (2, 4, 2))), dtypes=F32_64 + ("int64",))
register(
    "addmm",
    lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2),
    shapes(((2,), (3, 4), (4, 2))),
    dtypes=F32_64,
)
register(
    "addmv_int",
    lambda T, c, a, b: T.addmv(c, a, b, beta=2),
    shapes(((3,), (3, 4), (4,))),
    dtypes=("int64",),
    grad=False,
)
register("outer", lambda T, a, b: T.outer(a, b), shapes(((3,), (4,))), dtypes=F32_64 + INTS)
register("dot", lambda T, a, b: T.dot(a, b), shapes(((3,), (3,))), dtypes=F32_64)
register("einsum_ij_jk", lambda T, a, b: T.einsum("ij,jk->ik", a, b), shapes(((3, 4), (4, 2))), dtypes=F32_64)
register(
    "einsum_sum_int",
    lambda T, a: T.einsum("i->", a),
    lambda rng, dtype: iter([Sample((np.array([100, 100]),))]),
    dtypes=("int8", "int64"),
    grad=False,
)
register(
    "einsum_bool",
    lambda T, a, b: T.einsum("ij,jk->ik", a, b),
    lambda rng, dtype: iter([Sample((rng.random((2, 3)) > 0.5, rng.random((3, 2)) > 0.5))]),
    dtypes=("bool",),
    grad=False,
)


def _sq(gen_fn, dtypes=F32_64, grad=True, gradgrad=True, name=None, fn=None):
    register(name, fn, gen_fn, dtypes=dtypes, grad=grad, gradgrad=gradgrad)


def _spd_samples(rng, dtype):
    yield Sample((_spd(rng, 3),))
    yield Sample((_spd(rng, 2, (2,)),))


def _square(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3),))
    yield Sample((rng.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3),))


def _rect(rng, dtype):
    yield Sample((rng.uniform(-1, 1, (4, 3)),))
    yield Sample((rng.uniform(-1, 1, (2, 3, 5)),))


def _nonfinite(rng, dtype):
    yield Sample((np.array([[np.inf, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),))
    yield Sample((np.array([[np.nan, 2.0], [4.0, 5.0]]),))


_sq(_spd_samples, name="linalg.cholesky", fn=lambda T, a: T.linalg.cholesky((a + a.mT) / 2))
_sq(_spd_samples, name="linalg.cholesky_upper", fn=lambda T, a: T.linalg.cholesky((a + a.mT) / 2, upper=True))
register(
    "linalg.cholesky_upper_nonsym",
    lambda T, a: T.linalg.cholesky(a, upper=True),
    lambda rng, dtype: iter([Sample((np.array([[4.0, 100.0], [2.0, 3.0]]),))]),
    dtypes=F32_64,
    grad=False,
)
_sq(_square, name="linalg.inv", fn=lambda T, a: T.linalg.inv(a))
_sq(_square, name="linalg.det", fn=lambda T, a: T.linalg.det(a))
_sq(_square, name="linalg.slogdet", fn=lambda T, a: tuple(T.linalg.slogdet(a)))
register(
    "slogdet_sign_grad",
    lambda T, a: T.linalg.slogdet(a).sign.requires_grad,
    lambda rng, dtype: iter([Sample((np.eye(2),))]),
    dtypes=("float64",),
    grad=False,
)
_sq(_square, name="linalg.solve", fn=lambda T, a: T.linalg.solve(a, a[..., :1] * 2 + 1))
_sq(_square, name="linalg.matrix_power0", fn=lambda T, a: T.linalg.matrix_power(a, 0), grad=False)
_sq(_square, name="linalg.matrix_power3", fn=lambda T, a: T.linalg.matrix_power(a, 3))
_sq(_rect, name="linalg.svdvals", fn=lambda T, a: T.linalg.svdvals(a), gradgrad=False)
_sq(_rect, name="linalg.pinv", fn=lambda T, a: T.linalg.pinv(a), gradgrad=False)
_sq(_rect, name="linalg.matrix_norm_fro", fn=lambda T, a: T.linalg.matrix_norm(a))
_sq(_rect, name="linalg.matrix_norm_nuc", fn=lambda T, a: T.linalg.matrix_norm(a, "nuc"), gradgrad=False)
_sq(_rect, name="linalg.vector_norm", fn=lambda T, a: T.linalg.vector_norm(a, 3, dim=-1))
_sq(_rect, name="linalg.matrix_rank", fn=lambda T, a: T.linalg.matrix_rank(a), grad=False)
register(
    "linalg.inv_ex_info",
    lambda T, a: T.linalg.inv_ex(a).info,
    lambda rng, dtype: iter([Sample((np.diag([1.0, 2.0, 0.0]),))]),
    dtypes=F32_64,
    grad=False,
)
register(
    "cholesky_solve_bcast",
    lambda T, b, l: T.cholesky_solve(b, l),
    lambda rng, dtype: iter([Sample((np.ones((2, 2)), np.broadcast_to(np.eye(2), (2, 2, 2)).copy()))]),
    dtypes=F32_64,
    grad=False,
)
for _name, _fn in [
    ("svdvals", lambda T, a: T.linalg.svdvals(a)),
    ("pinv", lambda T, a: T.linalg.pinv(a)),
    ("norm_nuc", lambda T, a: T.linalg.matrix_norm(a, "nuc")),
    ("svd", lambda T, a: T.linalg.svd(a).S),  # U, Vh of an inf matrix: whatever LAPACK gives
    ("det", lambda T, a: T.linalg.det(a)),
    ("matrix_norm2", lambda T, a: T.linalg.matrix_norm(a, 2)),
    ("cond", lambda T, a: T.linalg.cond(a)),
    ("matrix_rank", lambda T, a: T.linalg.matrix_rank(a)),
]:
    register(f"linalg.{_name}_nonfinite", _fn, _nonfinite, dtypes=("float64",), grad=False)
register(
    "linalg.vector_norm_0d", lambda T, a: T.linalg.vector_norm(a, 3, dim=-1), shapes(((),)), dtypes=F32_64
)
register(
    "linalg.cond_empty", lambda T, a: T.linalg.cond(a), shapes(((0, 0),)), dtypes=("float64",), grad=False
)
register(
    "linalg.norm_empty_fro",
    lambda T, a: T.linalg.norm(a, "fro"),
    shapes(((0,),)),
    dtypes=("float64",),
    grad=False,
)
