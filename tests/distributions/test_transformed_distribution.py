"""TransformedDistribution against torch: shapes as the transforms change event dims, log_prob, cdf and
icdf through monotone transforms (increasing and decreasing), sampling, rsample gradients, expand."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, close

R = np.random.default_rng(17)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.5, 1.5, (2, 3))


def _build(lib, T, which):
    t = lib.transforms
    base = lib.Normal(T(LOC), T(SCALE))
    return {
        "affine_sigmoid": lambda: lib.TransformedDistribution(base, [t.AffineTransform(0.5, -2.0),
                                                                     t.SigmoidTransform()]),
        "exp": lambda: lib.TransformedDistribution(base, t.ExpTransform()),
        "stick": lambda: lib.TransformedDistribution(base, [t.StickBreakingTransform()]),
        "affine_ev": lambda: lib.TransformedDistribution(base, [t.AffineTransform(T(LOC[0]), T(SCALE[1]),
                                                                                  event_dim=1)]),
        "reshape": lambda: lib.TransformedDistribution(base, [t.ReshapeTransform((2, 3), (6,))]),
        "none": lambda: lib.TransformedDistribution(base, []),
    }[which]()


VALUES = {"affine_sigmoid": R.uniform(0.1, 0.9, (2, 3)), "exp": R.uniform(0.1, 3, (2, 3)),
          "stick": np.full((2, 4), 0.25), "affine_ev": R.standard_normal((2, 3)),
          "reshape": R.standard_normal(6), "none": R.standard_normal((2, 3))}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", list(VALUES))
def test_parity(torch, dtype, which):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    td = _build(torch.distributions, lambda a: torch.tensor(a, dtype=tdt), which)
    fd = _build(FD, lambda a: ferrum.tensor(a, dtype=fdt), which)
    assert tuple(fd.batch_shape) == tuple(td.batch_shape) and tuple(fd.event_shape) == tuple(td.event_shape)
    assert repr(fd.support) == repr(td.support) and fd.has_rsample == td.has_rsample
    v = VALUES[which]
    tv, fv = torch.tensor(v, dtype=tdt), ferrum.tensor(v, dtype=fdt)
    close(td.log_prob(tv), fd.log_prob(fv), dtype, "log_prob")
    if which in ("affine_sigmoid", "exp", "none"):
        close(td.cdf(tv), fd.cdf(fv), dtype, "cdf")
        u = np.array([0.2, 0.5, 0.7])
        close(td.icdf(torch.tensor(u, dtype=tdt)), fd.icdf(ferrum.tensor(u, dtype=fdt)), dtype, "icdf")
    assert tuple(fd.sample((4,)).shape) == tuple(td.sample((4,)).shape)
    e = fd.expand((5,) + tuple(fd.batch_shape))
    assert tuple(e.batch_shape) == (5,) + tuple(fd.batch_shape) and tuple(e.sample().shape) == tuple(
        td.expand((5,) + tuple(td.batch_shape)).sample().shape)


def test_grads():
    v = ferrum.tensor(VALUES["affine_sigmoid"], dtype=ferrum.float64)
    t = FD.transforms

    def build(m, s):
        return FD.TransformedDistribution(FD.Normal(m, s),
                                          [t.AffineTransform(0.5, -2.0), t.SigmoidTransform()])

    check_grads(lambda m, s: build(m, s).log_prob(v), [LOC, SCALE])
    check_grads(lambda m, s: build(m, s).rsample((2,)), [LOC, SCALE], seed=3)


def test_errors():
    base = FD.Normal(ferrum.zeros(3), 1.0)
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        FD.TransformedDistribution(base, "exp")
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        FD.TransformedDistribution(base, [1])
    with pytest.raises(ValueError, match="base_distribution needs to have shape with size at least 2"):
        FD.TransformedDistribution(base, [FD.transforms.LowerCholeskyTransform()])
