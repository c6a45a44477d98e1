"""The backward engine and its entry points: Tensor.backward, autograd.backward, autograd.grad,
higher-order gradients, broadcasting, hooks, graph structure, leaf bookkeeping and in-place safety.

Gradients are compared with torch (the `torch` fixture skips cleanly when it is not installed)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import ferrum as F
from ferrum import autograd
from tests.helpers import leaf, ones, tleaf, values_closeness
from tests.helpers import npv_copy as npv

RNG = np.random.default_rng(0)


assert_close = values_closeness(rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- backward basics
class TestBackward:
    def test_scalar_0d(self, torch):
        x, tx = leaf(1.5), tleaf(torch, 1.5)
        (x * x * x).backward()
        (tx * tx * tx).backward()
        assert x.grad.shape == ()
        assert_close(x.grad, tx.grad)

    def test_shape_one(self, torch):
        x, tx = leaf([1.5]), tleaf(torch, [1.5])
        (x * x).exp().backward()
        (tx * tx).exp().backward()
        assert tuple(x.grad.shape) == (1,)
        assert_close(x.grad, tx.grad)

    def test_shape_one_one(self):
        x = leaf([[2.0]])
        (x * 3).backward()
        assert_close(x.grad, np.array([[3.0]]))

    def test_non_scalar_needs_gradient(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="scalar"):
            (x * 2).backward()

    def test_gradient_shape_mismatch(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
            (x * 2).backward(F.ones(3, dtype=F.float64))

    def test_gradient_not_a_tensor(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(TypeError):
            (x * 2).backward("ones")

    def test_explicit_gradient(self, torch):
        g = RNG.standard_normal(3)
        x, tx = leaf([0.5, -1.0, 2.0]), tleaf(torch, [0.5, -1.0, 2.0])
        (x.sin() * x).backward(F.tensor(g))
        (tx.sin() * tx).backward(torch.tensor(g))
        assert_close(x.grad, tx.grad)

    def test_gradient_dtype_cast_to_output(self):
        x = leaf([1.0, 2.0], np.float32)
        (x * 2).backward(F.ones(2, dtype=F.float64))
        assert x.grad.dtype == F.float32
        assert_close(x.grad, np.array([2.0, 2.0]))

    def test_output_without_grad(self):
        with pytest.raises(RuntimeError, match="does not require grad"):
            F.ones(2).backward(F.ones(2))
        with pytest.raises(RuntimeError, match="does not require grad"):
            (F.ones(()) * 2).backward()

    def test_backward_on_leaf(self):
        x = leaf([1.0, 2.0])
        x.backward(F.tensor([3.0, 4.0], dtype=F.float64))
        assert_close(x.grad, np.array([3.0, 4.0]))

    def test_gradient_is_copied(self):
        # the engine may hand its buffers to .grad; the user's gradient tensor must stay untouched
        x = leaf([1.0, 2.0])
        g = F.ones(2, dtype=F.float64)
        (x + 0).backward(g)
        assert x.grad is not g
        x.grad.mul_(5)
        assert_close(g, np.ones(2))
        g.add_(1)
        assert_close(x.grad, np.full(2, 5.0))

    def test_autograd_backward_multiple_roots(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        a, b = x * x, x.exp()
        ta, tb = tx * tx, tx.exp()
        autograd.backward([a, b], [F.ones(2, dtype=F.float64), F.full((2,), 2.0, dtype=F.float64)])
        torch.autograd.backward([ta, tb], [torch.ones(2, dtype=torch.float64),
                                           torch.full((2,), 2.0, dtype=torch.float64)])
        assert_close(x.grad, tx.grad)

    def test_root_reachable_from_other_root(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        h = x * 3
        out = h * h
        th = tx * 3
        tout = th * th
        autograd.backward([out, h], [ones(out), ones(h)])
        torch.autograd.backward([tout, th], [torch.ones_like(tout), torch.ones_like(th)])
        assert_close(x.grad, tx.grad)


# --------------------------------------------------------------------------- retain_graph
class TestRetainGraph:
    def test_retain_graph_twice(self, torch):
        x, tx = leaf([0.5, 1.5]), tleaf(torch, [0.5, 1.5])
        y, ty = (x * x).exp(), (tx * tx).exp()
        y.backward(ones(y), retain_graph=True)
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty), retain_graph=True)
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)

    @pytest.mark.parametrize("op", ["mul", "exp", "tanh", "div", "sin", "pow"])
    def test_freed_graph_raises(self, op):
        x = leaf([0.5, 1.5])
        y = {"mul": lambda: x * x, "exp": lambda: x.exp(), "tanh": lambda: x.tanh(),
             "div": lambda: x / (x + 1), "sin": lambda: x.sin(), "pow": lambda: x ** 3}[op]()
        y.backward(ones(y))
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward(ones(y))

    def test_freed_graph_message_mentions_retain_graph(self):
        x = leaf([0.5])
        y = x * x
        y.backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.backward()

    def test_freed_graph_via_autograd_grad(self):
        x = leaf([0.5])
        y = x.exp()
        autograd.grad(y, x)
        with pytest.raises(RuntimeError, match="second time"):
            autograd.grad(y, x)

    @pytest.mark.parametrize("op", ["add", "neg", "sub_scalar", "sub"])
    def test_nothing_saved_backward_twice_ok(self, op, torch):
        f = {"add": lambda a: a + a, "neg": lambda a: -a, "sub_scalar": lambda a: a - 3.0,
             "sub": lambda a: (a + 1) - a}[op]
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        y, ty = f(x), f(tx)
        y.backward(ones(y))
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty))
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)

    def test_create_graph_retains_by_default(self):
        x = leaf([1.0, 2.0])
        y = x.exp()
        autograd.grad(y, x, ones(y), create_graph=True)
        (g,) = autograd.grad(y, x, ones(y))  # still there
        assert_close(g, np.exp([1.0, 2.0]))


# --------------------------------------------------------------------------- higher order
HIGHER = {
    "pow3": lambda m, x: x ** 3,
    "mul3": lambda m, x: x * x * x,
    "sin": lambda m, x: x.sin(),
    "cos": lambda m, x: x.cos(),
    "tanh": lambda m, x: x.tanh(),
    "exp": lambda m, x: x.exp(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "log": lambda m, x: (x * x + 1).log(),
    "sqrt": lambda m, x: (x * x + 1).sqrt(),
    "recip": lambda m, x: 1 / (x * x + 1),
    "div": lambda m, x: x.sin() / (x * x + 2),
    "composite": lambda m, x: (x.tanh() * x.exp()).sin(),
}


class TestHigherOrder:
    @pytest.mark.parametrize("name", sorted(HIGHER))
    def test_derivatives_1_to_3(self, name, torch):
        f = HIGHER[name]
        vals = [0.3, -1.2, 2.0]
        x, tx = leaf(vals), tleaf(torch, vals)
        g, tg = f(F, x), f(torch, tx)
        for order in range(3):
            (g,) = autograd.grad(g, x, ones(g), create_graph=True)
            (tg,) = torch.autograd.grad(tg, tx, torch.ones_like(tg), create_graph=True)
            assert_close(g, tg, rtol=1e-9), f"order {order + 1}"
            if order == 0:
                assert g.requires_grad

    @pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
    def test_backward_create_graph_then_backward(self, torch):
        x, tx = leaf([0.5, 2.0]), tleaf(torch, [0.5, 2.0])
        y, ty = x ** 3, tx ** 3
        y.backward(ones(y), create_graph=True)
        ty.backward(torch.ones_like(ty), create_graph=True)
        assert x.grad.requires_grad
        gx, tgx = x.grad, tx.grad
        x.grad = None
        tx.grad = None
        gx.backward(ones(gx))
        tgx.backward(torch.ones_like(tgx))
        assert_close(x.grad, tx.grad)  # 6x

    def test_mixed_partials(self, torch):
        x, y = leaf([1.0, 2.0]), leaf([0.5, -0.3])
        tx, ty = tleaf(torch, [1.0, 2.0]), tleaf(torch, [0.5, -0.3])
        z, tz = (x * y).sin() * x, (tx * ty).sin() * tx
        gx, = autograd.grad(z, x, ones(z), create_graph=True)
        tgx, = torch.autograd.grad(tz, tx, torch.ones_like(tz), create_graph=True)
        gxy, = autograd.grad(gx, y, ones(gx))
        tgxy, = torch.autograd.grad(tgx, ty, torch.ones_like(tgx))
        assert_close(gxy, tgxy)

    def test_grad_without_create_graph_is_constant(self):
        x = leaf([1.0])
        (g,) = autograd.grad(x ** 2, x)
        assert not g.requires_grad and g.grad_fn is None

    def test_create_graph_leaf_grad_not_aliased(self):
        x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        g = F.ones(2, dtype=F.float64)
        (x + y).backward(g, create_graph=True)
        assert x.grad is not y.grad and x.grad is not g
        x.grad.mul_(0)
        assert_close(y.grad, np.ones(2))
        assert_close(g, np.ones(2))

    @pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
    def test_create_graph_accumulates_differentiably(self, torch):
        x, tx = leaf([1.5]), tleaf(torch, [1.5])
        for _ in range(2):
            (x ** 3).backward(create_graph=True)
            (tx ** 3).backward(create_graph=True)
        assert x.grad.requires_grad
        (gg,) = autograd.grad(x.grad, x)
        (tgg,) = torch.autograd.grad(tx.grad, tx)
        assert_close(gg, tgg)


# --------------------------------------------------------------------------- autograd.grad
class TestGrad:
    def test_grad_outputs(self, torch):
        go = RNG.standard_normal(3)
        x, tx = leaf([1.0, 2.0, 3.0]), tleaf(torch, [1.0, 2.0, 3.0])
        (g,) = autograd.grad(x.exp() * x, x, F.tensor(go))
        (tg,) = torch.autograd.grad(tx.exp() * tx, tx, torch.tensor(go))
        assert_close(g, tg)

    def test_does_not_touch_grad(self):
        x = leaf([1.0, 2.0])
        autograd.grad(x * x, x, ones(x))
        assert x.grad is None

    def test_scalar_output_needs_no_grad_outputs(self):
        x = leaf(2.0)
        (g,) = autograd.grad(x * x, x)
        assert_close(g, np.array(4.0))

    def test_single_tensor_inputs_returns_tuple(self):
        x = leaf([1.0])
        r = autograd.grad(x * 2, x)
        assert isinstance(r, tuple) and len(r) == 1

    def test_allow_unused(self):
        x, z = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        y = x * 3
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            autograd.grad(y, [x, z], ones(y), retain_graph=True)
        gx, gz = autograd.grad(y, [x, z], ones(y), allow_unused=True)
        assert gz is None
        assert_close(gx, np.full(2, 3.0))

    def test_materialize_grads(self, torch):
        x, z = leaf([1.0, 2.0]), leaf([np.inf, np.nan])
        y = x * 3
        gx, gz = autograd.grad(y, [x, z], ones(y), materialize_grads=True)
        assert_close(gz, np.zeros(2))  # zeros even where the input is inf or nan
        assert gz.dtype == z.dtype and not gz.requires_grad
        y = x * 3
        _, gz = autograd.grad(y, [x, z], ones(y), materialize_grads=True, create_graph=True)
        tx, tz = tleaf(torch, [1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        _, tgz = torch.autograd.grad(tx * 3, [tx, tz], torch.ones(2, dtype=torch.float64),
                                     materialize_grads=True, create_graph=True)
        assert gz.requires_grad == tgz.requires_grad

    def test_materialize_grads_with_allow_unused_false(self):
        x, z = leaf([1.0]), leaf([2.0])
        with pytest.raises(ValueError, match="allow_unused"):
            autograd.grad(x * 2, [x, z], allow_unused=False, materialize_grads=True)

    def test_non_leaf_inputs(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        h, th = x * x, tx * tx
        out, tout = h.exp() * x, th.exp() * tx
        gh, gx = autograd.grad(out, [h, x], ones(out))
        tgh, tgx = torch.autograd.grad(tout, [th, tx], torch.ones_like(tout))
        assert_close(gh, tgh)
        assert_close(gx, tgx)
        assert h.grad is None and x.grad is None

    def test_output_as_input(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        (g,) = autograd.grad(y, y, F.tensor([3.0, 4.0], dtype=F.float64))
        assert_close(g, np.array([3.0, 4.0]))

    def test_multiple_outputs(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        (g,) = autograd.grad([x * 2, x * x], x, [ones(x), F.full((2,), 3.0, dtype=F.float64)])
        (tg,) = torch.autograd.grad([tx * 2, tx * tx], tx, [torch.ones(2, dtype=torch.float64),
                                                           torch.full((2,), 3.0, dtype=torch.float64)])
        assert_close(g, tg)

    def test_multiple_outputs_none_grad_output_for_scalar(self):
        x = leaf(2.0)
        (g,) = autograd.grad([x * 2, x * x], x, [None, None])
        assert_close(g, np.array(6.0))

    def test_grad_outputs_count_mismatch(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError):
            autograd.grad([x * 2, x * 3], x, [ones(x)])

    def test_input_not_requiring_grad(self):
        x = leaf([1.0])
        c = F.ones(1, dtype=F.float64)
        with pytest.raises(RuntimeError, match="does not require grad"):
            autograd.grad(x * c, [c])

    def test_empty_inputs(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError):
            autograd.grad(x * 2, [])

    def test_create_graph(self, torch):
        x, tx = leaf([0.5, 1.0]), tleaf(torch, [0.5, 1.0])
        (g,) = autograd.grad(x.sin() * x, x, ones(x), create_graph=True)
        (tg,) = torch.autograd.grad(tx.sin() * tx, tx, torch.ones_like(tx), create_graph=True)
        (gg,) = autograd.grad(g * g, x, ones(g))
        (tgg,) = torch.autograd.grad(tg * tg, tx, torch.ones_like(tg))
        assert_close(gg, tgg)

    def test_grad_wrt_intermediate_skips_upstream(self):
        # only the part of the graph between the outputs and the inputs runs
        calls = []
        x = leaf([1.0, 2.0])
        x.register_hook(lambda g: calls.append("x"))
        h = x.exp()
        h.register_hook(lambda g: calls.append("h"))
        out = h * 3
        (g,) = autograd.grad(out, h, ones(out))
        assert_close(g, np.full(2, 3.0))
        assert calls == ["h"]

    def test_unrelated_leaf_hooks_not_called(self):
        calls = []
        x, w = leaf([1.0]), leaf([2.0])
        x.register_hook(lambda g: calls.append("x"))
        y = x * w
        (gw,) = autograd.grad(y, w)
        assert_close(gw, np.array([1.0]))
        assert calls == []

    def test_autograd_grad_results_not_aliased_to_grads(self):
        x = leaf([1.0, 2.0])
        (x * 2).backward(ones(x))
        (g,) = autograd.grad(x * 2, x, ones(x))
        g.zero_()
        assert_close(x.grad, np.full(2, 2.0))


# --------------------------------------------------------------------------- backward(inputs=...)
class TestBackwardInputs:
    def test_only_listed_leaves_accumulate(self, torch):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        tx, tw = tleaf(torch, [1.0, 2.0]), tleaf(torch, [3.0, 4.0])
        (x * w).backward(ones(x), inputs=[x])
        (tx * tw).backward(torch.ones(2, dtype=torch.float64), inputs=[tx])
        assert w.grad is None and tw.grad is None
        assert_close(x.grad, tx.grad)

    def test_single_tensor_inputs(self):
        x, w = leaf([1.0]), leaf([3.0])
        (x * w).backward(inputs=w)
        assert x.grad is None
        assert_close(w.grad, np.array([1.0]))

    def test_non_leaf_input(self, torch):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        tx, tw = tleaf(torch, [1.0, 2.0]), tleaf(torch, [3.0, 4.0])
        h, th = x * w, tx * tw
        (h * h).backward(ones(h), inputs=[h])
        (th * th).backward(torch.ones_like(th), inputs=[th])
        assert_close(h.grad, th.grad)
        assert x.grad is None and w.grad is None

    def test_accumulates_across_calls(self):
        x, w = leaf([1.0]), leaf([3.0])
        (x * w).backward(inputs=[x])
        (x * w).backward(inputs=[x])
        assert_close(x.grad, np.array([6.0]))
        assert w.grad is None

    def test_leaf_and_non_leaf_together(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        h, th = x.exp(), tx.exp()
        (h * x).backward(ones(x), inputs=[h, x])
        (th * tx).backward(torch.ones_like(tx), inputs=[th, tx])
        assert_close(h.grad, th.grad)
        assert_close(x.grad, tx.grad)

    def test_empty_inputs(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError, match="cannot be empty"):
            (x * 2).backward(inputs=[])


# --------------------------------------------------------------------------- accumulation
class TestAccumulation:
    def test_two_backwards_sum(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        for _ in range(2):
            (x * x).backward(ones(x))
            (tx * tx).backward(torch.ones_like(tx))
        assert_close(x.grad, tx.grad)

    def test_zero_grad_then_backward(self):
        x = leaf([1.0, 2.0])
        (x * 3).backward(ones(x))
        x.grad.zero_()
        (x * 3).backward(ones(x))
        assert_close(x.grad, np.full(2, 3.0))

    def test_grad_none_then_backward(self):
        x = leaf([1.0, 2.0])
        (x * 3).backward(ones(x))
        g = x.grad
        x.grad = None
        (x * 5).backward(ones(x))
        assert_close(x.grad, np.full(2, 5.0))
        assert_close(g, np.full(2, 3.0))

    def test_leaf_grads_not_aliased(self, torch):
        x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        (x + y).backward(ones(x))
        x.grad.zero_()
        assert_close(y.grad, np.ones(2))

    def test_leaf_grads_not_aliased_through_pass_through_ops(self):
        x, y, z = leaf([1.0]), leaf([2.0]), leaf([3.0])
        ((x + 1) + (y - 2) + z).backward(F.ones(1, dtype=F.float64))
        x.grad.add_(10)
        y.grad.add_(100)
        assert_close(z.grad, np.ones(1))
        assert_close(x.grad, np.array([11.0]))
        assert_close(y.grad, np.array([101.0]))

    def test_same_leaf_twice_in_op(self, torch):
        x, tx = leaf([1.5]), tleaf(torch, [1.5])
        (x + x).backward()
        (tx + tx).backward()
        assert_close(x.grad, tx.grad)


# --------------------------------------------------------------------------- broadcasting and dtypes
BROADCAST = [
    ((3, 1), (1, 4), "add"),
    ((4,), (2, 3, 4), "mul"),
    ((2, 1, 3), (4, 1), "sub"),
    ((), (2, 3), "mul"),
    ((2, 3), (1,), "div"),
    ((5, 1, 1), (1, 2, 1), "add"),
]


class TestBroadcast:
    @pytest.mark.parametrize("sa,sb,op", BROADCAST)
    def test_grads_reduced_to_operand_shapes(self, sa, sb, op, torch):
        a0 = RNG.standard_normal(sa) + 3.0
        b0 = RNG.standard_normal(sb) + 3.0
        fn = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
              "div": lambda a, b: a / b}[op]
        a, b = leaf(a0), leaf(b0)
        ta, tb = tleaf(torch, a0), tleaf(torch, b0)
        out, tout = fn(a, b), fn(ta, tb)
        g = RNG.standard_normal(tuple(tout.shape))
        out.backward(F.tensor(g))
        tout.backward(torch.tensor(g))
        assert tuple(a.grad.shape) == sa and tuple(b.grad.shape) == sb
        assert_close(a.grad, ta.grad)
        assert_close(b.grad, tb.grad)

    def test_broadcast_create_graph(self, torch):
        a0, b0 = RNG.standard_normal((3, 1)), RNG.standard_normal((1, 4))
        a, b = leaf(a0), leaf(b0)
        ta, tb = tleaf(torch, a0), tleaf(torch, b0)
        ga, = autograd.grad((a * b).sin(), a, F.ones(3, 4, dtype=F.float64), create_graph=True)
        tga, = torch.autograd.grad((ta * tb).sin(), ta, torch.ones(3, 4, dtype=torch.float64),
                                   create_graph=True)
        assert tuple(ga.shape) == (3, 1)
        gb, = autograd.grad(ga, b, ones(ga))
        tgb, = torch.autograd.grad(tga, tb, torch.ones_like(tga))
        assert_close(gb, tgb)


class TestDtypes:
    def test_grad_dtype_follows_input_under_promotion(self, torch):
        a, b = leaf([1.0, 2.0], np.float32), leaf([3.0, 4.0], np.float64)
        c = a * b
        assert c.dtype == F.float64
        c.backward(ones(c))
        assert a.grad.dtype == F.float32 and b.grad.dtype == F.float64
        ta, tb = tleaf(torch, [1.0, 2.0], np.float32), tleaf(torch, [3.0, 4.0], np.float64)
        (ta * tb).backward(torch.ones(2, dtype=torch.float64))
        assert_close(a.grad, ta.grad)
        assert_close(b.grad, tb.grad)

    def test_python_scalar_keeps_dtype(self):
        a = leaf([1.0, 2.0], np.float32)
        (a * 2.5 + 1.0).backward(F.ones(2))
        assert a.grad.dtype == F.float32

    def test_integer_operand(self):
        a = leaf([1.0, 2.0], np.float32)
        i = F.tensor([3, 4])
        (a * i).backward(F.ones(2))
        assert a.grad.dtype == F.float32
        assert_close(a.grad, np.array([3.0, 4.0]))

    def test_float64_grad_into_float32_via_autograd_grad(self):
        a = leaf([1.0], np.float32)
        b = leaf([2.0], np.float64)
        ga, gb = autograd.grad(a * b, [a, b], F.ones(1, dtype=F.float64))
        assert ga.dtype == F.float32 and gb.dtype == F.float64


# --------------------------------------------------------------------------- graph shapes
class TestGraphShapes:
    def test_long_chain_no_recursion(self):
        x = leaf([1.0])
        y = x
        for _ in range(10_000):
            y = y * 1.0001
        y.backward()
        np.testing.assert_allclose(npv(x.grad), [1.0001 ** 10_000], rtol=1e-9)

    def test_long_chain_saved_tensors(self):
        # 20,000 nodes each saving tensors, deeper than the interpreter's recursion limit
        n = max(10_000, sys.getrecursionlimit() * 2)
        x = leaf([0.5])
        y = x
        for _ in range(n // 2):
            y = (y * y + 0.25).sqrt()
        y.backward()
        assert np.isfinite(npv(x.grad)).all()

    def test_long_chain_create_graph(self):
        x = leaf([1.0])
        y = x
        for _ in range(3_000):
            y = y * 1.0
        (g,) = autograd.grad(y * y, x, create_graph=True)
        (gg,) = autograd.grad(g, x)
        assert_close(gg, np.array([2.0]))

    def test_long_chain_freed_without_recursion(self):
        x = leaf([1.0])
        y = x
        for _ in range(50_000):
            y = y + 1.0
        del y  # freeing a very deep graph must not blow the C stack

    def test_diamond(self, torch):
        def f(m, x):
            a = x * 2
            b = x * x
            c = a * b
            return c + a + x + b.exp() * x
        x, tx = leaf([1.0, 0.5]), tleaf(torch, [1.0, 0.5])
        f(F, x).backward(ones(x))
        f(torch, tx).backward(torch.ones_like(tx))
        assert_close(x.grad, tx.grad)

    def test_wide_fan_out(self, torch):
        x, tx = leaf([0.3]), tleaf(torch, [0.3])
        y, ty = x * 0, tx * 0
        for k in range(200):
            y = y + x * float(k)
            ty = ty + tx * float(k)
        y = y * x
        ty = ty * tx
        y.backward()
        ty.backward()
        assert_close(x.grad, tx.grad)

    def test_shared_subgraph(self, torch):
        def f(m, x):
            h = x.tanh()
            h2 = h * h
            return (h2 + h).sin() * h2
        x, tx = leaf([0.7, -0.2]), tleaf(torch, [0.7, -0.2])
        f(F, x).backward(ones(x))
        f(torch, tx).backward(torch.ones_like(tx))
        assert_close(x.grad, tx.grad)

    def test_branch_without_grad(self):
        x = leaf([1.0])
        c = F.tensor([2.0], dtype=F.float64)
        y = x * c + c * c
        y.backward()
        assert_close(x.grad, np.array([2.0]))
        assert c.grad is None


# --------------------------------------------------------------------------- hooks
class TestTensorHooks:
    def test_leaf_hook_modifies(self, torch):
        x = leaf([1.0, 2.0])
        x.register_hook(lambda g: g * 2)
        (x * 3).backward(ones(x))
        assert_close(x.grad, np.full(2, 6.0))

    def test_leaf_hook_returning_none_observes(self):
        seen = []
        x = leaf([1.0, 2.0])
        x.register_hook(lambda g: seen.append(npv(g)))
        (x * 3).backward(ones(x))
        assert len(seen) == 1
        np.testing.assert_allclose(seen[0], [3.0, 3.0])
        assert_close(x.grad, np.full(2, 3.0))

    def test_remove_handle(self):
        x = leaf([1.0, 2.0])
        h = x.register_hook(lambda g: g * 2)
        h.remove()
        h.remove()  # twice is harmless
        (x * 3).backward(ones(x))
        assert_close(x.grad, np.full(2, 3.0))

    def test_hooks_run_in_order(self):
        x = leaf([1.0])
        x.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: g * 10)
        (x * 1).backward()
        assert_close(x.grad, np.array([20.0]))

    def test_non_leaf_hook_changes_upstream(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        y, ty = x * 3, tx * 3
        y.register_hook(lambda g: g + 1)
        ty.register_hook(lambda g: g + 1)
        (y * y).backward(ones(y))
        (ty * ty).backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)

    def test_non_leaf_hook_sees_summed_grad(self):
        seen = []
        x = leaf([1.0])
        y = x * 2
        y.register_hook(lambda g: seen.append(npv(g).item()))
        (y * 3 + y * 4).backward()
        assert seen == [7.0]

    def test_hook_on_tensor_without_grad(self):
        with pytest.raises(RuntimeError):
            F.ones(2).register_hook(lambda g: g)

    def test_hook_returning_wrong_type(self):
        x = leaf([1.0])
        x.register_hook(lambda g: 3.0)
        with pytest.raises(TypeError):
            (x * 2).backward()

    def test_hook_under_create_graph(self, torch):
        x, tx = leaf([1.5]), tleaf(torch, [1.5])
        y, ty = x * x, tx * tx
        y.register_hook(lambda g: g * y)
        ty.register_hook(lambda g: g * ty)
        (g,) = autograd.grad(y * 2, x, create_graph=True)
        (tg,) = torch.autograd.grad(ty * 2, tx, create_graph=True)
        assert_close(g, tg)
        (gg,) = autograd.grad(g, x)
        (tgg,) = torch.autograd.grad(tg, tx)
        assert_close(gg, tgg)


class TestRetainGrad:
    def test_non_leaf(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        y, ty = x * 3, tx * 3
        y.retain_grad()
        ty.retain_grad()
        assert y.retains_grad and not x.retains_grad
        (y * y).backward(ones(y))
        (ty * ty).backward(torch.ones_like(ty))
        assert_close(y.grad, ty.grad)

    def test_accumulates(self):
        x = leaf([1.0])
        y = x * 3
        y.retain_grad()
        (y * 2).backward()
        (y * 5).backward()
        assert_close(y.grad, np.array([7.0]))

    def test_without_retain_grad_non_leaf_grad_is_none(self):
        x = leaf([1.0])
        y = x * 3
        (y * 2).backward()
        assert y.grad is None

    def test_retain_grad_on_leaf_is_noop(self):
        x = leaf([1.0])
        x.retain_grad()
        (x * 2).backward()
        assert_close(x.grad, np.array([2.0]))

    def test_retain_grad_sees_hooked_grad(self, torch):
        x, tx = leaf([1.0]), tleaf(torch, [1.0])
        y, ty = x * 3, tx * 3
        y.retain_grad()
        ty.retain_grad()
        y.register_hook(lambda g: g * 10)
        ty.register_hook(lambda g: g * 10)
        (y * 2).backward()
        (ty * 2).backward()
        assert_close(y.grad, ty.grad)

    def test_retained_grad_not_aliased(self):
        x = leaf([1.0, 2.0])
        y = x * 1
        y.retain_grad()
        z = y + 0
        z.retain_grad()
        z.backward(ones(z))
        y.grad.mul_(7)
        assert_close(z.grad, np.ones(2))
        assert_close(x.grad, np.ones(2))

    def test_requires_grad_false(self):
        with pytest.raises(RuntimeError):
            F.ones(2).retain_grad()

    def test_follows_in_place(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        y, ty = x * 2, tx * 2
        y.retain_grad()
        ty.retain_grad()
        y.mul_(3)
        ty.mul_(3)
        assert y.retains_grad and ty.retains_grad
        (y * 5).backward(ones(y))
        (ty * 5).backward(torch.ones_like(ty))
        assert_close(y.grad, ty.grad)
        assert_close(x.grad, tx.grad)


class TestPostAccumulateGradHook:
    def test_called_after_accumulation(self, torch):
        seen = []
        x = leaf([1.0, 2.0])
        x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, npv(t.grad))))
        (x * 3).backward(ones(x))
        (x * 3).backward(ones(x))
        assert [s[0] for s in seen] == [True, True]
        np.testing.assert_allclose(seen[1][1], [6.0, 6.0])

    def test_not_called_by_autograd_grad(self):
        seen = []
        x = leaf([1.0])
        x.register_post_accumulate_grad_hook(lambda t: seen.append(1))
        autograd.grad(x * 3, x)
        assert seen == []

    def test_remove(self):
        seen = []
        x = leaf([1.0])
        h = x.register_post_accumulate_grad_hook(lambda t: seen.append(1))
        h.remove()
        (x * 3).backward()
        assert seen == []

    def test_non_leaf_raises(self):
        with pytest.raises(RuntimeError, match="non-leaf"):
            (leaf([1.0]) * 2).register_post_accumulate_grad_hook(lambda t: None)

    def test_optimizer_in_backward(self):
        x = leaf([1.0, 2.0])

        def step(t):
            with F.no_grad():
                t.sub_(t.grad * 0.5)
            t.grad = None
        x.register_post_accumulate_grad_hook(step)
        (x * x).backward(ones(x))
        assert x.grad is None
        assert_close(x, np.array([0.0, 0.0]))


class TestNodeHooks:
    def test_pre_and_post_hooks_vs_torch(self, torch):
        def run(m, x):
            calls = []
            y = x * 3
            z = y.exp()
            z.grad_fn.register_prehook(lambda go: calls.append(("pre", [npv(g) for g in go])))
            z.grad_fn.register_hook(lambda gi, go: calls.append(
                ("post", [npv(g) for g in gi], [npv(g) for g in go])))
            z.backward(m.ones(2, dtype=x.dtype))
            return calls
        a = run(F, leaf([0.1, 0.2]))
        b = run(torch, tleaf(torch, [0.1, 0.2]))
        assert [c[0] for c in a] == [c[0] for c in b] == ["pre", "post"]
        for ca, cb in zip(a, b):
            for la, lb in zip(ca[1:], cb[1:]):
                for ga, gb in zip(la, lb):
                    np.testing.assert_allclose(ga, gb)

    def test_prehook_replaces_grad(self, torch):
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        y, ty = x.sin(), tx.sin()
        y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        ty.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)

    def test_post_hook_replaces_grad_inputs(self, torch):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        tx, tw = tleaf(torch, [1.0, 2.0]), tleaf(torch, [3.0, 4.0])
        y, ty = x * w, tx * tw
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))
        ty.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)
        assert_close(w.grad, tw.grad)

    def test_remove_node_hook(self):
        x = leaf([1.0])
        y = x.exp()
        calls = []
        h = y.grad_fn.register_prehook(lambda go: calls.append(1))
        h.remove()
        y.backward()
        assert calls == []

    def test_handle_context_manager(self):
        x = leaf([1.0])
        calls = []
        y = x.exp()
        with y.grad_fn.register_hook(lambda gi, go: calls.append(1)):
            pass
        y.backward()
        assert calls == []


# --------------------------------------------------------------------------- graph structure
class TestGraphStructure:
    @pytest.mark.parametrize("expr", ["add", "mul", "tanh", "exp", "sub", "div", "neg", "sin", "pow",
                                      "sigmoid"])
    def test_grad_fn_names(self, expr, torch):
        f = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "tanh": lambda a, b: a.tanh(),
             "exp": lambda a, b: a.exp(), "sub": lambda a, b: a - b, "div": lambda a, b: a / b,
             "neg": lambda a, b: -a, "sin": lambda a, b: a.sin(), "pow": lambda a, b: a ** 2,
             "sigmoid": lambda a, b: a.sigmoid()}[expr]
        y = f(leaf([1.0]), leaf([2.0]))
        ty = f(tleaf(torch, [1.0]), tleaf(torch, [2.0]))
        assert y.grad_fn.name() == ty.grad_fn.name()
        assert ty.grad_fn.name() in repr(y.grad_fn)

    def test_next_functions(self, torch):
        def build(m, a, b, c):
            return (a * b + c).tanh()
        a, b, c = leaf([1.0]), leaf([2.0]), F.tensor([3.0], dtype=F.float64)
        ta, tb, tc = tleaf(torch, [1.0]), tleaf(torch, [2.0]), torch.tensor([3.0], dtype=torch.float64)
        y, ty = build(F, a, b, c), build(torch, ta, tb, tc)

        def shape(fn):
            if fn is None:
                return None
            name = fn.name().replace("torch::autograd::", "")
            return (name, tuple(shape(n) for n, _ in fn.next_functions))
        assert shape(y.grad_fn) == shape(ty.grad_fn)
        add = y.grad_fn.next_functions[0][0]
        mul = add.next_functions[0][0]
        assert add.next_functions[1] == (None, 0)
        assert mul.next_functions[0][0].variable is a
        assert mul.next_functions[1][0].variable is b
        assert all(i == 0 for _, i in mul.next_functions)

    def test_leaf_grad_fn_none(self):
        x = leaf([1.0])
        assert x.grad_fn is None and x.is_leaf

    def test_scalar_op_next_functions(self):
        x = leaf([1.0])
        acc = (x * 2.0).grad_fn.next_functions[0][0]
        assert acc.name() == "AccumulateGrad" and acc.variable is x


# --------------------------------------------------------------------------- leaf bookkeeping
class TestLeafState:
    def test_is_leaf_and_requires_grad_propagation(self):
        x = leaf([1.0])
        c = F.tensor([2.0], dtype=F.float64)
        assert c.is_leaf and not c.requires_grad
        y = x * c
        assert y.requires_grad and not y.is_leaf
        z = c * 3
        assert not z.requires_grad and z.is_leaf and z.grad_fn is None

    def test_integer_and_bool_results_do_not_require_grad(self, torch):
        x = leaf([1.5, -2.0])
        for m, t in ((F, x), (torch, tleaf(torch, [1.5, -2.0]))):
            assert not t.to(m.int64).requires_grad
            assert not (t > 0).requires_grad
        assert x.to(F.int64).grad_fn is None

    def test_no_grad_results_are_leaves(self):
        x = leaf([1.0])
        with F.no_grad():
            y = x * 2
        assert not y.requires_grad and y.is_leaf

    def test_detach_shares_memory_and_version(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        d = y.detach()
        assert d.is_leaf and not d.requires_grad and d.grad_fn is None
        d.add_(1)
        assert_close(y, np.array([3.0, 5.0]))
        assert y._version_value == d._version_value == 1

    def test_detach_of_saved_tensor_is_caught(self, torch):
        x = leaf([1.0, 2.0])
        y = x.exp()
        y.detach().zero_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(ones(y))

    def test_detach_(self):
        x = leaf([1.0])
        y = x * 2
        r = y.detach_()
        assert r is y and y.is_leaf and not y.requires_grad and y.grad_fn is None

    def test_data_is_untracked(self, torch):
        x = leaf([1.0, 2.0])
        y = x * x
        x.data.mul_(2)  # as PyTorch: not seen by the version check
        y.backward(ones(y))
        assert_close(x.grad, np.array([4.0, 8.0]))
        assert not x.data.requires_grad

    def test_requires_grad_on_non_leaf(self):
        x = leaf([1.0])
        y = x * 2
        with pytest.raises(RuntimeError, match="leaf"):
            y.requires_grad_(False)
        assert y.requires_grad_(True) is y

    def test_requires_grad_on_integer_tensor(self):
        with pytest.raises(RuntimeError, match="floating point"):
            F.tensor([1, 2]).requires_grad_()
        with pytest.raises(RuntimeError, match="floating point"):
            F.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError):
            F.tensor([True]).requires_grad_()

    def test_requires_grad_toggle_on_leaf(self):
        x = F.ones(2)
        assert x.requires_grad_() is x and x.requires_grad
        x.requires_grad_(False)
        assert not x.requires_grad

    def test_grad_setter_validation(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(TypeError):
            x.grad = np.ones(2)
        with pytest.raises(RuntimeError, match="size"):
            x.grad = F.ones(3, dtype=F.float64)
        with pytest.raises(RuntimeError, match="type"):
            x.grad = F.ones(2, dtype=F.float32)
        g = F.full((2,), 4.0, dtype=F.float64)
        x.grad = g
        assert x.grad is g
        (x * 1).backward(ones(x))
        assert_close(x.grad, np.full(2, 5.0))
        x.grad = None
        assert x.grad is None
        x.grad = g
        del x.grad
        assert x.grad is None

    def test_non_leaf_grad_is_none(self):
        x = leaf([1.0])
        y = x * 2
        y.backward()
        assert y.grad is None


# --------------------------------------------------------------------------- in-place safety
class TestInplace:
    def test_modified_saved_output(self):
        x = leaf([1.0, 2.0])
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError) as e:
            y.backward(ones(y))
        msg = str(e.value)
        assert "modified by an inplace operation" in msg
        assert "ExpBackward0" in msg
        assert "[2]" in msg
        assert "version 1" in msg and "version 0" in msg

    def test_modified_saved_input(self):
        x = leaf([1.0, 2.0])
        a = x * 2
        b = a * a
        a.add_(1)
        with pytest.raises(RuntimeError, match=r"MulBackward0.*|version 1; expected version 0"):
            b.backward(ones(b))

    def test_modified_saved_input_message(self):
        x = leaf([[1.0, 2.0, 3.0]])
        a = x * 2
        b = a.sin()
        a.mul_(3)
        with pytest.raises(RuntimeError, match=r"\[1, 3\].*version 1; expected version 0.*SinBackward0"):
            b.backward(ones(b))

    def test_leaf_requiring_grad(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1)
        with pytest.raises(RuntimeError, match="leaf"):
            x.mul_(2)
        with pytest.raises(RuntimeError, match="leaf"):
            x += 1

    def test_leaf_under_no_grad(self):
        x = leaf([1.0, 2.0])
        with F.no_grad():
            x.add_(1)
            x.mul_(2)
        assert_close(x, np.array([4.0, 6.0]))
        assert x.is_leaf and x.requires_grad
        (x * x).backward(ones(x))
        assert_close(x.grad, np.array([8.0, 12.0]))

    def test_in_place_bumps_version(self):
        x = F.ones(2)
        v = x._version_value
        x.add_(1)
        x.mul_(2)
        assert x._version_value == v + 2

    def test_non_leaf_in_place_grads(self, torch):
        def run(m, x, w):
            y = x * 2
            y.mul_(3)
            y.add_(w)
            y.sub_(w, alpha=2)
            y.exp_()
            return y
        x, w = leaf([0.1, 0.2]), leaf([0.5, -0.5])
        tx, tw = tleaf(torch, [0.1, 0.2]), tleaf(torch, [0.5, -0.5])
        y, ty = run(F, x, w), run(torch, tx, tw)
        assert_close(y, ty)
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)
        assert_close(w.grad, tw.grad)

    def test_non_leaf_in_place_operators(self, torch):
        def run(m, x):
            y = x + 0
            y += x
            y *= x
            y /= 2.0
            y -= 1.0
            return y
        x, tx = leaf([1.0, 3.0]), tleaf(torch, [1.0, 3.0])
        y, ty = run(F, x), run(torch, tx)
        y.backward(ones(y))
        ty.backward(torch.ones_like(ty))
        assert_close(x.grad, tx.grad)

    def test_in_place_on_unsaved_value_is_fine(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        z = y + 3  # add saves nothing
        y.add_(1)
        z.backward(ones(z))
        assert_close(x.grad, np.full(2, 2.0))

    def test_in_place_after_backward_ok(self):
        x = leaf([1.0])
        y = x.exp()
        y.backward()
        y.add_(1)  # the graph is gone: nothing to check

    def test_in_place_with_retain_graph_second_backward(self):
        x = leaf([1.0])
        y = x.exp()
        y.backward(retain_graph=True)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="inplace"):
            y.backward()

    def test_in_place_on_views_of_non_leaf(self, torch):
        def run(m, x, w):
            y = x * 1
            y[0].mul_(2)
            y[:, 1].add_(w)
            return (y * y).exp()
        x0 = np.arange(6.0).reshape(2, 3) / 10
        x, w = leaf(x0), leaf([0.5, -0.5])
        tx, tw = tleaf(torch, x0), tleaf(torch, [0.5, -0.5])
        out, tout = run(F, x, w), run(torch, tx, tw)
        assert_close(out, tout)
        out.backward(ones(out))
        tout.backward(torch.ones_like(tout))
        assert_close(x.grad, tx.grad)
        assert_close(w.grad, tw.grad)

    def test_in_place_on_view_of_leaf(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="view of a leaf"):
            x[0].add_(1)

    def test_in_place_on_view_invalidates_saved_base(self):
        x = leaf([0.0, 1.0, 2.0, 3.0])
        y = x.exp()
        y[0:2].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(ones(y))

    def test_retain_grad_on_base_through_view_in_place(self, torch):
        def run(m, x):
            y = x * 1
            y.retain_grad()
            y[1:3].mul_(3)
            (y * y).backward(m.ones_like(y))
            return y
        x, tx = leaf([0.0, 1.0, 2.0, 3.0]), tleaf(torch, [0.0, 1.0, 2.0, 3.0])
        y, ty = run(F, x), run(torch, tx)
        assert_close(y.grad, ty.grad)
        assert_close(x.grad, tx.grad)

    def test_in_place_under_create_graph(self, torch):
        def run(m, x):
            y = x * 1
            y.mul_(x)
            return y
        x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
        (g,) = autograd.grad(run(F, x), x, ones(x), create_graph=True)
        (tg,) = torch.autograd.grad(run(torch, tx), tx, torch.ones_like(tx), create_graph=True)
        assert_close(g, tg)
        (gg,) = autograd.grad(g, x, ones(g))
        (tgg,) = torch.autograd.grad(tg, tx, torch.ones_like(tg))
        assert_close(gg, tgg)


def test_zero_dim_gradients_through_negation_reach_indexed_leaves():
    # `-g` on a 0-d array is a NumPy scalar, not an array; the index backward must still work
    x = F.tensor([1.0, 2.0], dtype=F.float64, requires_grad=True)
    (1 - x[0]).backward()
    assert x.grad.tolist() == [-1.0, 0.0]
    x.grad = None
    (x[1] - x[0]).backward()
    assert x.grad.tolist() == [-1.0, 1.0]


def test_one_loop_serves_backward_grad_and_anomaly_alike(torch):
    # backward(), autograd.grad (capture, pruning) and anomaly mode run the same main loop: with a
    # tensor hook, a node pre-hook and a multi-use input, all three give torch's gradients
    def run(T, x, w, mode):
        y = x * w
        y.register_hook(lambda g: g * 2)
        z = (y + x).sin() * y
        z.grad_fn.register_prehook(lambda gs: tuple(g * 3 for g in gs))
        out = z.sum()
        if mode == "grad":
            return T.autograd.grad(out, [x])[0]
        if mode == "anomaly":
            with T.autograd.detect_anomaly():
                out.backward()
        else:
            out.backward()
        return x.grad

    for mode in ("backward", "grad", "anomaly"):
        x, tx = leaf([0.5, -1.0, 2.0]), tleaf(torch, [0.5, -1.0, 2.0])
        w, tw = leaf([1.5, 2.0, -0.5]), tleaf(torch, [1.5, 2.0, -0.5])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that anomaly mode is slow
            assert_close(run(F, x, w, mode), run(torch, tx, tw, mode))
        if mode == "grad":
            assert w.grad is None  # autograd.grad writes no .grad and prunes w's branch


def test_grad_wrt_a_non_leaf_does_not_run_or_free_its_node(torch):
    """autograd.grad(y, h) stops at h: h's own node is neither run nor freed, so a later backward
    through it works, as in torch."""
    for lib in (torch, F):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = (x * 2).exp()
        (g,) = lib.autograd.grad((h * 3).sum(), h)
        assert g.tolist() == [3.0, 3.0, 3.0]
        h.sum().backward()
        assert x.grad is not None


def test_a_node_that_saved_nothing_can_be_backpropagated_twice(torch):
    """Two backward calls through a shared node that saves nothing (a cast, an add) work in torch."""
    for lib in (torch, F):
        w = lib.ones(3, requires_grad=True)
        c = w.to(lib.float64)
        (c * 2).sum().backward()
        (c * 3).sum().backward()
        assert w.grad.tolist() == [5.0, 5.0, 5.0]
