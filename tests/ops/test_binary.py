"""ops/binary.py: copysign, xlogy, lerp, heaviside, atan2, float_power and the tensor-only
functions, for the defects fixed against torch (broad parity tables are in test_elementwise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum

inf, nan = math.inf, math.nan


def f64(v, rg=False):
    return ferrum.tensor(v, dtype=ferrum.float64, requires_grad=rg)


def _eq(f, t):
    np.testing.assert_array_equal(np.asarray(f.tolist(), dtype=float), np.asarray(t.tolist(), dtype=float))


@pytest.mark.parametrize("sign", [-inf, inf, nan, -nan, -0.0, 0.0, -2.0])
def test_copysign_with_infinite_or_nan_sign(torch, sign):
    # defect 9: gave nan for an infinite or nan sign source
    _eq(ferrum.copysign(ferrum.tensor([0.5, -2.0]), sign), torch.copysign(torch.tensor([0.5, -2.0]), sign))
    fs = ferrum.tensor([sign, sign])
    ts = torch.tensor([sign, sign])
    _eq(ferrum.copysign(ferrum.tensor([0.5, -2.0]), fs), torch.copysign(torch.tensor([0.5, -2.0]), ts))
    x = ferrum.tensor([0.5, -2.0])
    x.copysign_(fs)
    _eq(x, torch.copysign(torch.tensor([0.5, -2.0]), ts))


def test_copysign_dtypes_gradient_and_errors(torch):
    _eq(ferrum.copysign(ferrum.tensor([1, 2]), -1), torch.copysign(torch.tensor([1, 2]), -1))
    assert ferrum.copysign(ferrum.tensor([1, 2]), -1).dtype is ferrum.float32
    x, tx = (
        f64([0.0, -1.5, 2.0], True),
        torch.tensor([0.0, -1.5, 2.0], dtype=torch.float64, requires_grad=True),
    )
    y, ty = (
        f64([-1.0, 1.0, -inf], True),
        torch.tensor([-1.0, 1.0, -inf], dtype=torch.float64, requires_grad=True),
    )
    ferrum.copysign(x, y).sum().backward()
    torch.copysign(tx, ty).sum().backward()
    _eq(x.grad, tx.grad)
    _eq(y.grad, ty.grad)
    with pytest.raises(NotImplementedError):
        torch.copysign(torch.tensor([1j]), 2)
    with pytest.raises(NotImplementedError, match="copysign"):
        ferrum.copysign(ferrum.tensor([1j]), 2)
    with pytest.raises(TypeError):
        torch.copysign(1.0, torch.ones(2))
    with pytest.raises(TypeError, match="copysign"):
        ferrum.copysign(1.0, ferrum.ones(2))


def test_xlogy_negative_scalar_with_unsigned_tensor(torch):
    # defect 13: -2 was wrapped into uint8 (254) before the log
    _eq(
        ferrum.xlogy(ferrum.tensor([9], dtype=ferrum.uint8), -2),
        torch.xlogy(torch.tensor([9], dtype=torch.uint8), -2),
    )
    for a, b in [([0.0, 0.0, 1.0, nan, 2.0], [nan, 0.0, 0.0, 0.0, 3.0])]:
        _eq(ferrum.xlogy(ferrum.tensor(a), ferrum.tensor(b)), torch.xlogy(torch.tensor(a), torch.tensor(b)))
    _eq(ferrum.xlogy(2.0, ferrum.tensor([3.0])), torch.xlogy(2.0, torch.tensor([3.0])))
    _eq(ferrum.xlogy(ferrum.tensor([2]), 3), torch.xlogy(torch.tensor([2]), 3))


def test_xlogy_gradient_at_zero(torch):
    # defect 13: d/dx at x = 0 is log(y) for y > 0 and 0 for y <= 0 (torch); ferrum gave 0 / nan
    a, b = [0.0, 0.0, 0.0, 1.5], [2.0, -1.0, 0.0, 3.0]
    x, y = f64(a, True), f64(b, True)
    tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ferrum.xlogy(x, y).sum().backward()
    torch.xlogy(tx, ty).sum().backward()
    _eq(x.grad, tx.grad)
    _eq(y.grad, ty.grad)
    assert ferrum.autograd.gradcheck(ferrum.xlogy, (f64([0.5, 2.0], True), f64([1.5, 0.7], True)))


@pytest.mark.parametrize(
    "a,b,w",
    [
        ([1e8], [1e-3], 1.0),
        ([-inf], [1.0], 0.5),
        ([1.0], [inf], 0.25),
        ([1.0, 2.0], [3.0, -4.0], 0.75),
        ([1.0, 2.0], [3.0, -4.0], 0.3),
    ],
)
def test_lerp_two_sided_formula(torch, a, b, w):
    # defect 19: a + w * (b - a) is inexact at w = 1 and wrong with an infinite endpoint
    _eq(ferrum.lerp(ferrum.tensor(a), ferrum.tensor(b), w), torch.lerp(torch.tensor(a), torch.tensor(b), w))
    fw, tw = ferrum.tensor([w] * len(a)), torch.tensor([w] * len(a))
    _eq(ferrum.lerp(ferrum.tensor(a), ferrum.tensor(b), fw), torch.lerp(torch.tensor(a), torch.tensor(b), tw))
    bf = ferrum.lerp(ferrum.tensor(a, dtype=ferrum.bfloat16), ferrum.tensor(b, dtype=ferrum.bfloat16), w)
    tf = torch.lerp(torch.tensor(a, dtype=torch.bfloat16), torch.tensor(b, dtype=torch.bfloat16), w)
    _eq(bf, tf)


def test_lerp_gradients_and_dtype_errors(torch):
    for w in (0.3, 0.8):
        assert ferrum.autograd.gradcheck(
            lambda a, b, w=w: ferrum.lerp(a, b, w), (f64([1.0, 2.0], True), f64([3.0, 5.0], True))
        )
    assert ferrum.autograd.gradcheck(
        ferrum.lerp, (f64([1.0, 2.0], True), f64([3.0, 5.0], True), f64([0.2, 0.9], True))
    )
    for args in [
        lambda T: (T.tensor([1.0]), T.tensor([2.0], dtype=T.float64), 0.5),
        lambda T: (T.tensor([1.0]), T.tensor([2.0]), T.tensor([0.5], dtype=T.float64)),
    ]:
        with pytest.raises(RuntimeError):
            torch.lerp(*args(torch))
        with pytest.raises(RuntimeError, match="expected dtype float"):
            ferrum.lerp(*args(ferrum))
    with pytest.raises(NotImplementedError):
        torch.lerp(torch.tensor([1, 2]), torch.tensor([2, 3]), 0.5)
    with pytest.raises(NotImplementedError, match="Long"):
        ferrum.lerp(ferrum.tensor([1, 2]), ferrum.tensor([2, 3]), 0.5)


def test_heaviside_nan_dtypes_and_errors(torch):
    # defect 20: nan gave nan (torch: 0); 23: broadcasting gave NumPy's ValueError; 26: mixed dtypes
    x = [nan, 0.0, -0.0, 2.0, -3.0, inf]
    _eq(
        ferrum.heaviside(ferrum.tensor(x), ferrum.tensor([0.5])),
        torch.heaviside(torch.tensor(x), torch.tensor([0.5])),
    )
    f = ferrum.heaviside(ferrum.tensor([0, 1, -2]), ferrum.tensor([5]))
    assert (
        f.dtype is ferrum.int64
        and f.tolist() == torch.heaviside(torch.tensor([0, 1, -2]), torch.tensor([5])).tolist()
    )
    with pytest.raises(RuntimeError, match="different dtypes"):
        ferrum.heaviside(ferrum.tensor([1.0]), ferrum.tensor([1.0], dtype=ferrum.float64))
    with pytest.raises(RuntimeError):
        ferrum.heaviside(ferrum.ones(4), ferrum.ones(2))
    with pytest.raises(TypeError, match="values"):
        ferrum.heaviside(ferrum.ones(2), 1.0)


def test_atan2_gradient_at_the_origin_is_zero(torch):
    # defect 28: 0/0 gave nan
    x, y = f64([0.0, 1.0], True), f64([0.0, 2.0], True)
    tx = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    ferrum.atan2(x, y).sum().backward()
    torch.atan2(tx, ty).sum().backward()
    _eq(x.grad, tx.grad)
    _eq(y.grad, ty.grad)


@pytest.mark.parametrize(
    "name",
    [
        "fmax",
        "fmin",
        "maximum",
        "minimum",
        "logaddexp",
        "hypot",
        "atan2",
        "heaviside",
        "logical_and",
        "logical_or",
        "logical_xor",
        "isclose",
    ],
)
def test_tensor_only_functions_refuse_python_numbers(torch, name):
    # defect 25: accepting a number could give a different dtype than the torch program would
    for args in [lambda T: (T.ones(2), 0.5), lambda T: (0.5, T.ones(2))]:
        with pytest.raises(TypeError):
            getattr(torch, name)(*args(torch))
        with pytest.raises(TypeError, match=name):
            getattr(ferrum, name)(*args(ferrum))


def test_float_power_with_complex_operands(torch):
    # defect 37: a complex scalar was refused
    for args in [
        lambda T: (-1 + 1j, T.ones(2, dtype=T.float64)),
        lambda T: (T.ones(2), 1j),
        lambda T: (T.ones(2, dtype=T.int32), 2),
        lambda T: (2, T.ones(2, dtype=T.int32)),
        lambda T: (T.tensor([1 + 1j]), T.tensor([2.0])),
    ]:
        f, t = ferrum.float_power(*args(ferrum)), torch.float_power(*args(torch))
        assert str(f.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_allclose(np.asarray(f.tolist()), np.asarray(t.tolist()), rtol=1e-12)


SPECIAL = [nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.5]
PAIRS_A = [a for a in SPECIAL for _ in SPECIAL]
PAIRS_B = [b for _ in SPECIAL for b in SPECIAL]


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy", "copysign", "maximum", "minimum",
                                  "fmax", "fmin", "remainder", "fmod", "pow", "mul", "div"])
def test_gradients_at_special_values_match_torch(torch, name):
    # nan/inf in one input must not reach gradients that do not depend on it, and the rest is
    # torch's formula (logaddexp with an infinite input, maximum with nan, copysign, atan2 at 0)
    def grads(T):
        a = T.tensor(PAIRS_A, dtype=T.float64, requires_grad=True)
        b = T.tensor(PAIRS_B, dtype=T.float64, requires_grad=True)
        with np.errstate(all="ignore"):
            getattr(T, name)(a, b).backward(T.ones(len(PAIRS_A), dtype=T.float64))
        return [np.array((v.grad + 0).tolist()) for v in (a, b)]

    for f, t in zip(grads(ferrum), grads(torch)):
        np.testing.assert_allclose(f, t, rtol=1e-12, atol=0)


def test_top_level_xlogy_(torch):
    x, y = [0.0, 1.0, 2.5], [2.0, 3.0, 0.5]
    f, t = ferrum.tensor(x), torch.tensor(x)
    assert ferrum.xlogy_(f, ferrum.tensor(y)) is f
    torch.xlogy_(t, torch.tensor(y))
    np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=1e-6)
