"""HalfNormal, HalfCauchy, Pareto, Weibull against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(26)
SCALE = R.uniform(0.5, 2, (2, 3))
SHAPE = R.uniform(0.5, 4, (2, 3))
POS = R.uniform(0.1, 4, (2, 3))
needs_lgamma = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["HalfNormal", "HalfCauchy"])
@pytest.mark.parametrize("params", [dict(scale=SCALE), dict(scale=1.5)])
def test_folded(torch, dtype, name, params):
    parity(torch, name, params, [POS, np.array(0.0)], dtype, methods=("log_prob", "cdf"))
    parity(torch, name, params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",), props=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(scale=SCALE, alpha=SHAPE), dict(scale=1.0, alpha=3.0)])
def test_pareto(torch, dtype, params):
    parity(torch, "Pareto", params, [np.array(2.5), SCALE + POS], dtype, methods=("log_prob", "cdf"))


@needs_lgamma
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(scale=SCALE, concentration=SHAPE),
                                    dict(scale=1.0, concentration=2.0)])
def test_weibull(torch, dtype, params):
    parity(torch, "Weibull", params, [POS, np.array(0.7)], dtype, methods=("log_prob", "cdf"))


def test_grads_and_stats():
    v = f64(POS)
    check_grads(lambda s: FD.HalfNormal(s).log_prob(v), [SCALE])
    check_grads(lambda s, a: FD.Pareto(s, a).log_prob(f64(SCALE + POS)), [SCALE, SHAPE])
    check_grads(lambda s, k: FD.Weibull(s, k).log_prob(v), [SCALE, SHAPE])
    check_grads(lambda s: FD.HalfNormal(s).rsample((2,)), [SCALE], seed=3)
    sample_stats(FD.HalfNormal(ferrum.tensor(SCALE)), n=40000, tol=0.06)
    sample_stats(FD.Pareto(ferrum.tensor(SCALE), ferrum.tensor(SHAPE + 5)), n=40000, tol=0.1)
    ferrum.manual_seed(0)
    s = FD.HalfCauchy(ferrum.tensor(2.0)).sample((20000,))._data
    np.testing.assert_allclose(np.median(s), 2.0, rtol=0.05)
