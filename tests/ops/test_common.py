"""ops/_common.py helpers."""

from __future__ import annotations

import numpy as np
import pytest

from ferrum.ops._common import zeros_like_layout


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_zeros_like_layout_matches_shape_dtype_and_layout(order, dtype):
    a = np.ones((64, 40), dtype=dtype, order=order)
    z = zeros_like_layout(a, dtype(0))
    assert isinstance(z, np.ndarray) and z.shape == a.shape and z.dtype == a.dtype
    assert z.strides == a.strides
    assert not z.any() and not z.flags.writeable
    assert np.array_equal(np.maximum(-a, z), np.maximum(-a, 0))


def test_zeros_like_layout_falls_back_to_the_scalar():
    scalar = np.float32(0)
    strided = np.ones((64, 64), np.float32)[::2]
    assert zeros_like_layout(strided, scalar) is scalar
    assert zeros_like_layout(np.ones(10, np.float32), scalar) is scalar  # too small to matter


def test_zeros_like_layout_grows_its_buffer():
    big = np.ones(200_000, np.float32)
    small = np.ones((100, 100), np.float32)
    assert zeros_like_layout(big, 0).shape == big.shape
    assert zeros_like_layout(small, 0).shape == small.shape
