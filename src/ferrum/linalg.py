"""``ferrum.linalg``: norms, decompositions, inverses and solvers, following ``torch.linalg``.

A face, like ``nn/functional.py``: the implementations live in ``ops/`` (``ops.solve``,
``ops.decomp``, ``ops.linalg_norm``, ``ops.matmul``, ``ops.lu``, ``ops.householder``, ``ops.eig``,
``ops.ldl``, ``ops.tensor_linalg``; their docstrings give the backward formulas
and the differences from PyTorch).
"""

from __future__ import annotations

from .ops._linalg_common import LinAlgError
from .ops.decomp import (EighResult, LstsqResult, QRResult, SVDResult, TorchSVDResult,  # noqa: F401
                         eigh, eigvalsh, lstsq, matrix_rank, pinv, qr, svd, svdvals)
from .ops.linalg_norm import cond, matrix_norm, norm, vector_norm
from .ops.matmul import linalg_cross as cross
from .ops.matmul import linalg_diagonal as diagonal
from .ops.matmul import matmul, multi_dot, vecdot
from .ops.solve import (CholeskyExResult, InvExResult, SlogdetResult, SolveExResult,  # noqa: F401
                        cholesky, cholesky_ex, det, inv, inv_ex, matrix_exp, slogdet, solve, solve_ex,
                        solve_triangular)
from .ops.solve import linalg_matrix_power as matrix_power
from .ops.combine import linalg_vander as vander  # noqa: F401
from .ops.lu import lu_factor, lu_factor_ex
from .ops.lu import linalg_lu as lu
from .ops.lu import linalg_lu_solve as lu_solve
from .ops.householder import householder_product  # noqa: F401
from .ops.eig import EigResult, eig, eigvals  # noqa: F401
from .ops.tensor_linalg import tensorinv, tensorsolve
from .ops.ldl import ldl_factor, ldl_factor_ex, ldl_solve

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "det", "slogdet", "inv", "inv_ex", "solve",
    "solve_ex", "solve_triangular", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd",
    "svdvals", "pinv", "matrix_rank", "lstsq", "cond", "matrix_exp", "matrix_power", "matmul",
    "cross", "vecdot", "multi_dot", "diagonal", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
    "householder_product", "eig", "eigvals", "tensorinv", "tensorsolve",
    "ldl_factor", "ldl_factor_ex", "ldl_solve",
]
