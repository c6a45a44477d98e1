"""ferrum.distributed in one process: what works without MPI here, and (in a separate pytest run of
scripts/one_rank_api.py, so that MPI never starts in a test-suite worker) the API in an MPI world of
one rank, argument errors, and every collective's single-rank result. Multi-rank behaviour runs under
the launcher in test_collectives.py and test_faults.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ferrum

from .launch import SCRIPTS, env, need_mpi

dist = ferrum.distributed


def test_import_without_mpi_and_nccl_errors():
    assert dist.is_nccl_available() is False
    assert dist.Backend("GLOO") == "gloo" and dist.Backend("mpi") == dist.Backend.MPI
    assert int(dist.ReduceOp.SUM) == 0 and dist.ReduceOp.BXOR.name == "BXOR"
    if dist.is_initialized():
        pytest.skip("a process group exists in this worker")
    with pytest.raises(RuntimeError, match="nccl"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("ucc")
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(ferrum.ones(2))


@pytest.mark.timeout(120)
def test_one_rank_world_in_its_own_process():
    need_mpi()
    cmd = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", "-x",
           str(SCRIPTS / "one_rank_api.py")]
    p = subprocess.run(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=110)
    assert p.returncode == 0, p.stdout[-4000:]
    assert " passed" in p.stdout and "skipped" not in p.stdout, p.stdout[-2000:]
