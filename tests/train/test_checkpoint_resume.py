"""Bit-exact resume: training 2N steps straight, and training N steps, checkpointing and stopping,
then resuming in a NEW process and training the rest, give identical parameters and history
(MNIST, shuffling, dropout, 2 DataLoader workers, Adam + OneCycleLR, an evaluation loader, NumPy's
and Python's global RNGs drawn every step). Each run is a subprocess of tests/train/_resume_run.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "_resume_run.py")
SRC = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "src")


def _run(root, ckpt_dir, out, stop, persistent, resume):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(SRC), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, SCRIPT, root, str(ckpt_dir), str(out), str(stop),
                        "1" if persistent else "0", "1" if resume else "0"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.timeout(300)
# 10 batches per epoch, 30 steps: stop in the middle of epoch 2, and right after epoch 1's last step
@pytest.mark.parametrize("stop,persistent", [(15, True), (10, False)])
def test_resume_in_a_new_process_is_bit_exact(mnist_root, tmp_path, stop, persistent):
    straight = _run(mnist_root, tmp_path / "a", tmp_path / "straight.npz", 0, persistent, False)
    first = _run(mnist_root, tmp_path / "b", tmp_path / "first.npz", stop, persistent, False)
    assert int(first["step"]) == stop
    names = sorted(os.listdir(tmp_path / "b"))
    assert names == [f"checkpoint-{stop - 5:010d}.ckpt", f"checkpoint-{stop:010d}.ckpt"]  # keep=2
    resumed = _run(mnist_root, tmp_path / "b", tmp_path / "resumed.npz", 0, persistent, True)
    assert int(resumed["step"]) == int(straight["step"]) == 30
    params = [k for k in straight if k not in ("history", "step")]
    assert len(params) == 4
    for k in params:
        assert straight[k].dtype == resumed[k].dtype
        assert np.array_equal(straight[k], resumed[k]), k  # exact, not close
    # the interrupted run differs: the test can fail
    assert not np.array_equal(first[params[0]], straight[params[0]])
    h_straight, h_resumed = json.loads(str(straight["history"])), json.loads(str(resumed["history"]))
    assert len(h_straight) == 3 and h_resumed == h_straight
