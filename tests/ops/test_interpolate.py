"""ops/interpolate.py against torch 2.13: every mode x align_corners x size / scale factor
(integer and non-integer, recomputed or not, up and down) x 1-D/2-D/3-D, outputs and input
gradients in float32 and float64; gradcheck and gradgradcheck; errors, warnings, node names,
half precision, non-finite inputs, antialias, and the one documented difference (nearest's
shortcut)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
import ferrum.ops.interpolate as interp_mod
from ferrum.autograd import gradcheck, gradgradcheck

SHAPES = {1: (2, 3, 5), 2: (2, 2, 4, 5), 3: (1, 2, 3, 4, 3)}
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("area", 1), ("area", 2), ("area", 3), ("linear", 1), ("bilinear", 2),
         ("bicubic", 2), ("trilinear", 3)]
GEOMETRY = [
    {"size": 7},  # up
    {"size": 2},  # down
    {"size": "mixed"},  # up along one axis, down along another
    {"scale_factor": 2},
    {"scale_factor": 1.7},  # non-integer: the scale enters the source index directly
    {"scale_factor": 0.6},
    {"scale_factor": 1.7, "recompute_scale_factor": True},
    {"scale_factor": 0.45, "recompute_scale_factor": True},
    {"scale_factor": "tuple"},
]
LINEAR = ("linear", "bilinear", "bicubic", "trilinear")


GRAD_KW = [{"size": 5}, {"scale_factor": 0.7}, {"scale_factor": 1.6, "align_corners": True}]


def _kwargs(geom: dict, nd: int) -> dict:
    kw = dict(geom)
    if kw.get("size") == "mixed":
        kw["size"] = tuple([7, 2, 4][:nd])
    if kw.get("scale_factor") == "tuple":
        kw["scale_factor"] = tuple([2.5, 0.7, 1.0][:nd])
    return kw


def _torch_grad_is_adjoint(mode: str, nd: int, shape, kw: dict) -> bool:
    """False where torch's 1-D/3-D nearest backward takes a shortcut its forward does not (see
    interpolate's docstring): there torch's gradient is not the derivative of its output."""
    if mode != "nearest" or nd == 2 or "scale_factor" not in kw or kw.get("recompute_scale_factor"):
        return True
    sf = kw["scale_factor"]
    sfs = sf if isinstance(sf, tuple) else (sf,) * nd
    for n, s in zip(shape[2:], sfs):
        out = int(n * s)
        if out in (n, 2 * n) and s != out / n:
            return False
    return True


def _run(T, a, g, dtype, **kw):
    x = T.tensor(a, dtype=getattr(T, dtype), requires_grad=True)
    y = T.nn.functional.interpolate(x, **kw)
    y.backward(T.tensor(g(tuple(y.shape)), dtype=getattr(T, dtype)))
    return y.detach().numpy(), x.grad.numpy()


# align_corners is only for the linear modes (the error for the others is tested below)
CASES = [(m, n, ac) for m, n in MODES for ac in ((None, False, True) if m in LINEAR else (None,))]


@pytest.fixture(params=["matmul", "taps"])
def path(request, monkeypatch):
    """Each map runs as a BLAS product by its dense matrix (the default on these short axes) or,
    with the dense path switched off, as gathers of taps (long axes, non-finite inputs)."""
    if request.param == "taps":
        monkeypatch.setattr(interp_mod, "_DENSE_MAX_IN", 0)
    return request.param


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geom", GEOMETRY, ids=lambda g: "-".join(f"{k}={v}" for k, v in g.items()))
@pytest.mark.parametrize("mode,nd,align_corners", CASES, ids=[f"{m}{n}d-ac={a}" for m, n, a in CASES])
def test_parity_with_torch(torch, path, mode, nd, align_corners, geom, dtype):
    shape = SHAPES[nd]
    rng = np.random.default_rng(len(mode) * 10 + nd)
    a = rng.standard_normal(shape)

    def g(s):
        return np.cos(np.arange(int(np.prod(s)))).reshape(s)

    kw = dict(_kwargs(geom, nd), mode=mode, align_corners=align_corners)
    yf, gf = _run(ferrum, a, g, dtype, **kw)
    yt, gt = _run(torch, a, g, dtype, **kw)
    tol = 2e-6 if dtype == "float32" else 1e-12
    assert yf.shape == yt.shape and yf.dtype == yt.dtype
    np.testing.assert_allclose(yf, yt, rtol=tol, atol=tol)
    if _torch_grad_is_adjoint(mode, nd, shape, kw):
        np.testing.assert_allclose(gf, gt, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("mode,nd", MODES, ids=[f"{m}{n}d" for m, n in MODES])
@pytest.mark.parametrize("kw", GRAD_KW,
                         ids=["size", "down", "aligned"])
def test_gradcheck_and_gradgradcheck(path, mode, nd, kw):
    if "align_corners" in kw and mode not in LINEAR:
        kw = {k: v for k, v in kw.items() if k != "align_corners"}
    shape = (1, 2) + (3, 4, 2)[:nd]
    x = ferrum.randn(*shape, dtype=ferrum.float64, requires_grad=True)

    def fn(t):
        return F.interpolate(t, mode=mode, **kw)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_backward_of_backward_is_the_forward():
    # d/dg <A^T g, v> = A v: the backward's own backward applies the forward map again
    x = ferrum.randn(1, 1, 3, 4, dtype=ferrum.float64, requires_grad=True)
    y = F.interpolate(x, scale_factor=1.5, mode="bicubic")
    g = ferrum.randn(*y.shape, dtype=ferrum.float64, requires_grad=True)
    (gx,) = ferrum.autograd.grad(y, x, g, create_graph=True)
    v = ferrum.randn(*x.shape, dtype=ferrum.float64)
    (gg,) = ferrum.autograd.grad((gx * v).sum(), g)
    np.testing.assert_allclose(gg.numpy(), F.interpolate(v, scale_factor=1.5, mode="bicubic").numpy(),
                               rtol=1e-12, atol=1e-12)


def test_node_names(torch):
    cases = [((2, 3, 5), "nearest"), ((1, 2, 3, 4), "nearest-exact"), ((1, 1, 2, 3, 4), "nearest"),
             ((2, 3, 5), "linear"), ((1, 2, 3, 4), "bilinear"), ((1, 2, 3, 4), "bicubic"),
             ((1, 1, 2, 3, 4), "trilinear"), ((1, 2, 3, 4), "area")]
    for shape, mode in cases:
        names = []
        for T in (ferrum, torch):
            x = T.ones(shape, requires_grad=True)
            names.append(T.nn.functional.interpolate(x, scale_factor=2, mode=mode).grad_fn.name())
        assert names[0] == names[1]


BAD = [
    ((1, 2, 3, 4), {"size": 3, "scale_factor": 2}),
    ((1, 2, 3, 4), {}),
    ((1, 2, 3, 4), {"size": (3,)}),
    ((1, 2, 3, 4), {"scale_factor": (2.0, 2.0, 2.0)}),
    ((1, 2, 3, 4), {"size": (2.0, 3)}),
    ((1, 2, 3, 4), {"size": 3, "recompute_scale_factor": True}),
    ((1, 2, 3, 4), {"size": 3, "mode": "nearest", "align_corners": True}),
    ((1, 2, 3, 4), {"size": 3, "mode": "area", "align_corners": False}),
    ((1, 2, 3, 4), {"size": 3, "mode": "linear"}),
    ((1, 2, 3, 4), {"size": 3, "mode": "trilinear"}),
    ((1, 2, 5), {"size": 3, "mode": "bilinear"}),
    ((1, 2, 5), {"size": 3, "mode": "bicubic"}),
    ((1, 1, 2, 3, 4), {"size": 3, "mode": "bicubic"}),
    ((1, 1, 2, 3, 4), {"size": 3, "mode": "bilinear"}),
    ((1, 2, 3, 4), {"size": 3, "mode": "lanczos3"}),
    ((2, 3), {"size": 3}),
    ((1, 2, 3, 4, 5, 6), {"size": 3}),
    ((1, 2, 3, 4), {"scale_factor": 0.1}),
    ((1, 2, 5), {"scale_factor": 0.1}),
    ((1, 1, 2, 3, 4), {"size": 0}),
    ((1, 2, 3, 4), {"scale_factor": -1.0}),
    ((1, 2, 0, 4), {"size": 3, "mode": "bilinear"}),
    ((1, 0, 3, 4), {"size": 3, "mode": "bilinear"}),
    ((1, 0, 3, 4), {"size": 3, "mode": "nearest"}),
    ((0, 0, 5), {"size": 3, "mode": "nearest-exact"}),
    ((1, 0, 2, 3, 4), {"size": 3, "mode": "area"}),
    ((1, 2, 5), {"size": 3, "mode": "linear", "antialias": True}),
    ((1, 2, 3, 4), {"size": 3, "mode": "nearest", "antialias": True}),
]


@pytest.mark.parametrize("shape,kw", BAD, ids=[str(i) for i in range(len(BAD))])
def test_errors_have_torch_types(torch, shape, kw):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            T.nn.functional.interpolate(T.ones(shape), **kw)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), (errs[0], errs[1])
    if isinstance(errs[0], ValueError) or "sizes should be greater" in str(errs[0]):
        assert str(errs[1]) == str(errs[0])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_inputs_raise_as_torch(torch, dtype):
    for mode in ("nearest", "bilinear", "area"):
        with pytest.raises(NotImplementedError):
            torch.nn.functional.interpolate(torch.ones(1, 1, 2, 2, dtype=getattr(torch, dtype)), size=3,
                                            mode=mode)
        with pytest.raises(NotImplementedError):
            F.interpolate(ferrum.ones(1, 1, 2, 2, dtype=getattr(ferrum, dtype)), size=3, mode=mode)


def test_uint8_nearest(torch):
    a = np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4)
    for mode in ("nearest", "nearest-exact"):
        yf = F.interpolate(ferrum.tensor(a), scale_factor=1.6, mode=mode)
        yt = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=1.6, mode=mode)
        assert yf.dtype == ferrum.uint8
        np.testing.assert_array_equal(yf.numpy(), yt.numpy())


AA = [{"size": (3, 4)}, {"size": (11, 13)}, {"size": (2, 17)}, {"scale_factor": 0.3},
      {"scale_factor": (0.45, 1.7)}, {"size": (1, 1)}, {"scale_factor": 0.3, "recompute_scale_factor": True}]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", AA, ids=str)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_parity_with_torch(torch, path, mode, align_corners, kw, dtype):
    a = np.random.default_rng(3).standard_normal((2, 2, 9, 10))

    def g(s):
        return np.cos(np.arange(int(np.prod(s)))).reshape(s)

    kw = dict(kw, mode=mode, align_corners=align_corners, antialias=True)
    yf, gf = _run(ferrum, a, g, dtype, **kw)
    yt, gt = _run(torch, a, g, dtype, **kw)
    tol = 2e-6 if dtype == "float32" else 1e-12
    assert yf.shape == yt.shape
    np.testing.assert_allclose(yf, yt, rtol=tol, atol=tol)
    np.testing.assert_allclose(gf, gt, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_gradcheck_and_node_name(torch, mode):
    x = ferrum.randn(1, 1, 5, 4, dtype=ferrum.float64, requires_grad=True)

    def fn(t):
        return F.interpolate(t, size=(2, 3), mode=mode, antialias=True)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
    xt = torch.ones(1, 1, 5, 4, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, size=(2, 3), mode=mode, antialias=True)
    assert fn(x).grad_fn.name() == yt.grad_fn.name()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_half_precision(torch, dtype, mode):
    a = np.round(np.random.default_rng(0).standard_normal((1, 2, 4, 5)) * 16) / 16
    yf = F.interpolate(ferrum.tensor(a).to(getattr(ferrum, dtype)), scale_factor=1.5, mode=mode)
    yt = torch.nn.functional.interpolate(torch.tensor(a).to(getattr(torch, dtype)), scale_factor=1.5,
                                         mode=mode)
    assert yf.dtype == getattr(ferrum, dtype)
    tol = 1e-2 if dtype == "bfloat16" else 2e-3
    np.testing.assert_allclose(yf.float().numpy(), yt.float().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["area", "nearest", "bilinear"])
def test_non_finite_values_stay_local(torch, mode):
    a = np.zeros((1, 1, 6, 6))
    a[0, 0, 0, 0] = np.inf
    a[0, 0, 5, 5] = np.nan
    yf = F.interpolate(ferrum.tensor(a), size=(3, 2), mode=mode).numpy()
    yt = torch.nn.functional.interpolate(torch.tensor(a), size=(3, 2), mode=mode).numpy()
    np.testing.assert_array_equal(yf, yt)


def test_non_contiguous_input(torch):
    a = np.random.default_rng(1).standard_normal((2, 5, 4, 3))
    yf = F.interpolate(ferrum.tensor(a).permute(0, 3, 2, 1), size=(6, 7), mode="bilinear").numpy()
    yt = torch.nn.functional.interpolate(torch.tensor(a).permute(0, 3, 2, 1), size=(6, 7),
                                         mode="bilinear").numpy()
    np.testing.assert_allclose(yf, yt, rtol=1e-12, atol=1e-12)


def test_torch_nearest_shortcut_difference(torch):
    # scale 2.3 on 3 -> 6 = 2 * 3: torch's 1-D forward uses floor(j / 2.3), its backward j >> 1;
    # ferrum's output is torch's and its gradient is the true derivative of that output
    a = np.arange(3.0).reshape(1, 1, 3)
    x = ferrum.tensor(a, requires_grad=True)
    y = F.interpolate(x, scale_factor=2.3)
    yt = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=2.3)
    np.testing.assert_array_equal(y.detach().numpy(), yt.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[3.0, 2.0, 1.0]]])
    # the 2-D kernel takes the shortcut in both directions
    x2 = ferrum.tensor(np.arange(3.0).reshape(1, 1, 3, 1))
    y2 = F.interpolate(x2, scale_factor=(2.3, 1.0)).numpy()
    y2t = torch.nn.functional.interpolate(torch.tensor(x2.numpy()), scale_factor=(2.3, 1.0)).numpy()
    np.testing.assert_array_equal(y2, y2t)


def test_deprecated_upsample_aliases(torch):
    a = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    for name, kw in [("upsample", {"scale_factor": 2, "mode": "bilinear"}), ("upsample_nearest", {"size": 5}),
                     ("upsample_bilinear", {"scale_factor": 1.5})]:
        with pytest.warns(UserWarning, match="deprecated"):
            yf = getattr(F, name)(ferrum.tensor(a), **kw).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yt = getattr(torch.nn.functional, name)(torch.tensor(a), **kw).numpy()
        np.testing.assert_allclose(yf, yt, rtol=1e-12, atol=1e-12)


def test_empty_batch_and_channels(torch):
    y = F.interpolate(ferrum.ones(0, 2, 3, 4, requires_grad=True), size=(5, 6), mode="bilinear")
    assert tuple(y.shape) == (0, 2, 5, 6)
    y.sum().backward()
    for shape in ((1, 0, 3, 4), (1, 0, 5)):  # adaptive pooling (area) accepts no channels in 1-D and 2-D
        yf = F.interpolate(ferrum.ones(shape), size=3, mode="area")
        yt = torch.nn.functional.interpolate(torch.ones(shape), size=3, mode="area")
        assert tuple(yf.shape) == tuple(yt.shape)
