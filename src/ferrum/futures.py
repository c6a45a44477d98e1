"""``ferrum.futures``: ``torch.futures.Future``, the handle of a result that arrives later.

DistributedDataParallel's communication hooks (``register_comm_hook``) return one: the hook starts
a non-blocking collective on a gradient bucket and returns a Future whose value is the reduced
bucket, usually chained with ``then`` (``fut.then(decompress)``). PyTorch completes its futures from
its own threads; a CPU collective here completes inside MPI, which makes progress only when called,
so a Future made by :func:`from_work` completes when something asks it to (``wait()``, ``value()``
after a wait, or ``done()`` polling the work). ``then`` callbacks run at that moment, on the thread
that asked, in the order they were added; a callback added to a finished Future runs at once. For a
program this is PyTorch's contract (the callback runs after the value is set and before ``wait()``
on the chained Future returns); only the thread that runs a callback may differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """A value (or an exception) that is set once; ``wait()`` blocks until it is there.

    ``devices`` is accepted for PyTorch's signature (CPU futures need none).
    """

    def __init__(self, *, devices: list | None = None) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future], None]] = []
        # how to complete a Future backed by a pending operation: block (``_waiter``) or poll
        # (``_poller``: True once complete); both set the result themselves
        self._waiter: Callable[[], None] | None = None
        self._poller: Callable[[], bool] | None = None
        self._cond = threading.Condition()

    def done(self) -> bool:
        """True once the value or an exception is set (a pending collective is polled)."""
        if not self._done and self._poller is not None and self._poller():
            self._complete_pending()
        return self._done

    def _complete_pending(self) -> None:
        waiter, self._waiter, self._poller = self._waiter, None, None
        if waiter is not None:
            try:
                waiter()
            except BaseException as e:  # noqa: BLE001 - the error belongs to whoever waits
                if not self._done:
                    self.set_exception(e)

    def wait(self) -> T:
        """Blocks until the Future is complete and returns its value (raises its exception)."""
        if not self._done:
            if self._waiter is not None:
                self._complete_pending()
            with self._cond:
                while not self._done:
                    self._cond.wait()
        if self._error is not None:
            raise self._error
        return self._value

    def value(self) -> T:
        """The value of a completed Future (raises its exception); RuntimeError if not complete."""
        if not self.done():
            raise RuntimeError("Future.value(): the Future is not completed yet; call wait() first")
        if self._error is not None:
            raise self._error
        return self._value

    def set_result(self, result: T) -> None:
        """Completes the Future with ``result`` and runs its callbacks; RuntimeError if already set."""
        self._finish(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Completes the Future with an exception, raised by ``wait()`` and ``value()``."""
        if not isinstance(result, BaseException):
            raise TypeError(f"set_exception: expected an exception, got {type(result).__name__}")
        self._finish(None, result)

    def _finish(self, value: Any, error: BaseException | None) -> None:
        with self._cond:
            if self._done:
                raise RuntimeError("Future can only be marked completed once (its result is already set)")
            self._value, self._error, self._done = value, error, True
            self._waiter = self._poller = None
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for cb in callbacks:
            cb(self)

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Runs ``callback(self)`` when the Future completes (at once if it has). Its exceptions
        are not caught."""
        with self._cond:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new Future completed with ``callback(self)`` once this one completes (or with the
        exception the callback raises). Waiting on the new Future waits on this one first."""
        child: Future = Future()
        if not self._done:
            child._waiter = self.wait
            child._poller = self.done

        def run(parent: Future) -> None:
            try:
                result = callback(parent)
            except BaseException as e:  # noqa: BLE001 - the error belongs to whoever waits
                child.set_exception(e)
                return
            child.set_result(result)

        self.add_done_callback(run)
        return child


def from_work(work: Any, result: Any) -> Future:
    """A Future completed with ``result`` (a list of tensors, PyTorch's ``Work.get_future()``
    value for a collective) once ``work`` (an async collective: ``wait()``, ``is_completed()``) is."""
    fut: Future = Future()

    def waiter() -> None:
        work.wait()
        fut.set_result(result)

    def poller() -> bool:
        return bool(work.is_completed())

    fut._waiter = waiter
    fut._poller = poller
    return fut


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A Future completed with the list of ``futures`` once all of them are."""
    out: Future = Future()
    futures = list(futures)

    def waiter() -> None:
        for f in futures:
            try:
                f.wait()
            except BaseException:  # noqa: BLE001 - collect_all's value holds the failed Future
                pass
        out.set_result(futures)

    out._waiter = waiter
    out._poller = lambda: all(f.done() for f in futures)
    return out


def wait_all(futures: list[Future]) -> list:
    """Waits for every Future and returns their values (raises the first exception met)."""
    return [f.wait() for f in futures]
