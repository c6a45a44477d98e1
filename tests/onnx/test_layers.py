"""ONNX export of every layer family: each exported layer passes check_model(full_check=True) and
runs in onnxruntime with ferrum's outputs (float32, 1e-5), at the traced batch size and another."""

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


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", [None, "bool", "float", "padding"])
def test_multihead_attention(batch_first, need_weights, average, mask):
    E, H, L, S = 8, 2, 4, 5
    m = nn.MultiheadAttention(E, H, batch_first=batch_first)

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = m

        def forward(self, q, kv):
            kw = {}
            if mask == "bool":
                kw["attn_mask"] = ferrum.ones(L, S, dtype=ferrum.bool).triu(2)
            elif mask == "float":
                kw["attn_mask"] = ferrum.arange(L * S, dtype=ferrum.float32).reshape(L, S) * -0.1
            elif mask == "padding":
                kw["key_padding_mask"] = kv.sum(-1) > 1.0 if batch_first else kv.sum(-1).t() > 1.0
            return self.attn(q, kv, kv, need_weights=need_weights, average_attn_weights=average, **kw)

    def inp(n):
        if batch_first:
            return R(n, L, E), R(n, S, E)
        return R(L, n, E), R(S, n, E)

    ax = 0 if batch_first else 1
    n_out = 2 if need_weights else 1
    roundtrip(Attn(), inp(2), inp(3), batch_axes={0: ax, 1: ax}, out_axes=[ax] + [0] * (n_out - 1))


def test_multihead_attention_separate_kdim():
    m = nn.MultiheadAttention(8, 2, kdim=6, vdim=5, batch_first=True)

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = m

        def forward(self, q, k, v):
            return self.attn(q, k, v)[0]

    roundtrip(Attn(), (R(2, 3, 8), R(2, 4, 6), R(2, 4, 5)), (R(3, 3, 8), R(3, 4, 6), R(3, 4, 5)))


@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float", "scale"])
def test_scaled_dot_product_attention(kind):
    F = nn.functional

    class SDPA(nn.Module):
        def forward(self, q, k, v):
            if kind == "causal":
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)
            if kind == "bool":
                mask = ferrum.ones(4, 5, dtype=ferrum.bool).tril()
                return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            if kind == "float":
                return F.scaled_dot_product_attention(q, k, v, attn_mask=ferrum.full((4, 5), -0.5))
            if kind == "scale":
                return F.scaled_dot_product_attention(q, k, v, scale=0.3)
            return F.scaled_dot_product_attention(q, k, v)

    def qkv(n):
        return R(n, 3, 4, 6), R(n, 3, 5, 6), R(n, 3, 5, 7)

    roundtrip(SDPA(), qkv(2), qkv(1))


RNNS = [
    lambda: nn.LSTM(4, 5),
    lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True),
    lambda: nn.LSTM(4, 5, batch_first=True, bias=False),
    lambda: nn.GRU(4, 5),
    lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.RNN(4, 5),
    lambda: nn.RNN(4, 5, nonlinearity="relu", num_layers=2, bidirectional=True),
]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("make", RNNS)
def test_rnn(make, with_state):
    m = make()
    D = 2 if m.bidirectional else 1
    lstm = isinstance(m, nn.LSTM)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = m

        def forward(self, x, h0, c0):
            if not with_state:
                return self.rnn(x)
            return self.rnn(x, (h0, c0) if lstm else h0)

    def inp(n):
        x = R(n, 3, 4) if m.batch_first else R(3, n, 4)
        return x, R(m.num_layers * D, n, 5), R(m.num_layers * D, n, 5)

    bx = 0 if m.batch_first else 1
    out_axes = [bx, 1, 1] if lstm else [bx, 1]
    roundtrip(Wrap(), inp(2), inp(4), batch_axes={0: bx, 1: 1, 2: 1}, out_axes=out_axes)


def test_lstm_unbatched():
    roundtrip(nn.LSTM(4, 5, num_layers=2), (R(3, 4),), batch_axes={}, out_axes=[None, None, None])
