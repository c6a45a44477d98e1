"""In-place ops (``add_``, ``mul_``, ``+=``, ``zero_``, ``copy_``, ...) and their autograd.

Without recording, an in-place op writes into the tensor's array (NumPy ``out=`` where it can).
With recording, the op is computed out of place from a copy of the old value, the result is
written into the array, and the tensor's ``grad_fn`` is replaced. For a view, the base's graph
is rebuilt too (PyTorch's CopySlices), so gradients reach the base correctly. Every write bumps
the version counter shared by a tensor and its views.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import _state
from .._dtype import from_np, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, _view_chain, edge
from . import elementwise as E

__all__ = ["apply_inplace", "check_inplace", "store_inplace"]

_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool


def check_inplace(t: Tensor, op: str) -> None:
    """Refuses in-place ops that would break autograd (on leaves that require grad)."""
    if not _state.grad_enabled:
        return
    if t.requires_grad and t.grad_fn is None and t._view is None:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place operation "
                           f"({op}).")
    if t._view is not None:
        b = t._base
        if b.requires_grad and b.grad_fn is None:
            raise RuntimeError(f"a view of a leaf Variable that requires grad is being used in an "
                               f"in-place operation ({op}).")


def store_inplace(t: Tensor, rd, op: str) -> None:
    """Writes result array ``rd`` into ``t`` (same shape; cast within the dtype's category)."""
    d = t._data
    if rd.shape != d.shape:
        try:
            np.broadcast_shapes(rd.shape, d.shape)
            ok = np.broadcast_shapes(rd.shape, d.shape) == d.shape
        except ValueError:
            ok = False
        if not ok:
            bshape = list(np.broadcast_shapes(rd.shape, d.shape)) if _bc(rd, d) else list(rd.shape)
            raise RuntimeError(f"{op}: output with shape {list(d.shape)} doesn't match the broadcast "
                               f"shape {bshape}")
    if rd.dtype != d.dtype and from_np(rd.dtype).category > from_np(d.dtype).category:
        raise RuntimeError(f"{op}: result type {scalar_name(from_np(rd.dtype))} can't be cast to "
                           f"the desired output type {scalar_name(from_np(d.dtype))}")
    if not getattr(d.flags, "writeable", True):
        raise RuntimeError(f"{op}: unsupported operation: the tensor is read-only (for example an "
                           "expanded view); clone() it first")
    if d.__class__ is np.ndarray:
        np.copyto(d, rd, casting="unsafe")
    else:
        d[...] = rd
    t._version[0] += 1


def _bc(a, b) -> bool:
    try:
        np.broadcast_shapes(a.shape, b.shape)
        return True
    except ValueError:
        return False


def _needs_graph(t, others) -> bool:
    if not _state.grad_enabled:
        return False
    if t.requires_grad:
        return True
    for o in others:
        if isinstance(o, Tensor) and o.requires_grad:
            return True
    return False


def apply_inplace(t: Tensor, result_fn, op: str, *others) -> Tensor:
    """Runs ``result_fn(t, *others)`` (an out-of-place op) and stores the result into ``t``."""
    check_inplace(t, op)
    if not _needs_graph(t, others):
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            r = result_fn(t, *others)
        finally:
            _state.grad_enabled = prev
        store_inplace(t, r._data, op)
        return t
    old = _wrap(t._data.copy())
    old.requires_grad = t.requires_grad
    old.grad_fn = t.grad_fn
    r = result_fn(old, *others)
    if r._data.dtype != t._data.dtype:
        store_inplace(t, r._data, op)  # raises if the cast is not allowed
        t._version[0] -= 1
        r = E._cast(r, t.dtype)
    store_inplace(t, r._data, op)
    old_fn = t.grad_fn
    if t._view is None:
        t.grad_fn = r.grad_fn
        t.requires_grad = r.requires_grad
    else:
        base = t._base
        base_fn = base.grad_fn
        _rebase_view(t, r)
        _move_retain(base, base_fn)
    _move_retain(t, old_fn)
    return t


def _move_retain(t: Tensor, old_fn) -> None:
    """retain_grad() follows the tensor to its new grad_fn, as in PyTorch."""
    if old_fn is None or not old_fn._has_hooks or "_retained" not in old_fn.__dict__:
        return
    ref = old_fn.__dict__["_retained"]
    if ref() is t and t.grad_fn is not None and t.grad_fn is not old_fn:
        del old_fn.__dict__["_retained"]
        t.grad_fn.__dict__["_retained"] = ref
        t.grad_fn._has_hooks = True


class CopySlices(Node):
    """The base after an in-place op on one of its views: base outside the view, ``r`` inside."""

    def backward_t(self, g):
        return g * _wrap(self.mask), self.view_fn(g)


def _rebase_view(v: Tensor, r: Tensor) -> None:
    base, view_fn = _view_chain(v)
    prev = _state.grad_enabled
    _state.grad_enabled = False
    try:
        # the mask has the base's memory layout, so that views that need that layout apply to it
        mask = np.ones_like(base._data, dtype=bool)
        view_fn(_wrap(mask))._data[...] = False
    finally:
        _state.grad_enabled = prev
    node = CopySlices()
    node.next = (edge(base), edge(r))
    node.mask = mask
    node.view_fn = view_fn
    node.saved = ()
    base.grad_fn = node
    base.requires_grad = True
    nv = view_fn(base)
    v.grad_fn = nv.grad_fn
    v.requires_grad = True
    v._view = (v._view[0], v._view[1], v._version[0])


# --------------------------------------------------------------------------- arithmetic
_INT_RANGE = {np.dtype(t): (np.iinfo(t).min, np.iinfo(t).max)
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)}


def _fast_ok(d, other) -> bool:
    """True when NumPy's ``out=`` computes exactly what the in-place op means."""
    if isinstance(other, Tensor):
        od = other._data
        return od.__class__ is d.__class__ and od.dtype is d.dtype
    c = other.__class__
    k = d.dtype.kind
    if c is _pyint and k in "iu":  # a Python int out of the dtype's range wraps (slow path)
        lo, hi = _INT_RANGE[d.dtype]
        return lo <= other <= hi
    return (c is _pyfloat or c is _pyint) and k in "fc"


def _ufunc_inplace(name, ufunc, outofplace):
    def op(self, other, *, alpha=None):
        if alpha is not None and alpha != 1:
            other = other * alpha
        if not _needs_graph(self, (other,)) and _fast_ok(self._data, other):
            d = self._data
            o = other._data if isinstance(other, Tensor) else other
            if isinstance(other, Tensor) and o.shape != d.shape:
                try:
                    ok = np.broadcast_shapes(o.shape, d.shape) == d.shape
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(f"{name}: output with shape {list(d.shape)} doesn't match the "
                                       f"broadcast shape of {list(o.shape)}")
            if not getattr(d.flags, "writeable", True):
                raise RuntimeError(f"{name}: the tensor is read-only (an expanded view); clone() it first")
            with np.errstate(divide="ignore", invalid="ignore"):
                ufunc(d, o, out=d)
            self._version[0] += 1
            return self
        return apply_inplace(self, outofplace, name, other)
    op.__name__ = name
    op.__doc__ = f"In-place {name[:-1]}."
    return op


add_ = _ufunc_inplace("add_", np.add, lambda a, b: E.add(a, b))
sub_ = _ufunc_inplace("sub_", np.subtract, lambda a, b: E.sub(a, b))
mul_ = _ufunc_inplace("mul_", np.multiply, lambda a, b: E.mul(a, b))
_div_fast = _ufunc_inplace("div_", np.true_divide, lambda a, b: E.div(a, b))


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._data.dtype.kind in "fc":
        return _div_fast(self, other)
    return apply_inplace(self, lambda a, b: E.div(a, b, rounding_mode=rounding_mode), "div_", other)


def pow_(self, exponent):
    return apply_inplace(self, E.pow, "pow_", exponent)


def zero_(self):
    """Fills with zeros in place."""
    if _needs_graph(self, ()):
        return apply_inplace(self, lambda a: a * 0, "zero_")
    if not getattr(self._data.flags, "writeable", True):
        raise RuntimeError("zero_: the tensor is read-only (an expanded view); clone() it first")
    self._data.fill(0)
    self._version[0] += 1
    return self


def fill_(self, value):
    """Fills with ``value`` (a number or a 0-d tensor) in place."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        if _needs_graph(self, (value,)):
            return apply_inplace(self, lambda a, v: a * 0 + v, "fill_", value)
        value = value.item()
    check_inplace(self, "fill_")
    if _state.grad_enabled and self.requires_grad:
        return apply_inplace(self, lambda a: a * 0 + value, "fill_")
    self._data.fill(value)
    self._version[0] += 1
    return self


def copy_(self, src, non_blocking: bool = False):
    """Copies ``src`` (broadcast, cast, moved across devices) into this tensor."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    sd = src._data
    d = self._data
    if sd.__class__ is not d.__class__:
        from .._device import move_array
        from .convert import _move
        if _needs_graph(self, (src,)):
            src = _move(src, self.device)
        else:
            src = _wrap(move_array(sd, self.device))
        sd = src._data
    if not _needs_graph(self, (src,)):
        check_inplace(self, "copy_")
        try:
            np.broadcast_shapes(sd.shape, d.shape) == d.shape or _raise_copy(sd, d)
        except ValueError:
            _raise_copy(sd, d)
        if d.__class__ is np.ndarray:
            np.copyto(d, sd, casting="unsafe")
        else:
            d[...] = sd.astype(d.dtype, copy=False)
        self._version[0] += 1
        return self
    return apply_inplace(self, lambda a, s: E.add(a * 0, E._cast(s, a.dtype)), "copy_", src)


def _raise_copy(sd, d):
    raise RuntimeError(f"copy_(): the size of src {list(sd.shape)} must be broadcastable to the "
                       f"destination size {list(d.shape)}")


def clamp_(self, min=None, max=None):  # noqa: A002
    return apply_inplace(self, lambda a: E.clamp(a, min, max), "clamp_")


def _unary_inplace(name):
    fn = getattr(E, name)

    def op(self):
        return apply_inplace(self, fn, name + "_")
    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}."
    return op


def _binary_inplace(name):
    fn = getattr(E, name)

    def op(self, other, *args, **kwargs):
        return apply_inplace(self, lambda a, b: fn(a, b, *args, **kwargs), name + "_", other)
    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}."
    return op


def _iop(inplace):
    def op(self, other):
        if isinstance(other, (Tensor, _pyint, _pyfloat, _pybool, complex, np.generic, np.ndarray)):
            if isinstance(other, np.ndarray):
                other = _wrap(other)
            return inplace(self, other)
        return NotImplemented
    return op


def _attach():
    T = Tensor
    T.add_ = add_
    T.sub_ = sub_
    T.subtract_ = sub_
    T.mul_ = mul_
    T.multiply_ = mul_
    T.div_ = div_
    T.divide_ = div_
    T.true_divide_ = div_
    T.pow_ = pow_
    T.zero_ = zero_
    T.fill_ = fill_
    T.copy_ = copy_
    T.clamp_ = clamp_
    T.clip_ = clamp_
    T.clamp_min_ = lambda self, min: clamp_(self, min=min)  # noqa: A006
    T.clamp_max_ = lambda self, max: clamp_(self, max=max)  # noqa: A006
    for name in ["neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
                 "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                 "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "relu", "erf", "erfc", "erfinv",
                 "floor", "ceil", "round", "trunc", "frac", "logical_not", "bitwise_not", "nan_to_num",
                 "sinc", "deg2rad", "rad2deg", "logit", "negative", "absolute", "fix", "sgn"]:
        setattr(T, name + "_", _unary_inplace(name))
    for name in ["remainder", "fmod", "floor_divide", "atan2", "arctan2", "hypot", "lerp", "eq", "ne",
                 "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "xlogy",
                 "copysign", "float_power", "maximum", "minimum", "fmax", "fmin", "heaviside"]:
        setattr(T, name + "_", _binary_inplace(name))
    T.lerp_ = lambda self, end, weight: apply_inplace(self, lambda a, e: E.lerp(a, e, weight), "lerp_", end)
    T.__iadd__ = _iop(add_)
    T.__isub__ = _iop(sub_)
    T.__imul__ = _iop(mul_)
    T.__itruediv__ = _iop(div_)
    T.__ipow__ = _iop(pow_)
    T.__ifloordiv__ = _iop(T.floor_divide_)
    T.__imod__ = _iop(T.remainder_)
    T.__iand__ = _iop(T.bitwise_and_)
    T.__ior__ = _iop(T.bitwise_or_)
    T.__ixor__ = _iop(T.bitwise_xor_)


_attach()
