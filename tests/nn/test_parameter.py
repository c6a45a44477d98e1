"""``nn.Parameter`` and ``nn.Buffer`` against torch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
from tests.helpers import npv


def test_is_tensor_and_shares_memory():
    x = ferrum.zeros(3)
    p = fnn.Parameter(x)
    assert isinstance(p, ferrum.Tensor) and isinstance(p, fnn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    x[0] = 5.0
    assert float(p[0]) == 5.0
    assert fnn.Parameter(x, requires_grad=False).requires_grad is False


def test_repr_matches_torch(torch):
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    for rg in (True, False):
        fp = fnn.Parameter(ferrum.tensor(x), requires_grad=rg)
        tp = torch.nn.Parameter(torch.tensor(x), requires_grad=rg)
        assert repr(fp) == repr(tp)
        assert str(fp) == str(tp)
    fp = fnn.Parameter(ferrum.tensor(x, dtype=ferrum.float64))
    tp = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
    assert repr(fp).replace("ferrum.", "torch.") == repr(tp)


def test_empty_parameter(torch):
    fp, tp = fnn.Parameter(), torch.nn.Parameter()
    assert tuple(fp.shape) == tuple(tp.shape) and fp.requires_grad == tp.requires_grad
    assert str(fp.dtype).split(".")[1] == str(tp.dtype).split(".")[1]


def test_ops_give_plain_tensors():
    p = fnn.Parameter(ferrum.ones(2, 2))
    for out in (p * 2, p + p, p.sum(), p[0], p.T, p.reshape(4), p.detach(), p.clone(), -p, p @ p,
                p.data):
        assert type(out) is ferrum.Tensor, type(out)
    assert type(p.to(ferrum.float64)) is ferrum.Tensor


def test_data_inplace_updates():
    p = fnn.Parameter(ferrum.ones(3))
    (p * 2).sum().backward()
    p.data.add_(p.grad, alpha=-0.5)
    np.testing.assert_array_equal(npv(p), np.zeros(3, np.float32))
    assert p.is_leaf and p.requires_grad
    p.data = ferrum.full((3,), 4.0)
    assert isinstance(p, fnn.Parameter) and float(p[1]) == 4.0
    with ferrum.no_grad():
        p.mul_(0.5)
    assert float(p[0]) == 2.0


def test_inplace_on_leaf_parameter_raises(torch):
    p = fnn.Parameter(ferrum.ones(2))
    with pytest.raises(RuntimeError):
        p.add_(1)
    tp = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(RuntimeError):
        tp.add_(1)


def test_parameter_of_parameter():
    inner = fnn.Parameter(ferrum.ones(2))
    outer = fnn.Parameter(inner)
    assert type(outer) is fnn.Parameter and outer is not inner
    with ferrum.no_grad():
        inner[0] = 3.0
    assert float(outer[0]) == 3.0
    assert fnn.Parameter(inner, requires_grad=False).requires_grad is False


def test_parameter_rejects_non_tensor(torch):
    with pytest.raises(TypeError):
        fnn.Parameter([1.0, 2.0])


class MyParam(fnn.Parameter):
    pass


def test_default_dtype_and_subclass_copy():
    ferrum.set_default_dtype(ferrum.float64)
    try:
        assert fnn.Parameter().dtype == ferrum.float64
    finally:
        ferrum.set_default_dtype(ferrum.float32)

    p = MyParam(ferrum.ones(2))
    assert type(copy.deepcopy(p)) is MyParam
    assert type(pickle.loads(pickle.dumps(p))) is MyParam


def test_parameter_from_non_leaf():
    x = ferrum.ones(2, requires_grad=True)
    p = fnn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    np.testing.assert_array_equal(npv(p), [2.0, 2.0])


def test_integer_parameter_requires_grad_false(torch):
    with pytest.raises(RuntimeError):
        torch.nn.Parameter(torch.ones(2, dtype=torch.int64))
    with pytest.raises(RuntimeError):
        fnn.Parameter(ferrum.ones(2, dtype=ferrum.int64))
    p = fnn.Parameter(ferrum.ones(2, dtype=ferrum.int64), requires_grad=False)
    assert p.dtype == ferrum.int64


@pytest.mark.parametrize("rg", [True, False])
def test_deepcopy_and_pickle(rg):
    p = fnn.Parameter(ferrum.arange(4.0), requires_grad=rg)
    if rg:
        p.grad = ferrum.ones(4)
    for c in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(c) is fnn.Parameter and c.requires_grad == rg
        np.testing.assert_array_equal(npv(c), npv(p))
        c.detach()[0] = 9.0
        assert float(p[0]) == 0.0
    assert copy.deepcopy(p).grad is None  # as in torch: data copied, grad not
    d = copy.deepcopy({"a": p, "b": p})
    assert d["a"] is d["b"]


def test_grad_flows_and_parameter_in_graph():
    p = fnn.Parameter(ferrum.tensor([1.0, 2.0]))
    y = (p ** 2).sum()
    y.backward()
    np.testing.assert_array_equal(npv(p.grad), [2.0, 4.0])
    assert type(p.grad) is ferrum.Tensor


def test_buffer_marker(torch):
    for lib in (ferrum, torch):
        b = lib.nn.Buffer(lib.ones(2), persistent=False)
        assert isinstance(b, lib.Tensor) and isinstance(b, lib.nn.Buffer) and b.persistent is False
        assert type(b) is lib.Tensor
        assert not isinstance(lib.ones(1), lib.nn.Buffer)
        m = lib.nn.Module()
        m.b = b
        assert m.b is b and "b" not in m.state_dict()
        assert "b" in dict(m.named_buffers())
        g = lib.nn.Buffer(lib.ones(2, requires_grad=True))
        assert g.requires_grad and g.is_leaf
        m.g = g
        assert m.g is g and list(m.state_dict()) == ["g"]
        m.x = 5
        with pytest.raises(KeyError):
            m.x = lib.nn.Buffer(lib.ones(1))
        with pytest.raises(TypeError):
            m.g = 5
    assert tuple(fnn.Buffer().shape) == tuple(torch.nn.Buffer().shape) == (0,)
