"""Registry entries: ops/combine.py (diff, cartesian_prod, combinations, block_diag, vander,
linalg.vander, trapezoid, trapz, cumulative_trapezoid, cov, corrcoef, dist, renorm), all
differentiable. ops/search.py's ops are not differentiable and are tested in tests/ops/test_search.py."""

from __future__ import annotations

import math

import numpy as np

from .core import ALL, FLOATS, INTS, Sample, register, values

NUMERIC = FLOATS + INTS
F32_64 = ("float32", "float64")


# --------------------------------------------------------------------------- diff
def _diff(rng, dtype):
    x = values(rng, (3, 5), dtype)
    for n in (0, 1, 2, 6):
        for dim in (0, -1):
            yield Sample((x,), dict(n=n, dim=dim))
    yield Sample((values(rng, (4,), dtype),), {})
    yield Sample((values(rng, (0, 3), dtype),), dict(dim=0))
    yield Sample((values(rng, (2, 0), dtype),), dict(dim=1, n=2))
    yield Sample((values(rng, (), dtype),), {})
    yield Sample((values(rng, (3, 4), dtype),), dict(dim=1), strided=True)


def _diff_sides(rng, dtype):
    x = values(rng, (3, 4), dtype)
    yield Sample((x, values(rng, (3, 2), dtype), values(rng, (3, 1), dtype)), dict(dim=1))
    yield Sample((x, values(rng, (1, 4), dtype), values(rng, (2, 4), dtype)), dict(dim=0, n=2))
    yield Sample((x, values(rng, (3, 2), dtype), values(rng, (3, 1), "float64")), dict(dim=1),
                 dtypes=(dtype, dtype, "float64"))
    yield Sample((x, values(rng, (2, 2), dtype), values(rng, (3, 1), dtype)), dict(dim=1))  # bad shape
    yield Sample((x, values(rng, (4,), dtype), values(rng, (3, 1), dtype)), dict(dim=1))  # bad ndim


register("diff_prepend_append", lambda T, x, p, a, **kw: T.diff(x, prepend=p, append=a, **kw), _diff_sides,
         dtypes=ALL)


def _diff_errors(rng):
    yield Sample((values(rng, (3,), "float32"),), dict(n=-1))
    yield Sample((values(rng, (3,), "float32"),), dict(dim=1))
    yield Sample((values(rng, (3,), "float32"),), dict(n=1.0))


register("diff", lambda T, x, **kw: T.diff(x, **kw), _diff, dtypes=ALL, errors=_diff_errors)


# --------------------------------------------------------------------------- products of sets
def _cartesian(rng, dtype):
    yield Sample((values(rng, (3,), dtype), values(rng, (2,), dtype), values(rng, (4,), dtype)))
    yield Sample((values(rng, (3,), dtype), values(rng, (0,), dtype), values(rng, (2,), dtype)))


register("cartesian_prod_one", lambda T, a: T.cartesian_prod(a),
         lambda rng, dtype: iter([Sample((values(rng, (3,), dtype),))]), dtypes=F32_64)


def _cartesian_errors(rng):
    yield Sample((values(rng, (3,), "float32"), values(rng, (2, 1), "float32"), values(rng, (2,), "float32")))
    yield Sample((values(rng, (3,), "float32"), values(rng, (2,), "float32"), values(rng, (2,), "float32")),
                 dtypes=("float32", "float64", "float32"))


register("cartesian_prod", lambda T, a, b, c: T.cartesian_prod(a, b, c), _cartesian, dtypes=ALL,
         errors=_cartesian_errors)


def _combinations(rng, dtype):
    x = values(rng, (4,), dtype)
    for r in (0, 1, 2, 3, 5):
        for rep in (False, True):
            yield Sample((x,), dict(r=r, with_replacement=rep))
    yield Sample((values(rng, (0,), dtype),), dict(r=2))
    yield Sample((values(rng, (2, 2), dtype),), {})  # not 1-D
    yield Sample((x,), dict(r=-1))


register("combinations", lambda T, x, **kw: T.combinations(x, **kw), _combinations, dtypes=ALL)


def _block_diag(rng, dtype):
    yield Sample((values(rng, (2, 3), dtype), values(rng, (3,), dtype), values(rng, (), dtype)))
    yield Sample((values(rng, (0, 2), dtype), values(rng, (2, 0), dtype), values(rng, (0,), dtype)))
    yield Sample((values(rng, (2, 2), dtype), values(rng, (1, 3), dtype), values(rng, (2, 2, 1), dtype)))
    yield Sample((values(rng, (2, 3), dtype), values(rng, (3,), "float64"), values(rng, (), "int64")),
                 dtypes=(dtype, "float64", "int64"))
    yield Sample((values(rng, (2,), dtype), values(rng, (), "float64"), values(rng, (1, 1), dtype)),
                 dtypes=(dtype, "float64", dtype))


register("block_diag", lambda T, a, b, c: T.block_diag(a, b, c), _block_diag, dtypes=ALL)


# --------------------------------------------------------------------------- Vandermonde
def _vander(rng, dtype):
    x = values(rng, (4,), dtype)
    for n in (None, 0, 1, 3, 5):
        for inc in (False, True):
            yield Sample((x,), dict(N=n, increasing=inc))
    zeros = np.array([0.0, 1.5, -2.0, 0.0]) if dtype in FLOATS else np.array([0, 1, -2, 0])
    yield Sample((zeros,), dict(N=4))
    yield Sample((values(rng, (0,), dtype),), {})
    yield Sample((values(rng, (2, 2), dtype),), {})  # not 1-D
    yield Sample((x,), dict(N=-1))


# torch 2.13's vander backward raises (an in-place write into a saved tensor); ferrum's gradient is
# checked in tests/ops/test_combine.py (gradcheck, gradgradcheck, and against torch.linalg.vander's)
register("vander", lambda T, x, **kw: T.vander(x, **kw), _vander, dtypes=ALL, grad=False)


def _linalg_vander(rng, dtype):
    for shape in ((4,), (2, 3), (), (0,), (2, 0)):
        for n in (None, 2, 4):
            yield Sample((values(rng, shape, dtype),), dict(N=n))
    yield Sample((np.array([0.0, 2.0, 0.0]) if dtype in FLOATS else np.array([0, 2, 0]),), {})
    yield Sample((values(rng, (3,), dtype),), dict(N=1))


register("linalg_vander", lambda T, x, **kw: T.linalg.vander(x, **kw), _linalg_vander, dtypes=ALL)


# --------------------------------------------------------------------------- integration
def _trapz(rng, dtype):
    for shape, dim in (((3, 5), -1), ((3, 5), 0), ((6,), 0), ((2, 1), 1), ((0,), 0), ((2, 0), 1), ((2, 0), 0),
                       ((), -1)):
        y = values(rng, shape, dtype)
        yield Sample((y,), dict(dim=dim))
        yield Sample((y,), dict(dim=dim, dx=0.5))
        yield Sample((y,), dict(dim=dim, dx=2))


def _trapz_x(rng, dtype):
    y = values(rng, (3, 5), dtype)
    yield Sample((y, np.sort(values(rng, (5,), dtype))), {})
    yield Sample((y, np.sort(values(rng, (3,), dtype))), dict(dim=0))
    yield Sample((y, values(rng, (3, 5), dtype)), {})
    yield Sample((y, values(rng, (1, 5), dtype)), {})
    yield Sample((y, values(rng, (2, 3, 5), dtype)), {})  # x broadcasts y up
    yield Sample((y, values(rng, (5,), "float64")), {}, dtypes=(dtype, "float64"))
    yield Sample((y, values(rng, (4,), dtype)), {})  # one x per sample point
    yield Sample((y, values(rng, (3, 1), dtype)), {})
    yield Sample((values(rng, (2, 0), dtype), values(rng, (0,), dtype)), {})


register("trapezoid", lambda T, y, **kw: T.trapezoid(y, **kw), _trapz, dtypes=ALL)
register("trapz", lambda T, y, **kw: T.trapz(y, **kw), _trapz, dtypes=F32_64)
register("trapezoid_x", lambda T, y, x, **kw: T.trapezoid(y, x, **kw), _trapz_x, dtypes=NUMERIC)
register("trapz_x", lambda T, y, x, **kw: T.trapz(y, x, **kw), _trapz_x, dtypes=F32_64)
register("cumulative_trapezoid", lambda T, y, **kw: T.cumulative_trapezoid(y, **kw), _trapz, dtypes=NUMERIC)
register("cumulative_trapezoid_x", lambda T, y, x, **kw: T.cumulative_trapezoid(y, x, **kw), _trapz_x,
         dtypes=NUMERIC)


# --------------------------------------------------------------------------- statistics
def _cov(rng, dtype):
    x = values(rng, (3, 6), dtype)
    for c in (0, 1, 2, 6, 7):
        yield Sample((x,), dict(correction=c))
    for shape in ((6,), (), (1, 4), (0, 3), (2, 0), (2, 1)):
        yield Sample((values(rng, shape, dtype),), {})
    yield Sample((values(rng, (2, 2, 2), dtype),), {})


def _cov_weights(rng, dtype):
    x = values(rng, (3, 6), dtype)
    fw = rng.integers(0, 4, 6)
    aw = rng.uniform(0.2, 2.0, 6)
    for c in (0, 1, 3):
        yield Sample((x, fw, aw), dict(correction=c), dtypes=(dtype, "int64", "float64"))
        yield Sample((x, fw, aw), dict(correction=c), dtypes=(dtype, "int32", dtype))
    yield Sample((x, fw, aw[:5]), {}, dtypes=(dtype, "int64", "float64"))  # a weight per observation
    yield Sample((x, -fw - 1, aw), {}, dtypes=(dtype, "int64", "float64"))  # negative
    yield Sample((x, fw, aw), {}, dtypes=(dtype, "float64", "float64"))  # fweights must be integral
    yield Sample((x, fw, aw), {}, dtypes=(dtype, "int64", "int64"))  # aweights must be floating


def _cov_w(T, x, fw, aw, **kw):
    return T.cov(x, fweights=fw, aweights=aw, **kw)


register("cov", lambda T, x, **kw: T.cov(x, **kw), _cov, dtypes=ALL)
register("cov_weights", _cov_w, _cov_weights, dtypes=F32_64)


def _corrcoef(rng, dtype):
    for shape in ((3, 6), (6,), (), (1, 4), (2, 1), (2, 2, 2)):
        yield Sample((values(rng, shape, dtype),), {})
    yield Sample((np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]),), {})


register("corrcoef", lambda T, x: T.corrcoef(x), _corrcoef, dtypes=ALL)


def _dist(rng, dtype):
    for p in (0, 1, 2, 3.5, -1.5, math.inf, -math.inf):
        yield Sample((values(rng, (3, 4), dtype), values(rng, (4,), dtype)), dict(p=p))
        yield Sample((values(rng, (0, 2), dtype), values(rng, (2,), dtype)), dict(p=p))
    yield Sample((values(rng, (), dtype), values(rng, (3,), dtype)), {})
    yield Sample((values(rng, (3, 4), dtype), values(rng, (4,), "float64")), {}, dtypes=(dtype, "float64"))
    yield Sample((values(rng, (3, 4), dtype), values(rng, (3,), dtype)), {})  # not broadcastable


def _dist_grad(rng, dtype):
    # p=0: torch 2.13's backward raises ("Expected a proper Tensor but got None"); ferrum's gradient
    # is 0 (tests/ops/test_combine.py)
    for s in _dist(rng, "float64"):
        if s.kwargs.get("p") != 0:
            yield s


register("dist", lambda T, a, b, **kw: T.dist(a, b, **kw), _dist, dtypes=ALL, grad_samples=_dist_grad)


def _renorm(rng, dtype):
    x = values(rng, (3, 4, 2), dtype, domain=(-3.0, 3.0))
    for p in (1, 2, 3.0, math.inf):
        for dim in (0, 1, -1):
            for maxnorm in (0.0, 0.7, 2.5, 100.0):
                yield Sample((x,), dict(p=p, dim=dim, maxnorm=maxnorm))
    yield Sample((values(rng, (0, 3), dtype),), dict(p=2, dim=0, maxnorm=1.0))
    yield Sample((values(rng, (3, 4), dtype),), dict(p=2, dim=1, maxnorm=1.0), strided=True)
    yield Sample((values(rng, (3,), dtype),), dict(p=2, dim=0, maxnorm=1.0))  # needs 2 dims
    yield Sample((x,), dict(p=0, dim=0, maxnorm=1.0))
    yield Sample((x,), dict(p=-1, dim=0, maxnorm=1.0))
    yield Sample((x,), dict(p=2, dim=0, maxnorm=-1.0))
    yield Sample((x,), dict(p=2, dim=3, maxnorm=1.0))


def _renorm_grad(rng, dtype):
    # away from the kink norm == maxnorm (norms of these slices are far from 0.7 and 2.5)
    x = values(rng, (3, 4, 2), "float64", domain=(-3.0, 3.0))
    for s in _renorm(rng, "float64"):
        kw = s.kwargs
        if len(s.args[0].shape) == 3 and kw["p"] > 0 and kw["maxnorm"] >= 0 and kw["dim"] < 3:
            yield Sample((x,), kw)


register("renorm", lambda T, x, **kw: T.renorm(x, **kw), _renorm, dtypes=FLOATS + ("int64",),
         grad_samples=_renorm_grad)
register("renorm_method", lambda T, x, **kw: x.renorm(**kw), _renorm, dtypes=F32_64,
         grad_samples=_renorm_grad)
register("renorm_inplace", lambda T, x, **kw: (x * 1).renorm_(**kw), _renorm, dtypes=F32_64,
         grad_samples=_renorm_grad)
