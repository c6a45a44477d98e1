"""Independent against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import close

R = np.random.default_rng(8)
LOC = R.standard_normal((2, 3, 4))
SCALE = R.uniform(0.5, 2, (2, 3, 4))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_parity(torch, dtype, n):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    t = torch.distributions.Independent(torch.distributions.Normal(torch.tensor(LOC, dtype=tdt),
                                                                   torch.tensor(SCALE, dtype=tdt)), n)
    f = FD.Independent(FD.Normal(ferrum.tensor(LOC, dtype=fdt), ferrum.tensor(SCALE, dtype=fdt)), n)
    assert tuple(f.batch_shape) == tuple(t.batch_shape) and tuple(f.event_shape) == tuple(t.event_shape)
    assert repr(f.support) == repr(t.support) and f.has_rsample
    v = R.standard_normal((2, 3, 4))
    close(t.log_prob(torch.tensor(v, dtype=tdt)), f.log_prob(ferrum.tensor(v, dtype=fdt)), dtype)
    close(t.entropy(), f.entropy(), dtype)
    close(t.mean, f.mean, dtype)
    assert tuple(f.sample((5,)).shape) == tuple(t.sample((5,)).shape)
    e = f.expand((7,) + tuple(f.batch_shape))
    assert tuple(e.batch_shape) == (7,) + tuple(f.batch_shape)
    assert repr(f).replace("ferrum", "torch") == repr(t)


def test_errors_and_enumerate(torch):
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        FD.Independent(FD.Normal(ferrum.zeros(3), 1.0), 2)
    b = FD.Independent(FD.Bernoulli(ferrum.full((3,), 0.5)), 1)
    assert not b.has_enumerate_support
    with pytest.raises(NotImplementedError):
        b.enumerate_support()
    b0 = FD.Independent(FD.Bernoulli(ferrum.full((3,), 0.5)), 0)
    assert b0.has_enumerate_support and tuple(b0.enumerate_support().shape) == (2, 3)
