#!/usr/bin/env python
"""Where a CNN training step's time goes, ferrum next to torch: the issue-10 profile breakdown.

    python benchmarks/cnn_profile.py                      # lenet and resnet, 30 steps each
    python benchmarks/cnn_profile.py -w resnet --steps 20

Both frameworks run the shared harness's workloads (``../shared/bench/workloads.py`` or
``$FERRUM_BENCH_DIR``) in this process, two threads each.

- ferrum: the functions that do each part are wrapped with exclusive timers (a wrapper's time minus
  the time of wrapped functions it calls): the patch gather (``_im2col.im2col``, the gapped-layout
  copy of the shifted-GEMM scheme), the GEMMs (``_im2col._gemm`` and ``np.matmul`` inside
  ``ops/conv.py``), col2im, the rest of the conv ops, batch norm forward and backward, max pooling,
  linear, the loss, the optimizer step. "elementwise, autograd, Python" is the step's wall time minus
  all of those: the ReLUs, residual adds, means, the engine and the module calls.
- torch: ``torch.profiler`` over the same steps; each top-level event (an aten op called from Python,
  an autograd engine node, ``Optimizer.step``) is put in a part by its name, its children included.
  torch's convolution is one MKL-DNN op, so its patch gather/GEMM/col2im are one row.

Timers cost a few µs per wrapped call, so ferrum's rows add up to slightly more than its bench.py
time; compare parts, not totals, with bench.py.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(os.environ.get("FERRUM_BENCH_DIR", REPO.parent / "shared" / "bench"))))

import workloads as W  # noqa: E402

PARTS = ["conv: patch gather", "conv: GEMM", "conv: col2im", "conv: rest", "batch norm", "max pool", "relu",
         "linear", "loss", "optimizer", "elementwise, autograd, Python"]


class _Timers:
    """Exclusive time per part: a stack of child-time accumulators. Only the main thread counts:
    the conv GEMM halves that run on the helper thread overlap the main thread's half."""

    def __init__(self) -> None:
        self.total = collections.Counter()
        self.stack = [0.0]
        self.main = threading.get_ident()

    def wrap(self, part: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if threading.get_ident() != self.main:
                return fn(*args, **kwargs)
            self.stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                child = self.stack.pop()
                self.total[part] += elapsed - child
                self.stack[-1] += elapsed
        return timed


class _TimedNumpy:
    """``np`` for ops/conv.py with ``matmul`` timed as a GEMM."""

    def __init__(self, matmul) -> None:
        self.matmul = matmul

    def __getattr__(self, name):
        return getattr(np, name)


def _patch(timers: _Timers) -> None:
    import ferrum.nn.functional as F
    from ferrum.ops import _im2col, batch_norm, conv, linear, pool_max
    from ferrum.optim import Adam

    def replace(owner, name: str, part: str) -> None:
        original = getattr(owner, name)
        timed = timers.wrap(part, original)
        setattr(owner, name, timed)
        for mod in list(sys.modules.values()):          # every `from X import f` copy
            if getattr(mod, "__name__", "").startswith("ferrum") and getattr(mod, name, None) is original:
                setattr(mod, name, timed)

    for name in ("im2col", "padded", "_to_gapped"):
        replace(_im2col, name, "conv: patch gather")
    replace(_im2col, "_gemm", "conv: GEMM")
    conv.np = _TimedNumpy(timers.wrap("conv: GEMM", np.matmul))
    for name in ("col2im", "_from_gapped"):
        replace(_im2col, name, "conv: col2im")
    for name in ("_conv", "_conv_t", "_conv_w", "_bwd"):
        replace(conv, name, "conv: rest")
    replace(conv.ConvolutionBackward0, "backward", "conv: rest")
    replace(F, "relu", "relu")
    from ferrum.ops import activation
    replace(activation._ReluBackward, "backward", "relu")
    replace(batch_norm, "batch_norm", "batch norm")
    replace(batch_norm.NativeBatchNormBackward0, "backward", "batch norm")
    replace(pool_max, "_max_pool_nd", "max pool")
    replace(pool_max._MaxPoolBackward, "backward", "max pool")
    replace(linear, "linear", "linear")
    for node in (linear.AddmmBackward0,) if hasattr(linear, "AddmmBackward0") else ():
        replace(node, "backward", "linear")
    replace(F, "cross_entropy", "loss")
    replace(Adam, "step", "optimizer")


def profile_ferrum(workload: str, steps: int) -> tuple[dict, float]:
    import ferrum

    ferrum.set_num_threads(2)
    ferrum.backends.cpu.tune_allocator()
    timers = _Timers()
    _patch(timers)
    step = getattr(W, workload)(ferrum).fn
    for _ in range(3):
        step()
    timers.total.clear()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    wall = (time.perf_counter() - t0) / steps
    parts = {k: v / steps for k, v in timers.total.items()}
    parts["elementwise, autograd, Python"] = wall - sum(parts.values())
    return parts, wall


def _torch_part(name: str) -> str:
    n = name.lower()
    for key, part in (("conv", "conv: rest"), ("batch_norm", "batch norm"), ("batchnorm", "batch norm"),
                      ("max_pool", "max pool"), ("maxpool", "max pool"), ("optimizer", "optimizer"),
                      ("relu", "relu"), ("threshold", "relu"),
                      ("addmm", "linear"), ("linear", "linear"), ("aten::mm", "linear"),
                      ("mmbackward", "linear"), ("cross_entropy", "loss"), ("nll", "loss"),
                      ("log_softmax", "loss"), ("logsoftmax", "loss")):
        if key in n:
            return part
    return "elementwise, autograd, Python"


def profile_torch(workload: str, steps: int) -> tuple[dict, float]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(2)
    step = getattr(W, workload)(torch).fn
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    wall = (time.perf_counter() - t0) / steps          # unprofiled wall time per step
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    parts = collections.Counter()
    for ev in prof.events():
        if ev.cpu_parent is None:
            parts[_torch_part(ev.name)] += ev.cpu_time_total / 1e6 / steps
    measured = sum(parts.values())
    scale = wall / measured if measured > wall else 1.0     # profiler overhead, spread evenly
    out = {k: v * scale for k, v in parts.items()}
    out["elementwise, autograd, Python"] = out.get("elementwise, autograd, Python", 0.0) + max(
        0.0, wall - measured * scale)
    return out, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-w", "--workloads", default="lenet,resnet")
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args(argv)
    for workload in args.workloads.split(","):
        fe, fe_wall = profile_ferrum(workload, args.steps)
        to, to_wall = profile_torch(workload, args.steps)
        print(f"\n{workload}: ms per training step ({args.steps} steps, 2 threads)")
        print(f"{'part':32s} {'ferrum':>9s} {'torch':>9s}")
        for part in PARTS:
            print(f"{part:32s} {fe.get(part, 0.0) * 1e3:9.2f} {to.get(part, 0.0) * 1e3:9.2f}")
        print(f"{'total (wall)':32s} {fe_wall * 1e3:9.2f} {to_wall * 1e3:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
