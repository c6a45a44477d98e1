"""ferrum.models.vgg against a torchvision-equivalent torch definition (tests/models/_reference.py):
state-dict names, shapes and dtypes, the parameter counts torchvision publishes, torchvision's
initialisation, outputs, every gradient and the running statistics with the same weights, the
builders' keywords and errors.

A VGG holds 133-144 million parameters whatever ``num_classes`` (the 25088x4096 and 4096x4096
classifier layers): building one takes seconds and 0.5 GB, so the structure tests build ferrum's
with ``init_weights=False`` (one initialisation pass instead of two) and torch's on the meta device,
and parity runs on two models (one with batch norm, one without): the whole model in float32
against torch's float32 directly (torch's float32 VGG outputs are within 3e-6 of its float64 ones
on these inputs), the convolution stack in float64 with every gradient, on 32x32 images (the
smallest that passes five 2x poolings)."""

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
def test_state_dict_and_parameter_count_match_torchvision(name, torch):
    fm = getattr(models, name)(init_weights=False)
    with torch.device("meta"):
        tm = getattr(load(torch), name)()
    assert state_signature(fm) == state_signature(tm)
    assert sum(p.numel() for p in fm.parameters()) == PARAMS[name]
    if name == "vgg11_bn":
        assert repr(fm) == repr(tm)


@pytest.mark.parametrize("name", ["vgg11_bn", "vgg16"])
def test_parity(name, torch):
    """The whole model in float32: train-mode outputs and running statistics (dropout 0, so that
    both run the same function), then eval outputs with the statistics the step left. Then the
    convolution stack in float64 with every gradient. Whole-model gradients are not compared in
    float32: with 4096 hidden units per classifier layer, some pre-activations lie within float32
    rounding of ReLU's kink and the side each framework rounds them to moves every upstream
    gradient by ~1.5% (seen with vgg11_bn); float64 has no such ties, and 1 GB of float64
    classifier per model is too much to build twice here."""
    torch.manual_seed(0)
    tm = getattr(load(torch), name)(num_classes=10, dropout=0.0)
    fm = getattr(models, name)(num_classes=10, dropout=0.0, init_weights=False)
    check_parity(torch, tm, fm, _x((2, 3, 32, 32), np.float32), train=True, rtol=1e-4, backward=False,
                 exact64=False)
    check_parity(torch, tm, fm, _x((1, 3, 40, 36), np.float32, 1), train=False, rtol=1e-4, backward=False,
                 exact64=False)
    tf, ff = tm.features.double(), fm.features.double()
    check_parity(torch, tf, ff, _x((2, 3, 32, 32), np.float64, 2), train=True, rtol=1e-9)


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
    with ferrum.no_grad():
        ferrum.manual_seed(3)
        a = m(x).numpy()
        ferrum.manual_seed(3)
        b = m(x).numpy()
        m.eval()
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
    out.sum().backward()
    assert v.features[0].weight.grad is not None


@pytest.mark.parametrize("fn", [models.vgg11, models.vgg11_bn, models.vgg16, models.vgg16_bn])
def test_pretrained_weights_refused(fn):
    with pytest.raises(ValueError, match="cannot be downloaded") as e:
        fn(weights="IMAGENET1K_V1")
    assert "load_state_dict" in str(e.value)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        fn(pretrained=True)
    assert "cannot be downloaded" in fn.__doc__ and "load_state_dict" in fn.__doc__
