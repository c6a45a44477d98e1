"""LogNormal against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(11)
LOC = R.uniform(-0.5, 0.5, (2, 3))
SCALE = R.uniform(0.2, 0.6, (2, 3))
VALUES = [R.uniform(0.1, 3, (2, 3)), np.array(1.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, scale=SCALE), dict(loc=0.0, scale=0.5)])
def test_parity(torch, dtype, params):
    parity(torch, "LogNormal", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "LogNormal", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda m, s: FD.LogNormal(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.LogNormal(m, s).rsample((2,)), [LOC, SCALE], seed=3)
    sample_stats(FD.LogNormal(ferrum.tensor(LOC), ferrum.tensor(SCALE)), n=40000, tol=0.1)
    e = FD.LogNormal(ferrum.tensor(0.0), ferrum.tensor(1.0)).expand((3,))
    assert type(e) is FD.LogNormal and tuple(e.sample().shape) == (3,)
