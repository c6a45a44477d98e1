"""Hostile and malformed files: every loader raises a clean error (RuntimeError or
pickle.UnpicklingError), runs no code and allocates nothing absurd. The hand-made cases cover each
check of the readers; tests/serialization/fuzz_cases.json holds the inputs benchmarks/fuzz_loaders.py
found crashing (replayed here; the memo case below is its first find)."""

from __future__ import annotations

import io
import json
import os
import pickle
import resource
import zipfile

import numpy as np
import pytest

import ferrum
from ferrum.serialization._torch_format import _TorchUnpickler
from ferrum.serialization._unpickle import run

CLEAN = (RuntimeError, pickle.UnpicklingError, ValueError)
CASES = os.path.join(os.path.dirname(__file__), "serialization", "fuzz_cases.json")


@pytest.fixture(autouse=True)
def _memory_cap():
    """An absurd allocation fails with MemoryError here instead of swapping the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = 8 * 2 ** 30
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _st(head: dict, payload: bytes = b"", raw_len: int | None = None) -> bytes:
    raw = json.dumps(head).encode()
    return (len(raw) if raw_len is None else raw_len).to_bytes(8, "little") + raw + payload


def _load(data: bytes):
    return ferrum.load(io.BytesIO(data))


def _clean(data: bytes, match: str | None = None):
    with pytest.raises(CLEAN, match=match) as e:
        _load(data)
    assert not isinstance(e.value, RecursionError)


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize("data,match", [
    (b"", "shorter"),
    (b"\x05\x00", "shorter"),
    (_st({}, raw_len=2 ** 63), "header length"),
    (_st({}, raw_len=50), "header length"),
    (b"\x04\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xfd\xfc", "not JSON"),
    (_st([1, 2]), "not a JSON object"),  # type: ignore[arg-type]
    (_st({"a": F32}, b"\x00" * 4), "out of"),
    (_st({"a": {**F32, "data_offsets": [0, 2 ** 64]}}, b"\x00" * 8), "out of"),
    (_st({"a": {**F32, "data_offsets": [8, 0]}}, b"\x00" * 8), "out of"),
    (_st({"a": F32, "b": {**F32, "data_offsets": [4, 12]}}, b"\x00" * 12), "overlap"),
    (_st({"a": {**F32, "data_offsets": [4, 12]}}, b"\x00" * 12), "hole"),
    (_st({"a": {**F32, "shape": [2 ** 40, 2 ** 40]}}, b"\x00" * 8), "needs"),
    (_st({"a": {**F32, "shape": [-1, -8]}}, b"\x00" * 8), "bad shape"),
    (_st({"a": {**F32, "shape": [1] * 100}}, b"\x00" * 8), "bad shape"),
    (_st({"a": {**F32, "dtype": "F128"}}, b"\x00" * 8), "dtype"),
    (_st({"a": {**F32, "dtype": "BOOL"}}, b"\x00" * 8), "needs"),
    (_st({"__metadata__": {"k": 3}}), "strings"),
])
def test_bad_safetensors_headers(data, match):
    _clean(data, match)


def _ferrum(structure, payload=b"\x00" * 8, storages=("a",)) -> bytes:
    meta = {"format": "ferrum", "version": "1", "storages": json.dumps(list(storages)),
            "structure": structure if isinstance(structure, str) else json.dumps(structure)}
    return _st({"__metadata__": meta, "a": {"dtype": "F32", "shape": [len(payload) // 4],
                                             "data_offsets": [0, len(payload)]}}, payload)


T = {"t": "tensor", "s": 0, "o": 0, "sh": [2], "st": [1], "d": "float32"}


@pytest.mark.parametrize("structure", [
    {**T, "sh": [3]}, {**T, "o": 1, "sh": [2]}, {**T, "sh": [2, 2], "st": [1, 1]}, {**T, "st": [-1]},
    {**T, "sh": [2 ** 62, 2 ** 62], "st": [0, 0]}, {**T, "s": 5}, {**T, "s": "a"}, {**T, "d": "float99"},
    {**T, "sh": [1] * 65, "st": [0] * 65}, {**T, "sh": [2], "st": [1, 1]}, {**T, "o": -1},
    {**T, "d": "complex128"}, {"t": "ref", "i": 0}, {"t": "nope"}, {"t": "list"}, [1, 2],
    {"t": "dict", "k": [1], "v": []}, {"t": "set", "v": [{"t": "list", "v": []}]},
    {"t": "bytes", "s": 0}, {"t": "npscalar", "d": "float32", "v": "00"}, {"t": "Size", "v": [1.5]},
    {"t": "pickle", "s": 0, "r": []}, "[" * 100_000 + "]" * 100_000,
    '{"t":"list","v":' * 50_000 + "1" + "}" * 50_000,
])
def test_bad_ferrum_structures(structure):
    _clean(_ferrum(structure))


def test_valid_structure_of_the_handmade_file_loads():
    assert _load(_ferrum({**T, "sh": [2, 1], "st": [1, 0]})).shape == (2, 1)
    assert _load(_ferrum({**T, "sh": [3], "st": [0]})).tolist() == [0.0, 0.0, 0.0]


def test_bad_metadata():
    _clean(_ferrum(T, storages=("zz",)), "storages")
    data = _ferrum(T)
    _clean(data.replace(b'\\"version\\": \\"1\\"', b'\\"version\\": \\"9\\"').replace(
        b'"version": "1"', b'"version": "9"'), "version")


def _zip(pkl: bytes, storages: dict | None = None, compress=zipfile.ZIP_STORED) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compress) as zf:
        zf.writestr("archive/data.pkl", pkl)
        for k, v in (storages or {}).items():
            zf.writestr(f"archive/data/{k}", v)
    return b.getvalue()


def _rebuild(offset, size, stride, numel=4) -> bytes:
    """A protocol-2 pickle of torch._utils._rebuild_tensor_v2 over FloatStorage '0'."""
    def enc(x):
        return pickle.dumps(x, protocol=2)[2:-1]  # the value's opcodes, without PROTO and STOP
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu" + enc(numel) + b"tQ" + enc(offset) + enc(tuple(size))
            + enc(tuple(stride)) + b"\x89}tR.")


def test_the_handmade_torch_zip_is_valid():
    got = _load(_zip(_rebuild(1, [2], [1]), {"0": np.arange(4, dtype="<f4").tobytes()}))
    assert got.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("pkl,storages", [
    (_rebuild(3, [2], [1]), {"0": b"\x00" * 16}),  # past the storage
    (_rebuild(0, [2, 2], [3, 3]), {"0": b"\x00" * 16}),
    (_rebuild(0, [2], [1], numel=2 ** 40), {"0": b"\x00" * 16}),  # claims more than the member holds
    (_rebuild(0, [2], [1]), {"0": b"\x00" * 15}),  # not a whole number of floats
    (_rebuild(0, [2], [1]), {}),  # missing member
    (b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueR.", {}),  # calls a function: refused
    (b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.", {}),  # bytearray(2**30)
    (b"\x80\x02]r\xff\xff\xff\x7f.", {}),  # LONG_BINPUT 2**31-1: a 16 GB memo (fuzzer's find)
    (b"\x80\x02]q\x00(K\x01" + b"(" * 10 + b"e.", {}),
    (b"\x80\x02X\x01\x00\x00\x00aQ.", {}),  # a persistent id that is no storage record
    (b"not a pickle", {}),
])
def test_hostile_torch_zips(pkl, storages, capsys):
    _clean(_zip(pkl, storages))


def test_zip_oddities():
    good = _zip(_rebuild(0, [2], [1]), {"0": b"\x00" * 16})
    for cut in (10, 40, len(good) // 2, len(good) - 5):
        _clean(good[:cut])
    _clean(_zip(_rebuild(0, [2], [1]), {"0": b"\x00" * 16}, zipfile.ZIP_DEFLATED), "compressed")
    _clean(_zip(b"", {}))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as zf:
        zf.writestr("x/y/z", b"")
    _clean(b.getvalue(), "data.pkl")


def test_legacy_stream_checks():
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950a86a20f9469cfc6c, 1001, {}))
    body = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu\x8a\x06\x00\x00\x00\x00\x00\x01NtQK\x00K\x02\x85K\x01\x85"
            b"\x89}tR.")  # numel 2**40
    _clean(head + body + pickle.dumps(["0"], protocol=2), "more than the file")
    _clean(pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(7, protocol=2), "protocol")
    _clean(pickle.dumps(0x1950a86a20f9469cfc6d, protocol=2), "magic")  # a 10-byte int, not the magic


def test_unpickler_direct():
    for data in (b"", b"\x80", b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01u.",
                 b"\x80\x05\x95" + b"\xff" * 8):
        try:
            run(_TorchUnpickler(data, True, lambda *a: np.zeros(4, np.float32)))
        except CLEAN:
            pass


def _replay():
    if not os.path.exists(CASES):
        return []
    with open(CASES) as fh:
        return json.load(fh)


@pytest.mark.parametrize("case", _replay(), ids=lambda c: c["error"][:40])
def test_fuzz_found_cases(case):
    data = bytes.fromhex(case["hex"])
    try:
        if case["target"] == "unpickler":
            run(_TorchUnpickler(data, True, lambda *a: np.zeros(4096, np.float32)))
        else:
            _load(data)
    except CLEAN as e:
        assert not isinstance(e, RecursionError)


def _bomb(levels: int = 60) -> bytes:
    """t1 = ((), ()); t{k+1} = (tk, tk) by memo references, then {t60: 1}: 400 bytes whose dict
    insert would hash 2**60 nodes."""
    body = b"\x80\x02}q\x00))\x86q\x01"
    for k in range(1, levels):  # POP (0) each level once it is in the memo
        body += b"0h" + bytes([k]) + b"h" + bytes([k]) + b"\x86q" + bytes([k + 1])
    return body + b"K\x01s."


def test_reference_bombs_are_refused_before_unpickling():
    with pytest.raises(pickle.UnpicklingError, match="reference bomb"):
        run(_TorchUnpickler(_bomb(), True, None))
    _clean(_zip(_bomb()), "reference bomb")
    assert run(_TorchUnpickler(_bomb(8), True, None)) == {_nested(8): 1}  # small sharing is fine


def _nested(levels):
    t = ((), ())
    for _ in range(levels - 1):
        t = (t, t)
    return t
