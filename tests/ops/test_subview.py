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


# defect 27: a view of an expanded tensor whose own elements do not alias is writable, as in torch
WRITES = [
    ("diagonal_of_expanded", lambda L, b: b.expand(2, 2).diagonal().mul_(2)),
    ("select_of_expanded", lambda L, b: b.expand(2, 2).select(1, 0).add_(1)),
    ("narrow_of_expanded", lambda L, b: b.expand(2, 2).narrow(1, 1, 1).add_(1)),
    ("unfold_of_expanded", lambda L, b: b.expand(2, 2).unfold(1, 1, 2).add_(1)),
]


@pytest.mark.parametrize("write", [w for _, w in WRITES], ids=[n for n, _ in WRITES])
def test_write_through_view_of_expanded_matches_torch(torch, write):
    b, tb = F.tensor([[1.0], [3.0]]), torch.tensor([[1.0], [3.0]])
    write(F, b)
    write(torch, tb)
    np.testing.assert_array_equal(b.numpy(), tb.numpy())


def test_write_through_aliasing_view_of_expanded_still_refused(torch):
    with pytest.raises(RuntimeError):
        torch.zeros(1).expand(3).narrow(0, 0, 2).add_(1)
    with pytest.raises(RuntimeError):
        F.zeros(1).expand(3).narrow(0, 0, 2).add_(1)


def test_write_through_diagonal_of_expanded_rebuilds_the_graph(torch):
    def run(L):
        a = L.tensor([[1.0], [3.0]], dtype=L.float64, requires_grad=True)
        c = a.clone()
        c.expand(2, 2).diagonal().mul_(L.tensor([2.0, 5.0], dtype=L.float64))
        (c * L.tensor([[1.0], [10.0]], dtype=L.float64)).sum().backward()
        return c.detach().numpy(), a.grad.numpy()
    for got, want in zip(run(F), run(torch)):
        np.testing.assert_array_equal(got, want)


def test_piece_of_overlapping_unfold_stays_read_only():
    # ferrum refuses writes where two elements share an address (overlapping windows), whose
    # result would depend on the order of the writes; a piece of such windows still overlaps
    x = F.arange(6.0)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        x.unfold(0, 3, 1).narrow(0, 0, 2).add_(1)
    x.unfold(0, 2, 2).narrow(0, 0, 2).add_(1)  # disjoint windows are writable
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0, 4.0, 4.0, 5.0])
