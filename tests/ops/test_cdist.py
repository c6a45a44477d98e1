"""cdist (ops/cdist.py) against torch.cdist: values and gradients over p, compute modes, batch
broadcasting and dtypes; gradcheck/gradgradcheck; zero distances; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck

PS = [0.0, 1.0, 2.0, 3.0, 0.5, math.inf]
MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]
SHAPES = [((5, 3), (4, 3)), ((2, 5, 3), (2, 4, 3)), ((3, 1, 4, 2), (2, 6, 2)), ((30, 4), (27, 4))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("p", PS)
def test_matches_torch(torch, p, mode, shapes, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    res = []
    for lib in (torch, ferrum):
        x1 = lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True)
        x2 = lib.tensor(b, dtype=getattr(lib, dtype), requires_grad=True)
        d = lib.cdist(x1, x2, p, mode)
        g = np.cos(np.arange(d.numel())).reshape(tuple(d.shape))
        d.backward(lib.tensor(g, dtype=getattr(lib, dtype)))
        res.append((d.detach().numpy(), x1.grad.numpy(), x2.grad.numpy()))
    tol = {"rtol": 2e-4, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-10}
    for f, t in zip(res[1], res[0]):
        assert f.shape == t.shape and f.dtype == t.dtype
        np.testing.assert_allclose(f, t, **tol)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
def test_gradcheck_gradgradcheck(p):
    rng = np.random.default_rng(1)
    x1 = ferrum.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    x2 = ferrum.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: ferrum.cdist(a, b, p), (x1, x2))
    if p in (2.0, 3.0):  # piecewise-linear for 1 and inf: the second derivative is zero almost everywhere
        assert gradgradcheck(lambda a, b: ferrum.cdist(a, b, p), (x1, x2))


def test_zero_distance_and_empty(torch):
    for lib in (torch, ferrum):
        x = lib.zeros(2, 3, requires_grad=True)
        lib.cdist(x, lib.zeros(2, 3)).sum().backward()
        assert (x.grad.numpy() == 0).all()
        assert tuple(lib.cdist(lib.ones(0, 3), lib.ones(2, 3)).shape) == (0, 2)
        assert (lib.cdist(lib.ones(2, 0), lib.ones(3, 0)).numpy() == 0).all()
    x = ferrum.tensor([[1.0, 2.0, 2.0]], requires_grad=True)
    ferrum.cdist(x, ferrum.zeros(1, 3), p=math.inf).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0]]  # the tied maxima both get it, as torch
    assert ferrum.cdist(x, ferrum.zeros(1, 3), p=0).grad_fn.name() == "CdistBackward0"


@pytest.mark.parametrize("case", [
    lambda T: T.cdist(T.ones(1, 3, dtype=T.int64), T.ones(1, 3, dtype=T.int64)),
    lambda T: T.cdist(T.ones(3), T.ones(3)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 4)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3), p=-1),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3, dtype=T.float64)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3), compute_mode="bad"),
    lambda T: T.cdist(T.ones(2, 2, 3), T.ones(3, 2, 3)),
])
def test_bad_input_same_exception_type(torch, case):
    types = []
    for lib in (torch, ferrum):
        with pytest.raises(Exception) as info:
            case(lib)
        types.append(type(info.value))
    assert types[1] is types[0]
