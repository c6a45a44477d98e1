"""bfloat16/float16 arrays computed in float32: NumPy has no half-precision BLAS, and ml_dtypes'
bfloat16 loops are slow (measured on this machine, 256K elements: a bfloat16 matmul runs at about
6 GFLOP/s against BLAS's 90 in float32 on one core; np.maximum(x, 0) 4.4 ns/element against 0.3, exp
3.1 against 0.5). So the hot ops widen their operands, compute in float32 and narrow the result once,
which is also how PyTorch's CPU kernels compute these dtypes (float32 accumulation).

Widening bfloat16 is exact and cheap: its bits are the upper half of a float32 (a shift of the
uint16 view, 0.38 ns/element against 0.42 for ml_dtypes' astype). Narrowing rounds to nearest even
through ml_dtypes (0.95 ns/element; a NumPy integer formulation of the rounding takes 1.4).
"""

from __future__ import annotations

import numpy as np

from .._dtype import _load_bfloat16

BF16 = _load_bfloat16()
F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
LOWP = (BF16, F16)


def widen(a: np.ndarray) -> np.ndarray:
    """A float32 copy of the bfloat16/float16 array ``a`` (exact)."""
    if a.dtype == BF16:
        r = np.left_shift(a.view(np.uint16), 16, dtype=np.uint32)
        return r.view(F32)
    return a.astype(F32)


def narrow(r: np.ndarray, dt: np.dtype) -> np.ndarray:
    """The float32 array ``r`` rounded to ``dt`` (to nearest even; overflow to inf as PyTorch)."""
    with np.errstate(over="ignore"):
        return r.astype(dt)


def matmul(ad: np.ndarray, bd: np.ndarray) -> np.ndarray:
    """``ad @ bd`` for bfloat16/float16 operands: a float32 GEMM on the widened operands, rounded once."""
    return narrow(widen(ad) @ widen(bd), ad.dtype)


def narrow_exact(r: np.ndarray, dt: np.dtype) -> np.ndarray:
    """``r`` (float32) to ``dt`` when every value is representable there (relu's, max's outputs of
    widened values): bfloat16 keeps the upper halves of the bits (no rounding), in r's layout."""
    if dt != BF16 or not r.ndim:
        return r.astype(dt)
    return (r.view(np.uint32) >> 16).astype(np.uint16).view(BF16)


def relu(d: np.ndarray) -> np.ndarray:
    """max(d, 0) for a bfloat16/float16 array, exact (0.1 ns/element in float32 plus the two
    conversions, against 4.4 for ml_dtypes' np.maximum)."""
    w = widen(d)
    np.maximum(w, 0.0, out=w)
    return narrow_exact(w, d.dtype)
