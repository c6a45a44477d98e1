"""Tests of ferrum.ops.tensor_linalg (linalg.tensorinv, linalg.tensorsolve): values and gradients
against torch, gradcheck and gradgradcheck in float64, error types and messages."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import closeness, tt
from tests.helpers import ft_copy as ft
from tests.opinfo.core import assert_same_errors

RNG = np.random.default_rng(1820)
close = closeness(rtol=1e-5, atol=1e-5)


def _well_conditioned(shape, ind):
    rows = int(np.prod(shape[:ind]))
    return (RNG.standard_normal((rows, rows)) + 3 * np.eye(rows)).reshape(shape)


@pytest.mark.parametrize("shape,ind", [((4, 6, 8, 3), 2), ((4, 2, 2), 1), ((6, 2, 3), 1), ((3, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorinv_vs_torch(torch, shape, ind, dtype):
    a = _well_conditioned(shape, ind).astype(dtype)
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.tensorinv(fa, ind=ind), torch.linalg.tensorinv(ta, ind=ind)
    close(r, tr, 1e-4, 1e-4)
    g = RNG.standard_normal(tr.shape).astype(dtype)
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    close(fa.grad, ta.grad, 1e-3, 1e-3)


@pytest.mark.parametrize("ashape,bshape,dims", [((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,)),
                                                ((2, 3, 6), (3, 2), None), ((2, 2, 2, 2), (2, 2), (0, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorsolve_vs_torch(torch, ashape, bshape, dims, dtype):
    a = RNG.standard_normal(ashape).astype(dtype)
    n = int(np.prod(bshape))
    a = a + 3 * np.eye(n).reshape(ashape if dims is None else a.shape).astype(dtype)
    b = RNG.standard_normal(bshape).astype(dtype)
    fa, ta, fb, tb = ft(a, True), tt(torch, a, True), ft(b, True), tt(torch, b, True)
    r, tr = F.linalg.tensorsolve(fa, fb, dims), torch.linalg.tensorsolve(ta, tb, dims)
    close(r, tr, 1e-4, 1e-4)
    g = RNG.standard_normal(tr.shape).astype(dtype)
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    close(fa.grad, ta.grad, 1e-3, 1e-3)
    close(fb.grad, tb.grad, 1e-3, 1e-3)


def test_gradcheck():
    a = _well_conditioned((2, 3, 6), 2)
    b = RNG.standard_normal((2, 3))
    assert gradcheck(lambda x: F.linalg.tensorinv(x, ind=2), (ft(a, True),))
    assert gradgradcheck(lambda x: F.linalg.tensorinv(x, ind=2), (ft(a, True),))
    assert gradcheck(F.linalg.tensorsolve, (ft(a, True), ft(b, True)))
    assert gradgradcheck(F.linalg.tensorsolve, (ft(a, True), ft(b, True)))


def _bad_calls(T):
    return [
        lambda: T.linalg.tensorinv(T.randn(4, 6, 8, 3), ind=0),
        lambda: T.linalg.tensorinv(T.randn(2, 3, 4), ind=1),
        lambda: T.linalg.tensorinv(T.zeros(2, 2), ind=1),
        lambda: T.linalg.tensorinv(T.zeros(2, 2, dtype=T.int64), ind=1),
        lambda: T.linalg.tensorsolve(T.randn(2, 3, 5), T.randn(2, 3)),
        lambda: T.linalg.tensorsolve(T.zeros(2, 2), T.zeros(2, dtype=T.float64)),
        lambda: T.linalg.tensorsolve(T.zeros(2, 3, 6), T.zeros(3, 2), dims=5),
    ]


def test_errors_match_torch(torch):
    assert_same_errors(_bad_calls(F), _bad_calls(torch))
