"""Tests of ferrum.ops.gather_scatter against torch, for the defects of issue 9 (differential
findings 5, 17, 22, 24, 26, 27). The broad gather/scatter/index_* tests are in test_index.py (the
module's face)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.ops.test_getitem import same


# --------------------------------------------------------------------------- defect 5
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_bfloat16_keeps_fractions(torch, reduce, include_self):
    def fn(T):
        x = T.tensor([[0.5, 1.5], [2.5, 3.5]], dtype=T.bfloat16)
        src = T.tensor([[1.25, 2.], [-0.75, 4.5]], dtype=T.bfloat16)
        return T.scatter_reduce(x, 0, T.tensor([[1, 0], [1, 1]]), src, reduce, include_self=include_self)
    same(torch, fn)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_on_empty_bfloat16(torch, reduce):
    same(torch, lambda T: T.scatter_reduce(T.empty(0, dtype=T.bfloat16), 0, T.empty(0, dtype=T.int64),
                                           T.empty(0, dtype=T.bfloat16), reduce))
    same(torch, lambda T: T.empty(0, dtype=T.bfloat16).scatter_reduce_(
        0, T.empty(0, dtype=T.int64), T.empty(0, dtype=T.bfloat16), reduce, include_self=False))


# --------------------------------------------------------------------------- defect 17
@pytest.mark.parametrize("index", [[0, 0], [0, 2, 0, 2], [1]])
def test_index_fill_value_gradient_counts_each_position_once(torch, index):
    def fn(T):
        v = T.tensor(1., dtype=T.float64, requires_grad=True)
        x = T.arange(6, dtype=T.float64).reshape(3, 2).requires_grad_()
        y = x.index_fill(0, T.tensor(index), v)
        (y * T.arange(6, dtype=T.float64).reshape(3, 2)).sum().backward()
        return y, x.grad, v.grad
    same(torch, fn)


def test_index_fill_with_repeated_negative_index_forward(torch):
    same(torch, lambda T: T.zeros(4).index_fill(0, T.tensor([-1, 3, 0, -4]), 2.))


# --------------------------------------------------------------------------- defect 22
@pytest.mark.parametrize("xshape,ishape,dim", [
    ((2, 3), (2, 0), 1), ((0, 3), (1, 2), 1), ((1, 3), (0, 2), 1), ((2, 0), (2, 1), 0), ((2, 0), (1, 1), 0),
    ((1, 3), (2, 2), 1), ((2, 3), (1, 2), 1),
])
def test_take_along_dim_broadcasts_against_0_size_dims(torch, xshape, ishape, dim):
    same(torch, lambda T: T.take_along_dim(T.arange(float(np.prod(xshape))).reshape(xshape),
                                           T.zeros(ishape, dtype=T.int64), dim))


@pytest.mark.parametrize("xshape,ishape,dim", [
    ((2, 3), (2, 0), 1), ((0, 3), (0, 2), 1), ((2, 0), (1, 0), 0), ((2, 3), (0, 5), 0),
])
def test_gather_with_an_empty_index(torch, xshape, ishape, dim):
    same(torch, lambda T: T.gather(T.ones(xshape), dim, T.zeros(ishape, dtype=T.int64)))


# --------------------------------------------------------------------------- defect 24
@pytest.mark.parametrize("case", [
    lambda T: T.zeros(3).index_copy_(0, T.tensor([0, 1]), T.ones(1)),
    lambda T: T.zeros(3).index_copy_(0, T.tensor([0]), T.ones(2)),
    lambda T: T.zeros(3).index_fill_(0, T.tensor([[0]]), 1.),
    lambda T: T.tensor(1.).index_add_(0, T.tensor([0]), T.tensor([2.])),
    lambda T: T.tensor(1.).index_add_(0, T.tensor([0, 0]), T.tensor([2., 3.])),
    lambda T: T.zeros(3).index_add_(0, T.tensor([0, 1]), T.ones(1)),
    lambda T: T.zeros(3).index_add_(0, T.tensor([5]), T.ones(1)),
    lambda T: T.zeros(3).index_copy_(0, T.tensor([5]), T.ones(1)),
    lambda T: T.zeros(3).index_fill_(0, T.tensor([5]), 1.),
    lambda T: T.zeros(3).index_add_(0, T.tensor([[0]]), T.ones(1)),
    lambda T: T.zeros(3, 2).index_add_(1, T.tensor([2]), T.ones(3, 1)),
    lambda T: T.zeros(3, 2).index_add_(0, T.tensor([-4]), T.ones(1, 2)),
    lambda T: T.zeros(3, 2, 2).index_add_(1, T.tensor([5]), T.ones(3, 1, 2)),
    lambda T: T.zeros(3, 2, 2).index_add_(2, T.tensor([5]), T.ones(3, 2, 1)),
    lambda T: T.zeros(3, 2).index_copy_(1, T.tensor([1]), T.ones(3)),
    lambda T: T.zeros(3, 2).index_copy_(1, T.tensor(1), T.ones(3, 1, 1)),
    lambda T: T.zeros(3).index_copy_(0, T.tensor([1]), T.tensor(1.)),
    lambda T: T.zeros(3, 2).index_fill_(1, T.tensor([-3]), 1.),
])
def test_index_ops_bound_and_count_checks_raise_torch_types(torch, case):
    same(torch, case)


def test_index_add_on_0d_tensors(torch):
    same(torch, lambda T: T.tensor(1.).index_add_(0, T.tensor([0]), T.tensor(2.)))
    same(torch, lambda T: T.tensor(1.).index_copy_(0, T.tensor([0]), T.tensor([2.])))


# --------------------------------------------------------------------------- defect 26
@pytest.mark.parametrize("op", [
    lambda T, x, v: x.index_fill(0, T.tensor([0]), v), lambda T, x, v: x.index_fill_(0, T.tensor([0]), v),
    lambda T, x, v: x.masked_fill(T.tensor(True), v), lambda T, x, v: x.masked_fill_(T.tensor(True), v),
    lambda T, x, v: x.scatter(0, T.tensor([0]), v), lambda T, x, v: x.scatter_(0, T.tensor([0]), v),
])
@pytest.mark.parametrize("dtype,value", [
    ("int64", float("nan")), ("float16", 1e10), ("int32", 2 ** 40), ("uint8", 300), ("uint8", -1),
    ("int64", 1.5),
    ("float16", float("inf")), ("bool", 2),
])
def test_fill_like_ops_check_the_value_range(torch, op, dtype, value):
    same(torch, lambda T: op(T, T.zeros(3, dtype=getattr(T, dtype)), value))


def test_index_fill_with_a_nan_tensor_into_int64(torch):
    same(torch, lambda T: T.zeros(3, dtype=T.int64).index_fill(0, T.tensor([0]), T.tensor(float("nan"))))


# --------------------------------------------------------------------------- defect 27
@pytest.mark.parametrize("op", [
    lambda T, d: d.index_fill_(0, T.tensor([1]), 5.),
    lambda T, d: d.index_add_(0, T.tensor([1]), T.ones(1)),
    lambda T, d: d.index_copy_(0, T.tensor([1]), T.full((1,), 7.)),
    lambda T, d: d.scatter_(0, T.tensor([1]), T.ones(1)),
    lambda T, d: d.scatter_add_(0, T.tensor([1]), T.ones(1)),
    lambda T, d: d.masked_fill_(T.tensor([True, False]), 5.),
    lambda T, d: d.put_(T.tensor([0]), T.full((1,), 4.)),
    lambda T, d: d.masked_scatter_(T.tensor([False, True]), T.full((2,), 6.)),
])
def test_index_ops_write_through_the_diagonal_of_an_expanded_tensor(torch, op):
    def fn(T):
        b = T.tensor([[1.], [3.]])
        op(T, b.expand(2, 2).diagonal())
        return b
    same(torch, fn)


@pytest.mark.parametrize("op", [
    lambda T, e: e.index_add_(0, T.tensor([1]), T.ones(1)),
    lambda T, e: e.scatter_add_(0, T.tensor([1]), T.ones(1)),
    lambda T, e: e.index_copy_(0, T.tensor([1]), T.ones(1)),
    lambda T, e: e.put_(T.tensor([1]), T.ones(1)),
])
def test_index_ops_into_overlapping_memory_are_refused(torch, op):
    for T in (F, torch):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            op(T, T.zeros(1).expand(3))
