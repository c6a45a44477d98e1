"""The window functions (ops/windows.py) against torch: every window, length 0..40, periodic and
symmetric, float64/float16/bfloat16 bit for bit, float32 within an ulp, kaiser's beta, hamming's
alpha/beta; dtype/device/requires_grad; torch's exception types."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

WINDOWS = ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")


@pytest.mark.parametrize("dtype", ("float32", "float64", "float16", "bfloat16"))
@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_torch(torch, name, dtype):
    # NumPy's float32 cos and float64 i0 differ from torch's in the last bit
    exact = dtype in ("float16", "bfloat16") or (dtype == "float64" and name != "kaiser_window")
    for n in range(0, 41):
        for periodic in (True, False):
            t = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype)).double().numpy()
            f = getattr(ferrum, name)(n, periodic, dtype=getattr(ferrum, dtype))
            assert str(f.dtype) == f"ferrum.{dtype}"
            f = f.double().numpy()
            assert f.shape == t.shape
            if exact:
                np.testing.assert_array_equal(f, t, err_msg=f"{name}({n}, {periodic})")
            else:
                np.testing.assert_allclose(f, t, rtol=0, atol=1e-6, err_msg=f"{name}({n}, {periodic})")


def test_window_parameters_match_torch(torch):
    for args in ((7, False, 0.6, 0.3), (8, True, 0.5, 0.25)):
        np.testing.assert_array_equal(ferrum.hamming_window(*args, dtype=ferrum.float64).numpy(),
                                      torch.hamming_window(*args, dtype=torch.float64).numpy())
    for args in ((9, True, 3.0), (6, False, 0.5)):
        np.testing.assert_allclose(ferrum.kaiser_window(*args, dtype=ferrum.float64).numpy(),
                                   torch.kaiser_window(*args, dtype=torch.float64).numpy(), rtol=1e-13)


def test_default_dtype_and_requires_grad():
    w = ferrum.hann_window(5, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == ferrum.float32
    prev = ferrum.get_default_dtype()
    ferrum.set_default_dtype(ferrum.float64)
    try:
        assert ferrum.blackman_window(4).dtype == ferrum.float64
    finally:
        ferrum.set_default_dtype(prev)


@pytest.mark.parametrize("name", WINDOWS)
def test_errors_match_torch(torch, name):
    for bad in (lambda T: getattr(T, name)(-1), lambda T: getattr(T, name)(4, dtype=T.int64),
                lambda T: getattr(T, name)(4.0), lambda T: getattr(T, name)(4, dtype=T.complex64)):
        errs = []
        for T in (torch, ferrum):
            try:
                bad(T)
                errs.append(None)
            except Exception as e:  # noqa: BLE001 - the type is compared
                errs.append(e)
        assert errs[0] is not None and errs[1] is not None, errs
        assert isinstance(errs[1], type(errs[0])), errs
