"""Tests of ferrum.ops.join (cat/stack, splits) beyond the op table of test_shape.py: legacy empty
inputs, ints outside int64, and the node names of split pieces."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F


def _outcome(L, call):
    try:
        r = call(L)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return ("raise", type(e))
    if isinstance(r, tuple):
        return ("ok", [tuple(p.shape) for p in r])
    return ("ok", tuple(r.shape), str(r.dtype).split(".")[-1])


PARITY = [
    # defect 22: cat of legacy empty 1-D tensors only ignores the dim
    ("cat_empty_dim1", lambda L: L.cat([L.empty(0)], 1)),
    ("cat_empty_dim_neg2", lambda L: L.cat([L.empty(0)], -2)),
    ("cat_two_empty_dim3", lambda L: L.cat([L.empty(0), L.empty(0, dtype=L.float64)], 3)),
    ("cat_empty_int_dim5", lambda L: L.cat([L.empty(0, dtype=L.int64)], 5)),
    ("cat_empty_with_matrix_bad_dim", lambda L: L.cat([L.empty(0), L.ones(2, 3)], 2)),
    ("cat_empty_with_matrix", lambda L: L.cat([L.empty(0), L.ones(2, 3)], 1)),
    ("cat_empty_float_dim", lambda L: L.cat([L.empty(0)], 1.0)),
    ("stack_empty_dim1", lambda L: L.stack([L.empty(0)], 1)),
    # defect 24: an index outside int64 (ferrum used to accept it)
    ("tensor_split_index_overflow", lambda L: L.ones(6).tensor_split([2 ** 63])),
    ("split_overflow", lambda L: L.ones(6).split(2 ** 63)),
    ("chunk_overflow", lambda L: L.ones(6).chunk(2 ** 63)),
]


@pytest.mark.parametrize("call", [c for _, c in PARITY], ids=[n for n, _ in PARITY])
def test_matches_torch(torch, call):
    assert _outcome(F, call) == _outcome(torch, call)


@pytest.mark.timeout(20)
def test_tensor_split_sections_outside_int64_raises_at_once():
    # it used to build a list of 2**63 section sizes (a hang)
    with pytest.raises(ValueError, match="Overflow"):
        F.ones(6).tensor_split(2 ** 63)


def test_cat_of_legacy_empties_records_a_graph():
    e = F.empty(0, dtype=F.float64, requires_grad=True)
    r = F.cat([e, e], 1)
    assert r.shape == (0,) and r.requires_grad
    r.sum().backward()
    assert e.grad.shape == (0,)


@pytest.mark.parametrize("op", ["split", "split_sizes", "tensor_split", "chunk", "unbind"])
def test_split_node_names_and_gradients_match_torch(torch, op):
    calls = {"split": lambda x: x.split(2), "split_sizes": lambda x: x.split([1, 3]),
             "tensor_split": lambda x: x.tensor_split(2), "chunk": lambda x: x.chunk(2),
             "unbind": lambda x: x.unbind(0)}
    x = F.ones(4, 2, dtype=F.float64, requires_grad=True)
    tx = torch.ones(4, 2, dtype=torch.float64, requires_grad=True)
    pieces, tpieces = calls[op](x), calls[op](tx)
    if op != "tensor_split":  # torch records one SliceBackward0 per piece; ferrum one parent node
        assert [p.grad_fn.name() for p in pieces] == [p.grad_fn.name() for p in tpieces]
    sum((p * (i + 1)).sum() for i, p in enumerate(pieces)).backward()
    sum((p * (i + 1)).sum() for i, p in enumerate(tpieces)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_write_through_split_piece_of_expanded_matches_torch(torch):
    # defect 27: the piece has no two elements at one address, so torch writes through it
    b, tb = F.tensor([[1.0], [3.0]]), torch.tensor([[1.0], [3.0]])
    b.expand(2, 2).unbind(1)[0].add_(1)
    tb.expand(2, 2).unbind(1)[0].add_(1)
    np.testing.assert_array_equal(b.numpy(), tb.numpy())
