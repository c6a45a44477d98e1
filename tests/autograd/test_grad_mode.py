"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode, as context managers,
decorators (functions and generators) and plain calls; state restored after exceptions."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum import autograd


def leaf():
    return F.ones(2, requires_grad=True)


class TestNoGrad:
    def test_context_manager(self):
        x = leaf()
        with F.no_grad():
            assert not F.is_grad_enabled()
            y = x * 2
        assert F.is_grad_enabled()
        assert not y.requires_grad and y.grad_fn is None
        assert (x * 2).requires_grad

    def test_aliases(self):
        assert F.no_grad is autograd.no_grad
        assert F.enable_grad is autograd.enable_grad
        assert F.set_grad_enabled is autograd.set_grad_enabled
        assert F.is_grad_enabled is autograd.is_grad_enabled
        assert F.inference_mode is autograd.inference_mode

    def test_decorator_with_parentheses(self):
        @F.no_grad()
        def f(x):
            return x * 2, F.is_grad_enabled()
        y, mode = f(leaf())
        assert not mode and not y.requires_grad
        assert F.is_grad_enabled()

    def test_decorator_without_parentheses(self):
        @F.no_grad
        def f(x):
            """doc"""
            return x * 2
        assert not f(leaf()).requires_grad
        assert f.__name__ == "f" and f.__doc__ == "doc"
        assert F.is_grad_enabled()

    def test_decorated_method(self):
        class M:
            @F.no_grad()
            def run(self, x):
                return x * 2
        assert not M().run(leaf()).requires_grad

    def test_nested(self):
        with F.no_grad():
            with F.no_grad():
                assert not F.is_grad_enabled()
            assert not F.is_grad_enabled()
        assert F.is_grad_enabled()

    def test_restored_after_exception(self):
        with pytest.raises(ValueError):
            with F.no_grad():
                raise ValueError("boom")
        assert F.is_grad_enabled()

    def test_decorator_restored_after_exception(self):
        @F.no_grad()
        def f():
            raise KeyError("boom")
        with pytest.raises(KeyError):
            f()
        assert F.is_grad_enabled()

    def test_does_not_swallow_exceptions(self):
        with pytest.raises(ZeroDivisionError):
            with F.no_grad():
                _ = 1 / 0

    def test_in_place_allowed_on_leaf(self):
        x = leaf()
        with F.no_grad():
            x.mul_(3)
        assert x.requires_grad and x.is_leaf

    def test_decorating_a_class_raises(self):
        with pytest.raises(TypeError):
            @F.no_grad()
            class C:
                pass


class TestEnableGrad:
    def test_inside_no_grad(self):
        x = leaf()
        with F.no_grad():
            with F.enable_grad():
                assert F.is_grad_enabled()
                y = x * 2
            assert not F.is_grad_enabled()
        assert y.requires_grad

    def test_decorator_inside_no_grad(self):
        @F.enable_grad()
        def f(x):
            return x * 2
        with F.no_grad():
            y = f(leaf())
            assert not F.is_grad_enabled()
        assert y.requires_grad


class TestSetGradEnabled:
    def test_as_function(self):
        F.set_grad_enabled(False)
        try:
            assert not F.is_grad_enabled()
            assert not (leaf() * 2).requires_grad
        finally:
            F.set_grad_enabled(True)
        assert F.is_grad_enabled()

    def test_as_context_manager(self):
        with F.set_grad_enabled(False):
            assert not F.is_grad_enabled()
            with F.set_grad_enabled(True):
                assert F.is_grad_enabled()
            assert not F.is_grad_enabled()
        assert F.is_grad_enabled()

    def test_context_manager_restores_after_exception(self):
        with pytest.raises(RuntimeError):
            with F.set_grad_enabled(False):
                raise RuntimeError
        assert F.is_grad_enabled()

    def test_as_decorator_does_not_change_mode_now(self, torch):
        @F.set_grad_enabled(False)
        def f():
            return F.is_grad_enabled()
        assert F.is_grad_enabled()
        assert f() is False
        assert F.is_grad_enabled()

        @torch.set_grad_enabled(False)
        def tf():
            return torch.is_grad_enabled()
        assert torch.is_grad_enabled()
        assert tf() is False

    def test_decorator_true_inside_no_grad(self):
        @F.set_grad_enabled(True)
        def f():
            return F.is_grad_enabled()
        with F.no_grad():
            assert f() is True
            assert not F.is_grad_enabled()

    def test_bad_argument(self):
        with pytest.raises(TypeError):
            F.set_grad_enabled(1)
        assert F.is_grad_enabled()

    def test_conditional_mode(self):
        for train in (True, False):
            with F.set_grad_enabled(train):
                assert (leaf() * 2).requires_grad is train


class TestGenerators:
    def test_no_grad_generator(self):
        @F.no_grad()
        def gen(n):
            for i in range(n):
                yield i, F.is_grad_enabled()
        out = []
        for _, mode in gen(3):
            out.append(mode)
            assert F.is_grad_enabled()  # the mode holds inside the generator only
        assert out == [False, False, False]

    def test_no_grad_generator_without_parentheses(self):
        @F.no_grad
        def gen():
            yield F.is_grad_enabled()
        assert list(gen()) == [False]

    def test_generator_return_value(self):
        @F.no_grad()
        def gen():
            yield 1
            return "done"

        def outer():
            r = yield from gen()
            return r
        g = outer()
        assert next(g) == 1
        with pytest.raises(StopIteration) as e:
            next(g)
        assert e.value.value == "done"

    def test_generator_send_and_throw(self):
        @F.no_grad()
        def gen():
            got = yield F.is_grad_enabled()
            try:
                yield got, F.is_grad_enabled()
            except ValueError:
                yield "caught", F.is_grad_enabled()
        g = gen()
        assert next(g) is False
        assert g.send(5) == (5, False)
        assert g.throw(ValueError("x")) == ("caught", False)
        g.close()
        assert F.is_grad_enabled()

    def test_generator_close_runs_finally_in_mode(self):
        seen = []

        @F.no_grad()
        def gen():
            try:
                yield 1
            finally:
                seen.append(F.is_grad_enabled())
        g = gen()
        next(g)
        g.close()
        assert seen == [False]
        assert F.is_grad_enabled()

    def test_enable_grad_generator(self):
        @F.enable_grad()
        def gen():
            yield F.is_grad_enabled()
        with F.no_grad():
            assert list(gen()) == [True]

    def test_generator_exception_propagates(self):
        @F.no_grad()
        def gen():
            yield 1
            raise KeyError("k")
        with pytest.raises(KeyError):
            list(gen())
        assert F.is_grad_enabled()


class TestInferenceMode:
    def test_context_manager(self):
        x = leaf()
        with F.inference_mode():
            assert not F.is_grad_enabled()
            assert F.is_inference_mode_enabled()
            y = x * 2
        assert not y.requires_grad
        assert F.is_grad_enabled() and not F.is_inference_mode_enabled()

    def test_false_inside(self, torch):
        with F.inference_mode():
            with F.inference_mode(False):
                mine = (F.is_grad_enabled(), F.is_inference_mode_enabled())
            assert F.is_inference_mode_enabled()
        with torch.inference_mode():
            with torch.inference_mode(False):
                ref = (torch.is_grad_enabled(), torch.is_inference_mode_enabled())
        assert mine == ref

    def test_decorators(self):
        @F.inference_mode()
        def f():
            return F.is_grad_enabled(), F.is_inference_mode_enabled()

        @F.inference_mode
        def g():
            return F.is_grad_enabled(), F.is_inference_mode_enabled()
        assert f() == (False, True)
        assert g() == (False, True)
        assert g.__name__ == "g"

    def test_restored_after_exception(self):
        with pytest.raises(IndexError):
            with F.inference_mode():
                raise IndexError
        assert F.is_grad_enabled() and not F.is_inference_mode_enabled()

    def test_nested_in_no_grad(self):
        with F.no_grad():
            with F.inference_mode():
                assert not F.is_grad_enabled()
            assert not F.is_grad_enabled() and not F.is_inference_mode_enabled()

    def test_is_inference_is_a_method(self):
        with F.inference_mode():
            y = leaf() * 2
        assert y.is_inference() in (True, False)


class TestAnomalyMode:
    def test_detect_anomaly_catches_nan(self):
        x = F.tensor([0.0, 1.0], requires_grad=True)
        y = x.sqrt() * 0
        with autograd.detect_anomaly():
            assert autograd.is_anomaly_enabled()
            with pytest.raises(RuntimeError, match="SqrtBackward0.*nan"):
                y.backward(F.ones(2))
        assert not autograd.is_anomaly_enabled()

    def test_without_anomaly_nan_flows_quietly(self):
        import warnings
        x = F.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # backward emits no floating-point warnings
            (x.sqrt() * 0).backward(F.ones(2))
        assert np.isnan(x.grad.numpy()[0])

    def test_set_detect_anomaly_function_and_context(self):
        autograd.set_detect_anomaly(True)
        try:
            assert autograd.is_anomaly_enabled()
        finally:
            autograd.set_detect_anomaly(False)
        assert not autograd.is_anomaly_enabled()
        with autograd.set_detect_anomaly(True, check_nan=False):
            assert autograd.is_anomaly_enabled() and not autograd.is_anomaly_check_nan_enabled()
            x = F.tensor([0.0], requires_grad=True)
            (x.sqrt() * 0).backward(F.ones(1))  # check_nan off: no error
        assert not autograd.is_anomaly_enabled() and autograd.is_anomaly_check_nan_enabled()

    def test_decorators(self):
        @autograd.detect_anomaly()
        def f():
            return autograd.is_anomaly_enabled()

        @autograd.set_detect_anomaly(True)
        def g():
            return autograd.is_anomaly_enabled()
        assert not autograd.is_anomaly_enabled()
        assert f() and g()
        assert not autograd.is_anomaly_enabled()

    def test_restored_after_exception(self):
        with pytest.raises(ValueError):
            with autograd.detect_anomaly():
                raise ValueError
        assert not autograd.is_anomaly_enabled()

    def test_no_false_alarm(self):
        x = F.tensor([1.0, 4.0], requires_grad=True)
        with autograd.detect_anomaly():
            (x.sqrt() * x).backward(F.ones(2))
        np.testing.assert_allclose(x.grad.numpy(), [1.5, 3.0])
