"""The memory-layout protocol: which array layouts ferrum creates on purpose, and the one rule that
keeps them from spreading copies through a backward pass.

Why layouts at all: a 2-D result can be computed C-ordered (row-major) or as the transpose of a
C-ordered product (column-major, a Fortran-ordered view). OpenBLAS is faster on MLP shapes when
a hidden Linear output is computed column-major, as ``(W @ X^T)^T`` (measured 8% on
128x784 @ 784x512, float32), so the fused ``Sequential`` path (``nn/modules/container.py``) does
that for every Linear output that only the next layer sees. Those column-major hidden outputs are
the only arrays ferrum makes non-C-ordered on purpose; everything a user gets back (the last
Linear's output, gradients of parameters) is C-ordered.

The rule (every hot node follows it):

    A node that receives a column-major operand returns that operand's gradient column-major.

So the elementwise backward that meets the gradient next (ReLU's ``g * (y > 0)``, in place of
the hidden output's layout) sees two arrays of the same layout, and NumPy runs one contiguous
loop instead of a strided one (a mixed-layout 128x512 float32 ufunc costs 2-5x a same-layout
one). The nodes that apply it: ``AddmmBackward0`` (``ops/linear.py``: ``x_colmajor``), matmul's
backward (``ops/linalg.py``: ``_matmul_grads``' ``lay`` flags, where ``w.t()`` in ``Linear``
hands a Fortran-ordered weight to matmul), and the elementwise nodes, which produce results in
their operands' layout because NumPy's ufuncs keep the layout of same-layout inputs.

Helpers: :func:`is_colmajor_2d` (the test the nodes use when recording) and
:func:`zeros_like_layout` (a cached block of zeros in an array's own layout, for ReLU's
``np.maximum``: against a same-layout array it is about 5x faster than against a scalar).

``zeros_like_layout`` still lives in ``ops/_common.py`` (another change owns that file) and is
re-exported here; it moves into this module when the two changes are merged.
"""

from __future__ import annotations

import numpy as np

from ._common import zeros_like_layout

__all__ = ["is_colmajor_2d", "zeros_like_layout", "colmajor_matmul_t"]


def is_colmajor_2d(a) -> bool:
    """True for a 2-D array that is column-major (Fortran-ordered) and not also C-ordered (a
    single row or column is both, and counts as C-ordered)."""
    if a.ndim != 2:
        return False
    flags = a.flags
    return flags.f_contiguous and not flags.c_contiguous


def colmajor_matmul_t(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x @ w.T`` computed as ``(w @ x.T).T``: the same product, returned column-major (the
    transpose of a fresh C-ordered ``w @ x.T``). For 2-D ``x`` only."""
    return (w @ x.T).T
