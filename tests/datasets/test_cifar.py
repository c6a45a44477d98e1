"""CIFAR10 / CIFAR100 on made-up files in both of the authors' formats (Python pickles, binary).

Archives are built in the tests and served from a local HTTP server on 127.0.0.1; no internet.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

import ferrum
from ferrum.datasets import CIFAR10, CIFAR100, extract_tar
from ferrum.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor
from ferrum.utils.data import Dataset

C10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def _split(seed, n, n_classes, coarse=False):
    rng = np.random.default_rng(seed)
    out = {"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
           "labels": rng.integers(0, n_classes, n).tolist()}
    if coarse:
        out["coarse"] = rng.integers(0, 20, n).tolist()
    return out


def _c10_python_files(protocol=2):
    """{file name: bytes} of a small cifar-10-batches-py, and the splits."""
    splits = {f"data_batch_{i}": _split(i, 3, 10) for i in range(1, 6)}
    splits["test_batch"] = _split(9, 4, 10)
    files = {}
    for name, s in splits.items():
        # the real files are Python 2 pickles with str keys; bytes keys (Python 3) work too
        entry = {b"batch_label" if protocol == 2 else "batch_label": name.encode(),
                 "data": s["data"], "labels": s["labels"]}
        files[name] = pickle.dumps(entry, protocol=protocol)
    files["batches.meta"] = pickle.dumps({"label_names": C10_CLASSES, "num_vis": 3072}, protocol=protocol)
    return files, splits


def _c100_python_files():
    splits = {"train": _split(1, 6, 100, coarse=True), "test": _split(2, 3, 100, coarse=True)}
    files = {name: pickle.dumps({"data": s["data"], "fine_labels": s["labels"], "coarse_labels": s["coarse"]},
                                protocol=5)
             for name, s in splits.items()}
    files["meta"] = pickle.dumps({"fine_label_names": [f"fine{i}" for i in range(100)],
                                  "coarse_label_names": [f"coarse{i}" for i in range(20)]}, protocol=2)
    return files, splits


def _c10_binary_files():
    splits = {f"data_batch_{i}.bin": _split(10 + i, 2, 10) for i in range(1, 6)}
    splits["test_batch.bin"] = _split(20, 3, 10)
    files = {}
    for name, s in splits.items():
        rec = np.concatenate([np.asarray(s["labels"], np.uint8)[:, None], s["data"]], axis=1)
        files[name] = rec.tobytes()
    files["batches.meta.txt"] = ("\n".join(C10_CLASSES) + "\n\n").encode()
    return files, splits


def _c100_binary_files():
    splits = {"train.bin": _split(30, 4, 100, coarse=True), "test.bin": _split(31, 2, 100, coarse=True)}
    files = {}
    for name, s in splits.items():
        rec = np.concatenate([np.asarray(s["coarse"], np.uint8)[:, None],
                              np.asarray(s["labels"], np.uint8)[:, None], s["data"]], axis=1)
        files[name] = rec.tobytes()
    files["fine_label_names.txt"] = "\n".join(f"fine{i}" for i in range(100)).encode()
    files["coarse_label_names.txt"] = "\n".join(f"coarse{i}" for i in range(20)).encode()
    return files, splits


def _hwc(data):
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        (folder / name).write_bytes(blob)


def _targz(members: dict[str, bytes], extra=None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
        for info in extra or ():
            tf.addfile(info)
    return buf.getvalue()


@pytest.fixture
def c10_md5s(monkeypatch):
    """Points CIFAR10's per-file MD5 lists at the made-up python files."""
    files, splits = _c10_python_files()
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", _md5(files[f"data_batch_{i}"])]
                                                for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(files["test_batch"])]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": _md5(files["batches.meta"])})
    return files, splits


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves the archives: c10.tar.gz (python), c10bin.tar.gz, evil.tar.gz (path traversal)."""
    docroot = tmp_path_factory.mktemp("www")
    py_files, _ = _c10_python_files()
    bin_files, _ = _c10_binary_files()
    archives = {
        "cifar-10-python.tar.gz": _targz({f"cifar-10-batches-py/{n}": b for n, b in py_files.items()}),
        "cifar-10-binary.tar.gz": _targz({f"cifar-10-batches-bin/{n}": b for n, b in bin_files.items()}),
        "evil.tar.gz": _targz({"cifar-10-batches-py/test_batch": py_files["test_batch"],
                               "../escaped.txt": b"owned"}),
    }
    for name, blob in archives.items():
        (docroot / name).write_bytes(blob)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_QuietHandler, directory=str(docroot)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", {n: _md5(b) for n, b in archives.items()}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- reading from root ---------------------------------------------------------------------------


def test_cifar10_python_from_root(tmp_path, c10_md5s):
    files, splits = c10_md5s
    _write(tmp_path / "cifar-10-batches-py", files)
    ds = CIFAR10(tmp_path, train=True)
    assert isinstance(ds, Dataset) and ds.format == "python"
    assert len(ds) == 15 and ds.data.dtype == np.uint8 and ds.data.shape == (15, 32, 32, 3)
    assert ds.data.flags.c_contiguous
    ref = np.concatenate([splits[f"data_batch_{i}"]["data"] for i in range(1, 6)])
    np.testing.assert_array_equal(ds.data, _hwc(ref))
    assert ds.targets == sum((splits[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    assert ds.classes == C10_CLASSES and ds.class_to_idx["cat"] == 3
    img, target = ds[4]
    assert isinstance(img, ferrum.Tensor) and img.dtype == ferrum.uint8 and tuple(img.shape) == (32, 32, 3)
    np.testing.assert_array_equal(img.numpy(), ds.data[4])
    assert isinstance(target, int) and target == ds.targets[4]
    test = CIFAR10(tmp_path, train=False)
    assert len(test) == 4 and test.targets == splits["test_batch"]["labels"]
    assert repr(test) == ("Dataset CIFAR10\n    Number of datapoints: 4\n"
                          f"    Root location: {tmp_path}\n    Split: Test")
    with pytest.raises(IndexError):
        test[4]
    with pytest.raises(TypeError):
        test["a"]


def test_cifar10_transforms(tmp_path, c10_md5s):
    files, _ = c10_md5s
    _write(tmp_path / "cifar-10-batches-py", files)
    tf = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
                  Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    ds = CIFAR10(tmp_path, transform=tf, target_transform=lambda y: -y)
    img, target = ds[0]
    assert tuple(img.shape) == (3, 32, 32) and img.dtype == ferrum.float32
    assert target == -ds.targets[0]
    plain = CIFAR10(tmp_path, transform=ToTensor())
    np.testing.assert_array_equal(plain[1][0].numpy(), ds.data[1].transpose(2, 0, 1) / np.float32(255))
    assert "Transform: Compose(" in repr(ds)


def test_cifar10_bad_md5_is_not_found(tmp_path, c10_md5s):
    files, _ = c10_md5s
    blob = files["data_batch_2"]
    files = dict(files, data_batch_2=blob[:200] + bytes([blob[200] ^ 1]) + blob[201:])
    _write(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        CIFAR10(tmp_path)


def test_cifar10_binary_from_root(tmp_path):
    files, splits = _c10_binary_files()
    _write(tmp_path / "cifar-10-batches-bin", files)
    ds = CIFAR10(tmp_path, train=True)
    assert ds.format == "binary" and len(ds) == 10 and ds.classes == C10_CLASSES
    ref = np.concatenate([splits[f"data_batch_{i}.bin"]["data"] for i in range(1, 6)])
    np.testing.assert_array_equal(ds.data, _hwc(ref))
    assert ds.targets == sum((splits[f"data_batch_{i}.bin"]["labels"] for i in range(1, 6)), [])
    test = CIFAR10(tmp_path, train=False, format="binary")
    assert test.targets == splits["test_batch.bin"]["labels"]
    with pytest.raises(RuntimeError, match="not found"):
        CIFAR10(tmp_path, format="python")
    with pytest.raises(ValueError, match="format"):
        CIFAR10(tmp_path, format="hdf5")


def test_cifar10_binary_truncated(tmp_path):
    files, _ = _c10_binary_files()
    files["test_batch.bin"] = files["test_batch.bin"][:-5]
    _write(tmp_path / "cifar-10-batches-bin", files)
    with pytest.raises(RuntimeError, match="records"):
        CIFAR10(tmp_path, train=False)


def test_cifar100_python_and_binary(tmp_path, monkeypatch):
    files, splits = _c100_python_files()
    monkeypatch.setattr(CIFAR100, "train_list", [["train", _md5(files["train"])]])
    monkeypatch.setattr(CIFAR100, "test_list", [["test", _md5(files["test"])]])
    monkeypatch.setattr(CIFAR100, "meta", {**CIFAR100.meta, "md5": _md5(files["meta"])})
    _write(tmp_path / "py" / "cifar-100-python", files)
    ds = CIFAR100(tmp_path / "py", train=True)
    assert ds.format == "python" and len(ds) == 6
    np.testing.assert_array_equal(ds.data, _hwc(splits["train"]["data"]))
    assert ds.targets == splits["train"]["labels"] and ds.coarse_targets == splits["train"]["coarse"]
    assert len(ds.classes) == 100 and ds.classes[7] == "fine7" and ds.coarse_classes[3] == "coarse3"

    bfiles, bsplits = _c100_binary_files()
    _write(tmp_path / "bin" / "cifar-100-binary", bfiles)
    ds = CIFAR100(tmp_path / "bin", train=False)
    assert ds.format == "binary" and len(ds) == 2
    np.testing.assert_array_equal(ds.data, _hwc(bsplits["test.bin"]["data"]))
    assert ds.targets == bsplits["test.bin"]["labels"] and ds.coarse_targets == bsplits["test.bin"]["coarse"]
    assert ds.classes[99] == "fine99" and len(ds.coarse_classes) == 20


def test_real_cifar_constants():
    assert CIFAR10.base_folder == "cifar-10-batches-py"
    assert CIFAR10.tgz_md5 == "c58f30108f718f92721af3b95e74349a"
    assert CIFAR10.train_list[0] == ["data_batch_1", "c99cafc152244af753f735de768cd75f"]
    assert CIFAR100.base_folder == "cifar-100-python"
    assert CIFAR100.tgz_md5 == "eb9058c3a382ffc7106e4002c42a8d85"
    assert CIFAR100.meta["key"] == "fine_label_names"


# --- restricted unpickling -----------------------------------------------------------------------


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_refused(tmp_path, monkeypatch):
    files, _ = _c10_python_files()
    files["test_batch"] = pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [_Evil()]},
                                       protocol=2)
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(files["test_batch"])]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": _md5(files["batches.meta"])})
    _write(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(RuntimeError, match="not allowed"):
        CIFAR10(tmp_path, train=False)


# --- download and extraction ---------------------------------------------------------------------


def test_download_python_archive(server, tmp_path, monkeypatch, c10_md5s):
    base, md5 = server
    monkeypatch.setattr(CIFAR10, "url", base + "cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5["cifar-10-python.tar.gz"])
    ds = CIFAR10(tmp_path, train=False, download=True)
    assert ds.format == "python" and len(ds) == 4
    assert (tmp_path / "cifar-10-python.tar.gz").is_file()
    assert sorted(os.listdir(tmp_path)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    # present and verified: no second download (the URL is gone)
    monkeypatch.setattr(CIFAR10, "url", base + "gone.tar.gz")
    assert len(CIFAR10(tmp_path, train=True, download=True)) == 15


def test_download_binary_archive(server, tmp_path, monkeypatch):
    base, md5 = server
    monkeypatch.setattr(CIFAR10, "bin_url", base + "cifar-10-binary.tar.gz")
    monkeypatch.setattr(CIFAR10, "bin_tgz_md5", md5["cifar-10-binary.tar.gz"])
    ds = CIFAR10(tmp_path, train=True, download=True, format="binary")
    assert ds.format == "binary" and len(ds) == 10


def test_download_wrong_md5(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setattr(CIFAR10, "url", base + "cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        CIFAR10(tmp_path, download=True)
    assert os.listdir(tmp_path) == []


def test_download_missing_url(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setattr(CIFAR10, "url", base + "missing.tar.gz")
    with pytest.raises(RuntimeError, match="HTTP 404"):
        CIFAR10(tmp_path, download=True)


def test_path_traversal_archive_refused(server, tmp_path, monkeypatch):
    base, md5 = server
    monkeypatch.setattr(CIFAR10, "url", base + "evil.tar.gz")
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5["evil.tar.gz"])
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=r"refusing.*\.\./escaped\.txt"):
        CIFAR10(root, download=True)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (root / "cifar-10-batches-py").exists()
    assert [p for p in os.listdir(root) if p.endswith(".extract")] == []


@pytest.mark.parametrize("kind", ["symlink", "absolute", "hardlink"])
def test_extract_tar_refuses_links_and_absolute_paths(tmp_path, kind):
    if kind == "absolute":
        blob = _targz({str(tmp_path / "abs.txt"): b"x"})
    else:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
        info.linkname = "/etc/passwd"
        blob = _targz({"ok.txt": b"fine"}, extra=[info])
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(blob)
    with pytest.raises(RuntimeError, match="refusing"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "ok.txt").exists() and not (tmp_path / "abs.txt").exists()


def test_extract_tar_ok(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_targz({"d/x.txt": b"hello", "d/e/y.txt": b"bye"}))
    out = extract_tar(archive, tmp_path / "out")
    assert (out / "d" / "x.txt").read_bytes() == b"hello"
    assert (out / "d" / "e" / "y.txt").read_bytes() == b"bye"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tar")
    with pytest.raises(RuntimeError, match="cannot open"):
        extract_tar(bad, tmp_path / "out2")
