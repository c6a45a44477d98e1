"""Registry entries: convolutions (conv1d/2d/3d, conv_transpose1d/2d/3d) and fold/unfold."""

from __future__ import annotations

from .core import Sample, register, values

F32_64 = ("float32", "float64")


def _conv_samples(nd, transposed):
    def gen(rng, dtype):
        sp = (6, 5, 4)[:nd] if nd < 3 else ((3, 2, 2) if transposed else (4, 3, 3))
        k = (3, 2, 2)[:nd]
        cases = [(2, 1, {}), (4, 2, {"stride": 2, "padding": 1}), (4, 4, {"dilation": 2})]
        if nd == 2:  # the shifted-GEMM kernels (>= 16 channels per group)
            cases.append((16, 1, {"padding": 1}))
        for cin, groups, kw in cases:
            cout = 4
            w = (cin, cout // groups) + k if transposed else (cout, cin // groups) + k
            arrays = (values(rng, (2, cin) + sp, dtype), values(rng, w, dtype), values(rng, (cout,), dtype))
            yield Sample(arrays, dict(kw, groups=groups))
        # unbatched, strided (non-contiguous) input, no bias
        w = (3, 2) + k if transposed else (2, 3) + k
        yield Sample((values(rng, (3,) + sp, dtype), values(rng, w, dtype), None), {"padding": 1})
        yield Sample((values(rng, (1, 3) + sp, dtype), values(rng, w, dtype), None), {}, strided=True)
        if transposed:
            yield Sample((values(rng, (1, 3) + sp, dtype), values(rng, w, dtype), None),
                         {"stride": 2, "output_padding": 1})
        else:
            yield Sample((values(rng, (1, 3) + sp, dtype), values(rng, w, dtype), None),
                         {"padding": "same", "dilation": 2})
            yield Sample((values(rng, (0, 3) + sp, dtype), values(rng, w, dtype), None), {})

    return gen


def _conv_errors(nd, transposed):
    def gen(rng):
        sp = (6, 5, 4)[:nd]
        k = (3,) * nd
        w = values(rng, (3, 2) + k, "float32")
        yield Sample((values(rng, (1, 4) + sp, "float32"), w, None), {})                  # channels
        yield Sample((values(rng, (1, 3) + (1,) * nd, "float32"), w, None), {"padding": 3} if transposed
                     else {})                                                               # too small
        yield Sample((values(rng, (3,), "float32"), w, None), {})                          # rank
        yield Sample((values(rng, (1, 3) + sp, "float32"), w, None), {"stride": 0})
        yield Sample((values(rng, (1, 3) + sp, "float32"), w, None), {"padding": -1})

    return gen


for _nd in (1, 2, 3):
    for _t in (False, True):
        _name = f"conv_transpose{_nd}d" if _t else f"conv{_nd}d"
        register(
            f"F.{_name}",
            lambda T, x, w, b, _n=_name, **k: getattr(T.nn.functional, _n)(x, w, b, **k),
            _conv_samples(_nd, _t),
            dtypes=F32_64,
            errors=_conv_errors(_nd, _t),
        )


def _unfold_samples(rng, dtype):
    yield Sample((values(rng, (2, 3, 5, 4), dtype), 2), {"padding": 1, "stride": 2})
    yield Sample((values(rng, (3, 5, 4), dtype), (2, 3)), {"dilation": (2, 1)})
    yield Sample((values(rng, (1, 2, 5, 6), dtype), 3), {}, strided=True)
    yield Sample((values(rng, (0, 2, 5, 4), dtype), 2), {})


def _fold_samples(rng, dtype):
    yield Sample((values(rng, (2, 12, 9), dtype), (5, 4), 2), {"padding": 1, "stride": 2})
    yield Sample((values(rng, (12, 6), dtype), (4, 4), (2, 3)), {"dilation": (2, 1)})
    yield Sample((values(rng, (1, 8, 20), dtype), (5, 6), 2), {}, strided=True)


def _fold_errors(rng):
    yield Sample((values(rng, (2, 12, 8), "float32"), (4, 4), 2), {})
    yield Sample((values(rng, (2, 11, 9), "float32"), (4, 4), 2), {})


def _unfold_errors(rng):
    yield Sample((values(rng, (2, 3, 4, 4, 4), "float32"), 2), {})
    yield Sample((values(rng, (2, 3, 1, 1), "float32"), 2), {})


register("F.unfold", lambda T, x, k, **kw: T.nn.functional.unfold(x, k, **kw), _unfold_samples,
         dtypes=F32_64, errors=_unfold_errors)
register("F.fold", lambda T, x, o, k, **kw: T.nn.functional.fold(x, o, k, **kw), _fold_samples,
         dtypes=F32_64, errors=_fold_errors)
