"""Max pooling: ``max_pool{1,2,3}d`` (and ``..._with_indices``), ``adaptive_max_pool{1,2,3}d``
and their inverse ``max_unpool{1,2,3}d``.

Design. Every op works on the input as planes (B, *S) (``_pool_common``). The forward remembers
where each maximum came from (an :class:`_Argmax`: the offset of the max inside its window, uint8
for kernels up to 255 elements), and the backward scatters the gradient there; under
``create_graph`` the scatter is ferrum's ``scatter_add`` (whose backward is a ``gather`` at the
same indices, and so on), so every order of derivative works. The flat indices PyTorch returns are
only computed when asked for (``return_indices`` or ``create_graph``).

Two forward paths, neither with a Python loop over output positions:

- **blocks** (kernel == stride, no padding or dilation: LeNet's ``MaxPool2d(2)``, and adaptive
  max pooling whose windows tile the input). The planes, cropped to whole windows, are viewed
  without a copy as (B, O1, k1, O2, k2, ...), and the max is a tournament over the kernel axes,
  outermost first (k - 1 compare / maximum steps per axis, which also give the offset). The
  backward writes ``g * (offset == t)`` into each of the K strided slices of one uninitialised
  output array.
- **windows** (everything else): the planes padded with -inf (the dtype's minimum for integers);
  for each of the K kernel offsets, the strided slice holding that element of every window (a view);
  a running max over the K slices, the winner's offset being a running max of ``(c > best) * t``.
  The backward (as adaptive max pooling's) turns the offsets into flat indices (a table lookup per
  dim) and adds g there with NumPy's ``add.at``, which accumulates overlapping windows.

NaN: a window holding one gives NaN, and its index is the window's last NaN, as PyTorch's CPU
kernels (``val > max or isnan(val)``); the block path defers to the window path when its result
holds a NaN. A window whose valid elements are all -inf reports its first valid element, not a
padding position, as PyTorch. A non-finite ``g`` takes ``where`` instead of ``g * mask`` in the
block backward, so that 0 * inf cannot put a NaN on elements that were not the max.

Measured (best of 40, one thread, float32, on this shared 2-core machine; torch 2.13 with
``torch.set_num_threads(1)``; forward under no_grad, forward + backward through autograd):

    op, shape                                 ferrum fwd  fwd+bwd   torch fwd  fwd+bwd   (ms)
    max_pool2d(2), 64x6x28x28   (LeNet)          0.57      1.00        1.30      1.63
    max_pool2d(2), 64x16x10x10  (LeNet)          0.25      0.45        0.48      0.56
    max_pool2d(3, 2, 1), 8x64x56x56 (ResNet)    15.1      20.8        22.4      25.9
    adaptive_max_pool2d(7), 8x256x14x14          0.96      1.74        2.45      3.09

Alternatives measured for the block forward on 64x6x28x28: a sequential compare with a
boolean-mask index update 1.06 ms, a transposed copy + argmax 2.1 ms (against 0.54 ms for the
tournament alone); for the window path, ``where(gt, t, offset)`` made each step 3 ms against 1.3 ms
for the running max of ``gt * t`` (512x28x28 outputs), and an argmax over a (B, *O, K) copy of the
windows took 85 ms for the ResNet shape; ``copyto(where=)`` into zeros for the block backward
1.18 ms against 0.20 ms for the multiplications; the window backward as K strided-slice additions
21 ms, ``bincount`` 8 ms, ``add.at`` 0.8 ms (+ 0.7 ms for the flat indices).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import _pool_common as C
from ._autocast import autocast_op

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d"]


# --------------------------------------------------------------------------- where the maxima are
class _Argmax:
    """Positions of the maxima of planes of shape ``in_shape`` (B, *S) for outputs (B, *O): either
    ``local`` offsets inside the windows of geometry ``geom`` = (kernel, stride, padding, dilation),
    or ``flat`` indices into each plane (adaptive windows)."""

    __slots__ = ("in_shape", "out_shape", "local", "geom", "flat")

    def __init__(self, in_shape, out_shape, local=None, geom=None, flat=None):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        self.local, self.geom, self.flat = local, geom, flat

    def flat_indices(self) -> np.ndarray:
        """int64 (B, *O): index of each maximum in its flattened input plane (PyTorch's indices)."""
        if self.flat is None:
            # flat = (window start's flat index) + (the offset's flat displacement): one lookup
            # in a K-entry table and one broadcast addition
            k, s, p, d = self.geom
            sp, o, n = self.in_shape[1:], self.out_shape[1:], len(k)
            strides = [math.prod(sp[i + 1:]) for i in range(n)]
            table = np.array(list(np.ndindex(*k)), np.int64).reshape(-1, n) @ np.array(
                [d[i] * strides[i] for i in range(n)], np.int64)
            base = np.zeros((1,) * n, np.int64)
            for i in range(n):
                start = (np.arange(o[i]) * s[i] - p[i]) * strides[i]
                base = base + start.reshape((-1,) + (1,) * (n - 1 - i))
            self.flat = table.take(self.local) + base
        return self.flat

    def scatter(self, g: np.ndarray) -> np.ndarray:
        """The adjoint of taking the maxima: g (B, *O) placed at the maxima of zero planes (B, *S)."""
        if self.local is not None and _blocks(*self.geom, self.out_shape[1:], self.in_shape[1:]):
            return self._scatter_blocks(g)
        # NumPy 2's unbuffered add.at: 0.8 ms for 401k outputs into 512x56x56 planes, against 8 ms
        # for bincount and 21 ms for K strided-slice additions (ResNet's MaxPool2d(3, 2, 1))
        B = self.in_shape[0]
        P = math.prod(self.in_shape[1:])
        O = math.prod(self.out_shape[1:])
        flat = self.flat_indices().reshape(B, O)
        g = g.reshape(B, O)
        if self.geom is not None and any(self.geom[2]) and flat.size and (flat.min() < 0 or flat.max() >= P):
            # a dilated window lying wholly in the padding has no input element to send g to
            keep = (flat >= 0) & (flat < P)
            flat, g = np.where(keep, flat, 0), np.where(keep, g, 0)
        key = flat + (np.arange(B) * P)[:, None]
        gx = np.zeros(B * P, g.dtype)
        np.add.at(gx, key.ravel(), g.ravel())
        return gx.reshape(self.in_shape)

    def _scatter_blocks(self, g: np.ndarray) -> np.ndarray:
        k, o, n = self.geom[0], self.out_shape[1:], len(self.geom[0])
        whole = all(oo * kk == L for oo, kk, L in zip(o, k, self.in_shape[1:], strict=True))
        gx = (np.empty if whole else np.zeros)(self.in_shape, g.dtype)
        crop = gx[(slice(None),) + tuple(slice(0, oo * kk) for oo, kk in zip(o, k, strict=True))]
        v = crop.reshape((crop.shape[0],) + tuple(x for oo, kk in zip(o, k, strict=True) for x in (oo, kk)))
        finite = _finite(g)
        loc = self.local
        for t, offs in enumerate(np.ndindex(*k)):
            sl = (slice(None),) + tuple(x for j in range(n) for x in (slice(None), offs[j]))
            if finite:
                np.multiply(g, loc == t, out=v[sl])
            else:
                v[sl] = np.where(loc == t, g, 0)
        return gx


def _finite(g: np.ndarray) -> bool:
    """Whether g * mask is safe (no inf or NaN to make 0 * inf = NaN): one pass, and an overflow of
    the sum only sends a finite g down the slower where() path."""
    return g.dtype.kind != "f" or bool(np.isfinite(g.sum()))


def _blocks(k, s, p, d, o, sp) -> bool:
    """Whether the windows are whole non-overlapping blocks (kernel == stride, no padding or
    dilation, no window past the input): the block path's geometry, where offsets are the same."""
    return s == k and not any(p) and all(v == 1 for v in d) and \
        all(oo * kk <= L for oo, kk, L in zip(o, k, sp, strict=True))


def _positions(loc: np.ndarray, geom, o) -> list:
    """Per spatial dim, the input coordinate of window offset ``loc`` (B, *O) (int64 arrays)."""
    k, s, p, d = geom
    n = len(k)
    # per-dim offsets of each flat window offset by a table lookup: integer division and modulo
    # over the whole output cost ~10x more
    table = np.array(list(np.ndindex(*k)), np.int64).reshape(-1, n)
    res = []
    for i in range(n):
        start = np.arange(o[i]).reshape((-1,) + (1,) * (n - 1 - i)) * s[i] - p[i]
        res.append(start + table[:, i].take(loc) * d[i])
    return res


def _index_dtype(K: int):
    return np.uint8 if K <= 255 else np.int32


def _block_max(a: np.ndarray, k: tuple, o: tuple):
    """Max of the non-overlapping k-blocks of planes ``a`` (B, *S): values and window offsets."""
    n = len(k)
    crop = a[(slice(None),) + tuple(slice(0, oo * kk) for oo, kk in zip(o, k, strict=True))]
    v = crop.reshape((a.shape[0],) + tuple(x for oo, kk in zip(o, k, strict=True) for x in (oo, kk)))
    idt = _index_dtype(math.prod(k))
    # outermost kernel axis first: its candidates are whole contiguous rows (SIMD-friendly), and the
    # strided steps of the inner axes then run on already reduced data (214 us on LeNet's
    # 64x16x10x10 against 258 us with the innermost axis first)
    m, idx = v, None
    for i in range(n):
        pre = (slice(None),) * (2 + i)  # kernel axis i, once the i axes before it are reduced
        best = m[pre + (0,)]
        sub = idx[pre + (0,)] if idx is not None else None  # the outer axes' offsets
        ai = None  # the offset along this axis
        for t in range(1, k[i]):
            c = m[pre + (t,)]
            gt = c > best
            best = np.maximum(best, c)
            if ai is None:  # the first step's offset is the comparison itself
                ai = gt.view(np.uint8).astype(idt, copy=False)
            else:  # a running max of gt * t, as in _tournament
                ai = np.maximum(ai, np.multiply(gt.view(np.uint8), idt(t), dtype=idt))
            if sub is not None:
                sub = np.where(gt, idx[pre + (t,)], sub)
        if ai is None:
            ai = np.zeros(best.shape, idt)
        m, idx = best, (ai if sub is None else sub * idt(k[i]) + ai)
    if np.may_share_memory(m, a):  # a 1 x ... x 1 kernel: the result is a view of the input
        m = m.copy()
    return m, idx


def _tournament(cands, K: int, nan_aware: bool):
    """Running max over the K arrays ``cands`` yields, and the position of the winner: the first
    maximum, or with ``nan_aware`` the last NaN (PyTorch's kernels: val > max or isnan(val))."""
    idt = _index_dtype(K)
    it = iter(cands)
    best = np.array(next(it))
    bi = None
    gt = np.empty(best.shape, bool)
    for t, c in enumerate(it, 1):
        np.greater(c, best, out=gt)
        if nan_aware:
            gt |= c != c
            np.copyto(best, c, where=gt)
        else:
            np.maximum(best, c, out=best)
        # a later winner has a larger offset, so the winner's offset is a running max of gt * t:
        # 1.3 ms a step on 512x28x28 against 3 ms for where(gt, t, bi) (a scalar operand is slow)
        if bi is None:
            bi = gt.view(np.uint8).astype(idt)
        else:
            np.maximum(bi, np.multiply(gt.view(np.uint8), idt(t), dtype=idt), out=bi)
    return best, (np.zeros(best.shape, idt) if bi is None else bi)


def _has_nan(a: np.ndarray) -> bool:
    # one pass; an overflow to inf - inf only sends a NaN-free input down the NaN-aware path
    return a.dtype.kind == "f" and bool(np.isnan(a.sum()))


def _window_max(a: np.ndarray, k, s, p, d, o):
    """Max over the strided windows of planes ``a`` (B, *S): values (B, *O) and window offsets."""
    n = len(k)
    sp = a.shape[1:]
    low = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    ap, right = C.pad_planes(a, p, o, k, s, d, low)
    m, loc = _tournament((ap[sl] for sl in C.offset_slices(k, s, d, o)), math.prod(k), _has_nan(a))
    if (any(p) or any(right)) and (m == low).any():  # only a window of -inf can pick padding
        bad = None
        for i, pos in enumerate(_positions(loc, (k, s, p, d), o)):
            out_of = (pos < 0) | (pos >= sp[i])
            bad = out_of if bad is None else bad | out_of
        if bad.any():
            # every valid element is -inf: PyTorch's index is the window's first valid element
            first = np.zeros((1,) * (n + 1), np.int64)
            inner = math.prod(k)
            for i in range(n):
                inner //= k[i]
                start = np.arange(o[i]) * s[i] - p[i]
                off = np.where(start < 0, (-start + d[i] - 1) // d[i], 0)
                first = first + off.reshape((1,) * (1 + i) + (-1,) + (1,) * (n - 1 - i)) * inner
            loc = np.where(bad, first, loc).astype(loc.dtype)
    return m, loc


def _max_forward(a: np.ndarray, k, s, p, d, o, want_flat: bool):
    """Values (B, *O) and an _Argmax for planes ``a`` (B, *S)."""
    geom = (k, s, p, d)
    if _blocks(k, s, p, d, o, a.shape[1:]):
        m, loc = _block_max(a, k, o)
        if not _has_nan(m):
            am = _Argmax(a.shape, m.shape, local=loc, geom=geom)
            if want_flat:
                am.flat_indices()
            return m, am
    m, loc = _window_max(a, k, s, p, d, o)
    am = _Argmax(a.shape, m.shape, local=loc, geom=geom)
    if want_flat:
        am.flat_indices()
    return m, am


# --------------------------------------------------------------------------- backward
def _scatter_t(g: Tensor, am: _Argmax, shape) -> Tensor:
    """Differentiable scatter of g to the maxima (create_graph): its backward gathers at them."""
    from .gather_scatter import scatter_add
    B = am.in_shape[0]
    O = math.prod(am.out_shape[1:])
    idx = _wrap(am.flat_indices().reshape(B, O))
    z = _wrap(np.zeros((B, math.prod(am.in_shape[1:])), g._data.dtype))
    return scatter_add(z, 1, idx, g.reshape(B, O)).reshape(shape)


class _MaxPoolBackward(Node):
    __slots__ = ("am", "shape")
    _saved = ("am",)

    def backward(self, g):
        am = self.unreleased(self.am)
        if g.__class__ is Tensor:
            return (_scatter_t(g, am, self.shape),)
        dt = g.dtype
        if (dt.kind == "f" and dt.itemsize == 2) or dt.name == "bfloat16":  # computed in float32
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
    k, s, p = C.window_args(input, kernel_size, stride, padding, n, op)
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


@autocast_op("max_pool3d")
def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over kT x kH x kW windows: (N, C, D, H, W) or (C, D, H, W) -> (N, C, Do, Ho, Wo); as
    :func:`max_pool2d` (indices flat within each D x H x W volume)."""
    return _max_pool_nd(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _1d_args(input, kernel_size, stride, padding, dilation, op: str):
    k, s, p = C.window_args(input, kernel_size, stride, padding, 1, op)
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


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """:func:`max_pool1d` that always returns (output, indices), whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """:func:`max_pool2d` that always returns (output, indices), whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple:
    """:func:`max_pool3d` that always returns (output, indices), whatever ``return_indices`` says."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# --------------------------------------------------------------------------- adaptive max pool
def _adaptive_max_nd(n: int, input, output_size, return_indices):
    op = f"adaptive_max_pool{n}d"
    C.check_tensor(input, op)
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
        am = _Argmax(a.shape, m.shape, flat=np.zeros(m.shape, np.int64))
        return _finish(input, m, am, lead, cast, "adaptive", n, bool(return_indices))
    if all(L % oo == 0 for L, oo in zip(sp, o, strict=True)):
        # equal windows that tile the input (14x14 -> 7x7): max pooling with kernel = stride
        k = tuple(L // oo for L, oo in zip(sp, o, strict=True))
        m, am = _max_forward(a, k, k, (0,) * n, (1,) * n, o, bool(return_indices))
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
    K = w.shape[-1]
    m, loc = _tournament((w[..., t] for t in range(K)), K, _has_nan(a))
    loc = loc.astype(np.int64)
    ks = [q.shape[1] for q in pos]
    flat = np.zeros(loc.shape, np.int64)
    inner = math.prod(ks)
    for i in range(n):
        inner //= ks[i]
        off = (loc // inner) % ks[i]
        oi = np.arange(o[i]).reshape((-1,) + (1,) * (n - 1 - i))
        flat += pos[i][oi, off] * math.prod(sp[i + 1:])
    am = _Argmax(a.shape, m.shape, flat=flat)
    return _finish(input, m, am, lead, cast, "adaptive", n, bool(return_indices))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over adaptive windows (start floor(i H / Ho), end ceil((i + 1) H / Ho)):
    (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo); ``output_size`` int or pair, None keeps a size."""
    return _adaptive_max_nd(2, input, output_size, return_indices)


@autocast_op("adaptive_max_pool3d")
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


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False) -> tuple:
    """:func:`adaptive_max_pool1d` that always returns (output, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False) -> tuple:
    """:func:`adaptive_max_pool2d` that always returns (output, indices)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False) -> tuple:
    """:func:`adaptive_max_pool3d` that always returns (output, indices)."""
    return adaptive_max_pool3d(input, output_size, True)


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
        return (gather(g.reshape(B, self.size), 1, idx.reshape(B, self.per)).reshape(self.shape),)


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
    ix = np.ascontiguousarray(indices._data).reshape(B, math.prod(a.shape[1:]))
    if ix.size:
        lo, hi = int(ix.min()), int(ix.max())
        if lo < 0 or hi >= P:
            bad = lo if lo < 0 else hi
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(str(v) for v in osz)})")
    r = np.zeros((B, P), a.dtype)
    np.put_along_axis(r, ix, a.reshape(B, ix.shape[1]), axis=1)
    if cast is not None:
        r = r.astype(cast)
    return record(r.reshape(lead + osz), _UNPOOL_NODES[n], (input,), save=(indices,), planes=B, size=P,
                  per=ix.shape[1], shape=input.shape)


@autocast_op("max_unpool2d")
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool2d`: each value of ``input`` (N, C, Hi, Wi) goes to the
    flat position ``indices`` gives it in a zero (N, C, H, W) output, H = (Hi - 1) stride - 2 padding
    + kernel_size unless ``output_size`` says otherwise."""
    return _max_unpool_nd(2, input, indices, kernel_size, stride, padding, output_size)


@autocast_op("max_unpool3d")
def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool3d`: (N, C, Di, Hi, Wi) -> (N, C, D, H, W)."""
    return _max_unpool_nd(3, input, indices, kernel_size, stride, padding, output_size)


def _max_unpool_nd(n, input, indices, kernel_size, stride, padding, output_size):
    op = f"max_unpool{n}d"
    k, s, p = C.window_args(input, kernel_size, stride, padding, n, op, first=3)
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
    k, s, p = C.window_args(input, kernel_size, stride, padding, 1, op, first=3)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{input.ndim + 1} dimensions.")
    osz = _unpool_output_size(input, k, s, p, output_size)
    if not isinstance(indices, Tensor):
        raise TypeError(f"max_unpool1d(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(indices).__name__}")
    return _max_unpool_raw(2, input.unsqueeze(-1), indices.unsqueeze(-1), osz + (1,)).squeeze(-1)
