"""Functional helpers of ``torch.nn.functional``: one_hot, normalize, pad, the dropout family,
cosine_similarity, pairwise_distance and pdist.

Dropout draws from ferrum's global generator (``ferrum.manual_seed`` makes it reproducible) on
the CPU and from CuPy's global generator on a GPU. Its mask already holds the 1 / (1 - p) scale,
so forward and backward are one multiplication each.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _state
from .._dtype import from_np, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import elementwise as E
from ._common import canon_dim, xp_of
from .inplace import apply_inplace
from ._autocast import autocast_op, dispatch

__all__ = ["one_hot", "normalize", "pad", "dropout", "alpha_dropout", "feature_alpha_dropout",
           "dropout1d", "dropout2d", "dropout3d", "cosine_similarity", "pairwise_distance", "pdist"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool
# -(SELU scale * SELU alpha): the value SELU saturates to, which alpha dropout drops to
_ALPHA = 1.7580993408473766


def _check(input, op: str, arg: str = "input") -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(input).__name__}")


def _random(shape, d):
    """Uniform [0, 1) samples of ``shape`` on the device of array ``d`` (float32 unless ``d`` is
    float64), from the global generator."""
    npd = np.float64 if d.dtype == np.float64 else np.float32
    if d.__class__ is np.ndarray:
        from .. import _rng_streams
        from ..random import default_generator
        return _rng_streams.uniform(default_generator._stream, math.prod(shape), np.dtype(npd)).reshape(shape)
    return xp_of(d).random.random_sample(shape, dtype=npd)


def _uniform(d, lo: float, hi: float):
    """U(lo, hi) samples with the shape and dtype of array ``d``."""
    r = _random(d.shape, d)
    r *= hi - lo
    r += lo
    return r.astype(d.dtype, copy=False)


# --------------------------------------------------------------------------- one_hot
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*, num_classes) with a 1 at each index of ``tensor`` (int64, shape (*)).

    ``num_classes=-1`` takes max(tensor) + 1.
    """
    _check(tensor, "one_hot", "tensor")
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if isinstance(num_classes, _pybool) or not isinstance(num_classes, (_pyint, np.integer)):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    if d.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        if num_classes < -1:
            raise RuntimeError("num_classes should be -1 or a non-negative integer")
        return _wrap(xp_of(d).zeros(d.shape + (num_classes,), dtype=np.int64))
    lo, hi = (int(v) for v in (d.min(), d.max()))
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = hi + 1
    elif num_classes < -1:
        raise RuntimeError("num_classes should be -1 or a non-negative integer")
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    xp = xp_of(d)
    return _wrap((d[..., None] == xp.arange(num_classes)).astype(np.int64))


# --------------------------------------------------------------------------- normalize & distances
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``. Same shape as input."""
    _check(input, "normalize")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        out.copy_(r)
        return out
    return r


@autocast_op("cosine_similarity")
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``, after broadcasting
    x1 and x2. The result drops ``dim``."""
    _check(x1, "cosine_similarity", "x1")
    _check(x2, "cosine_similarity", "x2")
    from .shape import broadcast_tensors
    try:
        a, b = broadcast_tensors(x1, x2)
    except RuntimeError:
        raise RuntimeError(f"cosine_similarity(): x1 of shape {list(x1.shape)} and x2 of shape "
                           f"{list(x2.shape)} are not broadcastable") from None
    d = canon_dim(dim, a.ndim, "cosine_similarity")
    n1 = _clamped_norm(a, d, eps)
    n2 = _clamped_norm(b, d, eps)
    return ((a / n1) * (b / n2)).sum(d)


def _clamped_norm(x: Tensor, d: int, eps: float) -> Tensor:
    # PyTorch clamps the norm in place under no_grad: the value is max(norm, eps) while the
    # gradient is the unclamped norm's
    n = x.norm(2, d, keepdim=True)
    return n + (n.clamp_min(eps) - n).detach()


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (inputs broadcast). (N, D) -> (N)."""
    _check(x1, "pairwise_distance", "x1")
    _check(x2, "pairwise_distance", "x2")
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        return diff.abs() if p != 0 else (diff != 0).to(diff.dtype)
    return diff.norm(p, diff.ndim - 1, keepdim=keepdim)


@autocast_op("pdist")
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between all pairs of rows of ``input`` (N, M), as the flattened upper
    triangle: shape (N * (N - 1) / 2). Rows of no elements (M = 0) are at distance 0 for every p;
    with p = 0 a NaN coordinate makes the distance NaN, as PyTorch."""
    _check(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    from .shape import triu_indices
    ij = triu_indices(n, n, 1, device=input.device)
    diff = input.index_select(0, ij[0]) - input.index_select(0, ij[1])
    if input.shape[1] == 0:
        return diff.sum(1)  # empty rows: 0 (a max over no elements, for p = inf, has no value)
    if p == 0:
        # the count of differing coordinates, as PyTorch's min(ceil(|d|), 1): NaN stays NaN, and the
        # gradient is 0
        return diff.abs().ceil().clamp_max(1).sum(1)
    if p == math.inf:
        with np.errstate(invalid="ignore"):
            r = np.abs(diff._data).max(axis=1)
        return record(r, _PdistInfBackward, (diff,), save=(diff,), save_output=True)
    return diff.norm(p, 1)


class _PdistInfBackward(Node, name="PdistBackward0"):
    """As PyTorch's kernel, every coordinate tied for the largest |d| gets the whole gradient
    (``norm`` splits it between them): dd = g sign(d) where |d| equals the distance, else 0."""

    def backward_t(self, g, diff, out):
        return (E.where(diff.abs() == out.unsqueeze(1), g.unsqueeze(1) * diff.sign(), 0.0),)


# --------------------------------------------------------------------------- pad
def _pad_pairs(pad, ndim: int, op: str = "pad") -> list:
    if not isinstance(pad, (tuple, list)) and not (isinstance(pad, Tensor) and pad.ndim == 1):
        raise TypeError(f"{op}(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    pad = [v.item() if isinstance(v, Tensor) else v for v in pad]
    for i, v in enumerate(pad):
        if isinstance(v, _pybool) or not isinstance(v, (_pyint, np.integer)):
            raise TypeError(f"{op}(): argument 'pad' (position 2) must be tuple of ints, but found element "
                            f"of type {type(v).__name__} at pos {i}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {ndim}")
    # pad lists (last dim first); return one (before, after) per padded dim, from the first padded
    return [(int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)][::-1]


class _ConstantPadBackward(Node, name="ConstantPadNdBackward0"):
    def backward_t(self, g):
        # the gradient of a constant pad is the opposite crop (and vice versa)
        return (_constant_pad(g, [(-a, -b) for a, b in self.pairs], 0),)


def _constant_pad(input: Tensor, pairs: list, value) -> Tensor:
    d = input._data
    nd = d.ndim
    first = nd - len(pairs)
    shape = list(d.shape)
    src = [slice(None)] * nd
    dst = [slice(None)] * nd
    for k, (a, b) in enumerate(pairs):
        i = first + k
        n = shape[i]
        m = n + a + b
        if m < 0 or n + min(a, 0) + min(b, 0) < 0:
            raise RuntimeError(f"pad(): the padding ({a}, {b}) of dimension {i} of size {n} gives a "
                               f"negative size {m}")
        s0, s1 = max(-a, 0), n - max(-b, 0)
        t0 = max(a, 0)
        src[i] = slice(s0, max(s1, s0))
        dst[i] = slice(t0, t0 + max(s1 - s0, 0))
        shape[i] = m
    xp = xp_of(d)
    if value is None:
        value = 0
    if d.dtype.kind in "iub" and isinstance(value, _pyfloat):
        value = int(value)
    r = xp.full(shape, value, dtype=d.dtype)
    r[tuple(dst)] = d[tuple(src)]
    return record(r, _ConstantPadBackward, (input,), pairs=pairs)


def _index_pad(input: Tensor, pairs: list, mode: str) -> Tensor:
    """reflect / replicate / circular: each padded dim gathers with an index map (index_select
    is differentiable, so the backward scatters back and is itself differentiable)."""
    nd = input.ndim
    first = nd - len(pairs)
    xp = xp_of(input._data)
    out = input
    for k, (a, b) in enumerate(pairs):
        i = first + k
        n = input.shape[i]
        if mode == "reflect" and (a >= n or b >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({a}, {b}) at dimension {i} of input "
                               f"{list(input.shape)}")
        if mode == "circular" and (a > n or b > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and n == 0 and (a > 0 or b > 0):
            raise RuntimeError(f"pad(): padding dimension {i} of size 0 with mode 'replicate'")
        m = n + a + b
        if m < 0:
            raise RuntimeError(f"pad(): the padding ({a}, {b}) of dimension {i} of size {n} gives a "
                               f"negative size {m}")
        if mode == "circular" and (a < 0 or b < 0):
            # PyTorch crops first, then wraps around the cropped tensor
            out = out.narrow(i, max(-a, 0), n - max(-a, 0) - max(-b, 0))
            n, a, b = out.shape[i], max(a, 0), max(b, 0)
        c = np.arange(m) - a  # position of each output element in input coordinates
        if mode == "reflect":
            c = np.abs(c)
            c = np.where(c > n - 1, 2 * (n - 1) - c, c)
        elif mode == "replicate":
            c = np.clip(c, 0, n - 1)
        else:
            c = np.mod(c, n)
        out = out.index_select(i, _wrap(xp.asarray(c, dtype=np.int64)))
    return out


_NON_CONSTANT = {"reflect", "replicate", "circular"}


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pads the last len(pad) // 2 dimensions: ``pad = (left_last, right_last, left_prev, ...)``.

    ``mode``: 'constant' (with ``value``, default 0; negative pads crop, any number of dims),
    'reflect', 'replicate' or 'circular' (the last 1, 2 or 3 dims of a batched or unbatched input).
    """
    if _state.autocast and mode in ("reflect", "replicate") and isinstance(pad, (list, tuple)):
        name = ("reflection_pad" if mode == "reflect" else "replication_pad") + f"{len(pad) // 2}d"
        return dispatch(name, _pad, input, pad, mode, value)
    return _pad(input, pad, mode, value)


def _pad(input: Tensor, pad, mode: str, value) -> Tensor:
    _check(input, "pad")
    pairs = _pad_pairs(pad, input.ndim)
    if mode == "constant":
        return _constant_pad(input, pairs, value)
    if mode not in _NON_CONSTANT:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    k = len(pairs)
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {2 * k} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    return _index_pad(input, pairs, mode)


# --------------------------------------------------------------------------- dropout
class _DropoutBackward(Node, name="NativeDropoutBackward0"):
    """grad = g * mask (the mask holds 0 or the 1 / (1 - p) scale, broadcastable to g). A product,
    not a select, as PyTorch's native_dropout_backward: a dropped element's gradient is g * 0."""

    __slots__ = ("mask",)
    _saved = ("mask",)

    def backward(self, g):
        m = self.unreleased(self.mask)
        if g.__class__ is Tensor:
            return (g * _wrap(m),)
        return (g * m,)


def _apply_mask(input: Tensor, m, shift=None) -> Tensor:
    """input * m (+ shift): the result, recorded with a _DropoutBackward node."""
    r = input._data * m
    if shift is not None:
        r += shift
    res = _wrap(r)
    if input.requires_grad and _state.grad_enabled:
        attach(res, _DropoutBackward, (input,), mask=m)
    return res


def _check_p(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _float_check(input, op: str):
    _check(input, op)
    d = input._data
    if d.dtype.kind not in "fcV":
        raise RuntimeError(f"{op}(): result type Float can't be cast to the desired output type "
                           f"{scalar_name(from_np(d.dtype))}; dropout needs a floating point input")
    return d


def _keep_mask(d, shape, p: float, value: float):
    """Array of ``shape`` (dtype of d): ``value`` where kept (probability 1 - p), else 0. On the CPU
    the mask is PyTorch's ``bernoulli_(1 - p)`` draw (53-bit uniforms below 1 - p), so a seeded
    program drops the elements it drops under PyTorch."""
    if d.__class__ is np.ndarray:
        from .. import _rng_streams
        from ..random import default_generator
        keep = _rng_streams.bernoulli_scalar(default_generator._stream, math.prod(shape), 1.0 - p)
        r = keep.reshape(shape).astype(d.dtype)
    else:
        r = _random(shape, d)
        np.greater_equal(r, p, out=r, casting="unsafe")  # 1.0 where kept, 0.0 where dropped
    if value != 1.0:
        r *= d.dtype.type(value) if d.dtype.kind == "f" else value
    return r.astype(d.dtype, copy=False)


def _run(input, inplace: bool, fn, op: str) -> Tensor:
    if inplace:
        return apply_inplace(input, fn, op)
    return fn(input)


def _dropout_impl(input, p, inplace, mask_shape, op: str) -> Tensor:
    d = _float_check(input, op)
    if p == 1.0:
        m = xp_of(d).zeros(mask_shape, dtype=d.dtype)
    else:
        m = _keep_mask(d, mask_shape, p, 1.0 / (1.0 - p))
    return _run(input, inplace, lambda a: _apply_mask(a, m), op + "_" if inplace else op)


def _alpha_impl(input, p, inplace, mask_shape, op: str) -> Tensor:
    d = _float_check(input, op)
    if inplace:
        op += "_"
    if p == 1.0:
        m = xp_of(d).zeros(mask_shape, dtype=d.dtype)
        return _run(input, inplace, lambda t: _apply_mask(t, m), op)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1.0) * (1.0 - p))
    keep = _keep_mask(d, mask_shape, p, 1.0)
    # kept: a * x + alpha * a * p; dropped: -alpha * a + alpha * a * p
    shift = (keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p
    m = keep * a
    return _run(input, inplace, lambda t: _apply_mask(t, m, shift), op)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability ``p`` and scales the rest by 1 / (1 - p) while
    ``training``; the identity otherwise. Any shape."""
    _check_p(p)
    if not training or p == 0.0:
        _check(input, "dropout")
        return input
    return _dropout_impl(input, p, inplace, input.shape, "dropout")


def _feature_shape(input, op: str, batched: bool = True) -> tuple:
    s = tuple(input.shape)
    if batched:
        if len(s) < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        return s[:2] + (1,) * (len(s) - 2)
    # unbatched: channels are dim 0 (PyTorch adds a batch dim of 1)
    if len(s) < 1:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return s[:1] + (1,) * (len(s) - 1)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels: input (N, C, L) or (C, L); each channel dropped with probability p."""
    _check_p(p)
    _check(input, "dropout1d")
    nd = input.ndim
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                           "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or "
                           "3D inputs).")
    if not training or p == 0.0:
        return input
    return _dropout_impl(input, p, inplace, _feature_shape(input, "dropout1d", nd == 3), "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, H, W) input (a 3-D input is read as (N, C, L), as PyTorch)."""
    _check_p(p)
    _check(input, "dropout2d")
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout2d exists to provide "
                      "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
                      "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
                      "is the channel dim. This behavior will change in a future release to interpret "
                      "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
                      "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    if not training or p == 0.0:
        return input
    return _dropout_impl(input, p, inplace, _feature_shape(input, "dropout2d"), "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    _check(input, "dropout3d")
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout3d exists to provide "
                      "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
                      "and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    shape = _feature_shape(input, "dropout3d", nd == 5)
    if not training or p == 0.0:
        return input
    return _dropout_impl(input, p, inplace, shape, "dropout3d")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps the mean and variance of SELU activations: dropped elements are set to
    SELU's negative saturation and the result is affinely rescaled."""
    _check_p(p)
    if not training or p == 0.0:
        _check(input, "alpha_dropout")
        return input
    return _alpha_impl(input, p, inplace, input.shape, "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: input (N, C, *)."""
    _check_p(p)
    _check(input, "feature_alpha_dropout")
    if not training or p == 0.0:
        return input
    return _alpha_impl(input, p, inplace, _feature_shape(input, "feature_alpha_dropout"),
                       "feature_alpha_dropout")
