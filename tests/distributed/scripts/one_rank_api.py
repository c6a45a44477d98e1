"""Run by tests/distributed/test_api.py in a pytest of its own (so that MPI is initialised in a
separate process, never in a test-suite worker that goes on to fork DataLoader workers): the API in
an MPI world of one rank, argument errors, and every collective's single-rank result."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import ferrum

dist = ferrum.distributed


@pytest.fixture
def world():
    pytest.importorskip("mpi4py")
    assert dist.is_available() and dist.is_mpi_available()
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
    yield
    dist.destroy_process_group()


def test_init_queries_and_destroy(world):
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == "gloo" and dist.group.WORLD is dist.GroupMember.WORLD
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("gloo")
    g = dist.new_group([0])
    assert dist.get_process_group_ranks(g) == [0] and dist.get_global_rank(g, 0) == 0
    assert dist.get_rank(g) == 0 and dist.get_group_rank(g, 0) == 0
    with pytest.raises(ValueError):
        dist.new_group([0, 3])


def test_world_size_must_match_the_mpi_job():
    pytest.importorskip("mpi4py")
    with pytest.raises(ValueError, match="ferrum run -n 2"):
        dist.init_process_group("gloo", world_size=2, rank=0)
    assert not dist.is_initialized()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16", "bfloat16", "bool", "complex64"])
def test_one_rank_collectives_keep_values(world, dtype):
    dt = getattr(ferrum, dtype)
    x = (ferrum.arange(12) % 3).to(dt).reshape(3, 4)
    ref = x.clone()
    t = x.t()  # non-contiguous
    v = t._version[0]
    assert dist.all_reduce(t) is None and t._version[0] == v + 1
    assert ferrum.equal(x, ref)
    w = dist.broadcast(t, 0, async_op=True)
    assert w.wait() and w.is_completed() and w.result()[0] is t
    out = [ferrum.zeros(4, 3, dtype=dt)]
    dist.all_gather(out, t)
    assert ferrum.equal(out[0], t)
    big = ferrum.zeros(4, 3, dtype=dt)
    dist.all_gather_into_tensor(big, t)
    assert ferrum.equal(big, t)
    o = ferrum.zeros(4, 3, dtype=dt)
    dist.all_to_all_single(o, t)
    assert ferrum.equal(o, t)
    g = [ferrum.zeros(4, 3, dtype=dt)]
    dist.gather(t, g, dst=0)
    assert ferrum.equal(g[0], t)
    s = ferrum.zeros(4, 3, dtype=dt)
    dist.scatter(s, [t], src=0)
    assert ferrum.equal(s, t)


def test_reduce_op_dtype_errors(world):
    with pytest.raises(RuntimeError, match="non-integral"):
        dist.all_reduce(ferrum.ones(2), op=dist.ReduceOp.BAND)
    with pytest.raises(TypeError):
        dist.all_reduce(ferrum.ones(2), op="sum")
    with pytest.raises(TypeError):
        dist.all_reduce(np.ones(2))
    with pytest.raises(RuntimeError, match="group size"):
        dist.all_gather([ferrum.zeros(2), ferrum.zeros(2)], ferrum.ones(2))
    with pytest.raises(ValueError, match="not be specified on non|must be specified"):
        dist.gather(ferrum.ones(2), None, dst=0)


def test_zero_size_and_object_collectives(world):
    z = ferrum.zeros(0, 3)
    dist.all_reduce(z, op=dist.ReduceOp.MAX)
    assert tuple(z.shape) == (0, 3)
    objs = [None]
    dist.all_gather_object(objs, {"a": [1, 2]})
    assert objs == [{"a": [1, 2]}]
    lst = ["x", 3]
    dist.broadcast_object_list(lst, src=0)
    assert lst == ["x", 3]
    out = [None]
    dist.scatter_object_list(out, [("t", 1)], src=0)
    assert out == [("t", 1)]
    got = [None]
    dist.gather_object(7, got, dst=0)
    assert got == [7]
    dist.barrier()
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=5))


def test_work_future_then(world):
    t = ferrum.ones(3)
    fut = dist.all_reduce(t, async_op=True).get_future().then(lambda f: f.value()[0] * 2)
    assert ferrum.equal(fut.wait(), ferrum.full((3,), 2.0))


def test_work_wait_timeout_and_errors_through_futures(world):
    fut = dist.Future()
    w = dist.Work("x")
    with pytest.raises(dist.DistBackendError, match="timed out"):
        w.wait(timeout=datetime.timedelta(milliseconds=50))
    assert not w.is_completed()
    chained = fut.then(lambda f: f.value() + 1)
    fut.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        chained.wait()
    with pytest.raises(RuntimeError, match="complex"):
        dist.all_reduce(ferrum.ones(2, dtype=ferrum.complex64), op=dist.ReduceOp.MAX)
