"""``ferrum.distributed.algorithms``: torch.distributed.algorithms' communication hooks for
DistributedDataParallel (:mod:`.ddp_comm_hooks`)."""

from . import ddp_comm_hooks  # noqa: F401
