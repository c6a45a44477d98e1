"""Runs the rank side of the DistributedDataParallel and SyncBatchNorm tests once per session:
``_ddp_worker.py`` under the launcher (``ferrum run --nproc-per-node 2``), every scenario in one
job (about 1 s of MPI start-up per job is the largest cost on the 2-core machine). Skipped cleanly
where mpi4py (the ``dist`` extra) is not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("_ddp_worker.py")
SRC = Path(__file__).resolve().parents[3] / "src"
NPROC = 2


def launch(script: Path, *args: str, nproc: int = NPROC, timeout: float = 150) -> subprocess.CompletedProcess:
    """``python -m ferrum run --nproc-per-node N script args`` with this checkout's package."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "ferrum", "run", "--nproc-per-node", str(nproc), str(script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def ddp_results(tmp_path_factory):
    """Per rank: (arrays, metadata) the worker wrote."""
    pytest.importorskip("mpi4py")
    out = tmp_path_factory.mktemp("ddp")
    r = launch(WORKER, str(out))
    if r.returncode != 0:
        pytest.fail(f"the {NPROC}-rank job failed (exit {r.returncode}):\n{r.stdout[-4000:]}\n"
                    f"{r.stderr[-4000:]}", pytrace=False)
    ranks = []
    for k in range(NPROC):
        with np.load(out / f"rank{k}.npz") as z:
            arrays = {n: z[n] for n in z.files}
        ranks.append((arrays, json.loads((out / f"rank{k}.json").read_text())))
    return ranks
