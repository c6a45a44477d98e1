"""``ferrum.nn.parallel.distributed``: the name ``DistributedDataParallel``, for the imports of programs.

Training programs write ``from torch.nn.parallel import DistributedDataParallel as DDP`` at the top and
wrap the model in it only when launched on several processes (``if args.distributed: model =
DDP(model)``). So that such programs import and run on one process, the class exists; constructing
it raises ``NotImplementedError``, because ferrum has no process groups yet (ferrum.distributed is
issue 14, which replaces this file with the real wrapper).
"""

from __future__ import annotations

from typing import Any

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Raises ``NotImplementedError``: distributed data parallelism needs ferrum.distributed (issue 14).
    On one process, train the module itself (or ``nn.DataParallel(module)``)."""

    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "ferrum.nn.parallel.DistributedDataParallel: ferrum has no distributed training yet (no "
            "process groups, ferrum.distributed is issue 14); on one process train the module itself")
