"""Average pooling: ``avg_pool{1,2,3}d``, ``adaptive_avg_pool{1,2,3}d`` and the power-average
``lp_pool{1,2,3}d``.

Design. Average pooling is linear, so each op is a pair of raw-array maps on planes (B, *S): the
forward and its adjoint. One node (PyTorch's ``AvgPool2DBackward0`` ...) applies the adjoint to the
gradient, through an op whose own node applies the forward again (``...BackwardBackward0``), so
the two call each other and every order of derivative works with no extra formula.

- ``avg_pool``: the planes padded with zeros, and the window sums as K strided-slice additions
  (K = kernel volume, 4 or 9 in practice) over output-sized arrays; no Python loop over output
  positions. The divisor is separable: a product of per-dim window lengths (clipped to the padded
  input with ``count_include_pad``, to the input without), or ``divisor_override``. The adjoint
  adds g / divisor into the K strided slices of a zero padded array and crops the padding.
- ``adaptive_avg_pool``: separable too, window i along a dim of length L covering
  [floor(i L / O), ceil((i + 1) L / O)); each dim is one matrix product with an (O, L) averaging
  matrix (BLAS), the adjoint with its transpose. Output size 1 everywhere is ``mean`` (PyTorch's
  ``MeanBackward1`` node, as it does).
- ``lp_pool``: PyTorch's formula, (sum over the window of x^p)^(1/p), from ferrum ops
  (``avg_pool`` of ``x ** p``, times the kernel volume, to the power 1/p).

Integer inputs (``avg_pool`` only, as PyTorch) sum in int64 and divide truncating toward zero.

Measured (best of 40, one thread, float32, this shared 2-core machine; torch 2.13 with
``torch.set_num_threads(1)``; forward under no_grad, forward + backward through autograd):

    op, shape                                 ferrum fwd  fwd+bwd   torch fwd  fwd+bwd   (ms)
    avg_pool2d(2), 64x6x28x28                    0.20      0.73        0.46      1.13
    avg_pool2d(3, 1, 1), 8x64x28x28              1.80      8.93        3.25     10.95
    adaptive_avg_pool2d(7), 8x256x14x14          0.70      1.47        0.96      2.37
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from . import _pool_common as C
from ._autocast import autocast_op

__all__ = ["avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]


# --------------------------------------------------------------------------- linear plane maps
class _LinearPool:
    """A linear map from planes (B, *S) to planes (B, *O) and its adjoint, on raw arrays; the
    shapes of the tensors it maps between, and PyTorch's node names of the two directions."""

    def __init__(self, fwd, adj, in_shape, out_shape, n, names):
        self.fwd, self.adj = fwd, adj
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        self.n = n
        self.nodes = names


def _apply(t: Tensor, lin: _LinearPool, adjoint: bool) -> Tensor:
    a, cast = C.compute_array(t)
    n = lin.n
    fn, shape = (lin.adj, lin.in_shape) if adjoint else (lin.fwd, lin.out_shape)
    r = fn(C.planes(a, n)).reshape(shape)
    if cast is not None:
        r = r.astype(cast)
    return record(r, lin.nodes[adjoint], (t,), lin=lin, adjoint=adjoint)


class _LinearPoolBackward(Node):
    def backward_t(self, g):
        return (_apply(g, self.lin, not self.adjoint),)


def _nodes(name: str) -> tuple:
    return (_LinearPoolBackward.named(f"{name}Backward0"),
            _LinearPoolBackward.named(f"{name}BackwardBackward0"))


_AVG_NODES = {n: _nodes(f"AvgPool{n}D") for n in (2, 3)}
_ADAPTIVE_NODES = {n: _nodes(f"AdaptiveAvgPool{n}D") for n in (2, 3)}


# --------------------------------------------------------------------------- avg_pool
def _divisor(sp, k, s, p, o, count_include_pad: bool, divisor_override):
    """The per-window divisor, broadcastable to (B, *O): a scalar or an outer product."""
    if divisor_override is not None:
        return divisor_override
    n = len(k)
    div = np.ones((1,) * (n + 1), np.int64)
    for i in range(n):
        start = np.arange(o[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], sp[i] + p[i])
        if count_include_pad:
            size = end - start
        else:
            size = np.minimum(end, sp[i]) - np.maximum(start, 0)
        div = div * size.reshape((1,) * (1 + i) + (-1,) + (1,) * (n - 1 - i))
    return div


def _div(acc, div):
    if acc.dtype.kind == "f":
        return acc / np.asarray(div, acc.dtype) if np.ndim(div) else acc / acc.dtype.type(div)
    # C's integer division, truncating toward zero (floor division would round negatives down)
    q = np.abs(acc) // np.abs(div)
    return np.where((acc < 0) != (np.asarray(div) < 0), -q, q)


def _avg_pool_nd(n: int, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                 op: str | None = None):
    op = op or f"avg_pool{n}d"
    k, s, p = C.window_args(input, kernel_size, stride, padding, n, op)
    d = (1,) * n
    C.check_window(k, s, p, d, n)
    if divisor_override is not None:
        if not C.is_int(divisor_override):
            raise TypeError(f"{op}(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    nd = input.ndim
    if nd not in (n + 1, n + 2):
        if n == 3:
            raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
        if nd < 3:  # PyTorch's avg_pool2d reads the channel dim (-3) before checking the rank
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, "
                             f"{max(nd, 1) - 1}], but got -3)")
        raise RuntimeError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    C.check_rank(input, n, op)
    if not input.dtype.is_floating_point and input.dtype.name != "int64":  # PyTorch's one integer type
        raise NotImplementedError(f'"{op}" not implemented for \'{C._scalar(input)}\'')
    o = C.out_sizes(input, k, s, p, d, bool(ceil_mode), n)
    lead = input.shape[:nd - n]
    sp = tuple(input.shape[nd - n:])
    div = _divisor(sp, k, s, p, o, bool(count_include_pad), divisor_override)

    def fwd(a):
        ap, _ = C.pad_planes(a, p, o, k, s, d, 0)
        acc = None
        for sl in C.offset_slices(k, s, d, o):
            if acc is None:
                acc = ap[sl].astype(np.int64 if a.dtype.kind in "iu" else a.dtype)
            else:
                acc += ap[sl]
        return _div(acc, div).astype(a.dtype, copy=False)

    def adj(g):
        gs = _div(g, div)
        right = C.right_padding(o, k, s, p, d, sp)
        padded = tuple(L + pp + r for L, pp, r in zip(sp, p, right, strict=True))
        gp = np.zeros((g.shape[0],) + padded, g.dtype)
        for sl in C.offset_slices(k, s, d, o):
            gp[sl] += gs
        return gp[(slice(None),) + tuple(slice(pp, pp + L) for pp, L in zip(p, sp, strict=True))]

    lin = _LinearPool(fwd, adj, input.shape, lead + o, n, _AVG_NODES[n])
    return _apply(input, lin, False)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """Mean over kH x kW windows: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo),
    Ho = floor((H + 2 padding - kH) / stride + 1) (ceil with ``ceil_mode``). Zero padding counts in
    the divisor with ``count_include_pad``; ``divisor_override`` replaces the divisor."""
    return _avg_pool_nd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


@autocast_op("avg_pool3d")
def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """Mean over kT x kH x kW windows: (N, C, D, H, W) or (C, D, H, W) -> (N, C, Do, Ho, Wo); as
    :func:`avg_pool2d`.

    Differences from PyTorch: float16 and bfloat16 inputs are accepted (computed in float32 and cast
    back, as avg_pool2d does in both); PyTorch's CPU kernel raises NotImplementedError for them, so
    no working torch program changes result."""
    return _avg_pool_nd(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of length k: (N, C, L) or (C, L) -> (N, C, Lo) (through the 2-D op on a
    1 x L plane, as PyTorch)."""
    op = "avg_pool1d"
    k, s, p = C.window_args(input, kernel_size, stride, padding, 1, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(C.rank_1d_message(input, op))
    return _avg_pool_nd(2, input.unsqueeze(-2), (1, k[0]), (1, s[0]), (0, p[0]), ceil_mode, count_include_pad,
                        None).squeeze(-2)


# --------------------------------------------------------------------------- adaptive_avg_pool
def _avg_matrix(L: int, O: int, dtype) -> np.ndarray:
    st, en = C.adaptive_bounds(L, O)
    j = np.arange(L)
    inside = (j >= st[:, None]) & (j < en[:, None])
    return (inside / (en - st)[:, None]).astype(dtype)


def _along(a, mats):
    """Applies matrix mats[i] (A, B) along spatial axis 1 + i of planes ``a`` (B, ..., B_i, ...)."""
    for i in reversed(range(len(mats))):
        a = np.moveaxis(np.matmul(mats[i], np.moveaxis(a, 1 + i, -2)), -2, 1 + i)
    return np.ascontiguousarray(a)


def _adaptive_avg_nd(n: int, input, output_size, op: str | None = None) -> Tensor:
    op = op or f"adaptive_avg_pool{n}d"
    C.check_tensor(input, op)
    C.check_adaptive_input(input, n, op)
    o = C.adaptive_output_size(input, output_size, n, op)
    C.float_only(input, op)
    nd = input.ndim
    if all(v == 1 for v in o) and input.numel():
        return input.mean(tuple(range(nd - n, nd)), keepdim=True)
    lead = input.shape[:nd - n]
    sp = tuple(input.shape[nd - n:])
    cdt = np.float64 if input.dtype.name == "float64" else np.float32
    mats = [_avg_matrix(L, oo, cdt) for L, oo in zip(sp, o, strict=True)]
    mats_t = [np.ascontiguousarray(m.T) for m in mats]
    lin = _LinearPool(lambda a: _along(a, mats), lambda g: _along(g, mats_t), input.shape, lead + o, n,
                      _ADAPTIVE_NODES[n])
    return _apply(input, lin, False)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over adaptive windows (start floor(i H / Ho), end ceil((i + 1) H / Ho)):
    (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo); ``output_size`` int or pair, None keeps a size."""
    return _adaptive_avg_nd(2, input, output_size)


@autocast_op("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling over (D, H, W): (N, C, D, H, W) or (C, D, H, W) -> (N, C, Do, Ho, Wo)."""
    return _adaptive_avg_nd(3, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling over L: (N, C, L) or (C, L) -> (N, C, Lo) (through the 2-D op)."""
    op = "adaptive_avg_pool1d"
    C.check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(C.rank_1d_message(input, op))
    o = C.adaptive_output_size(input, output_size, 1, op)
    return _adaptive_avg_nd(2, input.unsqueeze(-2), (1, o[0]), "adaptive_avg_pool2d").squeeze(-2)


# --------------------------------------------------------------------------- lp_pool
def _lp(input, norm_type, kernel_size, stride, ceil_mode, n: int) -> Tensor:
    from .activation import relu
    op = f"lp_pool{n}d"
    C.check_tensor(input, op)
    k = C.ntuple(kernel_size, n, op, "kernel_size", 3)
    pw = input.pow(norm_type)
    if n == 1:
        out = avg_pool1d(pw, k, stride, 0, ceil_mode)
    else:
        out = _avg_pool_nd(n, pw, k, stride, 0, ceil_mode, True, None)
    return (out.sign() * relu(out.abs())).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling, (sum over the window of x^p)^(1/p): (N, C, L) -> (N, C, Lo)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over kH x kW windows: (N, C, H, W) -> (N, C, Ho, Wo)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over kT x kH x kW windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 3)
