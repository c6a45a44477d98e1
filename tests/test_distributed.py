"""ferrum.distributed: torch's behaviour in a build without distributed support."""

from __future__ import annotations

import pytest

import ferrum


def test_importable_and_unavailable():
    import ferrum.distributed as dist

    assert dist.is_available() is False and dist.is_initialized() is False
    assert ferrum.distributed is dist
    with pytest.raises(RuntimeError, match="not available"):
        dist.init_process_group("gloo", rank=0, world_size=1)


def test_one_process_program_guarded_by_is_available():
    import ferrum.distributed as dist

    model = ferrum.nn.Linear(2, 2)
    if dist.is_available() and dist.is_initialized():  # the usual guard in training scripts
        pytest.fail("no process group can be initialised")
    assert tuple(model(ferrum.ones(1, 2)).shape) == (1, 2)
