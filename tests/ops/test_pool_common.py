"""ops/_pool_common.py: PyTorch's output-size rule (floor and ceil mode, the last window starting
inside the input or left padding) against torch's shapes over a brute-force grid, argument parsing
errors, and adaptive window bounds covering the input."""

import itertools

import numpy as np
import pytest

import ferrum
from ferrum.ops import _pool_common as C


def test_output_size_matches_torch_over_a_grid(torch):
    x = {L: torch.zeros(1, 1, L) for L in range(1, 9)}
    for L, k, s, d, ceil in itertools.product(range(1, 9), range(1, 5), range(1, 4), (1, 2), (False, True)):
        for p in range(0, k // 2 + 1):
            try:
                want = torch.nn.functional.max_pool1d(x[L], k, s, p, d, ceil).shape[-1]
            except RuntimeError:
                want = None
            got = C.out_size(L, k, s, p, d, ceil)
            assert (got if got >= 1 else None) == want, (L, k, s, p, d, ceil)


def test_ntuple():
    assert C.ntuple(3, 2, "op", "kernel_size", 2) == (3, 3)
    assert C.ntuple((3,), 3, "op", "kernel_size", 2) == (3, 3, 3)
    assert C.ntuple([1, 2], 2, "op", "kernel_size", 2) == (1, 2)
    assert C.ntuple((), 2, "op", "stride", 3, allow_empty=True) is None
    with pytest.raises(TypeError, match="must be tuple of ints, not float"):
        C.ntuple(2.0, 2, "op", "kernel_size", 2)
    with pytest.raises(TypeError, match="found element of type bool"):
        C.ntuple((2, True), 2, "op", "kernel_size", 2)
    with pytest.raises(RuntimeError, match="tuple of two ints"):
        C.ntuple((1, 2, 3), 2, "max_pool2d", "kernel_size", 2)
    with pytest.raises(RuntimeError, match="should contain one int"):
        C.ntuple((1, 2), 1, "avg_pool1d", "kernel_size", 2)


@pytest.mark.parametrize("L,O", [(7, 3), (8, 8), (5, 7), (10, 1), (6, 4)])
def test_adaptive_bounds_cover_the_input(L, O):
    st, en = C.adaptive_bounds(L, O)
    assert st[0] == 0 and en[-1] == L
    assert np.all(en > st) and np.all(st[1:] <= en[:-1])  # no gaps, windows non-empty


def test_adaptive_output_size_none_entries():
    x = ferrum.zeros(2, 3, 5, 7)
    assert C.adaptive_output_size(x, (None, 2), 2, "adaptive_avg_pool2d") == (5, 2)
    assert C.adaptive_output_size(x, 4, 2, "adaptive_avg_pool2d") == (4, 4)
    with pytest.raises(RuntimeError, match="greater than or equal to 0"):
        C.adaptive_output_size(x, (-1, 2), 2, "adaptive_avg_pool2d")
