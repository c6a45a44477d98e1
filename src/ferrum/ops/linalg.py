"""The linear-algebra ops at the top level of ``ferrum`` (``torch.matmul``, ``torch.det``,
``torch.svd`` ...): a face that re-exports them from the modules that implement them.

- ``matmul``: products (matmul/mm/bmm/mv/dot, the add* family, outer, inner, kron, cross, trace);
- ``einsum``: einsum and tensordot;
- ``solve``: inverses, determinants, solvers, Cholesky, matrix_power, matrix_exp;
- ``decomp``: qr, eigh, svd and what is built on them (pinv, matrix_rank, lstsq);
- ``linalg_norm``: vector/matrix norms and cond.

``ferrum.linalg`` is the face of the ``torch.linalg`` names over the same modules. The private
names below are imported by other modules (``ops.linear`` uses ``_raw_matmul``).
"""

from __future__ import annotations

from ._linalg_common import LinAlgError, _check, _conj, _const_like, _tname  # noqa: F401
from .decomp import pinverse
from .decomp import torch_qr as qr
from .decomp import torch_svd as svd
from .einsum import _einsum_sub, einsum, tensordot  # noqa: F401
from .matmul import (_cross_impl, _matmul_grads, _raw_matmul, addbmm, addmm, addmv, addr,  # noqa: F401
                     baddbmm, bmm, chain_matmul, cross, dot, ger, inner, kron, matmul, mm, mv, outer,
                     trace, vdot)
from .solve import (cholesky_inverse, cholesky_solve, det, inverse, logdet, matrix_exp, matrix_power,
                    slogdet)
from .solve import torch_cholesky as cholesky

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr",
    "baddbmm", "addbmm", "einsum", "tensordot", "kron", "cross", "trace", "matrix_power",
    "chain_matmul", "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky",
    "cholesky_inverse", "cholesky_solve", "svd", "qr", "matrix_exp",
]
