"""Tests of ferrum.ops.search (searchsorted, bucketize, bincount, histc, histogram, histogramdd,
isin) against torch: a grid of dtypes, shapes (0-d, 0-size, N-D sorted sequences), options and
scalars; output dtypes; error types; which outputs require grad and that their backward raises."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

NAN = float("nan")
FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("int64", "int32", "int16", "int8", "uint8")


def _plain(r):
    if isinstance(r, (tuple, list)):
        return tuple(_plain(x) for x in r)
    if not hasattr(r, "detach"):
        return r
    dt = str(r.dtype).split(".")[-1]
    rg = r.requires_grad
    r = r.detach()
    v = r.double().numpy() if dt != "bool" else r.numpy()
    return ("T", dt, tuple(r.shape), rg, np.asarray(v))


def _same(want, got, rtol, path="result"):
    if isinstance(want, tuple) and (not want or want[0] != "T"):
        assert isinstance(got, tuple) and len(got) == len(want), f"{path}: {got!r} vs torch {want!r}"
        for i, (a, b) in enumerate(zip(want, got)):
            _same(a, b, rtol, f"{path}[{i}]")
        return
    if not isinstance(want, tuple):
        assert want == got, f"{path}: {got!r} vs torch {want!r}"
        return
    assert got[:4] == want[:4], f"{path}: (dtype, shape, requires_grad) {got[1:4]} vs torch {want[1:4]}"
    np.testing.assert_allclose(got[4], want[4], rtol=rtol, atol=rtol, equal_nan=True, err_msg=path)


def parity(torch, fn, rtol=1e-6):
    """``fn(T)`` raises the same exception type (RuntimeError and NotImplementedError count as one,
    as torch's NotImplementedError is a RuntimeError) or gives the same structure, dtypes, shapes,
    requires_grad flags and values under torch and ferrum."""
    try:
        want = fn(torch)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(Exception) as info:
            fn(ferrum)
        kinds = {type(e), type(info.value)}
        assert type(info.value) is type(e) or kinds <= {RuntimeError, NotImplementedError}, (
            f"torch raised {type(e).__name__} ({e}), ferrum {type(info.value).__name__} ({info.value})")
        return None
    got = fn(ferrum)
    _same(_plain(want), _plain(got), rtol)
    return got


def _t(T, a, dtype, requires_grad=False):
    t = T.tensor(np.asarray(a)).to(getattr(T, dtype))
    return t.requires_grad_() if requires_grad else t


RNG = np.random.default_rng(17)
SEQ1 = np.sort(RNG.integers(0, 12, 9)).astype(np.float64)  # sorted in every dtype, uint8 included
SEQ_ND = np.sort(RNG.integers(0, 12, (2, 3, 6)), axis=-1).astype(np.float64)
VALS = RNG.integers(-5, 11, (4, 5)).astype(np.float64)
VALS_ND = RNG.integers(-5, 11, (2, 3, 4)).astype(np.float64)
# past 32 rows of few values ferrum bisects all rows at once instead of one np.searchsorted per row
SEQ_MANY = np.sort(RNG.integers(0, 12, (5, 10, 7)), axis=-1).astype(np.float64)
VALS_MANY = RNG.integers(-2, 14, (5, 10, 3)).astype(np.float64)


# --------------------------------------------------------------------------- searchsorted / bucketize
@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("side", [dict(), dict(right=True), dict(side="right"), dict(side="left"),
                                  dict(right=True, side="right"), dict(out_int32=True)])
@pytest.mark.parametrize("case", ["1d", "nd", "many_rows", "scalar_int", "scalar_float", "0d_value",
                                  "empty_seq", "empty_values", "strided"])
def test_searchsorted_grid(torch, dtype, side, case):
    def fn(T):
        seq, vals = _t(T, SEQ1, dtype), _t(T, VALS, dtype)
        if case == "nd":
            seq, vals = _t(T, SEQ_ND, dtype), _t(T, VALS_ND, dtype)
        elif case == "many_rows":
            seq, vals = _t(T, SEQ_MANY, dtype), _t(T, VALS_MANY, dtype)
        elif case == "scalar_int":
            vals = 4
        elif case == "scalar_float":
            vals = 2.5
        elif case == "0d_value":
            vals = _t(T, 3.0, dtype)
        elif case == "empty_seq":
            seq = _t(T, SEQ_ND[..., :0], dtype)
            vals = _t(T, VALS_ND, dtype)
        elif case == "empty_values":
            vals = _t(T, VALS[:0], dtype)
        elif case == "strided":
            seq = _t(T, np.repeat(SEQ_ND, 2, -1), dtype)[..., ::2]
            vals = _t(T, VALS_ND, dtype).transpose(0, 1).contiguous().transpose(0, 1)
        return T.searchsorted(seq, vals, **side)
    parity(torch, fn)


@pytest.mark.parametrize("seq_dt,val_dt", [("float32", "int64"), ("int64", "float64"), ("uint8", "int64"),
                                           ("int8", "float32"), ("float16", "float64"), ("float32", "bool"),
                                           ("bool", "bool"), ("int64", "bool")])
def test_searchsorted_promotes(torch, seq_dt, val_dt):
    vals = np.array([-300.0, -1.0, 0.0, 1.0, 2.5, 7.0, 300.5])
    if val_dt == "bool":
        vals = np.array([True, False])
    def seq(T):
        return _t(T, SEQ1, seq_dt) if seq_dt != "bool" else T.tensor([False, True])
    parity(torch, lambda T: T.searchsorted(seq(T), _t(T, vals, val_dt)))
    parity(torch, lambda T: T.searchsorted(_t(T, [1, 2, 3], seq_dt), 2.5))


def test_searchsorted_nan_values_go_last(torch):
    parity(torch, lambda T: T.searchsorted(T.tensor([1.0, 2.0, 3.0]), T.tensor([NAN, float("inf"), -NAN])))
    parity(torch, lambda T: T.searchsorted(T.tensor([[1.0, 2.0], [0.0, 5.0]]), T.tensor([[NAN], [1.0]])))


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("rows", [(), (3,), (40,)])
def test_searchsorted_nan_sorted_last_in_sequence(torch, right, rows):
    seq = np.sort(RNG.uniform(0, 10, rows + (9,)), axis=-1)
    seq[..., -3:] = NAN  # where torch.sort puts NaN
    vals = np.concatenate([RNG.uniform(-1, 11, rows + (6,)), np.full(rows + (1,), NAN)], axis=-1)
    for dtype in ("float32", "float64"):
        parity(torch, lambda T, d=dtype: T.searchsorted(_t(T, seq, d), _t(T, vals, d), right=right))


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_sorter(torch, side):
    perm = RNG.permutation(SEQ_ND.shape[-1])
    uns = SEQ_ND[..., perm]

    def fn(T):
        s = T.tensor(uns)
        return T.searchsorted(s, T.tensor(VALS_ND), side=side, sorter=T.argsort(s, stable=True))
    parity(torch, fn)
    parity(torch, lambda T: T.searchsorted(T.tensor(uns[0, 0]), 3.0, sorter=T.argsort(T.tensor(uns[0, 0]))))


def test_searchsorted_out(torch):
    def fn(T):
        o = T.empty(0, dtype=T.int64)
        r = T.searchsorted(T.tensor(SEQ1), T.tensor(VALS), out=o)
        assert r is o
        return o
    parity(torch, fn)


@pytest.mark.parametrize("bad", [
    lambda T: T.searchsorted(T.tensor(SEQ1), T.tensor(VALS), right=True, side="left"),
    lambda T: T.searchsorted(T.tensor(SEQ1), T.tensor(VALS), side="middle"),
    lambda T: T.searchsorted(T.rand(2, 3), T.rand(3, 3)),
    lambda T: T.searchsorted(T.rand(2, 3), T.rand(4)),
    lambda T: T.searchsorted(T.rand(2, 3), 2.0),
    lambda T: T.searchsorted(T.rand(2, 3), T.tensor(2.0)),
    lambda T: T.searchsorted(T.tensor(1.0), T.rand(3)),
    lambda T: T.searchsorted(T.tensor([1.0, 2.0]), T.rand(3), sorter=T.tensor([0, 1], dtype=T.int32)),
    lambda T: T.searchsorted(T.tensor([1.0, 2.0]), T.rand(3), sorter=T.tensor([0, 2])),
    lambda T: T.searchsorted(T.tensor([1.0, 2.0]), T.rand(3), sorter=T.tensor([0])),
    lambda T: T.searchsorted(T.tensor([True, False]), T.tensor([True])),
    lambda T: T.searchsorted(T.tensor([1 + 0j]), T.tensor([1 + 0j])),
    lambda T: T.searchsorted([1.0, 2.0], T.rand(3)),
    lambda T: T.searchsorted(T.tensor([1.0, 2.0]), "a"),
    lambda T: T.bucketize(T.rand(3), T.rand(2, 2)),
    lambda T: T.bucketize(T.rand(3), T.tensor(1.0)),
])
def test_searchsorted_errors(torch, bad):
    parity(torch, bad)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("kw", [dict(), dict(right=True), dict(out_int32=True)])
@pytest.mark.parametrize("shape", [(), (0,), (4, 5)])
def test_bucketize_grid(torch, dtype, kw, shape):
    vals = VALS[:shape[0]] if len(shape) else np.array(3.0)
    parity(torch, lambda T: T.bucketize(_t(T, vals, dtype), _t(T, SEQ1, dtype), **kw))
    parity(torch, lambda T: T.bucketize(3, _t(T, SEQ1, dtype), **kw))
    parity(torch, lambda T: T.bucketize(-2.5, _t(T, SEQ1, dtype), **kw))


def test_search_outputs_never_require_grad(torch):
    parity(torch, lambda T: T.searchsorted(T.tensor(SEQ1, requires_grad=True),
                                           T.tensor(VALS, requires_grad=True)))
    parity(torch, lambda T: T.bucketize(T.tensor(VALS, requires_grad=True), T.tensor(SEQ1)))


# --------------------------------------------------------------------------- bincount
@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("minlength", [0, 3, 12])
@pytest.mark.parametrize("weights", [None] + list(FLOATS) + ["int64", "bool"])
def test_bincount_grid(torch, dtype, minlength, weights):
    idx = RNG.integers(0, 8, 15)
    w = RNG.uniform(0, 2, 15)

    def fn(T):
        wt = None if weights is None else _t(T, w, weights)
        return T.bincount(_t(T, idx, dtype), wt, minlength)
    parity(torch, fn, rtol=1e-2 if weights in ("float16", "bfloat16") else 1e-6)
    parity(torch, lambda T: _t(T, idx, dtype).bincount(minlength=minlength))


@pytest.mark.parametrize("weights", [None, "float32", "float64"])
def test_bincount_empty(torch, weights):
    for minlength in (0, 4):
        parity(torch, lambda T, m=minlength: T.bincount(
            T.tensor([], dtype=T.int64), None if weights is None else T.tensor([], dtype=getattr(T, weights)),
            m))


@pytest.mark.parametrize("bad", [
    lambda T: T.bincount(T.tensor([1, -1])),
    lambda T: T.bincount(T.tensor([[1, 2]])),
    lambda T: T.bincount(T.tensor(3)),
    lambda T: T.bincount(T.tensor([1.0, 2.0])),
    lambda T: T.bincount(T.tensor([True, False])),
    lambda T: T.bincount(T.tensor([1, 2]), minlength=-1),
    lambda T: T.bincount(T.tensor([1, 2]), minlength=2.0),
    lambda T: T.bincount(T.tensor([1, 2]), T.tensor([1.0])),
    lambda T: T.bincount(T.tensor([1, 2]), T.tensor([[1.0, 2.0]])),
    lambda T: T.bincount([1, 2]),
])
def test_bincount_errors(torch, bad):
    parity(torch, bad)


def test_bincount_weights_gradient_is_not_implemented(torch):
    for T in (torch, ferrum):
        w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        r = T.bincount(T.tensor([0, 2, 2]), w)
        assert r.requires_grad
        with pytest.raises(RuntimeError, match="not implemented"):
            r.sum().backward()
    parity(torch, lambda T: T.bincount(T.tensor([0, 2, 2]), T.tensor([1.0, 2.0, 3.0], requires_grad=True)))


# --------------------------------------------------------------------------- histc
X2 = np.round(RNG.normal(size=(3, 30)) * 64) / 64  # exact in every float dtype


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("args", [dict(), dict(bins=7), dict(bins=4, min=-1, max=1),
                                  dict(bins=5, min=0.5, max=0.5), dict(bins=3, min=-0.25, max=3.0),
                                  dict(bins=1)])
@pytest.mark.parametrize("shape", ["2d", "0d", "empty", "constant", "strided"])
def test_histc_grid(torch, dtype, args, shape):
    def fn(T):
        x = _t(T, X2, dtype)
        if shape == "0d":
            x = x[0, 0]
        elif shape == "empty":
            x = x[:0]
        elif shape == "constant":
            x = T.full((4,), 2.0, dtype=getattr(T, dtype))
        elif shape == "strided":
            x = x[:, ::3]
        return T.histc(x, **args)
    parity(torch, fn)


def test_histc_edges_nan_and_method(torch):
    # elements on the edges: the last bin is closed; NaN and out-of-range elements are dropped
    parity(torch, lambda T: T.histc(T.tensor([0.0, 1.0, 2.0, 3.0, 4.0, NAN, -1.0, 5.0]), bins=4, min=0,
                                    max=4))
    parity(torch, lambda T: T.tensor([0.0, 0.25, 1.0]).histc(bins=4))
    parity(torch, lambda T: T.histc(T.tensor([0.1, 0.2, 0.3], requires_grad=True), bins=3))


@pytest.mark.parametrize("bad", [
    lambda T: T.histc(T.tensor([1, 2])),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=0),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=-2),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=2.5),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=2, min=3, max=1),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=2, min=1),
    lambda T: T.histc(T.tensor([1.0, float("inf")]), bins=2),
    lambda T: T.histc(T.tensor([1.0, NAN]), bins=2),
    lambda T: T.histc(T.tensor([1.0, 2.0]), bins=2, min=NAN, max=3),
])
def test_histc_errors(torch, bad):
    parity(torch, bad)


# --------------------------------------------------------------------------- histogram(dd)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bins", [1, 5, "edges"])
@pytest.mark.parametrize("kw", [dict(), dict(range=(-1.0, 1.5)), dict(range=(0.5, 0.5)), dict(density=True),
                                dict(weight=True), dict(weight=True, density=True)])
@pytest.mark.parametrize("shape", ["2d", "0d", "empty"])
def test_histogram_grid(torch, dtype, bins, kw, shape):
    if bins == "edges" and "range" in kw:
        return

    def fn(T):
        x = _t(T, X2, dtype)
        if shape == "0d":
            x = x[1, 1]
        elif shape == "empty":
            x = x[:, :0]
        b = _t(T, [-1.5, -0.25, 0.0, 0.75, 2.0], dtype) if bins == "edges" else bins
        opts = dict(kw)
        if opts.get("weight"):
            opts["weight"] = x.abs() + 0.5
        return tuple(T.histogram(x, b, **opts))
    parity(torch, fn, rtol=1e-5)


def test_histogram_named_tuple_method_and_grad(torch):
    x = np.array([0.0, 0.5, 1.0, 1.0, 2.0])
    for T in (torch, ferrum):
        r = T.tensor(x).histogram(4)
        assert type(r).__name__ == "histogram" and r[0] is r.hist and r[1] is r.bin_edges
        w = T.tensor(x, requires_grad=True)
        h = T.histogram(T.tensor(x), 3, weight=w)
        assert h.hist.requires_grad and h.bin_edges.requires_grad
        with pytest.raises(RuntimeError, match="not implemented"):
            h.hist.sum().backward()
    parity(torch, lambda T: tuple(T.histogram(T.tensor(x, requires_grad=True), 3)))


@pytest.mark.parametrize("bad", [
    lambda T: T.histogram(T.tensor([1, 2]), 3),
    lambda T: T.histogram(T.tensor([1.0, 2.0]).half(), 3),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 0),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 3.0),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([1.0])),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([[0.0, 1.0]])),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([0, 1])),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([0.0, 3.0], dtype=T.float64)),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, range=(2.0, 1.0)),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, range=(0.0, float("inf"))),
    lambda T: T.histogram(T.tensor([1.0, NAN]), 3),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, weight=T.tensor([1.0])),
    lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, weight=T.tensor([1.0, 2.0], dtype=T.float64)),
])
def test_histogram_errors(torch, bad):
    parity(torch, bad)


PTS = np.round(RNG.uniform(-1, 1, (4, 6, 3)) * 64) / 64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bins", [3, [2, 3, 1], "edges"])
@pytest.mark.parametrize("kw", [dict(), dict(range=[-1.0, 1.0, -0.5, 0.5, 0.0, 2.0]), dict(density=True),
                                dict(weight=True), dict(weight=True, density=True)])
@pytest.mark.parametrize("shape", [(4, 6, 3), (10, 3), (0, 3)])
def test_histogramdd_grid(torch, dtype, bins, kw, shape):
    if bins == "edges" and "range" in kw:
        return

    def fn(T):
        x = _t(T, PTS.reshape(-1, 3)[:int(np.prod(shape[:-1]))].reshape(shape), dtype)
        b = bins
        if bins == "edges":
            b = [_t(T, e, dtype) for e in ([-1.0, 0.0, 1.0], [-0.5, 0.25, 0.5, 1.0], [-2.0, 2.0])]
        opts = dict(kw)
        if opts.get("weight"):
            opts["weight"] = x.sum(-1).abs() + 0.5
        r = T.histogramdd(x, b, **opts)
        assert isinstance(r.bin_edges, tuple)
        return r.hist, tuple(r.bin_edges)
    parity(torch, fn, rtol=1e-5)


@pytest.mark.parametrize("bad", [
    lambda T: T.histogramdd(T.rand(5), 3),
    lambda T: T.histogramdd(T.rand(5, 2), [3]),
    lambda T: T.histogramdd(T.rand(5, 2), 3, range=[0.0, 1.0]),
    lambda T: T.histogramdd(T.rand(3, 5, 2), 2, weight=T.rand(15)),
    lambda T: T.histogramdd(T.rand(5, 2).double(), 2, weight=T.rand(5)),
    lambda T: T.histogramdd(T.rand(5, 2, dtype=T.float16), 2),
])
def test_histogramdd_errors(torch, bad):
    parity(torch, bad)


def test_histogramdd_zero_dims(torch):
    r = ferrum.histogramdd(ferrum.rand(5, 0), 2)
    t = torch.histogramdd(torch.rand(5, 0), 2)
    assert r.bin_edges == () == t.bin_edges and tuple(r.hist.shape) == tuple(t.hist.shape) == ()


# --------------------------------------------------------------------------- isin
@pytest.mark.parametrize("dt_a", FLOATS + INTS)
@pytest.mark.parametrize("dt_b", ["float32", "int64", "uint8", "float16", "bfloat16"])
@pytest.mark.parametrize("kw", [dict(), dict(invert=True), dict(assume_unique=True)])
def test_isin_grid(torch, dt_a, dt_b, kw):
    a = RNG.integers(0, 7, (3, 4)).astype(np.float64)
    b = np.array([2.0, 5.0, 6.0, 300.0])
    parity(torch, lambda T: T.isin(_t(T, a, dt_a), _t(T, b, dt_b), **kw))
    parity(torch, lambda T: T.isin(_t(T, a[:0], dt_a), _t(T, b, dt_b), **kw))
    parity(torch, lambda T: T.isin(_t(T, a, dt_a), _t(T, b[:0], dt_b), **kw))
    parity(torch, lambda T: T.isin(_t(T, 5.0, dt_a), _t(T, b.reshape(2, 2), dt_b), **kw))


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("scalar", [2, 2.0, 2.5, 257, -254])
def test_isin_scalars(torch, dtype, scalar):
    a = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, 1.0]])
    parity(torch, lambda T: T.isin(_t(T, a, dtype), scalar))
    parity(torch, lambda T: T.isin(_t(T, a, dtype), scalar, invert=True))
    parity(torch, lambda T: T.isin(scalar, _t(T, a, dtype)))


def test_isin_nan_and_grad(torch):
    parity(torch, lambda T: T.isin(T.tensor([NAN, 1.0, -0.0]), T.tensor([NAN, 1.0, 0.0])))
    parity(torch, lambda T: T.isin(T.tensor([1.0, 2.0], requires_grad=True), T.tensor([1.0])))


@pytest.mark.parametrize("bad", [
    lambda T: T.isin(2, 3),
    lambda T: T.isin(T.tensor([True]), T.tensor([True])),
    lambda T: T.isin(T.tensor([1]), T.tensor([True])),
    lambda T: T.isin(T.tensor([1]), True),
    lambda T: T.isin(True, T.tensor([1])),
    lambda T: T.isin(T.tensor([1 + 1j]), T.tensor([1 + 1j])),
])
def test_isin_errors(torch, bad):
    parity(torch, bad)


def test_out_arguments(torch):
    x = np.array([0.0, 1.0, 2.0, 2.5])

    def fn(T):
        x32 = T.tensor(x, dtype=T.float32)
        outs = (T.empty(0), T.empty(0), T.empty(0), T.empty(0, dtype=T.bool), T.empty(0, dtype=T.int64))
        assert T.histc(x32, 3, out=outs[0]) is outs[0]
        assert T.histogram(x32, 3, out=(outs[1], outs[2])).hist is outs[1]
        assert T.isin(T.tensor(x), T.tensor([1.0]), out=outs[3]) is outs[3]
        assert T.bucketize(T.tensor(x), T.tensor([1.0, 2.0]), out=outs[4]) is outs[4]
        return outs
    parity(torch, fn)
    # the out tensor must have the result's dtype
    parity(torch, lambda T: T.histc(T.tensor(x), 3, out=T.empty(0)))
    parity(torch, lambda T: T.histogram(T.tensor(x), 3, out=(T.empty(0, dtype=T.float64), T.empty(0))))
    parity(torch, lambda T: T.isin(T.tensor(x), T.tensor(x), out=T.empty(0, dtype=T.int64)))
    parity(torch, lambda T: T.bucketize(T.tensor(x), T.tensor(x), out=T.empty(0, dtype=T.int32)))
    parity(torch, lambda T: T.searchsorted(T.tensor(x), T.tensor(x), out_int32=True, out=T.empty(0)))
