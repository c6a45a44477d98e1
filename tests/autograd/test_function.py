"""Custom autograd Functions: ctx API, multiple outputs, non-differentiable outputs, setup_context,
once_differentiable, gradient validation and gradcheck/gradgradcheck through them."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum import autograd
from ferrum.autograd import Function, gradcheck, gradgradcheck, once_differentiable
from tests.helpers import leaf, ones, values_closeness
from tests.helpers import npv_copy as npv

RNG = np.random.default_rng(1)


assert_close = values_closeness(rtol=1e-7, atol=1e-10)


class Cube(Function):
    """x ** 3 * k, with a backward written in differentiable ops."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * x * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x * ctx.k, None


class MulAdd(Function):
    """a * b + c for three tensors."""

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        return a * b + c

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        gc = g if ctx.needs_input_grad[2] else None
        return ga, gb, gc


class TestBasics:
    def test_forward_backward(self):
        x = leaf([1.0, 2.0])
        y = Cube.apply(x, 2.0)
        assert_close(y, np.array([2.0, 16.0]))
        assert y.requires_grad and not y.is_leaf
        y.backward(ones(y))
        assert_close(x.grad, np.array([6.0, 24.0]))

    def test_grad_fn_name_and_next_functions(self):
        x = leaf([1.0])
        y = Cube.apply(x.exp(), 2.0)
        assert y.grad_fn.name() == "CubeBackward"
        assert "CubeBackward" in repr(y.grad_fn)
        (nxt,) = y.grad_fn.next_functions
        assert nxt[0].name() == "ExpBackward0"

    def test_forward_runs_without_grad(self):
        seen = []

        class Probe(Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(F.is_grad_enabled())
                y = x * 2
                seen.append(y.requires_grad)
                return y

            @staticmethod
            def backward(ctx, g):
                return g * 2
        Probe.apply(leaf([1.0]))
        assert seen == [False, False]

    def test_no_graph_when_inputs_do_not_require_grad(self):
        y = Cube.apply(F.ones(2, dtype=F.float64), 2.0)
        assert not y.requires_grad and y.grad_fn is None

    def test_no_graph_under_no_grad(self):
        with F.no_grad():
            y = Cube.apply(leaf([1.0]), 2.0)
        assert not y.requires_grad and y.grad_fn is None

    def test_needs_input_grad(self):
        seen = []

        class Probe(Function):
            @staticmethod
            def forward(ctx, a, n, b):
                seen.append(ctx.needs_input_grad)
                return a * b * n

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                return g, None, g
        Probe.apply(leaf([1.0]), 3, F.ones(1, dtype=F.float64)).backward()
        assert seen == [(True, False, False)] * 2

    def test_needs_input_grad_skips_work(self):
        a, b, c = leaf([2.0]), F.tensor([3.0], dtype=F.float64), leaf([4.0])
        MulAdd.apply(a, b, c).backward()
        assert_close(a.grad, np.array([3.0]))
        assert_close(c.grad, np.array([1.0]))
        assert b.grad is None

    def test_non_tensor_args_and_kwargs(self):
        class Scale(Function):
            @staticmethod
            def forward(ctx, x, factor, *, offset=0.0):
                ctx.factor = factor
                return x * factor + offset

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None
        x = leaf([1.0, 2.0])
        y = Scale.apply(x, 3.0, offset=1.0)
        assert_close(y, np.array([4.0, 7.0]))
        y.backward(ones(y))
        assert_close(x.grad, np.full(2, 3.0))

    def test_returning_none_grads(self):
        class Half(Function):
            @staticmethod
            def forward(ctx, a, b):
                return a + b

            @staticmethod
            def backward(ctx, g):
                return g, None
        a, b = leaf([1.0]), leaf([2.0])
        Half.apply(a, b).backward()
        assert_close(a.grad, np.array([1.0]))
        assert b.grad is None

    def test_extra_trailing_none_grads_allowed(self):
        class Extra(Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None
        a = leaf([1.0])
        Extra.apply(a).backward()
        assert_close(a.grad, np.array([2.0]))

    def test_single_grad_not_in_tuple(self):
        class One(Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        a = leaf([1.0])
        One.apply(a).backward()
        assert_close(a.grad, np.array([2.0]))

    def test_same_input_twice(self, torch):
        a = leaf([1.5])
        MulAdd.apply(a, a, a).backward()
        assert_close(a.grad, np.array([4.0]))  # d(a*a + a) = 2a + 1

    def test_legacy_instantiation_raises(self):
        with pytest.raises(RuntimeError):
            Cube()

    def test_in_chain_with_builtin_ops(self, torch):
        x = leaf([0.3, -0.7])
        y = (Cube.apply(x.sin(), 1.5) * x).exp()
        y.backward(ones(y))
        tx = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
        ty = ((tx.sin() ** 3 * 1.5) * tx).exp()
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad.numpy())

    def test_apply_on_non_leaf(self):
        x = leaf([1.0, 2.0])
        h = x * 2
        Cube.apply(h, 1.0).backward(ones(h))
        assert_close(x.grad, 2 * 3 * np.array([2.0, 4.0]) ** 2)


class TestSavedTensors:
    def test_freed_after_backward(self):
        x = leaf([1.0])
        y = Cube.apply(x, 1.0)
        y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
        with pytest.raises(RuntimeError, match="freed"):
            _ = y.grad_fn.saved_tensors

    def test_nothing_saved_backward_twice_ok(self):
        class Double(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = leaf([1.0])
        y = Double.apply(x)
        y.backward()
        y.backward()
        assert_close(x.grad, np.array([4.0]))

    def test_retain_graph(self):
        x = leaf([1.0])
        y = Cube.apply(x, 1.0)
        y.backward(retain_graph=True)
        y.backward()
        assert_close(x.grad, np.array([6.0]))

    def test_saved_tensors_visible_before_backward(self):
        x = leaf([1.0])
        y = Cube.apply(x, 1.0)
        (s,) = y.grad_fn.saved_tensors
        assert s is x

    def test_saved_none(self):
        class SaveNone(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                n, x = ctx.saved_tensors
                assert n is None
                return g * 2
        x = leaf([1.0])
        SaveNone.apply(x).backward()
        assert_close(x.grad, np.array([2.0]))

    def test_save_non_tensor_raises(self):
        class SaveBad(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3.0)
                return x

            @staticmethod
            def backward(ctx, g):
                return g
        with pytest.raises(TypeError):
            SaveBad.apply(leaf([1.0]))

    def test_saved_input_modified_in_place(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = Cube.apply(h, 1.0)
        h.add_(1)
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*CubeBackward"):
            y.backward(ones(y))

    def test_saved_output(self):
        x = leaf([0.5, 1.0])
        y = Exp.apply(x)
        y.backward(ones(y))
        assert_close(x.grad, np.exp([0.5, 1.0]))


class Exp(Function):
    """exp that saves its output."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class TestSavedOutputs:
    def test_saved_output_double_backward(self):
        x = leaf(RNG.standard_normal(3))
        assert gradcheck(Exp.apply, (x,))
        assert gradgradcheck(Exp.apply, (x,))

    def test_saved_output_modified_in_place(self):
        x = leaf([1.0, 2.0])
        y = Exp.apply(x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward"):
            y.backward(ones(y))

    def test_saved_output_has_grad_fn(self):
        x = leaf([1.0])
        y = Exp.apply(x)
        (s,) = y.grad_fn.saved_tensors
        assert s.grad_fn is y.grad_fn and s.requires_grad
        assert_close(s, npv(y))

    def test_no_reference_cycle(self):
        import gc
        import weakref
        x = leaf([1.0, 2.0])
        gc.disable()
        try:
            y = Exp.apply(x)
            node = weakref.ref(y.grad_fn)
            out = weakref.ref(y)
            del y
            assert node() is None and out() is None  # freed by reference counting alone
        finally:
            gc.enable()

    def test_saved_output_of_multi_output(self, torch):
        class SinCos(Function):
            @staticmethod
            def forward(ctx, x):
                s, c = x.sin(), x.cos()
                ctx.save_for_backward(s, c)
                return s, c

            @staticmethod
            def backward(ctx, gs, gc):
                s, c = ctx.saved_tensors
                return gs * c - gc * s
        x = leaf(RNG.standard_normal(3))
        assert gradcheck(SinCos.apply, (x,))
        assert gradgradcheck(SinCos.apply, (x,))


class TestMultipleOutputs:
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, ga, gb):
            (x,) = ctx.saved_tensors
            return ga * 2 + gb * 2 * x

    def test_both_outputs_used(self):
        x = leaf([1.0, 3.0])
        a, b = self.Split.apply(x)
        (a * 3 + b).backward(ones(x))
        assert_close(x.grad, np.array([6.0 + 2.0, 6.0 + 6.0]))

    def test_one_output_unused_gets_zeros(self):
        seen = []

        class Probe(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                seen.append((npv(ga), npv(gb)))
                return ga * 2 + gb * 3
        x = leaf([1.0, 2.0])
        a, b = Probe.apply(x)
        b.backward(ones(b))
        np.testing.assert_allclose(seen[0][0], np.zeros(2))
        assert_close(x.grad, np.full(2, 3.0))

    def test_set_materialize_grads_false(self, torch):
        seen = []

        class NoMat(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                seen.append(gb)
                return ga * 2 if gb is None else ga * 2 + gb * 3
        x = leaf([1.0, 2.0])
        a, b = NoMat.apply(x)
        a.backward(ones(a))
        assert seen == [None]
        assert_close(x.grad, np.full(2, 2.0))

    def test_output_grad_fn_names(self):
        x = leaf([1.0])
        a, b = self.Split.apply(x)
        assert (a.output_nr, b.output_nr) == (0, 1)
        assert a.grad_fn.name() == b.grad_fn.name() == "SplitBackward"
        assert a.grad_fn.next_functions == b.grad_fn.next_functions or \
            a.grad_fn.next_functions[0][0].variable is x

    def test_backward_runs_once_for_both_outputs(self):
        calls = []

        class Count(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1, x * 1

            @staticmethod
            def backward(ctx, ga, gb):
                calls.append(1)
                return ga + gb
        x = leaf([1.0])
        a, b = Count.apply(x)
        autograd.backward([a, b], [ones(a), ones(b)])
        assert calls == [1]
        assert_close(x.grad, np.array([2.0]))

    def test_hooks_and_retain_grad_on_outputs(self):
        x = leaf([1.0])
        a, b = self.Split.apply(x)
        a.retain_grad()
        b.register_hook(lambda g: g * 10)
        (a + b).backward()
        assert_close(a.grad, np.array([1.0]))
        assert_close(x.grad, np.array([2.0 + 10 * 2.0]))

    def test_node_hooks_on_multi_output(self):
        x = leaf([1.0])
        a, b = self.Split.apply(x)
        pre = []
        a.grad_fn.register_prehook(lambda go: pre.append(tuple(None if g is None else npv(g) for g in go)))
        b.backward()
        assert len(pre) == 1 and len(pre[0]) == 2
        np.testing.assert_allclose(pre[0][1], [1.0])

    def test_autograd_grad_wrt_outputs(self):
        x = leaf([2.0])
        a, b = self.Split.apply(x)
        out = a * b
        ga, gb = autograd.grad(out, [a, b])
        assert_close(ga, npv(b))
        assert_close(gb, npv(a))

    def test_multi_output_create_graph(self, torch):
        class SinCos(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin(), x.cos()

            @staticmethod
            def backward(ctx, gs, gc):
                (x,) = ctx.saved_tensors
                return gs * x.cos() - gc * x.sin()
        x = leaf([0.4, 1.1])
        s, c = SinCos.apply(x)
        (g,) = autograd.grad(s * c, x, ones(x), create_graph=True)
        (gg,) = autograd.grad(g, x, ones(g))
        tx = torch.tensor([0.4, 1.1], dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(tx.sin() * tx.cos(), tx, torch.ones_like(tx), create_graph=True)
        (tgg,) = torch.autograd.grad(tg, tx, torch.ones_like(tg))
        assert_close(g, tg.detach().numpy())
        assert_close(gg, tgg.numpy())


class TestNonDifferentiable:
    def test_mark_non_differentiable(self):
        seen = []

        class SortVals(Function):
            @staticmethod
            def forward(ctx, x):
                idx = F.tensor(np.argsort(x.detach().numpy()))
                mask = x > 0
                ctx.mark_non_differentiable(idx, mask)
                return x * 1, idx, mask

            @staticmethod
            def backward(ctx, g, gi, gm):
                seen.append((gi, gm))
                return g * 2
        x = leaf([3.0, -1.0, 2.0])
        v, i, m = SortVals.apply(x)
        assert v.requires_grad
        assert not i.requires_grad and i.grad_fn is None
        assert not m.requires_grad and m.grad_fn is None
        v.backward(ones(v))
        assert_close(x.grad, np.full(3, 2.0))

    def test_non_tensor_output(self, torch):
        seen = []

        class WithCount(Function):
            @staticmethod
            def forward(ctx, x, n):
                return x * n, n

            @staticmethod
            def backward(ctx, g, gn):
                seen.append(gn)
                return g * 2, None
        x = leaf([1.0, 2.0])
        r, n = WithCount.apply(x, 2)
        assert n == 2
        r.backward(ones(r))
        assert seen == [None]

    def test_non_tensor_input_given_a_gradient(self):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x, n):
                return x * n

            @staticmethod
            def backward(ctx, g):
                return g, g
        with pytest.raises(RuntimeError, match="not a Tensor"):
            Bad.apply(leaf([1.0]), 2.0).backward()

    def test_integer_output_not_differentiable(self):
        class ToInt(Function):
            @staticmethod
            def forward(ctx, x):
                return F.tensor(np.round(x.detach().numpy()).astype(np.int64))

            @staticmethod
            def backward(ctx, g):
                return g
        y = ToInt.apply(leaf([1.4]))
        assert not y.requires_grad


class TestSetupContext:
    class Sq(Function):
        @staticmethod
        def forward(x, scale):
            return x * x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.scale, None

    def test_setup_context_style(self):
        x = leaf([1.0, 3.0])
        y = self.Sq.apply(x, 0.5)
        assert_close(y, np.array([0.5, 4.5]))
        y.backward(ones(y))
        assert_close(x.grad, np.array([1.0, 3.0]))

    def test_setup_context_gradcheck(self):
        x = leaf(RNG.standard_normal(4))
        assert gradcheck(lambda t: self.Sq.apply(t, 1.5), (x,))
        assert gradgradcheck(lambda t: self.Sq.apply(t, 1.5), (x,))

    def test_inherited_setup_context(self):
        class Sq2(self.Sq):
            pass
        x = leaf([2.0])
        Sq2.apply(x, 1.0).backward()
        assert_close(x.grad, np.array([4.0]))


class TestOnceDifferentiable:
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not F.is_grad_enabled()
            return 2 * x * g

    def test_first_order_works(self):
        x = leaf([3.0])
        self.Sq.apply(x).backward()
        assert_close(x.grad, np.array([6.0]))

    def test_create_graph_gives_constant(self, torch):
        x = leaf([3.0, 1.0])
        (g,) = autograd.grad(self.Sq.apply(x), x, ones(x), create_graph=True)
        assert_close(g, np.array([6.0, 2.0]))
        assert not g.requires_grad
        with pytest.raises(RuntimeError, match="does not require grad"):
            g.backward(ones(g))


class TestDifferentiableBackward:
    def test_gradcheck_and_gradgradcheck(self):
        x = leaf(RNG.standard_normal(5))
        assert gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
        assert gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))

    def test_gradcheck_three_inputs(self):
        a, b, c = leaf(RNG.standard_normal(3)), leaf(RNG.standard_normal(3)), leaf(RNG.standard_normal(3))
        assert gradcheck(MulAdd.apply, (a, b, c))
        assert gradgradcheck(MulAdd.apply, (a, b, c))

    def test_second_derivative_matches_torch(self, torch):
        x = leaf([0.5, -2.0])
        (g,) = autograd.grad(Cube.apply(x, 1.0), x, ones(x), create_graph=True)
        (gg,) = autograd.grad(g, x, ones(g))
        assert_close(gg, 6 * np.array([0.5, -2.0]))

    def test_custom_function_inside_backward_of_custom_function(self):
        class Inner(Function):
            @staticmethod
            def forward(ctx, g, x):
                ctx.save_for_backward(g, x)
                return 3 * g * x * x

            @staticmethod
            def backward(ctx, gg):
                g, x = ctx.saved_tensors
                return gg * 3 * x * x, gg * 6 * g * x

        class Outer(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return Inner.apply(g, x)
        x = leaf(RNG.standard_normal(3))
        assert gradcheck(Outer.apply, (x,))
        assert gradgradcheck(Outer.apply, (x,))


class TestGradientValidation:
    def test_too_few_gradients(self):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, g):
                return g
        a = leaf([1.0])
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            Bad.apply(a, a * 2).backward()

    def test_too_many_gradients(self):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g, g
        with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 1, got 2\)"):
            Bad.apply(leaf([1.0])).backward()

    def test_wrong_gradient_type(self):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return 1.0
        with pytest.raises(TypeError):
            Bad.apply(leaf([1.0])).backward()

    def test_incompatible_gradient_shape(self):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return F.ones(3, dtype=F.float64)
        with pytest.raises(RuntimeError, match="invalid gradient"):
            Bad.apply(leaf([1.0, 2.0])).backward(F.ones(2, dtype=F.float64))

    def test_broadcastable_gradient_is_summed(self, torch):
        class Wide(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return F.ones(3, 2, dtype=F.float64)
        x = leaf([1.0, 2.0])
        Wide.apply(x).backward(ones(x))
        assert_close(x.grad, np.full(2, 3.0))
        tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)

        class TWide(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return torch.ones(3, 2, dtype=torch.float64)
        TWide.apply(tx).backward(torch.ones(2, dtype=torch.float64))
        assert_close(x.grad, tx.grad.numpy())

    def test_gradient_dtype_cast_to_input(self):
        class Cast(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g.to(F.float64)
        x = leaf([1.0], np.float32)
        h = x * 1
        y = Cast.apply(h)
        y.backward()
        assert x.grad.dtype == F.float32


class TestInputsAsOutputs:
    def test_input_returned_as_is(self, torch):
        class Ident(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5
        x = leaf([1.0, 2.0])
        y = Ident.apply(x)
        assert y is not x
        assert y.grad_fn.name() == "IdentBackward"
        assert x.is_leaf and x.grad_fn is None
        y.backward(ones(y))
        assert_close(x.grad, np.full(2, 5.0))

    def test_mark_dirty_on_leaf_requiring_grad(self):
        class Double(Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2
        with pytest.raises(RuntimeError, match="leaf"):
            Double.apply(leaf([1.0]))

    def test_mark_dirty(self):
        class Double(Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = leaf([1.0, 2.0])
        h = x * 1
        v = h._version_value
        y = Double.apply(h)
        assert y is h
        assert h._version_value > v
        assert y.grad_fn.name() == "DoubleBackward"
        y.backward(ones(y))
        assert_close(x.grad, np.full(2, 2.0))
