"""F.conv1d/2d/3d and F.conv_transpose1d/2d/3d against torch: outputs and input/weight/bias
gradients over a grid of geometries (both kernel schemes: im2col, and the shifted GEMMs taken with
>= 16 channels per group), float32 and float64; gradcheck and gradgradcheck in float64; bad input."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as FF
from ferrum.autograd import gradcheck, gradgradcheck

TOL = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-10, atol=1e-10)}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}


def _both(torch, fn, arrays, kwargs, dtype):
    """Runs ``fn`` (the functional's name) in torch and ferrum with the same arrays; backward of
    sum(out * r); returns ([out, grads...] in ferrum, the same in torch)."""
    ta = [None if a is None else torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    fa = [None if a is None else ferrum.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on 'same' with even kernels
        to = getattr(torch.nn.functional, fn)(*ta, **kwargs)
    fo = getattr(FF, fn)(*fa, **kwargs)
    r = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(dtype)
    (to * torch.tensor(r)).sum().backward()
    (fo * ferrum.tensor(r)).sum().backward()
    tr = [to.detach().numpy()] + [t.grad.numpy() for t in ta if t is not None]
    fr = [fo.detach().numpy()] + [t.grad.numpy() for t in fa if t is not None]
    return fr, tr


def _assert_close(fr, tr, dtype):
    assert len(fr) == len(tr)
    for a, b in zip(fr, tr):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **TOL[dtype])


GRID = [c for c in itertools.product((1, 2), (0, 1, "same", "valid"), (1, 2), (1, 2), (True, False))
        if not (c[1] == "same" and c[0] > 1)]  # 'same' refuses strides (test_errors)


# 3-D with one channel count and dtype keeps the file fast
DIMS = [(nd, cin, dt) for nd in (1, 2, 3) for cin in (4, 32) for dt in ("float32", "float64")
        if nd < 3 or (cin == 4 and dt == "float64")]


@pytest.mark.parametrize("nd,cin,dtype", DIMS)
@pytest.mark.parametrize("stride,padding,dilation,groups,bias", GRID)
def test_conv_parity(torch, nd, cin, stride, padding, dilation, groups, bias, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, cin) + SPATIAL[nd])
    w = rng.standard_normal((6, cin // groups) + (3, 2, 3)[:nd]) / np.sqrt(cin)
    b = rng.standard_normal(6) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    _assert_close(*_both(torch, f"conv{nd}d", [x, w, b], kw, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("cin,groups", [(3, 1), (6, 3), (6, 6), (32, 1), (32, 2), (32, 32)])
def test_conv_groups_depthwise(torch, nd, cin, groups, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, cin) + SPATIAL[nd])
    w = rng.standard_normal((cin * 2, cin // groups) + (3,) * nd)
    b = rng.standard_normal(cin * 2)
    _assert_close(*_both(torch, f"conv{nd}d", [x, w, b], dict(padding=1, groups=groups), dtype), dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
def test_unbatched(torch, nd, transposed):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4,) + SPATIAL[nd])
    w = rng.standard_normal(((4, 3) if transposed else (3, 4)) + (2,) * nd)
    fn = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    _assert_close(*_both(torch, fn, [x, w, None], dict(padding=1), "float64"), "float64")


@pytest.mark.parametrize("nd,cin,dtype", DIMS)
@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 1, 2, 2), (1, 1, 1, 2, 1), (3, 2, 2, 1, 2),
                          (1, 2, 0, 2, 2)])
def test_conv_transpose_parity(torch, nd, cin, stride, padding, output_padding, dilation, groups, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, cin) + tuple(s - 1 for s in SPATIAL[nd]))
    w = rng.standard_normal((cin, 6 // groups) + (3, 2, 3)[:nd]) / np.sqrt(cin)
    b = rng.standard_normal(6)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    _assert_close(*_both(torch, f"conv_transpose{nd}d", [x, w, b], kw, dtype), dtype)


def test_half_precision_computed_in_float32(torch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for name in ("float16", "bfloat16"):
        fdt, tdt = getattr(ferrum, name), getattr(torch, name)
        fo = FF.conv2d(ferrum.tensor(x).to(fdt), ferrum.tensor(w).to(fdt), padding=1)
        to = torch.nn.functional.conv2d(torch.tensor(x).to(tdt), torch.tensor(w).to(tdt), padding=1)
        assert fo.dtype == fdt
        np.testing.assert_allclose(fo.float().numpy(), to.float().numpy(), rtol=0.05, atol=0.1)


@pytest.mark.parametrize("case", [
    dict(cin=2, stride=1, padding=1, groups=1),      # im2col
    dict(cin=16, stride=1, padding=1, groups=1),     # shifted GEMMs
    dict(cin=4, stride=2, padding=0, groups=2),
    dict(cin=16, stride=1, padding="same", groups=1, dilation=2),
])
def test_gradcheck_gradgradcheck(case):
    rng = np.random.default_rng(5)
    cin = case.pop("cin")
    g = case["groups"]
    x = ferrum.tensor(rng.standard_normal((2, cin, 5, 4)), requires_grad=True)
    w = ferrum.tensor(rng.standard_normal((4, cin // g, 3, 2)), requires_grad=True)
    b = ferrum.tensor(rng.standard_normal(4), requires_grad=True)
    wt = ferrum.tensor(rng.standard_normal((cin, 4 // g, 3, 2)), requires_grad=True)

    def conv(x, w, b):
        return FF.conv2d(x, w, b, **case)

    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))
    if case["padding"] != "same":
        def convt(x, w, b):
            return FF.conv_transpose2d(x, w, b, case["stride"], case["padding"], groups=g)

        assert gradcheck(convt, (x, wt, b))
        assert gradgradcheck(convt, (x, wt, b))


def test_double_backward_matches_torch(torch):
    """grad of (sum of dL/dx squared) wrt weight: the weight-gradient op's own backward."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 16, 5, 5))
    w = rng.standard_normal((8, 16, 3, 3))
    res = []
    for T, mk in ((torch, torch.tensor), (ferrum, ferrum.tensor)):
        tx, tw = mk(x, requires_grad=True), mk(w, requires_grad=True)
        y = T.nn.functional.conv2d(tx, tw, padding=1)
        gx, gw = T.autograd.grad((y * y).sum(), (tx, tw), create_graph=True)
        (gx.pow(2).sum() + gw.pow(3).sum()).backward()
        res.append((tx.grad.detach().numpy(), tw.grad.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_node_names():
    x = ferrum.randn(1, 2, 4, 4, requires_grad=True)
    w = ferrum.randn(3, 2, 3, 3, requires_grad=True)
    assert FF.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert FF.conv_transpose2d(x, w.transpose(0, 1)).grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.parametrize("cin", [2, 16])
def test_zero_batch(cin):
    x = ferrum.zeros(0, cin, 5, 5, requires_grad=True)
    w = ferrum.ones(3, cin, 3, 3, requires_grad=True)
    fo = FF.conv2d(x, w, padding=1)
    assert tuple(fo.shape) == (0, 3, 5, 5)
    fo.sum().backward()
    assert tuple(x.grad.shape) == (0, cin, 5, 5) and float(w.grad.abs().sum()) == 0


ERRORS = [
    ("conv2d", (2, 3, 8, 8), (4, 2, 3, 3), {}),                        # channels
    ("conv2d", (2, 3, 2, 2), (4, 3, 3, 3), {}),                        # kernel larger than input
    ("conv2d", (2, 3), (4, 3, 3, 3), {}),                              # rank
    ("conv2d", (2, 3, 4, 5, 6, 7), (4, 3, 3, 3), {}),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(stride=2, padding="same")),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(padding="foo")),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(padding=-1)),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(stride=0)),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(dilation=0)),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(groups=0)),
    ("conv2d", (2, 4, 8, 8), (3, 2, 3, 3), dict(groups=2)),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), dict(stride=(1, 1, 1))),
    ("conv2d", (2, 3, 8, 8), (4, 3, 3), {}),
    ("conv1d", (2, 3, 8), (4, 3, 3), dict(padding=(1, 1))),
    ("conv_transpose2d", (2, 3, 8, 8), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (2, 3, 8, 8), (3, 4, 3, 3), dict(output_padding=1)),
    ("conv_transpose2d", (2, 3, 8, 8), (3, 4, 3, 3), dict(stride=2, output_padding=2)),
    ("conv_transpose2d", (2, 3, 2, 2), (3, 4, 3, 3), dict(padding=3)),
]


@pytest.mark.parametrize("fn,xs,ws,kw", ERRORS)
def test_errors(torch, fn, xs, ws, kw):
    x, w = np.ones(xs, np.float32), np.ones(ws, np.float32)
    with pytest.raises(Exception) as te:
        getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(w), **kw)
    with pytest.raises(Exception) as fe:
        getattr(FF, fn)(ferrum.tensor(x), ferrum.tensor(w), **kw)
    assert fe.type is te.type, (fe.value, te.value)


def test_error_messages():
    x = ferrum.ones(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match="expected input\\[2, 3, 8, 8\\] to have 2 channels, but got 3"):
        FF.conv2d(x, ferrum.ones(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        FF.conv2d(ferrum.ones(2, 3), ferrum.ones(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        FF.conv2d(ferrum.ones(2, 3, 2, 2), ferrum.ones(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        FF.conv2d(x, ferrum.ones(4, 3, 3, 3), ferrum.ones(3))
    with pytest.raises(RuntimeError, match="should be the same"):
        FF.conv2d(x, ferrum.ones(4, 3, 3, 3, dtype=ferrum.float64))
    with pytest.raises(TypeError):
        FF.conv2d(np.ones((2, 3, 8, 8)), ferrum.ones(4, 3, 3, 3))


@pytest.mark.parametrize("chunk,split_min", [(5, 1 << 30), (64, 1 << 30), (7, 16), (1 << 16, 16)])
def test_shifted_gemm_blocks(torch, monkeypatch, chunk, split_min):
    """The shifted-GEMM kernels run every tap on one block of output columns at a time, the
    columns split in halves over two threads above _SPLIT_MIN: small blocks (and a last partial
    one), split or not, give the same result."""
    from ferrum.ops import _im2col

    monkeypatch.setattr(_im2col, "CHUNK", chunk)
    monkeypatch.setattr(_im2col, "_SPLIT_MIN", split_min)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 16, 6, 7))
    w = rng.standard_normal((8, 16, 3, 2))
    b = rng.standard_normal(8)
    for kw in (dict(padding=1), dict(padding=(2, 1), dilation=2), dict(padding=0)):
        _assert_close(*_both(torch, "conv2d", [x, w, b], kw, "float64"), "float64")


@pytest.mark.parametrize("lay", ["cn", "cl"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("split_min", [16, 1 << 30])
def test_patch_layouts(torch, monkeypatch, lay, nd, split_min):
    """Both column orders of the im2col path (batch before or after the output positions, chosen
    by output row length), with the GEMM columns split over two threads or not, give torch's
    values and gradients."""
    from ferrum.ops import _im2col, conv

    monkeypatch.setattr(conv, "_lay", lambda out_sp, n: lay)
    monkeypatch.setattr(_im2col, "_SPLIT_MIN", split_min)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4) + SPATIAL[nd])
    w = rng.standard_normal((6, 2) + (3, 2, 2)[:nd])
    b = rng.standard_normal(6)
    for kw in (dict(padding=1, groups=2), dict(stride=2, dilation=(2,) * nd, groups=2)):
        _assert_close(*_both(torch, f"conv{nd}d", [x, w, b], kw, "float64"), "float64")
    wt = rng.standard_normal((4, 3) + (3, 2, 2)[:nd])
    _assert_close(*_both(torch, f"conv_transpose{nd}d", [x, wt, b[:3]], dict(stride=2, output_padding=1),
                         "float64"), "float64")
