"""Tests of ferrum.ops.subview (narrow, select, diagonal, unfold) beyond the op table of
test_shape.py: PyTorch's exception types for 0-d tensors and out-of-range ints, and memory sharing
of unfold."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F


def _outcome(L, call):
    try:
        r = call(L)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return ("raise", type(e))
    return ("ok", tuple(r.shape), np.asarray(r.tolist()))


PARITY = [
    # defect 26: the dim of a 0-d tensor is -1 or 0
    ("unfold_0d_dim1", lambda L: L.ones(()).unfold(1, 1, 1)),
    ("unfold_0d_dim_neg2", lambda L: L.ones(()).unfold(-2, 1, 1)),
    ("unfold_0d_ok", lambda L: L.ones(()).unfold(0, 1, 1)),
    # defect 24: ints outside int64 are PyTorch's ValueError, checked before the dims
    ("diagonal_offset_overflow_1d", lambda L: L.ones(6).diagonal(2 ** 63)),
    ("diagonal_offset_overflow", lambda L: L.ones(6, 6).diagonal(2 ** 63)),
    ("narrow_start_overflow", lambda L: L.ones(6).narrow(0, 2 ** 63, 1)),
    ("narrow_length_overflow", lambda L: L.ones(6).narrow(0, 0, 2 ** 63)),
    ("select_overflow", lambda L: L.ones(6).select(0, 2 ** 63)),
    ("unfold_step_overflow", lambda L: L.ones(6).unfold(0, 2, 2 ** 63)),
    ("unfold_size_overflow", lambda L: L.ones(6).unfold(0, 2 ** 63, 1)),
]


@pytest.mark.parametrize("call", [c for _, c in PARITY], ids=[n for n, _ in PARITY])
def test_matches_torch(torch, call):
    want, got = _outcome(torch, call), _outcome(F, call)
    assert want[:2] == got[:2], (want, got)
    if want[0] == "ok":
        np.testing.assert_array_equal(got[2], want[2])


def test_unfold_of_0d_shares_memory_and_version():
    x = F.tensor(5.0)
    u = x.unfold(-1, 1, 1)
    assert u.shape == (1,) and np.shares_memory(u._data, x._data)
    x.add_(1)
    assert u.item() == 6.0
