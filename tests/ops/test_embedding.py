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
