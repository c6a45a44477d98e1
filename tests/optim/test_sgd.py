"""SGD's two kernels: BLAS axpy/scal (contiguous float32/float64 arrays, PyTorch's operations one
for one) and NumPy ufuncs (everything else) give the same updates, and match torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.ops import _blas
from ferrum.optim import sgd
from ferrum.optim.optimizer import _Scratch

CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.01, momentum=0.5, weight_decay=0.1),
    dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.05, maximize=True),
    dict(lr=0.01, weight_decay=0.1, maximize=True),
]
SHAPES = [(33, 7), (5,), (401,), (1, 1)]


def _grads(dtype, steps):
    rng = np.random.default_rng(7)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]


def _run(fw, kw, dtype, steps=20, transform=lambda g: g):
    rng = np.random.default_rng(3)
    params = [fw.from_numpy(rng.standard_normal(s).astype(dtype)).requires_grad_() for s in SHAPES]
    opt = fw.optim.SGD(params, **kw)
    for gs in _grads(dtype, steps):
        for p, g in zip(params, gs):
            p.grad = fw.from_numpy(transform(g.copy()))
        opt.step()
    return [np.array(p.detach().numpy()) for p in params], opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_matches_torch(torch, kw, dtype):
    pf, opt = _run(ferrum, kw, dtype)
    pt, _ = _run(torch, kw, dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for a, b in zip(pf, pt):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    if kw.get("momentum"):
        bufs = [opt.state[p]["momentum_buffer"] for p in opt.param_groups[0]["params"]]
        assert all(isinstance(b, ferrum.Tensor) and b.shape == p.shape
                   for b, p in zip(bufs, opt.param_groups[0]["params"]))


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_blas_and_ufunc_kernels_agree(kw):
    """Both kernels from the same state for a few steps: the BLAS one rounds each ``x + c*y`` once
    (fused multiply-add, as PyTorch), the ufunc one twice, so they agree to float32 rounding."""
    if not _blas.available:
        pytest.skip("NumPy's OpenBLAS not found: SGD runs its ufunc kernel only")
    rng = np.random.default_rng(5)
    a0 = rng.standard_normal((40, 9)).astype(np.float32)
    full = dict(momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False) | kw
    out = []
    for kernel in (sgd._sgd_blas, sgd._sgd_kernel):
        a, buf, scratch = a0.copy(), np.empty_like(a0), _Scratch()
        grng = np.random.default_rng(6)
        for step in range(5):
            g = grng.standard_normal(a.shape).astype(np.float32)
            g_before = g.copy()
            kernel(a, g, buf if full["momentum"] else None, scratch(a, 0), scratch(a, 1), full["lr"],
                   full["weight_decay"], full["momentum"], full["dampening"], full["nesterov"],
                   full["maximize"], step == 0)
            assert np.array_equal(g, g_before)  # the gradient is never written to
        out.append(a)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6, atol=1e-6)


def test_sgd_ufunc_fallback_for_non_contiguous_and_half_grads(torch):
    kw = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    # a Fortran-ordered gradient of a C-ordered parameter takes the ufunc kernel
    pf, _ = _run(ferrum, kw, np.float32, steps=5, transform=np.asfortranarray)
    pt, _ = _run(torch, kw, np.float32, steps=5)
    for a, b in zip(pf, pt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    p16, _ = _run(ferrum, kw, np.float16, steps=3)
    t16, _ = _run(torch, kw, np.float16, steps=3)
    for a, b in zip(p16, t16):
        assert a.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), rtol=2e-3, atol=2e-3)


def test_blas_usable_rules():
    a = np.zeros((4, 3), np.float32)
    if not _blas.available:
        assert not _blas.usable(a)
        return
    assert _blas.usable(a, np.ones((4, 3), np.float32)) and _blas.usable(np.zeros(3))
    assert not _blas.usable(a, np.zeros((4, 3)))  # mixed dtypes
    assert not _blas.usable(np.asfortranarray(a))
    assert not _blas.usable(a.astype(np.float16)) and not _blas.usable(np.zeros(3, np.complex64))
    x = np.arange(5, dtype=np.float64)
    y = np.ones(5)
    _blas.axpy(-0.5, x, y)
    np.testing.assert_array_equal(y, 1 - 0.5 * x)
    _blas.scal(2.0, y)
    np.testing.assert_array_equal(y, 2 * (1 - 0.5 * x))


def test_sgd_never_writes_a_read_only_parameter():
    """BLAS writes through a pointer, so a read-only parameter must take the ufunc kernel, which
    refuses as NumPy does (as before the BLAS path)."""
    a = np.ones((40, 30), np.float32)
    a.flags.writeable = False
    p = ferrum.nn.Parameter(ferrum.from_numpy(a))
    p.grad = ferrum.ones(40, 30)
    opt = ferrum.optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="read-only"):
        opt.step()
    assert (a == 1).all()
