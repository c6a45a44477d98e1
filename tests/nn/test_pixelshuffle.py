"""PixelShuffle and PixelUnshuffle against torch 2.13: outputs and gradients over factors and
ranks, round trip, reprs, module paths, no state, and the errors raised at call time."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
from ferrum.autograd import gradcheck, gradgradcheck

CASES = [("PixelShuffle", 2, (2, 8, 3, 2)), ("PixelShuffle", 3, (9, 1, 2)), ("PixelShuffle", 1, (1, 2, 2, 2)),
         ("PixelShuffle", 2, (2, 1, 4, 2, 2)), ("PixelUnshuffle", 2, (2, 2, 4, 6)),
         ("PixelUnshuffle", 3, (1, 3, 3)), ("PixelUnshuffle", 2, (3, 1, 2, 2, 4))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,r,shape", CASES, ids=[f"{c}-{r}-{s}" for c, r, s in CASES])
def test_module_matches_torch(torch, cls, r, shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape)
    res = []
    for T in (ferrum, torch):
        m = getattr(T.nn, cls)(r)
        x = T.tensor(a, dtype=getattr(T, dtype), requires_grad=True)
        y = m(x)
        y.backward(T.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=getattr(T, dtype)))
        res.append((y.detach().numpy(), x.grad.numpy(), repr(m)))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    assert res[0][2] == res[1][2]


def test_round_trip_paths_and_state():
    from ferrum.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle

    assert nn.PixelShuffle is PixelShuffle and nn.PixelUnshuffle is PixelUnshuffle
    x = ferrum.randn(2, 3, 6, 4)
    u = PixelUnshuffle(2)
    np.testing.assert_array_equal(PixelShuffle(2)(u(x)).numpy(), x.numpy())
    assert u.downscale_factor == 2 and PixelShuffle(3).upscale_factor == 3
    assert list(u.parameters()) == [] and u.state_dict() == {}


def test_gradgradcheck_through_the_modules():
    x = ferrum.randn(1, 4, 2, 2, dtype=ferrum.float64, requires_grad=True)
    seq = nn.Sequential(nn.PixelShuffle(2), nn.Tanh(), nn.PixelUnshuffle(2))
    assert gradcheck(seq, (x,))
    assert gradgradcheck(seq, (x,))


BAD = [("PixelShuffle", 2, (1, 3, 2, 2)), ("PixelShuffle", 2, (4, 4)), ("PixelUnshuffle", 2, (1, 1, 3, 4)),
       ("PixelUnshuffle", 0, (1, 1, 4, 4))]


@pytest.mark.parametrize("cls,r,shape", BAD, ids=str)
def test_errors_match_torch(torch, cls, r, shape):
    errs = []
    for T in (torch, ferrum):
        m = getattr(T.nn, cls)(r)
        with pytest.raises(Exception) as e:
            m(T.zeros(shape))
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]) and str(errs[1]) == str(errs[0])


@pytest.mark.parametrize("groups,shape", [(2, (2, 4, 3, 3)), (3, (1, 6, 5)), (1, (2, 3, 2, 2, 2))])
def test_channel_shuffle_module_matches_torch(torch, groups, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    res = []
    for lib in (torch, ferrum):
        m = lib.nn.ChannelShuffle(groups)
        t = lib.tensor(x, requires_grad=True)
        y = m(t)
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(shape))).sum().backward()
        res.append((y.detach().numpy(), t.grad.numpy(), repr(m), y.grad_fn.name()))
    np.testing.assert_array_equal(res[1][0], res[0][0])
    np.testing.assert_array_equal(res[1][1], res[0][1])
    assert res[1][2:] == res[0][2:]
