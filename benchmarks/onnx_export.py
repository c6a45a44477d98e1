"""``ferrum.onnx.export``: (1) that an export leaves no cost behind (the tracer patches ferrum's public
functions and registers global module hooks only while it traces, and restores everything), timed as
an MLP training step (784-512-256-10, batch 128, SGD with momentum: the bench ``mlp`` workload,
which runs Sequential's fused Linear/ReLU path that global hooks switch off) and a chain of 100
small ops forward + backward (the bench ``micro_chain``), before any export and after each of three
exports, in one process; (2) how long exports take (LeNet-5, ResNet-18, GPT), and how far
onnxruntime's outputs are from ferrum's.

    PYTHONPATH=src OMP_NUM_THREADS=1 .venv/bin/python benchmarks/onnx_export.py

2026-12-07, 2-core Xeon shared with other jobs, one thread, median ms per step: mlp before 7.43,
after exports 7.57 / 7.50 / 7.42; 100-op chain before 0.350, after 0.339 / 0.344 / 0.364 (a second
run: mlp 11.96 before (noise) then 11.49 / 8.01 / 7.79; chain 0.358 / 0.346 / 0.354 / 0.363):
within noise, as expected of code that is not there outside an export. This script's own run:
mlp 10.98 (before, the first steps) / 8.15 / 7.82 / 7.50, chain 0.454 / 0.415 / 0.402 / 0.405.
Exports: lenet5 130 ms (0.25 MB), resnet18 1225 ms (44.8 MB, mostly serialising and
check_model(full_check=True)), char GPT 227 ms (3.3 MB); onnxruntime's outputs within 7e-8, 6e-7
and 6e-7 of ferrum's. Again with the final code (symbolic sizes: shape and size are swapped
during exports too), the machine less loaded: mlp 3.25 / 3.18 / 3.30 / 3.31 ms, chain 0.360 /
0.360 / 0.372 / 0.370 ms; exports lenet5 20 ms, resnet18 359 ms, GPT 45 ms.
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np

import ferrum
from ferrum import models, nn


def _median_ms(fn, n: int) -> float:
    fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def _mlp_step():
    ferrum.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = ferrum.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = ferrum.randn(128, 784), ferrum.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _chain(n_ops: int = 100):
    a = ferrum.randn(16, 16, requires_grad=True)
    b = ferrum.randn(16, 16)

    def step():
        y = a
        for _ in range(n_ops // 4):
            y = ((y * b + b) - a).relu()
        y.sum().backward()
        a.grad = None
    return step


def main() -> None:
    step, chain = _mlp_step(), _chain()
    small = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    for r in range(4):
        label = "before any export" if r == 0 else f"after {r} export(s)"
        mlp_ms, chain_ms = _median_ms(step, 40), _median_ms(chain, 200)
        print(f"{label:20s} mlp {mlp_ms:7.2f} ms   100-op chain {chain_ms:6.3f} ms")
        ferrum.onnx.export(small, (ferrum.randn(2, 4),), None)
    import onnxruntime as ort
    ferrum.manual_seed(0)
    cases = [("lenet5", models.lenet5(), (ferrum.randn(4, 1, 28, 28),)),
             ("resnet18", models.resnet18(num_classes=10), (ferrum.randn(4, 3, 32, 32),)),
             ("gpt", models.char_gpt(), (ferrum.randint(0, 65, (4, 64)),))]
    for name, m, args in cases:
        m.eval()
        buf = io.BytesIO()
        t0 = time.perf_counter()
        ferrum.onnx.export(m, args, buf)
        dt = time.perf_counter() - t0
        sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: args[0].numpy()})[0]
        with ferrum.no_grad():
            ref = m(*args).numpy()
        print(f"{name:10s} export {dt * 1e3:7.1f} ms  {len(buf.getvalue()) / 1e6:6.2f} MB  "
              f"max |ort - ferrum| {np.abs(got - ref).max():.2e}")


if __name__ == "__main__":
    main()
