"""Tests of ferrum.ops.linalg_norm (vector_norm, matrix_norm, norm, cond): forward and gradients
against torch; non-finite, empty and 0-d input, singular matrices, error types."""

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


# --------------------------------------------------------------------------- ferrum.linalg: norms
VEC_ORDS = [2, 1, 0, 3, 0.5, -1, -2, math.inf, -math.inf]


@pytest.mark.parametrize("ord", VEC_ORDS)
def test_vector_norm_vs_torch(torch, ord):
    x = np.array([[1.0, 3.0, 3.0, -3.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, -2.0, 0.5]])
    for dim, keepdim in ((None, False), (1, False), (1, True), ((0, 1), True), (0, False)):
        fx, tx = ft(x, True), tt(torch, x, True)
        r = F.linalg.vector_norm(fx, ord, dim, keepdim)
        tr = torch.linalg.vector_norm(tx, ord, dim, keepdim)
        close(r, tr, 1e-12, 1e-12)
        if ord == 0:
            continue
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fx.grad, tx.grad, 1e-10, 1e-10)
        assert np.all(np.isfinite(npv(fx.grad)))


def test_vector_norm_zero_grad_and_gradcheck(torch):
    z = ft(np.zeros(3), True)
    F.linalg.vector_norm(z).backward()
    close(z.grad, np.zeros(3))
    for ord in (2, 1, 3, 0.5, math.inf, -1):
        x = ft(arr((2, 3)) + 0.1, True)
        assert gradcheck(lambda t, o=ord: F.linalg.vector_norm(t, o, dim=1), (x,))
    x = ft(arr((2, 3)), True)
    assert gradgradcheck(lambda t: F.linalg.vector_norm(t, 2, dim=-1), (x,))
    assert gradgradcheck(lambda t: F.linalg.vector_norm(t, 3), (x,))
    # dtype handling
    f32 = ft(arr((4,), np.float32))
    assert F.linalg.vector_norm(f32).dtype == F.float32
    assert F.linalg.vector_norm(f32, dtype=F.float64).dtype == F.float64
    assert F.linalg.vector_norm(ft(np.ones(3, np.complex64))).dtype == F.float32
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        F.linalg.vector_norm(ft(np.ones(3, np.int64)))
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        F.linalg.vector_norm(ft(np.ones((0, 4))), math.inf)
    close(F.linalg.vector_norm(ft(np.ones((0, 4)))), np.array(0.0))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_vs_torch(torch, ord):
    a = np.array([[1.0, 2.0], [-3.0, 2.0]])
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.matrix_norm(fa, ord), torch.linalg.matrix_norm(ta, ord)
    close(r, tr, 1e-12, 1e-12)
    r.backward()
    tr.backward()
    close(fa.grad, ta.grad, 1e-10, 1e-10)
    b = arr((2, 3, 4))
    for dim, keepdim in (((-2, -1), False), ((0, 2), True), ((2, 0), False)):
        close(
            F.linalg.matrix_norm(ft(b), ord, dim, keepdim),
            torch.linalg.matrix_norm(tt(torch, b), ord, dim, keepdim),
            1e-10,
            1e-10,
        )
    c = ft(arr((3, 4)), True)
    assert gradcheck(lambda t: F.linalg.matrix_norm(t, ord), (c,))


def test_norm_dispatch_and_errors(torch):
    a = arr((3, 4))
    for kw in (
        {},
        {"ord": 2},
        {"ord": "fro"},
        {"ord": "nuc"},
        {"ord": 1, "dim": 1},
        {"dim": (0, 1)},
        {"ord": -math.inf, "dim": 0, "keepdim": True},
        {"ord": math.inf},
    ):
        close(F.linalg.norm(ft(a), **kw), torch.linalg.norm(tt(torch, a), **kw), 1e-10, 1e-10)
    v = arr((5,))
    close(F.linalg.norm(ft(v), 3), torch.linalg.norm(tt(torch, v), 3))
    b3 = arr((2, 3, 4))
    close(F.linalg.norm(ft(b3)), torch.linalg.norm(tt(torch, b3)), 1e-12, 1e-12)
    with pytest.raises(
        RuntimeError, match="If dim is not specified but ord is, the input must be 1D or 2D. Got 3D"
    ):
        F.linalg.norm(ft(arr((3, 3, 3))), ord=2)
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        F.linalg.matrix_norm(ft(arr((3, 3))), dim=(0,))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        F.linalg.matrix_norm(ft(arr((3,))))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        F.linalg.matrix_norm(ft(arr((3, 3))), ord=3)
    close(F.linalg.cond(ft(np.eye(3) * 2)), torch.linalg.cond(tt(torch, np.eye(3) * 2)))
    m = spd(3)
    for p in (None, "fro", 1, math.inf, -2):
        close(F.linalg.cond(ft(m), p), torch.linalg.cond(tt(torch, m), p), 1e-9, 1e-9)


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


@pytest.mark.parametrize("shape,ord,dim", [((0,), -1, None), ((0, 3), float("inf"), 0), ((0, 3), -0.5, 0),
                                           ((0, 3), 0.5, 0), ((0, 3), -1, 1), ((0, 3), -2, None)])
def test_vector_norm_of_empty_dims_as_torch(torch, shape, ord, dim):
    """Norms without an identity (negative powers, min, max) refuse an empty reduction, as torch."""
    try:
        want = torch.linalg.vector_norm(torch.empty(shape), ord, dim=dim)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            F.linalg.vector_norm(F.empty(shape), ord, dim=dim)
        assert str(got.value) == str(e)
        return
    np.testing.assert_array_equal(F.linalg.vector_norm(F.empty(shape), ord, dim=dim).numpy(),
                                  want.numpy())


def test_fro_norm_over_more_than_two_dims_raises_as_torch(torch):
    for lib in (F, torch):
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple. Got 1 2 3"):
            lib.norm(lib.ones(2, 3, 4, 5), p="fro", dim=[1, 2, 3])
    np.testing.assert_allclose(F.norm(F.ones(2, 3, 4), p="fro", dim=(1, 2)).numpy(),
                               torch.norm(torch.ones(2, 3, 4), p="fro", dim=(1, 2)).numpy())
