"""ferrum.compile: returns its argument unchanged, checks torch.compile's arguments as torch does."""

from __future__ import annotations

import pytest

import ferrum
import ferrum.nn as nn


def test_compile_is_identity(torch):
    lin = nn.Linear(2, 2)
    assert ferrum.compile(lin) is lin
    assert ferrum.compile(lin, fullgraph=True, dynamic=False, backend="eager", mode="max-autotune") is lin

    @ferrum.compile
    def f(x):
        return x + 1

    @ferrum.compile(mode="reduce-overhead")
    def g(x):
        return x * 2

    assert f(1) == 2 and g(3) == 6 and f.__name__ == "f"
    for kw in (dict(mode="fastest"), dict(mode="default", options={}), dict(backend="no_such_backend")):
        for lib in (ferrum, torch):
            with pytest.raises(RuntimeError):
                lib.compile(lambda x: x, **kw)
    for lib in (ferrum, torch):
        with pytest.raises(AssertionError):
            lib.compile(3)
