"""``scaled_dot_product_attention``: one fused autograd node; and ``multi_head_attention_forward``.

SDPA is the hot op of a transformer. Its forward works on raw arrays: the scores go into one fresh
buffer through a batched ``np.matmul(..., out=)`` (BLAS per matrix; strided q/k/v views of a
packed projection need no copy), kept transposed as (..., S, L) = k (q * scale)ᵀ so that the
softmax reduces over axis -2 (see ``_softmax_cols_`` for the measurement); the mask is applied in
place (``copyto(-inf, where=...)`` for a bool mask or ``is_causal``, ``+=`` for a float mask; the
causal triangle is a cached bool array per (L, S), nothing else is materialised) and the softmax is
computed in place in that buffer, which is then saved as ``P`` for the backward. One node
(PyTorch's name for the CPU kernel) holds the hand-written backward on raw arrays, every transpose
a BLAS flag rather than a copy:

    dV = Pᵀ g      dP = g Vᵀ      dS = P (dP - rowsum(g ∘ out))      dQ = scale dS K      dK = dSᵀ (scale Q)

(``rowsum(g ∘ out)`` equals ``rowsum(P ∘ dP)`` and costs L·Ev instead of L·S: FlashAttention's
trick). Under ``create_graph`` the same formulas are written with ferrum's differentiable ops
(the softmax recomputed from the saved inputs), so double backward and gradgradcheck work.

``multi_head_attention_forward`` is composed of ferrum ops (linear, views, cat, pad) around this
node when the attention weights are not asked for, and computes the weights explicitly when they
are, as PyTorch does.

Rows that no key may attend to (a fully masked row, or S == 0) give zeros and zero gradients, as
PyTorch 2.13 gives on the CPU (its "safe softmax"), not NaN.

``attn_mask`` together with ``is_causal=True``: as torch 2.13's CPU flash kernel, 4-D inputs apply
both (the mask, then the causal triangle: ``attn_mask.masked_fill(~tril, -inf)``) and other ranks
raise its RuntimeError (torch's documentation says it always raises, and its math kernel, picked
when the value's head size differs from the query's, does raise for 4-D too).
Differences from PyTorch: a 0-d or 1-D ``attn_mask`` is
broadcast, as torch's documented semantics and its non-4-D path do (its 4-D kernel raises
IndexError). Dropout draws from ferrum's generator, so it is reproducible under
``ferrum.manual_seed`` but does not reproduce torch's random stream.

Measured 2026-12-07 (benchmarks/attention_parts.py --cpu: B 16, H 4, T 64, hd 32, causal, float32,
q/k/v strided head views of one packed projection as in the gpt workload, forward + backward,
thread CPU time on one thread, median of per-round minima, 4 runs on the loaded 2-core machine):
this node 2.44-2.75 ms against torch's SDPA 2.15-2.57 ms (ratio 0.95-1.14; 1.35 before the
transposed score layout below) and against torch's composed attention (the gpt workload's own
matmul / masked_fill / softmax / matmul) 3.0-3.8 ms (ratio 0.66-0.78). Parts: scores 0.29, causal
mask 0.09, softmax 0.40, P·v 0.14, the backward's four products 0.67, its elementwise work 0.19.
In wall-clock time with both cores, torch's kernel runs on two threads (1.6-2.1 ms) and this node
on one (2.5-2.9 ms).
Tried and not kept: splitting the batch over two Python threads with a one-thread BLAS each (the
scheme of ops/_im2col.py): on the loaded machine no faster at best (2.50 against 2.46 ms wall) and
slower at the median (3.06 against 2.66 ms); a cached backward scratch buffer: no page faults to
save (2 minor faults per step without it).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, sum_to
from ._common import xp_of
from ._linalg_common import _cname
from .nn_misc import _keep_mask
from ._autocast import autocast_op

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = -math.inf
_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_TRI: dict = {}


def _causal_excluded(L: int, S: int, transposed: bool = False) -> np.ndarray:
    """The cached read-only bool (L, S) array that is True above the diagonal (the keys a query may
    not see under ``is_causal``: top-left aligned, as PyTorch); with ``transposed`` its (S, L)
    transpose as a C-contiguous array (the layout of the fused node's score buffer)."""
    t = _TRI.get((L, S, transposed))
    if t is None:
        if len(_TRI) > 32:
            _TRI.clear()
        t = np.triu(np.ones((L, S), dtype=bool), 1)
        if transposed:
            t = np.ascontiguousarray(t.T)
        t.flags.writeable = False
        _TRI[(L, S, transposed)] = t
    return t


_ONES: dict = {}


def _ones_row(n: int, dtype) -> np.ndarray:
    """A cached read-only (1, n) row of ones: ``ones @ a`` sums the columns of ``a`` through BLAS."""
    o = _ONES.get((n, dtype))
    if o is None:
        if len(_ONES) > 32:
            _ONES.clear()
        o = _ONES[(n, dtype)] = np.ones((1, n), dtype)
        o.flags.writeable = False
    return o


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
    kb, vb, qb = tuple(kb), tuple(vb), q.shape[:-2]
    try:
        batch = qb if qb == kb == vb else np.broadcast_shapes(qb, kb, vb)
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dimensions of query {list(q.shape)}, "
                           f"key {list(k.shape)} and value {list(v.shape)} cannot be broadcast") from None
    if attn_mask is not None:
        m = attn_mask._data
        if m.dtype.kind != "b" and m.dtype != q.dtype:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but "
                               f"got attn_mask.dtype: {_cname(m.dtype)} and  query.dtype: {_cname(q.dtype)} "
                               "instead.")
        full = tuple(batch) + (q.shape[-2], k.shape[-2])
        try:
            ok = np.broadcast_shapes(m.shape, full) == full
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {list(m.shape)} cannot be "
                               f"broadcast to the attention scores' shape {list(full)}")
        if is_causal and q.ndim != 4:
            # torch 2.13's 4-D CPU flash kernel (the one it picks when the value's head size equals
            # the query's) applies both, the mask then the causal triangle, and its other paths
            # raise; ferrum applies both for every 4-D input, so programs written against torch run
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


def _softmax_cols_(st, masked: bool = True) -> bool:
    """Softmax over axis -2 of the float score buffer ``st`` (..., S, L) (the scores transposed), in
    place. A query whose scores are all -inf (fully masked) gets zeros; returns whether there was
    such a query. ``masked=False`` (no mask, or a causal one, which leaves every query key 0) skips
    that check: then only an infinite input could give such a column, and it gives NaN, as torch.

    The transposed layout is the point: NumPy reduces over axis -2 of a C array as elementwise
    operations across rows, over the last axis as one short reduction per row. Measured on
    (16, 4, 64, 64) float32, one thread: the max 0.10 ms over axis -2 against 0.34 ms over axis -1;
    the sum 0.015 ms as a batched ones-row product against 0.09 ms for ``sum`` (either axis)."""
    if st.size == 0:  # S == 0 included: the product with an empty value gives zeros
        return False
    mx = np.maximum.reduce(st, axis=-2, keepdims=True)
    empty = masked and bool(np.equal(mx, _NEG_INF).any())
    if empty:
        mx[mx == _NEG_INF] = 0.0  # exp(-inf - 0) = 0: the column sums to 0 instead of NaN
    st -= mx
    np.exp(st, out=st)
    tot = np.matmul(_ones_row(st.shape[-2], st.dtype), st)
    if empty:
        tot[tot == 0.0] = 1.0
    # one reciprocal per query, then a multiplication: cheaper than dividing every score
    np.reciprocal(tot, out=tot)
    st *= tot
    return empty


class _SdpaBackward(Node, name="ScaledDotProductFlashAttentionForCpuBackward0"):
    """The fused SDPA node. Saved: q, k, v (tensors, for version checks), the arrays used (scaled
    query ``qs``, GQA-repeated ``kd``/``vd``), the probabilities ``P`` and the dropout ``keep`` mask
    (1 / (1 - p) or 0; None without dropout), both transposed to (..., S, L), the output array (for
    rowsum(g ∘ out)) and the mask."""

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
        pt = self.unreleased(self.P)  # P transposed: (..., S, L)
        y = self.checked_output(self.y, self.yver)
        keep = self.keep
        nq, nk, nv = self.next[0], self.next[1], self.next[2]
        nm = self.next[3] if len(self.next) > 3 else None
        gq = gk = gv = gm = None
        if nv is not None:
            pd = pt if keep is None else pt * keep
            gv = _unrepeat_heads(sum_to(np.matmul(pd, g), self.vd.shape), self.gv)
            gv = sum_to(gv, v.shape)
        if nq is None and nk is None and nm is None:
            return (gq, gk, gv, gm)[:len(self.next)]
        dpt = np.matmul(self.vd, g.swapaxes(-1, -2))  # dP transposed: (..., S, L)
        if keep is not None:
            dpt *= keep
        # rowsum(P ∘ dP) = rowsum(g ∘ out): L·Ev products instead of L·S
        dot = np.einsum("...i,...i->...", g, y)
        dpt -= dot[..., None, :]
        dpt *= pt  # dS: zero wherever P is (masked keys, empty rows)
        if nq is not None:
            gq = np.matmul(dpt.swapaxes(-1, -2), self.kd)
            gq *= self.scale
            gq = sum_to(gq, q.shape)
        if nk is not None:
            gk = np.matmul(dpt, self.qs)
            gk = sum_to(_unrepeat_heads(sum_to(gk, self.kd.shape), self.gk), k.shape)
        if nm is not None:
            gm = np.ascontiguousarray(sum_to(dpt.swapaxes(-1, -2), mask.shape))
        return (gq, gk, gv, gm)[:len(self.next)]


def _probs_t(q, k, mask, causal: bool, sc: float, gk: int, valid):
    """softmax(q kᵀ · scale + mask) as differentiable ferrum ops: (P, q * scale, GQA-repeated k).
    ``valid`` (bool (..., L, 1) array, or None to find it from the scores): the queries that have a
    key; the others get zeros and no -inf row reaches softmax, so no NaN enters any derivative."""
    from .gather_scatter import masked_fill
    from .select import where
    from .softmax import softmax

    kr = _repeat_t(k, gk)
    qs = q * sc
    s = qs.matmul(kr.transpose(-2, -1))
    if mask is not None:
        if mask._data.dtype.kind == "b":
            s = masked_fill(s, _wrap(~mask._data), _NEG_INF)
        else:
            s = s + mask
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = masked_fill(s, _wrap(_causal_excluded(L, S)), _NEG_INF)
    if s.shape[-1] == 0:
        return s, qs, kr
    if valid is None and mask is not None:
        mx = s._data.max(axis=-1, keepdims=True)
        if bool((mx == _NEG_INF).any()):
            valid = mx != _NEG_INF
    if valid is not None:
        valid = _wrap(valid)
        s = where(valid, s, 0.0)
    P = softmax(s, -1)
    if valid is not None:
        P = where(valid, P, 0.0)
    return P, qs, kr


def _composed(query, key, value, attn_mask, dropout_p: float, is_causal: bool, sc: float, gk: int, gv: int):
    """SDPA composed of ferrum ops, for arrays that are not NumPy's (CuPy): the same semantics,
    several nodes, every op's own device path."""
    from .nn_misc import dropout

    P, _, _ = _probs_t(query, key, attn_mask, is_causal, sc, gk, None)
    if dropout_p > 0.0:
        P = dropout(P, dropout_p)
    return P.matmul(_repeat_t(value, gv))


def _backward_graph(node, g, q, k, v, mask):
    """The backward as differentiable ferrum ops (create_graph): the softmax is recomputed from the
    saved inputs, so that every quantity depends on q, k, v (and a float mask) in the graph."""
    sc = node.scale
    vr = _repeat_t(v, node.gv)
    valid = None
    if node.empty:
        pt = node.unreleased(node.P)
        valid = pt.max(axis=-2)[..., None] > 0
    P, qs, kr = _probs_t(q, k, mask, node.causal, sc, node.gk, valid)
    keep = None if node.keep is None else _wrap(node.keep.swapaxes(-1, -2))
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


@autocast_op("scaled_dot_product_attention")
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
    qd = query._data
    E = qd.shape[-1]
    sc = float(scale) if scale is not None else 1.0 / math.sqrt(E) if E else 1.0
    if qd.__class__ is not np.ndarray:
        return _composed(query, key, value, attn_mask, dropout_p, is_causal, sc, gk, gv)
    kd, vd = _repeat_heads(key._data, gk), _repeat_heads(value._data, gv)
    L, S = qd.shape[-2], kd.shape[-2]
    qs = qd * dt.type(sc)  # scaling q (L·E) instead of the scores (L·S)
    # the scores transposed, (..., S, L) = k (q * scale)ᵀ: the softmax then runs over axis -2
    # (see _softmax_cols_); every later product takes the transpose as a BLAS flag, not a copy
    st = np.empty(batch + (S, L), dtype=dt)
    np.matmul(kd, qs.swapaxes(-1, -2), out=st)
    md = None if attn_mask is None else attn_mask._data
    if md is not None and md.ndim < 2:
        md = md.reshape((1,) * (2 - md.ndim) + md.shape)
    if md is not None:
        if md.dtype.kind == "b":
            np.copyto(st, _NEG_INF, where=~md.swapaxes(-1, -2))
        else:
            st += md.swapaxes(-1, -2)
    if is_causal:
        np.copyto(st, _NEG_INF, where=_causal_excluded(L, S, True))
    empty = _softmax_cols_(st, md is not None)
    keep = None
    if dropout_p > 0.0:
        if dropout_p == 1.0:
            keep = np.zeros(st.shape, dtype=dt)
        else:
            # drawn for the (..., L, S) weights in their C order, as PyTorch draws them, then
            # held transposed like ``st``
            keep = _keep_mask(st, batch + (L, S), dropout_p, 1.0 / (1.0 - dropout_p)).swapaxes(-1, -2)
        y = np.matmul((st * keep).swapaxes(-1, -2), vd)
    else:
        y = np.matmul(st.swapaxes(-1, -2), vd)
    out = _wrap(y)
    mask_grad = md is not None and md.dtype.kind != "b" and attn_mask.requires_grad
    if _state.grad_enabled and (query.requires_grad or key.requires_grad or value.requires_grad or mask_grad):
        ins = (query, key, value, attn_mask) if mask_grad else (query, key, value)
        node = attach(out, _SdpaBackward, ins)
        node.q, node.k, node.v = query, key, value
        node.vq, node.vk, node.vv = query._version[0], key._version[0], value._version[0]
        node.qs, node.kd, node.vd = qs, kd, vd
        node.P, node.keep, node.y, node.yver = st, keep, y, out._version
        node.mask = attn_mask
        node.vm = attn_mask._version[0] if attn_mask is not None else 0
        node.causal, node.scale, node.gk, node.gv, node.empty = is_causal, sc, gk, gv, empty
    return out


# --------------------------------------------------------------------------- multi-head attention
def _canonical_mask(mask, name: str, other_type, other_name: str, target, check_other: bool = True):
    """A bool mask (True: masked out) becomes a float mask of ``target`` dtype (-inf where masked);
    a float mask passes through; anything else is refused (PyTorch's AssertionError)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"multi_head_attention_forward(): {name} must be a Tensor or None, not "
                        f"{type(mask).__name__}")
    kind = mask._data.dtype.kind
    if kind != "b" and kind not in "fV":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for "
                      "both instead.", stacklevel=3)
    if kind == "b":
        md = mask._data
        zero = xp_of(md).zeros((), dtype=target._data.dtype)
        return _wrap(xp_of(md).where(md, zero.dtype.type(_NEG_INF), zero))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """PyTorch's rank checks (AssertionError); returns whether the input is batched."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"multi_head_attention_forward(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                                 f"but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                 f"but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but "
                                 f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or "
                                 f"1-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                                     f"3-D but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection(query, key, value, E: int, w, b, wq, wk, wv):
    """q, k, v projections (L, N, E), (S, N, E), (S, N, E). Self-attention with the packed weight is
    one GEMM whose result is split into views (no copies)."""
    from .join import split
    from .linear import linear

    if w is not None:
        if key is value and query is key:
            return split(linear(query, w, b), E, -1)
        ws = split(w, E, 0)
        bs = (None,) * 3 if b is None else split(b, E, 0)
        if key is value:
            kv = linear(key, w[E:], None if b is None else b[E:])
            return (linear(query, ws[0], bs[0]),) + tuple(split(kv, E, -1))
        return tuple(linear(x, ww, bb) for x, ww, bb in zip((query, key, value), ws, bs))
    bs = (None,) * 3 if b is None else split(b, E, 0)
    for name, x, ww, bb in zip(("query", "key", "value"), (query, key, value), (wq, wk, wv), bs):
        if tuple(ww.shape) != (E, x.shape[-1]):
            raise AssertionError(f"expecting {name} weights shape of {(E, x.shape[-1])}, but got "
                                 f"{tuple(ww.shape)}")
        if bb is not None and tuple(bb.shape) != (E,):
            raise AssertionError(f"expecting {name} bias shape of {(E,)}, but got {tuple(bb.shape)}")
    return linear(query, wq, bs[0]), linear(key, wk, bs[1]), linear(value, wv, bs[2])


def _heads(x, static, n: int, H: int, hd: int, name: str, bf: bool):
    """(S, N, E) ((N, S, E) with ``bf``) -> (N, H, S, hd) as a view; ``static`` (N * H, S, hd)
    replaces it when given."""
    if static is None:
        if bf:
            return x.reshape(n, x.shape[1], H, hd).permute(0, 2, 1, 3)
        return x.reshape(x.shape[0], n, H, hd).permute(1, 2, 0, 3)
    if static.shape[0] != n * H:
        raise AssertionError(f"expecting {name}.size(0) of {n * H}, but got {static.shape[0]}")
    if static.shape[2] != hd:
        raise AssertionError(f"expecting {name}.size(2) of {hd}, but got {static.shape[2]}")
    return static.reshape(n, H, static.shape[1], hd)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False, *,
                                 _batch_first: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention of ``nn.MultiheadAttention``, sequence-first.

    query (L, N, E) or (L, E); key (S, N, kdim), value (S, N, vdim) (or unbatched); masks:
    key_padding_mask (N, S) / (S), attn_mask (L, S) or (N * num_heads, L, S); bool masks are True
    where attention is NOT allowed, float masks are added. Returns (output (L, N, E), weights
    (N, L, S) averaged over heads, (N, num_heads, L, S) otherwise, or None without need_weights).
    With ``need_weights=False`` the attention is the fused scaled_dot_product_attention; with it,
    the weights are computed explicitly (as PyTorch: a fully masked row gives NaN there).
    ``_batch_first`` (ferrum's, for ``MultiheadAttention(batch_first=True)``): batched query, key
    and value are (N, L, E), (N, S, kdim), (N, S, vdim) and so is the output: the projections then
    run on the caller's contiguous arrays instead of transposed views (one GEMM each, not one per
    position). Measured: MultiheadAttention(128, 4, batch_first=True) self-attention, causal, on
    (16, 64, 128), forward + backward, one thread: 8.2-9.1 ms through transposes, 6.2-6.6 ms this
    way (torch 7.7-9.0 ms).
    """
    from .join import cat
    from .linear import linear
    from .nn_misc import dropout as _dropout
    from .nn_misc import pad
    from .softmax import softmax

    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    bf = _batch_first and is_batched
    if bf:
        bsz, tgt_len, embed_dim = query.shape
    else:
        tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype, "attn_mask", query)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                           "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint is trusted, as PyTorch: SDPA's own causal mask replaces it
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        for n, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {n}_proj_weight is None")
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
    src_len = key.shape[1 if bf else 0]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should "
                                   f"be {(tgt_len, src_len)}.")
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should "
                                   f"be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k is set but bias_v is None" if bias_v is None else
                             "bias_v is set but bias_k is None")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise AssertionError("bias cannot be added to static "
                             + ("key." if static_k is not None else "value."))
    packed = None if use_separate_proj_weight else in_proj_weight
    q, k, v = _in_projection(query, key, value, embed_dim, packed, in_proj_bias, q_proj_weight, k_proj_weight,
                             v_proj_weight)
    if bias_k is not None:
        shape, d = ((bsz, 1, embed_dim), 1) if bf else ((1, bsz, embed_dim), 0)
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(shape)], d)
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(shape)], d)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    q = _heads(q, None, bsz, num_heads, head_dim, "", bf)
    k = _heads(k, static_k, bsz, num_heads, head_dim, "static_k", bf)
    v = _heads(v, static_v, bsz, num_heads, head_dim, "static_v", bf)
    if add_zero_attn:
        z = _wrap(np.zeros((bsz, num_heads, 1, head_dim), dtype=k._data.dtype))
        k = cat([k, z], dim=2)
        v = cat([v, z.to(v.dtype)], dim=2)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[2]
    if attn_mask is not None:  # (L, S) or (N * H, L, S) -> broadcastable to (N, H, L, S)
        lead = (1, 1) if attn_mask.ndim == 2 else (bsz, num_heads)
        attn_mask = attn_mask.reshape(lead + (tgt_len, src_len))
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        w = (q * math.sqrt(1.0 / head_dim)).matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            w = attn_mask + w
        w = softmax(w, -1)
        if dropout_p > 0.0:
            w = _dropout(w, p=dropout_p)
        out = w.matmul(v)
        weights = w.mean(dim=1) if average_attn_weights else w
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        weights = None
    out = out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if bf:
        # (N, L, E) as a view of the (L, N, E) product: PyTorch's layout, so that what follows (a
        # dropout's mask, drawn in memory order) sees the same tensor PyTorch's does
        out = out.transpose(0, 1)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights
