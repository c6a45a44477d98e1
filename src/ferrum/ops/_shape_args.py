"""Argument parsing and PyTorch's argument errors for the shape ops (``view``, ``subview``,
``join``, ``rearrange``): ints and int sequences given the many ways PyTorch accepts them
(``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(Size)``, ``f(shape=...)``), shape inference for
a ``-1`` entry, and the TypeErrors PyTorch raises for a non-Tensor argument. Kept apart so that
every shape module parses arguments the same way and raises the same exception types.
"""

from __future__ import annotations

import builtins
import math
import operator

from .._tensor import Size, Tensor

_pyint = builtins.int
_index = operator.index
_I64 = 1 << 63  # PyTorch's int arguments are int64: larger Python ints fail to unpack


def _not_tensor(op: str, x, arg: str = "input", pos: int = 1) -> TypeError:
    return TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _check(x, op: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise _not_tensor(op, x, arg, pos)
    return x


def _data(x, op: str):
    try:
        return x._data
    except AttributeError:
        raise _not_tensor(op, x) from None


def _int(v, op: str, arg: str) -> int:
    """An int argument; TypeError for floats, bools and non-integers, ValueError (PyTorch's) for
    ints outside int64."""
    if v.__class__ is not _pyint:
        if isinstance(v, builtins.float) or isinstance(v, builtins.bool):
            raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(v).__name__}")
        try:
            v = _index(v)
        except TypeError:
            raise TypeError(f"{op}(): argument '{arg}' must be int, not {type(v).__name__}") from None
    if -_I64 <= v < _I64:
        return v
    raise ValueError(f"{op}(): argument '{arg}': Overflow when unpacking long long")


def _overflow(seq, op: str, arg: str) -> TypeError | None:
    """PyTorch's TypeError when an entry of int sequence ``seq`` does not fit int64, else None
    (checked only on error paths, so that valid shapes pay nothing)."""
    for i, n in enumerate(seq):
        if n.__class__ is _pyint and not -_I64 <= n < _I64:
            return TypeError(f"{op}(): argument '{arg}' failed to unpack the object at pos {i + 1} with "
                             "error \"Overflow when unpacking long long\"")
    return None


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


def _kw_arg(args: tuple, kw: dict, names: tuple, op: str) -> tuple:
    """The positional shape-like arguments, or the one given by keyword (``shape=``, ``dims=``)."""
    for k in kw:
        if k not in names:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'")
    if args or len(kw) > 1:
        raise TypeError(f"{op}() got multiple values for argument '{next(iter(kw))}'")
    return (next(iter(kw.values())),)
