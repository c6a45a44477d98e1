"""ferrum.save / ferrum.load in ferrum's safetensors format; save_file / load_file against torch."""

from __future__ import annotations

import collections
import io
import json
import pathlib
import pickle

import numpy as np
import pytest

import ferrum
from ferrum.serialization import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


def _round(obj, **kw):
    buf = io.BytesIO()
    ferrum.save(obj, buf)
    buf.seek(0)
    return ferrum.load(buf, **kw)


def _bits(t) -> bytes:
    return np.ascontiguousarray(t._data).tobytes()


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_round_trips_bit_exactly(name):
    dt = getattr(ferrum, name)
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=64 * 16, dtype=np.uint8)  # every bit pattern: NaN payloads, -0.0
    if name == "bool":
        x = ferrum.tensor(rng.integers(0, 2, size=(4, 16)).astype(bool))
    else:
        x = ferrum.from_numpy(raw.view(ferrum.empty(0, dtype=dt)._data.dtype)[:64].reshape(4, 16).copy())
    got = _round({"x": x, "col": x[:, 3]})
    assert got["x"].dtype is dt and got["x"].shape == x.shape and _bits(got["x"]) == _bits(x)
    assert _bits(got["col"]) == _bits(x[:, 3])


def test_views_share_one_storage_with_offsets_and_strides():
    base = ferrum.arange(60.0).reshape(3, 4, 5)
    views = {"base": base, "row": base[1], "col": base[:, 2, 1:4], "t": base.permute(2, 0, 1),
             "step": base.reshape(-1)[7::3], "scalar": base[2, 3, 4], "exp": base[0, 0, :1].expand(6, 1)}
    got = _round(views)
    for k, v in views.items():
        assert got[k].shape == v.shape and got[k].tolist() == v.tolist(), k
    for k in views:
        assert np.shares_memory(got[k]._data, got["base"]._data), k
    got["row"][0, 0] = -1.0  # a write through one view shows in the others, as in torch
    assert got["base"][1, 0, 0].item() == -1.0 and got["t"][0, 1, 0].item() == -1.0


def test_same_tensor_twice_is_one_object_and_parameters_survive():
    p = ferrum.nn.Parameter(ferrum.ones(3))
    q = ferrum.ones(2, requires_grad=True)
    a, b, c, d = _round([p, q, p, q.detach()])
    assert a is c and isinstance(a, ferrum.nn.Parameter) and a.requires_grad
    assert b.requires_grad and not isinstance(b, ferrum.nn.Parameter) and not d.requires_grad


def test_containers_primitives_arrays():
    obj = collections.OrderedDict(
        a=[1, 2.5, "s", None, True, b"\x00\xff", bytearray(b"ab"), (1, (2, [3])), 1 + 2j, float("inf")],
        b={0: {"k": np.arange(6, dtype=np.uint32).reshape(2, 3)}, "x": {1, 2}, "f": frozenset({"q"})},
        c=(np.float32(1.5), np.int64(-3), np.bool_(True)), d=ferrum.Size([2, 3]), e=ferrum.float16,
        f=ferrum.device("cpu"), g=np.arange(4.0)[::-1], h=10 ** 30, big_neg=-(2 ** 70),
        empty=ferrum.zeros(0, 3))
    got = _round(obj)
    assert type(got) is collections.OrderedDict and list(got) == list(obj)
    assert got["a"][:9] == obj["a"][:9] and got["a"][9] == float("inf") and type(got["a"][6]) is bytearray
    assert type(got["a"][7]) is tuple and got["b"]["x"] == {1, 2} and got["b"]["f"] == frozenset({"q"})
    k = got["b"][0]["k"]
    assert k.dtype == np.uint32 and k.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert [type(v) for v in got["c"]] == [np.float32, np.int64, np.bool_] and got["c"][1] == -3
    assert type(got["d"]) is ferrum.Size and got["e"] is ferrum.float16 and got["f"] == ferrum.device("cpu")
    assert got["g"].tolist() == [3.0, 2.0, 1.0, 0.0] and got["h"] == 10 ** 30 and got["big_neg"] == -(2 ** 70)
    assert got["empty"].shape == (0, 3)
    assert np.isnan(_round(float("nan")))


def test_paths_file_objects_and_positions(tmp_path):
    x = ferrum.arange(5)
    for f in (str(tmp_path / "a.ft"), tmp_path / "b.ft", pathlib.PurePath(tmp_path / "c.ft")):
        ferrum.save(x, f)
        assert ferrum.load(f).tolist() == [0, 1, 2, 3, 4]
    with open(tmp_path / "d.ft", "wb") as fh:  # appended after a prefix, left open
        fh.write(b"prefix")
        ferrum.save({"x": x}, fh)
        ferrum.save([x, 1], fh)
    with open(tmp_path / "d.ft", "rb") as fh:
        assert fh.read(6) == b"prefix"
        assert ferrum.load(fh)["x"].tolist() == [0, 1, 2, 3, 4]
        assert ferrum.load(fh)[1] == 1


class _NoSeek(io.RawIOBase):
    """A write-only stream like a pipe or socket: the checksum has to be known before the header."""

    def __init__(self):
        self.parts = []

    def writable(self):
        return True

    def write(self, b):
        self.parts.append(bytes(b))
        return len(b)


def test_non_seekable_writer_gets_the_same_file():
    obj = {"w": ferrum.randn(100, 7), "n": 3}
    s = _NoSeek()
    ferrum.save(obj, s)
    got = ferrum.load(io.BytesIO(b"".join(s.parts)))
    assert ferrum.equal(got["w"], obj["w"]) and got["n"] == 3


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    ferrum.save(ferrum.zeros(3), tmp_path / "z")
    z = ferrum.load(tmp_path / "z")
    z.add_(1)
    assert ferrum.load(tmp_path / "z").tolist() == [0.0, 0.0, 0.0]


def test_mmap_copy_on_write(tmp_path):
    w = ferrum.randn(64, 32)
    ferrum.save({"w": w, "v": w[3:5], "n": 1}, tmp_path / "m.ft")
    before = (tmp_path / "m.ft").read_bytes()
    got = ferrum.load(tmp_path / "m.ft", mmap=True)
    assert ferrum.equal(got["w"], w) and ferrum.equal(got["v"], w[3:5])
    root = got["w"]._data
    while not isinstance(root, np.memmap) and root.base is not None:
        root = root.base
    assert isinstance(root, np.memmap) and root.mode == "c"
    got["w"].mul_(0)  # private to this process: the file is unchanged
    assert got["v"].abs().sum().item() == 0
    assert (tmp_path / "m.ft").read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        ferrum.load(io.BytesIO(before), mmap=True)
    ferrum.save({}, tmp_path / "e.ft")
    assert ferrum.load(tmp_path / "e.ft", mmap=True) == {}


def test_map_location_forms(tmp_path):
    ferrum.save({"a": ferrum.ones(2)}, tmp_path / "a")
    for loc in ("cpu", ferrum.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s, lambda s, loc: None):
        assert ferrum.load(tmp_path / "a", map_location=loc)["a"].tolist() == [1.0, 1.0]
    seen = []
    ferrum.load(tmp_path / "a", map_location=lambda s, loc: seen.append(loc) or s)
    assert seen == ["cpu"]


def test_checksum_detects_corruption_and_truncation(tmp_path):
    ferrum.save({"w": ferrum.randn(1000)}, tmp_path / "c")
    raw = bytearray((tmp_path / "c").read_bytes())
    raw[-100] ^= 1
    (tmp_path / "bad").write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="checksum"):
        ferrum.load(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes(raw[:-10]))
    with pytest.raises(RuntimeError, match="invalid safetensors"):
        ferrum.load(tmp_path / "short")


def test_optimizer_and_scheduler_state_round_trip():
    def make():
        ferrum.manual_seed(0)
        m = ferrum.nn.Linear(4, 3)
        opt = ferrum.optim.Adam(m.parameters(), lr=0.1, betas=(0.8, 0.9))
        return m, opt, ferrum.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(m, opt, sch):
        opt.zero_grad()
        m(ferrum.ones(2, 4)).pow(2).sum().backward()
        opt.step()
        sch.step()

    m, opt, sch = make()
    for _ in range(3):
        step(m, opt, sch)
    ck = _round({"model": m.state_dict(), "opt": opt.state_dict(), "sched": sch.state_dict(), "epoch": 3})
    assert ck["opt"]["param_groups"][0]["betas"] == (0.8, 0.9) and set(ck["opt"]["state"]) == {0, 1}
    m2, opt2, sch2 = make()
    m2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    sch2.load_state_dict(ck["sched"])
    for a in ((m, opt, sch), (m2, opt2, sch2)):
        step(*a)
    assert all(ferrum.equal(p, q) for p, q in zip(m.parameters(), m2.parameters()))
    assert sch.get_last_lr() == sch2.get_last_lr()


class Point:
    def __init__(self, x, t):
        self.x, self.t = x, t


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_user_objects_need_the_allow_list(capsys):
    obj = {"p": Point(3, ferrum.arange(4))}
    buf = io.BytesIO()
    ferrum.save(obj, buf)
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL .*Point.*add_safe_globals"):
        ferrum.load(io.BytesIO(buf.getvalue()))
    with safe_globals([Point]):
        p = ferrum.load(io.BytesIO(buf.getvalue()))["p"]
        assert p.x == 3 and p.t.tolist() == [0, 1, 2, 3]
    assert Point not in get_safe_globals()
    try:
        add_safe_globals([Point])
        assert Point in get_safe_globals()
        assert ferrum.load(io.BytesIO(buf.getvalue()))["p"].x == 3
    finally:
        clear_safe_globals()
    assert get_safe_globals() == []
    assert ferrum.load(io.BytesIO(buf.getvalue()), weights_only=False)["p"].x == 3
    evil = io.BytesIO()
    ferrum.save([_Evil()], evil)
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        ferrum.load(io.BytesIO(evil.getvalue()))
    assert "pwned" not in capsys.readouterr().out


def test_whole_module(tmp_path):
    m = ferrum.nn.Sequential(ferrum.nn.Linear(2, 3), ferrum.nn.ReLU())
    ferrum.save(m, tmp_path / "m")
    with pytest.raises(pickle.UnpicklingError, match="Sequential"):
        ferrum.load(tmp_path / "m")
    m2 = ferrum.load(tmp_path / "m", weights_only=False)
    x = ferrum.randn(5, 2)
    assert ferrum.equal(m2(x), m(x))
    # the weights are payload entries, not pickled bytes
    with open(tmp_path / "m", "rb") as fh:
        head = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    assert sum(v["dtype"] == "F32" for k, v in head.items() if k != "__metadata__") == 2


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))


def _same(tm, fm, x):
    """The same weights bit for bit, and the same outputs (up to the two BLAS' rounding)."""
    for (k, v), (k2, w) in zip(tm.state_dict().items(), fm.state_dict().items()):
        assert k == k2 and np.array_equal(v.numpy(), w.numpy())
    np.testing.assert_allclose(tm(__import__("torch").from_numpy(x)).detach().numpy(),
                               fm(ferrum.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_save_file_loads_into_torch_and_back(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")

    fm = _mlp(ferrum)
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    ferrum.save_file(fm.state_dict(), tmp_path / "f.safetensors", metadata={"k": "v"})
    ferrum.save(fm.state_dict(), tmp_path / "g.safetensors")  # ferrum.save of a state dict is one too
    for name in ("f.safetensors", "g.safetensors"):
        tm = _mlp(torch)
        tm.load_state_dict(st.load_file(tmp_path / name))
        _same(tm, fm, x)
    tm = _mlp(torch)
    st.save_file(tm.state_dict(), tmp_path / "t.safetensors")
    for sd in (ferrum.load_file(tmp_path / "t.safetensors"), ferrum.serialization.load_file(
            tmp_path / "t.safetensors"), ferrum.load(tmp_path / "t.safetensors")):
        fm2 = _mlp(ferrum)
        fm2.load_state_dict(sd)
        _same(tm, fm2, x)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "int64", "bool", "uint8", "int8"])
def test_save_file_dtypes_in_torch(torch, tmp_path, name):
    st = pytest.importorskip("safetensors.torch")

    x = (ferrum.arange(12) % 3).reshape(3, 4).to(getattr(ferrum, name))
    ferrum.save_file({"x": x, "t": x.t()}, tmp_path / "d.safetensors")
    got = st.load_file(tmp_path / "d.safetensors")
    want = (torch.arange(12) % 3).reshape(3, 4).to(getattr(torch, name))
    assert torch.equal(got["x"], want) and torch.equal(got["t"], want.t())
    st.save_file({"x": want}, tmp_path / "e.safetensors")
    back = ferrum.load_file(tmp_path / "e.safetensors")["x"]
    assert back.dtype is getattr(ferrum, name) and ferrum.equal(back, x)


def test_legacy_torch_file_loads(torch, tmp_path):
    x = torch.arange(12.0).reshape(3, 4)
    torch.save({"x": x, "v": x[1:], "i": torch.arange(3), "n": 2}, tmp_path / "l.pt",
               _use_new_zipfile_serialization=False)
    got = ferrum.load(tmp_path / "l.pt")
    assert got["x"].tolist() == x.tolist() and got["v"].tolist() == x[1:].tolist() and got["n"] == 2
    assert got["i"].dtype is ferrum.int64 and np.shares_memory(got["v"]._data, got["x"]._data)


def test_map_location_torch_device(torch, tmp_path):
    ferrum.save({"a": ferrum.ones(2)}, tmp_path / "a")
    for loc in (torch.device("cpu"), {"cpu": torch.device("cpu")}):
        assert ferrum.load(tmp_path / "a", map_location=loc)["a"].tolist() == [1.0, 1.0]


def test_mmap_reads_no_payload(tmp_path):
    """mmap=True neither reads nor checksums the payload: a corrupted byte loads as is (the
    header is still checked), where a plain load refuses the file."""
    ferrum.save({"w": ferrum.zeros(4096)}, tmp_path / "w")
    raw = bytearray((tmp_path / "w").read_bytes())
    raw[-1] ^= 0xFF
    (tmp_path / "w").write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="checksum"):
        ferrum.load(tmp_path / "w")
    assert ferrum.load(tmp_path / "w", mmap=True)["w"][:-1].abs().sum().item() == 0


def test_every_scheduler_state_is_plain_data():
    """No scheduler state needs the pickle path (MultiStepLR's milestones are a Counter)."""
    from ferrum.optim import lr_scheduler as L

    m = ferrum.nn.Linear(2, 2)
    for make in (lambda o: L.MultiStepLR(o, [1, 2, 2]), lambda o: L.OneCycleLR(o, 1.0, total_steps=10),
                 lambda o: L.ReduceLROnPlateau(o), lambda o: L.CyclicLR(o, 0.01, 0.1),
                 lambda o: L.SequentialLR(o, [L.LinearLR(o), L.ExponentialLR(o, 0.9)], [2])):
        sd = make(ferrum.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)).state_dict()
        got = _round(sd)
        assert repr(got) == repr(sd)


def test_torch_multisteplr_state_loads(torch, tmp_path):
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    torch.save(torch.optim.lr_scheduler.MultiStepLR(opt, [3, 5]).state_dict(), tmp_path / "s.pt")
    got = ferrum.load(tmp_path / "s.pt")
    assert got["milestones"] == collections.Counter({3: 1, 5: 1})
