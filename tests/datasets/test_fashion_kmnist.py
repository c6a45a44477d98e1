"""FashionMNIST and KMNIST: MNIST's machinery with their own folders, resources and classes.

Made-up IDX files are served from a local HTTP server (127.0.0.1) or written into the folders the
classes read; no internet is needed.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

import ferrum
from ferrum.datasets import KMNIST, MNIST, FashionMNIST
from ferrum.datasets._idx import encode_idx, write_idx
from ferrum.transforms import ToTensor
from ferrum.utils.data import Dataset

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _arrays(seed):
    rng = np.random.default_rng(seed)
    return {
        NAMES[0]: rng.integers(0, 256, (12, 28, 28)).astype(np.uint8),
        NAMES[1]: rng.integers(0, 10, 12).astype(np.uint8),
        NAMES[2]: rng.integers(0, 256, (5, 28, 28)).astype(np.uint8),
        NAMES[3]: rng.integers(0, 10, 5).astype(np.uint8),
    }


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves good/<name> for each file. Yields (base URL, arrays, {name: md5})."""
    docroot = tmp_path_factory.mktemp("www")
    (docroot / "good").mkdir()
    arrays = _arrays(3)
    md5 = {}
    for name, a in arrays.items():
        blob = gzip.compress(encode_idx(a), mtime=0)
        md5[name] = hashlib.md5(blob).hexdigest()
        (docroot / "good" / name).write_bytes(blob)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_QuietHandler, directory=str(docroot)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", arrays, md5
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_torchvision_attributes():
    assert issubclass(FashionMNIST, MNIST) and issubclass(KMNIST, MNIST)
    assert issubclass(MNIST, Dataset)
    assert FashionMNIST.classes[0] == "T-shirt/top" and FashionMNIST.classes[9] == "Ankle boot"
    assert KMNIST.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    assert [n for n, _ in FashionMNIST.resources] == list(NAMES)
    assert dict(FashionMNIST.resources)["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert dict(KMNIST.resources)["t10k-labels-idx1-ubyte.gz"] == "7320c461ea6c1c855c0b718fb2a4b134"
    assert FashionMNIST.mirrors != MNIST.mirrors and KMNIST.mirrors != MNIST.mirrors


@pytest.mark.parametrize("cls", [FashionMNIST, KMNIST])
def test_reads_raw_folder_of_its_own(cls, tmp_path):
    arrays = _arrays(1)
    raw = tmp_path / cls.__name__ / "raw"
    for name, a in arrays.items():
        write_idx(raw / name, a)  # gzipped
    ds = cls(tmp_path, train=True, transform=ToTensor(), target_transform=lambda y: y + 100)
    assert ds.raw_folder == str(raw) and ds.source == "raw" and len(ds) == 12
    img, target = ds[3]
    np.testing.assert_array_equal(img.numpy()[0], arrays[NAMES[0]][3] / np.float32(255))
    assert target == int(arrays[NAMES[1]][3]) + 100
    test = cls(tmp_path, train=False)
    assert len(test) == 5 and test[0][0].dtype == ferrum.uint8
    assert test.class_to_idx[cls.classes[2]] == 2
    assert repr(test).startswith(f"Dataset {cls.__name__}\n")
    with pytest.raises(IndexError, match=cls.__name__):
        test[5]


@pytest.mark.parametrize("cls", [FashionMNIST, KMNIST])
def test_not_found(cls, tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(tmp_path / "nowhere")])
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)  # MNIST's files are not FashionMNIST's
    for name, a in _arrays(0).items():
        write_idx(tmp_path / "MNIST" / "raw" / name, a)
    with pytest.raises(RuntimeError, match="Dataset not found"):
        cls(tmp_path)


@pytest.mark.parametrize("cls", [FashionMNIST, KMNIST])
def test_download_with_md5(cls, server, tmp_path, monkeypatch):
    base, arrays, md5 = server
    monkeypatch.setattr(cls, "mirrors", [base + "missing/", base + "good/"])
    monkeypatch.setattr(cls, "resources", [(n, md5[n]) for n in NAMES])
    ds = cls(tmp_path, train=True, download=True)
    assert ds.source == "download"
    np.testing.assert_array_equal(ds.data.numpy(), arrays[NAMES[0]])
    assert (tmp_path / cls.__name__ / "raw" / "train-images-idx3-ubyte").is_file()


@pytest.mark.parametrize("cls", [FashionMNIST, KMNIST])
def test_download_wrong_md5_fails(cls, server, tmp_path, monkeypatch):
    base, _, md5 = server
    monkeypatch.setattr(FashionMNIST, "system_dirs", [])
    monkeypatch.setattr(cls, "mirrors", [base + "good/"])
    monkeypatch.setattr(cls, "resources", [(n, "0" * 32) for n in NAMES])
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        cls(tmp_path, download=True)


def test_fashion_system_copy(tmp_path, monkeypatch):
    """Debian's dataset-fashion-mnist installs the IDX files in /usr/share/datasets/fashion-mnist."""
    system = tmp_path / "share" / "fashion-mnist"
    arrays = _arrays(5)
    for name, a in arrays.items():
        write_idx(system / name, a)
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(tmp_path / "empty"), str(system)])
    ds = FashionMNIST(tmp_path / "root", train=False)
    assert ds.source == "system" and len(ds) == 5
    np.testing.assert_array_equal(ds.targets.numpy(), arrays[NAMES[3]].astype(np.int64))
    # a failed download falls back to it, with a warning
    monkeypatch.setattr(FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(FashionMNIST, "timeout", 5)
    with pytest.warns(RuntimeWarning, match="download failed"):
        ds = FashionMNIST(tmp_path / "root2", train=True, download=True)
    assert ds.source == "system" and len(ds) == 12
