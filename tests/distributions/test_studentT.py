"""StudentT against torch (df below 1 and 2 included for the moments)."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "lgamma"), reason="needs ferrum.lgamma (special17)")

R = np.random.default_rng(22)
DF = np.array([[0.5, 1.5, 3.0], [5.0, 10.0, 2.0]])
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.5, 2, (2, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(df=DF, loc=LOC, scale=SCALE), dict(df=4.0), dict(df=DF)])
def test_parity(torch, dtype, params):
    parity(torch, "StudentT", params, [R.standard_normal((2, 3)) * 2, np.array(0.5)], dtype,
           methods=("log_prob",))


def test_grads_and_samples():
    v = f64(R.standard_normal((2, 3)))
    check_grads(lambda d, m, s: FD.StudentT(d, m, s).log_prob(v), [DF, LOC, SCALE])
    check_grads(lambda d: FD.StudentT(d).entropy(), [DF])
    ferrum.manual_seed(0)
    s = FD.StudentT(ferrum.tensor(8.0), ferrum.tensor(1.0), ferrum.tensor(2.0)).sample((40000,))._data
    np.testing.assert_allclose([s.mean(), s.var()], [1.0, 4.0 * 8 / 6], rtol=0.05)
    d = ferrum.tensor(5.0, requires_grad=True)
    FD.StudentT(d).rsample((3,)).sum().backward()
    assert d.grad is not None
