"""torch.cuda.amp / torch.cpu.amp deprecated spellings (cuda/amp.py, cpu/amp.py) and ferrum.cpu."""

from __future__ import annotations

import pytest

import ferrum


def test_aliases_warn_like_torch(torch):
    cases = (("cuda.amp.autocast", lambda L: L.cuda.amp.autocast(enabled=False)),
             ("cuda.amp.GradScaler", lambda L: L.cuda.amp.GradScaler(enabled=False)),
             ("cpu.amp.autocast", lambda L: L.cpu.amp.autocast(enabled=False)),
             ("cuda.amp.custom_fwd", lambda L: L.cuda.amp.custom_fwd(lambda ctx, x: x)),
             ("cuda.amp.custom_bwd", lambda L: L.cuda.amp.custom_bwd(lambda ctx, g: g)))
    for name, make in cases:
        msgs = []
        for lib in (torch, ferrum):
            with pytest.warns(FutureWarning) as rec:
                make(lib)
            msgs.append(str(rec[0].message))
        assert msgs[0] == msgs[1], name


def test_aliases_behave_as_amp():
    with pytest.warns(FutureWarning):
        scaler = ferrum.cuda.amp.GradScaler(init_scale=8.0, enabled=False)
    assert isinstance(scaler, ferrum.amp.GradScaler) and not scaler.is_enabled()
    with pytest.warns(FutureWarning):
        ctx = ferrum.cpu.amp.autocast(enabled=False)
    with ctx:
        assert (ferrum.ones(2, 2) @ ferrum.ones(2, 2)).dtype == ferrum.float32
    from ferrum.cuda.amp import autocast  # the import form older scripts use

    assert issubclass(autocast, ferrum.amp.autocast)


def test_cpu_device_module(torch):
    assert ferrum.cpu.is_available() is torch.cpu.is_available() is True
    assert ferrum.cpu.device_count() == torch.cpu.device_count() == 1
    ferrum.cpu.synchronize()
    assert ferrum.cpu.current_device() == torch.cpu.current_device()
