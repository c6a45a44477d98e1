"""Helpers shared by the test modules: array builders, ferrum/torch converters, closeness checks.

Import them as ``from tests.helpers import ...`` (``tests`` is a package; pytest puts the repository
root on ``sys.path``). The ``torch`` fixture lives in ``tests/conftest.py``.

Modules keep their own random generator and default tolerances: ``array_maker(rng, ...)`` and
``closeness(rtol, atol)`` build the module's ``arr`` and ``close``.
"""

from __future__ import annotations

import numpy as np

import ferrum as F


# --------------------------------------------------------------------------- arrays
def array_maker(rng, ilow=-5, high=6, ulow=0):
    """``arr(shape, dtype=float64, seed=None)`` drawing from ``rng`` (or a fresh generator seeded
    with ``seed``): standard normal floats, integers in [ilow, high) ([ulow, high) unsigned), random
    bools."""

    def arr(shape, dtype=np.float64, seed=None):
        r = rng if seed is None else np.random.default_rng(seed)
        dt = np.dtype(dtype)
        if dt == np.bool_:
            return np.asarray(r.random(shape) > 0.5)
        if dt.kind in "iu":
            return np.asarray(r.integers(ulow if dt.kind == "u" else ilow, high, size=shape)).astype(dt)
        return np.asarray(r.standard_normal(shape)).astype(dt)

    return arr


# --------------------------------------------------------------------------- matrices
def spd(n, batch=(), seed=0):
    """A well-conditioned symmetric positive-definite matrix (batch); linear-algebra tests."""
    r = np.random.default_rng(seed)
    m = r.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def distinct_sym(n, batch=(), seed=0):
    """A symmetric matrix with well-separated eigenvalues."""
    r = np.random.default_rng(seed)
    q, _ = np.linalg.qr(r.standard_normal(batch + (n, n)))
    w = np.arange(1, n + 1, dtype=np.float64) * 1.5 - n / 2
    return (q * w) @ np.swapaxes(q, -1, -2)


# --------------------------------------------------------------------------- converters
def ft(a, rg=False):
    """A ferrum tensor sharing memory with the array ``a``; requires grad when ``rg``."""
    t = F.from_numpy(a)
    return t.requires_grad_(True) if rg else t


def ft_copy(a, rg=False):
    """A ferrum tensor holding a copy of ``a`` (an array, list or number)."""
    return ft(np.array(a), rg)


def tt(torch, a, rg=False):
    """A torch tensor holding a copy of ``a``; requires grad when ``rg``."""
    t = torch.from_numpy(np.array(a))
    return t.requires_grad_(True) if rg else t


def npv(t):
    """A ferrum tensor, torch tensor or array as a NumPy array (shares memory where it can)."""
    if isinstance(t, F.Tensor):
        return np.asarray(t.detach().numpy())
    if hasattr(t, "detach"):
        return t.detach().resolve_conj().numpy()
    return np.asarray(t)


def npv_copy(t):
    """The values of a ferrum or torch tensor as a new NumPy array."""
    return np.array(npv(t))


def leaf(a, dtype=np.float64):
    """A ferrum leaf requiring grad with the values of ``a``."""
    return F.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def tleaf(torch, a, dtype=np.float64):
    """A torch leaf requiring grad with the values of ``a``."""
    return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def ones(t):
    """Ones of the shape and dtype of the ferrum tensor ``t``."""
    return F.ones(t.shape, dtype=t.dtype)


# --------------------------------------------------------------------------- closeness
def assert_same(a, b, rtol, atol, dtype=True):
    """``a`` and ``b`` (ferrum/torch tensors or arrays) have the same shape, the same dtype (when
    ``dtype``) and close values (bools equal; complex compared as complex)."""
    x, y = npv(a), npv(b)
    assert x.shape == y.shape, (x.shape, y.shape)
    if dtype:
        assert x.dtype == y.dtype, (x.dtype, y.dtype)
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        np.testing.assert_array_equal(x, y)
    elif x.dtype.kind == "c" or y.dtype.kind == "c":
        np.testing.assert_allclose(x.astype(np.complex128), y.astype(np.complex128), rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(x.astype(np.float64), y.astype(np.float64), rtol=rtol, atol=atol)


def closeness(rtol, atol):
    """``close(a, b, rtol=rtol, atol=atol, dtype=True)``: ``assert_same`` with these defaults."""

    def close(a, b, rtol=rtol, atol=atol, dtype=True):
        assert_same(a, b, rtol, atol, dtype)

    return close


def values_closeness(rtol, atol):
    """``assert_close(a, b, rtol=rtol, atol=atol)``: NumPy's assert_allclose on the values of
    tensors (or arrays) ``a`` and ``b``."""

    def assert_close(a, b, rtol=rtol, atol=atol):
        np.testing.assert_allclose(a if isinstance(a, np.ndarray) else npv_copy(a),
                                   b if isinstance(b, np.ndarray) else npv_copy(b), rtol=rtol, atol=atol)

    return assert_close
