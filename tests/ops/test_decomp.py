"""Tests of ferrum.ops.decomp (qr, eigh, svd, svdvals, pinv, matrix_rank, lstsq): forward and
gradients against torch; non-finite input, which must never reach the LAPACK routines that loop
forever on it; the one-node-per-output recording of the decompositions."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import spd, distinct_sym
from tests.helpers import ft_copy as ft


RNG = np.random.default_rng(2024)

# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "shape,mode",
    [
        ((4, 3), "reduced"),
        ((3, 3), "reduced"),
        ((3, 5), "reduced"),
        ((2, 4, 3), "reduced"),
        ((3, 3), "complete"),
        ((3, 5), "complete"),
    ],
)
def test_qr_vs_torch(torch, shape, mode):
    a = arr(shape)
    fa, ta = ft(a, True), tt(torch, a, True)
    (q, r), (tq, tr) = F.linalg.qr(fa, mode), torch.linalg.qr(ta, mode)
    close(q @ r, a, 1e-10, 1e-10)
    # same LAPACK convention: the factors agree up to the signs of R's rows
    sign = np.sign(np.diagonal(npv(r), axis1=-2, axis2=-1)) * np.sign(
        np.diagonal(npv(tr), axis1=-2, axis2=-1)
    )
    close(npv(r) * sign[..., :, None], tr, 1e-9, 1e-9)
    gq, gr = arr(tuple(tq.shape)), arr(tuple(tr.shape))
    ((q * ft(gq)).sum() + (r * ft(gr)).sum()).backward()
    ((tq * tt(torch, gq)).sum() + (tr * tt(torch, gr)).sum()).backward()
    if np.all(sign > 0):
        close(fa.grad, ta.grad, 1e-8, 1e-8)
    fn = lambda x: tuple(F.linalg.qr(x, mode))  # noqa: E731
    assert gradcheck(fn, (ft(arr(shape), True),))


def test_qr_gradgrad_and_modes(torch):
    assert gradgradcheck(lambda x: tuple(F.linalg.qr(x)), (ft(arr((3, 2)), True),))
    q, r = F.linalg.qr(ft(arr((3, 4))), mode="r")
    assert q.numel() == 0 and r.shape == (3, 4)
    q, r = F.qr(ft(arr((4, 3))))
    assert q.shape == (4, 3)
    x = ft(arr((4, 3)), True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        F.linalg.qr(x, "complete")[0].sum().backward()


def test_eigh_vs_torch(torch):
    a = distinct_sym(4, (2,))
    fa, ta = ft(a, True), tt(torch, a, True)
    (w, v), (tw, tv) = F.linalg.eigh(fa), torch.linalg.eigh(ta)
    close(w, tw, 1e-10, 1e-10)
    close(np.abs(npv(v)), np.abs(npv(tv)), 1e-8, 1e-8)
    gw = arr(tuple(tw.shape))
    gm = arr((2, 4, 4))
    # a loss invariant to the eigenvectors' signs
    ((w * ft(gw)).sum() + ((v * v) * ft(gm)).sum()).backward()
    ((tw * tt(torch, gw)).sum() + ((tv * tv) * tt(torch, gm)).sum()).backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    close(F.linalg.eigvalsh(ft(a), UPLO="U"), torch.linalg.eigvalsh(ta, UPLO="U"), 1e-10, 1e-10)

    def fn(x):
        w, v = F.linalg.eigh(x + x.transpose(-2, -1))
        return w, v * v

    x = ft(distinct_sym(3) / 2, True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: F.linalg.eigvalsh(x + x.transpose(-2, -1)), (x,))


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 4, 3)])
def test_svd_vs_torch(torch, shape):
    a = arr(shape)
    fa, ta = ft(a, True), tt(torch, a, True)
    (u, s, vh), (tu, ts, tvh) = (
        F.linalg.svd(fa, full_matrices=False),
        torch.linalg.svd(ta, full_matrices=False),
    )
    close(s, ts, 1e-10, 1e-10)
    close((u * s.unsqueeze(-2)) @ vh, a, 1e-10, 1e-10)
    gs, gu, gv = arr(tuple(ts.shape)), arr(tuple(tu.shape)), arr(tuple(tvh.shape))
    # a loss invariant to the singular vectors' signs
    loss = (s * ft(gs)).sum() + (u * u * ft(gu)).sum() + (vh * vh * ft(gv)).sum()
    tloss = (ts * tt(torch, gs)).sum() + (tu * tu * tt(torch, gu)).sum() + (tvh * tvh * tt(torch, gv)).sum()
    loss.backward()
    tloss.backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    f = lambda x: (lambda r: (r[1], r[0] * r[0], r[2] * r[2]))(F.linalg.svd(x, full_matrices=False))  # noqa: E731
    assert gradcheck(f, (ft(arr(shape[-2:]), True),))


def test_svd_family(torch):
    a = arr((4, 3))
    u, s, vh = F.linalg.svd(ft(a))
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    close(F.linalg.svdvals(ft(a)), torch.linalg.svdvals(tt(torch, a)), 1e-10, 1e-10)
    x = ft(a, True)
    assert gradcheck(F.linalg.svdvals, (x,))
    assert gradgradcheck(F.linalg.svdvals, (x,))
    # full_matrices=True: gradient through the first k singular vectors
    fa, ta = ft(a, True), tt(torch, a, True)
    (F.linalg.svd(fa)[1].sum() + (F.linalg.svd(fa)[0][:, :3] ** 2).sum()).backward()
    (torch.linalg.svd(ta)[1].sum() + (torch.linalg.svd(ta)[0][:, :3] ** 2).sum()).backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    U, S, V = F.svd(ft(a))
    close((U * S.unsqueeze(-2)) @ V.mT, a, 1e-10, 1e-10)
    close(F.linalg.pinv(ft(a)), torch.linalg.pinv(tt(torch, a)), 1e-10, 1e-10)
    close(F.pinverse(ft(a)), torch.pinverse(tt(torch, a)), 1e-10, 1e-10)
    close(
        F.linalg.pinv(ft(spd(3)), hermitian=True),
        torch.linalg.pinv(tt(torch, spd(3)), hermitian=True),
        1e-10,
        1e-10,
    )
    assert gradcheck(F.linalg.pinv, (ft(a, True),))
    close(F.linalg.matrix_rank(ft(np.ones((3, 4)))), torch.linalg.matrix_rank(tt(torch, np.ones((3, 4)))))
    close(F.linalg.matrix_rank(ft(arr((2, 3, 4)))), torch.linalg.matrix_rank(tt(torch, arr((2, 3, 4)))))


def test_lstsq_matrix_exp_and_misc(torch):
    a, b = arr((5, 3)), arr((5, 2))
    for driver in (None, "gelsd"):
        r, tr = (
            F.linalg.lstsq(ft(a), ft(b), driver=driver),
            torch.linalg.lstsq(tt(torch, a), tt(torch, b), driver=driver),
        )
        for x, y in zip(r, tr):
            close(x, y, 1e-9, 1e-9)
    close(
        F.linalg.lstsq(ft(a), ft(b[:, 0])).solution,
        torch.linalg.lstsq(tt(torch, a), tt(torch, b[:, 0])).solution,
        1e-9,
        1e-9,
    )
    assert gradcheck(lambda x, y: F.linalg.lstsq(x, y).solution, (ft(a, True), ft(b, True)))
    m = arr((2, 3, 3))
    close(F.linalg.matrix_exp(ft(m)), torch.linalg.matrix_exp(tt(torch, m)), 1e-10, 1e-10)
    close(F.matrix_exp(ft(m * 5)), torch.matrix_exp(tt(torch, m * 5)), 1e-8, 1e-8)
    assert gradcheck(F.linalg.matrix_exp, (ft(m[0], True),))
    x, y = arr((2, 3)), arr((3,))
    close(F.linalg.vecdot(ft(x), ft(y)), torch.linalg.vecdot(tt(torch, x), tt(torch, y)))
    with pytest.raises(RuntimeError, match="linalg.vecdot: Expected x and y to have the same dtype"):
        F.linalg.vecdot(ft(x.astype(np.float32)), ft(y))
    ms = [arr((3,)), arr((3, 4)), arr((4, 2)), arr((2,))]
    close(
        F.linalg.multi_dot([ft(t) for t in ms]),
        torch.linalg.multi_dot([tt(torch, t) for t in ms]),
        1e-10,
        1e-10,
    )
    close(F.chain_matmul(ft(ms[1]), ft(ms[2])), ms[1] @ ms[2], 1e-12, 1e-12)
    close(F.linalg.matmul(ft(ms[1]), ft(ms[2])), ms[1] @ ms[2])
    close(F.linalg.diagonal(ft(m)), np.diagonal(m, axis1=-2, axis2=-1))
    p = spd(3)
    L = np.linalg.cholesky(p)
    close(F.cholesky_inverse(ft(L)), np.linalg.inv(p), 1e-10, 1e-10)
    close(F.cholesky_solve(ft(b[:3]), ft(L)), np.linalg.solve(p, b[:3]), 1e-10, 1e-10)
    inv, info = F.linalg.inv_ex(ft(np.stack([np.eye(2), np.zeros((2, 2))])))
    assert info.tolist() == [0, 1]


def test_float32_linalg_dtypes(torch):
    a = (arr((3, 3)) + 3 * np.eye(3)).astype(np.float32)
    for name in ("inv", "det", "svdvals", "eigvalsh", "cholesky"):
        x = a @ a.T if name in ("eigvalsh", "cholesky") else a
        r = getattr(F.linalg, name)(ft(x))
        assert r.dtype == F.float32
        close(r, getattr(torch.linalg, name)(tt(torch, x)), 1e-4, 1e-4)


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
def test_lstsq_with_non_finite_input():
    b = np.ones((3, 1))
    X = F.linalg.lstsq(ft(bad_matrix(INF)), ft(b)).solution
    # ferrum's solution is all NaN; torch's (gelsy on an infinite matrix) is whatever LAPACK makes
    # of it, so it is not compared (it failed the comparison once in a full parallel run)
    assert X.shape == (3, 1) and np.isnan(npv(X)).all()
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


def test_no_lapack_call_hangs_on_non_finite_input():
    """In a child process with a deadline: a LAPACK routine that loops holds the GIL, so no
    in-process timeout could stop it (this is what PyTorch users would otherwise see as a hang)."""
    code = """if True:
        import math
        import ferrum as F
        a = F.tensor([[math.inf, 2., 3.], [4., 5., 6.], [7., 8., 9.]], dtype=F.float64)
        b = F.tensor([[math.inf, 2., 3.], [4., 5., 6.], [4., 5., 6.]], dtype=F.float64, requires_grad=True)
        F.linalg.svd(a); F.linalg.svd(a, full_matrices=False); F.svd(a); F.linalg.svdvals(a)
        F.linalg.pinv(a); F.linalg.matrix_rank(a); F.linalg.cond(a); F.linalg.lstsq(a, a)
        for o in ("nuc", 2, -2):
            F.linalg.matrix_norm(a, o)
        F.linalg.eigh(a); F.linalg.det(b).backward()
        print("done")
    """
    src = str(Path(F.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "done", r.stderr[-2000:]
