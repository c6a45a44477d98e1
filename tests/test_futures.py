"""ferrum.futures: torch.futures' names (Future is ferrum.distributed's), collect_all and wait_all."""

from __future__ import annotations

import threading

import pytest

from ferrum import futures


def test_future_is_the_distributed_one():
    import ferrum.distributed as dist
    assert futures.Future is dist.Future


def test_then_chains_and_errors_propagate():
    f = futures.Future()
    g = f.then(lambda x: x.value() * 2)
    h = g.then(lambda x: 1 / 0)
    assert not g.done()
    f.set_result(21)
    assert g.wait() == 42 and g.value() == 42
    with pytest.raises(ZeroDivisionError):
        h.wait()
    with pytest.raises(RuntimeError):
        f.set_result(1)  # a Future completes once


def test_collect_all_and_wait_all():
    fs = [futures.Future() for _ in range(3)]
    allf = futures.collect_all(fs)
    assert not allf.done()
    t = threading.Thread(target=lambda: [f.set_result(i) for i, f in enumerate(fs)])
    t.start()
    assert allf.wait() == fs
    t.join()
    assert futures.wait_all(fs) == [0, 1, 2]
    assert futures.collect_all([]).wait() == []
    bad = futures.Future()
    bad.set_exception(ValueError("no"))
    assert futures.collect_all([bad]).wait() == [bad]  # failed ones are collected too
    with pytest.raises(ValueError):
        futures.wait_all([bad])
