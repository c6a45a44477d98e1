"""nn/modules/normalization.py: LayerNorm, GroupNorm, RMSNorm and LocalResponseNorm against torch
(outputs and every gradient over their options), parameters, repr and construction errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


def _compare(torch, make, shape, dtype="float64"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 0.5
    g = rng.standard_normal(shape)
    res, mods = [], []
    for T in (torch, ferrum):
        m = make(T).to(getattr(T, dtype))
        with T.no_grad():
            for i, p in enumerate(m.parameters()):
                p.copy_(T.tensor(np.linspace(0.5, 1.5 + i, p.numel()).reshape(tuple(p.shape))))
        xt = T.tensor(x, dtype=getattr(T, dtype), requires_grad=True)
        y = m(xt)
        y.backward(T.tensor(g, dtype=getattr(T, dtype)))
        res.append([y.detach().double().numpy(), xt.grad.double().numpy()]
                   + [p.grad.double().numpy() for p in m.parameters()])
        mods.append(m)
    tol = 1e-10 if dtype == "float64" else 2e-5
    assert len(res[0]) == len(res[1])
    for a, r in zip(res[1], res[0]):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)
    assert repr(mods[1]) == repr(mods[0])
    assert list(mods[1].state_dict()) == list(mods[0].state_dict())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ns,shape", [(4, (2, 3, 4)), ((3, 4), (2, 3, 4)), ([4], (4,))])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layer_norm(torch, dtype, ns, shape, affine, bias):
    _compare(torch, lambda T: T.nn.LayerNorm(ns, eps=1e-4, elementwise_affine=affine, bias=bias), shape,
             dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("groups,shape", [(2, (2, 4, 3)), (1, (2, 4, 2, 2)), (4, (3, 4))])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(torch, dtype, groups, shape, affine):
    _compare(torch, lambda T: T.nn.GroupNorm(groups, 4, eps=1e-4, affine=affine), shape, dtype)


def test_group_norm_bias_false(torch):
    _compare(torch, lambda T: T.nn.GroupNorm(2, 4, bias=False), (2, 4, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ns,shape", [(4, (2, 3, 4)), ((3, 4), (2, 3, 4))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm(torch, dtype, ns, shape, eps, affine):
    _compare(torch, lambda T: T.nn.RMSNorm(ns, eps=eps, elementwise_affine=affine), shape, dtype)


@pytest.mark.parametrize("size,shape", [(2, (2, 5, 3)), (3, (2, 4, 2, 2)), (5, (1, 6, 2, 2, 2))])
def test_local_response_norm(torch, size, shape):
    _compare(torch, lambda T: T.nn.LocalResponseNorm(size, alpha=0.2, beta=0.6, k=1.5), shape)


def test_group_norm_groups_must_divide_channels(torch):
    for T in (torch, ferrum):
        with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
            T.nn.GroupNorm(3, 4)


def test_parameters_and_reset():
    m = ferrum.nn.LayerNorm((2, 3), elementwise_affine=True, bias=False)
    assert m.normalized_shape == (2, 3) and m.weight.shape == (2, 3) and m.bias is None
    with ferrum.no_grad():
        m.weight.fill_(2.0)
    m.reset_parameters()
    assert m.weight.tolist() == [[1.0] * 3] * 2
    r = ferrum.nn.RMSNorm(3, elementwise_affine=False)
    assert r.weight is None and r.eps is None and [n for n, _ in r.named_parameters()] == []
