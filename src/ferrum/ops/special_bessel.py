"""torch.special's functions that PyTorch does not differentiate: the Bessel functions J0, J1, Y0,
Y1, the modified K0, K1 (and exponentially scaled), I0, I1 under their ``modified_bessel_*``
names, the spherical j0, Airy's Ai, and the classical orthogonal polynomials (Chebyshev T/U/V/W and
their shifted forms, Hermite H and He, Laguerre L, Legendre P).

PyTorch records no gradient for any of them (the result never requires grad), and neither does
ferrum. Float16/bfloat16 and complex inputs raise NotImplementedError as PyTorch's CPU kernels do;
integers and bool give the default float dtype.

The Bessel and Airy values are SciPy's (Cephes, double precision). PyTorch's own kernels are less
accurate in places: its float64 J0/J1/Y0/Y1 differ from SciPy's by up to ~2e-8 relative near their
zeros and its Airy Ai by up to ~1e-6 absolute on (-3, -2); SciPy's values are the correct ones
(checked against mpmath), and the tests compare with a tolerance that says so.

The polynomials P_n(x) follow PyTorch's definition exactly: ``n`` (a tensor or a number) is
truncated to an integer (nan, +-inf and values outside int64 count as negative: the result is 0, as
PyTorch's x86 build gives); the special values at x = +-1 (0 and 1 for the shifted forms) are
exact integers; the Chebyshev forms use the trigonometric closed form inside (-1, 1) for large n;
everywhere else the three-term recurrence runs in the input's dtype (so float32 overflows where
PyTorch's float32 kernel does), stopping at nan as PyTorch's does (at x = nan the result is nan;
PyTorch's U, V, W, Laguerre, Legendre and shifted kernels return an uninitialised value there, so
no test depends on it). Hermite polynomials of degree above 128 (float32) or 512 (float64) are
nan, as in PyTorch. The recurrence is vectorised over the
elements still running; a degree above 2**20 that would need it is refused with a RuntimeError
rather than running for minutes (PyTorch loops that many steps per element).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ._common import _write_out, xp_of
from ._promote import _coerce_pair, _shape_error
from .special_fn import _apply, _check_tensor, _float_array, _kernel_error, _sc

__all__ = []

_MAX_STEPS = 1 << 20


# --------------------------------------------------------------------------- Bessel and Airy
def _nondiff_unary(name: str, fwd):
    kernel = f"{name}_cpu"

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(input, f"special_{name}")
        if out is not None:
            return _write_out(out, op(input))
        d, dt = _float_array(input, kernel, half=False)
        return _wrap(_apply(fwd, d, dt))

    op.__name__ = op.__qualname__ = name
    return op


def _np_i0(d):
    r = _sc(d).i0(d)
    if d.dtype == np.float32:  # PyTorch's float32 exp(|x|) overflows past 88.72
        with np.errstate(over="ignore"):
            r = np.where(np.isinf(np.exp(np.abs(d))) & np.isfinite(r), np.inf, r)
    return r


def _np_i1(d):
    r = _sc(d).i1(d)
    if d.dtype == np.float32:
        with np.errstate(over="ignore"):
            r = np.where(np.isinf(np.exp(np.abs(d))) & np.isfinite(r), np.copysign(np.inf, d), r)
    return r


def _np_spherical_j0(d):
    return _sc(d).spherical_jn(0, d)


def _np_airy_ai(d):
    return _sc(d).airy(d)[0]


bessel_j0 = _nondiff_unary("bessel_j0", lambda d: _sc(d).j0(d))
bessel_j1 = _nondiff_unary("bessel_j1", lambda d: _sc(d).j1(d))
bessel_y0 = _nondiff_unary("bessel_y0", lambda d: _sc(d).y0(d))
bessel_y1 = _nondiff_unary("bessel_y1", lambda d: _sc(d).y1(d))
modified_bessel_i0 = _nondiff_unary("modified_bessel_i0", _np_i0)
modified_bessel_i1 = _nondiff_unary("modified_bessel_i1", _np_i1)
modified_bessel_k0 = _nondiff_unary("modified_bessel_k0", lambda d: _sc(d).k0(d))
modified_bessel_k1 = _nondiff_unary("modified_bessel_k1", lambda d: _sc(d).k1(d))
scaled_modified_bessel_k0 = _nondiff_unary("scaled_modified_bessel_k0", lambda d: _sc(d).k0e(d))
scaled_modified_bessel_k1 = _nondiff_unary("scaled_modified_bessel_k1", lambda d: _sc(d).k1e(d))
spherical_bessel_j0 = _nondiff_unary("spherical_bessel_j0", _np_spherical_j0)
airy_ai = _nondiff_unary("airy_ai", _np_airy_ai)


# --------------------------------------------------------------------------- orthogonal polynomials
def _degree(n) -> np.ndarray:
    """PyTorch's truncation of the degree to int64; nan, inf and out-of-range give -1 (result 0)."""
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0)), -1).astype(np.int64)


def _recurrence(x, n, first, step, start_k: int):
    """Runs q_k = step(x, q_{k-1}, q_{k-2}, k) from (q_{start_k - 2}, q_{start_k - 1}) = (1, first)
    up to k = n per element; returns the last q (elements with n < start_k keep ``first``).

    nan is absorbing in every recurrence here, so running an element past the step where PyTorch's
    loop stops at nan gives the same nan. The elements are sorted by degree and the finished ones
    dropped at each distinct degree, so a step is three NumPy operations on the running elements
    (measured: Legendre of degree 10**6 at three points, 4.5 s, 4.5 us a step, against 11 s when
    every step re-selected the running elements by mask; PyTorch's scalar loop takes 25 ms)."""
    top = int(n.max()) if n.size else 0
    if top - start_k > _MAX_STEPS:
        raise RuntimeError(f"polynomial degree {top} is too large (more than {_MAX_STEPS} recurrence steps)")
    xp = xp_of(x)
    order = xp.argsort(n, kind="stable")
    xs, ns, q = x[order], n[order], first[order]
    res = q.copy()
    done = int(xp.searchsorted(ns, start_k))  # these keep `first`
    xs, ns, q = xs[done:], ns[done:], q[done:]
    p = xp.ones_like(q)
    k = start_k
    while xs.size:
        stop = int(ns[0])
        while k <= stop:
            end = min(stop, k + 255)
            for j in range(k, end + 1):
                p, q = q, step(xs, q, p, j)
            k = end + 1
            if xp.isnan(q).all():  # every running element is nan from here on
                k = top + 1
                stop = top
                break
        m = int(xp.searchsorted(ns, stop, side="right"))
        res[done:done + m] = q[:m]
        done += m
        xs, ns, p, q = xs[m:], ns[m:], p[m:], q[m:]
    out = xp.empty_like(res)
    out[order] = res
    return out


def _poly(name: str, special, trig, first, step, start_k: int = 2, mapped=False):
    """Builds ``name(input, n, *, out=None)``: ``special(x, n)`` gives (mask, value) pairs checked in
    order after n < 0; ``trig(y, n)`` the closed form (or None) as (mask, value); then n == 0 gives
    1, n == 1 gives ``first(x)``, and the recurrence ``step`` the rest."""
    kernel = f"{name}_cpu"
    op_name = f"special_{name}"

    def op(input, n, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return _write_out(out, op(input, n))
        x, nt = _coerce_pair(input, n, op_name, True)
        xd, nd = x._data, nt._data
        if xd.dtype.kind == "c" or xd.dtype.itemsize < 4:
            raise _kernel_error(kernel, xd)
        try:
            xd, nd = np.broadcast_arrays(xd, nd)
        except ValueError:
            raise _shape_error(op_name, x._data, nt._data) from None
        dt = xd.dtype
        xs = xd.ravel()  # only read: results go to res
        ns = _degree(nd.ravel())
        xp = xp_of(xs)
        res = xp.zeros(xs.shape, dt)
        todo = ns >= 0
        with np.errstate(all="ignore"):
            for mask, val in special(xs, ns):
                m = todo & mask
                res[m] = xp.broadcast_to(xp.asarray(val, dt), xs.shape)[m]
                todo &= ~mask
            for mask, val in trig(xs, ns):
                m = todo & mask
                res[m] = xp.broadcast_to(xp.asarray(val, dt), xs.shape)[m]
                todo &= ~mask
            m = todo & (ns == 0)
            res[m] = 1
            todo &= ~m
            f = xp.broadcast_to(xp.asarray(first(xs), dt), xs.shape)
            m = todo & (ns == 1)
            res[m] = f[m]
            todo &= ~m
            if todo.any():
                res[todo] = _recurrence(xs[todo], ns[todo], f[todo], step, start_k)
        return _wrap(res.reshape(xd.shape))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name.replace('_', ' ')} of degree ``n`` at ``input``, elementwise (broadcast)."
    return op


def _alt(n, even, odd):
    return np.where(n % 2 == 0, even, odd)


def _nf(x, n):
    return n.astype(x.dtype)


def _acos_form(kind: str, thr: int, shift: bool):
    def trig(x, n):
        y = x + x - 1 if shift else x
        m = (n > thr) & (np.abs(y) < 1)
        t = np.arccos(y)
        nf = _nf(x, n)
        if kind == "t":
            return [(m, np.cos(nf * t))]
        if kind == "u":
            s = np.sin(t)
            return [(m & (s != 0), np.sin((nf + 1) * t) / s), (m, (nf + 1) * np.cos((nf + 1) * t) / y)]
        h = t / 2
        if kind == "v":
            return [(m & (np.sin(h) != 1), np.cos((nf + 0.5) * t) / np.cos(h)),
                    (m, _alt(n, nf + nf + 1, -(nf + nf + 1)))]
        w_edge = np.where(x > 0, nf + nf + 1, _alt(n, 1.0, -1.0)) if not shift else _alt(n, 1.0, -1.0)
        return [(m & (np.cos(h) != 1), np.sin((nf + 0.5) * t) / np.sin(h)), (m, w_edge)]
    return trig


def _cheb(kind: str, shift: bool):
    thr = {"t": 6, "u": 8, "v": 8, "w": 8}[kind] if not shift else {"t": 6, "u": 6, "v": 6, "w": 4}[kind]

    def special(x, n):
        nf = _nf(x, n)
        one, m1 = (x == 1, x == 0) if shift else ((np.abs(x) == 1) & (x > 0), (np.abs(x) == 1) & ~(x > 0))
        at_one = {"t": 1.0, "u": nf + 1, "v": 1.0, "w": nf + nf + 1}[kind]
        at_m1 = {"t": _alt(n, 1.0, -1.0), "u": _alt(n, nf + 1, -(nf + 1)),
                 "v": _alt(n, nf + nf + 1, -(nf + nf + 1)), "w": _alt(n, 1.0, -1.0)}[kind]
        return [(one, at_one), (m1, at_m1)]

    def first(x):
        y = x + x - 1 if shift else x
        return {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]

    def step(xs, q, p, k):
        y = xs + xs - 1 if shift else xs
        return (y + y) * q - p

    name = f"{'shifted_' if shift else ''}chebyshev_polynomial_{kind}"
    return _poly(name, special, _acos_form(kind, thr, shift), first, step)


chebyshev_polynomial_t = _cheb("t", False)
chebyshev_polynomial_u = _cheb("u", False)
chebyshev_polynomial_v = _cheb("v", False)
chebyshev_polynomial_w = _cheb("w", False)
shifted_chebyshev_polynomial_t = _cheb("t", True)
shifted_chebyshev_polynomial_u = _cheb("u", True)
shifted_chebyshev_polynomial_v = _cheb("v", True)
shifted_chebyshev_polynomial_w = _cheb("w", True)


def _hermite_special(x, n):
    limit = 128 if x.dtype == np.float32 else 512
    return [(n > limit, np.nan)]


def _none(x, n):
    return []


hermite_polynomial_h = _poly("hermite_polynomial_h", _hermite_special, _none, lambda x: x + x,
                             lambda xs, q, p, k: (xs + xs) * q - (2 * (k - 1)) * p)
hermite_polynomial_he = _poly("hermite_polynomial_he", _hermite_special, _none, lambda x: x,
                              lambda xs, q, p, k: xs * q - (k - 1) * p)
laguerre_polynomial_l = _poly("laguerre_polynomial_l", lambda x, n: [(x == 0, 1.0)], _none, lambda x: 1 - x,
                              lambda xs, q, p, k: ((2 * (k - 1) + (1 - xs)) * q - (k - 1) * p) / k)
legendre_polynomial_p = _poly(
    "legendre_polynomial_p",
    lambda x, n: [((np.abs(x) == 1) & ((x > 0) | (n % 2 == 0)), 1.0), (np.abs(x) == 1, -1.0)],
    _none, lambda x: x, lambda xs, q, p, k: ((2 * (k - 1) + 1) * xs * q - (k - 1) * p) / k)
