"""MobileNetV2 (Sandler et al., 2018) with torchvision's module tree and initialisation, so that
parameter and buffer names and shapes are torchvision's (``features.0.0.weight``,
``features.0.1.running_mean``, ``features.1.conv.0.0.weight``, ``features.2.conv.3.weight``,
``classifier.1.weight``, ...) and a torchvision state dict, converted to ferrum tensors, loads and
gives the same outputs.

``Conv2dNormActivation`` is torchvision.ops.misc's block (a Sequential of convolution, norm and
activation, so its children are named 0, 1, 2); it lives here because MobileNetV2 is its only user
in ferrum so far (torchvision also exposes it as ``torchvision.models.mobilenetv2.Conv2dNormActivation``).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from .. import nn
from .._tensor import Tensor
from ..ops.view import flatten
from ._api import _handle_weights, _make_divisible, _weights_doc, register_model

__all__ = ["MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2"]


class _Default:
    """The default of Conv2dNormActivation's ``norm_layer``/``activation_layer``: BatchNorm2d and
    ReLU, looked up when a block is built (torchvision writes the classes themselves; None there
    means "no such stage", so None cannot stand for the default)."""

    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Any = _Default()


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm -> activation, as torchvision.ops.Conv2dNormActivation; children named 0, 1,
    2. ``padding`` None keeps the size at stride 1 (``(kernel_size - 1) // 2 * dilation``); ``bias``
    None means a bias only when there is no norm layer; ``norm_layer`` (default BatchNorm2d) or
    ``activation_layer`` (default ReLU) None leaves that stage out; ``inplace`` is passed to the
    activation (None: not passed)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Union[int, tuple[int, int]] = 3,
                 stride: Union[int, tuple[int, int]] = 1,
                 padding: Union[int, tuple[int, int], str, None] = None,
                 groups: int = 1, norm_layer: Optional[Callable[..., nn.Module]] = _DEFAULT,
                 activation_layer: Optional[Callable[..., nn.Module]] = _DEFAULT,
                 dilation: Union[int, tuple[int, int]] = 1, inplace: Optional[bool] = True,
                 bias: Optional[bool] = None) -> None:
        if norm_layer is _DEFAULT:
            norm_layer = nn.BatchNorm2d
        if activation_layer is _DEFAULT:
            activation_layer = nn.ReLU
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if isinstance(kernel_size, Sequence) else len(dilation)
                ks = kernel_size if isinstance(kernel_size, Sequence) else (kernel_size,) * n
                dl = dilation if isinstance(dilation, Sequence) else (dilation,) * n
                padding = tuple((ks[i] - 1) // 2 * dl[i] for i in range(n))
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                                             dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """Expand (1x1, unless ``expand_ratio`` is 1) -> depthwise 3x3 with ``stride`` -> linear 1x1
    projection, each convolution followed by norm (and ReLU6 except the projection); the input is
    added back when stride is 1 and ``inp == oup``. (N, inp, H, W) -> (N, oup, H/stride, W/stride)."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
        super().__init__()
        self.stride = stride
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ])
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2: a 3x3/2 stem (32 channels), the inverted-residual stages of
    ``inverted_residual_setting`` (rows t, c, n, s: expansion, output channels, repeats, first
    stride), a 1x1 convolution to ``last_channel`` (1280), global average pooling, Dropout(dropout)
    and Linear(last_channel, num_classes). Input (N, 3, H, W) -> output (N, num_classes).

    ``width_mult`` scales every channel count (rounded by ``_make_divisible`` to multiples of
    ``round_nearest``; the last one is never scaled below 1280). ``block``: the block class
    (default InvertedResidual); ``norm_layer``: the norm class (default BatchNorm2d).
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: Optional[list[list[int]]] = None, round_nearest: int = 8,
                 block: Optional[Callable[..., nn.Module]] = None,
                 norm_layer: Optional[Callable[..., nn.Module]] = None, dropout: float = 0.2) -> None:
        super().__init__()
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list, got "
                             f"{inverted_residual_setting}")
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                                          activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(block(input_channel, output_channel, stride, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = flatten(x, 1)
        return self.classifier(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


@register_model()
@_weights_doc("MobileNetV2", "``num_classes=1000``, ``width_mult=1.0``, ``inverted_residual_setting``, "
              "``round_nearest=8``, ``block``, ``norm_layer``, ``dropout=0.2``")
def mobilenet_v2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> MobileNetV2:
    """MobileNetV2 (3,504,872 parameters at num_classes=1000, width_mult=1.0)."""
    _handle_weights("mobilenet_v2", weights, kwargs)
    return MobileNetV2(**kwargs)
