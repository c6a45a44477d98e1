"""Vector and matrix norms and the condition number (``ferrum.linalg.vector_norm``,
``matrix_norm``, ``norm``, ``cond``).

vector norms: the gradient is 0 where the norm is 0 (not NaN); for inf/-inf it is shared equally
among the tied entries, as in PyTorch. Matrix norms are built on vector norms and on
``svdvals`` (2, -2, 'nuc'), so they are differentiable wherever those are. ``torch.norm`` /
``Tensor.norm`` belong to ``ops.reduce``.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import as_dtype
from .._tensor import Tensor
from ..autograd.function import Node, record
from ._common import canon_dim, xp_of
from ._linalg_common import (_batch_index, _check, _check_float, _check_matrix, _const_like,
                             _np_dtype_ok, _real_dtype)
from .decomp import svdvals
from .elementwise import _cast, _write_out, where
from .reduce import _vector_norm_data
from .solve import _inv_unchecked, _singular_info
from ._autocast import autocast_op

__all__ = ["vector_norm", "matrix_norm", "norm", "cond"]

_INF = math.inf


def _norm_dims(dim, ndim: int, op: str) -> tuple:
    """The reduced axes, sorted. A 0-d tensor takes dim 0 / -1 as PyTorch does (as if it were
    1-D) and reduces nothing."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        ds = tuple(canon_dim(d, max(ndim, 1), op) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
        return tuple(sorted(ds)) if ndim else ()
    d = canon_dim(dim, max(ndim, 1), op)
    return (d,) if ndim else ()


class LinalgVectorNormBackward0(Node):
    def backward_t(self, g, x, out):
        p = self.ord
        if p == 0:
            return (None,)
        if not self.keepdim:
            g = g.reshape(self.kshape)
            out = out.reshape(self.kshape)
        sg = _sgn(x)
        if p == 2:
            safe = where(out == 0, 1.0, out)
            return (g * x / safe,)
        if p == 1:
            return (g * sg,)
        xd = np.abs(x._data)
        od = out._data
        if math.isinf(p):
            mask = (xd == od)
            share = mask / np.maximum(mask.sum(axis=self.axes, keepdims=True), 1)
            return (g * sg * _const_like(g, share.astype(xd.dtype)),)
        ax = x.abs()
        ax = where(ax == 0, 1.0, ax)
        safe = where(out == 0, 1.0, out)
        r = g * sg * (ax / safe) ** (p - 1)
        if p < 0:  # select: r may be inf/nan where the norm is 0
            r = where(_const_like(g, od != 0), r, 0.0)
        return (r,)


def _sgn(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "c":
        a = x.abs()
        return x / where(a == 0, 1.0, a)
    return x.sign()


@autocast_op("linalg_vector_norm")
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None): ``sum(|x|^ord)^(1/ord)``;
    inf / -inf give max / min ``|x|``, 0 counts the nonzeros. Complex inputs give real norms."""
    if out is not None:
        return _write_out(out, vector_norm(x, ord, dim, keepdim, dtype=dtype))
    _check(x, "linalg.vector_norm", "x")
    _check_float(x, "linalg.vector_norm")
    if dtype is not None:
        x = _cast(x, as_dtype(dtype))
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    p = float(ord)
    d = x._data
    axes = _norm_dims(dim, d.ndim, "linalg.vector_norm")
    r = _vector_norm_data(d, p, axes, keepdim, "linalg.vector_norm")
    kshape = tuple(1 if i in axes else s for i, s in enumerate(d.shape))
    return record(r, LinalgVectorNormBackward0, (x,), save=(x,), save_output=True, ord=p, axes=axes,
                  keepdim=keepdim, kshape=kshape)


def _to_end(A: Tensor, d0: int, d1: int) -> Tensor:
    """A with dims d0, d1 moved to the end (in that order)."""
    nd = A._data.ndim
    if (d0, d1) == (nd - 2, nd - 1):
        return A
    perm = [i for i in range(nd) if i not in (d0, d1)] + [d0, d1]
    return A.permute(perm)


@autocast_op("linalg_matrix_norm")
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf / -inf (max / min row sum of |A|),
    1 / -1 (max / min column sum), 2 / -2 (largest / smallest singular value)."""
    if out is not None:
        return _write_out(out, matrix_norm(A, ord, dim, keepdim, dtype=dtype))
    op = "linalg.matrix_norm"
    _check(A, op, "A")
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    _check_float(A, op)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        got = " ".join(str(x) for x in dim) if isinstance(dim, (tuple, list)) else dim
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {got}")
    nd = A._data.ndim
    d0, d1 = canon_dim(dim[0], nd, op), canon_dim(dim[1], nd, op)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = _cast(A, as_dtype(dtype))
    kshape = tuple(1 if i in (d0, d1) else s for i, s in enumerate(A._data.shape))
    oshape = kshape if keepdim else tuple(s for i, s in enumerate(A._data.shape) if i not in (d0, d1))
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    # The max/min of an empty set of values: PyTorch gives 0 for the max-type orders and raises
    # IndexError (amin over an empty dim) for the min-type ones.
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(_to_end(A, d0, d1))
        if ord == "nuc" or s._data.shape[-1] == 0:
            if ord == -2:
                raise IndexError(f"{op}: amin(): Expected reduction dim -1 to have non-zero size.")
            r = s.sum(-1)
        else:
            r = vector_norm(s, _INF if ord == 2 else -_INF, -1)
        return r.reshape(oshape)
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = vector_norm(A, 1, inner, keepdim=True)
        if A._data.shape[outer] == 0:
            if ord < 0:
                raise IndexError(f"{op}: amin(): Expected reduction dim {outer - (inner < outer)} to have "
                                 "non-zero size.")
            return sums.sum(outer, keepdim=True).reshape(oshape)
        r = vector_norm(sums, _INF if ord > 0 else -_INF, outer, keepdim=True)
        return r.reshape(oshape)
    raise RuntimeError(f"{op}: Order {ord} not supported.")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Vector or matrix norm: a matrix norm when ``dim`` is a 2-tuple (or when ``ord`` is given and
    ``A`` is 2-D), else a vector norm (over all elements when ``dim`` and ``ord`` are None)."""
    if out is not None:
        return _write_out(out, norm(A, ord, dim, keepdim, dtype=dtype))
    _check(A, "linalg.norm", "A")
    if isinstance(ord, str) and (dim is None and A._data.ndim < 2 or isinstance(dim, (int, np.integer))
                                 or isinstance(dim, (tuple, list)) and len(dim) == 1):
        # 'fro' / 'nuc' are matrix norms: matrix_norm raises PyTorch's error for these inputs
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if dim is not None:
        if isinstance(dim, (int, np.integer)) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    nd = A._data.ndim
    if nd not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {nd}D.")
    if nd == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (0, 1), keepdim, dtype=dtype)


@autocast_op("linalg_cond")
def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """Condition number ``norm(A, p) * norm(inv(A), p)`` (the ratio of extreme singular values for
    p = None, 2 or -2)."""
    if out is not None:
        return _write_out(out, cond(A, p))
    _check_matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    d = A._data
    if d.shape[-1] == 0 or d.shape[-2] == 0:  # PyTorch: 0, outside the graph
        return _const_like(A, xp_of(d).zeros(d.shape[:-2], _real_dtype(d.dtype)))
    if p in (None, 2, -2):
        s = svdvals(A)
        big = vector_norm(s, _INF, -1)
        small = vector_norm(s, -_INF, -1)
        return big / small if p != -2 else small / big
    # PyTorch: inf for a singular matrix (and for one with a NaN), not an error
    Y = _inv_unchecked(A)
    bad = None
    if not np.isfinite(Y._data).all():
        bad = np.array([_singular_info(m) > 0 or bool(np.isnan(m).any()) for m in _batch_matrices(d)])
        bad = bad.reshape(d.shape[:-2])
        if bad.any():  # a finite stand-in, so that no SVD sees the inverse's inf/nan
            Y = where(_const_like(Y, bad[..., None, None]), 0.0, Y)
    r = matrix_norm(A, p) * matrix_norm(Y, p)
    if bad is not None and bad.any():
        r = where(_const_like(r, bad), math.inf, r)
    return r


def _batch_matrices(d) -> list:
    dd = _np_dtype_ok(d)
    return [dd[idx] for idx in _batch_index(d.shape[:-2])]
