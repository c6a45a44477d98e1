"""Tests of ferrum.ops.sort (sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile, unique, unique_consecutive) beyond the shared ones in test_reduce.py:
empty and 0-d inputs, NaN in bfloat16, dtype refusals and argument checks, each against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.ops.reduce_helpers import parity

NAN = float("nan")


@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (0, 0)])
def test_median_of_empty_float_is_nan(torch, op, dtype, shape):
    # defect 22: median of an empty bfloat16 tensor raised "input tensor is empty"
    parity(torch, lambda T: getattr(T, op)(T.empty(shape, dtype=getattr(T, dtype))))


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_bfloat16_nan(torch, op):
    # bfloat16 NaNs were not seen (NumPy kind 'V'): median gave a number where torch gives NaN
    for vals in ([1.5, NAN, -1.5], [NAN, NAN, 2.0], [NAN]):
        parity(torch, lambda T, vals=vals: getattr(T, op)(T.tensor(vals, dtype=T.bfloat16)))
        parity(torch, lambda T, v=vals: tuple(getattr(T, op)(T.tensor([v, v], dtype=T.bfloat16), 1)))


@pytest.mark.parametrize("op", ["median", "nanmedian", "mode"])
def test_dim_variants_on_empty(torch, op):
    for shape, dim in (((0, 3), 1), ((3, 0), 1), ((0,), 0), ((3, 0), 0)):
        parity(torch, lambda T, shape=shape, dim=dim: tuple(getattr(T, op)(T.empty(shape), dim)))


def test_kthvalue_empty_dim_is_an_index_error(torch):
    # defect 24: RuntimeError (k out of range) where torch raises IndexError
    for shape, dim, k in (((0,), 0, 1), ((0, 3), 0, 1), ((3, 0), 1, 2), ((0,), -1, 0)):
        parity(torch, lambda T, shape=shape, k=k, dim=dim: tuple(T.kthvalue(T.empty(shape), k, dim)))
    with pytest.raises(IndexError, match="kthvalue"):
        F.kthvalue(F.empty(0), 1)
    parity(torch, lambda T: tuple(T.kthvalue(T.empty(3, 0), 1, 0)))


@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("shape,dim", [((0,), None), ((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), None)])
def test_quantile_of_empty_is_a_runtime_error(torch, op, shape, dim):
    # defect 24 (IndexError where torch raises RuntimeError) and 26 (a 0-size result where torch
    # refuses any empty input)
    parity(torch, lambda T: getattr(T, op)(T.empty(shape), 0.5, dim))
    parity(torch, lambda T: getattr(T, op)(T.empty(shape), T.tensor([0.2, 0.5]), dim))
    with pytest.raises(RuntimeError, match="input tensor must be non-empty"):
        getattr(F, op)(F.empty(shape), 0.5, dim)


def test_quantile_dim_must_be_an_int(torch):
    parity(torch, lambda T: T.quantile(T.ones(2, 3), 0.5, (0, 1)))
    parity(torch, lambda T: T.quantile(T.ones(2, 3, dtype=T.bfloat16), 0.5, (0, 1)))


@pytest.mark.parametrize("op", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("dim", [0, -1, 1])
def test_unique_dim_on_0d_is_an_index_error(torch, op, dim):
    # defect 26: ferrum accepted dim=0/-1 on a 0-d tensor
    parity(torch, lambda T: getattr(T, op)(T.tensor(1.0), dim=dim))
    with pytest.raises(IndexError, match=f"{op}\\(\\): Dimension specified as {dim} but tensor has no"):
        getattr(F, op)(F.tensor(1.0), dim=dim)


@pytest.mark.parametrize("op", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_of_0_size(torch, op, shape, dim):
    # defect 22: unique_consecutive(dim=0) of an empty tensor raised a NumPy ValueError; and
    # 0-size dims that are not the selected one are refused as in torch
    if dim is not None and dim >= len(shape):
        return

    def fn(T):
        return tuple(getattr(T, op)(T.empty(shape), return_inverse=True, return_counts=True, dim=dim))
    parity(torch, fn)


@pytest.mark.parametrize("op", ["unique", "unique_consecutive"])
def test_unique_dim_must_be_an_int(torch, op):
    parity(torch, lambda T: getattr(T, op)(T.ones(2, 2), dim=(0, 1)))


@pytest.mark.parametrize("call", [
    lambda T, x: tuple(T.sort(x)), lambda T, x: T.argsort(x), lambda T, x: T.msort(x),
    lambda T, x: tuple(T.topk(x, 1)), lambda T, x: tuple(T.kthvalue(x, 1)), lambda T, x: T.median(x),
    lambda T, x: tuple(T.median(x, 0)), lambda T, x: T.nanmedian(x), lambda T, x: tuple(T.mode(x)),
    lambda T, x: T.unique(x), lambda T, x: T.unique(x, dim=0), lambda T, x: T.unique_consecutive(x),
    lambda T, x: T.quantile(x, 0.5),
])
def test_complex_is_refused(torch, call):
    parity(torch, lambda T: call(T, T.tensor([1 + 1j, 2 - 1j, 0j])))


@pytest.mark.parametrize("call", [
    lambda T, x: tuple(T.topk(x, 1)), lambda T, x: tuple(T.kthvalue(x, 1)), lambda T, x: T.median(x),
    lambda T, x: tuple(T.nanmedian(x, 0)), lambda T, x: tuple(T.sort(x)), lambda T, x: tuple(T.mode(x)),
    lambda T, x: T.unique(x, return_counts=True),
])
def test_bool_input(torch, call):
    parity(torch, lambda T: call(T, T.tensor([True, False, True])))


def test_topk_edge_sizes(torch):
    for shape, k, dim in (((0,), 0, 0), ((3, 0), 0, 0), ((3, 0), 1, 0), ((3, 0), 2, 0), ((2, 3), 3, 1)):
        parity(torch, lambda T, shape=shape, k=k, dim=dim: tuple(T.topk(T.ones(shape), k, dim)))


def test_node_names_match_torch(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    for fn in (lambda x: x.sort(1).values, lambda x: x.topk(2).values, lambda x: x.kthvalue(1, 0).values,
               lambda x: x.median(), lambda x: x.median(1).values, lambda x: x.nanmedian(),
               lambda x: x.nanmedian(0).values, lambda x: x.mode(1).values):
        want = fn(torch.tensor(a, requires_grad=True)).grad_fn.name()
        assert fn(F.tensor(a, requires_grad=True)).grad_fn.name() == want


def test_sort_gradient_second_order(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])

    def grads(T):
        x = T.tensor(a, requires_grad=True)
        v = x.sort(1, descending=True).values
        g, = T.autograd.grad((v ** 3 * T.arange(3.0, dtype=T.float64)).sum(), [x], create_graph=True)
        h, = T.autograd.grad((g * g).sum(), [x])
        return g, h
    for got, want in zip(grads(F), grads(torch)):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)


def test_quantile_with_infinities_matches_torch(torch):
    # found by the differential test: the linear interpolation is torch's two-sided lerp
    inf = float("inf")
    for v in ([-inf, -inf, 1.0], [-inf, 1.0, 2.0], [inf, inf, 1.0], [-inf, inf, 0.0], [0.0, 0.0, -inf]):
        for q in (0.3, 0.7):
            a = torch.quantile(torch.tensor(v), q).item()
            b = F.quantile(F.tensor(v), q).item()
            assert a == b or (a != a and b != b), (v, q, a, b)
