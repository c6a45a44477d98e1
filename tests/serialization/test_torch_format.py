"""ferrum.serialization: torch's .pt format both ways (save_torch, load), checked against torch."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import ferrum

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64"]


def _sample(lib, name):
    t = lib.arange(24).reshape(2, 3, 4) % 5
    return t.to(getattr(lib, name))


@pytest.mark.parametrize("name", DTYPES)
def test_ferrum_file_loads_in_torch(torch, tmp_path, name):
    x = _sample(ferrum, name)
    obj = {"x": x, "view": x[:, 1], "t": x.transpose(0, 2), "scalar": x[0, 0, 0], "n": 3, "s": "a"}
    ferrum.serialization.save_torch(obj, tmp_path / "f.pt")
    got = torch.load(tmp_path / "f.pt", weights_only=True)
    want = _sample(torch, name)
    assert got["x"].dtype == want.dtype and torch.equal(got["x"], want)
    assert torch.equal(got["view"], want[:, 1]) and torch.equal(got["t"], want.transpose(0, 2))
    assert got["scalar"].shape == () and got["n"] == 3 and got["s"] == "a"
    # views of one tensor share its storage in torch too
    assert got["view"].untyped_storage().data_ptr() == got["x"].untyped_storage().data_ptr()


@pytest.mark.parametrize("name", DTYPES)
def test_torch_file_loads_in_ferrum(torch, tmp_path, name):
    x = _sample(torch, name)
    torch.save({"x": x, "view": x[:, 1], "t": x.transpose(0, 2), "dt": x.dtype}, tmp_path / "t.pt")
    got = ferrum.load(tmp_path / "t.pt")
    want = _sample(ferrum, name)
    assert got["x"].dtype == want.dtype and ferrum.equal(got["x"], want)
    assert ferrum.equal(got["view"], want[:, 1]) and ferrum.equal(got["t"], want.transpose(0, 2))
    assert got["dt"] is want.dtype


def test_state_dict_round_trip_both_ways(torch):
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    buf = io.BytesIO()
    torch.save(tm.state_dict(), buf)
    buf.seek(0)
    sd = ferrum.load(buf)
    assert list(sd) == list(tm.state_dict()) and sd._metadata == tm.state_dict()._metadata
    fm = ferrum.nn.Sequential(ferrum.nn.Conv2d(1, 2, 3), ferrum.nn.BatchNorm2d(2))
    fm.load_state_dict(sd)
    assert sd["1.num_batches_tracked"].dtype == ferrum.int64
    out = io.BytesIO()
    ferrum.serialization.save_torch(fm.state_dict(), out)
    out.seek(0)
    back = torch.load(out)
    for k, v in tm.state_dict().items():
        assert torch.equal(back[k], v), k


def test_parameter_and_requires_grad_survive(torch, tmp_path):
    p = ferrum.nn.Parameter(ferrum.ones(3))
    q = ferrum.ones(2, requires_grad=True)
    ferrum.serialization.save_torch([p, q, p], tmp_path / "p.pt")
    tp, tq, tp2 = torch.load(tmp_path / "p.pt")
    assert isinstance(tp, torch.nn.Parameter) and tp.requires_grad and tq.requires_grad and tp is tp2
    fp, fq, fp2 = ferrum.load(tmp_path / "p.pt")
    assert isinstance(fp, ferrum.nn.Parameter) and fp.requires_grad and fq.requires_grad and fp is fp2


def test_loaded_tensors_are_writable_and_independent_of_the_file(tmp_path):
    ferrum.save(ferrum.zeros(3), tmp_path / "z.pt")
    z = ferrum.load(tmp_path / "z.pt")
    z.add_(1)
    assert z.tolist() == [1.0, 1.0, 1.0]
    assert ferrum.load(tmp_path / "z.pt").tolist() == [0.0, 0.0, 0.0]


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_weights_only_refuses_arbitrary_globals(torch, tmp_path, capsys):
    torch.save({"x": _Evil()}, tmp_path / "e.pt")
    with pytest.raises(pickle.UnpicklingError, match="Weights only"):
        ferrum.load(tmp_path / "e.pt")
    assert "pwned" not in capsys.readouterr().out


def test_whole_module_with_weights_only_false(tmp_path):
    m = ferrum.nn.Linear(2, 2)
    ferrum.save(m, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError):
        ferrum.load(tmp_path / "m.pt")
    m2 = ferrum.load(tmp_path / "m.pt", weights_only=False)
    assert isinstance(m2, ferrum.nn.Linear) and ferrum.equal(m2.weight, m.weight)


def test_map_location_cpu_and_not_a_checkpoint(tmp_path):
    ferrum.save({"a": ferrum.ones(2)}, tmp_path / "a.pt")
    for loc in ("cpu", ferrum.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s):
        assert ferrum.load(tmp_path / "a.pt", map_location=loc)["a"].tolist() == [1.0, 1.0]
    (tmp_path / "bad.pt").write_bytes(b"not a zip")
    with pytest.raises(RuntimeError, match="invalid safetensors"):
        ferrum.load(tmp_path / "bad.pt")


def test_storage_members_are_aligned(tmp_path):
    import zipfile

    ferrum.serialization.save_torch({"a": ferrum.ones(5), "b": ferrum.ones(7, dtype=ferrum.float64)},
                                    tmp_path / "al.pt")
    with zipfile.ZipFile(tmp_path / "al.pt") as zf, open(tmp_path / "al.pt", "rb") as fh:
        for info in zf.infolist():
            if "/data/" in info.filename:
                fh.seek(info.header_offset + 26)
                n, m = np.frombuffer(fh.read(4), dtype="<u2")
                assert (info.header_offset + 30 + n + m) % 64 == 0
