"""The Tensor core: metadata, Python and NumPy conversions, legacy constructors, ``.data``, grad
assignment, copying, and dtype/device conversions (``to``, ``float()``, ``type()``, ...)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ferrum
from ferrum._device import cupy_module

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def fd(name):
    return getattr(ferrum, name)


def tname(torch_dtype) -> str:
    return str(torch_dtype).split(".")[1]


needs_no_cuda = pytest.mark.skipif(cupy_module() is not None, reason="CuPy with a GPU is present")


# --------------------------------------------------------------------------- metadata
def test_shape_size_and_dims():
    t = ferrum.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, ferrum.Size)
    assert t.size() == ferrum.Size([2, 3, 4])
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == t.dim() == t.ndimension() == 3
    assert t.numel() == t.nelement() == 24
    assert ferrum.tensor(1.0).shape == () and ferrum.tensor(1.0).numel() == 1


def test_size_dim_out_of_range_is_index_error(torch):
    with pytest.raises(IndexError, match=r"size.*\[-2, 1\].*-3"):
        ferrum.zeros(2, 3).size(-3)
    with pytest.raises(IndexError):
        torch.zeros(2, 3).size(-3)
    with pytest.raises(IndexError, match="size"):
        ferrum.zeros(2, 3).size(2)


@pytest.mark.parametrize("name", DTYPES)
def test_element_size_and_flags_match_torch(torch, name):
    f = ferrum.zeros(2, 3, dtype=fd(name))
    t = torch.zeros(2, 3, dtype=getattr(torch, name))
    assert f.element_size() == t.element_size() == f.itemsize
    assert f.nbytes == t.nbytes
    assert f.is_floating_point() == t.is_floating_point()
    assert f.is_complex() == t.is_complex()
    assert f.is_signed() == t.is_signed()
    assert f.dtype is fd(name)


def test_device_flags():
    t = ferrum.ones(2)
    assert t.device == ferrum.device("cpu") and t.device.type == "cpu"
    assert t.is_cpu and not t.is_cuda
    assert t.get_device() == -1
    assert t.layout == "strided" and not t.is_sparse


def test_strides_match_torch(torch):
    for shape in [(2, 3), (4,), (2, 3, 4), (1, 3), (3, 1), (3, 0), ()]:
        assert ferrum.zeros(shape).stride() == torch.zeros(shape).stride(), shape
    assert ferrum.zeros(2, 3).stride(0) == 3 and ferrum.zeros(2, 3).stride(-1) == 1


def test_non_contiguous_from_numpy_views():
    a = np.arange(24.0).reshape(4, 6)
    t = ferrum.from_numpy(a.T)
    assert t.shape == (6, 4) and t.stride() == (1, 6) and not t.is_contiguous()
    s = ferrum.from_numpy(a[:, ::2])
    assert s.stride() == (6, 2) and not s.is_contiguous()
    o = ferrum.from_numpy(a[1:])
    assert o.storage_offset() == 6 and o.is_contiguous()
    assert o.data_ptr() == ferrum.from_numpy(a).data_ptr() + 6 * 8


def test_is_leaf_requires_grad_and_detach():
    x = ferrum.ones(2)
    assert x.is_leaf and not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d._data, y._data)
    d.add_(1)  # detach shares the version counter
    assert y._version_value == 1
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    y.detach_()
    assert y.is_leaf and not y.requires_grad


@pytest.mark.parametrize("name", ["int64", "int32", "uint8", "bool"])
def test_requires_grad_on_integer_tensor_is_runtime_error(torch, name):
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=getattr(torch, name)).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        ferrum.zeros(2, dtype=fd(name)).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        ferrum.tensor([1, 2], dtype=fd(name), requires_grad=True)


# --------------------------------------------------------------------------- Python conversions
@pytest.mark.parametrize("name", DTYPES)
def test_item_and_tolist_match_torch(torch, name):
    vals = [[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]]
    f = ferrum.tensor(vals, dtype=fd(name))
    t = torch.tensor(vals, dtype=getattr(torch, name))
    assert f.tolist() == t.tolist()
    assert type(f.tolist()[0][0]) is type(t.tolist()[0][0])
    assert f[1, 0].item() == t[1, 0].item() if hasattr(f, "__getitem__") else True
    z = ferrum.tensor(2.0, dtype=fd(name))
    zt = torch.tensor(2.0, dtype=getattr(torch, name))
    assert z.item() == zt.item() and type(z.item()) is type(zt.item())
    assert z.tolist() == zt.tolist()
    one = ferrum.tensor([[3.0]], dtype=fd(name))
    assert one.item() == torch.tensor([[3.0]], dtype=getattr(torch, name)).item()


def test_item_of_many_elements_is_runtime_error(torch):
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).item()
    with pytest.raises(RuntimeError, match="2 elements"):
        ferrum.tensor([1, 2]).item()
    with pytest.raises(RuntimeError, match="0 elements"):
        ferrum.tensor([]).item()


def test_float_int_bool_complex():
    assert float(ferrum.tensor([2.5])) == 2.5 and isinstance(float(ferrum.tensor(2)), float)
    assert int(ferrum.tensor(2.7)) == 2 and int(ferrum.tensor(-2.7)) == -2
    assert bool(ferrum.tensor([1.0])) and not bool(ferrum.tensor(0))
    assert complex(ferrum.tensor(1.5)) == 1.5 + 0j
    assert int(ferrum.tensor([[7]], dtype=ferrum.uint8)) == 7


def test_scalar_conversion_errors_match_torch(torch):
    for fn in (float, int, complex):
        with pytest.raises(ValueError):
            fn(torch.tensor([1.0, 2.0]))
        with pytest.raises(ValueError, match="only one element tensors"):
            fn(ferrum.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(ferrum.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(ferrum.tensor([]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if ferrum.ones(3) > 0:
            pass


def test_index_protocol(torch):
    lst = [10, 20, 30, 40]
    assert lst[ferrum.tensor(2)] == 30
    assert lst[ferrum.tensor([1])] == lst[torch.tensor([1])] == 20
    assert list(range(10))[ferrum.tensor(1):ferrum.tensor(4)] == [1, 2, 3]
    assert ferrum.tensor(3, dtype=ferrum.uint8).__index__() == 3
    assert [0, 1][ferrum.tensor(True)] == 1
    for bad in (ferrum.tensor(2.0), ferrum.tensor([1, 2])):
        with pytest.raises(TypeError, match="only integer tensors of a single element"):
            lst[bad]
    with pytest.raises(TypeError):
        lst[torch.tensor(2.0)]


def test_format_matches_torch(torch):
    for spec, mk in [(".2f", lambda L: L.tensor(2.5)), (">5", lambda L: L.tensor(3)),
                     ("", lambda L: L.tensor([2.5, 1.0])), ("", lambda L: L.tensor(True)),
                     ("", lambda L: L.tensor(1.25)), ("+.1e", lambda L: L.tensor(1234.5, dtype=L.float64))]:
        assert format(mk(ferrum), spec) == format(mk(torch), spec).replace("torch", "ferrum")
    assert f"{ferrum.tensor([1, 2])}" == "tensor([1, 2])"
    with pytest.raises(TypeError):
        format(torch.tensor([2.5]), ".2f")
    with pytest.raises(TypeError):
        format(ferrum.tensor([2.5]), ".2f")


def test_len_and_iter():
    t = ferrum.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and rows[1].tolist() == [3, 4] and rows[1].dtype is ferrum.int64
    with pytest.raises(TypeError, match="0-d"):
        len(ferrum.tensor(1))
    with pytest.raises(TypeError, match="0-d"):
        iter(ferrum.tensor(1))
    assert [float(v) for v in ferrum.tensor([1.5, 2.5])] == [1.5, 2.5]


def test_contains_and_hash():
    t = ferrum.tensor([1, 2, 3])
    assert 2 in t and 5 not in t and ferrum.tensor(3) in t
    with pytest.raises(RuntimeError, match="__contains__"):
        "a" in t  # noqa: B015
    assert hash(t) == id(t)
    assert len({t, ferrum.tensor([1, 2, 3])}) == 2


def test_eq_with_none_and_unsupported():
    t = ferrum.tensor([1, 2])
    assert (t == None) is False  # noqa: E711
    assert (t != None) is True  # noqa: E711
    assert t.__eq__("x") is False


# --------------------------------------------------------------------------- NumPy
def test_numpy_shares_memory():
    t = ferrum.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 10
    assert t.tolist() == [10.0, 2.0]
    t.add_(1)
    assert a.tolist() == [11.0, 3.0]


def test_numpy_of_requires_grad_is_runtime_error(torch):
    x = ferrum.tensor([1.5], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.5]
    assert x.numpy(force=True).tolist() == [1.5]
    with pytest.raises(RuntimeError):
        torch.tensor([1.5], requires_grad=True).numpy()


def test_array_protocol():
    t = ferrum.tensor([[1, 2], [3, 4]], dtype=ferrum.int32)
    a = np.asarray(t)
    assert a.dtype == np.int32 and np.shares_memory(a, t._data)
    b = np.array(t, dtype=np.float64)
    assert b.dtype == np.float64 and not np.shares_memory(b, t._data)
    c = np.array(t, copy=True)
    assert not np.shares_memory(c, t._data)
    assert np.sum(t) == 10


def test_numpy_operands_dispatch_to_tensor():
    t = ferrum.tensor([1.0, 2.0])
    r = np.ones(2) + t
    assert isinstance(r, ferrum.Tensor) and r.dtype is ferrum.float64 and r.tolist() == [2.0, 3.0]
    r = t * np.float64(2)
    assert isinstance(r, ferrum.Tensor) and r.dtype is ferrum.float32
    r = np.int64(2) * ferrum.tensor([1, 2], dtype=ferrum.int8)
    assert r.dtype is ferrum.int8 and r.tolist() == [2, 4]


def test_from_numpy_shares_and_keeps_strides():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ferrum.from_numpy(a)
    a[0, 0] = 100
    assert t[0, 0].item() == 100
    t.mul_(2)
    assert a[1, 2] == 10
    tt = ferrum.from_numpy(a.T)
    assert tt.tolist() == a.T.tolist()


# --------------------------------------------------------------------------- legacy constructors
def test_legacy_tensor_constructor_matches_torch(torch):
    cases = [lambda L: L.Tensor([1.0, 2]), lambda L: L.Tensor(2, 3), lambda L: L.Tensor(),
             lambda L: L.Tensor(L.Size([2, 3])), lambda L: L.Tensor([[1, 2]]),
             lambda L: L.Tensor((True, False))]
    for mk in cases:
        f, t = mk(ferrum), mk(torch)
        assert f.shape == tuple(t.shape) and f.dtype.name == tname(t.dtype)
        if t.numel() and mk is not cases[1] and mk is not cases[3]:
            assert f.tolist() == t.tolist()


@pytest.mark.parametrize("cls,name", [("FloatTensor", "float32"), ("DoubleTensor", "float64"),
                                      ("HalfTensor", "float16"), ("BFloat16Tensor", "bfloat16"),
                                      ("LongTensor", "int64"), ("IntTensor", "int32"),
                                      ("ShortTensor", "int16"), ("CharTensor", "int8"),
                                      ("ByteTensor", "uint8"), ("BoolTensor", "bool")])
def test_typed_legacy_constructors_match_torch(torch, cls, name):
    F, T = getattr(ferrum, cls), getattr(torch, cls)
    f, t = F([1.7, 0, 2]), T([1.7, 0, 2])
    assert f.dtype is fd(name) and f.tolist() == t.tolist()
    assert F(3).shape == (3,) and F(2, 4).shape == (2, 4) and F(2, 4).dtype is fd(name)
    assert F().shape == (0,)
    assert isinstance(f, F) and not isinstance(ferrum.zeros(1, dtype=ferrum.complex64), F)
    assert F(np.array([1, 2])).tolist() == T(np.array([1, 2])).tolist()


def test_legacy_constructor_errors(torch):
    with pytest.raises(TypeError):
        ferrum.Tensor("abc")
    with pytest.raises(TypeError):
        ferrum.Tensor(2.5)
    with pytest.raises(TypeError):
        torch.Tensor(2.5)
    with pytest.raises(TypeError, match="invalid combination"):
        ferrum.Tensor([1], dtype=ferrum.int64)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ferrum.LongTensor(-1)


def test_tensor_new_methods():
    base = ferrum.tensor([1.5], dtype=ferrum.float64)
    assert base.new_tensor([1, 2]).dtype is ferrum.float64
    assert base.new_zeros(2, 3).shape == (2, 3) and base.new_zeros((2,)).dtype is ferrum.float64
    assert base.new_ones(2, dtype=ferrum.int32).tolist() == [1, 1]
    assert base.new_full((2,), 3).tolist() == [3.0, 3.0] and base.new_full((2,), 3).dtype is ferrum.float64
    assert base.new_empty(4).shape == (4,)
    assert base.new(2).dtype is ferrum.float64 and base.new([1, 2]).tolist() == [1.0, 2.0]
    assert base.new_tensor([1.0], requires_grad=True).requires_grad


# --------------------------------------------------------------------------- .data
def test_data_has_no_history_and_shares_memory():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.data
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d._data, y._data)


def test_inplace_through_data_is_untracked(torch):
    for L in (torch, ferrum):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        x.data.mul_(10)  # changes the saved x without bumping its version
        y.backward(L.ones(2))
        assert x.grad.tolist() == [20.0, 40.0]
        assert x.tolist() == [10.0, 20.0]
        assert x._version_value == 0 if L is ferrum else x._version == 0


def test_inplace_on_data_of_leaf_is_allowed():
    w = ferrum.tensor([1.0, 2.0], requires_grad=True)
    w.data.add_(1)
    w.data -= 0.5
    assert w.tolist() == [1.5, 2.5] and w.requires_grad and w.is_leaf


def test_data_setter():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    x.data = ferrum.tensor([5.0, 6.0, 7.0])
    assert x.tolist() == [5.0, 6.0, 7.0] and x.requires_grad
    with pytest.raises(TypeError):
        x.data = [1.0]


# --------------------------------------------------------------------------- grad
def test_grad_setter_checks(torch):
    x = ferrum.ones(2, requires_grad=True)
    x.grad = ferrum.zeros(2)
    assert x.grad.tolist() == [0.0, 0.0]
    del x.grad
    assert x.grad is None
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = ferrum.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = ferrum.zeros(2, dtype=ferrum.float64)
    with pytest.raises(TypeError):
        x.grad = [0.0, 0.0]
    with pytest.raises(RuntimeError):
        torch.ones(2, requires_grad=True).grad = torch.zeros(3)


# --------------------------------------------------------------------------- copy / pickle
def test_deepcopy_and_pickle():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    x.grad = ferrum.ones(2)
    c = copy.deepcopy(x)
    assert c.tolist() == [1.0, 2.0] and c.requires_grad and c.grad.tolist() == [1.0, 1.0]
    assert not np.shares_memory(c._data, x._data)
    p = pickle.loads(pickle.dumps(x))
    assert p.tolist() == [1.0, 2.0] and p.requires_grad and p.dtype is ferrum.float32
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_size_is_a_tuple():
    s = ferrum.Size([2, 3])
    assert s == (2, 3) and s.numel() == 6 and repr(s) == "ferrum.Size([2, 3])"
    assert isinstance(s[1:], ferrum.Size) and s[1:] == (3,)
    assert s + (4,) == (2, 3, 4) and isinstance(s + (4,), ferrum.Size)
    assert (1,) + s == (1, 2, 3)
    assert ferrum.Size([]).numel() == 1


def test_module_level_predicates():
    assert ferrum.is_tensor(ferrum.ones(1)) and not ferrum.is_tensor(np.ones(1))
    assert ferrum.is_floating_point(ferrum.ones(1)) and not ferrum.is_floating_point(ferrum.ones(1).long())
    assert ferrum.numel(ferrum.ones(2, 3)) == 6
    assert ferrum.is_nonzero(ferrum.tensor([1])) and not ferrum.is_nonzero(ferrum.tensor(0.0))
    with pytest.raises(RuntimeError):
        ferrum.is_nonzero(ferrum.tensor([1, 2]))


# --------------------------------------------------------------------------- conversions
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_to_dtype_matches_torch(torch, src, dst):
    vals = [-2.7, -1.0, 0.0, 0.5, 1.0, 3.9, 100.25]
    if src in ("uint8", "bool"):
        vals = [0.0, 1.0, 3.0, 200.0]
    t = torch.tensor(vals).to(getattr(torch, src))
    f = ferrum.tensor(vals).to(fd(src))
    assert f.tolist() == pytest.approx(t.tolist(), rel=1e-2)
    assert f.to(fd(dst)).dtype is fd(dst)
    assert f.to(fd(dst)).tolist() == t.to(getattr(torch, dst)).tolist()


@pytest.mark.parametrize("meth,name", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                       ("bfloat16", "bfloat16"), ("long", "int64"), ("int", "int32"),
                                       ("short", "int16"), ("char", "int8"), ("byte", "uint8"),
                                       ("bool", "bool")])
def test_cast_methods_match_torch(torch, meth, name):
    vals = [[1.7, -1.7], [0.0, 2.5]]
    f = getattr(ferrum.tensor(vals), meth)()
    t = getattr(torch.tensor(vals), meth)()
    assert f.dtype is fd(name) and f.tolist() == t.tolist()


def test_to_returns_self_when_nothing_changes():
    t = ferrum.tensor([1.0, 2.0])
    assert t.to(ferrum.float32) is t and t.to("cpu") is t and t.float() is t and t.cpu() is t
    assert t.to(ferrum.device("cpu"), ferrum.float32) is t
    c = t.to(ferrum.float32, copy=True)
    assert c is not t and c.tolist() == t.tolist() and not np.shares_memory(c._data, t._data)


def test_to_argument_forms():
    t = ferrum.tensor([1.5, 2.5])
    assert t.to("cpu", ferrum.float64).dtype is ferrum.float64
    assert t.to(device="cpu", dtype=ferrum.float16).dtype is ferrum.float16
    assert t.to(ferrum.tensor([1])).dtype is ferrum.int64
    assert t.to(np.float64).dtype is ferrum.float64
    assert t.to(float).dtype is ferrum.float64 and t.to(int).dtype is ferrum.int64
    assert t.to(ferrum.int32).tolist() == [1, 2]
    with pytest.raises(TypeError):
        t.to(ferrum.float32, foo=1)
    with pytest.raises(RuntimeError):
        t.to("xpu9")


def test_type_and_type_as(torch):
    for mk in (lambda L: L.tensor([1, 2]), lambda L: L.tensor([1.0]), lambda L: L.tensor([True]),
               lambda L: L.tensor([1.0], dtype=L.float16), lambda L: L.tensor([1], dtype=L.uint8)):
        assert mk(ferrum).type() == mk(torch).type().replace("torch", "ferrum")
    t = ferrum.tensor([1, 2])
    assert t.type(ferrum.float64).dtype is ferrum.float64
    assert t.type("ferrum.DoubleTensor").dtype is ferrum.float64
    assert t.type("torch.HalfTensor").dtype is ferrum.float16
    assert t.type(ferrum.DoubleTensor).dtype is ferrum.float64
    assert ferrum.tensor([1.7]).type_as(ferrum.tensor([1])).tolist() == [1]
    assert ferrum.tensor([1]).type_as(ferrum.zeros(1, dtype=ferrum.float16)).dtype is ferrum.float16


def test_cast_is_differentiable(torch):
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "ToCopyBackward0"
    (y * y).backward(ferrum.ones(2, dtype=ferrum.float64))
    assert x.grad.dtype is ferrum.float32 and x.grad.tolist() == [2.0, 4.0]
    z = x.to(ferrum.int64)
    assert not z.requires_grad
    h = ferrum.tensor([1.0, 3.0], dtype=ferrum.float64, requires_grad=True)
    assert ferrum.autograd.gradgradcheck(lambda a: a.to(ferrum.float64, copy=True) * a, (h,))
    ht = torch.tensor([1.0, 3.0], dtype=torch.float64, requires_grad=True)
    for L, v in ((ferrum, h), (torch, ht)):
        (v.half() * v.float()).backward(L.ones(2))
    assert h.grad.dtype is ferrum.float64 and h.grad.tolist() == ht.grad.tolist()


def test_to_device_cpu_keeps_graph():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu") * 3
    y.backward(ferrum.ones(2))
    assert x.grad.tolist() == [3.0, 3.0]


@needs_no_cuda
def test_cuda_without_cupy_is_runtime_error():
    t = ferrum.tensor([1.5])
    with pytest.raises(RuntimeError, match="CUDA"):
        t.to("cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        t.cuda()
    with pytest.raises(RuntimeError, match="CUDA"):
        ferrum.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        ferrum.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        ferrum.rand(2, device="cuda")
