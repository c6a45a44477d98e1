"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+ _like), arange,
linspace, logspace, eye, and the legacy constructors (``Tensor(...)``, ``LongTensor(...)``)."""

from __future__ import annotations

import builtins
import math

import numpy as np

from ._device import _default, as_device, move_array, xp_for
from ._dtype import (as_dtype, bool as bool_, float32, float_to_int, from_np, get_default_dtype, int64,
                     default_complex, np_finfo, promote_types, to_np)
from ._tensor import Size, Tensor, _wrap

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
           "logspace", "eye", "scalar_tensor", "empty_strided", "FloatTensor", "DoubleTensor",
           "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]

_pyrange = builtins.range


def _infer_dtype(data):
    """PyTorch's dtype inference for nested Python data: the promotion of the items' dtypes, with
    bool -> bool, int -> int64, float -> the default dtype, complex -> the default complex dtype;
    NumPy scalars and tensors keep their own dtype."""
    r = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        if isinstance(x, Tensor):
            d = x.dtype
        elif isinstance(x, (np.generic, np.ndarray)):
            d = from_np(x.dtype)
        elif isinstance(x, builtins.bool):
            d = bool_
        elif isinstance(x, builtins.int):
            d = int64
        elif isinstance(x, builtins.float):
            d = get_default_dtype()
        elif isinstance(x, builtins.complex):
            d = default_complex()
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
        if d is not r:
            r = d if r is None else promote_types(r, d)
    return get_default_dtype() if r is None else r


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return data._data if isinstance(data._data, np.ndarray) else data._data.get()
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, (Tensor, list, tuple)) for x in data):
            return [_unwrap_nested(x) for x in data]
    return data


def _check_nested(data) -> None:
    """Raises torch's error for ragged nested sequences: the shape comes from the first element
    along each dim, and the first sequence of another length is named with its dim."""
    shape = []
    x = data
    while isinstance(x, (list, tuple)):
        shape.append(len(x))
        if not x:
            break
        x = x[0]

    def walk(x, dim):
        if dim == len(shape):
            if isinstance(x, (list, tuple)):
                raise TypeError(f"'{type(x).__name__}' object cannot be interpreted as a number")
            return
        if not isinstance(x, (list, tuple)):
            raise TypeError("not a sequence")
        if len(x) != shape[dim]:
            raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(x)})")
        for y in x:
            walk(y, dim + 1)

    walk(data, 0)


_I64_MIN, _I64_MAX = -2**63, 2**63 - 1


_LIMITS: dict = {}


def _limits(d) -> tuple:
    """(lowest, largest) finite value of real dtype ``d``, cached (np.finfo costs microseconds)."""
    r = _LIMITS.get(d)
    if r is None:
        if d.category == 2:
            hi = float(np_finfo(to_np(d)).max)
            r = (-hi, hi)
        else:
            ii = np.iinfo(to_np(d))
            r = (builtins.int(ii.min), builtins.int(ii.max))
        _LIMITS[d] = r
    return r


def check_scalar(v, d, op: str) -> None:
    """PyTorch's range check for a Python number stored into dtype ``d`` (c10's ``overflows``): an
    integer must fit the type, except that negative integers down to ``-max`` wrap into an unsigned
    type; a float must lie within the type's range (inf is fine for floating types, nan and inf are
    not for integer ones); an int beyond int64 is refused for integer types. RuntimeError otherwise."""
    if isinstance(v, builtins.bool) or d.category == 3 or d is bool_ or isinstance(v, builtins.complex):
        return
    lo, hi = _limits(d)
    if d.category == 2:  # floating: only finite magnitudes above the largest value overflow
        if isinstance(v, builtins.int) or math.isfinite(v):
            if abs(v) > hi:
                raise RuntimeError(f"{op}(): value cannot be converted to type {d.name} without overflow")
        return
    if isinstance(v, (builtins.int, np.integer)):
        v = builtins.int(v)
        ok = _I64_MIN <= v <= _I64_MAX and (lo <= v <= hi if lo < 0 else -hi <= v <= hi)
    else:
        ok = not math.isnan(v) and lo <= v <= hi
    if not ok:
        raise RuntimeError(f"{op}(): value cannot be converted to type {d.name} without overflow")


def _ints_into(raw, d, op: str) -> np.ndarray:
    """``raw`` (nested numbers, some Python ints out of ``d``'s range) as an array of integer
    dtype ``d``: ints beyond int64 are refused as torch does (ValueError), the others checked by
    ``check_scalar`` and wrapped into ``d``."""
    try:
        arr = np.array(raw, dtype=np.int64 if d.category <= 1 else np.float64)
    except OverflowError:
        raise ValueError(f"{op}(): Overflow when unpacking long long") from None
    if arr.size and d.category == 1:
        check_scalar(builtins.int(arr.min()), d, op)
        check_scalar(builtins.int(arr.max()), d, op)
    return arr.astype(to_np(d))


def _float_to_int_cast(src: np.dtype, dst: np.dtype) -> builtins.bool:
    """True for a floating (bfloat16 included) -> integer cast, which goes through the defined
    rule (``_dtype.float_to_int``), never NumPy's C cast."""
    return dst.kind in "iu" and (src.kind == "f" or src.name == "bfloat16")


def _floats_into(raw, d, device) -> np.ndarray:
    try:
        f = np.array(raw, dtype=np.float64)
    except (ValueError, TypeError) as e:
        _check_nested(raw)
        raise ValueError(f"expected a sequence of equal-length sequences of numbers: {e}") from None
    except OverflowError:
        raise ValueError("tensor(): Overflow when unpacking long long") from None
    if f.dtype.kind == "c":
        raise TypeError(f"tensor(): can't convert complex to {d.name}")
    if f.size:
        ii = np.iinfo(to_np(d))
        if not bool(((f >= builtins.int(ii.min)) & (f <= builtins.int(ii.max))).all()):  # nan fails too
            raise RuntimeError(f"tensor(): value cannot be converted to type {d.name} without overflow")
    arr = float_to_int(f, to_np(d))
    return move_array(arr, as_device(device)) if device is not None else arr


def _to_array(data, dtype, device, copy: builtins.bool):
    """Array for ``data`` with PyTorch's dtype inference and the given dtype/device."""
    if device is None and _default[0].type != "cpu" and not isinstance(data, Tensor) and not hasattr(
            data, "__cuda_array_interface__"):
        device = _default[0]  # set_default_device: Python data and NumPy arrays go there
    if isinstance(data, Tensor):
        arr = data._data
        dt = to_np(as_dtype(dtype)) if dtype is not None else arr.dtype
        if _float_to_int_cast(arr.dtype, dt) and isinstance(arr, np.ndarray):
            arr = float_to_int(arr, dt)
        else:
            arr = arr.astype(dt, copy=copy) if (copy or arr.dtype != dt) else arr
    elif isinstance(data, np.ndarray):
        if data.dtype.kind in "UOSV" and data.dtype.name != "bfloat16":
            raise TypeError(f"can't convert np.ndarray of type {data.dtype}. The only supported types "
                            "are: float64, float32, float16, complex64, complex128, int64, int32, "
                            "int16, int8, uint8, and bool.")
        dt = to_np(as_dtype(dtype)) if dtype is not None else to_np(from_np(data.dtype))
        if _float_to_int_cast(data.dtype, dt):
            arr = float_to_int(data, dt)
        else:
            arr = np.array(data, dtype=dt, copy=True) if copy else np.asarray(data, dtype=dt)
    elif hasattr(data, "__cuda_array_interface__") and not isinstance(data, (list, tuple)):
        arr = data
        if dtype is not None:
            arr = arr.astype(to_np(as_dtype(dtype)), copy=copy)
        elif copy:
            arr = arr.copy()
    else:
        if isinstance(data, (str, bytes)) or data is None or isinstance(data, dict):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        if isinstance(data, builtins.range):
            data = list(data)
        if dtype is None:
            dtype = _infer_dtype(data)
        dt = to_np(as_dtype(dtype))
        raw = _unwrap_nested(data)
        if dt.kind in "iu" and _infer_dtype(data).category >= 2:
            # Python floats into an integer type: range-checked as torch does (-1.5 into uint8 and
            # nan into int64 are errors), then truncated
            return _floats_into(raw, as_dtype(dtype), device)
        try:
            arr = np.array(raw, dtype=dt if dt.kind != "V" else np.float64)
        except (ValueError, TypeError) as e:
            _check_nested(raw)
            raise ValueError(f"expected a sequence of equal-length sequences of numbers: {e}") from None
        except OverflowError:
            arr = _ints_into(raw, as_dtype(dtype), "tensor")
        if arr.dtype.kind == "O":
            raise ValueError("expected a sequence of equal-length sequences of numbers")
        if arr.dtype != dt:
            arr = arr.astype(dt)
    if device is not None:
        arr = move_array(arr, as_device(device))
    return arr


def tensor(data, *, dtype=None, device=None, requires_grad: builtins.bool = False,
           pin_memory: builtins.bool = False) -> Tensor:
    """A new tensor that copies ``data`` (nested lists, numbers, NumPy arrays, tensors).

    Integers infer int64, floats the default dtype, bools bool, as in PyTorch.
    """
    t = _wrap(_to_array(data, dtype, device, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor or NumPy array when dtype and device allow."""
    if isinstance(data, Tensor):
        same_dtype = dtype is None or as_dtype(dtype) is data.dtype
        if same_dtype and (device is None or as_device(device) == data.device):
            return data
        return data.to(device=device, dtype=dtype)
    return _wrap(_to_array(data, dtype, device, copy=False))


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: builtins.bool = False) -> Tensor:
    t = _wrap(_to_array(obj, dtype, device, copy=builtins.bool(copy)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_np(ndarray.dtype)  # raises TypeError for unsupported dtypes
    if ndarray.__class__ is not np.ndarray:
        # np.memmap (nanoGPT's batches), np.matrix, masked arrays: the same memory as a plain
        # ndarray, since ops dispatch on the array class (a subclass would pass for a device array)
        ndarray = ndarray.view(np.ndarray)
    return _wrap(ndarray)


def _size(size, op: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple, Size)):
        size = tuple(size[0])
    if len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist()) if size[0].ndim else (size[0].item(),)
    out = []
    for n in size:
        if isinstance(n, Tensor):
            n = n.__index__()
        if not isinstance(n, (builtins.int, np.integer)) or isinstance(n, builtins.bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(n).__name__}")
        if n < 0:
            raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension {n}: "
                               f"{list(size)}")
        if n > _I64_MAX:
            raise TypeError(f"{op}(): argument 'size' failed to unpack the object at pos "
                            f"{len(out) + 1}: Overflow when unpacking long long")
        out.append(builtins.int(n))
    return tuple(out)


def _size_args(size: tuple, op: str) -> tuple:
    """The shape given as ``*size`` to a factory: required, as in torch (a 0-d tensor is ``op(())``)."""
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    return _size(size, op)


def _xp_dt(dtype, device, default=None):
    d = as_device(device) if device is not None else _default[0]
    xp = xp_for(d) if d.type != "cpu" else np
    dt = to_np(as_dtype(dtype)) if dtype is not None else to_np(default or get_default_dtype())
    return xp, dt, d


def _alloc(op: str, fn, shape, *args):
    """``fn(shape, *args)``: a NumPy/CuPy allocation that raises torch's RuntimeError instead of
    MemoryError ("Unable to allocate") or ValueError ("array is too big", "Maximum allowed
    dimension exceeded"), so that code written for torch's ``except RuntimeError`` still works."""
    try:
        return fn(shape, *args)
    except (MemoryError, ValueError) as e:
        raise RuntimeError(_alloc_msg(op, shape, args, e)) from None


def _alloc_msg(op: str, shape, args, e) -> str:
    n = math.prod(shape) if isinstance(shape, tuple) else shape
    dt = next((a for a in args if isinstance(a, np.dtype)), None)
    nbytes = n * (dt.itemsize if dt is not None else 8)
    if nbytes > _I64_MAX:
        return f"{op}(): Storage size calculation overflowed with sizes={list(shape)}"
    return (f"{op}(): DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} "
            f"bytes ({type(e).__name__}: {e})")


def _finish(arr, requires_grad, d=None):
    if d is not None and d.type == "cuda" and d.index is not None:
        arr = move_array(arr, d)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad: builtins.bool = False,
          pin_memory=False, memory_format=None) -> Tensor:
    """A tensor of zeros of the given shape."""
    xp, dt, d = _xp_dt(dtype, device)
    shape = _size_args(size, "zeros")
    try:  # inline, not through _alloc: the common factories pay nothing for the check
        arr = xp.zeros(shape, dt)
    except (MemoryError, ValueError) as e:
        raise RuntimeError(_alloc_msg("zeros", shape, (dt,), e)) from None
    return _out(out, _finish(arr, requires_grad, d))


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad: builtins.bool = False,
         pin_memory=False, memory_format=None) -> Tensor:
    """A tensor of ones of the given shape."""
    xp, dt, d = _xp_dt(dtype, device)
    shape = _size_args(size, "ones")
    try:  # inline, not through _alloc: the common factories pay nothing for the check
        arr = xp.ones(shape, dt)
    except (MemoryError, ValueError) as e:
        raise RuntimeError(_alloc_msg("ones", shape, (dt,), e)) from None
    return _out(out, _finish(arr, requires_grad, d))


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad: builtins.bool = False,
          pin_memory=False, memory_format=None) -> Tensor:
    """An uninitialized tensor of the given shape."""
    xp, dt, d = _xp_dt(dtype, device)
    shape = _size_args(size, "empty")
    try:  # inline, not through _alloc: the common factories pay nothing for the check
        arr = xp.empty(shape, dt)
    except (MemoryError, ValueError) as e:
        raise RuntimeError(_alloc_msg("empty", shape, (dt,), e)) from None
    return _out(out, _finish(arr, requires_grad, d))


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _scalar_dtype(v):
    if isinstance(v, builtins.bool):
        return bool_
    if isinstance(v, (builtins.int, np.integer)):
        return int64
    if isinstance(v, builtins.complex):
        return default_complex()
    return get_default_dtype()


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    xp, dt, d = _xp_dt(dtype, device, default=_scalar_dtype(fill_value))
    size = _size((size,) if not isinstance(size, (builtins.int, np.integer)) else (size,), "full")
    check_scalar(fill_value, from_np(dt), "full")
    return _out(out, _finish(_alloc("full", _full_wrapped, size, fill_value, dt, xp), requires_grad, d))


def _full_wrapped(size, v, dt, xp):
    """``xp.full`` where a negative int for an unsigned type wraps (as in torch) instead of
    raising; ``check_scalar`` has checked the range."""
    if dt.kind == "u" and isinstance(v, (builtins.int, np.integer)) and v < 0:
        v = builtins.int(v) % (1 << (8 * dt.itemsize))
    return xp.full(size, v, dt)


def _out(out, t):
    if out is None:
        return t
    from .ops.elementwise import _write_out
    return _write_out(out, t)


def _like(input, dtype, device):
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    dt = to_np(as_dtype(dtype)) if dtype is not None else input._data.dtype
    d = as_device(device) if device is not None else input.device
    return dt, d


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    dt, d = _like(input, dtype, device)
    return _finish(_alloc("zeros_like", xp_for(d).zeros, input._data.shape, dt), requires_grad, d)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dt, d = _like(input, dtype, device)
    return _finish(_alloc("ones_like", xp_for(d).ones, input._data.shape, dt), requires_grad, d)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    dt, d = _like(input, dtype, device)
    return _finish(_alloc("empty_like", xp_for(d).empty, input._data.shape, dt), requires_grad, d)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dt, d = _like(input, dtype, device)
    check_scalar(_num(fill_value), from_np(dt), "full_like")
    return _finish(_alloc("full_like", _full_wrapped, input._data.shape, fill_value, dt, xp_for(d)),
                   requires_grad, d)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: builtins.bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) spaced by ``step``; int64 for integer args.

    For an integer dtype, torch casts the arguments to the type first (truncating toward zero,
    wrapping into narrow types): ``start + i * step`` in integers. The length comes from the cast
    arguments for int64 and from the original ones for the narrower integer types, as in torch 2.13
    (``arange(3.5, dtype=int64)`` has 3 elements, ``arange(3.5, dtype=int32)`` 4).
    """
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
        dtype = int64 if is_int else get_default_dtype()
    xp, dt, d = _xp_dt(dtype, device)
    if dt.kind in "iu":
        for v in (start, end, step):
            if isinstance(v, (builtins.int, np.integer)) and not _I64_MIN <= v <= _I64_MAX:
                raise RuntimeError("arange(): value cannot be converted to type int64 without overflow")
        s0, st = _trunc_int(start), _trunc_int(step)
        if dt == np.int64:
            if st == 0:  # a fractional step that truncates to 0 (torch raises ValueError here)
                raise ValueError("arange(): step must be nonzero")
            e0 = _trunc_int(end)
            n = builtins.max(0, -((s0 - e0) // st))  # ceil((e0 - s0) / st) in exact integers
        else:
            n = builtins.max(0, math.ceil((end - start) / step))
        bits = 8 * dt.itemsize
        # start + i*step in int64, then wrapped into the narrow type (NumPy's int64 -> intN cast
        # keeps the low bits)
        s0 = (s0 + (1 << 63)) % (1 << 64) - (1 << 63) if bits == 64 else s0 % (1 << bits)
        st = st % (1 << bits) if bits < 64 else st
        arr = _alloc("arange", _arange_n, n, np.dtype(np.int64))
        arr *= st
        arr += s0
        arr = arr.astype(dt)
        if xp is not np:
            arr = xp.asarray(arr)
    else:
        n = builtins.max(0, math.ceil((end - start) / step))
        # computed in float64 as start + i*step, as PyTorch does, then cast
        arr = (_alloc("arange", _arange_n, n, np.dtype(np.float64)) * step + start).astype(dt)
        if xp is not np:
            arr = xp.asarray(arr)
    return _out(out, _finish(arr, requires_grad, d))


def _arange_n(n: int, dt: np.dtype) -> np.ndarray:
    return np.arange(n, dtype=dt)


def _trunc_int(v) -> int:
    """A Python number as an integer, truncated toward zero (torch's Scalar -> integer cast)."""
    if isinstance(v, (builtins.int, np.integer)):
        return builtins.int(v)
    if not math.isfinite(v):
        raise RuntimeError(f"arange(): value cannot be converted to an integer type: {v}")
    return builtins.int(v)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A001
    """Deprecated in PyTorch: like arange but includes ``end``; float by default."""
    if end is None:
        start, end = 0, start
    n = builtins.int(math.floor((end - start) / step)) + 1
    xp, dt, d = _xp_dt(dtype, device)
    arr = (_alloc("range", _arange_n, n, np.dtype(np.float64)) * step + start).astype(dt)
    return _finish(xp.asarray(arr) if xp is not np else arr, requires_grad, d)


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: builtins.bool = False) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end`` inclusive."""
    start, end = _num(start), _num(end)
    if not isinstance(steps, (builtins.int, np.integer)) or isinstance(steps, builtins.bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    xp, dt, d = _xp_dt(dtype, device)
    start, end = _endpoints(start, end, dt, "linspace")
    arr = _alloc("linspace", _linspace_f64, builtins.int(steps), start, end)
    if dt.kind in "iu":
        arr = np.trunc(arr)  # within [start, end], which fit dt: the cast is exact
    arr = arr.astype(dt)
    return _out(out, _finish(xp.asarray(arr) if xp is not np else arr, requires_grad, d))


def _linspace_f64(steps: int, start, end) -> np.ndarray:
    if steps == 1:
        return np.array([start], dtype=np.float64)
    # symmetric evaluation from both ends, as PyTorch does, for exact endpoints
    i = np.arange(steps, dtype=np.float64)
    st = (end - start) / (steps - 1)
    return np.where(i < steps // 2, start + st * i, end - st * (steps - 1 - i))


def _endpoints(start, end, dt: np.dtype, op: str):
    """linspace/logspace end points as torch takes them: range-checked against the result dtype
    (RuntimeError "value cannot be converted ... without overflow", so ``linspace(0, 300, 3,
    dtype=uint8)`` fails as in torch instead of wrapping silently), and for integer dtypes
    truncated toward zero and wrapped into the type (``linspace(-1, 5, 3, dtype=uint8)`` runs
    from 255 to 5)."""
    if dt.kind == "b":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'Bool\'')
    fd = from_np(dt)
    check_scalar(start, fd, op)
    check_scalar(end, fd, op)
    if dt.kind in "iu":
        bits = 8 * dt.itemsize
        start, end = (builtins.int(v) for v in (start, end))
        if dt.kind == "u":
            start, end = start % (1 << bits), end % (1 << bits)
    return start, end


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad: builtins.bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    xp, dt, d = _xp_dt(dtype, device)
    start, end = _endpoints(_num(start), _num(end), dt, "logspace")
    lin = linspace(start, end, steps, dtype=as_dtype("float64"))._data
    arr = np.power(base, lin)
    arr = float_to_int(arr, dt) if dt.kind in "iu" else arr.astype(dt)
    return _out(out, _finish(xp.asarray(arr) if xp is not np else arr, requires_grad, d))


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad: builtins.bool = False) -> Tensor:
    """An n x m identity matrix."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    xp, dt, d = _xp_dt(dtype, device)
    return _out(out, _finish(_alloc("eye", lambda shape, dt: xp.eye(*shape, dtype=dt),
                                    (n, n if m is None else m), dt), requires_grad, d))


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    xp, dt, d = _xp_dt(dtype, device)
    return _finish(xp.asarray(s, dtype=dt), requires_grad, d)


# --------------------------------------------------------------------------- legacy constructors
def legacy_new(dtype, args, kwargs):
    """``Tensor(*sizes)``, ``Tensor(sequence)``, ``Tensor(ndarray)``, ``Tensor()``."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments: {sorted(kwargs)}")
    npd = to_np(dtype)
    if not args:
        arr = np.empty((0,), npd)
    elif len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, Tensor)) and not (
            isinstance(args[0], Size)):
        arr = _to_array(args[0], dtype, None, copy=True)
    elif len(args) == 1 and isinstance(args[0], Size):
        arr = _alloc("new", np.zeros, tuple(args[0]), npd)
    else:
        arr = _alloc("new", np.zeros, _size(args, "new"), npd)
    if device is not None:
        arr = move_array(arr, as_device(device))
    return arr


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._dtype and (obj.device.type == "cpu")


def _legacy(name: str, dt):
    def __new__(cls, *args, **kwargs):
        return _wrap(legacy_new(dt, args, kwargs))
    return _LegacyMeta(name, (), {"__new__": __new__, "_dtype": dt,
                                  "__doc__": f"Legacy constructor for {dt} tensors."})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", as_dtype("float64"))
HalfTensor = _legacy("HalfTensor", as_dtype("float16"))
BFloat16Tensor = _legacy("BFloat16Tensor", as_dtype("bfloat16"))
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", as_dtype("int32"))
ShortTensor = _legacy("ShortTensor", as_dtype("int16"))
CharTensor = _legacy("CharTensor", as_dtype("int8"))
ByteTensor = _legacy("ByteTensor", as_dtype("uint8"))
BoolTensor = _legacy("BoolTensor", bool_)


# --------------------------------------------------------------------------- Tensor.new_*
def _new_kw(self, dtype, device):
    return (dtype if dtype is not None else self.dtype), (device if device is not None else self.device)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor from ``data`` with this tensor's dtype and device by default."""
    dt, dev = _new_kw(self, dtype, device)
    return tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


def _new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _new_kw(self, dtype, device)
    return zeros(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def _new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _new_kw(self, dtype, device)
    return ones(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def _new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _new_kw(self, dtype, device)
    return empty(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _new_kw(self, dtype, device)
    return full(size, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_zeros
Tensor.new_ones = _new_ones
Tensor.new_empty = _new_empty
Tensor.new_full = _new_full
Tensor.new = lambda self, *args, **kw: _wrap(legacy_new(self.dtype, args, kw))
