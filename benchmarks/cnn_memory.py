#!/usr/bin/env python
"""Peak memory of a training step, ferrum against torch: the RSS a process grows by while it trains.

    python benchmarks/cnn_memory.py                      # resnet, 20 steps, torch and ferrum
    python benchmarks/cnn_memory.py -w lenet,resnet --steps 30

Each framework runs in a fresh subprocess (so neither inherits the other's heap): it imports the
framework, builds the shared harness's workload (``../shared/bench/workloads.py`` or
``$FERRUM_BENCH_DIR``), samples its resident set size after the model, optimizer and first batch
exist, runs ``--steps`` training steps and reads the peak RSS (``ru_maxrss``). The growth
``peak - baseline`` is what the training step itself costs: activations kept for backward, gradients,
optimizer state and temporaries. The issue's gate is ferrum's growth within 1.5x torch's on resnet.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("FERRUM_BENCH_DIR", REPO.parent / "shared" / "bench"))

_CHILD = r"""
import gc, importlib, json, resource, sys
sys.path.insert(0, {bench!r})
import workloads as W
fw = importlib.import_module({fw!r})
if {fw!r} == "ferrum":
    fw.backends.cpu.tune_allocator()   # what `ferrum train` does
if hasattr(fw, "set_num_threads"):
    fw.set_num_threads(2)

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

step = getattr(W, {workload!r})(fw).fn
gc.collect()
base = rss_kib()
step()                                   # the first step allocates optimizer state and caches
first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range({steps}):
    step()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(base_mib=base / 1024, peak_mib=peak / 1024, growth_mib=(peak - base) / 1024,
                      first_step_peak_mib=first / 1024)))
"""


def measure(fw: str, workload: str, steps: int) -> dict:
    code = _CHILD.format(bench=str(BENCH), fw=fw, workload=workload, steps=steps)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-w", "--workloads", default="resnet")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--fw", default="torch,ferrum")
    args = ap.parse_args(argv)
    for workload in args.workloads.split(","):
        rows = {fw: measure(fw, workload, args.steps) for fw in args.fw.split(",")}
        ref = rows[args.fw.split(",")[0]]["growth_mib"]
        for fw, r in rows.items():
            print(f"{workload:8s} {fw:8s} base {r['base_mib']:7.1f} MiB  peak {r['peak_mib']:7.1f} MiB  "
                  f"growth {r['growth_mib']:7.1f} MiB  ({r['growth_mib'] / ref:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
