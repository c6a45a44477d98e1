"""Neural-network layers, losses and helpers, following ``torch.nn``."""

from .parameter import Buffer, Parameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import functional, init, modules, parameter  # noqa: F401
from .parallel import DataParallel  # noqa: F401  (torch.nn.DataParallel; binds nn.parallel too)
from . import attention  # noqa: F401  (torch.nn.attention: sdpa_kernel, SDPBackend)
import importlib as _importlib  # noqa: E402

# `from .modules import *` binds the submodule nn.modules.utils (torch's _pair, ...) as `utils`, and
# `from . import utils` would then keep it: nn.utils is the package of clip_grad_norm_, rnn, ...
utils = _importlib.import_module(__name__ + ".utils")
