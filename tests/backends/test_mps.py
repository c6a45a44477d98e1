"""ferrum.backends.mps answers as torch without MPS; Tensor.is_xpu/is_mps are False as in torch."""

from __future__ import annotations

import pytest

import ferrum
import ferrum.backends.mps as mps


def test_queries_like_torch_without_mps(torch):
    if torch.backends.mps.is_built():
        pytest.skip("this torch has MPS")
    assert mps.is_available() is torch.backends.mps.is_available() is False
    assert mps.is_built() is False
    assert ferrum.backends.mps is mps


@pytest.mark.parametrize("f", [lambda m: m.is_macos_or_newer(13, 0), lambda m: m.is_macos13_or_newer()])
def test_macos_queries_raise_like_torch(torch, f):
    with pytest.raises(RuntimeError) as te:
        f(torch.backends.mps)
    with pytest.raises(RuntimeError) as fe:
        f(mps)
    assert str(fe.value) == str(te.value)


@pytest.mark.parametrize("prop", ["is_cuda", "is_xpu", "is_mps", "is_cpu"])
def test_tensor_device_properties(torch, prop):
    for dtype in ("float32", "int64"):
        assert getattr(ferrum.zeros(2, dtype=getattr(ferrum, dtype)), prop) == \
            getattr(torch.zeros(2, dtype=getattr(torch, dtype)), prop)


@pytest.mark.parametrize("prop", ["is_xpu", "is_mps"])
def test_tensor_device_properties_read_only(prop):
    with pytest.raises(AttributeError):
        setattr(ferrum.zeros(2), prop, True)
