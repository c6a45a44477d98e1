"""ferrum: a deep-learning framework with PyTorch's API on NumPy (CPU) and CuPy (GPU)."""

from __future__ import annotations

__version__ = "0.1.0"

from . import _state  # noqa: F401
from ._dtype import *  # noqa: F401,F403
from ._dtype import bool, float, int  # noqa: A004,F401
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._tensor import Size, Tensor  # noqa: F401
from ._memory_format import *  # noqa: F401,F403
from ._factory import *  # noqa: F401,F403
from ._factory import range  # noqa: A004,F401
from . import ops as _ops  # noqa: F401  (attaches the ops to Tensor)
from .ops.elementwise import *  # noqa: F401,F403
from .ops.elementwise import abs, pow, round  # noqa: A004,F401
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.complex_ops import *  # noqa: F401,F403
from .ops.special_fn import *  # noqa: F401,F403
from .ops.stft import *  # noqa: F401,F403
from .ops.activation import relu, relu_  # noqa: F401  (torch.relu: the one relu, F.relu's)
from .ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from .ops.search import *  # noqa: F401,F403
from .ops.combine import *  # noqa: F401,F403
from .ops import tensor_apply as _tensor_apply  # noqa: F401  (Tensor.apply_)
from .ops.lu import lu, lu_solve, lu_unpack  # noqa: F401
from .ops.householder import geqrf, orgqr, ormqr  # noqa: F401
from .random import *  # noqa: F401,F403
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from ._repr import set_printoptions  # noqa: F401
from . import autograd, cuda  # noqa: F401
from ._threads import get_num_threads, set_num_threads, get_num_interop_threads, set_num_interop_threads  # noqa: F401,E501



def is_tensor(obj) -> bool:
    """True when ``obj`` is a ferrum Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def numel(input: Tensor) -> int:
    return input.numel()


def is_nonzero(input: Tensor) -> bool:
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.item() != 0


# torch's top-level activations that live in ops/activation.py, loaded on first use
_ACTIVATIONS = ("selu", "selu_", "celu", "celu_", "prelu", "rrelu", "rrelu_", "hardshrink", "threshold",
                "threshold_", "cosine_similarity", "pairwise_distance", "pdist")
_TENSOR_ACTIVATIONS = ("hardshrink", "prelu")


def _activation_method(name):
    def method(self, *args, **kwargs):
        from .nn import functional
        return getattr(functional, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


for _n in _TENSOR_ACTIVATIONS:
    setattr(Tensor, _n, _activation_method(_n))
del _n


# torch's top-level functions whose modules load on first use, by name -> module
_LAZY = {"save": ".serialization", "load": ".serialization", "cdist": ".ops.cdist", "autocast": ".amp",
         **{n: ".amp.autocast_mode" for n in (
             "is_autocast_available", "get_autocast_dtype", "is_autocast_enabled", "set_autocast_enabled",
             "set_autocast_dtype", "is_autocast_cpu_enabled", "get_autocast_cpu_dtype",
             "get_autocast_gpu_dtype",
             "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
             "autocast_increment_nesting", "autocast_decrement_nesting")}}
_LAZY.update(save_file=".serialization", load_file=".serialization")
_LAZY.update(compile="._compile")
_LAZY.update(dict.fromkeys(
    ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"), ".ops.windows"))
_LAZY.update(dict.fromkeys((
    "are_deterministic_algorithms_enabled", "get_deterministic_debug_mode", "get_float32_matmul_precision",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "set_float32_matmul_precision", "use_deterministic_algorithms"), "._settings"))
# torch's top-level spellings of nn.functional ops (conv2d, max_pool2d, batch_norm, ...): _nn_top.__all__
_LAZY.update(dict.fromkeys((
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout", "alpha_dropout_",
    "avg_pool1d", "batch_norm", "bilinear", "binary_cross_entropy_with_logits", "channel_shuffle",
    "constant_pad_nd", "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d",
    "ctc_loss",
    "conv_transpose3d", "convolution", "cosine_embedding_loss", "dropout", "dropout_", "embedding",
    "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout", "feature_dropout_", "grid_sampler",
    "grid_sampler_2d",
    "grid_sampler_3d", "group_norm", "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm",
    "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
    "native_channel_shuffle", "poisson_nll_loss", "rms_norm", "triplet_margin_loss", "gru_cell", "lstm_cell",
    "rnn_relu_cell", "rnn_tanh_cell"), "._nn_top"))


def __getattr__(name):
    # heavier submodules load on first use, to keep `import ferrum` light
    import importlib
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name in _ACTIVATIONS:
        return getattr(importlib.import_module(".nn.functional", __name__), name)
    if name in ("linalg", "backends", "nn", "optim", "utils", "serialization", "onnx", "distributed",
                "amp", "testing", "special", "fft", "datasets", "transforms", "train", "models",
                "accelerator", "version", "multiprocessing", "cpu", "func", "futures", "distributions",
                "profiler", "jit", "signal"):
        try:
            return importlib.import_module("." + name, __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"module 'ferrum' has no attribute {name!r}") from None
            raise
    raise AttributeError(f"module 'ferrum' has no attribute {name!r}")
