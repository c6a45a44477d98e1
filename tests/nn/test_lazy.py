"""Lazy modules (nn/modules/lazy.py) against torch: repr and state-dict keys before the first call,
the inferred shapes, the class swap, values and gradients after loading torch's initialised state
dict (float32/float64), loading a state dict into a lazy module, dtype conversion before the first
call, optimizers built before it, torch's module paths, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

CASES = {
    "LazyConv1d": ((4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    "LazyConv2d": ((4, 3), {"groups": 1, "bias": False}, (2, 3, 6, 6)),
    "LazyConv3d": ((2, 2), {"dilation": 1}, (1, 2, 4, 4, 4)),
    "LazyConvTranspose1d": ((4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    "LazyConvTranspose2d": ((4, 3), {"groups": 1}, (2, 3, 4, 4)),
    "LazyConvTranspose3d": ((2, 2), {}, (1, 2, 3, 3, 3)),
    "LazyBatchNorm1d": ((), {"momentum": 0.2}, (5, 3)),
    "LazyBatchNorm2d": ((), {}, (2, 3, 4, 4)),
    "LazyBatchNorm3d": ((), {"affine": False}, (2, 3, 2, 2, 2)),
    "LazyInstanceNorm1d": ((), {}, (2, 3, 6)),
    "LazyInstanceNorm2d": ((), {"track_running_stats": False}, (2, 3, 4, 4)),
    "LazyInstanceNorm3d": ((), {"affine": False}, (2, 3, 2, 3, 3)),
}


def _keys(m):
    return list(m.state_dict().keys())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, dtype):
    args, kw, shape = CASES[name]
    t = getattr(torch.nn, name)(*args, **kw, dtype=getattr(torch, dtype))
    f = getattr(ferrum.nn, name)(*args, **kw, dtype=getattr(ferrum, dtype))
    assert repr(f) == repr(t)
    assert _keys(f) == _keys(t)
    assert f.has_uninitialized_params() == t.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    yt = t(torch.tensor(x))
    f(ferrum.tensor(x))
    assert type(f).__name__ == type(t).__name__ == name[4:]
    assert repr(f) == repr(t)
    assert not hasattr(f, "_initialize_hook") and not f._forward_pre_hooks
    for (kt, vt), (kf, vf) in zip(t.state_dict().items(), f.state_dict().items()):
        assert kt == kf and tuple(vt.shape) == tuple(vf.shape) and str(vt.dtype)[6:] == str(vf.dtype)[7:]
    # the same weights from here on: outputs and gradients equal torch's
    f.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x2 = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    xt, xf = torch.tensor(x2, requires_grad=True), ferrum.tensor(x2, requires_grad=True)
    yt, yf = t(xt), f(xf)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    (yt ** 2).sum().backward()
    (yf ** 2).sum().backward()
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    for (kt, pt), (kf, pf) in zip(t.named_parameters(), f.named_parameters()):
        assert kt == kf
        np.testing.assert_allclose(pf.grad.numpy(), pt.grad.numpy(), rtol=tol * 10, atol=tol * 10)


def test_initialisation_statistics():
    m = ferrum.nn.LazyConv2d(64, 3)
    m(ferrum.randn(1, 16, 5, 5))
    bound = 1 / np.sqrt(16 * 9)            # kaiming_uniform(a=sqrt(5)) on fan_in 144
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and w.std() > bound / 3


@pytest.mark.parametrize("name", ["LazyConv2d", "LazyBatchNorm2d"])
def test_load_state_dict_into_lazy_module(torch, name):
    args = (4, 3) if "Conv" in name else ()
    src = getattr(torch.nn, name[4:])(*((3,) + args) if args else (3,))
    res = []
    for L in (torch, ferrum):
        m = getattr(L.nn, name)(*args)
        sd = {k: L.tensor(v.numpy()) for k, v in src.state_dict().items()}
        m.load_state_dict(sd)
        res.append((type(m).__name__, [tuple(v.shape) for v in m.state_dict().values()]))
        m(L.ones(2, 3, 5, 5))
        res.append(type(m).__name__)
        np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    assert res[0] == res[2] and res[1] == res[3]


def test_lazy_state_dict_reloads_into_lazy_module():
    a, b = ferrum.nn.LazyBatchNorm1d(), ferrum.nn.LazyBatchNorm1d()
    b.load_state_dict(a.state_dict())
    assert b.has_uninitialized_params()
    b(ferrum.randn(4, 3))
    assert b.num_features == 3


def test_dtype_conversion_before_first_call(torch):
    for L in (torch, ferrum):
        m = L.nn.LazyBatchNorm1d().double()
        c = L.nn.LazyConvTranspose1d(2, 3).double()
        m(L.randn(4, 3, dtype=L.float64))
        c(L.randn(1, 3, 4, dtype=L.float64))
        assert m.running_mean.dtype == m.weight.dtype == c.weight.dtype == L.float64


def test_optimizer_built_before_first_call_keeps_the_parameters():
    m = ferrum.nn.LazyConv1d(2, 3)
    params = list(m.parameters())
    opt = ferrum.optim.SGD(m.parameters(), lr=0.1)
    m(ferrum.randn(1, 4, 6)).sum().backward()
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    w0 = m.weight.detach().clone()
    opt.step()
    assert not np.array_equal(m.weight.detach().numpy(), w0.numpy())
    assert type(m.weight) is ferrum.nn.Parameter


def test_paths_and_placeholders(torch):
    assert ferrum.nn.modules.conv.LazyConvTranspose3d is ferrum.nn.LazyConvTranspose3d
    assert ferrum.nn.modules.batchnorm.LazyBatchNorm3d.__module__ == "ferrum.nn.modules.batchnorm"
    assert ferrum.nn.modules.instancenorm.LazyInstanceNorm1d is ferrum.nn.LazyInstanceNorm1d
    m = ferrum.nn.LazyConv2d(4, 3)
    assert repr(m.weight) == repr(torch.nn.LazyConv2d(4, 3).weight) == "<UninitializedParameter>"
    assert isinstance(m.weight, ferrum.nn.UninitializedParameter) and m.weight.requires_grad
    assert isinstance(ferrum.nn.LazyBatchNorm1d().running_mean, ferrum.nn.UninitializedBuffer)


def test_errors_match_torch(torch):
    cases = [lambda L: L.nn.LazyConv2d(4, 3)(L.ones(3, 5)),
             lambda L: L.nn.LazyConvTranspose1d(4, 3, groups=2)(L.ones(2, 3, 5)),
             lambda L: L.nn.LazyConv1d(4, 3, groups=2)(L.ones(2, 3, 5)),
             lambda L: L.nn.LazyBatchNorm2d()(L.ones(2, 3, 4))]
    for case in cases:
        with pytest.raises(Exception) as et:
            case(torch)
        with pytest.raises(Exception) as ef:
            case(ferrum)
        assert type(ef.value) is type(et.value), (et.value, ef.value)
