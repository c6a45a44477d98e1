"""Tests of ferrum.ops.eig (linalg.eig, linalg.eigvals): values (complex dtypes, LAPACK's
normalisation) and gradients against torch for real and complex input, gradcheck and gradgradcheck
in float64 on phase-invariant losses, the phase error, error types and messages."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import closeness, tt
from tests.helpers import ft_copy as ft
from tests.opinfo.core import assert_same_errors

RNG = np.random.default_rng(1819)
close = closeness(rtol=1e-5, atol=1e-5)
TOL = {np.float32: 1e-4, np.float64: 1e-10, np.complex64: 1e-4, np.complex128: 1e-10}


def _rand(shape, dtype):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


def _close_up_to_phase(v, tv, tol):
    """Eigenvectors equal up to a unit factor per column: LAPACK fixes the norm and makes the
    largest component real, but the sign of a real eigenvector depends on the LAPACK build."""
    x, y = v.detach().numpy(), tv.detach().numpy()
    assert x.dtype == y.dtype
    ph = np.sum(np.conj(x) * y, axis=-2, keepdims=True)
    ph = np.where(np.abs(ph) > 0, ph / np.maximum(np.abs(ph), 1e-30), 1)
    np.testing.assert_allclose(x * ph, y, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.abs(ph), 1, rtol=tol, atol=tol)


def _loss(T, L, V, w):
    """A loss invariant to the phase of each eigenvector."""
    return (L * w[0]).real.sum() + (L * w[1]).imag.sum() + ((V.abs() ** 2) * w[2]).sum()


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_eig_vs_torch(torch, shape, dtype):
    a = _rand(shape, dtype)
    tol = TOL[dtype] * 10
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.eig(fa), torch.linalg.eig(ta)
    close(r.eigenvalues, tr.eigenvalues, tol, tol)
    _close_up_to_phase(r.eigenvectors, tr.eigenvectors, tol)
    close(F.linalg.eigvals(ft(a)), torch.linalg.eigvals(tt(torch, a)), tol, tol)
    n = shape[-1]
    w = [RNG.standard_normal(n), RNG.standard_normal(n), RNG.standard_normal((n, n))]
    _loss(F, *r, [ft(x) for x in w]).backward()
    _loss(torch, *tr, [tt(torch, x) for x in w]).backward()
    close(fa.grad, ta.grad, 100 * tol, 100 * tol)

    fa, ta = ft(a, True), tt(torch, a, True)
    g = _rand(shape[:-1], np.complex64 if dtype in (np.float32, np.complex64) else np.complex128)
    F.linalg.eigvals(fa).backward(ft(g))
    torch.linalg.eigvals(ta).backward(tt(torch, g))
    close(fa.grad, ta.grad, 100 * tol, 100 * tol)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_eig_gradcheck(dtype):
    a = _rand((2, 3, 3), dtype)

    def fn(x):
        L, V = F.linalg.eig(x)
        return L.real, L.imag, V.abs()

    assert gradcheck(fn, (ft(a, True),))
    assert gradgradcheck(fn, (ft(a, True),))
    assert gradgradcheck(lambda x: F.linalg.eigvals(x).real, (ft(a, True),))


def test_phase_dependent_loss_raises(torch):
    a = RNG.standard_normal((3, 3))
    fa, ta = ft(a, True), tt(torch, a, True)
    with pytest.raises(RuntimeError) as et:
        torch.linalg.eig(ta).eigenvectors.real.sum().backward()
    with pytest.raises(RuntimeError) as ef:
        F.linalg.eig(fa).eigenvectors.real.sum().backward()
    assert str(ef.value) == str(et.value)


def _bad_calls(T):
    return [
        lambda: T.linalg.eig(T.randn(2, 3)),
        lambda: T.linalg.eig(T.randn(3)),
        lambda: T.linalg.eig(T.ones(2, 2, dtype=T.int64)),
        lambda: T.linalg.eig(T.tensor([[float("nan"), 1.0], [1.0, 1.0]])),
        lambda: T.linalg.eigvals(T.randn(2, 3)),
        lambda: T.linalg.eig(T.randn(3, 3).half()),
    ]


@pytest.mark.filterwarnings("ignore")
def test_errors_match_torch(torch):
    assert_same_errors(_bad_calls(F), _bad_calls(torch))
