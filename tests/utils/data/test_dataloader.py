"""DataLoader in the main process (num_workers=0): argument validation, lengths, batching,
samplers and collation, against torch.utils.data.DataLoader. Worker processes are tested in
test_dataloader_workers.py."""

from __future__ import annotations

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
    TensorDataset,
    get_worker_info,
)
from ferrum.utils.data.dataloader import WorkerInfo

X = np.arange(60, dtype=np.float32).reshape(20, 3)
Y = np.arange(20, dtype=np.int64) % 7


def _ferrum_ds():
    return TensorDataset(ferrum.tensor(X), ferrum.tensor(Y))


def _torch_ds(torch):
    return torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y))


class _Stream:
    """An iterable dataset of n ints, with a length; built as ferrum or torch class."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class FStream(_Stream, IterableDataset):
    pass


def _tstream(torch):
    return type("TStream", (_Stream, torch.utils.data.IterableDataset), {})


def _np(batch):
    if isinstance(batch, (list, tuple)):
        return [_np(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _np(v) for k, v in batch.items()}
    return batch.numpy() if hasattr(batch, "numpy") else batch


def _assert_batches_equal(fb, tb):
    assert len(fb) == len(tb)
    for f, t in zip(fb, tb):
        f, t = _np(f), _np(t)
        assert type(f) is type(t)
        if isinstance(f, list):
            for a, b in zip(f, t):
                np.testing.assert_array_equal(a, b)
                assert np.asarray(a).dtype == np.asarray(b).dtype
        else:
            np.testing.assert_array_equal(f, t)


# --------------------------------------------------------------------------- validation
BAD_ARGS = [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(sampler=[1, 2], shuffle=True), dict(batch_sampler=[[1]], batch_size=2),
    dict(batch_sampler=[[1]], shuffle=True), dict(batch_sampler=[[1]], sampler=[1]),
    dict(batch_sampler=[[1]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="spawn"), dict(num_workers=1, multiprocessing_context="bogus"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0), dict(batch_size=-2),
]


@pytest.mark.parametrize("kwargs", BAD_ARGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_invalid_arguments_like_torch(torch, kwargs):
    with pytest.raises(Exception) as t_err:
        torch.utils.data.DataLoader(_torch_ds(torch), **kwargs)
    with pytest.raises(t_err.type) as f_err:
        DataLoader(_ferrum_ds(), **kwargs)
    assert str(f_err.value) == str(t_err.value)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])],
                         ids=["shuffle", "sampler", "batch_sampler"])
def test_iterable_dataset_rejects_sampling_options(torch, kwargs):
    with pytest.raises(ValueError) as t_err:
        torch.utils.data.DataLoader(_tstream(torch)(3), **kwargs)
    with pytest.raises(ValueError) as f_err:
        DataLoader(FStream(3), **kwargs)
    assert str(f_err.value).split(", but got")[0] == str(t_err.value).split(", but got")[0]
    DataLoader(FStream(3), shuffle=False)  # False is allowed


def test_attributes_frozen_after_init_and_defaults():
    dl = DataLoader(_ferrum_ds())
    for attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is "
                                             f"initialized"):
            setattr(dl, attr, None)
    dl.num_workers = 2  # allowed, as in PyTorch
    assert DataLoader(_ferrum_ds()).prefetch_factor is None
    dl2 = DataLoader(_ferrum_ds(), num_workers=2)
    assert dl2.prefetch_factor == 2 and dl2.in_order is True and dl2.multiprocessing_context is None
    ctx = DataLoader(_ferrum_ds(), num_workers=1, multiprocessing_context="spawn").multiprocessing_context
    assert ctx.get_start_method() == "spawn"
    assert isinstance(DataLoader(_ferrum_ds(), shuffle=True).sampler, ferrum.utils.data.RandomSampler)
    assert isinstance(dl.sampler, SequentialSampler) and isinstance(dl.batch_sampler, BatchSampler)
    assert DataLoader(_ferrum_ds(), batch_size=None).collate_fn is ferrum.utils.data.default_convert


def test_warnings_like_torch():
    with pytest.warns(UserWarning, match="This DataLoader will create 100000 worker processes in total"):
        DataLoader(_ferrum_ds(), num_workers=100000)  # no process starts before iteration
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator"):
        out = list(DataLoader(_ferrum_ds(), batch_size=8, pin_memory=True))
    assert len(out) == 3


# --------------------------------------------------------------------------- lengths
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (20, True),
                                                  (21, True), (None, False)])
def test_len_map_and_iterable_like_torch(torch, batch_size, drop_last):
    t = torch.utils.data.DataLoader(_torch_ds(torch), batch_size=batch_size, drop_last=drop_last)
    f = DataLoader(_ferrum_ds(), batch_size=batch_size, drop_last=drop_last)
    assert len(f) == len(t) == len(list(f))
    t = torch.utils.data.DataLoader(_tstream(torch)(10), batch_size=batch_size, drop_last=drop_last)
    f = DataLoader(FStream(10), batch_size=batch_size, drop_last=drop_last)
    assert len(f) == len(t)
    assert len(list(f)) == len(list(t))


def test_iterable_length_warning_like_torch(torch):
    f = DataLoader(FStream(5), batch_size=None)
    assert len(f) == 5
    f.dataset.n = 7  # the stream grew after len(): PyTorch warns once per extra sample
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = list(f)
    assert out == list(range(7))
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 2
    assert "was reported to be 5(when accessing len(dataloader)), but 6 samples have been fetched." in msgs[0]


# --------------------------------------------------------------------------- batches
@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=4), dict(batch_size=6, drop_last=True),
                                    dict(batch_size=6, drop_last=False), dict(sampler=[3, 1, 4, 1, 5]),
                                    dict(batch_sampler=[[0, 2], [19], [5, 6, 7]]),
                                    dict(batch_size=None), dict(batch_size=None, sampler=[2, 9])],
                         ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_batches_like_torch(torch, kwargs):
    fb = list(DataLoader(_ferrum_ds(), **kwargs))
    tb = list(torch.utils.data.DataLoader(_torch_ds(torch), **kwargs))
    _assert_batches_equal(fb, tb)


class PyDataset(Dataset):
    """Samples of plain Python / NumPy values (collated the same way by both libraries)."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return {"x": np.full((2, 2), i, dtype=np.float32), "i": i, "f": i / 2, "s": f"n{i}",
                "t": (np.int16(i), [i, -i])}


def test_collation_of_python_values_like_torch(torch):
    class TDS(torch.utils.data.Dataset):
        __len__ = PyDataset.__len__
        __getitem__ = PyDataset.__getitem__

    for kw in (dict(batch_size=4), dict(batch_size=None)):
        fb = list(DataLoader(PyDataset(), **kw))
        tb = list(torch.utils.data.DataLoader(TDS(), **kw))
        assert len(fb) == len(tb)
        for f, t in zip(fb, tb):
            assert set(f) == set(t)
            assert f["s"] == t["s"]
            for k in ("x", "i", "f"):
                a, b = _np(f[k]), _np(t[k])
                np.testing.assert_array_equal(a, b)
                assert np.asarray(a).dtype == np.asarray(b).dtype, k
            assert type(f["t"]) is type(t["t"])


def test_iterable_dataset_batches_like_torch(torch):
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        fb = [_np(b) for b in DataLoader(FStream(8), **kw)]
        tb = [_np(b) for b in torch.utils.data.DataLoader(_tstream(torch)(8), **kw)]
        assert len(fb) == len(tb)
        for a, b in zip(fb, tb):
            np.testing.assert_array_equal(a, b)


def test_getitems_is_used():
    class Batched(Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, idx):
            self.calls.append(list(idx))
            return [float(i) for i in idx]

    ds = Batched()
    out = [b.tolist() for b in DataLoader(ds, batch_size=2)]
    assert out == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert ds.calls == [[0, 1], [2, 3], [4]]


def test_shuffle_determinism_with_generator():
    def run(seed):
        g = ferrum.Generator().manual_seed(seed)
        return [b[1].tolist() for b in DataLoader(_ferrum_ds(), batch_size=5, shuffle=True, generator=g)]

    a = run(0)
    assert a == run(0) and a != run(1)
    assert sorted(v for b in a for v in b) == sorted(Y.tolist())
    # successive epochs of one loader differ (the generator advances)
    g = ferrum.Generator().manual_seed(0)
    dl = DataLoader(_ferrum_ds(), batch_size=5, shuffle=True, generator=g)
    e1 = [b[1].tolist() for b in dl]
    e2 = [b[1].tolist() for b in dl]
    assert e1 == a and e1 != e2


def test_iterator_protocol_and_worker_info_in_main():
    dl = DataLoader(_ferrum_ds(), batch_size=8)
    it = iter(dl)
    assert iter(it) is it and len(it) == 3
    assert get_worker_info() is None
    x, y = next(it)
    assert tuple(x.shape) == (8, 3) and x.dtype == ferrum.float32 and y.dtype == ferrum.int64
    assert len(list(it)) == 2
    with pytest.raises(StopIteration):
        next(it)
    import pickle
    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        pickle.dumps(iter(dl))


def test_worker_info_is_read_only():
    info = WorkerInfo(id=1, num_workers=2, seed=5, dataset=None)
    assert (info.id, info.num_workers, info.seed, info.dataset) == (1, 2, 5, None)
    assert repr(info) == "WorkerInfo(id=1, num_workers=2, seed=5, dataset=None)"
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
        info.id = 3


def test_dataset_exception_propagates_unwrapped():
    class Bad(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            raise IndexError("nope")

    with pytest.raises(IndexError, match="nope"):
        next(iter(DataLoader(Bad())))


# --------------------------------------------------------------------------- shm transport
@pytest.mark.skipif(not ferrum.utils.data._shm.ENABLED, reason="no POSIX shared memory")
def test_shm_encode_decode_round_trip_and_block_reuse():
    import collections
    import gc
    import os

    from ferrum.utils.data import _shm

    prefix = f"{_shm.PREFIX}{os.getpid():x}_unit_"
    pool, rec, freed = _shm.BlockPool(prefix, 1), _shm.Receiver(), collections.deque()
    rng = np.random.default_rng(0)
    arrays = {"f16": rng.standard_normal((40, 60)).astype(np.float16),
              "c64": (rng.standard_normal((30, 40)) + 1j).astype(np.complex64),
              "b": rng.random((70, 70)) > 0.5, "i8": rng.integers(-9, 9, (5000,)).astype(np.int8),
              "strided": np.arange(20000, dtype=np.float64).reshape(100, 200)[::2, ::3]}
    batch = {k: ferrum.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    batch["raw"] = np.arange(3000, dtype=np.int32)  # a bare NumPy array stays an array
    batch["small"] = ferrum.tensor([1.5, 2.5])  # under the threshold: pickled inline
    batch["same"] = (batch["i8"], batch["i8"])
    payload, name, size, used, table = _shm.encode(batch, pool)
    assert name is not None and len(table) == 6  # "same" is stored once
    out = rec.decode(payload, name, size, used, table, freed.append)
    for k, v in arrays.items():
        assert out[k].dtype == batch[k].dtype
        np.testing.assert_array_equal(out[k].numpy(), v)
    assert isinstance(out["raw"], np.ndarray) and out["raw"].tolist() == list(range(3000))
    assert out["small"].tolist() == [1.5, 2.5]
    assert out["same"][0] is out["same"][1]
    assert not any(n.startswith(prefix) for n in os.listdir("/dev/shm"))  # unlinked once mapped
    view = out["f16"][3:]
    del out
    gc.collect()
    assert not freed  # a view of one tensor keeps the whole block in use
    del view
    gc.collect()
    assert list(freed) == [name]
    pool.release([freed.popleft()])
    payload2, name2, *_ = _shm.encode(batch, pool)
    assert name2 == name  # the free block is reused
    pool.close()
    rec.close()
