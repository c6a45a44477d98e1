"""Every collective x ReduceOp x float32/float64/int64 x shapes (0-d, 0-size, 1-3 d, strided) on 2
and 4 ranks under ``ferrum run``, against values computed locally (scripts/check_collectives.py),
plus p2p, object collectives, subgroups, half precision and concurrent async collectives. One job
per world size checks everything: launching is the slow part on two cores."""

from __future__ import annotations

import re
import sys

import pytest

from .launch import launch, need_mpi


@pytest.mark.timeout(150)
@pytest.mark.parametrize("nproc", [2, 4])
def test_every_collective_against_local_values(nproc):
    need_mpi()
    rc, out, _ = launch(nproc, "check_collectives.py", timeout=140)
    assert rc == 0, out[-4000:]
    checked = re.findall(r"CHECKED (\d+) (\d+)", out)
    assert sorted(int(r) for r, _ in checked) == list(range(nproc)), out[-2000:]
    assert len({c for _, c in checked}) == 1 and int(checked[0][1]) > 300


@pytest.mark.timeout(60)
def test_mpiexec_with_mpi4py_runner_works_too():
    need_mpi()
    from ferrum.distributed.run import find_mpiexec
    rc, out, _ = launch(2, "check_collectives.py", timeout=55,
                        launcher=[find_mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py"])
    assert rc == 0 and len(re.findall(r"CHECKED \d+ \d+", out)) == 2, out[-4000:]


def test_launcher_command_and_variables(capsys):
    need_mpi()
    from ferrum.cli import main
    assert main(["run", "--dry-run", "--nproc-per-node", "3", "train.py", "--lr", "0.1"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[0].endswith("mpiexec") and cmd[1:3] == ["-n", "3"]
    assert cmd[-4:] == ["ferrum.distributed._rank", "train.py", "--lr", "0.1"]
    assert main(["run", "--dry-run", "-n", "2", "--hosts", "a,b", "x.py"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[1:7] == ["-hosts", "a,b", "-ppn", "2", "-n", "4"]
    assert main(["run", "--dry-run", "-n", "2", "-m", "pkg.train", "--epochs", "1"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[-5:] == ["ferrum.distributed._rank", "-m", "pkg.train", "--epochs", "1"]
    assert main(["run", "--dry-run", "-n", "2", "--nnodes", "2", "--node-rank", "1", "--master-addr",
                 "10.0.0.1", "--master-port", "29511", "x.py"]) == 0
    cmd = capsys.readouterr().out.split()  # node 1 runs hydra's proxy, pointed at node 0's mpiexec
    assert cmd[0].endswith("hydra_pmi_proxy") and "10.0.0.1:29511" in cmd and cmd[-2:] == ["--proxy-id", "1"]
