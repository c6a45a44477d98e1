"""Registry entries: views, joins, rearrangement, indexing, gather/scatter."""

from __future__ import annotations

import numpy as np

from .core import ALL, FLOATS, INTS, Sample, register, shapes, values

NUMERIC = FLOATS + INTS
S234 = ((2, 3, 4),)


def _one(name, fn, shape_list, dtypes=ALL, grad=True, **kw):
    register(name, fn, shapes(*[(s,) for s in shape_list]), dtypes=dtypes, grad=grad, **kw)


_one("reshape", lambda T, x: T.reshape(x, (-1, 2)), [(2, 3, 4), (4,), (0, 2)])
_one("view", lambda T, x: x.view(x.shape[0], -1), [(2, 3, 4), (3, 4), (0, 4)])
_one("transpose", lambda T, x: T.transpose(x, 0, -1), [(2, 3, 4), (3,), (0, 2)])
_one("permute", lambda T, x: T.permute(x, (2, 0, 1)), [(2, 3, 4), (0, 2, 1)])
_one("t", lambda T, x: T.t(x), [(3, 4), (3,), ()])
_one("mT", lambda T, x: x.mT, [(2, 3, 4), (3, 4), ()])
_one("expand", lambda T, x: x.expand(2, *x.shape) if x.dim() else x.expand(3), [(3, 1), (), (0, 1)])
_one("expand_0", lambda T, x: x.expand(1, 0, 2), [(2,)])
_one("squeeze", lambda T, x: T.squeeze(x), [(1, 3, 1), (), (0, 1)])
_one("squeeze_dim", lambda T, x: T.squeeze(x, 0), [(1, 3, 1), (), (3, 1)])
_one("squeeze_dims", lambda T, x: T.squeeze(x, (0, 2)), [(1, 3, 1), (1, 3, 4)])
_one("unsqueeze", lambda T, x: T.unsqueeze(x, -1), [(2, 3), (), (0,)])
_one("flatten", lambda T, x: T.flatten(x), [(2, 3, 4), (), (0, 3)])
_one("flatten_range", lambda T, x: T.flatten(x, 1, 2), [(2, 3, 4), (2, 0, 3)])
_one("unflatten", lambda T, x: T.unflatten(x, 1, (3, 2)), [(2, 6), (0, 6)])
_one("narrow", lambda T, x: T.narrow(x, -1, 1, 2), [(2, 3, 4), (4,)])
_one("select", lambda T, x: T.select(x, 1, -1), [(2, 3, 4), (2, 3)])
_one("diagonal", lambda T, x: T.diagonal(x, 1, -2, -1), [(2, 3, 4), (3, 3), (0, 2)])
_one("flip", lambda T, x: T.flip(x, (0, -1)), [(2, 3, 4), (3,), (0, 2)])
_one("roll", lambda T, x: T.roll(x, 2, -1), [(2, 3, 4), (3,), (0, 2)])
_one("roll_flat", lambda T, x: T.roll(x, 3), [(2, 3, 4), ()])
_one("movedim", lambda T, x: T.movedim(x, 0, -1), [(2, 3, 4), (0, 2)])
_one("repeat", lambda T, x: x.repeat(2, 1, 3), [(2, 3), (), (0, 2)])
_one("tile", lambda T, x: T.tile(x, (2, 2)), [(2, 3), (3,), ()])
_one("repeat_interleave", lambda T, x: T.repeat_interleave(x, 2, dim=-1), [(2, 3), (3,), (0, 2)])
_one("repeat_interleave_flat", lambda T, x: x.repeat_interleave(3), [(2, 3), ()])
_one("repeat_interleave_counts", lambda T, x: x.repeat_interleave(T.tensor([1, 0, 2]), dim=-1),
     [(2, 3), (3,)])
_one("tril", lambda T, x: T.tril(x, -1), [(3, 4), (2, 3, 3), (0, 2)])
_one("triu", lambda T, x: T.triu(x, 1), [(3, 4), (2, 3, 3), (0, 2)])
_one("rot90", lambda T, x: T.rot90(x, 1, (0, 1)), [(3, 4), (2, 3, 4)])
_one("diag", lambda T, x: T.diag(x), [(3,), (3, 4), (0,)])
_one("chunk", lambda T, x: tuple(T.chunk(x, 3, -1)), [(2, 3, 4), (5,), (0, 2)])
_one("split", lambda T, x: tuple(T.split(x, 2, 0)), [(5, 3), (4,), (0,)])
_one("split_sizes", lambda T, x: tuple(T.split(x, [1, 3], -1)), [(2, 4), (4,)])
_one("unbind", lambda T, x: tuple(T.unbind(x, 1)), [(2, 3, 4), (0, 2)])
_one("contiguous", lambda T, x: x.contiguous(), [(2, 3, 4), ()])
_one("clone_strides", lambda T, x: (x.t().clone().stride(), x.t().clone()), [(2, 3)], grad=False)


def _join(name, fn):
    def gen(rng, dtype):
        for shp in [((2, 3), (1, 3)), ((0, 3), (2, 3)), ((3,), (4,))]:
            yield Sample(([values(rng, s, dtype) for s in shp],), {})

    register(name, fn, gen, dtypes=ALL, grad=False)


_join("cat", lambda T, xs: T.cat(xs))
_join("cat_empty_1d", lambda T, xs: T.cat([T.empty(0), *xs[:0]], 0))
register(
    "stack",
    lambda T, xs, dim: T.stack(xs, dim),
    lambda rng, dtype: iter(
        [Sample(([values(rng, (2, 3), dtype), values(rng, (2, 3), dtype)], d), {}) for d in (0, -1, 2)]
        + [Sample(([values(rng, (0,), dtype)] * 2, 0), {})]
    ),
    dtypes=ALL,
    grad=False,
)


# ---------------------------------------------------------------------------- indexing
def _gather_in(rng, dtype):
    yield values(rng, (3, 4), dtype), rng.integers(0, 4, (3, 2)), {}
    yield values(rng, (3, 4), dtype), rng.integers(0, 4, (0, 2)), {}


register(
    "gather",
    lambda T, x, i: T.gather(x, 1, i),
    lambda rng, dtype: iter(Sample(a[:2], {}, dtypes=(dtype, "int64")) for a in _gather_in(rng, dtype)),
    dtypes=NUMERIC,
)
register(
    "take_along_dim",
    lambda T, x, i: T.take_along_dim(x, i, 1),
    lambda rng, dtype: iter(Sample(a[:2], {}, dtypes=(dtype, "int64")) for a in _gather_in(rng, dtype)),
    dtypes=NUMERIC,
)
register(
    "index_select",
    lambda T, x, i: T.index_select(x, 0, i),
    lambda rng, dtype: iter(
        [
            Sample((values(rng, (4, 3), dtype), np.array([3, 0, 0])), dtypes=(dtype, "int64")),
            Sample((values(rng, (4, 3), dtype), np.zeros(0, np.int64)), dtypes=(dtype, "int64")),
        ]
    ),
    dtypes=NUMERIC,
)
register(
    "scatter",
    lambda T, x, i, s: T.scatter(x, 0, i, s),
    lambda rng, dtype: iter(
        [
            Sample(
                (values(rng, (3, 4), dtype), np.array([[0, 1, 2, 0]]), values(rng, (1, 4), dtype)),
                dtypes=(dtype, "int64", dtype),
            )
        ]
    ),
    dtypes=NUMERIC,
)
register(
    "scatter_add",
    lambda T, x, i, s: T.scatter_add(x, 0, i, s),
    lambda rng, dtype: iter(
        [
            Sample(
                (
                    values(rng, (3, 4), dtype),
                    np.array([[0, 0, 2, 0], [1, 0, 2, 2]]),
                    values(rng, (2, 4), dtype),
                ),
                dtypes=(dtype, "int64", dtype),
            )
        ]
    ),
    dtypes=NUMERIC,
)
for _red in ("sum", "prod", "mean", "amax", "amin"):
    register(
        f"scatter_reduce_{_red}",
        lambda T, x, i, s, _r=_red: T.scatter_reduce(x, 0, i, s, _r),
        lambda rng, dtype: iter(
            [
                Sample(
                    (values(rng, (2, 2), dtype), np.array([[1, 0]]), values(rng, (1, 2), dtype)),
                    dtypes=(dtype, "int64", dtype),
                ),
                Sample(
                    (values(rng, (0,), dtype), np.zeros(0, np.int64), values(rng, (0,), dtype)),
                    dtypes=(dtype, "int64", dtype),
                ),
            ]
        ),
        dtypes=NUMERIC,
        grad=_red in ("sum",),
    )
register(
    "index_put_acc",
    lambda T, x, i, v: T.index_put(x, (i,), v, True),
    lambda rng, dtype: iter(
        [
            Sample(
                (values(rng, (3,), dtype), np.array([[2, 0], [0, 2], [1, 1]]), values(rng, (2,), dtype)),
                dtypes=(dtype, "int64", dtype),
            ),
            Sample(
                (values(rng, (3,), dtype), np.array([2, 0, 2]), values(rng, (), dtype)),
                dtypes=(dtype, "int64", dtype),
            ),
        ]
    ),
    dtypes=NUMERIC,
)
register(
    "index_fill",
    lambda T, x, i: T.index_fill(x, 0, i, -1.5),
    lambda rng, dtype: iter(
        [Sample((values(rng, (3, 2), dtype), np.array([0, 0, 2])), dtypes=(dtype, "int64"))]
    ),
    dtypes=FLOATS,
)
register(
    "index_add",
    lambda T, x, i, s: T.index_add(x, 0, i, s),
    lambda rng, dtype: iter(
        [
            Sample(
                (values(rng, (3, 2), dtype), np.array([0, 0, 2]), values(rng, (3, 2), dtype)),
                dtypes=(dtype, "int64", dtype),
            )
        ]
    ),
    dtypes=NUMERIC,
)
register(
    "masked_fill",
    lambda T, x, m: T.masked_fill(x, m, 2.0),
    lambda rng, dtype: iter(
        [Sample((values(rng, (3, 4), dtype), rng.random((4,)) > 0.5), dtypes=(dtype, "bool"))]
    ),
    dtypes=NUMERIC,
)
register(
    "masked_select",
    lambda T, x, m: T.masked_select(x, m),
    lambda rng, dtype: iter(
        [Sample((values(rng, (3, 4), dtype), rng.random((3, 4)) > 0.5), dtypes=(dtype, "bool"))]
    ),
    dtypes=NUMERIC,
)
register(
    "take",
    lambda T, x, i: T.take(x, i),
    lambda rng, dtype: iter(
        [Sample((values(rng, (3, 4), dtype), np.array([[0, 11], [5, -1]])), dtypes=(dtype, "int64"))]
    ),
    dtypes=NUMERIC,
)
register("nonzero", lambda T, x: T.nonzero(x), shapes(((3, 4),), ((0,),), ((),)), dtypes=ALL, grad=False)


def _getitem(key):
    return lambda T, x: x[key(T) if callable(key) else key]


for _n, _k in [
    ("basic", (slice(None), 1)),
    ("ellipsis", (Ellipsis, 0)),
    ("newaxis", (None, 1, slice(1, None))),
    ("step", (slice(None, None, 2),)),
    ("list", ([0, 2, 2],)),
    ("range", (range(2), [1, 0])),
    ("bool_mask", lambda T: T.tensor([True, False, True])),
    ("neg", (-1, -2)),
]:
    register(f"getitem_{_n}", _getitem(_k), shapes(((3, 4),)), dtypes=NUMERIC)


def _setitem(key, val):
    def f(T, x):
        y = x.clone()
        y[key] = val(T) if callable(val) else val
        return y

    return f


register("setitem_range", _setitem((range(3), [0, 1, 1]), -1.0), shapes(((3, 4),)), dtypes=FLOATS)
register("setitem_0d", _setitem((), lambda T: T.ones(1)), shapes(((),)), dtypes=FLOATS, grad=False)
register("setitem_scalar_0d", _setitem((), 2.0), shapes(((),)), dtypes=FLOATS)
register(
    "setitem_broadcast",
    _setitem((slice(None), 0), lambda T: T.tensor([5.0])),
    shapes(((3, 4),)),
    dtypes=FLOATS,
    grad=False,
)
register(
    "expanded_diag_mul_",
    lambda T, x: (lambda b: (b.expand(2, 2).diagonal().mul_(2), b)[1])(x.clone()),
    shapes(((2, 1),)),
    dtypes=FLOATS,
    grad=False,
)
