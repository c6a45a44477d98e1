"""Faults under ``ferrum run`` (scripts/faults.py): a rank that raises, exits non-zero or is SIGKILLed
ends the whole job with a non-zero status in seconds and leaves no process behind; collectives whose
shapes, dtypes, ops, roots or split sizes differ across ranks raise on every rank (and the group
keeps working); a rank that never arrives makes the others time out with a clear error."""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest

from .launch import launch, need_mpi


def _leftovers(marker: str, grace: float = 5.0) -> list[str]:
    """The processes whose command line holds ``marker``, once any still exiting had ``grace`` s."""
    deadline = time.monotonic() + grace
    while (found := _find(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [f"{pid}: {_cmdline(pid)}" for pid in found]


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def _find(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(pid)
            except OSError:
                pass
    return found


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode, limit", [("raise", 30), ("exit", 30), ("kill", 60)])
def test_a_failing_rank_ends_the_job(mode, limit):
    need_mpi()
    marker = f"fault-{uuid.uuid4().hex}"
    rc, out, secs = launch(2, "faults.py", mode, marker, timeout=limit + 30)
    assert rc != 0 and secs < limit, (rc, secs, out[-3000:])
    if mode == "raise":
        assert "rank 1 fails on purpose" in out
    assert _leftovers(marker) == []


@pytest.mark.timeout(90)
def test_mismatched_collectives_raise_on_every_rank():
    need_mpi()
    rc, out, _ = launch(2, "faults.py", "mismatch", "m", timeout=80)
    assert rc == 0, out[-4000:]
    for what in ("shape", "dtype", "op", "root", "all_gather", "different ops", "splits"):
        assert f"MISMATCH 0 {what}:" in out and f"MISMATCH 1 {what}:" in out, (what, out[-3000:])
    assert "MISMATCH 1 recv: recv: rank 0 sent 3 elements of float32" in out
    assert "MISMATCH-OK 0" in out and "MISMATCH-OK 1" in out
    assert "float32 [2]" in out and "float64 [2]" in out  # the message names every rank's shape and dtype


@pytest.mark.timeout(90)
def test_a_rank_that_never_arrives_times_out():
    need_mpi()
    rc, out, secs = launch(2, "faults.py", "timeout", "t", timeout=80)
    assert rc != 0 and secs < 40, (rc, secs, out[-3000:])
    assert "Ranks 1 failed to pass monitoredBarrier in 2000 ms" in out
    assert "timed out after 0:00:03" in out and "DistBackendError" in out
    share = float(re.search(r"WAIT-CPU ([\d.]+)", out).group(1))
    assert share < 0.5, f"rank 0 used {share:.0%} of a core while waiting"  # measured: ~7%


@pytest.mark.timeout(90)
def test_a_late_rank_times_out_instead_of_hanging():
    need_mpi()
    rc, out, secs = launch(2, "faults.py", "late", "l", timeout=80)
    assert rc != 0 and secs < 30, (rc, secs, out[-3000:])
    assert "LATE-TIMEOUT all_reduce: rank 0 of the group timed out" in out
    assert "LATE-BROKEN all_reduce: the process group is unusable" in out
    assert "transfer timed out" in out
