"""ops/_parallel.py: large ufuncs split over two threads, and safe after fork."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

from ferrum.ops import _parallel


def test_split_ufuncs_equal_numpy():
    a = np.random.default_rng(0).standard_normal(_parallel.MIN_SIZE * 2 + 3)
    np.testing.assert_array_equal(_parallel.unary(np.exp, a), np.exp(a))
    np.testing.assert_array_equal(_parallel.binary(np.add, a, a[::-1].copy()), a + a[::-1])
    np.testing.assert_array_equal(_parallel.binary(np.multiply, a, 2.5), a * 2.5)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs fork")
def test_forked_child_does_not_hang():
    """A DataLoader worker is a forked child: the parent's executor thread does not exist there."""
    a = np.ones(_parallel.MIN_SIZE * 2)
    _parallel.unary(np.exp, a)              # the parent's executor now has a thread
    pid = os.fork()
    if pid == 0:                            # child: must finish, not wait on a thread it lacks
        ok = np.array_equal(_parallel.unary(np.exp, a), np.exp(a))
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung in _parallel.unary")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
