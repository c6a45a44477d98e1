"""Helpers both file formats share: opening paths or file objects, and checked strided views.

Every view a loader builds from numbers in a file goes through ``strided_view``, which proves the
view stays inside its storage before ``as_strided`` is called: ``as_strided`` itself trusts its
arguments, so one bad stride in a hostile file would otherwise read outside the buffer.
"""

from __future__ import annotations

import os
import reprlib

import numpy as np

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40


def short(x) -> str:
    """A bounded repr of a value from a file: a plain repr of a pickle's shared nested lists can be
    exponentially long (or recursive)."""
    return _REPR.repr(x)


def is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def strided_view(arr: np.ndarray, offset, shape, stride, what: str = "tensor") -> np.ndarray:
    """``arr`` (1-D storage) viewed at element ``offset`` with ``shape`` and element ``stride``.

    Raises RuntimeError, as torch does for a size/stride that does not fit its storage."""
    if not is_int(offset) or offset < 0:
        raise RuntimeError(f"ferrum.load: {what} has a bad storage offset {short(offset)}")
    if (not isinstance(shape, (list, tuple)) or not isinstance(stride, (list, tuple))
            or len(shape) != len(stride)):
        raise RuntimeError(f"ferrum.load: {what} has a bad size/stride {short(shape)} / {short(stride)}")
    if len(shape) > 64:
        raise RuntimeError(f"ferrum.load: {what} has {len(shape)} dimensions (at most 64)")
    if not all(is_int(s) and s >= 0 for s in shape) or not all(is_int(s) and s >= 0 for s in stride):
        raise RuntimeError(f"ferrum.load: {what} has a negative or non-integer size/stride "
                           f"{short(shape)} / {short(stride)}")
    shape, stride, offset = tuple(int(s) for s in shape), tuple(int(s) for s in stride), int(offset)
    n = arr.shape[0]
    numel = 1
    for s in shape:
        numel *= s
    if numel:
        last = offset + sum((s - 1) * st for s, st in zip(shape, stride))
        if last >= n:
            raise RuntimeError(f"ferrum.load: {what} of size {list(shape)}, stride {list(stride)} and offset "
                               f"{offset} is out of bounds for a storage of {n} elements")
        # a view whose every stride is 0 past the storage still cannot be larger than numpy allows
        if numel >= 2 ** 62:
            raise RuntimeError(f"ferrum.load: {what} of size {list(shape)} is too large")
    elif offset > n:
        raise RuntimeError(f"ferrum.load: {what} has storage offset {offset} past a storage of {n} elements")
    isz = arr.itemsize
    base = arr[offset:] if numel else arr[:0]
    return np.lib.stride_tricks.as_strided(base, shape=shape, strides=tuple(s * isz for s in stride),
                                           writeable=arr.flags.writeable)


def contiguous_strides(shape) -> tuple:
    """C-contiguous strides of ``shape`` in elements (a 0-size dimension counts as 1, as torch's)."""
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(out))
