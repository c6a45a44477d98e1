"""Symbolics of the tensor operators: elementwise arithmetic and math, comparisons, matmul, shape
and view ops, joins and splits, indexing, casts and reductions.

Each symbolic has the traced function's own parameters after ``(g, y)``; ``y`` is the eager
result, whose dtype and shape decide casts and static sizes. Shapes stay dynamic where the op
allows: reshapes keep unchanged leading sizes as ONNX's 0 ("copy"), slices keep Python's open
ends, ``flatten`` writes -1 for the merged range.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._graph import dtype_of as _dt
from ._graph import register
from ._symint import SymInt, int_values
from .errors import UnsupportedOperatorError

_BIG = np.iinfo(np.int64).max
_SEVERAL = "several advanced (tensor, list or integer) indices"


def _no_out(name: str, out) -> None:
    if out is not None:
        raise UnsupportedOperatorError(name, "the out= argument")


def _common(a, b):
    """The numpy dtype two comparison operands meet in."""
    ts = [x._data for x in (a, b) if isinstance(x, Tensor)]
    if len(ts) == 2:
        return np.result_type(ts[0].dtype, ts[1].dtype)
    return ts[0].dtype


# ------------------------------------------------------------------------------------ arithmetic
def _binary(op_type: str, swap: bool = False):
    def sym(g, y, input, other, *, alpha=1, **kw):
        _no_out(op_type, kw.get("out"))
        a, b = (other, input) if swap else (input, other)
        dt = _dt(y)
        if alpha != 1:
            b = g.op("Mul", g.operand(b, dt), g.scalar(alpha, dt))
        else:
            b = g.operand(b, dt)
        return g.op(op_type, g.operand(a, dt), b)
    return sym


register("add", "__add__", "__radd__", "__iadd__", "add_")(_binary("Add"))
register("sub", "subtract", "__sub__", "__isub__", "sub_")(_binary("Sub"))
register("__rsub__", "rsub")(_binary("Sub", swap=True))
register("mul", "multiply", "__mul__", "__rmul__", "__imul__", "mul_")(_binary("Mul"))
register("__rtruediv__")(_binary("Div", swap=True))
register("maximum")(_binary("Max"))
register("minimum")(_binary("Min"))


@register("div", "divide", "true_divide", "__truediv__", "__itruediv__", "div_")
def _div(g, y, input, other, *, rounding_mode=None, **kw):
    _no_out("div", kw.get("out"))
    if rounding_mode is not None and np.issubdtype(_dt(y), np.integer):
        raise UnsupportedOperatorError("div", f"rounding_mode={rounding_mode!r} on integers")
    dt = _dt(y)
    q = g.op("Div", g.operand(input, dt), g.operand(other, dt))
    if rounding_mode == "floor":
        q = g.op("Floor", q)
    elif rounding_mode == "trunc":
        q = g.op("Mul", g.op("Sign", q), g.op("Floor", g.op("Abs", q)))
    return q


@register("pow", "__pow__", "__ipow__")
def _pow(g, y, input, exponent, **kw):
    dt = _dt(y)
    if not isinstance(exponent, Tensor) and exponent == 2:
        x = g.operand(input, dt)
        return g.op("Mul", x, x)
    return g.op("Pow", g.operand(input, dt), g.operand(exponent, dt))


@register("__rpow__")
def _rpow(g, y, input, other):
    dt = _dt(y)
    return g.op("Pow", g.operand(other, dt), g.operand(input, dt))


@register("matmul", "mm", "bmm", "__matmul__")
def _matmul(g, y, input, other, **kw):
    dt = _dt(y)
    return g.op("MatMul", g.operand(input, dt), g.operand(other, dt))


@register("__rmatmul__")
def _rmatmul(g, y, input, other):
    dt = _dt(y)
    return g.op("MatMul", g.operand(other, dt), g.operand(input, dt))


def _unary(*ops: str):
    def sym(g, y, input, *args, **kw):
        _no_out(ops[0], kw.get("out"))
        x = g.operand(input, _dt(y))
        for o in ops:
            x = g.op(o, x)
        return x
    return sym


for _names, _ops in ((("neg", "negative", "__neg__"), ("Neg",)), (("exp",), ("Exp",)), (("log",), ("Log",)),
                     (("sqrt",), ("Sqrt",)), (("rsqrt",), ("Sqrt", "Reciprocal")),
                     (("abs", "absolute", "__abs__"), ("Abs",)),
                     (("sin",), ("Sin",)), (("cos",), ("Cos",)), (("tanh", "tanh_"), ("Tanh",)),
                     (("sigmoid", "sigmoid_"), ("Sigmoid",)), (("erf",), ("Erf",)),
                     (("reciprocal",), ("Reciprocal",)), (("floor",), ("Floor",)), (("ceil",), ("Ceil",)),
                     (("sign", "sgn"), ("Sign",)), (("tan",), ("Tan",)), (("asin", "arcsin"), ("Asin",)),
                     (("acos", "arccos"), ("Acos",)), (("atan", "arctan"), ("Atan",)), (("sinh",), ("Sinh",)),
                     (("cosh",), ("Cosh",)), (("exp_",), ("Exp",)),
                     (("detach", "clone", "contiguous", "__pos__", "positive"),
                                              ("Identity",))):
    register(*_names)(_unary(*_ops))


@register("log1p")
def _log1p(g, y, input, **kw):
    return g.op("Log", g.op("Add", g.operand(input, _dt(y)), g.scalar(1.0, _dt(y))))


@register("expm1")
def _expm1(g, y, input, **kw):
    return g.op("Sub", g.op("Exp", g.operand(input, _dt(y))), g.scalar(1.0, _dt(y)))


def _log_b(base: float):
    def sym(g, y, input, **kw):
        return g.op("Div", g.op("Log", g.operand(input, _dt(y))), g.scalar(np.log(base), _dt(y)))
    return sym


register("log2")(_log_b(2.0))
register("log10")(_log_b(10.0))


@register("exp2")
def _exp2(g, y, input, **kw):
    return g.op("Pow", g.scalar(2.0, _dt(y)), g.operand(input, _dt(y)))


@register("trunc", "fix")
def _trunc(g, y, input, **kw):
    x = g.operand(input, _dt(y))
    return g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x)))


@register("clamp_min")
def _clamp_min(g, y, input, min):  # noqa: A002
    return _clamp(g, y, input, min=min)


@register("clamp_max")
def _clamp_max(g, y, input, max):  # noqa: A002
    return _clamp(g, y, input, max=max)


@register("isnan")
def _isnan(g, y, input):
    return g.op("IsNaN", g.name_of(input))


@register("isinf")
def _isinf(g, y, input):
    return g.op("IsInf", g.name_of(input))


@register("fmod")
def _fmod(g, y, input, other, **kw):
    dt = _dt(y)
    return g.op("Mod", g.operand(input, dt), g.operand(other, dt), fmod=1 if dt.kind == "f" else 0)


@register("remainder", "__mod__")
def _remainder(g, y, input, other, **kw):
    dt = _dt(y)
    a, b = g.operand(input, dt), g.operand(other, dt)
    if dt.kind != "f":
        return g.op("Mod", a, b, fmod=0)   # integers: the sign of the divisor, as Python and PyTorch
    return g.op("Sub", a, g.op("Mul", g.op("Floor", g.op("Div", a, b)), b))


@register("round")
def _round(g, y, input, *, decimals=0, **kw):
    """Half to even, as PyTorch (ONNX's Round); ``decimals`` by scaling."""
    dt = _dt(y)
    x = g.operand(input, dt)
    if not decimals:
        return g.op("Round", x)
    k = g.scalar(10.0 ** decimals, dt)
    return g.op("Div", g.op("Round", g.op("Mul", x, k)), k)


def _floor_div(swap: bool):
    def sym(g, y, input, other, **kw):
        dt = _dt(y)
        a, b = g.operand(input, dt), g.operand(other, dt)
        if swap:
            a, b = b, a
        if dt.kind == "f":
            return g.op("Floor", g.op("Div", a, b))
        # integers: (a - a mod b) / b is exact, with the mod taking the divisor's sign (floor division)
        return g.op("Div", g.op("Sub", a, g.op("Mod", a, b, fmod=0)), b)
    return sym


register("floor_divide", "__floordiv__", "__ifloordiv__")(_floor_div(False))
register("__rfloordiv__")(_floor_div(True))


@register("square")
def _square(g, y, input):
    x = g.operand(input, _dt(y))
    return g.op("Mul", x, x)


# ----------------------------------------------------------------------------------- comparisons
def _compare(op_type: str, negate: bool = False):
    def sym(g, y, input, other, *a, **kw):
        dt = _common(input, other)
        r = g.op(op_type, g.operand(input, dt), g.operand(other, dt))
        return g.op("Not", r) if negate else r
    return sym


register("eq", "__eq__")(_compare("Equal"))
register("ne", "not_equal", "__ne__")(_compare("Equal", negate=True))
register("lt", "less", "__lt__")(_compare("Less"))
register("gt", "greater", "__gt__")(_compare("Greater"))
register("le", "less_equal", "__le__")(_compare("LessOrEqual"))
register("ge", "greater_equal", "__ge__")(_compare("GreaterOrEqual"))
register("logical_and", "__and__")(_compare("And"))
register("logical_or", "__or__")(_compare("Or"))
register("logical_xor", "__xor__")(_compare("Xor"))


@register("logical_not", "__invert__")
def _not(g, y, input):
    return g.op("Not", g.operand(input, np.dtype(bool)))


@register("where")
def _where(g, y, condition, input=None, other=None, **kw):
    if input is None:
        raise UnsupportedOperatorError("where", "the one-argument form (a data-dependent shape)")
    dt = _dt(y)
    return g.op("Where", g.operand(condition, np.dtype(bool)), g.operand(input, dt), g.operand(other, dt))


@register("masked_fill", "masked_fill_")
def _masked_fill(g, y, input, mask, value):
    dt = _dt(y)
    return g.op("Where", g.operand(mask, np.dtype(bool)), g.operand(value, dt), g.operand(input, dt))


@register("clamp", "clip", "clamp_", "clip_")
def _clamp(g, y, input, min=None, max=None, **kw):  # noqa: A002
    dt = _dt(y)
    x = g.operand(input, dt)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = g.op("Max", x, g.operand(min, dt))
        if max is not None:
            x = g.op("Min", x, g.operand(max, dt))
        return x
    lo = None if min is None else g.scalar(min, dt)
    return g.op("Clip", x, lo, None if max is None else g.scalar(max, dt))


# ----------------------------------------------------------------------------------------- casts
@register("to", "float", "double", "half", "long", "int", "bool", "type_as", "bfloat16")
def _to(g, y, input, *args, **kw):
    x = g.name_of(input)
    if _dt(y) == _dt(input):
        return g.op("Identity", x)
    return g.cast(x, _dt(y))


# ----------------------------------------------------------------------------------------- views
def _shape_arg(shape) -> list:
    """The sizes of a ``view(*shape)``-style call as a list (ints, or SymInts kept as they are)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return [s if isinstance(s, SymInt) else int(s) for s in shape]


@register("view", "reshape")
def _view(g, y, input, *shape, **kw):
    if "shape" in kw:
        shape = (kw["shape"],)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list)) and not hasattr(shape[0], "__index__"):
        if _dt(y) != _dt(input):   # view(dtype): a reinterpretation of the bytes
            raise UnsupportedOperatorError("view", "view(dtype) to another dtype")
        return g.op("Identity", g.name_of(input))
    return g.reshape(g.name_of(input), input._data.shape, _shape_arg(shape), id(input))


@register("view_as", "reshape_as")
def _view_as(g, y, input, other):
    return g.op("Reshape", g.name_of(input), g.op("Shape", g.name_of(other)))


@register("flatten")
def _flatten(g, y, input, start_dim=0, end_dim=-1):
    n = input.dim()
    if n == 0:
        return g.reshape(g.name_of(input), (), [1])
    s, e = start_dim % n, end_dim % n
    spec = [0] * s + [-1] + list(input.shape[e + 1:])
    return g.op("Reshape", g.name_of(input), g.ints(spec))


@register("unflatten")
def _unflatten(g, y, input, dim, sizes):
    return g.reshape(g.name_of(input), input.shape, list(y.shape))


@register("permute")
def _permute(g, y, input, *dims, **kw):
    if "dims" in kw:
        dims = (kw["dims"],)
    n = input.dim()
    return g.op("Transpose", g.name_of(input), perm=[int(d) % n for d in _shape_arg(dims)] if n else None)


@register("transpose", "swapaxes", "swapdims")
def _transpose(g, y, input, dim0, dim1):
    n = input.dim()
    if n < 2:
        return g.op("Identity", g.name_of(input))
    perm = list(range(n))
    a, b = dim0 % n, dim1 % n
    perm[a], perm[b] = perm[b], perm[a]
    return g.op("Transpose", g.name_of(input), perm=perm)


@register("t")
def _t(g, y, input):
    if input.dim() < 2:
        return g.op("Identity", g.name_of(input))
    return g.op("Transpose", g.name_of(input), perm=[1, 0])


@register("T", "H")
def _T(g, y, input):
    n = input.dim()
    return g.op("Transpose", g.name_of(input), perm=list(range(n))[::-1]) if n >= 2 else \
        g.op("Identity", g.name_of(input))


@register("mT", "mH")
def _mT(g, y, input):
    return _transpose(g, y, input, -2, -1)


@register("data")
def _data(g, y, input):
    return g.op("Identity", g.name_of(input))


@register("unsqueeze")
def _unsqueeze(g, y, input, dim):
    return g.unsqueeze(g.name_of(input), [dim % (input.dim() + 1)])


@register("squeeze")
def _squeeze(g, y, input, dim=None):
    n = input.dim()
    if dim is None:
        dims = [i for i, s in enumerate(input.shape) if s == 1]
    else:
        dims = [d % max(n, 1) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d for d in dims if n and input.shape[d] == 1]
    if not dims:
        return g.op("Identity", g.name_of(input))
    return g.squeeze(g.name_of(input), dims)


@register("expand")
def _expand(g, y, input, *sizes, **kw):
    sizes = _shape_arg(sizes if "size" not in kw else (kw["size"],))
    lead = len(sizes) - input.dim()
    shp = input._data.shape
    spec = [1 if (i >= lead and (int(s) == -1 or (int(s) == shp[i - lead] and not isinstance(s, SymInt))
                                 or (isinstance(s, SymInt) and s.origin == (id(input), i - lead)))) else s
            for i, s in enumerate(sizes)]
    return g.op("Expand", g.name_of(input), int_values(g, spec))


@register("expand_as")
def _expand_as(g, y, input, other):
    return g.op("Expand", g.name_of(input), g.op("Shape", g.name_of(other)))


# ------------------------------------------------------------------------------- joins and splits
@register("cat", "concat", "concatenate")
def _cat(g, y, tensors, dim=0, *, axis=None, **kw):
    d = axis if axis is not None else dim
    dt = _dt(y)
    parts = [g.operand(t, dt) for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)]
    return g.op("Concat", *parts, axis=d % y.dim())


@register("stack")
def _stack(g, y, tensors, dim=0, **kw):
    d = dim % y.dim()
    dt = _dt(y)
    return g.op("Concat", *[g.unsqueeze(g.operand(t, dt), [d]) for t in tensors], axis=d)


def _split_outs(g, x: str, outs, dim: int, sizes=None):
    sizes = [o.shape[dim] for o in outs] if sizes is None else sizes
    names = g.op("Split", x, g.ints(sizes), axis=dim, n_out=len(outs))
    return names if isinstance(names, list) else [names]


@register("split")
def _split(g, y, tensor, split_size_or_sections, dim=0):
    return _split_outs(g, g.name_of(tensor), y, dim % tensor.dim())


@register("chunk", "tensor_split")
def _chunk(g, y, input, chunks, dim=0):
    return _split_outs(g, g.name_of(input), y, dim % input.dim())


@register("unbind")
def _unbind(g, y, input, dim=0):
    d = dim % input.dim()
    return [g.squeeze(n, [d]) for n in _split_outs(g, g.name_of(input), y, d, [1] * len(y))]


# ------------------------------------------------------------------------------------- indexing
def _idx(v):
    """A slice bound: a SymInt stays symbolic, anything else is an int."""
    return v if isinstance(v, SymInt) else int(v)


@register("__getitem__")
def _getitem(g, y, input, key):
    key = key if isinstance(key, tuple) else (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis
                 and not (isinstance(k, Tensor) and k._data.dtype == bool))
    x = g.name_of(input)
    dim = 0           # position in the current (partly indexed) value
    src = 0           # position in the input
    tensor_seen = False
    starts, ends, axes, steps = [], [], [], []
    post: list = []   # ("gather", dim, index name) / ("unsqueeze", dim) after the slices
    for k in key:
        if k is Ellipsis:
            skip = input.dim() - n_real
            dim += skip
            src += skip
        elif k is None:
            post.append(("unsqueeze", dim))
            dim += 1
        elif isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else int(k.step)
                lo = (0 if step > 0 else _BIG) if k.start is None else _idx(k.start)
                hi = (_BIG if step > 0 else -_BIG - 1) if k.stop is None else _idx(k.stop)
                starts.append(lo)
                ends.append(hi)
                axes.append(src)
                steps.append(step)
            dim += 1
            src += 1
        elif isinstance(k, (Tensor, list)):
            if isinstance(k, list):  # a list of ints indexes like an int64 tensor
                if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in k):
                    raise UnsupportedOperatorError("__getitem__", "a list index that is not of ints")
                idx, nd = g.const(np.asarray(k, dtype=np.int64), "index"), 1
            elif k._data.dtype == bool:
                raise UnsupportedOperatorError("__getitem__", "a boolean mask (a data-dependent shape)")
            else:
                idx, nd = g.operand(k, np.dtype(np.int64)), k.dim()
            if tensor_seen or any(isinstance(j, (int, np.integer)) for j in key):
                raise UnsupportedOperatorError("__getitem__", _SEVERAL)
            tensor_seen = True
            post.append(("gather", dim, idx, nd))
            dim += nd
            src += 1
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            if tensor_seen:
                raise UnsupportedOperatorError("__getitem__", _SEVERAL)
            post.append(("gather", dim, g.operand(k, np.dtype(np.int64)) if isinstance(k, SymInt)
                         else g.scalar(int(k), np.int64), 0))
            src += 1
        else:
            raise UnsupportedOperatorError("__getitem__", f"an index of type {type(k).__name__}")
    if axes:
        x = g.op("Slice", x, int_values(g, starts), int_values(g, ends), g.ints(axes), g.ints(steps))
    # gathers and unsqueezes in the order of the key: each gather at position p removes one dim and
    # adds the index's dims, which is where the later positions were counted
    for item in post:
        if item[0] == "unsqueeze":
            x = g.unsqueeze(x, [item[1]])
        else:
            _, p, idx, nd = item
            x = g.op("Gather", x, idx, axis=p)
    return x


# ----------------------------------------------------------------------------------- reductions
def _dims(dim, n: int):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return list(range(n))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return sorted(d % max(n, 1) for d in dims)


def _reduction(op_type: str):
    def sym(g, y, input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None, **kw):
        _no_out(op_type, kw.get("out"))
        d = axis if axis is not None else dim
        k = keepdims if keepdims is not None else keepdim
        x = g.operand(input, _dt(y))
        if input.dim() == 0:
            return g.op("Identity", x)
        return g.reduce(op_type, x, _dims(d, input.dim()), bool(k))
    return sym


register("sum")(_reduction("ReduceSum"))
register("mean")(_reduction("ReduceMean"))
register("amax")(_reduction("ReduceMax"))
register("amin")(_reduction("ReduceMin"))
register("prod")(_reduction("ReduceProd"))


def _minmax(op_type: str, arg_type: str, name: str):
    def sym(g, y, input, dim=None, keepdim=False, *, other=None, axis=None, keepdims=None, **kw):
        d = axis if axis is not None else dim
        if other is not None or isinstance(d, Tensor):
            o = other if other is not None else d
            dt = _dt(input)
            return g.op("Max" if name == "max" else "Min", g.operand(input, dt), g.operand(o, dt))
        k = bool(keepdims if keepdims is not None else keepdim)
        x = g.name_of(input)
        if d is None:
            return g.reduce(op_type, x, None, False)
        d = d % max(input.dim(), 1)
        return [g.reduce(op_type, x, [d], k), g.op(arg_type, x, axis=d, keepdims=int(k))]
    return sym


register("max")(_minmax("ReduceMax", "ArgMax", "max"))
register("min")(_minmax("ReduceMin", "ArgMin", "min"))


def _arg(op_type: str):
    def sym(g, y, input, dim=None, keepdim=False, **kw):
        x = g.name_of(input)
        if dim is None:
            x = g.op("Reshape", x, g.ints([-1]))
            r = g.op(op_type, x, axis=0, keepdims=0)
            return g.reshape(r, (), list(y.shape)) if keepdim else r
        return g.op(op_type, x, axis=dim % max(input.dim(), 1), keepdims=int(bool(keepdim)))
    return sym


register("argmax")(_arg("ArgMax"))
register("argmin")(_arg("ArgMin"))


def _softmax_kind(op_type: str):
    def sym(g, y, input, dim=None, dtype=None, *a, **kw):
        if dim is None:
            dim = 0 if input.dim() in (0, 1, 3) else 1   # PyTorch's legacy implicit dim
        x = g.operand(input, _dt(y))
        if input.dim() == 0:
            return g.op("Sub", x, x) if op_type == "LogSoftmax" else g.op("Div", x, x)
        return g.op(op_type, x, axis=dim % input.dim())
    return sym


register("softmax")(_softmax_kind("Softmax"))
register("log_softmax")(_softmax_kind("LogSoftmax"))


@register("softmin")
def _softmin(g, y, input, dim=None, _stacklevel=3, dtype=None):
    x = g.op("Neg", g.operand(input, _dt(y)))
    return g.op("Softmax", x, axis=(dim if dim is not None else 1) % input.dim())


def _all_any(op_type: str):
    def sym(g, y, input, dim=None, keepdim=False, *, axis=None, keepdims=None, **kw):
        d = axis if axis is not None else dim
        k = bool(keepdims if keepdims is not None else keepdim)
        x = g.cast(g.cast(g.name_of(input), np.bool_), np.int64)
        if input.dim() == 0:
            return g.cast(x, np.bool_)
        return g.cast(g.reduce(op_type, x, _dims(d, input.dim()), k), _dt(y))
    return sym


register("all")(_all_any("ReduceMin"))
register("any")(_all_any("ReduceMax"))
