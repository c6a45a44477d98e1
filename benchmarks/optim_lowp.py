#!/usr/bin/env python
"""Optimizer steps on float16/bfloat16 parameters: ferrum against torch (CPU), side by side, and
the raw NumPy passes the choice rests on.

    OMP_NUM_THREADS=1 python benchmarks/optim_lowp.py [--src PATH]

``--src`` imports ferrum from another checkout (e.g. the main branch's ``src``, to time the old
update, which ran NumPy ufuncs on the half arrays themselves). Each optimizer steps one
1,048,576-element parameter; medians of 15 steps, thread CPU time, one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

N = 1 << 20
ROUNDS = 15


def _median_us(fn, rounds=ROUNDS) -> float:
    fn()
    ts = []
    for _ in range(rounds):
        t0 = time.thread_time()
        fn()
        ts.append(time.thread_time() - t0)
    return float(np.median(ts)) * 1e6


def raw_passes() -> None:
    import ml_dtypes
    rng = np.random.default_rng(0)
    f = rng.standard_normal(N).astype(np.float32)
    b = f.astype(ml_dtypes.bfloat16)
    h = f.astype(np.float16)
    fa = np.abs(f)
    ba = fa.astype(ml_dtypes.bfloat16)
    ha = fa.astype(np.float16)
    print(f"raw NumPy passes over {N} elements (us)")
    rows = [
        ("multiply in place", lambda: np.multiply(f, np.float32(1.0), out=f),
         lambda: np.multiply(b, b.dtype.type(1.0), out=b), lambda: np.multiply(h, np.float16(1.0), out=h)),
        ("sqrt", lambda: np.sqrt(fa), lambda: np.sqrt(ba), lambda: np.sqrt(ha)),
        ("to float32", lambda: f.astype(np.float32), lambda: b.astype(np.float32),
         lambda: h.astype(np.float32)),
        ("from float32", lambda: f.copy(), lambda: f.astype(b.dtype), lambda: f.astype(np.float16)),
    ]
    print(f"{'':22s} {'float32':>9s} {'bfloat16':>9s} {'float16':>9s}")
    for name, *fns in rows:
        print(f"{name:22s} " + " ".join(f"{_median_us(fn, 7):9.0f}" for fn in fns))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from ferrum.optim import _lowp
    x = f.copy()
    print(f"{'_lowp bf16 rounding':22s} {_median_us(lambda: _lowp._round_bf16(x), 7):9.0f}")
    print(f"{'_lowp f16 rounding':22s} {_median_us(lambda: _lowp._round_f16(x), 7):9.0f}")


_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=1e-3)),
    ("AdamW", dict(lr=1e-3, weight_decay=0.01)),
    ("RMSprop", dict(lr=1e-3)),
    ("Adagrad", dict(lr=1e-2)),
]


def steps(src: str | None) -> None:
    import torch
    if src:
        sys.path.insert(0, src)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import ferrum
    print(f"\none step on {N} elements (us); ferrum from {Path(ferrum.__file__).parent}")
    print(f"{'':10s} " + " ".join(f"{lib + ' ' + dt:>16s}" for dt in ("float32", "bfloat16", "float16")
                                   for lib in ("ferrum", "torch")))
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(N).astype(np.float32)
    g0 = (rng.standard_normal(N) * 0.01).astype(np.float32)
    for name, kw in _CASES:
        cells = []
        for dt in ("float32", "bfloat16", "float16"):
            for lib in (ferrum, torch):
                p = lib.nn.Parameter(lib.tensor(p0).to(getattr(lib, dt)))
                p.grad = lib.tensor(g0).to(getattr(lib, dt))
                opt = getattr(lib.optim, name)([p], **kw)
                cells.append(_median_us(opt.step))
        print(f"{name:10s} " + " ".join(f"{c:16.0f}" for c in cells))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=None, help="import ferrum from this src directory")
    ap.add_argument("--skip-raw", action="store_true")
    args = ap.parse_args()
    if not args.skip_raw:
        raw_passes()
    steps(args.src)
