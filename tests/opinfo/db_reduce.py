"""Registry entries: reductions, scans, sorting and selection along a dim."""

from __future__ import annotations

import math

import numpy as np

from .core import ALL, FLOATS, INTS, Sample, reduction, register, values

NUMERIC = FLOATS + INTS


def _red(
    name,
    fn=None,
    dtypes=FLOATS,
    dims=(None, 0, -1, (0, 1)),
    keepdim=True,
    distinct=False,
    grad=True,
    empty=True,
    **kw,
):
    fn = fn or (lambda T, x, _n=name, **k: getattr(T, _n)(x, **k))
    register(
        name,
        fn,
        reduction(dims, keepdim, distinct=distinct, empty=empty),
        dtypes=dtypes,
        grad=grad,
        grad_samples=reduction(dims, keepdim, distinct=True, empty=empty),
        # ops whose result is unspecified on ties (indices) or on empty input draw only from their own
        # samples in the differential test, never from hypothesis' arbitrary values
        kind="reduction" if empty and not distinct else "other",
        **kw,
    )


_red("sum", dtypes=ALL)
_red("sum_int32", lambda T, x, **k: T.sum(x, dtype=T.int32, **k), dtypes=FLOATS + INTS, grad=False)
_red("sum_float64", lambda T, x, **k: T.sum(x, dtype=T.float64, **k), dtypes=NUMERIC, grad=False)
_red("nansum", dtypes=FLOATS)
_red("mean", dtypes=FLOATS)
_red("nanmean", dtypes=FLOATS)
_red("prod", dims=(None, 0, -1), dtypes=ALL)
_red("amax", dims=(0, -1, (0, 1)), dtypes=ALL, distinct=True)
_red("amin", dims=(0, -1, (0, 1)), dtypes=ALL, distinct=True)
_red("amax_all", lambda T, x, **k: T.amax(x, **k), dims=(None,), dtypes=NUMERIC, distinct=True)
_red("max_dim", lambda T, x, **k: T.max(x, **k), dims=(0, -1), dtypes=NUMERIC, distinct=True)
_red("min_dim", lambda T, x, **k: T.min(x, **k), dims=(0, -1), dtypes=NUMERIC, distinct=True)
_red("max_all", lambda T, x: T.max(x), dims=(None,), dtypes=NUMERIC, distinct=True)
_red("argmax", dims=(None, 0, -1), dtypes=NUMERIC + ("bool",), distinct=True, grad=False)
_red("argmin", dims=(None, 0, -1), dtypes=NUMERIC + ("bool",), distinct=True, grad=False)
_red("all", dims=(None, 0, -1), dtypes=ALL, grad=False)
_red("any", dims=(None, 0, -1), dtypes=ALL, grad=False)
_red(
    "count_nonzero",
    lambda T, x, dim=None: T.count_nonzero(x, dim),
    dims=(None, 0, (0, 1)),
    keepdim=False,
    dtypes=ALL,
    grad=False,
)
_red("var", dims=(None, 0, -1, (0, 1)), dtypes=FLOATS)
_red("std", dims=(None, 0, -1), dtypes=FLOATS)
_red("var_correction0", lambda T, x, **k: T.var(x, correction=0, **k), dtypes=FLOATS)
_red(
    "logsumexp",
    lambda T, x, dim=0, keepdim=False: T.logsumexp(x, dim, keepdim),
    dims=(0, -1, (0, 1)),
    dtypes=FLOATS,
)
_red("norm", lambda T, x, **k: T.norm(x, **k), dims=(None, 0, -1), dtypes=FLOATS)
for _p in (1, 3, math.inf):
    _red(f"norm_p{_p}", lambda T, x, _p=_p, **k: T.norm(x, _p, **k), dims=(None, 0, -1), dtypes=FLOATS,
         distinct=_p == math.inf)
_red("aminmax", lambda T, x, **k: tuple(T.aminmax(x, **k)), dims=(0, -1), dtypes=NUMERIC, distinct=True)
# the median of an empty integer tensor is undefined in torch (it returns uninitialised memory)
_red("median_all", lambda T, x: T.median(x), dims=(None,), dtypes=INTS, distinct=True, empty=False)
_red("median_all_float", lambda T, x: T.median(x), dims=(None,), dtypes=FLOATS, distinct=True)
_red("median", lambda T, x, **k: T.median(x, **k), dims=(0, -1), dtypes=NUMERIC, distinct=True)
_red("nanmedian", lambda T, x, **k: T.nanmedian(x, **k), dims=(0, -1), dtypes=FLOATS, distinct=True)
_red("mode", lambda T, x, **k: T.mode(x, **k), dims=(0, -1), dtypes=NUMERIC, distinct=True)
_red("kthvalue", lambda T, x, **k: T.kthvalue(x, 1, **k), dims=(0, -1), dtypes=NUMERIC, distinct=True)
_red("quantile", lambda T, x, **k: T.quantile(x, 0.3, **k), dims=(None, 0, -1), dtypes=("float32", "float64"))
_red(
    "nanquantile",
    lambda T, x, **k: T.nanquantile(x, 0.7, **k),
    dims=(None, 0, -1),
    dtypes=("float32", "float64"),
)


def _scan(name, fn, dtypes=FLOATS, distinct=False, grad=True):
    def gen(rng, dtype):
        for shape in [(5,), (3, 4), (2, 3, 4), (0,), (2, 0)]:
            x = values(rng, shape, dtype, distinct=distinct)
            for d in (0, -1):
                yield Sample((x,), {"dim": d})
        yield Sample((values(rng, (), dtype),), {"dim": 0})
        yield Sample((values(rng, (3, 4), dtype, distinct=distinct),), {"dim": 1}, strided=True)

    register(name, fn, gen, dtypes=dtypes, grad=grad)


_scan("cumsum", lambda T, x, dim: T.cumsum(x, dim), dtypes=ALL)
_scan("cumsum_int32", lambda T, x, dim: T.cumsum(x, dim, dtype=T.int32), dtypes=NUMERIC, grad=False)
_scan("cumprod", lambda T, x, dim: T.cumprod(x, dim), dtypes=ALL)
_scan("cummax", lambda T, x, dim: tuple(T.cummax(x, dim)), dtypes=NUMERIC, distinct=True)
_scan("cummin", lambda T, x, dim: tuple(T.cummin(x, dim)), dtypes=NUMERIC, distinct=True)
_scan("logcumsumexp", lambda T, x, dim: T.logcumsumexp(x, dim), dtypes=("float32", "float64"))
_scan("sort", lambda T, x, dim: tuple(T.sort(x, dim)), dtypes=NUMERIC, distinct=True)
_scan("sort_desc", lambda T, x, dim: tuple(T.sort(x, dim, descending=True)), dtypes=NUMERIC, distinct=True)
_scan("argsort", lambda T, x, dim: T.argsort(x, dim), dtypes=NUMERIC, distinct=True, grad=False)
_scan(
    "topk",
    lambda T, x, dim: tuple(T.topk(x, min(2, x.shape[dim] if x.dim() else 1), dim)),
    dtypes=NUMERIC,
    distinct=True,
)
_scan("softmax", lambda T, x, dim: T.softmax(x, dim), dtypes=FLOATS)
_scan("log_softmax", lambda T, x, dim: T.log_softmax(x, dim), dtypes=FLOATS)


def _unique(rng, dtype):
    for shape in [(6,), (0,), (), (3, 4)]:
        yield Sample((values(rng, shape, dtype),), {})
    yield Sample((values(rng, (3, 4), dtype),), {"dim": 0})


register(
    "unique",
    lambda T, x, **k: tuple(T.unique(x, return_inverse=True, return_counts=True, **k)),
    _unique,
    dtypes=NUMERIC,
    grad=False,
)
register(
    "unique_consecutive",
    lambda T, x, **k: tuple(T.unique_consecutive(x, return_inverse=True, return_counts=True, **k)),
    _unique,
    dtypes=NUMERIC,
    grad=False,
)


def _reduce_errors(rng):
    yield Sample((np.zeros((0, 3)),), {})


register(
    "amax_empty_error",
    lambda T, x: T.amax(x),
    lambda rng, dtype: iter(()),
    dtypes=(),
    grad=False,
    errors=_reduce_errors,
)
register(
    "argmax_empty_error",
    lambda T, x: T.argmax(x),
    lambda rng, dtype: iter(()),
    dtypes=(),
    grad=False,
    errors=_reduce_errors,
)
register(
    "sum_bad_dim_error",
    lambda T, x: T.sum(x, 5),
    lambda rng, dtype: iter(()),
    dtypes=(),
    grad=False,
    errors=_reduce_errors,
)
