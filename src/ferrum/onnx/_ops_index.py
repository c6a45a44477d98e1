"""Symbolics of gathering, sub-views, rearrangement, scans and the ``*_like`` and ``new_*`` factories:
gather/index_select/select/narrow, tril/triu (Trilu), flip, roll, repeat/tile, movedim, topk,
cumsum, einsum, addmm/baddbmm, var/std/logsumexp; zeros_like/ones_like/full_like as
ConstantOfShape of the input's (dynamic) shape, ``x.new_zeros(...)`` and friends as constants,
``ferrum.tensor(x)``/``as_tensor(x)`` of a traced tensor as an Identity (or Cast).
"""

from __future__ import annotations

import numpy as np

from ._graph import dtype_of as _dt
from ._graph import _array, register
from ._symint import has_sym, int_values
from .errors import UnsupportedOperatorError

_BIG = np.iinfo(np.int64).max


def _axis(d: int, n: int) -> int:
    return d % max(n, 1)


@register("gather")
def _gather(g, y, input, dim, index, *, sparse_grad=False, **kw):
    return g.op("GatherElements", g.name_of(input), g.operand(index, np.dtype(np.int64)),
                axis=_axis(dim, input.dim()))


@register("index_select")
def _index_select(g, y, input, dim, index, **kw):
    idx = g.operand(index, np.dtype(np.int64))
    return g.op("Gather", g.name_of(input), idx, axis=_axis(dim, input.dim()))


@register("select")
def _select(g, y, input, dim, index):
    return g.op("Gather", g.name_of(input), g.scalar(int(index), np.int64), axis=_axis(dim, input.dim()))


@register("narrow")
def _narrow(g, y, input, dim, start, length):
    s = int(start)
    return g.slice(g.name_of(input), [s], [s + int(length) if s >= 0 or s + int(length) < 0 else _BIG],
                   [_axis(dim, input.dim())])


def _trilu(upper: int):
    def sym(g, y, input, diagonal=0, **kw):
        return g.op("Trilu", g.name_of(input), g.scalar(int(diagonal), np.int64), upper=upper)
    return sym


register("tril")(_trilu(0))
register("triu")(_trilu(1))


@register("flip")
def _flip(g, y, input, *dims, **kw):
    dims = kw.get("dims", dims)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    axes = [_axis(d, input.dim()) for d in dims]
    if not axes:
        return g.op("Identity", g.name_of(input))
    return g.slice(g.name_of(input), [-1] * len(axes), [-_BIG - 1] * len(axes), axes, [-1] * len(axes))


@register("roll")
def _roll(g, y, input, shifts, dims=None):
    x = g.name_of(input)
    shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:   # roll the flattened tensor
        flat = g.op("Reshape", x, g.ints([-1]))
        return g.op("Reshape", _roll_axis(g, flat, int(shifts[0]), 0, input.numel()), g.op("Shape", x))
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    for s, d in zip(shifts, dims):
        a = _axis(d, input.dim())
        x = _roll_axis(g, x, int(s), a, input.shape[a])
    return x


def _roll_axis(g, x: str, s: int, axis: int, n: int) -> str:
    s = s % n if n else 0
    if s == 0:
        return x
    head = g.slice(x, [n - s], [_BIG], [axis])
    tail = g.slice(x, [0], [n - s], [axis])
    return g.op("Concat", head, tail, axis=axis)


@register("repeat", "tile")
def _repeat(g, y, input, *sizes, **kw):
    sizes = kw.get("dims", kw.get("repeats", sizes))
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    reps = [int(s) for s in sizes]
    x = g.name_of(input)
    n = input.dim()
    if len(reps) < n:   # tile: leading ones
        reps = [1] * (n - len(reps)) + reps
    if len(reps) > n:   # new leading dims of size one
        x = g.unsqueeze(x, list(range(len(reps) - n)))
    return g.op("Tile", x, g.ints(reps))


@register("movedim", "moveaxis")
def _movedim(g, y, input, source, destination):
    n = input.dim()
    src = [_axis(s, n) for s in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [_axis(d, n) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    rest = [i for i in range(n) if i not in src]
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p is not None else next(it) for p in perm]
    return g.op("Transpose", g.name_of(input), perm=perm)


@register("topk")
def _topk(g, y, input, k, dim=-1, largest=True, sorted=True, **kw):  # noqa: A002
    values, indices = g.op("TopK", g.name_of(input), g.ints([int(k)]), axis=_axis(dim, input.dim()),
                           largest=int(bool(largest)), sorted=1, n_out=2)
    return [values, indices]


@register("cumsum")
def _cumsum(g, y, input, dim=None, *, dtype=None, axis=None, **kw):
    d = axis if axis is not None else dim
    if d is None:
        raise UnsupportedOperatorError("cumsum", "no dim")
    return g.op("CumSum", g.operand(input, _dt(y)), g.scalar(_axis(d, input.dim()), np.int64))


@register("einsum")
def _einsum(g, y, *args):
    eq, ops = args[0], args[1:]
    if len(ops) == 1 and isinstance(ops[0], (tuple, list)):
        ops = ops[0]
    if not isinstance(eq, str):
        raise UnsupportedOperatorError("einsum", "the sublist form")
    dt = _dt(y)
    return g.op("Einsum", *[g.operand(t, dt) for t in ops], equation=eq.replace(" ", ""))


def _addmm(g, y, input, a, b, *, beta=1, alpha=1, **kw):
    dt = _dt(y)
    p = g.op("MatMul", g.operand(a, dt), g.operand(b, dt))
    if alpha != 1:
        p = g.op("Mul", p, g.scalar(alpha, dt))
    if beta == 0:
        return p
    c = g.operand(input, dt)
    if beta != 1:
        c = g.op("Mul", c, g.scalar(beta, dt))
    return g.op("Add", c, p)


register("addmm")(lambda g, y, input, mat1, mat2, **kw: _addmm(g, y, input, mat1, mat2, **kw))
register("baddbmm")(lambda g, y, input, batch1, batch2, **kw: _addmm(g, y, input, batch1, batch2, **kw))


def _axes_of(dim, n: int) -> list:
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return list(range(n))
    return sorted(_axis(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))


def _var(take_sqrt: bool):
    def sym(g, y, input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None,
            **kw):
        if isinstance(dim, bool):   # var(input, unbiased)
            dim, unbiased = None, dim
        d = axis if axis is not None else dim
        k = bool(keepdims if keepdims is not None else keepdim)
        corr = correction if correction is not None else (0 if unbiased is False else 1)
        dt = _dt(y)
        x = g.name_of(input)
        axes = _axes_of(d, input.dim())
        count = int(np.prod([input.shape[a] for a in axes])) if axes else 1
        dev = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
        s = g.reduce("ReduceSum", g.op("Mul", dev, dev), axes, k)
        v = g.op("Div", s, g.scalar(max(count - corr, 0), dt))
        return g.op("Sqrt", v) if take_sqrt else v
    return sym


register("var")(_var(False))
register("std")(_var(True))


@register("logsumexp")
def _logsumexp(g, y, input, dim=None, keepdim=False, *, axis=None, keepdims=None, **kw):
    d = axis if axis is not None else dim
    k = bool(keepdims if keepdims is not None else keepdim)
    return g.reduce("ReduceLogSumExp", g.name_of(input), _axes_of(d, input.dim()), k)


def _like(fill):
    def sym(g, y, input, *args, **kw):
        import onnx
        value = fill(args, kw)
        a = np.asarray([value], dtype=_dt(y))
        return g.op("ConstantOfShape", g.op("Shape", g.name_of(input)), value=onnx.numpy_helper.from_array(a))
    return sym


register("zeros_like")(_like(lambda a, k: 0))
register("ones_like")(_like(lambda a, k: 1))
register("full_like")(_like(lambda a, k: a[0] if a else k["fill_value"]))
register("empty_like")(_like(lambda a, k: 0))   # its values are undefined: zeros are as good


def _new_filled(fill):
    def sym(g, y, input, *size, **kw):
        """``x.new_zeros(...)`` and the like: whatever x's values, a constant of x's dtype, or a
        ConstantOfShape where a size is symbolic."""
        value = fill(size, kw)
        if fill is _full_value:
            size = size[:1] if size else (kw.get("size"),)
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = size[0]
        if not has_sym(list(size)):
            return g.const(_array(y), "new")
        import onnx
        a = np.asarray([value], dtype=_dt(y))
        return g.op("ConstantOfShape", int_values(g, size), value=onnx.numpy_helper.from_array(a))
    return sym


def _full_value(size, kw):
    return size[1] if len(size) > 1 else kw["fill_value"]


register("new_zeros")(_new_filled(lambda s, k: 0))
register("new_empty")(_new_filled(lambda s, k: 0))
register("new_ones")(_new_filled(lambda s, k: 1))
register("new_full")(_new_filled(_full_value))
register("new_tensor")(lambda g, y, input, *a, **k: g.const(_array(y), "new"))


@register("as_tensor", "asarray", "tensor")
def _as_tensor(g, y, data, *args, **kw):
    from .._tensor import Tensor
    if not isinstance(data, Tensor):
        raise UnsupportedOperatorError("tensor", "data that mixes traced tensors into a Python sequence")
    x = g.name_of(data)
    return g.op("Identity", x) if _dt(y) == _dt(data) else g.cast(x, _dt(y))


# ------------------------------------------------------------- factories with sizes that follow inputs
# reached only when a size is a SymInt (a factory of plain ints makes a constant of the trace)
@register("arange")
def _arange(g, y, start=0, end=None, step=1, **kw):
    if end is None:
        start, end = 0, start
    dt = _dt(y)
    return g.op("Range", *[g.operand(v, dt) for v in (start, end, step)])


def _filled(value_of):
    def sym(g, y, *size, **kw):
        import onnx
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = size[0]
        size = list(size) if size else list(kw.get("size", ()))
        a = np.asarray([value_of(kw)], dtype=_dt(y))
        return g.op("ConstantOfShape", int_values(g, size), value=onnx.numpy_helper.from_array(a))
    return sym


register("zeros")(_filled(lambda kw: 0))
register("empty")(_filled(lambda kw: 0))
register("ones")(_filled(lambda kw: 1))


@register("full")
def _full(g, y, size, fill_value, **kw):
    return _filled(lambda _: fill_value)(g, y, size)
