"""ferrum.nn.attention: SDPBackend's members and values, sdpa_kernel's argument checks, state and restore,
and that SDPA under any selection computes what torch's does."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum.nn.attention import SDPBackend, _cur_sdpa_kernel_backends, sdpa_kernel


def _names(backends):
    return [b.name for b in backends]


def test_members_match_torch(torch):
    from torch.nn.attention import SDPBackend as TB
    assert list(SDPBackend.__members__) == list(TB.__members__)
    for name in TB.__members__:
        assert int(getattr(SDPBackend, name)) == int(getattr(TB, name))
        assert str(getattr(SDPBackend, name)) == str(getattr(TB, name))
    assert SDPBackend(1) is SDPBackend.FLASH_ATTENTION
    assert ferrum.nn.attention.WARN_FOR_UNFUSED_KERNELS is False


@pytest.mark.parametrize("arg", [(0,), "math", 1, None, ("MATH",)])
def test_bad_argument_raises_as_torch(torch, arg):
    from torch.nn.attention import sdpa_kernel as tk
    msgs = []
    for k in (tk, sdpa_kernel):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend") as e:
            with k(arg):
                pass
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("names", [[], ["MATH"], ["FLASH_ATTENTION", "MATH"], ["EFFICIENT_ATTENTION"],
                                   ["CUDNN_ATTENTION", "MATH", "MATH"], ["ERROR"], ["OVERRIDEABLE", "x"]])
@pytest.mark.parametrize("set_priority", [False, True])
def test_enabled_set_and_restore_match_torch(torch, names, set_priority):
    import torch.nn.attention as ta
    if set_priority and names == ["ERROR"]:
        pytest.skip("torch writes the priority of ERROR (-1) outside its table: undefined behaviour")
    before = _names(_cur_sdpa_kernel_backends())
    assert before == _names(ta._cur_sdpa_kernel_backends())
    targ = [getattr(ta.SDPBackend, n) if n != "x" else n for n in names]
    farg = [getattr(SDPBackend, n) if n != "x" else n for n in names]
    if set_priority and "x" in names:
        for k, arg in ((ta.sdpa_kernel, targ), (sdpa_kernel, farg)):
            with pytest.raises(ValueError):
                with k(arg, set_priority):
                    pass
        assert _names(_cur_sdpa_kernel_backends()) == before == _names(ta._cur_sdpa_kernel_backends())
        return
    with ta.sdpa_kernel(targ, set_priority) as tv, sdpa_kernel(farg, set_priority) as fv:
        assert fv == tv == {}
        assert _names(_cur_sdpa_kernel_backends()) == _names(ta._cur_sdpa_kernel_backends())
        assert (_names(_cur_sdpa_kernel_backends(with_priority=True))
                == _names(ta._cur_sdpa_kernel_backends(with_priority=True)))
    assert _names(_cur_sdpa_kernel_backends()) == before == _names(ta._cur_sdpa_kernel_backends())


def test_single_backend_decorator_and_restore_on_error():
    @sdpa_kernel(SDPBackend.MATH)
    def inside():
        return _names(_cur_sdpa_kernel_backends())

    assert inside() == ["MATH"]
    assert len(_cur_sdpa_kernel_backends()) == 5
    with pytest.raises(ValueError):
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            raise ValueError("x")
    assert len(_cur_sdpa_kernel_backends()) == 5


@pytest.mark.parametrize("names", [["MATH"], ["FLASH_ATTENTION"], ["FLASH_ATTENTION", "MATH"]])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa_under_selection_matches_torch(torch, names, dtype, is_causal):
    import torch.nn.attention as ta
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((2, 3, 5, 4)).astype(dtype) for _ in range(3)]
    tq = [torch.tensor(a, requires_grad=True) for a in arrs]
    fq = [ferrum.tensor(a, requires_grad=True) for a in arrs]
    with ta.sdpa_kernel([getattr(ta.SDPBackend, n) for n in names]):
        to = torch.nn.functional.scaled_dot_product_attention(*tq, is_causal=is_causal)
        to.sum().backward()
    with sdpa_kernel([getattr(SDPBackend, n) for n in names]):
        fo = F.scaled_dot_product_attention(*fq, is_causal=is_causal)
        fo.sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(fq, tq):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
