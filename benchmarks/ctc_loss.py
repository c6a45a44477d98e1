"""F.ctc_loss forward + backward, ferrum against torch in one process (float32, through log_softmax).

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/ctc_loss.py

Shapes: a small speech-like batch (T=50, N=16, C=28, S=12) and a longer one (T=200, N=32, C=40,
S=40). Each timing is the best of 5 rounds of n calls (ms per call). ferrum's recursion is one
NumPy step over the whole batch per time step (ops/ctc.py); torch's CPU kernel loops per sample in
C++ (parallel over the batch). Measured (OMP_NUM_THREADS=1, busy 2-core machine, two runs):
T=50: torch 1.1-1.4 ms, ferrum 3.8-4.6 ms; T=200: torch 17-31 ms, ferrum 62-82 ms (2-5x).
"""

from __future__ import annotations

import time

import numpy as np


def _best(fn, n: int = 10, rounds: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e3


def main() -> None:
    import torch

    import ferrum

    torch.set_num_threads(1)
    for T, N, C, S in [(50, 16, 28, 12), (200, 32, 40, 40)]:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((T, N, C)).astype(np.float32)
        tg = rng.integers(1, C, (N, S))
        il = tuple(int(v) for v in rng.integers(T // 2, T + 1, N))
        tl = tuple(int(v) for v in rng.integers(S // 2, S + 1, N))
        times = {}
        for name, L in (("torch", torch), ("ferrum", ferrum)):
            xt = L.tensor(x, requires_grad=True)
            tt = L.tensor(tg)

            def step(L=L, xt=xt, tt=tt, il=il, tl=tl):
                loss = L.nn.functional.ctc_loss(xt.log_softmax(2), tt, il, tl)
                loss.backward()

            times[name] = _best(step)
        print(f"T={T} N={N} C={C} S={S}: torch {times['torch']:.2f} ms, ferrum {times['ferrum']:.2f} ms "
              f"({times['ferrum'] / times['torch']:.1f}x)")


if __name__ == "__main__":
    main()
