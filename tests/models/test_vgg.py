"""ferrum.models.vgg against a torchvision-equivalent torch definition (tests/models/_reference.py):
state-dict names, shapes and dtypes, the parameter counts torchvision publishes, torchvision's
initialisation, outputs, every gradient and the running statistics with the same weights, the
builders' keywords and errors.

A VGG holds 133-144 million parameters whatever ``num_classes`` (the 25088x4096 and 4096x4096
classifier layers), so each test builds each model once and does all its checks on it; parity runs
in float32 on 32x32 images (the smallest that passes five 2x poolings)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models
from ferrum.models import vgg as V

from ._reference import check_parity, load, state_signature

# published by torchvision for num_classes=1000
PARAMS = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg16": 138_357_544, "vgg16_bn": 138_365_992}


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", ["vgg11", "vgg11_bn", "vgg16", "vgg16_bn"])
def test_matches_torchvision(name, torch):
    """Names/shapes/dtypes and the parameter count at 1000 classes; then, on the same model with
    the reference's state loaded, outputs and every gradient in train mode (dropout 0, so that both
    run the same function) and eval outputs after the running statistics moved."""
    fm = getattr(models, name)(dropout=0.0)
    torch.manual_seed(0)
    tm = getattr(load(torch), name)(dropout=0.0)
    assert state_signature(fm) == state_signature(tm)
    assert sum(p.numel() for p in fm.parameters()) == PARAMS[name]
    x = _x((2, 3, 32, 32), np.float32)
    check_parity(torch, tm, fm, x, train=True, rtol=1e-4, grad_rtol=2e-3)
    check_parity(torch, tm, fm, _x((1, 3, 40, 36), np.float32, 1), train=False, rtol=1e-4, backward=False)


def test_repr_matches_torch(torch):
    fm = models.vgg11_bn(num_classes=10)
    assert repr(fm) == repr(load(torch).vgg11_bn(num_classes=10))
    del fm


def test_num_classes_init_and_dropout():
    m = models.vgg11(num_classes=4)
    assert m.classifier[6].weight.shape == (4, 4096) and m.classifier[2].p == 0.5
    for i in (0, 3, 6):  # Linear: N(0, 0.01), bias 0
        w = m.classifier[i].weight.detach().numpy()
        assert abs(w.std() / 0.01 - 1) < 0.05 and (m.classifier[i].bias.detach().numpy() == 0).all()
    c = m.features[3]  # Conv2d(64, 128): kaiming normal fan_out = 128 * 9, bias 0
    assert abs(c.weight.detach().numpy().std() / np.sqrt(2 / (128 * 9)) - 1) < 0.05
    assert (c.bias.detach().numpy() == 0).all()
    m.eval()
    with ferrum.no_grad():
        assert tuple(m(ferrum.randn(1, 3, 32, 32)).shape) == (1, 4)
    # dropout in training: the two Dropout layers are live (a seed reproduces the output)
    m.train()
    x = ferrum.randn(1, 3, 32, 32)
    ferrum.manual_seed(3)
    a = m(x).detach().numpy()
    ferrum.manual_seed(3)
    b = m(x).detach().numpy()
    m.eval()
    with ferrum.no_grad():
        c_ = m(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c_)


def test_make_layers_and_cfgs():
    assert V.cfgs["D"].count("M") == 5 and sum(isinstance(v, int) for v in V.cfgs["D"]) == 13
    f = V.make_layers([8, "M", 16], batch_norm=True)
    kinds = [type(m).__name__ for m in f]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU"]
    assert f[2].inplace and f[0].padding == (1, 1)
    v = V.VGG(V.make_layers([8, "M", 512]), num_classes=3, init_weights=False)
    out = v(ferrum.randn(2, 3, 16, 16))
    assert tuple(out.shape) == (2, 3)


@pytest.mark.parametrize("fn", [models.vgg11, models.vgg11_bn, models.vgg16, models.vgg16_bn])
def test_pretrained_weights_refused(fn):
    with pytest.raises(ValueError, match="cannot be downloaded") as e:
        fn(weights="IMAGENET1K_V1")
    assert "load_state_dict" in str(e.value)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        fn(pretrained=True)
    assert "cannot be downloaded" in fn.__doc__ and "load_state_dict" in fn.__doc__
