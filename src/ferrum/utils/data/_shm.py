"""Shared-memory transport of DataLoader batches from worker processes to the main process.

A worker pickles its batch with a pickler whose ``persistent_id`` takes every large array
(a ferrum Tensor's NumPy array, or a bare ``numpy.ndarray``, of at least ``THRESHOLD`` bytes) out
of the pickle and copies it into one block of POSIX shared memory; the queue then carries only
the small pickle and a table of ``(offset, shape, dtype, is_tensor)`` descriptors. The main
process maps the block (once: mappings are cached per block), builds NumPy views into it, and
unpickles with a ``persistent_load`` that puts those views (wrapped as tensors) back in place.
Nested structures (tuples, lists, dicts, namedtuples, custom objects) round-trip because pickle
walks them; small arrays, numbers and strings travel inside the pickle.

Block lifetime (zero copy, correctness first):

- each worker keeps a pool of reusable blocks (``BlockPool``): creating a segment and faulting
  its pages in costs more than the copy itself, so blocks are recycled;
- all arrays of one batch are views of one ``region`` array over the block; numpy's base
  collapsing stops at ``region`` (its base is not an ndarray), so ``region`` lives exactly as
  long as any view of any tensor of that batch. A ``weakref.finalize`` on ``region`` queues the
  block's name to be handed back to the worker (piggybacked on the next index message), so a
  block is reused only once nothing in the main process can see it;
- the main process unlinks a segment's name as soon as it has mapped it, so ``/dev/shm`` holds a
  name only between its creation in a worker and its first mapping; a worker unlinks its own
  names when it exits, and the main process sweeps its prefix after joining the workers (which
  covers workers killed by a signal).

The segments are created with ``_posixshmem`` (what ``multiprocessing.shared_memory.SharedMemory``
uses underneath) rather than through ``SharedMemory`` itself: before Python 3.13 ``SharedMemory``
registers every segment it creates *or opens* with the resource tracker, which then unlinks
segments it does not own and warns about "leaked" ones at exit; the ownership rules above are
explicit instead.
"""

from __future__ import annotations

import io
import itertools
import mmap
import os
import pickle
import sys
import weakref

import numpy as np

from ..._tensor import Tensor, _wrap

try:  # POSIX; Windows has no named shared memory with unlink semantics
    import _posixshmem
except ImportError:  # pragma: no cover - non-POSIX
    _posixshmem = None

__all__ = ["ENABLED", "PREFIX", "THRESHOLD", "BlockPool", "Receiver", "encode", "sweep"]

#: whether batches travel through shared memory (else everything is pickled through the pipe)
ENABLED = _posixshmem is not None
#: every segment a DataLoader creates starts with this
PREFIX = "ferrum_dl_"
#: arrays smaller than this many bytes are pickled inline (a segment slot costs more than that)
THRESHOLD = 4096
_ALIGN = 64
_PAGE = mmap.PAGESIZE
_SHM_DIR = "/dev/shm"
_HIGHEST = pickle.HIGHEST_PROTOCOL


def _open(name: str, create: bool, size: int) -> mmap.mmap:
    """Maps the segment ``name`` (created with ``size`` bytes when ``create``)."""
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = _posixshmem.shm_open("/" + name, flags, mode=0o600)
    try:
        if create:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def unlink(name: str) -> None:
    """Removes the name of a segment (its memory lives on while mapped); missing names are fine."""
    try:
        _posixshmem.shm_unlink("/" + name)
    except (FileNotFoundError, OSError):
        pass


def sweep(prefix: str) -> None:
    """Unlinks every segment whose name starts with ``prefix`` (Linux: those left by workers that
    died between creating a segment and the main process mapping it)."""
    if not ENABLED or not sys.platform.startswith("linux"):
        return
    try:
        names = os.listdir(_SHM_DIR)
    except OSError:
        return
    for n in names:
        if n.startswith(prefix):
            unlink(n)


# --------------------------------------------------------------------------- worker side
class _Block:
    __slots__ = ("name", "size", "mm")

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.mm = _open(name, True, size)


class BlockPool:
    """A worker's shared-memory blocks: ``acquire`` a free block of at least n bytes (creating one
    if needed), ``release`` names the main process handed back. At most ``max_free`` free blocks
    are kept; surplus ones are unmapped and reported through ``take_dropped`` so that the main
    process unmaps them too."""

    def __init__(self, prefix: str, max_free: int) -> None:
        self.prefix = prefix
        self.max_free = max(1, max_free)
        self._ids = itertools.count()
        self.blocks: dict[str, _Block] = {}
        self.free: list[_Block] = []
        self.dropped: list[str] = []

    def acquire(self, nbytes: int) -> _Block:
        best = None
        for b in self.free:
            if b.size >= nbytes and (best is None or b.size < best.size):
                best = b
        if best is not None:
            self.free.remove(best)
            return best
        if self.free:  # the free blocks are all too small: replace the smallest one
            self._drop(min(self.free, key=lambda b: b.size))
        size = -(-nbytes // _PAGE) * _PAGE
        b = _Block(f"{self.prefix}{next(self._ids):x}", size)
        self.blocks[b.name] = b
        return b

    def release(self, names) -> None:
        blocks = self.blocks
        for n in names:
            b = blocks.get(n)
            if b is not None:
                self.free.append(b)
        while len(self.free) > self.max_free:
            self._drop(min(self.free, key=lambda b: b.size))

    def _drop(self, b: _Block) -> None:
        self.free.remove(b)
        del self.blocks[b.name]
        b.mm.close()
        self.dropped.append(b.name)

    def take_dropped(self) -> tuple:
        if not self.dropped:
            return ()
        d = tuple(self.dropped)
        self.dropped.clear()
        return d

    def close(self) -> None:
        """Unmaps every block and unlinks the names the main process may not have mapped yet."""
        for b in self.blocks.values():
            unlink(b.name)
            try:
                b.mm.close()
            except BufferError:  # pragma: no cover - a view is still alive; unmapped at exit
                pass
        self.blocks.clear()
        self.free.clear()


class _Pickler(pickle.Pickler):
    """Pickles a batch, collecting its large arrays instead of serialising them."""

    def __init__(self, file, threshold: int) -> None:
        super().__init__(file, _HIGHEST)
        self.threshold = threshold
        self.arrays: list = []
        self._seen: dict = {}

    def persistent_id(self, obj):
        cls = obj.__class__
        if cls is Tensor:
            a = obj._data
            if (a.__class__ is not np.ndarray or a.nbytes < self.threshold or obj.requires_grad
                    or a.dtype.hasobject):
                return None
            is_tensor = True
        elif cls is np.ndarray:
            a = obj
            if a.nbytes < self.threshold or a.dtype.hasobject:
                return None
            is_tensor = False
        else:
            return None
        k = self._seen.get(id(obj))
        if k is None:  # the same object twice in a batch comes back as one object
            k = self._seen[id(obj)] = len(self.arrays)
            self.arrays.append((a, is_tensor, obj))  # obj: keeps id(obj) unique while pickling
        return k


def encode(batch, pool: BlockPool | None, threshold: int = THRESHOLD) -> tuple:
    """Serialises ``batch``: ``(pickle_bytes, block_name, block_size, used_bytes, table)``; the
    large arrays are copied into a block from ``pool`` (``block_name`` is None when there are
    none, or when ``pool`` is None, in which case they are pickled inline)."""
    buf = io.BytesIO()
    if pool is None:
        pickle.Pickler(buf, _HIGHEST).dump(batch)
        return buf.getvalue(), None, 0, 0, ()
    p = _Pickler(buf, threshold)
    p.dump(batch)
    arrays = p.arrays
    if not arrays:
        return buf.getvalue(), None, 0, 0, ()
    offsets = []
    total = 0
    for a, _, _ in arrays:
        offsets.append(total)
        total += -(-a.nbytes // _ALIGN) * _ALIGN
    blk = pool.acquire(total)
    mm = blk.mm
    table = []
    for (a, is_tensor, _), off in zip(arrays, offsets):
        dst = np.ndarray(a.shape, a.dtype, buffer=mm, offset=off)
        np.copyto(dst, a, casting="no")
        table.append((off, a.shape, a.dtype, is_tensor))
    del dst
    return buf.getvalue(), blk.name, blk.size, total, tuple(table)


# --------------------------------------------------------------------------- main side
class _Unpickler(pickle.Unpickler):
    def __init__(self, file, objects) -> None:
        super().__init__(file)
        self.objects = objects

    def persistent_load(self, pid):
        return self.objects[pid]


def _region_views(region: np.ndarray, table) -> list:
    out = []
    for off, shape, dtype, is_tensor in table:
        n = dtype.itemsize
        for s in shape:
            n *= s
        a = region[off:off + n].view(dtype).reshape(shape)
        out.append(_wrap(a) if is_tensor else a)
    return out


class Receiver:
    """The main process's side: maps worker blocks (cached by name) and rebuilds batches."""

    def __init__(self) -> None:
        self.maps: dict[str, mmap.mmap] = {}

    def _map(self, name: str, size: int) -> mmap.mmap:
        mm = self.maps.get(name)
        if mm is None:
            try:
                mm = _open(name, False, size)
            except FileNotFoundError:
                raise RuntimeError(f"DataLoader: the shared-memory block {name!r} of a worker "
                                   f"disappeared before the batch was received") from None
            unlink(name)  # mapped: the name is no longer needed
            self.maps[name] = mm
        return mm

    def decode(self, payload: bytes, name, size: int, used: int, table, on_free) -> object:
        """Rebuilds a batch; ``on_free(name)`` runs once no view of its block remains."""
        if name is None:
            return pickle.loads(payload)
        mm = self._map(name, size)
        region = np.frombuffer(mm, np.uint8, used, 0)
        weakref.finalize(region, on_free, name)
        objects = _region_views(region, table)
        del region
        return _Unpickler(io.BytesIO(payload), objects).load()

    def discard(self, name, size: int) -> None:
        """Maps (and so unlinks) a block whose batch is thrown away."""
        if name is not None:
            self._map(name, size)

    def drop(self, names) -> None:
        """Unmaps blocks a worker has dropped from its pool."""
        for n in names:
            mm = self.maps.pop(n, None)
            if mm is not None:
                try:
                    mm.close()
                except BufferError:  # pragma: no cover - still viewed; unmapped when collected
                    pass

    def close(self) -> None:
        """Unmaps every block no tensor still views (the others go when their tensors do)."""
        self.drop(list(self.maps))
