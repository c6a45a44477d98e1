"""``ferrum.distributed``: torch.distributed's API on MPI (mpi4py with the mpich wheel: the ``dist``
extra, ``pip install 'ferrum-dl[dist]'``).

Real processes, one per rank, started by ``ferrum run -n N script.py`` (run.py: a torchrun-style
front end to the venv's own mpiexec), by ``mpiexec -n N python -m mpi4py script.py``, or by a
scheduler (``srun``). ``init_process_group("gloo" | "mpi")`` joins the job's default process group;
"gloo" is accepted so that PyTorch programs run unchanged, and both are served by MPI for CPU
tensors. "nccl" raises a clear error: ferrum has no NCCL backend (it would need CuPy's NCCL and a
GPU). ``is_available()`` is True when mpi4py is installed; ``import ferrum.distributed`` itself never
needs it (MPI starts at init_process_group).

Layout: _engine.py (the communication thread, Work/Future, the size/dtype handshake that turns
mismatches and absent ranks into errors instead of hangs), _init.py (process groups, ranks, the abort
hook), _collectives.py (tensor collectives), _p2p.py (send/recv and the object collectives), run.py
(the launcher).
"""

from __future__ import annotations

from ._collectives import (all_gather, all_gather_into_tensor, all_reduce, all_to_all, all_to_all_single,
                           barrier, broadcast, gather, monitored_barrier, reduce, reduce_scatter,
                           reduce_scatter_tensor, scatter)
from ._engine import (Backend, DistBackendError, DistError, Future, ProcessGroup, RedOpType, ReduceOp,
                      Work)
from ._init import (GroupMember, destroy_process_group, get_backend, get_global_rank, get_group_rank,
                    get_node_local_rank, get_process_group_ranks, get_rank, get_world_size, group,
                    init_process_group, is_available, is_backend_available, is_gloo_available,
                    is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched,
                    new_group)
from ._grad_bucket import GradBucket
from ._p2p import (P2POp, all_gather_object, batch_isend_irecv, broadcast_object_list, gather_object, irecv,
                   isend, recv, scatter_object_list, send)

__all__ = ["Backend", "DistBackendError", "DistError", "Future", "GradBucket", "GroupMember", "P2POp",
           "ProcessGroup",
           "RedOpType", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_object",
           "all_reduce", "all_to_all", "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast",
           "broadcast_object_list", "destroy_process_group", "gather", "gather_object", "get_backend",
           "get_global_rank", "get_group_rank", "get_node_local_rank", "get_process_group_ranks", "get_rank",
           "get_world_size", "group", "init_process_group", "irecv", "is_available", "is_backend_available",
           "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "is_torchelastic_launched", "isend", "monitored_barrier", "new_group", "recv", "reduce",
           "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send"]
