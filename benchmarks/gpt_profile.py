#!/usr/bin/env python
"""Where the char-GPT training step's time goes, op by op, ferrum next to torch (issue 11).

    python benchmarks/gpt_profile.py                  # 30 steps, 2 threads
    python benchmarks/gpt_profile.py --steps 50 --threads 1
    python benchmarks/gpt_profile.py --threads 1 --clock thread --top 30   # on a busy machine

Both frameworks run the shared harness's ``gpt`` workload (``../shared/bench/workloads.py`` or
``$FERRUM_BENCH_DIR``: vocab 65, ctx 64, 4 layers, 4 heads, d 128, batch 16, AdamW) in this process.
Where ferrum has no ``nn.Embedding`` yet, the script lends it ``_IndexEmbedding`` (a Parameter indexed
by the token ids) for the run; once the real one exists it is used.

- ferrum: the functions the workload calls are wrapped with exclusive timers (a wrapper's time minus
  the time of wrapped functions it calls), under torch's op names (``aten::linear`` ...), and every
  autograd node's ``backward`` is timed under its node name (``AddmmBackward0`` ...), so both
  frameworks' events go through one naming table (``_part``).
- torch: ``torch.profiler`` over the same steps; each top-level event (an aten op called from Python,
  an autograd engine node, ``Optimizer.step``) is put in a row by its name, its children included.

The row "autograd engine, Python" is the step's wall time minus every timed row: the engine's own
loop, the module calls and the workload's Python. Timers cost about a microsecond per wrapped call,
so ferrum's rows add up to slightly more than its bench.py time; compare rows, not totals, with
bench.py, and only ratios from one process.

Measured 2026-12-07 (``--threads 1 --clock thread --steps 30``, shared 2-core machine at load 5-6,
ms per step, fwd + bwd, two runs each; torch in the same process):

    row              main before issue-11 speed work     after (branch gptspeed)       torch
    gelu             41.8, 45.3                          11.4, 11.7                    6.4-7.5
    layer_norm        7.5,  8.9                           8.0,  8.5                    3.5-4.0
    softmax           5.5,  6.3                           2.9,  3.1                    1.4-2.3
    linear (GEMMs)   42.2, 47.2                          42.8, 44.7                    39-41
    total           117.0, 131.2 (1.53x, 1.67x torch)    84.9, 89.2 (1.14x, 1.21x)     73.9-78.8
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
_BENCH = [REPO.parent / "shared" / "bench", REPO.parents[1] / "shared" / "bench"]   # main or a worktree
_BENCH_DIR = next((p for p in _BENCH if p.is_dir()), _BENCH[0])
sys.path.insert(0, os.environ.get("FERRUM_BENCH_DIR", str(_BENCH_DIR)))

import workloads as W  # noqa: E402

# (row, substrings of torch's names that go in it); the first match wins, so "softmax" after the
# loss's log_softmax and "mm" last
_ROWS = [
    ("optimizer step", ("optimizer.step", "adamw.step")),
    ("zero_grad", ("zero_grad",)),
    ("cross_entropy", ("cross_entropy", "nll_loss", "nllloss", "log_softmax", "logsoftmax")),
    ("embedding", ("embedding", "index_select", "indexbackward", "aten::index")),
    ("layer_norm", ("layer_norm", "layernorm")),
    ("gelu", ("gelu",)),
    ("softmax", ("softmax",)),
    ("masked_fill", ("masked_fill", "maskedfill")),
    ("linear", ("linear", "addmm", "aten::t", "tbackward")),
    ("matmul (4-D)", ("matmul", "bmm", "aten::mm", "mmbackward", "unsafeview")),
    ("views: split/view/transpose/contiguous", ("split", "aten::view", "viewbackward", "transpose",
                                                "contiguous", "clone", "reshape", "aten::expand",
                                                "expandbackward", "aten::as_strided")),
    ("add, mul", ("aten::add", "addbackward", "aten::mul", "mulbackward")),
    ("grad accumulation", ("accumulategrad",)),
]
ROWS = [r for r, _ in _ROWS] + ["other ops", "autograd engine, Python"]


def _part(name: str) -> str:
    n = name.lower()
    for row, keys in _ROWS:
        if any(k in n for k in keys):
            return row
    return "other ops"


class _IndexEmbedding:
    """A stand-in for ``nn.Embedding`` until ferrum has one: ``weight[idx]`` (forward and backward
    through advanced indexing), weights drawn from N(0, 1) like torch's."""

    def __new__(cls, num_embeddings: int, embedding_dim: int):
        import ferrum
        from ferrum import nn

        class IndexEmbedding(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.weight = nn.Parameter(ferrum.randn(num_embeddings, embedding_dim))

            def forward(self, idx):
                return self.weight[idx]

        return IndexEmbedding()


class _Timers:
    """Exclusive time per name: a stack of child-time accumulators; only the main thread counts
    (work a wrapped op hands to a helper thread overlaps the main thread's)."""

    def __init__(self, clock=time.perf_counter) -> None:
        self.total: collections.Counter = collections.Counter()
        self.stack = [0.0]
        self.main = threading.get_ident()
        self.clock = clock

    def wrap(self, label, fn):
        """``label``: a name, or a callable taking the call's first argument (a node) to a name."""
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if threading.get_ident() != self.main:
                return fn(*args, **kwargs)
            self.stack.append(0.0)
            t0 = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = self.clock() - t0
                child = self.stack.pop()
                self.total[label if isinstance(label, str) else label(args[0])] += elapsed - child
                self.stack[-1] += elapsed
        return timed


def _all_subclasses(cls):
    seen = []
    stack = [cls]
    while stack:
        c = stack.pop()
        for s in c.__subclasses__():
            if s not in seen:
                seen.append(s)
                stack.append(s)
    return seen


def _patch_ferrum(timers: _Timers) -> None:
    import ferrum
    import ferrum.nn.functional as F
    from ferrum import Tensor
    from ferrum.autograd.function import Node
    from ferrum.optim import AdamW

    def replace(owner, name: str, label: str) -> None:
        original = getattr(owner, name)
        timed = timers.wrap(label, original)
        setattr(owner, name, timed)
        for mod in list(sys.modules.values()):          # every `from X import f` copy
            if getattr(mod, "__name__", "").startswith("ferrum") and getattr(mod, name, None) is original:
                setattr(mod, name, timed)

    for name in ("linear", "layer_norm", "gelu", "softmax", "cross_entropy", "embedding"):
        if hasattr(F, name):
            replace(F, name, "aten::" + name)
    for name, label in (("__matmul__", "aten::matmul"), ("masked_fill", "aten::masked_fill"),
                        ("split", "aten::split"), ("view", "aten::view"), ("transpose", "aten::transpose"),
                        ("contiguous", "aten::contiguous"), ("reshape", "aten::reshape"),
                        ("__add__", "aten::add"), ("__mul__", "aten::mul"), ("__getitem__", "aten::index")):
        replace(Tensor, name, label)
    replace(AdamW, "step", "optimizer.step")
    replace(AdamW, "zero_grad", "zero_grad")
    for cls in [Node] + _all_subclasses(Node):
        if "backward" in cls.__dict__ or cls is Node:
            cls.backward = timers.wrap(lambda node: node.name(), cls.__dict__["backward"])
    del ferrum


def profile_ferrum(steps: int, threads: int, clock) -> tuple[dict, float]:
    import ferrum

    ferrum.set_num_threads(threads)
    ferrum.backends.cpu.tune_allocator()
    timers = _Timers(clock)
    _patch_ferrum(timers)
    lent = not hasattr(ferrum.nn, "Embedding")
    if lent:
        ferrum.nn.Embedding = _IndexEmbedding
    try:
        step = W.gpt(ferrum).fn
    finally:
        if lent:
            del ferrum.nn.Embedding
    for _ in range(3):
        step()
    timers.total.clear()
    t0 = clock()
    for _ in range(steps):
        step()
    wall = (clock() - t0) / steps
    return {k: v / steps for k, v in timers.total.items()}, wall


def profile_torch(steps: int, threads: int, clock) -> tuple[dict, float]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(threads)
    step = W.gpt(torch).fn
    for _ in range(3):
        step()
    t0 = clock()
    for _ in range(steps):
        step()
    wall = (clock() - t0) / steps          # unprofiled time per step
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    names: collections.Counter = collections.Counter()
    for ev in prof.events():
        if ev.cpu_parent is None:
            names[ev.name] += ev.cpu_time_total / 1e6 / steps
    measured = sum(names.values())
    # profiler overhead (or, with --clock thread, the wall time other processes took), spread evenly
    scale = wall / measured if measured > wall or clock is time.thread_time else 1.0
    return {k: v * scale for k, v in names.items()}, wall


def _fold(names: dict, wall: float) -> dict:
    """{row: (forward s, backward s)} from {event name: s}; backward events are the nodes'."""
    rows: dict = collections.defaultdict(lambda: [0.0, 0.0])
    for name, t in names.items():
        bwd = "backward" in name.lower() or "accumulategrad" in name.lower()
        rows[_part(name)][1 if bwd else 0] += t
    rows["autograd engine, Python"][0] = max(0.0, wall - sum(sum(v) for v in rows.values()))
    return dict(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=0, help="also list the N costliest ferrum event names")
    ap.add_argument("--clock", choices=("wall", "thread"), default="wall",
                    help="thread: the main thread's CPU time (with --threads 1, robust to other processes "
                         "on the machine; torch's profiler rows are scaled to its step's CPU time)")
    args = ap.parse_args(argv)
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    fe_names, fe_wall = profile_ferrum(args.steps, args.threads, clock)
    to_names, to_wall = profile_torch(args.steps, args.threads, clock)
    fe, to = _fold(fe_names, fe_wall), _fold(to_names, to_wall)
    print(f"\ngpt: ms per training step ({args.steps} steps, {args.threads} threads, {args.clock} clock); "
          "fwd / bwd")
    print(f"{'row':40s} {'ferrum fwd':>10s} {'bwd':>7s} {'torch fwd':>10s} {'bwd':>7s} {'ratio':>6s}")
    for row in ROWS:
        f = fe.get(row, (0.0, 0.0))
        t = to.get(row, (0.0, 0.0))
        ratio = sum(f) / sum(t) if sum(t) > 1e-6 else float("nan")     # torch's engine row is ~0
        print(f"{row:40s} {f[0] * 1e3:10.2f} {f[1] * 1e3:7.2f} {t[0] * 1e3:10.2f} {t[1] * 1e3:7.2f} "
              f"{ratio:6.2f}")
    print(f"{'total':40s} {fe_wall * 1e3:18.2f} {to_wall * 1e3:18.2f} {fe_wall / to_wall:6.2f}")
    for label, names in (("ferrum", fe_names), ("torch", to_names))[:2 if args.top else 0]:
        print(f"\n{label}: the {args.top} costliest events (ms per step)")
        for name, t in sorted(names.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"  {name:60s} {t * 1e3:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
