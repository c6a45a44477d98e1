"""Exponential against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(5)
RATE = R.uniform(0.3, 3, (2, 3))
VALUES = [R.uniform(0, 3, (2, 3)), np.array(0.0), R.uniform(0, 1, (4, 1, 3))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(rate=RATE), dict(rate=2.0)])
def test_parity(torch, dtype, params):
    parity(torch, "Exponential", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Exponential", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda r: FD.Exponential(r).log_prob(v), [RATE])
    check_grads(lambda r: FD.Exponential(r).rsample((2,)), [RATE], seed=3)
    check_grads(lambda r: FD.Exponential(r).entropy(), [RATE])
    sample_stats(FD.Exponential(ferrum.tensor(RATE)))
    with pytest.raises(ValueError, match="support"):
        FD.Exponential(1.0).log_prob(ferrum.tensor(-1.0))
