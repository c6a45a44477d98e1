"""RelaxedBernoulli, LogitRelaxedBernoulli, RelaxedOneHotCategorical, ExpRelaxedCategorical against torch:
log_prob values and gradients (temperature included), rsample shapes and gradients, and the
temperature limit (low temperature gives near-discrete samples with the right frequencies)."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

R = np.random.default_rng(15)
P = R.uniform(0.2, 0.8, (2, 3))
PK = R.uniform(0.1, 1, (2, 4))
PK /= PK.sum(-1, keepdims=True)
T = np.array(0.7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(temperature=T, probs=P), dict(temperature=T, logits=P - 0.5)])
def test_bernoulli_parity(torch, dtype, params):
    parity(torch, "RelaxedBernoulli", params, [R.uniform(0.05, 0.95, (2, 3))], dtype, methods=("log_prob",))
    parity(torch, "relaxed_bernoulli.LogitRelaxedBernoulli", params, [R.standard_normal((2, 3))], dtype,
           methods=("log_prob",))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(temperature=T, probs=PK), dict(temperature=T, logits=np.log(PK))])
def test_categorical_parity(torch, dtype, params):
    v = R.uniform(0.1, 1, (2, 4))
    v = v / v.sum(-1, keepdims=True)
    parity(torch, "RelaxedOneHotCategorical", params, [v], dtype, methods=("log_prob",))
    parity(torch, "relaxed_categorical.ExpRelaxedCategorical", params, [np.log(v)], dtype,
           methods=("log_prob",))


def test_grads():
    v = f64(R.uniform(0.05, 0.95, (2, 3)))
    check_grads(lambda t, p: FD.RelaxedBernoulli(t, probs=p).log_prob(v), [T, P])
    check_grads(lambda t, p: FD.RelaxedBernoulli(t, probs=p).rsample((2,)), [T, P], seed=3)
    w = R.uniform(0.1, 1, (2, 4))
    w = f64(w / w.sum(-1, keepdims=True))
    check_grads(lambda t, lg: FD.RelaxedOneHotCategorical(t, logits=lg).log_prob(w), [T, np.log(PK)])
    check_grads(lambda t, lg: FD.RelaxedOneHotCategorical(t, logits=lg).rsample((2,)), [T, np.log(PK)],
                seed=3)


def test_low_temperature_limit():
    ferrum.manual_seed(0)
    s = FD.RelaxedBernoulli(ferrum.tensor(0.01), probs=ferrum.tensor(P)).sample((20000,))._data
    np.testing.assert_allclose((s > 0.5).mean(0), P, atol=0.02)
    s = FD.RelaxedOneHotCategorical(ferrum.tensor(0.01), probs=ferrum.tensor(PK)).sample((20000,))._data
    np.testing.assert_allclose(np.eye(4)[s.argmax(-1)].mean(0), PK, atol=0.02)
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-9)
