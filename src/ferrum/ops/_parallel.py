"""Splits large elementwise NumPy work over two threads (ufuncs release the GIL).

NumPy runs ufuncs on one core; PyTorch uses all of them. Above ``MIN_SIZE`` elements the halves of
a contiguous array are computed concurrently, into one preallocated output.
"""

from __future__ import annotations

import os

import numpy as np

from .. import _threads

MIN_SIZE = 1 << 18  # below this, thread hand-off costs more than it saves
# gelu, softmax and layer norm (several passes per call, each a hand-off when split) pay from
# 1M elements: at the gpt bench's sizes (131K-524K) splitting them made the quiet machine's step
# 5-8% slower (compare_commit.py, 2 runs each: 70.9/71.6 and 73.9/71.0 ms unsplit against 77.2/75.1
# and 77.9/76.4 split; lenet and mlp unchanged)
NORM_MIN_SIZE = 1 << 20
_pool = []


# A forked child (a DataLoader worker) inherits the executor object but not its thread: work submitted
# there would wait forever. The child starts with no executor and makes its own on first use.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.clear)


def _executor():
    if not _pool:
        from concurrent.futures import ThreadPoolExecutor
        _pool.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="ferrum-eltwise"))
    return _pool[0]


_enabled = (os.cpu_count() or 1) > 1


def halves(fn, n: int, size: int, min_size: int = MIN_SIZE) -> list:
    """``fn(lo, hi)`` over [0, n): two halves on two threads (the second on the executor) when the
    work is ``size >= min_size`` elements, more than one thread is allowed (``ferrum.set_num_threads``)
    and the machine has two cores; else one call. Returns the results, one or two."""
    if n < 2 or size < min_size or not _enabled or _threads._state["n"] == 1:
        return [fn(0, n)]
    h = n // 2
    fut = _executor().submit(fn, h, n)
    first = fn(0, h)
    return [first, fut.result()]


def unary(ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc(a)``, split over two threads when ``a`` is large and C-contiguous."""
    if not _enabled or a.size < MIN_SIZE or not a.flags.c_contiguous or a.__class__ is not np.ndarray:
        return ufunc(a)
    out = np.empty_like(a)
    fa = a.reshape(-1)
    fo = out.reshape(-1)
    h = fa.size // 2
    fut = _executor().submit(ufunc, fa[h:], out=fo[h:])
    ufunc(fa[:h], out=fo[:h])
    fut.result()
    return out


def binary(ufunc, a: np.ndarray, b) -> np.ndarray:
    """``ufunc(a, b)``, split over two threads when ``b`` is a scalar or an array of ``a``'s shape
    and dtype and both are large and C-contiguous."""
    if not _enabled or a.size < MIN_SIZE or a.__class__ is not np.ndarray or not a.flags.c_contiguous:
        return ufunc(a, b)
    if b.__class__ is np.ndarray:
        if b.shape != a.shape or b.dtype != a.dtype or not b.flags.c_contiguous:
            return ufunc(a, b)
        fb = b.reshape(-1)
    else:
        fb = None
        if np.result_type(a, b) != a.dtype:
            return ufunc(a, b)
    out = np.empty_like(a)
    fa = a.reshape(-1)
    fo = out.reshape(-1)
    h = fa.size // 2
    if fb is None:
        fut = _executor().submit(ufunc, fa[h:], b, out=fo[h:])
        ufunc(fa[:h], b, out=fo[:h])
    else:
        fut = _executor().submit(ufunc, fa[h:], fb[h:], out=fo[h:])
        ufunc(fa[:h], fb[:h], out=fo[:h])
    fut.result()
    return out
