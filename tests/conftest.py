"""Shared fixtures.

- ``torch``: the oracle for parity tests; skips the test cleanly where torch is not installed.
- every test starts with ferrum's and NumPy's global generators seeded with ``SEED``.
- every test must leave ferrum's grad mode as it found it (on, not in inference mode).
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

SEED = 0


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for parity checks; the test is skipped where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seed_rngs():
    """Seeds ferrum's and NumPy's global generators before each test; returns the seed."""
    ferrum.manual_seed(SEED)
    np.random.seed(SEED)
    return SEED


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """Fails a test that leaves grad mode off (or inference mode on), and repairs the state."""
    yield
    from ferrum import _state

    leaked = []
    if not ferrum.is_grad_enabled():
        leaked.append("grad mode is off (is_grad_enabled() is False)")
    if ferrum.is_inference_mode_enabled():
        leaked.append("inference mode is on")
    if leaked:
        _state.grad_enabled, _state.inference = True, False
        pytest.fail("the test leaked global autograd state: " + "; ".join(leaked), pytrace=False)
