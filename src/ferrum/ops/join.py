"""Joining and splitting: ``cat``/``stack`` and their h/v/d/column forms, ``atleast_Nd``, and
``split``/``chunk``/``tensor_split``/``h``/``v``/``dsplit``/``unbind``.

``cat`` and ``stack`` return new memory (promoting dtypes as PyTorch does); their backward cuts
the gradient back into pieces with ``narrow``/``select``, cast to each input's dtype.

The pieces of a split are views of the input (keyed ``narrow``/``select`` views, see
``subview``). They come from one multi-output node, as in PyTorch: one parent node (named
``SplitBackward0``, ``SplitWithSizesBackward0`` or ``UnbindBackward0``) with an
``_OutputNode`` per piece, so the engine runs the parent once with the gradients of all pieces.
When the pieces tile the input, its backward is the inverse join (``cat``/``stack``); otherwise
(``tensor_split`` with overlapping or decreasing indices) each piece's gradient is embedded and
summed.
"""

from __future__ import annotations

from .. import _state
from .._dtype import promote_types, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, _output_node, edge, record
from ._common import canon_dim, same_device, xp_of
from ._shape_args import _data, _fmt, _int, _int_seq, _overflow
from .elementwise import _cast, _write_out
from .subview import _embed, _raw_view, _t_view, _writable, narrow, select
from .view import _view_out, ViewBackward0, reshape
from ._autocast import autocast_op

__all__ = [
    "split", "tensor_split", "chunk", "unbind", "hsplit", "vsplit", "dsplit", "cat", "concat",
    "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack", "atleast_1d",
    "atleast_2d", "atleast_3d",
]


# --------------------------------------------------------------------------- splits (multi-output views)
class _SplitBackward(Node, name="SplitBackward0"):
    """The parent node of the pieces of split/chunk/unbind/tensor_split (one _OutputNode each)."""

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


_SplitWithSizesBackward = _SplitBackward.named("SplitWithSizesBackward0")
_UnbindBackward = _SplitBackward.named("UnbindBackward0")


def _pieces(x: Tensor, keys: list, dim: int, tiling: bool, node_cls) -> tuple:
    d = x._data
    outs = []
    for key in keys:
        r = _raw_view(d, key)
        o = _wrap(r if r.flags.writeable else _writable(r, x), x._version)
        o._view = (x, (lambda k: lambda b: _t_view(b, k))(key))
        outs.append(o)
    if x.requires_grad and _state.grad_enabled and outs:
        # attach() records single-output nodes; the pieces share one parent, as the outputs of a
        # custom Function do (one _OutputNode per output routes its gradient to the parent)
        parent = node_cls.__new__(node_cls)
        parent.next = (edge(x),)
        parent.__dict__.update(n_outputs=len(outs), keys=keys, shape=d.shape, dim=dim, tiling=tiling,
                               shapes=[o._data.shape for o in outs], stacked=node_cls is _UnbindBackward)
        for i, o in enumerate(outs):
            o.requires_grad = True
            o.grad_fn = _output_node(parent, i)
    return tuple(outs)


def _split_sizes(input: Tensor, sizes: list, dim: int, node_cls=_SplitBackward) -> tuple:
    keys = []
    s = 0
    for n in sizes:
        keys.append(("narrow", dim, s, n))
        s += n
    return _pieces(input, keys, dim, True, node_cls)


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
        return _split_sizes(tensor, sizes, k, _SplitWithSizesBackward)
    s = _int(split_size_or_sections, "split", "split_size")
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0:
        if n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {n}")
        return _split_sizes(tensor, [0], k)
    sizes = [min(s, n - i) for i in range(0, n, s)] or [0]
    return _split_sizes(tensor, sizes, k)


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
        return _split_sizes(input, [0] * c, k)
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
        err = _overflow(ios, "tensor_split", "indices")
        if err is not None:
            raise err
        idx = [_int(i, "tensor_split", "indices") for i in ios]
        keys = []
        prev = 0
        for b in idx + [n]:
            s, e, _ = slice(prev, b).indices(n)
            keys.append(("narrow", k, s, max(0, e - s)))
            prev = b
        tiling = all(keys[i][2] + keys[i][3] == keys[i + 1][2] for i in range(len(keys) - 1))
        return _pieces(input, keys, k, tiling, _SplitWithSizesBackward)
    m = _int(ios, "tensor_split", "sections")
    if m <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {m}")
    q, r = divmod(n, m)
    return _split_sizes(input, [q + 1 if i < r else q for i in range(m)], k, _SplitWithSizesBackward)


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
    return _pieces(input, keys, k, True, _UnbindBackward)


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


@autocast_op("cat")
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
    if skip:
        k = canon_dim(dim, ref._data.ndim, "cat")
    else:  # all inputs are legacy empties: PyTorch ignores the dim (any int gives an empty result)
        ref = ts[0]
        _int(dim, "cat", "dim")
        k = 0
    nd = ref._data.ndim
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
        return _write_out(out, res)
    return res


concat = concatenate = cat


class StackBackward0(Node):
    def backward_t(self, g):
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


@autocast_op("stack")
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


# --------------------------------------------------------------------------- atleast
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


def _attach() -> None:
    for name in ["split", "tensor_split", "chunk", "unbind", "hsplit", "vsplit", "dsplit"]:
        setattr(Tensor, name, globals()[name])


_attach()
