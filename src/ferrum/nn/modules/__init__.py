"""The layers, one file per family (PyTorch's module paths: ``ferrum.nn.modules.linear.Linear``)."""

from .module import Module  # noqa: F401
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .instancenorm import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403


def __getattr__(name):
    # torch.nn.modules.utils (_pair, _single, ...) as an attribute, loaded on first use: bound at
    # import, `from .modules import *` in nn/__init__.py would carry it over nn.utils
    if name == "utils":
        import importlib
        return importlib.import_module(".utils", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
