"""Process-group set-up of ``ferrum.distributed``: init_process_group, new_group, the default group,
rank/size queries, destroy_process_group (torch.distributed's names and errors).

The MPI job is the rendezvous: the ranks and their number come from the launcher (``ferrum run``,
``mpiexec``, ``srun``), so ``init_method`` needs no address. ``world_size``/``rank`` (or the RANK and
WORLD_SIZE variables) are checked against MPI's and a disagreement is an error, never a silent
remap. Each process group owns a duplicate of its MPI communicator, so ferrum's traffic never
mixes with the program's own mpi4py calls on COMM_WORLD.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import time

from ._engine import (DEFAULT_TIMEOUT, Backend, ProcessGroup, Work, engine, env_int, handshake, describe,
                      mpi, stop_engine)

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized",
           "is_mpi_available", "is_nccl_available", "is_gloo_available", "is_torchelastic_launched",
           "get_rank", "get_world_size", "get_backend", "new_group", "GroupMember", "group",
           "get_process_group_ranks", "get_global_rank", "get_group_rank", "default_group", "resolve",
           "get_node_local_rank", "is_backend_available"]


class _NonGroupMember:
    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """``GroupMember.WORLD`` (the default group, None before init_process_group) and
    ``GroupMember.NON_GROUP_MEMBER`` (what new_group returns on ranks outside the group)."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = _NonGroupMember()


group = GroupMember  # torch.distributed.group.WORLD


def is_available() -> bool:
    """True when mpi4py is installed (the ``dist`` extra): process groups can be created."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    """True with mpi4py: the "gloo" backend is served by MPI on CPU tensors."""
    return is_available()


def is_nccl_available() -> bool:
    """False: ferrum has no NCCL backend yet (it would need CuPy's NCCL and a CUDA GPU)."""
    return False


def is_torchelastic_launched() -> bool:
    return False


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def default_group() -> ProcessGroup:
    pg = GroupMember.WORLD
    if pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return pg


def resolve(g) -> ProcessGroup:
    """The ProcessGroup an operation's ``group=`` argument names (None: the default group)."""
    if g is None or g is GroupMember.WORLD:
        return default_group()
    if g is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("this rank is not a member of the process group")
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup or None, got {type(g).__name__}")
    if g._comm is None:
        raise ValueError("the process group was destroyed")
    return g


def _backend_for_cpu(backend) -> str:
    if backend is None:
        return Backend.GLOO
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string, got {type(backend).__name__}")
    name = backend.lower()
    if ":" in name:  # "cpu:gloo,cuda:nccl": ferrum's tensors here are CPU tensors
        parts = dict(p.split(":", 1) for p in name.split(",") if ":" in p)
        name = parts.get("cpu", next(iter(parts.values())))
    if name == Backend.NCCL:
        raise RuntimeError("init_process_group: backend 'nccl' is not available in ferrum (it needs NCCL "
                           "through CuPy and a CUDA GPU; ferrum has no NCCL backend yet): use 'gloo' or "
                           "'mpi' for CPU tensors")
    if name not in (Backend.GLOO, Backend.MPI):
        raise ValueError(f"Invalid backend: '{backend}' (ferrum offers 'mpi' and 'gloo', served by MPI)")
    return Backend(name)


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Joins this process to the job's default process group.

    ``backend``: "mpi" or "gloo" (both MPI on CPU tensors); "nccl" raises (no NCCL backend).
    ``init_method``: "env://" or None (the launcher's MPI job is the rendezvous); other URLs are
    accepted only when the job was started by an MPI launcher, whose rendezvous they then name.
    ``world_size``/``rank``: -1 or MPI's values. ``timeout``: how long a collective waits for the
    other ranks before it raises (default 30 minutes)."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _backend_for_cpu(backend)
    if store is not None:
        raise ValueError("init_process_group: ferrum has no store-based rendezvous (store=...); the MPI "
                         "job started by `ferrum run`/mpiexec is the rendezvous")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError("init_method must be a string")
    MPI = mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    want_size = world_size if world_size != -1 else env_int("WORLD_SIZE")
    want_rank = rank if rank != -1 else env_int("RANK")
    if want_size is not None and want_size != size:
        hint = ("this process was not started by an MPI launcher: run it with `ferrum run -n "
                f"{want_size} script.py` (or mpiexec -n {want_size})") if size == 1 else \
            "the launcher started a different number of processes"
        raise ValueError(f"init_process_group: world_size={want_size} but the MPI job has {size} "
                         f"process(es); {hint}")
    if want_rank is not None and want_rank != me:
        raise ValueError(f"init_process_group: rank={want_rank} but MPI gives this process rank {me}; "
                         "ranks come from the launcher")
    if init_method not in (None, "env://") and size == 1 and (want_size or 1) > 1:
        raise ValueError(f"init_process_group: init_method={init_method!r} needs an MPI launcher")
    pg = ProcessGroup(world.Dup(), list(range(size)), name, timeout, group_name or "0")
    GroupMember.WORLD = pg
    engine()
    if size > 1:
        install_abort_hook()


def destroy_process_group(group=None) -> None:
    """Destroys ``group`` (default: the default group and every group made by new_group; later calls
    need init_process_group again). Queued operations finish first."""
    if group is None or group is GroupMember.WORLD:
        if GroupMember.WORLD is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        stop_engine()
        for g in list(_groups) + [GroupMember.WORLD]:
            _free(g)
        _groups.clear()
        GroupMember.WORLD = None
        return
    g = resolve(group)
    _groups.discard(g)
    if not g._broken:  # after the group's queued operations, on the thread that uses its communicator
        engine().submit(g, Work("destroy_process_group"), lambda: _free(g)).wait()
    _free(g)


def _free(g: ProcessGroup) -> None:
    if g._comm is not None:
        try:
            g._comm.Free()
        except Exception:  # noqa: BLE001 - a broken group's communicator may refuse; it is dropped anyway
            pass
        g._comm = None


_groups: set = set()


def new_group(ranks: list[int] | None = None, timeout: datetime.timedelta | None = None, backend=None,
              pg_options=None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id=None):
    """A process group of the given global ranks (all ranks when None). Every rank of the default group
    must call it, with the same ranks, in the same order (as in torch); ranks outside the group get
    ``GroupMember.NON_GROUP_MEMBER``."""
    world = default_group()
    n = world.size()
    members = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(members)) != len(members) or any(r < 0 or r >= n for r in members):
        raise ValueError(f"new_group: ranks {ranks} must be distinct ranks of the world (size {n})")
    backend = world._backend if backend is None else _backend_for_cpu(backend)
    timeout = world._timeout if timeout is None else timeout
    key = hash(tuple(members)) & 0x7FFFFFFFFFFF
    work = Work("new_group")

    def run():
        handshake(world, describe("new_group", None, extra=key), "new_group",)
        color = 0 if world.rank() in members else mpi().UNDEFINED
        return world._comm.Split(color, members.index(world.rank()) if color == 0 else 0)

    comm = engine().submit(world, work, run).get_future().wait()
    if comm == mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members, backend, timeout, group_desc or f"{len(_groups) + 1}")
    _groups.add(pg)
    return pg


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (-1 when it is not a member, as torch returns)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).rank()


def get_world_size(group=None) -> int:
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).size()


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its node: LOCAL_RANK (set by ``ferrum run``), else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device "
                       "context and want the code to run locally instead.")


def is_backend_available(backend: str) -> bool:
    """True for the backends ferrum serves here ("gloo" and "mpi", with mpi4py installed)."""
    return str(backend).lower() in (Backend.GLOO, Backend.MPI) and is_available()


def get_backend(group=None) -> str:
    return resolve(group)._backend


def get_process_group_ranks(group) -> list[int]:
    return list(resolve(group).ranks)


def get_global_rank(group, group_rank: int) -> int:
    pg = resolve(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg.ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    pg = resolve(group)
    if global_rank not in pg.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg.ranks.index(global_rank)


# ------------------------------------------------------------------------- abort the job on an error
_hook_installed = False


def install_abort_hook() -> None:
    """An uncaught exception on one rank aborts the whole MPI job (MPI_Abort), instead of leaving the
    other ranks waiting forever in their next collective. Chains to the previous excepthook (which
    prints the traceback) first. Installed by init_process_group when the world has several ranks
    (torch has no such hook; a stuck job is worse than a stopped one). Uncaught exceptions in other
    threads keep Python's behaviour (printed; the thread ends)."""
    global _hook_installed
    if _hook_installed:
        return
    _hook_installed = True
    previous = sys.excepthook

    def hook(tp, value, tb):
        try:
            previous(tp, value, tb)
            sys.stderr.flush()
        finally:
            abort(1)
    sys.excepthook = hook


def abort(code: int = 1) -> None:
    """Ends every process of the job now (MPI_Abort on COMM_WORLD). Waits 0.5 s first: the process
    manager forwards the ranks' output asynchronously and drops what it has not forwarded when the
    job is torn down, which cut tracebacks short in about one run in three."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    time.sleep(0.5)
    mpi().COMM_WORLD.Abort(code)
