"""Runs a script of tests/distributed/scripts under ``ferrum run`` for the tests of this folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ferrum

SCRIPTS = Path(__file__).parent / "scripts"


def need_mpi() -> None:
    pytest.importorskip("mpi4py")
    from ferrum.distributed.run import find_mpiexec
    try:
        find_mpiexec()
    except RuntimeError as e:
        pytest.skip(str(e))


def env() -> dict:
    """The environment of a launched job: this ferrum first on the path, one BLAS thread per rank."""
    e = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    src = str(Path(ferrum.__file__).resolve().parents[1])
    e["PYTHONPATH"] = src + os.pathsep + e.get("PYTHONPATH", "") if e.get("PYTHONPATH") else src
    return e


def launch(nproc: int, script: str, *args: str, timeout: float = 100,
           launcher: list[str] | None = None) -> tuple[int, str, float]:
    """(exit status, stdout+stderr, seconds) of ``ferrum run -n nproc scripts/script args``."""
    cmd = launcher or [sys.executable, "-m", "ferrum", "run", "-n", str(nproc)]
    t0 = time.monotonic()
    p = subprocess.run([*cmd, str(SCRIPTS / script), *args], env=env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout, time.monotonic() - t0
