"""Shape ops: views, joins, splits and rearrangements.

Views (``view``, ``reshape`` when strides allow, ``transpose``, ``permute``, ``t``, ``T``, ``mT``,
``expand``, ``squeeze``, ``unsqueeze``, ``flatten``/``unflatten``, ``narrow``, ``select``,
``diagonal``, ``movedim`` and the pieces of ``split``/``chunk``/``unbind``/``tensor_split``) share
memory with their input: the result wraps a NumPy (CuPy) view, shares the input's version counter,
and records ``out._view = (input, fn)`` so that in-place ops on it rebuild the base's graph.

Everything else (``cat``, ``stack``, ``flip``, ``roll``, ``repeat``, ``tril``, ``diag`` ...) returns
new memory. Every backward is written with ferrum ops (differentiable twice); ``reshape``/``view``,
``transpose``/``t``/``T``/``mT``, ``permute`` and ``expand`` have hand-written nodes with a raw-array
fast path for the ordinary (not ``create_graph``) backward.

The backward of a view that drops elements (narrow, select, diagonal) is "embed": the gradient
written into zeros of the input's shape through the same view, whose own backward is the view
again; so these formulas are closed under differentiation.
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from .. import _state
from .._dtype import as_dtype, dtype as _dtype_cls, int64, promote_types, to_np
from .._tensor import Size, Tensor, _wrap
from ..autograd.function import Node, _OutputNode, edge, record
from ._common import canon_dim, same_device, xp_of

__all__ = [
    "view", "reshape", "view_as", "reshape_as", "flatten", "unflatten", "ravel", "squeeze",
    "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "t", "expand", "expand_as",
    "broadcast_to", "broadcast_tensors", "broadcast_shapes", "repeat", "tile", "flip", "fliplr",
    "flipud", "roll", "rot90", "narrow", "select", "split", "tensor_split", "chunk", "unbind", "cat",
    "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack",
    "movedim", "moveaxis", "diagonal", "diag", "diag_embed", "diagflat", "tril", "triu",
    "tril_indices", "triu_indices", "meshgrid", "contiguous", "atleast_1d", "atleast_2d",
    "atleast_3d", "adjoint", "narrow_copy", "hsplit", "vsplit", "dsplit",
]

_new = object.__new__
_pyint = builtins.int
_index = operator.index
_ndarray = np.ndarray


# --------------------------------------------------------------------------- argument helpers
def _not_tensor(op: str, x, arg: str = "input", pos: int = 1) -> TypeError:
    return TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _data(x, op: str):
    try:
        return x._data
    except AttributeError:
        raise _not_tensor(op, x) from None


def _int(v, op: str, arg: str) -> int:
    if v.__class__ is _pyint:
        return v
    if isinstance(v, builtins.float) or isinstance(v, builtins.bool):
        raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(v).__name__}")
    try:
        return _index(v)
    except TypeError:
        raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(v).__name__}") from None


def _int_seq(args, op: str, arg: str) -> tuple:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` -> a tuple of Python ints."""
    if len(args) == 1:
        a = args[0]
        if a.__class__ is tuple or a.__class__ is list or a.__class__ is Size:
            args = a
        elif isinstance(a, (tuple, list)):
            args = a
        elif isinstance(a, Tensor) and a.ndim == 1:
            args = a.tolist()
    for n in args:
        if n.__class__ is not _pyint:
            return tuple(_int(n, op, arg) for n in args)
    return args if args.__class__ is tuple else tuple(args)


def _fmt(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _bad_shape(shape, numel: int) -> RuntimeError:
    return RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")


def _infer(shape: tuple, numel: int) -> tuple:
    """Resolves one ``-1`` in ``shape`` and checks the element count (PyTorch's errors)."""
    if -1 not in shape and (not shape or min(shape) >= 0):
        if math.prod(shape) != numel:
            raise _bad_shape(shape, numel)
        return shape
    neg = -1
    prod = 1
    for i, n in enumerate(shape):
        if n == -1:
            if neg >= 0:
                raise RuntimeError("only one dimension can be inferred")
            neg = i
        elif n < 0:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {_fmt(shape)}")
        else:
            prod *= n
    if prod == 0:
        if numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {_fmt(shape)} because "
                               "the unspecified dimension size -1 can be any value and is ambiguous")
        raise _bad_shape(shape, numel)
    if numel % prod:
        raise _bad_shape(shape, numel)
    s = list(shape)
    s[neg] = numel // prod
    return tuple(s)


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
        if g.__class__ is Tensor:
            return (_sum_to(g, self.shape),)
        sh = self.shape
        lead = g.ndim - len(sh)
        gs = g.shape
        axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(sh) if n == 1 and gs[i + lead] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        return (g.reshape(sh),)


def _node1(cls, x: Tensor):
    """A hot node of class ``cls`` with the single edge to ``x`` (which requires grad)."""
    node = _new(cls)
    node.next = (edge(x),)
    return node


# --------------------------------------------------------------------------- private sum (for backward)
class _SumBackward(Node):
    def backward_t(self, g):
        return (expand(g.reshape(self.kshape), self.shape),)


_SumBackward.__name__ = "SumBackward1"


def _sum_axes(t: Tensor, axes: tuple, out_shape: tuple) -> Tensor:
    """Differentiable sum of ``t`` over ``axes``, reshaped to ``out_shape``."""
    d = t._data
    r = d.sum(axis=axes, keepdims=True) if axes else d
    kshape = r.shape
    return record(r.reshape(out_shape), _SumBackward, (t,), kshape=kshape, shape=d.shape)


def _sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sums Tensor ``g`` down to broadcast-compatible ``shape`` (differentiable)."""
    gs = g._data.shape
    if gs == tuple(shape):
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
    return _sum_axes(g, axes, tuple(shape))


# --------------------------------------------------------------------------- view / reshape family
def _norm_shape(shape):
    """One tuple/list/Size argument unpacked (``f((2, 3))`` is ``f(2, 3)``)."""
    if len(shape) == 1:
        s = shape[0]
        c = s.__class__
        if c is tuple or c is Size:
            return s
        if c is list:
            return tuple(s)
    return shape


def _view_out(x: Tensor, r, node_cls) -> Tensor:
    out = _wrap(r, x._version)
    shape = r.shape
    out._view = (x, lambda b: reshape(b, shape))
    if x.requires_grad and _state.grad_enabled:
        node = _new(node_cls)
        node.next = (edge(x),)
        node.shape = x._data.shape
        out.requires_grad = True
        out.grad_fn = node
    return out


def _kw_arg(args: tuple, kw: dict, names: tuple, op: str) -> tuple:
    """The positional shape-like arguments, or the one given by keyword (``shape=``, ``dims=``)."""
    for k in kw:
        if k not in names:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'")
    if args or len(kw) > 1:
        raise TypeError(f"{op}() got multiple values for argument '{next(iter(kw))}'")
    return (next(iter(kw.values())),)


def _slow_shape(d, shape, op: str) -> tuple:
    return _infer(_int_seq(shape, op, "shape"), d.size)


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
        node = _node1(UnsafeViewBackward0, input)
        node.shape = d.shape
        out.requires_grad = True
        out.grad_fn = node
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
        src, dst = input.dtype.name, fd.name
        src, dst = _legacy_name(src), _legacy_name(dst)
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


_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _legacy_name(n: str) -> str:
    return _LEGACY.get(n, n)


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
    if nd == 0:
        return reshape(input, (1,))
    s = canon_dim(start_dim, nd, "flatten")
    e = canon_dim(end_dim, nd, "flatten")
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
    sizes = _int_seq((sizes,), "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = d.shape[k]
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    try:
        sizes = _infer(sizes, n)
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {_fmt(sizes)} don't multiply up to the size of "
                           f"dim {dim} ({n}) in the input tensor") from None
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
    else:
        if isinstance(dim, (tuple, list)):
            dims = {canon_dim(k, d.ndim, "squeeze") for k in dim}
        else:
            dims = {canon_dim(dim, d.ndim, "squeeze")}
        new = tuple(n for i, n in enumerate(sh) if not (n == 1 and i in dims))
    return _view_out(input, d.reshape(new), SqueezeBackward0)


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
        node = _node1(node_cls, x)
        node.d0 = a
        node.d1 = b
        out.requires_grad = True
        out.grad_fn = node
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
        node = _node1(PermuteBackward0, x)
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        node.inv = tuple(inv)
        out.requires_grad = True
        out.grad_fn = node
    return out


def permute(input: Tensor, *dims, **kw) -> Tensor:
    """A view with the dims reordered: output dim ``i`` is input dim ``dims[i]``."""
    try:
        d = input._data
    except AttributeError:
        raise _not_tensor("permute", input) from None
    if kw:
        dims = _kw_arg(dims, kw, ("dims",), "permute")
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
    if nd == 2:
        return _transpose_to(self, d, 0, 1, TransposeBackward0)
    if nd < 2:
        return _view_out(self, d.reshape(d.shape), ViewBackward0)
    warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                  "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                  "transpose batches of matrices or `x.permute(*ferrum.arange(x.ndim - 1, -1, -1))` to "
                  "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return _permute_to(self, tuple(range(nd - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    d = self._data
    nd = d.ndim
    if nd < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{nd}-D tensor.")
    return _transpose_to(self, d, nd - 2, nd - 1, TransposeBackward0)


class _ConjBackward(Node):
    def backward_t(self, g):
        return (_conj(g),)


def _conj(x: Tensor) -> Tensor:
    if x._data.dtype.kind != "c":
        return x
    return record(np.conj(x._data), _ConjBackward, (x,))


def _H(self: Tensor) -> Tensor:
    if self._data.ndim > 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self._data.ndim}-D tensor. For batches of matrices, consider using "
                           "tensor.mH")
    return _conj(_T(self))


def _mH(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
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
    src = list(source) if isinstance(source, (tuple, list)) else [source]
    dst = list(destination) if isinstance(destination, (tuple, list)) else [destination]
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
    same = not lead or max(shape[:lead]) == 1
    if same:
        for i, n in enumerate(ds):
            if n != shape[lead + i]:
                same = False
                break
    if same:
        r = d.reshape(shape)  # nothing repeats: an ordinary (writable) view
    elif d.__class__ is _ndarray and d.size and d.flags.c_contiguous:
        # a read-only strided view, built directly (np.broadcast_to is several times slower)
        st = d.strides
        strides = (0,) * lead + tuple([st[i] if n == shape[lead + i] else 0 for i, n in enumerate(ds)])
        r = _ndarray(shape, d.dtype, d, 0, strides)
        r.setflags(write=False)
    else:
        r = np.broadcast_to(d, shape)
    out = _wrap(r, x._version)
    out._view = (x, lambda b: _expand_to(b, shape))
    if x.requires_grad and _state.grad_enabled:
        node = _node1(ExpandBackward0, x)
        node.shape = ds
        out.requires_grad = True
        out.grad_fn = node
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
    sizes = _int_seq(sizes, "expand", "size")
    if len(sizes) < d.ndim:
        tname = "ferrum." + _legacy_name(input.dtype.name) + "Tensor{"
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
            s = tuple(_int(n, "broadcast_shapes", "shapes") for n in s)
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


def _check(x, op: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise _not_tensor(op, x, arg, pos)
    return x


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


class _EmbedBackward(Node):
    def backward_t(self, g):
        return (_t_view(g, self.key),)


_EmbedBackward.__name__ = "ViewScatterBackward0"


def _embed(g: Tensor, shape: tuple, key) -> Tensor:
    """Zeros of ``shape`` with ``g`` written through view ``key`` (differentiable in ``g``)."""
    gd = g._data
    z = xp_of(gd).zeros(shape, gd.dtype)
    _raw_view(z, key)[...] = gd
    return record(z, _EmbedBackward, (g,), key=key)


class _KeyViewBackward(Node):
    def backward_t(self, g):
        return (_embed(g, self.shape, self.key),)


class NarrowBackward0(_KeyViewBackward):
    pass


class SelectBackward0(_KeyViewBackward):
    pass


class DiagonalBackward0(_KeyViewBackward):
    pass


def _key_view(x: Tensor, key, node_cls) -> Tensor:
    d = x._data
    out = record(_raw_view(d, key), node_cls, (x,), key=key, shape=d.shape)
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
    return narrow(input, dim, start, length).clone()


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
    a = canon_dim(dim1, d.ndim, "diagonal")
    b = canon_dim(dim2, d.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    off = _int(offset, "diagonal", "offset")
    return _key_view(input, ("diagonal", off, a, b), DiagonalBackward0)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose diagonals (planes ``dim1``/``dim2`` of the output) hold the last dim of
    ``input``; zeros elsewhere."""
    d = _data(input, "diag_embed")
    nd = d.ndim + 1
    a = canon_dim(dim1, nd, "diag_embed")
    b = canon_dim(dim2, nd, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    off = _int(offset, "diag_embed", "offset")
    if d.ndim == 0:
        raise IndexError("diag_embed(): Dimension out of range (expected to be in range of [-1, 0], "
                         "but got -1)")
    n = d.shape[-1] + builtins.abs(off)
    rest = iter(d.shape[:-1])
    shape = tuple(n if k == a or k == b else next(rest) for k in range(nd))
    return _embed(input, shape, ("diagonal", off, a, b))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with ``input`` on diagonal ``diagonal``; 2-D input: a copy of
    that diagonal."""
    d = _data(input, "diag")
    off = _int(diagonal, "diag", "diagonal")
    if d.ndim == 1:
        n = d.shape[0] + builtins.abs(off)
        return _embed(input, (n, n), ("diagonal", off, 0, 1))
    if d.ndim == 2:
        from .elementwise import clone
        return clone(_key_view(input, ("diagonal", off, 0, 1), DiagonalBackward0))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {d.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` as diagonal ``offset`` of a square matrix."""
    _data(input, "diagflat")
    return diag(reshape(input, (-1,)), offset)


# --------------------------------------------------------------------------- unfold (sliding windows)
class UnfoldBackward0(Node):
    def backward_t(self, g):
        return (_unfold_embed(g, self.shape, self.dim, self.size, self.step),)


class _UnfoldEmbedBackward(Node):
    def backward_t(self, g):
        return (unfold(g, self.dim, self.size, self.step),)


_UnfoldEmbedBackward.__name__ = "UnfoldBackwardBackward0"


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
    out = record(r, UnfoldBackward0, (input,), shape=d.shape, dim=k, size=size, step=step)
    out._version = input._version
    out._view = (input, lambda b: unfold(b, k, size, step))
    return out


# --------------------------------------------------------------------------- multi-output views
class _SplitBackward(Node):
    """The parent node of the pieces of split/chunk/unbind/tensor_split (one _OutputNode each)."""

    def name(self) -> str:
        return _SPLIT_NAMES.get(self.op_name, "SplitBackward0")

    def backward(self, gs):
        if all(g is None for g in gs):
            return (None,)
        graph = any(g.__class__ is Tensor for g in gs)
        keys = self.keys
        if graph:
            ref = next(g for g in gs if g is not None)
            if self.tiling:
                parts = [g if g is not None else _wrap(xp_of(ref._data).zeros(sh, ref._data.dtype))
                         for g, sh in zip(gs, self.shapes)]
                if self.stacked:
                    return (stack(parts, self.dim),)
                return (cat(parts, self.dim),)
            total = None
            for g, key in zip(gs, keys):
                if g is not None:
                    e = _embed(g, self.shape, key)
                    total = e if total is None else total + e
            return (total,)
        ref = next(g for g in gs if g is not None)
        z = xp_of(ref).zeros(self.shape, ref.dtype)
        for g, key in zip(gs, keys):
            if g is not None:
                v = _raw_view(z, key)
                if self.tiling:
                    v[...] = g
                else:
                    v += g
        return (z,)


_SplitBackward.__name__ = "SplitBackward0"
_SPLIT_NAMES = {"unbind": "UnbindBackward0", "split_with_sizes": "SplitWithSizesBackward0",
                "tensor_split": "SplitWithSizesBackward0"}


def _pieces(x: Tensor, keys: list, dim: int, tiling: bool, stacked: bool, name: str) -> tuple:
    d = x._data
    outs = []
    for key in keys:
        o = _wrap(_raw_view(d, key), x._version)
        o._view = (x, (lambda k: lambda b: _t_view(b, k))(key))
        outs.append(o)
    if x.requires_grad and _state.grad_enabled and outs:
        parent = _new(_SplitBackward)
        parent.next = (edge(x),)
        parent.n_outputs = len(outs)
        parent.keys = keys
        parent.shape = d.shape
        parent.shapes = [o._data.shape for o in outs]
        parent.dim = dim
        parent.tiling = tiling
        parent.stacked = stacked
        parent.op_name = name
        for i, o in enumerate(outs):
            on = _new(_OutputNode)
            on.next = (parent,)
            on.parent = parent
            on.index = i
            o.requires_grad = True
            o.grad_fn = on
    return tuple(outs)


def _split_sizes(input: Tensor, sizes: list, dim: int, name: str) -> tuple:
    keys = []
    s = 0
    for n in sizes:
        keys.append(("narrow", dim, s, n))
        s += n
    return _pieces(input, keys, dim, True, False, name)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Splits into pieces of ``split_size`` along ``dim`` (the last may be smaller), or into
    pieces of the listed sizes. The pieces are views."""
    d = _data(tensor, "split")
    if d.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    k = canon_dim(dim, d.ndim, "split")
    n = d.shape[k]
    if isinstance(split_size_or_sections, (tuple, list)) or (
            isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 1):
        sizes = list(_int_seq((split_size_or_sections,), "split", "split_size"))
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                               f"but got split_sizes={_fmt(sizes)}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {k}), but got split_sizes={_fmt(sizes)}")
        return _split_sizes(tensor, sizes, k, "split_with_sizes")
    s = _int(split_size_or_sections, "split", "split_size")
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0:
        if n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {n}")
        return _split_sizes(tensor, [0], k, "split")
    sizes = [min(s, n - i) for i in range(0, n, s)] or [0]
    return _split_sizes(tensor, sizes, k, "split")


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Splits into ``chunks`` pieces of equal size ``ceil(n / chunks)`` (fewer when they run out)."""
    d = _data(input, "chunk")
    if d.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    c = _int(chunks, "chunk", "chunks")
    if c <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {c}")
    k = canon_dim(dim, d.ndim, "chunk")
    n = d.shape[k]
    if n == 0:
        return _split_sizes(input, [0] * c, k, "chunk")
    return split(input, -(-n // c), k)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Splits into ``sections`` nearly equal pieces (the first ``n % sections`` one longer), or
    at the given indices (Python slicing semantics). The pieces are views."""
    d = _data(input, "tensor_split")
    if d.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor "
                           "with 0 dims")
    k = canon_dim(dim, d.ndim, "tensor_split")
    n = d.shape[k]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have integer dtype, "
                               f"but got {ios.dtype}")
        if ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional "
                               f"or one-dimensional tensor, but got a tensor with {ios.ndim} dims")
        ios = ios.item() if ios.ndim == 0 else ios.tolist()
    if isinstance(ios, (tuple, list)):
        idx = [_int(i, "tensor_split", "indices") for i in ios]
        keys = []
        prev = 0
        for b in idx + [n]:
            s, e, _ = slice(prev, b).indices(n)
            keys.append(("narrow", k, s, max(0, e - s)))
            prev = b
        tiling = all(keys[i][2] + keys[i][3] == keys[i + 1][2] for i in range(len(keys) - 1))
        return _pieces(input, keys, k, tiling, False, "tensor_split")
    m = _int(ios, "tensor_split", "sections")
    if m <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {m}")
    q, r = divmod(n, m)
    return _split_sizes(input, [q + 1 if i < r else q for i in range(m)], k, "tensor_split")


def _split_axis(input, ios, dim, name, need):
    d = _data(input, name)
    if d.ndim < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, but got a "
                           f"tensor with {d.ndim} dimensions!")
    if not isinstance(ios, (tuple, list, Tensor)):
        m = _int(ios, name, "sections")
        if m == 0 or d.shape[dim] % m:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of "
                               f"the dimension {d.shape[dim]} is not divisible by the split_size {m}!")
    return tensor_split(input, ios, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """tensor_split along dim 1 (dim 0 for 1-D input)."""
    d = _data(input, "hsplit")
    return _split_axis(input, indices_or_sections, 1 if d.ndim > 1 else 0, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """tensor_split along dim 0 (input at least 2-D)."""
    return _split_axis(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """tensor_split along dim 2 (input at least 3-D)."""
    return _split_axis(input, indices_or_sections, 2, "dsplit", 3)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices of ``input`` along ``dim`` (views), as a tuple."""
    d = _data(input, "unbind")
    if d.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    k = canon_dim(dim, d.ndim, "unbind")
    keys = [("select", k, i) for i in range(d.shape[k])]
    return _pieces(input, keys, k, True, True, "unbind")


# --------------------------------------------------------------------------- cat / stack
def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    ts = list(tensors)
    for i, x in enumerate(ts):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    return ts


def _promoted(ts: list):
    dt = ts[0].dtype
    for x in ts[1:]:
        if x.dtype is not dt:
            dt = promote_types(dt, x.dtype)
    return dt


class CatBackward0(Node):
    def backward_t(self, g):
        from .elementwise import _cast
        res = []
        off = 0
        for i, (n, dt) in enumerate(zip(self.sizes, self.dtypes)):
            if self.next[i] is None:
                if n is not None:
                    off += n
                res.append(None)
                continue
            if n is None:  # skipped legacy empty 1-D input
                res.append(_wrap(xp_of(g._data).zeros((0,), g._data.dtype)))
            else:
                res.append(narrow(g, self.dim, off, n))
                off += n
            if res[-1].dtype is not dt:
                res[-1] = _cast(res[-1], dt)
        return tuple(res)


def cat(tensors, dim: int = 0, *, out=None, axis=None) -> Tensor:
    """Concatenates tensors along existing dim ``dim`` (promoting dtypes); legacy empty 1-D
    tensors are skipped."""
    if axis is not None:
        dim = axis
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    same_device("cat", *ts)
    dt = _promoted(ts)
    npd = to_np(dt)
    ref = None
    for i, x in enumerate(ts):
        if x._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if ref is None and not (x._data.ndim == 1 and x._data.shape[0] == 0):
            ref = x
    skip = ref is not None  # legacy empty 1-D inputs are skipped unless all inputs are such
    if ref is None:
        ref = ts[0]
    nd = ref._data.ndim
    k = canon_dim(dim, nd, "cat")
    rs = ref._data.shape
    arrays = []
    sizes = []
    for i, x in enumerate(ts):
        xd = x._data
        if skip and xd.ndim == 1 and xd.shape[0] == 0 and x is not ref:
            sizes.append(None)
            continue
        if xd.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {xd.ndim}")
        for j in range(nd):
            if j != k and xd.shape[j] != rs[j]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {k}. Expected "
                                   f"size {rs[j]} but got size {xd.shape[j]} for tensor number {i} "
                                   "in the list.")
        sizes.append(xd.shape[k])
        arrays.append(xd if xd.dtype == npd else xd.astype(npd))
    res = record(xp_of(arrays[0]).concatenate(arrays, axis=k), CatBackward0, ts, dim=k, sizes=sizes,
                 dtypes=[x.dtype for x in ts])
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, res)
    return res


concat = concatenate = cat


class StackBackward0(Node):
    def backward_t(self, g):
        from .elementwise import _cast
        res = []
        for i, dt in enumerate(self.dtypes):
            if self.next[i] is None:
                res.append(None)
                continue
            r = select(g, self.dim, i)
            if r.dtype is not dt:
                r = _cast(r, dt)
            res.append(r)
        return tuple(res)


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Stacks equally shaped tensors along a new dim ``dim`` (promoting dtypes)."""
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    same_device("stack", *ts)
    s0 = ts[0]._data.shape
    for i, x in enumerate(ts):
        if x._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_fmt(s0)} at entry 0 "
                               f"and {_fmt(x._data.shape)} at entry {i}")
    k = canon_dim(dim, len(s0) + 1, "stack")
    dt = _promoted(ts)
    npd = to_np(dt)
    arrays = [x._data if x._data.dtype == npd else x._data.astype(npd) for x in ts]
    res = record(xp_of(arrays[0]).stack(arrays, axis=k), StackBackward0, ts, dim=k,
                 dtypes=[x.dtype for x in ts])
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, res)
    return res


def hstack(tensors, *, out=None) -> Tensor:
    """Concatenates along dim 1 (dim 0 when the inputs are 1-D), after atleast_1d."""
    ts = _atleast(_tensor_list(tensors, "hstack"), 1)
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(ts, 0 if ts[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """Concatenates along dim 0 after atleast_2d."""
    ts = _atleast(_tensor_list(tensors, "vstack"), 2)
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(ts, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None) -> Tensor:
    """Concatenates along dim 2 after atleast_3d."""
    ts = _atleast(_tensor_list(tensors, "dstack"), 3)
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None) -> Tensor:
    """Stacks as columns: 0-d and 1-D tensors become ``(n, 1)`` columns, then hstack."""
    ts = _tensor_list(tensors, "column_stack")
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    cols = [reshape(x, (x._data.size, 1)) if x._data.ndim <= 1 else x for x in ts]
    return cat(cols, 1, out=out)


# --------------------------------------------------------------------------- atleast / contiguous
def _atleast(ts: list, n: int) -> list:
    f = (atleast_1d, atleast_2d, atleast_3d)[n - 1]
    return [f(x) for x in ts]


def _atleast_impl(args, n: int, name: str):
    single = len(args) == 1 and isinstance(args[0], Tensor)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    res = []
    for x in args:
        d = _data(x, name)
        sh = d.shape
        if d.ndim >= n:
            res.append(x)
            continue
        if n == 1:
            new = (1,)
        elif n == 2:
            new = (1,) * (2 - d.ndim) + sh
        else:
            new = {0: (1, 1, 1), 1: (1,) + sh + (1,), 2: sh + (1,)}[d.ndim]
        res.append(_view_out(x, d.reshape(new), ViewBackward0))
    return res[0] if single else tuple(res)


def atleast_1d(*tensors):
    """Views with at least one dim (a tuple when given several tensors or a sequence)."""
    return _atleast_impl(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Views with at least two dims: ``(n,)`` becomes ``(1, n)``."""
    return _atleast_impl(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """Views with at least three dims: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` ``(m, n, 1)``."""
    return _atleast_impl(tensors, 3, "atleast_3d")


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when C-contiguous, else a contiguous copy (in the graph)."""
    d = _data(input, "contiguous")
    if d.flags.c_contiguous:
        return input
    from .elementwise import clone
    return clone(input)


# --------------------------------------------------------------------------- copies: flip, roll, repeat
class FlipBackward0(Node):
    def backward_t(self, g):
        return (flip(g, self.dims),)


def flip(input: Tensor, *dims, **kw) -> Tensor:
    """A copy with the order of elements reversed along ``dims``."""
    d = _data(input, "flip")
    if kw:
        dims = _kw_arg(dims, kw, ("dims",), "flip")
    dims = _int_seq(dims, "flip", "dims")
    ks = [canon_dim(k, d.ndim, "flip") for k in dims]
    if len(set(ks)) != len(ks):
        dup = next(k for k in ks if ks.count(k) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    if d.ndim == 0 or not ks:
        r = d.copy()
    else:
        r = np.flip(d, axis=tuple(ks)).copy()
    return record(r, FlipBackward0, (input,), dims=tuple(ks))


def fliplr(input: Tensor) -> Tensor:
    """Flips dim 1 (input at least 2-D)."""
    d = _data(input, "fliplr")
    if d.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flips dim 0 (input at least 1-D)."""
    d = _data(input, "flipud")
    if d.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    def backward_t(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rolls elements along ``dims`` by ``shifts`` (wrapping around); with no dims, over the
    flattened tensor."""
    d = _data(input, "roll")
    sh = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    sh = [_int(s, "roll", "shifts") for s in sh]
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        r = np.roll(d.reshape(-1), sh[0]).reshape(d.shape)
        return record(r, RollBackward0, (input,), shifts=tuple(sh), dims=None)
    ds = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    ks = tuple(canon_dim(k, d.ndim, "roll") for k in ds)
    r = np.roll(d, tuple(sh), axis=ks) if d.ndim else d.copy()
    return record(r, RollBackward0, (input,), shifts=tuple(sh), dims=ks)


class Rot90Backward0(Node):
    def backward_t(self, g):
        return (rot90(g, -self.k, self.dims),)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """A copy rotated by 90 degrees ``k`` times in the plane ``dims``, from the first dim
    towards the second."""
    d = _data(input, "rot90")
    k = _int(k, "rot90", "k")
    ds = list(dims)
    if len(ds) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(ds)}")
    if d.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {d.ndim}")
    a = canon_dim(ds[0], d.ndim, "rot90")
    b = canon_dim(ds[1], d.ndim, "rot90")
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    r = np.rot90(d, k, axes=(a, b)).copy()
    return record(r, Rot90Backward0, (input,), k=k, dims=(a, b))


class RepeatBackward0(Node):
    def backward_t(self, g):
        inter = self.inter
        gi = reshape(g, inter)
        axes = tuple(range(0, len(inter), 2))
        return (_sum_axes(gi, axes, self.shape),)


def repeat(input: Tensor, *sizes, **kw) -> Tensor:
    """A copy tiled ``sizes[i]`` times along each dim (extra leading sizes add dims)."""
    d = _data(input, "repeat")
    if kw:
        sizes = _kw_arg(sizes, kw, ("repeats",), "repeat")
    reps = _int_seq(sizes, "repeat", "repeats")
    nd = d.ndim
    if len(reps) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    xs = (1,) * (len(reps) - nd) + d.shape
    target = tuple(r * s for r, s in zip(reps, xs))
    for r in reps:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: {_fmt(reps)}")
    inter = tuple(v for pair in zip(reps, xs) for v in pair)
    src = d.reshape(tuple(v for s in xs for v in (1, s)))
    out = xp_of(d).empty(target, d.dtype)
    if out.size:
        out.reshape(inter)[...] = src
    return record(out, RepeatBackward0, (input,), inter=inter, shape=d.shape)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with ``dims`` padded in front with ones to the input's rank."""
    d = _data(input, "tile")
    reps = _int_seq((dims,), "tile", "dims")
    if len(reps) < d.ndim:
        reps = (1,) * (d.ndim - len(reps)) + reps
    return repeat(input, reps)


# --------------------------------------------------------------------------- triangles
class TrilBackward0(Node):
    def backward_t(self, g):
        return (tril(g, self.k),)


class TriuBackward0(Node):
    def backward_t(self, g):
        return (triu(g, self.k),)


def tril(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The lower triangle (on and below diagonal ``diagonal``) of the last two dims."""
    d = _data(input, "tril")
    if d.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    k = _int(diagonal, "tril", "diagonal")
    res = record(np.tril(d, k), TrilBackward0, (input,), k=k)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, res)
    return res


def triu(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """The upper triangle (on and above diagonal ``diagonal``) of the last two dims."""
    d = _data(input, "triu")
    if d.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    k = _int(diagonal, "triu", "diagonal")
    res = record(np.triu(d, k), TriuBackward0, (input,), k=k)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, res)
    return res


def _tri_indices(row, col, offset, dtype, device, name, lower):
    from .._factory import _finish, _xp_dt
    row = _int(row, name, "row")
    col = _int(col, name, "col")
    offset = _int(offset, name, "offset")
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row ({row}) and col ({col}) must be non-negative")
    xp, dt, dev = _xp_dt(dtype, device, default=int64)
    if dt.kind not in "iu":
        raise NotImplementedError(f'"{name}" not implemented for \'{as_dtype(dt).name}\'')
    f = np.tril_indices if lower else np.triu_indices
    r, c = f(row, offset, col)
    arr = np.stack([r, c]).astype(dt) if row and col else np.zeros((2, 0), dt)
    if xp is not np:
        arr = xp.asarray(arr)
    return _finish(arr, False, dev)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The ``(2, N)`` row/column indices of the lower triangle of a ``row x col`` matrix."""
    return _tri_indices(row, col, offset, dtype, device, "tril_indices", True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The ``(2, N)`` row/column indices of the upper triangle of a ``row x col`` matrix."""
    return _tri_indices(row, col, offset, dtype, device, "triu_indices", False)


# --------------------------------------------------------------------------- meshgrid
def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 0-d/1-D tensors: output ``i`` varies along dim ``i``
    (``indexing='ij'``, the default, without PyTorch's warning) or with the first two dims
    swapped (``'xy'``). The outputs are expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: "
                         f"{indexing}")
    ts = _tensor_list(tensors, "meshgrid")
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, x in enumerate(ts):
        if x._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{x._data.ndim}D tensor at position {i}")
        if x.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    same_device("meshgrid", *ts)
    n = len(ts)
    sizes = [x._data.size for x in ts]
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    shape = tuple(sizes)
    outs = []
    for i, x in enumerate(ts):
        vs = [1] * n
        vs[pos[i]] = -1
        outs.append(expand(reshape(x, tuple(vs)), shape))
    return tuple(outs)


# --------------------------------------------------------------------------- in-place view ops
def _inplace_view(self: Tensor, fn, op: str) -> Tensor:
    """Changes ``self``'s shape metadata in place to that of view ``fn(self)``."""
    from .inplace import check_inplace
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


def _tril_(self, diagonal=0):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda a: tril(a, diagonal), "tril_")


def _triu_(self, diagonal=0):
    from .inplace import apply_inplace
    return apply_inplace(self, lambda a: triu(a, diagonal), "triu_")


# --------------------------------------------------------------------------- Tensor methods
def _attach() -> None:
    T = Tensor
    for name in ["view", "reshape", "expand", "permute", "flip", "repeat", "view_as", "reshape_as",
                 "flatten", "unflatten", "ravel", "squeeze", "unsqueeze",
                 "transpose", "swapaxes", "swapdims", "t", "expand_as", "broadcast_to", "tile",
                 "fliplr", "flipud", "roll", "rot90", "narrow", "narrow_copy", "select", "split",
                 "tensor_split", "chunk", "unbind", "movedim", "moveaxis", "diagonal", "diag",
                 "diag_embed", "diagflat", "tril", "triu", "contiguous", "adjoint", "hsplit", "vsplit",
                 "dsplit", "unfold"]:
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
    T.tril_ = _tril_
    T.triu_ = _triu_


_attach()
