"""ONNX export of nn.functional's layers (``_ops_nn.py``): linear, every activation, dropout,
convolutions (groups, dilation, strides, padding modes), pooling, normalization, flatten and
embedding. Each exported layer passes check_model(full_check=True) and runs in onnxruntime with
ferrum's outputs (float32, 1e-5), at the traced batch size and another."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import nn

from .helpers import roundtrip

R = ferrum.randn


def _pair(*shape):
    """Inputs at batch 2 (traced) and batch 3 (another size through the dynamic axis)."""
    return (R(2, *shape),), (R(3, *shape),)


ACTIVATIONS = [nn.ReLU(), nn.ReLU(inplace=True), nn.ReLU6(), nn.GELU(), nn.GELU(approximate="tanh"),
               nn.SiLU(),
               nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.SELU(), nn.CELU(1.3),
               nn.Softplus(), nn.Softplus(beta=2.0, threshold=3.0), nn.Hardswish(), nn.Hardsigmoid(),
               nn.Hardtanh(-0.5, 0.7), nn.Mish(), nn.Softsign(), nn.LogSigmoid(), nn.Tanhshrink(),
               nn.Hardshrink(0.3), nn.Softshrink(0.3), nn.Threshold(0.1, -2.0), nn.PReLU(), nn.PReLU(4),
               nn.GLU(), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Softmin(dim=1)]


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda m: repr(m))
def test_activations(act, opset):
    x, x2 = _pair(4, 6)
    roundtrip(act, x, x2, opset=opset)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5,), (3, 5)])
def test_linear(bias, shape):
    roundtrip(nn.Linear(5, 4, bias=bias), *_pair(*shape))


CONVS = [
    (lambda: nn.Conv1d(3, 4, 3), (3, 10)),
    (lambda: nn.Conv1d(4, 4, 3, stride=2, padding=1, dilation=2, groups=2), (4, 11)),
    (lambda: nn.Conv1d(3, 4, 3, padding="same", padding_mode="reflect"), (3, 9)),
    (lambda: nn.Conv2d(3, 6, 3), (3, 8, 8)),
    (lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, bias=False),
     (4, 9, 8)),
    (lambda: nn.Conv2d(3, 3, 3, groups=3, padding=1), (3, 7, 7)),
    (lambda: nn.Conv2d(3, 4, 4, padding="same"), (3, 7, 7)),
    (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate"), (3, 6, 6)),
    (lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"), (3, 6, 6)),
    (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), (3, 6, 6)),
    (lambda: nn.ConvTranspose2d(4, 3, 3), (4, 5, 5)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
     (4, 5, 5)),
    (lambda: nn.ConvTranspose1d(4, 2, 4, stride=3, padding=2), (4, 7)),
]


@pytest.mark.parametrize("make,shape", CONVS)
def test_conv(make, shape):
    m = make()
    opset = 19 if getattr(m, "padding_mode", "zeros") == "circular" else None
    roundtrip(m, *_pair(*shape), opset=opset)


POOLS = [
    (lambda: nn.MaxPool2d(2), (3, 8, 8)),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1), (3, 9, 9)),
    (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (3, 8, 8)),
    (lambda: nn.MaxPool2d(2, dilation=2), (3, 9, 9)),
    (lambda: nn.MaxPool1d(3, stride=2), (3, 9)),
    (lambda: nn.AvgPool2d(2), (3, 8, 8)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1), (3, 9, 9)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (3, 9, 9)),
    (lambda: nn.AvgPool1d(2), (3, 8)),
    (lambda: nn.AdaptiveAvgPool2d(1), (3, 7, 5)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), (3, 8, 9)),
    (lambda: nn.AdaptiveAvgPool1d(1), (3, 7)),
    (lambda: nn.AdaptiveMaxPool2d(1), (3, 7, 5)),
]


@pytest.mark.parametrize("make,shape", POOLS)
def test_pool(make, shape):
    roundtrip(make(), *_pair(*shape))


def _bn(m):
    m.running_mean.uniform_(-1, 1)
    m.running_var.uniform_(0.5, 2)
    if m.weight is not None:
        m.weight.data.uniform_(0.5, 1.5)
        m.bias.data.uniform_(-1, 1)
    return m


NORMS = [
    (lambda: _bn(nn.BatchNorm1d(4)), (4,)),
    (lambda: _bn(nn.BatchNorm1d(4)), (4, 5)),
    (lambda: _bn(nn.BatchNorm2d(3)), (3, 4, 4)),
    (lambda: _bn(nn.BatchNorm2d(3, affine=False)), (3, 4, 4)),
    (lambda: nn.BatchNorm2d(3, track_running_stats=False), (3, 4, 4)),
    (lambda: nn.BatchNorm1d(3, track_running_stats=False, affine=False), (3,)),
    (lambda: nn.LayerNorm(6), (5, 6)),
    (lambda: nn.LayerNorm((5, 6), bias=False), (5, 6)),
    (lambda: nn.LayerNorm(6, elementwise_affine=False), (6,)),
    (lambda: nn.GroupNorm(2, 4), (4, 3, 3)),
    (lambda: nn.GroupNorm(3, 6, affine=False), (6, 5)),
    (lambda: nn.InstanceNorm2d(3, affine=True), (3, 4, 4)),
    (lambda: nn.RMSNorm(6), (4, 6)),
]


@pytest.mark.parametrize("make,shape", NORMS)
def test_norm(make, shape):
    roundtrip(make(), *_pair(*shape))


@pytest.mark.parametrize("m", [nn.Dropout(0.5), nn.Dropout2d(0.3), nn.AlphaDropout(0.2), nn.Flatten(),
                               nn.Flatten(2), nn.Identity(), nn.Unflatten(1, (2, 2))], ids=repr)
def test_shape_layers(m):
    roundtrip(m, *_pair(4, 3, 2))


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding(padding_idx):
    m = nn.Embedding(10, 4, padding_idx=padding_idx)
    roundtrip(m, (ferrum.randint(0, 10, (2, 5)),), (ferrum.randint(0, 10, (4, 5)),))


class _Two(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, a, b):
        return self.m(a, b)


@pytest.mark.parametrize("make,shapes", [
    (lambda: nn.Bilinear(3, 4, 5), ((3,), (4,))),
    (lambda: nn.Bilinear(3, 4, 2, bias=False), ((6, 3), (6, 4))),
    (lambda: nn.CosineSimilarity(dim=1), ((5,), (5,))),
    (lambda: nn.CosineSimilarity(dim=-1, eps=0.5), ((3, 4), (3, 4))),
    (lambda: nn.PairwiseDistance(), ((5,), (5,))),
    (lambda: nn.PairwiseDistance(p=1.0, keepdim=True), ((5,), (5,))),
    (lambda: nn.PairwiseDistance(p=3.0), ((5,), (5,))),
    (lambda: nn.PairwiseDistance(p=float("inf")), ((5,), (5,))),
])
def test_two_input_layers(make, shapes):
    sa, sb = shapes
    roundtrip(_Two(make()), (R(2, *sa), R(2, *sb)), (R(3, *sa), R(3, *sb)))


@pytest.mark.parametrize("p,dim,keepdim", [("fro", None, False), (2, 1, True), (1, -1, False),
                                          (float("inf"), 1, False), (3, (0, 1), False)])
def test_tensor_norm(p, dim, keepdim):
    class Norm(nn.Module):
        def forward(self, x):
            return x.norm(p, dim, keepdim)

    x, x2 = _pair(4, 3)
    batch = dim is not None and 0 not in (dim if isinstance(dim, tuple) else (dim,))
    roundtrip(Norm(), x, x2 if batch else None, out_axes=[0 if batch else None])


def test_rrelu_eval():
    roundtrip(nn.RReLU(0.1, 0.3), *_pair(4, 5))
