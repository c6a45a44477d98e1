"""DataLoader with worker processes: results equal to single-process loading, seeding, ordering,
IterableDataset sharding, error propagation (exceptions, killed workers, timeouts), persistent
workers, the spawn start method, and no leaked processes or shared-memory segments.

Every test here starts processes, so each carries a timeout; the autouse fixture checks after
every test that no worker process and no ``/dev/shm/ferrum_dl_<pid>_*`` segment is left behind.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import ferrum
from ferrum.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    get_worker_info,
)
from ferrum.utils.data import _shm

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="checks /dev/shm and fork semantics (Linux)")

FEAT = (16, 16)  # float32 16x16 = 1 KiB per sample: a batch of 4+ crosses the shm threshold


# --------------------------------------------------------------------------- datasets (module
# level, so that the spawn start method can pickle them by reference)
class ArangeDataset(Dataset):
    """Sample i: (float32 array of FEAT filled with i, i)."""

    def __init__(self, n=40):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(FEAT, i, dtype=np.float32), i


Pair = collections.namedtuple("Pair", ["a", "b"])


class NestedDataset(Dataset):

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return {"img": ferrum.full((8, 8, 4), float(i)), "label": i, "name": f"s{i}",
                "pair": Pair(np.arange(3) + i, float(i) / 2),
                "seq": [np.full((300,), i, dtype=np.int64), ferrum.tensor([i, -i])]}


class SeedDataset(Dataset):
    """Reports, per sample, the worker's seed and a draw of each global RNG."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.seed, int(ferrum.randint(0, 2**31 - 1, (1,)).item()),
                int(np.random.randint(0, 2**31 - 1)), random.getrandbits(31))


class FailingDataset(Dataset):
    def __init__(self, bad=5, exc=ValueError):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"bad sample {i}")
        return np.float32(i)


class SlowDataset(Dataset):
    def __init__(self, n=64, delay=0.02, first_delay=0.0):
        self.n, self.delay, self.first_delay = n, delay, first_delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.first_delay if i == 0 else self.delay)
        return np.full(FEAT, i, dtype=np.float32)


class GatedDataset(Dataset):
    """Sample 0 waits until ``gate`` is set (by the test, in the main process)."""

    def __init__(self, gate):
        self.gate = gate

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            self.gate.wait(20)
        return np.full(FEAT, i, dtype=np.float32)


class ShardedRange(IterableDataset):
    """range(start, end) split into contiguous shards, one per worker (get_worker_info)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        lo, hi = self.start, self.end
        if info is not None:
            per = -(-(hi - lo) // info.num_workers)
            lo = lo + info.id * per
            hi = min(lo + per, self.end)
        for k in range(lo, hi):
            yield np.full(FEAT, k, dtype=np.float32)


class UnshardedRange(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# --------------------------------------------------------------------------- leak checks
def _own_segments() -> set:
    prefix = f"{_shm.PREFIX}{os.getpid():x}_"
    return {n for n in os.listdir("/dev/shm") if n.startswith(prefix)}


def _children() -> set:
    return set(multiprocessing.active_children())


@pytest.fixture(autouse=True)
def _no_leaks():
    children, segments = _children(), _own_segments()
    yield
    gc.collect()
    leaked = _children() - children
    for p in leaked:  # do not let one failure cascade into the next tests
        p.kill()
        p.join()
    assert not leaked, f"worker processes left behind: {leaked}"
    assert _own_segments() - segments == set()


def _values(batches):
    """A list of (first feature value per sample, label) for ArangeDataset batches."""
    return [(x[:, 0, 0].tolist(), y.tolist()) for x, y in batches]


def _is_shm_backed(t: ferrum.Tensor) -> bool:
    import mmap
    a = t.numpy()
    while a is not None and not isinstance(a, mmap.mmap):
        a = getattr(a, "base", None) if isinstance(a, np.ndarray) else getattr(a, "obj", None)
    return isinstance(a, mmap.mmap)


# --------------------------------------------------------------------------- results
@pytest.mark.timeout(60)
@pytest.mark.parametrize("in_order", [True, False])
def test_same_batches_as_single_process(in_order):
    ds = ArangeDataset(42)
    ref = list(DataLoader(ds, batch_size=5, shuffle=True, generator=ferrum.Generator().manual_seed(3)))
    out = list(DataLoader(ds, batch_size=5, shuffle=True, num_workers=2, in_order=in_order,
                          generator=ferrum.Generator().manual_seed(3)))
    assert len(out) == len(ref) == 9
    if in_order:
        assert _values(out) == _values(ref)
    else:
        assert sorted(_values(out)) == sorted(_values(ref))
    x, y = out[0]
    assert x.dtype == ferrum.float32 and tuple(x.shape) == (5,) + FEAT and y.dtype == ferrum.int64
    assert _is_shm_backed(x)  # the large array came through shared memory, not the pipe
    assert not _is_shm_backed(y)  # a small one is pickled inline


@pytest.mark.timeout(60)
def test_same_seed_same_batches_and_different_seed_differs():
    ds = ArangeDataset(40)

    def run(seed):
        g = ferrum.Generator().manual_seed(seed)
        return _values(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, generator=g))

    a, b, c = run(7), run(7), run(8)
    assert a == b
    assert a != c
    # the global generator drives shuffling without an explicit generator
    ferrum.manual_seed(11)
    d = _values(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2))
    ferrum.manual_seed(11)
    e = _values(DataLoader(ds, batch_size=4, shuffle=True, num_workers=0))
    assert d == e


@pytest.mark.timeout(60)
def test_batches_stay_valid_while_later_batches_arrive():
    ds = ArangeDataset(64)
    ref = _values(DataLoader(ds, batch_size=4))
    held = list(DataLoader(ds, batch_size=4, num_workers=2))  # every block stays referenced
    assert _values(held) == ref
    # dropping each batch at once recycles the blocks; values must still be right every time,
    # and a batch modified in place must not leak into later ones
    got = []
    for x, y in DataLoader(ds, batch_size=4, num_workers=2):
        got.append((x[:, 0, 0].tolist(), y.tolist()))
        x.fill_(-1.0)
    assert got == ref


@pytest.mark.timeout(60)
def test_samplers_drop_last_and_no_batching():
    ds = ArangeDataset(23)
    cases = [dict(batch_size=4, drop_last=True), dict(batch_size=4, drop_last=False),
             dict(sampler=[5, 1, 9, 3, 7, 2, 8], batch_size=3),
             dict(batch_sampler=[[0, 1], [7, 3, 2], [22], [4, 4]])]
    for kw in cases:
        assert _values(DataLoader(ds, num_workers=2, **kw)) == _values(DataLoader(ds, **kw)), kw
    assert len(list(DataLoader(ds, batch_size=4, drop_last=True, num_workers=2))) == 5
    # batch_size=None: samples converted (default_convert), no batch dimension
    out = list(DataLoader(ds, batch_size=None, num_workers=2, sampler=[3, 0, 12]))
    assert [s[1] for s in out] == [3, 0, 12]
    assert all(isinstance(s[0], ferrum.Tensor) and tuple(s[0].shape) == FEAT for s in out)
    assert [float(s[0][0, 0]) for s in out] == [3.0, 0.0, 12.0]


@pytest.mark.timeout(60)
def test_nested_structures_round_trip():
    ds = NestedDataset()
    ref = list(DataLoader(ds, batch_size=4))
    out = list(DataLoader(ds, batch_size=4, num_workers=2))
    assert len(out) == len(ref) == 3
    for o, r in zip(out, ref):
        assert set(o) == set(r) == {"img", "label", "name", "pair", "seq"}
        assert isinstance(o["pair"], Pair)
        assert o["name"] == r["name"]
        for a, b in [(o["img"], r["img"]), (o["label"], r["label"]), (o["pair"].a, r["pair"].a),
                     (o["pair"].b, r["pair"].b), (o["seq"][0], r["seq"][0]), (o["seq"][1], r["seq"][1])]:
            assert isinstance(a, ferrum.Tensor) and a.dtype == b.dtype
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert _is_shm_backed(o["img"])


def _collate_numpy(samples):
    """A custom collate_fn returning NumPy arrays (they come back as arrays, not tensors)."""
    return np.stack([s[0] for s in samples]), [s[1] for s in samples]


@pytest.mark.timeout(60)
def test_custom_collate_numpy_arrays():
    out = list(DataLoader(ArangeDataset(8), batch_size=4, num_workers=2, collate_fn=_collate_numpy))
    assert [type(x) for x, _ in out] == [np.ndarray, np.ndarray]
    np.testing.assert_array_equal(out[1][0][:, 0, 0], [4, 5, 6, 7])
    assert out[1][1] == [4, 5, 6, 7]


# --------------------------------------------------------------------------- seeding
def _seed_rows(seed, num_workers):
    g = ferrum.Generator().manual_seed(seed)
    rows = []
    for b in DataLoader(SeedDataset(), batch_size=2, num_workers=num_workers, generator=g):
        rows += [tuple(int(v) for v in col) for col in zip(*b)]
    return rows


@pytest.mark.timeout(60)
def test_worker_seeds_distinct_and_reproducible():
    rows = _seed_rows(5, 2)
    assert rows == _seed_rows(5, 2)
    assert rows != _seed_rows(6, 2)
    by_worker = {}
    for wid, seed, f_draw, np_draw, py_draw in rows:
        by_worker.setdefault(wid, []).append((seed, f_draw, np_draw, py_draw))
    assert set(by_worker) == {0, 1}
    (s0, *d0), (s1, *d1) = by_worker[0][0], by_worker[1][0]
    assert s1 == s0 + 1  # seed = base_seed + worker_id
    # each RNG's first draw differs between the workers (NumPy included: PyTorch issue 5059)
    assert all(a != b for a, b in zip(d0, d1))
    # the base seed is drawn from the loader's generator
    g = ferrum.Generator().manual_seed(5)
    base = ferrum.empty((), dtype=ferrum.int64).random_(generator=g).item()  # PyTorch's draw
    assert s0 == base


def _record_init(worker_id):
    info = get_worker_info()
    assert info is not None and info.id == worker_id
    info.dataset.init_ids.append(worker_id)


class InitDataset(Dataset):
    def __init__(self):
        self.init_ids = []

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.num_workers, list(self.init_ids))


@pytest.mark.timeout(60)
def test_worker_info_and_init_fn():
    assert get_worker_info() is None
    ds = InitDataset()
    out = list(DataLoader(ds, batch_size=None, num_workers=2, worker_init_fn=_record_init))
    assert sorted(o[0] for o in out) == [0, 0, 1, 1]
    assert all(o[1] == 2 and o[2] == [o[0]] for o in out)  # each worker changed its own copy
    assert ds.init_ids == []  # not the main process's dataset


# --------------------------------------------------------------------------- ordering
@pytest.mark.timeout(60)
def test_in_order_false_yields_ready_batches_first():
    gate = multiprocessing.get_context("fork").Event()
    it = iter(DataLoader(GatedDataset(gate), batch_size=2, num_workers=2, in_order=False))
    first = next(it)  # batch 0 (worker 0) is blocked on the gate: another batch comes first
    gate.set()
    rest = list(it)
    firsts = [float(b[0, 0, 0]) for b in [first] + rest]
    assert firsts[0] != 0.0
    assert sorted(firsts) == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.timeout(60)
def test_in_order_true_waits_for_slow_batch():
    ds = SlowDataset(n=16, delay=0.0, first_delay=0.3)
    out = [float(b[0, 0, 0]) for b in DataLoader(ds, batch_size=2, num_workers=2)]
    assert out == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]


# --------------------------------------------------------------------------- IterableDataset
@pytest.mark.timeout(60)
@pytest.mark.parametrize("in_order", [True, False])
def test_iterable_sharding_no_duplicates(in_order):
    ds = ShardedRange(3, 30)
    vals = []
    for b in DataLoader(ds, batch_size=4, num_workers=2, in_order=in_order):
        vals += b[:, 0, 0].tolist()
    assert sorted(vals) == list(range(3, 30))
    # single-process and per-worker streams agree
    single = [v for b in DataLoader(ds, batch_size=4) for v in b[:, 0, 0].tolist()]
    assert single == list(range(3, 30))


@pytest.mark.timeout(60)
def test_iterable_sharding_in_order_interleaves_workers():
    ds = ShardedRange(0, 16)  # worker 0: 0..7, worker 1: 8..15
    firsts = [b[:, 0, 0].tolist() for b in DataLoader(ds, batch_size=3, num_workers=2)]
    assert firsts == [[0, 1, 2], [8, 9, 10], [3, 4, 5], [11, 12, 13], [6, 7], [14, 15]]
    dropped = [b[:, 0, 0].tolist() for b in DataLoader(ds, batch_size=3, num_workers=2, drop_last=True)]
    assert dropped == [[0, 1, 2], [8, 9, 10], [3, 4, 5], [11, 12, 13]]


@pytest.mark.timeout(60)
def test_iterable_unsharded_duplicates_and_length_warning():
    # without sharding each worker yields the whole stream (as in PyTorch), interleaved in order
    loader = DataLoader(UnshardedRange(6), batch_size=2, num_workers=2)
    assert len(loader) == 3
    assert [b.tolist() for b in loader] == [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]]
    loader = DataLoader(UnshardedRange(6), batch_size=None, num_workers=2)
    assert len(loader) == 6
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = list(loader)
    msgs = [str(w.message) for w in rec if w.category is UserWarning]
    assert len(msgs) == 6 and "reported to be 6(when accessing len(dataloader)), but 7 samples " \
                              "have been fetched. For multiprocessing data-loading" in msgs[0]
    assert out == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


# --------------------------------------------------------------------------- errors
@pytest.mark.timeout(60)
def test_worker_exception_reraised_with_traceback():
    loader = DataLoader(FailingDataset(bad=5), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0.0, 1.0]
    assert next(it).tolist() == [2.0, 3.0]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in msg
    assert "Original Traceback (most recent call last)" in msg
    assert "raise self.exc(f\"bad sample {i}\")" in msg and "bad sample 5" in msg
    # like PyTorch, the iterator goes on with the next batches
    assert next(it).tolist() == [6.0, 7.0]
    del it


@pytest.mark.timeout(60)
def test_worker_keyerror_and_unrebuildable_exception():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(FailingDataset(bad=0, exc=KeyError), batch_size=2, num_workers=2))

    class LocalError(Exception):  # not importable by reference: comes back as RuntimeError
        pass

    with pytest.raises(RuntimeError, match="LocalError") as info:
        list(DataLoader(FailingDataset(bad=1, exc=LocalError), batch_size=2, num_workers=1,
                        multiprocessing_context="fork"))
    assert "bad sample 1" in str(info.value)


def _failing_init(worker_id):
    raise OSError(f"init failed in {worker_id}")


@pytest.mark.timeout(60)
def test_worker_init_fn_exception():
    with pytest.raises(OSError, match="init failed in"):
        list(DataLoader(ArangeDataset(8), batch_size=2, num_workers=2, worker_init_fn=_failing_init))


@pytest.mark.timeout(60)
def test_killed_worker_raises_runtime_error():
    loader = DataLoader(SlowDataset(n=200, delay=0.01), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    pid = it._workers[1].pid
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid {pid}\) is killed by signal: Killed"):
        for _ in it:
            pass
    del it


@pytest.mark.timeout(60)
def test_timeout():
    loader = DataLoader(SlowDataset(n=4, delay=0.0, first_delay=1.0), batch_size=2, num_workers=1,
                        timeout=0.3)
    it = iter(loader)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(it)
    del it


@pytest.mark.timeout(60)
def test_keyboard_interrupt_while_waiting_shuts_down():
    loader = DataLoader(SlowDataset(n=8, delay=0.0, first_delay=1.5), batch_size=2, num_workers=2)
    it = iter(loader)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            next(it)
    finally:
        timer.cancel()
    assert all(not w.is_alive() for w in it._workers)
    with pytest.raises(StopIteration):
        next(it)


# --------------------------------------------------------------------------- lifetime / leaks
@pytest.mark.timeout(60)
def test_break_mid_epoch_then_delete():
    it = iter(DataLoader(ArangeDataset(80), batch_size=4, num_workers=2))
    workers = list(it._workers)
    for k, _ in enumerate(it):
        if k == 2:
            break
    del it
    assert all(not w.is_alive() for w in workers)


@pytest.mark.timeout(60)
def test_unexhausted_iterator_garbage_collected():
    loader = DataLoader(ArangeDataset(80), batch_size=4, num_workers=2)
    it = iter(loader)
    keep = next(it)  # a batch outliving its iterator stays valid
    cycle = [it]
    cycle.append(cycle)  # only the cycle collector can free the iterator
    del it, cycle
    gc.collect()
    assert keep[1].tolist() == [0, 1, 2, 3]
    assert float(keep[0][3, 0, 0]) == 3.0


@pytest.mark.timeout(60)
def test_exhaustion_stops_workers():
    it = iter(DataLoader(ArangeDataset(12), batch_size=4, num_workers=2))
    assert len(list(it)) == 3
    assert all(not w.is_alive() for w in it._workers)
    with pytest.raises(StopIteration):
        next(it)


@pytest.mark.timeout(90)
def test_persistent_workers_across_epochs():
    ds = ArangeDataset(30)
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    ref = _values(DataLoader(ds, batch_size=4))
    assert _values(loader) == ref
    pids = [w.pid for w in loader._iterator._workers]
    # an epoch broken off mid-way: its in-flight batches must not leak into the next one
    for k, _ in enumerate(loader):
        if k == 1:
            break
    assert _values(loader) == ref
    assert [w.pid for w in loader._iterator._workers] == pids
    assert all(w.is_alive() for w in loader._iterator._workers)
    # IterableDataset with persistent workers: every epoch starts the streams again
    it_loader = DataLoader(ShardedRange(0, 10), batch_size=3, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in it_loader for v in b[:, 0, 0].tolist()) == list(range(10))
    del loader, it_loader


@pytest.mark.timeout(120)
def test_spawn_context():
    ds = ArangeDataset(20)
    out = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, multiprocessing_context="spawn",
                     generator=ferrum.Generator().manual_seed(1))
    ref = DataLoader(ds, batch_size=4, shuffle=True, generator=ferrum.Generator().manual_seed(1))
    assert _values(out) == _values(ref)


@pytest.mark.timeout(60)
def test_multiprocessing_context_object_and_sequential_batch_sampler():
    ctx = multiprocessing.get_context("fork")
    bs = BatchSampler(SequentialSampler(range(10)), 3, False)
    out = DataLoader(ArangeDataset(10), batch_sampler=bs, num_workers=2, multiprocessing_context=ctx)
    assert [y.tolist() for _, y in out] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
