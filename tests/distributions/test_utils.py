"""distributions.utils against torch: broadcast_all, probs/logits conversions, the tril vector
helpers, lazy_property."""

import numpy as np
import pytest

import ferrum
from ferrum.distributions import utils as FU

from .helpers import close

R = np.random.default_rng(33)


def test_broadcast_all(torch):
    tu = torch.distributions.utils
    for args in [(1.0, 2.0), (np.ones((2, 1)), 3.0), (np.ones(3), np.ones((2, 1)), 0.5)]:
        t = tu.broadcast_all(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
        f = FU.broadcast_all(*[ferrum.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
        assert [tuple(x.shape) for x in t] == [tuple(x.shape) for x in f]
        assert [str(x.dtype).split(".")[-1] for x in t] == [str(x.dtype).split(".")[-1] for x in f]
    with pytest.raises(ValueError, match="Input arguments must all be instances"):
        FU.broadcast_all(ferrum.ones(2), "a")


@pytest.mark.parametrize("is_binary", [False, True])
def test_probs_logits(torch, is_binary):
    tu = torch.distributions.utils
    p = np.array([[0.0, 0.3, 0.7], [1.0, 1e-9, 0.5]])
    close(tu.probs_to_logits(torch.tensor(p), is_binary), FU.probs_to_logits(ferrum.tensor(p), is_binary),
          "float64")
    lg = R.standard_normal((2, 3)) * 5
    close(tu.logits_to_probs(torch.tensor(lg), is_binary), FU.logits_to_probs(ferrum.tensor(lg), is_binary),
          "float64")
    p32 = p.astype(np.float32)
    close(tu.clamp_probs(torch.tensor(p32)), FU.clamp_probs(ferrum.tensor(p32)), "float32")


@pytest.mark.parametrize("diag", [0, -1, 1])
def test_tril_vec(torch, diag):
    tu = torch.distributions.utils
    m = R.standard_normal((2, 4, 4))
    tv, fv = tu.tril_matrix_to_vec(torch.tensor(m), diag), FU.tril_matrix_to_vec(ferrum.tensor(m), diag)
    close(tv, fv, "float64")
    close(tu.vec_to_tril_matrix(tv, diag), FU.vec_to_tril_matrix(fv, diag), "float64")
    with pytest.raises(ValueError):
        FU.vec_to_tril_matrix(ferrum.ones(5), 0)


def test_lazy_property():
    calls = []

    class A:
        @FU.lazy_property
        def x(self):
            calls.append(1)
            return ferrum.ones(2) * 2

    a = A()
    assert float(a.x.sum()) == 4.0 and float(a.x.sum()) == 4.0 and len(calls) == 1
    assert isinstance(A.x, property) and isinstance(A.x, FU.lazy_property)
    with ferrum.no_grad():  # computed with grad mode on, so a lazily derived parameter stays differentiable
        p = ferrum.ones(2, requires_grad=True)

        class B:
            @FU.lazy_property
            def y(self):
                return p * 3

        assert B().y.requires_grad
