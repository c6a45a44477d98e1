"""Tests of ferrum.ops.matmul: the add* family's scalars on integer and bool tensors, the ignored
input of beta = 0, and the column-major gradients of _matmul_grads, against torch. The wider
parity, gradient and error tests of the products are in test_linalg.py."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.ops.matmul import _matmul_grads

from tests.helpers import npv


def args(T, op):
    M = T.tensor([[1, 2], [3, 4]])
    v = T.tensor([1, 1])
    B = T.tensor([[[1, 2], [3, 4]]])
    return {"addmm": (M, M, M), "addmv": (T.tensor([1, 2]), M, v), "addr": (M, v, v),
            "baddbmm": (B, B, B), "addbmm": (M, B, B)}[op]


@pytest.mark.parametrize("op", ["addmm", "addmv", "addr", "baddbmm", "addbmm"])
@pytest.mark.parametrize("beta, alpha", [(0.5, 1), (1.5, 2), (1, 0.5), (2, 2.7), (0, 1), (-1.5, -0.2)])
def test_add_family_float_scalars_with_integer_tensors(torch, op, beta, alpha):
    try:
        tr = getattr(torch, op)(*args(torch, op), beta=beta, alpha=alpha)
    except RuntimeError as e:  # addr refuses a float scalar
        with pytest.raises(RuntimeError, match=str(e)):
            getattr(F, op)(*args(F, op), beta=beta, alpha=alpha)
        return
    fr = getattr(F, op)(*args(F, op), beta=beta, alpha=alpha)
    assert fr.dtype == F.int64 and str(tr.dtype) == "torch.int64"
    np.testing.assert_array_equal(npv(fr), npv(tr))


@pytest.mark.parametrize("beta, alpha", [(1, 1), (2, 1), (0, 1), (1, 0), (0, 0), (True, False)])
def test_addr_on_bool_is_logical(torch, beta, alpha):
    def run(T):
        return T.addr(T.tensor([[True, False], [False, False]]), T.tensor([True, False]),
                      T.tensor([False, True]), beta=beta, alpha=alpha)
    fr, tr = run(F), run(torch)
    assert fr.dtype == F.bool
    np.testing.assert_array_equal(npv(fr), npv(tr))


@pytest.mark.parametrize("a_colmajor, b_colmajor",
                         [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_grads_layout_flags(a_colmajor, b_colmajor):
    r = np.random.default_rng(1)
    a, b, g = r.standard_normal((4, 3)), r.standard_normal((3, 5)), r.standard_normal((4, 5))
    ga, gb = _matmul_grads(g, a, b, a.shape, b.shape, a_colmajor, b_colmajor)
    np.testing.assert_allclose(ga, g @ b.T)
    np.testing.assert_allclose(gb, a.T @ g)
    assert ga.flags.f_contiguous == a_colmajor and gb.flags.f_contiguous == b_colmajor


def test_transposed_weight_gets_a_c_contiguous_gradient():
    w = F.randn(5, 3, requires_grad=True)
    x = F.randn(4, 3)
    (x @ w.t()).sum().backward()
    assert w.grad._data.flags.c_contiguous
    np.testing.assert_allclose(npv(w.grad), np.ones((4, 5)).T @ npv(x), rtol=1e-5)
