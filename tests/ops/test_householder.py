"""Tests of ferrum.ops.householder (linalg.householder_product, torch.orgqr, torch.geqrf): values and
gradients against torch over shapes and dtypes (real and complex), gradcheck and gradgradcheck in
float64, geqrf's missing derivative, error types and messages."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import closeness, npv, tt
from tests.helpers import ft_copy as ft
from tests.opinfo.core import assert_same_errors

RNG = np.random.default_rng(1818)
close = closeness(rtol=1e-5, atol=1e-5)
TOL = {np.float32: 1e-4, np.float64: 1e-10, np.complex64: 1e-4, np.complex128: 1e-10}


def _rand(shape, dtype):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("shape,k", [((3, 3), 3), ((4, 2), 2), ((4, 3), 1), ((2, 5, 3), 3), ((3, 2), 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_householder_product_vs_torch(torch, shape, k, dtype):
    a = _rand(shape, dtype)
    tau = _rand(shape[:-2] + (k,), dtype)
    tol = TOL[dtype]
    fa, ftau, ta, ttau = ft(a, True), ft(tau, True), tt(torch, a, True), tt(torch, tau, True)
    r, tr = F.linalg.householder_product(fa, ftau), torch.linalg.householder_product(ta, ttau)
    close(r, tr, tol, tol)
    g = _rand(shape, dtype)
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    close(fa.grad, ta.grad, 10 * tol, 10 * tol)
    close(ftau.grad, ttau.grad, 10 * tol, 10 * tol)
    close(F.orgqr(ft(a), ft(tau)), torch.orgqr(tt(torch, a), tt(torch, tau)), tol, tol)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_householder_product_gradcheck(dtype):
    a, tau = _rand((2, 4, 3), dtype), _rand((2, 2), dtype)
    fn = F.linalg.householder_product
    assert gradcheck(fn, (ft(a, True), ft(tau, True)))
    assert gradgradcheck(fn, (ft(a, True), ft(tau, True)))


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3), (0, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_geqrf_vs_torch(torch, shape, dtype):
    a = _rand(shape, dtype)
    tol = TOL[dtype]
    r, tr = F.geqrf(ft(a)), torch.geqrf(tt(torch, a))
    close(r.a, tr.a, tol, tol)
    close(r.tau, tr.tau, tol, tol)
    if shape[-2] >= shape[-1]:
        Q = F.linalg.householder_product(*r)
        close(Q, torch.linalg.qr(tt(torch, a)).Q, 10 * tol, 10 * tol)


def test_geqrf_has_no_derivative(torch):
    a = RNG.standard_normal((4, 3))
    r, tr = F.geqrf(ft(a, True)), torch.geqrf(tt(torch, a, True))
    assert r.a.requires_grad and tr.a.requires_grad
    with pytest.raises(NotImplementedError) as et:
        tr.a.sum().backward()
    with pytest.raises(NotImplementedError) as ef:
        r.a.sum().backward()
    assert str(ef.value) == str(et.value)


def _bad_calls(T):
    r = T.randn
    return [
        lambda: T.linalg.householder_product(r(3, 4), r(2)),
        lambda: T.linalg.householder_product(r(3, 2), r(3)),
        lambda: T.linalg.householder_product(r(3), r(1)),
        lambda: T.linalg.householder_product(r(2, 3, 2), r(3, 2)),
        lambda: T.linalg.householder_product(r(3, 2), r(2, dtype=T.float64)),
        lambda: T.linalg.householder_product(T.ones(3, 2, dtype=T.int64), T.ones(2, dtype=T.int64)),
        lambda: T.geqrf(r(3)),
        lambda: T.geqrf(T.ones(3, 3, dtype=T.int64)),
        lambda: T.linalg.householder_product(T.ones(3, 2, dtype=T.float16), T.ones(2, dtype=T.float16)),
        lambda: T.geqrf(T.ones(3, 3, dtype=T.bfloat16)),
    ]


def test_errors_match_torch(torch):
    assert_same_errors(_bad_calls(F), _bad_calls(torch))


def test_tensor_methods(torch):
    a = RNG.standard_normal((4, 3))
    r, tr = ft(a).geqrf(), tt(torch, a).geqrf()
    close(r.a, tr.a)
    close(r.tau, tr.tau)
    close(r.a.orgqr(r.tau), tr.a.orgqr(tr.tau))


@pytest.mark.parametrize("shape,cshape,left", [((4, 3), (4, 2), True), ((4, 3), (2, 4), False),
                                               ((3, 4), (3, 2), True), ((2, 4, 4), (2, 4, 3), True)])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_ormqr_vs_torch(torch, shape, cshape, left, transpose, dtype):
    a, tau = (np.array(x.numpy()) for x in torch.geqrf(tt(torch, _rand(shape, dtype))))
    c = _rand(cshape, dtype)
    tol = TOL[dtype] * 10
    fs = [ft(x, True) for x in (a, tau, c)]
    ts = [tt(torch, x, True) for x in (a, tau, c)]
    r, tr = F.ormqr(*fs, left, transpose), torch.ormqr(*ts, left, transpose)
    close(r, tr, tol, tol)
    g = _rand(tr.shape, dtype)
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    for x, y in zip(fs, ts):
        close(x.grad, y.grad, 10 * tol, 10 * tol)
    close(ft(a).ormqr(ft(tau), ft(c), left, transpose), tr, tol, tol)


def test_ormqr_gradcheck():
    a, tau = F.geqrf(ft(_rand((4, 3), np.float64)))
    c = _rand((4, 2), np.float64)
    args = (ft(npv(a), True), ft(npv(tau), True), ft(c, True))
    assert gradcheck(lambda x, t, y: F.ormqr(x, t, y, True, True), args)
    assert gradgradcheck(lambda x, t, y: F.ormqr(x, t, y, True, True), args)


def _ormqr_bad(T):
    a, t = T.geqrf(T.randn(4, 3, dtype=T.float64))
    return [
        lambda: T.ormqr(a, t, T.randn(3, 2, dtype=T.float64)),
        lambda: T.ormqr(a, t, T.randn(2, 3, dtype=T.float64), left=False),
        lambda: T.ormqr(a, t, T.randn(4, 2)),
        lambda: T.ormqr(a, T.randn(5, dtype=T.float64), T.randn(4, 2, dtype=T.float64)),
    ]


def test_ormqr_errors_match_torch(torch):
    assert_same_errors(_ormqr_bad(F), _ormqr_bad(torch))
