"""Point-to-point messages and object collectives of ``ferrum.distributed``: send, recv, isend, irecv,
P2POp, batch_isend_irecv; broadcast_object_list, all_gather_object, gather_object,
scatter_object_list.

A message is two MPI messages with the same tag: a 16-byte header (dtype id, element count), then
the payload, sent from the tensor's own memory when it is contiguous. A receive probes the header
(``Improbe``, polled by the communication thread), checks it against the receiving tensor and only
then posts the payload's receive, straight into the tensor's memory when it is contiguous, so a
dtype or size mismatch raises on the receiver instead of truncating or leaving bytes unwritten (the
mismatched payload is drained first). MPI's non-overtaking order between one sender and receiver on
one tag keeps header and payload paired. An earlier version packed header and payload into one
buffer and received into a scratch buffer: 100 MB one-way took 150-260 ms (raw mpi4py: 25 ms).

Objects travel pickled (mpi4py's object collectives): unpickling runs code chosen by the sender, so
use them only between ranks of one trusted job, as with torch.
"""

from __future__ import annotations

import time

import numpy as np

from .._tensor import Tensor
from ._collectives import _bump, _bytes, _data, _root, _store_bytes
from ._engine import _DTYPES, DTYPE_ID, PENDING, ProcessGroup, Work, describe, engine, handshake, mpi
from ._init import resolve

__all__ = ["send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv", "broadcast_object_list",
           "all_gather_object", "gather_object", "scatter_object_list"]

_HEADER = 2  # int64s before the payload: dtype id, element count
_EAGER = 1 << 16  # bytes above which an isend is polled hard until done (MPICH's eager limit is lower)


def _peer(pg: ProcessGroup, rank, group_rank, op: str, name: str, any_ok: bool = False) -> int:
    if rank is None and group_rank is None and any_ok:
        return mpi().ANY_SOURCE
    p = _root(pg, rank, group_rank, op, name)
    return p


def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0,
          group_dst: int | None = None) -> Work:
    """Starts sending ``tensor`` to rank ``dst``; returns a Work. As in torch, the tensor must not be
    modified before the Work completed (a contiguous tensor is sent from its own memory)."""
    a = _data(tensor, "isend")
    pg = resolve(group)
    peer = _peer(pg, dst, group_dst, "isend", "dst")
    if peer == pg.rank():
        raise ValueError("Invalid destination rank: should not be the same as the rank of the current "
                         "process.")
    head = np.array([DTYPE_ID.get(a.dtype.name, 99), a.size], dtype=np.int64)
    payload = _bytes(a)
    deadline_s = pg._timeout.total_seconds()
    work = Work("isend", [tensor])
    big = payload.size > _EAGER

    def run():
        MPI = mpi()
        reqs = [pg._comm.Isend([head, _HEADER, MPI.INT64_T], peer, tag),
                pg._comm.Isend([payload, payload.size, MPI.BYTE], peer, tag)]

        def poll() -> bool | None:
            if MPI.Request.Testall(reqs):
                return True
            return None if big else False  # a large message moves only while it is polled
        engine().add_p2p(poll, work, time.monotonic() + deadline_s, f"isend to rank {peer} (tag {tag})")
        return PENDING
    return engine().submit(pg, work, run)


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0,
          group_src: int | None = None) -> Work:
    """Starts receiving into ``tensor`` from rank ``src`` (None: any rank; ``Work.source_rank()`` says
    which); a message of another dtype or size raises RuntimeError from ``wait``."""
    a = _data(tensor, "irecv")
    pg = resolve(group)
    peer = _peer(pg, src, group_src, "irecv", "src", any_ok=True)
    work = Work("irecv", [tensor])
    _bump(tensor)
    deadline_s = pg._timeout.total_seconds()
    want_dtype = DTYPE_ID.get(a.dtype.name, 99)
    direct = a.flags.c_contiguous and a.flags.writeable  # receive straight into the tensor's memory

    def run():
        MPI = mpi()
        comm = pg._comm
        state: dict = {}

        def poll() -> bool | None:
            if "req" not in state:  # waiting for the header
                status = MPI.Status()
                m = comm.Improbe(peer, tag, status)
                if m is None:
                    return False
                head = np.empty(_HEADER, dtype=np.int64)
                m.Recv([head, _HEADER, MPI.INT64_T])
                src = state["src"] = status.Get_source()
                ok = head[0] == want_dtype and head[1] == a.size
                buf = a.reshape(-1).view(np.uint8) if ok and direct else np.empty(a.nbytes, np.uint8)
                if not ok:  # the payload still comes: take it (any size) before raising
                    state["bad"] = head
                    buf = None
                state["buf"] = buf
                state["req"] = None if buf is None else comm.Irecv([buf, buf.size, MPI.BYTE], src, tag)
            if "bad" in state:
                status = MPI.Status()
                m = comm.Improbe(state["src"], tag, status)
                if m is None:
                    return None
                m.Recv([np.empty(status.Get_count(MPI.BYTE), np.uint8), MPI.BYTE])
                head = state["bad"]
                got = _DTYPES[head[0]] if 0 <= head[0] < len(_DTYPES) else "?"
                raise RuntimeError(f"recv: rank {pg.ranks[state['src']]} sent {head[1]} elements of {got}, "
                                   f"but the receiving tensor has {a.size} elements of {a.dtype.name}")
            if not state["req"].Test():
                return None  # matched: the data is moving
            if not direct:
                _store_bytes(tensor, state["buf"], "recv")
            work._source_rank = pg.ranks[state["src"]]
            return True
        engine().add_p2p(poll, work, time.monotonic() + deadline_s, f"irecv from rank {src} (tag {tag})")
        return PENDING
    return engine().submit(pg, work, run)


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Sends ``tensor`` to rank ``dst`` and returns when it was delivered to MPI."""
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receives into ``tensor`` from rank ``src`` (None: any); returns the sender's rank."""
    w = irecv(tensor, src, group, tag, group_src)
    w.wait()
    return w.source_rank()


class P2POp:
    """One operation of batch_isend_irecv: ``P2POp(dist.isend, tensor, peer)`` or ``dist.irecv``."""

    def __init__(self, op, tensor: Tensor, peer: int | None = None, group=None, tag: int = 0,
                 group_peer: int | None = None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer

    def __repr__(self) -> str:
        return f"P2POp(op={self.op.__name__}, peer={self.peer}, tag={self.tag})"


def batch_isend_irecv(p2p_op_list: list) -> list[Work]:
    """Starts every operation of the list; returns their Works in order."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    works = []
    for p in p2p_op_list:
        if p.op is isend:
            works.append(isend(p.tensor, p.peer, p.group, p.tag, p.group_peer))
        else:
            works.append(irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer))
    return works


# ----------------------------------------------------------------------------------- object collectives
def _run_sync(pg: ProcessGroup, name: str, fn):
    return engine().submit(pg, Work(name), fn).get_future().wait()


def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:
    """Rank ``src``'s ``object_list`` replaces the contents of ``object_list`` on every rank (same length
    everywhere). Objects travel pickled: use only between trusted ranks."""
    pg = resolve(group)
    root = _root(pg, src, group_src, "broadcast_object_list", "src")

    def run():
        handshake(pg, describe("broadcast_object_list", None, root=root, extra=len(object_list)),
                  "broadcast_object_list", check="op")
        return pg._comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    result = _run_sync(pg, "broadcast_object_list", run)
    object_list[:] = result


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[i]`` becomes rank i's ``obj`` (pickled: trusted ranks only)."""
    pg = resolve(group)
    if len(object_list) != pg.size():
        raise RuntimeError(f"all_gather_object: object_list has {len(object_list)} entries, expected the "
                           f"group size {pg.size()}")

    def run():
        handshake(pg, describe("all_gather_object", None), "all_gather_object", check="op")
        return pg._comm.allgather(obj)
    object_list[:] = _run_sync(pg, "all_gather_object", run)


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """Rank ``dst``'s ``object_gather_list[i]`` becomes rank i's ``obj`` (pickled: trusted ranks only)."""
    pg = resolve(group)
    root = _root(pg, dst, group_dst, "gather_object", "dst")
    if pg.rank() == root:
        if object_gather_list is None or len(object_gather_list) != pg.size():
            raise ValueError(f"gather_object: object_gather_list must be a list of the group size "
                             f"{pg.size()} on the destination rank")
    elif object_gather_list is not None:
        raise ValueError("Argument ``object_gather_list`` must NOT be specified on non-destination ranks.")

    def run():
        handshake(pg, describe("gather_object", None, root=root), "gather_object", check="op")
        return pg._comm.gather(obj, root=root)
    result = _run_sync(pg, "gather_object", run)
    if pg.rank() == root:
        object_gather_list[:] = result


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group=None, group_src: int | None = None) -> None:
    """``scatter_object_output_list[0]`` on rank i becomes rank ``src``'s
    ``scatter_object_input_list[i]`` (pickled: trusted ranks only)."""
    pg = resolve(group)
    root = _root(pg, src, group_src, "scatter_object_list", "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    if pg.rank() == root and (scatter_object_input_list is None or
                              len(scatter_object_input_list) != pg.size()):
        raise ValueError(f"scatter_object_list: scatter_object_input_list must be a list of the group "
                         f"size {pg.size()} on the source rank")

    def run():
        handshake(pg, describe("scatter_object_list", None, root=root), "scatter_object_list", check="op")
        return pg._comm.scatter(list(scatter_object_input_list) if pg.rank() == root else None, root=root)
    scatter_object_output_list[0] = _run_sync(pg, "scatter_object_list", run)

