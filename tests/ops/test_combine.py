"""Tests of ferrum.ops.combine beyond its registry entries (tests/opinfo/db_search.py): the
gradients torch 2.13 cannot give (vander's backward raises; dist's at p=0 too), renorm_ in place
(version counter, autograd through it, the leaf refusal), Tensor methods, cov's warning, and
the dtype/argument grids of the ops with keyword options, each against torch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from tests.ops.test_search import parity

RNG = np.random.default_rng(23)
X = RNG.normal(size=(3, 5))


# --------------------------------------------------------------------------- vander
@pytest.mark.parametrize("n", [None, 2, 3, 6])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_gradient(torch, n, increasing):
    x = np.array([0.7, -1.3, 0.0, 2.1])
    xf = ferrum.tensor(x, requires_grad=True)

    def fn(t):
        return ferrum.vander(t, N=n, increasing=increasing)
    assert gradcheck(fn, (xf,))
    assert gradgradcheck(fn, (xf,))
    # torch.vander's own backward raises; its linalg.vander (increasing powers) is the reference
    xt = torch.tensor(x, requires_grad=True)
    rt = torch.linalg.vander(xt, N=n if n is not None else len(x))
    if not increasing:
        rt = rt.flip(1)
    w = RNG.uniform(0.5, 1.5, tuple(rt.shape))
    (gt,) = torch.autograd.grad((rt * torch.tensor(w)).sum(), xt)
    (gf,) = ferrum.autograd.grad((fn(xf) * ferrum.tensor(w)).sum(), xf)
    np.testing.assert_allclose(gf.numpy(), gt.numpy(), rtol=1e-12, atol=1e-12)


def test_vander_small_n_has_no_gradient(torch):
    for n in (0, 1):
        parity(torch, lambda T, n=n: T.vander(T.tensor([1.0, 2.0], requires_grad=True), N=n))


# --------------------------------------------------------------------------- dist
@pytest.mark.parametrize("p", [0, 1, 2, 3.5, -1.5, math.inf, -math.inf])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_dist_grid(torch, p, dtype):
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4,))
    rtol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-5
    parity(torch, lambda T: T.dist(T.tensor(a).to(getattr(T, dtype)), T.tensor(b).to(getattr(T, dtype)), p),
           rtol=rtol)
    parity(torch, lambda T: T.tensor(a).to(getattr(T, dtype)).dist(T.tensor(b).to(getattr(T, dtype)), p=p),
           rtol=rtol)
    parity(torch, lambda T: T.dist(T.tensor(a), T.tensor(b), T.tensor(float(p))))


def test_dist_p0_gradient_is_zero():
    a = ferrum.tensor(RNG.normal(size=(3, 4)), requires_grad=True)
    b = ferrum.tensor(RNG.normal(size=(4,)), requires_grad=True)
    r = ferrum.dist(a, b, 0)
    assert r.item() == 12 and r.requires_grad
    ga, gb = ferrum.autograd.grad(r, (a, b), allow_unused=True)
    for g in (ga, gb):
        assert g is None or not g.numpy().any()


@pytest.mark.parametrize("bad", [
    lambda T: T.dist(T.tensor([1, 2]), T.tensor([1, 2])),
    lambda T: T.dist(T.rand(3), 2.0),
    lambda T: T.dist(T.rand(3), T.rand(2)),
    lambda T: T.dist(T.rand(0), T.rand(0), -1),
    lambda T: T.dist(T.rand(0), T.rand(0), -math.inf),
])
def test_dist_errors(torch, bad):
    parity(torch, bad)


# --------------------------------------------------------------------------- renorm
def _version(t) -> int:
    v = t._version
    return v if isinstance(v, int) else v[0]  # ferrum shares a 1-element list among views


def test_renorm_inplace(torch):
    x = RNG.normal(size=(3, 4)) * 2
    w = RNG.uniform(0.5, 1.5, (3, 4))
    grads = []
    for T in (torch, ferrum):
        leaf = T.tensor(x, requires_grad=True)
        with pytest.raises(RuntimeError):
            leaf.renorm_(2, 0, 1.0)
        y = leaf * 1
        v = _version(y)
        r = y.renorm_(2, 0, 1.0)
        assert r is y and _version(y) > v
        (y * T.tensor(w)).sum().backward()
        grads.append((y.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-10)
    plain = ferrum.tensor(x)
    plain.renorm_(1, 1, 0.5)
    np.testing.assert_allclose(plain.numpy(), torch.tensor(x).renorm_(1, 1, 0.5).numpy(), rtol=1e-12)


@pytest.mark.parametrize("p", [1, 2, 3.0, math.inf])
@pytest.mark.parametrize("maxnorm", [0.0, 1.0, 50.0])
def test_renorm_double_backward_matches_torch(torch, p, maxnorm):
    x = RNG.normal(size=(3, 4)) * 2
    res = []
    for T in (torch, ferrum):
        t = T.tensor(x, requires_grad=True)
        (g,) = T.autograd.grad((T.renorm(t, p, 1, maxnorm) ** 2).sum(), t, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), t)
        res.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("bad", [
    lambda T: T.renorm(T.rand(3, 4), 0, 0, 1.0),
    lambda T: T.renorm(T.rand(3, 4), 2, 0, -1.0),
    lambda T: T.renorm(T.rand(3), 2, 0, 1.0),
    lambda T: T.renorm(T.tensor(2.0), 2, 0, 1.0),
    lambda T: T.renorm(T.rand(3, 4), 2, 2, 1.0),
    lambda T: T.renorm(T.tensor([[1, 2]]), 2, 0, 1.0),
    lambda T: T.renorm(T.rand(3, 4), 2, 0.5, 1.0),
])
def test_renorm_errors(torch, bad):
    parity(torch, bad)


# --------------------------------------------------------------------------- cov / corrcoef
def test_cov_warns_when_degrees_of_freedom_vanish(torch):
    with pytest.warns(UserWarning, match="degrees of freedom"):
        r = ferrum.cov(ferrum.tensor(X), correction=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.cov(torch.tensor(X), correction=5)
    np.testing.assert_array_equal(r.numpy(), t.numpy())  # +-inf: divided by +0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ferrum.cov(ferrum.tensor(X))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8"])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_methods_and_aweights_gradient(torch, dtype, correction):
    x = RNG.integers(0, 9, (3, 6)).astype(np.float64)
    parity(torch, lambda T: T.tensor(x).to(getattr(T, dtype)).cov(correction=correction), rtol=1e-5)
    parity(torch, lambda T: T.tensor(x).to(getattr(T, dtype)).corrcoef(), rtol=1e-5)
    aw = RNG.uniform(0.5, 2.0, 6)
    fw = RNG.integers(1, 4, 6)
    grads = []
    for T in (torch, ferrum):
        a = T.tensor(aw, requires_grad=True)
        xt = T.tensor(x, requires_grad=True)
        c = T.cov(xt, correction=correction, aweights=a, fweights=T.tensor(fw))
        grads.append([g.numpy() for g in T.autograd.grad((c * c).sum(), (xt, a))])
    for gf, gt in zip(grads[1], grads[0]):
        np.testing.assert_allclose(gf, gt, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("bad", [
    lambda T: T.cov(T.rand(2, 3), aweights=T.tensor([1.0, 0.0, 0.0]) * 0),
    lambda T: T.cov(T.rand(2, 3), aweights=T.tensor([[1.0, 2.0, 3.0]])),
    lambda T: T.cov(T.rand(2, 3), fweights=T.tensor([[1, 2, 3]])),
    lambda T: T.cov(T.rand(2, 3), fweights=T.tensor([1, 2])),
    lambda T: T.cov(T.rand(2, 3), correction=1.5),
    lambda T: T.cov(T.tensor([True, False])),
    lambda T: T.cov(T.rand(2, 2, 2)),
    lambda T: T.corrcoef(T.rand(2, 2, 2)),
])
def test_cov_errors(torch, bad):
    parity(torch, bad)


# --------------------------------------------------------------------------- the rest
def test_methods_and_aliases(torch):
    parity(torch, lambda T: T.tensor(X).diff(n=2, dim=0))
    parity(torch, lambda T: T.tensor(X).diff(prepend=T.tensor(X)[:, :1]))
    parity(torch, lambda T: T.tensor(X).renorm(2, 1, 0.5))
    parity(torch, lambda T: T.trapz(T.tensor(X), dx=0.25, dim=0))
    parity(torch, lambda T: T.trapezoid(T.tensor(X), dx=T.tensor(0.5)))
    parity(torch, lambda T: T.cumulative_trapezoid(T.tensor(X), dx=3))
    parity(torch, lambda T: T.block_diag())
    parity(torch, lambda T: T.block_diag(T.rand(0)))
    f = ferrum.rand(3)
    assert ferrum.cartesian_prod(f) is f


@pytest.mark.parametrize("bad", [
    lambda T: T.trapezoid(T.rand(3), T.rand(3), dx=2),
    lambda T: T.trapezoid(T.tensor(1.0)),
    lambda T: T.trapezoid(T.rand(3), dim=1),
    lambda T: T.trapezoid(T.rand(3), T.rand(3).bool()),
    lambda T: T.cumulative_trapezoid(T.tensor(1.0)),
    lambda T: T.cumulative_trapezoid(T.rand(3).bool()),
    lambda T: T.cumulative_trapezoid(T.rand(0), T.rand(3)),
    lambda T: T.cartesian_prod(),
    lambda T: T.cartesian_prod([T.rand(2), T.rand(2)]),
    lambda T: T.block_diag([T.rand(2), T.rand(2)]),
    lambda T: T.combinations(T.rand(3), 1.5),
    lambda T: T.block_diag(T.rand(2, 2, 2)),
    lambda T: T.vander(T.rand(3), N=2.0),
    lambda T: T.linalg.vander(T.rand(3).half()),
    lambda T: T.linalg.vander(T.rand(3), N=1),
    lambda T: T.diff(T.rand(3), n=True),
    lambda T: T.diff(T.rand(3), prepend=1.0),
])
def test_errors(torch, bad):
    parity(torch, bad)
