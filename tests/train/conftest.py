"""Fixtures of the recipe tests: a data folder of made-up Fashion-MNIST IDX files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest


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
