"""ferrum.multiprocessing.spawn: fn(i, *args) in n processes, a child's exception re-raised."""

from __future__ import annotations

import pytest

import ferrum
import ferrum.multiprocessing as mp


def _write_rank(i, path, scale):
    import ferrum as fr

    fr.save({"rank": i, "t": fr.ones(2) * i * scale}, f"{path}/r{i}.pt")


def _fail_on_one(i):
    if i == 1:
        raise ValueError("rank one fails")


@pytest.mark.timeout(120)
def test_spawn_runs_every_rank(tmp_path):
    mp.spawn(_write_rank, args=(str(tmp_path), 3.0), nprocs=2)
    for i in range(2):
        got = ferrum.load(tmp_path / f"r{i}.pt")
        assert got["rank"] == i and got["t"].tolist() == [3.0 * i] * 2
    assert mp.cpu_count() >= 1 and mp.Queue is not None  # multiprocessing re-exported


@pytest.mark.timeout(120)
def test_spawn_reraises_child_exception():
    with pytest.raises(mp.ProcessRaisedException, match="rank one fails") as info:
        mp.spawn(_fail_on_one, nprocs=2)
    assert info.value.error_index == 1


@pytest.mark.timeout(120)
def test_no_join_returns_context():
    ctx = mp.spawn(_fail_on_one, nprocs=1, join=False)
    assert len(ctx.pids()) == 1
    while not ctx.join():
        pass
