"""one_hot, normalize, pad, cosine_similarity, pairwise_distance, pdist against torch."""

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck


def _rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _parity(torch, fn, arrays, dtype, rtol=None, atol=None, out_grad=True):
    """Runs fn(module, *tensors) in ferrum and torch; compares outputs and input gradients."""
    xs = [ferrum.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    xts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = fn(F, *xs)
    yt = fn(torch.nn.functional, *xts)
    r = rtol or (1e-5 if dtype == np.float32 else 1e-10)
    a = atol or (1e-6 if dtype == np.float32 else 1e-12)
    assert tuple(y.shape) == tuple(yt.shape)
    assert y.dtype == getattr(ferrum, np.dtype(dtype).name)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=r, atol=a)
    if out_grad:
        g = _rand(tuple(yt.shape), seed=11, dtype=dtype)
        y.backward(ferrum.tensor(g))
        yt.backward(torch.tensor(g))
        for x, xt in zip(xs, xts):
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=r, atol=a)


# --------------------------------------------------------------------------- one_hot
@pytest.mark.parametrize("shape,nc", [((5,), -1), ((5,), 7), ((2, 3), 4), ((), 3), ((0,), 4)])
def test_one_hot_matches_torch(torch, shape, nc):
    a = np.random.default_rng(0).integers(0, 3, shape).astype(np.int64)
    y = F.one_hot(ferrum.tensor(a), nc)
    yt = torch.nn.functional.one_hot(torch.tensor(a), nc)
    assert y.dtype == ferrum.int64
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ferrum.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ferrum.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ferrum.tensor([0.0, 2.0]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ferrum.tensor([0, 2], dtype=ferrum.int32))
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(ferrum.tensor([], dtype=ferrum.int64))
    with pytest.raises(TypeError):
        F.one_hot([0, 1])


# --------------------------------------------------------------------------- normalize
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"p": 1.0}, {"p": 3.0, "dim": 0}, {"dim": -1}, {"p": float("inf")}])
def test_normalize_matches_torch(torch, kw, dtype):
    _parity(torch, lambda f, x: f.normalize(x, **kw), [_rand((3, 4))], dtype)


def test_normalize_zero_row_uses_eps(torch):
    a = np.zeros((2, 3))
    a[1] = [1.0, 2.0, 2.0]
    _parity(torch, lambda f, x: f.normalize(x, dim=1), [a], np.float64)


def test_normalize_gradcheck():
    x = ferrum.tensor(_rand((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.normalize(t, dim=1), (x,))
    assert gradgradcheck(lambda t: F.normalize(t, dim=0), (x,))


# --------------------------------------------------------------------------- pad
PADS = [
    ((2, 3, 4), (1, 2), "constant", None),
    ((2, 3, 4), (1, 2), "constant", 3.5),
    ((2, 3, 4), (1, 2, 0, 1), "constant", -1.0),
    ((2, 3, 4), (1, 1, 2, 2, 3, 3), "constant", None),
    ((2, 3, 4), (-1, 2), "constant", None),
    ((2, 3, 4), (-2, -2, 1, -1), "constant", None),
    ((4,), (2, 0), "constant", None),
    ((2, 3, 4), (1, 2), "reflect", None),
    ((2, 3, 4), (3, 3), "reflect", None),
    ((2, 3, 4), (-1, 2), "reflect", None),
    ((2, 3, 4, 5), (1, 2, 2, 1), "reflect", None),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1), "reflect", None),
    ((3, 4), (2, 3), "reflect", None),
    ((2, 3, 4), (1, 2), "replicate", None),
    ((2, 3, 4), (9, 2), "replicate", None),
    ((2, 3, 4), (1, -2), "replicate", None),
    ((2, 3, 4, 5), (2, 1, 1, 3), "replicate", None),
    ((2, 2, 3, 4, 5), (1, 1, 2, 2, 1, 0), "replicate", None),
    ((2, 3, 4), (1, 2), "circular", None),
    ((2, 3, 4), (4, 2), "circular", None),
    ((2, 3, 4), (-1, 2), "circular", None),
    ((2, 3, 4, 5), (1, 2, 3, 1), "circular", None),
    ((2, 2, 3, 4, 5), (1, 1, 2, 2, 1, 0), "circular", None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pad,mode,value", PADS)
def test_pad_matches_torch(torch, shape, pad, mode, value, dtype):
    kw = {"mode": mode} if value is None else {"mode": mode, "value": value}
    _parity(torch, lambda f, x: f.pad(x, pad, **kw), [_rand(shape)], dtype)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = ferrum.tensor(_rand((1, 2, 3, 4)), requires_grad=True)
    pad = (1, 2, 2, 1) if mode != "constant" else (1, -1, 2, 0, 1, 1)
    assert gradcheck(lambda t: F.pad(t, pad, mode=mode), (x,))
    assert gradgradcheck(lambda t: F.pad(t, pad, mode=mode) ** 2, (x,))


def test_pad_integer_and_value_cast(torch):
    a = np.arange(3)
    assert F.pad(ferrum.tensor(a), (1, 1), value=1.5).tolist() == \
        torch.nn.functional.pad(torch.tensor(a), (1, 1), value=1.5).tolist()


def test_pad_errors():
    x = ferrum.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(x, (1,) * 8)
    with pytest.raises(RuntimeError):
        F.pad(x, (-3, -2))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(x, (4, 2), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (5, 2), mode="circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 2), mode="foo")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(x, (1, 2), mode="reflect", value=1.0)
    with pytest.raises(NotImplementedError, match="not supported for 1D"):
        F.pad(ferrum.randn(4), (1, 1), mode="replicate")
    with pytest.raises(NotImplementedError, match="not supported for 3D"):
        F.pad(x, (1, 1) * 3, mode="reflect")
    with pytest.raises(TypeError, match="tuple of ints"):
        F.pad(x, [1.5, 1])
    with pytest.raises(TypeError):
        F.pad(np.ones(3), (1, 1))


# --------------------------------------------------------------------------- similarities
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((3, 4), (4,), -1), ((2, 3, 4), (2, 3, 4), 0),
                                      ((2, 1, 4), (3, 4), 2)])
def test_cosine_similarity_matches_torch(torch, s1, s2, dim, dtype):
    _parity(torch, lambda f, a, b: f.cosine_similarity(a, b, dim=dim), [_rand(s1, 1), _rand(s2, 2)], dtype)


def test_cosine_similarity_tiny_vectors_use_eps(torch):
    a = np.array([[1e-9, 2e-9], [1.0, 2.0]])
    b = np.array([[3.0, 1.0], [1e-10, 0.0]])
    _parity(torch, lambda f, x, y: f.cosine_similarity(x, y), [a, b], np.float64, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s1,s2,kw", [((4, 5), (4, 5), {}), ((4, 5), (5,), {"keepdim": True}),
                                      ((3,), (3,), {}), ((4, 5), (4, 5), {"p": 1.0, "eps": 1e-3}),
                                      ((2, 3, 4), (2, 3, 4), {"p": 3.0})])
def test_pairwise_distance_matches_torch(torch, s1, s2, kw, dtype):
    _parity(torch, lambda f, a, b: f.pairwise_distance(a, b, **kw), [_rand(s1, 1), _rand(s2, 2)], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_pdist_matches_torch(torch, p, dtype):
    _parity(torch, lambda f, x: f.pdist(x, p), [_rand((5, 3))], dtype)


def test_similarity_gradchecks():
    a = ferrum.tensor(_rand((3, 4), 1), requires_grad=True)
    b = ferrum.tensor(_rand((3, 4), 2), requires_grad=True)
    for fn in (F.cosine_similarity, F.pairwise_distance):
        assert gradcheck(fn, (a, b))
        assert gradgradcheck(fn, (a, b))
    assert gradcheck(F.pdist, (a,))
    assert gradgradcheck(F.pdist, (a,))


def test_pdist_requires_2d():
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(ferrum.randn(3))
