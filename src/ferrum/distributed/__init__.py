"""``ferrum.distributed``: what ``torch.distributed`` is in a PyTorch build without distributed
support (USE_DISTRIBUTED=0): importable, with ``is_available()`` False.

Vision programs (PyTorch's ImageNet example among them) ``import torch.distributed as dist`` at the
top and touch it only when asked to train on several processes; with this module they import and
run on one process. Process groups, collectives and DistributedDataParallel's synchronisation are
not implemented; ``is_available()`` says so, the check torch documents for exactly this case, and
``is_initialized()`` is False. ``init_process_group`` raises RuntimeError saying it is unavailable.
"""

from __future__ import annotations

__all__ = ["ProcessGroup", "init_process_group", "is_available", "is_initialized"]


def is_available() -> bool:
    """False: this build has no process groups (see the module docstring)."""
    return False


def is_initialized() -> bool:
    """False: no default process group can exist."""
    return False


def init_process_group(*args, **kwargs) -> None:
    raise RuntimeError("ferrum.distributed is not available (no process-group backend in this build); "
                       "train on one process, or check ferrum.distributed.is_available() first")


class ProcessGroup:
    """Placeholder type (as torch's non-distributed builds define one) so annotations resolve."""
