"""ops/normalization.py: layer_norm (fused node), group_norm, rms_norm and local_response_norm against
torch over grids of options (outputs and every gradient, float32 and float64), gradcheck and
gradgradcheck, double-backward values and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import normalization as N


def _parity(torch, call, arrays, dtype, tol):
    """``call(T, *tensors)`` in both frameworks: the output and the gradient of every input."""
    g = None
    res = []
    for T in (torch, ferrum):
        dt = getattr(T, dtype)
        ts = [None if a is None else T.tensor(a, dtype=dt, requires_grad=True) for a in arrays]
        y = call(T, *ts)
        if g is None:
            g = np.random.default_rng(9).standard_normal(tuple(y.shape))
        ins = [t for t in ts if t is not None]
        grads = T.autograd.grad(y, ins, T.tensor(g, dtype=dt))
        res.append([y.detach().double().numpy()] + [q.double().numpy() for q in grads])
    for a, r in zip(*res):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)


TOL = {"float32": 2e-5, "float64": 1e-11}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ns", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,)),
                                      ((2, 1, 3, 2), (3, 2))])
@pytest.mark.parametrize("weight,bias", [(True, True), (True, False), (False, True), (False, False)])
def test_layer_norm_matches_torch(torch, dtype, shape, ns, weight, bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) * 2 + 1, rng.uniform(0.5, 1.5, ns) if weight else None,
              rng.standard_normal(ns) if bias else None]
    _parity(torch, lambda T, x, w, b: T.nn.functional.layer_norm(x, ns, w, b, eps=1e-4), arrays, dtype,
            TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,groups", [((2, 4, 3), 2), ((2, 6, 2, 2), 3), ((3, 4), 4), ((2, 4, 3), 1),
                                          ((1, 2, 2, 2, 2), 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(torch, dtype, shape, groups, affine):
    rng = np.random.default_rng(1)
    c = shape[1]
    arrays = [rng.standard_normal(shape) * 2 + 1, rng.uniform(0.5, 1.5, c) if affine else None,
              rng.standard_normal(c) if affine else None]
    _parity(torch, lambda T, x, w, b: T.nn.functional.group_norm(x, groups, w, b, eps=1e-4), arrays, dtype,
            TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ns", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("weight", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_matches_torch(torch, dtype, shape, ns, weight, eps):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape), rng.uniform(0.5, 1.5, ns) if weight else None]
    _parity(torch, lambda T, x, w: T.nn.functional.rms_norm(x, ns, w, eps=eps), arrays, dtype, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 4, 3, 2), (1, 3, 2, 2, 2)])
@pytest.mark.parametrize("size,alpha,beta,k", [(1, 1e-4, 0.75, 1.0), (2, 0.5, 0.5, 2.0), (3, 0.1, 0.75, 1.0),
                                               (6, 0.3, 1.2, 1.5)])
def test_local_response_norm_matches_torch(torch, dtype, shape, size, alpha, beta, k):
    rng = np.random.default_rng(3)
    _parity(torch, lambda T, x: T.nn.functional.local_response_norm(x, size, alpha, beta, k),
            [rng.standard_normal(shape)], dtype, TOL[dtype])


@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: N.layer_norm(x, (4,), w, b), [(2, 3, 4), (4,), (4,)]),
    (lambda x, w, b: N.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    (lambda x: N.layer_norm(x, (4,)), [(3, 4)]),
    (lambda x, w, b: N.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    (lambda x, w: N.rms_norm(x, (4,), w), [(2, 3, 4), (4,)]),
    (lambda x: N.local_response_norm(x, 3, 0.2, 0.75, 1.0), [(2, 4, 3)]),
])
def test_gradcheck_and_gradgradcheck(fn, shapes):
    rng = np.random.default_rng(4)
    ins = [ferrum.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def test_layer_norm_double_backward_matches_torch(torch):
    rng = np.random.default_rng(5)
    x, g, w, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.uniform(0.5, 1.5, 5), \
        rng.standard_normal(5)
    res = []
    for T in (torch, ferrum):
        xt, wt, bt = (T.tensor(a, requires_grad=True) for a in (x, w, b))
        y = T.nn.functional.layer_norm(xt, (5,), wt, bt)
        gx, gw, gb = T.autograd.grad(y, (xt, wt, bt), T.tensor(g), create_graph=True)
        loss = (gx * gx).sum() + (gw * gw * xt.sum()).sum()
        res.append([r.numpy() for r in T.autograd.grad(loss, (xt, wt))])
    for a, r in zip(*res):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-10)


def test_layer_norm_node_and_saved_input_version():
    x = ferrum.randn(3, 4, requires_grad=True)
    h = x * 1
    y = N.layer_norm(h, (4,))
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    with ferrum.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_reduced_precision_computes_in_float32(torch, dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3))
    for call in (lambda T, x: T.nn.functional.layer_norm(x, (3,)),
                 lambda T, x: T.nn.functional.group_norm(x, 2),
                 lambda T, x: T.nn.functional.rms_norm(x, (3,))):
        out = [call(T, T.tensor(x).to(getattr(T, dtype))) for T in (torch, ferrum)]
        assert str(out[1].dtype).split(".")[-1] == str(out[0].dtype).split(".")[-1]
        np.testing.assert_allclose(out[1].double().numpy(), out[0].double().numpy(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("call", [
    lambda T: T.nn.functional.layer_norm(T.randn(2, 3), (4,)),
    lambda T: T.nn.functional.layer_norm(T.randn(2, 3), (3,), T.ones(4)),
    lambda T: T.nn.functional.layer_norm(T.randn(2, 3), (3,), None, T.ones(2)),
    lambda T: T.nn.functional.group_norm(T.randn(2, 4, 3), 3),
    lambda T: T.nn.functional.group_norm(T.randn(2, 4, 3), 2, T.ones(3)),
    lambda T: T.nn.functional.rms_norm(T.randn(2, 3), (4,)),
    lambda T: T.nn.functional.rms_norm(T.randn(2, 3), (3,), T.ones(2)),
    lambda T: T.nn.functional.local_response_norm(T.randn(2, 3), 2),
])
def test_errors_match_torch(torch, call):
    types = []
    for T in (torch, ferrum):
        try:
            call(T)
            types.append(None)
        except Exception as e:  # noqa: BLE001 - compared with torch's type
            types.append(type(e))
    assert types[0] is not None and types[0] is types[1]


def test_empty_inputs(torch):
    for call in (lambda T: T.nn.functional.layer_norm(T.randn(0, 3), (3,)),
                 lambda T: T.nn.functional.group_norm(T.randn(0, 4, 2), 2),
                 lambda T: T.nn.functional.local_response_norm(T.randn(0, 3, 2), 2)):
        assert tuple(call(ferrum).shape) == tuple(call(torch).shape)


def test_layer_norm_large_offset_uses_centred_rows(torch):
    # mean^2 >> var: the one-read statistics would cancel in float32; the centred rows keep accuracy
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((6, 32)) * 0.01 + 1000).astype(np.float32)
    ref = torch.nn.functional.layer_norm(torch.tensor(x, dtype=torch.float64), (32,)).numpy()
    got = N.layer_norm(ferrum.tensor(x), (32,)).numpy()
    torch32 = torch.nn.functional.layer_norm(torch.tensor(x), (32,)).numpy()
    # float32 cannot do better than x's own rounding (ulp 6e-5 against a spread of 0.01): as torch
    assert np.abs(got - ref).max() <= 1.5 * np.abs(torch32 - ref).max() + 1e-4


def _run_layer_norm(a, g, threads):
    prev = ferrum.get_num_threads()
    ferrum.set_num_threads(threads)
    try:
        x = ferrum.tensor(a, requires_grad=True)
        w = ferrum.tensor(np.linspace(0.5, 1.5, a.shape[-1], dtype=a.dtype), requires_grad=True)
        b = ferrum.tensor(np.linspace(-1, 1, a.shape[-1], dtype=a.dtype), requires_grad=True)
        y = ferrum.nn.functional.layer_norm(x, (a.shape[-1],), w, b)
        y.backward(ferrum.tensor(g))
        return [t.numpy() for t in (y.detach(), x.grad, w.grad, b.grad)]
    finally:
        ferrum.set_num_threads(prev)


@pytest.mark.parametrize("rows", [8193, 9000])
def test_layer_norm_row_halves_equal_one_call(rows):
    # from NORM_MIN_SIZE (1M) elements the rows are split over two threads: the one call's result
    # (to rounding: BLAS may sum a row block differently)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, 128)).astype(np.float32)
    g = rng.standard_normal((rows, 128)).astype(np.float32)
    for p, q in zip(_run_layer_norm(a, g, 2), _run_layer_norm(a, g, 1)):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
