"""ferrum.models' registry (get_model, list_models) and the package's lazy import."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import models


def test_lazy_import_and_names():
    import ferrum.models as m

    assert ferrum.models is m is models
    for name in ("lenet5", "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn",
                 "mobilenet_v2", "ResNet", "BasicBlock", "Bottleneck", "VGG", "MobileNetV2", "LeNet5"):
        assert hasattr(models, name), name
    assert models.resnet.ResNet is models.ResNet and models.mobilenetv2.MobileNetV2 is models.MobileNetV2


def test_list_models():
    names = models.list_models()
    assert names == sorted(names)
    assert {"lenet5", "resnet18", "resnet50", "vgg16_bn", "mobilenet_v2"} <= set(names)
    assert models.list_models(include="vgg1?_bn") == ["vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
    assert models.list_models(include="resnet*", exclude=["resnet1*"]) == ["resnet34", "resnet50"]
    assert models.list_models(module=models.vgg)[0] == "vgg11"


def test_get_model():
    m = models.get_model("ResNet18", num_classes=4)
    assert isinstance(m, models.ResNet) and m.fc.out_features == 4
    assert isinstance(models.get_model("lenet5"), models.LeNet5)
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet9000")
    with pytest.raises(ValueError, match="cannot be downloaded"):
        models.get_model("mobilenet_v2", weights="DEFAULT")
