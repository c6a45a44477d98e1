"""OneHotCategorical (and the straight-through variant) against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, parity

R = np.random.default_rng(3)
P = R.uniform(0.1, 1.0, (2, 3))
VALUES = [np.eye(3)[[0, 2]], np.eye(3)[[[1], [2]]], np.array([0.0, 1.0, 0.0])]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["OneHotCategorical", "OneHotCategoricalStraightThrough"])
@pytest.mark.parametrize("params", [dict(probs=P), dict(logits=R.standard_normal(3))])
def test_parity(torch, dtype, name, params):
    parity(torch, name, params, VALUES, dtype, methods=("log_prob",))


def test_enumerate_support(torch):
    for expand in (True, False):
        t = torch.distributions.OneHotCategorical(torch.tensor(P)).enumerate_support(expand)
        f = FD.OneHotCategorical(ferrum.tensor(P)).enumerate_support(expand)
        np.testing.assert_array_equal(f._data, t.numpy())


def test_straight_through_gradient():
    p = ferrum.tensor(P, requires_grad=True)
    d = FD.OneHotCategoricalStraightThrough(probs=p)
    s = d.rsample()
    assert set(np.unique(s.detach()._data)) <= {0.0, 1.0}
    (s * ferrum.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert p.grad is not None and np.abs(p.grad._data).sum() > 0


def test_grads():
    v = ferrum.tensor(VALUES[0])
    check_grads(lambda p: FD.OneHotCategorical(probs=p).log_prob(v), [P])
