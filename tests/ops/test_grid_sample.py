"""ops/grid_sample.py against torch 2.13: grid_sample over mode x padding_mode x align_corners x
4-D/5-D with grid points inside and outside [-1, 1], outputs and the gradients with respect to
input and grid in float32 and float64, second derivatives against torch's, gradcheck and
gradgradcheck; affine_grid (2-D, 3-D) with the gradient with respect to theta; errors, warnings,
node names and the boundary conventions."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
GRID = [(m, p, ac, nd) for m, p, ac, nd in itertools.product(MODES, PADDINGS, (False, True), (2, 3))
        if not (m == "bicubic" and nd == 3)]
GRID_IDS = [f"{m}-{p}-ac={a}-{n}d" for m, p, a, n in GRID]


def _data(nd, seed=0):
    rng = np.random.default_rng(seed)
    shp = (2, 3, 4, 5) if nd == 2 else (2, 2, 3, 4, 3)
    gshp = (2, 3, 4, nd) if nd == 2 else (2, 2, 3, 2, nd)
    return rng.standard_normal(shp), rng.uniform(-1.8, 1.8, gshp)


def _run(T, a, gr, dtype, **kw):
    x = T.tensor(a, dtype=getattr(T, dtype), requires_grad=True)
    g = T.tensor(gr, dtype=getattr(T, dtype), requires_grad=True)
    y = T.nn.functional.grid_sample(x, g, **kw)
    w = T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=getattr(T, dtype))
    y.backward(w)
    return y.detach().numpy(), x.grad.numpy(), g.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode,padding_mode,align_corners,nd", GRID, ids=GRID_IDS)
def test_parity_with_torch(torch, mode, padding_mode, align_corners, nd, dtype):
    a, gr = _data(nd)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    rf = _run(ferrum, a, gr, dtype, **kw)
    rt = _run(torch, a, gr, dtype, **kw)
    tol = 2e-5 if dtype == "float32" else 1e-11
    for name, f, t in zip(("output", "input grad", "grid grad"), rf, rt):
        assert f.shape == t.shape and f.dtype == t.dtype, name
        np.testing.assert_allclose(f, t, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_second_derivatives_match_torch(torch, mode, padding_mode, align_corners):
    a, gr = _data(2, seed=3)
    a, gr = a[:1, :2, :3, :3], gr[:1, :2, :2]
    res = []
    for T in (ferrum, torch):
        x = T.tensor(a, dtype=T.float64, requires_grad=True)
        g = T.tensor(gr, dtype=T.float64, requires_grad=True)
        y = T.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                        align_corners=align_corners)
        gx, gg = T.autograd.grad((y * y).sum(), (x, g), create_graph=True)
        second = T.autograd.grad((gx * gx).sum() + (gg * gg).sum(), (x, g))
        res.append([s.numpy() for s in second])
    for f, t in zip(*res):
        np.testing.assert_allclose(f, t, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode,padding_mode,align_corners,nd", GRID[::2] + GRID[1::5],
                         ids=lambda v: str(v))
def test_gradcheck_and_gradgradcheck(mode, padding_mode, align_corners, nd):
    rng = np.random.default_rng(5)
    shp = (1, 1, 3, 3) if nd == 2 else (1, 1, 2, 2, 3)
    gshp = (1, 2, 2, 2) if nd == 2 else (1, 1, 2, 2, 3)
    x = ferrum.tensor(rng.standard_normal(shp), requires_grad=True)
    g = ferrum.tensor(rng.uniform(-1.6, 1.6, gshp), requires_grad=True)

    def fn(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    assert gradcheck(fn, (x, g))
    assert gradgradcheck(fn, (x, g))


def test_nearest_gives_the_grid_a_zero_gradient(torch):
    x = ferrum.randn(1, 2, 3, 3, requires_grad=True)
    g = (ferrum.rand(1, 2, 2, 2) * 2 - 1).requires_grad_()
    F.grid_sample(x, g, mode="nearest", align_corners=False).sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), np.zeros((1, 2, 2, 2)))
    # only the grid requiring grad
    g2 = g.detach().requires_grad_()
    F.grid_sample(x.detach(), g2, mode="nearest", align_corners=False).sum().backward()
    np.testing.assert_array_equal(g2.grad.numpy(), np.zeros((1, 2, 2, 2)))


def test_boundary_points_follow_torch(torch):
    # points exactly on the border (the clip's kink) and exact halves for nearest's rounding
    pts = np.array([-1.0, 1.0, -0.5, 0.5, 0.0, 1.25, -1.5])
    gr = np.stack(np.meshgrid(pts, pts[::-1], indexing="xy"), -1)[None]
    a = np.random.default_rng(4).standard_normal((1, 2, 4, 4))
    for mode, pad, ac in itertools.product(("bilinear", "nearest"), ("zeros", "border", "reflection"),
                                           (False, True)):
        kw = dict(mode=mode, padding_mode=pad, align_corners=ac)
        rf = _run(ferrum, a, gr, "float64", **kw)
        rt = _run(torch, a, gr, "float64", **kw)
        for f, t in zip(rf, rt):
            np.testing.assert_allclose(f, t, rtol=1e-12, atol=1e-12, err_msg=str(kw))


def test_non_finite_input_stays_local(torch):
    a = np.zeros((1, 1, 3, 3))
    a[0, 0, 0, 0] = np.inf
    gr = np.array([[[[0.9, 0.9], [5.0, 5.0], [0.0, 0.0]]]])
    for pad in ("zeros", "border"):
        yf = F.grid_sample(ferrum.tensor(a), ferrum.tensor(gr), padding_mode=pad, align_corners=False)
        yt = torch.nn.functional.grid_sample(torch.tensor(a), torch.tensor(gr), padding_mode=pad,
                                             align_corners=False)
        np.testing.assert_array_equal(yf.numpy(), yt.numpy())


def test_node_names_and_warning(torch):
    x = ferrum.randn(1, 1, 2, 2, requires_grad=True)
    g = ferrum.zeros(1, 1, 1, 2)
    with pytest.warns(UserWarning, match="align_corners=False"):
        y = F.grid_sample(x, g)
    assert y.grad_fn.name() == "GridSampler2DBackward0"
    y3 = F.grid_sample(ferrum.randn(1, 1, 2, 2, 2, requires_grad=True), ferrum.zeros(1, 1, 1, 1, 3),
                       align_corners=True)
    assert y3.grad_fn.name() == "GridSampler3DBackward0"


def test_half_precision(torch):
    a, gr = _data(2, seed=6)
    a = np.round(a * 16) / 16
    gr = np.round(gr * 64) / 64
    for dtype, tol in (("float16", 1e-2), ("bfloat16", 5e-2)):
        yf = F.grid_sample(ferrum.tensor(a).to(getattr(ferrum, dtype)),
                           ferrum.tensor(gr).to(getattr(ferrum, dtype)), align_corners=False)
        yt = torch.nn.functional.grid_sample(torch.tensor(a).to(getattr(torch, dtype)),
                                             torch.tensor(gr).to(getattr(torch, dtype)), align_corners=False)
        assert yf.dtype == getattr(ferrum, dtype)
        np.testing.assert_allclose(yf.float().numpy(), yt.float().numpy(), rtol=tol, atol=tol)


def test_empty_batch(torch):
    x = ferrum.ones(0, 2, 3, 3, requires_grad=True)
    y = F.grid_sample(x, ferrum.zeros(0, 2, 2, 2), align_corners=False)
    assert tuple(y.shape) == (0, 2, 2, 2)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 3, 3)


BAD = [
    ((1, 2, 3, 4), (1, 2, 2, 2), {"mode": "cubic"}),
    ((1, 2, 3, 4), (1, 2, 2, 2), {"padding_mode": "wrap"}),
    ((1, 2, 3, 4), (1, 2, 2, 3), {}),
    ((1, 2, 3, 4), (2, 2, 2, 2), {}),
    ((1, 2, 3, 4), (1, 2, 2), {}),
    ((1, 2, 5), (1, 2, 1), {}),
    ((1, 2, 3, 3, 3), (1, 2, 2, 3), {}),
    ((1, 2, 0, 4), (1, 2, 2, 2), {}),
    ((1, 1, 2, 2, 2), (1, 1, 1, 1, 3), {"mode": "bicubic"}),
]


@pytest.mark.parametrize("xs,gs,kw", BAD, ids=[str(i) for i in range(len(BAD))])
def test_errors_have_torch_types(torch, xs, gs, kw):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            T.nn.functional.grid_sample(T.zeros(xs), T.zeros(gs), align_corners=False, **kw)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), errs
    assert str(errs[1]) == str(errs[0])


def test_dtype_errors(torch):
    for T in (torch, ferrum):
        with pytest.raises(RuntimeError):
            T.nn.functional.grid_sample(T.zeros(1, 1, 2, 2), T.zeros(1, 1, 1, 2, dtype=T.float64),
                                        align_corners=False)
        with pytest.raises(NotImplementedError):
            T.nn.functional.grid_sample(T.zeros(1, 1, 2, 2, dtype=T.int64),
                                        T.zeros(1, 1, 1, 2, dtype=T.int64), align_corners=False)


# --------------------------------------------------------------------------- affine_grid
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4), (1, 2, 1, 1, 2)], ids=str)
def test_affine_grid_parity(torch, size, align_corners, dtype):
    rng = np.random.default_rng(len(size))
    th = rng.standard_normal((size[0], 2, 3) if len(size) == 4 else (size[0], 3, 4))
    res = []
    for T in (ferrum, torch):
        t = T.tensor(th, dtype=getattr(T, dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unit-size grids with align_corners warn in both
            grid = T.nn.functional.affine_grid(t, size, align_corners=align_corners)
        w = T.tensor(np.sin(np.arange(grid.numel())).reshape(tuple(grid.shape)), dtype=getattr(T, dtype))
        (grid * w).sum().backward()
        res.append((grid.detach().numpy(), t.grad.numpy()))
    tol = 1e-6 if dtype == "float32" else 1e-14
    for f, t in zip(*res):
        assert f.shape == t.shape
        np.testing.assert_allclose(f, t, rtol=tol, atol=tol)


def test_affine_grid_gradcheck_and_identity(torch):
    th = ferrum.randn(2, 2, 3, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (th,))
    th3 = ferrum.randn(1, 3, 4, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 3, 2), align_corners=True), (th3,))
    # the identity transform samples the input back exactly
    x = ferrum.randn(1, 2, 4, 5, dtype=ferrum.float64)
    eye = ferrum.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=ferrum.float64)
    for ac in (False, True):
        grid = F.affine_grid(eye, (1, 2, 4, 5), align_corners=ac)
        np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=ac).numpy(), x.numpy(), atol=1e-12)


AFFINE_BAD = [
    ((1, 3, 4), (1, 1, 2, 2)),
    ((1, 2, 3), (1, 1, 2, 2, 2)),
    ((1, 2, 3), (1, 1, 2)),
    ((1, 2, 3), (1, 1, 0, 2)),
    ((2, 2, 3), (1, 1, 2, 2)),
    ((2, 3), (1, 1, 2, 2)),
]


@pytest.mark.parametrize("ts,size", AFFINE_BAD, ids=[str(i) for i in range(len(AFFINE_BAD))])
def test_affine_grid_errors(torch, ts, size):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            T.nn.functional.affine_grid(T.zeros(ts), size, align_corners=False)
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), errs
    for T in (torch, ferrum):
        with pytest.raises(ValueError, match="floating point"):
            T.nn.functional.affine_grid(T.zeros(1, 2, 3, dtype=T.int64), (1, 1, 2, 2), align_corners=False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_non_finite_and_huge_grid_points(torch, mode, padding_mode):
    # no warning, no error; the finite points (huge ones included) give torch's values
    a = np.random.default_rng(7).standard_normal((1, 2, 3, 4))
    gr = np.array([[[[np.nan, 0.2], [1e30, -1e30], [np.inf, 0.1], [0.3, -0.7]]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yf = F.grid_sample(ferrum.tensor(a), ferrum.tensor(gr), mode=mode, padding_mode=padding_mode,
                           align_corners=False).numpy()
    yt = torch.nn.functional.grid_sample(torch.tensor(a), torch.tensor(gr), mode=mode,
                                         padding_mode=padding_mode, align_corners=False).numpy()
    np.testing.assert_allclose(yf[..., 3], yt[..., 3], rtol=1e-12, atol=1e-12)
    if padding_mode == "zeros" or mode == "nearest":
        np.testing.assert_allclose(yf[..., 1], yt[..., 1], rtol=1e-12, atol=1e-12)
