"""Laplace against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(6)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.3, 2, (2, 3))
VALUES = [R.standard_normal((2, 3)), np.array(0.25)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, scale=SCALE), dict(loc=0.0, scale=1.0)])
def test_parity(torch, dtype, params):
    parity(torch, "Laplace", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Laplace", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda m, s: FD.Laplace(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.Laplace(m, s).rsample((2,)), [LOC, SCALE], seed=3)
    sample_stats(FD.Laplace(ferrum.tensor(LOC), ferrum.tensor(SCALE)))
