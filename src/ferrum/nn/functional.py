"""``nn.functional``: the layers as functions (PyTorch's ``torch.nn.functional``)."""

from ..ops.linear import bilinear, linear  # noqa: F401
from ..ops.softmax import log_softmax, softmax  # noqa: F401
from ..ops.activation import *  # noqa: F401,F403
from ..ops.nn_misc import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403
from ..ops.pool import *  # noqa: F401,F403
from ..ops.normalization import *  # noqa: F401,F403
from ..ops.interpolate import *  # noqa: F401,F403
from ..ops.pixel_shuffle import *  # noqa: F401,F403
from ..ops.grid_sample import *  # noqa: F401,F403
from ..ops.attention import *  # noqa: F401,F403
from ..ops.embedding import *  # noqa: F401,F403
from ..ops.gumbel import gumbel_softmax  # noqa: F401
from ..ops.ctc import ctc_loss  # noqa: F401
