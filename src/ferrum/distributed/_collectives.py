"""Tensor collectives of ``ferrum.distributed`` on MPI: broadcast, all_reduce, reduce, all_gather,
all_gather_into_tensor, gather, scatter, reduce_scatter, reduce_scatter_tensor, all_to_all,
all_to_all_single, barrier, monitored_barrier (torch.distributed's signatures and in-place semantics).

Each call checks its arguments on the caller's thread, bumps the version counter of every tensor it
will write (as torch's in-place ops do), and queues the transfer to the communication thread
(_engine.py), which runs the descriptor handshake and then MPI's non-blocking collective, polled
to completion (Engine.wait_transfer). Data that
only moves travels as bytes, so every dtype works (bfloat16, float16, bool, complex). Reductions
use MPI's typed operations; float16/bfloat16 are reduced in float32 and cast back (MPI has no
half-precision sum), bool as uint8 (SUM/MAX/BOR are "or", PRODUCT/MIN/BAND "and"). A non-contiguous
tensor is packed into a contiguous buffer and the result copied back into its strided memory.
"""

from __future__ import annotations

import datetime
import time

import numpy as np

from .._tensor import Tensor
from ..ops.inplace import writable
from ._engine import (DistBackendError, ProcessGroup, RedOpType, Work, describe, engine,
                      handshake, mpi)
from ._init import resolve

__all__ = ["broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "gather",
           "scatter", "reduce_scatter", "reduce_scatter_tensor", "all_to_all", "all_to_all_single",
           "barrier", "monitored_barrier"]


# ------------------------------------------------------------------------------------------ helpers
def _data(t, op: str, what: str = "tensor") -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(t).__name__}")
    d = t._data
    if d.__class__ is not np.ndarray:
        raise RuntimeError(f"{op}: {what} is on {t.device}; ferrum's MPI backend (gloo/mpi) handles CPU "
                           "tensors only (no NCCL backend)")
    return d


def _tensors(ts, op: str, what: str) -> list:
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"{op}: {what} must be a list of Tensors, got {type(ts).__name__}")
    for t in ts:
        _data(t, op, what)
    return list(ts)


def _bump(*ts) -> None:
    for t in ts:
        t._version[0] += 1


def _bytes(a: np.ndarray) -> np.ndarray:
    """A contiguous uint8 view of ``a`` (a packed copy when ``a`` is strided)."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _store(t: Tensor, values: np.ndarray, op: str) -> None:
    d = t._data
    if values is d:
        return
    dst = writable(t, op)
    np.copyto(dst, values.reshape(d.shape), casting="unsafe")


def _store_bytes(t: Tensor, buf: np.ndarray, op: str) -> None:
    d = t._data
    _store(t, buf.view(d.dtype).reshape(d.shape), op)


def _same(ts: list, like: np.ndarray, op: str, what: str) -> None:
    for i, t in enumerate(ts):
        d = t._data
        if d.shape != like.shape or d.dtype != like.dtype:
            raise RuntimeError(f"{op}: {what}[{i}] has {d.dtype.name} {list(d.shape)}, but the tensor has "
                               f"{like.dtype.name} {list(like.shape)}: they must match")


def _root(group: ProcessGroup, rank, group_rank, op: str, name: str) -> int:
    """The root's rank in ``group`` from torch's ``src``/``dst`` (global) or ``group_src``/``group_dst``."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"{op}: can only specify one of {name} or group_{name}")
    if group_rank is None:
        if rank is None:
            rank = 0
        if rank not in group.ranks:
            raise ValueError(f"{op}: {name}={rank} is not part of the group (global ranks {group.ranks})")
        return group.ranks.index(rank)
    if not 0 <= group_rank < group.size():
        raise ValueError(f"{op}: group_{name}={group_rank} is out of range for a group of size "
                         f"{group.size()}")
    return group_rank


def _xfer(pg: ProcessGroup, req) -> None:
    """Waits for a collective's payload (every rank passed the handshake, so it is moving)."""
    engine().wait_transfer(req, time.monotonic() + pg._timeout.total_seconds())


def _issue(group: ProcessGroup, op: str, outputs: list, fn, async_op: bool):
    work = engine().submit(group, Work(op, outputs), fn)
    if async_op:
        return work
    work.wait()
    return None


# ------------------------------------------------------------------------------------- reductions
_INTS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_BOOL_OP = {RedOpType.SUM: RedOpType.MAX, RedOpType.MAX: RedOpType.MAX, RedOpType.BOR: RedOpType.MAX,
            RedOpType.PRODUCT: RedOpType.MIN, RedOpType.MIN: RedOpType.MIN, RedOpType.BAND: RedOpType.MIN,
            RedOpType.BXOR: RedOpType.BXOR}


def _redop(op, dtype: np.dtype, name: str) -> RedOpType:
    try:
        op = RedOpType(op)
    except (ValueError, TypeError):
        raise TypeError(f"{name}: op must be a ReduceOp (ReduceOp.SUM, ...), got {op!r}") from None
    kind = dtype.name
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in _INTS and kind != "bool":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op in (RedOpType.MIN, RedOpType.MAX) and dtype.kind == "c":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with complex dtype")
    if op is RedOpType.AVG and kind == "bool":
        raise RuntimeError("Cannot use ReduceOp.AVG with bool dtype")
    return op


def _mpi_op(op: RedOpType):
    MPI = mpi()
    return {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
            RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
            RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}[op]


def _typed(a: np.ndarray, op: RedOpType):
    """(contiguous buffer in a dtype MPI reduces, its MPI datatype, the MPI op) for ``a``; the buffer
    is ``a`` itself when ``a`` is contiguous and MPI has its type."""
    MPI = mpi()
    name = a.dtype.name
    if name in ("float16", "bfloat16"):
        return np.ascontiguousarray(a, dtype=np.float32), MPI.FLOAT, _mpi_op(op)
    if name == "bool":
        return np.ascontiguousarray(a).view(np.uint8), MPI.UINT8_T, _mpi_op(_BOOL_OP[op])
    types = {"float32": MPI.FLOAT, "float64": MPI.DOUBLE, "int8": MPI.INT8_T, "int16": MPI.INT16_T,
             "int32": MPI.INT32_T, "int64": MPI.INT64_T, "uint8": MPI.UINT8_T, "uint16": MPI.UINT16_T,
             "uint32": MPI.UINT32_T, "uint64": MPI.UINT64_T, "complex64": MPI.C_FLOAT_COMPLEX,
             "complex128": MPI.C_DOUBLE_COMPLEX}
    if name not in types:
        raise RuntimeError(f"ferrum.distributed: reductions do not support dtype {name}")
    return np.ascontiguousarray(a), types[name], _mpi_op(op)


def _average(buf: np.ndarray, n: int) -> None:
    if buf.dtype.kind in "fc":
        buf /= n
    elif buf.dtype.kind == "u":
        buf //= n
    else:  # truncate toward zero, like C (and NCCL) integer division
        q = np.abs(buf) // n
        np.copyto(buf, np.where(buf < 0, -q, q))


# ------------------------------------------------------------------------------------- collectives
def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copies ``tensor`` of rank ``src`` into ``tensor`` on every rank of the group (in place)."""
    a = _data(tensor, "broadcast")
    pg = resolve(group)
    root = _root(pg, src, group_src, "broadcast", "src")
    _bump(tensor)

    def run():
        handshake(pg, describe("broadcast", a, root=root), "broadcast")
        buf = _bytes(a)
        _xfer(pg, pg._comm.Ibcast([buf, buf.size, mpi().BYTE], root=root))
        if pg.rank() != root:
            _store_bytes(tensor, buf, "broadcast")
    return _issue(pg, "broadcast", [tensor], run, async_op)


def all_reduce(tensor: Tensor, op=RedOpType.SUM, group=None, async_op: bool = False):
    """Reduces ``tensor`` across the group with ``op``; every rank gets the result in ``tensor``."""
    a = _data(tensor, "all_reduce")
    rop = _redop(op, a.dtype, "all_reduce")
    pg = resolve(group)
    _bump(tensor)

    def run():
        handshake(pg, describe("all_reduce", a, redop=int(rop)), "all_reduce")
        buf, mtype, mop = _typed(a, rop)
        if buf.size:
            _xfer(pg, pg._comm.Iallreduce(mpi().IN_PLACE, [buf, buf.size, mtype], mop))
        if rop is RedOpType.AVG:
            _average(buf, pg.size())
        _store(tensor, buf.view(a.dtype) if a.dtype.name == "bool" else buf, "all_reduce")
    return _issue(pg, "all_reduce", [tensor], run, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=RedOpType.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """Reduces ``tensor`` across the group into ``tensor`` of rank ``dst`` (others are left as they are)."""
    a = _data(tensor, "reduce")
    rop = _redop(op, a.dtype, "reduce")
    pg = resolve(group)
    root = _root(pg, dst, group_dst, "reduce", "dst")
    me = pg.rank()
    if me == root:
        _bump(tensor)

    def run():
        handshake(pg, describe("reduce", a, root=root, redop=int(rop)), "reduce")
        buf, mtype, mop = _typed(a, rop)
        MPI = mpi()
        if buf.size:
            if me == root:
                _xfer(pg, pg._comm.Ireduce(MPI.IN_PLACE, [buf, buf.size, mtype], mop, root=root))
            else:
                _xfer(pg, pg._comm.Ireduce([buf, buf.size, mtype], None, mop, root=root))
        if me == root:
            if rop is RedOpType.AVG:
                _average(buf, pg.size())
            _store(tensor, buf.view(a.dtype) if a.dtype.name == "bool" else buf, "reduce")
    return _issue(pg, "reduce", [tensor], run, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[i]`` receives rank i's ``tensor`` (same shape and dtype on every rank)."""
    a = _data(tensor, "all_gather")
    outs = _tensors(tensor_list, "all_gather", "tensor_list")
    pg = resolve(group)
    n = pg.size()
    if len(outs) != n:
        raise RuntimeError(f"all_gather: tensor_list has {len(outs)} tensors, expected the group size {n}")
    _same(outs, a, "all_gather", "tensor_list")
    _bump(*outs)

    def run():
        handshake(pg, describe("all_gather", a), "all_gather")
        src = _bytes(a)
        recv = np.empty((n, src.size), dtype=np.uint8)
        _xfer(pg, pg._comm.Iallgather([src, src.size, mpi().BYTE], [recv, src.size, mpi().BYTE]))
        for i, t in enumerate(outs):
            _store_bytes(t, recv[i], "all_gather")
    return _issue(pg, "all_gather", outs, run, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None, async_op: bool = False):
    """``output_tensor`` (shape ``[size * d0, ...]`` or ``[size, d0, ...]``) receives every rank's input,
    concatenated in rank order."""
    a = _data(input_tensor, "all_gather_into_tensor", "input_tensor")
    o = _data(output_tensor, "all_gather_into_tensor", "output_tensor")
    pg = resolve(group)
    n = pg.size()
    if o.size != n * a.size or o.dtype != a.dtype:
        raise RuntimeError(f"all_gather_into_tensor: output tensor must have {n} times the input's "
                           f"elements and its dtype; got output {o.dtype.name} {list(o.shape)}, input "
                           f"{a.dtype.name} {list(a.shape)}")
    _bump(output_tensor)

    def run():
        handshake(pg, describe("all_gather_into_tensor", a), "all_gather_into_tensor")
        src = _bytes(a)
        recv = o.reshape(-1).view(np.uint8) if o.flags.c_contiguous else np.empty(o.nbytes, np.uint8)
        _xfer(pg, pg._comm.Iallgather([src, src.size, mpi().BYTE], [recv, src.size, mpi().BYTE]))
        if not o.flags.c_contiguous:
            _store_bytes(output_tensor, recv, "all_gather_into_tensor")
    return _issue(pg, "all_gather_into_tensor", [output_tensor], run, async_op)


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Rank ``dst``'s ``gather_list[i]`` receives rank i's ``tensor``; other ranks pass no list."""
    a = _data(tensor, "gather")
    pg = resolve(group)
    root = _root(pg, dst, group_dst, "gather", "dst")
    me, n = pg.rank(), pg.size()
    outs: list = []
    if me == root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = _tensors(gather_list, "gather", "gather_list")
        if len(outs) != n:
            raise RuntimeError(f"gather: gather_list has {len(outs)} tensors, expected the group size {n}")
        _same(outs, a, "gather", "gather_list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _bump(*outs)

    def run():
        handshake(pg, describe("gather", a, root=root), "gather")
        src = _bytes(a)
        recv = np.empty((n, src.size), dtype=np.uint8) if me == root else None
        rspec = None if recv is None else [recv, src.size, mpi().BYTE]
        _xfer(pg, pg._comm.Igather([src, src.size, mpi().BYTE], rspec, root=root))
        for i, t in enumerate(outs):
            _store_bytes(t, recv[i], "gather")
    return _issue(pg, "gather", outs, run, async_op)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """``tensor`` on rank i receives ``scatter_list[i]`` of rank ``src``; other ranks pass no list."""
    a = _data(tensor, "scatter")
    pg = resolve(group)
    root = _root(pg, src, group_src, "scatter", "src")
    me, n = pg.rank(), pg.size()
    ins: list = []
    if me == root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        ins = _tensors(scatter_list, "scatter", "scatter_list")
        if len(ins) != n:
            raise RuntimeError(f"scatter: scatter_list has {len(ins)} tensors, expected the group size {n}")
        _same(ins, a, "scatter", "scatter_list")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _bump(tensor)

    def run():
        handshake(pg, describe("scatter", a, root=root), "scatter")
        size = a.nbytes
        send = np.concatenate([_bytes(t._data) for t in ins]) if me == root else None
        recv = np.empty(size, dtype=np.uint8)
        sspec = None if send is None else [send, size, mpi().BYTE]
        _xfer(pg, pg._comm.Iscatter(sspec, [recv, size, mpi().BYTE], root=root))
        _store_bytes(tensor, recv, "scatter")
    return _issue(pg, "scatter", [tensor], run, async_op)


def _reduce_scatter(pg: ProcessGroup, name: str, output: Tensor, stacked, rop: RedOpType, a: np.ndarray):
    def run():
        handshake(pg, describe(name, a, redop=int(rop)), name)
        send = stacked()
        sbuf, mtype, mop = _typed(send, rop)
        rbuf = np.empty(a.size, dtype=sbuf.dtype)
        if rbuf.size:
            _xfer(pg, pg._comm.Ireduce_scatter_block([sbuf, a.size, mtype], [rbuf, a.size, mtype], mop))
        if rop is RedOpType.AVG:
            _average(rbuf, pg.size())
        _store(output, rbuf.view(a.dtype) if a.dtype.name == "bool" else rbuf, name)
    return run


def reduce_scatter(output: Tensor, input_list: list, op=RedOpType.SUM, group=None, async_op: bool = False):
    """``output`` on rank i receives the reduction over ranks of their ``input_list[i]``."""
    a = _data(output, "reduce_scatter", "output")
    ins = _tensors(input_list, "reduce_scatter", "input_list")
    rop = _redop(op, a.dtype, "reduce_scatter")
    pg = resolve(group)
    if len(ins) != pg.size():
        raise RuntimeError(f"reduce_scatter: input_list has {len(ins)} tensors, expected the group size "
                           f"{pg.size()}")
    _same(ins, a, "reduce_scatter", "input_list")
    _bump(output)
    run = _reduce_scatter(pg, "reduce_scatter", output, lambda: np.stack([t._data for t in ins]), rop, a)
    return _issue(pg, "reduce_scatter", [output], run, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=RedOpType.SUM, group=None,
                          async_op: bool = False):
    """``output`` on rank i receives the reduction of chunk i of every rank's ``input`` (``input`` has
    ``size`` times ``output``'s elements, split along dim 0 in rank order)."""
    a = _data(output, "reduce_scatter_tensor", "output")
    b = _data(input, "reduce_scatter_tensor", "input")
    rop = _redop(op, a.dtype, "reduce_scatter_tensor")
    pg = resolve(group)
    if b.size != pg.size() * a.size or b.dtype != a.dtype:
        raise RuntimeError(f"reduce_scatter_tensor: input tensor must have {pg.size()} times the output's "
                           f"elements and its dtype; got input {b.dtype.name} {list(b.shape)}, output "
                           f"{a.dtype.name} {list(a.shape)}")
    _bump(output)
    run = _reduce_scatter(pg, "reduce_scatter_tensor", output, lambda: b, rop, a)
    return _issue(pg, "reduce_scatter_tensor", [output], run, async_op)


def _alltoallv(pg: ProcessGroup, name: str, send_parts: list, recv_sizes: list, dtype: np.dtype, finish):
    """Runs an all-to-all of byte blocks after checking, on every rank, that what each rank sends to each
    peer is what that peer expects (sizes in bytes)."""
    n = pg.size()
    scount = np.array([p.size for p in send_parts], dtype=np.int64)
    rcount = np.array(recv_sizes, dtype=np.int64)

    def run():
        from ._engine import DTYPE_ID
        handshake(pg, describe(name, None, extra=DTYPE_ID.get(dtype.name, 99)), name, check="op")
        mine = np.concatenate([scount, rcount])
        table = np.empty((n, 2 * n), dtype=np.int64)
        _xfer(pg, pg._comm.Iallgather(mine, table))
        sent, expected = table[:, :n], table[:, n:]
        if not np.array_equal(sent, expected.T):
            bad = [(i, j) for i in range(n) for j in range(n) if sent[i, j] != expected[j, i]]
            desc = ", ".join(f"rank {i} sends {sent[i, j]} bytes to rank {j}, which expects {expected[j, i]}"
                             for i, j in bad[:6])
            raise RuntimeError(f"{name}: the ranks' split sizes do not match (nothing was transferred): "
                               f"{desc}")
        send = np.concatenate(send_parts) if send_parts else np.empty(0, np.uint8)
        recv = np.empty(int(rcount.sum()), dtype=np.uint8)
        sdis = np.concatenate([[0], np.cumsum(scount)[:-1]])
        rdis = np.concatenate([[0], np.cumsum(rcount)[:-1]])
        B = mpi().BYTE
        _xfer(pg, pg._comm.Ialltoallv([send, (scount, sdis), B], [recv, (rcount, rdis), B]))
        finish(recv, rdis, rcount)
    return run


def all_to_all(output_tensor_list: list, input_tensor_list: list, group=None, async_op: bool = False):
    """``output_tensor_list[j]`` on rank i receives ``input_tensor_list[i]`` of rank j (sizes may differ
    per pair; the dtype is the same everywhere)."""
    outs = _tensors(output_tensor_list, "all_to_all", "output_tensor_list")
    ins = _tensors(input_tensor_list, "all_to_all", "input_tensor_list")
    pg = resolve(group)
    n = pg.size()
    if len(outs) != n or len(ins) != n:
        raise RuntimeError(f"all_to_all: the tensor lists must have the group size {n} tensors each, got "
                           f"{len(outs)} outputs and {len(ins)} inputs")
    dtypes = {t._data.dtype for t in outs + ins}
    if len(dtypes) != 1:
        names = sorted(d.name for d in dtypes)
        raise RuntimeError(f"all_to_all: all tensors must have one dtype, got {names}")
    _bump(*outs)

    def finish(recv, rdis, rcount):
        for j, t in enumerate(outs):
            _store_bytes(t, recv[rdis[j]:rdis[j] + rcount[j]], "all_to_all")
    run = _alltoallv(pg, "all_to_all", [_bytes(t._data) for t in ins], [t._data.nbytes for t in outs],
                     dtypes.pop(), finish)
    return _issue(pg, "all_to_all", outs, run, async_op)


def _splits(sizes, d0: int, n: int, op: str, what: str) -> list[int]:
    if sizes is None or len(sizes) == 0:
        if d0 % n:
            raise RuntimeError(f"{op}: dim 0 of the {what} tensor ({d0}) is not divisible by the group "
                               f"size {n}; pass {what}_split_sizes")
        return [d0 // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != d0 or min(sizes) < 0:
        raise RuntimeError(f"{op}: {what}_split_sizes {sizes} must be {n} non-negative sizes summing to "
                           f"dim 0 of the {what} tensor ({d0})")
    return sizes


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op: bool = False):
    """Splits ``input`` along dim 0 (``input_split_sizes``, or equally) and sends split j to rank j;
    ``output`` receives the splits from every rank, in rank order, along dim 0."""
    o = _data(output, "all_to_all_single", "output")
    a = _data(input, "all_to_all_single", "input")
    pg = resolve(group)
    n = pg.size()
    if o.dtype != a.dtype:
        raise RuntimeError(f"all_to_all_single: output dtype {o.dtype.name} differs from input "
                           f"{a.dtype.name}")
    if o.ndim == 0 or a.ndim == 0:
        raise RuntimeError("all_to_all_single: tensors must have at least one dimension")
    isz = _splits(input_split_sizes, a.shape[0], n, "all_to_all_single", "input")
    osz = _splits(output_split_sizes, o.shape[0], n, "all_to_all_single", "output")
    row_in = a.nbytes // a.shape[0] if a.shape[0] else int(np.prod(a.shape[1:])) * a.itemsize
    row_out = o.nbytes // o.shape[0] if o.shape[0] else int(np.prod(o.shape[1:])) * o.itemsize
    flat = _bytes(a)
    bounds = np.concatenate([[0], np.cumsum(isz)]) * row_in
    parts = [flat[bounds[j]:bounds[j + 1]] for j in range(n)]
    _bump(output)

    def finish(recv, rdis, rcount):
        _store_bytes(output, recv, "all_to_all_single")
    run = _alltoallv(pg, "all_to_all_single", parts, [s * row_out for s in osz], a.dtype, finish)
    return _issue(pg, "all_to_all_single", [output], run, async_op)


# -------------------------------------------------------------------------------------------- barriers
def barrier(group=None, async_op: bool = False, device_ids=None):
    """Returns once every rank of the group reached the barrier (or raises after the group's timeout)."""
    pg = resolve(group)

    def run():
        handshake(pg, describe("barrier", None), "barrier")
    return _issue(pg, "barrier", [], run, async_op)


_MONITOR_TAG = 32767  # reserved for monitored_barrier's messages on the group's communicator


def monitored_barrier(group=None, timeout: datetime.timedelta | None = None, wait_all_ranks: bool = False):
    """A barrier that names the ranks that did not arrive: rank 0 collects every rank's arrival within
    ``timeout`` (default: the group's) and raises RuntimeError listing the missing ranks (the first
    one, or all with ``wait_all_ranks=True``); the ranks that did arrive raise too."""
    pg = resolve(group)
    secs = (timeout or pg._timeout).total_seconds()
    me, n = pg.rank(), pg.size()

    def run():
        MPI = mpi()
        comm = pg._comm
        deadline = time.monotonic() + secs
        flag = np.zeros(1, np.int64)
        if me != 0:
            comm.Send([flag, 1, MPI.INT64_T], 0, _MONITOR_TAG)
            req = comm.Irecv([flag, 1, MPI.INT64_T], 0, _MONITOR_TAG)
            try:
                engine().wait_requests([req], deadline + 1.0, "monitored_barrier")
            except Exception:
                req.Cancel()
                raise DistBackendError(f"[Rank {me}]: monitored_barrier timed out after {secs} s waiting "
                                       "for rank 0") from None
            if flag[0]:
                raise RuntimeError(f"[Rank {me}]: monitored_barrier failed: rank 0 reported ranks that "
                                   "did not arrive in time")
            return
        boxes = [np.zeros(1, np.int64) for _ in range(n)]
        reqs = {r: comm.Irecv([boxes[r], 1, MPI.INT64_T], r, _MONITOR_TAG) for r in range(1, n)}
        missing = []
        for r, req in reqs.items():
            try:
                engine().wait_requests([req], deadline, "monitored_barrier")
            except Exception:
                missing.append(r)
                if not wait_all_ranks:
                    break
        arrived = [r for r, req in reqs.items() if r not in missing and req.Test()]
        for r, req in reqs.items():
            if r not in arrived:
                req.Cancel()
        flag[0] = 1 if missing else 0
        for r in arrived:
            comm.Send([flag, 1, MPI.INT64_T], r, _MONITOR_TAG)
        if missing:
            raise DistBackendError(f"[Rank 0]: Ranks {', '.join(map(str, missing))} failed to pass "
                                   f"monitoredBarrier in {int(secs * 1000)} ms")
    work = engine().submit(pg, Work("monitored_barrier"), run)
    work.wait()

