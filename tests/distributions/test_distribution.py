"""The Distribution base and ExponentialFamily: shape rules, validation switches, perplexity, sample_n,
the checked-instance rule of expand, and the Bregman entropy fallback against closed forms."""

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import close


def test_base_contract(torch):
    d = FD.Distribution(ferrum.Size((2,)), ferrum.Size((3,)), validate_args=False)
    assert tuple(d._extended_shape((4, 1))) == (4, 1, 2, 3)
    for name in ("mean", "variance", "support", "arg_constraints"):
        with pytest.raises(NotImplementedError):
            getattr(d, name)
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        d.mode  # noqa: B018
    for call in (d.rsample, d.entropy, lambda: d.log_prob(ferrum.zeros(3)), d.enumerate_support,
                 lambda: d.expand((2,))):
        with pytest.raises(NotImplementedError):
            call()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        FD.Distribution(validate_args=True)
    assert any("does not define `arg_constraints`" in str(x.message) for x in w)


def test_perplexity_sample_n_and_checked_instance(torch):
    n = FD.Normal(ferrum.tensor([0.0, 1.0]), ferrum.tensor([1.0, 2.0]))
    t = torch.distributions.Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))
    close(t.perplexity(), n.perplexity(), "float32")
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        assert tuple(n.sample_n(3).shape) == (3, 2)

    class MyNormal(FD.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        MyNormal(ferrum.zeros(2)).expand((3, 2))


def test_validate_sample_messages(torch):
    t = torch.distributions.MultivariateNormal(torch.zeros(2, 3), torch.eye(3))
    f = FD.MultivariateNormal(ferrum.zeros(2, 3), ferrum.eye(3))
    for bad in (np.zeros(2), np.zeros((4, 3, 3))):
        with pytest.raises(ValueError) as te:
            t.log_prob(torch.tensor(bad, dtype=torch.float32))
        with pytest.raises(ValueError) as fe:
            f.log_prob(ferrum.tensor(bad, dtype=ferrum.float32))
        assert str(fe.value).replace("ferrum", "torch") == str(te.value)


@pytest.mark.parametrize("name,params", [("Normal", dict(loc=[0.3, -1.0], scale=[0.5, 2.0])),
                                         ("Exponential", dict(rate=[0.5, 3.0])),
                                         ("Bernoulli", dict(probs=[0.2, 0.7]))])
def test_bregman_entropy(name, params):
    d = getattr(FD, name)(**{k: ferrum.tensor(v, dtype=ferrum.float64) for k, v in params.items()})
    close(d.entropy(), FD.ExponentialFamily.entropy(d), "float64", name)
