"""ferrum.models.mobilenetv2 against a torchvision-equivalent torch definition
(tests/models/_reference.py): state-dict names (``features.0.0.weight``, ``features.1.conv.0.0.weight``,
... ``classifier.1.weight``), shapes and dtypes, the parameter count torchvision publishes,
``width_mult`` rounding, torchvision's initialisation, outputs, every gradient (depthwise
convolutions, ReLU6, residual adds) and the running statistics with the same weights, the builder's
keywords and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models
from ferrum.models import mobilenetv2 as M

from ._reference import check_parity, load, state_signature


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("kwargs,count", [({}, 3_504_872), ({"width_mult": 0.5}, None),
                                          ({"width_mult": 1.4, "num_classes": 10}, None),
                                          ({"width_mult": 0.35, "round_nearest": 4}, None)])
def test_state_dict_matches_torchvision(kwargs, count, torch):
    m = models.mobilenet_v2(**kwargs)
    with torch.device("meta"):
        ref = load(torch).mobilenet_v2(**kwargs)
    assert state_signature(m) == state_signature(ref)
    if count is not None:
        assert sum(p.numel() for p in m.parameters()) == count
    keys = list(m.state_dict())
    assert keys[:2] == ["features.0.0.weight", "features.0.1.weight"]
    assert "features.0.1.running_mean" in keys and "features.1.conv.0.0.weight" in keys
    assert keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]


def test_width_mult_rounding():
    assert models.mobilenet_v2(width_mult=1.4).last_channel == 1792
    assert models.mobilenet_v2(width_mult=0.5).last_channel == 1280
    assert M._make_divisible(32 * 0.5, 8) == 16 and M._make_divisible(24 * 0.35, 8) == 8
    assert M._make_divisible(10, 8) == 16  # 8 would be more than 10% below 10


# float32 compares outputs and running statistics, not gradients: a few of the activations lie
# within float32 rounding of ReLU6's kinks, and the side each framework's rounding puts them on
# changes single input-gradient entries by 2% here (both are right to float32 precision); float64
# checks every gradient.
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-9), (np.float32, 1e-4)])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_parity(dtype, rtol, train, torch):
    torch.manual_seed(0)
    tm = load(torch).mobilenet_v2(num_classes=10, dropout=0.0, width_mult=0.5)
    fm = models.mobilenet_v2(num_classes=10, dropout=0.0, width_mult=0.5)
    if dtype == np.float64:
        tm, fm = tm.double(), fm.double()
    if not train:
        with torch.no_grad():
            for n, b in tm.named_buffers():
                if n.endswith("running_mean"):
                    b.copy_(torch.randn_like(b) * 0.1)
                elif n.endswith("running_var"):
                    b.copy_(torch.rand_like(b) + 0.5)
    x = _x((2, 3, 64, 64), dtype)
    check_parity(torch, tm, fm, x, train=train, rtol=rtol, backward=dtype == np.float64)


def test_full_width_parity_float32(torch):
    torch.manual_seed(1)
    tm = load(torch).mobilenet_v2(num_classes=1000)
    fm = models.mobilenet_v2()
    check_parity(torch, tm, fm, _x((1, 3, 64, 64), np.float32), train=False, rtol=1e-4, backward=False)


def test_structure_and_init():
    m = models.mobilenet_v2(num_classes=10)
    assert isinstance(m.features[1], M.InvertedResidual) and isinstance(m.features[0], M.Conv2dNormActivation)
    assert len(m.features) == 19 and not m.features[1].use_res_connect and m.features[3].use_res_connect
    assert [type(x).__name__ for x in m.features[0]] == ["Conv2d", "BatchNorm2d", "ReLU6"]
    assert m.features[0][2].inplace and m.classifier[0].p == 0.2
    dw = m.features[2].conv[1][0]
    assert dw.groups == dw.in_channels == 96 and dw.bias is None
    # kaiming normal with fan_out = out_channels * kernel area (torch does not divide by groups)
    assert abs(dw.weight.detach().numpy().std() / np.sqrt(2 / (96 * 9)) - 1) < 0.1
    w = m.classifier[1].weight.detach().numpy()
    assert abs(w.std() / 0.01 - 1) < 0.05 and (m.classifier[1].bias.detach().numpy() == 0).all()
    out = m(ferrum.randn(2, 3, 32, 32))
    assert tuple(out.shape) == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_conv2d_norm_activation():
    b = M.Conv2dNormActivation(4, 8, kernel_size=5, stride=2)
    assert [type(x).__name__ for x in b] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert b[0].padding == (2, 2) and b[0].bias is None and b.out_channels == 8
    b = M.Conv2dNormActivation(4, 8, norm_layer=None, activation_layer=None, dilation=2)
    assert len(b) == 1 and b[0].bias is not None and b[0].padding == (2, 2)
    b = M.Conv2dNormActivation(4, 8, kernel_size=(3, 5), activation_layer=ferrum.nn.ReLU6, inplace=None)
    assert b[0].padding == (1, 2) and not b[2].inplace
    assert tuple(b(ferrum.randn(1, 4, 6, 6)).shape) == (1, 8, 6, 6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="stride should be 1 or 2"):
        M.InvertedResidual(8, 8, 3, 6)
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.mobilenet_v2(inverted_residual_setting=[])
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.mobilenet_v2(inverted_residual_setting=[[1, 16, 1]])


def test_pretrained_weights_refused():
    with pytest.raises(ValueError, match="cannot be downloaded") as e:
        models.mobilenet_v2(weights="IMAGENET1K_V2")
    assert "load_state_dict" in str(e.value)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        models.mobilenet_v2(pretrained=True)
    doc = models.mobilenet_v2.__doc__
    assert "cannot be downloaded" in doc and "load_state_dict" in doc
