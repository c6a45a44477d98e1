"""ops/activation.py against torch 2.13 at the edges: 0-d inputs, NaN/inf inputs, the gradient
at kinks, the select (not multiply) in backward formulas, the one relu, and dtype errors.
(Values on ordinary inputs, every option and the modules are in tests/nn/test_activation.py.)"""

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

# (id, fn(functional, x)); the same lambda runs on torch and ferrum
ACTS = [
    ("relu", lambda f, x: f.relu(x)),
    ("relu6", lambda f, x: f.relu6(x)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.1)),
    ("leaky_relu_0", lambda f, x: f.leaky_relu(x, 0.0)),
    ("leaky_relu_neg", lambda f, x: f.leaky_relu(x, -1.5)),
    ("elu", lambda f, x: f.elu(x)),
    ("selu", lambda f, x: f.selu(x)),
    ("celu", lambda f, x: f.celu(x, 2.0)),
    ("gelu", lambda f, x: f.gelu(x)),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f, x: f.silu(x)),
    ("mish", lambda f, x: f.mish(x)),
    ("softplus", lambda f, x: f.softplus(x)),
    ("softplus_beta", lambda f, x: f.softplus(x, 2.0, 1.0)),
    ("logsigmoid", lambda f, x: f.logsigmoid(x)),
    ("softsign", lambda f, x: f.softsign(x)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x)),
    ("hardswish", lambda f, x: f.hardswish(x)),
    ("threshold", lambda f, x: f.threshold(x, 0.5, -2.0)),
    ("hardshrink", lambda f, x: f.hardshrink(x)),
    ("softshrink", lambda f, x: f.softshrink(x)),
    ("hardtanh", lambda f, x: f.hardtanh(x)),
    ("hardtanh_range", lambda f, x: f.hardtanh(x, -3.0, 3.0)),
    ("rrelu_eval", lambda f, x: f.rrelu(x)),
]
IDS = [c[0] for c in ACTS]

# the kinks and branch points of every activation above, and the special values
EDGES = [-math.inf, -6.0, -3.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 3.0, 6.0, 20.0, math.inf, math.nan]


def _run(lib, fn, values, dtype="float64"):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    y = fn(lib.nn.functional, x)
    y.backward(lib.ones_like(y))
    return y.detach().float().numpy(), x.grad.float().numpy()


@pytest.mark.parametrize("name,fn", ACTS, ids=IDS)
def test_values_and_gradients_at_kinks_and_special_values(torch, name, fn):
    # defects 20 (hardshrink/threshold/leaky_relu(inf, 0) forward), 28 (hardswish at +-3) and the
    # NaN branches of every piecewise gradient (PyTorch's `x <= t ? a : b` sends NaN to b)
    with np.errstate(all="ignore"):
        y, g = _run(ferrum, fn, EDGES)
    yt, gt = _run(torch, fn, EDGES)
    np.testing.assert_allclose(y, yt, rtol=1e-6, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(g, gt, rtol=1e-6, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name,fn", ACTS + [("prelu", lambda f, x: f.prelu(x, x.new_ones(1) * 0.25)),
                                            ("rrelu_train", None)],
                         ids=IDS + ["prelu", "rrelu_train"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zero_dim_input_forward_and_backward(torch, name, fn, dtype):
    # defect 3: NumPy turns 0-d arrays into scalars; gelu took the CuPy branch, elu & co raised
    # "return arrays must be of ArrayType"
    if name == "rrelu_train":
        x = ferrum.tensor(-1.0, dtype=getattr(ferrum, dtype), requires_grad=True)
        y = F.rrelu(x, training=True)
        y.backward()
        assert y.shape == () and y.dtype == x.dtype
        slope = x.grad.item()
        assert 1 / 8 <= slope <= 1 / 3 and y.item() == pytest.approx(-slope)
        return
    for v in (-1.0, 0.7, 2.0):
        x = ferrum.tensor(v, dtype=getattr(ferrum, dtype), requires_grad=True)
        xt = torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True)
        y, yt = fn(F, x), fn(torch.nn.functional, xt)
        assert y.shape == () and y.dtype == x.dtype
        y.backward()
        yt.backward()
        np.testing.assert_allclose(y.item(), yt.item(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.item(), xt.grad.item(), rtol=1e-6)


@pytest.mark.parametrize("name,fn", ACTS[:-1], ids=IDS[:-1])
def test_zero_dim_double_backward(name, fn):
    x = ferrum.tensor(-0.7, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda t: fn(F, t), (x,))
    assert gradgradcheck(lambda t: fn(F, t), (x,))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "tanhshrink"])
def test_zero_dim_backward_of_sigmoid_tanh_tanhshrink(torch, name):
    x = ferrum.tensor(-1.0, dtype=ferrum.float64, requires_grad=True)
    xt = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    getattr(F, name)(x).backward()
    getattr(torch.nn.functional, name)(xt).backward()
    np.testing.assert_allclose(x.grad.item(), xt.grad.item(), rtol=1e-12)


def test_prelu_nan_weight_does_not_reach_positive_inputs(torch):
    # the mask weakness: the gradient of positive inputs does not depend on the weight
    for lib, fn in ((ferrum, F.prelu), (torch, torch.nn.functional.prelu)):
        x = lib.tensor([0.6, 1.0, -2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([math.nan], dtype=lib.float64, requires_grad=True)
        fn(x, w).sum().backward()
        if lib is ferrum:
            got = (x.grad.numpy(), w.grad.numpy())
        else:
            want = (x.grad.numpy(), w.grad.numpy())
    np.testing.assert_array_equal(got[0], want[0])  # [1, 1, nan]
    np.testing.assert_array_equal(got[1], want[1])


def test_prelu_per_channel_matches_torch_and_gradchecks(torch):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.array([0.1, -0.5, 2.0])
    x, wf = ferrum.tensor(a, requires_grad=True), ferrum.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, yt = F.prelu(x, wf), torch.nn.functional.prelu(xt, wt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    y.backward(ferrum.ones_like(y))
    yt.backward(torch.ones_like(yt))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(wf.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    assert y.grad_fn.name() == type(yt.grad_fn).__name__ == "PreluKernelBackward0"
    assert gradcheck(F.prelu, (x, wf))
    assert gradgradcheck(F.prelu, (x, wf))


_PIECEWISE = ("relu", "hardtanh", "threshold", "hardshrink", "softshrink", "hardsigmoid", "hardswish")


@pytest.mark.parametrize("name,fn", [c for c in ACTS if c[0] in _PIECEWISE], ids=list(_PIECEWISE))
def test_nan_incoming_gradient_selected_away_where_the_derivative_is_zero(torch, name, fn):
    vals = [-5.0, -0.1, 0.2, 0.9, 5.0]
    res = []
    for lib in (ferrum, torch):
        x = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        fn(lib.nn.functional, x).backward(lib.tensor([math.nan] * 5, dtype=lib.float64))
        res.append(x.grad.numpy())
    np.testing.assert_array_equal(res[0], res[1])


def test_select_gradient_keeps_dtype_and_layout():
    for dt in (ferrum.float16, ferrum.bfloat16, ferrum.float32):
        x = ferrum.tensor([[-1.0, 2.0], [3.0, -4.0]], dtype=dt).t().requires_grad_()
        F.relu(x).backward(ferrum.ones(2, 2, dtype=dt))
        assert x.grad.dtype == dt
        np.testing.assert_array_equal(x.grad.float().numpy(), [[0, 1], [1, 0]])


def test_relu_is_self_contained_with_torch_errors(torch):
    # F.relu is the one relu (torch.relu and Tensor.relu point to it): every dtype torch accepts
    for dt in ("int64", "int8", "uint8", "float16", "bfloat16", "float32", "float64"):
        a = [3, 0, 1] if dt == "uint8" else [3, -2, 1]
        y = F.relu(ferrum.tensor(a, dtype=getattr(ferrum, dt)))
        yt = torch.relu(torch.tensor(a, dtype=getattr(torch, dt)))
        assert str(y.dtype).split(".")[1] == str(yt.dtype).split(".")[1]
        np.testing.assert_array_equal(y.float().numpy(), yt.float().numpy())
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        F.relu(ferrum.tensor([True, False]))
    with pytest.raises(NotImplementedError):
        F.relu(ferrum.tensor([1 + 1j]))
    with pytest.raises(TypeError, match="relu"):
        F.relu(1.0)
    x = ferrum.tensor(-2.0, requires_grad=True)
    y = F.relu(x)
    assert y.shape == () and y.grad_fn.name() == "ReluBackward0"


def test_relu_inplace_on_zero_dim_and_bool():
    x = ferrum.tensor(-2.0)
    assert F.relu_(x) is x and x.item() == 0.0
    with pytest.raises(RuntimeError):
        F.relu_(ferrum.tensor([True]))


@pytest.mark.parametrize("call,exc", [
    (lambda lib: lib.nn.functional.hardtanh(lib.tensor([True, False])), RuntimeError),
    (lambda lib: lib.nn.functional.hardtanh(lib.tensor([1, 2], dtype=lib.uint8)), RuntimeError),
    (lambda lib: lib.nn.functional.threshold(lib.tensor([True, False]), 0, 1), NotImplementedError),
    (lambda lib: lib.nn.functional.glu(lib.tensor([1, 2])), NotImplementedError),
    (lambda lib: lib.nn.functional.gelu(lib.tensor([1, 2])), NotImplementedError),
    (lambda lib: lib.nn.functional.glu(lib.tensor(2.0)), RuntimeError),
], ids=["hardtanh_bool", "hardtanh_uint8_negative_bound", "threshold_bool", "glu_int", "gelu_int", "glu_0d"])
def test_integer_and_bool_inputs_raise_as_torch(torch, call, exc):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc):
        call(ferrum)


@pytest.mark.parametrize("name,fn", ACTS, ids=IDS)
def test_empty_input(torch, name, fn):
    x = ferrum.zeros(0, 3, dtype=ferrum.float64, requires_grad=True)
    y = fn(F, x)
    y.sum().backward()
    assert y.shape == (0, 3) and x.grad.shape == (0, 3)


def test_gelu_float32_fast_path_matches_torch_on_a_dense_grid(torch):
    # float32 GELU computes Phi as 0.5 + 0.5 tanh(x R(x^2)) (ferrum/_special.py): values and gradients
    # on a dense grid, at the edges (+-inf, NaN, huge, tiny, denormal) and through a 0-d input
    grid = np.linspace(-12, 12, 200001, dtype=np.float32)
    edges = np.array(EDGES + [1e-30, -1e-30, 1e-40, 1e30, -1e30, 1e38, -1e38], np.float32)
    edges = edges[edges != np.inf]  # torch gives NaN for gelu(inf), ferrum inf (registry: the same)
    g = np.random.default_rng(0).standard_normal(grid.size + edges.size).astype(np.float32)
    a = np.concatenate([grid, edges])
    x = ferrum.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        y = F.gelu(x)
        y.backward(ferrum.tensor(g))
    yt = torch.nn.functional.gelu(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=2e-6, equal_nan=True)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=2e-6, equal_nan=True)
    x0 = ferrum.tensor(np.float32(0.7), requires_grad=True)
    y0 = F.gelu(x0)
    y0.backward()
    assert y0.shape == () and x0.grad.shape == ()
    np.testing.assert_allclose(y0.item(), torch.nn.functional.gelu(torch.tensor(np.float32(0.7))).item(),
                               rtol=1e-6)


def test_gelu_float32_halves_equal_one_call():
    # from NORM_MIN_SIZE (1M) elements the float32 GELU runs in two halves on two threads: the one
    # call's result
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((1 << 20) + 1) * 4).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    out = []
    prev = ferrum.get_num_threads()
    for threads in (2, 1):
        ferrum.set_num_threads(threads)
        try:
            x = ferrum.tensor(a, requires_grad=True)
            y = F.gelu(x)
            y.backward(ferrum.tensor(g))
            out.append((y.detach().numpy(), x.grad.numpy()))
        finally:
            ferrum.set_num_threads(prev)
    for p, q in zip(*out):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
