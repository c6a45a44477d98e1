"""Tests of ferrum.ops.reduce: forward against NumPy and torch, gradients against torch and
finite differences (gradcheck / gradgradcheck), error types, and property tests."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrum as F
from ferrum.autograd import grad, gradcheck, gradgradcheck
from ferrum.ops import reduce as R

from tests.helpers import array_maker, closeness, ft, npv, tt
from tests.ops.reduce_helpers import parity

RNG = np.random.default_rng(1234)
_pymax = max


# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG)
close = closeness(rtol=1e-6, atol=1e-6)


def tol(dtype):
    return (1e-5, 1e-5) if np.dtype(dtype) == np.float32 else (1e-10, 1e-10)


def noncontig(shape, dtype=np.float64):
    """A transposed (non-contiguous) array of the given final shape."""
    a = arr(tuple(reversed(shape)), dtype).T
    assert not a.flags.c_contiguous or a.ndim < 2
    return a


def grads_vs_torch(torch, fn_f, fn_t, a, rtol=1e-7, atol=1e-9, seed=0):
    """Compares the gradient of sum(out * w) with torch's for a random weight w."""
    x = ft(a.copy(), rg=True)
    out = fn_f(x)
    w = np.random.default_rng(seed).standard_normal(npv(out).shape)
    (out * ft(w)).sum().backward()
    xt = tt(torch, a.copy(), rg=True)
    outt = fn_t(xt)
    (outt * torch.from_numpy(w)).sum().backward()
    close(x.grad, xt.grad, rtol=rtol, atol=atol)


def check_grads(fn, *shapes_or_arrays, gg=True):
    ins = [ft(a.copy() if isinstance(a, np.ndarray) else arr(a), rg=True) for a in shapes_or_arrays]
    assert gradcheck(fn, ins)
    if gg:
        assert gradgradcheck(fn, ins)


DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


# --------------------------------------------------------------------------- sum / mean / prod
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_vs_torch(torch, dtype, dim, keepdim):
    a = arr((2, 3, 4), dtype)
    r = F.sum(ft(a), dim, keepdim) if dim is not None or keepdim else F.sum(ft(a))
    e = torch.sum(tt(torch, a), dim, keepdim) if dim is not None or keepdim else torch.sum(tt(torch, a))
    close(r, e, *tol(dtype) if np.dtype(dtype).kind == "f" else (0, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_vs_torch(torch, dtype, dim, keepdim):
    a = arr((2, 3, 4), dtype)
    close(ft(a).mean(dim, keepdim), tt(torch, a).mean(dim, keepdim), *tol(dtype))


def test_sum_mean_numpy_noncontiguous():
    a = noncontig((3, 4, 5))
    t = ft(a)
    assert not t.is_contiguous()
    close(t.sum(), np.sum(a))
    close(t.sum((0, 2)), np.sum(a, axis=(0, 2)))
    close(t.sum(1, keepdim=True), np.sum(a, axis=1, keepdims=True))
    close(t.mean(-1), np.mean(a, axis=-1))
    close(t.mean(), np.mean(a))
    close(t.prod(1), np.prod(a, axis=1))


def test_sum_dtype_rules(torch):
    for dt in (np.bool_, np.uint8, np.int8, np.int32, np.int64):
        assert ft(arr((3,), dt)).sum().dtype == F.int64
        assert ft(arr((3,), dt)).sum(0).dtype == F.int64
        assert ft(arr((3,), dt)).prod().dtype == F.int64
        assert ft(arr((3,), dt)).cumsum(0).dtype == F.int64
    assert ft(arr((3,), np.float32)).sum().dtype == F.float32
    assert ft(arr((3,), np.float16)).sum().dtype == F.float16
    assert ft(arr((3,), np.float32)).sum(dtype=F.float64).dtype == F.float64
    assert ft(arr((3,), np.int64)).mean(dtype=F.float32).dtype == F.float32
    close(ft(np.array([1, 2], np.int64)).mean(dtype=F.float32),
          torch.tensor([1, 2]).mean(dtype=torch.float32))
    a = arr((50,), np.float16)
    close(ft(a).sum(), tt(torch, a).sum(), rtol=2e-3, atol=2e-2)


def test_sum_empty_and_scalar(torch):
    e = np.zeros((0, 3))
    close(ft(e).sum(), tt(torch, e).sum())
    close(ft(e).sum(0), tt(torch, e).sum(0))
    close(ft(e).prod(1), tt(torch, e).prod(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(ft(e).mean(0), tt(torch, e).mean(0))
        close(ft(e).mean(), tt(torch, e).mean())
    s = np.array(3.5)
    for d in (0, -1):
        close(ft(s).sum(d), tt(torch, s).sum(d))
        close(ft(s).mean(d, keepdim=True), tt(torch, s).mean(d, keepdim=True))
        close(ft(s).prod(d), tt(torch, s).prod(d))
    assert ft(arr((2, 3))).sum(dim=None, keepdim=True).shape == (1, 1)
    assert ft(arr((2, 3))).sum(dim=[]).shape == ()


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_vs_torch(torch, dtype, dim):
    a = arr((3, 4), dtype)
    if dim is None:
        close(ft(a).prod(), tt(torch, a).prod())
    else:
        for k in (False, True):
            close(ft(a).prod(dim, k), tt(torch, a).prod(dim, k))


def test_nansum_nanmean(torch):
    a = arr((3, 4))
    a[0, 1] = a[2, 2] = np.nan
    a[1, :] = np.nan
    for dim in (None, 0, 1, (0, 1)):
        close(ft(a).nansum(dim), tt(torch, a).nansum(dim))
        close(ft(a).nanmean(dim), tt(torch, a).nanmean(dim))
    close(F.nansum(ft(a), 1, keepdim=True), np.nansum(a, axis=1, keepdims=True))
    i = arr((3, 4), np.int64)
    close(ft(i).nansum(1), tt(torch, i).nansum(1))
    grads_vs_torch(torch, lambda x: x.nansum(1), lambda x: x.nansum(1), a)
    grads_vs_torch(torch, lambda x: x.nanmean(0), lambda x: x.nanmean(0), a)


# --------------------------------------------------------------------------- max / min / amax / argmax
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_vs_torch(torch, dtype, op):
    a = arr((3, 5), dtype)
    close(getattr(ft(a), op)(), getattr(tt(torch, a), op)(), 0, 0)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            r = getattr(F, op)(ft(a), dim, keepdim)
            e = getattr(torch, op)(tt(torch, a), dim, keepdim)
            close(r.values, e.values, 0, 0)
            # ties may pick different indices; the values at the indices must match
            idx = npv(r.indices)
            assert idx.dtype == np.int64
            got = np.take_along_axis(a, idx if keepdim else np.expand_dims(idx, dim), dim)
            np.testing.assert_array_equal(got.squeeze(dim) if not keepdim else got, npv(e.values))
    if dtype != np.bool_:
        close(getattr(ft(a), "a" + op)(1), getattr(tt(torch, a), "a" + op)(1), 0, 0)
        close(getattr(ft(a), "a" + op)((0, 1), True), getattr(tt(torch, a), "a" + op)((0, 1), True), 0, 0)


def test_max_return_type_and_binary():
    a = arr((3, 4))
    r = ft(a).max(1)
    assert isinstance(r, tuple) and len(r) == 2
    v, i = r
    assert r[0] is v and r.values is v and r.indices is i
    assert type(r).__name__ == "max" and "values=" in repr(r)
    close(v, a.max(1))
    np.testing.assert_array_equal(npv(i), a.argmax(1))
    b = arr((3, 4))
    close(F.max(ft(a), ft(b)), np.maximum(a, b))
    close(ft(a).min(ft(b)), np.minimum(a, b))
    close(F.max(ft(a), other=ft(b)), np.maximum(a, b))
    m = F.min(ft(a), dim=0, keepdim=True)
    assert m.values.shape == (1, 4) and m.indices.shape == (1, 4)
    s = ft(np.array(2.0)).max(0)
    assert s.values.shape == () and s.indices.item() == 0


def test_max_nan_and_noncontiguous(torch):
    a = noncontig((4, 5))
    a[1, 2] = np.nan
    close(ft(a).max(), tt(torch, a).max())
    close(ft(a).max(0).values, tt(torch, a).max(0).values)
    np.testing.assert_array_equal(npv(ft(a).max(0).indices), npv(tt(torch, a).max(0).indices))
    close(ft(a).amin(1), tt(torch, a).amin(1))
    np.testing.assert_array_equal(npv(ft(a).argmax(1)), npv(tt(torch, a).argmax(1)))


def test_aminmax(torch):
    a = arr((3, 4))
    r = F.aminmax(ft(a))
    e = torch.aminmax(tt(torch, a))
    close(r.min, e.min)
    close(r.max, e.max)
    r = ft(a).aminmax(dim=1, keepdim=True)
    e = tt(torch, a).aminmax(dim=1, keepdim=True)
    close(r.min, e.min)
    close(r.max, e.max)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(torch, op):
    a = np.array([[1, 3, 3], [2, 2, 0]])
    for kw in ({}, {"keepdim": True}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1}):
        close(getattr(ft(a), op)(**kw), getattr(tt(torch, a), op)(**kw), 0, 0)
    b = noncontig((4, 3))
    close(getattr(F, op)(ft(b)), getattr(torch, op)(tt(torch, b)), 0, 0)
    assert getattr(ft(np.array(1.5)), op)(0).item() == 0


# --------------------------------------------------------------------------- var / std
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std_vs_torch(torch, dtype, dim, correction, keepdim):
    a = arr((3, 4, 5), dtype)
    for op in ("var", "std"):
        r = getattr(ft(a), op)(dim, correction=correction, keepdim=keepdim)
        e = getattr(tt(torch, a), op)(dim, correction=correction, keepdim=keepdim)
        close(r, e, *tol(dtype))


def test_var_legacy_signatures(torch):
    a = arr((3, 4))
    close(ft(a).var(1, True), tt(torch, a).var(1, True))
    close(ft(a).var(1, False, True), tt(torch, a).var(1, False, True))
    close(ft(a).std(unbiased=False), tt(torch, a).std(unbiased=False))
    close(F.var(ft(a), False), torch.var(tt(torch, a), False))
    close(ft(a).std(True), tt(torch, a).std(True))
    b = noncontig((3, 4))
    close(F.std(ft(b), 0), np.std(b, 0, ddof=1), 1e-12, 1e-12)
    v, m = F.var_mean(ft(a), 1, keepdim=True)
    vt, mt = torch.var_mean(tt(torch, a), 1, keepdim=True)
    close(v, vt)
    close(m, mt)
    s, m = F.std_mean(ft(a), correction=0)
    st_, mt = torch.std_mean(tt(torch, a), correction=0)
    close(s, st_)
    close(m, mt)
    with pytest.warns(UserWarning):
        r = F.var(ft(np.ones(1)))
    assert math.isnan(r.item())


# --------------------------------------------------------------------------- norm
@pytest.mark.parametrize("p", ["fro", 1, 2, 3, 0.5, 0, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, (0, 1), -1])
def test_norm_vs_torch(torch, p, dim):
    a = arr((3, 4))
    a[0, 0] = 0.0
    r = R.norm(ft(a), p, dim)
    e = torch.norm(tt(torch, a), p, dim)
    close(r, e, 1e-10, 1e-10)
    close(R.norm(ft(a), p, dim, keepdim=True), torch.norm(tt(torch, a), p, dim, keepdim=True), 1e-10, 1e-10)
    if p != 0:
        grads_vs_torch(torch, lambda x: R.norm(x, p, dim), lambda x: torch.norm(x, p, dim), a)


def test_norm_misc(torch):
    a = arr((3, 4), np.float32)
    close(ft(a).norm(), tt(torch, a).norm(), 1e-5, 1e-5)
    close(F.norm(ft(a), dim=1, keepdim=True), torch.norm(tt(torch, a), dim=1, keepdim=True), 1e-5, 1e-5)
    close(R.norm(ft(a), dtype=F.float64), tt(torch, a).norm(dtype=torch.float64))
    b = arr((3, 4))
    close(R.norm(ft(b), "nuc"), torch.norm(tt(torch, b), "nuc"), 1e-10, 1e-10)
    grads_vs_torch(torch, lambda x: R.norm(x, "nuc"), lambda x: torch.norm(x, "nuc"), b)
    z = ft(np.zeros(3), rg=True)
    R.norm(z).backward()
    close(z.grad, np.zeros(3))
    with pytest.raises(RuntimeError):
        R.norm(ft(np.arange(3)))


# --------------------------------------------------------------------------- logsumexp
def test_logsumexp(torch):
    a = arr((3, 4, 2))
    for dim in (0, 1, (0, 2), -1):
        for k in (False, True):
            close(ft(a).logsumexp(dim, k), tt(torch, a).logsumexp(dim, k), 1e-12, 1e-12)
    big = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [-np.inf, -np.inf]])
    close(F.logsumexp(ft(big), 1), torch.logsumexp(tt(torch, big), 1))
    inf = np.array([np.inf, 1.0])
    close(F.logsumexp(ft(inf), 0), torch.logsumexp(tt(torch, inf), 0))
    close(F.logsumexp(ft(np.array([1, 2, 3])), 0), torch.logsumexp(torch.tensor([1, 2, 3]), 0), 1e-6, 1e-6)
    grads_vs_torch(torch, lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), a)
    x = ft(big[:2].copy(), rg=True)
    F.logsumexp(x, 1).sum().backward()
    close(x.grad.sum(1), np.ones(2))


# --------------------------------------------------------------------------- cumulative ops
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod_vs_torch(torch, dtype, dim):
    a = arr((3, 4), dtype)
    close(ft(a).cumsum(dim), tt(torch, a).cumsum(dim), *tol(np.float32))
    close(ft(a).cumprod(dim), tt(torch, a).cumprod(dim), *tol(np.float32))
    close(F.cumsum(ft(a), dim, dtype=F.float64), torch.cumsum(tt(torch, a), dim, dtype=torch.float64))
    b = noncontig((3, 4), dtype)
    close(ft(b).cumsum(dim), np.cumsum(b, dim, dtype=np.int64 if dtype in (np.int64, np.bool_) else None))


def test_cumsum_inplace_and_scalar(torch):
    a = arr((3, 4))
    t = ft(a.copy())
    t.cumsum_(1)
    close(t, np.cumsum(a, 1))
    t = ft(a.copy())
    t.cumprod_(0)
    close(t, np.cumprod(a, 0))
    s = np.array(2.5)
    close(ft(s).cumsum(0), tt(torch, s).cumsum(0))
    close(ft(s).cumprod(-1), tt(torch, s).cumprod(-1))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin(torch, op):
    a = np.array([1.0, 1, 3, 3, 2, np.nan, 5, np.nan, 1, 0, 0])
    r = getattr(ft(a), op)(0)
    e = getattr(tt(torch, a), op)(0)
    close(r.values, e.values)
    close(r.indices, e.indices, 0, 0)
    assert type(r).__name__ == op
    b = np.array([[3, 1, 2, 2], [0, 5, 5, 1]])
    for dim in (0, 1):
        r = getattr(F, op)(ft(b), dim)
        e = getattr(torch, op)(tt(torch, b), dim)
        close(r.values, e.values)
        close(r.indices, e.indices)
    c = arr((3, 4))
    grads_vs_torch(torch, lambda x: getattr(x, op)(1).values, lambda x: getattr(x, op)(1).values, c)
    d = np.array([[2.0, 1.0, 1.0, 3.0]])
    grads_vs_torch(torch, lambda x: getattr(x, op)(1).values, lambda x: getattr(x, op)(1).values, d)


def test_logcumsumexp(torch):
    a = arr((3, 5))
    for dim in (0, 1):
        close(ft(a).logcumsumexp(dim), tt(torch, a).logcumsumexp(dim), 1e-12, 1e-12)
    big = np.array([-1000.0, 0.0, 1000.0, 999.0])
    close(F.logcumsumexp(ft(big), 0), torch.logcumsumexp(tt(torch, big), 0))
    grads_vs_torch(torch, lambda x: x.logcumsumexp(1), lambda x: x.logcumsumexp(1), a)
    check_grads(lambda x: x.logcumsumexp(0), (4, 2))


# --------------------------------------------------------------------------- all / any / count_nonzero
@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int64, np.float32])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_all_any_count(torch, dtype, dim):
    a = arr((3, 4), dtype)
    a[0] = 1
    for op in ("all", "any"):
        if dim is None:
            close(getattr(ft(a), op)(), getattr(tt(torch, a), op)(), 0, 0)
        else:
            for k in (False, True):
                close(getattr(ft(a), op)(dim, k), getattr(tt(torch, a), op)(dim, k), 0, 0)
    close(F.count_nonzero(ft(a), dim), torch.count_nonzero(tt(torch, a), dim), 0, 0)
    assert ft(noncontig((3, 4))).all().dtype == F.bool


# --------------------------------------------------------------------------- sort and selection
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_vs_torch(torch, dtype, dim, descending):
    a = arr((4, 6), dtype)
    r = ft(a).sort(dim, descending)
    e = tt(torch, a).sort(dim=dim, descending=descending, stable=True)
    close(r.values, e.values, 0, 0)
    close(r.indices, e.indices, 0, 0)  # both stable
    e = torch.argsort(tt(torch, a), dim=dim, descending=descending, stable=True)
    close(F.argsort(ft(a), dim, descending), e, 0, 0)


def test_sort_nan_noncontig_scalar(torch):
    # where NaN lands is not stated by torch's docs; ferrum's rule is NumPy's documented one (NaN
    # sorts as the largest value), so this compares with NumPy, and with torch only without NaN
    a = noncontig((5, 3))
    a[1, 0] = a[3, 2] = np.nan
    r = ft(a).sort(0)
    np.testing.assert_array_equal(npv(r.values), np.sort(a, axis=0))
    np.testing.assert_array_equal(npv(r.indices), np.argsort(a, axis=0, kind="stable"))
    r = ft(a).sort(0, descending=True)
    np.testing.assert_array_equal(npv(r.values), np.sort(a, axis=0)[::-1])
    np.testing.assert_array_equal(np.take_along_axis(a, npv(r.indices), 0), npv(r.values))
    np.testing.assert_array_equal(npv(F.msort(ft(a))), np.sort(a, axis=0))
    b = noncontig((5, 3))
    for desc in (False, True):
        r = ft(b).sort(0, descending=desc)
        e = tt(torch, b).sort(dim=0, descending=desc, stable=True)
        close(r.values, e.values)
        close(r.indices, e.indices)
    s = ft(np.array(4.0)).sort()
    assert s.values.shape == () and s.indices.item() == 0


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, -1])
def test_topk_vs_torch(torch, largest, dim):
    a = np.random.default_rng(5).permutation(30).reshape(5, 6).astype(np.float64)  # distinct values
    for k in (0, 1, 3, 5):
        r = ft(a).topk(k, dim, largest)
        e = tt(torch, a).topk(k, dim, largest)
        close(r.values, e.values)
        close(r.indices, e.indices)
    t = np.array([1.0, 3, 3, 2, np.nan])  # NaN counts as the largest value (ferrum's rule, NumPy's)
    r = F.topk(ft(t), 3)
    np.testing.assert_array_equal(npv(r.values), [np.nan, 3.0, 3.0])
    np.testing.assert_array_equal(t[npv(r.indices)], npv(r.values))
    grads_vs_torch(torch, lambda x: x.topk(2, dim, largest).values,
                   lambda x: x.topk(2, dim, largest).values, a)


def test_kthvalue(torch):
    a = np.random.default_rng(6).permutation(24).reshape(4, 6).astype(np.float64)
    for k in (1, 3, 4):
        for keepdim in (False, True):
            r = ft(a).kthvalue(k, 0, keepdim)
            e = tt(torch, a).kthvalue(k, 0, keepdim)
            close(r.values, e.values)
            close(r.indices, e.indices)
    r = F.kthvalue(ft(a), 2)
    close(r.values, torch.kthvalue(tt(torch, a), 2).values)
    grads_vs_torch(torch, lambda x: x.kthvalue(2, 1).values, lambda x: x.kthvalue(2, 1).values, a)


def test_median_nanmedian(torch):
    a = np.array([[1.0, 2, 2, 2, 3, 1, 2], [5, 4, 3, 2, 1, 0, 9]])
    close(ft(a).median(), tt(torch, a).median())
    # which of several equal medians' index is returned is unspecified (torch's docs: "not
    # necessarily the first occurrence"): the index must point at the median value
    for dim in (0, 1):
        for keepdim in (False, True):
            r = ft(a).median(dim, keepdim)
            e = tt(torch, a).median(dim, keepdim)
            close(r.values, e.values)
            idx = npv(r.indices) if keepdim else np.expand_dims(npv(r.indices), dim)
            vals = npv(r.values) if keepdim else np.expand_dims(npv(r.values), dim)
            np.testing.assert_array_equal(np.take_along_axis(a, idx, dim), vals)
    d = np.random.default_rng(8).permutation(14).reshape(2, 7).astype(np.float64)  # no ties
    for dim in (0, 1):
        close(ft(d).median(dim).indices, tt(torch, d).median(dim).indices)
    b = np.array([[1.0, np.nan, 2, np.nan, 0], [3, 1, 2, 5, 4], [np.nan] * 5])
    close(ft(b).median(), tt(torch, b).median())
    close(ft(b).nanmedian(), tt(torch, b).nanmedian())
    r, e = ft(b).median(1), tt(torch, b).median(1)
    close(r.values, e.values)
    close(r.indices[1:2], e.indices[1:2])  # rows with NaN: the NaN's index is not specified
    r, e = ft(b).nanmedian(1), tt(torch, b).nanmedian(1)
    close(r.values, e.values)
    close(r.indices[:2], e.indices[:2])
    assert type(r).__name__ == "nanmedian"
    i = np.array([[4, 1, 3, 2], [1, 1, 1, 0]])
    close(ft(i).median(), tt(torch, i).median())
    close(ft(i).median(1).values, tt(torch, i).median(1).values)
    # full-reduction gradient split among ties, as torch
    for x in (np.array([1.0, 2, 2, 3, 2]), np.array([1.0, np.nan, 2, 3, np.nan])):
        grads_vs_torch(torch, lambda t: t.median(), lambda t: t.median(), x)
        grads_vs_torch(torch, lambda t: t.nanmedian(), lambda t: t.nanmedian(), x)
    grads_vs_torch(torch, lambda t: t.median(1).values, lambda t: t.median(1).values, d)


def test_mode(torch):
    # torch specifies neither which value wins a tie in counts nor which occurrence's index is
    # returned: rows with a unique mode are compared with torch's values; indices must point at it
    a = np.array([[1, 2, 2, 1, 3, 1, 1], [3, 2, 2, 3, 1, 0, 3]])
    for dim, keepdim in ((1, False), (-1, True)):
        r = ft(a).mode(dim, keepdim)
        e = tt(torch, a).mode(dim, keepdim)
        close(r.values, e.values)
        idx = npv(r.indices).reshape(-1, 1)
        np.testing.assert_array_equal(np.take_along_axis(a, idx, 1).ravel(), npv(r.values).ravel())
    b = np.array([[3.0, 2, 2, 3, 3], [0.5, 0.5, 0.25, 7, 0.5]])
    r, e = F.mode(ft(b)), torch.mode(tt(torch, b))
    close(r.values, e.values)
    c = np.array([[1.0, 1, 2, 0, 2], [1, 0, 2, 0, 0], [2, 1, 1, 0, 1], [2, 2, 1, 1, 2]])  # unique per column
    r, e = ft(c).mode(0), tt(torch, c).mode(0)
    close(r.values, e.values)
    x = ft(c.copy(), rg=True)
    x.mode(0).values.sum().backward()
    g = npv(x.grad)
    np.testing.assert_array_equal(g.sum(0), np.ones(5))  # one 1 per column, at an occurrence of the mode
    np.testing.assert_array_equal(c[g.argmax(0), np.arange(5)], npv(r.values))


@pytest.mark.parametrize("interp", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile(torch, interp):
    a = arr((4, 7))
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    close(F.quantile(ft(a), 0.3, interpolation=interp),
          torch.quantile(tt(torch, a), 0.3, interpolation=interp))
    for dim in (0, 1):
        for keepdim in (False, True):
            close(ft(a).quantile(ft(q), dim, keepdim, interpolation=interp),
                  tt(torch, a).quantile(tt(torch, q), dim, keepdim, interpolation=interp), 1e-12, 1e-12)
            close(ft(a).quantile(0.4, dim, keepdim, interpolation=interp),
                  tt(torch, a).quantile(0.4, dim, keepdim, interpolation=interp), 1e-12, 1e-12)
    close(F.quantile(ft(a), ft(q), keepdim=True, interpolation=interp),
          torch.quantile(tt(torch, a), tt(torch, q), keepdim=True, interpolation=interp))
    b = a.copy()
    b[1, 2] = b[3, :] = np.nan
    close(F.quantile(ft(b), ft(q), 1, interpolation=interp),
          torch.quantile(tt(torch, b), tt(torch, q), 1, interpolation=interp))
    close(F.nanquantile(ft(b), ft(q), 1, interpolation=interp),
          torch.nanquantile(tt(torch, b), tt(torch, q), 1, interpolation=interp))
    grads_vs_torch(torch, lambda x: x.quantile(ft(q), 1, interpolation=interp),
                   lambda x: x.quantile(tt(torch, q), 1, interpolation=interp), a)


# --------------------------------------------------------------------------- unique
def test_unique(torch):
    a = np.array([[3, 1], [1, 2], [3, 1]])
    close(F.unique(ft(a)), torch.unique(tt(torch, a)))
    for ri in (False, True):
        for rc in (False, True):
            r = F.unique(ft(a), return_inverse=ri, return_counts=rc)
            e = torch.unique(tt(torch, a), return_inverse=ri, return_counts=rc)
            if not (ri or rc):
                close(r, e)
                continue
            assert len(r) == len(e)
            for x, y in zip(r, e):
                close(x, y)
            r = ft(a).unique(return_inverse=ri, return_counts=rc, dim=0)
            e = tt(torch, a).unique(return_inverse=ri, return_counts=rc, dim=0)
            for x, y in zip(r, e):
                close(x, y)
    # several NaNs: how many come back, and where, is unspecified; the non-NaN values are defined
    n = np.array([np.nan, 1.0, np.nan, 1.0])
    u = npv(F.unique(ft(n)))
    np.testing.assert_array_equal(u[~np.isnan(u)], [1.0])
    b = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    close(F.unique_consecutive(ft(b)), torch.unique_consecutive(tt(torch, b)))
    r = F.unique_consecutive(ft(b), return_inverse=True, return_counts=True)
    e = torch.unique_consecutive(tt(torch, b), return_inverse=True, return_counts=True)
    for x, y in zip(r, e):
        close(x, y)
    c = np.array([[1, 1, 2, 2], [1, 1, 3, 2]])
    r = ft(c).unique_consecutive(return_counts=True, return_inverse=True, dim=1)
    e = tt(torch, c).unique_consecutive(return_counts=True, return_inverse=True, dim=1)
    for x, y in zip(r, e):
        close(x, y)


# --------------------------------------------------------------------------- gradients
# gradcheck and gradgradcheck of every reduction, scan and sort run from the op registry
# (tests/opinfo/db_reduce.py, tests/ops/test_opinfo.py); here only what a registry entry cannot say
def test_gradcheck_with_ties_and_zeros():
    z = np.array([[1.0, 0, 2, 3], [0, 0, 2, 1.5], [1, 2, 3, 4], [0, 2, 0, 0]])
    check_grads(lambda x: x.prod(1), z)
    check_grads(lambda x: x.prod(0), z)
    check_grads(lambda x: x.prod(), z[:2])
    check_grads(lambda x: x.cumprod(1), z)
    check_grads(lambda x: x.cumprod(0), z)


@pytest.mark.parametrize("case", [
    ("prod", lambda x: x.prod(1)), ("prod_all", lambda x: x.prod()),
    ("cumprod", lambda x: x.cumprod(1)), ("cumprod0", lambda x: x.cumprod(0)),
])
def test_zero_grads_vs_torch(torch, case):
    _, fn = case
    z = np.array([[1.0, 0, 2, 3], [0, 0, 2, 1.5], [1, 2, 3, 4], [0.5, 2, 0, -1]])
    grads_vs_torch(torch, fn, fn, z)
    # second order too
    x = ft(z.copy(), rg=True)
    g1, = grad(fn(x).sum(), [x], create_graph=True)
    g2, = grad((g1 * ft(np.arange(16.0).reshape(4, 4))).sum(), [x])
    xt = tt(torch, z.copy(), rg=True)
    h1, = torch.autograd.grad(fn(xt).sum(), [xt], create_graph=True)
    h2, = torch.autograd.grad((h1 * torch.arange(16.0, dtype=torch.float64).reshape(4, 4)).sum(), [xt])
    close(g2, h2, 1e-10, 1e-10)


@pytest.mark.parametrize("name,fn", [
    ("sum", lambda x: x.sum(1)), ("mean", lambda x: x.mean((0, 1))), ("prod", lambda x: x.prod(0)),
    ("amax", lambda x: x.amax(1)), ("amin", lambda x: x.amin()), ("max", lambda x: x.max()),
    ("min", lambda x: x.min()), ("max_dim", lambda x: x.max(1).values),
    ("var", lambda x: x.var(0)), ("std", lambda x: x.std(1, correction=0)),
    ("logsumexp", lambda x: x.logsumexp(0)), ("cumsum", lambda x: x.cumsum(0)),
    ("cumprod", lambda x: x.cumprod(1)), ("sort", lambda x: x.sort(0).values),
])
def test_grads_vs_torch_with_ties_noncontig(torch, name, fn):
    a = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, -1.0, 0.5], [3.0, 3.0, 3.0, 0.25]])
    grads_vs_torch(torch, fn, fn, a)
    grads_vs_torch(torch, fn, fn, noncontig((3, 4)))


def test_std_zero_grad(torch):
    x = ft(np.zeros((2, 3)), rg=True)
    x.std(1).sum().backward()
    close(x.grad, np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_std_of_low_precision_past_the_variance_range(torch, dtype):
    """The variance (5e7) overflows float16, the std (7072) does not: torch returns the std, and
    var's inf, without a warning."""
    import warnings

    a = np.array([[0.0, 10000.0], [1.0, 3.0]])
    for fn in (lambda L, x: x.std(1), lambda L, x: x.std(1, unbiased=False), lambda L, x: x.var(1),
               lambda L, x: L.std_mean(x, 1)[0]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = fn(F, F.tensor(a, dtype=getattr(F, dtype))).float().tolist()
        assert got == fn(torch, torch.tensor(a, dtype=getattr(torch, dtype))).float().tolist()


def test_hot_sum_mean_nodes():
    x = ft(arr((3, 4)), rg=True)
    y = x.sum()
    assert y.grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert x.mean(1).grad_fn.name() == "MeanBackward1"
    assert x.max(1).values.grad_fn.name() == "MaxBackward0"
    assert x.max().grad_fn.name() == "MaxBackward1"
    y.backward()
    close(x.grad, np.ones((3, 4)))
    x.grad.zero_()  # the accumulated gradient is writable
    x.mean(1).sum().backward()
    close(x.grad, np.full((3, 4), 0.25))
    with F.no_grad():
        assert x.sum().grad_fn is None
    # float32 gradient stays float32; dtype= casts the gradient back
    h = ft(arr((2, 3), np.float32), rg=True)
    h.sum(dtype=F.float64).backward()
    assert h.grad.dtype == F.float32
    # create_graph gives a writable leaf gradient and a differentiable one
    w = ft(arr((2, 3)), rg=True)
    g, = grad((w * w).sum(), [w], create_graph=True)
    g.sum().backward()
    close(w.grad, np.full((2, 3), 2.0))
    u = ft(arr((2, 3)), rg=True)
    u.sum().backward(create_graph=True)
    u.grad.mul_(2)


def test_out_arguments():
    x = ft(np.array([[3.0, 1, 2], [0, 5, 4]]))
    v, i = F.zeros(2, dtype=F.float64), F.zeros(2, dtype=F.int64)
    r = F.max(x, 1, out=(v, i))
    assert r.values is v and r.indices is i
    close(v, [3.0, 5.0])
    close(i, np.array([0, 1]))
    o = F.zeros(3, dtype=F.float64)
    F.sum(x, 0, out=o)
    close(o, [3.0, 6.0, 6.0])
    o = F.zeros((), dtype=F.float64)
    F.median(x, out=o)
    assert o.item() == 2.0
    c = F.zeros((2, 3), dtype=F.float64)
    F.cumsum(x, 1, out=c)
    close(c, np.cumsum(npv(x), 1))
    with pytest.raises(TypeError, match="sort"):
        F.sort(x, out=v)


def test_numpy_style_aliases(torch):
    a = arr((2, 3))
    x, xt = ft(a), tt(torch, a)
    close(x.sum(axis=0), xt.sum(axis=0))
    close(x.mean(axis=1, keepdims=True), xt.mean(axis=1, keepdims=True))
    close(x.amax(axis=0), xt.amax(axis=0))
    close(F.std(x, axis=1), torch.std(xt, axis=1))
    close(x.max(axis=1).values, xt.max(axis=1).values)
    close(x.cumsum(axis=1), xt.cumsum(axis=1))
    with pytest.raises(TypeError):
        x.sum(0, axis=1)


def test_indices_do_not_require_grad():
    x = ft(arr((3, 4)), rg=True)
    for r in (x.max(1), x.sort(0), x.topk(2), x.cummax(1), x.median(0), x.mode(1), x.kthvalue(1, 0)):
        assert r.values.requires_grad
        assert not r.indices.requires_grad and r.indices.dtype == F.int64
    assert not x.argmax().requires_grad
    assert not x.all().requires_grad


# --------------------------------------------------------------------------- errors
def test_errors():
    x = ft(arr((2, 3)))
    with pytest.raises(IndexError, match=r"sum\(\): Dimension out of range \(expected to be in range of "
                                         r"\[-2, 1\], but got 5\)"):
        x.sum(5)
    for f in (lambda: x.mean(-3), lambda: x.max(2), lambda: x.amax((0, 4)), lambda: x.cumsum(3),
              lambda: x.sort(2), lambda: x.topk(1, 5), lambda: x.argmax(9), lambda: x.var(2),
              lambda: x.logsumexp(2), lambda: x.all(3), lambda: x.median(2), lambda: x.prod(7)):
        with pytest.raises(IndexError):
            f()
    with pytest.raises(RuntimeError, match="max"):
        ft(np.zeros(0)).max()
    with pytest.raises(IndexError, match="argmax"):
        ft(np.zeros(0)).argmax()
    with pytest.raises(IndexError, match="max"):
        ft(np.zeros((0, 3))).max(0)
    with pytest.raises(IndexError, match="amax"):
        ft(np.zeros((0, 3))).amax(0)
    with pytest.raises(RuntimeError, match="topk"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="topk"):
        x.topk(-1)
    with pytest.raises(RuntimeError, match="kthvalue"):
        x.kthvalue(0)
    with pytest.raises(RuntimeError, match="mean"):
        ft(np.arange(3)).mean()
    with pytest.raises(RuntimeError, match="nanmean"):
        ft(np.arange(3)).nanmean()
    with pytest.raises(RuntimeError, match="var"):
        ft(np.arange(3)).var()
    with pytest.raises(RuntimeError, match="quantile"):
        x.quantile(1.5)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, 0))
    with pytest.raises(TypeError, match="sum"):
        F.sum([1, 2])
    with pytest.raises(TypeError):
        x.sum(1.5)
    with pytest.raises(TypeError, match="prod"):
        x.prod((0, 1))
    with pytest.raises(TypeError, match="topk"):
        x.topk(1.5)
    with pytest.raises(TypeError, match="max"):
        F.max(np.ones(3))
    with pytest.raises(TypeError):
        x.cumsum(None)
    with pytest.raises(TypeError, match="norm"):
        R.norm(x, [1])


# --------------------------------------------------------------------------- property tests
@st.composite
def array_and_dims(draw, max_dims=4):
    nd = draw(st.integers(0, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    seed = draw(st.integers(0, 2 ** 16))
    a = np.random.default_rng(seed).standard_normal(shape)
    dims = draw(st.sets(st.integers(0, _pymax(nd - 1, 0)), max_size=nd)) if nd else set()
    neg = draw(st.booleans())
    dims = tuple(d - nd if neg else d for d in dims)
    keepdim = draw(st.booleans())
    return a, dims, keepdim


_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(array_and_dims())
def test_property_reductions_vs_numpy(case):
    a, dims, keepdim = case
    axis = tuple(sorted(d % a.ndim for d in dims)) if a.ndim and dims else None
    dim = dims if dims else None
    t = ft(a)
    np.testing.assert_allclose(npv(t.sum(dim, keepdim)), np.sum(a, axis=axis, keepdims=keepdim), 1e-12, 1e-12)
    np.testing.assert_allclose(npv(t.mean(dim, keepdim)), np.mean(a, axis=axis, keepdims=keepdim), 1e-12,
                               1e-12)
    np.testing.assert_allclose(npv(t.amax(dim if dim else (), keepdim)), np.amax(a, axis=axis,
                                                                                 keepdims=keepdim))
    np.testing.assert_allclose(npv(t.var(dim, keepdim=keepdim, correction=0)),
                               np.var(a, axis=axis, keepdims=keepdim), 1e-12, 1e-12)
    np.testing.assert_array_equal(npv(ft(np.asarray(a > 0.5)).any(dim, keepdim)), np.any(a > 0.5, axis=axis,
                                                                              keepdims=keepdim))
    np.testing.assert_array_equal(npv(ft(np.asarray(a > -1)).all(dim, keepdim)), np.all(a > -1, axis=axis,
                                                                             keepdims=keepdim))
    # the gradient of the sum of a reduction is the reduction's Jacobian row sum
    x = ft(a.copy(), rg=True)
    x.sum(dim, keepdim).sum().backward()
    np.testing.assert_array_equal(npv(x.grad), np.ones_like(a))


@_settings
@given(array_and_dims(max_dims=3), st.booleans())
def test_property_scans_and_sort_vs_numpy(case, desc):
    a, _, _ = case
    if a.ndim == 0:
        return
    for d in range(-a.ndim, a.ndim):
        t = ft(a)
        np.testing.assert_allclose(npv(t.cumsum(d)), np.cumsum(a, axis=d), 1e-12, 1e-12)
        np.testing.assert_allclose(npv(t.cumprod(d)), np.cumprod(a, axis=d), 1e-12, 1e-12)
        v, i = t.sort(d, descending=desc)
        exp = np.sort(a, axis=d)
        np.testing.assert_array_equal(npv(v), np.flip(exp, d) if desc else exp)
        np.testing.assert_array_equal(np.take_along_axis(a, npv(i), d), npv(v))
        m = t.max(d)
        np.testing.assert_array_equal(npv(m.values), a.max(d))
        np.testing.assert_array_equal(npv(m.indices), a.argmax(d))
        np.testing.assert_array_equal(npv(t.median(d).values), np.sort(a, axis=d).take(
            (a.shape[d] - 1) // 2, axis=d))


# --------------------------------------------------------------------------- dtype=, aliases, the face
@pytest.mark.parametrize("op", ["sum", "prod", "nansum"])
@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8", "int64", "bool", "float64", "float16"])
@pytest.mark.parametrize("src", ["float32", "int64", "bool"])
@pytest.mark.parametrize("dim", [None, 0])
def test_dtype_argument_is_the_result_dtype(torch, op, dtype, src, dim):
    # defect 11: dtype=int32 gave int64; narrow integer dtypes wrap as in torch
    vals = {"float32": [100.7, 100.2, -3.5, 2.9], "int64": [100, 100, 7, -3], "bool": [1, 0, 1, 1]}[src]

    def fn(T):
        x = T.tensor(vals, dtype=getattr(T, src))
        f = getattr(T, op)
        return f(x, dtype=getattr(T, dtype)) if dim is None else f(x, dim, dtype=getattr(T, dtype))
    parity(torch, fn, rtol=1e-3)


def test_nansum_skips_nan_before_an_integer_cast(torch):
    x = [[1.7, float("nan")], [2.6, 1.0]]
    parity(torch, lambda T: T.nansum(T.tensor(x), dtype=T.int32))
    parity(torch, lambda T: T.nansum(T.tensor(x), 0, dtype=T.int32))
    parity(torch, lambda T: T.nansum(T.tensor(x, dtype=T.float64), dtype=T.float32))


@pytest.mark.parametrize("op", ["nansum", "nanmean"])
def test_nan_reductions_refuse_complex(torch, op):
    parity(torch, lambda T: getattr(T, op)(T.tensor([1j, 2 + 0j])))
    parity(torch, lambda T: getattr(T, op)(T.tensor(1j), 1))  # the dim error comes first


def test_logsumexp_needs_dim(torch):
    parity(torch, lambda T: T.logsumexp(T.ones(2, 3)))
    parity(torch, lambda T: T.logsumexp(T.ones(2, 3), axis=1, keepdims=True))
    with pytest.raises(TypeError, match="logsumexp"):
        F.logsumexp(F.ones(2, 3))


def test_logsumexp_complex(torch):
    z = [[1 + 2j, -3 + 0.5j, 40 - 1j], [0j, 1j, -1j]]
    parity(torch, lambda T: T.logsumexp(T.tensor(z), 1), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda T, x: T.prod(x, axis=1, keepdims=True), lambda T, x: T.nansum(x, axis=0),
    lambda T, x: T.nanmean(x, axis=1, keepdims=True), lambda T, x: tuple(T.max(x, axis=1)),
    lambda T, x: T.amin(x, axis=0, keepdims=True), lambda T, x: tuple(T.aminmax(x, axis=1)),
    lambda T, x: T.argmax(x, axis=1), lambda T, x: T.var(x, axis=1), lambda T, x: T.std(x, axis=0),
    lambda T, x: tuple(T.var_mean(x, axis=0)), lambda T, x: tuple(T.std_mean(x, axis=1, keepdims=True)),
    lambda T, x: T.all(x, axis=0), lambda T, x: T.any(x, axis=1, keepdims=True),
    lambda T, x: T.count_nonzero(x, axis=0), lambda T, x: tuple(T.sort(x, axis=0)),
    lambda T, x: T.argsort(x, axis=0), lambda T, x: tuple(T.topk(x, 1, axis=0)),
    lambda T, x: tuple(T.kthvalue(x, 1, axis=0, keepdims=True)), lambda T, x: tuple(T.median(x, axis=0)),
    lambda T, x: tuple(T.nanmedian(x, axis=1)), lambda T, x: tuple(T.mode(x, axis=0)),
    lambda T, x: T.quantile(x, 0.5, axis=0), lambda T, x: T.nanquantile(x, 0.5, axis=1, keepdims=True),
    lambda T, x: T.cumsum(x, axis=1), lambda T, x: T.cumprod(x, axis=0),
    lambda T, x: tuple(T.cummin(x, axis=1)),
    lambda T, x: T.logcumsumexp(x, axis=0), lambda T, x: x.sum(axis=1), lambda T, x: x.mean(axis=(0, 1)),
])
def test_numpy_spellings_everywhere(torch, call):
    """torch accepts axis=/keepdims= wherever an op takes dim/keepdim; so does every ferrum op,
    through explicit keywords."""
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    parity(torch, lambda T: call(T, T.tensor(a)))


def test_the_face_reexports_the_split_modules():
    from ferrum.ops import minmax, scan, sort
    for mod in (minmax, scan, sort):
        for name in mod.__all__:
            assert getattr(R, name) is getattr(mod, name) is getattr(F, name)
            assert name in R.__all__
    assert R._vector_norm_data is not None  # imported by ferrum.linalg


@pytest.mark.parametrize("dim", [None, 0, -1, (0,), (-1,)])
@pytest.mark.parametrize("p", [1, 2, 3, 0, math.inf])
def test_vector_norm_of_0d(torch, dim, p):
    # defect 23: linalg.vector_norm(0-d, 3, dim=-1) raised a bare IndexError from the shared
    # forward (_vector_norm_data, here)
    parity(torch, lambda T: T.linalg.vector_norm(T.tensor(-2.0, dtype=T.float64), p, dim=dim))
    parity(torch, lambda T: T.norm(T.tensor(-2.0, dtype=T.float64), p, dim=dim))

    def grad(T):
        x = T.tensor(-2.0, dtype=T.float64, requires_grad=True)
        T.norm(x, p, dim=dim).backward()
        return 0.0 if x.grad is None else x.grad.item()  # torch leaves None for p = 0, ferrum zeros
    assert grad(F) == grad(torch)


_EDGE_GRAD_OPS = {
    "sum": lambda T, x: T.sum(x), "sum_dim": lambda T, x: T.sum(x, -1, True),
    "mean": lambda T, x: T.mean(x), "mean_dim": lambda T, x: T.mean(x, 0),
    "prod": lambda T, x: T.prod(x, 0), "nansum": lambda T, x: T.nansum(x),
    "amax": lambda T, x: T.amax(x, -1, True), "min_dim": lambda T, x: T.min(x, -1, True).values,
    "var": lambda T, x: T.var(x, 0), "norm": lambda T, x: T.norm(x, 3, -1),
    "logsumexp": lambda T, x: T.logsumexp(x, 0), "cumsum": lambda T, x: T.cumsum(x, -1),
    "cumprod": lambda T, x: T.cumprod(x, 0), "cummax": lambda T, x: T.cummax(x, -1).values,
    "logcumsumexp": lambda T, x: T.logcumsumexp(x, 0), "sort": lambda T, x: T.sort(x, 0).values,
    "topk": lambda T, x: T.topk(x, min(x.shape[:1] or (1,)), 0).values,  # k = 0 on a 0-size dim
    "median": lambda T, x: T.median(x), "nanmedian_dim": lambda T, x: T.nanmedian(x, -1, True).values,
    "kthvalue": lambda T, x: T.kthvalue(x, 1, 0).values, "mode": lambda T, x: T.mode(x, 0).values,
}


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
@pytest.mark.parametrize("name", sorted(_EDGE_GRAD_OPS))
@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (3, 0), (1, 0)])
def test_grads_of_empty_and_0d_vs_torch(torch, name, shape):
    """First and second order gradients (create_graph) of 0-size and 0-d inputs, against torch
    (the backward formulas now run through the real reshape/expand/scatter ops)."""
    fn = _EDGE_GRAD_OPS[name]

    def grads(T):
        x = T.ones(shape, dtype=T.float64, requires_grad=True)
        y = fn(T, x)
        g, = T.autograd.grad((y * 2.0).sum(), [x], create_graph=True)
        if not g.requires_grad:
            return (g,)
        return g.detach(), T.autograd.grad(g.sum(), [x], allow_unused=True)[0]
    try:
        want = grads(torch)
    except (RuntimeError, IndexError) as e:
        with pytest.raises(type(e)):
            grads(F)
        return
    got = grads(F)
    for w, g in zip(want, got):
        if w is None or g is None:  # torch may leave an unused second-order gradient undefined
            continue
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.numpy())


def test_node_names_match_torch(torch):
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    for fn in (lambda x: x.sum(), lambda x: x.sum(1), lambda x: x.mean(), lambda x: x.mean(0),
               lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.nansum(), lambda x: x.var(1),
               lambda x: x.std(), lambda x: x.norm(), lambda x: x.norm(1, 1), lambda x: x.logsumexp(1)):
        want = fn(torch.tensor(a, requires_grad=True)).grad_fn.name()
        assert fn(F.tensor(a, requires_grad=True)).grad_fn.name() == want
