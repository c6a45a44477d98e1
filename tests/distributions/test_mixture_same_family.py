"""MixtureSameFamily against torch: univariate and multivariate components, batched mixtures,
gradients of log_prob into the weights and the components, sampling, errors."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import close

R = np.random.default_rng(25)


def _build(lib, T, kind):
    if kind == "normal":
        mix = lib.Categorical(logits=T(R_LOGITS))
        return lib.MixtureSameFamily(mix, lib.Normal(T(R_LOC), T(R_SCALE)))
    if kind in ("mvn_diag", "broadcast_mix"):
        mix = lib.Categorical(logits=T(R_LOGITS if kind == "mvn_diag" else R_LOGITS[0]))
        comp = lib.Independent(lib.Normal(T(R_LOC3), T(R_SCALE3)), 1)
        return lib.MixtureSameFamily(mix, comp)
    mix = lib.Categorical(probs=T(np.exp(R_LOGITS[0])))
    return lib.MixtureSameFamily(mix, lib.MultivariateNormal(T(R_LOC3[0]), scale_tril=T(R_TRIL)))


R_LOGITS = R.standard_normal((2, 3))
R_LOC = R.standard_normal((2, 3))
R_SCALE = R.uniform(0.5, 2, (2, 3))
R_LOC3 = R.standard_normal((2, 3, 4))
R_SCALE3 = R.uniform(0.5, 2, (2, 3, 4))
R_TRIL = np.tril(R.standard_normal((3, 4, 4))) + 3 * np.eye(4)
VALUES = {"normal": R.standard_normal((5, 2)), "mvn_diag": R.standard_normal((5, 2, 4)),
          "broadcast_mix": R.standard_normal((5, 2, 4)), "mvn": R.standard_normal((5, 4))}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", list(VALUES))
def test_parity(torch, dtype, kind):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    tleaves, fleaves = [], []

    def tt(a):
        t = torch.tensor(a, dtype=tdt, requires_grad=True)
        tleaves.append(t)
        return t

    def ff(a):
        f = ferrum.tensor(a, dtype=fdt, requires_grad=True)
        fleaves.append(f)
        return f

    td, fd = _build(torch.distributions, tt, kind), _build(FD, ff, kind)
    assert tuple(fd.batch_shape) == tuple(td.batch_shape) and tuple(fd.event_shape) == tuple(td.event_shape)
    assert repr(fd.support) == repr(td.support)
    v = VALUES[kind]
    tl, fl = td.log_prob(torch.tensor(v, dtype=tdt)), fd.log_prob(ferrum.tensor(v, dtype=fdt))
    close(tl, fl, dtype, "log_prob")
    close(td.mean, fd.mean, dtype, "mean")
    close(td.variance, fd.variance, dtype, "variance")
    if kind == "normal":
        close(td.cdf(torch.tensor(v, dtype=tdt)), fd.cdf(ferrum.tensor(v, dtype=fdt)), dtype, "cdf")
    tg = torch.autograd.grad(tl.sum(), tleaves, allow_unused=True)
    fg = ferrum.autograd.grad(fl.sum(), fleaves, allow_unused=True)
    for a, b in zip(tg, fg):
        if a is not None:
            close(a, b, dtype, "grad")
    if kind == "broadcast_mix":  # a mixture of smaller batch than the components: torch cannot sample it
        with pytest.raises(RuntimeError):
            td.sample((6,))
        with pytest.raises(RuntimeError):
            fd.sample((6,))
        return
    assert tuple(fd.sample((6,)).shape) == tuple(td.sample((6,)).shape)
    e = fd.expand((7,) + tuple(fd.batch_shape))
    assert tuple(e.sample().shape) == (7,) + tuple(fd.batch_shape) + tuple(fd.event_shape)


def test_sample_statistics():
    mix = FD.Categorical(probs=ferrum.tensor([0.2, 0.8]))
    d = FD.MixtureSameFamily(mix, FD.Normal(ferrum.tensor([-3.0, 2.0]), ferrum.tensor([0.5, 1.0])))
    ferrum.manual_seed(0)
    s = d.sample((40000,))._data
    np.testing.assert_allclose([s.mean(), s.var()], [float(d.mean), float(d.variance)], rtol=0.03)


def test_errors():
    comp = FD.Normal(ferrum.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="Categorical"):
        FD.MixtureSameFamily(FD.Normal(0.0, 1.0), comp)
    with pytest.raises(ValueError, match="Distribution"):
        FD.MixtureSameFamily(FD.Categorical(ferrum.ones(3)), 3)
    with pytest.raises(ValueError, match="does not equal"):
        FD.MixtureSameFamily(FD.Categorical(ferrum.ones(4)), comp)
    with pytest.raises(ValueError, match="not compatible"):
        FD.MixtureSameFamily(FD.Categorical(ferrum.ones(5, 3)), comp)
