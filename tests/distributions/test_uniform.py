"""Uniform against torch: values inside and at the bounds, cdf clamping, rsample gradients."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(4)
LOW = R.uniform(-2, 0, (2, 3))
HIGH = LOW + R.uniform(0.5, 3, (2, 3))
VALUES = [LOW + 0.3, np.array(0.0), LOW]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(low=LOW, high=HIGH), dict(low=0.0, high=np.array([1.0, 2.0, 3.0])),
                                    dict(low=-1.0, high=1.0)])
def test_parity(torch, dtype, params):
    parity(torch, "Uniform", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Uniform", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


def test_outside_support(torch):
    t = torch.distributions.Uniform(0.0, 1.0, validate_args=False)
    f = FD.Uniform(0.0, 1.0, validate_args=False)
    v = [-0.5, 0.0, 1.0, 1.5]
    np.testing.assert_array_equal(f.log_prob(ferrum.tensor(v))._data, t.log_prob(torch.tensor(v)).numpy())
    np.testing.assert_array_equal(f.cdf(ferrum.tensor(v))._data, t.cdf(torch.tensor(v)).numpy())
    with pytest.raises(ValueError, match="support"):
        FD.Uniform(0.0, 1.0).log_prob(ferrum.tensor(1.5))


def test_grads_and_stats():
    v = f64(LOW + 0.3)
    check_grads(lambda lo, hi: FD.Uniform(lo, hi).log_prob(v), [LOW, HIGH])
    check_grads(lambda lo, hi: FD.Uniform(lo, hi).rsample((2,)), [LOW, HIGH], seed=3)
    check_grads(lambda lo, hi: FD.Uniform(lo, hi).cdf(v), [LOW, HIGH])
    sample_stats(FD.Uniform(ferrum.tensor(LOW), ferrum.tensor(HIGH)))
