"""Gamma sampling cost: ferrum's PyTorch-stream gamma sampler (a Python loop, distributions/
_rng_samplers.py) against NumPy's vectorised standard_gamma and torch's C++ kernel, in one process.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/distributions_gamma.py
"""

import time

import numpy as np

import ferrum
from ferrum.distributions._torch_samplers import torch_standard_gamma
from ferrum.random import _stream


def best(fn, reps=3):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    for alpha in (0.5, 2.5, 50.0):
        a = np.full(40000, alpha)
        ferrum.manual_seed(0)
        ours = best(lambda a=a: torch_standard_gamma(_stream(None), a, False))
        g = np.random.default_rng(0)
        npy = best(lambda a=a, g=g: g.standard_gamma(a))
        line = f"alpha={alpha:5}: 40000 draws  ferrum {ours * 1e3:7.1f} ms  numpy {npy * 1e3:6.1f} ms"
        try:
            import torch
            ta = torch.tensor(a)
            line += f"  torch {best(lambda ta=ta: torch._standard_gamma(ta)) * 1e3:6.1f} ms"
        except ImportError:
            pass
        print(line)


if __name__ == "__main__":
    main()
