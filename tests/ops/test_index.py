"""Tests of ferrum.ops.index: indexing and setitem, gather/scatter, index_*, masked_*, take, put,
nonzero. Forward against NumPy and torch, gradients against torch and finite differences
(gradcheck / gradgradcheck), views, in-place autograd, error types."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import ft_copy as ft

RNG = np.random.default_rng(7)


# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG)
close = closeness(rtol=1e-6, atol=1e-7)


class I(list):  # noqa: E742 - an int64 index tensor in a key spec
    pass


class B(list):  # a bool mask tensor in a key spec
    pass


class N:  # a NumPy array in a key spec
    def __init__(self, a):
        self.a = np.asarray(a)

    def __repr__(self):  # stable test ids across xdist workers
        return f"N({self.a.tolist()})"


def conv(key, lib):
    """Builds a key for ``lib`` (ferrum or torch) from a spec."""
    if isinstance(key, tuple):
        return tuple(conv(k, lib) for k in key)
    if isinstance(key, I):
        return lib.tensor(list(key), dtype=lib.int64)
    if isinstance(key, B):
        return lib.tensor(list(key), dtype=lib.bool)
    if isinstance(key, N):
        return key.a
    return key


SHAPE = (3, 4, 5)
KEYS = [
    0, -1, 2, (1, 2), (0, -1, 3), slice(None), slice(1, None), slice(None, None, 2), slice(-2, None),
    slice(1, 100), slice(5, 1), (slice(None), 1), (slice(None), slice(1, 3), -1), (Ellipsis, 0),
    (0, Ellipsis), (Ellipsis, None), None, (None, 0, None), (slice(None), None, 2), Ellipsis, (),
    (1, slice(None, None, 3), slice(1, None, 2)),
    # advanced
    I([0, 2]), I([-1, 0, 0]), I([[0, 1], [2, 2]]), [0, 2], [[0, 1], [1, 2]], N([2, 0]),
    (slice(None), I([1, 3])), (I([0, 1]), I([1, 2])), (I([0, 1]), slice(None), I([1, 2])),
    (I([[0], [1]]), I([1, 2, 3])), (Ellipsis, I([0, 4])), (None, I([0, 1])), (I([0, 1]), None, I([0, 1])),
    (slice(1, None), I([0, 0, 1]), slice(None, 2)),
    # ints mixed with index arrays (PyTorch applies the ints first)
    (0, slice(None), I([1, 2])), (I([0, 1]), slice(None), 0), (1, I([0, 2])), (slice(None), 0, I([1, 1])),
    (I([0, 2]), 1, I([1, 3])),
    # masks
    B([True, False, True]), (slice(None), B([True, False, True, True])), True, False, (0, B([1, 0, 1, 0])),
    (B([True, False, True]), I([0, 3])),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k)[:50] for k in KEYS])
def test_getitem_forward_matches_torch(torch, key):
    a = arr(SHAPE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = tt(torch, a)[conv(key, torch)]
    got = ft(a)[conv(key, F)]
    close(got, want)


@pytest.mark.parametrize("key", [0, (1, 2), slice(1, None), (slice(None), -1), None, Ellipsis,
                                 (Ellipsis, None, 0), (0, 1, 2), (slice(None, None, 2), 1)])
def test_basic_indexing_is_a_view(key):
    x = ft(arr(SHAPE))
    y = x[key]
    assert y._view is not None and y._view[0] is x
    assert y._version is x._version
    assert np.shares_memory(y._data, x._data)
    assert isinstance(y._data, np.ndarray)
    # writes through the view are visible in the base (and bump the shared version)
    v0 = x._version[0]
    y.fill_(7.0)
    assert x._version[0] > v0
    assert np.all(x._data[key] == 7.0)


def test_full_int_key_gives_0d_view():
    x = ft(arr((3, 4)))
    y = x[1, 2]
    assert y.shape == () and np.shares_memory(y._data, x._data)
    y.zero_()
    assert x._data[1, 2] == 0


@pytest.mark.parametrize("key", [[0], (0, [1, 2]), B([True, False, True]), I([1]), True])
def test_advanced_indexing_copies(key):
    x = ft(arr(SHAPE))
    y = x[conv(key, F)]
    assert y._view is None
    assert not np.shares_memory(y._data, x._data)


def test_zero_d_tensor_and_numpy_int_indices():
    a = arr(SHAPE)
    x = ft(a)
    close(x[F.tensor(1)], a[1])
    assert x[F.tensor(1)]._view is not None  # a 0-d integer tensor indexes like an int
    close(x[np.int64(2), F.tensor(-1)], a[2, -1])
    close(x[np.array(1)], a[1])
    close(x[F.tensor(0):F.tensor(2)], a[0:2])
    close(x[:, np.array([3, 0], dtype=np.int32)], a[:, [3, 0]])


def test_getitem_numpy_semantics():
    a = arr((4, 5, 6))
    x = ft(a)
    idx = np.array([[0, 3], [2, 1]])
    close(x[idx], a[idx])
    close(x[:, idx, 1:3], a[:, idx, 1:3])
    mask = a > 0
    close(x[ft(mask)], a[mask])
    close(x[ft(mask[:, :, 0])], a[mask[:, :, 0]])
    close(x[..., [0, 5]], a[..., [0, 5]])
    close(x[[]], a[np.array([], dtype=np.int64)])


def test_getitem_dtypes():
    for dt in (np.float32, np.int64, np.int32, np.bool_, np.complex64):
        a = arr((3, 4)).astype(dt)
        x = ft(a)
        assert x[1].dtype == x.dtype and x[[0, 2]].dtype == x.dtype
        close(x[[0, 2], 1:], a[[0, 2], 1:])


def test_getitem_noncontiguous_input():
    a = arr((4, 6))
    x = ft(a)[:, ::2]  # strided view
    close(x[[0, 3], 1], a[:, ::2][[0, 3], 1])
    close(x[1:, -1], a[:, ::2][1:, -1])


@pytest.mark.parametrize("key, exc", [
    (3, IndexError), (-4, IndexError), ((0, 0, 0, 0), IndexError), (1.5, IndexError),
    (slice(None, None, -1), ValueError), (slice(None, None, 0), ValueError), ("a", IndexError),
    (I([5]), IndexError), ((slice(None), I([-6])), IndexError), (B([True, False]), IndexError),
    ((I([0, 1]), I([0, 1, 2])), IndexError), ((Ellipsis, Ellipsis), IndexError),
])
def test_getitem_errors(torch, key, exc):
    x = ft(arr(SHAPE))
    with pytest.raises(exc):
        x[conv(key, F)]


def test_getitem_error_messages():
    x = ft(arr((3, 4)))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 1 with size 4"):
        x[0, 7]
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        x[F.tensor([0, 5])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="0-dim"):
        F.tensor(1.0)[0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="tensors used as indices"):
        x[F.tensor([0.5])]
    with pytest.raises(TypeError):
        x[F.tensor(0.0):2]


# --------------------------------------------------------------------------- getitem autograd
GRAD_KEYS = [0, (1, slice(1, 3)), (slice(None), -1), (Ellipsis, None, 2), (slice(None, None, 2), 1, None),
             I([0, 0, 2]), (slice(None), I([1, 1, 1, 3])), (I([0, 2, 0]), slice(None), I([1, 1, 1])),
             (0, slice(None), I([4, 4])), B([True, False, True]), (B([True, True, False]), I([1, 1]))]


@pytest.mark.parametrize("key", GRAD_KEYS, ids=[repr(k)[:50] for k in GRAD_KEYS])
def test_getitem_grad_matches_torch(torch, key):
    a = arr(SHAPE)
    xt = tt(torch, a, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = xt[conv(key, torch)]
    g = arr(tuple(yt.shape))
    yt.backward(torch.from_numpy(g))
    x = ft(a, True)
    y = x[conv(key, F)]
    y.backward(F.tensor(g))
    close(x.grad, xt.grad)  # duplicate indices accumulate


@pytest.mark.parametrize("key", [1, (slice(None), slice(1, 3)), (None, Ellipsis, 0), [2, 0, 2],
                                 (I([1, 1]), slice(None), I([0, 4])), (0, slice(None), I([3, 3]))])
def test_getitem_gradcheck(key):
    x = ft(arr((3, 4, 5)), True)
    k = conv(key, F)
    assert gradcheck(lambda t: t[k] * 1.5, (x,))
    assert gradgradcheck(lambda t: t[k] * t[k], (x,))


def test_getitem_no_grad_and_detached():
    x = ft(arr((3, 4)), True)
    with F.no_grad():
        y = x[0]
        z = x[[0, 1]]
    assert not y.requires_grad and y.grad_fn is None and not z.requires_grad
    assert x[0].requires_grad and x[0].grad_fn is not None
    assert not x.detach()[0].requires_grad


def test_getitem_of_view_chain_grad(torch):
    a = arr((4, 5, 6))
    x = ft(a, True)
    y = x[1:][:, 2][..., [0, 0, 5]]
    g = arr(tuple(y.shape))
    y.backward(F.tensor(g))
    xt = tt(torch, a, True)
    xt[1:][:, 2][..., [0, 0, 5]].backward(torch.from_numpy(g))
    close(x.grad, xt.grad)


# --------------------------------------------------------------------------- setitem
SET_CASES = [
    (0, 5.0), (slice(1, None), 2), ((slice(None), 1), -1.5), ((0, 1, 2), 3.0),
    (1, "row"), (slice(None), "row"), ((slice(None), slice(None), 0), "col"),
    (I([0, 2]), "row"), ((slice(None), I([0, 3])), "adv"), (B([True, False, True]), 9.0),
    ((0, slice(None), I([1, 2])), "adv"), (Ellipsis, 1.0), ((None, 0), "row1"),
    (B([True, False, True]), "mask"),
]


def _value(spec, target_shape):
    if not isinstance(spec, str):
        return spec
    if spec == "row":
        return arr(target_shape[-1:])
    if spec == "row1":  # leading ones are stripped
        return arr((1, 1) + target_shape[-1:])
    if spec == "col":
        return arr(target_shape[:-1] + (1,))
    return arr(target_shape)


@pytest.mark.parametrize("key, vspec", SET_CASES, ids=[f"{k!r:.30}-{v}" for k, v in SET_CASES])
def test_setitem_matches_torch(torch, key, vspec):
    a = arr((3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target = tuple(torch.from_numpy(a)[conv(key, torch)].shape)
        v = _value(vspec, target)
        xt = tt(torch, a)
        xt[conv(key, torch)] = torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
    x = ft(a)
    v0 = x._version[0]
    x[conv(key, F)] = ft(v) if isinstance(v, np.ndarray) else v
    assert x._version[0] == v0 + 1
    close(x, xt)


def test_setitem_casts_and_numbers(torch):
    x = F.zeros(4, dtype=F.int64)
    x[0] = 1.7
    x[1:3] = F.tensor([2.5, -1.5])
    x[3] = True
    xt = torch.zeros(4, dtype=torch.int64)
    xt[0] = 1.7
    xt[1:3] = torch.tensor([2.5, -1.5])
    xt[3] = True
    close(x, xt)
    y = F.zeros(3)
    y[F.tensor([0, 2])] = F.tensor(2, dtype=F.float32)
    close(y, np.array([2.0, 0.0, 2.0], dtype=np.float32))
    # an advanced-index write of another dtype is refused, as in PyTorch (issue 9, defect 26)
    for lib in (F, torch):
        y = lib.zeros(3)
        with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes"):
            y[lib.tensor([0, 2])] = lib.tensor(2, dtype=lib.float64)
    b = F.zeros(3, dtype=F.bool)
    b[1] = 1
    assert b.tolist() == [False, True, False]


def test_setitem_through_view_and_on_view():
    x = F.zeros(3, 4)
    v = x[1]
    v[2] = 5.0
    assert x[1, 2].item() == 5.0
    x[:, 0] = F.tensor([1.0, 2.0, 3.0])
    assert v[0].item() == 2.0
    x[0][[1, 3]] = 4.0  # advanced setitem on a basic view writes into the base
    assert x[0].tolist() == [1.0, 4.0, 0.0, 4.0]


def test_setitem_duplicates_and_overlap():
    x = F.zeros(4)
    x[F.tensor([1, 1, 1])] = F.tensor([3.0, 3.0, 3.0])
    assert x.tolist() == [0.0, 3.0, 0.0, 0.0]
    y = F.arange(6.0)
    y[1:] = y[:-1].clone()
    assert y.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]


def test_setitem_errors():
    x = F.zeros(3, 4)
    with pytest.raises(TypeError, match="can't assign a list"):
        x[0] = [1, 2, 3, 4]
    with pytest.raises(TypeError):
        x[0] = np.ones(4)
    with pytest.raises(TypeError):
        x[0] = "a"
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = F.ones(3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[F.tensor([0, 1])] = F.ones(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5] = 1.0
    with pytest.raises(IndexError):
        x[F.tensor([0, 7])] = 1.0
    with pytest.raises(ValueError):
        x[::-1] = 1.0
    with pytest.raises(RuntimeError):
        x[0] = 1 + 2j
    # a row of an expanded tensor holds distinct memory (PyTorch writes it); a column does not
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        F.zeros(4).expand(3, 4)[:, 0] = 1.0


def test_setitem_leaf_requires_grad():
    x = ft(arr((3,)), True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[[0, 1]] = 1.0
    with F.no_grad():
        x[0] = 1.0  # allowed under no_grad
    assert x[0].item() == 1.0 and x.grad_fn is None and x.requires_grad


def test_setitem_grad_matches_torch(torch):
    a, va = arr((3, 4)), arr((2, 4))
    for key in [I([0, 2]), (slice(None, 2),), (slice(1, None), slice(None))]:
        x, v = ft(a, True), ft(va, True)
        y = x * 2
        y[conv(key, F)] = v
        xt, vt = tt(torch, a, True), tt(torch, va, True)
        yt = xt * 2
        yt[conv(key, torch)] = vt
        g = arr((3, 4))
        y.backward(F.tensor(g))
        yt.backward(torch.from_numpy(g))
        close(y, yt)
        close(x.grad, xt.grad)
        close(v.grad, vt.grad)


def test_setitem_broadcast_value_grad(torch):
    a, va = arr((3, 4)), arr((4,))
    x, v = ft(a, True), ft(va, True)
    y = x + 0
    y[F.tensor([0, 2])] = v
    g = arr((3, 4))
    y.backward(F.tensor(g))
    xt, vt = tt(torch, a, True), tt(torch, va, True)
    yt = xt + 0
    yt[torch.tensor([0, 2])] = vt
    yt.backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    close(v.grad, vt.grad)


def test_setitem_split_key_grad_on_view(torch):
    a, va = arr((3, 4, 5)), arr((4, 2))
    x, v = ft(a, True), ft(va, True)
    y = x * 1
    z = y[1:]
    z[0, :, [1, 3]] = v
    g = arr((2, 4, 5))
    z.backward(F.tensor(g))
    xt, vt = tt(torch, a, True), tt(torch, va, True)
    zt = (xt * 1)[1:]
    zt[0, :, [1, 3]] = vt
    zt.backward(torch.from_numpy(g))
    close(z, zt)
    close(x.grad, xt.grad)
    close(v.grad, vt.grad)


def test_inplace_on_view_of_non_leaf(torch):
    a = arr((4, 3))
    x = ft(a, True)
    y = x * 2
    y[0] = 0
    y[1:].mul_(3)
    y.sum().backward()
    xt = tt(torch, a, True)
    yt = xt * 2
    yt[0] = 0
    yt[1:].mul_(3)
    yt.sum().backward()
    close(y, yt)
    close(x.grad, xt.grad)


def test_setitem_after_saved_output_raises():
    x = ft(arr((3,)), True)
    y = x.sigmoid()
    y[0] = 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_setitem_value_grad_only():
    # self does not require grad, the value does
    x = F.zeros(3, 2)
    v = ft(np.array([1.0, 2.0]), True)
    x[1] = v * 3
    assert x.requires_grad
    (x * ft(arr((3, 2)))).sum().backward()
    assert v.grad is not None and v.grad.shape == (2,)


def test_setitem_gradcheck():
    def f(x, v):
        y = x * 1
        y[[0, 2]] = v
        y[1, 1:] = v[0, :2] * 2
        return y
    x, v = ft(arr((3, 3)), True), ft(arr((2, 3)), True)
    assert gradcheck(f, (x, v))
    assert gradgradcheck(lambda x, v: f(x, v) ** 2, (x, v))


# --------------------------------------------------------------------------- index_select / gather
def test_index_select(torch):
    a = arr((3, 4, 5))
    for dim in (0, 1, -1):
        idx = [0, 2, 2, 1]
        close(F.index_select(ft(a), dim, F.tensor(idx)),
              torch.index_select(tt(torch, a), dim, torch.tensor(idx)))
        close(ft(a).index_select(dim, F.tensor(idx, dtype=F.int32)), np.take(a, idx, axis=dim))
    close(ft(a).index_select(1, F.tensor(2)), torch.index_select(tt(torch, a), 1, torch.tensor(2)))
    close(F.tensor(3.0).index_select(0, F.tensor([0])), torch.tensor(3.0, dtype=torch.float32))
    close(ft(a).index_select(0, F.tensor([], dtype=F.int64)), np.zeros((0, 4, 5)))


def test_index_select_grad(torch):
    a = arr((4, 3))
    x, xt = ft(a, True), tt(torch, a, True)
    g = arr((5, 3))
    x.index_select(0, F.tensor([1, 1, 3, 0, 1])).backward(F.tensor(g))
    xt.index_select(0, torch.tensor([1, 1, 3, 0, 1])).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    assert gradcheck(lambda t: t.index_select(1, F.tensor([2, 0, 2])), (x,))
    assert gradgradcheck(lambda t: t.index_select(1, F.tensor([2, 0, 2])) ** 2, (x,))


def test_gather(torch):
    a = arr((3, 4, 5))
    for dim in range(3):
        shape = [2, 3, 4]
        idx = RNG.integers(0, a.shape[dim], size=shape)
        close(F.gather(ft(a), dim, F.tensor(idx)), torch.gather(tt(torch, a), dim, torch.from_numpy(idx)))
    idx = RNG.integers(0, 4, size=(3, 4, 5))
    close(ft(a).gather(1, F.tensor(idx)), np.take_along_axis(a, idx, axis=1))
    close(F.tensor(2.0).gather(0, F.tensor(0)), np.float32(2.0))


def test_gather_grad_duplicates(torch):
    a = arr((3, 4))
    idx = np.array([[0, 0, 0], [3, 3, 1]])
    x, xt = ft(a, True), tt(torch, a, True)
    g = arr((2, 3))
    x.gather(1, F.tensor(idx)).backward(F.tensor(g))
    xt.gather(1, torch.from_numpy(idx)).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    assert gradcheck(lambda t: t.gather(0, F.tensor([[2, 0, 0, 1]])), (x,))
    assert gradgradcheck(lambda t: t.gather(1, F.tensor(idx)) ** 2, (x,))


def test_gather_errors():
    x = ft(arr((2, 3)))
    with pytest.raises(RuntimeError, match="gather\\(\\): Expected dtype int"):
        x.gather(1, F.tensor([[1.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, F.tensor([1]))
    with pytest.raises(RuntimeError, match="Size does not match"):
        x.gather(0, F.zeros(2, 5, dtype=F.int64))
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"):
        x.gather(1, F.tensor([[5]]))
    with pytest.raises(RuntimeError):
        x.gather(1, F.tensor([[-1]]))
    with pytest.raises(IndexError):
        x.gather(3, F.tensor([[0]]))
    with pytest.raises(TypeError):
        x.gather(1, [[0]])
    with pytest.raises(TypeError):
        x.gather(1.5, F.tensor([[0]]))


def test_index_select_errors():
    x = ft(arr((2, 3)))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        x.index_select(1, F.tensor([3]))
    with pytest.raises(IndexError):
        x.index_select(1, F.tensor([-1]))
    with pytest.raises(RuntimeError, match="int32 or int64"):
        x.index_select(1, F.tensor([1.0]))
    with pytest.raises(IndexError, match="vector"):
        x.index_select(1, F.tensor([[1]]))
    with pytest.raises(TypeError):
        F.index_select([1, 2], 0, F.tensor([0]))


# --------------------------------------------------------------------------- scatter family
def test_scatter_forward(torch):
    a = arr((3, 5))
    idx = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])
    src = arr((2, 4))
    bigsrc = arr((4, 6))
    for dim, ix in ((0, idx), (1, np.array([[4, 0, 2], [1, 3, 3]]))):
        it = torch.from_numpy(ix)
        if dim == 1:
            ix = np.array([[4, 0, 2], [1, 3, 0]])  # no duplicates: plain scatter is deterministic
            it = torch.from_numpy(ix)
        close(F.scatter(ft(a), dim, F.tensor(ix), ft(bigsrc)), torch.scatter(tt(torch, a), dim, it,
                                                                           tt(torch, bigsrc)))
        close(ft(a).scatter(dim, F.tensor(ix), 2.5), tt(torch, a).scatter(dim, it, 2.5))
        close(ft(a).scatter(dim, F.tensor(ix), value=-1), tt(torch, a).scatter(dim, it, value=-1))
        close(ft(a).scatter_add(dim, F.tensor(ix), ft(src)),
              tt(torch, a).scatter_add(dim, it, tt(torch, src)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            close(ft(a).scatter(dim, F.tensor(ix), ft(src), reduce="add"),
                  tt(torch, a).scatter(dim, it, tt(torch, src), reduce="add"))
            close(ft(a).scatter(dim, F.tensor(ix), ft(src), reduce="multiply"),
                  tt(torch, a).scatter(dim, it, tt(torch, src), reduce="multiply"))


def test_scatter_add_duplicates_accumulate(torch):
    x = F.zeros(5).scatter_add(0, F.tensor([1, 1, 1, 4]), F.ones(4))
    assert x.tolist() == [0.0, 3.0, 0.0, 0.0, 1.0]
    y = F.zeros(2, 3, dtype=F.int64)
    y.scatter_add_(1, F.tensor([[0, 0], [2, 2]]), F.tensor([[1, 2], [3, 4]]))
    assert y.tolist() == [[3, 0, 0], [0, 0, 7]]


def test_scatter_grads(torch):
    a, s = arr((3, 5)), arr((2, 4))
    idx = np.array([[0, 1, 2, 3], [4, 3, 2, 1]])  # unique per row: scatter's value is well defined
    g = arr((3, 5))
    for op in ("scatter", "scatter_add"):
        x, src = ft(a, True), ft(s, True)
        xt, st = tt(torch, a, True), tt(torch, s, True)
        getattr(x, op)(1, F.tensor(idx), src).backward(F.tensor(g))
        getattr(xt, op)(1, torch.from_numpy(idx), st).backward(torch.from_numpy(g))
        close(x.grad, xt.grad)
        close(src.grad, st.grad)
    x, src = ft(a, True), ft(arr((3, 4)), True)  # src larger than index: only its leading part is used
    it = F.tensor(idx)
    assert gradcheck(lambda t, u: t.scatter(1, it, u), (x, src))
    assert gradgradcheck(lambda t, u: t.scatter(1, it, u) ** 2, (x, src))
    assert gradcheck(lambda t, u: t.scatter_add(1, F.tensor([[0, 0, 0, 4]]), u), (x, src))
    assert gradgradcheck(lambda t, u: t.scatter_add(0, F.tensor([[0, 0, 2, 2]]), u) ** 2, (x, src))
    assert gradcheck(lambda t: t.scatter(0, F.tensor([[1, 2]]), 3.0), (x,))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(torch, reduce, include_self):
    a = arr((3, 5))
    s = arr((3, 4))
    s[0, 1] = s[0, 0]  # ties for amax/amin
    idx = np.array([[0, 0, 2, 4], [1, 1, 1, 0], [3, 0, 3, 0]])
    x, src = ft(a, True), ft(s, True)
    xt, st = tt(torch, a, True), tt(torch, s, True)
    r = x.scatter_reduce(1, F.tensor(idx), src, reduce, include_self=include_self)
    rt = xt.scatter_reduce(1, torch.from_numpy(idx), st, reduce, include_self=include_self)
    close(r, rt, rtol=1e-10)
    g = arr((3, 5))
    r.backward(F.tensor(g))
    rt.backward(torch.from_numpy(g))
    close(x.grad, xt.grad, rtol=1e-8)
    close(src.grad, st.grad, rtol=1e-8)
    it = F.tensor(idx)
    assert gradcheck(lambda t, u: t.scatter_reduce(1, it, u, reduce, include_self=include_self), (x, src))
    if reduce not in ("amax", "amin"):  # piecewise-linear: second derivative is 0, fine, but ties break FD
        assert gradgradcheck(lambda t, u: t.scatter_reduce(1, it, u, reduce, include_self=include_self),
                             (x, src))


def test_scatter_reduce_prod_with_zeros(torch):
    a = np.array([1.0, 2.0, 3.0, 0.0])
    s = np.array([2.0, 0.0, 5.0, 0.0, 4.0])
    idx = np.array([0, 0, 1, 3, 2])
    x, src = ft(a, True), ft(s, True)
    xt, st = tt(torch, a, True), tt(torch, s, True)
    r = x.scatter_reduce(0, F.tensor(idx), src, "prod")
    rt = xt.scatter_reduce(0, torch.from_numpy(idx), st, "prod")
    close(r, rt)
    g = np.array([1.0, 2.0, 3.0, 4.0])
    r.backward(F.tensor(g))
    rt.backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    close(src.grad, st.grad)


def test_scatter_reduce_int_mean(torch):
    a = np.array([2, 2, 3, 4])
    idx = np.array([0, 0, 1])
    for s in (np.array([1, 2, 2]), np.array([-1, -2, -6])):
        for inc in (True, False):
            close(ft(a).scatter_reduce(0, F.tensor(idx), ft(s), "mean", include_self=inc),
                  tt(torch, a).scatter_reduce(0, torch.from_numpy(idx), tt(torch, s), "mean",
                                              include_self=inc))


def test_scatter_inplace(torch):
    a, s = arr((3, 4)), arr((3, 4))
    idx = np.array([[0, 1, 2, 0]])
    x = ft(a)
    assert x.scatter_(0, F.tensor(idx), ft(s)) is x
    xt = tt(torch, a).scatter_(0, torch.from_numpy(idx), tt(torch, s))
    close(x, xt)
    x.scatter_(1, F.tensor([[3]]), 9.0)
    xt.scatter_(1, torch.tensor([[3]]), 9.0)
    close(x, xt)
    x.scatter_reduce_(0, F.tensor(idx), ft(s), "amax")
    xt.scatter_reduce_(0, torch.from_numpy(idx), tt(torch, s), "amax")
    close(x, xt)
    # autograd through the in-place version
    w = ft(a, True)
    y = w * 1
    y.scatter_add_(0, F.tensor(idx), ft(s))
    y.scatter_(1, F.tensor([[0], [1], [2]]), 0.0)
    wt = tt(torch, a, True)
    yt = wt * 1
    yt.scatter_add_(0, torch.from_numpy(idx), tt(torch, s))
    yt.scatter_(1, torch.tensor([[0], [1], [2]]), 0.0)
    g = arr((3, 4))
    y.backward(F.tensor(g))
    yt.backward(torch.from_numpy(g))
    close(w.grad, wt.grad)


def test_scatter_errors():
    x = ft(arr((3, 4)))
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        x.scatter(0, F.tensor([[0.0]]), 1.0)
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter(0, F.tensor([[5]]), 1.0)
    with pytest.raises(RuntimeError):
        x.scatter(0, F.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="no larger"):
        x.scatter(0, F.tensor([[0, 1, 2]]), F.ones(1, 2, dtype=F.float64))
    with pytest.raises(RuntimeError, match="self.dtype"):
        x.scatter_add(0, F.tensor([[0]]), F.ones(1, 1))
    with pytest.raises(RuntimeError, match="add or multiply"):
        x.scatter(0, F.tensor([[0]]), 1.0, reduce="mean")
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        x.scatter_reduce(0, F.tensor([[0]]), ft(arr((1, 1))), "foo")
    with pytest.raises(TypeError):
        x.scatter(0, F.tensor([[0]]), "a")
    with pytest.raises(RuntimeError, match="not implemented"):
        w = ft(arr((3,)), True)
        w.scatter(0, F.tensor([0, 0]), ft(arr((2,))), reduce="multiply").backward(F.ones(3, dtype=F.float64))


# --------------------------------------------------------------------------- index_add / copy / fill
def test_index_add_copy_fill(torch):
    a, s = arr((4, 3)), arr((4, 2))
    for dim_idx in ([1, 0], [2, 2]):
        it, ft_ = torch.tensor(dim_idx), F.tensor(dim_idx)
        close(F.index_add(ft(a), 1, ft_, ft(s)), torch.index_add(tt(torch, a), 1, it, tt(torch, s)))
        close(ft(a).index_add(1, ft_, ft(s), alpha=2.5),
              tt(torch, a).index_add(1, it, tt(torch, s), alpha=2.5))
        close(ft(a).index_fill(1, ft_, -2.0), tt(torch, a).index_fill(1, it, -2.0))
    close(ft(a).index_copy(1, F.tensor([2, 0]), ft(s)), tt(torch, a).index_copy(1, torch.tensor([2, 0]),
                                                                               tt(torch, s)))
    close(ft(a).index_fill(0, F.tensor([-1]), F.tensor(3.0, dtype=F.float64)),
          tt(torch, a).index_fill(0, torch.tensor([-1]), torch.tensor(3.0, dtype=torch.float64)))
    close(ft(a).index_add(1, F.tensor([1], dtype=F.int32), ft(s[:, :1])),
          tt(torch, a).index_add(1, torch.tensor([1], dtype=torch.int32), tt(torch, s[:, :1])))


def test_index_add_copy_fill_inplace(torch):
    a, s = arr((4, 3)), arr((2, 3))
    x, xt = ft(a), tt(torch, a)
    assert x.index_add_(0, F.tensor([3, 3]), ft(s)) is x
    xt.index_add_(0, torch.tensor([3, 3]), tt(torch, s))
    x.index_copy_(0, F.tensor([0, 1]), ft(s))
    xt.index_copy_(0, torch.tensor([0, 1]), tt(torch, s))
    x.index_fill_(1, F.tensor([2]), 7)
    xt.index_fill_(1, torch.tensor([2]), 7)
    close(x, xt)
    v0 = x._version[0]
    x.index_add_(0, F.tensor([0]), ft(s[:1]), alpha=-1)
    assert x._version[0] == v0 + 1


def test_index_add_copy_fill_grads(torch):
    a, s = arr((4, 3)), arr((4, 2))
    g = arr((4, 3))
    for op, args in (("index_add", (1, [2, 2], True)), ("index_copy", (1, [2, 0], True)),
                     ("index_fill", (1, [0, 2], False))):
        dim, idx, with_src = args
        x, xt = ft(a, True), tt(torch, a, True)
        if with_src:
            src, st = ft(s, True), tt(torch, s, True)
            getattr(x, op)(dim, F.tensor(idx), src).backward(F.tensor(g))
            getattr(xt, op)(dim, torch.tensor(idx), st).backward(torch.from_numpy(g))
            close(src.grad, st.grad)
        else:
            v, vt = ft(np.array(1.5), True), tt(torch, np.array(1.5), True)
            getattr(x, op)(dim, F.tensor(idx), v).backward(F.tensor(g))
            getattr(xt, op)(dim, torch.tensor(idx), vt).backward(torch.from_numpy(g))
            close(v.grad, vt.grad)
        close(x.grad, xt.grad)
    x, src = ft(a, True), ft(s, True)
    assert gradcheck(lambda t, u: t.index_add(1, F.tensor([2, 2]), u, alpha=2), (x, src))
    assert gradgradcheck(lambda t, u: t.index_add(1, F.tensor([2, 2]), u) ** 2, (x, src))
    assert gradgradcheck(lambda t, u: t.index_copy(1, F.tensor([2, 0]), u) ** 2, (x, src))
    v = ft(np.array(0.5), True)
    assert gradgradcheck(lambda t, u: t.index_fill(0, F.tensor([1, 3]), u) ** 2, (x, v))


def test_index_add_family_errors():
    x = ft(arr((2, 4)))
    with pytest.raises(RuntimeError):  # torch's type on the last dim of a 2-D tensor (issue 9, defect 24)
        x.index_add(1, F.tensor([5]), ft(arr((2, 1))))
    with pytest.raises(RuntimeError):
        x.index_add(1, F.tensor([1]), ft(arr((3, 1))))
    with pytest.raises(RuntimeError):
        x.index_add(1, F.tensor([1, 2]), ft(arr((2, 1))))
    with pytest.raises(RuntimeError, match="same scalar type"):
        x.index_add(1, F.tensor([1]), F.ones(2, 1))
    with pytest.raises(RuntimeError, match="int32/int64"):
        x.index_add(1, F.tensor([1.0]), ft(arr((2, 1))))
    with pytest.raises(IndexError, match="vector"):
        x.index_add(1, F.tensor([[1]]), ft(arr((2, 1))))
    with pytest.raises(IndexError):
        x.index_copy(1, F.tensor([-1]), ft(arr((2, 1))))
    with pytest.raises(RuntimeError, match="long tensor"):
        x.index_copy(1, F.tensor([1], dtype=F.int32), ft(arr((2, 1))))
    with pytest.raises(IndexError):
        x.index_fill(1, F.tensor([5]), 1.0)
    with pytest.raises(IndexError, match="int64"):
        x.index_fill(1, F.tensor([1], dtype=F.int32), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.index_fill(1, F.tensor([1]), F.tensor([1.0]))
    with pytest.raises(TypeError):
        x.index_fill(1, F.tensor([1]), "a")


# --------------------------------------------------------------------------- index_put
def test_index_put(torch):
    a = arr((4, 3))
    v = arr((3,))
    for acc in (False, True):
        idx = (torch.tensor([0, 2, 3]), torch.tensor([1, 1, 0]))
        fidx = (F.tensor([0, 2, 3]), F.tensor([1, 1, 0]))
        close(F.index_put(ft(a), fidx, ft(v), acc), torch.index_put(tt(torch, a), idx, tt(torch, v), acc))
        close(ft(a).index_put((F.tensor([1, 1, 1]),), ft(v), accumulate=True),
              tt(torch, a).index_put((torch.tensor([1, 1, 1]),), tt(torch, v), accumulate=True))
        m = a > 0
        close(ft(a).index_put((ft(m),), F.tensor(2.5, dtype=F.float64), accumulate=acc),
              tt(torch, a).index_put((tt(torch, m),), torch.tensor(2.5, dtype=torch.float64), accumulate=acc))
        x, xt = ft(a), tt(torch, a)
        assert x.index_put_([F.tensor([3, 3])], ft(arr((3,))) * 0 + 1, accumulate=True) is x
        xt.index_put_([torch.tensor([3, 3])], torch.ones(3, dtype=torch.float64), accumulate=True)
        close(x, xt)


def test_index_put_grad_accumulate(torch):
    a, va = arr((4, 3)), arr((3, 3))
    g = arr((4, 3))
    for acc in (True, False):
        x, v = ft(a, True), ft(va, True)
        xt, vt = tt(torch, a, True), tt(torch, va, True)
        idx = [1, 1, 2] if acc else [1, 0, 2]
        x.index_put((F.tensor(idx),), v, accumulate=acc).backward(F.tensor(g))
        xt.index_put((torch.tensor(idx),), vt, accumulate=acc).backward(torch.from_numpy(g))
        close(x.grad, xt.grad)
        close(v.grad, vt.grad)
    x, v = ft(a, True), ft(va, True)
    assert gradcheck(lambda t, u: t.index_put((F.tensor([1, 1, 2]),), u, accumulate=True), (x, v))
    assert gradgradcheck(lambda t, u: t.index_put((F.tensor([1, 1, 2]),), u, accumulate=True) ** 2, (x, v))
    i2 = (F.tensor([0, 3]), F.tensor([2, 2]))
    assert gradgradcheck(lambda t, u: t.index_put(i2, u[0, :2]) ** 2, (x, v))


def test_index_put_errors():
    x = ft(arr((4, 3)))
    with pytest.raises(IndexError):
        x.index_put((F.tensor([0, 5]),), F.tensor(1.0, dtype=F.float64))
    with pytest.raises(RuntimeError, match="dtypes match"):
        x.index_put((F.tensor([0]),), F.tensor(1.0))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x.index_put((F.tensor([0, 1]),), ft(arr((3, 3))))
    with pytest.raises(IndexError, match="too many indices"):
        x.index_put((F.tensor([0]),) * 3, F.tensor(1.0, dtype=F.float64))
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x.index_put((F.tensor([0.0]),), F.tensor(1.0, dtype=F.float64))
    with pytest.raises(TypeError):
        x.index_put(F.tensor([0]), F.tensor(1.0, dtype=F.float64))
    with pytest.raises(TypeError):
        x.index_put((None, F.tensor([0])), F.tensor(1.0, dtype=F.float64))


# --------------------------------------------------------------------------- masked ops
def test_masked_fill(torch):
    a = arr((3, 4))
    m = a > 0.2
    close(ft(a).masked_fill(ft(m), -1.0), tt(torch, a).masked_fill(tt(torch, m), -1.0))
    close(F.masked_fill(ft(a), ft(m[0]), 2), torch.masked_fill(tt(torch, a), tt(torch, m[0]), 2))
    close(ft(a).masked_fill(ft(m), F.tensor(3.0)), tt(torch, a).masked_fill(tt(torch, m), torch.tensor(3.0)))
    close(F.zeros(4).masked_fill(F.ones(3, 4, dtype=F.bool), 1.0),
          torch.zeros(4).masked_fill(torch.ones(3, 4, dtype=torch.bool), 1.0))
    ai = np.arange(4)
    close(ft(ai).masked_fill(F.tensor([True, False, True, False]), 1.7),
          tt(torch, ai).masked_fill(torch.tensor([True, False, True, False]), 1.7))
    x, xt = ft(a), tt(torch, a)
    assert x.masked_fill_(ft(m[1]), 0.5) is x
    xt.masked_fill_(tt(torch, m[1]), 0.5)
    close(x, xt)


def test_masked_fill_grads(torch):
    a = arr((3, 4))
    m = a > 0
    g = arr((3, 4))
    x, v = ft(a, True), ft(np.array(0.7), True)
    xt, vt = tt(torch, a, True), tt(torch, np.array(0.7), True)
    x.masked_fill(ft(m), v).backward(F.tensor(g))
    xt.masked_fill(tt(torch, m), vt).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    close(v.grad, vt.grad)
    assert np.all(npv(x.grad)[m] == 0)
    np.testing.assert_allclose(npv(v.grad), g[m].sum())
    mf = ft(m)
    assert gradcheck(lambda t, u: t.masked_fill(mf, u), (x, v))
    assert gradgradcheck(lambda t, u: t.masked_fill(mf, u) ** 2, (x, v))
    # in place on a non-leaf
    y = x * 1
    y.masked_fill_(mf, 0.0)
    y.backward(F.tensor(g))


def test_masked_fill_errors():
    x = ft(arr((3, 4)))
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill(F.tensor([1, 0, 1, 0]), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(F.tensor([True, False, True, True]), F.tensor([1.0]))
    with pytest.raises(RuntimeError):
        x.masked_fill(F.tensor([True, False]), 1.0)
    with pytest.raises(RuntimeError):
        F.zeros(4).masked_fill_(F.ones(3, 4, dtype=F.bool), 1.0)
    with pytest.raises(TypeError):
        x.masked_fill([True], 1.0)
    with pytest.raises(TypeError):
        x.masked_fill(F.tensor(True), "a")
    with pytest.raises(RuntimeError):
        x.masked_fill(F.tensor(True), 1 + 1j)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ft(arr((3,)), True).masked_fill_(F.tensor([True, False, True]), 0.0)


def test_masked_select(torch):
    a = arr((3, 4))
    m = a > 0
    close(ft(a).masked_select(ft(m)), tt(torch, a).masked_select(tt(torch, m)))
    close(F.masked_select(ft(a), ft(m[1])), torch.masked_select(tt(torch, a), tt(torch, m[1])))
    close(ft(a[0]).masked_select(ft(m)), tt(torch, a[0]).masked_select(tt(torch, m)))
    close(F.tensor(2.0).masked_select(F.tensor(True)), torch.tensor(2.0).masked_select(torch.tensor(True)))
    x, xt = ft(a[0], True), tt(torch, a[0], True)
    r, rt = x.masked_select(ft(m)), xt.masked_select(tt(torch, m))
    g = arr(tuple(rt.shape))
    r.backward(F.tensor(g))
    rt.backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    mf = ft(m)
    assert gradcheck(lambda t: t.masked_select(mf), (ft(a, True),))
    assert gradgradcheck(lambda t: t.masked_select(mf) ** 2, (x,))
    with pytest.raises(RuntimeError, match="BoolTensor"):
        ft(a).masked_select(F.ones(3, 4, dtype=F.uint8))
    with pytest.raises(RuntimeError):
        ft(a).masked_select(F.ones(2, 4, dtype=F.bool))


def test_masked_scatter(torch):
    a = arr((3, 4))
    m = a > 0
    s = arr((20,))
    close(ft(a).masked_scatter(ft(m), ft(s)), tt(torch, a).masked_scatter(tt(torch, m), tt(torch, s)))
    close(ft(a).masked_scatter(ft(m[0]), ft(s.reshape(4, 5))),
          tt(torch, a).masked_scatter(tt(torch, m[0]), tt(torch, s.reshape(4, 5))))
    x, xt = ft(a), tt(torch, a)
    assert x.masked_scatter_(ft(m), ft(s)) is x
    xt.masked_scatter_(tt(torch, m), tt(torch, s))
    close(x, xt)
    x, src = ft(a, True), ft(s, True)
    xt, st = tt(torch, a, True), tt(torch, s, True)
    g = arr((3, 4))
    x.masked_scatter(ft(m), src).backward(F.tensor(g))
    xt.masked_scatter(tt(torch, m), st).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    close(src.grad, st.grad)
    mf = ft(m)
    assert gradcheck(lambda t, u: t.masked_scatter(mf, u), (x, src))
    assert gradgradcheck(lambda t, u: t.masked_scatter(mf, u) ** 2, (x, src))
    with pytest.raises(RuntimeError, match="Number of elements of source"):
        ft(a).masked_scatter(ft(m), F.ones(1, dtype=F.float64))
    with pytest.raises(RuntimeError, match="boolean masks"):
        ft(a).masked_scatter(F.ones(3, 4, dtype=F.uint8), ft(s))
    with pytest.raises(RuntimeError, match="same dtypes"):
        ft(a).masked_scatter(ft(m), F.ones(20))


# --------------------------------------------------------------------------- take / take_along_dim / put
def test_take(torch):
    a = arr((3, 4))
    idx = np.array([[0, 11, -1], [5, 5, -12]])
    close(F.take(ft(a), F.tensor(idx)), torch.take(tt(torch, a), torch.from_numpy(idx)))
    close(F.tensor(3.0).take(F.tensor([0, 0])), torch.tensor(3.0).take(torch.tensor([0, 0])))
    x, xt = ft(a, True), tt(torch, a, True)
    g = arr((2, 3))
    x.take(F.tensor(idx)).backward(F.tensor(g))
    xt.take(torch.from_numpy(idx)).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    assert gradcheck(lambda t: t.take(F.tensor(idx)), (x,))
    assert gradgradcheck(lambda t: t.take(F.tensor(idx)) ** 2, (x,))
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12"):
        ft(a).take(F.tensor([12]))
    with pytest.raises(IndexError):
        ft(a).take(F.tensor([-13]))
    with pytest.raises(RuntimeError, match="long tensor"):
        ft(a).take(F.tensor([1], dtype=F.int32))


def test_take_along_dim(torch):
    a = arr((3, 4, 5))
    idx = RNG.integers(-4, 4, size=(3, 2, 5))
    close(F.take_along_dim(ft(a), F.tensor(idx), 1),
          torch.take_along_dim(tt(torch, a), torch.from_numpy(idx), 1))
    idx2 = RNG.integers(0, 4, size=(1, 2, 1))  # broadcast against the input
    close(ft(a).take_along_dim(F.tensor(idx2), dim=1),
          tt(torch, a).take_along_dim(torch.from_numpy(idx2), dim=1))
    idx3 = RNG.integers(0, 5, size=(3, 4, 2))
    close(ft(a[:1]).take_along_dim(F.tensor(idx3), dim=2),
          tt(torch, a[:1]).take_along_dim(torch.from_numpy(idx3), dim=2))
    close(ft(a).take_along_dim(F.tensor([[7, 0]])), tt(torch, a).take_along_dim(torch.tensor([[7, 0]])))
    x, xt = ft(a, True), tt(torch, a, True)
    g = arr((3, 2, 5))
    x.take_along_dim(F.tensor(idx2), 1).backward(F.tensor(g))
    xt.take_along_dim(torch.from_numpy(idx2), 1).backward(torch.from_numpy(g))
    close(x.grad, xt.grad)
    assert gradgradcheck(lambda t: t.take_along_dim(F.tensor(idx2), 1) ** 2, (x,))
    with pytest.raises(RuntimeError, match="Long"):
        ft(a).take_along_dim(F.tensor([[[1]]], dtype=F.int32), 0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ft(a).take_along_dim(F.tensor([1]), 0)
    with pytest.raises(IndexError):
        ft(a).take_along_dim(F.tensor([[[1]]]), 5)


def test_put(torch):
    a = arr((2, 4))
    for acc in (False, True):
        idx = [1, -1, 1] if acc else [1, -1, 0]
        s = arr((3,))
        close(ft(a).put(F.tensor(idx), ft(s), accumulate=acc),
              tt(torch, a).put(torch.tensor(idx), tt(torch, s), accumulate=acc))
        x, xt = ft(a), tt(torch, a)
        assert x.put_(F.tensor(idx), ft(s), acc) is x
        xt.put_(torch.tensor(idx), tt(torch, s), acc)
        close(x, xt)
    x, src = ft(a, True), ft(arr((3,)), True)
    assert gradgradcheck(lambda t, u: t.put(F.tensor([1, 1, 6]), u, accumulate=True) ** 2, (x, src))
    with pytest.raises(IndexError, match="same number of elements"):
        ft(a).put_(F.tensor([1]), F.ones(2, dtype=F.float64))
    with pytest.raises(IndexError, match="out of range"):
        ft(a).put_(F.tensor([8]), F.ones(1, dtype=F.float64))


# --------------------------------------------------------------------------- nonzero / argwhere / where
def test_nonzero(torch):
    a = np.array([[0, 1, 0], [2, 0, 3]])
    close(F.nonzero(ft(a)), torch.nonzero(tt(torch, a)))
    close(ft(a).argwhere(), torch.argwhere(tt(torch, a)))
    for got, want in zip(ft(a).nonzero(as_tuple=True), tt(torch, a).nonzero(as_tuple=True)):
        close(got, want)
    close(F.nonzero(F.tensor(5)), torch.nonzero(torch.tensor(5)))
    close(F.nonzero(F.tensor(0)), torch.nonzero(torch.tensor(0)))
    close(F.nonzero(F.tensor(5), as_tuple=True)[0], torch.nonzero(torch.tensor(5), as_tuple=True)[0])
    close(F.nonzero(F.zeros(0, 3)), torch.nonzero(torch.zeros(0, 3)))
    close(F.nonzero(F.tensor([0.0, 0.5, -1.0])), torch.nonzero(torch.tensor([0.0, 0.5, -1.0])))
    for got, want in zip(F.where(ft(a) > 0), np.nonzero(a > 0)):
        close(got, want.astype(np.int64))


# --------------------------------------------------------------------------- misc
def test_grad_fn_names():
    x = ft(arr((3, 4)), True)
    assert x[0].grad_fn.name() == "SelectBackward0"
    assert x[1:].grad_fn.name() == "SliceBackward0"
    assert x[[0, 1]].grad_fn.name() == "IndexBackward0"
    assert x.gather(1, F.tensor([[0]])).grad_fn.name() == "GatherBackward0"
    assert x.index_select(0, F.tensor([0])).grad_fn.name() == "IndexSelectBackward0"
    assert x.masked_fill(F.tensor(True), 0.0).grad_fn.name() == "MaskedFillBackward0"


def test_all_exported():
    from ferrum.ops import index as IX
    for name in IX.__all__:
        assert hasattr(F, name), name
    for name in ("index_select", "gather", "scatter", "scatter_", "scatter_add", "scatter_add_",
                 "scatter_reduce", "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_",
                 "index_fill", "index_fill_", "index_put", "index_put_", "masked_fill", "masked_fill_",
                 "masked_select", "masked_scatter", "masked_scatter_", "take", "take_along_dim", "put",
                 "put_", "nonzero", "argwhere"):
        assert hasattr(F.Tensor, name), name


def test_augmented_assignment_and_overlap_grads(torch):
    a, b = arr((4, 3)), arr((3,))
    res = []
    for lib in (F, torch):
        x, v = (lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True))
        y = x * 2
        y[0] += 1
        y[[1, 1]] += v  # no accumulation for duplicates (read, add, write)
        y[1:] = y[:-1] * 1  # value overlapping the target
        y[0, :] *= v
        y[y > 0.5] = 0.5
        (y * lib.arange(12.0).reshape(4, 3).double()).sum().backward()
        res.append((y, x.grad, v.grad))
    for p, q in zip(*res):
        close(p, q, rtol=1e-10)


# --------------------------------------------------------------------------- property test
@st.composite
def _shape_and_key(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "arr", "none", "mask", "skip"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.one_of(st.none(), st.integers(-n - 1, n + 1))),
                               draw(st.one_of(st.none(), st.integers(-n - 1, n + 1))),
                               draw(st.one_of(st.none(), st.integers(1, 3)))))
        elif kind == "arr":
            parts.append(I(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
        elif kind == "mask":
            parts.append(B(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "none":
            parts.extend([None, slice(None)])
        else:
            break
    if draw(st.booleans()):
        parts.append(Ellipsis)
    # at most one distinct length among the int arrays so that they broadcast
    lens = {len(p) for p in parts if isinstance(p, I)} | {sum(p) for p in parts if isinstance(p, B)}
    if len(lens - {1}) > 1:
        parts = [slice(None) if isinstance(p, (I, B)) else p for p in parts]
    return shape, tuple(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_shape_and_key())
def test_getitem_property_matches_torch(torch, shape_key):
    shape, key = shape_key
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.from_numpy(a)[conv(key, torch)]
    x = ft(a, True)
    got = x[conv(key, F)]
    close(got, want)
    # the backward counts how often each element was picked
    got.backward(F.ones(got.shape, dtype=F.float64))
    xt = tt(torch, a, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xt[conv(key, torch)].backward(torch.ones(want.shape, dtype=torch.float64))
    close(x.grad, xt.grad)
    # setitem agrees too (distinct values; duplicates excluded since the winner is unspecified)
    if not any(isinstance(p, I) and len(set(p)) < len(p) for p in key) and \
            sum(isinstance(p, I) for p in key) <= 1:
        v = np.array(np.arange(want.numel(), dtype=np.float64).reshape(tuple(want.shape)) + 100)
        y, yt = ft(a), tt(torch, a)
        y[conv(key, F)] = ft(v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yt[conv(key, torch)] = torch.from_numpy(v)
        close(y, yt)


@pytest.mark.parametrize("dist", ["uniform", "skewed", "one", "unique"])
def test_large_accumulation_paths_match_torch(torch, dist):
    # big enough for the vectorized duplicate-accumulation path (embedding-style backward)
    n, m = 60, 128
    rng = np.random.default_rng(3)
    k = 300
    if dist == "uniform":
        idx = rng.integers(-n, n, k)
    elif dist == "skewed":
        idx = np.where(rng.random(k) < 0.6, 7, rng.integers(0, n, k))
    elif dist == "one":
        idx = np.full(k, n - 1)
    else:
        idx = rng.permutation(n)
    w = arr((n, m))
    g = arr((idx.size, m))
    x, xt = ft(w, True), tt(torch, w, True)
    x[F.tensor(idx)].backward(F.tensor(g))
    xt[torch.from_numpy(idx)].backward(torch.from_numpy(g))
    close(x.grad, xt.grad, rtol=1e-9, atol=1e-9)
    if dist != "uniform":  # index_add takes no negative indices
        g2 = arr((m, idx.size))
        close(ft(w.T.copy()).index_add(1, F.tensor(idx), ft(g2)),
              tt(torch, w.T.copy()).index_add(1, torch.from_numpy(idx), tt(torch, g2)), rtol=1e-9, atol=1e-9)
        y = ft(w.T.copy())
        y.index_add_(1, F.tensor(idx), ft(g2), alpha=2)
        close(y, tt(torch, w.T.copy()).index_add_(1, torch.from_numpy(idx), tt(torch, g2), alpha=2),
              rtol=1e-9, atol=1e-9)
