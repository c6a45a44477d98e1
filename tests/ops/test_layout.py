"""The memory-layout protocol of ops/_layout.py: column-major hidden outputs in the fused Sequential
path, and the rule "a node that receives a column-major operand returns its gradient column-major"."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.ops._layout import colmajor_matmul_t, is_colmajor_2d, zeros_like_layout
from ferrum.ops.activation import _relu_owned
from ferrum.ops.linear import AddmmBackward0, _linear


def _t(a, grad=False):
    t = ferrum.from_numpy(a)
    return t.requires_grad_() if grad else t


def test_is_colmajor_2d():
    a = np.zeros((4, 3), np.float32)
    assert not is_colmajor_2d(a)
    assert is_colmajor_2d(a.T.copy().T) and is_colmajor_2d(np.asfortranarray(a))
    assert not is_colmajor_2d(np.zeros((1, 5)).T)  # a single row/column counts as C-ordered
    assert not is_colmajor_2d(np.zeros(5)) and not is_colmajor_2d(np.zeros((2, 3, 4)).T)
    assert not is_colmajor_2d(a[:, ::2])  # neither layout


def test_colmajor_matmul_t_is_the_product_in_column_major():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((5, 7)), rng.standard_normal((3, 7))
    r = colmajor_matmul_t(w, x)
    assert is_colmajor_2d(r)
    np.testing.assert_allclose(r, x @ w.T, rtol=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
def test_zeros_like_layout_matches_layout(order):
    a = np.ones((64, 48), np.float32, order=order)
    z = zeros_like_layout(a, np.float32(0))
    assert z.shape == a.shape and z.dtype == a.dtype and not z.any()
    assert z.flags.f_contiguous if order == "F" else z.flags.c_contiguous
    assert not z.flags.writeable


@pytest.mark.parametrize("colmajor", [False, True])
def test_linear_gradient_follows_input_layout(colmajor):
    """The rule on AddmmBackward0: a column-major x gets a column-major gradient, a C-ordered x a
    C-ordered one; the values do not depend on the layout."""
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((6, 5))
    x = _t(np.asfortranarray(xa) if colmajor else xa, grad=True)
    w = _t(rng.standard_normal((4, 5)), grad=True)
    b = _t(rng.standard_normal(4), grad=True)
    y = ferrum.nn.functional.linear(x, w, b)
    node = y.grad_fn
    assert isinstance(node, AddmmBackward0) and node.x_colmajor is colmajor
    g = rng.standard_normal((6, 4))
    gx, gw, gb = node.backward(g)
    assert is_colmajor_2d(gx) is colmajor
    np.testing.assert_allclose(gx, g @ w._data, rtol=1e-12)
    assert gw.flags.c_contiguous  # a parameter's gradient is C-ordered like the parameter
    np.testing.assert_allclose(gw, g.T @ xa, rtol=1e-12)
    np.testing.assert_allclose(gb, g.sum(0), rtol=1e-12)


def test_fused_sequential_hidden_layers_are_colmajor_end_to_end():
    """The fused path's hidden outputs are column-major, the ReLU written into them keeps that, and
    the gradient that arrives back at a hidden output is column-major too (the rule applied by
    the next layer's AddmmBackward0 and by ReLU's backward); the model's output is C-ordered."""
    rng = np.random.default_rng(2)
    x = _t(rng.standard_normal((8, 6)).astype(np.float32))
    w1, b1 = _t(rng.standard_normal((5, 6)).astype(np.float32), True), _t(np.zeros(5, np.float32), True)
    w2, b2 = _t(rng.standard_normal((3, 5)).astype(np.float32), True), _t(np.zeros(3, np.float32), True)
    h = _linear(x, w1, b1, True)
    assert is_colmajor_2d(h._data)
    seen = []
    h.register_hook(lambda g: seen.append(g._data))
    a = _relu_owned(h)
    assert is_colmajor_2d(a._data)
    out = _linear(a, w2, b2, False)
    assert out._data.flags.c_contiguous
    out.sum().backward()
    assert len(seen) == 1 and is_colmajor_2d(seen[0])
    assert w1.grad._data.flags.c_contiguous and w2.grad._data.flags.c_contiguous
    # the same values as C-ordered composed ops
    xr = x._data.astype(np.float64)
    hr = xr @ w1._data.T.astype(np.float64)
    gh = np.ones((8, 3)) @ w2._data.astype(np.float64) * (hr > 0)
    np.testing.assert_allclose(w1.grad._data, gh.T @ xr, rtol=1e-4, atol=1e-4)


def test_sequential_mlp_grads_match_plain_modules_in_float32():
    nn = ferrum.nn
    ferrum.manual_seed(0)
    m = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4))
    x = ferrum.randn(9, 20)
    m(x).square().sum().backward()
    fused = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    y = x
    for mod in m:
        y = mod(y)
    y.square().sum().backward()
    for a, p in zip(fused, m.parameters()):
        assert ferrum.allclose(a, p.grad, rtol=1e-5, atol=1e-5)
        assert p.grad.is_contiguous()
