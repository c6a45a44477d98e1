"""Neural-network layers, losses and helpers, following ``torch.nn``."""

from .parameter import Buffer, Parameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import functional, init, modules, parameter, utils  # noqa: F401
from .parallel import DataParallel  # noqa: F401  (torch.nn.DataParallel; binds nn.parallel too)
from . import attention  # noqa: F401  (torch.nn.attention: sdpa_kernel, SDPBackend)
