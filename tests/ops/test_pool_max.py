"""ops/pool_max.py against torch 2.13: max_pool{1,2,3}d over kernel, stride, padding, dilation,
ceil_mode and return_indices (outputs, indices, gradients in float32 and float64, unbatched input),
both forward paths (blocks and strided windows), adaptive_max_pool, max_unpool, gradcheck and
gradgradcheck, bad input raising torch's exception types."""

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

from .pool_helpers import compare, distinct

DTYPES = ["float32", "float64"]

# (kernel, stride, padding, dilation, ceil_mode): blocks, overlapping, padded, dilated, ceil rules
GRID2 = [
    (2, None, 0, 1, False),
    (3, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    ((2, 3), (1, 2), (1, 0), 1, True),
    (2, 1, 0, 2, False),
    (3, 2, 1, (2, 1), True),
    (2, 3, 1, 1, True),
    ((1, 2), None, 0, 1, True),
    (1, None, 0, 1, False),  # a 1x1 kernel: the block path's result must not be a view of the input
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,d,ceil", GRID2)
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 6, 5)], ids=str)
@pytest.mark.parametrize("ri", [False, True])
def test_max_pool2d(torch, dtype, k, s, p, d, ceil, shape, ri):
    compare(torch, "max_pool2d", distinct(shape), dtype, k, s, p, d, ceil_mode=ceil, return_indices=ri)


GRID1 = [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (4, 3, 2, 1, True),
         (2, 3, 0, 1, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,d,ceil", GRID1)
@pytest.mark.parametrize("shape", [(2, 3, 11), (4, 9)], ids=str)
@pytest.mark.parametrize("ri", [False, True])
def test_max_pool1d(torch, dtype, k, s, p, d, ceil, shape, ri):
    compare(torch, "max_pool1d", distinct(shape), dtype, k, s, p, d, ceil, ri)


GRID3 = [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((1, 2, 3), (1, 2, 1), (0, 1, 1), 1, False),
         (2, 1, 1, (1, 2, 1), True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,d,ceil", GRID3)
@pytest.mark.parametrize("shape", [(2, 2, 4, 5, 6), (2, 5, 4, 5)], ids=str)
def test_max_pool3d(torch, dtype, k, s, p, d, ceil, shape):
    compare(torch, "max_pool3d", distinct(shape), dtype, k, s, p, d, ceil_mode=ceil, return_indices=True)


@pytest.mark.parametrize("fname,shape", [("max_pool2d", (0, 3, 4, 4)), ("max_pool3d", (0, 2, 4, 4, 4)),
                                         ("max_pool1d", (0, 3, 6))])
def test_empty_batch(torch, fname, shape):
    compare(torch, fname, np.zeros(shape), "float64", 2, grad=False)


def test_lenet_shapes_block_path(torch):
    # MaxPool2d(2) on LeNet's activations: the block path, forward and backward
    for shape in [(8, 6, 28, 28), (8, 16, 10, 10), (2, 3, 9, 7)]:
        compare(torch, "max_pool2d", distinct(shape), "float32", 2)


def test_minus_inf_windows_and_nan(torch):
    # a window whose valid elements are all -inf reports its first valid element, as torch
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 3, 3] = 1.0
    compare(torch, "max_pool2d", x, "float64", 3, 2, 1, return_indices=True, grad=False)
    x = distinct((2, 3, 8, 8))
    x[np.random.default_rng(0).random(x.shape) < 0.15] = np.nan
    for fn, args in [("max_pool2d", (2,)), ("max_pool2d", (3, 2, 1)), ("max_pool2d", (3, 1, 1, 2)),
                     ("adaptive_max_pool2d", (3,))]:
        y, i = getattr(F, fn)(ferrum.tensor(x), *args, return_indices=True)
        yt, it = getattr(torch.nn.functional, fn)(torch.tensor(x), *args, return_indices=True)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())  # NaN propagates
        # ferrum follows torch's CPU kernels here: the index of a window's last NaN
        np.testing.assert_array_equal(i.numpy(), it.numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64", "int32"])
def test_other_dtypes(torch, dtype):
    x = distinct((2, 3, 6, 6)) * 8
    fx = ferrum.tensor(x).to(getattr(ferrum, dtype))
    tx = torch.tensor(x).to(getattr(torch, dtype))
    y, i = F.max_pool2d(fx, 3, 2, 1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
    assert str(y.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_array_equal(y.float().numpy(), yt.float().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())


def test_half_backward(torch):
    x = distinct((2, 3, 6, 6))
    fx = ferrum.tensor(x, dtype=ferrum.float16, requires_grad=True)
    F.max_pool2d(fx, 2).sum().backward()
    tx = torch.tensor(x, dtype=torch.float16, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    assert fx.grad.dtype == ferrum.float16
    np.testing.assert_array_equal(fx.grad.float().numpy(), tx.grad.float().numpy())


CASES_GRAD = [
    lambda t: F.max_pool2d(t, 2),
    lambda t: F.max_pool2d(t, 3, 1, 1),
    lambda t: F.max_pool2d(t, 2, 1, 1, 2, True),
    lambda t: F.max_pool1d(t[0], 3, 2, 1),
    lambda t: F.max_pool3d(t.unsqueeze(0), 2, 1),
    lambda t: F.adaptive_max_pool2d(t, 3),
    lambda t: F.adaptive_max_pool1d(t[0], 2),
    lambda t: F.adaptive_max_pool3d(t.unsqueeze(0), (1, 2, 3)),
]


@pytest.mark.parametrize("i", range(len(CASES_GRAD)))
def test_gradcheck_gradgradcheck(i):
    x = ferrum.tensor(distinct((1, 2, 5, 5)), dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(CASES_GRAD[i], (x,))
    assert gradgradcheck(CASES_GRAD[i], (x,))


def test_double_backward_matches_torch(torch):
    x = distinct((2, 2, 6, 6))
    res = []
    for lib in (ferrum, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.max_pool2d(t, 3, 2, 1)
        g = lib.ones(y.shape, dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(y, t, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * t).sum(), g)
        res.append((gx.detach().numpy(), gg.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# --------------------------------------------------------------------------- adaptive max pool
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 3, (4, None), (5, 2), (7, 8), (2, 7)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 5, 6)], ids=str)
def test_adaptive_max_pool2d(torch, dtype, osz, shape):
    compare(torch, "adaptive_max_pool2d", distinct(shape), dtype, osz, return_indices=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 3, 4, 7])
@pytest.mark.parametrize("ri", [False, True])
def test_adaptive_max_pool1d(torch, dtype, osz, ri):
    compare(torch, "adaptive_max_pool1d", distinct((2, 3, 7)), dtype, osz, ri)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osz", [1, 2, (3, None, 2)], ids=str)
def test_adaptive_max_pool3d(torch, dtype, osz):
    compare(torch, "adaptive_max_pool3d", distinct((2, 2, 4, 5, 3)), dtype, osz, return_indices=True)


def test_adaptive_output_zero(torch):
    compare(torch, "adaptive_max_pool2d", distinct((2, 3, 4, 4)), "float64", 0, grad=False)


# --------------------------------------------------------------------------- max_unpool
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k,s,p,osz", [
    (1, 2, None, 0, None), (1, 3, 2, 1, "size"), (1, 2, None, 0, "size"),
    (2, 2, None, 0, None), (2, 3, 2, 1, "size"), (2, 2, 1, 0, "full"),
    (3, 2, None, 0, None), (3, 3, 2, 1, "full"),
])
@pytest.mark.parametrize("batched", [True, False])
def test_max_unpool(torch, dtype, n, k, s, p, osz, batched):
    spatial = {1: (8,), 2: (8, 6), 3: (4, 6, 4)}[n]
    shape = ((2,) if batched else ()) + (3,) + spatial
    osz = {None: None, "size": spatial, "full": shape[-n - 2:] if batched else (1,) + shape}[osz]
    if osz is not None and len(osz) == n + 2 and not batched:
        osz = spatial
    x = distinct(shape)
    tx = torch.tensor(x)
    _, idx = getattr(torch.nn.functional, f"max_pool{n}d")(tx, k, s, p, return_indices=True)
    vals = distinct(tuple(idx.shape), seed=2)
    fv = ferrum.tensor(vals, dtype=getattr(ferrum, dtype), requires_grad=True)
    tv = torch.tensor(vals, dtype=getattr(torch, dtype), requires_grad=True)
    fi = ferrum.tensor(idx.numpy())
    y = getattr(F, f"max_unpool{n}d")(fv, fi, k, s, p, osz)
    yt = getattr(torch.nn.functional, f"max_unpool{n}d")(tv, idx, k, s, p, osz)
    # overlapping windows (stride < kernel) can pick one position twice: which value lands there is
    # unspecified (torch's own kernel: the last write of its thread's loop), so such positions are
    # only checked to hold one of the values written there
    yf = y.detach().numpy().reshape(y.shape[:-n] + (-1,))
    ytf = yt.detach().numpy().reshape(yt.shape[:-n] + (-1,))
    fl_idx = idx.numpy().reshape(idx.shape[:-n] + (-1,))
    fl_vals = vals.astype(yf.dtype).reshape(fl_idx.shape)
    for plane in np.ndindex(fl_idx.shape[:-1]):
        pos, counts = np.unique(fl_idx[plane], return_counts=True)
        dup = pos[counts > 1]
        once = np.ones(yf.shape[-1], bool)
        once[dup] = False
        np.testing.assert_array_equal(yf[plane][once], ytf[plane][once])
        for q in dup:
            assert yf[plane][q] in fl_vals[plane][fl_idx[plane] == q]
    assert y.grad_fn.name() == yt.grad_fn.name()
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    y.backward(ferrum.tensor(g, dtype=y.dtype))
    yt.backward(torch.tensor(g, dtype=yt.dtype))
    np.testing.assert_array_equal(fv.grad.numpy(), tv.grad.numpy())


def test_max_unpool_gradcheck():
    x = ferrum.tensor(distinct((1, 2, 4, 4)))
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    v = ferrum.randn(1, 2, 2, 2, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, idx, 2), (v,))
    assert gradgradcheck(lambda t: F.max_unpool2d(t, idx, 2), (v,))


# --------------------------------------------------------------------------- bad input
BAD = [
    ("max_pool2d", (3, 8, 8), dict(kernel_size=2, stride=())),  # unbatched, stride () = kernel: no error
    ("max_pool2d", (8,), dict(kernel_size=2)),
    ("max_pool2d", (1, 2, 3, 4, 4), dict(kernel_size=2)),
    ("max_pool1d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool3d", (2, 3, 8), dict(kernel_size=2)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=2)),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=3, stride=1, padding=2, dilation=2)),  # undilated rule
    ("max_pool3d", (1, 1, 9, 9, 9), dict(kernel_size=2, stride=1, padding=2, dilation=3)),
    ("max_pool2d", (1, 1, 9, 9), dict(kernel_size=2, stride=1, padding=1, dilation=3)),  # allowed
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=5)),
    ("max_pool1d", (1, 1, 4), dict(kernel_size=5)),
    ("max_pool3d", (1, 1, 4, 4, 4), dict(kernel_size=5)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=0)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=0, stride=1)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, stride=0)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, dilation=0)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2, padding=-1)),
    ("max_pool1d", (1, 1, 4), dict(kernel_size=0)),
    ("max_pool1d", (1, 1, 4), dict(kernel_size=2, padding=2)),
    ("max_pool1d", (1, 1, 4), dict(kernel_size=2, dilation=0)),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=(1, 2, 3))),
    ("max_pool2d", (1, 1, 4, 4), dict(kernel_size=2.0)),
    ("max_pool2d", (2, 0, 4, 4), dict(kernel_size=2)),
    ("max_pool3d", (2, 0, 4, 4, 4), dict(kernel_size=2)),
    ("adaptive_max_pool2d", (1, 2, 3, 4, 4), dict(output_size=2)),
    ("adaptive_max_pool1d", (1, 2, 4, 4), dict(output_size=2)),
    ("adaptive_max_pool3d", (1, 4, 4), dict(output_size=2)),
    ("adaptive_max_pool2d", (2, 3, 0, 4), dict(output_size=2)),
    ("adaptive_max_pool1d", (2, 3, 0), dict(output_size=2)),
    ("adaptive_max_pool1d", (2, 3, 4), dict(output_size=None)),
    ("adaptive_max_pool1d", (2, 3, 4), dict(output_size=(2, 2))),
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


def test_unsupported_dtypes_and_messages(torch):
    with pytest.raises(NotImplementedError):
        F.max_pool2d(ferrum.ones(1, 4, 4, dtype=ferrum.bool), 2)
    with pytest.raises(NotImplementedError):
        F.max_pool1d(ferrum.ones(1, 4, dtype=ferrum.int64), 2)
    with pytest.raises(NotImplementedError):
        F.adaptive_max_pool2d(ferrum.ones(1, 4, 4, dtype=ferrum.int64), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(ferrum.ones(1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="non-empty 3D or 4D"):
        F.max_pool2d(ferrum.ones(4), 2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(ferrum.ones(1, 4, 4), 5)
    with pytest.raises(TypeError):
        F.max_pool2d([1.0], 2)


def test_max_unpool_bad_input(torch):
    v = ferrum.randn(1, 1, 2, 2)
    with pytest.raises(RuntimeError, match="invalid max index: 100"):
        F.max_unpool2d(v, ferrum.full((1, 1, 2, 2), 100, dtype=ferrum.int64), 2)
    with pytest.raises(RuntimeError, match="int64"):
        F.max_unpool2d(v, ferrum.zeros(1, 1, 2, 2, dtype=ferrum.int32), 2)
    with pytest.raises(RuntimeError, match="shape of indices"):
        F.max_unpool2d(v, ferrum.zeros(1, 1, 2, 3, dtype=ferrum.int64), 2)
    with pytest.raises(RuntimeError, match="3d or 4d"):
        F.max_unpool2d(ferrum.randn(1, 1, 1, 2, 2), ferrum.zeros(1, 1, 1, 2, 2, dtype=ferrum.int64), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(v, ferrum.zeros(1, 1, 2, 2, dtype=ferrum.int64), 2, output_size=(9, 9))
    with pytest.raises(ValueError, match="2 or 4 elements"):
        F.max_unpool2d(v, ferrum.zeros(1, 1, 2, 2, dtype=ferrum.int64), 2, output_size=(1, 5, 5))


@pytest.mark.parametrize("fname,shape,arg", [("max_pool1d", (2, 3, 8), 2), ("max_pool2d", (2, 3, 6, 6), 2),
                                             ("max_pool3d", (1, 2, 4, 4, 4), 2),
                                             ("adaptive_max_pool1d", (2, 3, 8), 3),
                                             ("adaptive_max_pool2d", (2, 3, 6, 6), 3),
                                             ("adaptive_max_pool3d", (1, 2, 4, 4, 4), 3)])
def test_with_indices_variants_return_pairs(torch, fname, shape, arg):
    # F.*_with_indices return (output, indices) even with return_indices=False, as torch's
    r = compare(torch, fname + "_with_indices", distinct(shape), "float64", arg)
    assert isinstance(r, tuple) and len(r) == 2


@pytest.mark.parametrize("fname,shape", [("max_pool1d", (1, 1, 2)), ("max_pool2d", (1, 1, 2, 2))])
def test_window_wholly_in_padding(torch, fname, shape):
    # kernel 2, dilation 3, padding 1 over a size-2 input: the one window's elements are both padding.
    # torch gives -inf and an index past the plane (its backward then writes out of bounds, so only
    # its forward is called here); ferrum's gradient is zero
    x = np.arange(4.0)[:int(np.prod(shape))].reshape(shape)
    yt, it = getattr(torch.nn.functional, fname)(torch.tensor(x), 2, 1, 1, 3, return_indices=True)
    a = ferrum.tensor(x, requires_grad=True)
    y, i = getattr(F, fname)(a, 2, 1, 1, 3, return_indices=True)
    np.testing.assert_array_equal(y.detach().numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros(shape))


@pytest.mark.parametrize("fname,shape,args", [
    ("max_pool1d", (0, 3, 8), (3, 2, 1)), ("max_pool2d", (0, 3, 8, 8), (2,)),
    ("max_pool2d", (0, 3, 8, 8), (3, 2, 1)),
    ("max_pool3d", (0, 2, 4, 4, 4), (2,)), ("adaptive_max_pool2d", (0, 3, 5, 4), (3,)),
    ("adaptive_max_pool2d", (2, 3, 5, 4), (0,)), ("adaptive_max_pool1d", (0, 3, 5), (2,))])
def test_empty_forward_and_backward(torch, fname, shape, args):
    a = ferrum.zeros(shape, requires_grad=True)
    y = getattr(F, fname)(a, *args)
    yt = getattr(torch.nn.functional, fname)(torch.zeros(shape), *args)
    assert tuple(y.shape) == tuple(yt.shape)
    y.sum().backward()
    assert tuple(a.grad.shape) == shape


def test_max_unpool_empty_batch():
    y, i = F.max_pool2d(ferrum.zeros(0, 3, 4, 4), 2, return_indices=True)
    z = F.max_unpool2d(y.requires_grad_(), i, 2)
    z.sum().backward()
    assert tuple(z.shape) == (0, 3, 4, 4) and tuple(y.grad.shape) == (0, 3, 2, 2)
