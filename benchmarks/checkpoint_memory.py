#!/usr/bin/env python
"""Activation memory with and without gradient checkpointing (ferrum.utils.checkpoint).

    python benchmarks/checkpoint_memory.py            # both workloads, float32
    python benchmarks/checkpoint_memory.py --repeat 3 # time best of 3

Workloads (float32):
  mlp: 16 x (Linear(512, 512) + ReLU), batch 1024; checkpointed with ``checkpoint_sequential`` in 4
       segments (the last segment is not checkpointed, as in PyTorch).
  gpt: 6 pre-LN ``TransformerEncoderLayer`` blocks (d_model 128, 4 heads, ff 512, GELU, causal mask),
       batch 8 x 128 tokens; every block checkpointed with ``checkpoint(block, x)``.

Columns, for a forward and then ``loss.backward()``:
  saved MB   bytes of the arrays the autograd graph holds after the forward (a walk over every
             node's saved values, each buffer counted once, parameters and the input excluded;
             for a checkpointed region that is the region's inputs, which its node keeps)
  held MB    memory allocated by the forward and still held when it returns (tracemalloc: NumPy
             reports its buffers to it), the output included
  peak MB    the highest allocation above the start during the backward (tracemalloc), with every
             .grad allocated beforehand (a warm-up step), so that it counts activations, recomputed
             activations and transient gradients, not the gradients kept in .grad
  time ms    forward + backward, best of --repeat rounds (the modes interleaved), without tracemalloc
  ratio      time / the plain run's

Measured on the shared 2-core machine (OMP_NUM_THREADS=1, 5 agents running; the memory columns are
the same in every run, the times vary; two runs):

    workload  mode                   saved MB  held MB  peak MB  time ms  ratio
    mlp       plain                      32.0     32.0     40.5      227   1.00   (305   1.00)
    mlp       checkpoint (reentrant)     14.0     14.0     24.5      284   1.25   (414   1.36)
    mlp       checkpoint                 14.0     14.0     23.5      277   1.22   (419   1.37)
    gpt       plain                      83.5     84.1     86.9      185   1.00   (147   1.00)
    gpt       checkpoint (reentrant)      2.5      3.0     21.3      175   0.94   (174   1.18)
    gpt       checkpoint                  2.5      3.0     20.8      173   0.94   (177   1.21)

The saved activations drop to the segment inputs plus, for checkpoint_sequential, the last
(unchecked) segment: mlp 32 -> 14 MB (3 x 2 MB inputs + 4 layers x 2 MB), gpt 83.5 -> 2.5 MB
(6 block inputs of 0.5 MB, minus the first, which is the input, plus the output). The backward's
peak holds one segment's recomputed activations at a time. The extra time is one more forward
of each checkpointed segment, 20-35 % of a step here.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

import ferrum  # noqa: E402
import ferrum.nn as nn  # noqa: E402
from ferrum.utils.checkpoint import checkpoint, checkpoint_sequential  # noqa: E402


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _arrays(obj, out: list, depth: int = 0) -> None:
    """Arrays reachable from a saved value: arrays, Tensors, and tuples/lists/dicts of them."""
    if depth > 4:
        return
    if isinstance(obj, np.ndarray):
        out.append(obj)
    elif isinstance(obj, ferrum.Tensor):
        out.append(obj._data)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _arrays(o, out, depth + 1)
    elif isinstance(obj, dict):
        for o in obj.values():
            _arrays(o, out, depth + 1)


def saved_bytes(outputs, exclude) -> int:
    """Bytes of the distinct buffers saved by the graph behind ``outputs`` (``exclude``: tensors
    whose buffers do not count, the parameters and the input)."""
    skip = {id(_root(t._data)) for t in exclude}
    seen_nodes, seen_bufs, total = set(), set(), 0
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen_nodes:
            continue
        seen_nodes.add(id(n))
        arrays: list = []
        for name in type(n)._saved:
            _arrays(getattr(n, name, None), arrays)
        for a in arrays:
            r = _root(a)
            if id(r) in skip or id(r) in seen_bufs:
                continue
            seen_bufs.add(id(r))
            total += r.nbytes
        stack.extend(e for e in n.next if e is not None and e._is_node)
    return total


def mlp_workload():
    layers = []
    for _ in range(16):
        layers += [nn.Linear(512, 512), nn.ReLU()]
    model = nn.Sequential(*layers)
    x = ferrum.randn(1024, 512)
    runs = {
        "plain": lambda: model(x),
        "checkpoint (reentrant)": lambda: checkpoint_sequential(model, 4, x.requires_grad_(True),
                                                                use_reentrant=True),
        "checkpoint": lambda: checkpoint_sequential(model, 4, x, use_reentrant=False),
    }
    return model, x, runs


def gpt_workload():
    blocks = nn.ModuleList([nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation="gelu",
                                                       batch_first=True, norm_first=True) for _ in range(6)])
    x = ferrum.randn(8, 128, 128)
    mask = nn.Transformer.generate_square_subsequent_mask(128)

    def run(mode):
        h = x
        for b in blocks:
            if mode == "plain":
                h = b(h, src_mask=mask, is_causal=True)
            else:
                h = checkpoint(lambda t, b=b: b(t, src_mask=mask, is_causal=True), h,
                               use_reentrant=mode == "checkpoint (reentrant)")
        return h

    runs = {m: (lambda m=m: run(m)) for m in ("plain", "checkpoint (reentrant)", "checkpoint")}
    return blocks, x, runs


def measure(model, x, fn) -> tuple:
    params = list(model.parameters())
    x.requires_grad_(True)  # the reentrant variant needs an input that requires grad
    out = fn()  # warm-up: allocates every .grad, which then accumulates in place (not measured)
    (out * out).mean().backward()
    del out
    for t in params + [x]:
        t.grad._data[...] = 0
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = fn()
    held = tracemalloc.get_traced_memory()[0] - base
    saved = saved_bytes([out], params + [x])
    tracemalloc.reset_peak()
    (out * out).mean().backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return saved, held, peak


def timings(runs: dict, repeat: int) -> dict:
    """Best forward + backward time of each mode, the modes interleaved round by round so that
    they see the same machine load."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for mode, fn in runs.items():
            t0 = time.perf_counter()
            out = fn()
            (out * out).mean().backward()
            best[mode] = min(best[mode], time.perf_counter() - t0)
            del out
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", choices=["mlp", "gpt"])
    args = ap.parse_args()
    mb = 1 / 2**20
    print(f"{'workload':9} {'mode':22} {'saved MB':>8} {'held MB':>8} {'peak MB':>8} {'time ms':>8} "
          f"{'ratio':>6}")
    for name, make in (("mlp", mlp_workload), ("gpt", gpt_workload)):
        if args.only and args.only != name:
            continue
        ferrum.manual_seed(0)
        model, x, runs = make()
        mem = {mode: measure(model, x, fn) for mode, fn in runs.items()}
        best = timings(runs, args.repeat)
        for mode, (saved, held, peak) in mem.items():
            t = best[mode]
            print(f"{name:9} {mode:22} {saved * mb:8.1f} {held * mb:8.1f} {peak * mb:8.1f} {t * 1e3:8.0f} "
                  f"{t / best['plain']:6.2f}", flush=True)


if __name__ == "__main__":
    main()
