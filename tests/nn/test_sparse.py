"""nn.Embedding (and nn.EmbeddingBag) against torch: construction, init, extra_repr, state dicts,
from_pretrained, forward/backward with torch's weights, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
from tests.helpers import npv

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def _load(fm, tm) -> None:
    fm.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


# --------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("kw", [
    {}, {"padding_idx": 2}, {"padding_idx": -2}, {"max_norm": 1.0}, {"max_norm": 2.0, "norm_type": 1.0},
    {"scale_grad_by_freq": True}, {"padding_idx": 0, "max_norm": 1.5, "scale_grad_by_freq": True},
])
def test_embedding_repr_and_attributes(torch, kw):
    fm, tm = fnn.Embedding(10, 3, **kw), torch.nn.Embedding(10, 3, **kw)
    assert repr(fm) == repr(tm)
    for a in ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
              "scale_grad_by_freq", "sparse"):
        assert getattr(fm, a) == getattr(tm, a), a
    assert list(fm.state_dict()) == list(tm.state_dict()) == ["weight"]
    assert fm.weight.shape == (10, 3) and fm.weight.requires_grad


def test_embedding_init_is_standard_normal_with_padding_row_zero():
    m = fnn.Embedding(4000, 8, padding_idx=-1)
    w = npv(m.weight).copy()
    assert (w[-1] == 0).all()
    assert abs(w[:-1].mean()) < 0.02 and abs(w[:-1].std() - 1) < 0.02
    m.reset_parameters()
    assert (npv(m.weight)[-1] == 0).all() and not np.array_equal(npv(m.weight)[:-1], w[:-1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [
    {}, {"padding_idx": 1}, {"padding_idx": -1, "scale_grad_by_freq": True}, {"max_norm": 1.0},
    {"max_norm": 0.5, "norm_type": 3.0, "padding_idx": 0},
])
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 2, 3)])
def test_embedding_module_vs_torch(torch, dtype, kw, shape):
    fm = fnn.Embedding(7, 5, dtype=getattr(ferrum, dtype), **kw)
    tm = torch.nn.Embedding(7, 5, dtype=getattr(torch, dtype), **kw)
    _load(fm, tm)
    idx = np.random.default_rng(1).integers(0, 7, shape)
    r = np.random.default_rng(2).standard_normal(shape + (5,)).astype(dtype)
    fo, to = fm(ferrum.tensor(idx)), tm(torch.tensor(idx))
    (fo * ferrum.tensor(r)).sum().backward()
    (to * torch.tensor(r)).sum().backward()
    assert fo.dtype == getattr(ferrum, dtype)
    np.testing.assert_allclose(npv(fo), to.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(npv(fm.weight.grad), tm.weight.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(npv(fm.weight), tm.weight.detach().numpy(), **TOL[dtype])  # max_norm


def test_embedding_two_steps_of_sgd(torch):
    """A tiny training loop: the renormalised rows and the updates compose as in torch."""
    fm, tm = fnn.Embedding(6, 4, max_norm=1.0, padding_idx=0), torch.nn.Embedding(6, 4, max_norm=1.0,
                                                                                  padding_idx=0)
    _load(fm, tm)
    fo_, to_ = ferrum.optim.SGD(fm.parameters(), lr=0.5), torch.optim.SGD(tm.parameters(), lr=0.5)
    for idx in ([[1, 2, 0], [2, 5, 5]], [[3, 3, 1], [0, 4, 2]]):
        for m, opt, T in ((fm, fo_, ferrum), (tm, to_, torch)):
            opt.zero_grad()
            (m(T.tensor(idx)) ** 2).sum().backward()
            opt.step()
    np.testing.assert_allclose(npv(fm.weight), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_weight_and_freeze(torch):
    w = ferrum.randn(5, 2)
    m = fnn.Embedding(5, 2, _weight=w)
    assert m.weight._data is w._data and m.weight.requires_grad
    assert not fnn.Embedding(5, 2, _freeze=True).weight.requires_grad
    with pytest.raises(AssertionError):
        fnn.Embedding(4, 2, _weight=w)
    with pytest.raises(AssertionError):
        torch.nn.Embedding(4, 2, _weight=torch.randn(5, 2))


@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_from_pretrained(torch, freeze, padding_idx):
    w = np.random.default_rng(3).standard_normal((4, 3))
    fm = fnn.Embedding.from_pretrained(ferrum.tensor(w), freeze=freeze, padding_idx=padding_idx)
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=padding_idx)
    assert repr(fm) == repr(tm)
    assert fm.weight.requires_grad == tm.weight.requires_grad == (not freeze)
    np.testing.assert_array_equal(npv(fm.weight), w)  # the padding row is kept as given
    out = fm(ferrum.tensor([1, 3]))
    np.testing.assert_array_equal(npv(out), w[[1, 3]])


@pytest.mark.parametrize("make", [
    lambda T: T.nn.Embedding(10, 3, padding_idx=10),
    lambda T: T.nn.Embedding(10, 3, padding_idx=-11),
    lambda T: T.nn.Embedding.from_pretrained(T.randn(3)),
])
def test_embedding_bad_construction_matches_torch(torch, make):
    with pytest.raises(Exception) as et:
        make(torch)
    with pytest.raises(type(et.value)):
        make(ferrum)


def test_embedding_sparse_raises_at_construction():
    with pytest.raises(RuntimeError, match="sparse"):
        fnn.Embedding(4, 2, sparse=True)


def test_embedding_failed_forward_changes_nothing():
    m = fnn.Embedding(5, 3, max_norm=0.1)
    before, ver = npv(m.weight).copy(), m.weight._version[0]
    with pytest.raises(IndexError, match="index 5"):
        m(ferrum.tensor([0, 5]))
    with pytest.raises(RuntimeError):
        m(ferrum.tensor([0.0, 1.0]))
    np.testing.assert_array_equal(npv(m.weight), before)
    assert m.weight._version[0] == ver and m.weight.grad is None


def test_embedding_module_path():
    assert fnn.Embedding.__module__ == "ferrum.nn.modules.sparse"
    assert fnn.modules.sparse.Embedding is fnn.Embedding


# --------------------------------------------------------------------------- EmbeddingBag
@pytest.mark.parametrize("kw", [
    {}, {"mode": "sum"}, {"mode": "max", "max_norm": 1.0},
    {"padding_idx": -1, "norm_type": 1.0, "max_norm": 2.0},
    {"scale_grad_by_freq": True, "include_last_offset": True},
])
def test_embedding_bag_repr_and_attributes(torch, kw):
    fm, tm = fnn.EmbeddingBag(10, 3, **kw), torch.nn.EmbeddingBag(10, 3, **kw)
    assert repr(fm) == repr(tm)
    for a in ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "mode",
              "scale_grad_by_freq", "sparse", "include_last_offset"):
        assert getattr(fm, a) == getattr(tm, a), a
    assert list(fm.state_dict()) == list(tm.state_dict()) == ["weight"]
    if fm.padding_idx is not None:
        assert (npv(fm.weight)[fm.padding_idx] == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["offsets", "last", "2d"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_module_vs_torch(torch, dtype, mode, layout, padding_idx):
    kw = dict(mode=mode, padding_idx=padding_idx, include_last_offset=layout == "last", max_norm=1.5)
    fm = fnn.EmbeddingBag(7, 4, dtype=getattr(ferrum, dtype), **kw)
    tm = torch.nn.EmbeddingBag(7, 4, dtype=getattr(torch, dtype), **kw)
    _load(fm, tm)
    idx = np.random.default_rng(4).integers(0, 7, 12)
    off = np.array([0, 3, 3, 7] + ([12] if layout == "last" else []))
    psw = np.random.default_rng(5).standard_normal(12).astype(dtype)
    res = []
    for m, T in ((fm, ferrum), (tm, torch)):
        args = (T.tensor(idx.reshape(3, 4)),) if layout == "2d" else (T.tensor(idx), T.tensor(off))
        kws = {}
        if mode == "sum":
            p = T.tensor(psw.reshape(args[0].shape), requires_grad=True)
            kws["per_sample_weights"] = p
        out = m(*args, **kws)
        (out * T.tensor(np.arange(out.numel(), dtype=dtype).reshape(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy(), m.weight.grad.numpy(), m.weight.detach().numpy()]
                   + ([kws["per_sample_weights"].grad.numpy()] if kws else []))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_bag_from_pretrained(torch, freeze):
    w = np.random.default_rng(6).standard_normal((5, 2))
    kw = dict(freeze=freeze, mode="sum", padding_idx=0, include_last_offset=True)
    fm = fnn.EmbeddingBag.from_pretrained(ferrum.tensor(w), **kw)
    tm = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), **kw)
    assert repr(fm) == repr(tm) and fm.include_last_offset
    assert fm.weight.requires_grad == tm.weight.requires_grad == (not freeze)
    np.testing.assert_array_equal(npv(fm.weight), w)
    fo = fm(ferrum.tensor([0, 1, 4]), ferrum.tensor([0, 2, 3]))
    to = tm(torch.tensor([0, 1, 4]), torch.tensor([0, 2, 3]))
    np.testing.assert_allclose(npv(fo), to.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda T: T.nn.EmbeddingBag(10, 3, padding_idx=10),
    lambda T: T.nn.EmbeddingBag(10, 3, _weight=T.randn(3, 3)),
    lambda T: T.nn.EmbeddingBag.from_pretrained(T.randn(3)),
])
def test_embedding_bag_bad_construction_matches_torch(torch, make):
    with pytest.raises(Exception) as et:
        make(torch)
    with pytest.raises(type(et.value)):
        make(ferrum)


def test_embedding_bag_sparse_raises_and_failed_forward_changes_nothing():
    with pytest.raises(RuntimeError, match="sparse"):
        fnn.EmbeddingBag(4, 2, sparse=True)
    m = fnn.EmbeddingBag(5, 3, max_norm=0.1, mode="sum")
    before, ver = npv(m.weight).copy(), m.weight._version[0]
    with pytest.raises(RuntimeError, match="index 5"):
        m(ferrum.tensor([0, 5]), ferrum.tensor([0]))
    with pytest.raises(RuntimeError, match="offsets"):
        m(ferrum.tensor([0, 1]), ferrum.tensor([0, 3]))
    np.testing.assert_array_equal(npv(m.weight), before)
    assert m.weight._version[0] == ver and m.weight.grad is None
    assert fnn.EmbeddingBag.__module__ == "ferrum.nn.modules.sparse"
