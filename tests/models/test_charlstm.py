"""ferrum.models.CharLSTM: names, parity with the same model in torch (loss and every gradient),
and generation carrying the LSTM state equals re-running the whole sequence for each character."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models
from ferrum.models import CharLSTM
from ferrum.models._sampling import sample_next

from ._torch_lm import load_from, scaled_init, torch_char_lstm

SMALL = dict(vocab_size=9, embedding_dim=6, hidden_size=10, num_layers=2)


def _ids(shape, vocab=9, seed=0):
    return ferrum.tensor(np.random.default_rng(seed).integers(0, vocab, shape), dtype=ferrum.int64)


def test_names_and_registry():
    m = CharLSTM(**SMALL)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                     "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1",
                     "lstm.bias_hh_l1", "head.weight", "head.bias"]
    assert m.lstm.batch_first and m.lstm.num_layers == 2
    assert tuple(m(_ids((3, 5))).shape) == (3, 5, 9)
    assert isinstance(models.get_model("char_lstm", **SMALL), CharLSTM)
    assert models.char_lstm().lstm.hidden_size == 256
    with pytest.raises(ValueError, match="cannot be downloaded"):
        models.char_lstm(weights="DEFAULT")
    with pytest.raises(ValueError, match=r"shape \(B, T\)"):
        m(_ids((5,)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_with_torch(torch, dtype):
    m = CharLSTM(**SMALL).to(getattr(ferrum, dtype))
    tm = load_from(torch, torch_char_lstm(torch, m), m, getattr(torch, dtype))
    idx, tgt = _ids((3, 7)), _ids((3, 7), seed=1)
    loss = ferrum.nn.functional.cross_entropy(m(idx).reshape(-1, 9), tgt.reshape(-1))
    tloss = torch.nn.functional.cross_entropy(tm(torch.from_numpy(idx.numpy())).reshape(-1, 9),
                                              torch.from_numpy(tgt.numpy()).reshape(-1))
    loss.backward()
    tloss.backward()
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.item(), tloss.item(), **tol)
    tp = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), err_msg=name, **tol)


def _regenerate(m, idx, n, temperature, top_k, generator):
    """Generation without the state: the whole sequence again for every new character."""
    m.eval()
    with ferrum.no_grad():
        for _ in range(n):
            nxt = sample_next(m(idx)[:, -1, :], temperature, top_k, generator)
            idx = ferrum.cat((idx, nxt), dim=1)
    return idx


@pytest.mark.parametrize("temperature,top_k", [(0.0, None), (1.0, None), (0.7, 3)])
def test_stateful_generation_equals_rerunning(temperature, top_k):
    m = CharLSTM(**SMALL).double()
    scaled_init(m, std=0.8)
    m.train()
    prompt = _ids((2, 4), seed=5)
    got = m.generate(prompt, 15, temperature, top_k, generator=ferrum.Generator().manual_seed(1))
    assert m.training and not got.requires_grad and tuple(got.shape) == (2, 19)
    assert got[:, :4].tolist() == prompt.tolist()
    want = _regenerate(m, prompt, 15, temperature, top_k, ferrum.Generator().manual_seed(1))
    assert got.tolist() == want.tolist()
    if temperature:
        assert len(set(got[:, 4:].flatten().tolist())) > 2


def test_generate_errors():
    m = CharLSTM(**SMALL)
    with pytest.raises(ValueError, match="temperature"):
        m.generate(_ids((1, 2)), 3, temperature=-0.5)
    with pytest.raises(ValueError, match="top_k"):
        m.generate(_ids((1, 2)), 3, top_k=0)
    with pytest.raises(ValueError, match="non-empty prompt"):
        m.generate(_ids((1, 0)), 3)
    assert m.generate(_ids((1, 2)), 0).tolist() == _ids((1, 2)).tolist()
