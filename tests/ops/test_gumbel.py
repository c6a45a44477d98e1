"""F.gumbel_softmax (ops/gumbel.py): the samples' statistics (arg-max frequencies equal
softmax(logits), simplex), the hard one-hot, the straight-through gradient equal to the soft
one's (same seed), seeding, gradcheck/gradgradcheck, dtypes, and error types against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F


def test_argmax_frequencies_follow_softmax():
    logits = np.array([1.0, 0.0, -1.0, 2.0])
    x = ferrum.tensor(np.broadcast_to(logits, (20000, 4)).copy())
    y = F.gumbel_softmax(x, tau=0.5, hard=True)
    freq = y.numpy().mean(0)
    p = np.exp(logits) / np.exp(logits).sum()
    # 20000 draws: the standard error of each frequency is below 0.0035
    np.testing.assert_allclose(freq, p, atol=0.015)


@pytest.mark.parametrize("tau", [0.3, 1.0, 5.0])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_soft_sample_is_on_the_simplex(tau, dim):
    x = ferrum.randn(5, 6, 7, dtype=ferrum.float64)
    y = F.gumbel_softmax(x, tau=tau, dim=dim).numpy()
    assert (y >= 0).all()
    np.testing.assert_allclose(y.sum(dim), 1.0, rtol=1e-12)


def test_tau_sharpens():
    x = ferrum.zeros(4000, 5, dtype=ferrum.float64)
    sharp = F.gumbel_softmax(x, tau=0.1).numpy().max(1).mean()
    flat = F.gumbel_softmax(x, tau=10.0).numpy().max(1).mean()
    assert sharp > 0.9 and flat < 0.3


@pytest.mark.parametrize("dim", [0, -1])
def test_hard_is_one_hot_at_the_soft_argmax_with_the_soft_gradient(dim):
    x0 = np.random.default_rng(0).standard_normal((6, 5))
    w = ferrum.tensor(np.random.default_rng(1).standard_normal((6, 5)))
    grads, outs = [], []
    for hard in (False, True):
        ferrum.manual_seed(7)
        x = ferrum.tensor(x0, requires_grad=True)
        y = F.gumbel_softmax(x, tau=0.7, hard=hard, dim=dim)
        (y * w).sum().backward()
        grads.append(x.grad.numpy())
        outs.append(y.detach().numpy())
    soft, hard = outs
    assert set(np.unique(hard)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard.sum(dim), 1.0)
    np.testing.assert_array_equal(hard.argmax(dim), soft.argmax(dim))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)


def test_seed_reproduces():
    x = ferrum.randn(3, 4)
    ferrum.manual_seed(3)
    a = F.gumbel_softmax(x).numpy()
    ferrum.manual_seed(3)
    b = F.gumbel_softmax(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.gumbel_softmax(x).numpy())


def test_gradcheck_and_gradgradcheck():
    # soft only: the hard sample is piecewise constant, its (straight-through) gradient is the
    # soft one's by construction, checked above
    x = ferrum.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)

    def fn(t):
        ferrum.manual_seed(11)       # the same noise on every evaluation
        return F.gumbel_softmax(t, tau=0.8)

    assert ferrum.autograd.gradcheck(fn, (x,))
    assert ferrum.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_dtypes_and_shapes_match_torch(torch, dtype):
    for shape, dim in [((2, 3), -1), ((), 0), ((0, 3), 1), ((4, 1, 2), 1)]:
        t = F.gumbel_softmax(ferrum.ones(shape, dtype=getattr(ferrum, dtype)), hard=True, dim=dim)
        r = torch.nn.functional.gumbel_softmax(torch.ones(shape, dtype=getattr(torch, dtype)), hard=True,
                                               dim=dim)
        assert tuple(t.shape) == tuple(r.shape) and str(t.dtype).split(".")[1] == dtype


def test_eps_warns(torch):
    for L in (torch, ferrum):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            L.nn.functional.gumbel_softmax(L.ones(2, 3), eps=1e-5)
        assert any("deprecated" in str(x.message) for x in w)


def test_errors_match_torch(torch):
    cases = [lambda L: L.nn.functional.gumbel_softmax(L.ones(3, dtype=L.int64)),
             lambda L: L.nn.functional.gumbel_softmax(L.ones(3), dim=2),
             lambda L: L.nn.functional.gumbel_softmax(L.ones(2, 0), hard=True)]
    for case in cases:
        with pytest.raises(Exception) as et:
            case(torch)
        with pytest.raises(Exception) as ef:
            case(ferrum)
        assert type(ef.value) is type(et.value)
