"""In-place ops (``add_``, ``mul_``, ``+=``, ``zero_``, ``copy_``, ...) and their autograd.

Without recording, an in-place op writes into the tensor's array (NumPy ``out=`` where it can).
With recording, the op is computed out of place from a copy of the old value, the result is
written into the array, and the tensor's ``grad_fn`` is replaced. For a view, the base's graph
is rebuilt too (PyTorch's CopySlices), so gradients reach the base correctly. Every write bumps
the version counter shared by a tensor and its views.

Writes go through :func:`writable`, the one place that decides whether a tensor's memory may be
written: views of expanded tensors (and overlapping ``unfold`` windows) are read-only NumPy arrays,
and a write is refused only where two elements of the written-to tensor share one memory location
(:func:`overlaps`), so a diagonal or one element of an expanded tensor, or one ``unfold`` window,
is writable, as in PyTorch.
:func:`check_value` is PyTorch's range check for a Python number written into a tensor
(``fill_``, setitem, ``index_fill``, ``masked_fill``).
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import _state
from .._dtype import complex128, float64, from_np, result_type, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, _view_chain, attach, record, sum_to
from . import elementwise as E

__all__ = ["apply_inplace", "check_inplace", "store_inplace", "writable", "unlock", "overlaps", "check_value"]

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


OVERLAP_MSG = ("unsupported operation: more than one element of the written-to tensor refers to a single "
               "memory location. Please clone() the tensor before performing the operation.")


def writable(t: Tensor, op: str, overlap_ok: bool = False) -> np.ndarray:
    """The array to write ``t``'s new values into: ``t._data`` itself, or for a read-only view of an
    expanded tensor (which NumPy marks read-only as a whole) a writable alias of the same memory.

    Raises PyTorch's error when two elements of ``t`` share one memory location (:func:`overlaps`),
    unless ``overlap_ok`` (ops writing one value everywhere: fill_, zero_, and
    index_fill_/masked_fill_/index_put_, which PyTorch still allows on expanded tensors)."""
    d = t._data
    if getattr(d.flags, "writeable", True):
        return d
    return unlock(d, op, overlap_ok)


def unlock(d: np.ndarray, op: str, overlap_ok: bool = False) -> np.ndarray:
    """:func:`writable` for an array: ``d`` or a writable alias of its memory (see there)."""
    if getattr(d.flags, "writeable", True):
        return d
    if not overlap_ok and overlaps(d):
        raise RuntimeError(f"{op}: {OVERLAP_MSG}")
    if not _root_writable(d):
        raise RuntimeError(f"{op}: the tensor's memory is read-only; clone() it first")
    iface = dict(d.__array_interface__)
    iface["data"] = (iface["data"][0], False)
    return np.asarray(_Memory(iface, d))


def overlaps(d: np.ndarray) -> bool:
    """True when two elements of array ``d`` may share one memory location: a stride-0 dim of size
    > 1 (an expanded tensor, PyTorch's test), or, dims sorted by stride, one whose stride does not
    step past everything the smaller dims reach (overlapping ``unfold`` windows, whose writes would
    depend on the order, which PyTorch leaves undefined)."""
    if not d.size:
        return False
    reach = 0
    for st, n in sorted((abs(st), n) for n, st in zip(d.shape, d.strides) if n > 1):
        if st <= reach:
            return True
        reach += st * (n - 1)
    return False


class _Memory:
    """An ``__array_interface__`` holder: NumPy builds a writable array over the same memory."""

    def __init__(self, iface, base):
        self.__array_interface__ = iface
        self.base = base


def _root_writable(d) -> bool:
    """True when the memory under view ``d`` belongs to a writable array (not, say, a cached
    read-only buffer or bytes)."""
    b = d
    while True:
        nb = getattr(b, "base", None)
        if nb is None:
            return isinstance(b, np.ndarray) and b.flags.writeable
        b = nb


def check_value(value, npd: np.dtype, op: str = "") -> np.generic:
    """Python number ``value`` checked as PyTorch converts a scalar into dtype ``npd``: out of
    range raises RuntimeError ("value cannot be converted to type ... without overflow"), except
    that a negative int down to -max wraps into an unsigned type and +-inf fits a float type;
    returns the value as a NumPy scalar of ``npd``."""
    if isinstance(value, np.generic):
        value = value.item()
    k = npd.kind
    bad = False
    if k == "b":
        pass
    elif isinstance(value, complex) and k != "c":
        bad = value.imag != 0
        value = value.real
    if k in "iu":
        if isinstance(value, _pyfloat) and value != value:
            bad = True
        elif not bad:
            info = np.iinfo(npd)
            lo = -info.max if k == "u" else info.min
            bad = not (lo <= value <= info.max)
    elif k in "fV" and not bad and isinstance(value, (_pyint, _pyfloat)) and value == value \
            and abs(value) != _INF:
        bad = abs(value) > _pyfloat(_finfo_max(npd))
    if bad:
        raise RuntimeError(f"{op + ': ' if op else ''}value cannot be converted to type "
                           f"{from_np(npd).name} without overflow")
    if k in "iu" and value < 0 and k == "u":
        value = _pyint(value) % (1 << (8 * npd.itemsize))
    return np.asarray(value).astype(npd)[()] if k != "V" else np.asarray(value, np.float32).astype(npd)[()]


_INF = _pyfloat("inf")


def _finfo_max(npd):
    try:
        return np.finfo(npd).max
    except ValueError:  # bfloat16
        import ml_dtypes
        return ml_dtypes.finfo(npd).max


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
    d = writable(t, op)
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


def apply_inplace(t: Tensor, result_fn, op: str, *others, reads_self: bool = True) -> Tensor:
    """Runs ``result_fn(t, *others)`` (an out-of-place op) and stores the result into ``t``.

    ``reads_self=False`` says that the op's backward never reads ``t``'s old value (add_, sub_,
    relu_, whose relu saves its output): the old value is then not copied before the result
    overwrites it. That copy was half of the extra cost of torchvision's ``out += identity`` and
    ``ReLU(inplace=True)`` over the out-of-place forms (16x64x32x32 float32, forward+backward:
    4.5 ms out of place, 10.5 ms in place with both copies)."""
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
    old = _wrap(t._data.copy() if reads_self else t._data)
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
        m = self.mask
        if m.dtype.kind == "c":  # per-part flags: a view_as_real view may overwrite one part only
            from .complex_ops import complex, imag, real
            return complex(real(g) * _wrap(m.real), imag(g) * _wrap(m.imag)), self.view_fn(g)
        return g * _wrap(m), self.view_fn(g)


def _rebase_view(v: Tensor, r: Tensor) -> None:
    base, view_fn = _view_chain(v)
    prev = _state.grad_enabled
    _state.grad_enabled = False
    try:
        # the mask has the base's memory layout, so that views that need that layout apply to it
        if base._data.dtype.kind == "c":  # (1, 1) flags per element, one per part
            mask = np.full_like(base._data, 1 + 1j)
        else:
            mask = np.ones_like(base._data, dtype=bool)
        view_fn(_wrap(mask))._data[...] = False
    finally:
        _state.grad_enabled = prev
    attach(base, CopySlices, (base, r), mask=mask, view_fn=view_fn, saved=())
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


def _ufunc_inplace(name, ufunc, outofplace, reads_self: bool = True):
    def op(self, other, *, alpha=None):
        if alpha is not None and alpha != 1:
            if alpha.__class__ is _pyint and self._data.dtype.kind in "iu":  # alpha fits the result type
                check_value(alpha, to_np(result_type(self, other)), name)
            other, alpha = _scale_fast(self._data, other, alpha)
            if alpha is not None:  # alpha * other is computed in the result dtype, as PyTorch does
                return apply_inplace(self, lambda a, b: outofplace(a, b, alpha=alpha), name, other,
                                     reads_self=reads_self)
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
                d = writable(self, name)
            with np.errstate(divide="ignore", invalid="ignore"):
                ufunc(d, o, out=d)
            self._version[0] += 1
            return self
        return apply_inplace(self, outofplace, name, other, reads_self=reads_self)
    op.__name__ = name
    op.__doc__ = f"In-place {name[:-1]}."
    return op


def _scale_fast(d, other, alpha):
    """``(alpha * other, None)`` when that product is exact in ``d``'s dtype (``other`` a Python
    number, or a tensor of ``d``'s dtype and a number alpha of the same kind), else
    ``(other, alpha)`` for the promoting out-of-place op."""
    c = other.__class__
    ac = alpha.__class__
    k = d.dtype.kind
    if (c is _pyint or c is _pyfloat) and (ac is _pyint or ac is _pyfloat) and \
            (k in "fc" or (c is _pyint and ac is _pyint)):
        return other * alpha, None
    if isinstance(other, Tensor) and other._data.dtype is d.dtype and k in "fc" and \
            (ac is _pyint or ac is _pyfloat) and other._data.__class__ is d.__class__ and \
            not (_state.grad_enabled and other.requires_grad):
        return _wrap(other._data * alpha), None
    return other, alpha


add_ = _ufunc_inplace("add_", np.add, E.add, reads_self=False)  # d(a + alpha b) never reads a
sub_ = _ufunc_inplace("sub_", np.subtract, E.sub, reads_self=False)
mul_ = _ufunc_inplace("mul_", np.multiply, lambda a, b: E.mul(a, b))
_div_fast = _ufunc_inplace("div_", np.true_divide, lambda a, b: E.div(a, b))


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._data.dtype.kind in "fc":
        return _div_fast(self, other)
    return apply_inplace(self, lambda a, b: E.div(a, b, rounding_mode=rounding_mode), "div_", other)


def pow_(self, exponent):
    return apply_inplace(self, E.pow, "pow_", exponent)


def float_power_(self: Tensor, exponent) -> Tensor:
    """In-place float_power: ``self`` must already be float64 (complex128 for a complex operand)."""
    cplx = self.dtype.is_complex or (exponent.dtype.is_complex if isinstance(exponent, Tensor)
                                     else isinstance(exponent, complex))
    need = complex128 if cplx else float64
    if self.dtype is not need:
        raise RuntimeError(f"the base given to float_power_ has dtype {scalar_name(self.dtype)} but the "
                           f"operation's result requires dtype {scalar_name(need)}")
    return apply_inplace(self, E.float_power, "float_power_", exponent)


def _zeros_of(g: Tensor) -> Tensor:
    """A constant zero gradient like ``g`` (not ``g * 0``, which turns inf/nan into nan)."""
    return _wrap(_xp_of(g._data).zeros_like(g._data))


class ZeroBackward0(Node, name="ZeroBackward0"):
    """``zero_``/``fill_`` with a number: the old values do not reach the result."""

    def backward_t(self, g):
        return (_zeros_of(g) if self.next[0] is not None else None,)


class _FillBackward(Node, name="FillBackward3"):
    """``fill_`` with a 0-d tensor: the old values get zero, the value the sum of ``g``."""

    def backward_t(self, g):
        gv = g.sum() if self.next[1] is not None else None
        return (_zeros_of(g) if self.next[0] is not None else None, gv)


class CopyBackwards(Node, name="CopyBackwards"):
    """``copy_``: the old values get zero, ``src`` the gradient summed to its shape and dtype."""

    def backward_t(self, g):
        gs = None
        if self.next[1] is not None:
            gs = sum_to(g, self.sshape)
            if gs.dtype != self.sdtype:
                gs = E._cast(gs, self.sdtype)
        return (_zeros_of(g) if self.next[0] is not None else None, gs)


def _copied(a: Tensor, s: Tensor) -> Tensor:
    d = a._data
    r = _xp_of(d).empty(d.shape, d.dtype)
    r[...] = s._data.astype(d.dtype, copy=False)
    return record(r, CopyBackwards, (a, s), sshape=s._data.shape, sdtype=s.dtype)


_FillScalarBackward = ZeroBackward0.named("FillBackward2")


_F32_MAX = _pyfloat(np.finfo(np.float32).max)


def _filled(a: Tensor, value, v: Tensor | None = None, cls=None) -> Tensor:
    """A tensor like ``a`` full of ``value`` (a NumPy scalar of a's dtype), recorded with a node
    whose gradient is zero for ``a`` (selected, not ``x * 0 + v``, so inf/nan in ``a`` stay out)
    and the sum of ``g`` for the 0-d tensor ``v``."""
    d = a._data
    r = _xp_of(d).full(d.shape, value, d.dtype)
    if v is None:
        return record(r, cls or _FillScalarBackward, (a,))
    if v._data.dtype != d.dtype:
        v = E._cast(v, from_np(d.dtype))
    return record(r, _FillBackward, (a, v))


def _xp_of(d):
    if d.__class__ is np.ndarray:
        return np
    from ._common import xp_of
    return xp_of(d)


def zero_(self: Tensor) -> Tensor:
    """Fills with zeros in place."""
    if _needs_graph(self, ()):
        return apply_inplace(self, lambda a: _filled(a, 0, None, ZeroBackward0), "zero_")
    d = self._data
    if not getattr(d.flags, "writeable", True):
        d = writable(self, "zero_", overlap_ok=True)
    d.fill(0)
    self._version[0] += 1
    return self


def fill_(self: Tensor, value) -> Tensor:
    """Fills with ``value`` (a number or a 0-d tensor) in place."""
    d = self._data
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        vd = value._data
        if vd.dtype.kind == "c" and d.dtype.kind != "c":
            vd = vd.real
        if _needs_graph(self, (value,)):
            if not (_state.grad_enabled and value.requires_grad):
                return apply_inplace(self, lambda a: _filled(a, _cast_scalar(vd, d.dtype)), "fill_")
            return apply_inplace(self, lambda a, v: _filled(a, _cast_scalar(vd, d.dtype), v), "fill_", value)
        value = _cast_scalar(vd, d.dtype)
    elif not (value.__class__ is _pyfloat and d.dtype.kind == "f" and d.dtype.itemsize >= 4 and
              (d.dtype.itemsize == 8 or not abs(value) > _F32_MAX or abs(value) == _INF)):
        if not isinstance(value, (_pyint, _pyfloat, _pybool, complex, np.generic)):
            raise TypeError(f"fill_(): argument 'value' must be Number, not {type(value).__name__}")
        value = check_value(value, d.dtype, "fill_")
    check_inplace(self, "fill_")
    if _state.grad_enabled and self.requires_grad:
        return apply_inplace(self, lambda a: _filled(a, value), "fill_")
    if not getattr(d.flags, "writeable", True):
        d = writable(self, "fill_", overlap_ok=True)
    d.fill(value)
    self._version[0] += 1
    return self


def _cast_scalar(vd, npd):
    """0-d array ``vd`` cast to ``npd`` the way a tensor cast does (wrapping)."""
    return E._cast(_wrap(vd), from_np(npd))._data[()] if vd.dtype != npd else vd[()]


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
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
        if not getattr(d.flags, "writeable", True):
            d = writable(self, "copy_")
        if d.__class__ is np.ndarray:
            np.copyto(d, sd, casting="unsafe")
        else:
            d[...] = sd.astype(d.dtype, copy=False)
        self._version[0] += 1
        return self
    return apply_inplace(self, _copied, "copy_", src)


def _raise_copy(sd, d):
    raise RuntimeError(f"copy_(): the size of src {list(sd.shape)} must be broadcastable to the "
                       f"destination size {list(d.shape)}")


def clamp_(self, min=None, max=None):  # noqa: A002
    return apply_inplace(self, lambda a: E.clamp(a, min, max), "clamp_")


def _unary_inplace(name):
    fn = getattr(E, name)

    def op(self, *args, **kwargs):
        if not args and not kwargs:
            return apply_inplace(self, fn, name + "_")
        return apply_inplace(self, lambda a: fn(a, *args, **kwargs), name + "_")
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


def _shift_inplace(name):
    """``bitwise_left_shift_``/``bitwise_right_shift_`` (``<<=``, ``>>=``): PyTorch first checks that
    the promoted result type can be cast back into ``self``, then runs the kernel."""
    fn = getattr(E, name)

    def op(self, other):
        rt = result_type(self, other)
        own = self.dtype
        if rt is not own and rt.category > own.category:
            raise RuntimeError(f"{name}_: result type {scalar_name(rt)} can't be cast to the desired "
                               f"output type {scalar_name(own)}")
        return apply_inplace(self, fn, name + "_", other)
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
    T.float_power_ = float_power_
    T.zero_ = zero_
    T.fill_ = fill_
    T.copy_ = copy_
    T.clamp_ = clamp_
    T.clip_ = clamp_
    T.clamp_min_ = lambda self, min: clamp_(self, min=min)  # noqa: A006
    T.clamp_max_ = lambda self, max: clamp_(self, max=max)  # noqa: A006
    for name in ["neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
                 "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                 "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv",
                 "floor", "ceil", "round", "trunc", "frac", "logical_not", "bitwise_not", "nan_to_num",
                 "sinc", "deg2rad", "rad2deg", "logit", "negative", "absolute", "fix", "sgn"]:
        setattr(T, name + "_", _unary_inplace(name))
    for name in ["remainder", "fmod", "floor_divide", "atan2", "arctan2", "hypot", "lerp", "eq", "ne",
                 "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "xlogy",
                 "copysign", "maximum", "minimum", "fmax", "fmin", "heaviside"]:
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
    T.bitwise_left_shift_ = _shift_inplace("bitwise_left_shift")
    T.bitwise_right_shift_ = _shift_inplace("bitwise_right_shift")
    T.__ilshift__ = _iop(T.bitwise_left_shift_)
    T.__irshift__ = _iop(T.bitwise_right_shift_)


_attach()
