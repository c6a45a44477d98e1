"""Tests generated from the op registry (tests/opinfo): for every op, forward parity with torch on
every sample and dtype (exception type or shape, dtype and values), error-type parity on bad inputs,
gradcheck and gradgradcheck in float64, and float64 gradients equal to torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from tests.opinfo import core, load

REGISTRY = load()
FWD = [(name, dt) for name, info in sorted(REGISTRY.items()) for dt in info.dtypes]
GRAD = sorted(name for name, info in REGISTRY.items() if info.grad)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


# a LAPACK call that loops forever cannot be interrupted by a signal: the thread method ends the process
@pytest.mark.timeout(120, method="thread")
@pytest.mark.parametrize("name,dtype", FWD, ids=[f"{n}-{d}" for n, d in FWD])
def test_forward_parity(torch, name, dtype):
    info = REGISTRY[name]
    for sample in info.samples(_rng(name), dtype):
        core.check_parity(torch, ferrum, info, sample, dtype)


@pytest.mark.parametrize("name", sorted(n for n, i in REGISTRY.items() if i.errors))
def test_error_parity(torch, name):
    info = REGISTRY[name]
    for sample in info.errors(_rng(name)):
        _, _, et = core.call(torch, info, sample, "float32")
        _, _, ef = core.call(ferrum, info, sample, "float32")
        assert et is not None, f"{name}{sample}: not an error in torch (fix the registry)"
        assert ef is not None, f"{name}{sample}: torch raises {type(et).__name__} ({et}); ferrum returns"
        assert core.same_exception(ef, et), (
            f"{name}{sample}: torch raises {type(et).__name__} ({et}), ferrum {type(ef).__name__} ({ef})"
        )


def _grad_samples(info):
    gen = info.grad_samples or info.samples
    for s in gen(_rng(info.name), "float64"):
        if s.dtypes and any(d != "float64" for d in s.dtypes):
            continue
        arrays = [a for a in s.args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        if any(not np.isfinite(a).all() for a in arrays):  # special values: forward parity covers them
            continue
        yield s


def _float_inputs(args):
    return [a for a in args if hasattr(a, "requires_grad") and a.requires_grad]


@pytest.mark.parametrize("name", GRAD)
def test_gradcheck(name):
    info = REGISTRY[name]
    for sample in _grad_samples(info):
        args = core.make_args(ferrum, sample, "float64", requires_grad=True)
        pos = [i for i, a in enumerate(args) if hasattr(a, "requires_grad") and a.requires_grad]
        if not pos or any(args[i].numel() == 0 for i in pos):
            continue

        def fn(*ins, _args=args, _pos=pos, _s=sample):
            full = list(_args)
            for i, t in zip(_pos, ins):
                full[i] = t
            outs = core.first_float_outputs(info.fn(ferrum, *full, **_s.kwargs))
            return tuple(outs) if len(outs) != 1 else outs[0]

        ins = tuple(args[i] for i in pos)
        try:
            outs = fn(*ins)
        except Exception:  # noqa: BLE001 - a forward error is compared by test_forward_parity
            continue
        if any(
            not np.isfinite(o.detach().numpy()).all() for o in (outs if isinstance(outs, tuple) else (outs,))
        ):
            continue  # a pole or an undefined value (var of one element): no derivative to check
        try:
            assert gradcheck(fn, ins)
            if info.gradgrad:
                assert gradgradcheck(fn, ins)
        except Exception as e:  # noqa: BLE001 - named with the sample that failed
            raise AssertionError(f"{name}{sample}: {type(e).__name__}: {e}") from None


@pytest.mark.parametrize("name", GRAD)
def test_gradients_match_torch(torch, name):
    info = REGISTRY[name]
    for sample in _grad_samples(info):
        grads = []
        for T in (ferrum, torch):
            args, res, err = core.call(T, info, sample, "float64", requires_grad=True)
            leaves = _float_inputs(args)
            if not leaves or err is not None:  # errors: test_forward_parity compares them
                break
            outs = core.first_float_outputs(res)
            w_rng = np.random.default_rng(7)
            weights = [w_rng.uniform(0.5, 1.5, tuple(o.shape)) for o in outs]
            total = sum(
                (o * T.tensor(w, dtype=T.float64)).sum() for o, w in zip(outs, weights) if o.requires_grad
            )
            if not hasattr(total, "backward"):
                break
            gs = T.autograd.grad(total, leaves, allow_unused=True)
            grads.append([None if g is None else g.detach().numpy(force=True) for g in gs])
        if len(grads) != 2:
            continue
        for i, (gf, gt) in enumerate(zip(*grads)):
            if gt is None or gf is None:
                assert gt is None or not np.any(gt), f"{name}{sample}: input {i}: ferrum has no gradient"
                continue
            np.testing.assert_allclose(
                gf, gt, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{name}{sample}: gradient of input {i}"
            )
