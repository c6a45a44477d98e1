"""GradScaler against torch.amp.GradScaler("cpu") over scripted gradient series.

Each run feeds both libraries the same parameters and the same gradient per step (some with an
inf or nan planted on chosen steps), then compares after every step: the scale, the growth tracker,
the skipped/taken decision, the unscaled gradients and the parameters.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import ferrum

_SCRIPTS = {
    "clean": [None] * 7,
    "inf_nan": [None, "inf", None, None, "nan", None, None, "-inf", None],
    "all_bad": ["nan", "inf", "nan", None],
}


def _grads(n_steps: int, script, shapes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(n_steps):
        gs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        bad = script[step]
        if bad is not None:
            gs[step % len(gs)].flat[step % gs[step % len(gs)].size] = float(bad)
        out.append(gs)
    return out


def _run(lib, make_opt, dtype_name, script, scaler_kw, unscale_first, shapes=((3, 4), (4,))):
    rng = np.random.default_rng(1)
    dtype = getattr(lib, dtype_name)
    params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s).astype(np.float32)).to(dtype))
              for s in shapes]
    opt = make_opt(lib, params)
    scaler = lib.amp.GradScaler("cpu", **scaler_kw)
    trace = []
    for gs in _grads(len(script), script, shapes):
        opt.zero_grad()
        # a loss whose gradient is scale * g: sum(p * g) scaled
        loss = sum((p.float() * lib.tensor(g)).sum() for p, g in zip(params, gs))
        scaler.scale(loss).backward()
        if unscale_first:
            scaler.unscale_(opt)
        ret = scaler.step(opt)
        skipped = sum(v.item() for v in scaler._found_inf_per_device(opt).values()) != 0
        grads = [p.grad.float().numpy().copy() for p in params]
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), skipped, ret,
                      grads, [p.detach().float().numpy().copy() for p in params]))
    return trace, scaler.state_dict()


_OPTS = {
    "sgd": lambda L, ps: L.optim.SGD(ps, lr=0.1),
    "sgd_mom": lambda L, ps: L.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda L, ps: L.optim.Adam(ps, lr=1e-2),
    "adamw": lambda L, ps: L.optim.AdamW(ps, lr=1e-2, amsgrad=True),
    "rmsprop": lambda L, ps: L.optim.RMSprop(ps, lr=1e-2, momentum=0.5),
    # fused optimizers unscale and skip by themselves (_step_supports_amp_scaling)
    "adam_fused": lambda L, ps: L.optim.Adam(ps, lr=1e-2, fused=True),
    "adamw_fused": lambda L, ps: L.optim.AdamW(ps, lr=1e-2, fused=True, amsgrad=True),
    "sgd_fused": lambda L, ps: L.optim.SGD(ps, lr=0.1, momentum=0.9, fused=True),
    "adagrad_fused": lambda L, ps: L.optim.Adagrad(ps, lr=0.1, fused=True),
}

_KW = [
    {"init_scale": 2.0 ** 16, "growth_interval": 2},
    {"init_scale": 1024.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 3},
    {"init_scale": 3.0e38, "growth_interval": 1},  # growth would overflow float32: torch keeps it
]


def _grid():
    """(opt, script, kw, dtype, unscale_first) combinations torch defines: float16 gradients only
    with fused optimizers (unscale_ refuses them; see test_float16_grads_refused_as_torch) and a
    scale they can hold; fused SGD never with a skipped first step (torch then keeps an
    uninitialised momentum buffer: undefined values; the 3e38 scale overflows the first step)."""
    out = []
    for opt in _OPTS:
        for script in _SCRIPTS:
            for kw in range(len(_KW)):
                for dtype in ("float32", "bfloat16", "float16"):
                    for unscale_first in (False, True):
                        if dtype == "float16" and (unscale_first or "fused" not in opt or kw == 0):
                            continue
                        if opt == "sgd_fused" and (_SCRIPTS[script][0] is not None or kw == 2):
                            continue
                        out.append(pytest.param(opt, script, kw, dtype, unscale_first,
                                                id=f"{opt}-{script}-kw{kw}-{dtype}-{unscale_first}"))
    return out


@pytest.mark.parametrize("opt, script, kw, dtype, unscale_first", _grid())
def test_sequence_matches_torch(torch, opt, script, kw, dtype, unscale_first):
    args = (_OPTS[opt], dtype, _SCRIPTS[script], _KW[kw], unscale_first)
    ft, fs = _run(ferrum, *args)
    tt, ts = _run(torch, *args)
    tol = {"float32": 1e-6, "bfloat16": 1e-2, "float16": 2e-3}[dtype]
    for i, (f, t) in enumerate(zip(ft, tt)):
        assert f[:4] == t[:4], f"step {i}: (scale, tracker, skipped, ret)"
        for fg, tg in zip(f[4], t[4]):
            np.testing.assert_allclose(fg, tg, rtol=tol, atol=tol, equal_nan=True)
        for fp, tp in zip(f[5], t[5]):
            np.testing.assert_allclose(fp, tp, rtol=tol, atol=tol)
    assert fs == ts


def test_float16_grads_refused_as_torch(torch):
    for lib in (ferrum, torch):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float16))
        opt = lib.optim.SGD([p], lr=0.1)
        s = lib.amp.GradScaler("cpu", init_scale=1024.0)
        s.scale(p.float().sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
            s.step(opt)
        assert p.grad.float().tolist() == [1024.0] * 3  # nothing unscaled


def test_scale_nested_outputs(torch):
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu", init_scale=4.0)
        a, b = lib.ones(2), lib.full((3,), 2.0, dtype=lib.bfloat16)
        out = s.scale([a, (b, [a])])
        assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
        assert out[0].tolist() == [4.0, 4.0] and out[1][0].dtype == lib.bfloat16
        assert out[1][0].tolist() == [8.0] * 3
        gen = s.scale(iter([a]))
        assert not isinstance(gen, (list, tuple)) and list(gen)[0].tolist() == [4.0, 4.0]
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            s.scale([a, 3])


def test_calls_before_scale_raise_as_torch(torch):
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu")
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        for call, arg in ((s.unscale_, (opt,)), (s.step, (opt,)), (s.update, ())):
            with pytest.raises(AssertionError, match="but _scale is None"):
                call(*arg)


def test_misuse_messages_match_torch(torch):
    msgs = []
    for lib in (ferrum, torch):
        got = []
        s = lib.amp.GradScaler("cpu")
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        s.scale(p.sum()).backward()
        s.unscale_(opt)
        for call, kw in ((s.unscale_, {}), (s.step, {"closure": int})):
            with pytest.raises(RuntimeError) as e:
                call(opt, **kw)
            got.append(str(e.value))
        s.step(opt)
        for call in (s.step, s.unscale_):
            with pytest.raises(RuntimeError) as e:
                call(opt)
            got.append(str(e.value))
        s.update()
        with pytest.raises(AssertionError) as e:
            s.update()
        got.append(str(e.value))
        q = lib.nn.Parameter(lib.ones(2))  # no gradient: nothing to check
        opt2 = lib.optim.SGD([q], lr=0.1)
        s.scale(p.sum())
        with pytest.raises(AssertionError) as e:
            s.step(opt2)
        got.append(str(e.value))
        for bad in (lib.ones(2), lib.ones(1, requires_grad=True)):
            with pytest.raises(AssertionError) as e:
                s.update(bad)
            got.append(str(e.value))
        for kw in ({"growth_factor": 1.0}, {"backoff_factor": 1.0}):
            with pytest.raises(AssertionError) as e:
                lib.amp.GradScaler("cpu", **kw)
            got.append(str(e.value))
        msgs.append(got)
    assert msgs[0] == msgs[1]


def test_update_new_scale_and_step_kwargs(torch):
    out = []
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu", init_scale=8.0)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        s.scale(p.sum()).backward()
        s.step(opt)
        s.update(3.0)
        a = s.get_scale()
        s.update(lib.tensor(5.0))
        b = s.get_scale()
        with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the broadcast"):
            s.update(lib.tensor([6.0]))
        out.append((a, b, s._get_growth_tracker()))
        # kwargs reach the optimizer's step
        o = _Tagged(lib, p)
        p.grad = None
        s.scale(p.sum()).backward()
        assert s.step(o, 1, tag=7) == "stepped" and o.seen == ((1,), {"tag": 7})
        s.update()
    assert out[0] == out[1] == (3.0, 5.0, 0)


class _Tagged:
    """A minimal optimizer recording what its step received."""

    def __init__(self, lib, p):
        self.param_groups = [{"params": [p]}]
        self.seen = None

    def step(self, *args, **kwargs):
        self.seen = (args, kwargs)
        return "stepped"


class _AmpAware:
    """An optimizer that unscales and skips by itself (torch's fused-optimizer protocol)."""

    _step_supports_amp_scaling = True

    def __init__(self, lib, p):
        self.param_groups = [{"params": [p]}]
        self.seen = []

    def step(self):
        self.seen.append((float(self.grad_scale.item()) if self.grad_scale is not None else None,
                          float(self.found_inf.item())))


def test_amp_aware_optimizer_protocol(torch):
    seen = []
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu", init_scale=16.0)
        p = lib.nn.Parameter(lib.ones(2))
        opt = _AmpAware(lib, p)
        for bad, unscale in ((False, False), (True, False), (False, True)):
            p.grad = None
            loss = (p * (float("inf") if bad else 1.0)).sum()
            s.scale(loss).backward()
            if unscale:
                s.unscale_(opt)
            s.step(opt)
            assert not hasattr(opt, "grad_scale") and not hasattr(opt, "found_inf")
            s.update()
        seen.append((opt.seen, s.get_scale()))
    assert seen[0] == seen[1]


def test_disabled_passes_through(torch):
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu", enabled=False)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.5)
        t = p.sum()
        assert s.scale(t) is t
        t.backward()
        s.unscale_(opt)
        s.unscale_(opt)  # no-op, no error
        assert s.step(opt) is None and p.tolist() == [0.5, 0.5]
        s.update()
        assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
        s.load_state_dict({})


def test_cuda_without_gpu_warns_and_disables(torch):
    if ferrum.cuda.is_available():
        pytest.skip("a GPU is present")
    msgs = []
    for lib in (ferrum, torch):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            s = lib.amp.GradScaler("cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                                   growth_interval=2000, enabled=True)
        assert not s.is_enabled()
        msgs.append([(w.category, str(w.message)) for w in rec])
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            lib.amp.GradScaler("cuda", enabled=False)
        assert rec == []
    assert msgs[0] == msgs[1] and msgs[0][0][0] is UserWarning


def test_state_dict_round_trip_and_pickle(torch):
    sds = []
    for lib in (ferrum, torch):
        a = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        for _ in range(2):
            a.scale(p.sum()).backward()
            a.step(opt)
            a.update()
        b = lib.amp.GradScaler("cpu")
        b.load_state_dict(a.state_dict())
        assert b.state_dict() == a.state_dict()
        c = pickle.loads(pickle.dumps(a))
        assert c.state_dict() == a.state_dict()
        a.scale(p.sum())
        a._per_optimizer_states[id(opt)]  # an iteration in progress
        with pytest.raises(AssertionError, match="may only be pickled"):
            pickle.dumps(a)
        with pytest.raises(RuntimeError, match="source state dict is empty"):
            b.load_state_dict({})
        sds.append(a.state_dict())
    assert sds[0] == sds[1]


def test_getters_setters_match_torch(torch):
    out = []
    for lib in (ferrum, torch):
        s = lib.amp.GradScaler("cpu", init_scale=32.0, growth_factor=3.0, backoff_factor=0.25,
                               growth_interval=5)
        got = [s.get_scale(), s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval(),
               s._get_growth_tracker(), s.is_enabled()]
        s.set_growth_factor(4.0)
        s.set_backoff_factor(0.125)
        s.set_growth_interval(1)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        s.scale(p.sum()).backward()
        s.step(opt)
        s.update()  # a clean step with growth_interval 1 grows by the new factor
        got += [s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval(), s.get_scale(),
                s.state_dict()]
        out.append(got)
    assert out[0] == out[1]


@pytest.mark.parametrize("amp_dtype", ["bfloat16", "float16"])
def test_with_autocast_matches_torch(torch, amp_dtype):
    """The usual loop: float32 parameters, the forward under CPU autocast, loss scaling; one step
    planted with an inf. Same scales and skipped steps as torch, parameters within the
    autocast dtype's tolerance."""
    out = []
    for lib in (ferrum, torch):
        lib.manual_seed(0)
        rng = np.random.default_rng(0)
        model = lib.nn.Linear(8, 4)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(rng.standard_normal((4, 8)).astype(np.float32) * 0.3))
            model.bias.zero_()
        opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scaler = lib.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
        trace = []
        for i in range(6):
            x = lib.tensor(rng.standard_normal((5, 8)).astype(np.float32))
            opt.zero_grad()
            with lib.autocast("cpu", dtype=getattr(lib, amp_dtype)):
                loss = model(x).float().pow(2).mean()
            if i == 2:
                loss = loss * float("inf")
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            trace.append((scaler.get_scale(), model.weight.detach().numpy().copy()))
        out.append(trace)
    for (fs, fw), (ts, tw) in zip(*out):
        assert fs == ts
        np.testing.assert_allclose(fw, tw, rtol=2e-2, atol=2e-2)
