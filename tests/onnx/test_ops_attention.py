"""ONNX export of attention (``_ops_attention.py``): nn.MultiheadAttention (batch_first, weights
averaged or per head or none, bool/float/padding masks, separate kdim/vdim),
scaled_dot_product_attention (causal, masks, scale) and the transformer encoder layer."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import nn

from .helpers import roundtrip

R = ferrum.randn


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


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_layer(norm_first, activation):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, activation=activation, norm_first=norm_first,
                                       batch_first=True)
    roundtrip(nn.TransformerEncoder(layer, 2, enable_nested_tensor=False), (R(2, 5, 8),), (R(3, 5, 8),))


def test_transformer_with_causal_mask():
    """nn.Transformer (encoder and decoder stacks, cross-attention) with a causal target mask from
    generate_square_subsequent_mask."""
    t = nn.Transformer(8, 2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                       batch_first=True)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.t = t

        def forward(self, src, tgt):
            mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
            return self.t(src, tgt, tgt_mask=mask)

    from ferrum.onnx.errors import OnnxExporterWarning
    with pytest.warns(OnnxExporterWarning, match="__bool__"):   # the layers' is-causal check on the mask
        roundtrip(Seq2Seq(), (R(2, 5, 8), R(2, 4, 8)), (R(3, 5, 8), R(3, 4, 8)))
