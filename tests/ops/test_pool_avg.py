"""ops/pool_avg.py against torch 2.13: avg_pool{1,2,3}d over kernel, stride, padding, ceil_mode,
count_include_pad and divisor_override; adaptive_avg_pool{1,2,3}d with None entries; lp_pool;
outputs and gradients in float32 and float64, unbatched input, integer inputs, gradcheck and
gradgradcheck (the forward/adjoint pair), bad input raising torch's exception types."""

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

from .pool_helpers import compare, distinct

DTYPES = ["float32", "float64"]

# (kernel, stride, padding, ceil_mode)
GRID2 = [(2, None, 0, False), (3, 2, 1, False), (3, 2, 1, True), ((2, 3), (1, 2), (1, 0), True),
         (3, 1, 1, False), (2, 3, 1, True), (4, 3, 2, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,ceil", GRID2)
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("div", [None, 3])
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 6, 5)], ids=str)
def test_avg_pool2d(torch, dtype, k, s, p, ceil, cip, div, shape):
    compare(torch, "avg_pool2d", distinct(shape), dtype, k, s, p, ceil, cip, div)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,ceil", [(2, None, 0, False), (3, 2, 1, True), (4, 3, 2, True),
                                        (3, 1, 1, False)])
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("shape", [(2, 3, 11), (4, 9)], ids=str)
def test_avg_pool1d(torch, dtype, k, s, p, ceil, cip, shape):
    compare(torch, "avg_pool1d", distinct(shape), dtype, k, s, p, ceil, cip)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,ceil", [(2, None, 0, False), (3, 2, 1, True),
                                        ((1, 2, 3), (1, 2, 1), (0, 1, 1), False)])
@pytest.mark.parametrize("cip,div", [(True, None), (False, None), (True, 5)])
@pytest.mark.parametrize("shape", [(2, 2, 4, 5, 6), (2, 5, 4, 5)], ids=str)
def test_avg_pool3d(torch, dtype, k, s, p, ceil, cip, div, shape):
    compare(torch, "avg_pool3d", distinct(shape), dtype, k, s, p, ceil, cip, div)


@pytest.mark.parametrize("fname,shape", [("avg_pool2d", (2, 3, 7, 6)), ("avg_pool3d", (1, 2, 4, 4, 5)),
                                         ("avg_pool1d", (2, 3, 9))])
@pytest.mark.parametrize("dtype", ["int64"])
def test_integer_inputs_truncate(torch, fname, shape, dtype):
    x = (distinct(shape) * 7).round()
    y = getattr(F, fname)(ferrum.tensor(x).to(getattr(ferrum, dtype)), 3, 2, 1)
    yt = getattr(torch.nn.functional, fname)(torch.tensor(x).to(getattr(torch, dtype)), 3, 2, 1)
    assert str(y.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


@pytest.mark.parametrize("div", [3, -2, -5])
@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_divisor_override_signs(torch, div, dtype):
    x = np.arange(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) - 50.0
    y = F.avg_pool2d(ferrum.tensor(x).to(getattr(ferrum, dtype)), 3, 2, 1, divisor_override=div)
    tx = torch.tensor(x).to(getattr(torch, dtype))
    yt = torch.nn.functional.avg_pool2d(tx, 3, 2, 1, divisor_override=div)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision(torch, dtype):
    x = distinct((2, 3, 6, 6))
    y = F.avg_pool2d(ferrum.tensor(x).to(getattr(ferrum, dtype)), 3, 2, 1)
    yt = torch.nn.functional.avg_pool2d(torch.tensor(x).to(getattr(torch, dtype)), 3, 2, 1)
    assert str(y.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_allclose(y.float().numpy(), yt.float().numpy(), rtol=1e-2, atol=1e-2)


def test_empty_batch(torch):
    compare(torch, "avg_pool2d", np.zeros((0, 3, 4, 4)), "float64", 2, grad=False)


# --------------------------------------------------------------------------- adaptive
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 3, (4, None), (5, 2), (7, 8), (None, 1), 0], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 5, 6)], ids=str)
def test_adaptive_avg_pool2d(torch, dtype, osz, shape):
    compare(torch, "adaptive_avg_pool2d", distinct(shape), dtype, osz)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 3, 4, 7])
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 5)], ids=str)
def test_adaptive_avg_pool1d(torch, dtype, osz, shape):
    compare(torch, "adaptive_avg_pool1d", distinct(shape), dtype, osz)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 2, (3, None, 2)], ids=str)
@pytest.mark.parametrize("shape", [(2, 2, 4, 5, 3), (2, 4, 5, 3)], ids=str)
def test_adaptive_avg_pool3d(torch, dtype, osz, shape):
    compare(torch, "adaptive_avg_pool3d", distinct(shape), dtype, osz)


# --------------------------------------------------------------------------- lp_pool
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", [1.0, 2.0, 3.0, 1.5])
@pytest.mark.parametrize("n,k,s,ceil", [(1, 3, None, False), (1, 2, 1, True), (2, 2, None, False),
                                        (2, (2, 3), 2, True), (3, 2, 1, False)])
def test_lp_pool(torch, dtype, norm, n, k, s, ceil):
    shape = (2, 3) + (7, 6, 5)[:n]
    x = np.abs(distinct(shape)) + 0.1  # away from 0, where x^p's derivative is not defined for p < 1
    compare(torch, f"lp_pool{n}d", x, dtype, norm, k, s, ceil)


# --------------------------------------------------------------------------- gradients
CASES_GRAD = [
    lambda t: F.avg_pool2d(t, 2),
    lambda t: F.avg_pool2d(t, 3, 2, 1, True, False),
    lambda t: F.avg_pool2d(t, 3, 1, 1, False, True, 2),
    lambda t: F.avg_pool1d(t[0], 3, 2, 1, True),
    lambda t: F.avg_pool3d(t.unsqueeze(0), 2, 1, 1, True, False),
    lambda t: F.adaptive_avg_pool2d(t, (3, 2)),
    lambda t: F.adaptive_avg_pool2d(t, 1),
    lambda t: F.adaptive_avg_pool1d(t[0], 3),
    lambda t: F.adaptive_avg_pool3d(t.unsqueeze(0), (1, 2, 3)),
    lambda t: F.lp_pool2d(t.abs() + 0.5, 2, 2),
]


@pytest.mark.parametrize("i", range(len(CASES_GRAD)))
def test_gradcheck_gradgradcheck(i):
    x = ferrum.tensor(distinct((1, 2, 5, 5)) + 0.05, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(CASES_GRAD[i], (x,))
    assert gradgradcheck(CASES_GRAD[i], (x,))


def test_double_backward_node_names(torch):
    for fn in ("avg_pool2d", "adaptive_avg_pool2d"):
        names = []
        for lib in (ferrum, torch):
            t = lib.randn(1, 2, 6, 6, dtype=lib.float64, requires_grad=True)
            y = getattr(lib.nn.functional, fn)(t, 3)
            g = lib.ones(y.shape, dtype=lib.float64, requires_grad=True)
            (gx,) = lib.autograd.grad(y, t, g, create_graph=True)
            names.append((y.grad_fn.name(), gx.grad_fn.name()))
        assert names[0] == names[1]


# --------------------------------------------------------------------------- bad input
BAD = [
    ("avg_pool2d", (8,), dict(kernel_size=2)),
    ("avg_pool2d", (8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (1, 2, 3, 4, 4), dict(kernel_size=2)),
    ("avg_pool1d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool3d", (2, 3, 8), dict(kernel_size=2)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=2)),
    ("avg_pool1d", (1, 1, 4), dict(kernel_size=2, padding=2)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=5)),
    ("avg_pool3d", (1, 1, 4, 4, 4), dict(kernel_size=5)),
    ("avg_pool1d", (1, 1, 4), dict(kernel_size=5)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=0)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=0, stride=1)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, stride=0)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=-1)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, divisor_override=0)),
    ("avg_pool3d", (1, 1, 4, 4, 4), dict(kernel_size=2, divisor_override=0)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=(1, 2, 3))),
    ("avg_pool1d", (1, 1, 4), dict(kernel_size=(1, 2))),
    ("avg_pool2d", (2, 0, 4, 4), dict(kernel_size=2)),
    ("avg_pool3d", (2, 0, 4, 4, 4), dict(kernel_size=2)),
    ("adaptive_avg_pool2d", (1, 2, 3, 4, 4), dict(output_size=2)),
    ("adaptive_avg_pool1d", (1, 2, 4, 4), dict(output_size=2)),
    ("adaptive_avg_pool3d", (1, 4, 4), dict(output_size=2)),
    ("adaptive_avg_pool2d", (2, 3, 0, 4), dict(output_size=2)),
    ("adaptive_avg_pool1d", (2, 3, 0), dict(output_size=2)),
    ("adaptive_avg_pool2d", (2, 3, 4, 4), dict(output_size=-1)),
    ("adaptive_avg_pool2d", (2, 3, 4, 4), dict(output_size=(1, 2, 3))),
    ("adaptive_avg_pool3d", (2, 3, 4, 4, 4), dict(output_size=(1, 2))),
    ("adaptive_avg_pool1d", (2, 3, 4), dict(output_size=(2, 2))),
]


@pytest.mark.parametrize("fname,shape,kw", BAD, ids=[f"{b[0]}-{b[1]}-{b[2]}" for b in BAD])
def test_bad_input_types(torch, fname, shape, kw):
    x = np.random.default_rng(0).standard_normal(shape)
    errs = []
    for lib in (ferrum, torch):
        try:
            getattr(lib.nn.functional, fname)(lib.tensor(x), **kw)
            errs.append(None)
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            errs.append(type(e).__name__)
    assert errs[0] == errs[1]


def test_unsupported_dtypes(torch):
    with pytest.raises(NotImplementedError):
        F.avg_pool2d(ferrum.ones(1, 4, 4, dtype=ferrum.uint8), 2)
    with pytest.raises(NotImplementedError):
        F.avg_pool2d(ferrum.ones(1, 4, 4, dtype=ferrum.int32), 2)
    with pytest.raises(NotImplementedError):
        F.adaptive_avg_pool2d(ferrum.ones(1, 4, 4, dtype=ferrum.int64), 2)


@pytest.mark.parametrize("fname,shape,args", [
    ("avg_pool1d", (0, 3, 8), (3, 2, 1)), ("avg_pool2d", (0, 3, 8, 8), (2,)),
    ("avg_pool3d", (0, 2, 4, 4, 4), (2,)),
    ("adaptive_avg_pool2d", (0, 3, 4, 4), (1,)), ("adaptive_avg_pool2d", (0, 3, 5, 4), (3,)),
    ("adaptive_avg_pool2d", (2, 3, 5, 4), (0,)), ("lp_pool2d", (0, 3, 4, 4), (2.0, 2))])
def test_empty_forward_and_backward(torch, fname, shape, args):
    a = ferrum.zeros(shape, requires_grad=True)
    y = getattr(F, fname)(a, *args)
    yt = getattr(torch.nn.functional, fname)(torch.zeros(shape), *args)
    assert tuple(y.shape) == tuple(yt.shape)
    y.sum().backward()
    assert tuple(a.grad.shape) == shape
