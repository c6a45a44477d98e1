"""nn.MultiheadAttention (nn/modules/activation.py) and F.multi_head_attention_forward
(ops/attention.py) against torch with torch's weights: outputs, attention weights and every gradient
across batch_first x kdim/vdim x add_bias_kv x add_zero_attn x key_padding_mask x attn_mask (2-D,
3-D, bool, float) x need_weights/average_attn_weights, train (dropout 0) and eval; parameter names,
init, repr, gradgradcheck, and bad input (torch's exception types, no state change)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck

E, H, L, S, N = 8, 2, 3, 4, 2


def _pair(torch, dtype="float64", **kw):
    """A torch module with random parameters and the ferrum module loaded from its state dict."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, dtype=getattr(torch, dtype), **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    fm = ferrum.nn.MultiheadAttention(E, H, dtype=getattr(ferrum, dtype), **kw)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, fm


def _inputs(rng, batch_first, kdim, vdim, self_attn, unbatched=False):
    def shp(t, d):
        if unbatched:
            return (t, d)
        return (N, t, d) if batch_first else (t, N, d)
    q = rng.standard_normal(shp(L, E))
    if self_attn:
        return q, q, q
    k = rng.standard_normal(shp(S, kdim or E))
    v = k if (vdim or E) == (kdim or E) and rng.random() < 0.5 else rng.standard_normal(shp(S, vdim or E))
    return q, k, v


def _masks(rng, kpm, am, src_len, unbatched=False):
    masks = {}
    if kpm:
        m = rng.random((src_len,) if unbatched else (N, src_len)) > 0.6
        m[..., 0] = False  # every query keeps a key: no NaN row in the explicit-weights path
        masks["key_padding_mask"] = m if kpm == "bool" else np.where(m, -np.inf, rng.standard_normal(m.shape))
    if am in ("2d", "2d_float"):
        m = rng.random((L, src_len)) > 0.6
        m[:, 0] = False
        masks["attn_mask"] = m if am == "2d" else np.where(m, -np.inf, rng.standard_normal(m.shape))
    elif am in ("3d", "3d_bool"):
        shape = ((H,) if unbatched else (N * H,)) + (L, src_len)
        m = rng.random(shape) > 0.6
        m[..., 0] = False
        masks["attn_mask"] = m if am == "3d_bool" else np.where(m, -np.inf, rng.standard_normal(shape))
    return masks


def _run(T, mod, arrays, masks, dtype, **kw):
    dt = getattr(T, dtype)
    ts = {}
    for a in arrays:
        if id(a) not in ts:
            ts[id(a)] = T.tensor(a, dtype=dt, requires_grad=True)
    q, k, v = (ts[id(a)] for a in arrays)
    mk = {n: T.tensor(m) if m.dtype == bool else T.tensor(m, dtype=dt) for n, m in masks.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warning for mismatched mask types
        out, w = mod(q, k, v, **mk, **kw)
    rng = np.random.default_rng(1)
    loss = (out * T.tensor(rng.standard_normal(tuple(out.shape)), dtype=dt)).sum()
    if w is not None:
        loss = loss + (w * T.tensor(rng.standard_normal(tuple(w.shape)), dtype=dt)).sum()
    loss.backward()
    res = [out.detach().numpy(), None if w is None else w.detach().numpy()]
    res += [t.grad.numpy() for t in ts.values()]
    res += [p.grad.numpy() for _, p in sorted(mod.named_parameters())]
    return res


def _compare(torch, mod_kw, arrays, masks, dtype="float64", train=True, **kw):
    tm, fm = _pair(torch, dtype, **mod_kw)
    tm.train(train)
    fm.train(train)
    t = _run(torch, tm, arrays, masks, dtype, **kw)
    f = _run(ferrum, fm, arrays, masks, dtype, **kw)
    tol = 1e-10 if dtype == "float64" else 1e-4
    assert len(t) == len(f)
    for i, (a, b) in enumerate(zip(f, t)):
        if b is None:
            assert a is None, i
            continue
        assert a.shape == b.shape, i
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f"result {i}")


GRID = list(itertools.product([False, True], [None, 5], [False, True], [False, True], [None, "bool", "float"],
                              [None, "2d", "3d", "3d_bool"]))


@pytest.mark.parametrize("weights", ["avg", "per_head", "none"])
@pytest.mark.parametrize("bf,kdim,bias_kv,zero_attn,kpm,am", GRID)
def test_parity_grid(torch, bf, kdim, bias_kv, zero_attn, kpm, am, weights):
    rng = np.random.default_rng(hash((bf, kdim, bias_kv, zero_attn, kpm, am)) % 2**32)
    arrays = _inputs(rng, bf, kdim, kdim, self_attn=kdim is None and rng.random() < 0.5)
    if kdim is None and arrays[0] is arrays[1]:
        src_len = L
    else:
        src_len = arrays[1].shape[1 if bf else 0]
    masks = _masks(rng, kpm, am, src_len)
    mod_kw = dict(batch_first=bf, kdim=kdim, vdim=kdim, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    _compare(torch, mod_kw, arrays, masks, need_weights=weights != "none",
             average_attn_weights=weights == "avg")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_train_eval_dtypes(torch, dtype, train, need_weights, bias):
    rng = np.random.default_rng(0)
    arrays = _inputs(rng, True, None, None, self_attn=True)
    masks = _masks(rng, "bool", "2d", L)
    # dropout > 0 in eval is off; in training it must be 0 to compare with torch
    mod_kw = dict(batch_first=True, dropout=0.0 if train else 0.5, bias=bias)
    _compare(torch, mod_kw, arrays, masks, dtype, train=train, need_weights=need_weights)


@pytest.mark.parametrize("kdim,vdim", [(None, None), (5, 3), (None, 6)])
@pytest.mark.parametrize("am", [None, "2d", "3d"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched(torch, kdim, vdim, am, need_weights):
    rng = np.random.default_rng(0)
    arrays = _inputs(rng, False, kdim, vdim, self_attn=False, unbatched=True)
    masks = _masks(rng, "bool", am, arrays[1].shape[0], unbatched=True)
    _compare(torch, dict(kdim=kdim, vdim=vdim), arrays, masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kpm", [None, "bool"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_is_causal(torch, need_weights, kpm, batch_first):
    rng = np.random.default_rng(0)
    arrays = _inputs(rng, batch_first, None, None, self_attn=True)
    masks = _masks(rng, kpm, None, L)
    masks["attn_mask"] = np.triu(np.full((L, L), -np.inf), 1)
    _compare(torch, dict(batch_first=batch_first), arrays, masks, need_weights=need_weights, is_causal=True)


def test_fully_masked_row_explicit_weights_is_nan_like_torch(torch):
    rng = np.random.default_rng(0)
    arrays = _inputs(rng, False, None, None, self_attn=True)
    m = np.zeros((L, L), dtype=bool)
    m[1] = True
    res = []
    for T, mod in zip((torch, ferrum), _pair(torch)):
        for nw in (True, False):
            out, _ = mod(*(T.tensor(a) for a in arrays), attn_mask=T.tensor(m), need_weights=nw)
            res.append(out.detach().numpy())
    for a, b in zip(res[2:], res[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, equal_nan=True)
    assert np.isnan(res[2][1]).all() and np.isfinite(res[3]).all()


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask_dim", [2, 3])
def test_learned_float_mask_gets_its_gradient(torch, need_weights, mask_dim):
    """A float attn_mask that requires grad (a learned attention bias) gets torch's gradient."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, L, E))
    bias = rng.standard_normal((L, L) if mask_dim == 2 else (N * H, L, L))
    grads = []
    for T, mod in zip((torch, ferrum), _pair(torch, batch_first=True)):
        xt, bt = T.tensor(x), T.tensor(bias, requires_grad=True)
        out, _ = mod(xt, xt, xt, attn_mask=bt, need_weights=need_weights)
        (out * out).sum().backward()
        grads.append(bt.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-11)


def test_dropout_in_training_only():
    m = ferrum.nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = ferrum.randn(N, L, E)
    runs = []
    for _ in range(2):
        ferrum.manual_seed(3)
        runs.append([t.detach().numpy() for t in m(x, x, x)])
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # reproducible under manual_seed
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    w = runs[0][1]  # dropped weights are 0, kept ones scaled by 2: the head average shows both
    assert (w == 0).any()
    m.eval()
    out, w_eval = m(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(w_eval.detach().numpy().sum(-1), 1.0, rtol=1e-6)
    m.train()
    ferrum.manual_seed(3)
    out_sdpa, _ = m(x, x, x, need_weights=False)
    assert not np.allclose(out_sdpa.detach().numpy(), out.detach().numpy())


def test_parameters_init_and_repr(torch):
    for kw in ({}, {"kdim": 5, "vdim": 3}, {"add_bias_kv": True, "bias": False}):
        tm = torch.nn.MultiheadAttention(E, H, **kw)
        fm = ferrum.nn.MultiheadAttention(E, H, **kw)
        assert list(fm.state_dict()) == list(tm.state_dict())
        assert [tuple(p.shape) for p in fm.parameters()] == [tuple(p.shape) for p in tm.parameters()]
        assert repr(fm) == repr(tm)
        assert fm.head_dim == tm.head_dim and fm._qkv_same_embed_dim == tm._qkv_same_embed_dim
    fm = ferrum.nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ on the packed (3E, E) weight
    w = fm.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not fm.in_proj_bias.detach().numpy().any() and not fm.out_proj.bias.detach().numpy().any()
    assert type(fm.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(fm.out_proj, ferrum.nn.Linear)
    assert ferrum.nn.modules.activation.MultiheadAttention is ferrum.nn.MultiheadAttention


def test_functional_matches_torch(torch):
    """F.multi_head_attention_forward with separate projection weights and static keys/values."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E)), rng.standard_normal((S, N, E))
    ws = [rng.standard_normal((E, E)) * 0.3 for _ in range(4)]
    b = rng.standard_normal(3 * E) * 0.1
    sk, sv = rng.standard_normal((N * H, S + 1, E // H)), rng.standard_normal((N * H, S + 1, E // H))
    res = []
    for T in (torch, ferrum):
        ts = [T.tensor(a, requires_grad=True) for a in (q, k, v, *ws, b, sk, sv)]
        out, w = T.nn.functional.multi_head_attention_forward(
            ts[0], ts[1], ts[2], E, H, None, ts[7], None, None, False, 0.0, ts[6], None, training=True,
            use_separate_proj_weight=True, q_proj_weight=ts[3], k_proj_weight=ts[4], v_proj_weight=ts[5],
            static_k=ts[8], static_v=ts[9])
        (out.sum() + (w * w).sum()).backward()
        grads = [t.grad.numpy() for t in ts if t.grad is not None]
        res.append([out.detach().numpy(), w.detach().numpy()] + grads)
    assert len(res[0]) == len(res[1])
    for a, r in zip(res[1], res[0]):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("need_weights", [True, False])
def test_gradgradcheck(need_weights):
    ferrum.manual_seed(0)
    m = ferrum.nn.MultiheadAttention(4, 2, kdim=3, vdim=3, add_bias_kv=True, dtype=ferrum.float64)
    rng = np.random.default_rng(0)
    q = ferrum.tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    k = ferrum.tensor(rng.standard_normal((3, 1, 3)), requires_grad=True)
    mask = ferrum.tensor(np.array([[False, True, False], [False, False, False]]))
    kpm = ferrum.tensor(np.array([[False, False, True]]))

    def fn(q, k):
        out, wts = m(q, k, k, attn_mask=mask, key_padding_mask=kpm, need_weights=need_weights)
        return out if wts is None else (out, wts)
    assert gradcheck(fn, (q, k))
    assert gradgradcheck(fn, (q, k))


def _bad(T):
    mha = lambda **kw: T.nn.MultiheadAttention(E, H, **kw)  # noqa: E731
    x = T.ones(L, N, E)
    return {
        "not_divisible": lambda: T.nn.MultiheadAttention(7, 2),
        "zero_heads": lambda: T.nn.MultiheadAttention(8, 0),
        "mask2d_shape": lambda: mha()(x, x, x, attn_mask=T.zeros(L, L + 1, dtype=T.bool)),
        "mask3d_shape": lambda: mha()(x, x, x, attn_mask=T.zeros(H, L, L, dtype=T.bool)),
        "mask4d": lambda: mha()(x, x, x, attn_mask=T.zeros(1, 1, L, L, dtype=T.bool)),
        "mask_int": lambda: mha()(x, x, x, attn_mask=T.zeros(L, L, dtype=T.int64)),
        "kpm_shape": lambda: mha()(x, x, x, key_padding_mask=T.zeros(N, L + 1, dtype=T.bool)),
        "kpm_rank": lambda: mha()(x, x, x, key_padding_mask=T.zeros(L, dtype=T.bool)),
        "kpm_int": lambda: mha()(x, x, x, key_padding_mask=T.zeros(N, L, dtype=T.int64)),
        "feature_size": lambda: mha()(T.ones(L, N, E + 1), x, x),
        "key_value_shape": lambda: mha()(x, x, T.ones(L + 1, N, E)),
        "query_4d": lambda: mha()(T.ones(1, L, N, E), x, x),
        "key_rank": lambda: mha()(x, T.ones(L, E), T.ones(L, E)),
        "causal_without_mask": lambda: mha()(x, x, x, is_causal=True, need_weights=False),
        "kdim_mismatch": lambda: mha(kdim=5, vdim=5)(x, x, x),
    }


@pytest.mark.parametrize("case", list(_bad(ferrum)))
def test_bad_input_types_match_torch(torch, case):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            _bad(T)[case]()
        errs.append(type(e.value))
    assert errs[1] is errs[0], errs


def test_failed_call_changes_nothing():
    m = ferrum.nn.MultiheadAttention(E, H)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    x = ferrum.ones(L, N, E)
    with pytest.raises(RuntimeError):
        m(x, x, x, attn_mask=ferrum.zeros(L, L + 1, dtype=ferrum.bool))
    assert all(p.grad is None for p in m.parameters())
    for k, v in m.state_dict().items():
        assert (v == before[k]).all()
