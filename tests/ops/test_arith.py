"""ops/arith.py: the defects fixed in the division family and in add/sub's ``alpha``, against torch
(the broad parity tables for these ops are in test_elementwise.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
from ferrum.ops import arith

inf, nan = math.inf, math.nan
A = [0.5, 1.0, -2.0, inf, -inf, 5.0, -5.0, 0.0, nan, 7.5, -7.5, -0.5, 1e-3, 3.0]
B = [0.1, 0.1, inf, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0, -2.0, 2.0, -inf, 0.1, -0.7]


def _same(f, t):
    f = np.asarray(f.tolist(), dtype=np.float64)
    t = np.asarray(t.tolist(), dtype=np.float64)
    np.testing.assert_array_equal(f, t)  # nan == nan here; signs of zeros checked below
    assert (np.signbit(f) == np.signbit(t))[~np.isnan(f)].all()


@pytest.mark.parametrize("dt", ["float64", "float32", "float16", "bfloat16"])
def test_floor_division_is_pythons_divmod_and_agrees_with_remainder(torch, dt):
    # defect 8: floor(a / b) gave 0.5 // 0.1 == 5 (torch and Python: 4), -2 // inf == -0., inf // 0.5 == inf
    fa, fb = ferrum.tensor(A, dtype=getattr(ferrum, dt)), ferrum.tensor(B, dtype=getattr(ferrum, dt))
    ta, tb = torch.tensor(A, dtype=getattr(torch, dt)), torch.tensor(B, dtype=getattr(torch, dt))
    _same(ferrum.floor_divide(fa, fb), torch.floor_divide(ta, tb))
    _same(ferrum.div(fa, fb, rounding_mode="floor"), torch.div(ta, tb, rounding_mode="floor"))
    _same(fa // fb, ta // tb)
    _same(fa // 0.1, ta // 0.1)
    _same(3.0 // fb, 3.0 // tb)
    fc, tc = fa.clone(), ta.clone()
    fc //= fb
    tc //= tb
    _same(fc, tc)
    if dt == "float64":
        assert ferrum.floor_divide(ferrum.tensor([0.5, 1.0], dtype=ferrum.float64), 0.1).tolist() == [
            4.0,
            9.0,
        ]
        q, r = ferrum.floor_divide(fa, fb).numpy(), ferrum.remainder(fa, fb).numpy()
        with np.errstate(all="ignore"):
            back = q * fb.numpy() + r
        fin = np.isfinite(back) & np.isfinite(fa.numpy()) & (fb.numpy() != 0)
        np.testing.assert_allclose(back[fin], fa.numpy()[fin], rtol=1e-12, atol=1e-12)


def test_remainder_gradient_uses_floor_division(torch):
    a = ferrum.tensor([0.5, 1.0, -2.5], dtype=ferrum.float64, requires_grad=True)
    b = ferrum.tensor([0.1, 0.1, 0.7], dtype=ferrum.float64, requires_grad=True)
    ta = torch.tensor(a.tolist(), dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b.tolist(), dtype=torch.float64, requires_grad=True)
    ferrum.remainder(a, b).sum().backward()
    torch.remainder(ta, tb).sum().backward()
    assert b.grad.tolist() == tb.grad.tolist() and a.grad.tolist() == ta.grad.tolist()
    assert ferrum.remainder(a, b).grad_fn.name() == "RemainderBackward0"
    assert ferrum.fmod(a, b).grad_fn.name() == "FmodBackward0"


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.div(T.ones(4), T.ones(2), rounding_mode="trunc"),
        lambda T: T.div(T.ones(4), T.ones(2), rounding_mode="floor"),
        lambda T: T.floor_divide(T.ones(4), T.ones(2)),
    ],
)
def test_division_broadcast_errors_are_runtime_errors(torch, call):
    # defect 23: NumPy's ValueError escaped
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="div"):
        call(ferrum)


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide"])
def test_complex_modulus_raises_not_implemented(torch, name):
    # defect 23: NumPy's UFuncTypeError (a TypeError) escaped
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([1j]), 2)
    with pytest.raises(NotImplementedError, match="ComplexFloat"):
        getattr(ferrum, name)(ferrum.tensor([1j]), 2)


@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("other", ["int_tensor", "int", "float_tensor"])
def test_float_alpha_with_integer_results_raises(torch, op, other):
    # defect 26: a float alpha with an integer result was computed in float and accepted
    def args(T):
        o = {"int_tensor": T.tensor([1, 2]), "int": 3, "float_tensor": T.tensor([0.5, 1.0])}[other]
        return T.tensor([1, 2]), o

    if other == "float_tensor":
        assert (
            getattr(ferrum, op)(*args(ferrum), alpha=1.5).tolist()
            == getattr(torch, op)(*args(torch), alpha=1.5).tolist()
        )
        return
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        getattr(torch, op)(*args(torch), alpha=1.5)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        getattr(ferrum, op)(*args(ferrum), alpha=1.5)


def test_alpha_bool_and_complex_checks(torch):
    for T in (torch, ferrum):
        with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
            T.add(T.tensor([1.5]), T.tensor([True]), alpha=True)
        with pytest.raises(RuntimeError, match="alpha must not be a complex number"):
            T.add(T.tensor([1.0]), 2, alpha=1 + 1j)


def test_add_bool_with_alpha_stays_bool(torch):
    # defect 34: bool + True with alpha=5 gave int64
    for args in [(True,), (ferrum.tensor([True, True]),)]:
        targs = tuple(torch.tensor(a.tolist()) if isinstance(a, ferrum.Tensor) else a for a in args)
        f = ferrum.add(ferrum.tensor([True, False]), *args, alpha=5)
        t = torch.add(torch.tensor([True, False]), *targs, alpha=5)
        assert f.dtype is ferrum.bool and f.tolist() == t.tolist()
    f = ferrum.add(ferrum.tensor([True, False]), ferrum.tensor([False, False]), alpha=True)
    assert f.dtype is ferrum.bool and f.tolist() == [True, False]


def test_alpha_still_scales_float_and_integer_operands(torch):
    f = ferrum.sub(
        ferrum.tensor([1, 2], dtype=ferrum.int8), ferrum.tensor([3, 4], dtype=ferrum.int8), alpha=2
    )
    t = torch.sub(torch.tensor([1, 2], dtype=torch.int8), torch.tensor([3, 4], dtype=torch.int8), alpha=2)
    assert f.dtype is ferrum.int8 and f.tolist() == t.tolist()
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    y = ferrum.add(x, x * 1.0, alpha=0.5)
    y.sum().backward()
    assert y.tolist() == [1.5, 3.0] and x.grad.tolist() == [1.5, 1.5]


def test_hot_nodes_keep_their_torch_names():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    c = ferrum.tensor([3.0, 4.0])
    names = {
        "x + c": x + c,
        "x - c": x - c,
        "x * c": x * c,
        "x / c": x / c,
        "x + 1": x + 1,
        "x - 1": x - 1,
        "1 - x": 1 - x,
        "x * 2": x * 2,
        "x / 2": x / 2,
        "2 / x": 2 / x,
        "x ** 2": x**2,
    }
    expected = {
        "x + c": "AddBackward0",
        "x - c": "SubBackward0",
        "x * c": "MulBackward0",
        "x / c": "DivBackward0",
        "x + 1": "AddBackward0",
        "x - 1": "SubBackward0",
        "1 - x": "RsubBackward1",
        "x * 2": "MulBackward0",
        "x / 2": "DivBackward0",
        "2 / x": "MulBackward0",
        "x ** 2": "PowBackward0",
    }
    assert {k: v.grad_fn.name() for k, v in names.items()} == expected
    assert arith._finish_binary.__code__.co_argcount == 5  # the unused ``shapes`` flag is gone


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_pow_of_half_types_with_a_float_exponent_is_computed_in_float32(torch, dt):
    x = [-0.0, 0.0, 2.0, 0.3, -1.0, math.inf]
    for e in (0.5, 1.5):
        f = ferrum.pow(ferrum.tensor(x, dtype=getattr(ferrum, dt)), e)
        t = torch.pow(torch.tensor(x, dtype=getattr(torch, dt)), e)
        _same(f, t)
