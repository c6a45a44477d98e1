"""biject_to / transform_to against torch: the transform chosen for every registered constraint (by
repr), its values, and that it lands in the constraint; errors for unregistered constraints."""

import numpy as np
import pytest

import ferrum
from ferrum.distributions import constraint_registry as FR
from ferrum.distributions import constraints as FC

from .helpers import close

R = np.random.default_rng(29)


def _constraints(c, T):
    return [c.real, c.positive, c.nonnegative, c.greater_than(2.0), c.greater_than_eq(-1.0), c.less_than(3.0),
            c.unit_interval, c.interval(-2.0, 5.0), c.half_open_interval(0.0, 1.0), c.simplex,
            c.lower_cholesky, c.positive_definite, c.corr_cholesky, c.independent(c.positive, 1),
            c.interval(T(np.zeros(3)), T(np.full(3, 2.0))),
            c.cat([c.positive, c.real], 1, [1, 2]), c.stack([c.positive, c.unit_interval, c.real], 1)]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("idx", range(17))
def test_parity(torch, registry, idx):
    tc = _constraints(torch.distributions.constraints, torch.tensor)[idx]
    fc = _constraints(FC, ferrum.tensor)[idx]
    treg = getattr(torch.distributions, registry)
    freg = getattr(FR, registry)
    try:
        tt = treg(tc)
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError) as fe:
            freg(fc)
        assert str(fe.value) == str(e)
        return
    ft = freg(fc)
    assert repr(ft).replace("ferrum", "torch") == repr(tt)
    x = R.standard_normal((2, 3, 3)) if tc.event_dim == 2 else R.standard_normal((2, 3))
    if isinstance(tc, type(torch.distributions.constraints.corr_cholesky)):
        x = R.standard_normal((2, 3))
    ty, fy = tt(torch.tensor(x)), ft(ferrum.tensor(x))
    close(ty, fy, "float64", repr(tc))
    assert bool(fc.check(fy).all())


def test_register_errors():
    reg = FR.ConstraintRegistry()
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        reg.register(int, lambda c: None)
    reg.register(FC.positive)(lambda c: "made")
    assert reg(FC.greater_than(3.0)) == "made"
    with pytest.raises(NotImplementedError, match="Cannot transform _Simplex constraints"):
        reg(FC.simplex)
