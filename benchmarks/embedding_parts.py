"""The embedding backward's scatter-sum, kernel by kernel, and F.embedding against torch.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/embedding_parts.py            # both
    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/embedding_parts.py -e kernels

Experiments:
  kernels  out[idx[i]] += g[i] for a (rows, D) table and N indices (float32): np.add.at, sorting +
           np.add.reduceat, a one-hot GEMM, np.bincount over flat positions, SciPy's csc_matvecs
           (what ops/embedding.py uses) and torch's embedding_dense_backward
  bag      F.embedding_bag forward + backward per mode against torch (10000 x 64 table, 4096
           indices in 512 bags), and mode max's first-hit search with int64 against int32 positions
  bench    forward + backward of the token (and position) embeddings of ../shared/bench's gpt
           (vocab 65, d 128, idx 16x64; positions 64x128 by arange(64)) and lstm (vocab 65, d 64,
           idx 32x32) workloads, ferrum against torch in one process

Each timing is the best of 5 rounds of n calls (us per call): the run least disturbed on a busy
machine. The numbers quoted in ops/embedding.py's docstring come from ``kernels``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _best(fn, n: int = 200, rounds: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def _variants(v: int, d: int, n: int, idx, g) -> dict:
    """The scatter-sum kernels for one shape, by name."""
    import torch
    from scipy.sparse._sparsetools import csc_matvecs

    ptr = np.arange(n + 1, dtype=np.int64)

    def add_at():
        o = np.zeros((v, d), np.float32)
        np.add.at(o, idx, g)
        return o

    def reduceat():
        o = np.zeros((v, d), np.float32)
        order = np.argsort(idx, kind="stable")
        si = idx[order]
        new = np.empty(n, bool)
        new[0] = True
        np.not_equal(si[1:], si[:-1], out=new[1:])
        st = np.flatnonzero(new)
        o[si[st]] = np.add.reduceat(g[order], st, axis=0)
        return o

    def one_hot():
        oh = np.zeros((v, n), np.float32)
        oh[idx, np.arange(n)] = 1
        return oh @ g

    def bincount():
        flat = (idx[:, None] * d + np.arange(d)).ravel()
        return np.bincount(flat, weights=g.ravel(), minlength=v * d).reshape(v, d).astype(np.float32)

    def csc():
        o = np.zeros((v, d), np.float32)
        csc_matvecs(v, n, d, ptr, idx, np.ones(n, np.float32), g.ravel(), o.ravel())
        return o

    ti, tg = torch.from_numpy(idx), torch.from_numpy(g)

    def torch_bw():
        return torch.ops.aten.embedding_dense_backward(tg, ti, v, -1, False)

    return {"add.at": add_at, "reduceat": reduceat, "one-hot": one_hot, "bincount": bincount, "csc": csc,
            "torch": torch_bw}


def kernels() -> None:
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'rows x D, N':>22} " + " ".join(f"{c:>8}" for c in
                                            ("add.at", "reduceat", "one-hot", "bincount", "csc", "torch")))
    for v, d, n in [(65, 128, 1024), (65, 64, 1024), (64, 128, 64), (1000, 128, 1024), (50000, 256, 4096)]:
        idx = rng.integers(0, v, n)
        g = rng.standard_normal((n, d)).astype(np.float32)
        fns = _variants(v, d, n, idx, g)
        ref = fns["add.at"]()
        reps = 20 if v * d > 1e6 else 200
        row = []
        for name, f in fns.items():
            if name == "one-hot" and v * n > 5e7:
                row.append("-")
                continue
            np.testing.assert_allclose(np.asarray(f()), ref, atol=1e-3)
            row.append(f"{_best(f, reps):.1f}")
        print(f"{f'{v} x {d}, {n}':>22} " + " ".join(f"{c:>8}" for c in row))


def _step(T, rng, v: int, d: int, idx, g, pos: int):
    """One forward + backward of the token embedding (plus the position embedding when ``pos``)."""
    w = T.tensor(rng.standard_normal((v, d)).astype(np.float32), requires_grad=True)
    pw = T.tensor(rng.standard_normal((max(pos, 1), d)).astype(np.float32), requires_grad=True)
    ti, tg, ar = T.tensor(idx), T.tensor(g), T.arange(max(pos, 1))
    F = T.nn.functional

    def step():
        w.grad = None
        pw.grad = None
        x = F.embedding(ti, w)
        if pos:
            x = x + F.embedding(ar, pw)
        x.backward(tg)

    return step


def bench() -> None:
    import torch

    import ferrum
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for name, v, d, shape, pos in [("gpt", 65, 128, (16, 64), 64), ("lstm", 65, 64, (32, 32), 0)]:
        idx = rng.integers(0, v, shape)
        g = rng.standard_normal(shape + (d,)).astype(np.float32)
        steps = {T.__name__: _step(T, rng, v, d, idx, g, pos) for T in (ferrum, torch)}
        times = {k: [] for k in steps}
        for _ in range(3):  # interleaved rounds: both see the same machine load
            for k, f in steps.items():
                times[k].append(_best(f))
        tf, tt = min(times["ferrum"]), min(times["torch"])
        print(f"{name}: ferrum {tf:.1f} us, torch {tt:.1f} us, ratio {tf / tt:.2f}")


def _bag_step(T, w, idx, off, mode: str):
    tw = T.tensor(w, requires_grad=True)
    ti, to = T.tensor(idx), T.tensor(off)

    def step():
        tw.grad = None
        T.nn.functional.embedding_bag(ti, tw, to, mode=mode).sum().backward()

    return step


def _first_hit(vals, top, bag_id, starts, dtype):
    def run():
        hit = vals == top[bag_id]
        at = np.where(hit, np.arange(vals.shape[0], dtype=dtype)[:, None], dtype(vals.shape[0]))
        return np.minimum.reduceat(at, starts, axis=0)

    return run


def bag() -> None:
    import torch

    import ferrum
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    v, d, n, b = 10000, 64, 4096, 512
    idx = rng.integers(0, v, n)
    off = np.concatenate([[0], np.sort(rng.choice(np.arange(1, n), b - 1, replace=False))])
    w = rng.standard_normal((v, d)).astype(np.float32)
    for mode in ("sum", "mean", "max"):
        t = {T.__name__: min(_best(_bag_step(T, w, idx, off, mode), 50) for _ in range(2))
             for T in (ferrum, torch)}
        print(f"{mode}: ferrum {t['ferrum']:.0f} us, torch {t['torch']:.0f} us, "
              f"ratio {t['ferrum'] / t['torch']:.2f}")
    vals = w[idx]
    top = np.maximum.reduceat(vals, off, axis=0)
    bag_id = np.repeat(np.arange(b), np.diff(np.append(off, n)))
    for dt in (np.int64, np.int32):
        print(f"max's first hit, {np.dtype(dt).name} positions: "
              f"{_best(_first_hit(vals, top, bag_id, off, dt), 20):.0f} us")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("-e", default="kernels,bag,bench")
    for e in ap.parse_args().e.split(","):
        {"kernels": kernels, "bag": bag, "bench": bench}[e]()
