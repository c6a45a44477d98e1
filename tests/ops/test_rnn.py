"""ops/rnn.py and ops/_rnn_fused.py: the fused LSTM/GRU layer nodes against the cell composition
(values and gradients, packed batch sizes, both directions), gradcheck and gradgradcheck through
the fused node (its create_graph fallback), the cells' gradgradcheck, saved-value checks and the
buffer cache. Module-level parity with torch: tests/nn/test_rnn.py; cells: the op registry."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import _im2col
from ferrum.ops import rnn as O

BS = np.array([3, 3, 2, 1])  # packed batch sizes: sequences of length 4, 3, 2


def _layer_inputs(mode, dtype=ferrum.float64, proj=False, H=3, I=2, bias=True):
    k = {"LSTM": 4, "GRU": 3}[mode]
    P = 2 if proj else H
    N, B = int(BS.sum()), int(BS[0])

    def r(*s):
        return ferrum.randn(*s, dtype=dtype, requires_grad=True)

    x, h0 = r(N, I), r(B, P)
    w = [r(k * H, I), r(k * H, P)]
    w += [r(k * H), r(k * H)] if bias else [None, None]
    if mode == "LSTM":
        return (x, h0, r(B, H), *w, r(P, H) if proj else None)
    return (x, h0, *w)


@pytest.mark.parametrize("mode,proj", [("LSTM", False), ("LSTM", True), ("GRU", False)])
@pytest.mark.parametrize("reverse", (False, True))
@pytest.mark.parametrize("dtype", (ferrum.float32, ferrum.float64))
def test_fused_layer_matches_composition(mode, proj, reverse, dtype):
    ins = _layer_inputs(mode, dtype, proj)
    fused = O._layer(mode, ins, BS, reverse)
    assert fused[0].grad_fn.name() == "MkldnnRnnLayerBackward0"
    comp = O._composed_layer(mode, ins, BS, reverse)
    tol = 1e-5 if dtype == ferrum.float32 else 1e-12
    rng = np.random.default_rng(0)
    ws = [ferrum.tensor(rng.standard_normal(tuple(o.shape)), dtype=dtype) for o in fused]
    grads = []
    for outs in (fused, comp):
        total = sum((o * w).sum() for o, w in zip(outs, ws))
        want = [t for t in ins if t is not None]
        grads.append(ferrum.autograd.grad(total, want))
    for a, b in zip(fused, comp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("mode,proj", [("LSTM", False), ("LSTM", True), ("GRU", False)])
@pytest.mark.parametrize("reverse", (False, True))
def test_fused_layer_gradcheck_and_gradgradcheck(mode, proj, reverse):
    ins = _layer_inputs(mode, proj=proj, H=2)
    pos = [i for i, t in enumerate(ins) if t is not None]

    def fn(*ts):
        full = list(ins)
        for i, t in zip(pos, ts):
            full[i] = t
        return O._layer(mode, tuple(full), BS, reverse)

    args = tuple(ins[i] for i in pos)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


@pytest.mark.parametrize("mode", ("LSTM", "GRU"))
def test_module_double_backward(mode):
    """create_graph through the whole module (fused layers fall back to the composition)."""
    m = getattr(ferrum.nn, mode)(2, 3, num_layers=2, bidirectional=True).double()
    x = ferrum.randn(4, 2, 2, dtype=ferrum.float64, requires_grad=True)
    out, _ = m(x)
    (gx,) = ferrum.autograd.grad((out ** 2).sum(), x, create_graph=True)
    gx.sum().backward()
    O.FUSED = False
    try:
        x2 = x.detach().requires_grad_()
        m.zero_grad()
        out2, _ = m(x2)
        (gx2,) = ferrum.autograd.grad((out2 ** 2).sum(), x2, create_graph=True)
        gx2.sum().backward()
    finally:
        O.FUSED = True
    np.testing.assert_allclose(gx.detach().numpy(), gx2.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell,chunks", [(O.rnn_tanh_cell, 1), (O.rnn_relu_cell, 1), (O.gru_cell, 3),
                                         (O.lstm_cell, 4)])
def test_cells_gradgradcheck(cell, chunks):
    def r(*s):
        return ferrum.randn(*s, dtype=ferrum.float64, requires_grad=True)

    x, h, c = r(2, 3), r(2, 2), r(2, 2)
    w = (r(chunks * 2, 3), r(chunks * 2, 2), r(chunks * 2), r(chunks * 2))
    if cell is O.lstm_cell:
        def fn(x, h, c, *w):
            return cell(x, (h, c), *w)
        args = (x, h, c, *w)
    else:
        fn, args = cell, (x, h, *w)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_modified_weight_and_second_backward_raise():
    m = ferrum.nn.LSTM(2, 3)
    x = ferrum.randn(3, 1, 2)
    out, _ = m(x)
    with ferrum.no_grad():
        m.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    out, _ = m(x)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()
    m.zero_grad()
    out, _ = m(x)
    out.sum().backward(retain_graph=True)
    g1 = m.weight_ih_l0.grad.clone()
    out.sum().backward()
    np.testing.assert_allclose(m.weight_ih_l0.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)


def test_gate_buffers_are_reused():
    """The fused layers take their gate buffers from the cache and give them back."""
    m = ferrum.nn.GRU(4, 8)
    x = ferrum.randn(5, 2, 4)
    for _ in range(2):
        m(x)[0].sum().backward()
    key = ("rnnGI", (10, 24), np.dtype(np.float32))
    n = len(_im2col._CACHE.get(key, []))
    assert n >= 1
    for _ in range(3):
        m(x)[0].sum().backward()
        with ferrum.no_grad():
            m(x)
    assert len(_im2col._CACHE.get(key, [])) == n


def test_fused_used_only_where_it_applies():
    x = ferrum.randn(3, 2, dtype=ferrum.float64, requires_grad=True)
    ins = (x, ferrum.zeros(2, 3, dtype=ferrum.float64), ferrum.randn(3, 2, dtype=ferrum.float64),
           ferrum.randn(3, 3, dtype=ferrum.float64), None, None)
    out = O._layer("RNN_TANH", ins, np.array([2, 1]), False)[0]
    assert out.grad_fn.name() != "MkldnnRnnLayerBackward0"


@pytest.mark.parametrize("mode", ("LSTM", "GRU"))
@pytest.mark.parametrize("dtype", (ferrum.float32, ferrum.float64))
def test_two_thread_gemm_split_matches_torch(torch, mode, dtype):
    """Shapes large enough for ``_mm`` to split its GEMMs over two threads."""
    prev = ferrum.get_num_threads()
    ferrum.set_num_threads(2)
    try:
        tm = getattr(torch.nn, mode)(8, 128, bidirectional=True)
        fm = getattr(ferrum.nn, mode)(8, 128, bidirectional=True)
        tdt = torch.float32 if dtype == ferrum.float32 else torch.float64
        tm = tm.to(tdt)
        fm.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        fm = fm.to(dtype)
        x = np.random.default_rng(0).standard_normal((3, 16, 8))
        xt = torch.tensor(x, dtype=tdt, requires_grad=True)
        xf = ferrum.tensor(x, dtype=dtype, requires_grad=True)
        ot, ht = tm(xt)
        of, hf = fm(xf)
        (ot.sum() + (ht[0] if mode == "LSTM" else ht).sum()).backward()
        (of.sum() + (hf[0] if mode == "LSTM" else hf).sum()).backward()
        tol = 1e-4 if dtype == ferrum.float32 else 1e-10
        np.testing.assert_allclose(of.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
        for (n, p), (_, q) in zip(tm.named_parameters(), fm.named_parameters()):
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=tol, atol=tol, err_msg=n)
    finally:
        ferrum.set_num_threads(prev)
