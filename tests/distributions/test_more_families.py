"""InverseGamma, FisherSnedecor, LogisticNormal, Kumaraswamy against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(30)
A = R.uniform(0.5, 5, (2, 3))
B = R.uniform(0.5, 5, (2, 3))
POS = R.uniform(0.1, 3, (2, 3))
UNIT = R.uniform(0.05, 0.95, (2, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,params,values", [
    ("InverseGamma", dict(concentration=A, rate=B), [POS]),
    ("InverseGamma", dict(concentration=3.0, rate=2.0), [POS]),
    ("FisherSnedecor", dict(df1=A * 2, df2=B * 2), [POS]),
    ("FisherSnedecor", dict(df1=5.0, df2=7.0), [POS]),
    ("Kumaraswamy", dict(concentration1=A, concentration0=B), [UNIT]),
    ("Kumaraswamy", dict(concentration1=2.0, concentration0=0.7), [UNIT]),
])
def test_parity(torch, dtype, name, params, values):
    parity(torch, name, params, values, dtype, methods=("log_prob", "cdf"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=R.standard_normal((2, 3)), scale=A), dict(loc=0.5, scale=1.5)])
def test_logistic_normal(torch, dtype, params):
    v = R.uniform(0.1, 1, (2, 4)) if isinstance(params["loc"], np.ndarray) else R.uniform(0.1, 1, 2)
    parity(torch, "LogisticNormal", params, [v / v.sum(-1, keepdims=True)], dtype, methods=("log_prob",))


def test_grads():
    check_grads(lambda a, b: FD.InverseGamma(a, b).log_prob(f64(POS)), [A, B])
    check_grads(lambda a, b: FD.FisherSnedecor(a, b).log_prob(f64(POS)), [A, B])
    check_grads(lambda a, b: FD.Kumaraswamy(a, b).log_prob(f64(UNIT)), [A, B])
    check_grads(lambda a, b: FD.Kumaraswamy(a, b).rsample((2,)), [A, B], seed=3)
    ferrum.manual_seed(0)
    s = FD.FisherSnedecor(ferrum.tensor(6.0), ferrum.tensor(10.0)).sample((40000,))._data
    np.testing.assert_allclose(s.mean(), 10 / 8, rtol=0.03)
