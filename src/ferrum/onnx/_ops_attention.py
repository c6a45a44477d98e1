"""Symbolics of attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``
(``nn.MultiheadAttention``), composed of MatMul, Softmax, Where/Add for the masks and the
projections, so that every opset from 17 and onnxruntime run them (ONNX's fused ``Attention`` is
opset 23 only). The causal mask is a bool (L, S) constant of the traced lengths: the batch stays
dynamic, the sequence lengths are those traced.

Rows that no key may attend to give NaN in a plain softmax; ferrum (as PyTorch's CPU SDPA) gives
zeros there, so a masked SDPA ends with ``Where(IsNaN(p), 0, p)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..nn.modules.activation import MultiheadAttention
from ._graph import MODULE_SYMBOLICS, register
from ._graph import dtype_of as _dt
from .errors import UnsupportedOperatorError


def _swap_last(g, x: str, rank: int) -> str:
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return g.op("Transpose", x, perm=perm)


def _masked_scores(g, scores: str, mask, bool_true_keeps: bool, dt) -> str:
    """Applies ``mask`` (a Tensor) to ``scores``: bool masks select (True keeps for SDPA, True drops
    for MultiheadAttention), float masks add."""
    if mask._data.dtype == bool:
        m = g.name_of(mask)
        ninf = g.scalar(-np.inf, dt)
        return g.op("Where", m, scores, ninf) if bool_true_keeps else g.op("Where", m, ninf, scores)
    return g.op("Add", scores, g.operand(mask, dt))


def _causal(g, q: str, k: str) -> str:
    """The bool (L, S) lower triangle, L and S read off the query's and key's shapes (so it
    follows a dynamic sequence length)."""
    import onnx
    lq = g.slice(g.op("Shape", q), [-2], [-1], [0])
    sk = g.slice(g.op("Shape", k), [-2], [-1], [0])
    ones = g.op("ConstantOfShape", g.op("Concat", lq, sk, axis=0),
                value=onnx.numpy_helper.from_array(np.ones(1, np.int64)))
    return g.cast(g.op("Trilu", ones, upper=0), np.bool_)


def _nan_to_zero(g, p: str, dt) -> str:
    return g.op("Where", g.op("IsNaN", p), g.scalar(0.0, dt), p)


@register("scaled_dot_product_attention")
def _sdpa(g, y, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
          enable_gqa=False):
    if dropout_p > 0:
        raise UnsupportedOperatorError("scaled_dot_product_attention", "dropout_p > 0 (training)")
    if query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        raise UnsupportedOperatorError("scaled_dot_product_attention", "grouped-query attention (enable_gqa)")
    dt = _dt(y)
    r = query.dim()
    E = query.shape[-1]
    s = 1 / math.sqrt(E) if scale is None else scale
    q = g.op("Mul", g.name_of(query), g.scalar(s, dt))
    scores = g.op("MatMul", q, _swap_last(g, g.name_of(key), r))
    masked = attn_mask is not None or is_causal
    if is_causal:
        scores = g.op("Where", _causal(g, g.name_of(query), g.name_of(key)), scores, g.scalar(-np.inf, dt))
    if attn_mask is not None:
        scores = _masked_scores(g, scores, attn_mask, True, dt)
    p = g.op("Softmax", scores, axis=-1)
    if masked:
        p = _nan_to_zero(g, p, dt)
    return g.op("MatMul", p, g.name_of(value))


def _proj(g, x: str, w: str, b, rows: tuple | None, dt) -> str:
    """``x @ w[rows]ᵀ + b[rows]`` (rows: a slice of the packed in_proj weight)."""
    if rows is not None:
        w = g.slice(w, [rows[0]], [rows[1]], [0])
        if b is not None:
            b = g.slice(b, [rows[0]], [rows[1]], [0])
    r = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    return r if b is None else g.op("Add", r, b)


@register("multi_head_attention_forward")
def _mha(g, y, query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
         need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None,
         k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
         is_causal=False, *, _batch_first=False):
    name = "multi_head_attention_forward"
    if bias_k is not None or add_zero_attn or static_k is not None or static_v is not None:
        raise UnsupportedOperatorError(name, "add_bias_kv, add_zero_attn or static keys/values")
    if training and dropout_p > 0:
        raise UnsupportedOperatorError(name, "dropout in training mode")
    out, weights = y
    dt = _dt(out)
    batched = query.dim() == 3
    E, H = int(embed_dim_to_check), int(num_heads)
    hd = E // H
    L = query.shape[1 if (_batch_first and batched) else 0]
    S = key.shape[1 if (_batch_first and batched) else 0]

    def nle(t):  # -> (N, len, dim)
        x = g.name_of(t)
        if not batched:
            return g.unsqueeze(x, [0])
        return x if _batch_first else g.op("Transpose", x, perm=[1, 0, 2])

    xq, xk, xv = nle(query), nle(key), nle(value)
    bias = None if in_proj_bias is None else g.name_of(in_proj_bias)
    if use_separate_proj_weight:
        ws = [(q_proj_weight, (0, E), xq), (k_proj_weight, (E, 2 * E), xk),
              (v_proj_weight, (2 * E, 3 * E), xv)]
        q, k, v = (_proj_sep(g, x, g.name_of(w), bias, rows) for w, rows, x in ws)
    else:
        w = g.name_of(in_proj_weight)
        q, k, v = (_proj(g, x, w, bias, (i * E, (i + 1) * E), dt) for i, x in enumerate((xq, xk, xv)))

    def heads(x):  # (N, len, E) -> (N, H, len, hd)
        return g.op("Transpose", g.op("Reshape", x, g.ints([0, 0, H, hd])), perm=[0, 2, 1, 3])

    q, k, v = heads(q), heads(k), heads(v)
    scores = g.op("MatMul", g.op("Mul", q, g.scalar(math.sqrt(1.0 / hd), dt)), _swap_last(g, k, 4))
    use_causal = is_causal and key_padding_mask is None and not need_weights
    masked = False
    if use_causal:
        scores = g.op("Where", _causal(g, q, k), scores, g.scalar(-np.inf, dt))
        masked = True
    elif attn_mask is not None:
        m = attn_mask
        mn = g.name_of(m)
        lead = [1, 1] if m.dim() == 2 else [-1, H]
        mn = g.op("Reshape", mn, g.ints(lead + [L, S]))
        if m._data.dtype == bool:
            scores = g.op("Where", mn, g.scalar(-np.inf, dt), scores)
        else:
            scores = g.op("Add", scores, g.operand(m, dt) if m.dim() == 4 else _cast_to(g, mn, m, dt))
        masked = True
    if key_padding_mask is not None:
        kn = g.name_of(key_padding_mask)
        kn = g.op("Reshape", kn, g.ints([-1, 1, 1, S]))
        if key_padding_mask._data.dtype == bool:
            scores = g.op("Where", kn, g.scalar(-np.inf, dt), scores)
        else:
            scores = g.op("Add", scores, _cast_to(g, kn, key_padding_mask, dt))
        masked = True
    p = g.op("Softmax", scores, axis=-1)
    if masked and not need_weights:
        p = _nan_to_zero(g, p, dt)
    o = g.op("MatMul", p, v)                                                  # (N, H, L, hd)
    o = g.op("Reshape", g.op("Transpose", o, perm=[0, 2, 1, 3]), g.ints([0, 0, E]))   # (N, L, E)
    o = _proj(g, o, g.name_of(out_proj_weight), None if out_proj_bias is None else g.name_of(out_proj_bias),
              None, dt)
    if not batched:
        o = g.squeeze(o, [0])
    elif not _batch_first:
        o = g.op("Transpose", o, perm=[1, 0, 2])
    if weights is None:
        return [o]
    w = g.reduce("ReduceMean", p, [1], False) if average_attn_weights else p
    if not batched:
        w = g.squeeze(w, [0])
    return [o, w]


def _cast_to(g, name: str, t: Tensor, dt) -> str:
    return name if t._data.dtype == dt else g.cast(name, dt)


def _proj_sep(g, x: str, w: str, bias, rows) -> str:
    r = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    if bias is None:
        return r
    return g.op("Add", r, g.slice(bias, [rows[0]], [rows[1]], [0]))


def _mha_module(g, y, m, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
    """``nn.MultiheadAttention`` recorded whole: its forward turns bool masks into float ones with
    private code before calling the function, and the symbolic reads bool masks directly."""
    return _mha(g, y, query, key, value, m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias, m.bias_k,
                m.bias_v, m.add_zero_attn, m.dropout, m.out_proj.weight, m.out_proj.bias, m.training,
                key_padding_mask, need_weights, attn_mask, not m._qkv_same_embed_dim, m.q_proj_weight,
                m.k_proj_weight, m.v_proj_weight, average_attn_weights=average_attn_weights,
                is_causal=is_causal, _batch_first=m.batch_first and query.dim() == 3)


MODULE_SYMBOLICS[MultiheadAttention] = _mha_module
