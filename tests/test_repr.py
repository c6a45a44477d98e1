"""Printing: ferrum's repr equals PyTorch's with ``torch`` replaced by ``ferrum``."""

from __future__ import annotations

import pytest

import ferrum

NAN, INF = float("nan"), float("inf")

# each case builds the same tensor from either library ``L``
CASES = {
    "int": lambda L: L.tensor([1, 2, 3]),
    "int_neg_wide": lambda L: L.tensor([[1, -2], [300, 4]]),
    "int_3d": lambda L: L.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),
    "int32": lambda L: L.tensor([1, 2], dtype=L.int32),
    "int8": lambda L: L.tensor([-1, 2], dtype=L.int8),
    "uint8_2d": lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.uint8),
    "int_big": lambda L: L.tensor([-1, 2**40]),
    "float_int_valued": lambda L: L.tensor([1.0, 2.0, 3.0]),
    "float": lambda L: L.tensor([1.5, 2.25, -3.0]),
    "float_2d": lambda L: L.tensor([[1.5, 2.0], [3.0, 4.0]]),
    "float_3d": lambda L: L.arange(24.0).reshape(2, 3, 4) / 7,
    "float_neg": lambda L: L.tensor([-1.0, -2.0]),
    "sci_small": lambda L: L.tensor([1e-5, 1.0]),
    "sci_big": lambda L: L.tensor([1e10, 1.0]),
    "sci_ratio": lambda L: L.tensor([0.5, 501.0]),
    "no_sci_ratio": lambda L: L.tensor([0.5, 500.0]),
    "sci_one": lambda L: L.tensor([1e-5]),
    "large_ints_as_float": lambda L: L.tensor([123456.0, 1.0]),
    "mixed": lambda L: L.tensor([1.0, -2.5, 1e5]),
    "tiny_and_one": lambda L: L.tensor([[1e-10, 1.0], [2.0, 3.0]]),
    "edge_1e-4": lambda L: L.tensor([1e-4, 1.0]),
    "edge_1e8": lambda L: L.tensor([1.1e8]),
    "nan_inf": lambda L: L.tensor([NAN, 1.0, INF, -INF]),
    "nan": lambda L: L.tensor([NAN]),
    "inf": lambda L: L.tensor([1.0, INF]),
    "signed_zero": lambda L: L.tensor([0.0, -0.0]),
    "zeros": lambda L: L.zeros(2, 3),
    "ones_3d": lambda L: L.ones(3, 1, 2),
    "bool": lambda L: L.tensor([True, False]),
    "bool_all_true": lambda L: L.tensor([[True, True], [True, True]]),
    "bool_2d": lambda L: L.tensor([[True, True], [False, True]]),
    "0d_float": lambda L: L.tensor(3.5),
    "0d_int": lambda L: L.tensor(3),
    "0d_bool": lambda L: L.tensor(True),
    "0d_neg": lambda L: L.tensor(-0.5),
    "0d_tiny": lambda L: L.tensor(1e-8),
    "0d_huge": lambda L: L.tensor(123456789.0),
    "0d_nan": lambda L: L.tensor(NAN),
    "0d_float64": lambda L: L.tensor(2.5, dtype=L.float64),
    "empty": lambda L: L.tensor([]),
    "empty_2d": lambda L: L.zeros(0, 3),
    "empty_int": lambda L: L.zeros(2, 0, dtype=L.int64),
    "empty_bool": lambda L: L.tensor([], dtype=L.bool),
    "empty_float64": lambda L: L.zeros(0, dtype=L.float64),
    "arange_empty": lambda L: L.arange(0),
    "float64": lambda L: L.tensor([1.0, 2.0], dtype=L.float64),
    "float64_frac": lambda L: L.tensor([1.0, 2.0], dtype=L.float64) * 1.5,
    "float16": lambda L: L.tensor([1.5, 2], dtype=L.float16),
    "float16_max": lambda L: L.tensor([65504.0], dtype=L.float16),
    "bfloat16": lambda L: L.tensor([-0.5, 0.25], dtype=L.bfloat16),
    "complex": lambda L: L.tensor([1 + 2j, 3.5 - 1j]),
    "complex128": lambda L: L.tensor([1 + 2j], dtype=L.complex128),
    "complex_zero": lambda L: L.zeros(3, dtype=L.complex128),
    "requires_grad": lambda L: L.tensor([1.5, 2.0], requires_grad=True),
    "requires_grad_f64": lambda L: L.tensor([1.5, 2.0], dtype=L.float64, requires_grad=True),
    "grad_fn_mul_scalar": lambda L: L.tensor([1.5, 2.0], requires_grad=True) * 2,
    "grad_fn_add_scalar": lambda L: L.tensor([1.5, 2.0], requires_grad=True) + 2,
    "grad_fn_sub_scalar": lambda L: L.tensor([1.5, 2.0], requires_grad=True) - 2,
    "grad_fn_rsub": lambda L: 2 - L.tensor([1.5, 2.0], requires_grad=True),
    "grad_fn_div_scalar": lambda L: L.tensor([1.5, 2.0], requires_grad=True) / 2,
    "grad_fn_exp": lambda L: L.tensor([1.5, 2.0], requires_grad=True).exp(),
    "grad_fn_to": lambda L: L.tensor([1.0, 2.0], requires_grad=True).double(),
    "grad_fn_0d": lambda L: L.tensor(2.0, requires_grad=True) * 3,
    "grad_fn_where": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0, 2.0], requires_grad=True),
                                       0.0),
    "grad_fn_pow": lambda L: L.tensor([1.0, 2.0], requires_grad=True) ** 2,
    "grad_fn_neg": lambda L: -L.tensor([1.0, 2.0], requires_grad=True),
    "grad_fn_abs": lambda L: L.tensor([1.0, 2.0], requires_grad=True).abs(),
    "grad_fn_float16": lambda L: L.tensor([1.0, 2.0], requires_grad=True).to(L.float16),
    "summarized_int": lambda L: L.arange(2000),
    "summarized_float": lambda L: L.arange(2000.0),
    "summarized_2d": lambda L: L.arange(10000).reshape(100, 100),
    "summarized_3d": lambda L: L.arange(5000).reshape(5, 10, 100),
    "summarized_float_3d": lambda L: L.arange(1000).reshape(10, 10, 10) * 1.5,
    "summarized_rows": lambda L: L.ones(4, 1000),
    "summarized_bool": lambda L: L.tensor([True] * 2000),
    "wrapped_lines": lambda L: L.arange(30.0),
    "wrapped_ints": lambda L: L.arange(90),
    "wrapped_neg": lambda L: L.arange(-50, 50) * 1.37,
    "tall": lambda L: L.tensor([[1.0]] * 100),
    "suffix_wraps": lambda L: L.tensor([0.0, 0.0, 0.0, 0.0, 1e7], dtype=L.float64),
    "suffix_fits": lambda L: L.tensor([0.0, 0.0, 0.0, 1e7], dtype=L.float64),
    "two_suffixes_wrap": lambda L: L.tensor([1.5, 2.25, 3.125, 4.0, 5.5, 6.0, 7.75], dtype=L.float64,
                                            requires_grad=True),
    "suffix_after_rows": lambda L: L.arange(24.0, dtype=L.float64).reshape(2, 12) * 1.5,
    "grad_fn_wraps": lambda L: L.arange(8.0, requires_grad=True).double() * 1.5,
}


@pytest.mark.parametrize("case", list(CASES))
def test_repr_matches_torch(torch, case):
    mk = CASES[case]
    expected = repr(mk(torch)).replace("torch.", "ferrum.")
    assert repr(mk(ferrum)) == expected
    assert str(mk(ferrum)) == expected


def test_repr_of_non_contiguous(torch):
    import numpy as np
    a = np.arange(12.0).reshape(3, 4) / 3
    assert repr(ferrum.from_numpy(a.T)) == repr(torch.from_numpy(a.T)).replace("torch.", "ferrum.")
    assert repr(ferrum.from_numpy(a[:, ::2])) == repr(torch.from_numpy(a[:, ::2].copy())).replace(
        "torch.", "ferrum.")


@pytest.fixture
def restore_printoptions():
    yield
    ferrum.set_printoptions(profile="default", sci_mode=None)


@pytest.mark.parametrize("opts", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                  dict(threshold=5, edgeitems=1), dict(linewidth=20),
                                  dict(profile="short"), dict(profile="full")])
def test_set_printoptions_matches_torch(torch, restore_printoptions, opts):
    tensors = [lambda L: L.tensor([1.2345, 2.0]), lambda L: L.arange(10), lambda L: L.arange(10.0) / 3,
               lambda L: L.tensor([1e-6, 1e6]), lambda L: L.arange(1200)]
    try:
        torch.set_printoptions(**opts)
        expected = [repr(mk(torch)).replace("torch.", "ferrum.") for mk in tensors]
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
    ferrum.set_printoptions(**opts)
    assert [repr(mk(ferrum)) for mk in tensors] == expected


def test_repr_follows_default_dtype():
    ferrum.set_default_dtype(ferrum.float64)
    try:
        assert repr(ferrum.tensor([1.5])) == "tensor([1.5000])"
        assert repr(ferrum.tensor([1.5], dtype=ferrum.float32)) == "tensor([1.5000], dtype=ferrum.float32)"
        assert repr(ferrum.tensor([1 + 1j])) == "tensor([1.+1.j])"
        assert repr(ferrum.zeros(0)) == "tensor([])"
    finally:
        ferrum.set_default_dtype(ferrum.float32)
