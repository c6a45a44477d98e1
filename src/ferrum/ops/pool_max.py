"""Max pooling: ``max_pool{1,2,3}d`` (and ``..._with_indices``), ``adaptive_max_pool{1,2,3}d``
and their inverse ``max_unpool{1,2,3}d``.

Design. Every op works on the input as planes (B, *S) (``_pool_common``). The forward remembers
where each maximum came from (an :class:`_Argmax`), and the backward scatters the gradient to
those places; under ``create_graph`` the scatter is ferrum's ``scatter_add`` (whose backward is a
``gather`` at the same indices, and so on), so every order of derivative works.

Two forward paths:

- **blocks** (kernel == stride, no padding, no dilation: LeNet's ``MaxPool2d(2)``). The planes,
  cropped to whole windows, are viewed without a copy as (B, O1, k1, O2, k2, ...), and the max is a
  tournament over the kernel axes (innermost first): k - 1 compare / maximum / where steps per axis
  on output-sized arrays, which also yields the offset of the max inside its window (uint8). The
  flat indices PyTorch returns are only computed when asked for (``return_indices`` or
  ``create_graph``). The backward writes ``g * (offset == t)`` into each of the K strided slices of
  one output array (a ``where`` instead when ``g`` holds a non-finite value, so that it cannot leak
  to elements that were not the max).
- **windows** (everything else): the planes padded with -inf (the dtype's minimum for integers),
  a strided (B, *O, *K) view over them (``as_strided``, no copy), one reshape to (B, *O, K) and an
  argmax. A window whose valid elements are all -inf gets PyTorch's index (its first valid element),
  not a padding position. The backward is a direct assignment when windows cannot overlap, else a
  ``bincount`` over the flat positions.

Measured (best of 30, one thread, float32, this machine; forward + backward of ``MaxPool2d(2)`` as
LeNet runs it; torch 2.13 ``max_pool2d`` with ``torch.set_num_threads(1)``):

    shape            ferrum fwd   ferrum bwd   ferrum total   torch fwd+bwd
    64x6x28x28         0.73 ms      0.20 ms       0.93 ms        1.62 ms
    64x16x10x10        0.25 ms      0.10 ms       0.35 ms        0.56 ms

(A sequential compare with a boolean-mask index update took 1.06 / 0.41 ms for the forward, a
transposed copy + argmax 2.1 / 0.75 ms, ``copyto(where=)`` into zeros for the backward 1.18 /
0.45 ms; see ``tests/ops/test_pool_max.py`` for parity, none of these numbers are tested.)

NaN: the max is NaN when a window holds one, as PyTorch; which NaN's position is returned as the
index is not defined by PyTorch's API (its kernels differ), here it is the first.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import _pool_common as C

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d"]


# --------------------------------------------------------------------------- where the maxima are
class _Argmax:
    """Positions of the maxima of planes of shape ``in_shape`` (B, *S) for outputs (B, *O): either
    ``local`` window offsets of the block path (kernel ``k``) or ``flat`` indices into each plane."""

    __slots__ = ("in_shape", "out_shape", "local", "k", "flat", "unique")

    def __init__(self, in_shape, out_shape, local=None, k=None, flat=None, unique=False):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        self.local, self.k, self.flat, self.unique = local, k, flat, unique

    def flat_indices(self) -> np.ndarray:
        """int64 (B, *O): index of each maximum in its flattened input plane (PyTorch's indices)."""
        if self.flat is None:
            n = len(self.k)
            sp = self.in_shape[1:]
            loc = self.local.astype(np.int64)
            flat = np.zeros(self.out_shape, np.int64)
            inner = math.prod(self.k)
            for i in range(n):
                inner //= self.k[i]
                off = (loc // inner) % self.k[i]
                o = np.arange(self.out_shape[1 + i]).reshape((-1,) + (1,) * (n - 1 - i)) * self.k[i]
                flat += (o + off) * math.prod(sp[i + 1:])
            self.flat = flat
        return self.flat

    def scatter(self, g: np.ndarray) -> np.ndarray:
        """The adjoint of taking the maxima: g (B, *O) placed at the maxima of zero planes (B, *S)."""
        if self.local is not None:
            return self._scatter_blocks(g)
        B = self.in_shape[0]
        P = math.prod(self.in_shape[1:])
        key = self.flat.reshape(B, -1) + (np.arange(B) * P)[:, None]
        if self.unique:
            gx = np.zeros(B * P, g.dtype)
            gx[key.ravel()] = g.ravel()
        else:
            gx = np.bincount(key.ravel(), weights=g.ravel(), minlength=B * P).astype(g.dtype, copy=False)
        return gx.reshape(self.in_shape)

    def _scatter_blocks(self, g: np.ndarray) -> np.ndarray:
        k, o, n = self.k, self.out_shape[1:], len(self.k)
        whole = all(oo * kk == L for oo, kk, L in zip(o, k, self.in_shape[1:], strict=True))
        gx = (np.empty if whole else np.zeros)(self.in_shape, g.dtype)
        crop = gx[(slice(None),) + tuple(slice(0, oo * kk) for oo, kk in zip(o, k, strict=True))]
        v = crop.reshape((crop.shape[0],) + tuple(x for oo, kk in zip(o, k, strict=True) for x in (oo, kk)))
        finite = bool(np.isfinite(g.sum())) if g.dtype.kind == "f" else True
        loc = self.local
        for t, offs in enumerate(np.ndindex(*k)):
            sl = (slice(None),) + tuple(x for j in range(n) for x in (slice(None), offs[j]))
            if finite:
                np.multiply(g, loc == t, out=v[sl])
            else:
                v[sl] = np.where(loc == t, g, 0)
        return gx


def _block_max(a: np.ndarray, k: tuple, o: tuple):
    """Max of the non-overlapping k-blocks of planes ``a`` (B, *S): values and uint8/int32 offsets."""
    n = len(k)
    crop = a[(slice(None),) + tuple(slice(0, oo * kk) for oo, kk in zip(o, k, strict=True))]
    v = crop.reshape((a.shape[0],) + tuple(x for oo, kk in zip(o, k, strict=True) for x in (oo, kk)))
    K = math.prod(k)
    idt = np.uint8 if K <= 255 else np.int32
    m, idx, inner = v, None, 1
    for i in reversed(range(n)):  # innermost kernel axis first; earlier axes keep their positions
        ax = 2 + 2 * i
        pre = (slice(None),) * ax

        def at(arr, t, pre=pre):
            return arr[pre + (t,)]

        best = at(m, 0)
        sub = at(idx, 0) if idx is not None else None  # offsets inside the inner axes
        ai = None  # offset along this axis
        for t in range(1, k[i]):
            c = at(m, t)
            gt = c > best
            best = np.maximum(best, c)
            # the first step needs no where: the offset is the comparison itself
            ai = gt.view(np.uint8).astype(idt, copy=False) if ai is None else np.where(gt, idt(t), ai)
            if sub is not None:
                sub = np.where(gt, at(idx, t), sub)
        if ai is None:
            ai = np.zeros(best.shape, idt)
        if best is at(m, 0):
            best = best.copy()
        if sub is not None:
            ai = ai * idt(inner) if inner > 1 else ai
            ai += sub
        m, idx = best, ai
        inner *= k[i]
    return m, idx


def _window_max(a: np.ndarray, k, s, p, d, o):
    """Max over the strided windows of planes ``a`` (B, *S): values (B, *O), flat int64 indices."""
    n = len(k)
    B, sp = a.shape[0], a.shape[1:]
    low = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    ap, _ = C.pad_planes(a, p, o, k, s, d, low)
    w = C.windows(ap, o, k, s, d).reshape((B,) + tuple(o) + (-1,))
    loc = w.argmax(-1)
    m = np.take_along_axis(w, loc[..., None], -1)[..., 0]
    flat = np.zeros(loc.shape, np.int64)
    bad = None
    inner = math.prod(k)
    for i in range(n):
        inner //= k[i]
        off = (loc // inner) % k[i]
        start = np.arange(o[i]).reshape((-1,) + (1,) * (n - 1 - i)) * s[i] - p[i]
        pos = start + off * d[i]
        if p[i] or (o[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 > sp[i]:  # windows reach into padding
            out_of = (pos < 0) | (pos >= sp[i])
            bad = out_of if bad is None else bad | out_of
        flat += pos * math.prod(sp[i + 1:])
    if bad is not None and bad.any():
        # all valid elements are -inf: PyTorch's index is the window's first valid element
        first = np.zeros(loc.shape, np.int64)
        for i in range(n):
            start = np.arange(o[i]) * s[i] - p[i]
            fv = np.where(start < 0, start + (-start + d[i] - 1) // d[i] * d[i], start)
            first = first + fv.reshape((-1,) + (1,) * (n - 1 - i)) * math.prod(sp[i + 1:])
        flat = np.where(bad, np.broadcast_to(first, flat.shape), flat)
    return m, flat


def _max_forward(a: np.ndarray, k, s, p, d, o, want_flat: bool):
    """Values (B, *O) and an _Argmax for planes ``a`` (B, *S)."""
    if s == k and not any(p) and all(v == 1 for v in d) and \
            all(oo * kk <= L for oo, kk, L in zip(o, k, a.shape[1:], strict=True)):
        m, loc = _block_max(a, k, o)
        if m.dtype.kind != "f" or not np.isnan(m.sum()):
            am = _Argmax(a.shape, m.shape, local=loc, k=k)
            if want_flat:
                am.flat_indices()
            return m, am
    m, flat = _window_max(a, k, s, p, d, o)
    unique = all(ss >= (kk - 1) * dd + 1 for ss, kk, dd in zip(s, k, d, strict=True))
    return m, _Argmax(a.shape, m.shape, flat=flat, unique=unique)


# --------------------------------------------------------------------------- backward
def _scatter_t(g: Tensor, am: _Argmax, shape) -> Tensor:
    """Differentiable scatter of g to the maxima (create_graph): its backward gathers at them."""
    from .gather_scatter import scatter_add
    B = am.in_shape[0]
    idx = _wrap(am.flat_indices().reshape(B, -1))
    z = _wrap(np.zeros((B, math.prod(am.in_shape[1:])), g._data.dtype))
    return scatter_add(z, 1, idx, g.reshape(B, -1)).reshape(shape)


class _MaxPoolBackward(Node):
    __slots__ = ("am", "shape")
    _saved = ("am",)

    def backward(self, g):
        am = self.unreleased(self.am)
        if g.__class__ is Tensor:
            return (_scatter_t(g, am, self.shape),)
        dt = g.dtype
        if dt.kind == "f" and dt.itemsize == 2 or dt.name == "bfloat16":
            return (am.scatter(g.astype(np.float32).reshape(am.out_shape)).astype(dt).reshape(self.shape),)
        return (am.scatter(g.reshape(am.out_shape)).reshape(self.shape),)


_NODES = {
    ("max", 2): _MaxPoolBackward.named("MaxPool2DWithIndicesBackward0"),
    ("max", 3): _MaxPoolBackward.named("MaxPool3DWithIndicesBackward0"),
    ("adaptive", 2): _MaxPoolBackward.named("AdaptiveMaxPool2DBackward0"),
    ("adaptive", 3): _MaxPoolBackward.named("AdaptiveMaxPool3DBackward0"),
}


def _finish(x: Tensor, m: np.ndarray, am: _Argmax, lead, cast, kind: str, n: int, return_indices: bool):
    o = m.shape[1:]
    if cast is not None:
        m = m.astype(cast)
    out = _wrap(m.reshape(lead + o))
    if _state.grad_enabled and x.requires_grad and m.dtype.kind in "fV":
        node = attach(out, _NODES[(kind, n)], (x,))
        node.am = am
        node.shape = x.shape
    if return_indices:
        return out, _wrap(am.flat_indices().reshape(lead + o))
    return out


def _dtype_check(x: Tensor, op: str, ints: bool) -> None:
    if x.dtype.is_floating_point:
        return
    if not ints or x.dtype.name == "bool" or x.dtype.is_complex:
        raise NotImplementedError(f'"{op}" not implemented for \'{C._scalar(x)}\'')


# --------------------------------------------------------------------------- max_pool
def _max_pool_nd(n: int, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = f"max_pool{n}d"
    C.check_tensor(input, op)
    k = C.ntuple(kernel_size, n, op, "kernel_size", 2)
    s = C.ntuple(stride, n, op, "stride", 3, allow_empty=True) if stride is not None else None
    s = k if s is None else s
    p = C.ntuple(padding, n, op, "padding", 4)
    d = C.ntuple(dilation, n, op, "dilation", 5)
    C.check_window(k, s, p, d, n)
    nd = input.ndim
    if nd not in (n + 1, n + 2):
        raise RuntimeError(f"non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected for input")
    if any(v == 0 for v in input.shape[nd - n - 1:]):
        raise RuntimeError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    _dtype_check(input, op.replace("1d", "2d"), ints=True)
    o = C.out_sizes(input, k, s, p, d, bool(ceil_mode), n)
    a, cast = C.compute_array(input)
    lead = input.shape[:nd - n]
    a = C.planes(a, n)
    m, am = _max_forward(a, k, s, p, d, o, bool(return_indices))
    return _finish(input, m, am, lead, cast, "max", n, bool(return_indices))


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over kH x kW windows: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo), with
    Ho = floor((H + 2 padding - dilation (kH - 1) - 1) / stride + 1) (ceil with ``ceil_mode``).
    ``stride`` defaults to ``kernel_size``; padding is -inf and at most half the kernel.
    With ``return_indices`` also the int64 flat index of each maximum within its H x W plane."""
    return _max_pool_nd(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over kT x kH x kW windows: (N, C, D, H, W) or (C, D, H, W) -> (N, C, Do, Ho, Wo); as
    :func:`max_pool2d` (indices flat within each D x H x W volume)."""
    return _max_pool_nd(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _1d_args(input, kernel_size, stride, padding, dilation, op: str):
    C.check_tensor(input, op)
    k = C.ntuple(kernel_size, 1, op, "kernel_size", 2)
    s = C.ntuple(stride, 1, op, "stride", 3, allow_empty=True) if stride is not None else None
    s = k if s is None else s
    p = C.ntuple(padding, 1, op, "padding", 4)
    d = C.ntuple(dilation, 1, op, "dilation", 5)
    nd = input.ndim
    if nd not in (2, 3) or any(v == 0 for v in input.shape[nd - 2:]):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    for nm, v, lo in (("kernel_size", k[0], 1), ("stride", s[0], 1), ("dilation", d[0], 1)):
        if v < lo:
            raise RuntimeError(f"{op}() {nm} must be greater than zero, but got {v}")
    if p[0] < 0:
        raise RuntimeError(f"{op}() padding must be non-negative, but got {p[0]}")
    if p[0] > k[0] // 2:
        raise RuntimeError(f"{op}() padding should be at most half of kernel size, but got padding={p[0]} "
                           f"and kernel_size={k[0]}")
    return k[0], s[0], p[0], d[0]


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over windows of length k: (N, C, L) or (C, L) -> (N, C, Lo); as :func:`max_pool2d`
    (computed, as PyTorch, by max_pool2d on a 1 x L plane)."""
    k, s, p, d = _1d_args(input, kernel_size, stride, padding, dilation, "max_pool1d")
    if C.out_size(input.shape[-1], k, s, p, d, bool(ceil_mode)) < 1:
        raise RuntimeError("max_pool1d() Invalid computed output size: "
                           f"{C.out_size(input.shape[-1], k, s, p, d, bool(ceil_mode))}")
    _dtype_check(input, "max_pool1d_impl", ints=False)
    r = _max_pool_nd(2, input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


max_pool1d_with_indices = max_pool1d
max_pool2d_with_indices = max_pool2d
max_pool3d_with_indices = max_pool3d


# --------------------------------------------------------------------------- adaptive max pool
def _adaptive_max_nd(n: int, input, output_size, return_indices):
    op = f"adaptive_max_pool{n}d"
    C.check_tensor(input, op)
    if n >= 2:
        C.check_adaptive_input(input, n, op)
    o = C.adaptive_output_size(input, output_size, n, op)
    C.float_only(input, op)
    a, cast = C.compute_array(input)
    nd = input.ndim
    lead = input.shape[:nd - n]
    a = C.planes(a, n)
    B, sp = a.shape[0], a.shape[1:]
    if B == 0 or 0 in o:
        m = np.zeros((B,) + o, a.dtype)
        am = _Argmax(a.shape, m.shape, flat=np.zeros(m.shape, np.int64), unique=True)
        return _finish(input, m, am, lead, cast, "adaptive", n, bool(return_indices))
    idx, pos = [], []
    for i in range(n):
        st, en = C.adaptive_bounds(sp[i], o[i])
        kmax = int((en - st).max())
        ii = np.minimum(st[:, None] + np.arange(kmax), en[:, None] - 1)  # (O, Kmax), last repeated
        pos.append(ii)
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = o[i], kmax
        idx.append(ii.reshape(shape))
    w = a[(slice(None),) + tuple(idx)]  # (B, *O, *Kmax)
    w = w.reshape((B,) + o + (-1,))
    loc = w.argmax(-1)
    m = np.take_along_axis(w, loc[..., None], -1)[..., 0]
    ks = [q.shape[1] for q in pos]
    flat = np.zeros(loc.shape, np.int64)
    inner = math.prod(ks)
    for i in range(n):
        inner //= ks[i]
        off = (loc // inner) % ks[i]
        oi = np.arange(o[i]).reshape((-1,) + (1,) * (n - 1 - i))
        flat += pos[i][oi, off] * math.prod(sp[i + 1:])
    unique = all(L % oo == 0 for L, oo in zip(sp, o, strict=True))
    am = _Argmax(a.shape, m.shape, flat=flat, unique=unique)
    return _finish(input, m, am, lead, cast, "adaptive", n, bool(return_indices))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over adaptive windows (start floor(i H / Ho), end ceil((i + 1) H / Ho)):
    (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo); ``output_size`` int or pair, None keeps a size."""
    return _adaptive_max_nd(2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling over (D, H, W): (N, C, D, H, W) or (C, D, H, W) -> (N, C, Do, Ho, Wo)."""
    return _adaptive_max_nd(3, input, output_size, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling over L: (N, C, L) or (C, L) -> (N, C, Lo) (through the 2-D op, as PyTorch)."""
    op = "adaptive_max_pool1d"
    C.check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(C.rank_1d_message(input, op))
    o = C.adaptive_output_size(input, output_size, 1, op)
    C.check_adaptive_input(input, 1, op)
    r = _adaptive_max_nd(2, input.unsqueeze(-2), (1, o[0]), return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


adaptive_max_pool1d_with_indices = adaptive_max_pool1d
adaptive_max_pool2d_with_indices = adaptive_max_pool2d
adaptive_max_pool3d_with_indices = adaptive_max_pool3d


# --------------------------------------------------------------------------- max_unpool
def _unpool_output_size(input: Tensor, k, s, p, output_size) -> tuple:
    n = len(k)
    default = [(input.shape[input.ndim - n + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(n)]
    if output_size is None:
        return tuple(default)
    osz = list(output_size.tolist() if isinstance(output_size, Tensor) else output_size)
    if len(osz) == n + 2:
        osz = osz[2:]
    if len(osz) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                         f"length of '{len(osz)}'")
    for i in range(n):
        lo, hi = default[i] - s[i], default[i] + s[i]
        if not lo < osz[i] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {i} must be between {lo} '
                             f'and {hi})')
    return tuple(int(v) for v in osz)


class _MaxUnpoolBackward(Node):
    def backward_t(self, g, idx):
        from .gather_scatter import gather
        B = self.planes
        return (gather(g.reshape(B, -1), 1, idx.reshape(B, -1)).reshape(self.shape),)


_UNPOOL_NODES = {2: _MaxUnpoolBackward.named("MaxUnpool2DBackward0"),
                 3: _MaxUnpoolBackward.named("MaxUnpool3DBackward0")}


def _max_unpool_raw(n: int, input: Tensor, indices: Tensor, osz: tuple) -> Tensor:
    op = f"max_unpooling{n}d"
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Input to {op} should be a {n + 1}d or {n + 2}d Tensor, but got a tensor with "
                           f"{input.ndim} dimensions.")
    if not isinstance(indices, Tensor):
        raise TypeError(f"max_unpool{n}d(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}")
    if indices.dtype.name != "int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: {C._scalar(indices)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    C.float_only(input, f"max_unpool{n}d")
    a, cast = C.compute_array(input)
    lead = input.shape[:input.ndim - n]
    a = C.planes(a, n)
    B = a.shape[0]
    P = math.prod(osz)
    ix = np.ascontiguousarray(indices._data).reshape(B, -1)
    if ix.size:
        lo, hi = int(ix.min()), int(ix.max())
        if lo < 0 or hi >= P:
            bad = lo if lo < 0 else hi
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(str(v) for v in osz)})")
    r = np.zeros((B, P), a.dtype)
    np.put_along_axis(r, ix, a.reshape(B, -1), axis=1)
    if cast is not None:
        r = r.astype(cast)
    return record(r.reshape(lead + osz), _UNPOOL_NODES[n], (input,), save=(indices,), planes=B,
                  shape=input.shape)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool2d`: each value of ``input`` (N, C, Hi, Wi) goes to the
    flat position ``indices`` gives it in a zero (N, C, H, W) output, H = (Hi - 1) stride - 2 padding
    + kernel_size unless ``output_size`` says otherwise."""
    return _max_unpool_nd(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool3d`: (N, C, Di, Hi, Wi) -> (N, C, D, H, W)."""
    return _max_unpool_nd(3, input, indices, kernel_size, stride, padding, output_size)


def _max_unpool_nd(n, input, indices, kernel_size, stride, padding, output_size):
    op = f"max_unpool{n}d"
    C.check_tensor(input, op)
    k = C.ntuple(kernel_size, n, op, "kernel_size", 3)
    s = C.ntuple(stride, n, op, "stride", 4) if stride is not None else k
    p = C.ntuple(padding, n, op, "padding", 5)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, but got a "
                           f"tensor with {input.ndim} dimensions.")
    osz = _unpool_output_size(input, k, s, p, output_size)
    return _max_unpool_raw(n, input, indices, osz)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool1d`: (N, C, Li) -> (N, C, L) (through the 2-D op, as
    PyTorch)."""
    op = "max_unpool1d"
    C.check_tensor(input, op)
    k = C.ntuple(kernel_size, 1, op, "kernel_size", 3)
    s = C.ntuple(stride, 1, op, "stride", 4) if stride is not None else k
    p = C.ntuple(padding, 1, op, "padding", 5)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{input.ndim + 1} dimensions.")
    osz = _unpool_output_size(input, k, s, p, output_size)
    if not isinstance(indices, Tensor):
        raise TypeError(f"max_unpool1d(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}")
    return _max_unpool_raw(2, input.unsqueeze(-1), indices.unsqueeze(-1), osz + (1,)).squeeze(-1)
