"""NegativeBinomial against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(28)
P = R.uniform(0.1, 0.8, (2, 3))
VALUES = [R.integers(0, 6, (2, 3)).astype(np.float64), np.array(0.0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(total_count=np.array(3.5), probs=P),
                                    dict(total_count=2, logits=P - 0.5),
                                    dict(total_count=np.array([[0.0], [4.0]]), probs=P)])
def test_parity(torch, dtype, params):
    parity(torch, "NegativeBinomial", params, VALUES, dtype, methods=("log_prob",))


def test_grads_and_stats():
    check_grads(lambda n, p: FD.NegativeBinomial(n, p).log_prob(f64(VALUES[0])), [np.full((2, 3), 2.5), P])
    sample_stats(FD.NegativeBinomial(ferrum.tensor(3.0), ferrum.tensor(P)), n=40000, tol=0.08)
