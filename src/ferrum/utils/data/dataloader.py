"""``DataLoader``: batches of a dataset, loaded in the main process or in worker processes
(PyTorch's ``torch.utils.data.DataLoader`` API and semantics).

With ``num_workers > 0`` the loader starts real processes (``fork`` by default on Linux, so the
dataset is inherited copy-on-write and never pickled per batch; ``spawn`` and ``forkserver``
through ``multiprocessing_context``). Each worker gets index batches on its own queue, fetches and
collates them, and sends the batch back through shared memory (see ``_shm``): the main process
only maps the block and wraps the arrays as tensors, without copying them.

``state_dict()``/``load_state_dict()`` (not in PyTorch; for ``ferrum.train.checkpoint``) save where
an epoch is: the batches consumed, the workers' base seed, the generator and the sampler's seeding.
A loader restored in a new process yields the rest of an interrupted epoch, the same batches in the
same order, without loading the skipped ones (only their indices are drawn again).
"""

from __future__ import annotations

import atexit
import collections
import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import secrets
import signal
import sys
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait as _mp_wait
from typing import Any


from ... import random as _random
from . import _shm
from ._collate import default_collate, default_convert
from ._worker import (
    ExceptionWrapper,
    WorkerInfo,
    _DatasetKind,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo", "default_collate", "default_convert"]

# seconds shutdown waits for workers to exit by themselves before terminating them
_JOIN_TIMEOUT = 1.5
# seconds a worker that closed its pipe gets to be reaped before its exit status is read
_REAP_TIMEOUT = 1.0


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: ``None`` forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


def _default_context():
    # like PyTorch on Linux: fork, so workers inherit the dataset copy-on-write
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


class DataLoader:
    """Combines a dataset and a sampler and iterates over batches of the dataset.

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__``/``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` disables auto-batching (each sample is
            passed through ``collate_fn``, by default ``default_convert``).
        shuffle: reshuffle the indices every epoch (a ``RandomSampler``); map-style only.
        sampler: an iterable of indices (mutually exclusive with ``shuffle``).
        batch_sampler: an iterable of index lists (mutually exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: worker processes (0: load in the main process).
        collate_fn: merges a list of samples into a batch (``default_collate``).
        pin_memory: accepted for compatibility; a no-op (ferrum's CPU arrays are not page-locked,
            and GPU copies go through CuPy), with PyTorch's warning when no GPU is present.
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: forever); raises RuntimeError.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: ``'fork'``, ``'spawn'``, ``'forkserver'`` or a context object.
        generator: the ``ferrum.Generator`` of the ``RandomSampler`` and of the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers; None without).
        persistent_workers: keep the workers (and their shared-memory pools) between epochs.
        pin_memory_device: accepted for compatibility (no-op).
        in_order: yield batches in sampler order (True) or as soon as they are ready (False).

    Worker ``i`` seeds ferrum's global (CPU) generator and Python's ``random`` with ``base_seed + i``
    and NumPy's global RNG with a hash of ``(base_seed, i)``; ``base_seed`` is drawn from
    ``generator`` (or ferrum's default generator) when the iterator is created.
    """

    dataset: Any
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler | Iterable
    prefetch_factor: int | None
    _iterator: Any

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            elif sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            elif batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        # where the latest iterator's epoch is (kept apart from the iterator, which the consumer
        # may drop before a checkpoint is taken), and a loaded state the next iterator starts from
        self._epoch: _EpochRecord | None = None
        self._pending: dict | None = None
        self._initialized = True
        self.check_worker_number_rationality()

    # ------------------------------------------------------------------ configuration
    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid:
                        raise ValueError(f"multiprocessing_context option should specify a valid start "
                                         f"method in {valid!r}, but got "
                                         f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(f"multiprocessing_context option should be a valid context object "
                                    f"or a string specifying the start method, but got "
                                    f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val) -> None:
        if self.__dict__.get("_initialized") and attr in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is "
                             f"initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # what the iterator draws from: index batches with auto-collation, else single indices
        return self.batch_sampler if self._auto_collation else self.sampler

    def check_worker_number_rationality(self) -> None:
        """Warns when more workers are requested than CPUs this process may run on."""
        if self.num_workers <= 0:
            return
        cpus = _cpu_count()
        if cpus is not None and self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. Our "
                f"suggested max number of worker in current system is {cpus}, which is smaller "
                f"than what this DataLoader is going to create. Please be aware that excessive "
                f"worker creation might get DataLoader running slow or even freeze, lower the "
                f"worker number to avoid potential slowness/freeze if necessary.", stacklevel=2)

    # ------------------------------------------------------------------ iteration
    def _get_iterator(self) -> "_BaseDataLoaderIter":
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> "_BaseDataLoaderIter":
        """An iterator over the batches; with ``persistent_workers`` the same iterator (and its
        workers) is reset and reused every epoch."""
        if self.persistent_workers and self.num_workers > 0:
            if self._pending is not None and self._iterator is not None:
                # a loaded state: new workers, seeded as the saved ones were
                self._iterator._shutdown_workers()
                self._iterator = None
            if self._iterator is None or self._iterator._shutdown:  # none yet, or it failed
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            it = self._iterator
        else:
            it = self._get_iterator()
        self._epoch = it._rec
        return it

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Where this loader is, for a training checkpoint (not in PyTorch): ``in_epoch`` (an
        iterator was created and not exhausted), ``num_yielded`` (its batches consumed),
        ``base_seed`` (its workers' base seed: the current epoch's, or the persistent workers'),
        ``generator`` (the state of ``generator``, None without one), and ``sampler`` /
        ``batch_sampler``: their ``state_dict()`` where they have one (a ``RandomSampler`` saves how
        the current epoch's order was drawn). Take it between batches, from the process that
        iterates.

        The samples themselves are not saved: the resumed epoch is the same only if the dataset
        is, and randomness inside worker processes (random transforms) restarts from the worker
        seeds, so it matches an uninterrupted run only when the workers are fresh at that point
        (a new epoch without ``persistent_workers``)."""
        return self._state_dict()

    def _state_dict(self, end_epoch: bool = False) -> dict:
        # end_epoch: the consumer ended the epoch early (a Trainer stopped mid-epoch): save the
        # state between epochs, so a resumed run starts the next one as this process would
        if self._pending is not None:  # loaded and not iterated since: still that state
            if end_epoch and self._loaded["in_epoch"]:
                raise RuntimeError("DataLoader.state_dict: a loaded mid-epoch state was not iterated yet")
            return dict(self._loaded)
        rec = self._epoch
        in_epoch = rec is not None and not rec.finished and not end_epoch
        if in_epoch and self._dataset_kind == _DatasetKind.Iterable:
            raise RuntimeError("DataLoader.state_dict: the position inside an IterableDataset cannot be "
                               "saved; save between epochs or give the dataset its own state")
        it = self._iterator
        persistent = rec is not None and it is not None and it._rec is rec and not it._shutdown
        state: dict[str, Any] = {
            "in_epoch": in_epoch, "num_yielded": rec.num_yielded if in_epoch else 0,
            "base_seed": rec.base_seed if in_epoch or persistent else None,
            "generator": None if self.generator is None else self.generator.get_state()}
        for name in ("sampler", "batch_sampler"):
            obj = getattr(self, name)
            if isinstance(obj, RandomSampler):
                # the loader, not the sampler, knows whether the epoch is over (workers prefetch),
                # and whether this epoch's order was drawn yet (the sampler's iterator is lazy)
                started = rec is not None and obj._n_started != rec.sampler_mark
                state[name] = obj._state(in_epoch and started, finish=end_epoch and started)
            elif callable(getattr(obj, "state_dict", None)):
                state[name] = obj.state_dict()
            else:
                state[name] = None
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores a :meth:`state_dict`: the next ``iter(loader)`` continues the saved epoch (or
        starts the next one, seeded as the uninterrupted run would have)."""
        keys = {"in_epoch", "num_yielded", "base_seed", "generator", "sampler", "batch_sampler"}
        if not isinstance(state_dict, dict) or not keys <= state_dict.keys():
            raise ValueError(f"DataLoader.load_state_dict: expected a dict with the keys {sorted(keys)} "
                             f"(from DataLoader.state_dict())")
        n = state_dict["num_yielded"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"DataLoader.load_state_dict: num_yielded must be an integer >= 0, got {n!r}")
        if state_dict["generator"] is not None and self.generator is not None:
            self.generator.set_state(state_dict["generator"])
        for name in ("sampler", "batch_sampler"):
            sub = state_dict[name]
            if sub is not None:
                obj = getattr(self, name)
                if not callable(getattr(obj, "load_state_dict", None)):
                    raise ValueError(f"DataLoader.load_state_dict: the state has a {name} state but this "
                                     f"loader's {name} ({type(obj).__name__}) has no load_state_dict")
                obj.load_state_dict(sub)
        in_epoch, seed = bool(state_dict["in_epoch"]), state_dict["base_seed"]
        self._loaded = dict(state_dict)
        self._pending = None
        if in_epoch or seed is not None:
            self._pending = {"base_seed": None if seed is None else int(seed),
                             "num_yielded": n if in_epoch else 0}

    def __len__(self) -> int:
        """Batches per epoch: ``len(batch_sampler)`` (or ``len(sampler)`` without batching); for
        an IterableDataset, ``len(dataset)`` divided by the batch size (rounded as ``drop_last``
        says), which is only correct if the dataset shards itself across workers."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _EpochRecord:
    """One epoch of an iterator, for ``DataLoader.state_dict``: batches yielded, exhausted or not,
    the workers' base seed, and the sampler's iteration count when the epoch began."""

    __slots__ = ("num_yielded", "finished", "base_seed", "sampler_mark")

    def __init__(self, base_seed: int, sampler_mark: int | None) -> None:
        self.num_yielded = 0
        self.finished = False
        self.base_seed = base_seed
        self.sampler_mark = sampler_mark


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory:
            from ... import cuda
            if not cuda.is_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                              "device pinned memory won't be used.", stacklevel=3)
        self._pin_memory = False  # a no-op in ferrum (see DataLoader)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        sampler_mark = getattr(loader.sampler, "_n_started", None)
        pending, loader._pending = loader._pending, None
        if pending is not None and pending["base_seed"] is not None:
            self._base_seed = pending["base_seed"]  # a loaded state (DataLoader.load_state_dict)
        else:
            # drawn as PyTorch draws it (one int64 random_()) before the sampler's first draw
            self._base_seed = _random.int64_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0
        self._rec = _EpochRecord(self._base_seed, sampler_mark)
        skip = 0 if pending is None else pending["num_yielded"]
        if skip:
            # a resumed epoch: the consumed batches' indices are drawn again (the sampler's RNG
            # ends where it did) but their samples are never loaded
            deque(itertools.islice(self._sampler_iter, skip), maxlen=0)
            self._num_yielded = self._rec.num_yielded = skip

    def __iter__(self) -> "_BaseDataLoaderIter":
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        if not first_iter:  # the first iteration's sampler iterator is __init__'s (maybe resumed)
            self._sampler_iter = iter(self._index_sampler)
            self._num_yielded = 0
            self._rec = _EpochRecord(self._base_seed, getattr(loader.sampler, "_n_started", None))
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        try:
            data = self._next_data()
        except StopIteration:
            self._rec.finished = True
            raise
        self._rec.num_yielded = self._num_yielded = self._num_yielded + 1
        if (self._IterableDataset_len_called is not None and self._dataset_kind == _DatasetKind.Iterable
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset "
                        "for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


# live multi-process iterators, shut down at interpreter exit (persistent workers in particular)
_live_iterators: "weakref.WeakSet[_MultiProcessingDataLoaderIter]" = weakref.WeakSet()
_iterator_ids = itertools.count()
# The index queues of live iterators, kept reachable from here: when an iterator is freed as part
# of a reference cycle, the garbage collector runs the weakref finalizers of everything in the
# cycle before ``__del__``, and a queue's finalizer closes it, so the stop messages could no
# longer be sent and every worker would sit out the join timeout.
_live_queues: dict[int, list] = {}


@atexit.register
def _shutdown_live_iterators() -> None:
    for it in list(_live_iterators):
        try:
            it._shutdown_workers()
        except Exception:  # pragma: no cover - best effort at exit
            pass


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates with worker processes.

    Bookkeeping: task ``k`` (the k-th index batch) is sent to a worker chosen round-robin among
    the active ones with fewer than ``prefetch_factor`` tasks in flight; ``_task_worker`` maps the
    tasks sent but not yet received to their worker, ``_buffer`` holds the batches received but
    not yet yielded (the reorder buffer for ``in_order``). One new task is sent per batch yielded,
    so at most ``prefetch_factor * num_workers`` batches exist at once. A worker whose copy of an
    IterableDataset is exhausted becomes inactive; the tasks it will never answer are dropped.
    """

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._owner_pid = os.getpid()
        self._shutdown = False
        self._workers: list = []
        self._index_queues: list = []
        self._readers: list = []
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._worker_init_fn = loader.worker_init_fn
        n = self._num_workers
        # blocks of worker i are named <prefix><i>_<k>; the prefix is unique to this iterator
        self._shm_prefix = f"{_shm.PREFIX}{os.getpid():x}_{next(_iterator_ids):x}{secrets.token_hex(2)}_"
        self._receiver = _shm.Receiver()
        # names of blocks whose batches are no longer referenced, per worker; appended to by
        # finalizers (so by whichever code triggers a collection), drained when sending indices
        self._freed = [collections.deque() for _ in range(n)]
        ctx = loader.multiprocessing_context or _default_context()
        _live_iterators.add(self)
        _live_queues[id(self)] = self._index_queues
        try:
            for i in range(n):
                q = ctx.Queue()
                reader, writer = ctx.Pipe(duplex=False)
                w = ctx.Process(
                    target=_worker_loop,
                    args=(self._dataset_kind, self._dataset, q, writer, self._auto_collation,
                          self._collate_fn, self._drop_last, self._base_seed, self._worker_init_fn, i,
                          n, self._persistent_workers, self._shm_prefix,
                          self._prefetch_factor + 2),
                    daemon=True)
                w.start()
                # close our copy of the write end at once, so later forks do not inherit it
                writer.close()
                self._index_queues.append(q)
                self._readers.append(reader)
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reader_worker = {r: i for i, r in enumerate(self._readers)}
        self._sentinel_worker = {w.sentinel: i for i, w in enumerate(self._workers)}
        self._reset(loader, first_iter=True)

    # ------------------------------------------------------------------ epoch state
    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_worker: dict[int, int] = {}
        self._buffer: dict[int, Any] = {}
        self._outstanding = [0] * n
        self._rr = 0
        if not first_iter:
            # persistent workers: a new epoch. Results still in flight from the previous one
            # arrive before each worker's acknowledgement and are thrown away.
            self._active = [True] * n
            self._update_wait_list()
            for q in self._index_queues:
                q.put(_ResumeIteration())
            waiting = set(range(n))
            while waiting:
                msg = self._get_message()
                tag = msg[0]
                if tag == "r":
                    waiting.discard(msg[1])
                elif tag == "d":
                    _, _, w, _, name, size, _, _, dropped = msg
                    self._receiver.drop(dropped)
                    if name is not None:
                        self._receiver.discard(name, size)
                        self._freed[w].append(name)
        self._active = [True] * n
        self._update_wait_list()
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def _update_wait_list(self) -> None:
        active = [i for i in range(self._num_workers) if self._active[i]]
        self._wait_objs = ([self._readers[i] for i in active]
                           + [self._workers[i].sentinel for i in active])

    def _try_put_index(self) -> None:
        n = self._num_workers
        active, outstanding, pf = self._active, self._outstanding, self._prefetch_factor
        w = self._rr
        for _ in range(n):
            if active[w] and outstanding[w] < pf:
                break
            w = (w + 1) % n
        else:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        freed = self._freed[w]
        names = []
        while freed:
            names.append(freed.popleft())
        self._index_queues[w].put((self._send_idx, index, names))
        self._task_worker[self._send_idx] = w
        outstanding[w] += 1
        self._send_idx += 1
        self._rr = (w + 1) % n

    # ------------------------------------------------------------------ receiving
    def _get_message(self):
        """The next message from any active worker; raises RuntimeError on timeout or when a
        worker died."""
        timeout = self._timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = _mp_wait(self._wait_objs, wait_for)
            if not ready:
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
                continue
            dead = None
            for obj in ready:
                w = self._reader_worker.get(obj)
                if w is not None:
                    try:
                        return obj.recv()
                    except (EOFError, OSError):
                        self._worker_failed(w)
                else:
                    dead = self._sentinel_worker[obj]
            if dead is not None:
                reader = self._readers[dead]
                # the worker exited: deliver what it wrote before, then report it
                if reader.poll():
                    try:
                        return reader.recv()
                    except (EOFError, OSError):
                        pass
                self._worker_failed(dead)

    def _worker_failed(self, w: int):
        proc = self._workers[w]
        proc.join(_REAP_TIMEOUT)
        code = proc.exitcode
        pid = proc.pid
        self._shutdown_workers()
        if code is not None and code < 0:
            try:
                name = signal.strsignal(-code) or f"signal {-code}"
            except ValueError:
                name = f"signal {-code}"
            raise RuntimeError(f"DataLoader worker (pid {pid}) is killed by signal: {name}.")
        raise RuntimeError(f"DataLoader worker (pid(s) {pid}) exited unexpectedly"
                           + (f" with exit code {code}" if code is not None else ""))

    def _handle(self, msg) -> None:
        tag = msg[0]
        if tag == "d":
            _, idx, w, payload, name, size, used, table, dropped = msg
            if dropped:
                self._receiver.drop(dropped)
            try:
                data = self._receiver.decode(payload, name, size, used, table, self._freed[w].append)
            except Exception:  # e.g. a class the main process cannot unpickle: raised in order
                data = ExceptionWrapper(where=f"in the main process, rebuilding a batch of "
                                              f"DataLoader worker process {w}")
        elif tag == "e":
            _, idx, w, data = msg
        elif tag == "s":
            self._worker_exhausted(msg[2])
            return
        else:  # a stray resume acknowledgement
            return
        if self._task_worker.pop(idx, None) is None:
            return  # not ours (cannot happen; defensive)
        self._outstanding[w] -= 1
        self._buffer[idx] = data

    def _worker_exhausted(self, w: int) -> None:
        """Worker ``w``'s IterableDataset copy is exhausted: it answers no more tasks."""
        self._active[w] = False
        lost = [k for k, ww in self._task_worker.items() if ww == w]
        for k in lost:
            del self._task_worker[k]
        self._outstanding[w] = 0
        if not self._persistent_workers:
            self._index_queues[w].put(None)
        self._update_wait_list()
        for _ in lost:
            self._try_put_index()

    # ------------------------------------------------------------------ iteration
    def _next_data(self):
        try:
            buffer, tasks = self._buffer, self._task_worker
            while True:
                if self._shutdown:
                    raise StopIteration
                if self._in_order:
                    r = self._rcvd_idx
                    while r < self._send_idx and r not in buffer and r not in tasks:
                        r += 1  # a task its (exhausted) worker never answers
                    self._rcvd_idx = r
                    if r in buffer:
                        data = buffer.pop(r)
                        self._rcvd_idx = r + 1
                        self._try_put_index()
                        return self._process(data)
                    if r >= self._send_idx:
                        break
                else:
                    if buffer:
                        data = buffer.pop(next(iter(buffer)))
                        self._try_put_index()
                        return self._process(data)
                    if not tasks:
                        break
                self._handle(self._get_message())
        except KeyboardInterrupt:
            self._shutdown_workers()
            raise
        if not self._persistent_workers:
            self._shutdown_workers()
        raise StopIteration

    @staticmethod
    def _process(data):
        if data.__class__ is ExceptionWrapper:
            data.reraise()
        return data

    # ------------------------------------------------------------------ shutdown
    def _shutdown_workers(self) -> None:
        """Stops the workers (stop message, join, then terminate/kill stragglers), closes the
        queues and pipes, unmaps unreferenced blocks and unlinks every segment of this iterator.
        Idempotent; called at exhaustion, on errors, from ``__del__`` and at interpreter exit."""
        if self.__dict__.get("_shutdown", True):
            return
        if os.getpid() != self._owner_pid:
            # a forked child (a worker of another loader) collecting its copy of this object:
            # the workers, queues and segments belong to the parent
            self._shutdown = True
            return
        self._shutdown = True
        try:
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:
                    pass
            # closing our read ends makes a worker blocked on sending a batch fail and exit
            for r in self._readers:
                try:
                    r.close()
                except OSError:
                    pass
            deadline = time.monotonic() + _JOIN_TIMEOUT
            for w in self._workers:
                w.join(max(0.0, deadline - time.monotonic()))
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(_JOIN_TIMEOUT)
                if w.is_alive():  # pragma: no cover - ignores SIGTERM
                    w.kill()
                    w.join()
            for q in self._index_queues:
                try:
                    q.cancel_join_thread()
                    q.close()
                except Exception:
                    pass
        finally:
            self._receiver.close()
            _shm.sweep(self._shm_prefix)
            _live_iterators.discard(self)
            _live_queues.pop(id(self), None)

    def __del__(self) -> None:
        try:
            self._shutdown_workers()
        except Exception:  # pragma: no cover - during interpreter shutdown
            pass

