"""``ferrum.nn.init`` against ``torch.nn.init``: deterministic fills value for value, random
fills by their distributions (moments, bounds, Kolmogorov-Smirnov distance), errors by type."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ferrum as F
import ferrum.nn.init as init
from tests.helpers import npv

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _ft(shape, dtype=F.float32):
    return F.empty(tuple(shape), dtype=dtype)


def _tt(torch, shape, dtype="float32"):
    return torch.empty(tuple(shape), dtype=getattr(torch, dtype))


def _same_error(torch, f_call, t_call):
    """Both calls raise, with the same exception type (and ferrum's message is not empty)."""
    with pytest.raises(Exception) as te:
        t_call()
    with pytest.raises(Exception) as fe:
        f_call()
    assert type(fe.value) is type(te.value), (fe.value, te.value)
    assert str(fe.value)
    return fe.value, te.value


# --------------------------------------------------------------------------- gain and fans
@pytest.mark.parametrize("nl", NONLINEARITIES)
def test_calculate_gain_table(torch, nl):
    assert init.calculate_gain(nl) == pytest.approx(torch.nn.init.calculate_gain(nl), rel=1e-15)


@pytest.mark.parametrize("param", [None, 0.2, 1, 0, -0.5, np.float64(0.3)])
def test_calculate_gain_leaky_param(torch, param):
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", param), rel=1e-15)


@pytest.mark.parametrize("args", [("leaky_relu", True), ("leaky_relu", "a"), ("softmax",), ("ReLU",)])
def test_calculate_gain_errors(torch, args):
    fe, te = _same_error(torch, lambda: init.calculate_gain(*args),
                         lambda: torch.nn.init.calculate_gain(*args))
    assert str(fe) == str(te)


@pytest.mark.parametrize("shape", [(3, 4), (4, 3, 2), (5, 4, 3, 2, 2), (2, 3, 0), (0, 7)])
def test_fans(torch, shape):
    ref = torch.nn.init._calculate_fan_in_and_fan_out(_tt(torch, shape))
    assert init._calculate_fan_in_and_fan_out(_ft(shape)) == ref
    for mode in ("fan_in", "fan_out", "FAN_OUT", "Fan_In"):
        assert (init._calculate_correct_fan(_ft(shape), mode)
                == torch.nn.init._calculate_correct_fan(_tt(torch, shape), mode))


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dims(torch, shape):
    fe, te = _same_error(torch, lambda: init._calculate_fan_in_and_fan_out(_ft(shape)),
                         lambda: torch.nn.init._calculate_fan_in_and_fan_out(_tt(torch, shape)))
    assert str(fe) == str(te)


def test_correct_fan_bad_mode(torch):
    fe, te = _same_error(torch, lambda: init._calculate_correct_fan(_ft((3, 4)), "BAD"),
                         lambda: torch.nn.init._calculate_correct_fan(_tt(torch, (3, 4)), "BAD"))
    assert str(fe) == str(te)


# --------------------------------------------------------------------------- deterministic fills
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("fn,args", [("constant_", (2.5,)), ("constant_", (-3,)), ("ones_", ()),
                                     ("zeros_", ())])
def test_constant_fills(torch, fn, args, dtype):
    f = _ft((3, 4), getattr(F, dtype))
    t = _tt(torch, (3, 4), dtype)
    out = getattr(init, fn)(f, *args)
    getattr(torch.nn.init, fn)(t, *args)
    assert out is f
    assert f.dtype == getattr(F, dtype)
    np.testing.assert_array_equal(npv(f), t.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (0, 3), (1, 1)])
def test_eye(torch, shape, dtype):
    f = F.full(shape, 7, dtype=getattr(F, dtype)) if dtype != "bool" else F.ones(shape, dtype=F.bool)
    t = _tt(torch, shape, dtype)
    assert init.eye_(f) is f
    torch.nn.init.eye_(t)
    np.testing.assert_array_equal(npv(f), t.numpy())


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((4, 2, 3), 2), ((2, 4, 3, 3), 1),
                                          ((6, 3, 3, 3, 3), 3), ((4, 6, 5), 2), ((3, 5, 2, 4), 1),
                                          ((8, 2, 1, 1), 4)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dirac(torch, shape, groups, dtype):
    f = F.randn(shape, dtype=getattr(F, dtype))
    t = _tt(torch, shape, dtype)
    assert init.dirac_(f, groups) is f
    torch.nn.init.dirac_(t, groups)
    np.testing.assert_array_equal(npv(f), t.numpy())


def test_dirac_is_identity_convolution():
    # a conv1d whose weight is dirac_ passes its input through (channels up to min(out, in))
    w = init.dirac_(F.empty(3, 3, 5))
    x = np.random.default_rng(1).standard_normal((3, 11))
    wa = npv(w)
    pad = np.pad(x, ((0, 0), (2, 2)))
    y = np.stack([sum(np.convolve(pad[i], wa[o, i][::-1], mode="valid") for i in range(3))
                  for o in range(3)])
    np.testing.assert_allclose(y, x, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m, t: m.eye_(t((3, 4, 5))),
    lambda m, t: m.eye_(t((3,))),
    lambda m, t: m.dirac_(t((3, 4))),
    lambda m, t: m.dirac_(t((3, 4, 5, 6, 7, 8))),
    lambda m, t: m.dirac_(t((3, 4, 5)), 2),
    lambda m, t: m.dirac_(t((4, 2, 0)), 1),
    lambda m, t: m.orthogonal_(t((3,))),
    lambda m, t: m.sparse_(t((3, 4, 5)), 0.1),
    lambda m, t: m.sparse_(t((3,)), 0.1),
    lambda m, t: m.xavier_uniform_(t((3,))),
    lambda m, t: m.xavier_normal_(t(())),
    lambda m, t: m.xavier_uniform_(t((0, 0))),
    lambda m, t: m.kaiming_uniform_(t((3,))),
    lambda m, t: m.kaiming_normal_(t((3, 4)), mode="fan_avg"),
    lambda m, t: m.kaiming_uniform_(t((3, 4)), nonlinearity="softmax"),
    lambda m, t: m.uniform_(t((3, 4)), 2.0, 1.0),
    lambda m, t: m.trunc_normal_(t((3, 4)), std=0.0),
], ids=lambda c: "")
def test_errors_match_torch(torch, call):
    _same_error(torch, lambda: call(init, _ft), lambda: call(torch.nn.init, lambda s: _tt(torch, s)))


@pytest.mark.parametrize("fn,args", [("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()),
                                     ("orthogonal_", ()), ("sparse_", (0.5,)),
                                     ("kaiming_uniform_", ()), ("xavier_normal_", ())])
def test_integer_tensors_refused(torch, fn, args):
    _same_error(torch, lambda: getattr(init, fn)(F.zeros(3, 4, dtype=F.int64), *args),
                lambda: getattr(torch.nn.init, fn)(torch.zeros(3, 4, dtype=torch.int64), *args))


# --------------------------------------------------------------------------- in place, no autograd
@pytest.mark.parametrize("fn,args", [
    ("uniform_", ()), ("normal_", ()), ("constant_", (0.3,)), ("ones_", ()), ("zeros_", ()),
    ("eye_", ()), ("xavier_uniform_", ()), ("xavier_normal_", (2.0,)), ("kaiming_uniform_", ()),
    ("kaiming_normal_", ()), ("trunc_normal_", ()), ("orthogonal_", ()), ("sparse_", (0.5,)),
])
def test_in_place_on_parameters(fn, args):
    p = F.nn.Parameter(F.zeros(6, 4))
    data = p._data
    v = p._version[0]
    out = getattr(init, fn)(p, *args)
    assert out is p and p._data is data
    assert p.grad_fn is None and p.requires_grad
    assert p._version[0] > v
    assert F.is_grad_enabled()
    if fn != "zeros_":
        assert np.any(npv(p) != 0)
    # a non-contiguous view is filled through to its base
    base = F.zeros(4, 6)
    view = base.t()
    getattr(init, fn)(view, *args)
    np.testing.assert_array_equal(npv(base).T, npv(view))


def test_dirac_on_parameter_and_view():
    p = F.nn.Parameter(F.randn(4, 4, 3))
    assert init.dirac_(p) is p and p.grad_fn is None
    assert float(p.sum()) == 4.0


# --------------------------------------------------------------------------- distributions
N_BIG = (400, 500)


def _moments(t):
    a = npv(t).astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


@pytest.mark.parametrize("dtype", [F.float32, F.float64])
@pytest.mark.parametrize("a,b", [(0.0, 1.0), (-3.0, 5.0), (2.0, 2.5)])
def test_uniform_distribution(dtype, a, b):
    t = init.uniform_(_ft(N_BIG, dtype), a, b)
    mean, std, lo, hi = _moments(t)
    assert a <= lo and hi <= b
    assert mean == pytest.approx((a + b) / 2, abs=0.01 * (b - a))
    assert std == pytest.approx((b - a) / math.sqrt(12), rel=0.01)


@pytest.mark.parametrize("dtype", [F.float32, F.float64])
@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (3.0, 0.02)])
def test_normal_distribution(dtype, mean, std):
    m, s, _, _ = _moments(init.normal_(_ft(N_BIG, dtype), mean, std))
    assert m == pytest.approx(mean, abs=0.01 * std)
    assert s == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("shape", [(300, 700), (128, 64, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(_ft(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    mean, s, lo, hi = _moments(init.xavier_uniform_(_ft(shape), gain=gain))
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert s == pytest.approx(std, rel=0.015) and abs(mean) < 0.02 * std
    mean, s, _, _ = _moments(init.xavier_normal_(_ft(shape), gain))
    assert s == pytest.approx(std, rel=0.015) and abs(mean) < 0.02 * std


@pytest.mark.parametrize("shape", [(300, 700), (128, 64, 3, 3)])
@pytest.mark.parametrize("a,mode,nl", [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                       (0, "fan_out", "relu"), (0, "fan_in", "tanh"),
                                       (0.2, "fan_out", "leaky_relu"), (0, "fan_in", "selu")])
def test_kaiming(torch, shape, a, mode, nl):
    gain = torch.nn.init.calculate_gain(nl, a)
    fan = torch.nn.init._calculate_correct_fan(_tt(torch, shape), mode)
    std = gain / math.sqrt(fan)
    bound = gain * math.sqrt(3.0 / fan)
    mean, s, lo, hi = _moments(init.kaiming_uniform_(_ft(shape), a, mode, nl))
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert s == pytest.approx(std, rel=0.015) and abs(mean) < 0.02 * std
    mean, s, _, _ = _moments(init.kaiming_normal_(_ft(shape), a=a, mode=mode, nonlinearity=nl))
    assert s == pytest.approx(std, rel=0.015) and abs(mean) < 0.02 * std


@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_zero_element_is_noop(torch, fn):
    for shape in [(0, 3), (0,)]:
        t = F.empty(shape)
        with pytest.warns(UserWarning, match="zero-element"):
            assert getattr(init, fn)(t) is t


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0


def _Phi(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _trunc_moments(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    z = _Phi(be) - _Phi(al)
    d = (_phi(al) - _phi(be)) / z
    t_al = al * _phi(al) if math.isfinite(al) else 0.0
    t_be = be * _phi(be) if math.isfinite(be) else 0.0
    var = 1.0 + (t_al - t_be) / z - d * d
    return mean + std * d, std * math.sqrt(var)


TRUNC_CASES = [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, -1.0, 3.0),
               (0.0, 1.0, 0.1, 0.2), (0.0, 1.0, -0.1, 0.1), (0.0, 1.0, 3.0, 4.0),
               (0.0, 1.0, 3.0, 100.0), (0.0, 1.0, -100.0, -3.0),
               (0.0, 1.0, -math.inf, math.inf), (2.0, 0.5, -math.inf, 2.1),
               (0.0, -1.0, -1.0, 0.5)]


@pytest.mark.parametrize("dtype", [F.float32, F.float64])
@pytest.mark.parametrize("mean,std,a,b", TRUNC_CASES)
def test_trunc_normal_distribution(mean, std, a, b, dtype):
    # PyTorch's sampler proposes uniformly on [a, b] for narrow intervals: thousands of rounds for
    # the far tails (3, 100), so those use fewer draws
    n = 20_000 if a >= 3 or b <= -3 else 200_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t = init.trunc_normal_(_ft((n,), dtype), mean, std, a, b)
    x = np.sort(npv(t).astype(np.float64))
    assert a <= x[0] and x[-1] <= b
    m, s = _trunc_moments(mean, abs(std), a, b)
    assert x.mean() == pytest.approx(m, abs=(0.01 if n > 100_000 else 0.03) * abs(std))
    assert x.std() == pytest.approx(s, rel=0.02 if n > 100_000 else 0.06)
    # Kolmogorov-Smirnov distance to the exact truncated-normal CDF
    s_abs = abs(std)
    lo, z = _Phi((a - mean) / s_abs), _Phi((b - mean) / s_abs) - _Phi((a - mean) / s_abs)
    cdf = (np.vectorize(_Phi)((x[::50] - mean) / s_abs) - lo) / z
    emp = (np.arange(0, len(x), 50) + 0.5) / len(x)
    assert np.max(np.abs(cdf - emp)) < (0.01 if n > 100_000 else 0.03)


@pytest.mark.parametrize("a,b", [(5.0, math.inf), (-math.inf, -5.0)])
def test_trunc_normal_infinite_tail_raises_as_torch(torch, a, b):
    """A narrow interval with an infinite bound: PyTorch's uniform proposal refuses the bound."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(RuntimeError, match="out of bounds"):
            torch.nn.init.trunc_normal_(torch.empty(10), 0.0, 1.0, a, b)
        with pytest.raises(RuntimeError, match="out of bounds"):
            init.trunc_normal_(_ft((10,)), 0.0, 1.0, a, b)


def test_trunc_normal_defaults_and_bounds_match_torch(torch):
    f = init.trunc_normal_(_ft((100_000,)))
    t = torch.nn.init.trunc_normal_(_tt(torch, (100_000,)))
    assert npv(f).min() >= -2.0 and npv(f).max() <= 2.0
    assert npv(f).std() == pytest.approx(t.numpy().std(), rel=0.02)
    # values sit inside [a, b] as the tensor's dtype rounds them, even for unrepresentable bounds
    f = init.trunc_normal_(_ft((100_000,)), 0.0, 1.0, -0.1, 0.1)
    assert npv(f).max() <= np.float32(0.1) and npv(f).min() >= np.float32(-0.1)


def test_trunc_normal_warnings_and_errors(torch):
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(_ft((10,)), mean=10.0)
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        torch.nn.init.trunc_normal_(torch.empty(10), a=2.0, b=1.0)
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        init.trunc_normal_(_ft((10,)), a=2.0, b=1.0)
    with pytest.raises(ZeroDivisionError):
        init.trunc_normal_(_ft((10,)), std=0.0)
    assert init.trunc_normal_(_ft((0, 3))).shape == (0, 3)
    t = init.trunc_normal_(_ft((5,)), 1.0, 1.0, 1.0, 1.0)
    np.testing.assert_array_equal(npv(t), np.ones(5, np.float32))


@pytest.mark.parametrize("dtype", [F.float32, F.float64])
@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3, 3), (1, 6), (6, 1), (64, 128)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain, dtype):
    t = init.orthogonal_(_ft(shape, dtype), gain=gain)
    assert t.shape == shape and t.dtype == dtype
    w = npv(t).reshape(shape[0], -1).astype(np.float64)
    g = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    tol = 1e-5 if dtype == F.float32 else 1e-12
    np.testing.assert_allclose(g, gain ** 2 * np.eye(g.shape[0]), atol=tol * gain ** 2 * 10)


def test_orthogonal_is_haar():
    # with the sign of diag(R) folded into Q, Q is Haar: every entry has mean 0 and variance 1/n
    qs = np.stack([npv(init.orthogonal_(F.empty(3, 3, dtype=F.float64))) for _ in range(3000)])
    assert np.abs(qs.mean(axis=0)).max() < 0.05
    np.testing.assert_allclose(qs.var(axis=0), 1 / 3, atol=0.03)


def test_orthogonal_empty_and_half():
    t = F.empty(0, 3)
    assert init.orthogonal_(t) is t
    h = init.orthogonal_(F.empty(4, 4, dtype=F.float16))
    w = npv(h).astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=5e-3)


@pytest.mark.parametrize("rows,cols,sparsity", [(10, 30, 0.1), (10, 30, 0.35), (7, 5, 0.5),
                                                (50, 200, 0.9), (4, 6, 1.0), (4, 6, 0.0), (4, 6, 2.0)])
def test_sparse(rows, cols, sparsity):
    t = init.sparse_(_ft((rows, cols)), sparsity, std=0.5)
    a = npv(t)
    want = min(rows, int(math.ceil(sparsity * rows)))
    np.testing.assert_array_equal((a == 0).sum(axis=0), np.full(cols, want))


def test_sparse_distribution(torch):
    t = init.sparse_(_ft((100, 4000)), 0.3, std=0.05)
    ref = torch.nn.init.sparse_(_tt(torch, (100, 4000)), 0.3, std=0.05).numpy()
    a = npv(t)
    assert (a == 0).mean() == pytest.approx((ref == 0).mean(), abs=1e-9)
    assert a[a != 0].std() == pytest.approx(0.05, rel=0.01)
    # the zeros of each column fall on uniformly random rows
    per_row = (a == 0).mean(axis=1)
    assert np.abs(per_row - 0.3).max() < 0.05


# --------------------------------------------------------------------------- generators, aliases
@pytest.mark.parametrize("call", [
    lambda t, g: init.uniform_(t, -1, 1, generator=g), lambda t, g: init.normal_(t, 0, 1, g),
    lambda t, g: init.xavier_uniform_(t, generator=g), lambda t, g: init.xavier_normal_(t, generator=g),
    lambda t, g: init.kaiming_uniform_(t, generator=g), lambda t, g: init.kaiming_normal_(t, generator=g),
    lambda t, g: init.trunc_normal_(t, generator=g), lambda t, g: init.trunc_normal_(t, 0, 1, 3, 4, g),
    lambda t, g: init.orthogonal_(t, generator=g), lambda t, g: init.sparse_(t, 0.5, generator=g),
], ids=lambda c: "")
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
def test_generator_reproducible(call):
    F.manual_seed(0)  # sparse_ draws its permutations from the default generator, as PyTorch
    a = call(F.empty(8, 6), F.Generator().manual_seed(5))
    F.manual_seed(0)
    b = call(F.empty(8, 6), F.Generator().manual_seed(5))
    F.manual_seed(0)
    c = call(F.empty(8, 6), F.Generator().manual_seed(6))
    np.testing.assert_array_equal(npv(a), npv(b))
    assert not np.array_equal(npv(a), npv(c))
    # the global seed drives the default generator
    F.manual_seed(3)
    d = call(F.empty(8, 6), None)
    F.manual_seed(3)
    e = call(F.empty(8, 6), None)
    np.testing.assert_array_equal(npv(d), npv(e))


@pytest.mark.parametrize("old,args", [("uniform", ()), ("normal", ()), ("constant", (1.5,)),
                                      ("eye", ()), ("xavier_uniform", ()), ("xavier_normal", ()),
                                      ("kaiming_uniform", ()), ("kaiming_normal", ()),
                                      ("orthogonal", ()), ("sparse", (0.5,))])
def test_deprecated_aliases(torch, old, args):
    with pytest.warns(FutureWarning, match=f"nn.init.{old}_"):
        t = getattr(init, old)(F.empty(4, 5), *args)
    assert t.shape == (4, 5)
    with pytest.warns(FutureWarning):
        getattr(torch.nn.init, old)(torch.empty(4, 5), *args)


def test_dirac_alias():
    with pytest.warns(FutureWarning):
        init.dirac(F.empty(2, 2, 3))


def test_no_grad_helpers():
    t = F.empty(3, 4)
    assert init._no_grad_uniform_(t, 0, 1) is t
    assert init._no_grad_normal_(t, 0, 1) is t
    assert init._no_grad_trunc_normal_(t, 0, 1, -1, 1) is t and float(t.abs().max()) <= 1
    assert init._no_grad_fill_(t, 2.0) is t and float(t.sum()) == 24
    assert init._no_grad_zero_(t) is t and float(t.abs().sum()) == 0


def test_linear_init_bounds():
    lin = F.nn.Linear(50, 20)
    bound = 1 / math.sqrt(50)
    assert np.abs(npv(lin.weight)).max() <= bound
    assert np.abs(npv(lin.bias)).max() <= bound
