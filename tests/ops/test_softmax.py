"""softmax / log_softmax against torch; gradcheck and gradgradcheck; stability; conj/real/imag."""

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1)])
def test_forward_and_grad_match_torch(torch, fn, shape, dim):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    x = F.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y = getattr(F, fn)(x, dim)
    yt = getattr(torch, fn)(xt, dim)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.backward(F.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert y.grad_fn.name() == type(yt.grad_fn).__name__


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_gradcheck_and_gradgradcheck(fn):
    x = F.randn(3, 4, dtype=F.float64, requires_grad=True)
    assert gradcheck(lambda t: fn(t, 1), (x,))
    assert gradgradcheck(lambda t: fn(t, 1), (x,))
    assert gradgradcheck(lambda t: fn(t, 0) * t, (x,))


def test_stable_at_large_logits(torch):
    a = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=np.float32)
    for fn in ("softmax", "log_softmax"):
        y = getattr(F, fn)(F.tensor(a), 1).numpy()
        yt = getattr(torch, fn)(torch.tensor(a), 1).numpy()
        assert np.all(np.isfinite(y))
        np.testing.assert_allclose(y, yt, rtol=1e-6)


def test_dtype_argument_and_methods():
    x = F.randn(2, 3)
    assert F.softmax(x, 1, dtype=F.float64).dtype == F.float64
    np.testing.assert_allclose(x.softmax(-1).sum(-1).numpy(), np.ones(2), rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).exp().numpy(), x.softmax(1).numpy(), rtol=1e-5)


def test_errors():
    with pytest.raises(IndexError):
        F.softmax(F.randn(2, 3), 2)
    with pytest.raises(RuntimeError):
        F.softmax(F.arange(3), 0)
    with pytest.raises(TypeError):
        F.softmax([1.0, 2.0], 0)


def test_conj_real_imag(torch):
    a = np.array([1 + 2j, 3 - 1j], dtype=np.complex64)
    x = F.tensor(a)
    np.testing.assert_allclose(x.conj().numpy(), np.conj(a))
    np.testing.assert_allclose(x.real.numpy(), a.real)
    np.testing.assert_allclose(x.imag.numpy(), a.imag)
    r = F.randn(3)
    assert r.conj() is r and r.real is r
    with pytest.raises(RuntimeError):
        r.imag  # noqa: B018
