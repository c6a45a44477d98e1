"""Activation functions and modules against torch: forward, input gradients, every option,
in-place variants, gradcheck + gradgradcheck, module reprs, errors."""

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

# points where some activation has a kink or a branch switch; test inputs stay away from them
_KINKS = np.array([0.0, 3.0, -3.0, 0.5, -0.5, 1.0, -1.0, 6.0, 0.1, 0.3, -0.3, 0.2, -0.2, 2.0, -2.0, 5.0,
                   -5.0])


def _away(shape, seed=0, scale=3.0):
    a = np.random.default_rng(seed).uniform(-scale, scale, shape)
    for k in _KINKS:
        a = np.where(np.abs(a - k) < 0.03, a + 0.07, a)
    return a


# (id, ferrum fn, torch fn); the functions take (F, x) so one lambda serves both frameworks
CASES = [
    ("relu", lambda f, x: f.relu(x)),
    ("relu6", lambda f, x: f.relu6(x * 3)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x)),
    ("leaky_relu_slope", lambda f, x: f.leaky_relu(x, 0.2)),
    ("leaky_relu_big_slope", lambda f, x: f.leaky_relu(x, -1.5)),
    ("elu", lambda f, x: f.elu(x)),
    ("elu_alpha", lambda f, x: f.elu(x, alpha=0.5)),
    ("elu_neg_alpha", lambda f, x: f.elu(x, alpha=-0.7)),
    ("selu", lambda f, x: f.selu(x)),
    ("celu", lambda f, x: f.celu(x)),
    ("celu_alpha", lambda f, x: f.celu(x, alpha=2.5)),
    ("gelu", lambda f, x: f.gelu(x)),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f, x: f.silu(x)),
    ("mish", lambda f, x: f.mish(x)),
    ("sigmoid", lambda f, x: f.sigmoid(x)),
    ("tanh", lambda f, x: f.tanh(x)),
    ("hardtanh", lambda f, x: f.hardtanh(x)),
    ("hardtanh_range", lambda f, x: f.hardtanh(x, -2.0, 0.5)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x * 2)),
    ("hardswish", lambda f, x: f.hardswish(x * 2)),
    ("softplus", lambda f, x: f.softplus(x)),
    ("softplus_beta", lambda f, x: f.softplus(x * 2, beta=2, threshold=10)),
    ("softplus_beta_half", lambda f, x: f.softplus(x, beta=0.5, threshold=1.0)),
    ("softsign", lambda f, x: f.softsign(x)),
    ("tanhshrink", lambda f, x: f.tanhshrink(x)),
    ("threshold", lambda f, x: f.threshold(x, 0.1, 20.0)),
    ("threshold_neg", lambda f, x: f.threshold(x, -1.0, -3.0)),
    ("softmin", lambda f, x: f.softmin(x, dim=1)),
    ("softmin0", lambda f, x: f.softmin(x, dim=0)),
    ("glu", lambda f, x: f.glu(x)),
    ("glu0", lambda f, x: f.glu(x, dim=0)),
    ("logsigmoid", lambda f, x: f.logsigmoid(x)),
    ("logsigmoid_big", lambda f, x: f.logsigmoid(x * 40)),
    ("hardshrink", lambda f, x: f.hardshrink(x)),
    ("hardshrink_l", lambda f, x: f.hardshrink(x, 0.3)),
    ("softshrink", lambda f, x: f.softshrink(x)),
    ("softshrink_l", lambda f, x: f.softshrink(x, 1.0)),
    ("rrelu_eval", lambda f, x: f.rrelu(x)),
    ("rrelu_eval_bounds", lambda f, x: f.rrelu(x, 0.1, 0.3, training=False)),
    ("softmax", lambda f, x: f.softmax(x, dim=1)),
    ("log_softmax", lambda f, x: f.log_softmax(x, dim=-1)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_and_grad_match_torch(torch, case, dtype):
    name, fn = case
    a = _away((4, 6)).astype(dtype)
    x = ferrum.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y = fn(F, x)
    yt = fn(torch.nn.functional, xt)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    if name == "hardsigmoid" and dtype == "float64":
        tol["rtol"] = 1e-7  # torch's kernel uses a float32 1/6 even for doubles
    assert y.dtype == getattr(ferrum, dtype)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    y.backward(ferrum.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_and_gradgradcheck(case):
    _, fn = case
    x = ferrum.tensor(_away((2, 4), seed=2), requires_grad=True)
    assert gradcheck(lambda t: fn(F, t), (x,))
    assert gradgradcheck(lambda t: fn(F, t), (x,))


def test_double_backward_matches_torch(torch):
    # second derivatives (create_graph path) against torch for the single-node activations
    a = _away((3, 5), seed=3)
    for name, kw in [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
                     ("elu", {"alpha": 0.7}), ("selu", {}), ("celu", {"alpha": 1.5}),
                     ("softplus", {"beta": 2.0}), ("logsigmoid", {}),
                     ("hardswish", {})]:
        x = ferrum.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        (gx,) = ferrum.autograd.grad(getattr(F, name)(x, **kw).sum(), x, create_graph=True)
        yt = getattr(torch.nn.functional, name)(xt, **kw)
        (gxt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
        (ggx,) = ferrum.autograd.grad((gx * gx).sum(), x)
        (ggxt,) = torch.autograd.grad((gxt * gxt).sum(), xt)
        np.testing.assert_allclose(ggx.numpy(), ggxt.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


INPLACE = [
    ("relu", lambda f, x: f.relu(x, inplace=True)),
    ("relu_", lambda f, x: f.relu_(x)),
    ("relu6", lambda f, x: f.relu6(x, inplace=True)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.1, inplace=True)),
    ("leaky_relu_", lambda f, x: f.leaky_relu_(x, 0.1)),
    ("elu", lambda f, x: f.elu(x, 0.5, inplace=True)),
    ("elu_", lambda f, x: f.elu_(x)),
    ("selu", lambda f, x: f.selu(x, inplace=True)),
    ("celu", lambda f, x: f.celu(x, 2.0, inplace=True)),
    ("silu", lambda f, x: f.silu(x, inplace=True)),
    ("mish", lambda f, x: f.mish(x, inplace=True)),
    ("hardtanh", lambda f, x: f.hardtanh(x, -0.5, 2.0, inplace=True)),
    ("hardtanh_", lambda f, x: f.hardtanh_(x)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x, inplace=True)),
    ("hardswish", lambda f, x: f.hardswish(x, inplace=True)),
    ("threshold", lambda f, x: f.threshold(x, 0.1, 2.0, inplace=True)),
    ("threshold_", lambda f, x: f.threshold_(x, 0.1, 2.0)),
    ("rrelu", lambda f, x: f.rrelu(x, inplace=True)),
]


@pytest.mark.parametrize("case", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_matches_torch(torch, case):
    _, fn = case
    a = _away((3, 4), seed=4).astype(np.float32)
    # without autograd: the tensor itself is modified and returned
    x = ferrum.tensor(a)
    xt = torch.tensor(a)
    v0 = x._version[0]
    r = fn(F, x)
    fn(torch.nn.functional, xt)
    assert r is x and x._version[0] > v0
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-6, atol=1e-7)
    # with autograd: in place on a non-leaf, gradient flows to the leaf
    x = ferrum.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y = x * 1.5
    yt = xt * 1.5
    fn(F, y)
    fn(torch.nn.functional, yt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-7)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ferrum.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(x, inplace=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu_(x)


def test_relu_is_ferrum_relu_and_keeps_int_dtype(torch):
    a = np.array([-2, 0, 3], dtype=np.int64)
    assert F.relu(ferrum.tensor(a)).tolist() == [0, 0, 3]
    assert F.relu(ferrum.tensor(a)).dtype == ferrum.int64
    assert F.hardtanh(ferrum.tensor(a)).tolist() == torch.nn.functional.hardtanh(torch.tensor(a)).tolist()
    assert F.relu6(ferrum.tensor(a * 4)).tolist() == [0, 0, 6]
    r = F.threshold(ferrum.tensor(a), 1, 20)
    assert r.dtype == ferrum.int64 and r.tolist() == [20, 20, 3]
    x = ferrum.randn(3, requires_grad=True)
    assert F.relu(x).grad_fn.name() == "ReluBackward0"


@pytest.mark.parametrize("name", ["gelu", "elu", "leaky_relu", "silu", "softplus", "mish", "logsigmoid",
                                  "hardshrink", "hardsigmoid", "hardswish", "selu", "celu", "softshrink"])
def test_integer_input_not_implemented(name):
    with pytest.raises(NotImplementedError, match="Long"):
        getattr(F, name)(ferrum.arange(3))


def test_type_errors():
    with pytest.raises(TypeError):
        F.gelu([1.0, 2.0])
    with pytest.raises(TypeError):
        F.relu6(np.ones(3))
    with pytest.raises(TypeError):
        F.prelu(ferrum.randn(2, 3), [0.25])


def test_option_errors():
    x = ferrum.randn(3, 4)
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(x, approximate="foo")
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(x, alpha=0.0)
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(ferrum.randn(2, 5))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(ferrum.tensor(1.0))
    with pytest.raises(IndexError):
        F.glu(x, dim=3)
    with pytest.raises(ValueError):
        nn.Hardtanh(2.0, 1.0)


def test_hardshrink_negative_lambda_matches_torch(torch):
    a = _away((3, 4))
    np.testing.assert_allclose(F.hardshrink(ferrum.tensor(a), -1.0).numpy(),
                               torch.nn.functional.hardshrink(torch.tensor(a), -1.0).numpy())


def test_softmin_dtype(torch):
    a = _away((3, 4)).astype(np.float32)
    y = F.softmin(ferrum.tensor(a), 1, dtype=ferrum.float64)
    yt = torch.nn.functional.softmin(torch.tensor(a), 1, dtype=torch.float64)
    assert y.dtype == ferrum.float64
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,nw", [((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 2, 2), 1), ((5,), 1), ((), 1)])
def test_prelu_matches_torch(torch, shape, nw, dtype):
    a = _away(shape).astype(dtype)
    w = np.linspace(-0.5, 0.7, nw).astype(dtype)
    x, wf = ferrum.tensor(a, requires_grad=True), ferrum.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.prelu(x, wf)
    yt = torch.nn.functional.prelu(xt, wt)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    g = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    y.backward(ferrum.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)
    np.testing.assert_allclose(wf.grad.numpy(), wt.grad.numpy(), **tol)


def test_prelu_gradcheck_and_errors():
    x = ferrum.tensor(_away((2, 3, 2)), requires_grad=True)
    w = ferrum.tensor([0.1, -0.3, 0.25], dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))
    assert gradgradcheck(F.prelu, (x, w))
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 3"):
        F.prelu(ferrum.randn(2, 3, 4), ferrum.tensor([0.25, 0.1]))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        F.prelu(ferrum.randn(3), ferrum.tensor([0.25, 0.1, 0.2]))


def test_rrelu_training_draws_slopes_in_range():
    ferrum.manual_seed(3)
    a = -np.abs(_away((200, 50))) - 0.1
    x = ferrum.tensor(a, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slope = y.detach().numpy() / a
    assert slope.min() >= 0.1 and slope.max() <= 0.3
    assert abs(slope.mean() - 0.2) < 0.005 and slope.std() > 0.05
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slope)
    pos = ferrum.tensor(np.abs(a))
    np.testing.assert_array_equal(F.rrelu(pos, training=True).numpy(), np.abs(a))
    # reproducible with the global seed
    ferrum.manual_seed(7)
    r1 = F.rrelu(x.detach(), training=True)
    ferrum.manual_seed(7)
    r2 = F.rrelu(x.detach(), training=True)
    np.testing.assert_array_equal(r1.numpy(), r2.numpy())


def test_rrelu_training_gradcheck():
    def fn(t):
        ferrum.manual_seed(1)  # the same slopes on every call
        return F.rrelu(t, training=True)
    z = ferrum.tensor(_away((3, 4), seed=8), requires_grad=True)
    assert gradcheck(fn, (z,))
    assert gradgradcheck(fn, (z,))


def test_gelu_extreme_values_are_finite(torch):
    a = np.array([-1e4, -50.0, 50.0, 1e4], dtype=np.float32)
    for approx in ("none", "tanh"):
        y = F.gelu(ferrum.tensor(a), approximate=approx).numpy()
        yt = torch.nn.functional.gelu(torch.tensor(a), approximate=approx).numpy()
        np.testing.assert_allclose(y, yt, atol=1e-6)
    for name in ("silu", "mish", "softplus", "logsigmoid", "elu", "selu"):
        y = getattr(F, name)(ferrum.tensor(a)).numpy()
        yt = getattr(torch.nn.functional, name)(torch.tensor(a)).numpy()
        assert np.all(np.isfinite(y)), name
        np.testing.assert_allclose(y, yt, rtol=1e-6, atol=1e-6, err_msg=name)


# --------------------------------------------------------------------------- modules
MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {}), ("ReLU6", (), {"inplace": True}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (), {}),
    ("CELU", (2.0, True), {}), ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}),
    ("SiLU", (True,), {}), ("Mish", (), {}), ("Mish", (True,), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 3.0, True), {}), ("Hardtanh", (-2, 3), {}),
    ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}), ("Hardswish", (), {}), ("Hardswish", (True,), {}),
    ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Threshold", (0.1, 20), {}), ("Threshold", (0.1, 20, True), {}), ("Softmax", (), {}),
    ("Softmax", (1,), {}), ("LogSoftmax", (), {}), ("LogSoftmax", (-1,), {}), ("Softmin", (), {}),
    ("Softmin", (0,), {}), ("GLU", (), {}), ("GLU", (0,), {}), ("LogSigmoid", (), {}), ("Hardshrink", (), {}),
    ("Hardshrink", (0.3,), {}), ("Softshrink", (), {}), ("Softshrink", (0.2,), {}), ("RReLU", (), {}),
    ("RReLU", (0.1, 0.3, True), {}), ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_repr_matches_torch(torch, name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.filterwarnings("ignore:Implicit dimension")
@pytest.mark.parametrize("name,args,kwargs", [m for m in MODULES if m[0] != "Softmax2d"])
def test_module_forward_matches_torch(torch, name, args, kwargs):
    a = _away((2, 3, 4), seed=9).astype(np.float32)
    m, mt = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    m.eval()
    mt.eval()
    x = ferrum.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y = m(x * 1.0)
    yt = mt(xt * 1.0)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    if name == "PReLU":
        np.testing.assert_allclose(m.weight.grad.numpy(), mt.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_prelu_module_parameters():
    m = nn.PReLU(3, init=0.1, dtype=ferrum.float64)
    (w,) = list(m.parameters())
    assert isinstance(w, nn.Parameter) and w.shape == (3,) and w.dtype == ferrum.float64
    np.testing.assert_array_equal(w.detach().numpy(), [0.1, 0.1, 0.1])
    assert list(m.state_dict()) == ["weight"]
    y = m(ferrum.randn(2, 3, 4, dtype=ferrum.float64))
    y.sum().backward()
    assert w.grad is not None and w.grad.shape == (3,)


def test_softmax2d_matches_torch(torch):
    for shape in [(2, 3, 4, 5), (3, 4, 5)]:
        a = _away(shape).astype(np.float32)
        np.testing.assert_allclose(nn.Softmax2d()(ferrum.tensor(a)).numpy(),
                                   torch.nn.Softmax2d()(torch.tensor(a)).numpy(), rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(ferrum.randn(3, 4))


def test_rrelu_module_uses_training_flag():
    a = -np.abs(_away((50, 20))) - 0.1
    m = nn.RReLU(0.1, 0.3)
    y = m(ferrum.tensor(a)).numpy() / a
    assert y.std() > 0.01
    m.eval()
    np.testing.assert_allclose(m(ferrum.tensor(a)).numpy() / a, 0.2)


def test_inplace_module_modifies_input():
    x = ferrum.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x
    assert x.tolist() == [0.0, 2.0]
    x = ferrum.tensor([-1.0, 2.0])
    y = nn.ReLU()(x)
    assert y is not x and x.tolist() == [-1.0, 2.0]
