"""``ferrum.distributed.algorithms.ddp_comm_hooks``: hooks for
``DistributedDataParallel.register_comm_hook`` (:mod:`.default_hooks`)."""

from . import default_hooks  # noqa: F401
