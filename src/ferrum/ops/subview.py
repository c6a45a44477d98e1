"""Views that keep part of the elements: ``narrow``, ``select``, ``diagonal`` and ``unfold``
(sliding windows), and the "embed" that is their backward.

Each such view is named by a key: ``("narrow", dim, start, length)``, ``("select", dim, index)``
or ``("diagonal", offset, dim1, dim2)``. ``_raw_view`` applies a key to an array (a writable
NumPy/CuPy view), ``_t_view`` to a Tensor (differentiably). Like every view, the result shares
the input's memory and version counter and records ``out._view = (input, fn)``.

The backward of a view that drops elements is "embed": the gradient written into zeros of the
input's shape through the same view, whose own backward is the view again; so these formulas
are closed under differentiation (``gradgradcheck`` holds to any order). The pieces of
split/chunk/unbind (``join``) and ``diag``/``diag_embed`` (``rearrange``) reuse the keys and the
embed.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._common import canon_dim, xp_of
from ._shape_args import _data, _fmt, _int
from .elementwise import clone
from .view import reshape

__all__ = ["narrow", "narrow_copy", "select", "diagonal", "unfold"]

_ndarray = np.ndarray


# --------------------------------------------------------------------------- keyed views and embed
# A "key" names a view that keeps part of the elements: ("narrow", dim, start, length),
# ("select", dim, index) or ("diagonal", offset, dim1, dim2). _raw_view applies it to an array
# (a writable NumPy/CuPy view), _t_view to a Tensor (differentiably).
def _raw_view(a, key):
    kind = key[0]
    if kind == "narrow":
        _, dm, s, n = key
        return a[(slice(None),) * dm + (slice(s, s + n),)]
    if kind == "select":
        _, dm, i = key
        return a[(slice(None),) * dm + (i, Ellipsis)]
    _, off, d1, d2 = key
    return _diag_raw(a, off, d1, d2)


def _t_view(x: Tensor, key) -> Tensor:
    kind = key[0]
    if kind == "narrow":
        return narrow(x, key[1], key[2], key[3])
    if kind == "select":
        return select(x, key[1], key[2])
    return diagonal(x, key[1], key[2], key[3])


def _diag_raw(a, off: int, d1: int, d2: int):
    """The writable diagonal view of array ``a`` (diagonal dim last)."""
    sh = a.shape
    i0, j0 = (0, off) if off >= 0 else (-off, 0)
    n = max(0, min(sh[d1] - i0, sh[d2] - j0))
    idx = [slice(None)] * a.ndim
    idx[d1] = slice(i0, i0 + n) if n else slice(0, 0)
    idx[d2] = slice(j0, j0 + n) if n else slice(0, 0)
    sub = a[tuple(idx)]
    rest = [k for k in range(a.ndim) if k != d1 and k != d2]
    shape = tuple(sub.shape[k] for k in rest) + (n,)
    strides = tuple(sub.strides[k] for k in rest) + (sub.strides[d1] + sub.strides[d2],)
    return xp_of(a).lib.stride_tricks.as_strided(sub, shape, strides)


class _EmbedBackward(Node, name="ViewScatterBackward0"):
    def backward_t(self, g):
        return (_t_view(g, self.key),)


class DiagEmbedBackward0(_EmbedBackward):
    """The same embed used as a forward op (diag_embed, diag of a vector, diagflat)."""


def _embed(g: Tensor, shape: tuple, key, node_cls=_EmbedBackward) -> Tensor:
    """Zeros of ``shape`` with ``g`` written through view ``key`` (differentiable in ``g``)."""
    gd = g._data
    try:
        z = xp_of(gd).zeros(shape, gd.dtype)
    except (ValueError, MemoryError) as e:  # NumPy: "array is too big", or no memory for it
        raise RuntimeError(f"cannot allocate a tensor of size {_fmt(shape)}: {e}") from None
    _raw_view(z, key)[...] = gd
    return record(z, node_cls, (g,), key=key)


class _KeyViewBackward(Node):
    def backward_t(self, g):
        return (_embed(g, self.shape, self.key),)


class NarrowBackward0(_KeyViewBackward):
    pass


class SelectBackward0(_KeyViewBackward):
    pass


class DiagonalBackward0(_KeyViewBackward):
    pass


def _writable(r, x: Tensor):
    """View ``r`` of ``x``'s memory, writable again if NumPy made it read-only only because it
    came from an expanded or overlapping (read-only) array although no two of its own elements
    alias: the diagonal of an expanded column, a piece of an expanded tensor along its stride-0
    dim (PyTorch writes through these). Rebuilt on the writable array that owns the memory of
    ``x``'s root view; anything else stays as it is."""
    if r.flags.writeable or r.__class__ is not _ndarray or r.size <= 1:
        return r
    span = r.itemsize  # no two elements at one address: each stride clears the dims inside it
    for st, n in sorted((builtins.abs(st), n) for n, st in zip(r.shape, r.strides) if n > 1):
        if st < span:
            return r
        span += st * (n - 1)
    while x._view is not None:
        x = x._view[0]
    o = x._data
    while o.__class__ is _ndarray and o.base.__class__ is _ndarray:
        o = o.base
    if o.__class__ is not _ndarray or not o.flags.writeable or not o.flags.c_contiguous:
        return r
    try:
        return _ndarray(r.shape, r.dtype, o, r.ctypes.data - o.ctypes.data, r.strides)
    except (ValueError, TypeError):  # not inside o's buffer after all
        return r


def _key_view(x: Tensor, key, node_cls) -> Tensor:
    d = x._data
    r = _raw_view(d, key)
    if not r.flags.writeable:
        r = _writable(r, x)
    out = record(r, node_cls, (x,), key=key, shape=d.shape)
    out._version = x._version
    out._view = (x, lambda b: _t_view(b, key))
    return out


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """A view of ``length`` elements of dim ``dim`` from ``start`` (which may be negative or a
    0-d tensor)."""
    d = _data(input, "narrow")
    if d.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    k = canon_dim(dim, d.ndim, "narrow")
    n = d.shape[k]
    s = _int(start, "narrow", "start")
    ln = _int(length, "narrow", "length")
    if s < -n or s > n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {s})")
    if s < 0:
        s += n
    if ln < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if s + ln > n:
        raise RuntimeError(f"start ({s}) + length ({ln}) exceeds dimension size ({n}).")
    return _key_view(input, ("narrow", k, s, ln), NarrowBackward0)


def narrow_copy(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Like ``narrow`` but returns a copy."""
    return clone(narrow(input, dim, start, length))


def select(input: Tensor, dim: int, index) -> Tensor:
    """A view of ``input`` at ``index`` along ``dim`` (that dim removed)."""
    d = _data(input, "select")
    if d.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    k = canon_dim(dim, d.ndim, "select")
    i = _int(index, "select", "index")
    n = d.shape[k]
    if i < -n or i >= n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {_fmt(d.shape)} at "
                         f"dimension {k}")
    if i < 0:
        i += n
    return _key_view(input, ("select", k, i), SelectBackward0)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal (``offset`` above the main one) of the planes ``dim1``/``dim2``,
    appended as the last dim."""
    d = _data(input, "diagonal")
    off = _int(offset, "diagonal", "offset")
    a = canon_dim(dim1, d.ndim, "diagonal")
    b = canon_dim(dim2, d.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _key_view(input, ("diagonal", off, a, b), DiagonalBackward0)


# --------------------------------------------------------------------------- unfold (sliding windows)
class UnfoldBackward0(Node):
    def backward_t(self, g):
        return (_unfold_embed(g, self.shape, self.dim, self.size, self.step),)


class _UnfoldEmbedBackward(Node, name="UnfoldBackwardBackward0"):
    def backward_t(self, g):
        return (unfold(g, self.dim, self.size, self.step),)


def _unfold_embed(g: Tensor, shape: tuple, dim: int, size: int, step: int) -> Tensor:
    """The adjoint of unfold: window gradients added back at their positions."""
    gd = g._data
    z = xp_of(gd).zeros(shape, gd.dtype)
    nw = gd.shape[dim]
    for j in range(size):
        z[(slice(None),) * dim + (slice(j, j + step * (nw - 1) + 1, step),)] += gd[..., j]
    return record(z, _UnfoldEmbedBackward, (g,), dim=dim, size=size, step=step)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of all windows of length ``size`` along ``dimension``, ``step`` apart; the windows
    become dim ``dimension`` and their elements a new last dim. Read-only when windows overlap."""
    d = _data(input, "unfold")
    if d.ndim == 0:
        canon_dim(dimension, 0, "unfold")  # a 0-d tensor has the one dim -1/0, as in PyTorch
        r = unfold(reshape(input, (1,)), 0, size, step)
        return reshape(r, (-1,))
    k = canon_dim(dimension, d.ndim, "unfold")
    size = _int(size, "unfold", "size")
    step = _int(step, "unfold", "step")
    n = d.shape[k]
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {k} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    nw = (n - size) // step + 1
    shape = d.shape[:k] + (nw,) + d.shape[k + 1:] + (size,)
    st = d.strides
    strides = st[:k] + (st[k] * step,) + st[k + 1:] + (st[k],)
    r = xp_of(d).lib.stride_tricks.as_strided(d, shape, strides)
    if size > step and d.__class__ is _ndarray:
        r.setflags(write=False)  # overlapping windows: writes would be ambiguous
    elif not r.flags.writeable:
        r = _writable(r, input)
    out = record(r, UnfoldBackward0, (input,), shape=d.shape, dim=k, size=size, step=step)
    out._version = input._version
    out._view = (input, lambda b: unfold(b, k, size, step))
    return out


def _attach() -> None:
    for name in __all__:
        setattr(Tensor, name, globals()[name])


_attach()
