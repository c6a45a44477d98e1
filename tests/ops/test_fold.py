"""F.unfold / F.fold against torch (values and gradients, batched and unbatched, float32/float64),
gradcheck and gradgradcheck (each is the other's backward), and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as FF
from ferrum.autograd import gradcheck, gradgradcheck

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
GRID = list(itertools.product((2, (2, 3)), (1, 2), (0, 1), (1, 2), (True, False)))


def _pair_run(torch, fn, arr, args, dtype):
    tx = torch.tensor(arr.astype(dtype), requires_grad=True)
    fx = ferrum.tensor(arr.astype(dtype), requires_grad=True)
    to = getattr(torch.nn.functional, fn)(tx, *args)
    fo = getattr(FF, fn)(fx, *args)
    r = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(dtype)
    (to * torch.tensor(r)).sum().backward()
    (fo * ferrum.tensor(r)).sum().backward()
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **TOL[dtype])
    assert fo.dtype == getattr(ferrum, dtype)
    return tuple(to.shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k,d,p,s,batched", GRID)
def test_unfold_fold_parity(torch, k, d, p, s, batched, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8) if batched else (3, 7, 8))
    shape = _pair_run(torch, "unfold", x, (k, d, p, s), dtype)
    _pair_run(torch, "fold", rng.standard_normal(shape), ((7, 8), k, d, p, s), dtype)


def test_gradcheck_gradgradcheck():
    rng = np.random.default_rng(2)
    x = ferrum.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    c = ferrum.tensor(rng.standard_normal((2, 12, 9)), requires_grad=True)
    for fn, a in ((lambda x: FF.unfold(x, 2, 1, 1, 2), x), (lambda c: FF.fold(c, (5, 4), 2, 1, 1, 2), c)):
        assert gradcheck(fn, (a,))
        assert gradgradcheck(fn, (a,))
    assert FF.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    assert FF.fold(c, (5, 4), 2, 1, 1, 2).grad_fn.name() == "Col2ImBackward0"


ERRORS = [
    ("unfold", (2, 3, 4, 4, 4), (2,)),
    ("unfold", (2, 3), (2,)),
    ("unfold", (2, 3, 1, 1), (2,)),
    ("unfold", (2, 3, 4, 4), (0,)),
    ("unfold", (2, 3, 4, 4), (2, 1, -1)),
    ("unfold", (2, 3, 4, 4), (2, 1, 0, 0)),
    ("fold", (2, 12, 8), ((4, 4), 2)),
    ("fold", (2, 11, 9), ((4, 4), 2)),
    ("fold", (2, 3, 12, 9), ((4, 4), 2)),
    ("fold", (2, 12, 9), ((1, 1), 2)),
]


@pytest.mark.parametrize("fn,shape,args", ERRORS)
def test_errors(torch, fn, shape, args):
    a = np.ones(shape, np.float32)
    with pytest.raises(Exception) as te:
        getattr(torch.nn.functional, fn)(torch.tensor(a), *args)
    with pytest.raises(Exception) as fe:
        getattr(FF, fn)(ferrum.tensor(a), *args)
    assert fe.type is te.type, (fe.value, te.value)
