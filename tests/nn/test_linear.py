"""Linear, Bilinear, Identity, Flatten, Unflatten, LazyLinear against torch; gradcheck of
``F.linear`` and ``F.bilinear``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
import ferrum.nn.functional as FF
from ferrum.autograd import gradcheck, gradgradcheck
from tests.helpers import npv

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def _copy_params(fm, tm):
    for (n, fp), (tn, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert n == tn
        with ferrum.no_grad():
            fp.copy_(ferrum.tensor(tp.detach().numpy()))


def _run_both(fm, tm, inputs, torch, dtype):
    """Forward + backward of sum(out * r) in both; returns outputs and all gradients."""
    fx = [ferrum.tensor(a, requires_grad=True) for a in inputs]
    tx = [torch.tensor(a, requires_grad=True) for a in inputs]
    fo, to = fm(*fx), tm(*tx)
    r = np.random.default_rng(5).standard_normal(tuple(to.shape)).astype(dtype)
    (fo * ferrum.tensor(r)).sum().backward()
    (to * torch.tensor(r)).sum().backward()
    fg = [x.grad for x in fx] + [p.grad for p in fm.parameters()]
    tg = [x.grad for x in tx] + [p.grad for p in tm.parameters()]
    return fo, to, fg, tg


def _assert_same(fo, to, fg, tg, dtype):
    assert tuple(fo.shape) == tuple(to.shape)
    assert str(fo.dtype).split(".")[1] == str(to.dtype).split(".")[1]
    np.testing.assert_allclose(npv(fo), to.detach().numpy(), **TOL[dtype])
    assert len(fg) == len(tg)
    for a, b in zip(fg, tg):
        np.testing.assert_allclose(npv(a), b.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 2, 3), (2, 2, 2, 3), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_vs_torch(dtype, shape, bias, torch):
    fd, td = getattr(ferrum, dtype), getattr(torch, dtype)
    fm = fnn.Linear(3, 5, bias=bias, dtype=fd)
    tm = torch.nn.Linear(3, 5, bias=bias, dtype=td)
    _copy_params(fm, tm)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _assert_same(*_run_both(fm, tm, [x], torch, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_vs_torch(dtype, shape, bias, torch):
    fd, td = getattr(ferrum, dtype), getattr(torch, dtype)
    fm = fnn.Bilinear(3, 2, 4, bias=bias, dtype=fd)
    tm = torch.nn.Bilinear(3, 2, 4, bias=bias, dtype=td)
    _copy_params(fm, tm)
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal(shape).astype(dtype)
    x2 = rng.standard_normal(shape[:-1] + (2,)).astype(dtype)
    _assert_same(*_run_both(fm, tm, [x1, x2], torch, dtype), dtype)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(shape, bias):
    rng = np.random.default_rng(2)
    x = ferrum.tensor(rng.standard_normal(shape), requires_grad=True)
    w = ferrum.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    args = (x, w) + ((ferrum.tensor(rng.standard_normal(4), requires_grad=True),) if bias else ())
    assert gradcheck(FF.linear, args)
    assert gradgradcheck(FF.linear, args)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_gradcheck(shape, bias):
    rng = np.random.default_rng(3)
    x1 = ferrum.tensor(rng.standard_normal(shape), requires_grad=True)
    x2 = ferrum.tensor(rng.standard_normal(shape[:-1] + (2,)), requires_grad=True)
    w = ferrum.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    args = (x1, x2, w) + ((ferrum.tensor(rng.standard_normal(4), requires_grad=True),) if bias else ())
    assert gradcheck(FF.bilinear, args)
    assert gradgradcheck(FF.bilinear, args)


def test_functional_linear_vs_torch(torch):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    out = FF.linear(ferrum.tensor(x), ferrum.tensor(w), ferrum.tensor(b))
    ref = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(npv(out), ref.numpy(), rtol=1e-12)
    # a 1-D weight gives a reduced output, as in torch
    out = FF.linear(ferrum.tensor(x), ferrum.tensor(w[0]))
    ref = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w[0]))
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(npv(out), ref.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- init
@pytest.mark.parametrize("cls", ["Linear", "Bilinear"])
def test_init_distribution(cls):
    if cls == "Linear":
        m = fnn.Linear(400, 300)
        bound = 1 / math.sqrt(400)
    else:
        m = fnn.Bilinear(50, 7, 300)
        bound = 1 / math.sqrt(50)
    for p in (m.weight, m.bias):
        v = npv(p).ravel()
        assert np.abs(v).max() <= bound
        assert np.abs(v).max() > 0.95 * bound
        # uniform on [-b, b]: mean 0, variance b^2 / 3, and the deciles evenly spread
        assert abs(v.mean()) < 0.05 * bound * (1 if v.size > 1000 else 3)
        np.testing.assert_allclose(v.var(), bound ** 2 / 3, rtol=0.05 if v.size > 1000 else 0.3)
        if v.size > 1000:
            q = np.quantile(v, np.linspace(0.1, 0.9, 9))
            np.testing.assert_allclose(q, np.linspace(-0.8, 0.8, 9) * bound, atol=0.03 * bound)


def test_init_differs_and_follows_seed():
    ferrum.manual_seed(3)
    a = npv(fnn.Linear(5, 5).weight).copy()
    b = npv(fnn.Linear(5, 5).weight).copy()
    ferrum.manual_seed(3)
    c = npv(fnn.Linear(5, 5).weight).copy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_zero_in_features(torch):
    m = fnn.Linear(0, 3)
    t = torch.nn.Linear(0, 3)
    assert tuple(m.weight.shape) == tuple(t.weight.shape)
    np.testing.assert_array_equal(npv(m(ferrum.zeros(2, 0))), t(torch.zeros(2, 0)).detach().numpy()
                                  - t.bias.detach().numpy() + npv(m.bias))


# --------------------------------------------------------------------------- dtype / device / errors
def test_dtype_device_kwargs():
    m = fnn.Linear(2, 3, dtype=ferrum.float64, device="cpu")
    assert m.weight.dtype == ferrum.float64 and m.bias.dtype == ferrum.float64
    assert m.weight.device == ferrum.device("cpu")
    b = fnn.Bilinear(2, 2, 3, dtype=ferrum.float64, device=ferrum.device("cpu"))
    assert b.weight.dtype == ferrum.float64
    assert fnn.Linear(2, 3).weight.dtype == ferrum.float32
    lz = fnn.LazyLinear(4, dtype=ferrum.float64)
    lz(ferrum.ones(2, 3, dtype=ferrum.float64))
    assert lz.weight.dtype == ferrum.float64


def test_wrong_feature_size_error(torch):
    m = fnn.Linear(3, 5)
    with pytest.raises(RuntimeError) as e:
        m(ferrum.ones(2, 4))
    msg = str(e.value)
    assert "Linear(in_features=3, out_features=5, bias=True)" in msg
    assert "[2, 4]" in msg and "[5, 3]" in msg
    with pytest.raises(RuntimeError):
        torch.nn.Linear(3, 5)(torch.ones(2, 4))
    with pytest.raises(RuntimeError):
        m(ferrum.tensor(1.0))
    with pytest.raises(RuntimeError):
        fnn.Bilinear(3, 2, 4)(ferrum.ones(2, 3), ferrum.ones(2, 3))
    with pytest.raises(RuntimeError):
        fnn.Bilinear(3, 2, 4)(ferrum.ones(2, 3), ferrum.ones(3, 2))


def test_mixed_dtype_error(torch):
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 2)(torch.ones(1, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        fnn.Linear(2, 2)(ferrum.ones(1, 2, dtype=ferrum.float64))


# --------------------------------------------------------------------------- LazyLinear
def test_lazy_linear(torch):
    m = fnn.LazyLinear(4)
    t = torch.nn.LazyLinear(4)
    assert repr(m) == repr(t)
    opt_params = list(m.parameters())
    y = m(ferrum.ones(2, 6))
    t(torch.ones(2, 6))
    assert tuple(y.shape) == (2, 4)
    assert type(m) is fnn.Linear and type(t) is torch.nn.Linear
    assert repr(m) == repr(t)
    assert m.in_features == 6 and tuple(m.weight.shape) == (4, 6)
    assert list(m.parameters())[0] is opt_params[0]  # the same Parameter objects
    bound = 1 / math.sqrt(6)
    assert np.abs(npv(m.weight)).max() <= bound
    lz = fnn.LazyLinear(3, bias=False)
    lz(ferrum.ones(5))
    assert lz.bias is None and tuple(lz.weight.shape) == (3, 5)


# --------------------------------------------------------------------------- Identity, Flatten, Unflatten
def test_identity(torch):
    m = fnn.Identity(54, unused="x")
    x = ferrum.ones(2)
    assert m(x) is x
    assert repr(m) == repr(torch.nn.Identity(54, unused="x"))


@pytest.mark.parametrize("args", [(), (0,), (0, -1), (1, 2), (-3, -2), (2, 3)])
def test_flatten_vs_torch(args, torch):
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    fm, tm = fnn.Flatten(*args), torch.nn.Flatten(*args)
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fo, to = fm(fx), tm(tx)
    assert tuple(fo.shape) == tuple(to.shape)
    np.testing.assert_array_equal(npv(fo), to.detach().numpy())
    fo.sum().backward()
    to.sum().backward()
    np.testing.assert_array_equal(npv(fx.grad), tx.grad.numpy())
    assert repr(fm) == repr(tm)


@pytest.mark.parametrize("dim,size", [(1, (3, 4)), (-1, (2, 10)), (1, (-1, 2)), (0, [2, 1])])
def test_unflatten_vs_torch(dim, size, torch):
    x = np.random.default_rng(7).standard_normal((2, 12, 20))[:, :, : (20 if dim == -1 else 20)]
    if dim == 1 and size == (3, 4):
        x = x[:, :12]
    fm, tm = fnn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fo, to = fm(fx), tm(tx)
    assert tuple(fo.shape) == tuple(to.shape)
    np.testing.assert_array_equal(npv(fo), to.detach().numpy())
    (fo * 2).sum().backward()
    (to * 2).sum().backward()
    np.testing.assert_array_equal(npv(fx.grad), tx.grad.numpy())
    assert repr(fm) == repr(tm)


def test_unflatten_errors(torch):
    for lib in (fnn, torch.nn):
        with pytest.raises(TypeError):
            lib.Unflatten(1, 5)
        with pytest.raises(TypeError):
            lib.Unflatten(1, (2, 2.5))
    with pytest.raises(RuntimeError):
        fnn.Unflatten(1, (5, 5))(ferrum.ones(2, 12))


# --------------------------------------------------------------------------- repr
def test_reprs_match_torch(torch):
    pairs = [
        (fnn.Linear(3, 4), torch.nn.Linear(3, 4)),
        (fnn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
        (fnn.Bilinear(1, 2, 3), torch.nn.Bilinear(1, 2, 3)),
        (fnn.Bilinear(1, 2, 3, bias=False), torch.nn.Bilinear(1, 2, 3, bias=False)),
        (fnn.Identity(), torch.nn.Identity()),
        (fnn.Flatten(), torch.nn.Flatten()),
        (fnn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
        (fnn.Unflatten(1, [2, 3]), torch.nn.Unflatten(1, [2, 3])),
    ]
    for f, t in pairs:
        assert repr(f) == repr(t)
    assert [n for n, _ in fnn.Bilinear(1, 2, 3).named_parameters()] == ["weight", "bias"]
