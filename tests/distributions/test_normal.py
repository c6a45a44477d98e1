"""Normal against torch: values, gradients, shapes, sampling statistics, validation."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(0)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.3, 2.0, (2, 3))
VALUES = [R.standard_normal((2, 3)), R.standard_normal((4, 1, 3)), np.array(0.5)]
ICDF_OK = [R.uniform(0.05, 0.95, (2, 3))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, scale=SCALE), dict(loc=LOC[0], scale=SCALE[:, :1]),
                                    dict(loc=0.5, scale=2.0), dict(loc=LOC, scale=1.5)])
def test_parity(torch, dtype, params):
    parity(torch, "Normal", params, VALUES, dtype, methods=("log_prob", "cdf"))
    parity(torch, "Normal", params, ICDF_OK, dtype, methods=("icdf",), props=False)


def test_grads():
    v = f64(VALUES[0])
    check_grads(lambda m, s: FD.Normal(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.Normal(m, s).cdf(v), [LOC, SCALE])
    check_grads(lambda m, s: FD.Normal(m, s).icdf(f64(ICDF_OK[0])), [LOC, SCALE])
    check_grads(lambda s: FD.Normal(0.0, s).entropy(), [SCALE])
    check_grads(lambda m, s: FD.Normal(m, s).rsample((2,)), [LOC, SCALE], seed=3)


def test_rsample_gradient_values():
    loc = ferrum.tensor(LOC, requires_grad=True)
    scale = ferrum.tensor(SCALE, requires_grad=True)
    ferrum.manual_seed(0)
    x = FD.Normal(loc, scale).rsample((4,))
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad._data, np.full((2, 3), 4.0))
    np.testing.assert_allclose(scale.grad._data, eps.sum(0)._data, rtol=1e-12)


def test_stats_and_seed():
    sample_stats(FD.Normal(ferrum.tensor(LOC), ferrum.tensor(SCALE)))


def test_expand_and_repr(torch):
    d = FD.Normal(ferrum.tensor([0.0, 1.0]), ferrum.tensor(1.0))
    e = d.expand((3, 2))
    assert tuple(e.batch_shape) == (3, 2) and tuple(e.sample().shape) == (3, 2)
    t = torch.distributions.Normal(torch.tensor([0.0, 1.0]), torch.tensor(1.0))
    assert repr(d).replace("ferrum", "torch") == repr(t)
    assert repr(FD.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"


def test_validation(torch):
    for bad in (dict(loc=0.0, scale=-1.0), dict(loc=float("nan"), scale=1.0)):
        with pytest.raises(ValueError) as te:
            torch.distributions.Normal(**bad)
        with pytest.raises(ValueError) as fe:
            FD.Normal(**bad)
        assert str(fe.value) == str(te.value)
    FD.Normal(0.0, -1.0, validate_args=False)
    d = FD.Normal(ferrum.zeros(3), ferrum.ones(3))
    t = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError) as te:
        t.log_prob(torch.zeros(2))
    with pytest.raises(ValueError) as fe:
        d.log_prob(ferrum.zeros(2))
    assert str(fe.value).replace("ferrum", "torch") == str(te.value)
    with pytest.raises(ValueError, match="must be a Tensor"):
        d.log_prob(0.5)


def test_set_default_validate_args():
    try:
        FD.Distribution.set_default_validate_args(False)
        FD.Normal(0.0, -1.0)
    finally:
        FD.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        FD.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        FD.Distribution.set_default_validate_args(2)
