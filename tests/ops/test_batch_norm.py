"""ops/batch_norm.py: batch_norm and instance_norm against torch over a grid of options (outputs,
running statistics, every gradient), the fused node's centred path, create_graph, version checks
and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import batch_norm as B

SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 5), (2, 3, 2, 3, 2)]


def _pair(T, a, grad=False, dtype=None):
    t = T.tensor(a, dtype=dtype or (T.float64 if a.dtype == np.float64 else T.float32))
    return t.requires_grad_(grad) if grad else t


def _run_bn(T, x, rm, rv, w, b, g, training, momentum, dtype):
    xt = _pair(T, x, True, dtype)
    wt = None if w is None else _pair(T, w, True, dtype)
    bt = None if b is None else _pair(T, b, True, dtype)
    rmt = None if rm is None else _pair(T, rm, dtype=dtype)
    rvt = None if rv is None else _pair(T, rv, dtype=dtype)
    y = T.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, training=training, momentum=momentum, eps=1e-4)
    ins = [t for t in (xt, wt, bt) if t is not None]
    grads = T.autograd.grad(y, ins, _pair(T, g, dtype=dtype))
    out = [y.detach()] + list(grads) + [t for t in (rmt, rvt) if t is not None]
    return [o.double().numpy() for o in out]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training,stats", [(True, True), (True, False), (False, True)])  # eval needs stats
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch(torch, dtype, shape, training, affine, stats):
    rng = np.random.default_rng(1)
    c = shape[1]
    x = rng.standard_normal(shape) * 1.5 + 0.5
    g = rng.standard_normal(shape)
    w = rng.uniform(0.5, 1.5, c) if affine else None
    b = rng.standard_normal(c) if affine else None
    rm = rng.standard_normal(c) if stats else None
    rv = rng.uniform(0.5, 2, c) if stats else None
    ref = _run_bn(torch, x, rm, rv, w, b, g, training, 0.3, getattr(torch, dtype))
    got = _run_bn(ferrum, x, rm, rv, w, b, g, training, 0.3, getattr(ferrum, dtype))
    tol = 1e-5 if dtype == "float32" else 1e-11
    assert len(got) == len(ref)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_reduced_precision_matches_torch(torch, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 5))
    g = rng.standard_normal((4, 3, 5))
    ref = _run_bn(torch, x, np.zeros(3), np.ones(3), np.ones(3), np.zeros(3), g, True, 0.1,
                  getattr(torch, dtype))
    got = _run_bn(ferrum, x, np.zeros(3), np.ones(3), np.ones(3), np.zeros(3), g, True, 0.1,
                  getattr(ferrum, dtype))
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(3, 2, 4), (4, 2)])
def test_gradcheck_and_gradgradcheck(training, affine, shape):
    rng = np.random.default_rng(3)
    c = shape[1]
    x = ferrum.tensor(rng.standard_normal(shape), requires_grad=True)
    w = ferrum.tensor(rng.uniform(0.5, 1.5, c), requires_grad=True)
    b = ferrum.tensor(rng.standard_normal(c), requires_grad=True)
    rm0, rv0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)

    def f(*a):
        rm, rv = ferrum.tensor(rm0), ferrum.tensor(rv0)
        return B.batch_norm(a[0], rm, rv, *(a[1:] if affine else ()), training=training)

    ins = (x, w, b) if affine else (x,)
    assert gradcheck(f, ins)
    assert gradgradcheck(f, ins)


@pytest.mark.parametrize("training", [True, False])
def test_double_backward_matches_torch(torch, training):
    rng = np.random.default_rng(4)
    x, g, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5)), rng.uniform(0.5, 1.5, 3), \
        rng.standard_normal(3)
    res = []
    for T in (torch, ferrum):
        xt, wt, bt = (T.tensor(a, requires_grad=True) for a in (x, w, b))
        y = T.nn.functional.batch_norm(xt, T.zeros(3, dtype=T.float64), T.ones(3, dtype=T.float64), wt, bt,
                                       training=training)
        gx, gw = T.autograd.grad(y, (xt, wt), T.tensor(g), create_graph=True)
        loss = (gx * gx).sum() + (gw * gw).sum()
        res.append([r.numpy() for r in T.autograd.grad(loss, (xt, wt))])
    for a, r in zip(*res):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-10)


def test_large_offset_uses_centred_statistics(torch):
    # mean^2 >> var: E[x^2] - E[x]^2 would cancel in float32; the centred path keeps torch's accuracy
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((8, 3, 10)) * 0.01 + 1000).astype(np.float32)
    g = rng.standard_normal((8, 3, 10)).astype(np.float32)
    ref = _run_bn(torch, x.astype(np.float64), None, None, None, None, g.astype(np.float64), True, 0.1,
                  torch.float64)
    got = _run_bn(ferrum, x, None, None, None, None, g, True, 0.1, ferrum.float32)
    np.testing.assert_allclose(got[0], ref[0], atol=1e-4)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-3, atol=1e-2)


def test_two_thread_split_matches_single_block(torch):
    # above _PAR_MIN elements the batch is split over two threads: the same values as torch
    rng = np.random.default_rng(6)
    shape = (4, 2, 512, 520)
    assert np.prod(shape) >= B._PAR_MIN
    x = rng.standard_normal(shape, dtype=np.float32)
    g = rng.standard_normal(shape, dtype=np.float32)
    ref = _run_bn(torch, x, np.zeros(2), np.ones(2), np.ones(2), np.zeros(2), g, True, 0.1, torch.float32)
    got = _run_bn(ferrum, x, np.zeros(2), np.ones(2), np.ones(2), np.zeros(2), g, True, 0.1, ferrum.float32)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=2e-4, atol=2e-4)


def test_gradient_is_not_a_view_and_node_name():
    x = ferrum.randn(4, 3, 2, 2, requires_grad=True)
    y = B.batch_norm(x, None, None, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    y.sum().backward()
    assert x.grad._data.base is None and x.grad.shape == x.shape


def test_input_modified_after_forward_raises():
    x = ferrum.randn(4, 3, requires_grad=True)
    h = x * 1
    y = B.batch_norm(h, None, None, training=True)
    with ferrum.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_running_stats_updated_in_place_with_unbiased_variance():
    x = ferrum.tensor([[1.0, 2.0], [3.0, 6.0]])
    rm, rv = ferrum.zeros(2), ferrum.ones(2)
    v = rm._version[0]
    B.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm._version[0] == v + 1
    np.testing.assert_allclose(rm.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(rv.numpy(), [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])


def _call(T, fn, *a, **k):
    try:
        fn(T)(*a, **k)
    except Exception as e:  # noqa: BLE001 - the type is compared with torch's
        return type(e)
    return None


@pytest.mark.parametrize("case", [
    lambda T: (T.randn(1, 3), T.zeros(3), T.ones(3), None, None, True),
    lambda T: (T.randn(1, 3, 1, 1), None, None, None, None, True),
    lambda T: (T.randn(2, 3, 4), T.zeros(4), T.ones(3), None, None, True),
    lambda T: (T.randn(2, 3, 4), T.zeros(3), T.ones(3), T.ones(2), None, False),
    lambda T: (T.randn(2, 3, 4), T.zeros(3), T.ones(3), None, T.ones(5), True),
    lambda T: (T.randn(2, 3, 4), None, None, None, None, False),
    lambda T: (T.randn(2, 3, 4).double(), T.zeros(3), T.ones(3), None, None, True),
    lambda T: (T.ones(2, 3, 4, dtype=T.int64), T.zeros(3), T.ones(3), None, None, True),
])
def test_errors_match_torch(torch, case):
    types = []
    for T in (torch, ferrum):
        x, rm, rv, w, b, training = case(T)
        types.append(_call(T, lambda T: T.nn.functional.batch_norm, x, rm, rv, w, b, training))
    assert types[0] is not None and types[0] is types[1]


def test_failed_call_leaves_running_stats_alone():
    rm, rv = ferrum.zeros(3), ferrum.ones(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        B.batch_norm(ferrum.randn(1, 3), rm, rv, training=True)
    with pytest.raises(RuntimeError):
        B.batch_norm(ferrum.randn(4, 3), rm, rv, ferrum.ones(2), training=True)
    assert rm.tolist() == [0.0] * 3 and rv.tolist() == [1.0] * 3 and rm._version[0] == 0


def test_momentum_none_is_a_type_error(torch):
    for T in (torch, ferrum):
        with pytest.raises(TypeError):
            T.nn.functional.batch_norm(T.randn(4, 3), T.zeros(3), T.ones(3), training=True, momentum=None)


def test_empty_input(torch):
    for shape in ((0, 3, 4), (2, 3, 0)):
        rm, rv = ferrum.zeros(3), ferrum.ones(3)
        y = B.batch_norm(ferrum.randn(*shape), rm, rv, training=True)
        assert y.shape == shape and rm.tolist() == [0.0] * 3


# --------------------------------------------------------------------------- instance_norm
def _run_in(T, x, rm, rv, w, b, g, use_input_stats):
    xt = T.tensor(x, requires_grad=True)
    wt = None if w is None else T.tensor(w, requires_grad=True)
    bt = None if b is None else T.tensor(b, requires_grad=True)
    rmt = None if rm is None else T.tensor(rm)
    rvt = None if rv is None else T.tensor(rv)
    y = T.nn.functional.instance_norm(xt, rmt, rvt, wt, bt, use_input_stats, 0.2, 1e-4)
    ins = [t for t in (xt, wt, bt) if t is not None]
    out = [y.detach()] + list(T.autograd.grad(y, ins, T.tensor(g))) + [t for t in (rmt, rvt) if t is not None]
    return [o.numpy() for o in out]


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 2, 3)])
@pytest.mark.parametrize("use_input_stats,stats", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch(torch, shape, use_input_stats, affine, stats):
    rng = np.random.default_rng(7)
    c = shape[1]
    x, g = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
    w = rng.uniform(0.5, 1.5, c) if affine else None
    b = rng.standard_normal(c) if affine else None
    rm = rng.standard_normal(c) if stats else None
    rv = rng.uniform(0.5, 2, c) if stats else None
    for a, r in zip(_run_in(ferrum, x, rm, rv, w, b, g, use_input_stats),
                    _run_in(torch, x, rm, rv, w, b, g, use_input_stats)):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_instance_norm_gradgradcheck():
    x = ferrum.randn(2, 3, 4, dtype=ferrum.float64, requires_grad=True)
    w = ferrum.rand(3, dtype=ferrum.float64).add(0.5).requires_grad_()
    b = ferrum.randn(3, dtype=ferrum.float64, requires_grad=True)

    def f(x, w, b):
        return B.instance_norm(x, weight=w, bias=b)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_instance_norm_one_spatial_element_raises(torch):
    for T in (torch, ferrum):
        with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
            T.nn.functional.instance_norm(T.randn(2, 3, 1))


def test_zero_weight_channel_matches_torch(torch):
    # a zero weight cannot be factored out of the backward (the unfactored form is used)
    rng = np.random.default_rng(8)
    x, g = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5))
    w, b = np.array([0.0, 1.0, 2.0]), np.zeros(3)
    for a, r in zip(_run_bn(ferrum, x, None, None, w, b, g, True, 0.1, ferrum.float64),
                    _run_bn(torch, x, None, None, w, b, g, True, 0.1, torch.float64)):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)
