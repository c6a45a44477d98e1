"""Registry entries: the normalization ops (ops/batch_norm.py, ops/normalization.py)."""

from __future__ import annotations

import numpy as np

from .core import FLOATS, Sample, register, values


def _pos(rng, shape, dtype):
    return values(rng, shape, dtype, (0.5, 2.0))


def _stats(rng, c):
    """Running statistics as plain lists: made tensors (of the input's dtype) inside the call, so
    that they are buffers, not inputs that gradcheck would differentiate."""
    return rng.standard_normal(c).round(3).tolist(), rng.uniform(0.5, 2.0, c).round(3).tolist()


def _bn_samples(training):
    def gen(rng, dtype):
        for shape in ((4, 3), (2, 3, 5), (2, 3, 2, 3)):
            c = shape[1]
            rm, rv = _stats(rng, c)
            w, b = _pos(rng, (c,), dtype), values(rng, (c,), dtype)
            yield Sample((values(rng, shape, dtype), rm, rv, w, b), {"training": training})
        rm, rv = _stats(rng, 2)
        yield Sample((values(rng, (3, 2, 4), dtype), rm, rv, None, None), {"training": training},
                     strided=True)
    return gen


def _bn_call(T, x, rm, rv, w, b, training):
    rm = T.tensor(rm, dtype=x.dtype)
    rv = T.tensor(rv, dtype=x.dtype)
    return T.nn.functional.batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3), rm, rv


def _bn(T, *args, **kw):
    return _bn_call(T, *args, **kw)[0]


def _bn_running(T, *args, **kw):
    """The running statistics after the call (updated in place in training)."""
    _, rm, rv = _bn_call(T, *args, **kw)
    return rm, rv


def _bn_errors(rng):
    rm, rv = _stats(rng, 3)
    yield Sample((values(rng, (1, 3), "float32"), rm, rv, None, None), {"training": True})
    yield Sample((values(rng, (2, 4, 4), "float32"), rm, rv, None, None), {"training": False})
    yield Sample((values(rng, (2, 3, 4), "float32"), rm, rv, values(rng, (2,), "float32"), None),
                 {"training": True})
    yield Sample((np.arange(24).reshape(2, 3, 4), rm, rv, None, None), {"training": True}, dtypes=("int64",))


register("F.batch_norm", _bn, _bn_samples(True), dtypes=FLOATS, errors=_bn_errors)
register("F.batch_norm_eval", _bn, _bn_samples(False), dtypes=FLOATS)
register("F.batch_norm_running", _bn_running, _bn_samples(True), dtypes=FLOATS, grad=False)
register(
    "F.batch_norm_nostats",
    lambda T, x, w, b: T.nn.functional.batch_norm(x, None, None, w, b, training=True),
    lambda rng, dtype: iter([Sample((values(rng, (3, 2, 4), dtype), values(rng, (2,), dtype),
                                     values(rng, (2,), dtype)))]),
    dtypes=FLOATS,
)
register(
    "F.instance_norm",
    lambda T, x, w, b: T.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-3),
    lambda rng, dtype: iter([Sample((values(rng, (2, 3, 5), dtype), values(rng, (3,), dtype),
                                     values(rng, (3,), dtype))),
                             Sample((values(rng, (2, 2, 3, 2), dtype), None, None))]),
    dtypes=FLOATS,
    errors=lambda rng: iter([Sample((values(rng, (2, 3, 1), "float32"), None, None))]),
)


def _ln_samples(rng, dtype):
    yield Sample((values(rng, (2, 3, 4), dtype), (4,), values(rng, (4,), dtype), values(rng, (4,), dtype)))
    yield Sample((values(rng, (2, 3, 4), dtype), (3, 4), values(rng, (3, 4), dtype), None))
    yield Sample((values(rng, (5,), dtype), (5,), None, None))
    yield Sample((values(rng, (2, 3, 4), dtype), (4,), None, values(rng, (4,), dtype)), strided=True)


def _ln_errors(rng):
    yield Sample((values(rng, (2, 3), "float32"), (4,), None, None))
    yield Sample((values(rng, (2, 3), "float32"), (3,), values(rng, (4,), "float32"), None))


register("F.layer_norm", lambda T, x, ns, w, b: T.nn.functional.layer_norm(x, ns, w, b, eps=1e-4),
         _ln_samples, dtypes=FLOATS, errors=_ln_errors)


def _gn_samples(rng, dtype):
    yield Sample((values(rng, (2, 4, 3), dtype), 2, values(rng, (4,), dtype), values(rng, (4,), dtype)))
    yield Sample((values(rng, (2, 6, 2, 2), dtype), 3, None, None))
    yield Sample((values(rng, (3, 4), dtype), 4, values(rng, (4,), dtype), None))


register(
    "F.group_norm",
    lambda T, x, g, w, b: T.nn.functional.group_norm(x, g, w, b, eps=1e-4),
    _gn_samples,
    dtypes=FLOATS,
    errors=lambda rng: iter([Sample((values(rng, (2, 4, 3), "float32"), 3, None, None)),
                             Sample((values(rng, (2, 4, 3), "float32"), 2, values(rng, (3,), "float32"),
                                     None))]),
)


def _rms_samples(rng, dtype):
    yield Sample((values(rng, (2, 3, 4), dtype), (4,), values(rng, (4,), dtype)), {"eps": None})
    yield Sample((values(rng, (2, 3, 4), dtype), (3, 4), None), {"eps": 1e-3})


register(
    "F.rms_norm",
    lambda T, x, ns, w, eps: T.nn.functional.rms_norm(x, ns, w, eps=eps),
    _rms_samples,
    dtypes=FLOATS,
    errors=lambda rng: iter([Sample((values(rng, (2, 3), "float32"), (4,), None), {"eps": None})]),
)


def _lrn_samples(rng, dtype):
    yield Sample((values(rng, (2, 5, 4), dtype),), {"size": 3, "alpha": 0.1})
    yield Sample((values(rng, (2, 4, 3, 2), dtype),), {"size": 2, "alpha": 0.5, "beta": 0.5, "k": 2.0})
    yield Sample((values(rng, (1, 3, 2, 2, 2), dtype),), {"size": 4, "alpha": 0.3})


register(
    "F.local_response_norm",
    lambda T, x, size, alpha=1e-4, beta=0.75, k=1.0: T.nn.functional.local_response_norm(x, size, alpha, beta,
                                                                                         k),
    _lrn_samples,
    dtypes=("float32", "float64"),  # torch has no float16/bfloat16 avg_pool3d on the CPU (4-D inputs)
    errors=lambda rng: iter([Sample((values(rng, (2, 3), "float32"),), {"size": 2})]),
)
