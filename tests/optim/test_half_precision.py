"""float16/bfloat16 parameters stepped by every optimizer, against torch on the CPU.

Both libraries start from the same half-precision parameters and get the same half-precision
gradients each step; after several steps the parameters and every state entry must agree. ferrum
replays torch's single-tensor op sequence rounding after every op (optim/_lowp.py), so the results
are torch's bit for bit except on rare rounding ties where torch's vector kernels fuse a
multiply-add: the comparison allows a few values per thousand to differ by a unit in the last
place. torch's scalar tail of its vector loops (the last ``numel % 64`` values) rounds
``add_(x, alpha=c)`` twice, an artifact of its loop structure that ferrum does not copy: tensors
with such a tail are compared within a few ulps. ``foreach=True`` runs torch's multi-tensor
algorithm, whose op order differs (and whose per-tensor fallback on the CPU casts every scalar to
the half dtype); ferrum has one algorithm, so those runs are compared within a few ulps.
torch's ``SGD(fused=True)`` leaves half parameters unchanged on the CPU (torch 2.13), a bug ferrum
does not copy, so it is not compared.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrum

_SHAPES = ((8, 16), (64,), (3, 5))  # the last is not a multiple of torch's vector width

_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, foreach=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, maximize=True, eps=1e-4)),
    ("Adam", dict(lr=1e-2, fused=True)),
    ("Adam", dict(lr=1e-2, fused=True, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, foreach=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, fused=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, fused=True, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(foreach=True)),
    ("Adamax", dict(lr=1e-2)),
    ("Adamax", dict(lr=1e-2, weight_decay=0.1, betas=(0.3, 0.99))),
    ("Adamax", dict(lr=1e-2, foreach=True)),
    ("NAdam", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, momentum_decay=0.01)),
    ("RAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.9)),
    ("RMSprop", dict(lr=1e-2, weight_decay=0.1, maximize=True, alpha=0.3)),
    ("RMSprop", dict(lr=1e-2, foreach=True)),
    ("Rprop", dict(lr=1e-2)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.7), step_sizes=(1e-3, 0.1), maximize=True)),
    ("ASGD", dict(lr=1e-2)),
    ("ASGD", dict(lr=1e-2, t0=2, lambd=1e-2, weight_decay=0.1, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def _ulp(dtype: str) -> float:
    return 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10


def _data(n_steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in _SHAPES]
    grads = [[(rng.standard_normal(s) * 0.1).astype(np.float32) for s in _SHAPES]
             for _ in range(n_steps)]
    return params, grads


def _run(lib, name, kw, dtype, n_steps=6):
    params0, grads = _data(n_steps)
    dt = getattr(lib, dtype)
    params = [lib.nn.Parameter(lib.tensor(p).to(dt)) for p in params0]
    opt = getattr(lib.optim, name)(params, **kw)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g).to(dt)
        opt.step()
    return params, opt


def _np(t) -> np.ndarray:
    return t.detach().float().numpy().copy()


def _close(f, t, dtype, loose: bool) -> None:
    u = _ulp(dtype)
    f, t = _np(f), _np(t)
    same = (f == t) | (np.isnan(f) & np.isnan(t))
    # torch's vector loops handle 64 half values at a time (AVX-512, unrolled twice) and the rest
    # with scalar code that rounds ``a + alpha * b`` twice; ferrum rounds it once, as the vector
    # code does, so only tensors without such a tail are held to (nearly) bitwise equality
    strict = not loose and f.size % 64 == 0
    if strict:
        assert (~same).sum() <= max(1, f.size // 200), f"{(~same).sum()} of {f.size} values differ"
    tol = (1 if strict else 4) * u
    np.testing.assert_allclose(f, t, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", _CASES, ids=_ids)
def test_matches_torch(torch, case, dtype):
    name, kw = case
    fps, fopt = _run(ferrum, name, kw, dtype)
    tps, topt = _run(torch, name, kw, dtype)
    loose = bool(kw.get("foreach"))
    for fp, tp in zip(fps, tps):
        assert str(fp.dtype) == "ferrum." + dtype
        _close(fp, tp, dtype, loose)
        fst, tst = fopt.state[fp], topt.state[tp]
        assert sorted(fst) == sorted(tst)
        for k in tst:
            assert str(fst[k].dtype).split(".")[-1] == str(tst[k].dtype).split(".")[-1], k
            if k in ("step", "eta", "mu"):
                assert float(fst[k]) == float(tst[k])
            elif k == "mu_product":
                np.testing.assert_allclose(float(fst[k]), float(tst[k]), rtol=1e-6)
            else:
                _close(fst[k], tst[k], dtype, loose)


def _resumed(lib, name, kw, dtype, split):
    """Steps ``split`` times, saves the state dict, loads it into a fresh optimizer over copies of
    the parameters and finishes the run there; returns the parameters and the new optimizer."""
    params0, grads = _data(6)
    dt = getattr(lib, dtype)

    def make(src):
        ps = [lib.nn.Parameter(lib.tensor(p).to(dt)) for p in src]
        return ps, getattr(lib.optim, name)(ps, **kw)

    def steps(ps, opt, gss):
        for gs in gss:
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g).to(dt)
            opt.step()

    ps, opt = make(params0)
    steps(ps, opt, grads[:split])
    sd = copy.deepcopy(opt.state_dict())
    ps2, opt2 = make(params0)
    for p2, p in zip(ps2, ps):
        p2.data = p.detach().clone()
    opt2.load_state_dict(sd)
    steps(ps2, opt2, grads[split:])
    return ps2, opt2


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", [c for c in _CASES if not c[1].get("foreach")][::3], ids=_ids)
def test_state_dict_round_trip(torch, case, dtype):
    """Saving after three steps and resuming in a fresh optimizer: the loaded state is cast to the
    parameters' dtype (``step`` kept float32, as torch), the run equals torch's resumed run, and,
    except for NAdam and ASGD (whose float32 ``mu_product``/``eta``/``mu`` become half on loading,
    in torch too), the uninterrupted run."""
    name, kw = case
    fps, fopt = _resumed(ferrum, name, kw, dtype, 3)
    tps, topt = _resumed(torch, name, kw, dtype, 3)
    full, _ = _run(ferrum, name, kw, dtype)
    for fp, tp, pa in zip(fps, tps, full):
        _close(fp, tp, dtype, loose=False)
        for k, v in fopt.state[fp].items():
            assert str(v.dtype).split(".")[-1] == str(topt.state[tp][k].dtype).split(".")[-1], k
            assert v.dtype == (ferrum.float32 if k == "step" else fp.dtype), k
        if name not in ("NAdam", "ASGD"):
            assert np.array_equal(_np(pa), _np(fp), equal_nan=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_float32_state_loads_as_half(dtype):
    """A state saved from float32 parameters is cast to the half parameters' dtype (``step``
    stays float32), as torch's load_state_dict does."""
    p32 = ferrum.nn.Parameter(ferrum.ones(4))
    opt32 = ferrum.optim.Adam([p32], lr=0.1)
    p32.grad = ferrum.full((4,), 0.5)
    opt32.step()
    ph = ferrum.nn.Parameter(ferrum.ones(4, dtype=getattr(ferrum, dtype)))
    opth = ferrum.optim.Adam([ph], lr=0.1)
    opth.load_state_dict(opt32.state_dict())
    st = opth.state[ph]
    assert st["exp_avg"].dtype == ph.dtype and st["exp_avg_sq"].dtype == ph.dtype
    assert st["step"].dtype == ferrum.float32 and float(st["step"]) == 1.0
    ph.grad = ferrum.full((4,), 0.5, dtype=ph.dtype)
    opth.step()
    assert ph.dtype == getattr(ferrum, dtype) and float(st["step"]) == 2.0


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(torch, dtype, line_search):
    def run(lib):
        rng = np.random.default_rng(0)
        a = lib.tensor(rng.standard_normal((16, 16)).astype(np.float32) / 4)
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(16).astype(np.float32)).to(getattr(lib, dtype)))
        opt = lib.optim.LBFGS([p], lr=0.5, max_iter=5, history_size=4, line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            loss = ((a @ p.float()) ** 2).sum() + p.float().sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return p, opt.state[p]

    fp, fst = run(ferrum)
    tp, tst = run(torch)
    _close(fp, tp, dtype, loose=False)
    for k in ("d", "H_diag", "prev_flat_grad"):
        assert str(fst[k].dtype).split(".")[-1] == dtype


@pytest.mark.parametrize("dtype", ["half", "bfloat16"])
def test_module_half_then_train(torch, dtype):
    """``model.half()`` / ``model.bfloat16()`` convert parameters and floating buffers (not
    integer ones), and an optimizer steps the converted model as torch steps its copy."""
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                             torch.nn.Linear(16, 4))
    fm = ferrum.nn.Sequential(ferrum.nn.Linear(8, 16), ferrum.nn.BatchNorm1d(16), ferrum.nn.ReLU(),
                              ferrum.nn.Linear(16, 4))
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert getattr(fm, dtype)() is fm
    getattr(tm, dtype)()
    want = ferrum.float16 if dtype == "half" else ferrum.bfloat16
    for (fk, fv), (tk, tv) in zip(fm.state_dict().items(), tm.state_dict().items()):
        assert fk == tk and str(fv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1]
    assert fm[1].num_batches_tracked.dtype == ferrum.int64
    assert all(p.dtype == want for p in fm.parameters())
    # eps=1e-8 is 0 in float16, so a zero gradient would give 0/0 (in torch too)
    fo = ferrum.optim.AdamW(fm.parameters(), lr=1e-2, eps=1e-3)
    to = torch.optim.AdamW(tm.parameters(), lr=1e-2, eps=1e-3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        fo.zero_grad()
        x = ferrum.tensor(rng.standard_normal((5, 8)).astype(np.float32)).to(want)
        fm(x).float().pow(2).mean().backward()
        # the same gradients in both, so only the optimizers are compared
        for fp, tp in zip(fm.parameters(), tm.parameters()):
            assert fp.grad.dtype == want
            tp.grad = torch.tensor(fp.grad.float().numpy()).to(tp.dtype)
        fo.step()
        to.step()
    for fp, tp in zip(fm.parameters(), tm.parameters()):
        assert bool(ferrum.isfinite(fp).all())
        _close(fp, tp, "bfloat16" if dtype == "bfloat16" else "float16", loose=False)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("layout", ["scalar", "transposed"])
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_scalar_and_strided_params(torch, dtype, layout, name):
    """A 0-d parameter and a transposed (non-contiguous) one step as torch's. torch runs a
    transposed tensor's ops through its scalar loop (double-rounded ``add_(x, alpha)``, see the
    module docstring), so that layout is compared within a few ulps."""
    kw = {"SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.1), "Adam": dict(lr=0.1, eps=1e-3),
          "RMSprop": dict(lr=0.1, centered=True)}[name]
    shape = () if layout == "scalar" else (16, 8)
    out = []
    for lib in (ferrum, torch):
        rng = np.random.default_rng(0)
        base = lib.tensor(rng.standard_normal(shape).astype(np.float32)).to(getattr(lib, dtype))
        p = lib.nn.Parameter(base if layout == "scalar" else base.t())
        opt = getattr(lib.optim, name)([p], **kw)
        for _ in range(4):
            p.grad = lib.tensor(rng.standard_normal(shape[::-1]).astype(np.float32)).to(p.dtype)
            opt.step()
        out.append(p)
    assert out[0].shape == out[1].shape and out[0].dtype == getattr(ferrum, dtype)
    _close(out[0], out[1], dtype, loose=layout == "transposed")
