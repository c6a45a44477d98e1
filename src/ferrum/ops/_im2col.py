"""Patch gather (im2col) and its adjoint (col2im) for 1, 2 and 3 spatial dims, the shifted-GEMM
kernels of stride-1 convolutions, and the cached buffers they work in. Raw NumPy arrays only; the
differentiable ops are in ``conv.py``/``fold.py``.

Two ways to turn a convolution into matrix products (measurements in ``conv.py``'s docstring):

* **im2col** (every geometry): ``col`` of shape (C*K, N*P), K the kernel volume and P the output
  volume, rows ordered (c, k1.., kd) and columns (n, o1.., od), is filled with K strided copies of the
  padded input (one per kernel tap). A convolution is then one GEMM ``W (O, C*K) @ col``, whose
  (O, N*P) result is transposed to (N, O, *out) in the same pass that adds the bias; a group is a
  block of rows. ``col2im`` is the adjoint: K strided adds back into a padded buffer.
* **shifted GEMMs** (stride 1, padding <= dilation*(kernel-1), enough channels): the input is laid
  out channel-major, (C, N, H+ph, W+pw) flattened, with the zero padding *shared* between
  neighbouring rows and images (a row's right padding is the next row's left padding). Output
  position q then reads input position q + i*dh*Ws + j*dw for tap (i, j), so each tap is one GEMM on
  a shifted window of the same buffer (a strided matrix with leading dimension = buffer length),
  accumulated with beta=1 through OpenBLAS's cblas ``?gemm`` (NumPy has no beta). No patch buffer
  is built at all; the price is computing the output on the (H+ph)x(W+pw) grid and dropping the
  gap positions (6% more work for 32x32 with padding 1).

Buffers of more than 128 KiB page-fault on every step when freshly allocated (glibc hands them back
to the OS), so the padded/patch/layout buffers are cached per (kind, shape, dtype): taken out of
the cache while in use (so two threads never share one) and put back after. Buffers whose
padding must be zero are zeroed once when created: only their interior is ever written.
"""

from __future__ import annotations

import ctypes
import itertools
import math

import numpy as np

from . import _blas, _parallel

__all__ = ["take", "give", "padded", "im2col", "col2im", "gemm_ok", "shift_ok", "split_cols", "shift_fwd",
           "shift_bwd", "shift_gin", "shift_gw"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_CACHE: dict = {}
_CACHE_BYTES = [0]
_CACHE_LIMIT = 512 << 20  # past this the cache is emptied (shapes change, e.g. a last smaller batch)


def take(kind: str, shape: tuple, dtype, zero: bool = False) -> np.ndarray:
    """A cached buffer (kind, shape, dtype); ``zero`` buffers are zero when created (callers keep
    their padding zero by writing only the interior). Hand it back with :func:`give`."""
    key = (kind, shape, dtype)
    lst = _CACHE.get(key)
    if lst:
        try:
            return lst.pop()
        except IndexError:
            pass
    n = math.prod(shape) * np.dtype(dtype).itemsize
    if _CACHE_BYTES[0] + n > _CACHE_LIMIT:
        _CACHE.clear()
        _CACHE_BYTES[0] = 0
    _CACHE_BYTES[0] += n
    return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)


def give(kind: str, buf: np.ndarray) -> None:
    """Return a buffer from :func:`take` to the cache."""
    _CACHE.setdefault((kind, buf.shape, buf.dtype), []).append(buf)


def padded(x: np.ndarray, pads: tuple) -> tuple[np.ndarray, bool]:
    """``x`` (N, C, *sp) zero-padded by ``pads`` ((lo, hi) per spatial dim) in a cached buffer;
    returns (array, cached) -- ``x`` itself when no padding is needed."""
    if not any(lo or hi for lo, hi in pads):
        return x, False
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    buf = take("pad" + repr(pads), shape, x.dtype, zero=True)
    buf[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads))] = x
    return buf, True


def _tap_slices(tap, stride, dilation, out_sp):
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                 for t, s, d, o in zip(tap, stride, dilation, out_sp))


def im2col(x: np.ndarray, ksize, stride, pads, dilation, out_sp, layout: str = "cn") -> np.ndarray:
    """Patches of ``x`` (N, C, *sp). ``layout``: "cn", a cached (C*K, N*P) buffer, columns (n, o..)
    (see the module docstring); "cl", a cached (C*K, P*N) buffer, columns (o.., n): batch last, so
    that each tap's copy moves runs of Wo*N contiguous elements instead of Wo (small feature maps;
    x is transposed once first); "nf", a fresh (N, C*K, P) (F.unfold's). Hand cached buffers back
    with ``give("col", col)``."""
    N, C = x.shape[:2]
    xp, cached = padded(x, pads)
    K, P = math.prod(ksize), math.prod(out_sp)
    nd = len(ksize)
    if layout == "nf":
        col = np.empty((N, C * K, P), x.dtype)
        cv = col.reshape((N, C) + tuple(ksize) + tuple(out_sp))
        pre, post = (slice(None),), ()
        src = xp
    elif layout == "cl":
        col = take("col", (C * K, P * N), x.dtype)
        cv = col.reshape((C,) + tuple(ksize) + tuple(out_sp) + (N,))
        pre, post = (), (slice(None),)
        src = take("xt", xp.shape[1:] + (N,), x.dtype)
        np.copyto(src, xp.transpose(tuple(range(1, nd + 2)) + (0,)))
    else:
        col = take("col", (C * K, N * P), x.dtype)
        cv = col.reshape((C,) + tuple(ksize) + (N,) + tuple(out_sp))
        pre, post = (), ()
        src = xp.swapaxes(0, 1)  # (C, N, *padded): the copies write col's (c, n, o..) order
    taps = list(itertools.product(*(range(k) for k in ksize)))
    wins = [_tap_slices(tap, stride, dilation, out_sp) for tap in taps]
    mid = () if layout == "cl" else (slice(None),)

    def part(lo, hi):
        ch = pre + (slice(lo, hi),)
        for tap, win in zip(taps, wins):
            np.copyto(cv[ch + tap], src[ch + (mid if layout == "cn" else ()) + win + post])

    _parallel.halves(part, C, col.size)
    if layout == "cl":
        give("xt", src)
    if cached:
        give("pad" + repr(pads), xp)
    return col


def col2im(col: np.ndarray, x_shape, ksize, stride, pads, dilation, out_sp, layout: str = "cn") -> np.ndarray:
    """The adjoint of :func:`im2col` (same ``layout``): ``col`` summed back into a fresh (N, C, *sp)."""
    N, C = x_shape[:2]
    sp = tuple(x_shape[2:])
    nd = len(sp)
    psp = tuple(s + lo + hi for s, (lo, hi) in zip(sp, pads))
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, pads))
    if layout == "nf":
        acc = np.zeros((N, C) + psp, col.dtype)
        cv = col.reshape((N, C) + tuple(ksize) + tuple(out_sp))
        pre, mid, post = (slice(None),), (), ()
    elif layout == "cl":
        acc = take("acc", (C,) + psp + (N,), col.dtype)
        acc.fill(0)  # a cached buffer: a fresh np.zeros page-faults on every step
        cv = col.reshape((C,) + tuple(ksize) + tuple(out_sp) + (N,))
        pre, mid, post = (), (), (slice(None),)
    else:
        acc = take("acc", (C, N) + psp, col.dtype)
        acc.fill(0)
        cv = col.reshape((C,) + tuple(ksize) + (N,) + tuple(out_sp))
        pre, mid, post = (), (slice(None),), ()
    taps = list(itertools.product(*(range(k) for k in ksize)))
    wins = [_tap_slices(tap, stride, dilation, out_sp) for tap in taps]

    def part(lo, hi):
        ch = pre + (slice(lo, hi),)
        for tap, win in zip(taps, wins):
            acc[ch + mid + win + post] += cv[ch + tap]

    _parallel.halves(part, C, col.size)
    if layout == "nf":
        return np.ascontiguousarray(acc[(slice(None), slice(None)) + inner]) if any(
            lo or hi for lo, hi in pads) else acc
    out = np.empty((N, C) + sp, col.dtype)
    if layout == "cl":
        perm = (nd + 1, 0) + tuple(range(1, nd + 1))
        np.copyto(out, acc[(slice(None),) + inner + (slice(None),)].transpose(perm))
    else:
        np.copyto(out, acc[(slice(None), slice(None)) + inner].swapaxes(0, 1))
    give("acc", acc)
    return out


# ----------------------------------------------------------------------------- shifted GEMMs
_GEMM: dict = {}
_LOCAL = [None]  # openblas_set_num_threads_local, where the library has it


def _load_gemm() -> bool:
    if not _blas.available or _blas._path is None:
        return False
    try:
        lib = ctypes.CDLL(_blas._path)
        i64, ci = ctypes.c_int64, ctypes.c_int
        for dt, c, real in ((_F32, "s", ctypes.c_float), (_F64, "d", ctypes.c_double)):
            f = getattr(lib, f"scipy_cblas_{c}gemm64_")
            f.argtypes = (ci, ci, ci, i64, i64, i64, real, ctypes.c_void_p, i64, ctypes.c_void_p, i64,
                          real, ctypes.c_void_p, i64)
            f.restype = None
            _GEMM[dt] = f
        try:
            loc = lib.openblas_set_num_threads_local  # OpenBLAS >= 0.3.27: the calling thread only
            loc.argtypes = (ctypes.c_int,)
            loc.restype = ctypes.c_int
            _LOCAL[0] = loc
        except AttributeError:
            pass
    except (OSError, AttributeError):
        _GEMM.clear()
        return False
    return True


_HAVE_GEMM = _load_gemm()
_ROW, _NT, _T = 101, 111, 112


def gemm_ok(*arrays) -> bool:
    """True when cblas ``?gemm`` can take these arrays (CPU float32/float64 of one dtype)."""
    if not _HAVE_GEMM:
        return False
    dt = arrays[0].dtype
    return (dt is _F32 or dt is _F64) and all(a.__class__ is np.ndarray and a.dtype is dt for a in arrays)


def shift_ok(stride, pads, dilation, ksize, cin_g: int) -> bool:
    """Whether the shifted-GEMM layout applies: stride 1, symmetric padding no larger than the
    dilated kernel's reach, and enough channels per group for a GEMM of depth ``cin_g`` to pay."""
    return (cin_g >= 16 and all(s == 1 for s in stride)
            and all(lo == hi and lo <= d * (k - 1) for (lo, hi), d, k in zip(pads, dilation, ksize)))


def _layout(sp, pads, ksize, dilation, nimg):
    """(gapped sizes, total buffer length, start offset of the data, tap offsets)."""
    gs = tuple(s + lo for s, (lo, _) in zip(sp, pads))
    strides = [1] * len(gs)
    for i in range(len(gs) - 2, -1, -1):
        strides[i] = strides[i + 1] * gs[i + 1]
    L = nimg * math.prod(gs)
    start = sum(lo * st for (lo, _), st in zip(pads, strides))
    offs = [sum(t * d * st for t, d, st in zip(tap, dilation, strides))
            for tap in itertools.product(*(range(k) for k in ksize))]
    total = L + max(offs) + start + 1
    return gs, L, start, offs, total


def _to_gapped(a: np.ndarray, kind: str, gs, start: int, total: int, lead: int = 0) -> np.ndarray:
    """(N, C, *sp) -> cached channel-major gapped buffer (C, lead + total), data from ``lead + start``,
    gaps zero."""
    N, C = a.shape[:2]
    # the zero gaps depend on the layout, so the layout is part of the cache key
    buf = take(kind + repr((a.shape[2:], gs, lead)), (C, lead + total), a.dtype, zero=True)
    L = N * math.prod(gs)
    body = buf[:, lead + start:lead + start + L].reshape((C, N) + gs)
    inner = tuple(slice(0, s) for s in a.shape[2:])
    at = a.swapaxes(0, 1)

    def part(lo, hi):
        body[(slice(lo, hi), slice(None)) + inner] = at[lo:hi]

    _parallel.halves(part, C, a.size)
    return buf


def _give_gapped(kind: str, a_shape, gs, lead: int, buf) -> None:
    give(kind + repr((a_shape[2:], gs, lead)), buf)


def _from_gapped(buf: np.ndarray, start: int, N: int, gs, sp, bias=None) -> np.ndarray:
    C = buf.shape[0]
    L = N * math.prod(gs)
    body = buf[:, start:start + L].reshape((C, N) + gs)
    src = body[(slice(None), slice(None)) + tuple(slice(0, s) for s in sp)].swapaxes(0, 1)
    out = np.empty((N, C) + tuple(sp), buf.dtype)
    b = None if bias is None else bias.reshape((C,) + (1,) * len(sp))

    def part(lo, hi):
        if b is None:
            np.copyto(out[:, lo:hi], src[:, lo:hi])
        else:
            np.add(src[:, lo:hi], b[lo:hi], out=out[:, lo:hi])

    _parallel.halves(part, C, out.size)
    return out


def _gemm(dt, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc):
    _GEMM[dt](_ROW, _T if ta else _NT, _T if tb else _NT, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc)


# Output columns per block: every tap's GEMM runs on one block before the next, so the block of
# the accumulated result can stay in cache across the taps. Measured (micro_conv's layer, one
# BLAS thread, thread CPU time, ms; fwd / dx / dw): whole rows 22.3 / 23.0 / 33.4, blocks of 4096
# 25.1 / 22.8 / 33.6, of 1024 24.9 / 22.6 / 31.0: no gain, while each GEMM call is a hand-off
# between OpenBLAS's threads (on a loaded machine 81 calls per kernel made micro_conv 5x slower
# than torch). So blocks are large: one per kernel for micro_conv's 37,000 columns.
CHUNK = 1 << 16


def _chunks(lo: int, hi: int):
    return [(c, min(CHUNK, hi - c)) for c in range(lo, hi, CHUNK)]


_SPLIT_MIN = 4096  # columns; below this one call on one thread


def _one_blas_thread(run, lo: int, hi: int):
    prev = _LOCAL[0](1)
    try:
        return run(lo, hi)
    finally:
        _LOCAL[0](prev)


def split_cols(run, L: int) -> list:
    """``run(lo, hi)`` over columns [0, L), as two halves on two Python threads each calling a
    one-thread BLAS (``openblas_set_num_threads_local``), rather than one call on OpenBLAS's own two
    threads; returns the results (one or two). Measured on this 2-core machine while other jobs
    loaded it (wall ms, one 64x64 @ 64x37000 GEMM, micro_conv's tap): one thread 2.9, OpenBLAS's
    two threads 5.5 to 19 (its threads spin on each other when a core is taken), two halves 3.1
    to 6.9; 32x32 @ 32x34848: 0.9 / 1.5 to 15.8 / 1.1 to 2.0. The halves never wait on a spinning
    partner, and on an idle machine run on both cores."""
    if _LOCAL[0] is None:
        return [run(0, L)]
    return _parallel.halves(lambda lo, hi: _one_blas_thread(run, lo, hi), L, L, _SPLIT_MIN)


def shift_fwd(x: np.ndarray, w: np.ndarray, pads, dilation, groups: int, out_sp, bias=None) -> np.ndarray:
    """Stride-1 convolution by shifted GEMMs: x (N, C, *sp), w (O, C/g, *k) -> (N, O, *out_sp)."""
    N, C = x.shape[:2]
    O = w.shape[0]
    ksize = w.shape[2:]
    gs, L, start, offs, total = _layout(x.shape[2:], pads, ksize, dilation, N)
    xb = _to_gapped(x, "sx", gs, start, total)
    yb = take("sy", (O, total), x.dtype)
    cg, og = C // groups, O // groups
    wt = np.ascontiguousarray(w.reshape(O, cg, -1).transpose(2, 0, 1))  # (K, O, C/g)
    it, dt = x.itemsize, x.dtype
    xa, ya, wa = xb.ctypes.data, yb.ctypes.data, wt.ctypes.data

    def run(lo, hi):
        for g in range(groups):
            for c0, n in _chunks(lo, hi):
                for t, off in enumerate(offs):
                    # output q reads input q + off; the output grid starts at `start` like the data's
                    _gemm(dt, 0, 0, og, n, cg, wa + (t * O * cg + g * og * cg) * it, cg,
                          xa + (g * cg * total + c0 + off) * it, total, 1.0 if t else 0.0,
                          ya + (g * og * total + start + c0) * it, total)

    split_cols(run, L)
    _give_gapped("sx", x.shape, gs, 0, xb)
    y = _from_gapped(yb, start, N, gs, out_sp, bias)
    give("sy", yb)
    return y


def shift_bwd(x: np.ndarray, g: np.ndarray, w: np.ndarray, pads, dilation, groups: int, need_x: bool,
              need_w: bool, need_b: bool = False):
    """The adjoints of :func:`shift_fwd`: g (N, O, *out) -> (dx (N, C, *sp) or None,
    dw (O, C/g, *k) or None, db (O,) or None), packing g once for all of them. ``x`` is only read
    for ``need_w`` (its shape is enough otherwise), ``w`` only for ``need_x``."""
    N, C = x.shape[:2]
    O = w.shape[0]
    ksize = w.shape[2:]
    gs, L, start, offs, total = _layout(x.shape[2:], pads, ksize, dilation, N)
    # g with a leading margin of max(offs) zeros: dx at p gathers g at p - off for every tap
    lead = max(offs)
    gb = _to_gapped(g, "sg", gs, start, total, lead)
    cg, og = C // groups, O // groups
    it, dt = g.itemsize, g.dtype
    ga = gb.ctypes.data
    dx = dw = db = None
    if need_b:
        db = gb.sum(axis=1)  # the gaps are zero
    if need_x:
        d = take("sd", (C, total), g.dtype)
        wt = np.ascontiguousarray(w.reshape(O, cg, -1).transpose(2, 0, 1))  # (K, O, C/g)
        da, wa = d.ctypes.data, wt.ctypes.data

        def run_x(lo, hi):
            for gi in range(groups):
                for c0, n in _chunks(lo, hi):
                    for t, off in enumerate(offs):
                        src = ga + (gi * og * (lead + total) + lead + 2 * start + c0 - off) * it
                        dst = da + (gi * cg * total + start + c0) * it
                        _gemm(dt, 1, 0, cg, n, og, wa + (t * O * cg + gi * og * cg) * it, cg, src,
                              lead + total, 1.0 if t else 0.0, dst, total)

        split_cols(run_x, L)
        dx = _from_gapped(d, start, N, gs, x.shape[2:])
        give("sd", d)
    if need_w:
        xb = _to_gapped(x, "sx", gs, start, total)
        xa = xb.ctypes.data

        def run_w(lo, hi):
            gw = np.empty((len(offs), O, cg), x.dtype)  # this column range's share of the sum
            wa = gw.ctypes.data
            for gi in range(groups):
                for c0, n in _chunks(lo, hi):
                    for t, off in enumerate(offs):
                        _gemm(dt, 0, 1, og, cg, n, ga + (gi * og * (lead + total) + lead + start + c0) * it,
                              lead + total, xa + (gi * cg * total + c0 + off) * it, total,
                              1.0 if c0 > lo else 0.0, wa + (t * O * cg + gi * og * cg) * it, cg)
            return gw

        parts = split_cols(run_w, L)
        gw = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        _give_gapped("sx", x.shape, gs, 0, xb)
        dw = np.ascontiguousarray(gw.transpose(1, 2, 0)).reshape(w.shape)
    _give_gapped("sg", g.shape, gs, lead, gb)
    return dx, dw, db


def shift_gin(g: np.ndarray, w: np.ndarray, x_shape, pads, dilation, groups: int) -> np.ndarray:
    """The adjoint of :func:`shift_fwd` in x: g (N, O, *out) -> (N, C, *sp)."""
    x = np.lib.stride_tricks.as_strided(np.zeros(1, g.dtype), x_shape, (0,) * len(x_shape))
    return shift_bwd(x, g, w, pads, dilation, groups, True, False)[0]


def shift_gw(x: np.ndarray, g: np.ndarray, w_shape, pads, dilation, groups: int) -> np.ndarray:
    """The adjoint of :func:`shift_fwd` in w: x (N, C, *sp), g (N, O, *out) -> (O, C/g, *k)."""
    w = np.lib.stride_tricks.as_strided(np.zeros(1, g.dtype), w_shape, (0,) * len(w_shape))
    return shift_bwd(x, g, w, pads, dilation, groups, False, True)[1]
