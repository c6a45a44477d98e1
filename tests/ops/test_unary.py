"""ops/unary.py: logit's gradient, rounding on integer and half types, clone's strides, relu being
the activation's, nan_to_num's gradient, against torch (broad tables are in test_elementwise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.ops import unary

nan, inf = math.nan, math.inf


def _grad(T, fn, x, **kw):
    t = T.tensor(x, dtype=T.float64, requires_grad=True)
    getattr(T, fn)(t, **kw).backward(T.ones(len(x), dtype=T.float64))
    return t.grad.tolist()


@pytest.mark.parametrize("eps", [None, 0.0, 0.1])
def test_logit_gradient_at_and_outside_the_domain(torch, eps):
    # defect 21: outside [0, 1] torch gives nan (no eps) or 0 (eps); at 0 and 1 +-inf
    x = [-2.0, 0.0, 0.05, 0.5, 1.0, 1.5, 0.95]
    assert np.array_equal(
        np.array(_grad(ferrum, "logit", x, eps=eps)),
        np.array(_grad(torch, "logit", x, eps=eps)),
        equal_nan=True,
    )
    f = ferrum.logit(ferrum.tensor(x), eps=eps)
    t = torch.logit(torch.tensor(x), eps=eps)
    np.testing.assert_allclose(np.array(f.tolist()), np.array(t.tolist()), rtol=1e-6)
    assert (
        f.grad_fn is None
        and ferrum.logit(ferrum.tensor(x, requires_grad=True)).grad_fn.name() == "LogitBackward0"
    )


def test_logit_gradgradcheck():
    x = ferrum.tensor([0.2, 0.6], dtype=ferrum.float64, requires_grad=True)
    assert ferrum.autograd.gradgradcheck(ferrum.logit, (x,))


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.frac(T.tensor([1, 2])),
        lambda T: T.round(T.tensor([15, 25]), decimals=-1),
        lambda T: T.round(T.tensor([True]), decimals=1),
        lambda T: T.round(T.tensor([True])),
    ],
)
def test_frac_and_round_decimals_refuse_integers(torch, call):
    # defect 26 (accepted) and 23 (round on bool gave NumPy's UFuncTypeError)
    with pytest.raises(NotImplementedError):
        call(torch)
    with pytest.raises(NotImplementedError):
        call(ferrum)


def test_round_without_decimals_keeps_integers(torch):
    assert ferrum.round(ferrum.tensor([15, 25])).tolist() == torch.round(torch.tensor([15, 25])).tolist()


@pytest.mark.parametrize(
    "dt,x,d",
    [
        ("bfloat16", [-2.65625, 1.234, 100.5], 1),
        ("float16", [2.65625, -0.123], 2),
        ("float32", [2.675, -1.005], 2),
    ],
)
def test_round_decimals_on_half_types_computes_in_float32(torch, dt, x, d):
    # defect 33
    f = ferrum.round(ferrum.tensor(x, dtype=getattr(ferrum, dt)), decimals=d)
    t = torch.round(torch.tensor(x, dtype=getattr(torch, dt)), decimals=d)
    assert f.dtype is getattr(ferrum, dt) and f.tolist() == t.tolist()


def test_relu_on_bool_raises_like_torch(torch):
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        torch.relu(torch.tensor([True]))
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        ferrum.relu(ferrum.tensor([True]))


def test_relu_is_the_activation_relu():
    # issue part 4: torch.relu, Tensor.relu and F.relu record the same node
    from ferrum.ops import activation, elementwise

    assert ferrum.relu is activation.relu is elementwise.relu is F.relu
    x = ferrum.tensor([-1.0, 2.0], requires_grad=True)
    nodes = {type(ferrum.relu(x).grad_fn), type(x.relu().grad_fn), type(F.relu(x).grad_fn)}
    assert len(nodes) == 1 and ferrum.relu(x).grad_fn.name() == "ReluBackward0"
    y = ferrum.relu(ferrum.tensor([-1.0, 2.0], dtype=ferrum.bfloat16, requires_grad=True))
    assert y.tolist() == [0.0, 2.0] and y.grad_fn.name() == "ReluBackward0"
    assert "relu" not in unary.__all__


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.ones(2, 3).t(),
        lambda T: T.ones(2, 3, 4).permute(2, 0, 1),
        lambda T: T.ones(4, 6)[::2, ::3],
        lambda T: T.ones(3, 1).expand(3, 4),
        lambda T: T.ones(2, 3),
        lambda T: T.ones(2, 1, 3).transpose(0, 2),
    ],
)
def test_clone_preserves_strides_of_dense_inputs(torch, make):
    # defect 35: clone() always made a C-contiguous copy; torch's preserve_format keeps dense strides
    itemsize = 4
    f = make(ferrum).clone()
    t = make(torch).clone()
    assert tuple(s // itemsize for s in f._data.strides) == t.stride()
    assert f.tolist() == t.tolist()
    g = make(ferrum).clone(memory_format="contiguous_format")
    assert g._data.flags.c_contiguous


def test_nan_to_num_gradient_selects():
    x = ferrum.tensor([nan, 1.0, inf], dtype=ferrum.float64, requires_grad=True)
    ferrum.nan_to_num(x).backward(ferrum.tensor([1.0, 2.0, nan], dtype=ferrum.float64))
    assert x.grad.tolist() == [0.0, 2.0, 0.0]
    assert ferrum.nan_to_num(x).grad_fn.name() == "NanToNumBackward0"


def test_unary_table_flags_are_keywords():
    import inspect

    params = inspect.signature(unary._unary_op).parameters
    assert all(
        params[p].kind is inspect.Parameter.KEYWORD_ONLY
        for p in ("save_x", "save_y", "float_only", "bool_ok")
    )
    x = ferrum.tensor([0.5, 2.0], dtype=ferrum.float64, requires_grad=True)
    for fn in (ferrum.sinh, ferrum.cosh, ferrum.tanh, ferrum.exp):
        assert ferrum.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_piecewise_constant_gradients_are_zeros_even_for_nan_grads(torch, name):
    x = ferrum.tensor([0.5, -1.5], dtype=ferrum.float64, requires_grad=True)
    getattr(ferrum, name)(x).backward(ferrum.tensor([nan, inf], dtype=ferrum.float64))
    tx = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(tx).backward(torch.tensor([nan, inf], dtype=torch.float64))
    assert x.grad.tolist() == (tx.grad + 0).tolist() == [0.0, 0.0]
    y = ferrum.tensor([0.25, 0.75], dtype=ferrum.float64, requires_grad=True)
    ferrum.round(y, decimals=1).backward(ferrum.tensor([nan, 1.0], dtype=ferrum.float64))
    assert y.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "sqrt"])
def test_backward_of_0d_tensors(torch, name):
    # defect 3 (the unary part): the raw-array backward wrote into a NumPy scalar
    x = ferrum.tensor(0.3, dtype=ferrum.float64, requires_grad=True)
    getattr(ferrum, name)(x).backward()
    tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(tx).backward()
    assert x.grad.shape == () and x.grad.item() == pytest.approx(tx.grad.item(), rel=1e-12)
