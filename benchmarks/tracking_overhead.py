"""Cost of experiment tracking (``ferrum.train.tracking.Tracker``) on mnist-mlp's training step: the
same Trainer run (the recipe's 784-512-256-10 MLP, Adam, batches of 128 random images) without a
tracker, with one logging every 10 steps (the default: one gradient norm, one JSON line per 10
steps) and every step, with and without TensorBoard; the gradient norm alone per call.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/tracking_overhead.py [STEPS]
"""

from __future__ import annotations

import sys
import tempfile
import time

import ferrum
from ferrum import nn, optim
from ferrum.train import Trainer
from ferrum.train.mnist_mlp import build_model
from ferrum.train.tracking import Tracker, grad_norm
from ferrum.utils.data import DataLoader, TensorDataset


def run(steps: int, make_callbacks) -> float:
    """Seconds per step of one run of ``steps`` steps."""
    g = ferrum.Generator().manual_seed(0)
    x = ferrum.randn(steps * 128, 1, 28, 28, generator=g)
    y = ferrum.randint(0, 10, (steps * 128,), generator=g)
    ferrum.manual_seed(0)
    model = build_model()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=128)
    with tempfile.TemporaryDirectory() as d:
        trainer = Trainer(model, opt, nn.CrossEntropyLoss(), loader, epochs=1, log=None, progress=False,
                          callbacks=make_callbacks(d))
        t = time.perf_counter()
        trainer.fit()
        return (time.perf_counter() - t) / steps


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cases = {
        "no tracker": lambda d: [],
        "Tracker, every 10 steps": lambda d: [Tracker(d, log_every=10, plots=False)],
        "Tracker, every step": lambda d: [Tracker(d, log_every=1, plots=False)],
        "Tracker + TensorBoard, every 10 steps": lambda d: [Tracker(d, logdir=d, log_every=10, plots=False)],
    }
    run(steps, lambda d: [])  # warm-up: the allocator, BLAS, the first TensorBoard import below
    run(steps, lambda d: [Tracker(d, logdir=d, plots=False)])
    best = {name: float("inf") for name in cases}
    for _ in range(5):  # the cases in turn, best of 5: a loaded machine slows them alike
        for name, make in cases.items():
            best[name] = min(best[name], run(steps, make))
    base = best["no tracker"]
    for name, s in best.items():
        print(f"{name:40s} {s * 1e3:7.3f} ms/step  ({s / base:5.3f}x)")
    model = build_model()
    model(ferrum.randn(128, 1, 28, 28)).sum().backward()
    t = time.perf_counter()
    for _ in range(100):
        grad_norm(model.parameters())
    print(f"grad_norm of the MLP's 535,818 gradients: {(time.perf_counter() - t) / 100 * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
