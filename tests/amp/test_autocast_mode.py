"""autocast: torch's interface; enabled regions warn once and run in full precision (documented)."""

from __future__ import annotations

import warnings

import pytest

import ferrum
from ferrum.amp import autocast_mode


def test_disabled_region_is_torchs_no_op(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ferrum.autocast("cpu", enabled=False):
            y = ferrum.ones(2, 2) @ ferrum.ones(2, 2)
    assert y.dtype == ferrum.float32 and not ferrum.is_autocast_enabled()
    assert ferrum.get_autocast_dtype("cpu") == ferrum.bfloat16 and str(torch.get_autocast_dtype("cpu")) == \
        "torch.bfloat16"
    assert ferrum.get_autocast_dtype("cuda") == ferrum.float16


def test_enabled_region_warns_once_and_runs_in_full_precision(monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned", set())
    with pytest.warns(UserWarning, match="not implemented"):
        with ferrum.amp.autocast("cpu"):
            y = ferrum.nn.functional.linear(ferrum.ones(1, 3), ferrum.ones(2, 3))
    assert y.dtype == ferrum.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ferrum.autocast("cpu", dtype=ferrum.bfloat16):
            pass


def test_decorator_and_bad_device():
    @ferrum.autocast("cpu", enabled=False)
    def f(x):
        return x * 2

    assert f(ferrum.ones(1)).item() == 2.0
    with pytest.raises(ValueError):
        ferrum.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ferrum.autocast("gpu")
