"""Pooling (``torch.nn.functional``'s pooling ops): the face of ``pool_max.py`` (max pooling, its
adaptive form and max unpooling) and ``pool_avg.py`` (average, adaptive average and power-average
pooling), which share the window arithmetic of ``_pool_common.py``. ``nn.functional`` re-exports it.
"""

from .pool_avg import *  # noqa: F401,F403
from .pool_avg import __all__ as _avg_all
from .pool_max import *  # noqa: F401,F403
from .pool_max import __all__ as _max_all

__all__ = _max_all + _avg_all
