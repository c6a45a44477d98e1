"""Poisson against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(23)
RATE = R.uniform(0.5, 6, (2, 3))
VALUES = [R.integers(0, 8, (2, 3)).astype(np.float64), np.array(0.0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(rate=RATE), dict(rate=2.0), dict(rate=np.array([0.0, 1.0, 2.0]))])
def test_parity(torch, dtype, params):
    parity(torch, "Poisson", params, VALUES, dtype, methods=("log_prob",))


def test_grads_and_stats():
    check_grads(lambda r: FD.Poisson(r).log_prob(f64(VALUES[0])), [RATE])
    sample_stats(FD.Poisson(ferrum.tensor(RATE)), n=40000, tol=0.06)
    with pytest.raises(ValueError, match="support"):
        FD.Poisson(1.0).log_prob(ferrum.tensor(0.5))
