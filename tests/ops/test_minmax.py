"""Tests of ferrum.ops.minmax (max, min, amax, amin, aminmax, argmax, argmin) beyond the shared
ones in test_reduce.py: empty inputs, bool and complex inputs, and argument checks, each against
torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.ops.reduce_helpers import parity

EMPTIES = [(0,), (0, 3), (3, 0)]


@pytest.mark.parametrize("op", ["amax", "amin", "max", "min"])
@pytest.mark.parametrize("shape", EMPTIES)
def test_empty_without_dim_is_a_runtime_error(torch, op, shape):
    # defect 24: amax/amin raised IndexError where torch raises RuntimeError
    parity(torch, lambda T: getattr(T, op)(T.empty(shape)))
    with pytest.raises(RuntimeError, match=f"{op}\\(\\): Expected reduction dim to be specified"):
        getattr(F, op)(F.empty(shape))


@pytest.mark.parametrize("shape", EMPTIES)
def test_aminmax_empty(torch, shape):
    parity(torch, lambda T: tuple(T.aminmax(T.empty(shape))))
    for d in (0, -1):
        parity(torch, lambda T, d=d: tuple(T.aminmax(T.empty(shape), dim=d)))
    with pytest.raises(RuntimeError, match="aminmax"):
        F.aminmax(F.empty(shape))


@pytest.mark.parametrize("op", ["amax", "amin", "argmax", "argmin"])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_with_dim(torch, op, dim, keepdim):
    if op.startswith("arg") and isinstance(dim, tuple):
        return
    parity(torch, lambda T: getattr(T, op)(T.empty(0, 3), dim, keepdim))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("shape", EMPTIES)
def test_argmax_empty_without_dim(torch, op, shape):
    # torch raises IndexError here (unlike amax); ferrum does the same
    parity(torch, lambda T: getattr(T, op)(T.empty(shape)))
    parity(torch, lambda T: getattr(T, op)(T.empty(shape), keepdim=True))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_argmax_refuses_bool(torch, op, dim):
    # defect 26: argmax/argmin accepted bool input
    def fn(T):
        x = T.tensor([True, False, True])
        return getattr(T, op)(x) if dim is None else getattr(T, op)(x, dim)
    parity(torch, fn)
    with pytest.raises(RuntimeError, match=f"{op}\\(\\): does not support bool input"):
        fn(F)


@pytest.mark.parametrize("call", [
    lambda T, x: T.max(x), lambda T, x: T.max(x, 0), lambda T, x: T.min(x), lambda T, x: T.min(x, 0),
    lambda T, x: T.amax(x), lambda T, x: T.amin(x, 0), lambda T, x: tuple(T.aminmax(x)),
    lambda T, x: tuple(T.aminmax(x, dim=0)), lambda T, x: T.argmax(x), lambda T, x: T.argmin(x, 0),
])
def test_complex_is_refused(torch, call):
    """PyTorch has no ordering of complex numbers; NumPy's lexicographic one must not leak."""
    parity(torch, lambda T: call(T, T.tensor([1 + 1j, 2 - 1j, 0j])))
    with pytest.raises(RuntimeError):  # NotImplementedError is a RuntimeError, as in torch
        call(F, F.tensor([1 + 1j, 2 - 1j, 0j]))


def test_aminmax_dim_must_be_an_int(torch):
    parity(torch, lambda T: T.aminmax(T.ones(2, 3), dim=(0, 1)))
    with pytest.raises(TypeError, match="aminmax"):
        F.aminmax(F.ones(2, 3), dim=(0, 1))


def test_dim_errors_come_before_dtype_errors(torch):
    parity(torch, lambda T: T.argmax(T.tensor(True), (0, 1)))
    parity(torch, lambda T: T.max(T.tensor(1j), 1))
    parity(torch, lambda T: T.amax(T.tensor([1j]), 2))


def test_node_names_match_torch(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    for fn in (lambda x: x.max(), lambda x: x.min(), lambda x: x.max(1).values,
               lambda x: x.min(0).values, lambda x: x.amax(1), lambda x: x.amin(0)):
        want = fn(torch.tensor(a, requires_grad=True)).grad_fn.name()
        assert fn(F.tensor(a, requires_grad=True)).grad_fn.name() == want


def test_pick_gradient_second_order(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    w = np.arange(3.0)

    def grads(T):
        x = T.tensor(a, requires_grad=True)
        g, = T.autograd.grad((x.max(0).values ** 3).sum(), [x], create_graph=True)
        h, = T.autograd.grad((g.sum(0) * T.tensor(w)).sum(), [x])
        return g, h
    for got, want in zip(grads(F), grads(torch)):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
