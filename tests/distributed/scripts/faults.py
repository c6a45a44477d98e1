"""Run under the launcher by test_faults.py: ``faults.py MODE MARKER``; MARKER only tags the processes
so that the test can look for leftovers. Modes:

raise / exit: rank 1 raises (exits with status 3) while rank 0 waits in a collective;
kill: rank 1 SIGKILLs itself while rank 0 waits in a collective;
mismatch: collectives whose shapes, dtypes, ops or split sizes differ across ranks, each of which
    must raise RuntimeError on every rank; the group then still works;
timeout: rank 1 never arrives; rank 0's monitored_barrier names it, and its all_reduce hits the
    3 s timeout (the error is left uncaught, so it also aborts the job);
late: rank 1 arrives after rank 0 timed out and gave up: rank 0's group refuses further work, and
    rank 1's collective times out in its transfer instead of hanging."""

from __future__ import annotations

import datetime
import os
import resource
import signal
import sys
import time

import ferrum
import ferrum.distributed as dist


def expect_mismatch(fn, what: str) -> None:
    try:
        fn()
    except RuntimeError as e:
        assert "do not match" in str(e), str(e)
        print(f"MISMATCH {dist.get_rank()} {what}: {e}", flush=True)
        return
    raise AssertionError(f"{what}: no error")


def main() -> None:
    mode = sys.argv[1]
    timeout = datetime.timedelta(seconds=3 if mode in ("timeout", "late") else 60)
    dist.init_process_group("gloo", timeout=timeout)
    r, n = dist.get_rank(), dist.get_world_size()
    dist.barrier()
    if mode in ("raise", "exit", "kill"):
        if r == 1:
            time.sleep(0.5)
            if mode == "raise":
                raise ValueError("rank 1 fails on purpose")
            if mode == "exit":
                sys.exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(ferrum.ones(3))
        time.sleep(600)
    elif mode == "mismatch":
        expect_mismatch(lambda: dist.all_reduce(ferrum.ones(r + 2)), "shape")
        dt = ferrum.float64 if r else ferrum.float32
        expect_mismatch(lambda: dist.all_reduce(ferrum.ones(2, dtype=dt)), "dtype")
        op = dist.ReduceOp.MAX if r else dist.ReduceOp.SUM
        expect_mismatch(lambda: dist.all_reduce(ferrum.ones(2), op=op), "op")
        expect_mismatch(lambda: dist.broadcast(ferrum.ones(2), src=r), "root")
        expect_mismatch(lambda: dist.all_gather([ferrum.zeros(r + 1) for _ in range(n)], ferrum.ones(r + 1)),
                        "all_gather")
        expect_mismatch(lambda: dist.all_reduce(ferrum.ones(2)) if r else dist.barrier(), "different ops")
        expect_mismatch(lambda: dist.all_to_all_single(ferrum.zeros(n + r), ferrum.ones(n),
                                                        output_split_sizes=[1 + r] + [1] * (n - 1)), "splits")
        # point to point: the receiver sees the sender's dtype and size; the next message is intact
        if r == 0:
            dist.send(ferrum.ones(3), 1)
            dist.send(ferrum.full((2,), 7.0), 1)
        elif r == 1:
            try:
                dist.recv(ferrum.zeros(3, dtype=ferrum.float64), 0)
                raise AssertionError("recv: no error")
            except RuntimeError as e:
                assert "sent 3 elements of float32" in str(e) and "float64" in str(e), str(e)
                print(f"MISMATCH 1 recv: {e}", flush=True)
            y = ferrum.zeros(2)
            dist.recv(y, 0)
            assert y.tolist() == [7.0, 7.0]
        t = ferrum.ones(4)
        dist.all_reduce(t)
        assert t.tolist() == [float(n)] * 4
        print(f"MISMATCH-OK {r}", flush=True)
    elif mode == "timeout":
        if r == 1:
            time.sleep(600)
        try:
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=2))
        except RuntimeError as e:
            print(f"MONITORED {e}", flush=True)
        u0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        try:
            dist.all_reduce(ferrum.ones(3))
        finally:  # waiting for the absent rank must not spin a core
            u1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = u1.ru_utime - u0.ru_utime + u1.ru_stime - u0.ru_stime
            print(f"WAIT-CPU {cpu / (time.monotonic() - t0):.3f}", flush=True)
    elif mode == "late":
        if r == 1:
            time.sleep(5)
            dist.all_reduce(ferrum.ones(3))  # rank 0 is gone from this collective: times out, aborts
        try:
            dist.all_reduce(ferrum.ones(3))
        except dist.DistBackendError as e:
            print(f"LATE-TIMEOUT {e}", flush=True)
        try:
            dist.all_reduce(ferrum.ones(3))
        except dist.DistBackendError as e:
            print(f"LATE-BROKEN {e}", flush=True)
        time.sleep(30)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
