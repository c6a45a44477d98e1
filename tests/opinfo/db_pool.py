"""Registry entries: pooling (max, avg, adaptive, lp, max_unpool) in 1, 2 and 3 dimensions.

Max-pooling samples hold distinct values (no ties: the position of a tied maximum is not defined),
in float32 and float64 only (float16's rounding would bring ties back). avg_pool3d is tested in
float32 and float64: PyTorch's CPU kernel refuses float16 and bfloat16, which ferrum computes."""

from __future__ import annotations

import numpy as np

from .core import FLOATS, Sample, register, values

F32_64 = ("float32", "float64")


def _gen(shapes_kwargs, distinct=False, domain=None, strided_first=True):
    def gen(rng, dtype):
        for i, (shape, kw) in enumerate(shapes_kwargs):
            yield Sample(
                (values(rng, shape, dtype, domain, distinct),), dict(kw), strided=strided_first and i == 0
            )

    return gen


def _errors(cases):
    def gen(rng):
        for shape, kw in cases:
            yield Sample((values(rng, shape, "float32"),), dict(kw))

    return gen


def _F(name):
    return lambda T, x, **k: getattr(T.nn.functional, name)(x, **k)


_MAX2 = [
    ((2, 3, 6, 7), dict(kernel_size=2)),
    ((2, 3, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((3, 5, 6), dict(kernel_size=(2, 3), stride=1, dilation=(2, 1), ceil_mode=True)),
    ((1, 2, 5, 5), dict(kernel_size=2, return_indices=True, ceil_mode=True)),
]
register(
    "F.max_pool2d",
    _F("max_pool2d"),
    _gen(_MAX2, distinct=True),
    dtypes=F32_64,
    errors=_errors(
        [
            ((4,), dict(kernel_size=2)),
            ((1, 1, 4, 4), dict(kernel_size=5)),
            ((1, 1, 4, 4), dict(kernel_size=2, padding=2)),
            ((1, 1, 4, 4), dict(kernel_size=2, stride=0)),
        ]
    ),
)
register(
    "F.max_pool1d",
    _F("max_pool1d"),
    _gen(
        [
            ((2, 3, 9), dict(kernel_size=2)),
            ((3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
            ((2, 2, 9), dict(kernel_size=2, dilation=3, return_indices=True)),
        ],
        distinct=True,
    ),
    dtypes=F32_64,
    errors=_errors([((2, 3, 4, 4), dict(kernel_size=2)), ((1, 1, 4), dict(kernel_size=5))]),
)
register(
    "F.max_pool3d",
    _F("max_pool3d"),
    _gen(
        [
            ((1, 2, 4, 4, 5), dict(kernel_size=2)),
            ((2, 4, 5, 4), dict(kernel_size=3, stride=2, padding=1)),
            ((1, 2, 3, 4, 5), dict(kernel_size=(1, 2, 2), stride=1, return_indices=True)),
        ],
        distinct=True,
    ),
    dtypes=F32_64,
    errors=_errors([((2, 3, 4), dict(kernel_size=2)), ((1, 1, 2, 2, 2), dict(kernel_size=3))]),
)

_AVG2 = [
    ((2, 3, 6, 7), dict(kernel_size=2)),
    ((2, 3, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((3, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ((1, 2, 5, 5), dict(kernel_size=2, divisor_override=3)),
]
register(
    "F.avg_pool2d",
    _F("avg_pool2d"),
    _gen(_AVG2),
    dtypes=FLOATS,
    errors=_errors(
        [
            ((1, 2, 3, 4, 4), dict(kernel_size=2)),
            ((1, 1, 4, 4), dict(kernel_size=5)),
            ((1, 1, 4, 4), dict(kernel_size=2, divisor_override=0)),
        ]
    ),
)
register(
    "F.avg_pool1d",
    _F("avg_pool1d"),
    _gen(
        [
            ((2, 3, 9), dict(kernel_size=2)),
            ((3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        ]
    ),
    dtypes=FLOATS,
    errors=_errors([((2, 3, 4, 4), dict(kernel_size=2))]),
)
register(
    "F.avg_pool3d",
    _F("avg_pool3d"),
    _gen(
        [
            ((1, 2, 4, 4, 5), dict(kernel_size=2)),
            ((2, 4, 5, 4), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
        ]
    ),
    dtypes=F32_64,
    errors=_errors([((2, 3, 4), dict(kernel_size=2))]),
)

for _n, _shapes in (
    (1, [(2, 3, 7), (3, 5)]),
    (2, [(2, 3, 7, 6), (3, 5, 4)]),
    (3, [(1, 2, 4, 5, 3), (2, 3, 4, 5)]),
):
    _sz = [
        ((_shapes[0]), dict(output_size=3)),
        ((_shapes[1]), dict(output_size=2)),
        ((_shapes[0]), dict(output_size=1)),
    ]
    if _n > 1:
        _sz.append((_shapes[0], dict(output_size=(None,) + (2,) * (_n - 1))))
    register(
        f"F.adaptive_avg_pool{_n}d",
        _F(f"adaptive_avg_pool{_n}d"),
        _gen(_sz),
        dtypes=FLOATS,
        errors=_errors([((2,) * (_n + 3), dict(output_size=2))]),
    )
    _szi = _sz + [((_shapes[1]), dict(output_size=4, return_indices=True))]
    register(
        f"F.adaptive_max_pool{_n}d",
        _F(f"adaptive_max_pool{_n}d"),
        _gen(_szi, distinct=True),
        dtypes=F32_64,
        errors=_errors([((2,) * (_n + 3), dict(output_size=2))]),
    )

for _n, _shape in ((1, (2, 3, 8)), (2, (2, 3, 6, 5)), (3, (1, 2, 4, 4, 5))):
    register(
        f"F.lp_pool{_n}d",
        lambda T, x, _n=_n, **k: getattr(T.nn.functional, f"lp_pool{_n}d")(x, **k),
        _gen(
            [
                (_shape, dict(norm_type=2.0, kernel_size=2)),
                (_shape, dict(norm_type=3.0, kernel_size=2, stride=1, ceil_mode=True)),
            ],
            domain=(0.2, 2.0),
        ),
        dtypes=F32_64,
    )


def _unpool(n):
    def fn(T, x, **k):
        F = T.nn.functional
        # the indices come from a max pooling of a fixed input without ties
        src = T.tensor(
            np.random.default_rng(5)
            .permutation(int(np.prod(x.shape)) * 4)
            .reshape(x.shape[:-n] + tuple(2 * s for s in x.shape[-n:]))
            .astype(np.float64)
        )
        _, idx = getattr(F, f"max_pool{n}d")(src, 2, return_indices=True)
        return getattr(F, f"max_unpool{n}d")(x, idx, 2, **k)

    return fn


for _n, _shape in ((1, (2, 3, 4)), (2, (2, 3, 3, 2)), (3, (1, 2, 2, 3, 2))):
    register(f"F.max_unpool{_n}d", _unpool(_n), _gen([(_shape, {}), (_shape[1:], {})]), dtypes=F32_64)
