"""Whole-tensor views: view/reshape, flatten/unflatten, squeeze/unsqueeze, transpose/t/permute/
movedim/``T``/``mT``/``H``/``mH``, expand/broadcast_to/broadcast_tensors, and the in-place forms
(``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``).

A view shares memory with its input: the result wraps a NumPy (CuPy) view of the input's array,
shares the input's version counter (``_wrap(r, x._version)``), and records
``out._view = (input, fn)``, where ``fn(tensor)`` re-applies the same view with ferrum ops to any
tensor of the input's shape, so that in-place ops on the view rebuild the base's graph
(``ops/inplace.py``).

These are the hottest shape ops (every Linear reshapes, transposes or expands), so their nodes
are the slotted kind (``backward(self, g)`` on raw arrays, or on Tensors under ``create_graph``,
where they call the same ferrum ops and so stay differentiable) recorded with ``attach`` after
the caller checked grad mode. Views that keep only part of the elements (narrow, select,
diagonal, unfold) are in ``subview``; ``join`` and ``rearrange`` build on both.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _state
from .._dtype import as_dtype, dtype as _dtype_cls, scalar_name, to_np
from .._tensor import Size, Tensor, _wrap
from ..autograd.function import Node, attach, record, sum_to
from ._common import canon_dim
from .elementwise import clone
from .inplace import check_inplace
from ._shape_args import (_check, _data, _fmt, _infer, _int, _int_seq, _kw_arg, _norm_shape, _not_tensor,
                          _overflow)

__all__ = [
    "view", "reshape", "view_as", "reshape_as", "flatten", "unflatten", "ravel", "squeeze",
    "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "t", "expand", "expand_as",
    "broadcast_to", "broadcast_tensors", "broadcast_shapes", "movedim", "moveaxis", "contiguous",
    "adjoint",
]

_pyint = builtins.int
_new = object.__new__
_ndarray = np.ndarray


def _can_view(oshape, ostrides, nshape) -> bool:
    """True when an array of ``oshape``/``ostrides`` can be viewed as ``nshape`` (same numel)
    without a copy: each run of old dims that are laid out contiguously with respect to each other
    must be split into whole new dims."""
    if 0 in oshape:
        return True
    dims = [(n, s) for n, s in zip(oshape, ostrides) if n != 1]
    nn = [n for n in nshape if n != 1]
    j = len(nn) - 1
    i = len(dims) - 1
    while i >= 0:
        numel, st = dims[i]
        i -= 1
        while i >= 0 and dims[i][1] == dims[i + 1][1] * dims[i + 1][0]:
            numel *= dims[i][0]
            i -= 1
        acc = 1
        while acc < numel:
            if j < 0:
                return False
            acc *= nn[j]
            j -= 1
        if acc != numel:
            return False
    return True


def _contig_copy(d):
    """A C-contiguous copy of array ``d`` (never a view)."""
    return d.copy()


# --------------------------------------------------------------------------- hot nodes
class ViewBackward0(Node):
    """Backward of view/reshape/squeeze/unsqueeze/flatten/unflatten: reshape back."""

    __slots__ = ("shape",)

    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    """Backward of a reshape that had to copy."""

    __slots__ = ()


class SqueezeBackward0(ViewBackward0):
    """squeeze(); ``squeeze(dim)`` is SqueezeBackward1 and ``squeeze(dims)`` SqueezeBackward2."""

    __slots__ = ()


class _SqueezeDimBackward(ViewBackward0, name="SqueezeBackward1"):
    __slots__ = ()


class _SqueezeDimsBackward(ViewBackward0, name="SqueezeBackward2"):
    __slots__ = ()


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


class TransposeBackward0(Node):
    """Backward of transpose/t/mT: the same swap."""

    __slots__ = ("d0", "d1")

    def backward(self, g):
        if g.__class__ is Tensor:
            return (transpose(g, self.d0, self.d1),)
        return (g.swapaxes(self.d0, self.d1),)


class TBackward0(TransposeBackward0):
    __slots__ = ()


class PermuteBackward0(Node):
    """Backward of permute/T/movedim: the inverse permutation."""

    __slots__ = ("inv",)

    def backward(self, g):
        if g.__class__ is Tensor:
            return (permute(g, self.inv),)
        return (g.transpose(self.inv),)


class ExpandBackward0(Node):
    """Backward of expand/broadcast_to: sum over the broadcast dims."""

    __slots__ = ("shape",)

    def backward(self, g):
        return (sum_to(g, self.shape),)


# --------------------------------------------------------------------------- view / reshape family
def _view_out(x: Tensor, r, node_cls) -> Tensor:
    out = _wrap(r, x._version)
    shape = r.shape
    out._view = (x, lambda b: reshape(b, shape))
    if x.requires_grad and _state.grad_enabled:
        attach(out, node_cls, (x,)).shape = x._data.shape
    return out


def _slow_shape(d, shape, op: str) -> tuple:
    ns = _int_seq(shape, op, "shape")
    try:
        return _infer(ns, d.size)
    except RuntimeError:
        err = _overflow(ns, op, "shape")
        if err is None:
            raise
        raise err from None


def view(input: Tensor, *shape, **kw) -> Tensor:
    """A view of ``input`` with the given shape (one dim may be -1); ``view(dtype)`` reinterprets
    the bits. RuntimeError when the strides do not allow a view (use ``reshape``)."""
    try:
        d = input._data
    except AttributeError:
        raise _not_tensor("view", input) from None
    if not shape and not kw:
        raise TypeError("view() missing required argument 'shape' (a tuple of ints)")
    if kw:
        shape = _kw_arg(shape, kw, ("size", "dtype"), "view")
    if len(shape) == 1:
        s = shape[0]
        c = s.__class__
        if c is tuple or c is Size:
            shape = s
        elif c is list:
            shape = tuple(s)
    if d.flags.c_contiguous:
        try:  # the common case, validated by NumPy (which takes any negative size as "infer")
            r = d.reshape(shape)
            if not shape or min(shape) >= -1:
                return _view_out(input, r, ViewBackward0)
        except (ValueError, TypeError):
            pass
    if len(shape) == 1 and not isinstance(shape[0], (_pyint, tuple, list)) and _is_dtype(shape[0]):
        return _view_dtype(input, shape[0])
    ns = _slow_shape(d, shape, "view")
    if not d.flags.c_contiguous and not _can_view(d.shape, d.strides, ns):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return _view_out(input, d.reshape(ns), ViewBackward0)


def reshape(input: Tensor, *shape, **kw) -> Tensor:
    """``input`` with the given shape (one dim may be -1): a view when the strides allow it,
    otherwise a copy."""
    try:
        d = input._data
    except AttributeError:
        raise _not_tensor("reshape", input) from None
    if not shape and not kw:
        raise TypeError("reshape() missing required argument 'shape' (a tuple of ints)")
    if kw:
        shape = _kw_arg(shape, kw, ("shape",), "reshape")
    if len(shape) == 1:
        s = shape[0]
        c = s.__class__
        if c is tuple or c is Size:
            shape = s
        elif c is list:
            shape = tuple(s)
    if d.flags.c_contiguous:
        try:  # the common case, validated by NumPy (which takes any negative size as "infer")
            r = d.reshape(shape)
            if not shape or min(shape) >= -1:
                return _view_out(input, r, ViewBackward0)
        except (ValueError, TypeError):
            pass
    ns = _slow_shape(d, shape, "reshape")
    if d.flags.c_contiguous or _can_view(d.shape, d.strides, ns):
        return _view_out(input, d.reshape(ns), ViewBackward0)
    out = _wrap(_contig_copy(d).reshape(ns))
    if input.requires_grad and _state.grad_enabled:
        attach(out, UnsafeViewBackward0, (input,), shape=d.shape)
    return out


def _is_dtype(x) -> bool:
    if isinstance(x, (_dtype_cls, np.dtype)):
        return True
    if isinstance(x, type) and issubclass(x, np.generic):
        return True
    return type(x).__module__ == "torch" and "dtype" in type(x).__name__


def _view_dtype(input: Tensor, dt) -> Tensor:
    """``view(dtype)``: the same memory reinterpreted (not differentiable, as in PyTorch)."""
    d = input._data
    fd = as_dtype(dt)
    npd = to_np(fd)
    if npd.itemsize != d.itemsize:
        src, dst = scalar_name(input.dtype), scalar_name(fd)
        if d.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {src} as {dst} (different element sizes)")
        if d.shape[-1] != 1 and d.strides[-1] != d.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {src} as {dst} (different element "
                               f"sizes), but got {d.strides[-1] // d.itemsize}")
        if npd.itemsize > d.itemsize and (d.shape[-1] * d.itemsize) % npd.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by {npd.itemsize // d.itemsize} to view "
                               f"{src} as {dst} (different element sizes), but got {d.shape[-1]}")
        if d.shape[-1] == 1 and d.strides[-1] != d.itemsize:
            d = d[..., :1]
            d = d.reshape(d.shape)
    try:
        r = d.view(npd)
    except ValueError as e:
        raise RuntimeError(f"view(): cannot view {input.dtype} as {fd}: {e}") from None
    return _wrap(r, input._version)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    if not isinstance(other, Tensor):
        raise _not_tensor("view_as", other, "other", 2)
    return view(input, other._data.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    if not isinstance(other, Tensor):
        raise _not_tensor("reshape_as", other, "other", 2)
    return reshape(input, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Flattens dims ``start_dim..end_dim`` into one (a view when possible). Returns ``input``
    itself when nothing changes, as PyTorch does."""
    d = _data(input, "flatten")
    nd = d.ndim
    s = canon_dim(start_dim, nd, "flatten")  # a 0-d tensor has the one dim -1/0, as in PyTorch
    e = canon_dim(end_dim, nd, "flatten")
    if nd == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    sh = d.shape
    return reshape(input, sh[:s] + (math.prod(sh[s:e + 1]),) + sh[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Expands dim ``dim`` into ``sizes`` (one may be -1); always a view."""
    d = _data(input, "unflatten")
    k = canon_dim(dim, d.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list, Tensor)):
        raise TypeError(f"unflatten(): argument 'sizes' (position 2) must be tuple of ints, not "
                        f"{type(sizes).__name__}")
    sizes = _int_seq((sizes,), "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if d.ndim == 0:
        raise RuntimeError(f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    n = d.shape[k]
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    try:
        sizes = _infer(sizes, n)
    except RuntimeError:
        err = _overflow(sizes, "unflatten", "sizes")
        raise err or RuntimeError(f"unflatten: Provided sizes {_fmt(sizes)} don't multiply up to the size "
                                  f"of dim {dim} ({n}) in the input tensor") from None
    return view(input, d.shape[:k] + sizes + d.shape[k + 1:])


def ravel(input: Tensor) -> Tensor:
    """A flattened 1-D tensor: a view when ``input`` is contiguous, else a copy."""
    return reshape(input, (-1,))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Removes dims of size 1 (all of them, or those among ``dim``, an int or a tuple). A view."""
    d = _data(input, "squeeze")
    sh = d.shape
    if dim is None:
        new = tuple(n for n in sh if n != 1)
        node_cls = SqueezeBackward0
    else:
        if isinstance(dim, (tuple, list)):
            ks = [canon_dim(k, d.ndim, "squeeze") for k in dim]
            dims = set(ks)
            if len(dims) != len(ks):
                dup = next(k for k in ks if ks.count(k) > 1)
                raise RuntimeError(f"squeeze(): dim {dup} appears multiple times in the list of dims")
            node_cls = _SqueezeDimsBackward
        else:
            dims = {canon_dim(dim, d.ndim, "squeeze")}
            node_cls = _SqueezeDimBackward
        new = tuple(n for i, n in enumerate(sh) if not (n == 1 and i in dims))
    return _view_out(input, d.reshape(new), node_cls)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Inserts a dim of size 1 at ``dim`` (in ``[-input.dim()-1, input.dim()]``). A view."""
    d = _data(input, "unsqueeze")
    k = canon_dim(dim, d.ndim + 1, "unsqueeze")
    sh = d.shape
    return _view_out(input, d.reshape(sh[:k] + (1,) + sh[k:]), UnsqueezeBackward0)


# --------------------------------------------------------------------------- transpose family
def _transpose_to(x: Tensor, d, a: int, b: int, node_cls) -> Tensor:
    out = _wrap(d.swapaxes(a, b), x._version)
    out._view = (x, lambda t: transpose(t, a, b))
    if x.requires_grad and _state.grad_enabled:
        node = attach(out, node_cls, (x,))
        node.d0 = a
        node.d1 = b
    return out


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims ``dim0`` and ``dim1`` swapped."""
    d = _data(input, "transpose")
    nd = d.ndim
    a = canon_dim(dim0, nd, "transpose")
    b = canon_dim(dim1, nd, "transpose")
    if nd == 0:
        return _view_out(input, d.reshape(()), ViewBackward0)
    return _transpose_to(input, d, a, b, TransposeBackward0)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix (0-d and 1-d tensors are returned as views of themselves)."""
    d = _data(input, "t")
    nd = d.ndim
    if nd == 2:
        return _transpose_to(input, d, 0, 1, TBackward0)
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _view_out(input, d.reshape(d.shape), ViewBackward0)


_RANGES = [list(range(n)) for n in range(65)]


def _permute_to(x: Tensor, perm: tuple) -> Tensor:
    d = x._data
    out = _wrap(d.transpose(perm), x._version)
    out._view = (x, lambda t_: permute(t_, perm))
    if x.requires_grad and _state.grad_enabled:
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        attach(out, PermuteBackward0, (x,)).inv = tuple(inv)
    return out


def permute(input: Tensor, *dims, **kw) -> Tensor:
    """A view with the dims reordered: output dim ``i`` is input dim ``dims[i]``."""
    try:
        d = input._data
    except AttributeError:
        raise _not_tensor("permute", input) from None
    if kw:
        dims = _kw_arg(dims, kw, ("dims",), "permute")
    elif not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    nd = d.ndim
    dims = _norm_shape(dims)
    if len(dims) == nd:
        try:
            perm = tuple([k + nd if k < 0 else k for k in dims])
            if sorted(perm) == _RANGES[nd]:
                return _permute_to(input, perm)
        except (TypeError, IndexError):
            pass
    dims = _int_seq(dims, "permute", "dims")
    if len(dims) != nd:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not "
                           "match the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{nd} is not equal to len(dims) = {len(dims)}")
    perm = tuple(canon_dim(k, nd, "permute") for k in dims)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute_to(input, perm)


def _T(self: Tensor) -> Tensor:
    d = self._data
    nd = d.ndim
    if nd == 2:  # PyTorch records x.T as a permute; spelled out, as _permute_to costs a third more
        out = _wrap(d.T, self._version)
        out._view = (self, _T)
        if self.requires_grad and _state.grad_enabled:
            attach(out, PermuteBackward0, (self,)).inv = (1, 0)
        return out
    if nd < 2:
        return _view_out(self, d.reshape(d.shape), ViewBackward0)
    warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                  "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                  "transpose batches of matrices or `x.permute(*ferrum.arange(x.ndim - 1, -1, -1))` to "
                  "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return _permute_to(self, tuple(range(nd - 1, -1, -1)))


def _warn_0d(attr: str, hint: str) -> None:
    warnings.warn(f"Tensor.{attr} is deprecated on 0-D tensors. {hint}", UserWarning, stacklevel=3)


def _mT(self: Tensor) -> Tensor:
    d = self._data
    nd = d.ndim
    if nd == 0:  # PyTorch: the identity (a view), with a deprecation warning
        _warn_0d("mT", "This function is the identity in these cases.")
        return _view_out(self, d.reshape(()), ViewBackward0)
    if nd < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{nd}-D tensor.")
    return _transpose_to(self, d, nd - 2, nd - 1, TransposeBackward0)


class _ConjBackward(Node, name="ConjBackward0"):
    def backward_t(self, g):
        return (_conj(g),)


def _conj(x: Tensor) -> Tensor:
    if x._data.dtype.kind != "c":
        return x
    return record(np.conj(x._data), _ConjBackward, (x,))


def _H(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd == 0:  # PyTorch: the conjugate, with a deprecation warning
        _warn_0d("H", "Consider using x.conj().")
        return _conj(_view_out(self, self._data.reshape(()), ViewBackward0))
    if nd != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH" if nd > 2 else ""))
    return _conj(_T(self))


def _mH(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd == 0:  # PyTorch: the conjugate, with a deprecation warning
        _warn_0d("mH", "Consider using x.conj().")
        return _conj(_view_out(self, self._data.reshape(()), ViewBackward0))
    if nd < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{nd}-D tensor.")
    return _conj(_mT(self))


def adjoint(input: Tensor) -> Tensor:
    """Conjugate transpose of the last two dims (``input.mH``)."""
    _data(input, "adjoint")
    return _mH(input)


def movedim(input: Tensor, source, destination) -> Tensor:
    """A view with dims ``source`` moved to positions ``destination`` (ints or sequences); the
    other dims keep their order."""
    d = _data(input, "movedim")
    nd = d.ndim
    seq = isinstance(source, (tuple, list))
    if seq != isinstance(destination, (tuple, list)):
        raise TypeError(f"movedim() received an invalid combination of arguments - got "
                        f"({type(source).__name__}, {type(destination).__name__}), but expected "
                        "(int source, int destination) or (tuple of ints source, tuple of ints destination)")
    src = list(source) if seq else [source]
    dst = list(destination) if seq else [destination]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({_fmt(src)} dims) "
                           f"should contain the same number of dims as destination ({_fmt(dst)} dims)")
    s = [canon_dim(k, nd, "movedim") for k in src]
    e = [canon_dim(k, nd, "movedim") for k in dst]
    if nd == 0:
        return _view_out(input, d.reshape(()), ViewBackward0)
    if len(set(s)) != len(s):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_fmt(src)})")
    if len(set(e)) != len(e):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_fmt(dst)})")
    perm = [-1] * nd
    for a, b in zip(s, e):
        perm[b] = a
    rest = iter(k for k in range(nd) if k not in s)
    perm = tuple(p if p >= 0 else next(rest) for p in perm)
    return _permute_to(input, perm)


moveaxis = movedim


# --------------------------------------------------------------------------- expand / broadcast
def _expand_shape(sh: tuple, sizes: tuple, tname: str = "") -> tuple:
    nd = len(sh)
    n = len(sizes)
    if n < nd:
        raise RuntimeError(f"expand({tname}{_fmt(sh)}}}, size={_fmt(sizes)}): the number of sizes "
                           f"provided ({n}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({nd})")
    lead = n - nd
    if sizes[lead:] == sh and (not lead or min(sizes[:lead]) >= 0):
        return sizes
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            out.append(s)
            continue
        cur = sh[i - lead]
        if s == -1:
            out.append(cur)
        elif cur == s:
            out.append(s)
        elif cur == 1:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {_fmt(sizes)}")
            out.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({cur}) at non-singleton dimension {i}.  Target sizes: {_fmt(sizes)}.  "
                               f"Tensor sizes: {_fmt(sh)}")
    return tuple(out)


def _expand_to(x: Tensor, shape: tuple) -> Tensor:
    d = x._data
    ds = d.shape
    lead = len(shape) - len(ds)
    same = not lead or shape[:lead] == (1,) * lead
    if same:
        for i, n in enumerate(ds):
            if n != shape[lead + i]:
                same = False
                break
    if same:
        r = d.reshape(shape)  # nothing repeats: an ordinary (writable) view
    else:
        try:
            if d.__class__ is _ndarray and d.size and d.flags.c_contiguous:
                # a read-only strided view, built directly (np.broadcast_to is several times slower)
                st = d.strides
                strides = (0,) * lead + tuple([st[i] if n == shape[lead + i] else 0
                                               for i, n in enumerate(ds)])
                r = _ndarray(shape, d.dtype, d, 0, strides)
                if 0 not in shape:  # writes would alias; an empty result has nothing to alias
                    r.setflags(write=False)
            else:
                r = np.broadcast_to(d, shape)
        except ValueError:  # more elements than an int64 (NumPy: "array is too big")
            raise (_overflow(shape, "expand", "size") or RuntimeError(
                f"expand(): the size {_fmt(shape)} has more elements than an int64 can count "
                "(numel: integer multiplication overflow)")) from None
    out = _wrap(r, x._version)
    out._view = (x, lambda b: _expand_to(b, shape))
    if x.requires_grad and _state.grad_enabled:
        attach(out, ExpandBackward0, (x,)).shape = ds
    return out


def expand(input: Tensor, *sizes, **kw) -> Tensor:
    """A read-only view with size-1 dims repeated to ``sizes`` (-1 keeps a dim; new dims are
    added in front)."""
    try:
        d = input._data
    except AttributeError:
        raise _not_tensor("expand", input) from None
    if kw:
        sizes = _kw_arg(sizes, kw, ("size",), "expand")
    elif not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _int_seq(sizes, "expand", "size")
    if len(sizes) < d.ndim:
        tname = "ferrum." + scalar_name(input.dtype) + "Tensor{"
        _expand_shape(d.shape, sizes, tname)
    return _expand_to(input, _expand_shape(d.shape, sizes))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.size())``."""
    if not isinstance(other, Tensor):
        raise _not_tensor("expand_as", other, "other", 2)
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input.expand(size)``."""
    return expand(_check(input, "broadcast_to"), _int_seq((size,), "broadcast_to", "size"))


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of the given shapes broadcast to (ints stand for 1-D shapes)."""
    norm = []
    for s in shapes:
        if isinstance(s, (_pyint, np.integer)):
            s = (_pyint(s),)
        elif isinstance(s, (tuple, list)):
            s = tuple(n if n.__class__ is _pyint else _int(n, "broadcast_shapes", "shapes") for n in s)
        else:
            raise TypeError(f"broadcast_shapes(): expected a shape (tuple of ints) or int, got "
                            f"{type(s).__name__}")
        for n in s:
            if n < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {_fmt(s)}")
        norm.append(s)
    nd = max((len(s) for s in norm), default=0)
    out = [1] * nd
    for s in norm:
        lead = nd - len(s)
        for i, n in enumerate(s):
            cur = out[lead + i]
            if n == cur or n == 1:
                continue
            if cur == 1:
                out[lead + i] = n
    for k, s in enumerate(norm):
        lead = nd - len(s)
        for i, n in enumerate(s):
            if n != 1 and n != out[lead + i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at "
                                   f"{i - len(s)}! Mismatching argument at index {k} had {tuple(s)}; "
                                   f"but expected shape should be broadcastable to {_fmt(out)}")
    return Size(out)


def broadcast_tensors(*tensors) -> tuple:
    """Expands the tensors to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"broadcast_tensors(): expected Tensor as element {i}, but got "
                            f"{type(x).__name__}")
    shape = tuple(broadcast_shapes(*(x._data.shape for x in tensors)))
    return tuple(_expand_to(x, shape) for x in tensors)


# --------------------------------------------------------------------------- contiguous
def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when C-contiguous, else a contiguous copy (in the graph)."""
    d = _data(input, "contiguous")
    if d.flags.c_contiguous:
        return input
    return clone(input, memory_format="contiguous_format")  # clone() keeps strides by default


# --------------------------------------------------------------------------- in-place view ops
def _inplace_view(self: Tensor, fn, op: str) -> Tensor:
    """Changes ``self``'s shape metadata in place to that of view ``fn(self)``."""
    check_inplace(self, op)
    out = fn(self)
    self._data = out._data
    if out.grad_fn is not None:
        self.grad_fn = out.grad_fn
        self.requires_grad = True
    if self._view is not None:
        parent, pfn = self._view
        self._view = (parent, lambda b: fn(pfn(b)))
    self._version[0] += 1
    return self


def _squeeze_(self, dim=None):
    return _inplace_view(self, lambda x: squeeze(x, dim), "squeeze_")


def _unsqueeze_(self, dim):
    canon_dim(dim, self.ndim + 1, "unsqueeze_")
    return _inplace_view(self, lambda x: unsqueeze(x, dim), "unsqueeze_")


def _t_(self):
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return _inplace_view(self, t, "t_")


def _transpose_(self, dim0, dim1):
    canon_dim(dim0, self.ndim, "transpose_")
    canon_dim(dim1, self.ndim, "transpose_")
    return _inplace_view(self, lambda x: transpose(x, dim0, dim1), "transpose_")


def _attach() -> None:
    T = Tensor
    for name in ["view", "reshape", "expand", "permute", "view_as", "reshape_as", "flatten", "unflatten",
                 "ravel", "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims", "t", "expand_as",
                 "broadcast_to", "movedim", "moveaxis", "contiguous", "adjoint"]:
        setattr(T, name, globals()[name])
    T.T = property(_T, doc="The tensor with its dims reversed.")
    T.mT = property(_mT, doc="The last two dims swapped (batched matrix transpose).")
    T.H = property(_H, doc="Conjugate transpose of a matrix.")
    T.mH = property(_mH, doc="Conjugate transpose of the last two dims.")
    T.squeeze_ = _squeeze_
    T.unsqueeze_ = _unsqueeze_
    T.t_ = _t_
    T.transpose_ = _transpose_
    T.swapaxes_ = _transpose_
    T.swapdims_ = _transpose_


_attach()
