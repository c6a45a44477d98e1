"""Views whose base is modified in place (through another view, or directly) see the new graph."""

import numpy as np
import pytest

import ferrum as F


def _both(torch, fn):
    x = F.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    fn(F, x)
    fn(torch, xt)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_sibling_view_sees_inplace_through_other_view(torch):
    def f(lib, x):
        y = x * 2
        w = y[1:]
        y[2:].mul_(3)
        w.sum().backward()
    _both(torch, f)


def test_view_sees_inplace_on_base(torch):
    def f(lib, x):
        y = x * 1
        v = y.view(2, 2)
        y.mul_(5)
        (v * v).sum().backward()
    _both(torch, f)


def test_view_of_view_sees_inplace_on_base(torch):
    def f(lib, x):
        y = x * 3
        v = y.view(2, 2)[1]
        y.add_(1)
        v.sum().backward()
    _both(torch, f)


def test_view_made_before_and_after_changes(torch):
    def f(lib, x):
        y = x + 0
        a = y[:2]
        a.mul_(2)
        b = y[1:]
        b.add_(x[:3])
        (a.sum() + b.sum() * 2).backward()
    _both(torch, f)


def test_inplace_on_saved_output_still_raises():
    x = F.ones(4, requires_grad=True)
    y = x.exp()
    v = y.view(2, 2)[1]
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        v.sum().backward()


def test_view_of_leaf_modified_under_no_grad_keeps_working():
    x = F.ones(4, requires_grad=True)
    v = x[1:]
    with F.no_grad():
        x.mul_(2)
    v.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0]


def test_inplace_on_view_of_leaf_raises():
    x = F.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[1:].mul_(2)
