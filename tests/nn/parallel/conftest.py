"""Runs the rank side of the DistributedDataParallel and SyncBatchNorm tests once per session and
world size: ``_ddp_worker.py`` under the launcher (``ferrum run --nproc-per-node N``, N = 2 and 4),
every scenario in one job (the MPI start-up is the largest cost: about 3 s for 2 ranks, 6 s for 4
on the 2-core machine). Skipped cleanly where mpi4py (the ``dist`` extra) is not installed."""

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


def launch(script: Path, *args: str, nproc: int, timeout: float = 150) -> subprocess.CompletedProcess:
    """``python -m ferrum run --nproc-per-node N script args`` with this checkout's package."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "ferrum", "run", "--nproc-per-node", str(nproc), str(script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session", params=[2, 4], ids=["2ranks", "4ranks"])
def ddp_results(request, tmp_path_factory):
    """Per rank: (arrays, metadata) the worker wrote; ``len()`` is the world size."""
    pytest.importorskip("mpi4py")
    nproc = request.param
    out = tmp_path_factory.mktemp(f"ddp{nproc}")
    r = launch(WORKER, str(out), nproc=nproc)
    if r.returncode != 0:
        pytest.fail(f"the {nproc}-rank job failed (exit {r.returncode}):\n{r.stdout[-4000:]}\n"
                    f"{r.stderr[-4000:]}", pytrace=False)
    ranks = []
    for k in range(nproc):
        with np.load(out / f"rank{k}.npz") as z:
            arrays = {n: z[n] for n in z.files}
        ranks.append((arrays, json.loads((out / f"rank{k}.json").read_text())))
    return ranks
