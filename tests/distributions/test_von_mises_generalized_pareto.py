"""VonMises and GeneralizedPareto against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

R = np.random.default_rng(31)
LOC = R.uniform(-3, 3, (2, 3))
KAPPA = np.array([[0.01, 0.5, 3.0], [3.74, 3.76, 20.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, concentration=KAPPA), dict(loc=0.5, concentration=2.0)])
def test_von_mises(torch, dtype, params):
    parity(torch, "VonMises", params, [R.uniform(-7, 7, (2, 3)), np.array(0.3)], dtype,
           methods=("log_prob",))


def test_von_mises_grads_and_samples():
    v = f64(R.uniform(-3, 3, (2, 3)))
    check_grads(lambda m, k: FD.VonMises(m, k).log_prob(v), [LOC, KAPPA])
    ferrum.manual_seed(0)
    d = FD.VonMises(ferrum.tensor([1.0, -2.0]), ferrum.tensor([4.0, 0.5]))
    s = d.sample((40000,))._data
    assert s.min() >= -np.pi and s.max() <= np.pi
    # circular mean and variance: atan2 of the mean sine/cosine, 1 - the mean resultant length
    np.testing.assert_allclose(np.arctan2(np.sin(s).mean(0), np.cos(s).mean(0)), [1.0, -2.0], atol=0.05)
    r = np.hypot(np.sin(s).mean(0), np.cos(s).mean(0))
    np.testing.assert_allclose(1 - r, d.variance._data, atol=0.01)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [
    dict(loc=LOC, scale=KAPPA + 0.5, concentration=R.uniform(0.1, 0.9, (2, 3))),
    dict(loc=0.0, scale=1.0, concentration=0.0),
    dict(loc=np.zeros(3), scale=np.ones(3), concentration=np.array([-0.5, 0.0, 0.7]))])
def test_generalized_pareto(torch, dtype, params):
    loc = params["loc"]
    v = np.asarray(loc) + R.uniform(0.1, 1.5, (2, 3))
    if dtype == "float32" or isinstance(loc, float):
        parity(torch, "GeneralizedPareto", params, [v], dtype, methods=("log_prob", "cdf"))
    else:  # torch 2.13 raises for float64 parameters (a float32 zero in isclose): SciPy is the oracle
        from scipy import stats
        d = FD.GeneralizedPareto(*(ferrum.tensor(params[k]) for k in ("loc", "scale", "concentration")))
        args = (params["concentration"], params["loc"], params["scale"])
        np.testing.assert_allclose(d.log_prob(ferrum.tensor(v))._data, stats.genpareto.logpdf(v, *args),
                                   rtol=1e-12)
        np.testing.assert_allclose(d.cdf(ferrum.tensor(v))._data, stats.genpareto.cdf(v, *args), rtol=1e-12)
    parity(torch, "GeneralizedPareto", params, [np.array([0.1, 0.5, 0.9])], dtype, methods=("icdf",),
           props=False)


def test_generalized_pareto_grads():
    v = f64(LOC + 1.0)
    params = [LOC, KAPPA + 0.5, np.full((2, 3), 0.3)]
    check_grads(lambda m, s, c: FD.GeneralizedPareto(m, s, c).log_prob(v), params)
    check_grads(lambda m, s, c: FD.GeneralizedPareto(m, s, c).rsample((2,)), params, seed=3)
