"""Binomial and Multinomial against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(24)
P = R.uniform(0.1, 0.9, (2, 3))
PK = R.uniform(0.1, 1, (2, 4))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(total_count=np.array(6.0), probs=P),
                                    dict(total_count=4, logits=P * 4 - 2),
                                    dict(total_count=np.array([[2.0], [5.0]]), probs=P)])
def test_binomial_parity(torch, dtype, params):
    parity(torch, "Binomial", params, [np.minimum(R.integers(0, 3, (2, 3)), 2).astype(np.float64)], dtype,
           methods=("log_prob",))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(total_count=5, probs=PK), dict(total_count=3, logits=np.log(PK[0]))])
def test_multinomial_parity(torch, dtype, params):
    n = params["total_count"]
    v = np.stack([R.multinomial(n, [0.25] * 4) for _ in range(2)]).astype(np.float64)
    parity(torch, "Multinomial", params, [v], dtype, methods=("log_prob",))


def test_grads_stats_enumerate(torch):
    check_grads(lambda p: FD.Binomial(6, probs=p).log_prob(f64(np.full((2, 3), 2.0))), [P])
    counts = f64(np.array([[1.0, 2.0, 0.0, 2.0]] * 2))
    check_grads(lambda lg: FD.Multinomial(5, logits=lg).log_prob(counts), [PK])
    sample_stats(FD.Binomial(ferrum.tensor(7.0), ferrum.tensor(P)), n=40000, tol=0.06)
    sample_stats(FD.Multinomial(6, ferrum.tensor(PK)), n=40000, tol=0.06)
    t = torch.distributions.Binomial(4, torch.tensor(P)).enumerate_support()
    np.testing.assert_array_equal(FD.Binomial(4, ferrum.tensor(P)).enumerate_support()._data, t.numpy())
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        FD.Binomial(ferrum.tensor([2.0, 3.0]), ferrum.tensor([0.5, 0.5])).entropy()
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        FD.Multinomial(ferrum.tensor(3), ferrum.tensor(PK))
    s = FD.Multinomial(6, ferrum.tensor(PK)).sample((5,))
    assert tuple(s.shape) == (5, 2, 4) and np.all(s._data.sum(-1) == 6)
