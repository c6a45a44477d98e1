"""ferrum.memory_format values, as torch's: what clone/contiguous do with each."""

from __future__ import annotations

import pickle

import ferrum


def test_formats_print_and_pickle_as_singletons(torch):
    for name in ("preserve_format", "contiguous_format", "channels_last", "channels_last_3d"):
        f = getattr(ferrum, name)
        assert repr(f) == repr(getattr(torch, name)).replace("torch.", "ferrum.")
        assert isinstance(f, ferrum.memory_format)
        assert pickle.loads(pickle.dumps(f)) is f


def test_clone_strides_follow_the_format(torch):
    for T in (ferrum, torch):
        x = T.ones(2, 3).t()
        assert x.clone().stride() == (1, 3)
        assert x.clone(memory_format=T.preserve_format).stride() == (1, 3)
        assert x.clone(memory_format=T.contiguous_format).stride() == (2, 1)
        assert x.contiguous().stride() == (2, 1)
