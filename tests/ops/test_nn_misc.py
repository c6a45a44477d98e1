"""ops/nn_misc.py against torch 2.13 at the edges: pdist with NaN and p = 0, pdist of empty rows,
node names of pad and dropout. (Values over every option are in tests/nn/test_nn_misc.py.)"""

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F


@pytest.mark.parametrize("p", [0, 1, 2, 0.5, 3, math.inf])
def test_pdist_propagates_nan(torch, p):
    # defect 20: with p = 0 a NaN coordinate was counted as one differing coordinate
    a = [[math.nan, 1.0], [2.0, 1.0], [3.0, 3.0]]
    y = F.pdist(ferrum.tensor(a, dtype=ferrum.float64), p)
    yt = torch.nn.functional.pdist(torch.tensor(a, dtype=torch.float64), p)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-12, equal_nan=True)


def test_pdist_p0_counts_differences_with_zero_gradient(torch):
    a = [[0.0, 1.0, 2.0], [0.0, 1.5, -2.0], [1.0, 1.0, 2.0]]
    res = []
    for lib in (ferrum, torch):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.pdist(x, 0)
        y.sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])


@pytest.mark.parametrize("p", [0, 1, 2, 0.5, math.inf])
@pytest.mark.parametrize("shape", [(3, 0), (1, 3), (0, 0), (1, 0)], ids=str)
def test_pdist_of_empty_rows_or_one_row(torch, p, shape):
    # defect 22: pdist(p=inf) of rows with no elements raised (torch: distance 0)
    res = []
    for lib in (ferrum, torch):
        x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.pdist(x, p)
        y.sum().backward()
        res.append((y.detach().numpy(), tuple(x.grad.shape)))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    assert res[0][1] == res[1][1]


def test_pad_and_dropout_node_names(torch):
    x = ferrum.randn(2, 3, requires_grad=True)
    y = F.pad(x, (1, 1))
    assert y.grad_fn.name() == "ConstantPadNdBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    d = F.dropout(x, 0.5)
    assert d.grad_fn.name() == "NativeDropoutBackward0"


def test_pdist_inf_gives_every_tied_coordinate_the_whole_gradient(torch):
    # a kink convention: torch's kernel does not split the gradient between tied maxima
    a = [[1.0, 1.0], [0.0, 0.0], [2.0, 3.0]]
    res = []
    for lib in (ferrum, torch):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.pdist(x, math.inf)
        y.sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    x = ferrum.randn(4, 3, dtype=ferrum.float64, requires_grad=True)
    assert ferrum.autograd.gradcheck(lambda t: F.pdist(t, math.inf), (x,))
    assert ferrum.autograd.gradgradcheck(lambda t: F.pdist(t, math.inf), (x,))


def test_pdist_inf_of_infinite_coordinates(torch):
    a = [[-math.inf, -math.inf], [-2.0, -2.0], [1.0, math.inf]]
    y = F.pdist(ferrum.tensor(a, dtype=ferrum.float64), math.inf)
    yt = torch.nn.functional.pdist(torch.tensor(a, dtype=torch.float64), math.inf)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
