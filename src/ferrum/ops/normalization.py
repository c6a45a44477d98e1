"""``layer_norm``, ``group_norm``, ``rms_norm`` and ``local_response_norm``; this module is also the
face of the normalization ops, re-exporting ``batch_norm`` and ``instance_norm`` (ops/batch_norm.py).

``layer_norm`` is one fused node over the input seen as (R, K) rows (K = the normalized size):
the forward keeps xhat, the backward is closed form on raw arrays,

    dx = (invstd / K) * (K gw - sum(gw) - xhat * sum(gw xhat)),  gw = g * weight,

and the same formula in Tensor ops under create_graph (double backward). ``group_norm`` is the
same row normalization over (N * G, C / G * L) rows followed by a per-channel affine, composed of
Tensor ops; ``rms_norm`` and ``local_response_norm`` are composed of Tensor ops (differentiable to
every order by construction). Reduced-precision inputs are computed in float32 and cast back.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._dtype import finfo
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach
from . import _parallel as _par
from ._common import xp_of
from .batch_norm import affine_tail, batch_norm, instance_norm, saved_input_weight
from .linear import _ones
from .join import cat
from ._autocast import autocast_op

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))


def _check_input(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}(): expected a floating-point input, got {input.dtype}")


def _norm_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_shapes(input, ns: tuple, weight, bias, star: str) -> None:
    if len(ns) == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                           "least one element, but got normalized_shape = []")
    if input.ndim < len(ns) or tuple(input.shape[input.ndim - len(ns):]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[{star}{', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"layer_norm(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} "
                               f"of shape {list(t.shape)} and normalized_shape = {list(ns)}")


# --------------------------------------------------------------------------- layer_norm
def _colsum(a: np.ndarray) -> np.ndarray:
    """Sum over the rows of a (R, K): a GEMV with a ones vector (BLAS) up to 64K rows."""
    r = a.shape[0]
    return _ones(r, a.dtype) @ a if r <= 65536 else a.sum(0)


def _row_stats(x2: np.ndarray, eps: float, xhat: np.ndarray, invstd: np.ndarray) -> None:
    """xhat and invstd (R, 1) of the rows of x2 (R, K), into the given arrays. The sums come from
    one read (a GEMV with ones and ``vecdot``: 161 against 189 us for the whole forward on
    (1024, 128) float32, one thread); where E[x^2] - E[x]^2 would cancel (mean^2 > 16 var) the rows
    are centred first."""
    k = x2.shape[1]
    mean = (x2 @ _ones(k, x2.dtype)).astype(np.float64) / k
    var = np.vecdot(x2, x2).astype(np.float64) / k - mean * mean
    np.subtract(x2, mean.astype(x2.dtype)[:, None], out=xhat)
    if np.any(mean * mean > 16.0 * var):
        var = np.vecdot(xhat, xhat).astype(np.float64) / k
    invstd[:] = (1.0 / np.sqrt(np.maximum(var, 0.0) + eps))[:, None]
    xhat *= invstd


def _rows(fn, r: int, k: int) -> None:
    """``fn(lo, hi)`` over the rows [0, r): two halves on two threads from ``NORM_MIN_SIZE`` elements
    (1M; it was 64K until the quiet-machine measurement in ops/_parallel.py) (the rows are
    independent; PyTorch's kernel uses both cores too). With one thread allowed ``halves`` makes one
    call (1024 x 128 float32, gpt's shape, forward + backward, best of 200, two runs: 624 and 633 us
    against 619 and 633 us without it); with two it pays only when the second core is idle, which it
    was not when measured (load 9: 725 and 997 us against 595 and 582 us on one thread)."""
    _par.halves(fn, r, r * k, _par.NORM_MIN_SIZE)


def _ln_dx(gs, xs, os_, wk, ones, invstd, k: int, gxh) -> None:
    """Rows of layer norm's input gradient into ``os_`` (and g * xhat into ``gxh`` when given)."""
    gw_ = gs if wk is None else gs * wk
    s1 = (gw_ @ ones)[:, None]
    s2 = np.vecdot(gw_, xs)[:, None]
    np.multiply(xs, s2 * (-1.0 / k), out=os_)
    os_ += gw_
    os_ -= s1 * (1.0 / k)
    os_ *= invstd
    if gxh is not None:
        np.multiply(gs, xs, out=gxh)


class NativeLayerNormBackward0(Node, name="NativeLayerNormBackward0"):
    """Saves the input, the weight, xhat (R, K) and invstd (R, 1) of the forward. Keeping xhat
    rather than the mean (recomputing xhat from x here, one array less kept) measured no slower: the
    gpt step's nine layer norms, forward + backward, thread CPU ms per step, two runs each: 7.96 and
    8.26 kept against 8.06 and 8.11 recomputed; (1024, 128) float32 after a 16 MB cache flush:
    751 and 655 us kept against 845 and 827 us recomputed."""

    __slots__ = ("x", "vx", "w", "vw", "xhat", "invstd", "eps", "nd", "has_w", "has_b")
    _saved = ("x", "w", "xhat")

    def backward(self, g):
        x, w = saved_input_weight(self)
        if g.__class__ is Tensor:
            return self._backward_graph(g, x, w)
        xhat = self.unreleased(self.xhat)
        r, k = xhat.shape
        shape = x._data.shape
        g2 = np.ascontiguousarray(g, dtype=xhat.dtype).reshape(r, k)
        gx = gw = gb = None
        need_w = self.has_w and self.next[1] is not None
        gxh = np.empty((r, k), xhat.dtype) if need_w else None
        if self.next[0] is not None:
            res = np.empty(shape, xhat.dtype)
            o = res.reshape(r, k)
            wk = None if w is None else w._data.reshape(k)
            invstd = self.invstd
            ones = _ones(k, xhat.dtype)

            def part(lo, hi):
                # dx = invstd * (gw - sum(gw)/K - xhat * sum(gw xhat)/K): 243 against 289 us for
                # the former five-pass form on (1024, 128) float32
                with np.errstate(all="ignore"):  # the engine's setting, which a helper thread lacks
                    _ln_dx(g2[lo:hi], xhat[lo:hi], o[lo:hi], wk, ones, invstd[lo:hi], k,
                           None if gxh is None else gxh[lo:hi])

            _rows(part, r, k)
            gx = res
        elif need_w:
            np.multiply(g2, xhat, out=gxh)
        if need_w:
            gw = _colsum(gxh).reshape(w._data.shape)
        if self.has_b and self.next[-1] is not None:
            gb = _colsum(g2).reshape(shape[len(shape) - self.nd:])
        out = (gx,)
        if self.has_w:
            out += (gw,)
        if self.has_b:
            out += (gb,)
        return out

    def _backward_graph(self, g, x, w):
        dims = tuple(range(x.ndim - self.nd, x.ndim))
        lead = tuple(range(x.ndim - self.nd))
        k = math.prod(x.shape[x.ndim - self.nd:])
        xc = x - x.mean(dims, keepdim=True)
        invstd = ((xc * xc).mean(dims, keepdim=True) + self.eps).rsqrt()
        xhat = xc * invstd
        gw_ = g if w is None else g * w
        s1 = gw_.sum(dims, keepdim=True)
        s2 = (gw_ * xhat).sum(dims, keepdim=True)
        gx = (invstd / k) * (gw_ * k - s1 - xhat * s2)
        out = (gx,)
        if self.has_w:
            out += ((g * xhat).sum(lead) if lead else g * xhat,)
        if self.has_b:
            out += (g.sum(lead) if lead else g,)
        return out


@autocast_op("layer_norm")
def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalises over the last ``len(normalized_shape)`` dims of input (*, *normalized_shape) by
    their mean and (biased) variance, then ``* weight + bias`` (each of ``normalized_shape``)."""
    _check_input(input, "layer_norm")
    ns = _norm_shape(normalized_shape)
    _check_shapes(input, ns, weight, bias, "*, ")
    xd = input._data
    dt = xd.dtype
    fast = xd.__class__ is np.ndarray and dt in _FAST and all(
        t is None or t._data.dtype == dt for t in (weight, bias))
    if not fast or xd.size == 0:
        return _layer_norm_composite(input, ns, weight, bias, eps)
    k = math.prod(ns)
    r = xd.size // k
    x2 = np.ascontiguousarray(xd).reshape(r, k)
    xhat = np.empty((r, k), dt)
    invstd = np.empty((r, 1), dt)
    res = np.empty(xd.shape, dt)
    y = res.reshape(r, k)
    wk = None if weight is None else weight._data.reshape(k)
    bk = None if bias is None else bias._data.reshape(k)

    def part(lo, hi):
        _row_stats(x2[lo:hi], eps, xhat[lo:hi], invstd[lo:hi])
        if wk is not None:
            np.multiply(xhat[lo:hi], wk, out=y[lo:hi])
        else:
            y[lo:hi] = xhat[lo:hi]
        if bk is not None:
            y[lo:hi] += bk

    _rows(part, r, k)
    out = _wrap(res)
    if _state.grad_enabled and (input.requires_grad or (weight is not None and weight.requires_grad)
                                or (bias is not None and bias.requires_grad)):
        ins = (input,) + (() if weight is None else (weight,)) + (() if bias is None else (bias,))
        node = attach(out, NativeLayerNormBackward0, ins)
        node.x = input
        node.vx = input._version[0]
        node.w = weight
        node.vw = 0 if weight is None else weight._version[0]
        node.xhat = xhat
        node.invstd = invstd
        node.eps = eps
        node.nd = len(ns)
        node.has_w = weight is not None
        node.has_b = bias is not None
    return out


def _normalize_rows(x: Tensor, dims: tuple, eps: float) -> Tensor:
    xc = x - x.mean(dims, keepdim=True)
    return xc * ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()


def _layer_norm_composite(input, ns, weight, bias, eps):
    low = input._data.dtype not in _FAST
    x = input.float() if low else input
    y = _normalize_rows(x, tuple(range(x.ndim - len(ns), x.ndim)), eps)
    return affine_tail(y, weight, bias, ns, input, low)


# --------------------------------------------------------------------------- group_norm
@autocast_op("group_norm")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalises input (N, C, *) over each group of C / num_groups channels (and all positions),
    then ``* weight + bias`` per channel (each (C,))."""
    _check_input(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm(): expected input of shape (N, C, *) with at least 2 dimensions, "
                           f"got {input.ndim}-D input")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                               f"input, but got {name} of shape {list(t.shape)} and input of shape "
                               f"{list(input.shape)}")
    low = input._data.dtype not in _FAST
    x = input.float() if low else input
    if x.numel() == 0:
        y = x * 1
    else:
        xg = x.reshape(n, num_groups, -1)
        y = _normalize_rows(xg, (2,), eps).reshape(x.shape)
    return affine_tail(y, weight, bias, (1, c) + (1,) * (x.ndim - 2), input, low)


# --------------------------------------------------------------------------- rms_norm
def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` dims;
    ``eps=None`` takes the machine epsilon of the input's dtype."""
    _check_input(input, "rms_norm")
    ns = _norm_shape(normalized_shape)
    _check_shapes(input, ns, weight, None, "*")
    if eps is None:
        eps = finfo(input.dtype).eps
    low = input._data.dtype not in _FAST
    x = input.float() if low else input
    dims = tuple(range(x.ndim - len(ns), x.ndim))
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    return affine_tail(y, weight, None, ns, input, low)


# --------------------------------------------------------------------------- local_response_norm
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``x / (k + alpha * mean of x^2 over a window of `size` neighbouring channels) ** beta`` for
    input (N, C, *) with at least 3 dims; the window is zero-padded (size // 2 before, (size - 1) // 2
    after) and its mean divides by ``size``."""
    _check_input(input, "local_response_norm")
    nd = input.ndim
    if nd < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {nd} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    parts = []
    xp = xp_of(input._data)
    zshape = list(input.shape)
    if before:
        zshape[1] = before
        parts.append(_wrap(xp.zeros(zshape, input._data.dtype)))
    parts.append(sq)
    if after:
        zshape[1] = after
        parts.append(_wrap(xp.zeros(zshape, input._data.dtype)))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    acc = padded.narrow(1, 0, c)
    for i in range(1, size):
        acc = acc + padded.narrow(1, i, c)
    div = (acc * (alpha / size) + k) ** beta
    return input / div
