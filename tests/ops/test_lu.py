"""Tests of ferrum.ops.lu (linalg.lu_factor, lu_factor_ex, lu, lu_solve, torch.lu_unpack): values,
pivots and info against torch, gradients against torch over shapes and dtypes, gradcheck and
gradgradcheck in float64, singular input, error types."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import closeness, npv, tt
from tests.helpers import ft_copy as ft
from tests.opinfo.core import assert_same_errors

RNG = np.random.default_rng(18)
close = closeness(rtol=1e-5, atol=1e-5)
SHAPES = [(3, 3), (2, 4, 4), (5, 3), (2, 3, 5), (1, 1), (2, 0, 3)]
TOL = {np.float32: 1e-4, np.float64: 1e-10, np.complex128: 1e-10}


def _rand(shape, dtype):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_lu_vs_torch(torch, shape, dtype):
    a = _rand(shape, dtype)
    tol = TOL[dtype]
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.lu(fa), torch.linalg.lu(ta)
    for x, y in zip(r, tr):
        close(x, y, tol, tol)
    gl = _rand(tr.L.shape, dtype)
    gu = _rand(tr.U.shape, dtype)
    F.autograd.backward([r.L, r.U], [ft(gl), ft(gu)])
    torch.autograd.backward([tr.L, tr.U], [tt(torch, gl), tt(torch, gu)])
    close(fa.grad, ta.grad, 50 * tol, 50 * tol)

    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.lu_factor_ex(fa), torch.linalg.lu_factor_ex(ta)
    for x, y in zip(r, tr):
        close(x, y, tol, tol)
    g = _rand(tr.LU.shape, dtype)
    r.LU.backward(ft(g))
    tr.LU.backward(tt(torch, g))
    close(fa.grad, ta.grad, 50 * tol, 50 * tol)

    P, L, U = F.lu_unpack(r.LU, r.pivots)
    tP, tL, tU = torch.lu_unpack(tr.LU, tr.pivots)
    for x, y in zip((P, L, U), (tP, tL, tU)):
        close(x, y, tol, tol)


@pytest.mark.parametrize("shape,dtype", [((3, 3), np.float64), ((2, 3, 3), np.float64), ((4, 2), np.float64),
                                         ((2, 3), np.float64), ((3, 3), np.complex128),
                                         ((3, 2), np.complex128)])
def test_lu_gradcheck(shape, dtype):
    a = _rand(shape, dtype)
    assert gradcheck(lambda x: tuple(F.linalg.lu(x)[1:]), (ft(a, True),))
    assert gradgradcheck(lambda x: tuple(F.linalg.lu(x)[1:]), (ft(a, True),))
    assert gradgradcheck(lambda x: F.linalg.lu_factor(x).LU, (ft(a, True),))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_lu_solve_vs_torch(torch, left, adjoint, dtype):
    a = (_rand((2, 3, 3), dtype) + 3 * np.eye(3)).astype(dtype)
    b = _rand((2, 3, 2) if left else (2, 2, 3), dtype)
    tol = TOL[dtype] * 10
    fa, ta, fb, tb = ft(a, True), tt(torch, a, True), ft(b, True), tt(torch, b, True)
    LU, piv = F.linalg.lu_factor(fa)
    tLU, tpiv = torch.linalg.lu_factor(ta)
    x = F.linalg.lu_solve(LU, piv, fb, left=left, adjoint=adjoint)
    tx = torch.linalg.lu_solve(tLU, tpiv, tb, left=left, adjoint=adjoint)
    close(x, tx, tol, tol)
    g = _rand(b.shape, dtype)
    x.backward(ft(g))
    tx.backward(tt(torch, g))
    close(fa.grad, ta.grad, tol, tol)
    close(fb.grad, tb.grad, tol, tol)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_gradcheck(left, adjoint):
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    piv = F.linalg.lu_factor(ft(a)).pivots
    lu = npv(F.linalg.lu_factor(ft(a)).LU).copy()
    b = RNG.standard_normal((3, 2) if left else (2, 3))

    def fn(x, y):
        return F.linalg.lu_solve(x, piv, y, left=left, adjoint=adjoint)

    assert gradcheck(fn, (ft(lu, True), ft(b, True)))
    assert gradgradcheck(fn, (ft(lu, True), ft(b, True)))


def test_singular_info_and_errors(torch):
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]])
    r, tr = F.linalg.lu_factor_ex(ft(a)), torch.linalg.lu_factor_ex(tt(torch, a))
    for x, y in zip(r, tr):
        close(x, y)
    for f, t in ((F.linalg.lu, torch.linalg.lu),):
        for x, y in zip(f(ft(a)), t(tt(torch, a))):
            close(x, y)
    z = np.zeros((2, 3, 3))
    for ff, tf in (
        (lambda: F.linalg.lu_factor(ft(z)), lambda: torch.linalg.lu_factor(tt(torch, z))),
        (lambda: F.linalg.lu_factor_ex(ft(z), check_errors=True),
         lambda: torch.linalg.lu_factor_ex(tt(torch, z), check_errors=True)),
    ):
        with pytest.raises(RuntimeError) as ef:
            ff()
        with pytest.raises(RuntimeError) as et:
            tf()
        assert str(ef.value).split(": ", 1)[1] == str(et.value).split(": ", 1)[1]
        assert isinstance(ef.value, F.linalg.LinAlgError)


def _bad_calls(T):
    eye, i32 = T.eye(3), T.int32
    return [
        lambda: T.linalg.lu_factor(T.zeros(3)),
        lambda: T.linalg.lu_factor(T.zeros(3, 3, dtype=T.int64)),
        lambda: T.linalg.lu(eye, pivot=False),
        lambda: T.linalg.lu_solve(eye, T.ones(3, dtype=i32), T.ones(2, 1)),
        lambda: T.linalg.lu_solve(eye, T.ones(3, dtype=T.int64), T.ones(3, 1)),
        lambda: T.linalg.lu_solve(eye, T.ones(2, dtype=i32), T.ones(3, 1)),
        lambda: T.linalg.lu_solve(T.ones(2, 3), T.ones(2, dtype=i32), T.ones(2, 1)),
        lambda: T.linalg.lu_solve(eye, T.ones(3, dtype=i32), T.ones(3, 1, dtype=T.float64)),
        lambda: T.linalg.lu_solve(eye, T.ones(3, dtype=i32), T.ones(3)),
        lambda: T.lu_unpack(eye, T.ones(3)),
        lambda: T.lu_unpack(eye, T.full((3,), 5, dtype=i32)),
        lambda: T.linalg.lu_factor(T.zeros(3, 3, dtype=T.float16)),
        lambda: T.linalg.lu_factor(T.zeros(3, 3, dtype=T.bfloat16)),
    ]


def test_errors_match_torch(torch):
    assert_same_errors(_bad_calls(F), _bad_calls(torch))


def test_lu_unpack_flags(torch):
    a = RNG.standard_normal((3, 4))
    r, tr = F.linalg.lu_factor(ft(a)), torch.linalg.lu_factor(tt(torch, a))
    for kw in ({"unpack_data": False}, {"unpack_pivots": False}):
        for x, y in zip(F.lu_unpack(*r, **kw), torch.lu_unpack(*tr, **kw)):
            close(x, y)


@pytest.mark.filterwarnings("ignore")
def test_deprecated_forms_and_methods(torch):
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]])
    b = RNG.standard_normal((3, 2))
    for kw in ({}, {"get_infos": True}):
        r, tr = F.lu(ft(a), **kw), torch.lu(tt(torch, a), **kw)
        assert len(r) == len(tr)
        for x, y in zip(r, tr):
            close(x, y)
        r, tr = ft(a).lu(**kw), tt(torch, a).lu(**kw)
        for x, y in zip(r, tr):
            close(x, y)
    a = a + 3 * np.eye(3)
    r, tr = F.lu(ft(a)), torch.lu(tt(torch, a))
    close(F.lu_solve(ft(b), *r), torch.lu_solve(tt(torch, b), *tr))
    close(ft(b).lu_solve(*r), tt(torch, b).lu_solve(*tr))
