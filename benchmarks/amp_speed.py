"""Mixed precision on the CPU: the mlp and gpt training steps of ../shared/bench/workloads.py in float32
and under bfloat16 autocast (forward and loss in the region, backward and step outside, as PyTorch's
recipes do), ferrum and torch side by side in one process, interleaved rounds, median ms per step.

    PYTHONPATH=src .venv/bin/python benchmarks/amp_speed.py [--rounds 7] [--threads 2] [-w mlp,gpt]

The issue's gate: ferrum's autocast step at most 1.2x ferrum's float32 step. Results: see
benchmarks/README.md (the amp table).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
import workloads  # noqa: E402


def mlp_step(fw, amp: bool, batch: int = 128):
    fw.manual_seed(0)
    model = workloads._mlp_model(fw)
    opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = fw.randn(batch, 784), fw.randint(0, 10, (batch,))
    return _step(fw, amp, model, opt, lambda: fw.nn.functional.cross_entropy(model(x), y))


def gpt_step(fw, amp: bool, batch: int = 16, vocab: int = 65, ctx: int = 64):
    fw.manual_seed(0)
    model = workloads._gpt(fw, vocab, ctx)
    opt = fw.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    idx, tgt = fw.randint(0, vocab, (batch, ctx)), fw.randint(0, vocab, (batch, ctx))
    return _step(fw, amp, model, opt, lambda: fw.nn.functional.cross_entropy(
        model(idx).reshape(-1, vocab), tgt.reshape(-1)))


def _step(fw, amp, model, opt, loss_fn):
    def step():
        opt.zero_grad()
        with fw.autocast("cpu", dtype=fw.bfloat16, enabled=amp):
            loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-w", default="mlp,gpt")
    ap.add_argument("--fw", default="torch,ferrum")
    args = ap.parse_args()
    import importlib
    fws = [importlib.import_module(n) for n in args.fw.split(",")]
    for fw in fws:
        if hasattr(fw, "set_num_threads"):
            fw.set_num_threads(args.threads)
    build = {"mlp": mlp_step, "gpt": gpt_step}
    print(f"{'workload':8} {'contender':16} {'ms/step':>8} {'spread':>7}  ratio amp/fp32")
    for w in args.w.split(","):
        steps = {(fw.__name__, amp): build[w](fw, amp) for fw in fws for amp in (False, True)}
        for s in steps.values():
            for _ in range(3):
                s()
        times = {k: [] for k in steps}
        for _ in range(args.rounds):
            for k, s in steps.items():
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    s()
                times[k].append((time.perf_counter() - t0) / args.steps * 1e3)
        med = {k: statistics.median(v) for k, v in times.items()}
        for (name, amp), v in times.items():
            ratio = med[(name, True)] / med[(name, False)]
            print(f"{w:8} {name + (' bf16' if amp else ' fp32'):16} {med[(name, amp)]:8.2f} "
                  f"{max(v) / min(v):7.2f}  {ratio:.3f}" if amp else
                  f"{w:8} {name + ' fp32':16} {med[(name, amp)]:8.2f} {max(v) / min(v):7.2f}")
        if len(fws) == 2:
            a, b = (fw.__name__ for fw in fws)
            print(f"{w:8} {b}/{a} under bf16 autocast: {med[(b, True)] / med[(a, True)]:.3f}, "
                  f"in float32: {med[(b, False)] / med[(a, False)]:.3f}")


if __name__ == "__main__":
    main()
