"""Cauchy against torch (mean nan, variance inf), gradients, the sample median."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

R = np.random.default_rng(13)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.3, 2, (2, 3))
VALUES = [R.standard_normal((2, 3)) * 3, np.array(0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, scale=SCALE), dict(loc=1.0, scale=2.0)])
def test_parity(torch, dtype, params):
    parity(torch, "Cauchy", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Cauchy", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_grads_and_median():
    v = f64(VALUES[0])
    check_grads(lambda m, s: FD.Cauchy(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.Cauchy(m, s).rsample((2,)), [LOC, SCALE], seed=3)
    ferrum.manual_seed(0)
    s = FD.Cauchy(ferrum.tensor(LOC), ferrum.tensor(SCALE)).sample((20000,))._data
    np.testing.assert_allclose(np.median(s, 0), LOC, atol=0.06)
    q = np.quantile(s, 0.75, axis=0) - np.median(s, 0)
    np.testing.assert_allclose(q, SCALE, rtol=0.08)
