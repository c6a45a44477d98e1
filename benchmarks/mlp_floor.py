"""The floor under ../shared/bench's ``mlp`` and ``mlp_infer`` for anything built on NumPy: the same
steps written as bare NumPy with no framework at all (no Tensor, no autograd, no modules, buffers
preallocated, every elementwise pass in place, ferrum's GEMM layouts and its BLAS SGD kernel), timed
in interleaved rounds in one process beside torch's and ferrum's real steps.

    PYTHONPATH=src .venv/bin/python benchmarks/mlp_floor.py [--rounds 7] [--n 200]

Why it exists: issue 9 asks for mlp <= 0.90x and mlp_infer <= 0.95x torch. The "bare numpy" row is
what a framework on NumPy could reach with no overhead at all; the "GEMMs only" row drops even the
elementwise work (bias, activations, loss, optimizer). What is left is NumPy's OpenBLAS GEMMs
against PyTorch's oneDNN/MKL kernels (``benchmarks/mlp_parts.py -e gemm`` times them one by one).
Results are in benchmarks/README.md and the closing notes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
import workloads  # noqa: E402


def _floor_infer(ws, bs, x):
    """mlp_infer's forward, bare: three GEMMs (hidden results column-major, as ferrum's Sequential
    path), the bias added and ReLU applied in place."""
    w1, w2, w3 = ws
    b1, b2, b3 = bs

    def step():
        h1 = (w1 @ x.T).T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = (w2 @ h1.T).T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        o = h2 @ w3.T
        o += b3
        return o
    return step


def _floor_train(ws, bs, x, y):
    """mlp's training step, bare: forward as above, softmax cross-entropy, the backward GEMMs (no
    input gradient for the first layer, as both frameworks skip it), ReLU masks in the layout of
    the gradient, bias gradients as GEMVs with a ones vector, then SGD(momentum=0.9) through
    OpenBLAS axpy/scal (ferrum's kernel)."""
    from ferrum.ops import _blas
    params = list(ws) + list(bs)
    bufs = [np.zeros_like(p) for p in params]
    ones = np.ones(x.shape[0], np.float32)
    rows = np.arange(x.shape[0])
    n = x.shape[0]
    w1, w2, w3 = ws
    b1, b2, b3 = bs

    def sgd(grads):
        for p, g, b in zip(params, grads, bufs):
            _blas.scal(0.9, b)
            _blas.axpy(1.0, g, b)
            _blas.axpy(-0.01, b, p)

    def step():
        h1 = (w1 @ x.T).T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = (w2 @ h1.T).T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        o = h2 @ w3.T
        o += b3
        o -= o.max(axis=1, keepdims=True)
        e = np.exp(o)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.log(s).sum() - o[rows, y].sum()) / n
        g3 = e / s
        g3[rows, y] -= 1.0
        g3 /= n
        gw3 = g3.T @ h2
        gb3 = ones @ g3
        g2 = (w3.T @ g3.T).T          # column-major, as h2
        g2[h2 <= 0] = 0
        gw2 = g2.T @ h1
        gb2 = ones @ g2
        g1 = (w2.T @ g2.T).T
        g1[h1 <= 0] = 0
        gw1 = g1.T @ x
        gb1 = ones @ g1
        sgd([gw1, gw2, gw3, gb1, gb2, gb3])
        return loss
    return step


def _gemms_only(ws, x, train):
    """Only the GEMMs of the step (no bias, activation, loss or optimizer): the absolute floor."""
    w1, w2, w3 = ws
    g3 = np.ones((x.shape[0], 10), np.float32) * 0.01

    def step():
        h1 = (w1 @ x.T).T
        h2 = (w2 @ h1.T).T
        o = h2 @ w3.T
        if train:
            g3.T @ h2
            g2 = (w3.T @ g3.T).T
            g2.T @ h1
            g1 = (w2.T @ g2.T).T
            g1.T @ x
        return o
    return step


def _timed(fn, n):
    pc = time.perf_counter
    out = []
    for _ in range(n):
        t0 = pc()
        fn()
        out.append(pc() - t0)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    import torch

    import ferrum
    torch.set_num_threads(2)
    ferrum.set_num_threads(2)
    rng = np.random.default_rng(0)
    ws = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in ((512, 784), (256, 512), (10, 256))]
    bs = [np.zeros(s, np.float32) for s in (512, 256, 10)]
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    variants = {
        "mlp_infer": {"torch": workloads.mlp_infer(torch).fn, "ferrum": workloads.mlp_infer(ferrum).fn,
                      "bare numpy": _floor_infer(ws, bs, x), "GEMMs only": _gemms_only(ws, x, False)},
        "mlp": {"torch": workloads.mlp(torch).fn, "ferrum": workloads.mlp(ferrum).fn,
                "bare numpy": _floor_train([w.copy() for w in ws], [b.copy() for b in bs], x, y),
                "GEMMs only": _gemms_only(ws, x, True)},
    }
    print(f"# load {os.getloadavg()[0]:.2f}")
    for wl, fns in variants.items():
        res = {k: [] for k in fns}
        for f in fns.values():
            for _ in range(20):
                f()
        for r in range(args.rounds):
            items = list(fns.items())
            for k, f in (items if r % 2 == 0 else items[::-1]):
                res[k].append(_timed(f, args.n))
        med = {k: statistics.median(v) * 1e3 for k, v in res.items()}
        base = med["torch"]
        print(f"## {wl}")
        for k, v in med.items():
            print(f"  {k:12s} {v:7.3f} ms   ratio {v / base:5.2f}")
    print(f"# load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
