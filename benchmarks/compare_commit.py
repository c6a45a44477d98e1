#!/usr/bin/env python
"""ferrum at an earlier commit against ferrum now (and torch), side by side in one process.

    python benchmarks/compare_commit.py 9583cb6                      # micro_chain, mlp, mlp_infer
    python benchmarks/compare_commit.py 9583cb6 -w micro_chain --runs 5

The package at COMMIT is exported with ``git archive`` into a temporary folder and renamed
``ferrum_<commit>`` (ferrum imports itself only relatively, so the copy is self-contained); the
shared harness (``../shared/bench/bench.py`` or ``$FERRUM_BENCH_DIR``) then builds torch, the old and
the current ferrum in one process and times them in interleaved rounds. This is how the "within 2% of
before" gates of a refactoring are measured: same process, same machine state, every run printed.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def export(commit: str, dest: Path) -> str:
    """Writes src/ferrum at ``commit`` to ``dest/ferrum_<commit>``; returns the module name."""
    name = "ferrum_" + commit.replace("-", "_").replace("/", "_")[:12]
    blob = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "src/ferrum"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    (dest / "src" / "ferrum").rename(dest / name)
    return name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("commit")
    ap.add_argument("-w", "--workloads", default="micro_chain,mlp,mlp_infer")
    ap.add_argument("--runs", type=int, default=3, help="separate bench.py runs (each printed)")
    ap.add_argument(
        "--bench-dir", default=os.environ.get("FERRUM_BENCH_DIR", str(REPO.parent / "shared" / "bench"))
    )
    args = ap.parse_args(argv)
    bench = Path(args.bench_dir) / "bench.py"
    if not bench.exists():
        print(f"compare_commit: no bench.py in {args.bench_dir} (set --bench-dir)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        old = export(args.commit, Path(tmp))
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([tmp, str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
        )
        for i in range(args.runs):
            print(f"--- run {i + 1}/{args.runs}: torch, {old}, ferrum", flush=True)
            rc = subprocess.run(
                [sys.executable, str(bench), "--fw", f"torch,{old},ferrum", "-w", args.workloads], env=env
            ).returncode
            if rc:
                return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
