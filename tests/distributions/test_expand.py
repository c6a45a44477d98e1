"""expand() of every family against torch: batch and event shapes, the type, the expanded log_prob
and mean (where torch has one), sample shapes, and that validation is not repeated. The families and
parameters are test_kl's."""

import pytest

import ferrum

from .helpers import _both, close, make
from .test_kl import SPECS


@pytest.mark.filterwarnings("ignore:Singular sample detected")  # torch's Wishart warns on every sample
@pytest.mark.parametrize("name", sorted(SPECS))
def test_expand(torch, name):
    td, fd, _, _ = make(torch, name, SPECS[name][0], "float64", requires_grad=False)
    shape = (2,) + tuple(td.batch_shape)
    te, fe = td.expand(shape), fd.expand(shape)
    assert type(fe).__name__ == type(te).__name__
    assert tuple(fe.batch_shape) == tuple(te.batch_shape) and tuple(fe.event_shape) == tuple(te.event_shape)
    assert fe._validate_args == fd._validate_args
    ts = te.sample()
    assert tuple(fe.sample((3,)).shape) == (3,) + tuple(ts.shape)
    v = ts.detach().numpy()
    r = _both(lambda: te.log_prob(torch.tensor(v)), lambda: fe.log_prob(ferrum.tensor(v)))
    if r is not None:
        close(*r, "float64", f"{name} expanded log_prob")
    r = _both(lambda: te.mean, lambda: fe.mean)
    if r is not None:
        close(*r, "float64", f"{name} expanded mean")
