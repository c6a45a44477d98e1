"""Process-wide switches (src/ferrum/_settings.py) and ferrum.version, against torch's behaviour."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import _settings


@pytest.fixture(autouse=True)
def _restore():
    saved = dict(_settings._state)
    yield
    _settings._state.update(saved)


def test_deterministic_algorithms_round_trip(torch):
    assert ferrum.are_deterministic_algorithms_enabled() is False
    ferrum.use_deterministic_algorithms(True, warn_only=True)
    assert (
        ferrum.are_deterministic_algorithms_enabled()
        and ferrum.is_deterministic_algorithms_warn_only_enabled()
    )
    assert ferrum.get_deterministic_debug_mode() == 1
    ferrum.set_deterministic_debug_mode("error")
    assert (
        ferrum.get_deterministic_debug_mode() == 2
        and not ferrum.is_deterministic_algorithms_warn_only_enabled()
    )
    ferrum.set_deterministic_debug_mode(0)
    assert not ferrum.are_deterministic_algorithms_enabled()
    for lib in (torch, ferrum):
        with pytest.raises(TypeError):
            lib.use_deterministic_algorithms("yes")
        with pytest.raises(RuntimeError):
            lib.set_deterministic_debug_mode("loud")
    # ops still run (ferrum's are deterministic): a conv twice gives the same bits
    ferrum.use_deterministic_algorithms(True)
    x, w = ferrum.randn(2, 3, 8, 8), ferrum.randn(4, 3, 3, 3)
    assert ferrum.equal(ferrum.conv2d(x, w), ferrum.conv2d(x, w))


def test_float32_matmul_precision(torch):
    assert ferrum.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    ferrum.set_float32_matmul_precision("high")
    assert ferrum.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning, match="has no effect"):
        ferrum.set_float32_matmul_precision("fastest")
    assert ferrum.get_float32_matmul_precision() == "high"
    with pytest.raises(RuntimeError):
        ferrum.set_float32_matmul_precision(1)


def test_version_fields(torch):
    assert ferrum.version.cuda is None and ferrum.version.hip is None and ferrum.version.debug is False
    assert ferrum.version.__version__ == ferrum.__version__
    assert {n for n in dir(torch.version) if not n.startswith("_") and n != "Optional"} <= set(
        dir(ferrum.version)
    )
