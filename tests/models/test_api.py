"""ferrum.models' registry (get_model, list_models), the package's lazy import, and the state-dict
route the weights refusal recommends."""

from __future__ import annotations

import numpy as np
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


def test_the_refusal_message_advice_works(tmp_path):
    """The ValueError tells users to load a state dict from a NumPy .npz archive (or converted torch
    tensors); that route restores a model exactly, num_batches_tracked included."""
    m = models.resnet18(num_classes=3)
    m.train()
    m(ferrum.randn(2, 3, 32, 32))  # moves the running statistics off their initial values
    path = tmp_path / "resnet18.npz"
    np.savez(path, **{k: v.numpy() for k, v in m.state_dict().items()})
    fresh = models.resnet18(num_classes=3)
    fresh.load_state_dict({k: ferrum.tensor(v) for k, v in np.load(path).items()})
    for (k, a), (_, b) in zip(m.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    m.eval()
    fresh.eval()
    x = ferrum.randn(1, 3, 32, 32)
    with ferrum.no_grad():
        np.testing.assert_array_equal(m(x).numpy(), fresh(x).numpy())
