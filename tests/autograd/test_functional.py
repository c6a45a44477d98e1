"""Tests of ferrum.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp against
torch.autograd.functional (values and return structures), create_graph, strict mode, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import functional as AF
from tests.helpers import npv

RNG = np.random.default_rng(7)


def arr(*shape):
    return RNG.standard_normal(shape)


def same(a, b, tol=1e-10):
    """Same nesting, shapes and values."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), (type(b), a, b)
        for x, y in zip(a, b):
            same(x, y, tol)
        return
    assert isinstance(a, F.Tensor) and not isinstance(b, tuple)
    x, y = npv(a), npv(b)
    assert x.shape == y.shape, (x.shape, y.shape)
    np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def pair(torch, *arrays):
    return tuple(F.from_numpy(a.copy()) for a in arrays), tuple(torch.from_numpy(a.copy()) for a in arrays)


# functions written once against a module `m` (ferrum or torch)
def f_single(m):
    return lambda x: (x.exp() * x.sum()).tanh()


def f_multi_in(m):
    return lambda x, y: m.matmul(x, y).sin()


def f_multi_out(m):
    return lambda x: (x * x, x.sum() * x[:1])


def f_scalar(m):
    return lambda x: x.pow(3).sum() + (x[:2] * x[1:]).exp().sum()


def f_scalar2(m):
    return lambda x, y: m.matmul(x, y).pow(2).sum() + x.sum() * y.sum()


def test_jacobian_structures_vs_torch(torch):
    x, y = arr(3), arr(3, 2)
    (fx,), (tx,) = pair(torch, x)
    same(AF.jacobian(f_single(F), fx), torch.autograd.functional.jacobian(f_single(torch), tx))
    (fx2, fy), (tx2, ty) = pair(torch, arr(2, 3), y)
    same(
        AF.jacobian(f_multi_in(F), (fx2, fy)),
        torch.autograd.functional.jacobian(f_multi_in(torch), (tx2, ty)),
    )
    same(AF.jacobian(f_multi_out(F), fx), torch.autograd.functional.jacobian(f_multi_out(torch), tx))
    same(AF.jacobian(f_multi_out(F), (fx,)), torch.autograd.functional.jacobian(f_multi_out(torch), (tx,)))
    # an input the function ignores gets zeros
    same(
        AF.jacobian(lambda a, b: a * 2, (fx, fx)),
        torch.autograd.functional.jacobian(lambda a, b: a * 2, (tx, tx)),
    )
    same(
        AF.jacobian(f_single(F), fx, vectorize=True, strategy="forward-mode"),
        torch.autograd.functional.jacobian(f_single(torch), tx, vectorize=True, strategy="forward-mode"),
    )


def test_jacobian_create_graph(torch):
    x = arr(3)
    fx = F.from_numpy(x.copy()).requires_grad_(True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    j = AF.jacobian(f_single(F), fx, create_graph=True)
    tj = torch.autograd.functional.jacobian(f_single(torch), tx, create_graph=True)
    assert j.requires_grad
    same(j, tj)
    j.pow(2).sum().backward()
    tj.pow(2).sum().backward()
    same(fx.grad, tx.grad)
    j2 = AF.jacobian(f_single(F), fx)
    assert not j2.requires_grad


def test_hessian_vs_torch(torch):
    (fx,), (tx,) = pair(torch, arr(3))
    same(AF.hessian(f_scalar(F), fx), torch.autograd.functional.hessian(f_scalar(torch), tx))
    (fa, fb), (ta, tb) = pair(torch, arr(2, 3), arr(3, 2))
    h = AF.hessian(f_scalar2(F), (fa, fb))
    th = torch.autograd.functional.hessian(f_scalar2(torch), (ta, tb))
    same(h, th)
    assert h[0][1].shape == (2, 3, 3, 2)
    # a linear function has a zero Hessian
    same(AF.hessian(lambda x: x.sum(), fx), torch.autograd.functional.hessian(lambda x: x.sum(), tx))


def test_vjp_jvp_vs_torch(torch):
    (fx,), (tx,) = pair(torch, arr(3))
    (fv,), (tv,) = pair(torch, arr(3))
    same(AF.vjp(f_single(F), fx, fv), torch.autograd.functional.vjp(f_single(torch), tx, tv))
    same(AF.jvp(f_single(F), fx, fv), torch.autograd.functional.jvp(f_single(torch), tx, tv))
    (fa, fb), (ta, tb) = pair(torch, arr(2, 3), arr(3, 2))
    (fw,), (tw,) = pair(torch, arr(2, 2))
    same(AF.vjp(f_multi_in(F), (fa, fb), fw), torch.autograd.functional.vjp(f_multi_in(torch), (ta, tb), tw))
    (fva, fvb), (tva, tvb) = pair(torch, arr(2, 3), arr(3, 2))
    same(
        AF.jvp(f_multi_in(F), (fa, fb), (fva, fvb)),
        torch.autograd.functional.jvp(f_multi_in(torch), (ta, tb), (tva, tvb)),
    )
    (fu1, fu2), (tu1, tu2) = pair(torch, arr(3), arr(1))
    same(
        AF.vjp(f_multi_out(F), fx, (fu1, fu2)),
        torch.autograd.functional.vjp(f_multi_out(torch), tx, (tu1, tu2)),
    )
    same(AF.jvp(f_multi_out(F), fx, fv), torch.autograd.functional.jvp(f_multi_out(torch), tx, tv))
    # v may be omitted for a one-element output (vjp) / input (jvp)
    same(AF.vjp(f_scalar(F), fx), torch.autograd.functional.vjp(f_scalar(torch), tx))
    (fs,), (ts,) = pair(torch, arr(1))
    same(AF.jvp(lambda s: s * s * 3, fs), torch.autograd.functional.jvp(lambda s: s * s * 3, ts))


def test_hvp_vhp_vs_torch(torch):
    (fx,), (tx,) = pair(torch, arr(3))
    (fv,), (tv,) = pair(torch, arr(3))
    same(AF.hvp(f_scalar(F), fx, fv), torch.autograd.functional.hvp(f_scalar(torch), tx, tv))
    same(AF.vhp(f_scalar(F), fx, fv), torch.autograd.functional.vhp(f_scalar(torch), tx, tv))
    (fa, fb), (ta, tb) = pair(torch, arr(2, 3), arr(3, 2))
    (fva, fvb), (tva, tvb) = pair(torch, arr(2, 3), arr(3, 2))
    same(
        AF.hvp(f_scalar2(F), (fa, fb), (fva, fvb)),
        torch.autograd.functional.hvp(f_scalar2(torch), (ta, tb), (tva, tvb)),
    )
    same(
        AF.vhp(f_scalar2(F), (fa, fb), (fva, fvb)),
        torch.autograd.functional.vhp(f_scalar2(torch), (ta, tb), (tva, tvb)),
    )


def test_create_graph_products(torch):
    x, v = arr(3), arr(3)
    fx = F.from_numpy(x.copy()).requires_grad_(True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    for name in ("vjp", "jvp", "hvp", "vhp"):
        fx.grad = None
        tx.grad = None
        fn = f_single if name in ("vjp", "jvp") else f_scalar
        out, r = getattr(AF, name)(fn(F), fx, F.from_numpy(v.copy()), create_graph=True)
        tout, tr = getattr(torch.autograd.functional, name)(
            fn(torch), tx, torch.from_numpy(v.copy()), create_graph=True
        )
        assert r.requires_grad
        same(r, tr)
        r.pow(2).sum().backward()
        tr.pow(2).sum().backward()
        same(fx.grad, tx.grad, 1e-9)


def test_results_detached_and_inputs_untouched():
    x = F.from_numpy(arr(3)).requires_grad_(True)
    out, r = AF.vjp(lambda t: t * 2, x, F.ones(3, dtype=F.float64))
    assert not out.requires_grad and not r.requires_grad
    assert x.grad is None


def test_strict_mode_and_errors():
    x = F.from_numpy(arr(3))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda a: F.ones(3, dtype=F.float64), x, F.ones(3, dtype=F.float64), strict=True)
    with pytest.raises(
        RuntimeError,
        match="jacobian of the user-provided function with respect to input 0 is independent of the input",
    ):
        AF.hessian(lambda a: a.sum(), x, strict=True)
    with pytest.raises(
        RuntimeError,
        match="The vector v can only be None if the user-provided function returns "
        "a single Tensor with a single element",
    ):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input"):
        AF.jvp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        AF.vjp(lambda a: a * 2, x, F.ones(4, dtype=F.float64))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length"):
        AF.jvp(lambda a, b: a * b, (x, x), (x,))
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple"):
        AF.jacobian(lambda a: a, [1.0])
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        AF.hessian(lambda a: (a.sum(), a.sum()), x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        AF.hvp(lambda a: a * 2, x, x)
    with pytest.raises(AssertionError, match="Expected strategy"):
        AF.jacobian(lambda a: a, x, strategy="sideways")
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        AF.jacobian(lambda a: a, x, strategy="forward-mode")
    assert F.autograd.functional is AF


def test_hessian_create_graph_third_order(torch):
    x = arr(3)
    fx = F.from_numpy(x.copy()).requires_grad_(True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)

    def fn(m):
        return lambda t: (t.pow(3).sum() * t.sum()).sin()

    h = AF.hessian(fn(F), fx, create_graph=True)
    th = torch.autograd.functional.hessian(fn(torch), tx, create_graph=True)
    assert h.requires_grad
    same(h, th, 1e-9)
    h.sum().backward()
    th.sum().backward()
    same(fx.grad, tx.grad, 1e-9)
