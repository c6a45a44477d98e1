"""``ferrum train JOB --nproc N`` (ferrum.train.distributed): the re-launch on 2 ranks reaches the
one-process accuracy with one report, and resumes from rank 0's checkpoint as the uninterrupted run
continues; the pieces (the sharded loader, the flag handling) in-process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ferrum
from ferrum.train import distributed as tdist
from ferrum.train import mnist_mlp
from ferrum.utils.data import TensorDataset

SRC = Path(__file__).resolve().parents[2] / "src"
OPTIONS = ["--epochs", "1", "--batch-size", "64", "--schedule", "constant", "--train-limit", "4000",
           "--test-limit", "1000", "--no-progress"]


def _train(*args: str) -> subprocess.CompletedProcess:
    """``ferrum train ARGS`` in a subprocess with this checkout's package."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get(
        "PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "ferrum", "train", *args], env=env, capture_output=True,
                       text=True, timeout=200)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.mark.timeout(240)
def test_two_ranks_reach_the_one_process_accuracy(mnist_root):
    pytest.importorskip("mpi4py")
    r = _train("mnist-mlp", "--nproc", "2", "--root", mnist_root, *OPTIONS)
    finals = re.findall(r"final test accuracy: ([\d.]+)%", r.stdout)
    assert len(finals) == 1, r.stdout  # only rank 0 reports
    assert r.stdout.count("epoch 1/1") == 1 and "4000 training, 1000 test images" in r.stdout
    one = mnist_mlp.train(epochs=1, batch_size=64, schedule="constant", train_limit=4000, test_limit=1000,
                          root=mnist_root, quiet=True, seed=0)
    two = float(finals[0]) / 100
    assert one.test_accuracy >= 0.85 and two >= 0.85
    assert abs(two - one.test_accuracy) <= 0.03, (two, one.test_accuracy)


def test_nproc_flag_is_dropped_from_the_relaunched_arguments():
    assert tdist._without_nproc(["mnist-mlp", "--nproc", "2", "--epochs", "1", "--nproc=3"]) == [
        "mnist-mlp", "--epochs", "1"]


def test_no_process_group_means_one_process():
    assert tdist.data_parallel() is None


def test_loader_shards_the_global_batch():
    ds = TensorDataset(ferrum.arange(20))
    base = ferrum.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
    seen = []
    for rank in range(2):
        dp = tdist.DataParallelRun(rank, 2)
        loader = dp.loader("job", base, seed=5)
        assert loader.batch_size == 2 and len(loader) == 5  # 10 samples per rank, 5 steps as one process
        cb = dp.callbacks[0]
        epochs = []
        for epoch in (1, 2):
            cb.on_epoch_begin(type("T", (), {"state": type("S", (), {"epoch": epoch})()})())
            epochs.append([int(v) for (b,) in loader for v in b])
        assert epochs[0] != epochs[1]  # set_epoch reshuffles
        seen.append(epochs[0])
    assert sorted(seen[0] + seen[1]) == list(range(20))
    with pytest.raises(ValueError, match="multiple of the number of processes"):
        tdist.DataParallelRun(0, 3).loader("job", base, seed=0)


@pytest.mark.timeout(240)
def test_rank_zero_checkpoints_and_every_rank_resumes(mnist_root, tmp_path):
    pytest.importorskip("mpi4py")
    common = ["mnist-mlp", "--nproc", "2", "--root", mnist_root, "--batch-size", "64", "--train-limit", "640",
              "--test-limit", "200", "--no-progress", "--schedule", "constant"]
    whole = _train(*common, "--epochs", "2")
    ckpt = str(tmp_path / "ckpt")
    _train(*common, "--epochs", "1", "--checkpoint-dir", ckpt)
    # one writer: rank 0's checkpoint, and its metrics file (ferrum.train.tracking) with each step once
    assert [f for f in os.listdir(ckpt) if f.endswith(".ckpt")] == ["checkpoint-0000000010.ckpt"]
    with open(os.path.join(ckpt, "metrics.jsonl")) as f:
        assert [json.loads(ln)["step"] for ln in f] == [10, 10]  # the step record, the epoch's
    resumed = _train(*common, "--epochs", "2", "--checkpoint-dir", ckpt, "--resume")
    assert "resumed from" in resumed.stdout
    line = [ln for ln in whole.stdout.splitlines() if ln.startswith("epoch 2/2")][0]
    again = [ln for ln in resumed.stdout.splitlines() if ln.startswith("epoch 2/2")][0]
    # the same second epoch (the timing columns aside)
    assert line.split("  ")[:5] == again.split("  ")[:5], (line, again)
