"""Level-1 BLAS (``axpy``, ``scal``) of the OpenBLAS that NumPy itself links, called through ctypes.

Why: an optimizer step is a few elementwise passes over every parameter. NumPy runs each ufunc on
one core and has no fused multiply-add, so ``p -= lr * buf`` costs two passes (and a temporary)
and rounds twice. OpenBLAS's ``axpy`` (``y += alpha * x``) is one pass, runs on NumPy's BLAS
thread pool (``ferrum.set_num_threads``; OpenBLAS threads it above 10,000 elements) and rounds
once, as PyTorch's ``add_(x, alpha=...)`` does (its CPU kernel is a vectorised fmadd): SGD through
these calls gives PyTorch's bits exactly (``benchmarks/mlp_parts.py --bits``: float32 and float64,
sizes 1 to 401,411, torch 2.13, OpenBLAS's SkylakeX kernels: 72/72 cases each, against 44/72 for
the ufuncs, which round ``lr * x`` before subtracting; 20 SGD steps in each of the 7 flag
combinations of the parity tests: torch's bits in 7/7, against 0/7 with the ufunc kernel).
Tests only ask for agreement to rounding (tests/optim/test_sgd.py): the fused multiply-add is the
CPU kernel's choice, not a promise.

Only NumPy's own OpenBLAS is used (the ``scipy_openblas64_`` library of NumPy >= 2 wheels, ILP64):
one thread pool for GEMMs and optimizer, no second library's spinning workers. When it is not
found (another BLAS, a NumPy built from source) ``available`` is False and callers keep their
NumPy code. ``FERRUM_BLAS_L1=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

__all__ = ["available", "axpy", "scal", "usable"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_fns: dict = {}
_path = None


def _load() -> bool:
    if os.environ.get("FERRUM_BLAS_L1", "1") == "0":
        return False
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    try:
        names = sorted(n for n in os.listdir(libdir) if n.startswith("libscipy_openblas64_") and ".so" in n)
    except OSError:
        return False
    for name in names:
        path = os.path.join(libdir, name)
        try:
            lib = ctypes.CDLL(path)
            fns = {}
            for dt, c, real in ((_F32, "s", ctypes.c_float), (_F64, "d", ctypes.c_double)):
                ax = getattr(lib, f"scipy_cblas_{c}axpy64_")
                ax.argtypes = (ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                               ctypes.c_int64)
                ax.restype = None
                sc = getattr(lib, f"scipy_cblas_{c}scal64_")
                sc.argtypes = (ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64)
                sc.restype = None
                fns[dt] = (ax, sc)
        except (OSError, AttributeError):
            continue
        global _path
        _fns.update(fns)
        _path = path
        return True
    return False


available = _load()


def usable(*arrays) -> bool:
    """True when every array is a C-contiguous NumPy float32/float64 array of one dtype, so that
    :func:`axpy`/:func:`scal` may treat them as flat vectors."""
    if not available:
        return False
    dt = arrays[0].dtype
    if dt is not _F32 and dt is not _F64:
        return False
    for a in arrays:
        if a.__class__ is not np.ndarray or a.dtype is not dt or not a.flags.c_contiguous:
            return False
    return True


def axpy(alpha: float, x: np.ndarray, y: np.ndarray, yp: int | None = None) -> None:
    """``y += alpha * x`` in place, one rounding per element (arrays checked by :func:`usable`, of
    one size). ``yp``: ``y``'s data address when the caller has it cached."""
    _fns[y.dtype][0](y.size, alpha, x.ctypes.data, 1, y.ctypes.data if yp is None else yp, 1)


def scal(alpha: float, x: np.ndarray, xp: int | None = None) -> None:
    """``x *= alpha`` in place (as NumPy's multiply: one rounding; 0 * nan stays nan)."""
    _fns[x.dtype][1](x.size, alpha, x.ctypes.data if xp is None else xp, 1)
