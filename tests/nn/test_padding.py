"""Padding layers (nn/modules/padding.py) against torch: values, gradients, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

KINDS = ["ConstantPad", "ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad"]


def _make(lib, kind, nd, padding):
    cls = getattr(lib.nn, f"{kind}{nd}d")
    return cls(padding, 0.5) if kind == "ConstantPad" else cls(padding)


PADDINGS = {1: [2, (1, 0), (0, 3)], 2: [1, (1, 2, 0, 1)], 3: [1, (0, 1, 2, 0, 1, 1)]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("nd,padding", [(nd, p) for nd, ps in PADDINGS.items() for p in ps])
def test_matches_torch(torch, kind, nd, padding, batched, dtype):
    shape = (2, 3) + (4,) * nd if batched else (3,) + (4,) * nd
    x = np.random.default_rng(nd).standard_normal(shape)
    res = []
    for lib in (torch, ferrum):
        m = _make(lib, kind, nd, padding)
        t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        y = m(t)
        g = np.sin(np.arange(y.numel())).reshape(tuple(y.shape))
        y.backward(lib.tensor(g, dtype=getattr(lib, dtype)))
        res.append((y.detach().numpy(), t.grad.numpy(), repr(m).replace("torch", "ferrum")))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(res[1][0], res[0][0], **tol)
    np.testing.assert_allclose(res[1][1], res[0][1], **tol)  # the order of accumulation differs
    assert res[1][2] == res[0][2]


def test_class_tree_and_attributes(torch):
    z = ferrum.nn.ZeroPad2d(1)
    assert isinstance(z, ferrum.nn.ConstantPad2d) and z.value == 0.0 and z.padding == (1, 1, 1, 1)
    assert ferrum.nn.modules.padding.ReflectionPad2d is ferrum.nn.ReflectionPad2d
    assert ferrum.nn.ConstantPad3d(2, 1.0).padding == torch.nn.ConstantPad3d(2, 1.0).padding


def test_gradgradcheck():
    x = ferrum.randn(1, 2, 4, 4, dtype=ferrum.float64, requires_grad=True)
    nn = ferrum.nn
    for m in (nn.ReflectionPad2d((1, 2, 0, 1)), nn.ReplicationPad2d(1), nn.CircularPad2d(1)):
        assert ferrum.autograd.gradcheck(m, (x,))
        assert ferrum.autograd.gradgradcheck(m, (x,))


@pytest.mark.parametrize("case", [("ReflectionPad", 2, 3, (1, 1, 3, 3)), ("ReflectionPad", 2, 1, (3,)),
                                  ("CircularPad", 2, 1, (3, 3)), ("ZeroPad", 2, 1, (3,))])
def test_bad_input_same_exception_type(torch, case):
    kind, nd, padding, shape = case
    errs = []
    for lib in (torch, ferrum):
        with pytest.raises(Exception) as info:
            _make(lib, kind, nd, padding)(lib.ones(*shape))
        errs.append(type(info.value))
    assert errs[1] is errs[0]
