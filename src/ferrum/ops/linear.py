"""``linear`` (one fused node: y = x W^T + b) and ``bilinear``."""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, edge, version_error
from ._layout import colmajor_matmul_t, is_colmajor_2d
from .linalg import _raw_matmul, einsum
from ._autocast import autocast_op

__all__ = ["linear", "bilinear"]

_ndarray = np.ndarray
_new = object.__new__


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ONES: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    """A cached read-only vector of ``n`` ones."""
    v = _ONES.get((n, dtype))
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = _ONES[(n, dtype)] = np.ones(n, dtype)
        v.flags.writeable = False
    return v


class AddmmBackward0(Node, name="AddmmBackward0"):
    """Backward of ``x @ w.T + b``; saves x (for dW) and w (for dx) only when needed. Follows the
    layout rule of ``ops/_layout.py``: a column-major 2-D ``x`` (``x_colmajor``) gets its gradient
    column-major."""

    __slots__ = ("x", "w", "vx", "vw", "has_b", "x_colmajor")
    _saved = ("x", "w")

    def backward(self, g):
        graph = g.__class__ is Tensor
        nx, nw = self.next[0], self.next[1]
        gx = gw = gb = None
        lead = g.ndim - 1
        if nx is not None:
            w = self.w
            if w._version[0] != self.vw:
                raise version_error(w, self.vw, self)
            if graph:
                gx = g.matmul(w)
            elif self.x_colmajor and g.ndim == 2:
                # the layout rule (ops/_layout.py): a column-major x (Sequential's hidden layers)
                # gets its gradient column-major, so ReLU's backward before it sees one layout
                gx = colmajor_matmul_t(w._data.T, g)
            else:
                gx = _raw_matmul(g, w._data)
        if nw is not None or (self.has_b and self.next[2] is not None):
            if lead != 1:
                out = g.shape[-1]
                g2 = g.reshape(math.prod(g.shape[:-1]), out)  # not -1: ambiguous with a 0-size dim
            else:
                g2 = g
            if nw is not None:
                x = self.x
                if x._version[0] != self.vx:
                    raise version_error(x, self.vx, self)
                xs = x._data.shape
                x2 = x if graph else x._data
                if lead != 1:
                    x2 = x2.reshape(math.prod(xs[:-1]), xs[-1])
                gw = g2.t().matmul(x2) if graph else _raw_matmul(g2.T, x2)
            if self.has_b and self.next[2] is not None:
                if graph:
                    gb = g2.sum(0)
                elif g2.dtype in _BLAS_DTYPES and g2.shape[0] <= 65536:
                    # a GEMV with a ones vector: 5 us against 29 us for sum(axis=0) on a
                    # column-major 128x512 float32 gradient (Sequential's hidden layers)
                    gb = _ones(g2.shape[0], g2.dtype) @ g2
                else:
                    gb = g2.sum(axis=0)
        if self.has_b:
            return (gx, gw, gb)
        return (gx, gw)


def _check(input, weight, bias) -> None:
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"linear(): argument 'bias' must be Tensor, not {type(bias).__name__}")


@autocast_op("linear")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: input (*, in_features), weight (out_features, in_features),
    bias (out_features) -> (*, out_features)."""
    return _linear(input, weight, bias, False)


def _linear(input: Tensor, weight: Tensor, bias, transposed: bool) -> Tensor:
    """linear; with ``transposed`` a 2-D result is computed as ``(W @ X^T)^T`` and so comes back
    column-major (a transposed view). OpenBLAS is faster that way for MLP shapes (measured: 8% on
    128x784 @ 784x512), so ``Sequential`` uses it for results that only its next layer sees."""
    xd = getattr(input, "_data", None)
    wd = getattr(weight, "_data", None)
    if xd.__class__ is not _ndarray or wd.__class__ is not _ndarray or xd.dtype is not wd.dtype \
            or wd.ndim != 2 or xd.ndim == 0 or xd.dtype.kind != "f" \
            or (bias is not None and (bias.__class__ is not Tensor and not isinstance(bias, Tensor)
                                      or bias._data.dtype is not xd.dtype)):
        return _linear_general(input, weight, bias)
    if xd.shape[-1] != wd.shape[1]:
        rows = math.prod(xd.shape[:-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{xd.shape[-1]} and "
                           f"{wd.shape[1]}x{wd.shape[0]})")
    if transposed and xd.ndim == 2:
        r = colmajor_matmul_t(wd, xd)
    else:
        r = _raw_matmul(xd, wd.T)
    if bias is not None:
        bd = bias._data
        if bd.shape != (wd.shape[0],):
            return _linear_general(input, weight, bias)
        # the bias is added in a pass of its own. Measured no faster (benchmarks/mlp_parts.py bias,
        # bias_add, 2 threads): accumulating the GEMM onto an output pre-filled with the bias
        # (sgemm beta=1): 392 against 391 us for 128x784 @ 784x512, 129 against 132 us for
        # 128x512 @ 512x256; adding it to the column-major result with BLAS ger and a ones vector:
        # 7.4 against 14.6 us alone, but 664 against 650 us for the whole mlp_infer forward
        # (interleaved, 10 rounds), the result being fresh in the GEMM threads' caches
        r += bd
    out = _wrap(r)
    if _state.grad_enabled and (input.requires_grad or weight.requires_grad
                                or (bias is not None and bias.requires_grad)):
        # HOT: inlined attach() (measured, benchmarks/mlp_parts.py attach: attach() made a 16x16
        # linear with grad 4.8 us against 3.5 us inlined, 30.3 against 28.9 us at 128x784)
        node = _new(AddmmBackward0)
        if bias is None:
            node.next = (edge(input), edge(weight))
            node.has_b = False
        else:
            node.next = (edge(input), edge(weight), edge(bias))
            node.has_b = True
        node.x = input if weight.requires_grad else None
        node.w = weight if input.requires_grad else None
        node.vx = input._version[0]
        node.vw = weight._version[0]
        node.x_colmajor = is_colmajor_2d(xd)
        out.requires_grad = True
        out.grad_fn = node
    return out


def _linear_general(input, weight, bias):
    """Every case the fused path does not take (devices, dtypes, 1-D weights): composed ops."""
    _check(input, weight, bias)
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D, got {weight.ndim}-D")
    if input.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and "
                           f"{weight.ndim}D")
    out = input.matmul(weight.t() if weight.ndim == 2 else weight)
    if bias is not None:
        out = out + bias
    return out


@autocast_op("bilinear")
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k``: input1 (*, in1), input2 (*, in2), weight (out, in1, in2),
    bias (out) -> (*, out)."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {weight.ndim}-D")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} "
                           f"but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} "
                           f"but expected {weight.shape[2]}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out

