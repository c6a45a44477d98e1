"""The MPI engine under ``ferrum.distributed``: process groups, the communication thread, work
objects and the size/dtype handshake that every collective starts with.

Why a communication thread. ``async_op=True`` must let a collective run while the caller computes
(DistributedDataParallel overlaps gradient allreduces with backward), and MPICH moves data only
inside MPI calls. So every operation, synchronous or not, is queued to one thread per process that
makes all MPI calls; a synchronous collective is an asynchronous one followed by ``wait()``. One FIFO
thread also guarantees that collectives reach MPI in the order the program issued them, on every
rank, which MPI requires. mpi4py releases the GIL inside MPI calls, so the caller's NumPy work and
the transfers really overlap.

Why a handshake. A collective whose buffers differ across ranks (a shape or dtype mismatch) hangs or
overruns memory in MPI. Each collective therefore first allgathers a 16-int64 descriptor (op, reduce
op, root, dtype, numel, shape) with a non-blocking ``Iallgather`` that the thread polls
(Engine.wait_requests: Test, then Test with ``os.sched_yield()``, then short growing sleeps): a
mismatch raises the same error on every rank, a rank that never arrives hits the group's
``timeout``, and ranks waiting for a straggler sleep instead of spinning a core (MPICH's blocking
calls busy-poll, which on an oversubscribed machine starves the straggler itself; a rank waiting
4 s for a late one uses ~5% of a core here). Once every descriptor agrees, all ranks are known to be
present and the payload moves with MPI's non-blocking collective, polled without sleeping: as fast
as MPI's blocking call (4 MB float32 allreduce on 2 ranks: 0.8-1.2 ms polled vs 1.3-4 ms blocking,
100 MB: 62-75 ms vs 75-87 ms, best of 5, noisy 2-core machine), and it still honours the timeout
if a rank stops participating mid-collective. The handshake costs one small allgather per
collective (a ferrum barrier is the handshake alone: ~23 us on 2 ranks, a 1-element allreduce ~45
us; benchmarks/allreduce_bandwidth.py measures both against torch gloo).

After a timeout the group's communicator has a handshake in flight that can never finish, so the
group is marked broken and every later operation on it raises at once (torch's process groups are
also unusable after a timeout).
"""

from __future__ import annotations

import atexit
import datetime
import enum
import os
import queue
import threading
import time
from typing import Generic, TypeVar
from collections.abc import Callable

import numpy as np

__all__ = ["Backend", "ReduceOp", "RedOpType", "ProcessGroup", "Work", "Future", "DistError",
           "DistBackendError", "mpi", "engine", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for CPU process groups


class DistError(RuntimeError):
    """Base of the errors raised by ferrum.distributed (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """An error from the communication backend: a timeout, a broken group (torch's name)."""


DistError.__module__ = DistBackendError.__module__ = "ferrum.distributed"


class Backend(str):
    """A backend name, case-insensitive: ``Backend("GLOO") == "gloo"`` (torch.distributed.Backend)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    backend_list = [UNDEFINED, GLOO, NCCL, MPI]

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """The reduction of all_reduce/reduce/reduce_scatter: ``ReduceOp.SUM``, ... (torch's members).

    AVG is SUM divided by the group size; on integer tensors the quotient is truncated toward zero
    (C division, what NCCL does)."""

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    RedOpType = RedOpType


# ---------------------------------------------------------------------------------------------- MPI
_MPI = None


def mpi():
    """mpi4py's MPI module, imported (and MPI initialised) on first use, not at ``import ferrum``."""
    global _MPI
    if _MPI is None:
        try:
            import mpi4py
        except ImportError as e:
            raise RuntimeError("ferrum.distributed needs mpi4py and an MPI library: "
                               "pip install 'ferrum-dl[dist]' (mpi4py and the mpich wheel)") from e
        mpi4py.rc.thread_level = "multiple"  # the caller may call Abort while the comm thread is in MPI
        from mpi4py import MPI
        _MPI = MPI
    return _MPI


_T = TypeVar("_T")

# ------------------------------------------------------------------------------------ futures, work
class Future(Generic[_T]):
    """torch.futures.Future's surface for comm hooks: ``wait``, ``value``, ``done``, ``then``,
    ``set_result``, ``set_exception``, ``add_done_callback``. Generic, so annotations such as
    ``-> Future[Tensor]`` in torch's hook examples evaluate."""

    def __init__(self):
        self._event = threading.Event()
        self._value = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable] = []
        self._lock = threading.Lock()

    def done(self) -> bool:
        return self._event.is_set()

    def wait(self):
        self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value

    def value(self):
        if not self.done():
            raise RuntimeError("Future.value(): the future is not completed yet")
        return self.wait()

    def set_result(self, result) -> None:
        self._finish(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._finish(None, error)

    def _finish(self, value, error) -> None:
        with self._lock:
            if self._event.is_set():
                raise RuntimeError("Future: result already set")
            self._value, self._error = value, error
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def add_done_callback(self, callback: Callable) -> None:
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable) -> Future:
        """A new Future holding ``callback(self)`` once this one completes (an error propagates)."""
        out = Future()

        def run(fut):
            try:
                out.set_result(callback(fut))
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits on ``out``
                out.set_exception(e)
        self.add_done_callback(run)
        return out


class Work:
    """The handle of an operation started with ``async_op=True`` (torch.distributed.Work).

    ``wait(timeout)`` blocks until the operation finished and re-raises its error; ``is_completed``
    polls; ``result()`` is the list of output tensors; ``get_future()`` a Future of that list."""

    def __init__(self, name: str, outputs: list | None = None):
        self._name = name
        self._outputs = outputs if outputs is not None else []
        self._future = Future()
        self._source_rank = -1

    def is_completed(self) -> bool:
        return self._future.done()

    def is_success(self) -> bool:
        return self._future.done() and self._future._error is None

    def exception(self):
        return self._future._error

    def wait(self, timeout: datetime.timedelta | float | None = None) -> bool:
        secs = _seconds(timeout)
        if not self._future._event.wait(secs):
            raise DistBackendError(f"{self._name}: Work.wait timed out after {secs} s")
        if self._future._error is not None:
            raise self._future._error
        return True

    def result(self) -> list:
        self.wait()
        return self._outputs

    def get_future(self) -> Future:
        return self._future

    def source_rank(self) -> int:
        """The sender of a completed ``irecv`` from any source (torch's Work.source_rank)."""
        return self._source_rank

    synchronize = wait


def _seconds(timeout) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


# ------------------------------------------------------------------------------------ process group
class ProcessGroup:
    """A group of ranks with its own MPI communicator (torch.distributed.ProcessGroup).

    ``rank()``/``size()`` are this process's rank in the group and the group's size; ``ranks`` the
    global ranks of its members, in group-rank order. A process outside the group holds no
    ProcessGroup (new_group returns ``GroupMember.NON_GROUP_MEMBER`` there, as in torch)."""

    def __init__(self, comm, ranks: list[int], backend: str, timeout: datetime.timedelta, name: str):
        self._comm = comm
        self.ranks = list(ranks)
        self._backend = Backend(backend)
        self._timeout = timeout
        self._name = name
        self._broken: str | None = None
        self._seq = 0

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return self._backend

    @property
    def group_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self._backend!r}, ranks={self.ranks})"


# ----------------------------------------------------------------------------------- the comm thread
_SPIN = 200           # Test calls before the first sleep: small messages finish inside the spin
# seconds of Test + sched_yield before a waiting rank starts to sleep for real: ranks leaving one
# collective a little apart reach the next one without a sleep's overshoot. Measured on 2 ranks, a
# 1-element allreduce right after a ferrum barrier (median): 565 us with sleeps from the first miss,
# ~500 us with time.sleep(0) (which returns without yielding the core: the spinning comm threads
# starved the callers' wake-ups), 45 us with os.sched_yield() (torch gloo: 120 us)
_YIELD_FOR = 2e-3
# longest sleep between polls once a rank is late: bounds how long after the last rank's arrival
# the others notice; a rank waiting 4 s for a late one used 5-7% of a core (MPICH's own blocking
# calls spin at 100%)
_MAX_SLEEP = 5e-4
# Test calls before a transfer's poll starts yielding: a 1-element allreduce on 2 ranks took a median
# 175-220 us when it yielded from the first poll, 52 us with this spin first (raw mpi4py: 2 us)
_SPIN_TRANSFER = 1000


class Engine:
    """The communication thread: runs queued operations in FIFO order; owns all MPI calls."""

    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pending: list = []  # point-to-point operations in flight: (request, finish, work, ...)
        self._thread = threading.Thread(target=self._loop, name="ferrum-dist-comm", daemon=True)
        self._alive = True
        self._thread.start()

    # the caller's side
    def submit(self, group: ProcessGroup | None, work: Work, fn: Callable) -> Work:
        """Queues ``fn()`` (run on the comm thread; its return value or error completes ``work``)."""
        if not self._alive:
            raise RuntimeError(f"{work._name}: the process group was destroyed")
        if group is not None and group._broken:
            raise DistBackendError(f"{work._name}: the process group is unusable: {group._broken}")
        self._queue.put((group, work, fn))
        return work

    def stop(self, timeout: float | None = None) -> None:
        """Finishes the queued operations, then ends the thread (destroy_process_group); gives up
        waiting after ``timeout`` seconds (at interpreter exit)."""
        if self._alive:
            self._alive = False
            self._queue.put(None)
            self._thread.join(timeout)

    # the thread's side
    def _next(self):
        """The next queued operation. While point-to-point operations are pending it polls them
        meanwhile, as wait_requests does (spin, then yield, then growing sleeps), but keeps yielding
        while a transfer is under way (MPICH moves a large message only while Test is called).
        Polling every 0.5 ms instead, one-way send/recv on 2 ranks took 1.1 ms for 4 bytes and
        19 ms for 4 MB; with this loop 0.1-0.5 ms and 2-6 ms (raw mpi4py: 0.01 ms, 1.3 ms)."""
        if not self._pending:
            return self._queue.get()
        n, start, delay = 0, time.monotonic(), 5e-5
        while True:
            try:
                return self._queue.get_nowait()
            except queue.Empty:
                pass
            before = len(self._pending)
            busy = self.poll_p2p()
            if not self._pending:
                return self._queue.get()
            if busy or len(self._pending) != before:
                n, start, delay = 0, time.monotonic(), 5e-5
            n += 1
            if n < _SPIN:
                continue
            if time.monotonic() - start < _YIELD_FOR:
                os.sched_yield()
                continue
            try:
                return self._queue.get(timeout=delay)
            except queue.Empty:
                delay = min(delay * 2, _MAX_SLEEP)

    def _loop(self) -> None:
        while True:
            item = self._next()
            if item is None:
                while self._pending:
                    self.poll_p2p()
                    time.sleep(1e-4)
                return
            group, work, fn = item
            try:
                if group is not None and group._broken:
                    raise DistBackendError(f"{work._name}: the process group is unusable: {group._broken}")
                result = fn()
            except BaseException as e:  # noqa: BLE001 - delivered to the caller through the Work
                if isinstance(e, _Timeout) and group is not None:
                    group._broken = str(e)
                work._future.set_exception(e if not isinstance(e, _Timeout) else DistBackendError(str(e)))
                continue
            if result is _PENDING:
                continue  # a point-to-point operation, completed later by poll_p2p
            work._future.set_result(work._outputs if result is None else result)
            self.poll_p2p()

    def add_p2p(self, poll: Callable[[], bool | None], work: Work, deadline: float | None, what: str) -> None:
        """Tracks a point-to-point operation: ``poll()`` advances it and returns True when it
        finished, None while its data is moving (keep polling hard), False while it waits for the
        peer."""
        self._pending.append((poll, work, deadline, what))

    def poll_p2p(self) -> bool:
        """Advances the pending point-to-point operations; True when one of them is moving data."""
        if not self._pending:
            return False
        keep = []
        busy = False
        for item in self._pending:
            poll, work, deadline, what = item
            try:
                state = poll()
                if state:
                    work._future.set_result(work._outputs)
                    continue
                busy = busy or state is None
                if deadline is not None and time.monotonic() > deadline:
                    work._future.set_exception(DistBackendError(f"{what}: timed out"))
                else:
                    keep.append(item)
            except BaseException as e:  # noqa: BLE001 - delivered to the caller through the Work
                work._future.set_exception(e)
        self._pending = keep
        return busy

    def wait_requests(self, reqs: list, deadline: float | None, what: str) -> None:
        """Polls ``reqs`` until all completed, raising _Timeout past ``deadline``; keeps
        point-to-point operations moving meanwhile. Three phases: Test in a tight loop (the usual
        case: the other ranks are there), then Test with ``os.sched_yield()`` (hands over the GIL
        and the core, but notices an arrival at once) for _YIELD_FOR seconds, then growing sleeps
        up to _MAX_SLEEP (a rank that is really late)."""
        Testall = mpi().Request.Testall
        n = 0
        while not Testall(reqs):
            n += 1
            if n > _SPIN:
                break
        else:
            return
        start = time.monotonic()
        while not Testall(reqs):
            os.sched_yield()
            n += 1
            if n & 63 == 0:
                self.poll_p2p()
                if time.monotonic() - start > _YIELD_FOR:
                    break
        else:
            return
        delay = 5e-5
        while not Testall(reqs):
            if deadline is not None and time.monotonic() > deadline:
                raise _Timeout(what)
            self.poll_p2p()
            time.sleep(delay)
            delay = min(delay * 2, _MAX_SLEEP)

    def wait_transfer(self, req, deadline: float) -> None:
        """Polls a payload's request until it completes. Unlike :meth:`wait_requests` it never
        sleeps: every rank already passed the handshake, and MPICH moves a large message only while
        Test is called. After a short spin, ``os.sched_yield()`` between polls hands the GIL to
        the caller's thread (overlap) and the core to other threads and processes. The deadline
        catches a rank that left after timing out in the handshake this rank then completed."""
        n = 0
        while not req.Test():
            n += 1
            if n < _SPIN_TRANSFER:
                continue
            os.sched_yield()
            if n & 255 == 0:
                self.poll_p2p()
                if time.monotonic() > deadline:
                    raise _Timeout("a collective's transfer timed out: a rank stopped participating (it "
                                   "timed out earlier, or is stuck); the process group is unusable now")


class _Timeout(Exception):
    pass


_PENDING = object()  # fn's return value for operations that complete later (point-to-point)
PENDING = _PENDING

_engine: Engine | None = None


def engine() -> Engine:
    global _engine
    if _engine is None or not _engine._alive:
        mpi()
        _engine = Engine()
        # registered after mpi4py's MPI_Finalize hook, so it runs before it: operations still queued
        # at exit (an async_op never waited for) finish first instead of racing MPI_Finalize
        atexit.register(_stop_at_exit, _engine)
    return _engine


def _stop_at_exit(e: Engine) -> None:
    e.stop(timeout=60.0)


def stop_engine() -> None:
    global _engine
    if _engine is not None:
        _engine.stop()
        _engine = None


# ----------------------------------------------------------------------------------------- handshake
DESC_LEN = 16
_MAXDIMS = 8
_DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8",
           "bool", "complex64", "complex128", "uint16", "uint32", "uint64"]
DTYPE_ID = {n: i for i, n in enumerate(_DTYPES)}
OPS = ["broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
       "reduce_scatter", "reduce_scatter_tensor", "all_to_all", "all_to_all_single", "barrier",
       "broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list", "new_group",
       "monitored_barrier"]
OP_ID = {n: i for i, n in enumerate(OPS)}


def describe(op: str, arr: np.ndarray | None, root: int = -1, redop: int = -1, extra: int = 0) -> np.ndarray:
    """This rank's descriptor of a collective: what must agree across ranks before data moves."""
    d = np.full(DESC_LEN, -1, dtype=np.int64)
    d[0], d[1], d[2], d[3] = OP_ID[op], redop, root, extra
    if arr is not None:
        d[4] = DTYPE_ID.get(arr.dtype.name, 99)
        d[5] = arr.size
        d[6] = arr.ndim
        d[7] = hash(arr.shape) & 0x7FFFFFFFFFFF  # int hashing is not salted: equal on every rank
        for i, s in enumerate(arr.shape[:_MAXDIMS]):
            d[8 + i] = s
    return d


def _show(d: np.ndarray) -> str:
    op = OPS[d[0]] if 0 <= d[0] < len(OPS) else f"op {d[0]}"
    s = op
    if d[6] >= 0:
        dt = _DTYPES[d[4]] if 0 <= d[4] < len(_DTYPES) else "?"
        shape = [int(x) for x in d[8:8 + min(int(d[6]), _MAXDIMS)]] + (["..."] if d[6] > _MAXDIMS else [])
        s += f" on {dt} {shape}"
    if d[1] >= 0:
        s += f" with ReduceOp.{RedOpType(int(d[1])).name}"
    if d[2] >= 0:
        s += f" (root {int(d[2])})"
    return s


def handshake(group: ProcessGroup, desc: np.ndarray, what: str, check: str = "all") -> np.ndarray:
    """Allgathers every rank's descriptor (on the comm thread) and raises the same RuntimeError on
    every rank when they disagree. ``check``: "all" (op, reduce op, root, dtype and shape agree),
    "op" (op and root only: per-rank sizes may differ), "dtype" (op, root, dtype). Returns the
    (size, DESC_LEN) table of descriptors."""
    comm = group._comm
    table = np.empty((comm.Get_size(), DESC_LEN), dtype=np.int64)
    deadline = time.monotonic() + group._timeout.total_seconds()
    req = comm.Iallgather(desc, table)
    me = comm.Get_rank()
    try:
        engine().wait_requests([req], deadline, what)
    except _Timeout:
        raise _Timeout(f"{what}: rank {me} of the group timed out after {group._timeout} waiting for "
                       f"the other ranks to join the collective (a rank is late, stuck or gone); the "
                       f"process group is unusable now") from None
    cols = {"all": slice(0, DESC_LEN), "op": slice(0, 4), "dtype": slice(0, 5)}[check]
    ref = table[0, cols]
    bad = [r for r in range(table.shape[0]) if not np.array_equal(table[r, cols], ref)]
    if bad:
        lines = "; ".join(f"rank {r} runs {_show(table[r])}" for r in range(table.shape[0]))
        raise RuntimeError(f"{what}: the ranks' collectives do not match (shapes, dtypes or ops differ; "
                           f"nothing was transferred): {lines}")
    return table


def env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else None
