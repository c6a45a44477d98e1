"""ops/attention.py: scaled_dot_product_attention against torch (outputs and every gradient, float32
and float64, every mask kind, causal with L != S, GQA, broadcast and extra batch dims, fully masked
rows), gradcheck and gradgradcheck in float64, dropout (reproducible, 1/(1-p) scaling), the fused
node, version checks and bad input (torch's exception types)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.nn import functional as F

# (q shape, k shape, v shape)
SHAPES = {
    "4d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    "square": ((2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)),
    "L>S": ((2, 2, 7, 4), (2, 2, 3, 4), (2, 2, 3, 2)),
    "3d": ((3, 4, 5), (3, 6, 5), (3, 6, 2)),
    "2d": ((4, 5), (6, 5), (6, 3)),
    "5d": ((2, 1, 2, 4, 3), (2, 1, 2, 5, 3), (2, 1, 2, 5, 3)),
    "bcast": ((2, 3, 4, 5), (1, 3, 6, 5), (2, 1, 6, 5)),
    "mixed_rank": ((4, 5), (2, 2, 6, 5), (2, 1, 6, 5)),
}


def _mask(kind, qs, ks, rng):
    L, S = qs[-2], ks[-2]
    batch = np.broadcast_shapes(qs[:-2], ks[:-2])
    if kind in (None, "causal"):
        return None
    if kind == "bool":
        m = rng.random((L, S)) > 0.4
        m[:, 0] = True
        return m
    if kind == "bool_bcast":
        m = rng.random(batch[:1] + (1,) * (len(batch) - 1) + (L, S)) > 0.4
        m[..., 0] = True
        return m
    if kind == "float":
        return rng.standard_normal((L, S))
    if kind == "float_bcast":  # one row per key, broadcast over queries (and heads)
        return rng.standard_normal((1,) * len(batch) + (1, S)) if batch else rng.standard_normal((1, S))
    raise AssertionError(kind)


def _run(T, arrays, mask, dtype, **kw):
    dt = getattr(T, dtype)
    q, k, v = (T.tensor(a, dtype=dt, requires_grad=True) for a in arrays)
    m = None
    if mask is not None:
        m = T.tensor(mask) if mask.dtype == bool else T.tensor(mask, dtype=dt, requires_grad=True)
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    rng = np.random.default_rng(1)
    out.backward(T.tensor(rng.standard_normal(tuple(out.shape)), dtype=dt))
    res = [out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]
    if m is not None and m.requires_grad:
        res.append(m.grad.numpy())
    return res


def _compare(torch, arrays, mask, dtype, **kw):
    t = _run(torch, arrays, mask, dtype, **kw)
    f = _run(ferrum, arrays, mask, dtype, **kw)
    tol = 1e-11 if dtype == "float64" else 2e-5
    assert len(f) == len(t)
    for a, b, what in zip(f, t, ("out", "dq", "dk", "dv", "dmask")):
        assert a.shape == b.shape, what
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mask", [None, "bool", "bool_bcast", "float", "float_bcast", "causal"])
def test_parity(torch, dtype, shape, mask):
    rng = np.random.default_rng(0)
    qs, ks, vs = SHAPES[shape]
    arrays = [rng.standard_normal(s) for s in (qs, ks, vs)]
    _compare(torch, arrays, _mask(mask, qs, ks, rng), dtype, is_causal=mask == "causal")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", ["bool", "float"])
def test_mask_and_causal_4d_combine_as_torch(torch, dtype, mask):
    # torch 2.13's 4-D CPU flash kernel (value head size == query's, mask without grad) applies an
    # explicit mask and the causal triangle together
    rng = np.random.default_rng(1)
    qs, ks = (2, 3, 4, 5), (2, 3, 6, 5)
    arrays = [rng.standard_normal(s) for s in (qs, ks, ks)]
    m = rng.standard_normal((4, 6)) if mask == "float" else rng.random((4, 6)) > 0.3
    res = []
    for T in (torch, ferrum):
        dt = getattr(T, dtype)
        q, k, v = (T.tensor(a, dtype=dt, requires_grad=True) for a in arrays)
        tm = T.tensor(m) if mask == "bool" else T.tensor(m, dtype=dt)
        out = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=tm, is_causal=True)
        out.backward(T.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)), dtype=dt))
        res.append([out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    tol = 1e-11 if dtype == "float64" else 2e-5
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("heads", [(4, 2, 2), (4, 1, 1), (6, 3, 1), (4, 4, 4)])
@pytest.mark.parametrize("causal", [False, True])
def test_gqa(torch, dtype, heads, causal):
    hq, hk, hv = heads
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, hq, 3, 4), (2, hk, 5, 4), (2, hv, 5, 3))]
    _compare(torch, arrays, None, dtype, enable_gqa=True, is_causal=causal)


@pytest.mark.parametrize("scale", [0.3, 2.0, 0.0, -1.0])
def test_scale(torch, scale):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES["4d"]]
    _compare(torch, arrays, None, "float64", scale=scale)


@pytest.mark.parametrize("kind", ["bool", "float", "causal_then_bool"])
def test_fully_masked_rows_give_zeros(torch, kind):
    """torch 2.13's CPU result for a query that may see no key: zeros, with zero gradients."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES["4d"]]
    m = rng.random((4, 6)) > 0.3
    m[1] = False
    if kind == "float":
        m = np.where(m, rng.standard_normal(m.shape), -np.inf)
    _compare(torch, arrays, m, "float64")
    out = _run(ferrum, arrays, m, "float64")
    assert not out[0][:, :, 1].any() and not out[1][:, :, 1].any()
    assert np.isfinite(out[0]).all()


@pytest.mark.parametrize("mask", [np.array([True, False, True, True, False, True]), np.array(True),
                                  np.linspace(-1.0, 1.0, 6)])
def test_low_rank_mask_broadcasts(torch, mask):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES["3d"]]
    _compare(torch, arrays, mask, "float64")


def test_no_keys(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 2, 3, 4), (2, 2, 0, 4), (2, 2, 0, 5))]
    _compare(torch, arrays, None, "float64")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision(torch, dtype):
    rng = np.random.default_rng(0)
    arrays = [np.round(rng.standard_normal(s) * 16) / 16 for s in SHAPES["4d"]]
    res = []
    for T in (torch, ferrum):
        dt = getattr(T, dtype)
        q, k, v = (T.tensor(a, dtype=dt) for a in arrays)
        o = T.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert o.dtype == dt
        res.append(o.float().numpy())
    tol = 4e-3 if dtype == "float16" else 3e-2
    np.testing.assert_allclose(res[1], res[0], rtol=tol, atol=tol)


GG_CASES = {
    "plain": (SHAPES["3d"], None, {}),
    "causal": (((2, 2, 3, 2), (2, 2, 4, 2), (2, 2, 4, 3)), None, {"is_causal": True}),
    "bool_empty_row": (((2, 3, 2), (2, 4, 2), (2, 4, 2)), "empty", {}),
    "float_mask": (((2, 2, 3, 2), (2, 2, 4, 2), (2, 2, 4, 2)), "float", {}),
    "gqa": (((1, 4, 2, 2), (1, 2, 3, 2), (1, 1, 3, 2)), None, {"enable_gqa": True}),
    "bcast": (((2, 3, 2), (1, 4, 2), (1, 4, 3)), None, {"scale": 0.5}),
}


@pytest.mark.parametrize("case", list(GG_CASES))
def test_gradcheck_gradgradcheck(case):
    (qs, ks, vs), mk, kw = GG_CASES[case]
    rng = np.random.default_rng(0)
    ins = [ferrum.tensor(rng.standard_normal(s), requires_grad=True) for s in (qs, ks, vs)]
    if mk == "float":
        m = rng.standard_normal((qs[-2], ks[-2]))
        m[1, 2] = -np.inf
        ins.append(ferrum.tensor(m, requires_grad=True))

        def fn(q, k, v, m):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    else:
        mask = None
        if mk == "empty":
            b = rng.random((qs[-2], ks[-2])) > 0.4
            b[:, 0] = True
            b[1] = False
            mask = ferrum.tensor(b)

        def fn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def test_double_backward_matches_torch(torch):
    """The create_graph formulas against torch's math path (float mask: torch's composite kernel)."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES["4d"]]
    mask = rng.standard_normal((4, 6))
    res = []
    for T in (torch, ferrum):
        q, k, v = (T.tensor(a, requires_grad=True) for a in arrays)
        m = T.tensor(mask, requires_grad=True)
        out = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
        gs = T.autograd.grad((out * out).sum(), (q, k, v, m), create_graph=True)
        total = sum((g * g).sum() for g in gs)
        res.append([g.numpy() for g in T.autograd.grad(total, (q, k, v, m))])
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", ["plain", "bool_empty_row", "float", "causal", "gqa", "bcast"])
def test_composed_path(case):
    """The path for arrays other than NumPy's (CuPy), run here on NumPy arrays: outputs and
    gradients equal the fused node's."""
    from ferrum.ops import attention

    rng = np.random.default_rng(0)
    shapes = {"gqa": ((2, 4, 3, 4), (2, 2, 5, 4), (2, 1, 5, 3)),
              "bcast": ((3, 3, 4), (1, 5, 4), (1, 5, 3))}.get(case, ((2, 2, 3, 4), (2, 2, 5, 4),
                                                                      (2, 2, 5, 3)))
    arrays = [rng.standard_normal(s) for s in shapes]
    mask = None
    if case == "bool_empty_row":
        b = rng.random((3, 5)) > 0.4
        b[:, 0] = True
        b[1] = False
        mask = ferrum.tensor(b)
    elif case == "float":
        mask = ferrum.tensor(rng.standard_normal((3, 5)))
    gk, gv = (2, 4) if case == "gqa" else (1, 1)
    res = []
    for composed in (False, True):
        q, k, v = (ferrum.tensor(a, requires_grad=True) for a in arrays)
        if composed:
            out = attention._composed(q, k, v, mask, 0.0, case == "causal", 0.5, gk, gv)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=case == "causal",
                                                 scale=0.5, enable_gqa=case == "gqa")
        out.backward(ferrum.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape))))
        res.append([out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_strided_head_views(torch, causal):
    """q, k, v as the transposed head views of one packed projection (a GPT block's layout)."""
    rng = np.random.default_rng(0)
    packed = rng.standard_normal((2, 6, 3 * 8)).astype(np.float32)
    g = rng.standard_normal((2, 2, 6, 4)).astype(np.float32)
    res = []
    for T in (torch, ferrum):
        x = T.tensor(packed, requires_grad=True)
        q, k, v = (t.reshape(2, 6, 2, 4).transpose(1, 2) for t in x.split(8, dim=2))
        out = T.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
        out.backward(T.tensor(g))
        res.append([out.detach().numpy(), x.grad.numpy()])
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_one_fused_node():
    q, k, v = (ferrum.randn(2, 2, 3, 4, requires_grad=True) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    assert all(n[0] is not None for n in out.grad_fn.next_functions)
    with ferrum.no_grad():
        assert F.scaled_dot_product_attention(q, k, v).grad_fn is None


def test_inplace_modification_is_detected():
    q, k, v = (ferrum.randn(2, 3, 4, requires_grad=True) for _ in range(3))
    kk = k * 1.0
    out = F.scaled_dot_product_attention(q, kk, v)
    kk.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def _identity_value(L=6, S=8, p=0.4, seed=3):
    """With v = I the output is the (dropped-out) attention matrix itself."""
    rng = np.random.default_rng(0)
    q = ferrum.tensor(rng.standard_normal((2, 2, L, 4)))
    k = ferrum.tensor(rng.standard_normal((2, 2, S, 4)))
    v = ferrum.eye(S, dtype=ferrum.float64).expand(2, 2, S, S)
    ferrum.manual_seed(seed)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy(), \
        F.scaled_dot_product_attention(q, k, v).numpy()


def test_dropout_reproducible_and_scaled():
    a, full = _identity_value()
    b, _ = _identity_value()
    np.testing.assert_array_equal(a, b)  # same seed, same mask
    kept = a != 0
    np.testing.assert_allclose(a[kept], full[kept] / 0.6, rtol=1e-12)
    assert 0.3 < 1.0 - kept.mean() < 0.5
    c, _ = _identity_value(seed=4)
    assert not np.array_equal(a, c)
    z, _ = _identity_value(p=1.0)
    assert not z.any()


def test_dropout_gradients():
    """gradcheck through dropout: the function reseeds, so every call draws the same mask."""
    rng = np.random.default_rng(0)
    shapes = ((2, 3, 2), (2, 4, 2), (2, 4, 3))
    ins = [ferrum.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]

    def fn(q, k, v):
        ferrum.manual_seed(5)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def _bad_cases(T):
    f32 = T.float32
    q, k, v = T.ones(2, 3, 4), T.ones(2, 5, 4), T.ones(2, 5, 3)
    return {
        "mask_int": lambda: (q, k, v, {"attn_mask": T.zeros(3, 5, dtype=T.int64)}),
        "mask_other_float": lambda: (q, k, v, {"attn_mask": T.zeros(3, 5, dtype=T.float64)}),
        "mask_shape": lambda: (q, k, v, {"attn_mask": T.zeros(3, 4, dtype=f32)}),
        "mask_too_many_dims": lambda: (q, k, v, {"attn_mask": T.zeros(2, 2, 3, 5, dtype=T.bool)}),
        "mask_and_causal": lambda: (q, k, v, {"attn_mask": T.ones(3, 5, dtype=T.bool), "is_causal": True}),
        "embed_mismatch": lambda: (q, T.ones(2, 5, 3), v, {}),
        "dtype_mismatch": lambda: (q, k.double(), v, {}),
        "int_inputs": lambda: (q.long(), k.long(), v.long(), {}),
        "one_dim": lambda: (T.ones(4), T.ones(4), T.ones(4), {}),
        "batch_mismatch": lambda: (q, T.ones(3, 5, 4), T.ones(3, 5, 3), {}),
        "dropout_range": lambda: (q, k, v, {"dropout_p": 1.5}),
        "gqa_not_divisible": lambda: (T.ones(1, 3, 2, 4), T.ones(1, 2, 5, 4), T.ones(1, 2, 5, 4),
                                      {"enable_gqa": True}),
        "not_a_tensor": lambda: ([[1.0]], k, v, {}),
    }


@pytest.mark.parametrize("case", list(_bad_cases(ferrum)))
def test_bad_input_types_match_torch(torch, case):
    errs = []
    for T in (torch, ferrum):
        q, k, v, kw = _bad_cases(T)[case]()
        with pytest.raises(Exception) as e:
            T.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
        errs.append(type(e.value))
    assert errs[1] is errs[0], errs
