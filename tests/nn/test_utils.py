"""``ferrum.nn.utils`` (gradient clipping, parameter/vector conversion) against ``torch.nn.utils``,
on the parameters of real ``nn.Linear`` models after a backward pass."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum as F
import ferrum.nn.utils as U
from ferrum.autograd import gradcheck, gradgradcheck
from tests.helpers import npv

NORM_TYPES = [1, 2, 2.0, 3.5, 0.5, math.inf, "inf", -math.inf, 0]


def _models(torch, dtype="float32", seed=0):
    """The same two-layer Linear model in ferrum and torch (same weights), after one backward of
    the same loss; returns (ferrum params, torch params)."""
    rng = np.random.default_rng(seed)
    npd = np.dtype(dtype)
    f1, f2 = F.nn.Linear(5, 8), F.nn.Linear(8, 3)
    t1, t2 = torch.nn.Linear(5, 8), torch.nn.Linear(8, 3)
    fps, tps = [], []
    for fl, tl in ((f1, t1), (f2, t2)):
        fl.to(getattr(F, dtype))
        tl.to(getattr(torch, dtype))
        for fp, tp in ((fl.weight, tl.weight), (fl.bias, tl.bias)):
            vals = rng.standard_normal(tuple(fp.shape)).astype(npd)
            with F.no_grad():
                fp.copy_(F.from_numpy(vals.copy()))
            with torch.no_grad():
                tp.copy_(torch.from_numpy(vals.copy()))
            fps.append(fp)
            tps.append(tp)
    x = rng.standard_normal((4, 5)).astype(npd)
    (f2(f1(F.from_numpy(x)).tanh()) ** 2).sum().backward()
    (t2(t1(torch.from_numpy(x)).tanh()) ** 2).sum().backward()
    return fps, tps


def _grads_close(fps, tps, rtol=1e-5, atol=1e-6):
    for fp, tp in zip(fps, tps):
        if tp.grad is None:
            assert fp.grad is None
            continue
        assert fp.grad.dtype == getattr(F, str(tp.grad.dtype).split(".")[1])
        np.testing.assert_allclose(npv(fp.grad), tp.grad.numpy(), rtol=rtol, atol=atol)


def _norm_close(fn, tn, rtol=1e-5):
    assert fn.shape == () and tn.shape == ()
    assert str(fn.dtype).split(".")[1] == str(tn.dtype).split(".")[1]
    np.testing.assert_allclose(float(fn), float(tn), rtol=rtol, atol=1e-6)


# --------------------------------------------------------------------------- clip_grad_norm_
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("max_norm", [0.1, 1e4])
@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm, dtype):
    fps, tps = _models(torch, dtype)
    _grads_close(fps, tps)
    fn = U.clip_grad_norm_(fps, max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    _norm_close(fn, tn)
    assert fn.grad_fn is None and not fn.requires_grad
    _grads_close(fps, tps)


def test_clip_grad_norm_scales_to_max_norm(torch):
    fps, _ = _models(torch)
    before = float(U.get_total_norm([p.grad for p in fps]))
    total = U.clip_grad_norm_(fps, 0.5)
    assert float(total) == pytest.approx(before)
    assert float(U.get_total_norm([p.grad for p in fps])) == pytest.approx(0.5, rel=1e-5)


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_inputs(torch, foreach):
    # a generator, a single tensor, parameters without grad: all as torch
    fps, tps = _models(torch)
    fps[1].grad = None
    tps[1].grad = None
    fn = U.clip_grad_norm_((p for p in fps), 1.0, foreach=foreach)
    tn = torch.nn.utils.clip_grad_norm_((p for p in tps), 1.0, foreach=foreach)
    _norm_close(fn, tn)
    _grads_close(fps, tps)
    fn = U.clip_grad_norm_(fps[0], 0.01, 3.0, foreach=foreach)
    tn = torch.nn.utils.clip_grad_norm_(tps[0], 0.01, 3.0, foreach=foreach)
    _norm_close(fn, tn)
    _grads_close(fps, tps)


def test_clip_grad_norm_module_parameters(torch):
    lin = F.nn.Linear(6, 4)
    (lin(F.randn(3, 6)) ** 2).sum().backward()
    g_before = [npv(p.grad).copy() for p in lin.parameters()]
    total = U.clip_grad_norm_(lin.parameters(), 0.1)
    ref = math.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in g_before))
    assert float(total) == pytest.approx(ref, rel=1e-5)
    coef = min(1.0, 0.1 / (ref + 1e-6))
    for p, g in zip(lin.parameters(), g_before):
        np.testing.assert_allclose(npv(p.grad), g * coef, rtol=1e-5)


def test_clip_grad_norm_empty(torch):
    for params in ([], [F.zeros(3, requires_grad=True)]):
        total = U.clip_grad_norm_(params, 1.0)
        ref = torch.nn.utils.clip_grad_norm_([torch.zeros(3, requires_grad=True)] if params else [], 1.0)
        assert total.shape == () and total.dtype == F.float32 and float(total) == float(ref) == 0.0
    assert float(U.get_total_norm([])) == 0.0


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_nonfinite(torch, bad, norm_type):
    def leaves(mod):
        p = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p.grad = mod.tensor([1.0, bad, 0.5])
        q = mod.tensor([4.0], requires_grad=True)
        q.grad = mod.tensor([2.0])
        return [p, q]

    fps, tps = leaves(F), leaves(torch)
    with pytest.raises(RuntimeError) as te:
        torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as fe:
        U.clip_grad_norm_(fps, 1.0, norm_type, error_if_nonfinite=True)
    assert str(fe.value) == str(te.value)
    # the grads are left alone by the refusal
    np.testing.assert_array_equal(npv(fps[1].grad), [2.0])
    # without the flag, the grads are scaled by the non-finite norm, as in torch
    fn = U.clip_grad_norm_(fps, 1.0, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type)
    np.testing.assert_array_equal(npv(fn), tn.numpy())
    for fp, tp in zip(fps, tps):
        np.testing.assert_array_equal(npv(fp.grad), tp.grad.numpy())


def test_mixed_and_half_dtypes(torch):
    def leaves(mod):
        a = mod.ones(3, dtype=mod.float32, requires_grad=True)
        a.grad = mod.tensor([0.5, -2.0, 1.0])
        b = mod.ones(2, dtype=mod.float64, requires_grad=True)
        b.grad = mod.tensor([3.0, 0.25], dtype=mod.float64)
        c = mod.ones(2, dtype=mod.float16, requires_grad=True)
        c.grad = mod.tensor([1.5, -0.75], dtype=mod.float16)
        return a, b, c

    fa, fb, fc = leaves(F)
    ta, tb, tc = leaves(torch)
    for fs, ts in (([fa, fb], [ta, tb]), ([fc], [tc]), ([fc, fa], [tc, ta])):
        fn = U.clip_grad_norm_(fs, 0.7)
        tn = torch.nn.utils.clip_grad_norm_(ts, 0.7)
        _norm_close(fn, tn, rtol=2e-3)
        _grads_close(fs, ts, rtol=2e-3, atol=1e-3)


def test_bad_norm_types(torch):
    fps, tps = _models(torch)
    for nt in ("fro", "abc"):
        with pytest.raises(ValueError):
            torch.nn.utils.clip_grad_norm_(tps, 1.0, nt)
        with pytest.raises(ValueError):
            U.clip_grad_norm_(fps, 1.0, nt)
    for nt in (math.inf, -math.inf):
        with pytest.raises(RuntimeError):
            torch.nn.utils.get_total_norm([torch.empty(0)], nt)
        with pytest.raises(RuntimeError, match="empty"):
            U.get_total_norm([F.empty(0)], nt)
    assert float(U.get_total_norm([F.empty(0)], 2)) == 0.0


def test_clip_grad_norm_deprecated_alias(torch):
    fps, tps = _models(torch)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        fn = U.clip_grad_norm(fps, 0.2)
    _norm_close(fn, torch.nn.utils.clip_grad_norm_(tps, 0.2))


def test_read_only_grad_refused():
    p = F.zeros(3, requires_grad=True)
    p.grad = F.ones(1).expand(3)
    with pytest.raises(RuntimeError, match="clip_grad_norm_"):
        U.clip_grad_norm_([p], 0.1)
    with pytest.raises(RuntimeError, match="clip_grad_value_"):
        U.clip_grad_value_([p], 0.1)


def test_grad_version_bumped(torch):
    fps, _ = _models(torch)
    v = [p.grad._version[0] for p in fps]
    U.clip_grad_norm_(fps, 0.1)
    assert all(p.grad._version[0] > x for p, x in zip(fps, v))


# --------------------------------------------------------------------------- the two halves
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
def test_get_total_norm_and_clip_grads_with_norm(torch, norm_type):
    fps, tps = _models(torch, "float64")
    fgr, tgr = [p.grad for p in fps], [p.grad for p in tps]
    fn = U.get_total_norm(fgr, norm_type)
    tn = torch.nn.utils.get_total_norm(tgr, norm_type)
    _norm_close(fn, tn, rtol=1e-12)
    # the norm of all grads as one vector
    flat = np.concatenate([npv(g).ravel() for g in fgr])
    np.testing.assert_allclose(float(fn), np.linalg.norm(flat, norm_type), rtol=1e-12)
    _norm_close(U.get_total_norm(fgr[0], norm_type), torch.nn.utils.get_total_norm(tgr[0], norm_type))
    U.clip_grads_with_norm_(fps, 0.3, fn)
    torch.nn.utils.clip_grads_with_norm_(tps, 0.3, tn)
    _grads_close(fps, tps, rtol=1e-12)
    U.clip_grads_with_norm_(fps[0], 0.3, fn * 100)
    torch.nn.utils.clip_grads_with_norm_(tps[0], 0.3, tn * 100)
    _grads_close(fps, tps, rtol=1e-12)
    U.clip_grads_with_norm_([], 0.3, fn)


# --------------------------------------------------------------------------- clip_grad_value_
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("clip_value", [0.05, 1.0, 100, -0.5])
def test_clip_grad_value_matches_torch(torch, clip_value, dtype):
    fps, tps = _models(torch, dtype)
    fps[2].grad = None
    tps[2].grad = None
    assert U.clip_grad_value_(fps, clip_value) is None
    assert torch.nn.utils.clip_grad_value_(tps, clip_value) is None
    _grads_close(fps, tps)
    if clip_value > 0:
        assert max(np.abs(npv(p.grad)).max() for p in fps if p.grad is not None) <= clip_value


def test_clip_grad_value_single_tensor_and_nan(torch):
    def leaf(mod):
        p = mod.zeros(4, requires_grad=True)
        p.grad = mod.tensor([-3.0, 0.2, math.nan, 9.0])
        return p

    fp, tp = leaf(F), leaf(torch)
    U.clip_grad_value_(fp, 1.0, foreach=True)
    torch.nn.utils.clip_grad_value_(tp, 1.0, foreach=True)
    np.testing.assert_array_equal(npv(fp.grad), tp.grad.numpy())


# --------------------------------------------------------------------------- vectors
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameters_to_vector_round_trip(torch, dtype):
    fps, tps = _models(torch, dtype)
    fv = U.parameters_to_vector(fps)
    tv = torch.nn.utils.parameters_to_vector(tps)
    assert fv.shape == tuple(tv.shape) and fv.dtype == getattr(F, dtype)
    np.testing.assert_array_equal(npv(fv), tv.detach().numpy())
    assert fv.requires_grad and fv.grad_fn is not None
    new = np.arange(fv.numel(), dtype=dtype)
    fvec, tvec = F.from_numpy(new.copy()), torch.from_numpy(new.copy())
    assert U.vector_to_parameters(fvec, fps) is None
    torch.nn.utils.vector_to_parameters(tvec, tps)
    for fp, tp in zip(fps, tps):
        assert tuple(fp.shape) == tuple(tp.shape)
        np.testing.assert_array_equal(npv(fp), tp.detach().numpy())
    # as in torch, the parameters now share memory with the vector
    fvec[0] = -7.0
    tvec[0] = -7.0
    assert float(fps[0][0, 0]) == float(tps[0].detach()[0, 0]) == -7.0
    np.testing.assert_array_equal(npv(U.parameters_to_vector(fps)), npv(fvec))


def test_parameters_to_vector_module_and_grad():
    model = F.nn.Linear(3, 2)
    vec = U.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    (vec * F.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(npv(model.weight.grad).ravel(), np.arange(6.0))
    np.testing.assert_array_equal(npv(model.bias.grad), [6.0, 7.0])


def test_parameters_to_vector_gradcheck():
    a = F.randn(2, 3, dtype=F.float64, requires_grad=True)
    b = F.randn(4, dtype=F.float64, requires_grad=True)

    def fn(x, y):
        return U.parameters_to_vector([x, y]) ** 2

    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_vector_errors(torch):
    fps, tps = _models(torch)
    for bad in ([1.0, 2.0], np.zeros(3), 3.0):
        with pytest.raises(TypeError) as te:
            torch.nn.utils.vector_to_parameters(bad, tps)
        with pytest.raises(TypeError) as fe:
            U.vector_to_parameters(bad, fps)
        assert str(fe.value).split(": ")[-1] == str(te.value).split(": ")[-1]
    with pytest.raises(RuntimeError):
        torch.nn.utils.vector_to_parameters(torch.zeros(3), tps)
    with pytest.raises(RuntimeError):
        U.vector_to_parameters(F.zeros(3), fps)
    with pytest.raises(ValueError):
        torch.nn.utils.parameters_to_vector([])
    with pytest.raises(ValueError):
        U.parameters_to_vector([])
    with pytest.raises(RuntimeError):
        torch.nn.utils.parameters_to_vector([torch.randn(3, 4).t()])
    with pytest.raises(RuntimeError):
        U.parameters_to_vector([F.randn(3, 4).t()])


def test_module_paths():
    from ferrum.nn.utils import clip_grad, convert_parameters

    assert clip_grad.clip_grad_norm_ is U.clip_grad_norm_
    assert clip_grad.clip_grad_value_ is U.clip_grad_value_
    assert clip_grad.get_total_norm is U.get_total_norm
    assert clip_grad.clip_grads_with_norm_ is U.clip_grads_with_norm_
    assert convert_parameters.parameters_to_vector is U.parameters_to_vector
    assert convert_parameters.vector_to_parameters is U.vector_to_parameters
    assert F.nn.utils.clip_grad_norm_ is U.clip_grad_norm_
