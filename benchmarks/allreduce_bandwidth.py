"""Allreduce bandwidth of ferrum.distributed (MPI) against torch.distributed with gloo, side by side in
the same two processes on this machine: 4 MB and 100 MB float32, plus the cost of ferrum's
size/dtype handshake (a 1-element allreduce, a barrier, and raw mpi4py Allreduce for reference).

    python benchmarks/allreduce_bandwidth.py [--repeat 10]   # relaunches itself: ferrum run -n 2

Each rank initialises both libraries (torch's gloo through env://, with the MASTER_ADDR/MASTER_PORT
that ``ferrum run`` sets); the two are timed alternately, a barrier before each call, and the
median of the repeats is reported. Bandwidth is algorithm bandwidth, bytes of the tensor / time.

Measured with ``python benchmarks/allreduce_bandwidth.py --repeat 10`` (2 ranks on the project's
2-core VM shared with other jobs, load average ~1.5; torch 2.13.0 gloo, mpich 5.0.2 + mpi4py 4.1.2;
medians):

                                 ferrum  torch gloo  ferrum GB/s  gloo GB/s  ratio
    allreduce 4 MB float32       0.81ms      3.62ms         5.19       1.16   4.48
    allreduce 100 MB float32    80.20ms    132.05ms         1.31       0.79   1.65
    allreduce 1 float32         105.0us     170.1us
    barrier                     142.7us     107.6us
    raw mpi4py Allreduce 1 elem   1.9us

ferrum's bandwidth is above gloo's at both sizes (the issue asks >= 1). The handshake (a barrier's
worth) and the hand-off to the communication thread are what separate a ferrum collective from raw
MPI's few microseconds; they vanish in the 4 MB time. Small-message timings swing by 2-5x between
runs on this machine (the same code timed a minute earlier by a smaller script, ferrum barrier
between calls, median of 300: 1-element allreduce 46 us, barrier 23 us).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def launch(argv: list[str]) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.setdefault("MASTER_PORT", "29531")
    cmd = [sys.executable, "-m", "ferrum", "run", "-n", "2", "--master-port", env["MASTER_PORT"],
           os.path.abspath(__file__), *argv]
    return subprocess.call(cmd, env=env)


def timed(fn, barrier, repeat: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        barrier()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    import numpy as np
    import torch
    import torch.distributed as tdist
    from mpi4py import MPI

    import ferrum
    import ferrum.distributed as fdist

    fdist.init_process_group("gloo")
    tdist.init_process_group("gloo")
    rank = fdist.get_rank()
    rows = []
    for mb in (4, 100):
        n = mb * (1 << 20) // 4
        f = ferrum.ones(n)
        t = torch.ones(n)
        ft = timed(lambda f=f: fdist.all_reduce(f), fdist.barrier, args.repeat)
        tt = timed(lambda t=t: tdist.all_reduce(t), tdist.barrier, args.repeat)
        rows.append((f"allreduce {mb} MB float32", ft, tt, mb * (1 << 20)))
    one_f, one_t = ferrum.ones(1), torch.ones(1)
    comm = MPI.COMM_WORLD
    raw = np.ones(1, np.float32)
    small = [("allreduce 1 float32", lambda: fdist.all_reduce(one_f), lambda: tdist.all_reduce(one_t)),
             ("barrier", fdist.barrier, tdist.barrier)]
    lat = [(name, timed(f, fdist.barrier, 200), timed(t, tdist.barrier, 200)) for name, f, t in small]
    raw_t = timed(lambda: comm.Allreduce(MPI.IN_PLACE, raw), comm.Barrier, 200)
    if rank == 0:
        print(f"{'':28s} {'ferrum':>10s} {'torch gloo':>11s} {'ferrum GB/s':>12s} {'gloo GB/s':>10s} "
              f"{'ratio':>6s}")
        for name, ft, tt, nbytes in rows:
            print(f"{name:28s} {ft * 1e3:8.2f}ms {tt * 1e3:9.2f}ms {nbytes / ft / 1e9:12.2f} "
                  f"{nbytes / tt / 1e9:10.2f} {tt / ft:6.2f}")
        for name, ft, tt in lat:
            print(f"{name:28s} {ft * 1e6:8.1f}us {tt * 1e6:9.1f}us")
        print(f"{'raw mpi4py Allreduce 1 elem':28s} {raw_t * 1e6:8.1f}us")
        print("ratio = torch time / ferrum time (>= 1: ferrum's bandwidth at least torch gloo's); the "
              "handshake costs about one barrier per collective")
    tdist.destroy_process_group()
    fdist.destroy_process_group()


if __name__ == "__main__":
    if "RANK" not in os.environ:
        sys.exit(launch(sys.argv[1:]))
    main()
