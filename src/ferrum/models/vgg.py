"""VGG (Simonyan and Zisserman, 2014) with torchvision's module tree and initialisation, so that
parameter and buffer names and shapes are torchvision's (``features.0.weight``,
``features.1.running_mean`` in the _bn variants, ``classifier.6.bias``, ...) and a torchvision state
dict, converted to ferrum tensors, loads and gives the same outputs.

torchvision's configurations: "A" (VGG-11), "B" (VGG-13), "D" (VGG-16), "E" (VGG-19); integers are
3x3 convolutions (padding 1) with that many output channels, "M" a 2x2 max-pool of stride 2.
"""

from __future__ import annotations

from typing import Any, Union

from .. import nn
from .._tensor import Tensor
from ..ops.view import flatten
from ._api import _handle_weights, _weights_doc, register_model

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]


class VGG(nn.Module):
    """``features`` (the convolution stack), ``avgpool`` (AdaptiveAvgPool2d((7, 7))), then
    ``classifier``: Linear(25088, 4096), ReLU, Dropout(dropout), Linear(4096, 4096), ReLU,
    Dropout(dropout), Linear(4096, num_classes). Input (N, 3, H, W) with H, W >= 32 (five 2x
    poolings) -> output (N, num_classes).

    ``init_weights``: torchvision's initialisation (Kaiming-normal fan_out/ReLU convolutions with
    zero bias, norm weight 1 and bias 0, Linear weights N(0, 0.01) with zero bias); False keeps
    each layer's default.
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        return self.classifier(x)


def make_layers(cfg: list[Union[str, int]], batch_norm: bool = False) -> nn.Sequential:
    """The convolution stack of a configuration (see ``cfgs``): each integer v is
    Conv2d(in, v, 3, padding=1) [+ BatchNorm2d(v)] + ReLU(inplace=True), each "M" MaxPool2d(2, 2)."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            v = int(v)
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs: dict[str, list[Union[str, int]]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def _vgg(name: str, cfg: str, batch_norm: bool, weights: Any, kwargs: dict) -> VGG:
    _handle_weights(name, weights, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


_doc = _weights_doc("VGG", "``num_classes=1000``, ``init_weights=True``, ``dropout=0.5``")


@register_model()
@_doc
def vgg11(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11, configuration "A" (132,863,336 parameters at num_classes=1000)."""
    return _vgg("vgg11", "A", False, weights, kwargs)


@register_model()
@_doc
def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with batch normalisation, configuration "A" (132,868,840 parameters)."""
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


@register_model()
@_doc
def vgg13(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13, configuration "B" (133,047,848 parameters at num_classes=1000)."""
    return _vgg("vgg13", "B", False, weights, kwargs)


@register_model()
@_doc
def vgg13_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13 with batch normalisation, configuration "B" (133,053,736 parameters)."""
    return _vgg("vgg13_bn", "B", True, weights, kwargs)


@register_model()
@_doc
def vgg16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16, configuration "D" (138,357,544 parameters at num_classes=1000)."""
    return _vgg("vgg16", "D", False, weights, kwargs)


@register_model()
@_doc
def vgg16_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 with batch normalisation, configuration "D" (138,365,992 parameters)."""
    return _vgg("vgg16_bn", "D", True, weights, kwargs)


@register_model()
@_doc
def vgg19(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19, configuration "E" (143,667,240 parameters at num_classes=1000)."""
    return _vgg("vgg19", "E", False, weights, kwargs)


@register_model()
@_doc
def vgg19_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19 with batch normalisation, configuration "E" (143,678,248 parameters)."""
    return _vgg("vgg19_bn", "E", True, weights, kwargs)
