"""F.embedding against torch: outputs and weight gradients over padding_idx x max_norm x
scale_grad_by_freq x index dtype x weight dtype; the in-place renormalisation (values, version
counter); double backward; bad input (exception types as torch's, nothing modified)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as FF
from ferrum.autograd import gradcheck, gradgradcheck
from tests.helpers import npv

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}
IDX = {
    "1d": np.array([3, 1, 3, 0, 5, 3]),
    "2d": np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 0, 4]]),
    "0d": np.array(4),
    "empty": np.zeros((2, 0), np.int64),
}


def _both(torch, w, idx, dtype, idx_dtype="int64", **kw):
    """(output, weight grad, weight after) in ferrum and in torch, for sum(out * r)."""
    res = []
    r = np.random.default_rng(3).standard_normal(idx.shape + (w.shape[1],)).astype(dtype)
    for T in (ferrum, torch):
        tw = T.tensor(w.astype(dtype), requires_grad=True)
        ti = T.tensor(idx, dtype=getattr(T, idx_dtype))
        out = T.nn.functional.embedding(ti, tw, **kw)
        (out * T.tensor(r)).sum().backward()
        res.append((npv(out) if T is ferrum else out.detach().numpy(),
                    npv(tw.grad) if T is ferrum else tw.grad.numpy(),
                    npv(tw) if T is ferrum else tw.detach().numpy()))
    return res


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", list(IDX))
@pytest.mark.parametrize("padding_idx,max_norm,scale", list(itertools.product(
    [None, 3, -1, 0], [None, 1.5], [False, True])))
def test_embedding_vs_torch(torch, dtype, shape, padding_idx, max_norm, scale):
    w = np.random.default_rng(0).standard_normal((10, 4))
    (fo, fg, fw), (to, tg, tw) = _both(torch, w, IDX[shape], dtype, padding_idx=padding_idx,
                                       max_norm=max_norm, scale_grad_by_freq=scale)
    assert fo.shape == to.shape and fo.dtype == to.dtype
    for a, b in ((fo, to), (fg, tg), (fw, tw)):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_index_dtypes_and_norm_types(torch, idx_dtype, norm_type):
    w = np.random.default_rng(1).standard_normal((6, 5))
    idx = np.array([[5, 0, 2], [2, 2, 1]])
    (fo, fg, fw), (to, tg, tw) = _both(torch, w, idx, "float64", idx_dtype, max_norm=0.8,
                                       norm_type=norm_type, padding_idx=2, scale_grad_by_freq=True)
    for a, b in ((fo, to), (fg, tg), (fw, tw)):
        np.testing.assert_allclose(a, b, **TOL["float64"])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision(torch, dtype):
    w = np.round(np.random.default_rng(2).standard_normal((8, 3)) * 64) / 64
    idx = np.array([1, 7, 1, 1, 0])
    outs = []
    for T in (ferrum, torch):
        tw = T.tensor(w, dtype=getattr(T, dtype), requires_grad=True)
        out = T.nn.functional.embedding(T.tensor(idx), tw, padding_idx=0)
        out.sum().backward()
        assert out.dtype == getattr(T, dtype) and tw.grad.dtype == getattr(T, dtype)
        outs.append((out.float().detach().numpy(), tw.grad.float().numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-2)


def test_large_table_gradient_matches_add_at():
    """The SciPy kernel path (every NumPy float32/float64 gradient) against np.add.at."""
    rng = np.random.default_rng(4)
    w = ferrum.tensor(rng.standard_normal((300, 17)), requires_grad=True)
    idx = rng.integers(0, 300, (40, 25))
    g = rng.standard_normal((40, 25, 17))
    FF.embedding(ferrum.tensor(idx), w, padding_idx=7).backward(ferrum.tensor(g))
    ref = np.zeros((300, 17))
    keep = idx.ravel() != 7
    np.add.at(ref, idx.ravel()[keep], g.reshape(-1, 17)[keep])
    np.testing.assert_allclose(npv(w.grad), ref, rtol=1e-12, atol=1e-12)


def test_nonfinite_gradient_at_padding_does_not_leak():
    """An inf in the output gradient at a padding position never reaches the table (selected out,
    not multiplied by zero)."""
    w = ferrum.randn(5, 2, dtype=ferrum.float64, requires_grad=True)
    out = FF.embedding(ferrum.tensor([0, 2, 0]), w, padding_idx=0)
    out.backward(ferrum.tensor([[np.inf, np.nan], [1.0, 2.0], [np.inf, 1.0]], dtype=ferrum.float64))
    assert np.isfinite(npv(w.grad)).all()
    np.testing.assert_array_equal(npv(w.grad)[2], [1.0, 2.0])


@pytest.mark.parametrize("padding_idx,scale", [(None, False), (2, False), (None, True), (2, True)])
def test_gradcheck_gradgradcheck(padding_idx, scale):
    idx = ferrum.tensor([[0, 2, 3], [3, 3, 1]])
    w = ferrum.randn(5, 3, dtype=ferrum.float64, requires_grad=True)

    def f(w):
        return FF.embedding(idx, w, padding_idx=padding_idx, scale_grad_by_freq=scale)

    if padding_idx is None and not scale:
        assert gradcheck(f, (w,))
        assert gradgradcheck(lambda w: f(w) ** 2, (w,))
    # the padding row and the frequency scale make the backward deliberately differ from the
    # forward's derivative (torch's semantics), so the second derivative is checked on the
    # backward itself: a function of the output gradient v, linear in it
    v = ferrum.randn(2, 3, 3, dtype=ferrum.float64, requires_grad=True)

    def vjp(w, v):
        (gw,) = ferrum.autograd.grad(f(w), w, v, create_graph=True)
        return gw * gw

    assert gradcheck(vjp, (w, v))


@pytest.mark.parametrize("scale", [False, True])
def test_double_backward_vs_torch(torch, scale):
    """d/dv of <grad_w(<emb(w), v>), u>, with padding, equals torch's. With scale_grad_by_freq
    torch's double backward leaves the 1/count factor out (its embedding_dense_double_backward
    ignores the flag), so there ferrum's, which the gradcheck above verifies, is torch's divided
    by each index's count."""
    rng = np.random.default_rng(6)
    w, v, u = rng.standard_normal((6, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((6, 3))
    idx = np.array([[1, 2, 2, 5], [0, 5, 5, 5]])
    res = []
    for T in (ferrum, torch):
        tw = T.tensor(w, requires_grad=True)
        tv = T.tensor(v, requires_grad=True)
        out = T.nn.functional.embedding(T.tensor(idx), tw, padding_idx=5, scale_grad_by_freq=scale)
        (gw,) = T.autograd.grad((out * tv).sum(), tw, create_graph=True)
        ((gw ** 2) * T.tensor(u)).sum().backward()
        res.append(tv.grad.detach().numpy() if T is torch else npv(tv.grad))
    if scale:
        counts = np.bincount(idx.ravel())[idx][..., None]
        res[1] = res[1] / counts
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12, atol=1e-12)


def test_renorm_in_place_and_version(torch):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((5, 4)) * 3
    idx = np.array([0, 2, 2])
    fw, tw = ferrum.tensor(w), torch.tensor(w)
    fv, tv = fw._version[0], tw._version
    FF.embedding(ferrum.tensor(idx), fw, max_norm=1.0)
    torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0)
    np.testing.assert_allclose(npv(fw), tw.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(npv(fw)[[1, 3, 4]], w[[1, 3, 4]])  # unreferenced rows untouched
    assert fw._version[0] - fv == tw._version - tv == 1


def test_renorm_then_backward_of_an_earlier_use_raises():
    """The renormalisation is an in-place change: a graph that saved the weight sees it."""
    w = ferrum.randn(4, 3, dtype=ferrum.float64, requires_grad=True)
    y = (w * w).sum()
    FF.embedding(ferrum.tensor([1]), w, max_norm=0.01)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_integer_weight_no_grad(torch):
    w = np.arange(12).reshape(4, 3)
    fo = FF.embedding(ferrum.tensor([3, 1]), ferrum.tensor(w))
    to = torch.nn.functional.embedding(torch.tensor([3, 1]), torch.tensor(w))
    assert str(fo.dtype) == "ferrum.int64" and not fo.requires_grad
    np.testing.assert_array_equal(npv(fo), to.numpy())


def test_no_grad_records_nothing():
    w = ferrum.randn(4, 3, requires_grad=True)
    with ferrum.no_grad():
        out = FF.embedding(ferrum.tensor([1, 2]), w)
    assert out.grad_fn is None and not out.requires_grad


def test_index_modified_after_forward_raises():
    w = ferrum.randn(4, 3, requires_grad=True)
    idx = ferrum.tensor([1, 2])
    out = FF.embedding(idx, w)
    idx.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_second_backward_without_retain_raises():
    w = ferrum.randn(4, 3, requires_grad=True)
    out = FF.embedding(ferrum.tensor([1, 2]), w).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()


# --------------------------------------------------------------------------- bad input
def _raises_like(torch, call):
    """Both frameworks raise, the same exception type; returns ferrum's exception."""
    errs = []
    for T in (ferrum, torch):
        with pytest.raises(Exception) as e:
            call(T)
        errs.append(e.value)
    assert type(errs[0]) is type(errs[1]) or isinstance(errs[0], type(errs[1])), errs
    return errs[0]


W = np.random.default_rng(8).standard_normal((5, 3))
BAD = {
    "out of range": lambda T: T.nn.functional.embedding(T.tensor([1, 5]), T.tensor(W)),
    "negative": lambda T: T.nn.functional.embedding(T.tensor([-1, 0]), T.tensor(W)),
    "float index": lambda T: T.nn.functional.embedding(T.tensor([1.0]), T.tensor(W)),
    "int16 index": lambda T: T.nn.functional.embedding(T.tensor([1], dtype=T.int16), T.tensor(W)),
    "uint8 index": lambda T: T.nn.functional.embedding(T.tensor([1], dtype=T.uint8), T.tensor(W)),
    "bool index": lambda T: T.nn.functional.embedding(T.tensor([True]), T.tensor(W)),
    "1-D weight": lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor(W[0])),
    "3-D weight": lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor(W[None])),
    "padding out of range": lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor(W), padding_idx=5),
    "negative padding out of range":
        lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor(W), padding_idx=-6),
    "float padding": lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor(W), padding_idx=1.5),
    "list index": lambda T: T.nn.functional.embedding([1], T.tensor(W)),
    "list weight": lambda T: T.nn.functional.embedding(T.tensor([1]), W.tolist()),
    "max_norm, integer weight":
        lambda T: T.nn.functional.embedding(T.tensor([1]), T.tensor([[1, 2]]), max_norm=1.0),
    "max_norm, out of range":
        lambda T: T.nn.functional.embedding(T.tensor([1, 7]), T.tensor(W), max_norm=0.1),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_matches_torch(torch, case):
    _raises_like(torch, BAD[case])


def test_out_of_range_message_names_index_and_size():
    with pytest.raises(IndexError, match=r"index 9 .* 5 rows"):
        FF.embedding(ferrum.tensor([[0, 9]]), ferrum.tensor(W))
    with pytest.raises(IndexError, match=r"index -2 .* 5 rows"):
        FF.embedding(ferrum.tensor([-2]), ferrum.tensor(W))


def test_sparse_true_raises_clearly():
    with pytest.raises(RuntimeError, match="sparse"):
        FF.embedding(ferrum.tensor([1]), ferrum.tensor(W), sparse=True)


def test_failed_call_changes_nothing():
    w = ferrum.tensor(W * 10, requires_grad=True)
    before, ver = npv(w).copy(), w._version[0]
    for kw in ({"max_norm": 0.1}, {"max_norm": 0.1, "sparse": True}, {"max_norm": 0.1, "padding_idx": 9}):
        with pytest.raises((IndexError, RuntimeError, AssertionError)):
            FF.embedding(ferrum.tensor([0, 1, 11]) if "sparse" not in kw and "padding_idx" not in kw
                         else ferrum.tensor([0, 1]), w, **kw)
        np.testing.assert_array_equal(npv(w), before)
        assert w._version[0] == ver and w.grad is None


# --------------------------------------------------------------------------- embedding_bag
BAG_IDX = np.array([1, 2, 4, 5, 4, 3, 2, 0, 6, 6])
BAG_OFF = np.array([0, 2, 2, 5, 9])  # bags [1 2] [] [4 5 4] [3 2 0 6] [6]: an empty one included


def _bag_both(torch, w, dtype, layout, mode, psw=False, **kw):
    """(output, weight grad, weight after, per-sample-weight grad) in ferrum and torch."""
    res = []
    for T in (ferrum, torch):
        tw = T.tensor(w.astype(dtype), requires_grad=True)
        if layout == "2d":
            ti, to = T.tensor(BAG_IDX.reshape(2, 5)), None
        else:
            ti = T.tensor(BAG_IDX)
            to = T.tensor(np.append(BAG_OFF, BAG_IDX.size) if layout == "last" else BAG_OFF)
        ps = None
        if psw:
            ps = np.linspace(-1, 2, BAG_IDX.size).reshape(tuple(ti.shape)).astype(dtype)
            ps = T.tensor(ps, requires_grad=True)
        out = T.nn.functional.embedding_bag(ti, tw, to, mode=mode, per_sample_weights=ps,
                                            include_last_offset=layout == "last", **kw)
        r = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
        (out * T.tensor(r)).sum().backward()
        res.append([np.asarray(x.detach().numpy()) for x in (out, tw.grad, tw)]
                   + ([ps.grad.numpy()] if psw else []))
    return res


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["offsets", "last", "2d"])
@pytest.mark.parametrize("mode,psw", [("sum", False), ("sum", True), ("mean", False), ("max", False)])
@pytest.mark.parametrize("padding_idx,max_norm", [(None, None), (4, None), (-1, 1.0), (None, 1.0)])
def test_embedding_bag_vs_torch(torch, dtype, layout, mode, psw, padding_idx, max_norm):
    w = np.random.default_rng(0).standard_normal((7, 4))
    fr, tr = _bag_both(torch, w, dtype, layout, mode, psw, padding_idx=padding_idx, max_norm=max_norm)
    assert fr[0].shape == tr[0].shape and fr[0].dtype == tr[0].dtype
    for a, b in zip(fr, tr):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_vs_torch(torch, mode):
    """Every index occurring equally often: where torch 2.13's CPU kernel divides by the right count
    (pytorch/pytorch#190063: it divides a row by another row's count when the counts differ)."""
    idx = np.array([3, 1, 1, 0, 3, 0, 5, 5])
    w = np.random.default_rng(2).standard_normal((6, 3))
    res = []
    for T in (ferrum, torch):
        tw = T.tensor(w, requires_grad=True)
        out = T.nn.functional.embedding_bag(T.tensor(idx), tw, T.tensor([0, 3, 3, 6]), mode=mode,
                                            scale_grad_by_freq=True, padding_idx=0)
        (out * T.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        res.append((out.detach().numpy(), tw.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_embedding_bag_scale_grad_by_freq_mixed_counts():
    """The documented rule, computed by hand: each row's gradient divided by its index's count."""
    idx = np.array([1, 1, 3, 2, 1])
    w = ferrum.randn(5, 2, dtype=ferrum.float64, requires_grad=True)
    out = FF.embedding_bag(ferrum.tensor(idx), w, ferrum.tensor([0, 3]), mode="sum", scale_grad_by_freq=True)
    out.backward(ferrum.tensor([[1.0, 2.0], [10.0, 20.0]], dtype=ferrum.float64))
    # row 1: twice in bag 0, once in bag 1, count 3; rows 2, 3 once each
    expect = np.array([[0, 0], [(2 * 1 + 10) / 3, (2 * 2 + 20) / 3], [10, 20], [1, 2], [0, 0]])
    np.testing.assert_allclose(npv(w.grad), expect, rtol=1e-12)


def test_embedding_bag_last_offset_ends_the_last_bag():
    """include_last_offset: offsets are CSR row pointers, the last one the end of the last bag, so
    entries past it belong to no bag (as documented; torch 2.13's CPU kernel extends the last bag
    to the end of the input instead)."""
    w = ferrum.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    out = FF.embedding_bag(ferrum.tensor([1, 2, 3, 4, 5]), w, ferrum.tensor([0, 1, 3, 3]), mode="sum",
                           include_last_offset=True)
    np.testing.assert_array_equal(npv(out), [[2, 3], [10, 12], [0, 0]])
    out.sum().backward()
    np.testing.assert_array_equal(npv(w.grad)[:, 0], [0, 1, 1, 1, 0, 0])


def test_embedding_bag_half(torch):
    w = np.round(np.random.default_rng(3).standard_normal((7, 3)) * 64) / 64
    res = []
    for T in (ferrum, torch):
        tw = T.tensor(w, dtype=T.float16, requires_grad=True)
        out = T.nn.functional.embedding_bag(T.tensor(BAG_IDX), tw, T.tensor(BAG_OFF), mode="mean")
        out.sum().backward()
        assert out.dtype == T.float16
        res.append((out.float().detach().numpy(), tw.grad.float().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("mode,psw,pad", [("sum", False, None), ("sum", True, 4), ("mean", False, 4),
                                          ("max", False, None), ("max", False, 4)])
def test_embedding_bag_gradcheck(mode, psw, pad):
    # distinct values: the max has no ties
    w = ferrum.tensor(np.random.default_rng(4).permutation(28).reshape(7, 4) / 7.0, requires_grad=True)
    ps = ferrum.tensor(np.linspace(-1, 2, BAG_IDX.size), requires_grad=True)
    idx, off = ferrum.tensor(BAG_IDX), ferrum.tensor(BAG_OFF)

    def f(w, ps):
        return FF.embedding_bag(idx, w, off, mode=mode, per_sample_weights=ps if psw else None,
                                padding_idx=pad)

    assert gradcheck(f, (w, ps))
    assert gradgradcheck(lambda w, ps: f(w, ps) ** 2, (w, ps))


def test_embedding_bag_empty_bags_and_input(torch):
    w = np.random.default_rng(5).standard_normal((4, 3))
    cases = [(np.zeros(0, np.int64), [0, 0, 0]), (np.array([1, 2]), [0, 2, 2]), (np.zeros(0, np.int64), [])]
    for idx, off in cases:
        for mode in ("sum", "mean", "max"):
            outs = [T.nn.functional.embedding_bag(T.tensor(idx, dtype=T.int64), T.tensor(w),
                                                  T.tensor(off, dtype=T.int64), mode=mode).numpy()
                    for T in (ferrum, torch)]
            assert outs[0].shape == outs[1].shape
            np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)
    out = FF.embedding_bag(ferrum.zeros(0, 3, dtype=ferrum.int64), ferrum.tensor(w))
    assert tuple(out.shape) == (0, 3)
    # no offsets, a non-empty input: no bags (torch 2.13 crashes on this one)
    out = FF.embedding_bag(ferrum.tensor([3]), ferrum.tensor(w), ferrum.tensor([], dtype=ferrum.int64))
    assert tuple(out.shape) == (0, 3)


BAG_W = np.random.default_rng(9).standard_normal((6, 3))
BAG_BAD = {
    "out of range": dict(idx=[1, 6], off=[0]),
    "negative index": dict(idx=[1, -1], off=[0]),
    "first offset not 0": dict(off=[1, 2]),
    "decreasing offsets": dict(off=[0, 5, 2]),
    "offset past the end": dict(off=[0, 9]),
    "negative offset": dict(off=[0, -1]),
    "float offsets": dict(off=[0.0, 2.0]),
    "2-D offsets": dict(off=[[0, 2]]),
    "no offsets for 1-D": dict(off=None),
    "offsets for 2-D": dict(idx=[[1, 2], [3, 4]]),
    "3-D input": dict(idx=[[[1]]], off=None),
    "0-d input": dict(idx=1),
    "float index": dict(idx=[1.0, 2.0]),
    "mode": dict(mode="min"),
    "max with scale_grad_by_freq": dict(mode="max", scale_grad_by_freq=True),
    "max with sparse": dict(mode="max", sparse=True),
    "per_sample_weights with mean": dict(psw=True),
    "per_sample_weights shape": dict(mode="sum", psw=[1.0, 2.0]),
    "per_sample_weights dtype": dict(mode="sum", psw="float64"),
    "padding out of range": dict(padding_idx=6),
    "negative padding out of range": dict(padding_idx=-7),
    "integer weight": dict(w=np.ones((6, 3), np.int64), mode="sum"),
    "1-D weight": dict(w=BAG_W[0]),
    "2-D input without columns": dict(idx=np.zeros((2, 0), np.int64), off=None),
    "max_norm with an index out of range": dict(idx=[1, 9], off=[0], max_norm=0.1),
}


def _bag_call(T, idx=(1, 2, 4, 5), off=(0, 2), w=BAG_W, psw=None, **kw):
    def arr(a):  # floats stay floats (bad dtypes); integers, also empty ones, become int64
        a = np.asarray(a)
        return T.tensor(a if a.dtype.kind == "f" else a.astype(np.int64))

    ti = arr(idx)
    to = None if off is None else arr(off)
    tw = T.tensor(np.asarray(w, dtype=np.float32) if np.asarray(w).dtype.kind == "f" else w)
    if psw is True:
        psw = T.ones(ti.shape)
    elif psw == "float64":
        psw = T.ones(ti.shape, dtype=T.float64)
    elif psw is not None:
        psw = T.tensor(psw)
    return T.nn.functional.embedding_bag(ti, tw, to, per_sample_weights=psw, **kw)


@pytest.mark.parametrize("case", list(BAG_BAD))
def test_embedding_bag_bad_input_matches_torch(torch, case):
    _raises_like(torch, lambda T: _bag_call(T, **BAG_BAD[case]))


def test_embedding_bag_out_of_range_is_runtime_and_index_error():
    with pytest.raises(RuntimeError, match=r"index 6 .* 6 rows") as e:
        FF.embedding_bag(ferrum.tensor([1, 6]), ferrum.tensor(BAG_W), ferrum.tensor([0]))
    assert isinstance(e.value, IndexError)


def test_embedding_bag_sparse_true_raises_clearly():
    with pytest.raises(RuntimeError, match="sparse"):
        FF.embedding_bag(ferrum.tensor([1]), ferrum.tensor(BAG_W), ferrum.tensor([0]), sparse=True)


def test_embedding_bag_failed_call_changes_nothing():
    w = ferrum.tensor(BAG_W * 10, requires_grad=True)
    before, ver = npv(w).copy(), w._version[0]
    bad = [dict(idx=[0, 1, 9]), dict(off=[0, 5]), dict(off=[1]), dict(mode="min"), dict(psw=True)]
    for kw in bad:
        args = dict(idx=[0, 1, 2], off=[0], max_norm=0.1)
        args.update(kw)
        psw = ferrum.ones(len(args["idx"])) if args.pop("psw", None) else None
        with pytest.raises((IndexError, RuntimeError, ValueError)):
            FF.embedding_bag(ferrum.tensor(args.pop("idx")), w, ferrum.tensor(args.pop("off")),
                             per_sample_weights=psw, **args)
        np.testing.assert_array_equal(npv(w), before)
        assert w._version[0] == ver and w.grad is None


def test_indices_changed_behind_autograd_cannot_corrupt_memory():
    """An index array written through .numpy() (no version bump) after the forward: the backward
    raises instead of letting the kernel write outside the gradient."""
    w = ferrum.randn(4, 3, requires_grad=True)
    idx = ferrum.tensor([1, 2])
    out = FF.embedding(idx, w)
    idx.numpy()[0] = 10 ** 6
    with pytest.raises(RuntimeError, match="modified after the forward"):
        out.sum().backward()
    # embedding_bag keeps its own copy of the indices
    idx = ferrum.tensor([1, 2])
    out = FF.embedding_bag(idx, w, ferrum.tensor([0]), mode="sum")
    idx.numpy()[0] = 10 ** 6
    out.sum().backward()
    np.testing.assert_array_equal(npv(w.grad)[:, 0], [0, 1, 1, 0])
