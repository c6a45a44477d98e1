"""``nn.utils``: gradient clipping, parameter/vector conversion, conv/bn fusion, and the hook-based
weight_norm / spectral_norm."""

from . import clip_grad, convert_parameters  # noqa: F401
from . import rnn  # noqa: F401
from . import parametrizations, parametrize  # noqa: F401
from . import prune  # noqa: F401
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import *  # noqa: F401,F403
from .weight_norm import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "remove_spectral_norm",
           "remove_weight_norm", "spectral_norm", "weight_norm"]
