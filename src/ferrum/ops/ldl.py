"""``linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve``: the Bunch-Kaufman LDL^T (LDL^H with
``hermitian``) factorization of symmetric / Hermitian indefinite matrices, LAPACK's sytrf / hetrf
and sytrs / hetrs through SciPy, one call per matrix of the batch, so ``LD`` and the 1-based
``pivots`` (negative for a 2 x 2 block) are LAPACK's, as in PyTorch (which reads the lower triangle
and zeroes the upper one). As in PyTorch these have no derivative: backward through them raises.
"""

from __future__ import annotations

import collections

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._linalg_common import _batch_index, _batch_prefix, _check, _const_like, _tname

__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

LDLFactorResult = collections.namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorExResult = collections.namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


class LinalgLdlFactorExBackward0(Node):
    def backward_t(self, g):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


class LinalgLdlSolveBackward0(Node):
    def backward_t(self, g):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def _lapack(name: str, hermitian: bool, arr):
    from scipy.linalg import lapack  # on first use: SciPy's import is not free

    if hermitian and arr.dtype.kind == "c":
        name = name.replace("sy", "he")
    return lapack.get_lapack_funcs((name,), (arr,))[0]


def _low(d):
    """Arrays LAPACK takes (float16/bfloat16 computed in float32)."""
    return d.astype(np.float32) if d.dtype.kind not in "fc" or d.dtype.itemsize < 4 else d


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """``(LD, pivots, info)`` of symmetric (Hermitian when ``hermitian``) ``A`` (*, n, n), reading
    its lower triangle: ``LD`` (*, n, n) holds L (unit lower, implied diagonal) and the block
    diagonal D; ``pivots`` (*, n) int32; ``info`` (*) int32 (i > 0: D[i-1, i-1] is exactly zero)."""
    op = "torch.linalg.ldl_factor_ex"
    _check(A, op, "A")
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {d.shape[-2]} by "
                           f"{d.shape[-1]} matrices")
    if d.dtype.kind not in "fc" and A.dtype.category < 2:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_tname(d.dtype)}")
    if d.dtype.kind not in "fc" or d.dtype.itemsize < 4:  # no (b)float16 in torch either
        raise NotImplementedError(f"\"ldl_factor_kernel_cpu\" not implemented for '{_tname(d.dtype)}'")
    a = d
    n = a.shape[-1]
    batch = a.shape[:-2]
    ld = np.zeros(a.shape, a.dtype)
    piv = np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), batch + (n,)).copy()
    info = np.zeros(batch, np.int32)
    if a.size:
        sytrf = _lapack("sytrf", hermitian, a)
        for idx in _batch_index(batch):
            r, p, inf = sytrf(a[idx], lower=1)
            ld[idx] = np.tril(r)
            piv[idx] = p
            info[idx] = inf
    if check_errors:
        _raise_info(info, "torch.linalg.ldl_factor_ex")
    res = LDLFactorExResult(record(ld.astype(d.dtype, copy=False), LinalgLdlFactorExBackward0, (A,)),
                            _const_like(A, piv), _const_like(A, info))
    if out is not None:
        from .elementwise import _write_out
        for o, r in zip(out, res):
            _write_out(o, r)
        return LDLFactorExResult(*out)
    return res


def _raise_info(info, op: str) -> None:
    if info.any():
        batch = info.shape
        idx = next(i for i in _batch_index(batch) if info[i])
        i = int(info[idx])
        raise RuntimeError(f"{op}: {_batch_prefix(idx, batch)}The factorization could not be completed "
                           f"because D[{i - 1},{i - 1}] is exactly zero: the matrix is singular.")


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    """``(LD, pivots)``: :func:`ldl_factor_ex`, raising a RuntimeError for a singular matrix (where
    PyTorch 2.13 fails an internal assert, also a RuntimeError)."""
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    _raise_info(info._data, "torch.linalg.ldl_factor")
    res = LDLFactorResult(LD, piv)
    if out is not None:
        from .elementwise import _write_out
        for o, r in zip(out, res):
            _write_out(o, r)
        return LDLFactorResult(*out)
    return res


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out=None) -> Tensor:
    """Solves ``A X = B`` given ``(LD, pivots)`` of ``A`` from :func:`ldl_factor`; ``LD`` (*, n, n),
    ``B`` (*, n, k), batch dims broadcast."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, ldl_solve(LD, pivots, B, hermitian=hermitian))
    op = "torch.linalg.ldl_solve"
    for t, name in ((LD, "LD"), (pivots, "pivots"), (B, "B")):
        _check(t, op, name)
    d, pd, bd = LD._data, pivots._data, B._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor LD must have at least 2 dimensions.")
    if d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"{op}: LD must be batches of square matrices, but they are {d.shape[-2]} by "
                           f"{d.shape[-1]} matrices")
    if bd.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(bd.ndim, 1)}, "
                         f"{max(bd.ndim, 1) - 1}], but got -2)")
    n = d.shape[-1]
    if bd.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {op}: each A matrix is {n} by {n} but each b "
                           f"matrix is {bd.shape[-2]} by {bd.shape[-1]}")
    if pd.shape != d.shape[:-1]:
        raise RuntimeError(f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
                           f"with shape {list(pd.shape)} instead")
    if pd.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {_tname(pd.dtype)}")
    if bd.dtype != d.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_tname(bd.dtype)} "
                           f"and A of type {_tname(d.dtype)} instead.")
    batch = np.broadcast_shapes(d.shape[:-2], bd.shape[:-2])
    a = np.broadcast_to(_low(d), batch + d.shape[-2:])
    p = np.broadcast_to(pd.astype(np.int32), batch + pd.shape[-1:])
    b = np.broadcast_to(_low(bd), batch + bd.shape[-2:])
    x = np.empty(b.shape, b.dtype)
    if x.size:
        sytrs = _lapack("sytrs", hermitian, a)
        for idx in _batch_index(batch):
            x[idx] = sytrs(a[idx], p[idx], b[idx], lower=1)[0]
    return record(x.astype(bd.dtype, copy=False), LinalgLdlSolveBackward0, (LD, B))
