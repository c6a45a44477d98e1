"""``scaled_dot_product_attention``: one fused autograd node; and ``multi_head_attention_forward``.

SDPA is the hot op of a transformer. Its forward works on raw arrays: the scores ``(q * scale) kᵀ``
go into one fresh buffer through a batched ``np.matmul(..., out=)`` (BLAS per matrix, strided q/k/v
views of a packed projection need no copy), the mask is applied in place (``copyto(-inf,
where=...)`` for a bool mask or ``is_causal``, ``+=`` for a float mask; the causal triangle is a
cached bool array per (L, S), nothing else is materialised) and the softmax is computed in place in
that buffer, which is then saved as ``P`` for the backward. One node (PyTorch's name for the CPU
kernel) holds the hand-written backward on raw arrays:

    dV = Pᵀ g      dP = g Vᵀ      dS = P (dP - rowsum(g ∘ out))      dQ = scale dS K      dK = dSᵀ (scale Q)

(``rowsum(g ∘ out)`` equals ``rowsum(P ∘ dP)`` and costs L·Ev instead of L·S: FlashAttention's
trick). Under ``create_graph`` the same formulas are written with ferrum's differentiable ops
(the softmax recomputed from the saved inputs), so double backward and gradgradcheck work.

Rows that no key may attend to (a fully masked row, or S == 0) give zeros and zero gradients, as
PyTorch 2.13 gives on the CPU (its "safe softmax"), not NaN.

Differences from PyTorch: ``attn_mask`` together with ``is_causal=True`` raises PyTorch's
RuntimeError for every input rank (torch's 4-D CPU flash kernel silently combines the two while its
other paths raise; ferrum keeps the defined behaviour). Dropout draws from ferrum's generator, so
it is reproducible under ``ferrum.manual_seed`` but does not reproduce torch's random stream.

Measured (benchmarks/attention_parts.py, B 16, H 4, T 64, hd 32, causal, float32, forward +
backward, one process): see the numbers next to the tricks below.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, sum_to
from ._linalg_common import _cname
from .nn_misc import _keep_mask

__all__ = ["scaled_dot_product_attention"]

_NEG_INF = -math.inf
_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_TRI: dict = {}


def _causal_excluded(L: int, S: int) -> np.ndarray:
    """The cached read-only bool (L, S) array that is True above the diagonal (the keys a query may
    not see under ``is_causal``: top-left aligned, as PyTorch)."""
    t = _TRI.get((L, S))
    if t is None:
        if len(_TRI) > 32:
            _TRI.clear()
        t = _TRI[(L, S)] = np.triu(np.ones((L, S), dtype=bool), 1)
        t.flags.writeable = False
    return t


def _err_tensor(x, name: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position {pos}) must be "
                        f"Tensor, not {type(x).__name__}")


def _check(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa) -> tuple:
    """Validates the arguments (PyTorch's exception types); returns (batch shape, G_k, G_v), the
    GQA repeat factors of key and value (1 without GQA)."""
    _err_tensor(query, "query", 1)
    _err_tensor(key, "key", 2)
    _err_tensor(value, "value", 3)
    if attn_mask is not None:
        _err_tensor(attn_mask, "attn_mask", 4)
    q, k, v = query._data, key._data, value._data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: Expected query, key, and value to all be at "
                           f"least 2 dimensional, but got query.dim: {q.ndim} key.dim: {k.ndim} and "
                           f"value.dim: {v.ndim} instead.")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError("scaled_dot_product_attention: Expected query, key, and value to have the same "
                           f"dtype, but got query.dtype: {_cname(q.dtype)} key.dtype: {_cname(k.dtype)} and "
                           f"value.dtype: {_cname(v.dtype)} instead.")
    if q.dtype.kind not in "fV":
        raise RuntimeError(f"scaled_dot_product_attention: expected a floating point query, key and value, "
                           f"got {_cname(q.dtype)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query {list(q.shape)} and key {list(k.shape)} "
                           "must have the same embedding size (last dimension)")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key {list(k.shape)} and value {list(v.shape)} "
                           "must have the same sequence length (dimension -2)")
    gk = gv = 1
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and v.ndim >= 3:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk == 0 or hv == 0 or hq % hk or hq % hv:
            raise RuntimeError("scaled_dot_product_attention: Number of heads in key and value must divide "
                               f"the number of heads in query (query {hq}, key {hk}, value {hv})")
        gk, gv = hq // hk, hq // hv
    kb, vb = list(k.shape[:-2]), list(v.shape[:-2])
    if gk != 1:
        kb[-1] *= gk
    if gv != 1:
        vb[-1] *= gv
    try:
        batch = np.broadcast_shapes(q.shape[:-2], tuple(kb), tuple(vb))
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dimensions of query {list(q.shape)}, "
                           f"key {list(k.shape)} and value {list(v.shape)} cannot be broadcast") from None
    if attn_mask is not None:
        m = attn_mask._data
        if m.dtype.kind != "b" and m.dtype != q.dtype:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but "
                               f"got attn_mask.dtype: {_cname(m.dtype)} and  query.dtype: {_cname(q.dtype)} "
                               "instead.")
        if m.ndim < 2:
            raise IndexError(f"scaled_dot_product_attention: attn_mask must be at least 2-D, got shape "
                             f"{list(m.shape)}")
        full = tuple(batch) + (q.shape[-2], k.shape[-2])
        try:
            ok = np.broadcast_shapes(m.shape, full) == full
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {list(m.shape)} cannot be "
                               f"broadcast to the attention scores' shape {list(full)}")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
    return tuple(batch), gk, gv


def _repeat_heads(a, g: int):
    """GQA on a raw array: each head repeated ``g`` times along dim -3 (repeat_interleave)."""
    return a if g == 1 else np.repeat(a, g, axis=-3)


def _unrepeat_heads(ga, g: int):
    """The adjoint of :func:`_repeat_heads` (array or Tensor): sums each group of ``g`` heads."""
    if g == 1:
        return ga
    s = tuple(ga.shape)
    r = ga.reshape(s[:-3] + (s[-3] // g, g) + s[-2:])
    return r.sum(-3) if r.__class__ is Tensor else r.sum(axis=-3)


def _softmax_rows_(s) -> bool:
    """Softmax over the last axis of float array ``s``, in place. A row whose scores are all -inf
    (fully masked) becomes zeros; returns whether there was such a row."""
    if s.size == 0:  # S == 0 included: the product with an empty value gives zeros
        return False
    mx = s.max(axis=-1, keepdims=True)
    empty = bool(np.isneginf(mx).any())
    if empty:
        mx[np.isneginf(mx)] = 0.0  # exp(-inf - 0) = 0: the row sums to 0 instead of NaN
    s -= mx
    np.exp(s, out=s)
    tot = s.sum(axis=-1, keepdims=True)
    if empty:
        tot[tot == 0.0] = 1.0
    # one reciprocal per row, then a multiplication: cheaper than dividing every score
    np.reciprocal(tot, out=tot)
    s *= tot
    return empty


class _SdpaBackward(Node, name="ScaledDotProductFlashAttentionForCpuBackward0"):
    """The fused SDPA node. Saved: q, k, v (tensors, for version checks), the arrays used (scaled
    query ``qs``, GQA-repeated ``kd``/``vd``), the probabilities ``P``, the dropout ``keep`` mask (holding
    1 / (1 - p) or 0) or None, the output array (for rowsum(g ∘ out)) and the mask."""

    __slots__ = ("q", "k", "v", "vq", "vk", "vv", "qs", "kd", "vd", "P", "keep", "y", "yver", "mask",
                 "vm", "causal", "scale", "gk", "gv", "empty")
    _saved = ("q", "k", "v", "qs", "kd", "vd", "P", "keep", "y", "mask")

    def backward(self, g):
        q = self.checked_input(self.q, self.vq)
        k = self.checked_input(self.k, self.vk)
        v = self.checked_input(self.v, self.vv)
        mask = self.mask
        if mask is not None:
            mask = self.checked_input(mask, self.vm)
        if g.__class__ is Tensor:
            return _backward_graph(self, g, q, k, v, mask)
        P = self.unreleased(self.P)
        y = self.checked_output(self.y, self.yver)
        keep = self.keep
        nq, nk, nv = self.next[0], self.next[1], self.next[2]
        nm = self.next[3] if len(self.next) > 3 else None
        gq = gk = gv = gm = None
        if nv is not None:
            pd = P if keep is None else P * keep
            gv = _unrepeat_heads(sum_to(np.matmul(pd.swapaxes(-1, -2), g), self.vd.shape), self.gv)
            gv = sum_to(gv, v.shape)
        if nq is None and nk is None and nm is None:
            return (gq, gk, gv, gm)[:len(self.next)]
        dp = np.matmul(g, self.vd.swapaxes(-1, -2))
        if keep is not None:
            dp *= keep
        # rowsum(P ∘ dP) = rowsum(g ∘ out): L·Ev products instead of L·S
        dot = np.einsum("...i,...i->...", g, y)
        dp -= dot[..., None]
        dp *= P  # dS: zero wherever P is (masked keys, empty rows)
        if nq is not None:
            gq = np.matmul(dp, self.kd)
            gq *= self.scale
            gq = sum_to(gq, q.shape)
        if nk is not None:
            gk = np.matmul(dp.swapaxes(-1, -2), self.qs)
            gk = sum_to(_unrepeat_heads(sum_to(gk, self.kd.shape), self.gk), k.shape)
        if nm is not None:
            gm = sum_to(dp, mask.shape)
        return (gq, gk, gv, gm)[:len(self.next)]


def _backward_graph(node, g, q, k, v, mask):
    """The backward as differentiable ferrum ops (create_graph): the softmax is recomputed from the
    saved inputs, so that every quantity depends on q, k, v (and a float mask) in the graph."""
    from .gather_scatter import masked_fill
    from .select import where
    from .softmax import softmax

    sc = node.scale
    kr = _repeat_t(k, node.gk)
    vr = _repeat_t(v, node.gv)
    qs = q * sc
    s = qs.matmul(kr.transpose(-2, -1))
    if node.causal:
        L, S = s.shape[-2], s.shape[-1]
        s = masked_fill(s, _wrap(_causal_excluded(L, S)), _NEG_INF)
    elif mask is not None:
        if mask._data.dtype.kind == "b":
            s = masked_fill(s, _wrap(~mask._data), _NEG_INF)
        else:
            s = s + mask
    valid = None
    if node.empty:
        P0 = node.unreleased(node.P)
        valid = _wrap(P0.max(axis=-1, keepdims=True) > 0) if P0.shape[-1] else None
        if valid is not None:
            s = where(valid, s, 0.0)  # no -inf row reaches softmax: no NaN in any derivative
    P = softmax(s, -1) if s.shape[-1] else s
    if valid is not None:
        P = where(valid, P, 0.0)
    keep = None if node.keep is None else _wrap(node.keep)
    pd = P if keep is None else P * keep
    nq, nk, nv = node.next[0], node.next[1], node.next[2]
    nm = node.next[3] if len(node.next) > 3 else None
    gq = gk = gv = gm = None
    if nv is not None:
        gv = sum_to(_unrepeat_heads(sum_to(pd.transpose(-2, -1).matmul(g), tuple(vr.shape)), node.gv),
                    tuple(v.shape))
    if nq is not None or nk is not None or nm is not None:
        dp = g.matmul(vr.transpose(-2, -1))
        if keep is not None:
            dp = dp * keep
        ds = P * (dp - (P * dp).sum(-1, keepdim=True))
        if nq is not None:
            gq = sum_to(ds.matmul(kr) * sc, tuple(q.shape))
        if nk is not None:
            gk = sum_to(_unrepeat_heads(sum_to(ds.transpose(-2, -1).matmul(qs), tuple(kr.shape)), node.gk),
                        tuple(k.shape))
        if nm is not None:
            gm = sum_to(ds, tuple(mask.shape))
    return (gq, gk, gv, gm)[:len(node.next)]


def _repeat_t(t: Tensor, g: int) -> Tensor:
    """GQA on a Tensor (differentiable): each head repeated ``g`` times along dim -3."""
    if g == 1:
        return t
    s = tuple(t.shape)
    return t.unsqueeze(-3).expand(s[:-2] + (g,) + s[-2:]).reshape(s[:-3] + (s[-3] * g,) + s[-2:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q kᵀ · scale + mask) v, with dropout on the attention weights.

    query (N..., Hq, L, E), key (N..., H, S, E), value (N..., H, S, Ev) -> (N..., Hq, L, Ev); any
    number of leading batch dims, broadcast against each other. ``attn_mask`` broadcastable to
    (N..., Hq, L, S): bool (True: the key takes part) or of the query's dtype (added to the scores).
    ``is_causal``: query i sees keys 0..i (top-left aligned). ``scale`` defaults to 1/sqrt(E).
    ``enable_gqa``: key/value heads are repeated (repeat_interleave) to the query's head count.
    ``dropout_p`` is applied whenever it is > 0 (pass 0.0 in evaluation, as with torch).
    """
    batch, gk, gv = _check(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    dt = query._data.dtype
    if dt not in _FAST:  # float16 / bfloat16: computed in float32, rounded back (differentiably)
        m = attn_mask
        if m is not None and m._data.dtype.kind != "b":
            m = m.float()
        out = scaled_dot_product_attention(query.float(), key.float(), value.float(), m, dropout_p,
                                           is_causal, scale, enable_gqa)
        return out.to(query.dtype)
    qd, kd, vd = query._data, _repeat_heads(key._data, gk), _repeat_heads(value._data, gv)
    L, E = qd.shape[-2], qd.shape[-1]
    S = kd.shape[-2]
    sc = float(scale) if scale is not None else 1.0 / math.sqrt(E) if E else 1.0
    qs = qd * dt.type(sc)  # scaling q (L·E) instead of the scores (L·S)
    s = np.empty(batch + (L, S), dtype=dt)
    np.matmul(qs, kd.swapaxes(-1, -2), out=s)
    md = None if attn_mask is None else attn_mask._data
    if is_causal:
        np.copyto(s, _NEG_INF, where=_causal_excluded(L, S))
    elif md is not None:
        if md.dtype.kind == "b":
            np.copyto(s, _NEG_INF, where=~md)
        else:
            s += md
    empty = _softmax_rows_(s)
    keep = None
    if dropout_p > 0.0:
        if dropout_p == 1.0:
            keep = np.zeros(s.shape, dtype=dt)
        else:
            keep = _keep_mask(s, s.shape, dropout_p, 1.0 / (1.0 - dropout_p))
        y = np.matmul(s * keep, vd)
    else:
        y = np.matmul(s, vd)
    out = _wrap(y)
    mask_grad = md is not None and md.dtype.kind != "b" and attn_mask.requires_grad
    if _state.grad_enabled and (query.requires_grad or key.requires_grad or value.requires_grad or mask_grad):
        ins = (query, key, value, attn_mask) if mask_grad else (query, key, value)
        node = attach(out, _SdpaBackward, ins)
        node.q, node.k, node.v = query, key, value
        node.vq, node.vk, node.vv = query._version[0], key._version[0], value._version[0]
        node.qs, node.kd, node.vd = qs, kd, vd
        node.P, node.keep, node.y, node.yver = s, keep, y, out._version
        node.mask = attn_mask
        node.vm = attn_mask._version[0] if attn_mask is not None else 0
        node.causal, node.scale, node.gk, node.gv, node.empty = is_causal, sc, gk, gv, empty
    return out
