"""ONNX export of the image ops (``_ops_vision.py``): interpolate in every mode PyTorch and Resize
share, pixel (un)shuffle, channel shuffle, LP pooling, local response norm, circular padding below
and from opset 19; and the 3-D layers."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import nn

from .helpers import roundtrip

R = ferrum.randn

UPSAMPLES = [
    (lambda: nn.Upsample(scale_factor=2), (3, 4, 4)),
    (lambda: nn.Upsample(scale_factor=1.7), (3, 5, 4)),
    (lambda: nn.Upsample(size=(6, 9)), (3, 4, 4)),
    (lambda: nn.Upsample(size=(3, 2)), (3, 7, 5)),
    (lambda: nn.Upsample(scale_factor=1.5, mode="nearest-exact"), (3, 4, 4)),
    (lambda: nn.Upsample(scale_factor=3, mode="linear"), (3, 4)),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (3, 4, 4)),
    (lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (3, 5, 4)),
    (lambda: nn.Upsample(size=(7, 3), mode="bilinear"), (3, 5, 4)),
    (lambda: nn.Upsample(size=(7, 5), mode="bilinear", align_corners=True), (3, 4, 4)),
    (lambda: nn.Upsample(scale_factor=2, mode="trilinear"), (2, 3, 3, 3)),
    (lambda: nn.Upsample(scale_factor=2, mode="bicubic"), (3, 4, 4)),
    (lambda: nn.Upsample(scale_factor=2, mode="bicubic", align_corners=True), (3, 4, 4)),
    (lambda: nn.UpsamplingNearest2d(scale_factor=2), (3, 3, 3)),
    (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (3, 3, 3)),
]


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.parametrize("make,shape", UPSAMPLES)
def test_interpolate(make, shape, opset):
    roundtrip(make(), (R(2, *shape),), (R(3, *shape),), opset=opset)


LAYERS = [
    (lambda: nn.PixelShuffle(2), (8, 3, 3)),
    (lambda: nn.PixelUnshuffle(2), (2, 4, 6)),
    (lambda: nn.ChannelShuffle(2), (4, 3, 3)),
    (lambda: nn.LPPool2d(2, 2), (3, 4, 4)),
    (lambda: nn.LPPool1d(2, 3, stride=2), (3, 8)),
    (lambda: nn.LocalResponseNorm(3), (4, 5, 5)),
    (lambda: nn.LocalResponseNorm(2, alpha=0.01, beta=0.5, k=2.0), (5, 6)),
    (lambda: nn.ZeroPad2d((1, 2, 0, 1)), (2, 4, 4)),
    (lambda: nn.ReflectionPad2d(1), (2, 4, 4)),
    (lambda: nn.ReplicationPad1d(2), (2, 4)),
    (lambda: nn.ConstantPad1d(2, 3.5), (2, 4)),
    (lambda: nn.CircularPad2d((1, 2, 2, 0)), (2, 4, 4)),
    (lambda: nn.Conv3d(2, 3, 2), (2, 4, 4, 4)),
    (lambda: nn.MaxPool3d(2), (2, 4, 4, 4)),
    (lambda: nn.AvgPool3d(2), (2, 4, 4, 4)),
    (lambda: nn.BatchNorm3d(2), (2, 3, 3, 3)),
]


@pytest.mark.parametrize("make,shape", LAYERS)
def test_layer(make, shape):
    roundtrip(make(), (R(2, *shape),), (R(3, *shape),))


@pytest.mark.parametrize("opset", [18, 19])
def test_circular_pad_both_ways(opset):
    roundtrip(nn.CircularPad1d((2, 1)), (R(2, 3, 5),), (R(4, 3, 5),), opset=opset)
