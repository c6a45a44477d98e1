"""ferrum.nn.modules.utils' tuple helpers (_single/_pair/_triple/_quadruple/_ntuple,
_reverse_repeat_tuple, _list_with_default) against torch.nn.modules.utils; reachable as attributes."""

from __future__ import annotations

import pytest

import ferrum
import ferrum.nn as nn

VALUES = [3, 2.5, None, (1, 2), [4, 5, 6], (7,), "ab", range(3), ()]


def test_reachable_as_attribute():
    assert ferrum.nn.modules.utils is nn.modules.utils
    from ferrum.nn.modules.utils import _pair
    assert _pair is nn.modules.utils._pair


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_ntuple_helpers_match_torch(torch, name, value):
    import torch.nn.modules.utils as tu
    f, t = getattr(nn.modules.utils, name), getattr(tu, name)
    assert f(value) == t(value)
    assert f.__name__ == t.__name__ == name


@pytest.mark.parametrize("n", [0, 1, 5])
def test_ntuple_factory(torch, n):
    import torch.nn.modules.utils as tu
    for v in VALUES:
        assert nn.modules.utils._ntuple(n)(v) == tu._ntuple(n)(v)
    assert nn.modules.utils._ntuple(n, "x").__name__ == tu._ntuple(n, "x").__name__ == "x"
    assert nn.modules.utils._ntuple(n).__name__ == tu._ntuple(n).__name__


@pytest.mark.parametrize("t", [(), (1,), (1, 2), [3, 4, 5]])
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_reverse_repeat_tuple(torch, t, n):
    import torch.nn.modules.utils as tu
    assert nn.modules.utils._reverse_repeat_tuple(t, n) == tu._reverse_repeat_tuple(t, n)


@pytest.mark.parametrize("out_size, defaults", [
    (5, [1, 2]), ((None, 3), [1, 8, 9]), ([None, None], [2, 3, 4, 5]), ((4,), [1, 2]),
    ((None, 3), [8, 9]), ((None,), [7]), ((), [1])])
def test_list_with_default(torch, out_size, defaults):
    import torch.nn.modules.utils as tu
    try:
        want = tu._list_with_default(out_size, defaults)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            nn.modules.utils._list_with_default(out_size, defaults)
        return
    assert nn.modules.utils._list_with_default(out_size, defaults) == want


def test_nn_utils_is_the_utils_package():
    """nn.modules.utils (the tuple helpers) does not shadow nn.utils (clip_grad_norm_, rnn, ...)."""
    import ferrum.nn as nn

    assert nn.utils.__name__ == "ferrum.nn.utils" and callable(nn.utils.clip_grad_norm_)
    assert nn.modules.utils.__name__ == "ferrum.nn.modules.utils" and nn.modules.utils._pair(3) == (3, 3)
