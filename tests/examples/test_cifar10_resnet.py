"""examples/cifar10_resnet.py runs end to end through its command-line flags on a tiny made-up
CIFAR-10 (a few images in the authors' cifar-10-batches-py pickle format, and in the binary format):
it trains a narrow ResNet for a couple of steps per epoch and prints per-epoch test accuracy."""

from __future__ import annotations

import hashlib
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "cifar10_resnet.py"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SPLITS = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
N_PER_SPLIT = 8


def _split(seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (N_PER_SPLIT, 3072)).astype(np.uint8)
    return data, rng.integers(0, 10, N_PER_SPLIT).tolist()


def _python_version(root: Path) -> dict[str, str]:
    """Writes ROOT/cifar-10-batches-py; returns {file: md5}."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    md5 = {}
    for i, name in enumerate(SPLITS):
        data, labels = _split(i)
        blob = pickle.dumps({b"batch_label": name.encode(), "data": data, "labels": labels}, protocol=2)
        (folder / name).write_bytes(blob)
        md5[name] = hashlib.md5(blob).hexdigest()
    meta = pickle.dumps({"label_names": CLASSES, "num_cases_per_batch": N_PER_SPLIT, "num_vis": 3072},
                        protocol=2)
    (folder / "batches.meta").write_bytes(meta)
    md5["batches.meta"] = hashlib.md5(meta).hexdigest()
    return md5


def _binary_version(root: Path) -> None:
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for i, name in enumerate(SPLITS):
        data, labels = _split(i)
        records = np.concatenate([np.asarray(labels, np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n")


def _run(root: Path, md5: dict[str, str] | None) -> subprocess.CompletedProcess:
    flags = ["--root", str(root), "--epochs", "2", "--batch-size", "4", "--max-steps", "2", "--width", "4",
             "--blocks", "1", "--workers", "2", "--test-limit", "6", "--lr", "0.05"]
    if md5 is None:
        argv = [sys.executable, str(SCRIPT), *flags]
    else:
        # the made-up files' MD5s stand in the table where CIFAR10 keeps the real files' MD5s
        tables = (f"CIFAR10.train_list = {[[n, md5[n]] for n in SPLITS[:5]]!r}; "
                  f"CIFAR10.test_list = {[['test_batch', md5['test_batch']]]!r}; "
                  f"CIFAR10.meta = dict(CIFAR10.meta, md5={md5['batches.meta']!r}); ")
        code = ("import runpy, sys; from ferrum.datasets import CIFAR10; " + tables +
                f"sys.argv[0] = {str(SCRIPT)!r}; runpy.run_path(sys.argv[0], run_name='__main__')")
        argv = [sys.executable, "-c", code, *flags]
    return subprocess.run(argv, capture_output=True, text=True, timeout=170)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("version", ["python", "binary"])
def test_example_trains_on_a_made_up_cifar10(tmp_path, version):
    md5 = _python_version(tmp_path) if version == "python" else _binary_version(tmp_path)
    r = _run(tmp_path, md5)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"CIFAR-10 ({tmp_path}): 40 training, 6 test images; device cpu"
    assert lines[1].startswith("ResNet: width 4, 1 blocks per stage, ")
    epochs = [ln for ln in lines if ln.startswith("epoch ")]
    assert len(epochs) == 2
    for k, ln in enumerate(epochs, 1):
        m = re.fullmatch(rf"epoch {k}/2  train loss (\d+\.\d{{4}})  test accuracy (\d+\.\d\d)%  "
                         r"\d+\.\ds \([\d,]+ samples/s\)", ln)
        assert m, ln
        assert np.isfinite(float(m.group(1))) and 0 <= float(m.group(2)) <= 100
