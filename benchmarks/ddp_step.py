"""DistributedDataParallel training step on 2 ranks: ferrum (MPI) against torch DDP on gloo, side by side,
and the overlap of the gradient all-reduce with backward.

Run (both frameworks in the same 2-rank job, rounds interleaved; ``ferrum run`` sets the RANK,
WORLD_SIZE, MASTER_ADDR and MASTER_PORT that torch's env:// rendezvous reads):

    PYTHONPATH=src OMP_NUM_THREADS=1 python -m ferrum run -n 2 benchmarks/ddp_step.py [--rounds 5]

Per model, framework and round, each rank times (wall clock, 1 BLAS thread per rank, float32, SGD):

- ``step``: zero_grad, forward, cross-entropy, backward with DDP's reduction, optimizer step;
- ``bwd+ar``: the backward of a synced step alone (it ends when the averaged gradients are in .grad),
  started on both ranks together (a barrier after the forward);
- ``bwd``: the same backward inside ``no_sync()`` (no communication at all);
- ``ar``: all-reducing buffers of DDP's bucket sizes (ferrum's bucket sizes, for both), all started
  at once with ``async_op=True`` and then waited for: the communication alone, back to back.

Overlap shows as ``bwd+ar < bwd + ar``: the reduction of the late layers' buckets runs while the early
layers' gradients are computed. The table gives the median over rounds of each rank-0 median (ms).
For ferrum, the last lines show the overlap directly: the share of the gradient bytes whose
all-reduce had finished when backward produced its last gradient, and the reduction time left then.

Measured on the shared 2-core machine (other agents on it, load average 2-3 during the runs),
torch 2.13 CPU, mpich 5.0.2 through mpi4py 4.1.2, the default command above, two runs back to back
(medians in ms, rank 0):

    model                                  lib      step  bwd+ar   bwd    ar   bwd+ar/(b+a)  step f/t
    run 1
    mnist-mlp 784-512-256-10, b 64/rank    ferrum   6.22    2.45   1.01   1.62     0.93        1.03
                                           torch    6.04    3.98   0.90   3.65     0.87
    deep mlp 8 x 1024, b 64, 4 MB buckets  ferrum  74.86   54.25  24.27   9.52     1.61        0.96
                                           torch   78.16   60.13  21.65  29.54     1.17
    run 2
    mnist-mlp 784-512-256-10, b 64/rank    ferrum   3.69    2.48   0.95   1.47     1.02        0.64
                                           torch    5.78    3.63   0.85   2.55     1.06
    deep mlp 8 x 1024, b 64, 4 MB buckets  ferrum  67.09   46.51  21.62   8.58     1.54        0.87
                                           torch   76.96   77.89  20.97  27.69     1.60

    ferrum's share of the gradient bytes already all-reduced when backward produced its last
    gradient (deep mlp, 9 buckets): 38% and 19% (21 and 43 ms of reduction left after it); mnist-mlp
    (2 buckets, the second holding the first layer's weight, ready last): 0%.

The step ratio ferrum/torch is 0.64-1.03. The reductions do run during backward (the shares
above), but the wall-time gain of overlapping needs a core to spare: here each rank's compute
thread already has one of the 2 cores, so the MPI copies of the communication thread (and
MPICH's busy polling while it waits for the other rank) take their CPU from the backward itself,
and the synced backward of the deep model costs more than backward and all-reduce one after the
other (1.5-1.6x, torch's gloo 1.2-1.6x). Only the small model shows ``bwd+ar < bwd + ar`` (0.93 in
run 1). ferrum's all-reduce alone moves the 33 MB of the deep model's buckets 3x faster than gloo.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import numpy as np


def _mlp(lib, widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(lib.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


# name -> (widths, batch per rank, bucket_cap_mb)
MODELS = {
    "mnist-mlp 784-512-256-10, b 64/rank": ([784, 512, 256, 10], 64, None),
    "deep mlp 8 x 1024, b 64/rank, 4 MB buckets": ([1024] * 9 + [10], 64, 4),
}


class Bench:
    """One framework's DDP model, data and timed pieces."""

    def __init__(self, name: str, lib, widths, batch: int, cap, rank: int) -> None:
        self.name, self.lib = name, lib
        lib.manual_seed(0)
        model = _mlp(lib, widths)
        if name == "ferrum":
            from ferrum.nn.parallel import DistributedDataParallel as DDP
            self.ddp = DDP(model, bucket_cap_mb=cap)
            self.bucket_sizes = [b.flat.size for b in self.ddp.reducer.buckets]
        else:
            self.ddp = lib.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=cap)
            self.bucket_sizes = None
        self.opt = lib.optim.SGD(self.ddp.parameters(), lr=0.01)
        g = np.random.default_rng(rank)
        self.x = lib.from_numpy(g.standard_normal((batch, widths[0])).astype(np.float32))
        self.y = lib.from_numpy(g.integers(0, widths[-1], batch))
        self.loss_fn = lib.nn.CrossEntropyLoss()

    def step(self) -> float:
        t = time.perf_counter()
        self.opt.zero_grad()
        self.loss_fn(self.ddp(self.x), self.y).backward()
        self.opt.step()
        return time.perf_counter() - t

    def backward(self, dist, sync: bool) -> float:
        """One backward alone, both ranks starting it together (a barrier after the forward: what
        one rank waits for another is not the backward's)."""
        self.opt.zero_grad()
        with contextlib.nullcontext() if sync else self.ddp.no_sync():
            loss = self.loss_fn(self.ddp(self.x), self.y)
        dist.barrier()
        t = time.perf_counter()
        loss.backward()
        return time.perf_counter() - t

    def allreduce(self, dist, sizes) -> float:
        bufs = [self.lib.zeros(n) for n in sizes]
        dist.barrier()
        t = time.perf_counter()
        for w in [dist.all_reduce(b, async_op=True) for b in bufs]:
            w.wait()
        return time.perf_counter() - t


def timeline(bench: Bench, dist, steps: int) -> tuple[float, float]:
    """ferrum only: over ``steps`` synced backward passes, the median fraction of the gradient bytes
    whose all-reduce had completed when the last bucket was launched (= when backward produced the
    last gradient), and the median time from then to the end of the reduction (ms)."""
    red = bench.ddp.reducer
    launch = red._launch
    done: list = []
    marks: dict = {}

    def traced(bucket) -> None:
        launch(bucket)
        if bucket.index == len(red.buckets) - 1:
            marks["last"] = time.perf_counter()
            marks["bytes_done"] = sum(b.flat.nbytes for b in done)
        bucket.op.get_future().add_done_callback(lambda f, b=bucket: done.append(b))

    red._launch = traced
    fractions, tails = [], []
    total = sum(b.flat.nbytes for b in red.buckets)
    try:
        for _ in range(steps):
            done.clear()
            bench.opt.zero_grad()
            loss = bench.loss_fn(bench.ddp(bench.x), bench.y)
            dist.barrier()
            loss.backward()
            tails.append(1e3 * (time.perf_counter() - marks["last"]))
            fractions.append(marks["bytes_done"] / total)
    finally:
        red._launch = launch
    return statistics.median(fractions), statistics.median(tails)


def _median_ms(fn, n: int) -> float:
    return 1e3 * statistics.median(fn() for _ in range(n))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (s)")
    args = ap.parse_args()
    if args.switch_interval is not None:
        import sys
        sys.setswitchinterval(args.switch_interval)
    import torch
    import torch.distributed as tdist

    import ferrum
    import ferrum.distributed as fdist
    ferrum.set_num_threads(1)
    torch.set_num_threads(1)
    fdist.init_process_group("gloo")
    os.environ.setdefault("MASTER_PORT", "29511")
    tdist.init_process_group("gloo", init_method="env://")
    rank = fdist.get_rank()
    results: dict = {}
    bucket_sizes: dict = {}
    for model_name, (widths, batch, cap) in MODELS.items():
        benches = [Bench("ferrum", ferrum, widths, batch, cap, rank),
                   Bench("torch", torch, widths, batch, cap, rank)]
        sizes = benches[0].bucket_sizes  # the same bucket sizes for both frameworks' all-reduce-only timing
        bucket_sizes[model_name] = sizes
        for b in benches:
            for _ in range(3):
                b.step()
        for _ in range(args.rounds):
            for b in benches:
                dist = fdist if b.name == "ferrum" else tdist
                r = results.setdefault((model_name, b.name), {"step": [], "bwd+ar": [], "bwd": [], "ar": []})
                r["step"].append(_median_ms(b.step, args.steps))
                r["bwd+ar"].append(_median_ms(lambda b=b, d=dist: b.backward(d, True), args.steps))
                r["bwd"].append(_median_ms(lambda b=b, d=dist: b.backward(d, False), args.steps))
                r["ar"].append(_median_ms(lambda b=b, d=dist, s=sizes: b.allreduce(d, s), args.steps))
        tl = timeline(benches[0], fdist, args.steps)
        results[(model_name, "timeline")] = tl
    if rank == 0:
        print(f"2 ranks, {args.rounds} rounds x {args.steps} steps, medians in ms (rank 0)")
        print(f"{'model':44s} {'lib':7s} {'step':>7s} {'bwd+ar':>7s} {'bwd':>7s} {'ar':>7s} {'bwd+ar':>7s}"
              f" {'step ratio':>10s}")
        print(f"{'':44s} {'':7s} {'':>7s} {'':>7s} {'':>7s} {'':>7s} {'/(b+a)':>7s} {'f/t':>10s}")
        for model_name in MODELS:
            t_step = statistics.median(results[(model_name, "torch")]["step"])
            for lib in ("ferrum", "torch"):
                r = {k: statistics.median(v) for k, v in results[(model_name, lib)].items()}
                ratio = f"{r['step'] / t_step:10.2f}" if lib == "ferrum" else ""
                print(f"{model_name:44s} {lib:7s} {r['step']:7.2f} {r['bwd+ar']:7.2f} {r['bwd']:7.2f} "
                      f"{r['ar']:7.2f} {r['bwd+ar'] / (r['bwd'] + r['ar']):7.2f} {ratio}")
        for model_name in MODELS:
            frac, tail = results[(model_name, "timeline")]
            print(f"{model_name}: ferrum's buckets (float32 elements, reduced first to last): "
                  f"{bucket_sizes[model_name]}; {frac:.0%} of the gradient bytes already all-reduced "
                  f"when backward produced its last gradient, {tail:.2f} ms of reduction after it")
    tdist.destroy_process_group()
    fdist.destroy_process_group()


if __name__ == "__main__":
    main()
