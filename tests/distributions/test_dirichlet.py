"""Dirichlet and Beta against torch; rsample gradients in expectation."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(21)
CONC = R.uniform(0.3, 4, (2, 3))
SIMPLEX = R.uniform(0.1, 1, (2, 3))
SIMPLEX /= SIMPLEX.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(concentration=CONC), dict(concentration=np.array([0.5, 0.7, 0.2])),
                                    dict(concentration=np.array([2.0, 3.0]))])
def test_dirichlet_parity(torch, dtype, params):
    n = params["concentration"].shape[-1]
    v = R.uniform(0.1, 1, (2, n))
    parity(torch, "Dirichlet", params, [v / v.sum(-1, keepdims=True)], dtype, methods=("log_prob",))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(concentration1=CONC[0], concentration0=CONC[1]),
                                    dict(concentration1=0.5, concentration0=0.7),
                                    dict(concentration1=CONC, concentration0=2.0)])
def test_beta_parity(torch, dtype, params):
    parity(torch, "Beta", params, [R.uniform(0.05, 0.95, (2, 3)), np.array(0.3)], dtype,
           methods=("log_prob",))


def test_grads_and_stats():
    check_grads(lambda c: FD.Dirichlet(c).log_prob(f64(SIMPLEX)), [CONC])
    check_grads(lambda c: FD.Dirichlet(c).entropy(), [CONC])
    check_grads(lambda a, b: FD.Beta(a, b).log_prob(f64(SIMPLEX[..., 0])), [CONC[:, 0], CONC[:, 1]])
    sample_stats(FD.Dirichlet(ferrum.tensor(CONC)), n=40000, tol=0.06)
    sample_stats(FD.Beta(ferrum.tensor(CONC[0]), ferrum.tensor(CONC[1])), n=40000, tol=0.06)


def test_rsample_gradient_in_expectation():
    c = ferrum.tensor([0.5, 2.0, 3.5], dtype=ferrum.float64, requires_grad=True)
    w = ferrum.tensor([1.0, -2.0, 0.5], dtype=ferrum.float64)
    ferrum.manual_seed(0)
    (FD.Dirichlet(c).rsample((40000,)) * w).sum(-1).mean().backward()
    # E[x_i] = c_i / s: d/dc_j of sum_i w_i c_i / s = (w_j - sum_i w_i c_i / s) / s
    s = 6.0
    expected = (w._data - (w._data * c._data).sum() / s) / s
    np.testing.assert_allclose(c.grad._data, expected, atol=0.01)
    a = ferrum.tensor(1.5, dtype=ferrum.float64, requires_grad=True)
    b = ferrum.tensor(2.5, dtype=ferrum.float64, requires_grad=True)
    ferrum.manual_seed(1)
    FD.Beta(a, b).rsample((40000,)).mean().backward()
    np.testing.assert_allclose([float(a.grad), float(b.grad)], [2.5 / 16, -1.5 / 16], atol=0.005)


def test_mode_and_errors(torch):
    c = np.array([[0.5, 0.3, 0.9], [2.0, 3.0, 1.5]])
    np.testing.assert_allclose(FD.Dirichlet(ferrum.tensor(c)).mode._data,
                               torch.distributions.Dirichlet(torch.tensor(c)).mode.numpy())
    with pytest.raises(ValueError, match="at least one-dimensional"):
        FD.Dirichlet(ferrum.tensor(1.0))
