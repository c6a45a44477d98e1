"""Tests of ferrum.ops.decomp (qr, eigh, svd, svdvals, pinv, matrix_rank, lstsq): non-finite input
(which must never reach the LAPACK routines that loop forever on it), the one-node-per-output
recording of the decompositions, against torch. The wider parity tests are in test_linalg.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import npv, tt
from tests.helpers import ft_copy as ft

INF, NAN = math.inf, math.nan


def bad_matrix(value, shape=(3, 3)):
    a = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    a[..., 0, 0] = value
    return a


def same_values(f_out, t_out):
    np.testing.assert_array_equal(npv(f_out), npv(t_out))


# every SVD-backed op on an input with inf: NaN factors (PyTorch's answer), and no hang
@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 3, 3)])
def test_svd_family_with_inf_returns_at_once(torch, shape):
    a = bad_matrix(INF, shape)
    fa, ta = ft(a), tt(torch, a)
    same_values(F.linalg.svd(fa)[1], torch.linalg.svd(ta)[1])
    same_values(F.linalg.svd(fa, full_matrices=False)[1], torch.linalg.svd(ta, full_matrices=False)[1])
    same_values(F.linalg.svdvals(fa), torch.linalg.svdvals(ta))
    same_values(F.svd(fa)[1], torch.svd(ta)[1])
    same_values(F.linalg.pinv(fa), torch.linalg.pinv(ta))
    same_values(F.pinverse(fa), torch.pinverse(ta))
    same_values(F.linalg.matrix_rank(fa), torch.linalg.matrix_rank(ta))
    U, S, Vh = F.linalg.svd(fa)
    m, n = shape[-2:]
    assert U.shape == shape[:-2] + (m, m) and Vh.shape == shape[:-2] + (n, n)
    assert np.isnan(npv(S)).all()


@pytest.mark.timeout(60, method="thread")
def test_svd_inf_only_in_one_batch_element(torch):
    a = np.stack([bad_matrix(1.5), bad_matrix(INF)])
    fs, ts = F.linalg.svdvals(ft(a)), torch.linalg.svdvals(tt(torch, a))
    np.testing.assert_allclose(npv(fs), npv(ts), rtol=1e-12)
    assert np.isnan(npv(fs)[1]).all() and np.isfinite(npv(fs)[0]).all()


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("fn", [
    lambda L, a: L.svd(a), lambda L, a: L.svd(a, full_matrices=False), lambda L, a: L.svdvals(a),
    lambda L, a: L.pinv(a), lambda L, a: L.pinv(a, hermitian=True), lambda L, a: L.matrix_rank(a),
    lambda L, a: L.matrix_rank(a, hermitian=True), lambda L, a: L.eigh(a), lambda L, a: L.eigvalsh(a),
])
def test_decompositions_with_nan_raise_linalg_error(torch, fn):
    a = bad_matrix(NAN)
    with pytest.raises(torch.linalg.LinAlgError):
        fn(torch.linalg, tt(torch, a))
    with pytest.raises(F.linalg.LinAlgError, match=r"linalg\.(svd|eigh): The algorithm failed to converge"):
        fn(F.linalg, ft(a))


@pytest.mark.timeout(60, method="thread")
def test_nan_error_names_the_batch_element():
    a = np.stack([bad_matrix(1.0), bad_matrix(NAN)])
    with pytest.raises(F.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        F.linalg.svdvals(ft(a))


@pytest.mark.timeout(60, method="thread")
def test_eigh_with_inf(torch):
    a = bad_matrix(INF)
    a = a + a.T
    same_values(F.linalg.eigvalsh(ft(a)), torch.linalg.eigvalsh(tt(torch, a)))
    w, V = F.linalg.eigh(ft(a))
    tw, tV = torch.linalg.eigh(tt(torch, a))
    same_values(w, tw)
    same_values(V, tV)  # PyTorch's eigenvectors are the identity here
    same_values(F.linalg.pinv(ft(a), hermitian=True), torch.linalg.pinv(tt(torch, a), hermitian=True))


def test_eigh_reads_only_its_triangle_for_finiteness(torch):
    a = np.array([[2.0, INF], [1.0, 3.0]])  # the inf is in the triangle UPLO='L' does not read
    np.testing.assert_allclose(npv(F.linalg.eigvalsh(ft(a))), npv(torch.linalg.eigvalsh(tt(torch, a))))
    assert np.isnan(npv(F.linalg.eigvalsh(ft(a), UPLO="U"))).all()


@pytest.mark.timeout(60, method="thread")
def test_lstsq_with_non_finite_input(torch):
    b = np.ones((3, 1))
    X = F.linalg.lstsq(ft(bad_matrix(INF)), ft(b)).solution
    assert X.shape == (3, 1) and np.isnan(npv(X)).any()
    assert np.isnan(npv(torch.linalg.lstsq(tt(torch, bad_matrix(INF)), tt(torch, b)).solution)).any()
    with pytest.raises(RuntimeError):
        F.linalg.lstsq(ft(bad_matrix(NAN)), ft(b))


@pytest.mark.timeout(60, method="thread")
def test_qr_with_non_finite_input_returns():
    for v in (INF, NAN):
        Q, R = F.linalg.qr(ft(bad_matrix(v)))
        assert Q.shape == (3, 3) and np.isnan(npv(Q)).any()


# --------------------------------------------------------------------------- one node per output
def test_decomposition_nodes_carry_torch_names(torch):
    a = np.random.default_rng(0).standard_normal((3, 3))
    s = a + a.T
    for fa, ta, name in ((F.linalg.svd(ft(a, True)), torch.linalg.svd(tt(torch, a, True)), "Svd"),
                         (F.linalg.qr(ft(a, True)), torch.linalg.qr(tt(torch, a, True)), "Qr"),
                         (F.linalg.eigh(ft(s, True)), torch.linalg.eigh(tt(torch, s, True)), "Eigh")):
        for fo, to in zip(fa, ta):
            assert fo.grad_fn.name() == to.grad_fn.name() == f"Linalg{name}Backward0"


def test_svd_gradient_of_all_outputs_vs_torch(torch):
    r = np.random.default_rng(1)
    a, w1, w2 = r.standard_normal((4, 3)), r.standard_normal((4, 4)), r.standard_normal((3, 3))
    fa, ta = ft(a, True), tt(torch, a, True)

    def loss(L, x, T):
        # invariant under the signs of the singular vectors (else the gradient is undefined)
        U, S, Vh = L.svd(x, full_matrices=False)
        P = U[:, :2] @ U[:, :2].mT
        Q = Vh.mT @ (Vh * T.arange(1.0, 4.0, dtype=T.float64)[:, None])
        return (P * T.from_numpy(w1)).sum() + (S ** 3).sum() + (Q * T.from_numpy(w2)).sum()

    loss(F.linalg, fa, F).backward()
    loss(torch.linalg, ta, torch).backward()
    np.testing.assert_allclose(npv(fa.grad), npv(ta.grad), rtol=1e-9, atol=1e-10)


def test_decomposition_outputs_modified_in_place_refuse_backward():
    x = ft(np.random.default_rng(2).standard_normal((3, 3)), True)
    Q, R = F.linalg.qr(x)
    loss = (Q * R).sum()
    with F.no_grad():
        R.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_eigh_and_qr_gradgradcheck_through_separate_nodes():
    r = np.random.default_rng(3)
    q, _ = np.linalg.qr(r.standard_normal((3, 3)))
    s = (q * np.array([1.0, 2.5, 4.0])) @ q.T
    assert gradcheck(lambda t: tuple(F.linalg.eigh((t + t.mT) / 2)), (ft(s, True),))
    assert gradgradcheck(lambda t: F.linalg.eigh((t + t.mT) / 2)[1].abs().sum(), (ft(s, True),))
    assert gradgradcheck(lambda t: F.linalg.qr(t)[1], (ft(r.standard_normal((4, 3)), True),))
