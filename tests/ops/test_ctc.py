"""F.ctc_loss / nn.CTCLoss (ops/ctc.py) against torch beyond the registry entry (tests/opinfo/db_ctc.py):
the gradient with respect to log_probs themselves (torch's definition, not through log_softmax) over
a grid of shapes, reductions, zero_infinity, blank and target layouts in float32 and float64;
padded and concatenated targets agree; the double backward raises as torch's; the module."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

TOL = {"float32": (2e-5, 2e-6), "float64": (1e-11, 1e-13)}


def _case(seed, T, N, C, smax, blank=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C))
    labels = [c for c in range(C) if c != blank]
    tg = rng.choice(labels, (N, smax))
    if smax > 1:
        tg[0, 1] = tg[0, 0]
    il = rng.integers(max(1, T // 2), T + 1, N)
    il[0] = T
    tl = rng.integers(0, smax + 1, N)
    tl[0] = smax
    return x, tg, il, tl


def _run(L, x, tg, il, tl, dtype, through_softmax, lengths_as, targets_as, **kw):
    xt = L.tensor(x, dtype=getattr(L, dtype))
    if through_softmax:
        leaf = xt.requires_grad_()
        lp = leaf.log_softmax(2)
    else:
        leaf = xt.log_softmax(2).detach().requires_grad_()
        lp = leaf
    if targets_as == "concat":
        tgt = L.tensor(np.concatenate([tg[b, :tl[b]] for b in range(len(tl))]).astype(np.int64))
    else:
        tgt = L.tensor(tg)
    if lengths_as == "tensor":
        il_, tl_ = L.tensor(il, dtype=L.int32), L.tensor(tl)
    else:
        il_, tl_ = tuple(int(v) for v in il), tuple(int(v) for v in tl)
    loss = L.nn.functional.ctc_loss(lp, tgt, il_, tl_, **kw)
    w = L.tensor(np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)), dtype=loss.dtype)
    (loss * w).sum().backward()
    return loss.detach().numpy(), leaf.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("shape", [(7, 3, 5, 3), (4, 2, 3, 3), (10, 4, 6, 1), (5, 1, 4, 2)])
@pytest.mark.parametrize("blank", [0, -1])
def test_values_and_log_prob_gradients_match_torch(torch, dtype, reduction, zero_infinity, shape, blank):
    T, N, C, smax = shape
    blank = blank % C
    x, tg, il, tl = _case(sum(shape), T, N, C, smax, blank)
    kw = {"reduction": reduction, "zero_infinity": zero_infinity, "blank": blank}
    for through in (False, True):
        lt, gt = _run(torch, x, tg, il, tl, dtype, through, "tuple", "padded", **kw)
        lf, gf = _run(ferrum, x, tg, il, tl, dtype, through, "tuple", "padded", **kw)
        rtol, atol = TOL[dtype]
        assert lf.dtype == lt.dtype and lf.shape == lt.shape
        np.testing.assert_allclose(lf, lt, rtol=rtol, atol=atol)
        np.testing.assert_allclose(gf, gt, rtol=rtol * 10, atol=atol * 10, equal_nan=True)


@pytest.mark.parametrize("lengths_as", ["tuple", "tensor"])
@pytest.mark.parametrize("targets_as", ["padded", "concat"])
def test_target_layouts_and_length_types(torch, lengths_as, targets_as):
    x, tg, il, tl = _case(3, 8, 3, 5, 3)
    lt, gt = _run(torch, x, tg, il, tl, "float64", True, lengths_as, targets_as, reduction="none")
    lf, gf = _run(ferrum, x, tg, il, tl, "float64", True, lengths_as, targets_as, reduction="none")
    np.testing.assert_allclose(lf, lt, rtol=1e-12)
    np.testing.assert_allclose(gf, gt, rtol=1e-10, atol=1e-13)
    lp, _ = _run(ferrum, x, tg, il, tl, "float64", True, "tuple", "padded", reduction="none")
    np.testing.assert_allclose(lf, lp, rtol=1e-14)


def test_impossible_alignment_gives_inf_and_nan_gradient_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 1, 4))
    outs = []
    for L in (torch, ferrum):
        lp = L.tensor(x).log_softmax(2).detach().requires_grad_()
        loss = L.nn.functional.ctc_loss(lp, L.tensor([[1, 1, 2]]), (3,), (3,), reduction="sum")
        loss.backward()
        outs.append((loss.item(), lp.grad.numpy()))
    assert outs[0][0] == outs[1][0] == np.inf
    np.testing.assert_array_equal(np.isnan(outs[1][1]), np.isnan(outs[0][1]))


def test_double_backward_raises_like_torch(torch):
    x = np.random.default_rng(1).standard_normal((5, 2, 4))
    msgs = []
    for L in (torch, ferrum):
        xt = L.tensor(x, requires_grad=True)
        loss = L.nn.functional.ctc_loss(xt.log_softmax(2), L.tensor([[1, 2], [3, 3]]), (5, 5), (2, 2))
        (g,) = L.autograd.grad(loss, xt, create_graph=True)
        with pytest.raises(RuntimeError) as e:
            g.pow(2).sum().backward()
        msgs.append(str(e.value))
    assert "_ctc_loss_backward is not implemented" in msgs[1]


def test_unbatched_matches_torch(torch):
    x = np.random.default_rng(2).standard_normal((6, 4))
    res = []
    for L in (torch, ferrum):
        xt = L.tensor(x, requires_grad=True)
        loss = L.nn.functional.ctc_loss(xt.log_softmax(1), L.tensor([1, 3, 3]), L.tensor(6), L.tensor(3),
                                        reduction="none")
        loss.backward()
        res.append((tuple(loss.shape), loss.item(), xt.grad.numpy()))
    assert res[0][0] == res[1][0] == ()
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_module(torch, reduction):
    x, tg, il, tl = _case(5, 6, 2, 4, 2)
    res = []
    for L in (torch, ferrum):
        m = L.nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=True)
        assert repr(m) == "CTCLoss()" and m.blank == 0 and m.zero_infinity
        xt = L.tensor(x, requires_grad=True)
        loss = m(xt.log_softmax(2), L.tensor(tg), L.tensor(il), L.tensor(tl))
        loss.sum().backward()
        res.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-10, atol=1e-13)


def test_bad_dtypes_match_torch(torch):
    cases = [
        lambda L: L.nn.functional.ctc_loss(L.zeros(3, 1, 3, dtype=L.float16), L.tensor([[1]]), (3,), (1,)),
        lambda L: L.nn.functional.ctc_loss(L.zeros(3, 1, 3), L.tensor([[1]]), L.tensor([3.0]), L.tensor([1])),
        lambda L: L.nn.functional.ctc_loss(L.zeros(3, 1, 3), L.tensor([[1]]), 3, 1),
    ]
    for case in cases:
        with pytest.raises(Exception) as et:
            case(torch)
        with pytest.raises(Exception) as ef:
            case(ferrum)
        assert type(ef.value) is type(et.value), (et.value, ef.value)
