"""Registry entries: resampling (interpolate in every mode, grid_sample, affine_grid) and the
sub-pixel rearrangements (pixel_shuffle, pixel_unshuffle)."""

from __future__ import annotations

from .core import ALL, F64, FLOATS, Sample, register, values

LOW = ("float32", "float64", "bfloat16")


def _interp_gen(shapes, kwargs):
    def gen(rng, dtype):
        for shape in shapes:
            for kw in kwargs:
                yield Sample((values(rng, shape, dtype),), dict(kw))
        yield Sample((values(rng, shapes[0], dtype),), dict(kwargs[0]), strided=True)
        yield Sample((values(rng, (0,) + shapes[0][1:], dtype),), dict(kwargs[0]))  # empty batch

    return gen


def _interp_errors(shape, mode):
    def gen(rng):
        x = values(rng, shape, "float32")
        nd = len(shape) - 2
        yield Sample((x,), {"mode": mode, "size": 3, "scale_factor": 2.0})
        yield Sample((x,), {"mode": mode})
        yield Sample((x,), {"mode": mode, "size": (3,) * (nd + 1)})
        yield Sample((x,), {"mode": mode, "scale_factor": (2.0,) * (nd + 1)})
        yield Sample((x,), {"mode": mode, "scale_factor": 0.1})
        yield Sample((x,), {"mode": mode, "size": 3, "recompute_scale_factor": True})
        yield Sample((values(rng, shape[:2], "float32"),), {"mode": mode, "size": 3})
        if mode in ("nearest", "area"):
            yield Sample((x,), {"mode": mode, "size": 3, "align_corners": True})

    return gen


_INTERP = {
    "nearest": [(2, 3, 5), (1, 2, 3, 4), (1, 1, 2, 3, 4)],
    "nearest-exact": [(2, 3, 5), (1, 2, 3, 4), (1, 1, 2, 3, 4)],
    "area": [(2, 3, 7), (1, 2, 5, 6), (1, 1, 3, 4, 5)],
    "linear": [(2, 3, 5)],
    "bilinear": [(1, 2, 3, 4)],
    "bicubic": [(1, 2, 4, 5)],
    "trilinear": [(1, 1, 2, 3, 4)],
}
for _mode, _shapes in _INTERP.items():
    _interp_kw = [{"size": 7}, {"size": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6},
                  {"scale_factor": 2.5, "recompute_scale_factor": True}]
    if _mode in ("linear", "bilinear", "bicubic", "trilinear"):
        _interp_kw += [dict(k, align_corners=True) for k in _interp_kw[:3]]
    if _mode in ("bilinear", "bicubic"):
        _interp_kw += [dict(k, antialias=True) for k in _interp_kw[:4]]
    register(
        f"F.interpolate_{_mode}",
        lambda T, x, _m=_mode, **kw: T.nn.functional.interpolate(x, mode=_m, **kw),
        _interp_gen(_shapes, _interp_kw),
        dtypes=FLOATS,
        errors=_interp_errors(_shapes[0], _mode),
        atol=1e-5,  # float32 sums in a different order than torch's kernels (separable here)
    )


def _grid_gen(mode, nd):
    def gen(rng, dtype):
        shp = (2, 2, 3, 4) if nd == 2 else (1, 2, 2, 3, 3)
        gshp = (2, 2, 3, 2) if nd == 2 else (1, 2, 2, 2, 3)
        for pad in ("zeros", "border", "reflection"):
            for ac in (False, True):
                # points inside and well outside [-1, 1], away from cell edges (no kinks in gradcheck)
                g = rng.uniform(-1.6, 1.6, gshp)
                yield Sample((values(rng, shp, dtype), g), {"mode": mode, "padding_mode": pad,
                                                            "align_corners": ac})
        yield Sample((values(rng, shp, dtype), rng.uniform(-1, 1, gshp)),
                     {"mode": mode, "align_corners": False}, strided=True)

    return gen


def _grid_grad_gen(mode, nd):
    """Fewer, smaller float64 samples for gradcheck (one per padding mode, alternating corners)."""

    def gen(rng, dtype):
        shp = (1, 1, 3, 3) if nd == 2 else (1, 1, 2, 2, 3)
        gshp = (1, 2, 2, 2) if nd == 2 else (1, 1, 2, 2, 3)
        for k, pad in enumerate(("zeros", "border", "reflection")):
            yield Sample((values(rng, shp, dtype), rng.uniform(-1.6, 1.6, gshp)),
                         {"mode": mode, "padding_mode": pad, "align_corners": bool(k % 2)})

    return gen


def _grid_errors(rng):
    x = values(rng, (1, 2, 3, 4), "float32")
    g = rng.uniform(-1, 1, (1, 2, 2, 2))
    yield Sample((x, g), {"mode": "cubic", "align_corners": False})
    yield Sample((x, g), {"padding_mode": "wrap", "align_corners": False})
    yield Sample((x, rng.uniform(-1, 1, (1, 2, 2, 3))), {"align_corners": False})
    yield Sample((x, rng.uniform(-1, 1, (2, 2, 2, 2))), {"align_corners": False})
    yield Sample((x, rng.uniform(-1, 1, (1, 2, 2))), {"align_corners": False})
    yield Sample((values(rng, (1, 2, 0, 4), "float32"), g), {"align_corners": False})
    yield Sample((values(rng, (1, 1, 2, 2, 2), "float32"), rng.uniform(-1, 1, (1, 1, 1, 1, 3))),
                 {"mode": "bicubic", "align_corners": False})
    yield Sample((x, g), {"align_corners": False}, dtypes=("float32", "float64"))


for _mode in ("bilinear", "nearest", "bicubic"):
    for _nd in (2, 3):
        if _mode == "bicubic" and _nd == 3:
            continue
        register(
            f"F.grid_sample_{_mode}_{_nd}d",
            lambda T, x, g, **kw: T.nn.functional.grid_sample(x, g, **kw),
            _grid_gen(_mode, _nd),
            dtypes=LOW,
            errors=_grid_errors if (_mode, _nd) == ("bilinear", 2) else None,
            grad_samples=_grid_grad_gen(_mode, _nd),
            atol=1e-5,
        )


def _affine_gen(rng, dtype):
    for size in ((2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 2, 3, 4)):
        th = values(rng, (size[0], 2, 3) if len(size) == 4 else (size[0], 3, 4), dtype)
        for ac in (False, True):
            if ac and min(size[2:]) == 1:
                continue  # torch warns that this is not an intended use
            yield Sample((th,), {"size": size, "align_corners": ac})


def _affine_errors(rng):
    yield Sample((values(rng, (1, 3, 4), "float32"),), {"size": (1, 1, 2, 2), "align_corners": False})
    yield Sample((values(rng, (1, 2, 3), "float32"),), {"size": (1, 1, 2, 2, 2), "align_corners": False})
    yield Sample((values(rng, (1, 2, 3), "float32"),), {"size": (1, 1, 2), "align_corners": False})
    yield Sample((values(rng, (1, 2, 3), "float32"),), {"size": (1, 1, 0, 2), "align_corners": False})
    yield Sample((values(rng, (2, 2, 3), "float32"),), {"size": (1, 1, 2, 2), "align_corners": False})
    yield Sample((values(rng, (1, 2, 3), "int64"),), {"size": (1, 1, 2, 2), "align_corners": False},
                 dtypes=("int64",))


register("F.affine_grid", lambda T, th, **kw: T.nn.functional.affine_grid(th, **kw), _affine_gen,
         dtypes=("float32", "float64"), errors=_affine_errors)


def _shuffle_gen(op):
    def gen(rng, dtype):
        if op == "pixel_shuffle":
            cases = [((2, 8, 2, 3), 2), ((9, 2, 2), 3), ((2, 1, 4, 1, 2), 2), ((3, 2, 2), 1)]
        else:
            cases = [((2, 2, 4, 6), 2), ((1, 6, 6), 3), ((2, 1, 1, 4, 2), 2), ((3, 2, 2), 1)]
        # empty inputs are in tests/ops/test_pixel_shuffle.py: torch's pixel_unshuffle returns them
        # unchanged in shape, so its pixel_shuffle backward fails on them
        for shape, r in cases:
            yield Sample((values(rng, shape, dtype), r))
        yield Sample((values(rng, cases[0][0], dtype), cases[0][1]), strided=True)

    return gen


def _shuffle_errors(op):
    def gen(rng):
        yield Sample((values(rng, (4, 4), "float32"), 2))
        yield Sample((values(rng, (1, 4, 4, 4), "float32"), 0))
        yield Sample((values(rng, (1, 4, 4, 4), "float32"), -2))
        yield Sample((values(rng, (1, 3, 3, 6), "float32"), 2))
        yield Sample((values(rng, (1, 3, 6, 3), "float32"), 2))
        yield Sample((values(rng, (1, 4, 4, 4), "float32"), 2.0))

    return gen


for _op in ("pixel_shuffle", "pixel_unshuffle"):
    register(f"F.{_op}", lambda T, x, r, _o=_op: getattr(T.nn.functional, _o)(x, r), _shuffle_gen(_op),
             dtypes=ALL, errors=_shuffle_errors(_op))
    register(f"{_op}", lambda T, x, r, _o=_op: getattr(T, _o)(x, r), _shuffle_gen(_op), dtypes=F64,
             grad=False)


def _channel_shuffle_gen(rng, dtype):
    for shape, g in (((2, 6, 3), 2), ((2, 6, 3), 3), ((1, 4, 2, 3), 4), ((3, 2, 2, 1, 2), 1), ((0, 4, 2), 2)):
        yield Sample((values(rng, shape, dtype), g))
    yield Sample((values(rng, (2, 6, 3, 2), dtype), 3), strided=True)


def _channel_shuffle_errors(rng):
    yield Sample((values(rng, (4, 4), "float32"), 2))
    yield Sample((values(rng, (1, 4, 4), "float32"), 0))
    yield Sample((values(rng, (1, 4, 4), "float32"), -1))
    yield Sample((values(rng, (1, 5, 4), "float32"), 2))


register("F.channel_shuffle", lambda T, x, g: T.nn.functional.channel_shuffle(x, g), _channel_shuffle_gen,
         dtypes=ALL, errors=_channel_shuffle_errors)
register("channel_shuffle", lambda T, x, g: T.channel_shuffle(x, g), _channel_shuffle_gen, dtypes=F64)
