"""ops/pixel_shuffle.py against torch 2.13: values over ranks, factors and dtypes, gradients (each
op's backward is the other), gradcheck and gradgradcheck, a fresh contiguous result, errors, and
empty inputs (where ferrum keeps the correct shape and torch's pixel_unshuffle does not)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

CASES = [((2, 8, 2, 3), 2), ((9, 2, 2), 3), ((2, 1, 4, 1, 2), 2), ((3, 2, 2), 1), ((1, 18, 1, 2), 3)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape,r", CASES, ids=str)
def test_shuffle_and_unshuffle_match_torch(torch, shape, r, dtype):
    a = np.random.default_rng(0).standard_normal(shape) > 0 if dtype == "bool" else \
        np.arange(np.prod(shape)).reshape(shape)
    x = ferrum.tensor(a).to(getattr(ferrum, dtype))
    xt = torch.tensor(a).to(getattr(torch, dtype))
    y = ferrum.pixel_shuffle(x, r)
    yt = torch.pixel_shuffle(xt, r)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    u = F.pixel_unshuffle(y, r)
    np.testing.assert_array_equal(u.numpy(), torch.nn.functional.pixel_unshuffle(yt, r).numpy())
    np.testing.assert_array_equal(u.numpy(), x.numpy())
    assert y.dtype == x.dtype and y.is_contiguous()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["pixel_shuffle", "pixel_unshuffle"])
def test_gradients_match_torch(torch, op, dtype):
    shape = (2, 8, 2, 4) if op == "pixel_shuffle" else (2, 2, 4, 6)
    a = np.random.default_rng(1).standard_normal(shape)
    res = []
    for T in (ferrum, torch):
        x = T.tensor(a, dtype=getattr(T, dtype), requires_grad=True)
        y = getattr(T.nn.functional, op)(x, 2)
        y.backward(T.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=getattr(T, dtype)))
        res.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    assert res[0][2] == res[1][2]


@pytest.mark.parametrize("op", ["pixel_shuffle", "pixel_unshuffle"])
def test_gradcheck_and_gradgradcheck(op):
    shape = (1, 8, 2, 3) if op == "pixel_shuffle" else (1, 2, 4, 2)
    x = ferrum.randn(*shape, dtype=ferrum.float64, requires_grad=True)

    def fn(t):
        return getattr(F, op)(t, 2) ** 2

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_non_contiguous_input(torch):
    a = np.random.default_rng(2).standard_normal((2, 4, 3, 8))
    y = F.pixel_shuffle(ferrum.tensor(a).transpose(1, 3), 2)
    yt = torch.nn.functional.pixel_shuffle(torch.tensor(a).transpose(1, 3), 2)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_result_does_not_share_memory():
    x = ferrum.randn(1, 4, 2, 2)
    y = F.pixel_shuffle(x, 1)
    y.add_(1)
    assert not np.array_equal(x.numpy(), y.numpy())


def test_empty_inputs(torch):
    assert tuple(F.pixel_shuffle(ferrum.ones(0, 4, 2, 2), 2).shape) == (0, 1, 4, 4)
    assert tuple(torch.pixel_shuffle(torch.ones(0, 4, 2, 2), 2).shape) == (0, 1, 4, 4)
    # torch 2.13 returns (0, 1, 2, 2) here; the inverse of pixel_shuffle's shape rule gives this
    assert tuple(F.pixel_unshuffle(ferrum.ones(0, 1, 2, 2), 2).shape) == (0, 4, 1, 1)
    x = ferrum.ones(0, 4, 2, 2, requires_grad=True)
    F.pixel_shuffle(x, 2).sum().backward()
    assert tuple(x.grad.shape) == (0, 4, 2, 2)


BAD = [("pixel_shuffle", (4, 4), 2), ("pixel_shuffle", (1, 3, 2, 2), 2), ("pixel_shuffle", (1, 4, 2, 2), 0),
       ("pixel_shuffle", (1, 4, 2, 2), -2), ("pixel_shuffle", (1, 4, 2, 2), 2.0),
       ("pixel_unshuffle", (4, 4), 2), ("pixel_unshuffle", (1, 3, 3, 4), 2),
       ("pixel_unshuffle", (1, 3, 4, 3), 2), ("pixel_unshuffle", (1, 3, 4, 4), 0),
       ("pixel_unshuffle", (1, 3, 4, 4), True)]


@pytest.mark.parametrize("op,shape,r", BAD, ids=[str(i) for i in range(len(BAD))])
def test_errors_match_torch(torch, op, shape, r):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            getattr(T, op)(T.zeros(shape), r)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), errs
    if isinstance(errs[0], RuntimeError):
        assert str(errs[1]) == str(errs[0])


def test_channel_shuffle_double_backward_and_inverse():
    x = ferrum.randn(2, 6, 3, dtype=ferrum.float64, requires_grad=True)
    assert ferrum.autograd.gradcheck(lambda t: ferrum.channel_shuffle(t, 3), (x,))
    assert ferrum.autograd.gradgradcheck(lambda t: ferrum.channel_shuffle(t, 2), (x,))
    y = ferrum.channel_shuffle(ferrum.channel_shuffle(x, 2), 3)  # by g, then by C/g: the identity
    assert ferrum.equal(y, x)
    assert ferrum.channel_shuffle(x, 2)._data.base is None or not np.shares_memory(
        ferrum.channel_shuffle(x, 2)._data, x._data)  # a fresh tensor, as torch's
