"""Categorical against torch: probs/logits, batches, log_prob broadcasting, enumerate_support, sampling."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

R = np.random.default_rng(2)
P = R.uniform(0.1, 1.0, (2, 4))
VALUES = [np.array([0, 3]), np.array([[1], [2], [0]]), np.array(2)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(probs=P), dict(logits=R.standard_normal((2, 4))),
                                    dict(probs=P[0]), dict(probs=np.array([0.0, 0.5, 0.5, 0.0]))])
def test_parity(torch, dtype, params):
    parity(torch, "Categorical", params, VALUES, dtype, methods=("log_prob",))


def test_enumerate_support_and_expand(torch):
    t = torch.distributions.Categorical(torch.tensor(P))
    f = FD.Categorical(ferrum.tensor(P))
    for expand in (True, False):
        np.testing.assert_array_equal(f.enumerate_support(expand)._data, t.enumerate_support(expand).numpy())
    e = f.expand((3, 2))
    assert tuple(e.batch_shape) == (3, 2) and tuple(e.sample((5,)).shape) == (5, 3, 2)
    assert e.sample().dtype == ferrum.int64


def test_sample_frequencies():
    p = np.array([0.1, 0.2, 0.7])
    ferrum.manual_seed(0)
    s = FD.Categorical(ferrum.tensor(p)).sample((20000,))._data
    np.testing.assert_allclose(np.bincount(s, minlength=3) / 20000, p, atol=0.015)


def test_grads():
    v = ferrum.tensor(VALUES[0])
    check_grads(lambda p: FD.Categorical(probs=p).log_prob(v), [P])
    check_grads(lambda lg: FD.Categorical(logits=lg).entropy(), [P])
    check_grads(lambda lg: FD.Categorical(logits=lg).log_prob(v), [f64(P)._data])


def test_errors():
    with pytest.raises(ValueError, match="at least one-dimensional"):
        FD.Categorical(probs=ferrum.tensor(0.5))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        FD.Categorical(logits=ferrum.tensor(0.5))
    with pytest.raises(ValueError, match="support"):
        FD.Categorical(ferrum.tensor(P)).log_prob(ferrum.tensor([4, 0]))
