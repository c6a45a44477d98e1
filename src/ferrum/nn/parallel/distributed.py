"""``ferrum.nn.parallel.DistributedDataParallel``: data parallelism across processes, PyTorch's DDP.

Each process (rank) holds a replica of the module and trains it on its own shard of every batch
(``DistributedSampler``); after each backward every parameter's ``.grad`` is the average of the
ranks' gradients, so the optimizer steps keep the replicas identical. What happens when:

- construction: the parameter shapes are checked to agree across ranks (one small all-reduce of a
  count and a shape digest), then rank 0's parameters and buffers are broadcast (coalesced: one
  flat message per dtype) so that every replica starts from the same state;
- each forward (in a synced iteration): the module's buffers (BatchNorm's running statistics) are
  broadcast from rank 0 first (``broadcast_buffers``), then the forward runs and the reducer is
  armed;
- backward: gradients are copied into buckets as they become ready and every full bucket is
  all-reduced without blocking while backward goes on (``_reducer.py`` has the details and the
  unused-parameter rules); at the end of backward the averaged gradients are in ``.grad``.

``no_sync()`` turns the reduction off for the iterations inside it (gradients accumulate locally;
the first backward after it reduces the accumulated sums). ``register_comm_hook(state, hook)``
replaces the all-reduce of each bucket (``ferrum.distributed.algorithms.ddp_comm_hooks``:
``allreduce_hook``, ``fp16_compress_hook``, ``bf16_compress_hook``). The module lives at
``.module``, so state dicts carry the prefix ``module.``, as PyTorch's; load one into the bare
model after ``ferrum.nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, "module.")``.

Difference from PyTorch: ``SyncBatchNorm`` layers are allowed in a CPU module (PyTorch requires
GPU modules for them); see :class:`ferrum.nn.SyncBatchNorm`.
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ... import _state
from ..._tensor import Tensor, _wrap
from ..modules.module import Module
from ._reducer import FIRST_BUCKET_BYTES, Reducer, find_tensors

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


def _dist():
    from ... import distributed
    return distributed


def _group_size(dist: Any, group: Any) -> tuple[int, int]:
    return dist.get_world_size(group), dist.get_rank(group)


def _src_rank(dist: Any, group: Any) -> int:
    """The global rank of ``group``'s rank 0 (the source of the broadcasts)."""
    return 0 if group is None else dist.get_global_rank(group, 0)


def broadcast_coalesced(tensors: list[Tensor], src: int, group: Any) -> None:
    """Broadcasts ``tensors`` from ``src`` in one flat message per dtype (and array type), written
    back in place. Version counters are not bumped (the values are a replica's, not a new state)."""
    dist = _dist()
    by_kind: dict[Any, list[Tensor]] = {}
    for t in tensors:
        if t._data.size:
            by_kind.setdefault((t._data.dtype, type(t._data)), []).append(t)
    for items in by_kind.values():
        arrays = [t._data for t in items]
        flat = _wrap(np.concatenate([a.reshape(-1) for a in arrays]))
        dist.broadcast(flat, src, group=group)
        off = 0
        for a in arrays:
            n = a.size
            np.copyto(a, flat._data[off:off + n].reshape(a.shape))
            off += n


def _verify_shapes(params: list[Tensor], group: Any) -> None:
    """Raises RuntimeError on every rank unless all ranks have the same parameter count, shapes and
    dtypes (one all-reduce of [count, -count, digest, -digest] with MAX)."""
    dist = _dist()
    text = ";".join(f"{tuple(p.shape)}{p._data.dtype}" for p in params).encode()
    digest = int.from_bytes(hashlib.blake2b(text, digest_size=7).digest(), "little")
    n = len(params)
    probe = _wrap(np.array([n, -n, digest, -digest], dtype=np.int64))
    dist.all_reduce(probe, op=dist.ReduceOp.MAX, group=group)
    hi_n, lo_n, hi_d, lo_d = (int(v) for v in probe._data)
    if hi_n != -lo_n or hi_d != -lo_d:
        raise RuntimeError(
            f"DDP expects same model across all ranks, but this rank has {n} parameters and the ranks "
            f"disagree on their count ({-lo_n} to {hi_n}) or on their shapes and dtypes")


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training over the ranks of ``process_group`` (default:
    the whole world of ``ferrum.distributed.init_process_group``).

    Args:
        module: the replica; after construction its parameters and buffers are rank 0's.
        device_ids, output_device: for a single-device cuda module, its device (optional); must be
            None for a CPU module (ValueError, as PyTorch).
        dim: accepted for PyTorch's signature (the batch dimension of a scattered input).
        broadcast_buffers: deprecated in PyTorch 2.13 in favour of ``forward_sync_buffers`` (a
            FutureWarning when given); False neither syncs buffers at construction nor before each
            forward. Default: True.
        init_sync: check the parameter shapes and broadcast rank 0's state at construction.
        bucket_cap_mb: bucket size in MiB (default 25; with the default, the bucket reduced last is
            1 MiB).
        find_unused_parameters: trace the forward's outputs to find the parameters that take no
            part in the loss (they get no gradient, and do not stall the reduction).
        gradient_as_bucket_view: after the first synced backward, each ``.grad`` is a view of its
            bucket (no copy back; ``zero_grad(set_to_none=True)`` drops the views).
        static_graph: the set of used parameters is the same every iteration (traced once).
        forward_sync_buffers: broadcast the buffers before each forward (default
            ``broadcast_buffers``); buffers are then always synced at construction.
    """

    def __init__(self, module: Module, device_ids: list | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, *,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        dist = _dist()
        if process_group is None:
            if not dist.is_initialized():
                raise ValueError("Default process group has not been initialized, please make sure to "
                                 "call init_process_group.")
            process_group = dist.group.WORLD
        params, names, seen = [], [], set()
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
                names.append(name)
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any "
                               "parameter that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        device_types = {p.device.type for p in module.parameters()}
        if len(device_types) != 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of devices, "
                             f"but input module parameters locate in {device_types}.")
        self.device_type = next(iter(device_types))
        if self.device_type == "cpu" or not device_ids:
            if device_ids or output_device:
                devices = {p.device for p in module.parameters()}
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work with "
                    "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                    f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
            self.device_ids = None
            self.output_device = None
        else:
            self.device_ids = list(device_ids)
            self.output_device = device_ids[0] if output_device is None else output_device
        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. "
                          "IMPORTANT: unlike `broadcast_buffers=False`, `forward_sync_buffers=False` "
                          "still syncs buffers at init.", FutureWarning, stacklevel=2)
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is "
                          "deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers = bool(forward_sync_buffers)
            init_sync_buffers = True
        else:
            self.forward_sync_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
            init_sync_buffers = self.forward_sync_buffers
        self.broadcast_buffers = self.forward_sync_buffers
        self.module = module
        self.dim = dim
        self.process_group = process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap * _MB)
        world, rank = _group_size(dist, process_group)
        if init_sync:
            _verify_shapes(params, process_group)
            states = [p for p in module.parameters()]
            if init_sync_buffers:
                states += [b for b in module.buffers() if b is not None]
            broadcast_coalesced(states, _src_rank(dist, process_group), process_group)
        self._comm_hooks: list = []
        self.reducer = Reducer(params, names, process_group, world, rank, self.bucket_bytes_cap,
                               FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap,
                               gradient_as_bucket_view, find_unused_parameters, static_graph)

    def __del__(self) -> None:
        reducer = self.__dict__.get("reducer")
        if reducer is not None:
            reducer.remove_hooks()

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Runs ``module(*inputs, **kwargs)``; buffers are broadcast from rank 0 first, and, when
        grad mode is on outside ``no_sync()``, the next backward averages the gradients."""
        sync = _state.grad_enabled and self.require_backward_grad_sync
        if sync:
            self.reducer.prepare_for_forward()
        if self.require_forward_param_sync and self.forward_sync_buffers:
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            trace = self.find_unused_parameters or (self.static_graph and self.reducer.static_unused is None)
            self.reducer.prepare_for_backward(find_tensors(output) if trace else None)
        else:
            self.require_forward_param_sync = False
        return output

    def _sync_buffers(self) -> None:
        bufs = [b for b in self.module.buffers() if b is not None]
        if bufs:
            dist = _dist()
            broadcast_coalesced(bufs, _src_rank(dist, self.process_group), self.process_group)

    def will_sync_module_buffers(self) -> bool:
        """Whether the next forward broadcasts the buffers."""
        return (self.require_forward_param_sync and self.forward_sync_buffers
                and any(b is not None for b in self.module.buffers()))

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward passes only accumulate gradients locally; the first synced backward
        afterwards reduces the accumulated ``.grad``::

            with ddp.no_sync():
                for x in micro_batches[:-1]:
                    ddp(x).sum().backward()
            ddp(micro_batches[-1]).sum().backward()  # averages the sum over all micro-batches
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def register_comm_hook(self, state: object, hook: Callable) -> None:
        """``hook(state, bucket: GradBucket) -> ferrum.futures.Future[Tensor]`` reduces each bucket
        instead of the default all-reduce; the Future's value (the bucket's reduced flat tensor)
        is written into the gradients. May be called once, before the first backward."""
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        params = inspect.signature(hook).parameters
        if len(params) < 2:
            raise ValueError("Communication hook must take two arguments: (state, bucket)")
        if self._comm_hooks:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        if self.reducer.require_finalize:
            raise RuntimeError("register_comm_hook must be called before the first backward of an iteration")
        self._comm_hooks.append((hook, state))
        self.reducer.set_comm_hook(state, hook)
