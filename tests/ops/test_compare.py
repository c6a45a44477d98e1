"""ops/compare.py: shifts' dtypes, broadcasting and errors, isclose's checks, the tensor-only
logical functions and scalar-first comparisons, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


def _same(f, t):
    assert str(f.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert f.tolist() == t.tolist()


@pytest.mark.parametrize(
    "case",
    [
        lambda T: T.tensor([1, 2], dtype=T.int32) << T.tensor([1], dtype=T.int64),
        lambda T: T.tensor([1, 2], dtype=T.int8) << 1,
        lambda T: T.tensor([True]) << 1,
        lambda T: 1 << T.tensor([1, 2]),
        lambda T: T.tensor([1, 2], dtype=T.uint8) >> T.tensor([1], dtype=T.int8),
        lambda T: T.tensor([-8], dtype=T.int8) >> 1,
        lambda T: T.tensor([1], dtype=T.int8) << 9,
        lambda T: T.tensor([1], dtype=T.int64) << 70,
        lambda T: T.tensor([1], dtype=T.int64) << -1,
        lambda T: T.tensor([-1]) >> 70,
        lambda T: T.bitwise_left_shift(
            T.tensor([[1], [2]], dtype=T.int16), T.tensor([1, 2, 3], dtype=T.int16)
        ),
    ],
)
def test_shift_operators_dtype_and_values(torch, case):
    # defect 10 (the out-of-place part): promotion, broadcasting, shifts past the bit width
    _same(case(ferrum), case(torch))


@pytest.mark.parametrize(
    "case",
    [
        lambda T: T.tensor([1, 2], dtype=T.int8) << 1.5,
        lambda T: T.tensor([1.0, 2.0]) << 1,
        lambda T: T.tensor([1.0]) >> T.tensor([1]),
    ],
)
def test_shift_of_floats_raises_not_implemented(torch, case):
    with pytest.raises(NotImplementedError):
        case(torch)
    with pytest.raises(NotImplementedError, match="shift_cpu"):
        case(ferrum)


def test_shift_broadcast_error(torch):
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) << torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="bitwise_left_shift"):
        ferrum.tensor([1, 2]) << ferrum.tensor([1, 2, 3])


def test_isclose_checks(torch):
    # defect 23: broadcasting gave NumPy's ValueError; 26: mixed dtypes were accepted
    for args in [
        lambda T: (T.ones(4), T.ones(2)),
        lambda T: (T.tensor([1.0]), T.tensor([1.0], dtype=T.float64)),
        lambda T: (T.tensor([1]), T.tensor([1.0])),
    ]:
        with pytest.raises(RuntimeError):
            torch.isclose(*args(torch))
        with pytest.raises(RuntimeError):
            ferrum.isclose(*args(ferrum))
    a, b = [1.0, float("nan"), 1e-9, float("inf")], [1.0 + 1e-6, float("nan"), 0.0, float("inf")]
    for en in (False, True):
        _same(
            ferrum.isclose(ferrum.tensor(a), ferrum.tensor(b), equal_nan=en),
            torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=en),
        )


@pytest.mark.parametrize("name", ["eq", "lt", "ge", "ne", "fmod"])
def test_comparisons_take_a_number_only_as_other(torch, name):
    # defect 25: scalar-first eq/lt/... were accepted
    with pytest.raises(TypeError):
        getattr(torch, name)(1, torch.ones(2))
    with pytest.raises(TypeError, match=name):
        getattr(ferrum, name)(1, ferrum.ones(2))
    _same(
        getattr(ferrum, name)(ferrum.tensor([0.5, 1.0]), 1), getattr(torch, name)(torch.tensor([0.5, 1.0]), 1)
    )
    assert (1 < ferrum.tensor([0.5, 2.0])).tolist() == [False, True]


def test_bitwise_functions_still_take_numbers(torch):
    _same(
        ferrum.bitwise_and(1, ferrum.ones(2, dtype=ferrum.int32)),
        torch.bitwise_and(1, torch.ones(2, dtype=torch.int32)),
    )
    _same(ferrum.tensor([5, 6]) & 3, torch.tensor([5, 6]) & 3)
    assert np.array_equal(
        ferrum.logical_xor(ferrum.tensor([1, 0]), ferrum.tensor([1.0, 1.0])).numpy(), [False, True]
    )
