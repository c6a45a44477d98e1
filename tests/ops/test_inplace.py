"""In-place ops and autograd: the leaf error, version counters and the error for a saved tensor
modified in place, correct gradients for in-place ops on non-leaf tensors (and their views), fast
path vs recorded path, casting and shape rules, against PyTorch."""

# Lambdas built in loops are called at once (by compare / grads_match): the late binding
# B023 warns about cannot bite.
# ruff: noqa: B023

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck

INPLACE_OPS = {  # name -> call on a float tensor
    "add_": lambda t: t.add_(1), "sub_": lambda t: t.sub_(1), "mul_": lambda t: t.mul_(2),
    "div_": lambda t: t.div_(2), "pow_": lambda t: t.pow_(2), "exp_": lambda t: t.exp_(),
    "sin_": lambda t: t.sin_(), "zero_": lambda t: t.zero_(), "fill_": lambda t: t.fill_(3.0),
    "copy_": lambda t: t.copy_(ferrum.ones(2)), "clamp_": lambda t: t.clamp_(0, 1),
    "neg_": lambda t: t.neg_(), "sigmoid_": lambda t: t.sigmoid_(), "iadd": lambda t: t.__iadd__(1),
    "imul": lambda t: t.__imul__(2), "uniform_": lambda t: t.uniform_(), "normal_": lambda t: t.normal_(),
    "lerp_": lambda t: t.lerp_(ferrum.ones(2), 0.5), "atan2_": lambda t: t.atan2_(ferrum.ones(2)),
}


def _both(torch):
    return ((ferrum, ferrum), (torch, torch))


def grads_match(torch, fn, *inits, dtype="float64"):
    """Runs ``fn(L, *leaves)`` in both libraries, backward with ones, compares values and grads."""
    res = []
    for L in (torch, ferrum):
        leaves = [L.tensor(v, dtype=getattr(L, dtype), requires_grad=True) for v in inits]
        out = fn(L, *leaves)
        out.backward(L.ones_like(out))
        res.append((out.detach().numpy().copy(), [x.grad.numpy().copy() if x.grad is not None else None
                                                  for x in leaves]))
    (to, tg), (fo, fg) = res
    np.testing.assert_allclose(fo, to, rtol=1e-10, atol=1e-12)
    for a, b in zip(fg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- the leaf error
@pytest.mark.parametrize("name", sorted(INPLACE_OPS))
def test_inplace_on_leaf_that_requires_grad_is_runtime_error(name):
    x = ferrum.tensor([0.5, 2.0], requires_grad=True)
    op = name.rstrip("_") if not name.startswith("i") else {"iadd": "add", "imul": "mul"}[name]
    with pytest.raises(RuntimeError, match=rf"a leaf Variable that requires grad is being used in an "
                                           rf"in-place operation \({op}_\)"):
        INPLACE_OPS[name](x)
    assert x.tolist() == [0.5, 2.0] and x._version_value == 0


def test_leaf_error_matches_torch(torch):
    for L in (torch, ferrum):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        for f in (lambda: x.add_(1), lambda: x.mul_(x), lambda: x.__iadd__(1), lambda: x.exp_(),
                  lambda: x.zero_(), lambda: x.copy_(L.ones(2))):
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
                f()
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[0].add_(1)


def test_augmented_assignment_on_leaf_is_runtime_error():
    x = ferrum.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place operation \(add_\)"):
        x += 1
    with pytest.raises(RuntimeError, match=r"in-place operation \(mul_\)"):
        x *= 2
    with pytest.raises(RuntimeError, match=r"in-place operation \(div_\)"):
        x /= 2


@pytest.mark.parametrize("name", sorted(INPLACE_OPS))
def test_inplace_on_leaf_is_allowed_under_no_grad(name):
    x = ferrum.tensor([0.5, 2.0], requires_grad=True)
    with ferrum.no_grad():
        r = INPLACE_OPS[name](x)
    assert r is x and x.requires_grad and x.is_leaf and x.grad_fn is None
    assert x._version_value == 1


def test_inplace_on_leaf_without_grad_and_on_detached():
    x = ferrum.tensor([1.0, 2.0])
    x.add_(1).mul_(2)
    assert x.tolist() == [4.0, 6.0] and not x.requires_grad
    w = ferrum.tensor([1.0, 2.0], requires_grad=True)
    d = w.detach()
    d.add_(1)  # shares memory and version counter with w
    assert w.tolist() == [2.0, 3.0] and w._version_value == 1


# --------------------------------------------------------------------------- version counters
def test_version_counter_counts_every_write():
    x = ferrum.tensor([1.0, 2.0])
    assert x._version_value == 0
    x.add_(1)
    x += 2
    x.mul_(x)
    x.zero_()
    x.fill_(1.0)
    x.copy_(ferrum.ones(2))
    x.exp_()
    assert x._version_value == 7
    assert (x + 1)._version_value == 0  # new tensors start at 0


def test_version_counter_matches_torch(torch):
    counts = []
    for L in (torch, ferrum):
        x = L.tensor([1.0, 2.0])
        v = x.detach()
        x.add_(1)
        v.mul_(2)
        x[0].add_(1)
        d = x.data
        d.add_(1)  # .data has its own counter
        counts.append((x._version if L is torch else x._version_value,
                       v._version if L is torch else v._version_value))
    assert counts[0] == counts[1]


def test_out_argument_bumps_version():
    o = ferrum.zeros(2)
    ferrum.add(ferrum.ones(2), 1, out=o)
    assert o._version_value == 1


@pytest.mark.parametrize("case", ["mul_saves_inputs", "div_saves_divisor", "sin_saves_input",
                                  "sigmoid_saves_output", "tanh_saves_output", "pow_saves_input",
                                  "exp_saves_output", "where_saved_cond_ok"])
def test_modified_saved_tensor_is_runtime_error(torch, case):
    def build(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        if case == "mul_saves_inputs":
            c = b * b
            b.add_(1)
        elif case == "div_saves_divisor":
            c = a / b
            b.mul_(2)
        elif case == "sin_saves_input":
            c = b.sin()
            b.mul_(2)
        elif case == "sigmoid_saves_output":
            c = b.sigmoid()
            c.mul_(2)
        elif case == "tanh_saves_output":
            c = b.tanh()
            c.add_(1)
        elif case == "pow_saves_input":
            c = b ** 3
            b.sub_(1)
        elif case == "exp_saves_output":
            c = b.exp()
            c.sub_(1)
        else:
            c = L.where(b > 1, b, 0.0) * 2
            b.add_(1)
            return c, False
        return c, True
    for L in (torch, ferrum):
        c, fails = build(L)
        if not fails:
            c.backward(L.ones(2))
            continue
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            c.backward(L.ones(2))
        if L is ferrum:
            msg = str(info.value)
            assert "[ferrum.FloatTensor [2]]" in msg
            assert "is at version 1; expected version 0 instead" in msg
            assert "Backward" in msg  # names the node that saved it


def test_version_error_names_op_shape_and_versions():
    a = ferrum.ones(2, 3, dtype=ferrum.float64, requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    b.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[ferrum.DoubleTensor \[2, 3\]\] is at version 2; expected "
                                           r"version 0 instead \(saved by MulBackward0\)"):
        c.backward(ferrum.ones(2, 3, dtype=ferrum.float64))


def test_inplace_on_unsaved_tensor_is_fine(torch):
    # add and mul-by-scalar do not save their inputs
    grads_match(torch, lambda L, x: (lambda y: (y.add_(1), y)[1])(x * 2 + 1), [1.0, 2.0])
    grads_match(torch, lambda L, x: (lambda y: (y.mul_(3), y)[1])(x + 1), [1.0, 2.0])


# --------------------------------------------------------------------------- gradients vs torch
def _chain(ops):
    def fn(L, x, w):
        y = x * 1
        for op in ops:
            op(L, y, w)
        return y
    return fn


CHAINS = {
    "add_tensor": [lambda L, y, w: y.add_(w)],
    "add_alpha": [lambda L, y, w: y.add_(w, alpha=-2.5)],
    "sub_tensor": [lambda L, y, w: y.sub_(w)],
    "mul_tensor": [lambda L, y, w: y.mul_(w)],
    "div_tensor": [lambda L, y, w: y.div_(w)],
    "add_self": [lambda L, y, w: y.add_(y)],
    "pow_scalar": [lambda L, y, w: y.pow_(3)],
    "pow_tensor": [lambda L, y, w: y.pow_(w)],
    "exp_sin": [lambda L, y, w: y.exp_(), lambda L, y, w: y.sin_()],
    "sqrt_log": [lambda L, y, w: y.sqrt_(), lambda L, y, w: y.log_()],
    "tanh_sigmoid": [lambda L, y, w: y.tanh_(), lambda L, y, w: y.sigmoid_()],
    "clamp": [lambda L, y, w: y.clamp_(0.75, 2.5)],
    "zero_then_add": [lambda L, y, w: y.zero_(), lambda L, y, w: y.add_(w)],
    "fill_scalar": [lambda L, y, w: y.fill_(2.0)],
    "copy": [lambda L, y, w: y.copy_(w * 3)],
    "iadd_imul": [lambda L, y, w: y.__iadd__(w), lambda L, y, w: y.__imul__(w)],
    "itruediv_ipow": [lambda L, y, w: y.__itruediv__(w), lambda L, y, w: y.__ipow__(2)],
    "lerp": [lambda L, y, w: y.lerp_(w, 0.25)],
    "atan2": [lambda L, y, w: y.atan2_(w)],
    "neg_abs": [lambda L, y, w: y.neg_(), lambda L, y, w: y.abs_()],
    "long_chain": [lambda L, y, w: y.mul_(w), lambda L, y, w: y.add_(1), lambda L, y, w: y.div_(w),
                   lambda L, y, w: y.pow_(2), lambda L, y, w: y.sub_(w, alpha=0.5)],
}


# PyTorch refuses these (the first op saves its output, which the second overwrites); ferrum
# computes each in-place op from a copy of the old value, so its gradients are right (gradcheck)
TORCH_REFUSES = {"exp_sin", "sqrt_log", "tanh_sigmoid"}


@pytest.mark.parametrize("name", sorted(set(CHAINS) - TORCH_REFUSES))
def test_inplace_on_non_leaf_gradients_match_torch(torch, name):
    grads_match(torch, _chain(CHAINS[name]), [1.5, 2.0, 0.8], [0.5, 1.25, 2.0])


@pytest.mark.parametrize("name", sorted(TORCH_REFUSES))
def test_inplace_chains_torch_refuses_give_out_of_place_gradients(torch, name):
    out_of_place = {"exp_sin": lambda L, x, w: (x * 1).exp().sin(),
                    "sqrt_log": lambda L, x, w: (x * 1).sqrt().log(),
                    "tanh_sigmoid": lambda L, x, w: (x * 1).tanh().sigmoid()}[name]
    res = []
    for L, fn in ((torch, out_of_place), (ferrum, _chain(CHAINS[name]))):
        x = L.tensor([1.5, 2.0, 0.8], dtype=L.float64, requires_grad=True)
        fn(L, x, None).backward(L.ones(3, dtype=L.float64))
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_inplace_with_itself_as_saved_other_is_runtime_error(torch):
    for L in (torch, ferrum):
        x = L.tensor([1.5, 2.0], dtype=L.float64, requires_grad=True)
        y = x * 1
        y.mul_(y)  # mul saves its other operand: y itself, now modified
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(L.ones(2, dtype=L.float64))


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_inplace_on_non_leaf_gradcheck(name):
    fn = _chain(CHAINS[name])
    x = ferrum.tensor([1.5, 2.0, 0.8], dtype=ferrum.float64, requires_grad=True)
    w = ferrum.tensor([0.5, 1.25, 2.0], dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda a, b: fn(ferrum, a, b), (x, w))
    assert gradgradcheck(lambda a, b: fn(ferrum, a, b), (x, w))


def test_inplace_into_tensor_without_grad_connects_the_graph(torch):
    def fn(L, x):
        y = L.zeros(3, dtype=L.float64)
        y.add_(x * 2)
        y.mul_(x)
        return y
    grads_match(torch, fn, [1.0, 2.0, 3.0])
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    y = ferrum.zeros(2)
    y.copy_(x)
    assert y.requires_grad and y.grad_fn is not None


def test_inplace_with_broadcast_other_gradients_match_torch(torch):
    def fn(L, x, w):
        y = x * 1
        y.mul_(w)  # w (3,) broadcast over y (2, 3)
        y.add_(w)
        return y
    grads_match(torch, fn, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0.5, -1.0, 2.0])


def test_inplace_on_views_of_non_leaf_gradients_match_torch(torch):
    def row(L, x):
        y = x * 1
        y[0].mul_(3)
        return y

    def col(L, x):
        y = x * 1
        y[:, 1].add_(y[:, 0])
        return y

    def transposed(L, x):
        y = x * 2
        y.t().mul_(2)
        return y.exp()

    def chained(L, x):
        y = x * 2
        y[1][0:2].sub_(x[0, 1:])
        return y * y

    for fn in (row, col, transposed, chained):
        grads_match(torch, fn, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        x = ferrum.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ferrum.float64, requires_grad=True)
        assert gradcheck(lambda a: fn(ferrum, a), (x,))


def test_inplace_on_view_of_saved_output_is_runtime_error(torch):
    for L in (torch, ferrum):
        x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=L.float64, requires_grad=True)
        y = x.exp()
        y[1][0:2].sub_(1)  # the view shares the base's version counter
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y * y).backward(L.ones(2, 3, dtype=L.float64))


def test_inplace_on_view_rebuilds_base_graph():
    x = ferrum.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    y[0].mul_(3)
    assert y.grad_fn.name() == "CopySlices"
    y.backward(ferrum.ones(2, 2))
    assert x.grad.tolist() == [[3.0, 3.0], [1.0, 1.0]]


def test_retain_grad_follows_inplace(torch):
    res = []
    for L in (torch, ferrum):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).backward(L.ones(2))
        res.append((x.grad.tolist(), y.grad.tolist()))
    assert res[0] == res[1]


def test_inplace_mixed_precision_gradients_match_torch(torch):
    res = []
    for L in (torch, ferrum):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = L.tensor([0.5, 0.25], dtype=L.float64, requires_grad=True)
        y = x * 1
        y.mul_(h)  # float32 result of a float64 product
        y.add_(L.tensor([1, 2]))
        y.backward(L.ones(2))
        res.append((str(y.dtype).split(".")[-1], x.grad.tolist(), h.grad.tolist(),
                    str(h.grad.dtype).split(".")[-1]))
    assert res[0] == res[1]


# --------------------------------------------------------------------------- fast path and casting rules
def test_fast_path_and_recorded_path_agree():
    for other in (2, 2.5, ferrum.tensor([1.0, -2.0, 0.5]), 2**40):
        a = ferrum.tensor([1.0, 2.0, 3.0], dtype=ferrum.float64)
        b = ferrum.tensor([1.0, 2.0, 3.0], dtype=ferrum.float64, requires_grad=True) * 1
        for name in ("add_", "sub_", "mul_", "div_"):
            getattr(a, name)(other)
            getattr(b, name)(other)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy())


def test_integer_inplace_matches_torch(torch):
    for mk in [lambda L: L.tensor([1, 2]).add_(2**40), lambda L: L.tensor([1, 2], dtype=L.int8).add_(300),
               lambda L: L.tensor([5, -7]).div_(2, rounding_mode="trunc"),
               lambda L: L.tensor([5, -7]).div_(2, rounding_mode="floor"),
               lambda L: L.tensor([5, 7], dtype=L.uint8).sub_(10), lambda L: L.tensor([3, 4]).mul_(True),
               lambda L: L.tensor([True, False]).mul_(False), lambda L: L.tensor([2.5, 3.5]).add_(True),
               lambda L: L.tensor([1.0, 2.0]).add_(L.tensor([1, 2], dtype=L.int16))]:
        f, t = mk(ferrum), mk(torch)
        assert f.tolist() == t.tolist() and f.dtype.name == str(t.dtype).split(".")[1]


def test_inplace_shape_and_cast_errors(torch):
    cases = [(lambda L: L.ones(2).add_(L.ones(3)), RuntimeError, r"add_.*\[2\]"),
             (lambda L: L.ones(2).mul_(L.ones(2, 2)), RuntimeError, r"\[2, 2\]"),
             (lambda L: L.ones(2).copy_(L.ones(3)), RuntimeError, "copy_"),
             (lambda L: L.tensor([1, 2]).add_(1.5), RuntimeError, "Float can't be cast to the desired output "
                                                                  "type Long"),
             (lambda L: L.tensor([1, 2]).mul_(L.tensor([1.5, 2.0])), RuntimeError, "can't be cast"),
             (lambda L: L.tensor([True]).add_(1), RuntimeError, "Long can't be cast.*Bool"),
             (lambda L: L.tensor([1, 2]).sqrt_(), RuntimeError, "Float can't be cast"),
             (lambda L: L.ones(2).fill_(L.ones(2)), RuntimeError, "fill_"),
             (lambda L: L.ones(2).copy_([1.0, 2.0]), TypeError, "copy_"),
             (lambda L: L.ones(2).add_("a"), TypeError, "add")]
    for mk, exc, msg in cases:
        with pytest.raises(exc):
            mk(torch)
        with pytest.raises(exc, match=msg):
            mk(ferrum)
    t = ferrum.ones(2)
    with pytest.raises(TypeError):
        t += "a"


def test_inplace_result_keeps_dtype_and_identity():
    h = ferrum.ones(2, dtype=ferrum.float16)
    arr = h._data
    h.add_(ferrum.tensor([2.5, 1.0], dtype=ferrum.float64))
    assert h.dtype is ferrum.float16 and h._data is arr and h.tolist() == [3.5, 2.0]
    i = ferrum.tensor([1, 2], dtype=ferrum.int32)
    i *= ferrum.tensor(3)
    assert i.dtype is ferrum.int32 and i.tolist() == [3, 6]


def test_inplace_on_shared_numpy_memory():
    a = np.array([1.0, 2.0, 3.0])
    t = ferrum.from_numpy(a)
    t.mul_(2).add_(1)
    t.exp_()
    np.testing.assert_allclose(a, np.exp([3.0, 5.0, 7.0]))
    view = ferrum.from_numpy(a[::2])
    view.zero_()
    assert a[1] != 0 and a[0] == 0 and a[2] == 0


def test_copy_casts_broadcasts_and_is_differentiable(torch):
    for mk in [lambda L: L.zeros(2).copy_(L.tensor([1, 2])),
               lambda L: L.zeros(2, 2).copy_(L.tensor([1.0, 2.0])),
               lambda L: L.zeros(2, dtype=L.int64).copy_(L.tensor([1.7, -1.7])),
               lambda L: L.zeros(2, dtype=L.bool).copy_(L.tensor([0.5, 0.0]))]:
        f, t = mk(ferrum), mk(torch)
        assert f.tolist() == t.tolist()
    grads_match(torch, lambda L, x: L.zeros(2, 3, dtype=L.float64).copy_(x * x), [1.0, 2.0, 3.0])


def test_fill_and_zero_with_grad(torch):
    grads_match(torch, lambda L, x, v: (x * 1).fill_(v), [1.0, 2.0], 3.0)
    grads_match(torch, lambda L, x: (x * 1).zero_() + x, [1.0, 2.0])
    x = ferrum.ones(2, dtype=ferrum.int64)
    x.fill_(2.7)
    assert x.tolist() == [2, 2]


# --------------------------------------------------------------------------- issue 9 defects
def _same(torch, fn):
    """``fn(L)`` gives the same values and dtype, or the same exception type, in ferrum and torch."""
    res = []
    for L in (ferrum, torch):
        try:
            r = fn(L)
            res.append((r.detach().double().numpy(), str(r.dtype).split(".")[-1]))
        except Exception as e:  # noqa: BLE001 - the exception type is what is compared
            res.append(type(e))
    f, t = res
    if isinstance(t, type):
        assert f is t, (f, t)
        return
    assert not isinstance(f, type), f
    np.testing.assert_allclose(f[0], t[0], rtol=1e-7, equal_nan=True)
    assert f[1] == t[1]


@pytest.mark.parametrize("case", [
    ("add_", "float64", 0.5, "int8", 100, 3), ("sub_", "float64", 0.5, "float16", 1e4, 10),
    ("add_", "int64", 1, "int8", 100, 3), ("add_", "int8", 1, "int8", 100, 3),
    ("add_", "float32", 1.0, "float16", 1e4, 10), ("sub_", "float64", 1.0, "int64", 3, 2 ** 40),
    ("add_", "float32", 1.0, None, 3, 2), ("add_", "int32", 1, None, 3, 2),
    ("add_", "float32", 1.0, "float32", 3, 2.5),
    ("add_", "int8", 1, "int8", 1, 300), ("add_", "int32", 1, "int32", 3, 2.5),
])
def test_add_sub_alpha_computed_in_the_result_dtype(torch, case):
    # defect 6: alpha * other was computed in other's narrow dtype (int8 wrapped, float16 overflowed)
    op, dt, x, odt, o, alpha = case

    def fn(L):
        other = o if odt is None else L.tensor([o], dtype=getattr(L, odt))
        return getattr(L.tensor([x], dtype=getattr(L, dt)), op)(other, alpha=alpha)
    _same(torch, fn)


def test_add_alpha_with_grad_matches_torch(torch):
    grads_match(torch, lambda L, x, v: (x * 1).add_(v, alpha=3), [1.0, 2.0], [2.0, -1.0])
    grads_match(torch, lambda L, x, v: (x * 1).sub_(v.float(), alpha=0.5), [1.0, 2.0], [2.0, -1.0])


@pytest.mark.parametrize("op", ["fill", "zero", "fill_tensor", "fill_view", "copy"])
def test_fill_zero_copy_in_a_graph_keep_inf_and_nan_out(torch, op):
    # defect 7: computed as x * 0 + v, inf/nan elements became nan; the gradient w.r.t. the
    # overwritten values is zero, w.r.t. a tensor value the sum of the incoming gradient
    res = []
    for L in (ferrum, torch):
        x = L.tensor([float("inf"), 1.0, float("nan")], dtype=L.float64, requires_grad=True)
        v = L.tensor(2.0, dtype=L.float64, requires_grad=True)
        y = x.clone()
        if op == "fill":
            y.fill_(3.0)
        elif op == "zero":
            y.zero_()
        elif op == "fill_tensor":
            y.fill_(v)
        elif op == "fill_view":
            y[1:].fill_(v)
        else:
            y.copy_(v.expand(3))
        (y * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), None if v.grad is None else v.grad.numpy(),
                    y.grad_fn.name()))
    f, t = res
    for a, b in zip(f[:3], t[:3]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert f[3] == t[3].split("::")[-1]  # FillBackward2/3, ZeroBackward0, CopyBackwards, CopySlices


def test_fill_gradgradcheck():
    x = ferrum.tensor([1.0, 2.0], dtype=ferrum.float64, requires_grad=True)
    v = ferrum.tensor(3.0, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a * a).fill_(b) * a, (x, v))
    assert gradgradcheck(lambda a, b: (a * a).fill_(b) * a, (x, v))


@pytest.mark.parametrize("dtype,value", [
    ("float16", 1e10), ("float32", 1e300), ("uint8", 300), ("uint8", -1), ("int32", 2 ** 40),
    ("int64", 2 ** 63),
    ("int64", float("nan")), ("int32", 1.5), ("bool", 2), ("float32", 1 + 1j), ("float16", float("inf")),
    ("float64", 1e300),
])
def test_fill_value_range_as_torch(torch, dtype, value):
    # defect 26: out-of-range values were written silently
    _same(torch, lambda L: L.zeros(2, dtype=getattr(L, dtype)).fill_(value))


@pytest.mark.parametrize("vdtype", ["float64", "int64"])
@pytest.mark.parametrize("dtype", ["uint8", "float32", "int32"])
def test_fill_with_a_0d_tensor_of_another_dtype_casts(torch, dtype, vdtype):
    # defect 37: fill_ with a float64 0-d tensor into uint8 raised
    def fn(L):
        value = L.tensor(3.0 if vdtype != "int64" else 3, dtype=getattr(L, vdtype))
        return L.zeros(2, dtype=getattr(L, dtype)).fill_(value)
    _same(torch, fn)


@pytest.mark.parametrize("op", ["ilshift", "irshift", "lshift_", "rshift_"])
def test_shifts_in_place_write_into_the_tensor_and_its_views(torch, op):
    # defect 10: without __ilshift__/__irshift__ Python rebound the name to a new tensor
    def fn(L):
        b = L.tensor([1, 2, 3, 40])
        v = b[:2]
        if op == "ilshift":
            v <<= 1
        elif op == "irshift":
            v >>= 1
        elif op == "lshift_":
            v.bitwise_left_shift_(L.tensor([1, 2]))
        else:
            v.bitwise_right_shift_(1)
        return b
    _same(torch, fn)


@pytest.mark.parametrize("case", [
    lambda L: L.tensor([1, 2]).__ilshift__(1.5), lambda L: L.tensor([1, 2]).__ilshift__(L.tensor([1.5])),
    lambda L: L.tensor([1, 2]).__ilshift__(L.tensor([1, 2, 3])), lambda L: L.tensor([1, 2]).__ilshift__(
        L.tensor([[1, 2]])), lambda L: L.tensor([True, False]).__ilshift__(L.tensor([1])),
    lambda L: L.tensor([1, 2], dtype=L.int8).__ilshift__(L.tensor([1], dtype=L.int64)),
    lambda L: L.tensor([1, 2], dtype=L.uint8).__irshift__(L.tensor(1)),
])
def test_shifts_in_place_check_dtype_and_broadcast_as_torch(torch, case):
    _same(torch, case)


def test_nan_to_num_in_place_takes_keywords(torch):
    # defect 18
    special = [float("nan"), float("inf"), -float("inf")]
    _same(torch, lambda L: L.tensor(special).nan_to_num_(nan=0.0, posinf=1.0))
    _same(torch, lambda L: L.tensor(special).nan_to_num_(2.0, neginf=-5.0))
    grads_match(torch, lambda L, x: (x * 1).nan_to_num_(nan=0.0, posinf=1.0), [1.0, 2.0])


def test_float_power_in_place_needs_a_double_base(torch):
    # defect 26: float_power_ on float32 computed in float32
    _same(torch, lambda L: L.tensor([1.0, 2.0]).float_power_(2))
    _same(torch, lambda L: L.tensor([1.0, 2.0], dtype=L.float64).float_power_(2))
    _same(torch, lambda L: L.tensor([1.0, 2.0], dtype=L.float64).float_power_(1j))


@pytest.mark.parametrize("op", [
    lambda L, d: d.mul_(2), lambda L, d: d.add_(L.ones(2)), lambda L, d: d.copy_(L.ones(2)),
    lambda L, d: d.fill_(7), lambda L, d: d.zero_(), lambda L, d: d.__isub__(1), lambda L, d: d.clamp_(0, 2),
])
def test_writes_through_the_diagonal_of_an_expanded_tensor(torch, op):
    # defect 27: refused although no two elements of the diagonal share memory
    def fn(L):
        b = L.tensor([[1.0], [3.0]])
        op(L, b.expand(2, 2).diagonal())
        return b
    _same(torch, fn)


def test_writes_through_unfold_and_0_size_expanded_tensors(torch):
    def unfold(L):
        x = L.arange(6.0)
        x.unfold(0, 3, 1)[1].mul_(2)  # one window of overlapping windows: distinct memory
        return x
    _same(torch, unfold)
    _same(torch, lambda L: L.zeros(1, 0).expand(3, 0).add_(1))
    _same(torch, lambda L: L.zeros(0, 1).expand(0, 3).mul_(L.ones(3)))
    _same(torch, lambda L: (lambda b: (b.expand(3)[1].add_(1), b)[1])(L.zeros(1)))
    _same(torch, lambda L: (lambda b: (b.expand(3).fill_(2.0), b)[1])(L.zeros(1)))  # one value everywhere


@pytest.mark.parametrize("dtype,op", [
    ("float32", lambda L, e: e.add_(1)), ("float32", lambda L, e: e.mul_(L.ones(3))),
    ("float32", lambda L, e: e.copy_(L.ones(3))), ("int64", lambda L, e: e.__ilshift__(1)),
    ("float32", lambda L, e: e.exp_()), ("float32", lambda L, e: e.clamp_(0, 1)),
])
def test_writes_into_really_overlapping_memory_raise_torch_error(torch, dtype, op):
    msg = "more than one element of the written-to tensor refers to a single memory location"
    for L in (ferrum, torch):
        with pytest.raises(RuntimeError, match=msg):
            op(L, L.zeros(1, dtype=getattr(L, dtype)).expand(3))


def test_add_relu_inplace_without_copy_keep_torch_gradients(torch):
    """add_/sub_/relu_ do not copy the old value (their backward never reads it): gradients equal
    torch's, and an op that saved the tensor before still sees the in-place change as an error."""
    import numpy as np

    a = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    results = []
    for T in (torch, ferrum):
        x = T.tensor(a, requires_grad=True)
        w = T.tensor(a[::-1].copy(), requires_grad=True)
        y = x * 2.0
        y += w
        y.sub_(x, alpha=0.5)
        y.relu_()
        (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for f, t in zip(results[1], results[0]):
        np.testing.assert_allclose(f, t, rtol=1e-12, atol=1e-12)
    x = ferrum.tensor(a, requires_grad=True)
    y = x * 2.0
    z = y * y           # saves y
    y += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
