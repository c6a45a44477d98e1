"""Tests of ferrum.ops._reduce_common, the helpers shared by reduce, minmax, scan and sort: the
named return types, the NumPy ``axis``/``keepdims`` spellings, and the two picking nodes."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import _reduce_common as C


def test_return_types_repr_and_fields(torch):
    x = F.tensor([[1.0, 3.0], [4.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, C.return_types.max) and r._fields == ("values", "indices")
    assert repr(r).startswith("ferrum.return_types.max(\nvalues=tensor(")
    assert C.return_types.aminmax._fields == ("min", "max")
    assert type(r).__module__ == "ferrum.return_types"
    assert repr(r).replace("ferrum", "torch") == repr(torch.tensor([[1.0, 3.0], [4.0, 2.0]]).max(1))


def test_np_axis():
    assert C._np_axis(None, False, 1, None, "op") == (1, False)
    assert C._np_axis(None, False, None, True, "op") == (None, True)
    assert C._np_axis(-1, True, 0, None, "op", -1) == (0, True)
    with pytest.raises(TypeError, match=r"op\(\): got both 'dim' and its alias 'axis'"):
        C._np_axis(0, False, 1, None, "op")
    with pytest.raises(TypeError, match=r"op\(\) missing 1 required positional argument: 'dim'"):
        C._required_dim(None, None, "op")


def test_has_nan_covers_bfloat16():
    assert C._has_nan(F.ones(1, dtype=F.bfloat16)._data)
    assert C._has_nan(F.ones(1, dtype=F.complex64)._data)
    assert not C._has_nan(F.ones(1, dtype=F.int32)._data)
    assert C._is_float(F.ones(1, dtype=F.bfloat16)._data) and C._is_low(F.ones(1, dtype=F.float16)._data)


def test_pick_backward_scatters_to_the_picked_positions():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.5, 3.0]])
    x = F.tensor(a, requires_grad=True)
    idx = np.array([[1], [0]])
    r = C._pick_along(x, idx, 1, False, C.return_types.max, C.PickBackward)
    assert r.indices.tolist() == [1, 0] and r.values.tolist() == [5.0, 7.0]
    r.values.backward(F.tensor([10.0, 20.0], dtype=F.float64))
    assert x.grad.tolist() == [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]]

    def pick(t, keepdim=False):
        return C._pick_along(t, idx, 1, keepdim, C.return_types.max, C.PickBackward).values
    assert gradcheck(lambda t: pick(t, True), (x,))
    assert gradgradcheck(pick, (x,))


def test_evenly_backward_splits_among_ties_and_nans():
    x = F.tensor([3.0, 1.0, 3.0, 3.0], dtype=F.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0, 1 / 3, 1 / 3])
    y = F.tensor([float("nan"), 1.0, float("nan")], dtype=F.bfloat16, requires_grad=True)
    y.median().backward()
    assert y.grad.float().tolist() == [0.5, 0.0, 0.5]
