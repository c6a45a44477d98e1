"""ferrum._casting.cast_array: floating -> integer casts follow one defined rule (truncate, the
intermediate int's minimum for out-of-range/nan/inf, wrap) and give torch 2.13's x86 results for
every floating source and integer target; the tensor-level casts (``to``, ``.int()``, ...) use it."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

import ferrum
from ferrum._casting import cast_array

VALUES = [
    math.nan,
    math.inf,
    -math.inf,
    -0.5,
    0.5,
    -0.0,
    -1.7,
    1.7,
    127.9,
    128.5,
    -128.5,
    255.9,
    256.5,
    300.5,
    -300.5,
    32767.5,
    32768.5,
    -32769.5,
    65535.5,
    70000.0,
    -70000.0,
    2.0**31 - 128,
    2.0**31,
    -(2.0**31),
    -(2.0**31) - 1024,
    3e9 + 4096,
    -3e9,
    1e19,
    -1e19,
    1e30,
    -1e30,
    2.0**63,
    -(2.0**63),
    2.0**64,
    6e4,
    -6e4,
]
SOURCES = {
    "float16": np.float16,
    "bfloat16": ml_dtypes.bfloat16,
    "float32": np.float32,
    "float64": np.float64,
}
TARGETS = ["bool", "uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("src", sorted(SOURCES))
@pytest.mark.parametrize("dst", TARGETS)
def test_float_to_int_matrix_matches_torch(torch, src, dst):
    t = torch.tensor(VALUES, dtype=torch.float64).to(getattr(torch, src))
    a = t.to(torch.float64).numpy().astype(SOURCES[src])
    expected = t.to(getattr(torch, dst)).tolist()
    assert cast_array(a, np.dtype(dst)).tolist() == expected
    f = ferrum.tensor(a.astype(np.float64)).to(getattr(ferrum, src))
    assert f.to(getattr(ferrum, dst)).tolist() == expected


def test_the_rule_spelled_out():
    a = np.array([-1.7, 300.5, -300.5, math.nan, math.inf, 3e9 + 5, -0.5])
    assert cast_array(a, np.uint8).tolist() == [255, 44, 212, 0, 0, 0, 0]  # trunc, then mod 256
    assert cast_array(a, np.int8).tolist() == [-1, 44, -44, 0, 0, 0, 0]
    assert cast_array(a, np.int32).tolist() == [-1, 300, -300, -(2**31), -(2**31), -(2**31), 0]
    assert cast_array(a, np.int64).tolist() == [-1, 300, -300, -(2**63), -(2**63), 3000000005, 0]
    assert cast_array(a, np.bool_).tolist() == [True, True, True, True, True, True, True]


def test_other_casts_are_numpys_and_always_copy():
    a = np.array([1, -2, 300], dtype=np.int64)
    assert cast_array(a, np.uint8).tolist() == [1, 254, 44]
    b = np.array([1.5, 2.5], dtype=np.float32)
    c = cast_array(b, np.float32)
    assert c.dtype == np.float32 and c is not b
    assert cast_array(np.array([300.5 + 2j]), np.uint8).tolist() == [44]  # the real part, as torch


@pytest.mark.parametrize(
    "meth,name",
    [("int", "int32"), ("long", "int64"), ("short", "int16"), ("char", "int8"), ("byte", "uint8")],
)
def test_cast_methods_on_out_of_range_values_match_torch(torch, meth, name):
    vals = [-1.7, 300.5, -70000.0, 3e9, math.nan, -math.inf]
    for src in ("float32", "bfloat16", "float16"):
        f = getattr(ferrum.tensor(vals).to(getattr(ferrum, src)), meth)()
        t = getattr(torch.tensor(vals).to(getattr(torch, src)), meth)()
        assert f.dtype is getattr(ferrum, name) and f.tolist() == t.tolist()


def test_nan_to_bfloat16_is_the_positive_nan(torch):
    a = np.array([-math.nan, math.nan, -math.inf, -0.0])
    f = ferrum.tensor(a).to(ferrum.bfloat16)
    t = torch.tensor(a).to(torch.bfloat16)
    assert np.signbit(f._data.astype(np.float32)).tolist() == torch.signbit(t).tolist()
