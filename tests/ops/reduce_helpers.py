"""A parity check shared by the tests of the reduction family (test_reduce, test_minmax, test_scan,
test_sort, test_reduce_common): run the same expression with ``T`` bound to torch and to ferrum."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


def _plain(r):
    """A comparable form of a result: nested tuples of (dtype name, shape, float64/complex values)."""
    if isinstance(r, tuple):
        return tuple(_plain(x) for x in r)
    dt = str(r.dtype).split(".")[-1]
    r = r.detach()
    if isinstance(r, ferrum.Tensor):
        v = r.to(ferrum.complex128 if r.is_complex() else ferrum.float64).numpy()
    else:
        import torch
        v = r.to(torch.complex128 if r.is_complex() else torch.float64).numpy()
    return dt, tuple(r.shape), np.asarray(v)


def _same(a, b, rtol: float) -> None:
    if isinstance(a, tuple) and a and isinstance(a[0], tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rtol)
        return
    assert a[:2] == b[:2], f"torch {a[:2]} vs ferrum {b[:2]}"
    np.testing.assert_allclose(b[2], a[2], rtol=rtol, atol=rtol, equal_nan=True)


def parity(torch, fn, rtol: float = 1e-6):
    """``fn(T)`` gives the same exception type, or the same dtypes, shapes and values, under torch
    and ferrum; returns ferrum's result."""
    try:
        want = fn(torch)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(type(e)) as info:
            fn(ferrum)
        got = type(info.value)
        assert got is type(e), f"torch raised {type(e).__name__}, ferrum {got.__name__}"
        return None
    got = fn(ferrum)
    _same(_plain(want), _plain(got), rtol)
    return got
