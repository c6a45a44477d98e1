"""default_collate / default_convert / collate, compared with torch's on the same structures."""

from __future__ import annotations

import collections
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import ferrum as F
from ferrum.utils.data import default_collate, default_convert
from ferrum.utils.data._collate import collate, collate_tensor_fn, default_collate_fn_map
from ferrum.utils.data._utils import collate as collate_module
from tests.helpers import npv

Point = namedtuple("Point", ["x", "y"])
rng = np.random.default_rng(0)


def _same(got, want, torch):
    """``got`` (ferrum) has the structure, types, dtypes and values of ``want`` (torch)."""
    if isinstance(want, torch.Tensor):
        assert isinstance(got, F.Tensor), f"expected a tensor, got {type(got)}"
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(npv(got), want.numpy())
        return
    assert type(got) is type(want), f"{type(got)} != {type(want)}"
    if isinstance(want, collections.abc.Mapping):
        assert list(got) == list(want)
        for k in want:
            _same(got[k], want[k], torch)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            _same(a, b, torch)
    else:
        assert got == want


def _leaves(x, tensor):
    """Replaces the ``np.ndarray`` leaves marked by a ``("T", array)`` tuple with ``tensor(array)``."""
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) and x[0] == "T":
        return tensor(np.array(x[1]))
    if isinstance(x, Point):
        return Point(*(_leaves(v, tensor) for v in x))
    if isinstance(x, OrderedDict):
        return OrderedDict((k, _leaves(v, tensor)) for k, v in x.items())
    if isinstance(x, dict):
        return {k: _leaves(v, tensor) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_leaves(v, tensor) for v in x)
    return x


def _T(shape, dtype=np.float32):
    if np.dtype(dtype) == np.bool_:
        return ("T", rng.random(shape) > 0.5)
    return ("T", (rng.standard_normal(shape) * 10).astype(dtype))


BATCHES = {
    "tensor_f32": [_T((3,)) for _ in range(4)],
    "tensor_f64_2d": [_T((2, 3), np.float64) for _ in range(3)],
    "tensor_i64": [_T((5,), np.int64) for _ in range(2)],
    "tensor_bool": [_T((2,), np.bool_) for _ in range(3)],
    "tensor_0d": [_T((), np.float32) for _ in range(5)],
    "tensor_empty": [_T((0, 2)) for _ in range(3)],
    "floats": [1.5, -2.0, 3.25],
    "ints": [1, -2, 3, 2**40],
    "bools": [True, False, True],
    "int_then_bool": [1, True, 0],
    "int_then_float": [1, 2.5],
    "float_then_int": [1.5, 2],
    "strings": ["a", "bc", ""],
    "bytes": [b"x", b"yz"],
    "dict": [{"img": _T((2, 2)), "label": i, "name": f"s{i}"} for i in range(3)],
    "ordered_dict": [OrderedDict([("b", float(i)), ("a", i)]) for i in range(3)],
    "tuple": [(_T((2,)), i) for i in range(4)],
    "namedtuple": [Point(_T((2,)), float(i)) for i in range(3)],
    "namedtuple_numbers": [Point(i, -i) for i in range(3)],
    "list": [[i, float(i), "s"] for i in range(3)],
    "nested": [{"a": [(_T((1,)), {"z": i})], "b": Point(i, (1.0, "q"))} for i in range(2)],
    "mnist": [(_T((1, 28, 28)), int(rng.integers(10))) for _ in range(16)],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_matches_torch(torch, name):
    batch = BATCHES[name]
    got = default_collate(_leaves(batch, F.from_numpy))
    want = torch.utils.data.default_collate(_leaves(batch, torch.from_numpy))
    _same(got, want, torch)


NUMPY_BATCHES = {
    "f32": [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)],
    "f64_0d": [np.array(1.5), np.array(-2.0)],
    "i64": [np.arange(4) + i for i in range(3)],
    "i32": [np.arange(3, dtype=np.int32) for _ in range(2)],
    "u8": [np.full((2, 2), i, dtype=np.uint8) for i in range(3)],
    "bool": [np.array([True, False]), np.array([False, False])],
    "f16": [np.ones(2, np.float16), np.zeros(2, np.float16)],
    "mixed_dtypes": [np.ones(2, np.float32), np.ones(2, np.float64)],
    "noncontiguous": [rng.standard_normal((3, 4))[:, ::2] for _ in range(3)],
    "scalars_f32": [np.float32(1.5), np.float32(2)],
    "scalars_i64": [np.int64(3), np.int64(-1)],
    "scalars_bool": [np.bool_(True), np.bool_(False)],
    "scalars_f64": [np.float64(0.5), np.float64(2)],
    "in_tuple": [(np.ones(3, np.float32) * i, np.int64(i)) for i in range(3)],
}


@pytest.mark.parametrize("name", sorted(NUMPY_BATCHES))
def test_default_collate_numpy_matches_torch(torch, name):
    batch = NUMPY_BATCHES[name]
    _same(default_collate(batch), torch.utils.data.default_collate(batch), torch)


def test_collate_tensors_promote_like_torch(torch):
    a, b = np.ones(3, np.float32), np.arange(3, dtype=np.int64)
    got = default_collate([F.from_numpy(a), F.from_numpy(b)])
    want = torch.utils.data.default_collate([torch.from_numpy(a), torch.from_numpy(b)])
    _same(got, want, torch)


def test_collate_errors(torch):
    msg = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
    for batch, found in [([object(), object()], "<class 'object'>"), ([None], "<class 'NoneType'>"),
                         ([np.array(["a", "b"])], "<U1"), ([np.array([object()])], "object")]:
        with pytest.raises(TypeError) as info:
            default_collate(batch)
        assert str(info.value) == msg.format(found)
        with pytest.raises(TypeError) as tinfo:
            torch.utils.data.default_collate(batch)
        assert str(tinfo.value) == str(info.value)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([(1, 2), (3, 4, 5)])
    with pytest.raises(RuntimeError):
        default_collate([F.zeros(2), F.zeros(3)])
    with pytest.raises(RuntimeError):
        torch.utils.data.default_collate([torch.zeros(2), torch.zeros(3)])


def test_collate_keeps_graph():
    xs = [F.tensor([1.0, 2.0], requires_grad=True), F.tensor([3.0, 4.0], requires_grad=True)]
    out = default_collate(xs)
    assert out.requires_grad
    (out * F.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(npv(xs[0].grad), [1.0, 2.0])
    np.testing.assert_array_equal(npv(xs[1].grad), [3.0, 4.0])
    with F.no_grad():
        assert not default_collate(xs).requires_grad


def test_collate_tensor_result_is_a_copy():
    a = F.zeros(2)
    out = collate_tensor_fn([a, a])
    out[0, 0] = 5.0
    assert float(a[0]) == 0.0


def test_collate_custom_map_and_extension():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    assert collate([Box(1), Box(2)], collate_fn_map={Box: collate_box}) == 3
    # nested: containers recurse with the same map
    fn_map = {Box: collate_box, int: lambda b, **k: list(b)}
    assert collate([(Box(1), 2), (Box(3), 4)], collate_fn_map=fn_map) \
        == [4, [2, 4]]
    default_collate_fn_map[Box] = collate_box
    try:
        assert default_collate([{"b": Box(5)}, {"b": Box(6)}]) == {"b": 11}
    finally:
        del default_collate_fn_map[Box]
    # the torch import path re-exports the same objects
    assert collate_module.default_collate is default_collate
    assert collate_module.default_collate_fn_map is default_collate_fn_map


def test_collate_mapping_types():
    dd = collections.defaultdict(list, {"a": 1})
    out = default_collate([dd, collections.defaultdict(list, {"a": 2})])
    assert type(out) is collections.defaultdict and out.default_factory is list
    np.testing.assert_array_equal(npv(out["a"]), [1, 2])

    class Frozen(collections.abc.Mapping):  # immutable, and cannot be built from a dict
        def __init__(self, **kw):
            self._d = kw

        def __getitem__(self, k):
            return self._d[k]

        def __iter__(self):
            return iter(self._d)

        def __len__(self):
            return len(self._d)

    out = default_collate([Frozen(a=1), Frozen(a=2)])
    assert type(out) is dict


# --------------------------------------------------------------------------- default_convert
CONVERT_CASES = {
    "int": 0,
    "array": np.array([0, 1]),
    "array_f32": np.ones((2, 2), np.float32),
    "scalar": np.float64(2.5),
    "str_array": np.array(["a", "b"]),
    "np_str": np.str_("hi"),
    "string": "abc",
    "namedtuple_numbers": Point(0, 0),
    "namedtuple_arrays": Point(np.array(0), np.array([1.0])),
    "list": [np.array([0, 1]), np.array([2, 3])],
    "tuple": (np.array([1]), 2, "s"),
    "dict": {"a": np.array([1.5]), "b": [np.int32(3)], "c": None},
    "ordered": OrderedDict([("x", np.arange(2))]),
}


@pytest.mark.parametrize("name", sorted(CONVERT_CASES))
def test_default_convert_matches_torch(torch, name):
    data = CONVERT_CASES[name]
    got = default_convert(data)
    want = torch.utils.data.default_convert(data)
    if isinstance(want, np.ndarray):  # string arrays come back unchanged
        assert got is data
        return
    _same(got, want, torch)


def test_default_convert_shares_memory_and_keeps_tensors():
    a = np.arange(3.0)
    t = default_convert(a)
    a[0] = 7.0
    assert float(t[0]) == 7.0
    x = F.ones(2)
    assert default_convert(x) is x
    assert default_convert([x])[0] is x


def test_default_collate_returns_a_collated_batch_as_is():
    from ferrum.utils.data._collate import CollatedBatch

    images, labels = F.zeros(2, 3), F.tensor([4, 5])
    calls = []

    def samples():
        calls.append(1)
        return [(images[0], 4), (images[1], 5)]

    b = CollatedBatch([images, labels], 2, samples)
    out = default_collate(b)
    assert out == [images, labels] and out is not b.collated and out[0] is images
    assert len(b) == 2 and not calls  # nothing per sample was built
    assert b[1][1] == 5 and list(b)[0][1] == 4 and len(calls) == 1
    # any other collate sees the samples
    assert [s[1] for s in b] == [4, 5]
    assert npv(collate(b, collate_fn_map=default_collate_fn_map)[1]).tolist() == [4, 5]
