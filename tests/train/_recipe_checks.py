"""Checks every image recipe's tests share: the printed report's format and a loss that drops."""

from __future__ import annotations

import re

import numpy as np

# "epoch 2/2  train loss 0.4123  lr 0.0012  test loss 0.3877  test accuracy 88.10%  1.3s (1,234 samples/s)"
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+)  train loss \d+\.\d{4}  lr \S+  test loss \d+\.\d{4}  "
                        r"test accuracy \d+\.\d\d%  \d+\.\ds \([\d,]+ samples/s\)$")


def check_report(text: str, data_name: str, n_train: int, n_test: int, epochs: int) -> None:
    """The data line, then one line per epoch in the Trainer's format, numbered 1..epochs."""
    lines = text.splitlines()
    assert lines[0].startswith(f"{data_name} (")
    assert f"): {n_train} training, {n_test} test images; " in lines[0]
    epoch_lines = [ln for ln in lines[1:] if ln.startswith("epoch ")]
    assert len(epoch_lines) == epochs, text
    for k, ln in enumerate(epoch_lines, 1):
        m = EPOCH_LINE.match(ln)
        assert m, ln
        assert (int(m.group(1)), int(m.group(2))) == (k, epochs)


def check_learns(res, epochs: int) -> None:
    losses = [h.train_loss for h in res.history]
    assert len(losses) == epochs and all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses
    assert 0.0 <= res.test_accuracy <= 1.0 and res.train_time > 0 and res.wall_time >= res.train_time
