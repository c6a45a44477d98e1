"""FFT backends side by side in one process: NumPy's and SciPy's pocketfft (one thread, and SciPy with
workers=2), ferrum.fft (SciPy plus the Tensor wrapping and, with --grad, the backward) and torch.fft;
best-of timings in microseconds. It chose SciPy for ops/fft_ops.py (numbers in its docstring).

    PYTHONPATH=src .venv/bin/python benchmarks/fft_speed.py [--reps 20] [--grad]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.fft as sf
import torch

import ferrum

CASES = [  # (label, shape, numpy/scipy/ferrum/torch function name, axes)
    ("rfft 1024", (1024,), "rfft", None),
    ("rfft 8x16000", (8, 16000), "rfft", None),
    ("fft 32x256", (32, 256), "fft", None),
    ("fftn 64^3 over 2 axes", (64, 64, 64), "fftn", (1, 2)),
    ("rfftn 64^3 over 2 axes", (64, 64, 64), "rfftn", (1, 2)),
    ("irfft 8x8001 bins", (8, 8001), "irfft", None),
]


def best(fn, reps: int) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts) * 1e6


def row(rng, shape, name: str, axes, reps: int, grad: bool) -> list:
    x = rng.standard_normal(shape).astype(np.float32)
    if name.startswith("irfft"):
        x = (x + 1j * rng.standard_normal(shape)).astype(np.complex64)
    kw = {} if axes is None else {"axes": axes}
    tkw = {} if axes is None else {"dim": axes}
    fx = ferrum.tensor(x, requires_grad=grad)
    tx = torch.tensor(x, requires_grad=grad)

    def run(fw, t):
        y = getattr(fw.fft, name)(t, **tkw)
        if grad:
            (y.real if y.is_complex() else y).sum().backward()
    return [best(lambda: getattr(np.fft, name)(x, **kw), reps),
            best(lambda: getattr(sf, name)(x, **kw), reps),
            best(lambda: getattr(sf, name)(x, workers=2, **kw), reps), best(lambda: run(ferrum, fx), reps),
            best(lambda: run(torch, tx), reps)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--grad", action="store_true", help="time forward + backward for ferrum and torch")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'case':28s} {'numpy':>9s} {'scipy':>9s} {'scipy w2':>9s} {'ferrum':>9s} {'torch':>9s}  (us)")
    for label, shape, name, axes in CASES:
        r = row(rng, shape, name, axes, args.reps, args.grad)
        print(f"{label:28s} " + " ".join(f"{v:9.1f}" for v in r))


if __name__ == "__main__":
    main()
