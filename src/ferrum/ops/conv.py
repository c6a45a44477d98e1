"""Convolution: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` (PyTorch's functional API).

Three differentiable ops, each the others' backward (so every order of derivative works):

* ``_conv(x, w)``: y = A_w x, the convolution;
* ``_conv_t(g, w)``: A_w^T g, the transposed convolution (the gradient of ``_conv`` in x, and
  ``conv_transpose*d`` itself);
* ``_conv_w(x, g)``: the weight gradient, the w -> <A_w x, g> adjoint.

``_conv``'s backward is (``_conv_t(g, w)``, ``_conv_w(x, g)``); ``_conv_t``'s is (``_conv(gg, w)``,
``_conv_w(gg, g)``); ``_conv_w``'s is (``_conv_t(g, gg)``, ``_conv(x, gg)``). A geometry ``geo``
(stride, (lo, hi) pads, dilation, groups, output spatial size) is shared by the three.

The raw kernels pick between two schemes (``_im2col.py`` describes both): shifted GEMMs for
stride-1 convolutions with >= 16 input channels per group, else im2col into a cached patch buffer
and one (grouped) GEMM, its columns batch-last for short output rows (``_lay``). The usual backward
(not create_graph) runs one raw kernel for dx, dw and db (``_bwd``): g is packed once, and the
forward's patch buffer is kept on the node for dw instead of gathered again.

Measured with ``benchmarks/conv_parts.py --cpu`` (thread CPU time, one thread everywhere, float32,
ms; the machine was loaded by other jobs throughout, which makes wall-clock figures meaningless
but leaves CPU time stable), for micro_conv's 64->64 3x3 pad 1 on 32x64x32x32:

    im2col gather (C*K, N*P), 9 strided copies   11.6    col2im (9 strided adds)         18.4
    GEMM W @ col (64x576 @ 576x32768)             30.8    dW = g @ col^T                  27.6
    W^T @ g (for col2im)                          35.2
    shifted GEMMs: forward 24.4, dx 24.2, dw 36.1 (no gather, no col2im)
    whole layer forward+backward: ferrum 94.7, torch 67.9 (1.39x)

so im2col would cost ~124 ms and the shifted GEMMs ~85 ms for this layer. Other layers (same
measurement, ferrum / torch): LeNet 1->6 5x5 4.6 / 5.8, LeNet 6->16 5x5 on 14x14 3.0 / 1.8
(batch-last columns: 3.8 -> 2.7 ms), ResNet stem 3->32 7.3 / 5.0, 32->32 3x3 33.1 / 16.1,
32->64 stride 2 22.6 / 10.0, 64->64 on 16x16 22.9 / 12.7, 1x1 stride-2 downsample 4.2 / 4.9.
torch's oneDNN kernels run near GEMM peak (107-143 GFLOP/s on one core); the remaining gap is
OpenBLAS's efficiency on these thin GEMMs (K = C per tap) and the layout copies NumPy makes on one
core (split over two threads by ``_parallel.halves`` when large). Every GEMM here runs as two
column halves on two Python threads with a one-thread BLAS each (``_im2col.split_cols``):
OpenBLAS's own two threads spin on each other whenever another process holds a core, which on
this shared machine made single GEMMs 2-6x slower than one thread (measurements there).
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from .. import _state
from ..autograd.function import FREED, Node, record, version_error
from . import _im2col as ic
from .fold import fold, unfold
from ._autocast import autocast_op

# fold/unfold (ops/fold.py) are re-exported so that nn.functional's one import line brings the family
__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "fold", "unfold"]

_F32 = np.dtype(np.float32)


# ----------------------------------------------------------------------------- raw kernels
def _work(*arrays):
    """float16/bfloat16 are computed in float32 (cast back by the caller)."""
    dt = arrays[0].dtype
    if dt.kind == "f" and dt.itemsize < 4 or dt.kind == "V":
        return tuple(a.astype(_F32) for a in arrays), dt
    return arrays, None


def _shift(geo, ksize, cin_g: int, *arrays) -> bool:
    stride, pads, dil, _, _ = geo
    return ic.gemm_ok(*arrays) and arrays[0].shape[0] > 0 and ic.shift_ok(stride, pads, dil, ksize, cin_g)


def _fwd(x: np.ndarray, w: np.ndarray, geo, bias=None, keep: bool = False):
    """x (N, C, *sp), w (O, C/g, *k) -> (N, O, *out). With ``keep``, returns (y, col): the im2col
    patch buffer, not yet handed back, for the backward's weight gradient (None on the other path)."""
    (x, w), back = _work(x, w)
    if bias is not None and back is not None:
        bias = bias.astype(_F32)
    stride, pads, dil, groups, out_sp = geo
    N = x.shape[0]
    O, cg = w.shape[:2]
    col = None
    if _shift(geo, w.shape[2:], cg, x, w):
        y = ic.shift_fwd(x, w, pads, dil, groups, out_sp, bias)
    else:
        ksize = w.shape[2:]
        lay = _lay(out_sp, N)
        col = ic.im2col(x, ksize, stride, pads, dil, out_sp, lay)
        P = math.prod(out_sp)
        ck = cg * math.prod(ksize)
        y2 = _mm(w.reshape(groups, O // groups, ck), col.reshape(groups, ck, N * P), "y2")
        if not keep or back is not None:
            ic.give("col", col)
            col = None
        src = _cols_to_batch(y2, O, N, out_sp, lay)
        y = np.empty((N, O) + tuple(out_sp), y2.dtype)
        if bias is None:
            np.copyto(y, src)
        else:
            np.add(src, bias.reshape((O,) + (1,) * len(out_sp)), out=y)
        ic.give("y2", y2)
    if back is not None:
        y = y.astype(back)
    return (y, col) if keep else y


def _bwd(x: np.ndarray, w: np.ndarray, g: np.ndarray, geo, need_x: bool, need_w: bool, need_b: bool,
         col=None):
    """All of ``_conv``'s gradients at once on raw arrays (the usual, not create_graph, backward):
    the shifted-GEMM path packs g once; the im2col path reuses the forward's patch buffer ``col``
    (handed back here) and g's (O, N*P) transpose for both GEMMs."""
    (x, w, g), back = _work(x, w, g)
    stride, pads, dil, groups, out_sp = geo
    O, cg = w.shape[:2]
    if _shift(geo, w.shape[2:], cg, x, w):
        dx, dw, db = ic.shift_bwd(x, g, w, pads, dil, groups, need_x, need_w, need_b)
    else:
        N = x.shape[0]
        P = math.prod(out_sp)
        og = O // groups
        ck = cg * math.prod(w.shape[2:])
        lay = _lay(out_sp, N)
        g3 = _g_rows(g, groups, og, N, P, lay)
        dx = dw = db = None
        if need_b:
            db = g3.sum(axis=2).reshape(O)
        if need_w:
            if col is None:
                col = ic.im2col(x, w.shape[2:], stride, pads, dil, out_sp, lay)
            dw = _mm_dw(g3, col, groups, ck, w.shape)
        if col is not None:
            ic.give("col", col)
        if need_x:
            dcol = _mm(w.reshape(groups, og, ck).swapaxes(1, 2), g3, "dcol")
            dx = ic.col2im(dcol.reshape(groups * ck, N * P), x.shape, w.shape[2:], stride, pads, dil, out_sp,
                           lay)
            ic.give("dcol", dcol)
        ic.give("g3", g3)
    if back is not None:
        dx, dw, db = (None if a is None else a.astype(back) for a in (dx, dw, db))
    return dx, dw, db


def _gin(g: np.ndarray, w: np.ndarray, geo, x_shape) -> np.ndarray:
    """The transposed convolution: g (N, O, *out), w (O, C/g, *k) -> (N, C, *x_sp)."""
    (g, w), back = _work(g, w)
    stride, pads, dil, groups, out_sp = geo
    O, cg = w.shape[:2]
    if _shift(geo, w.shape[2:], cg, g, w):
        dx = ic.shift_gin(g, w, x_shape, pads, dil, groups)
    else:
        N = g.shape[0]
        P = math.prod(out_sp)
        og = O // groups
        lay = _lay(out_sp, N)
        g3 = _g_rows(g, groups, og, N, P, lay)
        ck = cg * math.prod(w.shape[2:])
        dcol = _mm(w.reshape(groups, og, ck).swapaxes(1, 2), g3, "dcol")
        ic.give("g3", g3)
        dx = ic.col2im(dcol.reshape(groups * ck, N * P), x_shape, w.shape[2:], stride, pads, dil, out_sp,
                       lay)
        ic.give("dcol", dcol)
    return dx if back is None else dx.astype(back)


def _gw(x: np.ndarray, g: np.ndarray, geo, w_shape) -> np.ndarray:
    """The weight gradient: x (N, C, *sp), g (N, O, *out) -> (O, C/g, *k)."""
    (x, g), back = _work(x, g)
    stride, pads, dil, groups, out_sp = geo
    if _shift(geo, w_shape[2:], w_shape[1], x, g):
        gw = ic.shift_gw(x, g, w_shape, pads, dil, groups)
    else:
        N = x.shape[0]
        O = w_shape[0]
        og = O // groups
        P = math.prod(out_sp)
        lay = _lay(out_sp, N)
        col = ic.im2col(x, w_shape[2:], stride, pads, dil, out_sp, lay)
        g3 = _g_rows(g, groups, og, N, P, lay)
        ck = w_shape[1] * math.prod(w_shape[2:])
        gw = _mm_dw(g3, col, groups, ck, w_shape)
        ic.give("col", col)
        ic.give("g3", g3)
    return gw if back is None else gw.astype(back)


def _lay(out_sp, N: int) -> str:
    """im2col's column order: batch last ("cl") when output rows are short, so the patch copies and
    col2im's adds move runs of Wo*N elements rather than Wo (see _im2col.im2col)."""
    return "cl" if N > 1 and out_sp[-1] < 16 else "cn"


def _cols_to_batch(y2: np.ndarray, O: int, N: int, out_sp, lay: str) -> np.ndarray:
    """A GEMM result (.., N*P) in ``lay``'s column order as a (N, O, *out) view."""
    if lay == "cl":
        nd = len(out_sp)
        return y2.reshape((O,) + tuple(out_sp) + (N,)).transpose((nd + 1, 0) + tuple(range(1, nd + 1)))
    return y2.reshape(O, N, *out_sp).swapaxes(0, 1)


def _g_rows(g: np.ndarray, groups: int, og: int, N: int, P: int, lay: str) -> np.ndarray:
    """g (N, O, *out) -> a cached (groups, O/groups, N*P) (hand it back: ``give("g3", ..)``),
    columns in im2col's ``lay`` order."""
    perm = (1, 2, 3, 0) if lay == "cl" else (1, 2, 0, 3)
    src = g.reshape(N, groups, og, P).transpose(perm)
    out = ic.take("g3", (groups, og, N * P), g.dtype)
    np.copyto(out.reshape(src.shape), src)
    return out


def _mm(a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
    """``a @ b`` (stacked) into a cached buffer (hand it back: ``give(kind, ..)``), its columns in
    two halves on two threads (``_im2col.split_cols``). Fresh temporaries of several MiB page-fault
    on every step (with this, the cached g3 and col2im's cached accumulator, ``_bwd`` of ResNet's
    32->64 stride-2 layer went from 14.4 to 10.8 ms, thread CPU time, one thread)."""
    out = ic.take(kind, a.shape[:-1] + b.shape[-1:], np.result_type(a, b))

    def run(lo, hi):
        np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])

    ic.split_cols(run, b.shape[-1])
    return out


def _mm_dw(g3: np.ndarray, col: np.ndarray, groups: int, ck: int, w_shape) -> np.ndarray:
    """dW = g3 @ col^T (groups, O/g, N*P) x (groups, C/g*K, N*P): the long N*P axis split over two
    threads and the two partial products added."""
    cols = col.reshape(groups, ck, -1)

    def run(lo, hi):
        return np.matmul(g3[..., lo:hi], cols[..., lo:hi].swapaxes(1, 2))

    parts = ic.split_cols(run, g3.shape[-1])
    gw = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    return gw.reshape(w_shape)


# ----------------------------------------------------------------------------- the three ops
def _bias_grad(g: Tensor) -> Tensor:
    n, c = g.shape[:2]
    return g.reshape(n, c, -1).sum(2).sum(0)


class ConvolutionBackward0(Node, name="ConvolutionBackward0"):
    """Backward of ``_conv`` (x, w[, b]). The usual backward (raw ``g``) runs the fused raw kernel
    ``_bwd``; under create_graph it is ``backward_t``, made of the three differentiable ops."""

    def backward(self, g):
        col = self.__dict__.pop("col", None)
        if g.__class__ is Tensor or self.saved is FREED:
            if col is not None:
                ic.give("col", col)
            return Node.backward(self, g)
        (x, vx, _), (w, vw, _) = self.saved
        for t, v in ((x, vx), (w, vw)):
            if t._version[0] != v:
                if col is not None:
                    ic.give("col", col)
                raise version_error(t, v, self)
        nxt = self.next
        has_b = len(nxt) == 3
        dx, dw, db = _bwd(x._data, w._data, g, self.geo, nxt[0] is not None, nxt[1] is not None,
                          has_b and nxt[2] is not None, col)
        return (dx, dw, db) if has_b else (dx, dw)

    def backward_t(self, g, x, w):
        nx, nw = self.next[0], self.next[1]
        gx = _conv_t(g, w, self.geo, x.shape) if nx is not None else None
        gw = _conv_w(x, g, self.geo, w.shape) if nw is not None else None
        if len(self.next) == 3:
            return gx, gw, (_bias_grad(g) if self.next[2] is not None else None)
        return gx, gw


class _ConvTBackward(Node, name="ConvolutionBackward0"):
    """Backward of ``_conv_t`` (g, w[, b]): torch names the transposed convolution's node alike."""

    def backward_t(self, gg, g, w):
        ng, nw = self.next[0], self.next[1]
        dg = _conv(gg, w, None, self.geo) if ng is not None else None
        dw = _conv_w(gg, g, self.geo, w.shape) if nw is not None else None
        if len(self.next) == 3:
            return dg, dw, (_bias_grad(gg) if self.next[2] is not None else None)
        return dg, dw


class ConvolutionBackwardBackward0(Node, name="ConvolutionBackwardBackward0"):
    """Backward of ``_conv_w`` (x, g)."""

    def backward_t(self, gg, x, g):
        dx = _conv_t(g, gg, self.geo, x.shape) if self.next[0] is not None else None
        dg = _conv(x, gg, None, self.geo) if self.next[1] is not None else None
        return dx, dg


def _conv(x: Tensor, w: Tensor, b, geo) -> Tensor:
    keep = _state.grad_enabled and w.requires_grad
    y, col = _fwd(x._data, w._data, geo, None if b is None else b._data, keep=True)
    ins = (x, w) if b is None else (x, w, b)
    out = record(y, ConvolutionBackward0, ins, save=(x, w), geo=geo)
    if col is not None:
        if keep and out.grad_fn is not None:
            out.grad_fn.col = col  # the weight gradient's patches, handed back by the backward
        else:
            ic.give("col", col)
    return out


def _conv_t(g: Tensor, w: Tensor, geo, x_shape, b=None) -> Tensor:
    dx = _gin(g._data, w._data, geo, tuple(x_shape))
    if b is not None:
        dx += b._data.reshape((-1,) + (1,) * (dx.ndim - 2)).astype(dx.dtype, copy=False)
    ins = (g, w) if b is None else (g, w, b)
    return record(dx, _ConvTBackward, ins, save=(g, w), geo=geo)


def _conv_w(x: Tensor, g: Tensor, geo, w_shape) -> Tensor:
    gw = _gw(x._data, g._data, geo, tuple(w_shape))
    return record(gw, ConvolutionBackwardBackward0, (x, g), save=(x, g), geo=geo)


# ----------------------------------------------------------------------------- arguments
def _tuple(v, nd: int, name: str, op: str) -> tuple:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * nd
    try:
        t = tuple(int(e) for e in v)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(v).__name__}") from None
    if len(t) == 1:
        return t * nd
    if len(t) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to "
                           f"match the convolution dimensions, but got {name}={list(t)}")
    return t


def _sizes(s) -> str:
    return " x ".join(str(v) for v in s)


def _check_tensors(op: str, input, weight, bias, nd: int, transposed: bool) -> bool:
    """Types, ranks, dtypes; returns whether the input is batched."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {1 if name == 'input' else 2}) must be "
                            f"Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {op}, but got weight of size "
                           f"{list(weight.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        other = weight if input.dtype != weight.dtype else bias
        raise RuntimeError(f"{op}(): input type ({input.dtype}) and weight/bias type ({other.dtype}) "
                           "should be the same")
    if input.dtype.is_complex or input.dtype == _bool_dtype():
        raise RuntimeError(f"{op}(): not implemented for '{input.dtype}'")
    if input.device != weight.device:
        raise RuntimeError(f"{op}(): expected input and weight on the same device, got {input.device} "
                           f"and {weight.device}")
    return input.ndim == nd + 2


def _bool_dtype():
    from .. import _dtype
    return _dtype.bool


def _check_common(stride, dil, groups, pad_vals) -> None:
    if any(p < 0 for p in pad_vals):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dil):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _convnd(nd: int, op: str, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    batched = _check_tensors(op, input, weight, bias, nd, False)
    stride = _tuple(stride, nd, "stride", op)
    dil = _tuple(dilation, nd, "dilation", op)
    groups = int(groups)
    ksize = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # the total padding d*(k-1); when odd, the extra element goes after (torch's rule)
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dil, ksize))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        pad_vals = (0,)
    else:
        p = _tuple(padding, nd, "padding", op)
        pads = tuple((v, v) for v in p)
        pad_vals = p
    _check_common(stride, dil, groups, pad_vals)
    x = input if batched else input.unsqueeze(0)
    O = weight.shape[0]
    C = x.shape[1]
    if O % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(weight.shape)}] instead")
    if weight.shape[1] * groups != C:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
                           f"{C} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != O):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
                           f"with {O} elements, but got bias of size {list(bias.shape)} instead")
    padded_sp = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    eff_k = tuple(d * (k - 1) + 1 for d, k in zip(dil, ksize))
    if any(p < k for p, k in zip(padded_sp, eff_k)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_sizes(padded_sp)}). Kernel size: "
                           f"({_sizes(eff_k)}). Kernel size can't be greater than actual input size")
    out_sp = tuple((p - k) // s + 1 for p, k, s in zip(padded_sp, eff_k, stride))
    geo = (stride, pads, dil, groups, out_sp)
    y = _conv(x, weight, bias, geo)
    return y if batched else y.squeeze(0)


def _conv_transposend(nd: int, op: str, input, weight, bias, stride, padding, output_padding, groups,
                      dilation, output_size=None) -> Tensor:
    batched = _check_tensors(op, input, weight, bias, nd, True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    stride = _tuple(stride, nd, "stride", op)
    dil = _tuple(dilation, nd, "dilation", op)
    pad = _tuple(padding, nd, "padding", op)
    opad = _tuple(output_padding, nd, "output_padding", op)
    groups = int(groups)
    _check_common(stride, dil, groups, pad)
    if any(o < 0 for o in opad):
        raise RuntimeError("negative output_padding is not supported")
    if any(o >= s and o >= d for o, s, d in zip(opad, stride, dil)):
        names = ("depth", "height", "width")[3 - nd:] if nd > 1 else ("width",)
        parts = [f"output_padding_{n}: {o}" for n, o in zip(names, opad)]
        parts += [f"stride_{n}: {s}" for n, s in zip(names, stride)]
        parts += [f"dilation_{n}: {d}" for n, d in zip(names, dil)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    g = input if batched else input.unsqueeze(0)
    Cin = weight.shape[0]
    if g.shape[1] != Cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(g.shape)} to have {Cin} channels, but got {g.shape[1]} channels "
                           "instead")
    if Cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(weight.shape)}] instead")
    O = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != O):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {O} elements, but got bias of size {list(bias.shape)} "
                           "instead")
    ksize = tuple(weight.shape[2:])
    in_sp = tuple(g.shape[2:])
    out_sp = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                   for i, s, p, d, k, o in zip(in_sp, stride, pad, dil, ksize, opad))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(f"{op}(): the output size ({_sizes(out_sp)}) would be non-positive; input "
                           f"{list(input.shape)}, kernel ({_sizes(ksize)}), padding {list(pad)}")
    geo = (stride, tuple((p, p) for p in pad), dil, groups, in_sp)
    y = _conv_t(g, weight, geo, (g.shape[0], O) + out_sp, bias)
    return y if batched else y.squeeze(0)


# ----------------------------------------------------------------------------- public
@autocast_op("conv1d")
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution: input (N, C, L) or (C, L), weight (O, C/groups, k), bias (O) -> (N, O, L_out).
    ``padding``: int, tuple, 'valid' or 'same' (stride 1; an odd total pad puts the extra on the right)."""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv2d")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O)
    -> (N, O, H_out, W_out); H_out = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1."""
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv3d")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D convolution: input (N, C, D, H, W) or (C, D, H, W), weight (O, C/groups, kd, kh, kw)."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv_transpose1d")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 1-D convolution (the gradient of conv1d in its input): input (N, C_in, L) or
    (C_in, L), weight (C_in, C_out/groups, k) -> (N, C_out, L_out),
    L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding,
                             groups, dilation)


@autocast_op("conv_transpose2d")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution: input (N, C_in, H, W) or (C_in, H, W), weight
    (C_in, C_out/groups, kh, kw) -> (N, C_out, H_out, W_out)."""
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding,
                             groups, dilation)


@autocast_op("conv_transpose3d")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution: input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_in, C_out/groups, kd, kh, kw) -> (N, C_out, D_out, H_out, W_out)."""
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding,
                             groups, dilation)
