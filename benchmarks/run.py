#!/usr/bin/env python
"""ferrum's benchmarks: ferrum side by side with PyTorch, against the targets of the issues.

    python benchmarks/run.py                         # micro workloads, mlp, mlp_infer, import time
    python benchmarks/run.py --unset-openblas-env    # the same with OPENBLAS_CORETYPE/L2_SIZE unset
    python benchmarks/run.py -w micro_chain --import-runs 0 --json out.json

The workloads run through the shared harness (``bench.py`` in ../shared/bench next to the repository,
or in $FERRUM_BENCH_DIR): both frameworks in one process, timed in interleaved rounds. Import time is
the wall time of ``python -c "import ferrum"`` against ``python -c "import numpy"`` in fresh
subprocesses (median of --import-runs runs each, interleaved). Ratios are ferrum over torch (time), or
ferrum over torch (GFLOP/s) for matmul, and ferrum over numpy for import.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# workload -> (what is compared, target): "time" compares median time per step (ferrum / torch,
# lower is better); "rate" compares throughput (ferrum / torch GFLOP/s, higher is better)
TARGETS = {
    "micro_chain": ("time", "<=", 0.7),
    "micro_chain_nograd": ("time", "<=", 0.7),
    "micro_matmul1024": ("rate", ">=", 0.95),
    "micro_eltwise": ("time", "<=", 1.0),
    "mlp": ("time", "<=", 0.95),
    "mlp_infer": ("time", "<=", 1.0),
}
IMPORT_TARGET = ("<=", 1.3)
NOISY_SPREAD = 1.10


def find_bench_dir(explicit: str | None) -> Path:
    cands = [explicit, os.environ.get("FERRUM_BENCH_DIR"), REPO.parent / "shared" / "bench"]
    for c in cands:
        if c and (Path(c) / "bench.py").is_file():
            return Path(c).resolve()
    raise SystemExit("run.py: bench.py not found: pass --bench-dir DIR or set FERRUM_BENCH_DIR "
                     f"(looked in: {', '.join(str(c) for c in cands if c)})")


def child_env(unset_openblas: bool) -> dict:
    env = dict(os.environ)
    # import timing measures the steady state, with bytecode cached (as after `pip install`): let the
    # warm-up run write the .pyc files even where the shell sets PYTHONDONTWRITEBYTECODE
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if unset_openblas:
        for k in OPENBLAS_VARS:
            env.pop(k, None)
    if importlib.util.find_spec("ferrum") is None:  # not installed: use the checkout's sources
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


def run_harness(bench_dir: Path, workloads: list[str], args, env: dict) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [sys.executable, str(bench_dir / "bench.py"), "--fw", "torch,ferrum", "-w", ",".join(workloads),
               "--rounds", str(args.rounds), "--block", str(args.block), "--threads", str(args.threads),
               "--json", str(out)]
        print("$", " ".join(cmd), flush=True)
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            raise SystemExit(f"run.py: bench.py exited with status {rc}")
        return json.loads(out.read_text())["results"]


def time_imports(n: int, env: dict) -> dict:
    """Median wall time (s) of `python -c "import X"` for numpy and ferrum, runs interleaved."""
    mods = ("numpy", "ferrum")
    times = {m: [] for m in mods}
    for m in mods:  # warm-up: bytecode caches, page cache
        subprocess.run([sys.executable, "-c", f"import {m}"], env=env, check=True)
    for i in range(n):
        for m in (mods if i % 2 == 0 else mods[::-1]):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {m}"], env=env, check=True)
            times[m].append(time.perf_counter() - t0)
    return {m: statistics.median(ts) for m, ts in times.items()} | {"runs": n}


def _fmt(value: float, unit: str) -> str:
    return f"{value:9.1f} {unit}" if value >= 100 else f"{value:9.2f} {unit}"


def summarize(results: list[dict], imports: dict | None) -> tuple[list[dict], str]:
    by = {(r["workload"], r["contender"]): r for r in results}
    rows = []
    for w, (kind, op, target) in TARGETS.items():
        t, f = by.get((w, "torch")), by.get((w, "ferrum"))
        if t is None or f is None:
            continue
        ratio = f["value"] / t["value"] if kind == "rate" else f["median_s"] / t["median_s"]
        ok = ratio <= target if op == "<=" else ratio >= target
        noisy = max(t["spread"], f["spread"]) > NOISY_SPREAD
        rows.append(dict(check=w, base=_fmt(t["value"], t["unit"]), ferrum=_fmt(f["value"], f["unit"]),
                         ratio=ratio, target=f"{op} {target:.2f}", ok=ok, noisy=noisy,
                         compares="GFLOP/s" if kind == "rate" else "time"))
    if imports:
        ratio = imports["ferrum"] / imports["numpy"]
        op, target = IMPORT_TARGET
        rows.append(dict(check="import (vs numpy)", base=_fmt(imports["numpy"] * 1e3, "ms"),
                         ferrum=_fmt(imports["ferrum"] * 1e3, "ms"), ratio=ratio, target=f"{op} {target:.2f}",
                         ok=ratio <= target, noisy=False, compares="time"))
    hdr = f"{'check':20s} {'torch / numpy':>17s} {'ferrum':>17s} {'ratio':>7s} {'target':>8s}  status"
    lines = [hdr, "-" * len(hdr)]
    for r in rows:
        status = "ok" if r["ok"] else "MISSED"
        if r["noisy"]:
            status += " (noisy: spread > 1.10, run again)"
        lines.append(f"{r['check']:20s} {r['base']:>17s} {r['ferrum']:>17s} {r['ratio']:6.2f}x "
                     f"{r['target']:>8s}  {status}")
    lines.append("ratio: ferrum / torch time per step (lower is better); matmul: ferrum / torch GFLOP/s "
                 "(higher is better); import: ferrum / numpy wall time of `python -c 'import X'`")
    return rows, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-w", "--workloads", default=",".join(TARGETS),
                    help="comma list of bench.py workloads (default: %(default)s)")
    ap.add_argument("--bench-dir",
                    help="folder with bench.py (default: $FERRUM_BENCH_DIR or ../shared/bench)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (bench.py --rounds)")
    ap.add_argument("--block", type=float, default=0.4, help="seconds per timed block (bench.py --block)")
    ap.add_argument("--threads", type=int, default=2, help="threads for each framework (bench.py --threads)")
    ap.add_argument("--import-runs", type=int, default=15, help="runs of each import timing (0: skip)")
    ap.add_argument("--unset-openblas-env", action="store_true",
                    help="unset " + " and ".join(OPENBLAS_VARS) + " for the benchmark processes")
    ap.add_argument("--json", help="write the raw results and the summary here")
    ap.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    args = ap.parse_args(argv)

    for k in OPENBLAS_VARS:
        print(f"# {k}={os.environ.get(k, '<unset>')}" + (" -> unset for this run" if args.unset_openblas_env
                                                            and k in os.environ else ""))
    if importlib.util.find_spec("torch") is None:
        raise SystemExit("run.py: torch is not installed; install the pinned CPU build: "
                         "pip install torch==2.13.0  (or run `make bench`, which does)")
    env = child_env(args.unset_openblas_env)
    workloads = [w for w in args.workloads.split(",") if w]
    bench_dir = find_bench_dir(args.bench_dir)

    results = run_harness(bench_dir, workloads, args, env) if workloads else []
    imports = None
    if args.import_runs > 0:
        print(f"# import time: {args.import_runs} runs each of python -c 'import numpy' / 'import ferrum'",
              flush=True)
        imports = time_imports(args.import_runs, env)
    rows, table = summarize(results, imports)
    print()
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            openblas_env={k: os.environ.get(k) for k in OPENBLAS_VARS},
            unset_openblas_env=args.unset_openblas_env,
            results=results, imports=imports, summary=rows), indent=1))
    missed = [r["check"] for r in rows if not r["ok"]]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
