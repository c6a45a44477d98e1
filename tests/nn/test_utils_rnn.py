"""nn.utils.rnn against torch: PackedSequence, pack/pad in every option, gradients through them,
and torch's errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ferrum
from ferrum.nn.utils import rnn as R


def _pair(torch, a, grad=True):
    return (torch.tensor(a, requires_grad=grad), ferrum.tensor(a, requires_grad=grad))


def _close(t, f, tol=1e-12):
    np.testing.assert_allclose(f.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("batch_first,enforce_sorted,lengths_kind,total_length",
                         list(itertools.product((False, True), (True, False), ("list", "tensor"), (None, 6))))
def test_pack_pad_roundtrip_matches_torch(torch, batch_first, enforce_sorted, lengths_kind, total_length):
    TR = torch.nn.utils.rnn
    lens = [4, 3, 3, 1] if enforce_sorted else [3, 4, 1, 3]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 4, 2) if batch_first else (4, 4, 2))
    xt, xf = _pair(torch, x)
    lt = lens if lengths_kind == "list" else torch.tensor(lens)
    lf = lens if lengths_kind == "list" else ferrum.tensor(lens)
    pt = TR.pack_padded_sequence(xt, lt, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pf = R.pack_padded_sequence(xf, lf, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(pf, R.PackedSequence) and isinstance(pf, tuple)
    _close(pt.data, pf.data)
    assert pf.batch_sizes.dtype == ferrum.int64
    assert pf.batch_sizes.tolist() == pt.batch_sizes.tolist()
    for a, b in ((pt.sorted_indices, pf.sorted_indices), (pt.unsorted_indices, pf.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()
    kw = {"batch_first": batch_first, "padding_value": -2.5, "total_length": total_length}
    ot, lent = TR.pad_packed_sequence(pt, **kw)
    of, lenf = R.pad_packed_sequence(pf, **kw)
    _close(ot, of)
    assert lenf.dtype == ferrum.int64 and lenf.tolist() == lent.tolist()
    w = np.random.default_rng(1).standard_normal(tuple(ot.shape))
    (ot * torch.tensor(w)).sum().backward()
    (of * ferrum.tensor(w)).sum().backward()
    _close(xt.grad, xf.grad)


@pytest.mark.parametrize("batch_first,padding_side,dtype",
                         list(itertools.product((False, True), ("right", "left"), ("float32", "float64"))))
def test_pad_sequence_matches_torch(torch, batch_first, padding_side, dtype):
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 3)).astype(dtype) for n in (2, 5, 1)]
    st = [torch.tensor(s, requires_grad=True) for s in seqs]
    sf = [ferrum.tensor(s, requires_grad=True) for s in seqs]
    kw = {"batch_first": batch_first, "padding_value": 7.0, "padding_side": padding_side}
    ot = torch.nn.utils.rnn.pad_sequence(st, **kw)
    of = R.pad_sequence(sf, **kw)
    assert of.dtype == getattr(ferrum, dtype)
    _close(ot, of, 1e-6)
    w = rng.standard_normal(tuple(ot.shape)).astype(dtype)
    (ot * torch.tensor(w)).sum().backward()
    (of * ferrum.tensor(w)).sum().backward()
    for a, b in zip(st, sf):
        _close(a.grad, b.grad, 1e-6)


def test_pad_sequence_scalar_sequences_and_tensor_input(torch):
    seqs = [np.arange(3.0), np.arange(1.0)]
    ot = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs])
    of = R.pad_sequence([ferrum.tensor(s) for s in seqs])
    _close(ot, of)
    x = np.arange(6.0).reshape(2, 3)
    _close(torch.nn.utils.rnn.pad_sequence(torch.tensor(x)), R.pad_sequence(ferrum.tensor(x)))


@pytest.mark.parametrize("enforce_sorted", (True, False))
def test_pack_sequence_unpack_unpad(torch, enforce_sorted):
    rng = np.random.default_rng(3)
    lens = (5, 3, 2) if enforce_sorted else (2, 5, 3)
    seqs = [rng.standard_normal((n, 2)) for n in lens]
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=enforce_sorted)
    sf = [ferrum.tensor(s, requires_grad=True) for s in seqs]
    pf = R.pack_sequence(sf, enforce_sorted=enforce_sorted)
    _close(pt.data, pf.data)
    outs = R.unpack_sequence(pf)
    assert [tuple(o.shape) for o in outs] == [s.shape for s in seqs]
    for o, s in zip(outs, seqs):
        np.testing.assert_array_equal(o.detach().numpy(), s)
    sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
    for i, t in enumerate(sf):
        np.testing.assert_array_equal(t.grad.numpy(), np.full(t.shape, i + 1.0))
    padded = R.pad_sequence(sf, batch_first=True)
    un = R.unpad_sequence(padded, ferrum.tensor(list(lens)), batch_first=True)
    unt = torch.nn.utils.rnn.unpad_sequence(torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(s) for s in seqs], batch_first=True), torch.tensor(list(lens)), batch_first=True)
    for a, b in zip(unt, un):
        _close(a, b)
    un2 = R.unpad_sequence(R.pad_sequence(sf), list(lens))
    for a, s in zip(un2, seqs):
        np.testing.assert_array_equal(a.detach().numpy(), s)


def test_packed_sequence_methods():
    p = R.pack_sequence([ferrum.ones(3, 2), ferrum.ones(1, 2)])
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    d = p.double()
    assert d.data.dtype == ferrum.float64 and d.batch_sizes.dtype == ferrum.int64
    assert p.to(ferrum.float32) is p
    assert p.to(ferrum.float64).data.dtype == ferrum.float64
    assert p.float().data.dtype == ferrum.float32
    assert p.long().data.dtype == ferrum.int64
    assert p.cpu().data.device.type == "cpu"
    assert not p.is_cuda
    q = R.PackedSequence(p.data, p.batch_sizes, ferrum.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    data, bs, si, ui = p
    assert si is None and ui is None and bs.tolist() == [2, 1, 1]


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what the test compares
        return e
    return None


@pytest.mark.parametrize("case", ["unsorted", "zero", "zero_unsorted", "batch", "lengths_2d", "total_length",
                                  "empty", "mismatch", "side"])
def test_errors_match_torch(torch, case):
    x = np.zeros((4, 3, 2))

    def call(T, mod):
        X = T.tensor(x)
        if case == "unsorted":
            return mod.pack_padded_sequence(X, [3, 4, 1])
        if case == "zero":
            return mod.pack_padded_sequence(X, [3, 2, 0])
        if case == "zero_unsorted":
            return mod.pack_padded_sequence(X, [0, 3, 2], enforce_sorted=False)
        if case == "batch":
            return mod.pack_padded_sequence(X, [3, 2])
        if case == "lengths_2d":
            return mod.pack_padded_sequence(X, [[3, 2, 1]])
        if case == "total_length":
            return mod.pad_packed_sequence(mod.pack_padded_sequence(X, [3, 2, 1]), total_length=2)
        if case == "empty":
            return mod.pad_sequence([])
        if case == "mismatch":
            return mod.pad_sequence([T.zeros(2, 3), T.zeros(3, 4)])
        return mod.pad_sequence([T.zeros(2, 3)], padding_side="middle")

    et = _err(lambda: call(torch, torch.nn.utils.rnn))
    ef = _err(lambda: call(ferrum, R))
    assert et is not None and ef is not None
    assert type(ef) is type(et), (ef, et)
    if case in ("unsorted", "zero", "batch", "total_length"):
        assert str(ef) == str(et)
