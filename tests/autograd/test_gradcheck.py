"""gradcheck / gradgradcheck themselves: they accept correct gradients and catch wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import Function, gradcheck, gradgradcheck
from ferrum.autograd.gradcheck import GradcheckError

RNG = np.random.default_rng(2)


def leaf(shape=(3,), dtype=np.float64):
    return F.tensor(RNG.standard_normal(shape).astype(dtype), requires_grad=True)


class WrongGrad(Function):
    """x * x whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class _Inner(Function):
    """The first derivative of x**3 (3 g x**2) with a wrong derivative w.r.t. x (5 instead of 6)."""

    @staticmethod
    def forward(ctx, g, x):
        ctx.save_for_backward(g, x)
        return 3 * g * x * x

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        return gg * 3 * x * x, gg * 5 * g * x


class WrongDoubleBackward(Function):
    """x ** 3: right first derivative, wrong second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _Inner.apply(g, x)


class TestGradcheck:
    @pytest.mark.parametrize("fn", [
        lambda x: x * x,
        lambda x: (x * x).sin(),
        lambda x: x.exp() / (1 + x * x),
        lambda x: x.tanh() * x.sigmoid(),
        lambda x: x ** 3 - 2 * x,
    ])
    def test_correct_functions(self, fn):
        assert gradcheck(fn, (leaf(),))

    def test_several_inputs_and_non_tensor_args(self):
        a, b = leaf((3,)), leaf((2, 3))
        assert gradcheck(lambda a, b, k: a * b * k + b.exp(), (a, b, 2.0))

    def test_input_not_requiring_grad_is_skipped(self):
        a, c = leaf(), F.tensor(RNG.standard_normal(3))
        assert gradcheck(lambda a, c: a * c, (a, c))

    def test_single_tensor_input(self):
        assert gradcheck(lambda x: x.sin(), leaf())

    def test_multiple_outputs(self):
        assert gradcheck(lambda x: (x.sin(), x * x), (leaf(),))

    def test_integer_outputs_ignored(self):
        # perturbing x changes the int output (a jump); it is not differentiable and not checked
        x = F.tensor(np.array([0.2, 0.7]), requires_grad=True)
        assert gradcheck(lambda t: (t * 2, (t * 1e7).to(F.int64)), (x,))

    def test_zero_dim_input(self):
        assert gradcheck(lambda x: x * x.exp(), (leaf(()),))

    def test_broadcasting(self):
        a, b = leaf((3, 1)), leaf((1, 4))
        assert gradcheck(lambda a, b: a * b + a, (a, b))

    def test_non_contiguous_input(self):
        base = F.tensor(RNG.standard_normal((4, 3)))
        x = F.tensor(np.asfortranarray(base.numpy()), requires_grad=True)
        assert not x.is_contiguous()
        assert gradcheck(lambda t: t.sin() * t, (x,))

    def test_inputs_restored(self):
        x = leaf()
        before = x.detach().numpy().copy()
        gradcheck(lambda t: t * t, (x,))
        np.testing.assert_array_equal(x.detach().numpy(), before)
        assert x.grad is None

    def test_wrong_gradient_raises(self):
        with pytest.raises(GradcheckError, match="Jacobian mismatch"):
            gradcheck(WrongGrad.apply, (leaf(),))

    def test_gradcheck_error_is_runtime_error(self):
        assert issubclass(GradcheckError, RuntimeError)
        with pytest.raises(RuntimeError):
            gradcheck(WrongGrad.apply, (leaf(),))

    def test_raise_exception_false(self):
        assert gradcheck(WrongGrad.apply, (leaf(),), raise_exception=False) is False
        assert gradcheck(lambda x: x * 2, (leaf(),), raise_exception=False) is True

    def test_no_input_requires_grad(self):
        with pytest.raises(ValueError):
            gradcheck(lambda x: x * 2, (F.ones(2, dtype=F.float64),))

    def test_tolerances(self):
        class Slightly(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2.01
        x = leaf()
        assert not gradcheck(Slightly.apply, (x,), raise_exception=False)
        assert gradcheck(Slightly.apply, (x,), atol=1e-1, rtol=1e-2)

    def test_custom_gradient_dtype_is_cast(self):
        class Float32Grad(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g.to(F.float32) * 2
        # as in PyTorch, a custom Function's gradient is cast to its input's dtype
        assert gradcheck(Float32Grad.apply, (leaf(),))


class TestGradgradcheck:
    @pytest.mark.parametrize("fn", [
        lambda x: x * x * x,
        lambda x: x.sin() * x.exp(),
        lambda x: x.tanh(),
        lambda x: 1 / (1 + x * x),
    ])
    def test_correct_functions(self, fn):
        assert gradgradcheck(fn, (leaf(),))

    def test_linear_function(self):
        assert gradgradcheck(lambda x: x * 3, (leaf(),))

    def test_two_inputs(self):
        a, b = leaf(), leaf()
        assert gradgradcheck(lambda a, b: (a * b).sin(), (a, b))

    def test_given_grad_outputs(self):
        x = leaf()
        go = F.tensor(RNG.standard_normal(3), requires_grad=True)
        assert gradgradcheck(lambda t: t.sin() * t, (x,), (go,))

    def test_first_order_right_second_wrong(self):
        x = leaf()
        assert gradcheck(WrongDoubleBackward.apply, (x,))
        with pytest.raises(GradcheckError):
            gradgradcheck(WrongDoubleBackward.apply, (x,))
        assert gradgradcheck(WrongDoubleBackward.apply, (x,), raise_exception=False) is False

    def test_only_second_order_is_checked(self):
        # as in PyTorch: gradgradcheck differentiates the backward it is given, right or wrong
        assert gradgradcheck(WrongGrad.apply, (leaf(),))

    def test_non_contiguous_input(self):
        x = F.tensor(np.asfortranarray(RNG.standard_normal((3, 2))), requires_grad=True)
        assert gradgradcheck(lambda t: t.sin() * t, (x,))
