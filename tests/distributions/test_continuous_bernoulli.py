"""ContinuousBernoulli against torch, inside and outside the Taylor region around probs = 1/2."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(27)
P = np.array([[0.1, 0.4995, 0.5], [0.7, 0.95, 0.3]])
VALUES = [R.uniform(0.05, 0.95, (2, 3)), np.array(0.0), np.array(1.0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(probs=P), dict(logits=R.standard_normal((2, 3)) * 2),
                                    dict(probs=0.3)])
def test_parity(torch, dtype, params):
    parity(torch, "ContinuousBernoulli", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "ContinuousBernoulli", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",),
           props=False)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda p: FD.ContinuousBernoulli(probs=p).log_prob(v), [np.array([0.1, 0.3, 0.8])])
    check_grads(lambda lg: FD.ContinuousBernoulli(logits=lg).rsample((2,)), [np.array([-2.0, 0.5, 3.0])],
                seed=3)
    sample_stats(FD.ContinuousBernoulli(ferrum.tensor(P)), n=40000, tol=0.06)
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        FD.ContinuousBernoulli(ferrum.tensor([1.5]), validate_args=True)
