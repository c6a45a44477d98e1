"""Geometric against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, parity, sample_stats

R = np.random.default_rng(14)
P = R.uniform(0.2, 0.9, (2, 3))
VALUES = [R.integers(0, 5, (2, 3)).astype(np.float64), np.array(0.0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(probs=P), dict(logits=R.standard_normal((2, 3))), dict(probs=0.4),
                                    dict(probs=np.array([1.0, 0.5, 0.25]))])
def test_parity(torch, dtype, params):
    parity(torch, "Geometric", params, VALUES, dtype, methods=("log_prob",))


def test_grads_stats_errors(torch):
    v = ferrum.tensor(VALUES[0], dtype=ferrum.float64)
    check_grads(lambda p: FD.Geometric(probs=p).log_prob(v), [P])
    check_grads(lambda p: FD.Geometric(probs=p).entropy(), [P])
    sample_stats(FD.Geometric(ferrum.tensor(P)), n=40000, tol=0.08)
    with pytest.raises(ValueError) as te:
        torch.distributions.Geometric(torch.tensor([0.0, 0.5]))
    with pytest.raises(ValueError) as fe:
        FD.Geometric(ferrum.tensor([0.0, 0.5]))
    assert str(fe.value).replace("ferrum", "torch") == str(te.value)
    with pytest.raises(ValueError, match="support"):
        FD.Geometric(0.5).log_prob(ferrum.tensor(1.5))
