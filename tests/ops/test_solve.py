"""Tests of ferrum.ops.solve (inv, det, slogdet, solve, cholesky and their ``torch.*`` aliases,
matrix_power): forward and gradients against torch, singular and non-finite input, autograd
flags, LAPACK's info, error types."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import spd
from tests.helpers import ft_copy as ft


RNG = np.random.default_rng(2024)

# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- inv, det, slogdet, solve
def test_inv_det_slogdet_vs_torch(torch):
    a = arr((2, 3, 3)) + 3 * np.eye(3)
    for ff, tf in (
        (F.linalg.inv, torch.linalg.inv),
        (F.linalg.det, torch.linalg.det),
        (lambda x: F.linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet),
        (F.inverse, torch.inverse),
        (F.det, torch.det),
        (F.logdet, torch.logdet),
    ):
        fa, ta = ft(a, True), tt(torch, a, True)
        r, tr = ff(fa), tf(ta)
        close(r, tr, 1e-10, 1e-10)
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-9, 1e-9)
        assert gradcheck(ff, (ft(a, True),))
        assert gradgradcheck(ff, (ft(a[0], True),))
    s, la = F.linalg.slogdet(ft(np.array([[-1.0, 2.0], [2.0, 4.0]])))
    assert s.item() == -1.0 and abs(la.item() - math.log(8)) < 1e-12
    s, la = F.linalg.slogdet(ft(np.array([[1.0, 2.0], [2.0, 4.0]])))
    assert s.item() == 0 and la.item() == -math.inf
    assert math.isnan(F.logdet(ft(np.array([[-1.0, 2.0], [2.0, 4.0]]))).item())


def test_det_grad_singular_is_adjugate():
    m = ft(np.array([[1.0, 2.0], [2.0, 4.0]]), True)
    F.linalg.det(m).backward()
    close(m.grad, np.array([[4.0, -2.0], [-2.0, 1.0]]), 1e-10, 1e-10)


def test_linalg_errors(torch):
    with pytest.raises(F.linalg.LinAlgError, match="linalg.inv: .*singular"):
        F.linalg.inv(ft(np.zeros((3, 3))))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\)"):
        F.linalg.inv(ft(np.stack([np.eye(2), np.zeros((2, 2))])))
    with pytest.raises(
        RuntimeError, match="A must be batches of square matrices, but they are 3 by 2 matrices"
    ):
        F.linalg.inv(ft(np.zeros((3, 2))))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        F.linalg.det(ft(np.ones((3, 3), np.int64)))
    with pytest.raises(F.linalg.LinAlgError, match="leading minor of order 1 is not positive-definite"):
        F.linalg.cholesky(ft(-np.eye(3)))
    with pytest.raises(F.linalg.LinAlgError, match="leading minor of order 2"):
        F.linalg.cholesky(ft(np.array([[1.0, 2.0], [2.0, 1.0]])))
    with pytest.raises(RuntimeError, match="singular"):
        F.linalg.solve(ft(np.zeros((3, 3))), ft(np.ones(3)))
    with pytest.raises(
        RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)"
    ):
        F.linalg.solve(ft(np.eye(3)), ft(np.ones(4)))
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype"):
        F.linalg.solve(ft(np.eye(3, dtype=np.float32)), ft(np.ones(3)))
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        F.linalg.eigh(ft(np.eye(3)), UPLO="X")
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        F.linalg.qr(ft(np.eye(3)), mode="x")
    assert issubclass(F.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize(
    "sa,sb,left",
    [
        ((3, 3), (3,), True),
        ((2, 3, 3), (2, 3), True),
        ((3, 3), (3, 2), True),
        ((4, 1, 3, 3), (2, 3, 2), True),
        ((3, 3), (2, 3), False),
        ((2, 3, 3), (3,), True),
    ],
)
def test_solve_vs_torch(torch, sa, sb, left):
    a, b = arr(sa) + 3 * np.eye(3), arr(sb)
    fa, fb = ft(a, True), ft(b, True)
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    r, tr = F.linalg.solve(fa, fb, left=left), torch.linalg.solve(ta, tb, left=left)
    close(r, tr, 1e-10, 1e-10)
    g = arr(tuple(tr.shape))
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    close(fa.grad, ta.grad, 1e-9, 1e-9)
    close(fb.grad, tb.grad, 1e-9, 1e-9)


def test_solve_gradgradcheck_and_triangular(torch):
    a, b = ft(arr((3, 3)) + 3 * np.eye(3), True), ft(arr((3, 2)), True)
    assert gradcheck(F.linalg.solve, (a, b))
    assert gradgradcheck(F.linalg.solve, (a, b))
    m, rhs = arr((3, 3)) + 3 * np.eye(3), arr((3, 2))
    for upper in (True, False):
        for unit in (True, False):
            close(
                F.linalg.solve_triangular(ft(m), ft(rhs), upper=upper, unitriangular=unit),
                torch.linalg.solve_triangular(tt(torch, m), tt(torch, rhs), upper=upper, unitriangular=unit),
                1e-10,
                1e-10,
            )
    close(
        F.linalg.solve_triangular(ft(m), ft(rhs.T), upper=True, left=False),
        torch.linalg.solve_triangular(tt(torch, m), tt(torch, rhs.T), upper=True, left=False),
        1e-10,
        1e-10,
    )


# --------------------------------------------------------------------------- cholesky, qr, eigh, svd
def test_cholesky_vs_torch(torch):
    p = spd(3, (2,))
    for upper in (False, True):
        fa, ta = ft(p, True), tt(torch, p, True)
        r, tr = F.linalg.cholesky(fa, upper=upper), torch.linalg.cholesky(ta, upper=upper)
        close(r, tr, 1e-10, 1e-10)
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-9, 1e-9)
    sym = lambda x: F.linalg.cholesky(x + x.transpose(-2, -1))  # noqa: E731
    x = ft(spd(3) / 2, True)
    assert gradcheck(sym, (x,))
    assert gradgradcheck(sym, (x,))
    close(F.cholesky(ft(p)), torch.cholesky(tt(torch, p)), 1e-10, 1e-10)
    L, info = F.linalg.cholesky_ex(ft(-np.eye(2)))
    assert info.item() == 1


INF, NAN = math.inf, math.nan


def bad_matrix(value):
    a = np.arange(1.0, 10.0).reshape(3, 3)
    a[0, 0] = value
    return a


def close_t(f_out, t_out, tol=1e-12):
    np.testing.assert_allclose(npv(f_out), npv(t_out), rtol=tol, atol=tol)


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("value", [INF, NAN])
def test_lu_based_ops_with_non_finite_input(torch, value):
    a, b = bad_matrix(value), np.ones((3, 1))
    fa, ta = ft(a), tt(torch, a)
    close_t(F.linalg.det(fa), torch.linalg.det(ta))
    for fo, to in zip(F.linalg.slogdet(fa), torch.linalg.slogdet(ta)):
        close_t(fo, to)
    close_t(F.logdet(fa), torch.logdet(ta))
    close_t(F.linalg.inv(fa), torch.linalg.inv(ta), 1e-9)
    close_t(F.linalg.inv_ex(fa).inverse, torch.linalg.inv_ex(ta).inverse, 1e-9)
    close_t(F.linalg.solve(fa, ft(b)), torch.linalg.solve(ta, tt(torch, b)), 1e-9)
    close_t(F.linalg.matrix_exp(fa), torch.linalg.matrix_exp(ta))


def test_inverse_and_solve_of_a_matrix_with_nan_are_all_nan(torch):
    a = np.array([[NAN, 2.0], [3.0, 4.0]])
    for fn in (lambda L, x: L.inv(x), lambda L, x: L.inv_ex(x).inverse):
        close_t(fn(F.linalg, ft(a)), fn(torch.linalg, tt(torch, a)))
    assert int(F.linalg.inv_ex(ft(a)).info) == int(torch.linalg.inv_ex(tt(torch, a)).info) == 0
    b = np.ones((2, 1))
    close_t(F.linalg.solve(ft(a), ft(b)), torch.linalg.solve(tt(torch, a), tt(torch, b)))


def test_nan_in_one_batch_element_of_inv_and_solve(torch):
    a = np.stack([np.eye(2) * 2, np.array([[NAN, 1.0], [1.0, 1.0]])])
    close_t(F.linalg.inv(ft(a)), torch.linalg.inv(tt(torch, a)))
    b = np.ones((2, 2, 1))
    close_t(F.linalg.solve(ft(a), ft(b)), torch.linalg.solve(tt(torch, a), tt(torch, b)))


# --------------------------------------------------------------------------- singular matrices
@pytest.mark.parametrize("a", [[[1.0, 0, 0], [0, 2.0, 0], [0, 0, 0]], [[1.0, 2], [2, 4]], [[0.0, 0], [0, 0]],
                               [[0.0, 1], [0, 1]]])
def test_inv_ex_info_and_inverse_as_lapack(torch, a):
    a = np.array(a)
    fr, tr = F.linalg.inv_ex(ft(a)), torch.linalg.inv_ex(tt(torch, a))
    assert int(fr.info) == int(tr.info) > 0
    close_t(fr.inverse, tr.inverse)
    k = int(tr.info)
    with pytest.raises(F.linalg.LinAlgError, match=f"linalg.inv: The diagonal element {k} is zero"):
        F.linalg.inv(ft(a))


def test_inv_ex_batch_info(torch):
    a = np.stack([np.eye(2), np.zeros((2, 2)), np.array([[1.0, 2], [2, 4]])])
    assert npv(F.linalg.inv_ex(ft(a)).info).tolist() == npv(torch.linalg.inv_ex(tt(torch, a)).info).tolist()
    with pytest.raises(F.linalg.LinAlgError, match=r"\(Batch element 1\): The diagonal element 1"):
        F.linalg.inv(ft(a))


@pytest.mark.parametrize("fn", [lambda T, x: T.logdet(x), lambda T, x: T.linalg.slogdet(x).logabsdet])
def test_logdet_backward_at_a_singular_matrix_is_inf(torch, fn):
    a = np.array([[1.0, 2], [2, 4]])
    fx, tx = ft(a, True), tt(torch, a, True)
    fn(F, fx).backward()
    fn(torch, tx).backward()
    np.testing.assert_array_equal(npv(fx.grad), npv(tx.grad))  # [[-inf, inf], [inf, -inf]]


def test_slogdet_sign_is_in_the_graph(torch):
    for T in (F, torch):
        x = T.eye(2, dtype=T.float64, requires_grad=True)
        sign, logabs = T.linalg.slogdet(x)
        assert sign.requires_grad and logabs.requires_grad
    x = ft(np.array([[2.0, 1], [1, 3]]), True)
    sign, logabs = F.linalg.slogdet(x)
    (sign * 3 + logabs).backward()
    close_t(x.grad, np.linalg.inv(np.array([[2.0, 1], [1, 3]])).T)


def test_matrix_power_zero_stays_in_the_graph(torch):
    a = np.array([[1.0, 2], [3, 4]])
    fx, tx = ft(a, True), tt(torch, a, True)
    fr, tr = F.linalg.matrix_power(fx, 0), torch.linalg.matrix_power(tx, 0)
    assert fr.requires_grad == tr.requires_grad is True
    close_t(fr, tr)
    fr.sum().backward()
    tr.sum().backward()
    close_t(fx.grad, tx.grad)


# --------------------------------------------------------------------------- cholesky
def test_cholesky_upper_reads_the_upper_triangle(torch):
    a = np.array([[4.0, 100.0], [2.0, 3.0]])  # the upper triangle is not positive-definite
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(tt(torch, a), upper=True)
    with pytest.raises(F.linalg.LinAlgError, match="leading minor of order 2"):
        F.linalg.cholesky(ft(a), upper=True)
    b = np.array([[4.0, 2.0], [100.0, 3.0]])  # only the upper triangle is positive-definite
    close_t(F.linalg.cholesky(ft(b), upper=True), torch.linalg.cholesky(tt(torch, b), upper=True))
    close_t(F.cholesky(ft(b), upper=True), torch.linalg.cholesky(tt(torch, b), upper=True))
    x = ft(b, True)
    assert gradcheck(lambda t: F.linalg.cholesky(t.triu() + t.triu(1).mT, upper=True), (x,))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_of_a_failed_matrix(torch, upper):
    a = np.array([[4.0, 2, 1], [2, 1, 1], [1, 1, 5]])
    fr = F.linalg.cholesky_ex(ft(a, True), upper=upper)
    tr = torch.linalg.cholesky_ex(tt(torch, a, True), upper=upper)
    assert int(fr.info) == int(tr.info) == 2
    assert fr.L.requires_grad and tr.L.requires_grad
    close_t(fr.L, tr.L)


def test_cholesky_ex_batch_with_one_failure(torch):
    a = np.stack([np.eye(2) * 4, np.array([[1.0, 0], [0, -1]])])
    fr, tr = F.linalg.cholesky_ex(ft(a)), torch.linalg.cholesky_ex(tt(torch, a))
    assert npv(fr.info).tolist() == npv(tr.info).tolist() == [0, 2]
    close_t(fr.L, tr.L)


@pytest.mark.parametrize("sb, sl", [((2, 2), (2, 2, 2)), ((3, 2, 1), (2, 2)), ((1, 2, 3), (4, 2, 2)),
                                    ((2, 3), (2, 2))])
def test_cholesky_solve_broadcasts_b_against_the_factor(torch, sb, sl):
    r = np.random.default_rng(0)
    n = sl[-1]
    m = r.standard_normal(sl)
    L = np.linalg.cholesky(m @ np.swapaxes(m, -1, -2) + n * np.eye(n))
    b = r.standard_normal(sb)
    for upper in (False, True):
        f = np.swapaxes(L, -1, -2) if upper else L
        expect = torch.cholesky_solve(tt(torch, b), tt(torch, f), upper)
        close_t(F.cholesky_solve(ft(b), ft(f), upper), expect, 1e-10)


def test_cholesky_solve_errors(torch):
    for b, L in ((np.ones(2), np.eye(2)), (np.ones((2, 2)), np.ones(2)), (np.ones((2, 2)), np.eye(3)),
                 (np.ones((3, 2, 2)), np.ones((2, 2, 2)))):
        with pytest.raises(RuntimeError):
            torch.cholesky_solve(tt(torch, b), tt(torch, L))
        with pytest.raises(RuntimeError, match="cholesky_solve|size of tensor"):
            F.cholesky_solve(ft(b), ft(L))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.cholesky_solve(ft(np.ones((2, 2))), F.eye(2))


def test_solve_left_false_with_a_vector_b_is_refused(torch):
    for a, b in ((np.eye(2), np.ones(2)), (np.ones((3, 2, 2)) + np.eye(2), np.ones((3, 2)))):
        with pytest.raises(RuntimeError, match="XA = B"):
            torch.linalg.solve(tt(torch, a), tt(torch, b), left=False)
        with pytest.raises(RuntimeError, match=r"linalg.solve: Incompatible shapes .* XA = B"):
            F.linalg.solve(ft(a), ft(b), left=False)
    close_t(F.linalg.solve(ft(np.eye(2) * 2), ft(np.ones(2))), np.full(2, 0.5))


def test_solve_triangular_ignores_inf_in_the_unread_triangle(torch):
    a = bad_matrix(10.0)
    a[2, 0] = INF  # in the lower triangle, which upper=True does not read
    b = np.ones((3, 1))
    x = ft(a, True)
    r = F.linalg.solve_triangular(x, ft(b), upper=True)
    close_t(r, torch.linalg.solve_triangular(tt(torch, a), tt(torch, b), upper=True))
    r.sum().backward()
    assert np.isfinite(npv(x.grad)[np.triu_indices(3)]).all()


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("value", [INF, NAN])
def test_det_backward_of_a_singular_non_finite_matrix_returns(torch, value):
    a = np.array([[value, 2.0, 3.0], [4.0, 5.0, 6.0], [4.0, 5.0, 6.0]])
    fx, tx = ft(a, True), tt(torch, a, True)
    F.linalg.det(fx).backward()
    torch.linalg.det(tx).backward()
    assert not np.isfinite(npv(fx.grad)).all() and not np.isfinite(npv(tx.grad)).all()
