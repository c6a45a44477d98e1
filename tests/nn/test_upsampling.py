"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d against torch 2.13: outputs and input
gradients over modes, sizes and scale factors in float32 and float64; stored attributes, reprs,
module paths, state (none), and errors raised at call time as torch does."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
from ferrum.autograd import gradcheck, gradgradcheck

CONFIGS = [
    ("Upsample", {"scale_factor": 2}, (2, 3, 4)),
    ("Upsample", {"size": 7, "mode": "linear"}, (2, 3, 4)),
    ("Upsample", {"scale_factor": 1.5, "mode": "linear", "align_corners": True}, (2, 3, 4)),
    ("Upsample", {"scale_factor": (2, 3), "mode": "nearest-exact"}, (1, 2, 3, 4)),
    ("Upsample", {"size": (5, 6), "mode": "bilinear"}, (1, 2, 3, 4)),
    ("Upsample", {"scale_factor": 1.7, "mode": "bicubic", "recompute_scale_factor": True}, (1, 2, 3, 4)),
    ("Upsample", {"scale_factor": 2.5, "mode": "bicubic", "align_corners": True}, (1, 2, 3, 4)),
    ("Upsample", {"scale_factor": 2, "mode": "trilinear"}, (1, 1, 2, 3, 2)),
    ("Upsample", {"size": (2, 3, 1), "mode": "area"}, (1, 1, 3, 5, 4)),
    ("UpsamplingNearest2d", {"scale_factor": 2}, (1, 2, 3, 4)),
    ("UpsamplingNearest2d", {"size": (5, 7)}, (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", {"scale_factor": 1.5}, (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", {"size": 6}, (1, 2, 3, 4)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kw,shape", CONFIGS, ids=[f"{c}-{k}" for c, k, _ in CONFIGS])
def test_module_matches_torch(torch, cls, kw, shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape)
    res = []
    for T in (ferrum, torch):
        m = getattr(T.nn, cls)(**kw)
        x = T.tensor(a, dtype=getattr(T, dtype), requires_grad=True)
        y = m(x)
        y.backward(T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=getattr(T, dtype)))
        res.append((y.detach().numpy(), x.grad.numpy(), repr(m), m.scale_factor, m.size, m.mode,
                    m.align_corners, m.recompute_scale_factor, m.name))
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol * 10)
    assert res[0][2:] == res[1][2:]


def test_module_paths_and_no_state():
    from ferrum.nn.modules.pixelshuffle import PixelShuffle  # noqa: F401
    from ferrum.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

    for m in (Upsample(scale_factor=2), UpsamplingNearest2d(size=3), UpsamplingBilinear2d(scale_factor=2)):
        assert list(m.parameters()) == [] and m.state_dict() == {}
        assert isinstance(m, Upsample)
    assert nn.Upsample is Upsample


def test_scale_factor_is_stored_as_float(torch):
    for kw in ({"scale_factor": 2}, {"scale_factor": (2, 3)}, {"scale_factor": 0}, {"size": (3, 4)}):
        f, t = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert f.scale_factor == t.scale_factor and type(f.scale_factor) is type(t.scale_factor)
        assert repr(f) == repr(t)


def test_gradgradcheck_through_the_module():
    m = nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=False)
    x = ferrum.randn(1, 1, 3, 3, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(m, (x,))
    assert gradgradcheck(m, (x,))


@pytest.mark.parametrize("kw,shape", [({"scale_factor": 2, "mode": "bilinear"}, (1, 2, 3)),
                                      ({"size": 3, "mode": "nearest", "align_corners": True}, (1, 2, 3, 3)),
                                      ({"size": (3, 3, 3)}, (1, 2, 3, 3)),
                                      ({}, (1, 2, 3, 3))], ids=str)
def test_errors_at_call_time_match_torch(torch, kw, shape):
    errs = []
    for T in (torch, ferrum):
        m = T.nn.Upsample(**kw)  # torch validates nothing at construction
        with pytest.raises(Exception) as e:
            m(T.zeros(shape))
        errs.append(e.value)
    assert type(errs[1]) is type(errs[0]), errs
