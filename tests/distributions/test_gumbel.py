"""Gumbel against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(12)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.3, 2, (2, 3))
VALUES = [R.standard_normal((2, 3)), np.array(0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, scale=SCALE), dict(loc=1.0, scale=2.0)])
def test_parity(torch, dtype, params):
    parity(torch, "Gumbel", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Gumbel", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda m, s: FD.Gumbel(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.Gumbel(m, s).rsample((2,)), [LOC, SCALE], seed=3)
    sample_stats(FD.Gumbel(ferrum.tensor(LOC), ferrum.tensor(SCALE)), n=40000, tol=0.08)
    e = FD.Gumbel(ferrum.tensor([0.0, 1.0]), 1.0).expand((3, 2))
    assert tuple(e.batch_shape) == (3, 2) and tuple(e.log_prob(ferrum.zeros(3, 2)).shape) == (3, 2)
