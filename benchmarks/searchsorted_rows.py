#!/usr/bin/env python
"""searchsorted over an N-D sorted sequence: the vectorised binary search of ops/search.py against a
Python loop of one ``np.searchsorted`` per row, ferrum's op (which picks one of the two) and torch's
kernel, in one process.

    python benchmarks/searchsorted_rows.py

Thread CPU time, one thread, best of 30 runs, float32.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import ferrum  # noqa: E402
from ferrum.ops.search import _bisect  # noqa: E402


def best(fn, runs: int = 30) -> float:
    out = []
    for _ in range(runs):
        t0 = time.thread_time()
        fn()
        out.append(time.thread_time() - t0)
    return min(out) * 1e3


def loop(seq, vals):
    return np.stack([np.searchsorted(s, v) for s, v in zip(seq, vals)])


def main() -> None:
    rng = np.random.default_rng(0)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"{'rows x M, K':>18} {'bisect':>11} {'row loop':>10} {'ferrum op':>10} {'torch':>8}  (ms)")
    for rows, m, k in ((1, 64, 16), (10, 64, 16), (1000, 64, 16), (10000, 16, 4), (100, 1000, 1000)):
        seq = np.sort(rng.random((rows, m), dtype=np.float32), axis=-1)
        vals = rng.random((rows, k), dtype=np.float32)
        assert (_bisect(seq, vals, False) == loop(seq, vals)).all()
        fs, fv = ferrum.tensor(seq), ferrum.tensor(vals)
        t_bisect = best(lambda s=seq, v=vals: _bisect(s, v, False))
        t_loop = best(lambda s=seq, v=vals: loop(s, v))
        t_op = best(lambda s=fs, v=fv: ferrum.searchsorted(s, v))
        line = f"{rows:>7} x {m:>4}, {k:>4} {t_bisect:>11.3f} {t_loop:>10.3f} {t_op:>10.3f}"
        if torch is not None:
            ts, tv = torch.from_numpy(seq), torch.from_numpy(vals)
            line += f" {best(lambda s=ts, v=tv: torch.searchsorted(s, v)):>8.3f}"
        print(line)


if __name__ == "__main__":
    main()
