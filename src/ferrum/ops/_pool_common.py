"""Window and output-size arithmetic shared by the pooling ops (``pool_max.py``, ``pool_avg.py``).

Every pooling op works on the input seen as planes: an array of shape (B, *S) where B is N * C (or
C for unbatched input) and S the n spatial sizes. The helpers here parse PyTorch's int-or-tuple
arguments, compute PyTorch's output sizes (floor or ceil mode, with the rule that the last window
must start inside the input or the left padding), give the strided slices that hold one kernel
offset of every window (views, no copy), and give adaptive pooling its window bounds
(start = floor(i L / O), end = ceil((i + 1) L / O)).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .._tensor import Tensor

_pyint, _pybool = builtins.int, builtins.bool
_DIMS = {1: "one", 2: "two", 3: "three"}
LOWP = ("float16", "bfloat16")


def check_tensor(x, op: str, arg: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def is_int(v) -> bool:
    return isinstance(v, (_pyint, np.integer)) and not isinstance(v, (_pybool, np.bool_))


def ntuple(v, n: int, op: str, arg: str, pos: int, allow_empty: bool = False) -> tuple | None:
    """``v`` (an int, or a tuple/list of 1 or n ints) as an n-tuple of ints; None for an empty
    sequence when ``allow_empty`` (PyTorch's ``stride=()`` means the kernel size)."""
    if is_int(v):
        return (int(v),) * n
    if isinstance(v, Tensor) and v.ndim == 0 and v.dtype.is_floating_point is False:
        return (int(v.item()),) * n
    if not isinstance(v, (tuple, list)):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                        f"{type(v).__name__}")
    for i, e in enumerate(v):
        if not is_int(e):
            raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be tuple of ints, but found "
                            f"element of type {type(e).__name__} at pos {i}")
    if len(v) == 0 and allow_empty:
        return None
    if len(v) == 1:
        return (int(v[0]),) * n
    if len(v) != n:
        if n == 1:
            raise RuntimeError(f"{op}() argument '{arg}' should contain one int (got {len(v)})")
        raise RuntimeError(f"{op}: {arg} must either be a single int, or a tuple of {_DIMS[n]} ints")
    return tuple(int(e) for e in v)


def out_size(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooling output length along one dim."""
    span = size + 2 * p - d * (k - 1) - 1
    o = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= size + p:  # the last window must start inside input or left padding
        o -= 1
    return o


_KN = ("kT", "kH", "kW")
_DN = ("dilationT", "dilationH", "dilationW")


def check_window(k, s, p, d, n: int) -> None:
    """PyTorch's checks of kernel, stride, padding and dilation (RuntimeError, its messages)."""
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in k):
        names = " ".join(f"{nm}: {v}" for nm, v in zip(_KN[3 - n:], k, strict=True))
        raise RuntimeError(f"kernel size should be greater than zero, but got {names}")
    if any(v < 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got {list(s)}")
    if any(v <= 0 for v in d):
        names = " ".join(f"{nm}: {v}" for nm, v in zip(_DN[3 - n:], d, strict=True))
        raise RuntimeError(f"dilation should be greater than zero, but got {names}")
    for kk, pp, dd in zip(k, p, d, strict=True):
        if pp < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pp}")
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")
    if any(pp > kk // 2 for kk, pp in zip(k, p, strict=True)):  # then the kernels' own check, undilated
        if n == 3:
            got = f"kT: {k[0]} kW: {k[2]} kH: {k[1]} padT: {p[0]} padW: {p[2]} padH: {p[1]}"
        else:
            got = f"padW = {p[-1]}, padH = {p[-2]}, kW = {k[-1]}, kH = {k[-2]}"
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got {got}")


def check_rank(x: Tensor, n: int, op: str) -> None:
    """Input of n spatial dims must be (C, *S) or (N, C, *S) with non-empty C and S."""
    nd = x.ndim
    if nd not in (n + 1, n + 2) or any(v == 0 for v in x.shape[nd - n - 1:]):
        raise RuntimeError(f"{op}: Expected {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(x.shape)}")


def out_sizes(x: Tensor, k, s, p, d, ceil: bool, n: int) -> tuple:
    sp = x.shape[-n:]
    o = tuple(out_size(L, *w, ceil) for L, *w in zip(sp, k, s, p, d, strict=True))
    if any(v < 1 for v in o):
        c = x.shape[-n - 1]
        src = "x".join(str(v) for v in (c, *sp))
        dst = "x".join(str(v) for v in (c, *o))
        raise RuntimeError(f"Given input size: ({src}). Calculated output size: ({dst}). Output size is "
                           f"too small")
    return o


def planes(a, n: int):
    """Array ``a`` (*lead, *S) as (B, *S), C-contiguous."""
    return np.ascontiguousarray(a).reshape((math.prod(a.shape[:a.ndim - n]),) + a.shape[a.ndim - n:])


def right_padding(o, k, s, p, d, sp) -> tuple:
    """How far the last of ``o`` windows reaches past the input (and its left padding) per dim."""
    return tuple(max(0, (oo - 1) * ss + dd * (kk - 1) + 1 - L - pp)
                 for oo, ss, dd, kk, L, pp in zip(o, s, d, k, sp, p, strict=True))


def offset_slices(k, s, d, o):
    """For each kernel offset (row-major), the strided slices of padded planes (B, *S') that hold
    the element at that offset of every window: shape (B, *O) each, no copy."""
    for offs in np.ndindex(*k):
        yield (slice(None),) + tuple(slice(f * dd, f * dd + (oo - 1) * ss + 1, ss)
                                     for f, oo, ss, dd in zip(offs, o, s, d, strict=True))


def pad_planes(a, p, o, k, s, d, value):
    """(B, *S) array padded by p on the left and enough on the right for ``o`` windows, with
    ``value``; ``a`` itself when no padding is needed. Also returns the padding on the right."""
    right = right_padding(o, k, s, p, d, a.shape[1:])
    if not any(p) and not any(right):
        return a, right
    shape = (a.shape[0],) + tuple(L + pp + r for L, pp, r in zip(a.shape[1:], p, right, strict=True))
    r = np.full(shape, value, dtype=a.dtype)
    r[(slice(None),) + tuple(slice(pp, pp + L) for pp, L in zip(p, a.shape[1:], strict=True))] = a
    return r, right


def adaptive_bounds(L: int, O: int):
    """Start and end (exclusive) of each of the O adaptive windows over a length L (int arrays)."""
    i = np.arange(O)
    return (i * L) // O, -((-(i + 1) * L) // O)


def adaptive_output_size(x: Tensor, output_size, n: int, op: str) -> tuple:
    """``output_size`` (int, or tuple with None entries meaning the input's size) as n ints."""
    if output_size is None or is_int(output_size):
        if output_size is None and n == 1:
            raise TypeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, not "
                            "NoneType")
        v = (output_size,) * n
    elif isinstance(output_size, (tuple, list)):
        v = tuple(output_size)
        if len(v) != n:
            if n == 1:
                raise RuntimeError(f"{op}() argument 'output_size' should contain one int (got {len(v)})")
            raise RuntimeError(f"{op}: output_size must be {n}")
    else:
        raise TypeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, not "
                        f"{type(output_size).__name__}")
    sp = x.shape[-n:]
    res = []
    for e, L in zip(v, sp, strict=True):
        if e is None:
            res.append(int(L))
        elif not is_int(e):
            raise TypeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, but found "
                            f"element of type {type(e).__name__}")
        else:
            res.append(int(e))
    if any(e < 0 for e in res):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(str(e) for e in res)}}}")
    return tuple(res)


def check_adaptive_input(x: Tensor, n: int, op: str) -> None:
    nd = x.ndim
    if nd not in (n + 1, n + 2):
        raise RuntimeError(f"{op}(): Expected {n + 1}D or {n + 2}D tensor, but got {list(x.shape)}")
    for i in range(1 if nd == n + 2 else 0, nd):
        if x.shape[i] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {list(x.shape)} with dimension {i} being empty")


def float_only(x: Tensor, op: str) -> None:
    if x.dtype.is_floating_point is False:
        raise NotImplementedError(f'"{op}" not implemented for \'{_scalar(x)}\'')


def _scalar(x: Tensor) -> str:
    from .._dtype import scalar_name
    return scalar_name(x.dtype)


def compute_array(x: Tensor):
    """x's array in a dtype NumPy computes in (float16/bfloat16 -> float32), and the dtype to cast the
    result back to (None when no cast is needed)."""
    a = x._data
    if x.dtype.name in LOWP:
        return a.astype(np.float32), a.dtype
    return a, None


def rank_1d_message(x: Tensor, op: str) -> str:
    return (f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {op})")


def window_args(input, kernel_size, stride, padding, n: int, op: str, first: int = 2) -> tuple:
    """Checks that ``input`` is a Tensor and parses kernel_size, stride (None or () means the
    kernel size) and padding as n-tuples; ``first`` is kernel_size's argument position."""
    check_tensor(input, op)
    k = ntuple(kernel_size, n, op, "kernel_size", first)
    s = ntuple(stride, n, op, "stride", first + 1, allow_empty=True) if stride is not None else None
    return k, k if s is None else s, ntuple(padding, n, op, "padding", first + 2)
