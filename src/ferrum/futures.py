"""``ferrum.futures``: ``torch.futures``' names for the Future of an asynchronous operation.

``Future`` is the class ``ferrum.distributed``'s ``Work.get_future()`` returns (completed by the
communication thread when the collective finishes; ``then`` callbacks run there). Communication
hooks of DistributedDataParallel return one (``register_comm_hook``); a hook that computes its
result at once can return ``fut = Future(); fut.set_result(tensor)``.
"""

from __future__ import annotations

from .distributed._engine import Future

__all__ = ["Future", "collect_all", "wait_all"]


def collect_all(futures: list[Future]) -> Future:
    """A Future completed with the list of ``futures`` once all of them are (failed ones included)."""
    futures = list(futures)
    out = Future()
    if not futures:
        out.set_result([])
        return out
    left = [len(futures)]

    def one_done(_: Future) -> None:
        left[0] -= 1
        if left[0] == 0:
            out.set_result(futures)

    for f in futures:
        f.add_done_callback(one_done)
    return out


def wait_all(futures: list[Future]) -> list:
    """Waits for every Future and returns their values (raises the first exception met)."""
    return [f.wait() for f in futures]
