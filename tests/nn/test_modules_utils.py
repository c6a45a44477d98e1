"""ferrum.nn.modules.utils.consume_prefix_in_state_dict_if_present against torch's: the keys and the
per-module metadata of a wrapped model's state dict, which then loads into the bare model."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import nn
from ferrum.nn.modules.utils import consume_prefix_in_state_dict_if_present


def _model(lib):
    n = lib.nn
    return n.Sequential(n.Linear(3, 4), n.BatchNorm1d(4), n.Sequential(n.Linear(4, 2)))


@pytest.mark.parametrize("prefix", ["module.", "module", "other."])
def test_keys_and_metadata_like_torch(torch, prefix):
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as torch_consume
    f = nn.DataParallel(_model(ferrum)).state_dict()
    t = torch.nn.DataParallel(_model(torch)).state_dict()
    consume_prefix_in_state_dict_if_present(f, prefix)
    torch_consume(t, prefix)
    assert list(f) == list(t)
    assert dict(f._metadata) == dict(t._metadata)


def test_wrapped_state_dict_loads_into_the_bare_model():
    wrapped = nn.DataParallel(_model(ferrum))
    sd = wrapped.state_dict()
    consume_prefix_in_state_dict_if_present(sd, "module.")
    bare = _model(ferrum)
    bare.load_state_dict(sd)  # strict: every key matches
    for a, b in zip(bare.state_dict().values(), wrapped.module.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_plain_dict_without_metadata():
    sd = {"module.w": 1, "x": 2, "module.module.y": 3}
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert sd == {"w": 1, "x": 2, "module.y": 3}
