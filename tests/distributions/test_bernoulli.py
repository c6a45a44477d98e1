"""Bernoulli against torch (probs and logits), enumerate_support, sampling, gradients."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(1)
P = R.uniform(0.05, 0.95, (2, 3))
VALUES = [(R.random((2, 3)) > 0.5).astype(np.float64), np.array([1.0, 0.0, 1.0]), np.array(0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(probs=P), dict(logits=R.standard_normal((2, 3)) * 3),
                                    dict(probs=0.3), dict(probs=np.array([0.0, 1.0, 0.5]))])
def test_parity(torch, dtype, params):
    parity(torch, "Bernoulli", params, VALUES, dtype)


def test_enumerate_support(torch):
    for expand in (True, False):
        t = torch.distributions.Bernoulli(torch.tensor(P)).enumerate_support(expand)
        f = FD.Bernoulli(ferrum.tensor(P)).enumerate_support(expand)
        np.testing.assert_array_equal(f._data, t.numpy())


def test_grads():
    v = f64(VALUES[0])
    check_grads(lambda p: FD.Bernoulli(probs=p).log_prob(v), [P])
    check_grads(lambda lg: FD.Bernoulli(logits=lg).log_prob(v), [P - 0.5])
    check_grads(lambda p: FD.Bernoulli(probs=p).entropy(), [P])


def test_stats():
    sample_stats(FD.Bernoulli(ferrum.tensor(P)))


def test_errors(torch):
    for kw in ({}, dict(probs=0.5, logits=0.0)):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            FD.Bernoulli(**kw)
    with pytest.raises(ValueError):
        FD.Bernoulli(probs=1.5)
    with pytest.raises(ValueError):
        FD.Bernoulli(probs=0.5).log_prob(ferrum.tensor(0.5))
