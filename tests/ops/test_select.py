"""ops/select.py: clamp's promotion and gradients, fmax/fmin at ties, where's condition, against
torch (broad parity tables are in test_elementwise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum

nan, inf = math.nan, math.inf


def _eq(f, t):
    assert str(f.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    np.testing.assert_array_equal(np.asarray(f.tolist(), dtype=float), np.asarray(t.tolist(), dtype=float))


@pytest.mark.parametrize(
    "case",
    [
        lambda T: T.clamp(T.tensor([1], dtype=T.uint8), min=T.tensor(-6), max=T.tensor([1.5])),
        lambda T: T.clamp_min(T.tensor([True, False]), 7),
        lambda T: T.clamp(T.tensor([True, False]), 0, 1),
        lambda T: T.clamp(T.tensor([True, False]), min=T.tensor(0)),
        lambda T: T.clamp(T.tensor([1, 5]), 0.5, 3),
        lambda T: T.clamp(T.tensor([1.0, 5.0]), 3, 2),
        lambda T: T.clamp(T.tensor([1.0, nan]), 0, 2),
        lambda T: T.clamp(T.tensor([1.0]), T.tensor([2.0], dtype=T.float64)),
        lambda T: T.clamp(T.tensor([[1.0], [4.0]]), T.tensor([0.0, 2.0]), T.tensor(3.0)),
        lambda T: T.clamp(T.tensor([1.0, 4.0]), T.tensor([3.0, 3.0]), T.tensor([2.0, 5.0])),
    ],
)
def test_clamp_promotes_with_its_bounds(torch, case):
    # defect 14: bounds were cast to the input's dtype first (-6 became 250 in uint8), bool stayed bool
    _eq(case(ferrum), case(torch))


def _grads(T, x, lo, hi):
    xs = [T.tensor(v, dtype=T.float64, requires_grad=True) if v is not None else None for v in (x, lo, hi)]
    T.clamp(*xs).sum().backward()
    return [None if v is None else v.grad.tolist() for v in xs]


@pytest.mark.parametrize(
    "x,lo,hi",
    [
        ([0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]),
        ([0.0, 1.0, 2.0, 3.0], [2.0, 2.0, 0.5, 0.5], [1.0, 1.0, 2.5, 2.5]),
        ([nan, 1.0, inf], [0.0, nan, 0.0], [2.0, 2.0, 2.0]),
        ([0.0, 5.0], [1.0, 1.0], None),
    ],
)
def test_clamp_tensor_bounds_gradients_match_torch(torch, x, lo, hi):
    # defect 28: min == max split the gradient between maximum and minimum
    assert _grads(ferrum, x, lo, hi) == _grads(torch, x, lo, hi)


def test_clamp_number_bounds_gradient_at_min_equal_max(torch):
    x = ferrum.tensor([0.0, 1.0, 2.0], dtype=ferrum.float64, requires_grad=True)
    tx = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ferrum.clamp(x, 1.0, 1.0).sum().backward()
    torch.clamp(tx, 1.0, 1.0).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()
    y = ferrum.tensor([inf, 0.5], dtype=ferrum.float64, requires_grad=True)
    ferrum.clamp(y, 0.0, 1.0).backward(ferrum.tensor([nan, 1.0], dtype=ferrum.float64))
    assert y.grad.tolist()[1] == 1.0  # selected, not multiplied by a 0/1 mask


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_ties_give_the_gradient_to_the_first_input(torch, name):
    # defect 28: ferrum split ties equally
    a, b = [1.0, 2.0, 3.0, nan, 1.0], [1.0, 1.0, 5.0, 2.0, nan]
    fa, fb = (ferrum.tensor(v, dtype=ferrum.float64, requires_grad=True) for v in (a, b))
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    getattr(ferrum, name)(fa, fb).sum().backward()
    getattr(torch, name)(ta, tb).sum().backward()
    assert fa.grad.tolist() == ta.grad.tolist() and fb.grad.tolist() == tb.grad.tolist()
    assert getattr(ferrum, name)(fa, fb).grad_fn.name() == name.capitalize() + "Backward0"


def test_where_condition_dtypes(torch):
    # defect 26: an int64/float condition was accepted; uint8 still is (torch warns)
    for cond in ([1, 0], [1.0, 0.0]):
        with pytest.raises(RuntimeError):
            torch.where(torch.tensor(cond), torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        with pytest.raises(RuntimeError, match="boolean"):
            ferrum.where(ferrum.tensor(cond), ferrum.tensor([1.0, 2.0]), ferrum.tensor([3.0, 4.0]))
    f = ferrum.where(
        ferrum.tensor([1, 0], dtype=ferrum.uint8), ferrum.tensor([1.0, 2.0]), ferrum.tensor([3.0, 4.0])
    )
    assert f.tolist() == [1.0, 4.0]
