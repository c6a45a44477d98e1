"""``batch_norm`` and ``instance_norm``: one fused node with a closed-form backward.

The input (N, C, *) is viewed as (N, C, L). Statistics per channel are two sums over n and l,
taken in one read of the input: ``x @ ones(L)`` (a batched GEMV) and ``vecdot(x, x)``; the variance
is E[x^2] - E[x]^2, accumulated in float64 per block. Where that formula would cancel (mean^2 > 16
var: an offset far larger than the spread), the input is centred on the batch mean block by block
and the sums taken again (two-pass statistics), and the same centre is subtracted in the output
and the backward passes. The output is ``x * S + T`` with the per-channel scale and shift expanded
to (C, L) arrays. The backward (not create_graph) is closed form on raw arrays,

    dx = (w * invstd / M) * (M g - sum(g) - xhat * sum(g xhat)) = a (g + (b/a) x + c/a),

a, b, c per channel, after one more read of (g, x) for sum(g) and sum(g x); dw = sum(g xhat),
db = sum(g). Under create_graph the same formula is written with Tensor ops on the saved input
and weight (the batch statistics recomputed from x), so double backward works.

Why this shape of code (measured on the shared 2-core machine, NumPy 2.4.6, float32, one thread,
(32, 32, 32x32) and (32, 64, 16x16), wall time, best of 40, microseconds):
- ``np.add.reduce`` over axes (0, 2, 3): 198 and 119; ``x3 @ ones`` then ``.sum(0)``: 141 and 38;
  ``einsum('ncl,ncl->c')``: 148 and 62; the sums of (x - mean) need one more write pass (450/215).
  Per 64K-element block in cache: the GEMV 3.4, ``vecdot`` 5.3, ``einsum`` 8.7.
- an operand of shape (C, 1) broadcast along l is not vectorised by NumPy: ``x * s[:, None]`` 466
  and 246 against 297 and 146 for the same scale expanded to a (C, L) array (``np.repeat``, 5 us).
- blocking: every pass over the whole array is a trip to memory; running the 4 elementwise passes
  of the backward over blocks of about 64K elements (256 KiB, which stay in the 2 MiB L2) took 735
  and 350 against 1049 and 522 for whole-array passes; the statistics sums 287 and 127 against
  290 and 100 (the sum(g x) reads two arrays: 290 and 144 unblocked). In a block, the factored
  dx (one multiply into the output, three in-place updates) costs 34 us against 40 for
  ``a g + b x + c`` (two multiplies, a temporary, two adds).
- the two halves of the batch run on two threads only above 2^21 elements (see ``_PAR_MIN``).
- no temporaries of the input's size: the only large allocations are the output and dx (with
  glibc's default thresholds these can still fault after a trim; ``tune_allocator()`` removes
  that: 1539 minor faults per forward+backward at (32, 32, 32x32) untuned, 0 tuned).

Against torch 2.13 (a BatchNorm2d training step in float32: the forward, then ``y.backward(g)``
with input and gradient fixed; ``tune_allocator()`` on; CPU time of the calling thread, best of
60, one thread each, the shared machine at load 6, microseconds):

    shape                torch fw  fw+bw  eval    ferrum fw  fw+bw  eval    fw+bw  eval
    (32, 32, 32x32)          1643   3090   359         1139   4137   473    1.34x  1.32x
    (32, 64, 16x16)           829   1506   194          510   1614   246    1.07x  1.27x

ferrum's forward is faster than torch's on one thread; the backward is NumPy's elementwise passes
against one fused loop (inside a whole step its blocks run at about 0.5 ns per element and pass,
against 0.2 alone in cache). torch with two threads reaches fw+bw 1458 and 691 us (wall, load 1);
splitting ferrum's blocks over two Python threads gained nothing at these sizes (the worker's
wake-up and the GIL hand-offs between NumPy calls: 3366 against 3167 us at (32, 32, 32x32)),
hence ``_PAR_MIN``. ``y.backward(g)`` adds about 650 us to the node's own backward at (32, 32,
32x32): the engine's copy of the root gradient, which a training step does not have.

Differences from PyTorch: a failed call (one value per channel in training, a wrong shape) leaves
the running statistics untouched (the module's ``num_batches_tracked`` too), where PyTorch's
module has already counted the batch.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._dtype import type_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach
from . import _parallel
from .linear import _ones

__all__ = ["batch_norm", "instance_norm"]

_BLOCK = 1 << 16  # elements per block of the fused passes (256 KiB of float32 stays in L2)
# two threads pay only for large inputs: waking the worker costs about as much as it saves below
# about 2M elements (measured: a 512K-element multiply 141 us on one thread, 151 split over two;
# 4M elements 1139 against 637; this batch norm at (32, 32, 32x32) 3167 us forward+backward on
# one thread against 3366 split)
_PAR_MIN = 1 << 21
_FAST = (np.dtype(np.float32), np.dtype(np.float64))


def _split(fn, n: int, size: int) -> list:
    """Runs ``fn(lo, hi)`` over rows [0, n): two halves on two threads for large inputs."""
    return _parallel.halves(fn, n, size, _PAR_MIN)


def _rows(c: int, length: int) -> int:
    return max(1, _BLOCK // max(1, c * length))


def _expand(v: np.ndarray, length: int, dtype) -> np.ndarray:
    """A per-channel vector as a (C, L) array of ``dtype`` (vectorised broadcasting, see above)."""
    v = v.astype(dtype)[:, None]
    return v if length == 1 else np.repeat(v, length, 1)


def _sums(a3: np.ndarray, b3: np.ndarray, k: np.ndarray | None) -> tuple:
    """Per channel, in float64: (sum a, sum a*b), with ``b`` (and ``a`` too when it is ``b``)
    centred on ``k`` first when ``k`` is given."""
    n, c, length = a3.shape
    per = _rows(c, length)
    same = a3 is b3
    ones = _ones(length, a3.dtype)
    kk = None if k is None else _expand(k, length, a3.dtype)

    def work(lo, hi):
        s1 = np.zeros(c)
        s2 = np.zeros(c)
        tmp = None if kk is None else np.empty((min(per, hi - lo), c, length), a3.dtype)
        for i in range(lo, hi, per):
            j = min(i + per, hi)
            ab = a3[i:j]
            bb = b3[i:j]
            if kk is not None:
                t = tmp[:j - i]
                np.subtract(bb, kk, out=t)
                bb = t
                if same:
                    ab = t
            s1 += (ab @ ones).sum(0)
            s2 += np.vecdot(ab, bb).sum(0)  # 5.3 us per 64K-element block, einsum 8.7
        return s1, s2

    parts = _split(work, n, a3.size)
    if len(parts) == 1:
        return parts[0]
    return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]


def _affine(x3: np.ndarray, s: np.ndarray, t: np.ndarray, k: np.ndarray | None, shape: tuple) -> np.ndarray:
    """(x - k) * s + t with per-channel s, t, k (float64 vectors; k None: 0), blocked; the result
    has ``shape`` and owns its memory."""
    n, c, length = x3.shape
    dt = x3.dtype
    ss = _expand(s, length, dt)
    tt = _expand(t, length, dt)
    kk = None if k is None else _expand(k, length, dt)
    res = np.empty(shape, dt)
    out = res.reshape(x3.shape)
    per = _rows(c, length)

    def work(lo, hi):
        for i in range(lo, hi, per):
            j = min(i + per, hi)
            o = out[i:j]
            if kk is None:
                np.multiply(x3[i:j], ss, out=o)
            else:
                np.subtract(x3[i:j], kk, out=o)
                o *= ss
            o += tt

    _split(work, n, x3.size)
    return res


def _axpby(g3: np.ndarray, x3: np.ndarray, a: np.ndarray, b: np.ndarray, cc: np.ndarray,
           k: np.ndarray | None, shape: tuple) -> np.ndarray:
    """a*g + b*(x - k) + c with per-channel a, b, c, k (k None: 0), blocked (the training
    backward); the result has ``shape`` and owns its memory (the engine then keeps it as .grad
    without a copy)."""
    n, c, length = x3.shape
    dt = x3.dtype
    aa = _expand(a, length, dt)
    kk = None if k is None else _expand(k, length, dt)
    res = np.empty(shape, dt)
    out = res.reshape(x3.shape)
    per = _rows(c, length)
    with np.errstate(all="ignore"):
        b_a = b / a
        c_a = cc / a
    if np.all(np.abs(b_a) < 1e30) and np.all(np.abs(c_a) < 1e30):  # a far enough from 0 (and finite)
        # factored as a * (g + (b/a) (x - k) + c/a): three in-place passes and one out-of-place,
        # no temporary (measured 34 against 40 us per 64K-element block for the form below)
        ba = _expand(b_a, length, dt)
        ca = _expand(c_a, length, dt)

        def work(lo, hi):
            for i in range(lo, hi, per):
                j = min(i + per, hi)
                o = out[i:j]
                if kk is None:
                    np.multiply(x3[i:j], ba, out=o)
                else:
                    np.subtract(x3[i:j], kk, out=o)
                    o *= ba
                o += ca
                o += g3[i:j]
                o *= aa
    else:
        bb = _expand(b, length, dt)
        ccc = _expand(cc, length, dt)

        def work(lo, hi):
            tmp = np.empty((min(per, hi - lo), c, length), dt)
            for i in range(lo, hi, per):
                j = min(i + per, hi)
                o = out[i:j]
                t = tmp[:j - i]
                np.multiply(g3[i:j], aa, out=o)
                if kk is None:
                    np.multiply(x3[i:j], bb, out=t)
                else:
                    np.subtract(x3[i:j], kk, out=t)
                    t *= bb
                o += t
                o += ccc

    _split(work, n, x3.size)
    return res


def _stats(x3: np.ndarray) -> tuple:
    """(mean, biased var, centre or None) per channel, float64."""
    n, c, length = x3.shape
    m = n * length
    s1, s2 = _sums(x3, x3, None)
    mean = s1 / m
    var = np.maximum(s2 / m - mean * mean, 0.0)
    if np.any(mean * mean > 16.0 * var):
        # cancellation: E[x^2] and E[x]^2 agree in most of their digits; centre and sum again
        k = mean
        s1, s2 = _sums(x3, x3, k)
        d = s1 / m
        mean = k + d
        var = np.maximum(s2 / m - d * d, 0.0)
        return mean, var, k
    return mean, var, None


def _bshape(ndim: int, c: int) -> tuple:
    return (1, c) + (1,) * (ndim - 2)


class NativeBatchNormBackward0(Node, name="NativeBatchNormBackward0"):
    """Saves the input, the weight and the per-channel mean and invstd (float64) that the forward
    used; ``train`` says whether those were the batch's (their dependence on x is differentiated)."""

    __slots__ = ("x", "vx", "w", "vw", "mean", "invstd", "centre", "train", "eps", "has_b")
    _saved = ("x", "w")

    def backward(self, g):
        x, w = saved_input_weight(self)
        if g.__class__ is Tensor:
            return self._backward_graph(g, x, w)
        shape = x._data.shape
        n, c = shape[0], shape[1]
        length = math.prod(shape[2:])
        m = n * length
        x3 = x._data.reshape(n, c, length)
        g3 = np.ascontiguousarray(g, dtype=x3.dtype).reshape(n, c, length)
        nx = self.next[0]
        need_w = w is not None and self.next[1] is not None
        need_b = self.has_b and self.next[-1] is not None
        mean, invstd = self.mean, self.invstd
        wv = np.ones(c) if w is None else w._data.astype(np.float64)
        gx = gw = gb = None
        if self.train or need_w or need_b:
            k = self.centre
            sg, sgx = _sums(g3, x3, k)
            shift = mean if k is None else mean - k
            sgxhat = invstd * (sgx - shift * sg)
        if nx is not None:
            a = wv * invstd
            if self.train:
                b = -a * invstd * sgxhat / m
                cc = -a * sg / m - b * shift
                gx = _axpby(g3, x3, a, b, cc, k, shape)
            else:
                gx = np.empty(shape, x3.dtype)
                np.multiply(g3, _expand(a, length, x3.dtype), out=gx.reshape(x3.shape))
        if need_w:
            gw = sgxhat.astype(w._data.dtype)
        if need_b:
            gb = sg.astype(x3.dtype)
        if self.has_b:
            return (gx, gw, gb) if w is not None else (gx, gb)
        return (gx, gw) if w is not None else (gx,)

    def _backward_graph(self, g, x, w):
        """The same formula with Tensor ops (create_graph): differentiable in g, x and w."""
        nd = x.ndim
        c = x.shape[1]
        axes = (0,) + tuple(range(2, nd))
        bs = _bshape(nd, c)
        m = x.numel() // c
        if self.train:
            xc = x - x.mean(axes, keepdim=True)
            invstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        else:
            mean = _wrap(self.mean.astype(x._data.dtype).reshape(bs))
            invstd = _wrap(self.invstd.astype(x._data.dtype).reshape(bs))
            xc = x - mean
        xhat = xc * invstd
        sg = g.sum(axes, keepdim=True)
        sgxhat = (g * xhat).sum(axes, keepdim=True)
        k = invstd if w is None else w.reshape(bs) * invstd
        if self.train:
            gx = (k / m) * (g * m - sg - xhat * sgxhat)
        else:
            gx = g * k
        gw = sgxhat.reshape(c)
        gb = sg.reshape(c)
        if self.has_b:
            return (gx, gw, gb) if w is not None else (gx, gb)
        return (gx, gw) if w is not None else (gx,)


def saved_input_weight(node) -> tuple:
    """(input, weight or None) saved by a normalization node, checked against release and
    in-place modification (``x``/``vx``, ``w``/``vw`` slots)."""
    x = node.checked_input(node.x, node.vx)
    w = node.w
    if w is not None:
        w = node.checked_input(w, node.vw)
    return x, w


def affine_tail(y: Tensor, weight, bias, bshape: tuple, input: Tensor, low: bool) -> Tensor:
    """``y * weight + bias`` (each reshaped to ``bshape``, None skipped) in y's dtype, cast back to
    the input's dtype when it was computed in float32 (``low``): the composed paths' last step."""
    if weight is not None:
        y = y * weight.reshape(bshape).to(y.dtype)
    if bias is not None:
        y = y + bias.reshape(bshape).to(y.dtype)
    return y.to(input.dtype) if low else y


def _check_vec(name: str, t, c: int) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"batch_norm(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _validate(input, running_mean, running_var, weight, bias, training) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    shape = input.shape
    if training:
        size = shape[0] * math.prod(shape[2:]) if input.ndim >= 2 else 0
        if size == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.size()!r}")
    if input.ndim < 2:
        raise RuntimeError(f"batch_norm(): expected an input of shape (N, C, *) with at least 2 "
                           f"dimensions, got {input.ndim}-D input of shape {list(shape)}")
    c = shape[1]
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_vec(name, t, c)
    dt = input._data.dtype
    if dt.kind not in "fV":
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{type_name(dt).split('.')[-1][:-6]}'")
    for t in (weight, bias, running_mean, running_var):
        if t is not None and t._data.dtype != dt and not (dt not in _FAST and t._data.dtype == np.float32):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _update_running(running_mean, running_var, mean, var, m: int, momentum: float) -> None:
    """In place, as PyTorch: the running variance takes the unbiased batch variance."""
    unbiased = var * (m / (m - 1)) if m > 1 else var
    for t, v in ((running_mean, mean), (running_var, unbiased)):
        if t is None:
            continue
        d = t._data
        upd = d.astype(np.float64) * (1.0 - momentum) + momentum * v.reshape(d.shape)
        d[...] = upd.astype(d.dtype)
        t._version[0] += 1


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each channel of input (N, C, *) by its mean and variance: the batch's in training
    (updating ``running_mean``/``running_var`` in place with ``momentum`` and the unbiased variance
    when given), the running statistics otherwise; then ``* weight + bias`` (each (C,))."""
    if not isinstance(momentum, (int, float)) or isinstance(momentum, bool):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{type(momentum).__name__}")
    _validate(input, running_mean, running_var, weight, bias, training)
    xd = input._data
    shape = xd.shape
    n, c = shape[0], shape[1]
    length = math.prod(shape[2:])
    m = n * length
    dt = xd.dtype
    fast = xd.__class__ is np.ndarray and dt in _FAST
    if xd.size == 0:
        return _wrap(xd.copy()) if fast else input.clone()
    if not fast:
        return _batch_norm_composite(input, running_mean, running_var, weight, bias, training,
                                     momentum, eps)
    x3 = np.ascontiguousarray(xd).reshape(n, c, length)
    centre = None
    if training:
        mean, var, centre = _stats(x3)
    else:
        mean = running_mean._data.astype(np.float64)
        var = running_var._data.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)
    s = invstd if weight is None else invstd * weight._data
    # with a centre k (see _stats), (x - k) * s + (b - (mean - k) * s): no cancellation
    t = -(mean if centre is None else mean - centre) * s
    if bias is not None:
        t = t + bias._data
    out = _wrap(_affine(x3, s, t, centre, shape))
    if training and running_mean is not None:
        _update_running(running_mean, running_var, mean, var, m, momentum)
    if _state.grad_enabled and (input.requires_grad or (weight is not None and weight.requires_grad)
                                or (bias is not None and bias.requires_grad)):
        ins = (input,) + (() if weight is None else (weight,)) + (() if bias is None else (bias,))
        node = attach(out, NativeBatchNormBackward0, ins)
        node.x = input
        node.vx = input._version[0]
        node.w = weight
        node.vw = 0 if weight is None else weight._version[0]
        node.mean = mean
        node.invstd = invstd
        node.centre = centre
        node.train = bool(training)
        node.eps = eps
        node.has_b = bias is not None
    return out


def _batch_norm_composite(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """Other devices and reduced-precision dtypes (computed in float32): composed Tensor ops."""
    low = input._data.dtype not in _FAST
    x = input.float() if low else input
    nd = x.ndim
    c = x.shape[1]
    bs = _bshape(nd, c)
    axes = (0,) + tuple(range(2, nd))
    if training:
        mean = x.mean(axes, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(axes, keepdim=True)
        y = xc * (var + eps).rsqrt()
        if running_mean is not None:
            _update_running(running_mean, running_var, mean._data.reshape(c).astype(np.float64),
                            var._data.reshape(c).astype(np.float64), x.numel() // c, momentum)
    else:
        rm = running_mean.detach().reshape(bs).to(x.dtype)
        rv = running_var.detach().reshape(bs).to(x.dtype)
        y = (x - rm) * (rv + eps).rsqrt()
    return affine_tail(y, weight, bias, bs, input, low)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each (sample, channel) plane of input (N, C, *) separately: batch norm of the
    input seen as (1, N*C, *), the running statistics (when given and ``use_input_stats``) taking
    the average over the batch of the per-sample updates."""
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    shape = input.shape
    if use_input_stats and input.ndim >= 2 and math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.size()!r}")
    if input.ndim < 2:
        raise RuntimeError(f"instance_norm(): expected an input of shape (N, C, *), got "
                           f"{input.ndim}-D input of shape {list(shape)}")
    n, c = shape[0], shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_vec(name, t, c)
    xr = input.reshape((1, n * c) + tuple(shape[2:]))
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    rm = rv = None
    if running_mean is not None:
        rm = _wrap(np.tile(running_mean._data, n))
    if running_var is not None:
        rv = _wrap(np.tile(running_var._data, n))
    if not use_input_stats and (rm is None or rv is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats "
                           "is false")
    out = batch_norm(xr, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        for src, dst in ((rm, running_mean), (rv, running_var)):
            if dst is not None:
                dst._data[...] = src._data.reshape(n, c).mean(0).astype(dst._data.dtype)
                dst._version[0] += 1
    return out.reshape(shape)

