"""nn/utils/fusion.py: folding an eval-mode batch norm into the layer before it gives the same
outputs as the pair, and the same fused parameters as torch's functions."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.nn.utils import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,
                             fuse_linear_bn_weights)


def _trained_bn(T, cls, c, x):
    bn = getattr(T.nn, cls)(c)
    bn.train()
    for i in range(3):
        bn(x * (i + 1) + i)
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval_matches_the_pair(bias):
    lin = ferrum.nn.Linear(5, 4, bias=bias)
    bn = _trained_bn(ferrum, "BatchNorm1d", 4, ferrum.randn(8, 4))
    with ferrum.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    lin.eval()
    fused = fuse_linear_bn_eval(lin, bn)
    x = ferrum.randn(6, 5)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert fused is not lin and fused.weight is not lin.weight and fused.weight.is_leaf
    assert fused.bias.requires_grad is bias  # a missing bias becomes a new one, not requiring grad (torch)


def test_fuse_linear_bn_eval_refuses_training_mode_and_bad_sizes():
    lin, bn = ferrum.nn.Linear(3, 4), ferrum.nn.BatchNorm1d(4)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        fuse_linear_bn_eval(lin, bn)
    with pytest.raises(AssertionError, match="out_features"):
        fuse_linear_bn_eval(lin.eval(), ferrum.nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="running_mean"):
        fuse_linear_bn_eval(lin.eval(), ferrum.nn.BatchNorm1d(4, track_running_stats=False).eval())


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("conv_bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fuse_conv_bn_weights_matches_torch(torch, transpose, conv_bias, affine):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4, 2, 2) if transpose else (4, 3, 2, 2))
    arrays = {"b": rng.standard_normal(4) if conv_bias else None, "rm": rng.standard_normal(4),
              "rv": rng.uniform(0.5, 2, 4), "g": rng.uniform(0.5, 1.5, 4) if affine else None,
              "beta": rng.standard_normal(4) if affine else None}
    res = []
    for T, fn in ((torch, torch.nn.utils.fuse_conv_bn_weights), (ferrum, fuse_conv_bn_weights)):
        t = {k: None if v is None else T.tensor(v) for k, v in arrays.items()}
        fw, fb = fn(T.tensor(w, requires_grad=True), t["b"], t["rm"], t["rv"], 1e-3, t["g"], t["beta"],
                    transpose)
        assert isinstance(fw, T.nn.Parameter) and fw.requires_grad
        res.append((fw.detach().numpy(), fb.detach().numpy(), fb.requires_grad))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)
    assert res[1][2] == res[0][2]


def test_fuse_linear_bn_weights_matches_torch(torch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal(4),
              rng.uniform(0.5, 2, 4), rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)]
    res = []
    for T, fn in ((torch, torch.nn.utils.fuse_linear_bn_weights), (ferrum, fuse_linear_bn_weights)):
        w, b, rm, rv, g, beta = (T.tensor(a) for a in arrays)
        fw, fb = fn(w, b, rm, rv, 1e-5, g, beta)
        res.append((fw.detach().numpy(), fb.detach().numpy()))
    for a, r in zip(res[1], res[0]):
        np.testing.assert_allclose(a, r, rtol=1e-12)


@pytest.mark.skipif(not hasattr(ferrum.nn, "Conv2d"), reason="needs ferrum's Conv2d (the conv branch)")
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches_the_pair(bias):
    conv = ferrum.nn.Conv2d(3, 4, 3, padding=1, bias=bias)
    x = ferrum.randn(2, 3, 5, 5)
    with ferrum.no_grad():
        bn = _trained_bn(ferrum, "BatchNorm2d", 4, conv(x))
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    conv.eval()
    fused = fuse_conv_bn_eval(conv, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    assert fused is not conv and fused.bias is not None


@pytest.mark.skipif(not hasattr(ferrum.nn, "ConvTranspose2d"), reason="needs ferrum's ConvTranspose2d")
def test_fuse_conv_transpose_bn_eval_matches_the_pair():
    conv = ferrum.nn.ConvTranspose2d(3, 4, 3, stride=2)
    x = ferrum.randn(2, 3, 4, 4)
    with ferrum.no_grad():
        bn = _trained_bn(ferrum, "BatchNorm2d", 4, conv(x))
    conv.eval()
    fused = fuse_conv_bn_eval(conv, bn, transpose=True)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
