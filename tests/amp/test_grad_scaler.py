"""GradScaler against torch.amp.GradScaler("cpu"): scales, skipped steps, growth/backoff, state."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


def _run(lib, scaler_kw, losses_inf, enabled=True):
    lib.manual_seed(0)
    w = lib.nn.Parameter(lib.tensor([[0.5, -0.25], [1.0, 2.0]]))
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", enabled=enabled, **scaler_kw)
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]])
    trace = []
    for bad in losses_inf:
        opt.zero_grad()
        loss = (x @ w).pow(2).sum()
        if bad:
            loss = loss * float("inf")
        scaled = scaler.scale(loss)
        scaled.backward()
        scaler.unscale_(opt)
        gn = float(w.grad.abs().max())
        scaler.step(opt)
        scaler.update()
        trace.append((scaled.item(), gn, scaler.get_scale(), w.detach().numpy().copy()))
    return trace, scaler.state_dict()


@pytest.mark.parametrize("pattern", [(False,) * 5, (False, True, False, False, True, False)])
@pytest.mark.parametrize("enabled", [True, False])
def test_matches_torch(torch, pattern, enabled):
    kw = {"init_scale": 1024.0, "growth_interval": 2}
    ft, fs = _run(ferrum, kw, pattern, enabled)
    tt, ts = _run(torch, kw, pattern, enabled)
    for (fsc, fg, fscale, fw), (tsc, tg, tscale, tw) in zip(ft, tt):
        assert fscale == tscale
        if np.isfinite(tsc):
            np.testing.assert_allclose(fsc, tsc, rtol=1e-6)
            np.testing.assert_allclose(fg, tg, rtol=1e-6)
        np.testing.assert_allclose(fw, tw, rtol=1e-6)
    assert fs == ts


def test_cuda_scaler_without_gpu_disables_with_torchs_warning():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        s = ferrum.amp.GradScaler()
    assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
    t = ferrum.ones(2)
    assert s.scale(t) is t


def test_misuse_raises_as_torch():
    s = ferrum.amp.GradScaler("cpu")
    w = ferrum.nn.Parameter(ferrum.ones(2))
    opt = ferrum.optim.SGD([w], lr=0.1)
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    s.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        s.update()


def test_state_dict_round_trip():
    a = ferrum.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
    b = ferrum.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict() and b.get_scale() == 8.0
