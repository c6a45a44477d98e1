"""Tensor.apply_: values, dtypes and conversions, errors against torch; views; all-or-nothing writes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "bool", "complex64"]
FUNCS = {
    "double": lambda v: v * 2,
    "const_float": lambda v: 1.7,
    "neg_float": lambda v: -2.7,
    "const_int": lambda v: 3,
    "true": lambda v: True,
    "np_scalar": lambda v: np.float64(4.0),
    "big_float": lambda v: 1e40,
    "int_300": lambda v: 300,
    "neg_129": lambda v: -129,
    "neg_300": lambda v: -300,
    "huge_int": lambda v: 2 ** 70,
    "nan": lambda v: float("nan"),
    "str": lambda v: "a",
    "none": lambda v: None,
    "complex": lambda v: 2 + 1j,
}


def _run(lib, dtype, fn):
    t = lib.arange(6).reshape(2, 3).to(getattr(lib, dtype))
    try:
        r = t.apply_(fn)
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e), t
    assert r is t
    return None, t


def _values(t):
    if t.dtype in (ferrum.bfloat16, ferrum.float16):
        return t.float().numpy()
    return t.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FUNCS))
def test_matches_torch(torch, dtype, name):
    terr, tt = _run(torch, dtype, FUNCS[name])
    ferr, ft = _run(ferrum, dtype, FUNCS[name])
    assert ferr is terr, (ferr, terr)
    if terr is None:
        tv = tt.float().numpy() if dtype in ("bfloat16", "float16") else tt.numpy()
        np.testing.assert_array_equal(_values(ft), tv)


def test_element_types_and_views(torch):
    for dtype, want in (("float32", float), ("int64", int), ("bool", bool), ("complex64", complex)):
        seen = []
        ferrum.ones(2, dtype=getattr(ferrum, dtype)).apply_(lambda v, seen=seen: (seen.append(type(v)), v)[1])
        assert seen == [want, want]
    x = np.arange(6.0).reshape(2, 3)
    fx, tx = ferrum.tensor(x), torch.tensor(x)
    fx.t()[1:].apply_(lambda v: v + 10)
    tx.t()[1:].apply_(lambda v: v + 10)
    np.testing.assert_array_equal(fx.numpy(), tx.numpy())
    z = ferrum.zeros(())
    assert z.apply_(lambda v: 5).item() == 5.0
    e = ferrum.zeros(0)
    assert e.apply_(lambda v: 1 / 0) is e


def test_errors_match_torch(torch):
    for lib in (ferrum, torch):
        with pytest.raises(RuntimeError, match="requires grad"):
            lib.ones(2, requires_grad=True).apply_(lambda v: v)
        with pytest.raises(TypeError, match="not callable"):
            lib.ones(2).apply_(3)
        with pytest.raises(TypeError):
            lib.ones(2).apply_(lambda v, w: v)


def test_failure_leaves_tensor_unchanged_and_version_bumped():
    t = ferrum.arange(4.0)

    def f(v):
        if v == 2:
            raise KeyError("boom")
        return -v

    with pytest.raises(KeyError):
        t.apply_(f)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
    v0 = t._version[0]
    t.apply_(math.sqrt)
    assert t._version[0] == v0 + 1
    w = ferrum.ones(2, requires_grad=True)
    x = ferrum.ones(2)
    y = (w * x).sum()
    x.apply_(lambda v: 2 * v)          # x was saved for w's gradient
    with pytest.raises(RuntimeError):
        y.backward()
