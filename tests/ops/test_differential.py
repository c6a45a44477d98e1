"""Differential testing against torch over the op registry, driven by hypothesis.

Where test_opinfo.py runs each op's fixed samples, this test lets hypothesis choose: the op, the
dtype, shapes (0-d and 0-size included, broadcast pairs for binary ops), the dims of a reduction,
a strided layout, and values mixed with nan, inf and signed zeros. Seeded (``derandomize``) with a
fixed example budget, so a CI run is reproducible and bounded; ``FERRUM_DIFF_EXAMPLES`` raises the
budget and ``FERRUM_DIFF_SEED`` picks another seed for a longer hunt.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import ferrum
from tests.opinfo import core, load

REGISTRY = load()
OPS = sorted(n for n, i in REGISTRY.items() if i.dtypes and "nonfinite" not in n)
EXAMPLES = int(os.environ.get("FERRUM_DIFF_EXAMPLES", "600"))
SEED = os.environ.get("FERRUM_DIFF_SEED")

_float_values = st.one_of(
    st.sampled_from(core.SPECIALS), st.integers(-640, 640).map(lambda i: i / 64)
)  # exact in float16/bfloat16


def _array(data, shape, dtype: str, domain=None) -> np.ndarray:
    n = int(np.prod(shape))
    if dtype == "bool":
        vals = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return np.array(vals, dtype=bool).reshape(shape)
    if dtype in core.INTS:
        lo, hi = (0, 255) if dtype == "uint8" else (-100, 100)
        vals = data.draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
        return np.array(vals, dtype=np.int64).reshape(shape)
    vals = data.draw(st.lists(_float_values, min_size=n, max_size=n))
    return np.array(vals, dtype=np.float64).reshape(shape)


def _sample(data, info, dtype: str) -> core.Sample:
    strided = data.draw(st.booleans())
    if info.kind == "unary":
        shape = data.draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
        return core.Sample((_array(data, shape, dtype),), strided=strided)
    if info.kind == "binary":
        shapes = data.draw(
            mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=4)
        ).input_shapes
        return core.Sample(tuple(_array(data, s, dtype) for s in shapes), strided=strided)
    if info.kind == "reduction":
        shape = data.draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
        x = _array(data, shape, dtype)
        ndim = max(len(shape), 1)
        dim = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
        kwargs = {} if dim is None else {"dim": dim, "keepdim": data.draw(st.booleans())}
        probe = list(info.samples(np.random.default_rng(0), dtype))
        takes_dim = any("dim" in s.kwargs for s in probe)
        takes_all = any("dim" not in s.kwargs for s in probe)
        if (dim is None and not takes_all) or (dim is not None and not takes_dim):
            return probe[0]
        if dim is not None and not any("keepdim" in s.kwargs for s in probe):
            kwargs.pop("keepdim")
        return core.Sample((x,), kwargs, strided=strided)
    samples = list(info.samples(np.random.default_rng(data.draw(st.integers(0, 2**16))), dtype))
    return data.draw(st.sampled_from(samples))


@pytest.mark.timeout(900, method="thread")
@seed(int(SEED) if SEED else 0)
@settings(
    max_examples=EXAMPLES,
    derandomize=SEED is None,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_differential_against_torch(torch, data):
    name = data.draw(st.sampled_from(OPS), label="op")
    info = REGISTRY[name]
    dtype = data.draw(st.sampled_from(info.dtypes), label="dtype")
    sample = _sample(data, info, dtype)
    core.check_parity(torch, ferrum, info, sample, dtype)
