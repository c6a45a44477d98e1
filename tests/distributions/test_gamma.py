"""Gamma and Chi2 against torch: log_prob, cdf, entropy, moments, gradients; rsample gradients in
expectation."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(20)
CONC = R.uniform(0.3, 4, (2, 3))
RATE = R.uniform(0.5, 2, (2, 3))
VALUES = [R.uniform(0.1, 4, (2, 3)), np.array(1.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(concentration=CONC, rate=RATE), dict(concentration=2.0, rate=0.5),
                                    dict(concentration=CONC[0], rate=RATE[:, :1])])
def test_gamma_parity(torch, dtype, params):
    parity(torch, "Gamma", params, VALUES, dtype, methods=("log_prob", "cdf"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(df=CONC * 2), dict(df=3.0)])
def test_chi2_parity(torch, dtype, params):
    td, fd = parity(torch, "Chi2", params, VALUES, dtype, methods=("log_prob", "cdf"))
    from .helpers import close
    close(td.df, fd.df, dtype, "df")


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda a, b: FD.Gamma(a, b).log_prob(v), [CONC, RATE])
    check_grads(lambda a, b: FD.Gamma(a, b).entropy(), [CONC, RATE])
    sample_stats(FD.Gamma(ferrum.tensor(CONC), ferrum.tensor(RATE)), n=40000, tol=0.06)
    sample_stats(FD.Chi2(ferrum.tensor(CONC * 2)), n=40000, tol=0.06)


def test_rsample_gradient_in_expectation():
    a = ferrum.tensor([0.4, 3.0], dtype=ferrum.float64, requires_grad=True)
    b = ferrum.tensor([2.0, 0.5], dtype=ferrum.float64, requires_grad=True)
    ferrum.manual_seed(0)
    FD.Gamma(a, b).rsample((40000,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad._data, [1 / 2.0, 1 / 0.5], rtol=0.03)   # d(a/b)/da
    np.testing.assert_allclose(b.grad._data, [-0.4 / 4.0, -3.0 / 0.25], rtol=0.03)  # d(a/b)/db
