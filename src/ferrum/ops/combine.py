"""Ops that combine the elements of tensors into new ones: diff, cartesian_prod, combinations,
block_diag, vander and linalg.vander, trapezoid/trapz, cumulative_trapezoid, cov, corrcoef, dist,
renorm (and ``Tensor.renorm_``).

Each is a composition of ferrum's differentiable ops (slices, ``cat``, ``cumprod``, ``mm``,
``linalg.vector_norm``, ``where``) in the order of operations torch's own composite uses, so that
the values round as torch's do, and gradients of every order come from the pieces: nothing here
records its own node. (torch names some of the final nodes differently, e.g. ``DistBackward0`` and
``RenormBackward0``; the gradients are the same: renorm's is the derivative of ``x * maxnorm /
(norm + 1e-7)`` where ``norm > maxnorm``, exactly torch's ``renorm_backward``.)
"""

from __future__ import annotations

import builtins
import itertools
import math
import warnings

import numpy as np

from .._dtype import as_dtype, from_np, get_default_dtype, int64, result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ._common import canon_dim, xp_of
from .elementwise import _cast, where
from .inplace import apply_inplace
from .linalg_norm import vector_norm
from .matmul import mm
from .scan import cumprod, cumsum
from .shape import cat, flip, narrow, stack

__all__ = ["diff", "cartesian_prod", "combinations", "block_diag", "vander", "trapezoid", "trapz",
           "cumulative_trapezoid", "cov", "corrcoef", "dist", "renorm"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool


def _tensor(x, op: str, arg: str, pos: int | None = None) -> Tensor:
    if not isinstance(x, Tensor):
        where_ = f" (position {pos})" if pos else ""
        raise TypeError(f"{op}(): argument '{arg}'{where_} must be Tensor, not {type(x).__name__}")
    return x


def _int(x, op: str, arg: str) -> int:
    if isinstance(x, _pybool) or not isinstance(x, (_pyint, np.integer)):
        raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(x).__name__}")
    return _pyint(x)


def _real(x, op: str, arg: str) -> float:
    """A real number argument (a Python number or a one-element tensor)."""
    if isinstance(x, Tensor):
        x = x.item()
    if isinstance(x, complex):
        raise RuntimeError(f"{op}: {arg} must be real-valued")
    if isinstance(x, _pybool) or not isinstance(x, (_pyint, _pyfloat, np.integer, np.floating)):
        raise TypeError(f"{op}(): argument '{arg}' must be Number, not {type(x).__name__}")
    return _pyfloat(x)


def _tname(t: Tensor) -> str:
    return scalar_name(from_np(t._data.dtype))


# --------------------------------------------------------------------------- diff
def _diff_side(t, input: Tensor, d: int, arg: str) -> Tensor:
    _tensor(t, "diff", arg)
    if t.ndim != input.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i in range(input.ndim):
        if i != d and t.shape[i] != input.shape[i]:
            raise RuntimeError("diff expects the shape of tensor to prepend or append to match that of "
                               f"input except along the differencing dimension; input.size({i}) = "
                               f"{input.shape[i]}, but got tensor.size({i}) = {t.shape[i]}")
    return t


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]`` applied ``n`` times
    to ``cat([prepend, input, append], dim)``; the size along ``dim`` shrinks by ``n`` (not below 0).
    bool input gives ``x[i + 1] != x[i]``; integers wrap as their subtraction does."""
    _tensor(input, "diff", "input", 1)
    n = _int(n, "diff", "n")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = canon_dim(dim, input.ndim)
    parts = [_diff_side(prepend, input, d, "prepend")] if prepend is not None else []
    parts.append(input)
    if append is not None:
        parts.append(_diff_side(append, input, d, "append"))
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = hi != lo if x.dtype is as_dtype("bool") else hi - lo
    return x


# --------------------------------------------------------------------------- products of sets
def _check_1d(t: Tensor) -> None:
    if t.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """The cartesian product of the 1-D tensors (all of one dtype): (prod of lengths, k), rows in
    lexicographic order; one tensor is returned as it is."""
    for i, t in enumerate(tensors):
        _tensor(t, "cartesian_prod", "tensors", i + 1)
        _check_1d(t)
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if len(tensors) == 1:
        return tensors[0]
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    total = math.prod(t.shape[0] for t in tensors)
    cols = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[i] = t.shape[0]
        full = [s.shape[0] for s in tensors]
        cols.append(t.reshape(shape).expand(full).reshape(total))
    return stack(cols, 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of the 1-D ``input`` (with repetition when
    ``with_replacement``), as rows of a (count, r) tensor in lexicographic order of positions, as
    ``itertools.combinations``; ``r == 0`` gives an empty 1-D tensor."""
    _tensor(input, "combinations", "input", 1)
    r = _int(r, "combinations", "r")
    _check_1d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.fromiter(itertools.chain.from_iterable(gen(range(input.shape[0]), r)), dtype=np.int64)
    return input[_wrap(idx.reshape(-1, r))]


def _block(t: Tensor) -> Tensor:
    if t.ndim == 2:
        return t
    return t.reshape(1, t.shape[0]) if t.ndim == 1 else t.reshape(1, 1)


def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the tensors (each 0-d, 1-D or 2-D, a 0-d one is a 1x1 block, a
    1-D one a row), of their promoted dtype; no tensors give a (1, 0) tensor of the default dtype."""
    for i, t in enumerate(tensors):
        _tensor(t, "block_diag", "tensors", i + 1)
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                               f"has {t.ndim} dimensions")
    if not tensors:
        return _wrap(np.empty((1, 0), dtype=to_np(get_default_dtype())))
    dt = result_type(*tensors)
    mats = [_block(_cast(t, dt)) for t in tensors]
    width = sum(m.shape[1] for m in mats)
    rows, col = [], 0
    for m in mats:
        h, w = m.shape
        left = m.new_zeros((h, col))
        right = m.new_zeros((h, width - col - w))
        rows.append(cat([left, m, right], 1))
        col += w
    return cat(rows, 0)


# --------------------------------------------------------------------------- Vandermonde
def _powers(x: Tensor, n: int) -> Tensor:
    """(..., n) powers x^0 .. x^(n-1) of ``x`` (...), as a cumulative product (exact gradient at 0)."""
    ones = x.new_ones(tuple(x.shape) + (1,))
    if n == 1:
        return ones
    rep = x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,))
    return cumprod(cat([ones, rep], -1), -1)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix (len(x), N) of the 1-D ``x``: columns ``x^(N-1) .. x^0`` (``x^0 ..``
    with ``increasing``); ``N`` defaults to ``len(x)``. Integer and bool inputs give int64."""
    _tensor(x, "vander", "x", 1)
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else _int(N, "vander", "N")
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "biu":
        x = _cast(x, int64)
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    r = _powers(x, n)
    return r if increasing else flip(r, 1)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``torch.linalg.vander``: (..., n, N) powers ``x^0 .. x^(N-1)`` of the last dim of ``x``
    (a 0-d ``x`` counts as one element); ``N`` (> 1) defaults to ``x.shape[-1]``. Integers give
    int64; bool, float16 and bfloat16 are refused, as in torch."""
    _tensor(x, "linalg.vander", "x", 1)
    if x._data.dtype.kind == "b" or x._data.dtype.itemsize < 4 and x._data.dtype.kind in "fV":
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_tname(x)}")
    if x.ndim == 0:
        x = x.reshape(1)
    n = x.shape[-1] if N is None else _int(N, "linalg.vander", "N")
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x._data.dtype.kind in "iu":
        x = _cast(x, int64)
    return _powers(x, n)


# --------------------------------------------------------------------------- integration
def _x_view(x: Tensor, y: Tensor, d: int, op: str) -> Tensor:
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        return x.reshape(shape)
    if x.ndim < y.ndim:
        return x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    return x


def _trapz_args(y, x, dx, op: str):
    _tensor(y, op, "y", 1)
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: give either x or dx, not both")
    if x is not None:
        _tensor(x, op, "x", 2)


def _no_bool(y, x, op: str) -> None:
    if y._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is not None and x._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not supported")


def _step(dx):
    step = 1 if dx is None else dx
    return step.item() if isinstance(step, Tensor) else step


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim`` of the samples ``y``: spacing ``dx`` (default 1) or the
    sample points ``x`` (1-D of ``y.shape[dim]`` points, or broadcastable to ``y``). The result has
    ``y`` without ``dim``; integer inputs give a floating result, except that an empty ``dim`` gives
    zeros of ``y``'s dtype (bool included), as torch does."""
    _trapz_args(y, x, dx, "trapezoid")
    d = canon_dim(dim, y.ndim)
    if y.shape[d] == 0:
        shape = tuple(s for i, s in enumerate(y.shape) if i != d)
        return y.new_zeros(shape)
    _no_bool(y, x, "trapezoid")
    if x is None:
        return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * _step(dx)
    xv = _x_view(x, y, d, "trapezoid")
    n = xv.shape[d]
    step = narrow(xv, d, 1, n - 1) - narrow(xv, d, 0, n - 1) if n else xv
    m = y.shape[d]
    return (step * (narrow(y, d, 0, m - 1) + narrow(y, d, 1, m - 1))).sum(d) / 2.0


def trapz(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim``: ``y.shape[dim] - 1`` values (see
    :func:`trapezoid` for ``x``/``dx``). Integer samples are added in their dtype (wrapping) before
    the product with the steps, as torch does."""
    if isinstance(y, Tensor) and y.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    _trapz_args(y, x, dx, "cumulative_trapezoid")
    d = canon_dim(dim, y.ndim)
    _no_bool(y, x, "cumulative_trapezoid")
    m = y.shape[d]
    k = max(m - 1, 0)
    pair = narrow(y, d, 0, k) + narrow(y, d, min(1, m), k)
    if x is None:
        return cumsum(_step(dx) * pair / 2.0, d)
    xv = _x_view(x, y, d, "cumulative_trapezoid")
    n = xv.shape[d]
    kx = max(n - 1, 0)
    step = narrow(xv, d, min(1, n), kx) - narrow(xv, d, 0, kx)
    return cumsum(step * pair / 2.0, d)


# --------------------------------------------------------------------------- statistics
def _weights_check(w: Tensor, name: str, nobs: int, integral: bool) -> None:
    _tensor(w, "cov", name)
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w.ndim} dimensions")
    kind = w._data.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with {_tname(w)} "
                           "dtype")
    if not integral and not (kind == "f" or w._data.dtype.name == "bfloat16"):
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{_tname(w)} dtype")
    if w.numel() != nobs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                           f"input but got {w.numel()} != {nobs}")
    if nobs and bool((w._data < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Covariance matrix (V, V) of the variables in the rows of ``input`` (V, N) (a 1-D or 0-d
    input is one variable: a 0-d result), with observation weights ``fweights`` (integer counts)
    and ``aweights`` (floating), and ``correction`` subtracted from the (weighted) count of
    observations (1: Bessel's correction). A count <= 0 warns and divides by zero, as torch does."""
    _tensor(input, "cov", "input", 1)
    correction = _int(correction, "cov", "correction")
    if input.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    if input._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    nobs = x.shape[1]
    w = None
    if fweights is not None:
        _weights_check(fweights, "fweights", nobs, True)
        w = fweights
    if aweights is not None:
        _weights_check(aweights, "aweights", nobs, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = _wrap(xp_of(x._data).asarray(nobs, dtype=np.int64))
    else:
        w_sum = w.sum()
        if not bool(w_sum._data != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is not None and correction != 0 and aweights is not None:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if bool(norm._data <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "number of observations.", UserWarning, stacklevel=2)
        norm = norm.new_zeros(())  # +0 whatever norm's sign, as torch's zero_()
    xc = x - avg.unsqueeze(1)
    c = mm(xc, (xc if w is None else xc * w).t().conj())
    return (c / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients (V, V) of the variables in the rows of ``input`` (V, N),
    clipped to [-1, 1]; a single variable gives ``c / c`` (1, or nan)."""
    _tensor(input, "corrcoef", "input", 1)
    if input.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    sd = (d.real if d.is_complex() else d).sqrt()
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    if c.is_complex():
        from .complex_ops import complex as _complex
        return _complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), a 0-d tensor: ``p`` may be 0 (the count of
    differing elements), inf, -inf or any real; floating inputs only."""
    _tensor(input, "dist", "input", 1)
    _tensor(other, "dist", "other", 2)
    p = _real(p, "dist", "p")
    diff_ = input - other
    return vector_norm(diff_, p)


# --------------------------------------------------------------------------- renorm
def _renorm_args(input, p, dim, maxnorm):
    _tensor(input, "renorm", "input", 1)
    p = _real(p, "renorm", "p")
    maxnorm = _real(maxnorm, "renorm", "maxnorm")
    d = _int(dim, "renorm", "dim")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    return p, canon_dim(d, input.ndim), maxnorm


def _renorm(input: Tensor, p: float, d: int, maxnorm: float) -> Tensor:
    dims = tuple(i for i in range(input.ndim) if i != d)
    low = input._data.dtype.itemsize < 4 and input._data.dtype.kind in "fV"
    acc = _cast(input, as_dtype("float32")) if low else input
    norm = vector_norm(acc, p, dims, keepdim=True)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    if low:
        factor = _cast(factor, input.dtype)
    return input * factor


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """``input`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` rescaled to norm
    ``maxnorm`` (times ``norm / (norm + 1e-7)``); the other slices unchanged. Needs 2+ dims, ``p > 0``.
    float16/bfloat16 norms are taken in float32."""
    p, d, maxnorm = _renorm_args(input, p, dim, maxnorm)
    return _renorm(input, p, d, maxnorm)


def _renorm_(self: Tensor, p, dim: int, maxnorm) -> Tensor:
    p, d, maxnorm = _renorm_args(self, p, dim, maxnorm)
    return apply_inplace(self, lambda t: _renorm(t, p, d, maxnorm), "renorm_")


def _attach() -> None:
    Tensor.diff = diff
    Tensor.cov = lambda self, *, correction=1, fweights=None, aweights=None: cov(
        self, correction=correction, fweights=fweights, aweights=aweights)
    Tensor.corrcoef = corrcoef
    Tensor.dist = dist
    Tensor.renorm = renorm
    Tensor.renorm_ = _renorm_


_attach()
