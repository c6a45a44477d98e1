"""_standard_gamma: the implicit-reparameterisation gradient against finite differences of SciPy's
inverse incomplete gamma (the quantile map it differentiates) and against torch's approximation;
samples' statistics, seeding, dtypes, the tiny clamp, and the refused second derivative."""

import numpy as np
import pytest
from scipy import special as sc

import ferrum
from ferrum.distributions._standard_gamma import _standard_gamma, standard_gamma_grad

R = np.random.default_rng(19)


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0, 2.5, 10.0, 150.0, 3000.0, 5e4])
def test_gradient_is_the_quantile_derivative(torch, alpha):
    x = np.maximum(R.standard_gamma(alpha, 8), 1e-200)
    u = sc.gammainc(alpha, x)
    keep = (u > 1e-12) & (u < 1 - 1e-12)
    x, u = x[keep], u[keep]
    h = 1e-6 * alpha
    fd = (sc.gammaincinv(alpha + h, u) - sc.gammaincinv(alpha - h, u)) / (2 * h)
    g = standard_gamma_grad(np.full(x.shape, alpha), x)
    np.testing.assert_allclose(g, fd, rtol=2e-5, atol=1e-12)
    tg = torch._standard_gamma_grad(torch.tensor(np.full(x.shape, alpha)), torch.tensor(x)).numpy()
    np.testing.assert_allclose(g, tg, rtol=2e-3, atol=1e-12)


@pytest.mark.parametrize("dtype", [ferrum.float32, ferrum.float64])
def test_samples_and_backward(dtype):
    alpha = ferrum.tensor([0.5, 2.0, 20.0], dtype=dtype, requires_grad=True)
    ferrum.manual_seed(0)
    s = _standard_gamma(alpha.expand(20000, 3))
    assert s.dtype == dtype and s.grad_fn.name() == "StandardGammaBackward0"
    np.testing.assert_allclose(s.detach()._data.mean(0), [0.5, 2.0, 20.0], rtol=0.03)
    np.testing.assert_allclose(s.detach()._data.var(0), [0.5, 2.0, 20.0], rtol=0.06)
    s.mean(0).sum().backward()
    # d E[x] / d alpha = 1: the mean of the pathwise gradients estimates it
    np.testing.assert_allclose(alpha.grad._data, [1.0, 1.0, 1.0], rtol=0.03)
    ferrum.manual_seed(5)
    a = _standard_gamma(alpha.detach())
    ferrum.manual_seed(5)
    np.testing.assert_array_equal(a._data, _standard_gamma(alpha.detach())._data)


def test_tiny_clamp_and_no_double_backward():
    alpha = ferrum.tensor([1e-3] * 50, dtype=ferrum.float32, requires_grad=True)
    s = _standard_gamma(alpha)
    assert float(s.min()) >= np.finfo(np.float32).tiny
    (g,) = ferrum.autograd.grad(s.sum(), [alpha], create_graph=True)
    with pytest.raises(RuntimeError, match="_standard_gamma_grad"):
        g.sum().backward()
