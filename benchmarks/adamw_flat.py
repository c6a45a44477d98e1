#!/usr/bin/env python
"""AdamW on the gpt workload's parameters: ferrum's per-parameter loop against one multi-tensor update
over flat buffers (issue 11 asked for the flat update if it measures better; it does not).

    python benchmarks/adamw_flat.py

The flat update is the same AdamW arithmetic (decoupled decay, lerp for m, v, sqrt, eps, addcdiv) as
NumPy passes over one buffer per quantity (818,241 float32 elements: 54 parameters), timed without the
copies a real implementation would add (gathering the gradients is timed on its own). Thread CPU time,
one thread, medians of 60.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
_BENCH = [REPO.parent / "shared" / "bench", REPO.parents[1] / "shared" / "bench"]
_BENCH_DIR = next((p for p in _BENCH if p.is_dir()), _BENCH[0])
sys.path.insert(0, os.environ.get("FERRUM_BENCH_DIR", str(_BENCH_DIR)))

import ferrum  # noqa: E402
import workloads as W  # noqa: E402


def _median_ms(fn, reps: int = 60) -> float:
    for _ in range(3):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        ts.append(time.thread_time() - t0)
    return float(np.median(ts)) * 1e3


def main() -> int:
    ferrum.set_num_threads(1)
    ferrum.backends.cpu.tune_allocator()
    rng = np.random.default_rng(0)
    params = list(W._gpt(ferrum).parameters())
    for p in params:
        p.grad = ferrum.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
    opt = ferrum.optim.AdamW(params, lr=3e-4, weight_decay=0.1)
    n = sum(p.numel() for p in params)
    flat_p, flat_g = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    flat_m, flat_v, tmp = (np.zeros(n, np.float32) for _ in range(3))
    f32 = np.float32

    def flat_update():
        np.multiply(flat_p, f32(1 - 3e-4 * 0.1), out=flat_p)
        np.multiply(flat_m, f32(0.9), out=flat_m)
        np.multiply(flat_g, f32(0.1), out=tmp)
        np.add(flat_m, tmp, out=flat_m)
        np.multiply(flat_g, flat_g, out=tmp)
        np.multiply(tmp, f32(0.001), out=tmp)
        np.multiply(flat_v, f32(0.999), out=flat_v)
        np.add(flat_v, tmp, out=flat_v)
        np.sqrt(flat_v, out=tmp)
        np.add(tmp, f32(1e-8), out=tmp)
        np.divide(flat_m, tmp, out=tmp)
        np.multiply(tmp, f32(-3e-4), out=tmp)
        np.add(flat_p, tmp, out=flat_p)

    grads = [p.grad._data.reshape(-1) for p in params]

    def gather():
        np.concatenate(grads, out=flat_g)

    print(f"{len(params)} parameters, {n} elements")
    for _ in range(2):
        print(f"per-parameter AdamW.step {_median_ms(opt.step):.2f} ms | flat update "
              f"{_median_ms(flat_update):.2f} ms + gathering the gradients {_median_ms(gather):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
