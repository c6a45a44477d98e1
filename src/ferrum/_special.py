"""erf, erfc and erfinv on arrays.

NumPy has none of them. SciPy's (or CuPy's) ufuncs are used when installed; otherwise the
functions fall back to the C library's erf/erfc through ``math`` (exact to double precision,
elementwise in Python, so slower) and erfinv by Newton's method on erf.
"""

from __future__ import annotations

import math

import numpy as np

_impl: dict = {}


def _scipy():
    if "sp" not in _impl:
        try:
            import scipy.special as sp
        except ImportError:
            sp = None
        _impl["sp"] = sp
    return _impl["sp"]


def _cupy_special():
    if "cp" not in _impl:
        import cupyx.scipy.special as cs
        _impl["cp"] = cs
    return _impl["cp"]


_erf_py = np.frompyfunc(math.erf, 1, 1)
_erfc_py = np.frompyfunc(math.erfc, 1, 1)


def _apply(name, x, fallback):
    if not isinstance(x, np.ndarray):
        return getattr(_cupy_special(), name)(x)
    sp = _scipy()
    if sp is not None:
        return getattr(sp, name)(x)
    return fallback(x)


def _via_python(f, x):
    return f(x.astype(np.float64)).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def erf(x):
    return _apply("erf", x, lambda a: _via_python(_erf_py, a))


def erfc(x):
    return _apply("erfc", x, lambda a: _via_python(_erfc_py, a))


def _erfinv_fallback(y):
    y64 = y.astype(np.float64)
    # start from the inverse normal CDF, then polish with Newton steps on erf
    from statistics import NormalDist
    nd = NormalDist()
    inv = np.frompyfunc(lambda v: nd.inv_cdf((v + 1.0) / 2.0) / math.sqrt(2.0)
                        if -1.0 < v < 1.0 else (math.copysign(math.inf, v) if abs(v) == 1.0 else math.nan),
                        1, 1)
    x = inv(y64).astype(np.float64)
    finite = np.isfinite(x)
    for _ in range(2):
        err = _erf_py(x[finite]).astype(np.float64) - y64[finite]
        x[finite] -= err / (2.0 / math.sqrt(math.pi) * np.exp(-x[finite] ** 2))
    return x.astype(y.dtype if y.dtype.kind == "f" else np.float64)


def erfinv(x):
    return _apply("erfinv", x, _erfinv_fallback)
