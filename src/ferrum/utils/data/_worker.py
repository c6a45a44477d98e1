"""What runs inside a DataLoader worker process: the fetchers, the worker loop, its seeding,
``get_worker_info()``, and the wrapper that carries a worker's exception back to the main process.

Messages (all small; batches' large arrays travel through shared memory, see ``_shm``):

- main -> worker, on the worker's index queue: ``(task_idx, index, freed_block_names)``, a
  ``_ResumeIteration`` (persistent workers, new epoch) or ``None`` (stop);
- worker -> main, on the worker's pipe: ``("d", task_idx, worker_id, pickle, block, size, used,
  table, dropped)`` a batch, ``("e", task_idx, worker_id, ExceptionWrapper)`` an error,
  ``("s", task_idx, worker_id)`` the worker's IterableDataset copy is exhausted,
  ``("r", worker_id)`` a resume acknowledgement.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import random
import signal
import sys
import traceback
from typing import Any

import numpy as np

from . import _shm

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper"]

# seconds a worker waits for an index before checking that the main process is still alive
_POLL_INTERVAL = 1.0


class WorkerInfo:
    """Information about the current DataLoader worker process (``get_worker_info()``).

    Attributes (read-only):
        id: this worker's index, ``0 <= id < num_workers``.
        num_workers: the number of workers of the loader.
        seed: the seed of this worker's ferrum and Python RNGs (``base_seed + id``).
        dataset: this process's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_keys", tuple(kwargs))

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._keys)
        return f"{self.__class__.__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its ``WorkerInfo`` (``id``, ``num_workers``, ``seed``,
    ``dataset``); ``None`` in the main process. An ``IterableDataset.__iter__`` uses it to split
    the stream between workers; a ``worker_init_fn`` to configure each worker's dataset copy."""
    return _worker_info


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _MapDatasetFetcher:
    """Fetches ``dataset[i]`` for each index of a batch (or ``__getitems__(batch)``), collates."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        ds = self.dataset
        if self.auto_collation:
            getitems = getattr(ds, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                data = list(map(ds.__getitem__, possibly_batched_index))
        else:
            data = ds[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Pulls ``len(batch)`` samples from ``iter(dataset)`` (one without auto-collation) and
    collates them; raises StopIteration once the stream is exhausted (or, with ``drop_last``,
    when the last batch would be short)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            it = self.dataset_iter
            for _ in possibly_batched_index:
                try:
                    data.append(next(it))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _KeyErrorMessage(str):
    """KeyError quotes its message through repr(); this keeps the traceback text readable."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception caught in a worker, with its formatted traceback, to re-raise elsewhere."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raises the exception again, of its original type where that can be rebuilt from a
        message, with the worker's traceback in the message (else a RuntimeError)."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception

    def _portable(self) -> "ExceptionWrapper":
        """Itself if it pickles; otherwise a RuntimeError wrapper with the same text (the
        exception class may be local to a function and not importable in the main process)."""
        try:
            pickle.dumps(self.exc_type)
            return self
        except Exception:
            w = object.__new__(ExceptionWrapper)
            w.exc_type = RuntimeError
            w.exc_msg = self.exc_msg
            w.where = f"({self.exc_type.__name__}) {self.where}"
            return w


class _ResumeIteration:
    """Tells a persistent worker that a new epoch begins (fresh fetcher, acknowledge)."""


def numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """NumPy's legacy global seed of a worker: four 32-bit words hashed (SeedSequence) from the
    base seed and the worker id, so workers never share NumPy's state (PyTorch issue 5059)."""
    return np.random.SeedSequence([base_seed, worker_id]).generate_state(4, np.uint32)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    seed = base_seed + worker_id
    random.seed(seed)
    from ... import random as _random
    # the CPU generator only (what ferrum.manual_seed seeds on a machine without a GPU): seeding
    # CuPy's generators would initialise CUDA, which a forked child of a CUDA process cannot do
    _random.default_generator.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


def _worker_loop(dataset_kind, dataset, index_queue, conn, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, persistent_workers, shm_prefix,
                 max_free_blocks) -> None:
    """The body of a worker process; see the module docstring for the messages."""
    global _worker_info
    # Ctrl-C reaches the whole process group: the main process shuts the workers down
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # pragma: no cover - not the main thread (cannot happen in a child)
        pass
    seed = _seed_worker(base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"

    init_error = None
    fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn,
                                              drop_last)
    except Exception:
        init_error = ExceptionWrapper(where=where)._portable()

    pool = _shm.BlockPool(f"{shm_prefix}{worker_id}_", max_free_blocks) if _shm.ENABLED else None
    parent = multiprocessing.parent_process()
    iteration_end = False
    try:
        while True:
            try:
                r = index_queue.get(timeout=_POLL_INTERVAL)
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    break  # the main process is gone: nobody will ever read our batches
                continue
            if r is None:
                break
            if r.__class__ is _ResumeIteration:
                conn.send(("r", worker_id))
                iteration_end = False
                if init_error is None:
                    try:
                        fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                              collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)._portable()
                continue
            idx, index, freed = r
            if freed and pool is not None:
                pool.release(freed)
            if init_error is not None:
                msg = ("e", idx, worker_id, init_error)
            elif iteration_end:
                continue  # exhausted copy of an IterableDataset: the main process skips these
            else:
                try:
                    batch = fetcher.fetch(index)
                    payload, name, size, used, table = _shm.encode(batch, pool)
                    del batch
                    dropped = pool.take_dropped() if pool is not None else ()
                    msg = ("d", idx, worker_id, payload, name, size, used, table, dropped)
                except StopIteration:
                    if dataset_kind == _DatasetKind.Iterable:
                        iteration_end = True
                        msg = ("s", idx, worker_id)
                    else:
                        msg = ("e", idx, worker_id, ExceptionWrapper(where=where)._portable())
                except Exception:
                    msg = ("e", idx, worker_id, ExceptionWrapper(where=where)._portable())
            conn.send(msg)
            del msg
    except (BrokenPipeError, ConnectionResetError, EOFError, KeyboardInterrupt):
        pass  # the main process closed our pipe (shutdown) or went away
    finally:
        if pool is not None:
            pool.close()
        try:
            conn.close()
        except OSError:
            pass
