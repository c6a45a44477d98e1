"""Tests of ferrum.ops.ldl (linalg.ldl_factor, ldl_factor_ex, ldl_solve): LD, pivots (2 x 2 blocks
included) and solutions against torch for real, complex symmetric and Hermitian input, batches and
broadcasting; no derivative (as torch); error types and messages."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.helpers import closeness, npv, tt
from tests.helpers import ft_copy as ft
from tests.opinfo.core import assert_same_errors

RNG = np.random.default_rng(1821)
close = closeness(rtol=1e-5, atol=1e-5)
TOL = {np.float32: 1e-4, np.float64: 1e-10, np.complex128: 1e-10}


def _sym(shape, dtype, hermitian):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    at = np.swapaxes(a, -1, -2)
    return (a + (np.conj(at) if hermitian else at)).astype(dtype)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (0, 2, 2), (1, 1)])
@pytest.mark.parametrize("dtype,hermitian", [(np.float32, False), (np.float64, False), (np.float64, True),
                                             (np.complex128, False), (np.complex128, True)])
def test_ldl_vs_torch(torch, shape, dtype, hermitian):
    a = _sym(shape, dtype, hermitian)
    tol = TOL[dtype]
    r = F.linalg.ldl_factor_ex(ft(a), hermitian=hermitian)
    tr = torch.linalg.ldl_factor_ex(tt(torch, a), hermitian=hermitian)
    for x, y in zip(r, tr):
        close(x, y, tol, tol)
    r2 = F.linalg.ldl_factor(ft(a), hermitian=hermitian)
    for x, y in zip(r2, r[:2]):
        close(x, y, 0, 0)
    b = RNG.standard_normal(shape[:-1] + (2,)).astype(dtype)
    x = F.linalg.ldl_solve(r.LD, r.pivots, ft(b), hermitian=hermitian)
    tx = torch.linalg.ldl_solve(tr.LD, tr.pivots, tt(torch, b), hermitian=hermitian)
    close(x, tx, 100 * tol, 100 * tol)


def test_two_by_two_pivots_and_broadcast(torch):
    a = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    r, tr = F.linalg.ldl_factor(ft(a)), torch.linalg.ldl_factor(tt(torch, a))
    close(r.pivots, tr.pivots, 0, 0)
    assert (npv(r.pivots) < 0).any()
    close(r.LD, tr.LD)
    b = RNG.standard_normal((2, 3, 1))
    close(F.linalg.ldl_solve(*r, ft(b)), torch.linalg.ldl_solve(*tr, tt(torch, b)))


def test_no_derivative(torch):
    a = _sym((3, 3), np.float64, False)
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.ldl_factor(fa), torch.linalg.ldl_factor(ta)
    for ff, tf in ((lambda: r.LD.sum().backward(), lambda: tr.LD.sum().backward()),):
        with pytest.raises(RuntimeError) as et:
            tf()
        with pytest.raises(RuntimeError) as ef:
            ff()
        assert str(ef.value) == str(et.value)
    fb, tb = ft(np.ones((3, 1)), True), tt(torch, np.ones((3, 1)), True)
    with pytest.raises(RuntimeError) as et:
        torch.linalg.ldl_solve(tr.LD.detach(), tr.pivots, tb).sum().backward()
    with pytest.raises(RuntimeError) as ef:
        F.linalg.ldl_solve(r.LD.detach(), r.pivots, fb).sum().backward()
    assert str(ef.value) == str(et.value)


def test_singular_info(torch):
    z = np.zeros((2, 3, 3))
    r, tr = F.linalg.ldl_factor_ex(ft(z)), torch.linalg.ldl_factor_ex(tt(torch, z))
    for x, y in zip(r, tr):
        close(x, y, 0, 0)
    with pytest.raises(RuntimeError):  # torch 2.13 fails an internal assert here, also a RuntimeError
        F.linalg.ldl_factor(ft(z))


def _bad_calls(T):
    i32 = T.int32
    return [
        lambda: T.linalg.ldl_factor(T.zeros(2, 3)),
        lambda: T.linalg.ldl_factor(T.zeros(3)),
        lambda: T.linalg.ldl_factor(T.zeros(3, 3, dtype=T.int64)),
        lambda: T.linalg.ldl_solve(T.eye(3), T.ones(3, dtype=i32), T.ones(2, 1)),
        lambda: T.linalg.ldl_solve(T.eye(3), T.ones(2, dtype=i32), T.ones(3, 1)),
        lambda: T.linalg.ldl_solve(T.eye(3), T.ones(3, dtype=i32), T.ones(3, 1, dtype=T.float64)),
        lambda: T.linalg.ldl_solve(T.eye(3), T.ones(3, dtype=i32), T.ones(3)),
        lambda: T.linalg.ldl_factor(T.eye(3, dtype=T.float16)),
    ]


def test_errors_match_torch(torch):
    assert_same_errors(_bad_calls(F), _bad_calls(torch))
