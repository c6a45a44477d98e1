"""``ferrum.nn.parallel``: torch.nn.parallel's data-parallel wrappers.

Vision programs import it (``import torch.nn.parallel``) and wrap their model in
``nn.DataParallel(model)`` before training; on a machine without a GPU that wrapper just runs the
module, as PyTorch's does (see :mod:`.data_parallel`). :class:`DistributedDataParallel` is importable,
because programs import it by name at the top and use it only when launched distributed; building one
raises ``NotImplementedError`` until ferrum's distributed layer exists (issue 14).
"""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
