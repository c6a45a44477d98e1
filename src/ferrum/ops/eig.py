"""Eigen-decomposition of general (non-symmetric) square matrices: ``linalg.eig`` and
``linalg.eigvals``, as PyTorch: complex outputs (complex64 for float32 / complex64 input,
complex128 for float64 / complex128), eigenvectors normalised by LAPACK's geev (unit Euclidean
norm, largest component real), which ``numpy.linalg.eig`` calls as PyTorch does.

Backward of ``A = V diag(L) V^{-1}`` (PyTorch's formula, written with ferrum's differentiable
complex ops, so double backward works):

    gA = V^{-H} (diag(gL) + offdiag((V^H gV - V^H V diag(re(diag(V^H gV)))) / conj(E))) V^H,
    E_ij = L_j - L_i,

and the real part of it for real ``A``. Eigenvectors are defined only up to a phase each, so a
loss that depends on those phases has no gradient: as in PyTorch, backward raises when the
imaginary part of ``diag(V^H gV)`` is not (close to) zero. Gradients through ``V`` are finite only
for distinct eigenvalues. ``eigvals`` of a tensor that needs a gradient goes through ``eig`` (the
backward needs ``V``); otherwise it skips the eigenvectors.
"""

from __future__ import annotations

import collections

import numpy as np

from .._tensor import Tensor, _wrap
from ._linalg_common import _check_matrix, _conj, _DecompNode, _eye, _mH, _record_multi, _tname
from .complex_ops import real
from .elementwise import _write_out
from .matmul import matmul
from .solve import solve

__all__ = ["eig", "eigvals"]

EigResult = collections.namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])

_PHASE_MSG = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication "
              "by e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined.")


def _input(A, op: str):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")
    d = A._data
    if d.dtype.kind not in "fcV":
        raise RuntimeError(f"Unknown Complex ScalarType for {_tname(d.dtype)}")
    if d.dtype.kind == "V" or d.dtype.itemsize < 4 or d.dtype.name == "bfloat16":
        raise NotImplementedError(f"\"linalg_eig_out_cpu\" not implemented for '{_tname(d.dtype)}'")
    _check_matrix(A, op)
    if d.size and not np.isfinite(d).all():
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    return d, np.dtype(np.complex128 if d.dtype in (np.float64, np.complex128) else np.complex64)


class LinalgEigBackward0(_DecompNode):
    def grad(self, A, outs, grads):
        L, V = outs
        gL, gV = grads
        n = L._data.shape[-1]
        eye = _eye(V, n)
        Vh = _mH(V)
        if gV is not None:
            VhgV = matmul(Vh, gV)
            im = np.imag(np.diagonal(VhgV._data, 0, -2, -1))
            if not np.allclose(im, 0, rtol=1e-2, atol=1e-2):
                raise RuntimeError(_PHASE_MSG)
            diag_re = real(VhgV * eye).sum(-2)                     # (*, n) re(diag(V^H gV))
            Lc = _conj(L)
            E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)               # conj(L_j) - conj(L_i)
            inner = (VhgV - matmul(Vh, V * diag_re.unsqueeze(-2))) / (E + eye) * (1 - eye)
        else:
            inner = gL.unsqueeze(-1) * eye
        gA = solve(Vh, matmul(inner, Vh))
        return gA if A._data.dtype.kind == "c" else real(gA)


def eig(A: Tensor, *, out=None):
    """``(eigenvalues, eigenvectors)`` of ``A`` (*, n, n): eigenvalues (*, n) and eigenvectors
    (*, n, n, one per column, unit norm), complex; ``A = V diag(L) V^{-1}``."""
    d, cdt = _input(A, "linalg.eig")
    if d.size == 0:
        w, v = np.zeros(d.shape[:-1], cdt), np.zeros(d.shape, cdt)
    else:
        w, v = np.linalg.eig(d)
    res = EigResult(*_record_multi((w.astype(cdt), v.astype(cdt)), LinalgEigBackward0, A))
    if out is not None:
        for o, r in zip(out, res):
            _write_out(o, r)
        return EigResult(*out)
    return res


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """The eigenvalues (*, n) of ``A`` (*, n, n), complex, in LAPACK's order (that of :func:`eig`)."""
    if out is not None:
        return _write_out(out, eigvals(A))
    d, cdt = _input(A, "linalg.eigvals")
    if A.requires_grad:
        return eig(A)[0]
    if d.size == 0:
        return _wrap(np.zeros(d.shape[:-1], cdt))
    return _wrap(np.linalg.eigvals(d).astype(cdt))
