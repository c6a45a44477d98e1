"""Registry entry: scaled_dot_product_attention (ops/attention.py).

Bool masks travel as nested lists (made bool tensors inside the call), so that the sample's arrays
are only the float inputs: float masks are arrays and get gradients like q, k and v."""

from __future__ import annotations

import numpy as np

from .core import FLOATS, Sample, register, values


def _sdpa(T, q, k, v, mask=None, **kw):
    if isinstance(mask, list):
        mask = T.tensor(mask, dtype=T.bool)
    return T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)


def _bool_mask(rng, shape, empty_row=False):
    m = rng.random(shape) > 0.4
    m[..., 0] = True
    if empty_row:
        m[..., 1, :] = False  # a fully masked query: zeros, as torch's CPU kernel
    return m.tolist()


def _samples(rng, dtype):
    v = lambda *s: values(rng, s, dtype)  # noqa: E731
    yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3)))
    yield Sample((v(3, 4), v(5, 4), v(5, 2)), {"scale": 0.7})
    yield Sample((v(2, 2, 3, 4), v(2, 2, 5, 4), v(2, 2, 5, 3), _bool_mask(rng, (3, 5), True)))
    yield Sample((v(2, 2, 3, 4), v(2, 2, 5, 4), v(2, 2, 5, 3), _bool_mask(rng, (2, 1, 3, 5))))
    yield Sample((v(2, 2, 3, 4), v(1, 2, 5, 4), v(1, 2, 5, 3), v(2, 1, 3, 5)))
    yield Sample((v(2, 2, 4, 4), v(2, 2, 3, 4), v(2, 2, 3, 3)), {"is_causal": True})
    yield Sample((v(2, 2, 3, 4), v(2, 2, 5, 4), v(2, 2, 5, 3)), {"is_causal": True}, strided=True)
    yield Sample((v(1, 4, 3, 2), v(1, 2, 3, 2), v(1, 2, 3, 2)), {"enable_gqa": True})
    yield Sample((v(2, 1, 2, 3, 4), v(2, 1, 2, 5, 4), v(2, 1, 2, 5, 3)))
    yield Sample((v(2, 2, 3, 4), v(2, 2, 0, 4), v(2, 2, 0, 3)))


def _errors(rng):
    v = lambda *s: values(rng, s, "float32")  # noqa: E731
    for mask_dtype in ("int64", "float64"):  # neither bool nor the query's dtype
        yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3), np.zeros((3, 5))),
                     dtypes=("float32",) * 3 + (mask_dtype,))
    yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3), v(3, 4)))
    yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3), _bool_mask(rng, (3, 5))), {"is_causal": True})
    yield Sample((v(2, 3, 4), v(2, 5, 3), v(2, 5, 3)))
    yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3)), dtypes=("float32", "float64", "float32"))
    yield Sample((v(4), v(4), v(4)))
    yield Sample((v(2, 3, 4), v(2, 5, 4), v(2, 5, 3)), {"dropout_p": 1.5})
    yield Sample((v(1, 3, 3, 2), v(1, 2, 3, 2), v(1, 2, 3, 2)), {"enable_gqa": True})
    yield Sample((v(2, 3, 4), v(3, 5, 4), v(3, 5, 3)))


register("F.scaled_dot_product_attention", _sdpa, _samples, dtypes=FLOATS, errors=_errors)
