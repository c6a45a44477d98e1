"""Tests of ferrum.ops.linalg_norm (vector_norm, matrix_norm, norm, cond): non-finite, empty and
0-d input, singular matrices, error types, against torch. The wider parity tests are in
test_linalg.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck

from tests.helpers import npv, tt
from tests.helpers import ft_copy as ft

INF, NAN = math.inf, math.nan


def bad_matrix(value, shape=(3, 3)):
    a = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    a[..., 0, 0] = value
    return a


def same(f_out, t_out):
    np.testing.assert_allclose(npv(f_out), npv(t_out), rtol=1e-12, atol=1e-12)


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (2, 3, 3)])
def test_svd_based_norms_with_inf_return_nan(torch, shape):
    a = bad_matrix(INF, shape)
    for o in ("nuc", 2, -2):
        same(F.linalg.matrix_norm(ft(a), o), torch.linalg.matrix_norm(tt(torch, a), o))
        same(F.linalg.norm(ft(a), o, dim=(-2, -1)), torch.linalg.norm(tt(torch, a), o, dim=(-2, -1)))
    if shape[-1] == shape[-2]:
        for p in (None, 2, -2, 1, -1, "fro", "nuc", INF):
            same(F.linalg.cond(ft(a), p), torch.linalg.cond(tt(torch, a), p))


@pytest.mark.timeout(60, method="thread")
def test_svd_based_norms_with_nan_raise(torch):
    a = bad_matrix(NAN)
    for o in ("nuc", 2, -2):
        with pytest.raises(torch.linalg.LinAlgError):
            torch.linalg.matrix_norm(tt(torch, a), o)
        with pytest.raises(F.linalg.LinAlgError, match="linalg.svd"):
            F.linalg.matrix_norm(ft(a), o)
    for p in (1, "fro", INF):  # through the inverse: PyTorch gives inf
        same(F.linalg.cond(ft(a), p), torch.linalg.cond(tt(torch, a), p))


@pytest.mark.parametrize("p", [1, -1, "fro", INF, -INF])  # torch's "nuc" differs by path here
def test_cond_of_singular_matrices_is_inf(torch, p):
    a = np.stack([np.array([[1.0, 2], [2, 4]]), np.zeros((2, 2)), np.array([[2.0, 1], [1, 3]])])
    same(F.linalg.cond(ft(a), p), torch.linalg.cond(tt(torch, a), p))


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0)])
@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, "fro", "nuc", INF])
def test_cond_of_empty_matrices(torch, shape, p):
    fr = F.linalg.cond(F.empty(*shape, dtype=F.float64, requires_grad=True), p)
    tr = torch.linalg.cond(torch.empty(*shape, dtype=torch.float64, requires_grad=True), p)
    same(fr, tr)
    assert fr.requires_grad is tr.requires_grad is False


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0), (2, 0, 0)])
@pytest.mark.parametrize("o", [2, -2, 1, -1, INF, -INF, "nuc", "fro"])
def test_matrix_norm_of_empty_matrices(torch, shape, o):
    try:
        tr = torch.linalg.matrix_norm(torch.empty(*shape, dtype=torch.float64), o)
    except IndexError:
        with pytest.raises(IndexError, match="amin"):
            F.linalg.matrix_norm(F.empty(*shape, dtype=F.float64), o)
        return
    x = F.empty(*shape, dtype=F.float64, requires_grad=True)
    fr = F.linalg.matrix_norm(x, o)
    same(fr, tr)
    fr.sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("dim", [-1, 0, (0,), (-1,), None, ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm_of_a_0d_tensor(torch, dim, keepdim):
    fx, tx = ft(np.array(-2.0), True), tt(torch, np.array(-2.0), True)
    fr = F.linalg.vector_norm(fx, 3, dim=dim, keepdim=keepdim)
    tr = torch.linalg.vector_norm(tx, 3, dim=dim, keepdim=keepdim)
    assert fr.shape == tr.shape
    same(fr, tr)
    fr.backward()
    tr.backward()
    same(fx.grad, tx.grad)


@pytest.mark.parametrize("dim", [1, -2, (1,), (0, 0)])
def test_vector_norm_of_a_0d_tensor_bad_dims(torch, dim):
    x = np.array(2.0)
    with pytest.raises((IndexError, RuntimeError)) as te:
        torch.linalg.vector_norm(tt(torch, x), 3, dim=dim)
    with pytest.raises(te.type):
        F.linalg.vector_norm(ft(x), 3, dim=dim)


@pytest.mark.parametrize("x, ord, dim", [(np.empty(0), "fro", None), (np.ones(3), "nuc", None),
                                         (np.ones((3, 3)), "fro", 1), (np.ones((3, 3)), "nuc", (0,))])
def test_norm_string_orders_need_matrices(torch, x, ord, dim):
    with pytest.raises(RuntimeError):
        torch.linalg.norm(tt(torch, x), ord, dim=dim)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm"):
        F.linalg.norm(ft(x), ord, dim=dim)


def test_negative_order_vector_norm_gradient_at_a_zero_norm(torch):
    a = np.array([[0.0, 2.0], [1.0, 3.0]])
    fx, tx = ft(a, True), tt(torch, a, True)
    F.linalg.vector_norm(fx, -1.5, dim=1).sum().backward()
    torch.linalg.vector_norm(tx, -1.5, dim=1).sum().backward()
    assert np.isfinite(npv(fx.grad)[1]).all()
    same(fx.grad[1], tx.grad[1])
    assert gradcheck(lambda t: F.linalg.vector_norm(t, -1.5, dim=1), (ft(a + 0.5, True),))
