"""Weight initialisation (``nn.init``), in place and without autograd, as in PyTorch.

Every function fills its tensor in place under ``no_grad`` and returns it. Random fills draw from
ferrum's generators (the default one, or ``generator=``), which give PyTorch's CPU streams, and they
draw in PyTorch's order, so a seeded program initialises its weights to PyTorch's values (to
rounding: QR and float32 normals agree to a few ulps).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from .._device import move_array, xp_of_array
from .._dtype import from_np, scalar_name
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .. import _rng_streams
from ..random import _stream

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]

_LINEAR_FNS = frozenset(("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                         "conv_transpose2d", "conv_transpose3d"))


# --------------------------------------------------------------------------- helpers
def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """The fan selected by ``mode`` (``'fan_in'`` or ``'fan_out'``, any case)."""
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _float_only(tensor: Tensor, op: str) -> None:
    if from_np(tensor._data.dtype).category < 2:
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(tensor.dtype)}'")


def _work_dtype(tensor: Tensor):
    """The NumPy dtype to draw samples in: the tensor's own for float32/float64, else float64
    (NumPy's generators draw no other precision)."""
    d = tensor._data.dtype
    return d if d == np.float32 or d == np.float64 else np.dtype(np.float64)


def _writable(tensor: Tensor, op: str):
    d = tensor._data
    if not getattr(d.flags, "writeable", True):
        raise RuntimeError(f"{op}: unsupported operation: the tensor is read-only (for example an "
                           "expanded view); clone() it first")
    return d


def _store(tensor: Tensor, arr: np.ndarray, op: str) -> Tensor:
    """Writes the host array ``arr`` (tensor's shape) into ``tensor``, on its device, cast."""
    d = _writable(tensor, op)
    if d.__class__ is np.ndarray:
        np.copyto(d, arr.reshape(d.shape), casting="unsafe")
    else:
        d[...] = move_array(np.asarray(arr).reshape(d.shape), tensor.device).astype(d.dtype, copy=False)
    tensor._version[0] += 1
    return tensor


def _no_grad_uniform_(tensor: Tensor, a: float, b: float, generator=None) -> Tensor:
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def _no_grad_normal_(tensor: Tensor, mean: float, std: float, generator=None) -> Tensor:
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _no_grad_fill_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        return tensor.fill_(val)


def _no_grad_zero_(tensor: Tensor) -> Tensor:
    with no_grad():
        return tensor.zero_()


# --------------------------------------------------------------------------- gain
def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    linear/conv*/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2)) with
    ``param`` the negative slope (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        # the self-normalising choice: gives the right scale for SELU nets (PyTorch's value)
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


# --------------------------------------------------------------------------- plain fills
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fills ``tensor`` (any shape, floating) with values drawn from U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fills ``tensor`` (any shape, floating) with values drawn from N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills ``tensor`` with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` with ones."""
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` with zeros."""
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fills the 2-D ``tensor`` ``(n, m)`` with the identity (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    d = _writable(tensor, "eye_")
    d[...] = 0
    k = min(d.shape)
    if k:
        r = np.arange(k) if d.__class__ is np.ndarray else move_array(np.arange(k), tensor.device)
        d[r, r] = 1
    tensor._version[0] += 1
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fills the 3-, 4- or 5-D ``tensor`` ``(out, in, *kernel)`` with the Dirac delta: a
    convolution with it is the identity on the first ``min(out/groups, in)`` channels of each group.
    """
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    min_dim = min(per_group, sizes[1])
    d = _writable(tensor, "dirac_")
    d[...] = 0
    if min_dim:
        for ax in range(2, dims):
            if sizes[ax] == 0:
                raise IndexError(f"index 0 is out of bounds for dimension {ax} with size 0")
        inner = np.arange(min_dim)
        out_idx = (np.arange(groups)[:, None] * per_group + inner).ravel()
        in_idx = np.tile(inner, groups)
        if d.__class__ is not np.ndarray:
            out_idx, in_idx = move_array(out_idx, tensor.device), move_array(in_idx, tensor.device)
        d[(out_idx, in_idx) + tuple(s // 2 for s in sizes[2:])] = 1
    tensor._version[0] += 1
    return tensor


# --------------------------------------------------------------------------- scaled random fills
def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
    ``tensor`` has at least 2 dimensions."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    with no_grad():
        return tensor.uniform_(-a, a, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
    ``tensor`` has at least 2 dimensions."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    with no_grad():
        return tensor.normal_(0.0, std, generator=generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: U(-bound, bound), bound = gain * sqrt(3 / fan), with
    ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` chosen by ``mode``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))
    with no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: N(0, std^2), std = gain / sqrt(fan), with
    ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` chosen by ``mode``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    with no_grad():
        return tensor.normal_(0.0, std, generator=generator)


# --------------------------------------------------------------------------- truncated normal
def _std_normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fills ``tensor`` with draws from N(mean, std^2) truncated to [a, b], by rejection as PyTorch
    2.13 draws them (so a seeded program gets PyTorch's values): when [a, b] holds more than 30% of
    the mass, normal draws of the whole tensor redrawn where out of bounds; otherwise uniform draws
    on [a, b] accepted with probability pdf(x) / pdf(mode), the rejected ones redrawn."""
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    # as in PyTorch, std == 0 raises ZeroDivisionError here
    p = _std_normal_cdf((b - mean) / std) - _std_normal_cdf((a - mean) / std)
    _float_only(tensor, "trunc_normal_")
    if tensor.numel() == 0:
        return tensor
    from ..ops.select import where
    with no_grad():
        if p > 0.3:
            lo, hi = tensor.new_tensor(a).item(), tensor.new_tensor(b).item()
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                outside = (result < lo) | (result > hi)
                if not outside.any():
                    break
                fresh = result.new_empty(result.shape).normal_(mean, std, generator=generator)
                result = where(outside, fresh, result)
            if result is not tensor:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def log_density(x):  # log pdf(x) - log pdf(mode), in place on x
            return x.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

        def rejected(cand):
            return accept.uniform_(generator=generator).log_().gt(cand)

        accept = tensor.new_empty(tensor.shape)
        tensor.uniform_(a, b, generator=generator)
        candidates = log_density(tensor.clone())
        pending = rejected(candidates)
        if pending.any():
            result = tensor
            while True:
                candidates.uniform_(a, b, generator=generator)
                result = where(pending, candidates, result)
                pending = where(pending, rejected(log_density(candidates)), pending)
                if not pending.any():
                    break
            tensor.copy_(result)
    return tensor


# --------------------------------------------------------------------------- structured fills
def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fills ``tensor`` (at least 2-D, viewed as ``(shape[0], numel / shape[0])``) with a
    (semi-)orthogonal matrix times ``gain``: the rows are orthonormal when rows <= cols, else
    the columns. Drawn as Q of the QR of a Gaussian matrix with the signs of diag(R) folded in,
    which makes Q Haar-distributed. Half-precision tensors are computed in float32 (PyTorch has
    no half QR on CPU)."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    n = tensor.numel()
    if n == 0:
        return tensor
    _float_only(tensor, "orthogonal_")
    rows = tensor.shape[0]
    cols = n // rows
    td = tensor._data.dtype
    wd = td if td == np.float32 or td == np.float64 else np.dtype(np.float32)
    flat = _rng_streams.normal(_stream(generator), rows * cols, np.dtype(wd)).reshape(rows, cols)
    wide = rows < cols
    if wide:
        flat = flat.T
    d = tensor._data
    if d.__class__ is not np.ndarray:
        # the factorisation runs where the tensor lives
        flat = move_array(flat, tensor.device)
    xp = np if d.__class__ is np.ndarray else xp_of_array(d)
    q, r = xp.linalg.qr(flat)
    q *= xp.sign(xp.diagonal(r))
    if wide:
        q = q.T
    if gain != 1:
        q *= gain
    w = _writable(tensor, "orthogonal_")
    w[...] = q.reshape(w.shape).astype(w.dtype, copy=False)
    tensor._version[0] += 1
    return tensor


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fills the 2-D ``tensor`` ``(rows, cols)`` with N(0, std^2) values, then zeroes
    ``ceil(sparsity * rows)`` randomly chosen entries in every column: the first rows of one
    permutation per column, drawn from the default generator (as PyTorch, whatever ``generator``)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
    if cols == 0:
        return tensor
    d = _writable(tensor, "sparse_")
    default = _stream(None)
    for col in range(cols):
        drop = _rng_streams.randperm(default, rows)[:num_zeros]
        if drop.size:
            d[move_array(drop, tensor.device) if d.__class__ is not np.ndarray else drop, col] = 0
    tensor._version[0] += 1
    return tensor


def _no_grad_trunc_normal_(tensor: Tensor, mean: float, std: float, a: float, b: float,
                           generator=None) -> Tensor:
    return trunc_normal_(tensor, mean, std, a, b, generator)


# --------------------------------------------------------------------------- deprecated aliases
def _deprecated(fn: Callable) -> Callable:
    new_name = fn.__name__
    old_name = new_name[:-1]

    def alias(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated: use ``nn.init.{new_name}``.\n\n{fn.__doc__}"
    return alias


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
