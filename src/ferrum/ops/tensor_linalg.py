"""``linalg.tensorinv`` and ``linalg.tensorsolve``: the inverse and the solver of a tensor read as
a matrix (its leading dims as rows, the rest as columns), composed of reshape, movedim and
``linalg.inv`` / ``linalg.solve``, so every gradient (of any order) is theirs."""

from __future__ import annotations

import math

from .._tensor import Tensor
from ._linalg_common import LinAlgError, _check
from .elementwise import _write_out
from .solve import inv, solve

__all__ = ["tensorinv", "tensorsolve"]


def _renamed(e: LinAlgError, op: str) -> LinAlgError:
    msg = str(e)
    return LinAlgError(op + msg[msg.index(":"):] if ":" in msg else msg)


def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse of ``A`` read as a ``prod(A.shape[:ind]) x prod(A.shape[ind:])`` matrix, shaped
    ``A.shape[ind:] + A.shape[:ind]`` (so that ``tensordot(tensorinv(A, ind), A, ind)`` is the
    identity)."""
    if out is not None:
        return _write_out(out, tensorinv(A, ind))
    _check(A, "linalg.tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    try:
        r = inv(A.reshape(rows, cols))
    except LinAlgError as e:
        raise _renamed(e, "inv") from None
    return r.reshape(shape[ind:] + shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """``X`` (shape ``A.shape[B.ndim:]``) with ``tensordot(A, X, X.ndim) == B``; ``dims`` are dims
    of ``A`` moved to the end first."""
    if out is not None:
        return _write_out(out, tensorsolve(A, B, dims))
    _check(A, "linalg.tensorsolve", "A")
    _check(B, "linalg.tensorsolve", "B")
    if dims is not None:
        if not isinstance(dims, (tuple, list)):
            raise TypeError(f"linalg_tensorsolve(): argument 'dims' must be tuple of ints, not "
                            f"{type(dims).__name__}")
        dims = tuple(dims)
        nd = A.dim()
        A = A.movedim(dims, tuple(range(nd - len(dims), nd)))
    shape = tuple(A.shape)
    k = B.dim()
    rows, cols = math.prod(shape[:k]), math.prod(shape[k:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(shape[k:])
