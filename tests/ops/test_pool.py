"""ops/pool.py, the face: every pooling function of torch.nn.functional is in ferrum's, with the
same parameter names and defaults where torch's signature can be read."""

import inspect

import pytest

import ferrum.nn.functional as F
from ferrum.ops import pool

NAMES = sorted(pool.__all__)


def test_face_reexports_both_families(torch):
    want = {n for n in dir(torch.nn.functional)
            if "pool" in n and not n.startswith("_") and "fractional" not in n}
    assert want == set(NAMES)
    for n in NAMES:
        assert getattr(F, n) is getattr(pool, n)


@pytest.mark.parametrize("name", NAMES)
def test_signatures_match_torch(torch, name):
    try:
        want = inspect.signature(getattr(torch.nn.functional, name))
    except ValueError:  # a builtin: parse the first line of its docstring
        doc = getattr(torch.nn.functional, name).__doc__.strip().splitlines()[0]
        params = [p.strip() for p in doc[doc.index("(") + 1:doc.rindex(")")].split(",")]
        have = [f"{p.name}={p.default!r}" if p.default is not inspect.Parameter.empty else p.name
                for p in inspect.signature(getattr(F, name)).parameters.values()]
        assert [p.split("=")[0] for p in params] == [h.split("=")[0] for h in have]
        return
    if list(want.parameters) == ["args", "kwargs"]:  # a boolean-dispatch wrapper: read what it wraps
        want = inspect.signature(getattr(torch.nn.functional, "_" + name))
    have = inspect.signature(getattr(F, name))
    assert list(have.parameters) == list(want.parameters)
    for p in want.parameters.values():
        if p.default is not inspect.Parameter.empty:
            assert have.parameters[p.name].default == p.default, p.name
