"""``ferrum.nn.parallel``: torch.nn.parallel's data-parallel wrappers.

Vision programs import it (``import torch.nn.parallel``) and wrap their model in
``nn.DataParallel(model)`` before training; on a machine without a GPU that wrapper just runs the
module, as PyTorch's does (see :mod:`.data_parallel`). :class:`DistributedDataParallel` is the
multi-process wrapper over ``ferrum.distributed`` process groups (see :mod:`.distributed`).
"""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
