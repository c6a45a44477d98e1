"""Tests of ferrum.ops.scan (cumsum, cumprod, cummax, cummin, logcumsumexp) beyond the shared ones
in test_reduce.py: the dtype= argument, NaN in bfloat16, 0-d and empty inputs, dtype refusals
and the module layout (no rebinding of the public functions), each against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import reduce, scan

from tests.ops.reduce_helpers import parity

NAN = float("nan")


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8", "int64", "float64", "float16"])
@pytest.mark.parametrize("src", ["float32", "int64", "bool"])
def test_dtype_argument_is_the_result_dtype(torch, op, dtype, src):
    # defect 11: dtype=int32 gave int64; a narrow integer dtype wraps as in torch
    vals = {"float32": [100.7, 100.2, -3.5, 2.9], "int64": [100, 100, 7, -3], "bool": [1, 0, 1, 1]}[src]
    parity(torch, lambda T: getattr(T, op)(T.tensor(vals, dtype=getattr(T, src)), 0,
                                           dtype=getattr(T, dtype)), rtol=1e-3)


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64", "bool", "float32"])
def test_default_result_dtype(torch, op, dtype):
    for shape in ((), (0,), (2, 3)):
        parity(torch, lambda T, shape=shape: getattr(T, op)(T.ones(shape, dtype=getattr(T, dtype)), 0))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_bfloat16_nan_indices(torch, op):
    # bfloat16 is NumPy kind 'V': its NaNs were missed, so the indices did not follow them
    for vals in ([1.5, NAN, 0.5], [NAN, 2.0, NAN, -1.0], [0.5, 0.5, NAN]):
        parity(torch, lambda T, vals=vals: tuple(getattr(T, op)(T.tensor(vals, dtype=T.bfloat16), 0)))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_complex_is_refused_except_0d(torch, op):
    parity(torch, lambda T: tuple(getattr(T, op)(T.tensor([1j, 2 + 0j]), 0)))
    with pytest.raises(NotImplementedError, match=op):
        getattr(F, op)(F.tensor([1j, 2 + 0j]), 0)
    parity(torch, lambda T: tuple(getattr(T, op)(T.tensor(1j), 0)))


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
def test_dim_is_required_and_axis_is_its_alias(torch, op):
    def res(r):
        return tuple(r) if isinstance(r, tuple) else r
    parity(torch, lambda T: res(getattr(T, op)(T.ones(2, 3))))
    parity(torch, lambda T: res(getattr(T, op)(T.ones(2, 3), axis=1)))
    parity(torch, lambda T: res(getattr(T.ones(2, 3), op)(dim=0)))
    with pytest.raises(TypeError, match=op):
        getattr(F, op)(F.ones(2, 3))
    with pytest.raises(TypeError, match="alias"):
        getattr(F, op)(F.ones(2, 3), 0, axis=1)


def test_public_functions_are_the_module_functions():
    """No wrapper is rebound over the module's functions: ferrum.cumsum is scan.cumsum, the face
    re-exports it, and Tensor methods are the same functions."""
    for name in scan.__all__:
        fn = getattr(scan, name)
        assert getattr(F, name) is fn
        assert getattr(reduce, name) is fn
        assert getattr(F.Tensor, name) is fn
        assert fn.__module__ == "ferrum.ops.scan"


def test_empty_and_0d(torch):
    for shape, dim in (((0,), 0), ((0, 3), 1), ((3, 0), 0), ((), 0), ((), -1)):
        for op in ("cumsum", "cumprod", "logcumsumexp"):
            parity(torch, lambda T, op=op, shape=shape, dim=dim: getattr(T, op)(T.ones(shape), dim))
        for op in ("cummax", "cummin"):
            parity(torch, lambda T, op=op, shape=shape, dim=dim: tuple(getattr(T, op)(T.ones(shape), dim)))


def test_cummax_gradients_with_ties(torch):
    a = np.array([[1.0, 3.0, 3.0, 0.5, 4.0], [2.0, 2.0, -1.0, 2.0, 0.0]])

    def grad(T, op):
        x = T.tensor(a, requires_grad=True)
        (getattr(x, op)(1).values * T.arange(5.0, dtype=T.float64)).sum().backward()
        return x.grad
    for op in ("cummax", "cummin"):
        np.testing.assert_allclose(grad(F, op).numpy(), grad(torch, op).numpy())
        x = F.tensor(a, requires_grad=True)
        assert gradcheck(lambda t, op=op: getattr(t, op)(0).values, (x,))
        assert gradgradcheck(lambda t, op=op: getattr(t, op)(0).values, (x,))


def test_node_names_match_torch(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    for fn in (lambda x: x.cumsum(1), lambda x: x.cumprod(0), lambda x: x.cummax(1).values,
               lambda x: x.cummin(0).values, lambda x: x.logcumsumexp(1)):
        want = fn(torch.tensor(a, requires_grad=True)).grad_fn.name()
        assert fn(F.tensor(a, requires_grad=True)).grad_fn.name() == want


def test_logcumsumexp_complex(torch):
    # complex input raised a bare NumPy TypeError (ufunc 'logaddexp' not supported)
    z = [[1 + 2j, -3 + 0.5j, 40 - 1j, 0.3j], [0j, 1j, -1j, 2 + 2j]]
    for dim in (0, 1, -1):
        parity(torch, lambda T, dim=dim: T.logcumsumexp(T.tensor(z, dtype=T.complex128), dim), rtol=1e-12)
    parity(torch, lambda T: T.logcumsumexp(T.tensor([complex("-inf"), 1j, 2 + 0j]), 0))
    parity(torch, lambda T: T.logcumsumexp(T.empty(0, dtype=T.complex64), 0))

    def vjp(T):
        x = T.tensor(z, dtype=T.complex128, requires_grad=True)
        g = T.tensor([[1 + 1j, 2, -1j, 0.5], [3, 1j, 1, 2 - 1j]], dtype=T.complex128)
        T.logcumsumexp(x, 1).backward(g)
        return x.grad.resolve_conj().numpy() if T is torch else x.grad.numpy()
    np.testing.assert_allclose(vjp(F), vjp(torch), rtol=1e-12)
