"""Helpers shared by the op families: dim handling, argument checks, polymorphic math, ``out=``.

The ``p_*`` functions take either a raw array or a Tensor and return the same kind, so one
backward formula serves both the fast raw-array path and the differentiable (create_graph) path.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import _state
from .._dtype import from_np, scalar_name
from .._tensor import Tensor, _canon_dim, _wrap

__all__ = ["canon_dim", "canon_dims", "check_tensor", "p_exp", "p_log", "p_sqrt", "p_sin", "p_cos",
           "p_where", "p_sign", "p_abs", "p_sinh", "p_cosh", "xp_of", "same_device", "scalar_types", "_wrap",
           "_write_out"]

canon_dim = _canon_dim
scalar_types = (builtins.int, builtins.float, builtins.bool, complex, np.generic)


def canon_dims(dim, ndim: int, op: str = "") -> tuple:
    """Normalizes an int or a sequence of ints to a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        ds = tuple(_canon_dim(d, ndim, op) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{op}(): dim {ds} appears multiple times in the list of dims")
        return tuple(sorted(ds))
    return (_canon_dim(dim, ndim, op),)


def check_tensor(x, op: str, arg: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")
    return x


def xp_of(a):
    """The array module (numpy or cupy) of array ``a``."""
    if a.__class__ is np.ndarray or isinstance(a, np.generic):  # ufuncs on 0-d arrays give scalars
        return np
    from .._device import xp_of_array
    return xp_of_array(a)


_ZEROS: dict = {}
_ZEROS_MAX = 1 << 22


def zeros_like_layout(a, scalar):
    """A read-only array of zeros with ``a``'s shape, dtype and layout (C or Fortran order), for
    ``np.maximum(a, zeros)``: NumPy's maximum against a same-layout array is about 5x faster than
    against a scalar (measured 10 us vs 50 us on 65K float32). Falls back to ``scalar`` for other
    layouts, CuPy arrays and arrays above 4M elements."""
    n = a.size
    if a.__class__ is not np.ndarray or n > _ZEROS_MAX or n < 1024:
        return scalar
    flags = a.flags
    if flags.c_contiguous:
        fortran = False
    elif flags.f_contiguous:
        fortran = True
    else:
        return scalar
    buf = _ZEROS.get(a.dtype)
    if buf is None or buf.size < n:
        buf = np.zeros(max(n, 1 << 16), a.dtype)
        buf.flags.writeable = False
        _ZEROS[a.dtype] = buf
    z = buf[:n]
    return z.reshape(a.shape[::-1]).T if fortran else z.reshape(a.shape)


def same_device(op: str, *tensors) -> None:
    cls = None
    for t in tensors:
        if t is None:
            continue
        c = t._data.__class__
        if cls is None:
            cls = c
        elif c is not cls:
            devs = ", ".join(str(x.device) for x in tensors if x is not None)
            raise RuntimeError(f"{op}(): Expected all tensors to be on the same device, but found at "
                               f"least two devices ({devs})")
    if cls is not None and cls is not np.ndarray:
        ids = {t._data.device.id for t in tensors if t is not None}
        if len(ids) > 1:
            raise RuntimeError(f"{op}(): Expected all tensors to be on the same device, but found at "
                               f"least two devices (cuda ids {sorted(ids)})")


def _poly(np_name: str, method: str):
    f = getattr(np, np_name)

    def fn(x):
        if x.__class__ is Tensor:
            return getattr(x, method)()
        return f(x)
    fn.__name__ = "p_" + method
    return fn


p_exp = _poly("exp", "exp")
p_log = _poly("log", "log")
p_sqrt = _poly("sqrt", "sqrt")
p_sin = _poly("sin", "sin")
p_cos = _poly("cos", "cos")
p_sinh = _poly("sinh", "sinh")
p_cosh = _poly("cosh", "cosh")
p_sign = _poly("sign", "sign")
p_abs = _poly("abs", "abs")


def p_where(cond, a, b):
    """where(cond, a, b) on arrays or Tensors (``a``/``b`` may be Python scalars)."""
    if cond.__class__ is Tensor or a.__class__ is Tensor or b.__class__ is Tensor:
        from .select import where
        return where(cond, a, b)
    return np.where(cond, a, b)


def p_zeros_like(g):
    if g.__class__ is Tensor:
        return g * 0
    return np.zeros_like(g)


def _write_out(out: Tensor, res: Tensor) -> Tensor:
    """Implements ``out=``: resizes ``out`` if needed and copies the result into it."""
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
    if _state.grad_enabled and (res.requires_grad or out.requires_grad):
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    rd = res._data
    if rd.dtype != out._data.dtype and from_np(rd.dtype).category > from_np(out._data.dtype).category:
        raise RuntimeError(f"result type {scalar_name(from_np(rd.dtype))} can't be cast to the desired "
                           f"output type {scalar_name(from_np(out._data.dtype))}")
    if out._data.shape != rd.shape:
        out._data = rd.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = rd
    out._version[0] += 1
    return out
