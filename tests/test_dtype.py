"""dtypes: attributes, conversions to/from NumPy, PyTorch's promotion rules, finfo/iinfo."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import ferrum
from ferrum import _dtype

REAL = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
ALL = REAL + ["complex64", "complex128"]


def fd(name):
    return getattr(ferrum, name)


def tname(torch_dtype) -> str:
    return str(torch_dtype).split(".")[1]


@pytest.fixture
def default_float64():
    ferrum.set_default_dtype(ferrum.float64)
    yield
    ferrum.set_default_dtype(ferrum.float32)


# --------------------------------------------------------------------------- attributes
@pytest.mark.parametrize("name", ALL)
def test_attributes_match_torch(torch, name):
    f, t = fd(name), getattr(torch, name)
    assert f.itemsize == t.itemsize
    assert f.is_floating_point == t.is_floating_point
    assert f.is_complex == t.is_complex
    assert f.is_signed == t.is_signed
    assert repr(f) == repr(t).replace("torch", "ferrum")
    assert str(f) == str(t).replace("torch", "ferrum")


def test_aliases():
    assert ferrum.float is ferrum.float32 and ferrum.double is ferrum.float64
    assert ferrum.half is ferrum.float16 and ferrum.long is ferrum.int64
    assert ferrum.int is ferrum.int32 and ferrum.cfloat is ferrum.complex64
    assert ferrum.cdouble is ferrum.complex128
    assert ferrum.float32 == ferrum.float and ferrum.float32 != ferrum.float64
    assert len({ferrum.float32, ferrum.float, ferrum.int64}) == 2


@pytest.mark.parametrize("name", ALL)
def test_pickle_round_trip_keeps_identity(name):
    assert pickle.loads(pickle.dumps(fd(name))) is fd(name)


@pytest.mark.parametrize("name", ALL)
def test_numpy_round_trip(name):
    npd = _dtype.to_np(fd(name))
    assert isinstance(npd, np.dtype)
    assert _dtype.from_np(npd) is fd(name)
    assert ferrum.zeros(2, dtype=fd(name))._data.dtype == npd


def test_from_np_unsupported_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        _dtype.from_np(np.dtype("U3"))
    with pytest.raises(TypeError):
        _dtype.from_np(np.dtype("datetime64[s]"))


def test_unsigned_numpy_types_widen():
    assert _dtype.from_np(np.dtype("uint16")) is ferrum.int32
    assert _dtype.from_np(np.dtype("uint32")) is ferrum.int64


def test_as_dtype_accepts_names_numpy_and_python_types(torch):
    a = _dtype.as_dtype
    assert a("float64") is ferrum.float64 and a("long") is ferrum.int64
    assert a("torch.float16") is ferrum.float16 and a("ferrum.bool") is ferrum.bool
    assert a(np.float32) is ferrum.float32 and a(np.dtype("int16")) is ferrum.int16
    assert a(torch.int8) is ferrum.int8 and a(torch.bfloat16) is ferrum.bfloat16
    # Python types are double precision, as in PyTorch (torch.ones(2).to(float) is float64)
    assert a(float) is ferrum.float64 and a(int) is ferrum.int64
    assert a(bool) is ferrum.bool and a(complex) is ferrum.complex128
    assert tname(torch.ones(2).to(float).dtype) == ferrum.ones(2).to(float).dtype.name
    with pytest.raises(TypeError):
        a(None)
    with pytest.raises(TypeError):
        a("not_a_dtype")


def test_scalar_names_are_pytorchs():
    assert _dtype.scalar_name(ferrum.float32) == "Float"
    assert _dtype.scalar_name(ferrum.float16) == "Half"
    assert _dtype.scalar_name(ferrum.int64) == "Long"
    assert _dtype.scalar_name(ferrum.uint8) == "Byte"
    assert _dtype.scalar_name(ferrum.bool) == "Bool"


# --------------------------------------------------------------------------- promotion
@pytest.mark.parametrize("a", ALL)
def test_promote_types_matches_torch_for_every_pair(torch, a):
    for b in ALL:
        expected = tname(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        got = ferrum.promote_types(fd(a), fd(b))
        assert got.name == expected, (a, b)
        assert ferrum.promote_types(fd(b), fd(a)) is got  # symmetric


def _operand(lib, name, kind):
    dt = getattr(lib, name)
    return lib.ones(2, dtype=dt) if kind == "dim" else lib.ones((), dtype=dt)


@pytest.mark.parametrize("ka,kb", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero")])
@pytest.mark.parametrize("a", ALL)
def test_result_type_tensor_pairs_match_torch(torch, a, ka, kb):
    for b in ALL:
        expected = tname(torch.result_type(_operand(torch, a, ka), _operand(torch, b, kb)))
        if expected == "complex32":  # ferrum has no complex32 (ComplexHalf)
            continue
        got = ferrum.result_type(_operand(ferrum, a, ka), _operand(ferrum, b, kb))
        assert got.name == expected, (a, ka, b, kb)


@pytest.mark.parametrize("scalar", [True, 3, -2.5, 1j], ids=["bool", "int", "float", "complex"])
@pytest.mark.parametrize("kind", ["dim", "zero"])
@pytest.mark.parametrize("a", ALL)
def test_result_type_tensor_and_python_scalar_match_torch(torch, a, kind, scalar):
    expected = tname(torch.result_type(_operand(torch, a, kind), scalar))
    if expected == "complex32":
        pytest.skip("no complex32 in ferrum")
    assert ferrum.result_type(_operand(ferrum, a, kind), scalar).name == expected


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement([True, 2, 2.5, 1j], 2)))
def test_result_type_of_scalars_only(torch, a, b):
    assert ferrum.result_type(a, b).name == tname(torch.result_type(torch.tensor(a), b))


@pytest.mark.parametrize("a,b,scalar,expected", [
    (("int8", "dim"), ("int64", "zero"), 2.5, "float32"),
    (("uint8", "dim"), ("int8", "zero"), 1, "uint8"),
    (("bool", "dim"), ("float64", "zero"), 1j, "complex128"),
    (("float16", "dim"), ("float64", "zero"), 2, "float16"),
    (("int32", "zero"), ("int16", "zero"), True, "int32"),
    (("bool", "dim"), ("bool", "zero"), 2, "int64"),
])
def test_result_type_three_operands(a, b, scalar, expected):
    got = ferrum.result_type(_operand(ferrum, *a), _operand(ferrum, *b), scalar)
    assert got.name == expected


def test_result_type_accepts_numpy_scalars_and_arrays():
    assert ferrum.result_type(ferrum.ones(2, dtype=ferrum.int32), np.float64(1.5)) is ferrum.float32
    assert ferrum.result_type(ferrum.ones(2, dtype=ferrum.int32), np.ones(2)) is ferrum.float64
    with pytest.raises(TypeError, match="unsupported scalar type"):
        ferrum.result_type(ferrum.ones(2), "a")


def test_result_type_follows_default_dtype(default_float64):
    assert ferrum.result_type(ferrum.ones(2, dtype=ferrum.int64), 1.5) is ferrum.float64
    assert ferrum.result_type(ferrum.ones(2, dtype=ferrum.int64), 1j) is ferrum.complex128
    assert ferrum.result_type(ferrum.ones(2, dtype=ferrum.float32), 1.5) is ferrum.float32


@pytest.mark.parametrize("a", ALL)
def test_can_cast_matches_torch(torch, a):
    for b in ALL:
        assert ferrum.can_cast(fd(a), fd(b)) == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


# --------------------------------------------------------------------------- default dtype
def test_default_dtype_is_float32():
    assert ferrum.get_default_dtype() is ferrum.float32
    assert ferrum.tensor([1.5]).dtype is ferrum.float32


def test_set_default_dtype_changes_inference(default_float64):
    assert ferrum.get_default_dtype() is ferrum.float64
    assert ferrum.tensor([1.5]).dtype is ferrum.float64
    assert ferrum.tensor([1 + 1j]).dtype is ferrum.complex128
    assert ferrum.zeros(2).dtype is ferrum.float64
    assert ferrum.arange(0.0, 1.0, 0.5).dtype is ferrum.float64
    assert (ferrum.tensor([1, 2]) / 2).dtype is ferrum.float64
    assert ferrum.Tensor([1]).dtype is ferrum.float64
    assert ferrum.tensor([1, 2]).exp().dtype is ferrum.float64
    assert repr(ferrum.tensor([1.5])) == "tensor([1.5000])"
    assert repr(ferrum.tensor([1.5], dtype=ferrum.float32)) == "tensor([1.5000], dtype=ferrum.float32)"


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError, match="floating"):
        ferrum.set_default_dtype(ferrum.int64)
    assert ferrum.get_default_dtype() is ferrum.float32


# --------------------------------------------------------------------------- finfo / iinfo
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_torch(torch, name):
    f, t = ferrum.finfo(fd(name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(f, attr) == pytest.approx(getattr(t, attr), rel=1e-6), attr
    assert f.dtype == t.dtype


def test_finfo_default_and_complex():
    assert ferrum.finfo().dtype == "float32"
    assert ferrum.finfo(ferrum.complex128).dtype == "float64"
    assert "eps=" in repr(ferrum.finfo(ferrum.float16))
    with pytest.raises(TypeError):
        ferrum.finfo(ferrum.int32)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo_matches_torch(torch, name):
    f, t = ferrum.iinfo(fd(name)), torch.iinfo(getattr(torch, name))
    assert (f.bits, f.min, f.max, f.dtype) == (t.bits, t.min, t.max, t.dtype)


def test_iinfo_rejects_float():
    with pytest.raises(TypeError):
        ferrum.iinfo(ferrum.float32)


# --------------------------------------------------------------------------- names and the cast rule
def test_scalar_name_is_the_one_table(torch):
    for name in ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8", "int16",
                 "int32", "int64", "uint8", "bool"]:
        d = getattr(ferrum, name)
        legacy = torch.empty(0, dtype=getattr(torch, name)).type()  # 'torch.FloatTensor'
        assert ferrum._dtype.type_name(d) == legacy.replace("torch.", "ferrum.")
        assert ferrum.empty(0, dtype=d).type() == legacy.replace("torch.", "ferrum.")
        assert ferrum._dtype.from_scalar_name(legacy) is d
        assert ferrum._dtype.scalar_name(d) == ferrum._dtype.scalar_name(ferrum._dtype.to_np(d))
    assert ferrum._dtype.from_scalar_name("Nonsense") is None
    assert ferrum._dtype.type_name(ferrum.int64, cuda=True) == "ferrum.cuda.LongTensor"


def test_float_to_int_is_truncate_then_wrap():
    # the rule of ferrum._casting (torch 2.13 on x86): truncate; through an int32 intermediate for
    # targets of 32 bits or fewer (int64 for int64), where out-of-range values become its minimum;
    # then wrap modulo 2**bits
    import numpy as np
    x = np.array([2.9, -2.9, 255.5, 256.0, -1.0, 300.7, -129.5, 1e10, -1e10, 2.0**62 + 2.0**40])
    for npd in (np.int8, np.int16, np.int32, np.int64, np.uint8):
        bits = 8 * np.dtype(npd).itemsize
        inter = 64 if bits == 64 else 32
        got = ferrum._dtype.float_to_int(x, np.dtype(npd))
        for v, g in zip(x, got):
            t = int(v)
            if not -(1 << (inter - 1)) <= t < 1 << (inter - 1):
                t = -(1 << (inter - 1))
            want = t % (1 << bits)
            if np.dtype(npd).kind == "i" and want >= 1 << (bits - 1):
                want -= 1 << bits
            assert int(g) == want, (npd, v, g)
    # nan, inf and values beyond int64: x86's truncating convert (INT64_MIN, whose low bits are 0)
    special = np.array([np.nan, np.inf, -np.inf, 1e30])
    assert ferrum._dtype.float_to_int(special, np.dtype(np.int64)).tolist() == [-2**63] * 4
    assert ferrum._dtype.float_to_int(special, np.dtype(np.uint8)).tolist() == [0] * 4
