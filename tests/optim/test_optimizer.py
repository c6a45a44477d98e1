"""The Optimizer base class: param groups, state dicts, zero_grad, closures, hooks, errors,
printing and pickling, each against torch.optim where it defines the behaviour."""

from __future__ import annotations

import copy
import inspect
import pickle
from collections import defaultdict
from functools import wraps

import numpy as np
import pytest

import ferrum
import ferrum.optim as fo
from ferrum.optim.optimizer import (register_optimizer_step_post_hook,
                                    register_optimizer_step_pre_hook)

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
         "LBFGS", "Optimizer"]


def _params(n=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [ferrum.from_numpy(rng.standard_normal((n, 2)).astype(dtype)).requires_grad_(True),
            ferrum.from_numpy(rng.standard_normal(n).astype(dtype)).requires_grad_(True)]


def _loss(ps):
    w, b = ps
    return ((w.sum(1) * b).tanh() ** 2).sum() + (w ** 2).sum() * 0.1


def _run(opt, ps, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss(ps).backward()
        opt.step()


# --------------------------------------------------------------------------- API surface
@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(torch, name):
    ours = inspect.signature(getattr(fo, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert [(k, p.kind, p.default) for k, p in ours.items()] == \
           [(k, p.kind, p.default) for k, p in theirs.items()]


@pytest.mark.parametrize("name", NAMES[:-1])
def test_defaults_and_repr_match_torch(torch, name):
    f = getattr(fo, name)([ferrum.zeros(2, requires_grad=True)])
    t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert f.defaults == t.defaults
    assert repr(f) == repr(t)
    assert f.state_dict()["param_groups"] == t.state_dict()["param_groups"]


def test_lr_scheduler_submodule_exported():
    assert fo.lr_scheduler is not None
    assert issubclass(fo.SGD, fo.Optimizer)


# --------------------------------------------------------------------------- construction
def test_param_groups_filled_from_defaults():
    a, b = _params()
    opt = fo.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.1}], lr=0.1,
                 momentum=0.9)
    g0, g1 = opt.param_groups
    assert g0["params"] == [a] and g1["params"] == [b]
    assert (g0["lr"], g0["momentum"]) == (0.1, 0.9)
    assert (g1["lr"], g1["momentum"]) == (0.5, 0.1)
    assert g1["nesterov"] is False
    assert isinstance(opt.state, defaultdict)


def test_named_params(torch):
    a, b = _params()
    opt = fo.Adam([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.param_groups[0]["params"] == [a, b]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [ferrum.zeros(1, requires_grad=True)]})
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_add_param_group():
    a, b = _params()
    opt = fo.SGD([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([a])
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ferrum.zeros(1, requires_grad=True)}})


def test_construction_errors():
    a, _ = _params()
    with pytest.raises(ValueError, match="empty parameter list"):
        fo.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        fo.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        fo.SGD([a, 1.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        fo.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        fo.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        fo.SGD([a, a], lr=0.1)


def test_required_hyperparameter():
    from ferrum.optim.optimizer import required

    class Opt(fo.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

    a, b = _params()
    assert Opt([{"params": [a], "lr": 1.0}]).param_groups[0]["lr"] == 1.0
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Opt([b])


BAD = [
    ("SGD", dict(lr=-0.1), "Invalid learning rate"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value"),
    ("SGD", dict(weight_decay=-1e-4), "Invalid weight_decay value"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("Adam", dict(lr=-1e-3), "Invalid learning rate"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value"),
    ("Adam", dict(weight_decay=-0.1), "Invalid weight_decay value"),
    ("AdamW", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value"),
    ("RMSprop", dict(eps=-1.0), "Invalid epsilon value"),
    ("Adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "Invalid initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("Adamax", dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0"),
    ("NAdam", dict(momentum_decay=-0.1), "Invalid momentum_decay value"),
    ("RAdam", dict(eps=-0.1), "Invalid epsilon value"),
]


@pytest.mark.parametrize("name,kw,msg", BAD, ids=[f"{n}-{m}" for n, _, m in BAD])
def test_invalid_hyperparameters(torch, name, kw, msg):
    with pytest.raises(ValueError, match=msg):
        getattr(fo, name)([ferrum.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=msg):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)


def test_extra_keyword_args_accepted():
    a, _ = _params()
    fo.SGD([a], lr=0.1, foreach=False, fused=None, differentiable=False)
    fo.Adam([a], lr=0.1, foreach=True, capturable=False, fused=False)
    fo.AdamW([a], lr=0.1, foreach=None, capturable=True)
    fo.RMSprop([a], capturable=True, foreach=False)


def test_tensor_lr():
    a, b = _params()
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    o1 = fo.Adam([a, b], lr=ferrum.tensor(0.01))
    o2 = fo.Adam([a2, b2], lr=0.01)
    _run(o1, [a, b], 3)
    _run(o2, [a2, b2], 3)
    np.testing.assert_allclose(a.detach().numpy(), a2.detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="1-element"):
        fo.SGD([a], lr=ferrum.tensor([0.1, 0.2]))


# --------------------------------------------------------------------------- step behaviour
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam"])
def test_grad_none_skipped(name):
    a, b = _params()
    kw = dict(momentum=0.9, lr=0.1) if name == "SGD" else {}
    opt = getattr(fo, name)([a, b], **kw)
    before = b.detach().numpy().copy()
    (a ** 2).sum().backward()
    assert b.grad is None
    va, vb = a._version[0], b._version[0]
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), before)
    assert vb == b._version[0] and a._version[0] == va + 1
    if name != "Adagrad":  # Adagrad creates its state at construction, as PyTorch's does
        assert len(opt.state[b]) == 0
    assert len(opt.state[a]) > 0


def test_step_does_not_build_graph_and_keeps_grad():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)
    _loss([a, b]).backward()
    g = a.grad.detach().numpy().copy()
    opt.step()
    assert a.grad_fn is None and a.is_leaf and a.requires_grad
    np.testing.assert_array_equal(a.grad.numpy(), g)  # the update never writes into p.grad


def test_step_follows_replaced_data():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.5)
    a.data = ferrum.ones(3, 2)
    a.grad = ferrum.ones(3, 2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), np.full((3, 2), 0.5))


def test_zero_grad_modes(torch):
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1)
    _loss([a, b]).backward()
    ga = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is ga
    np.testing.assert_array_equal(a.grad.numpy(), 0)
    np.testing.assert_array_equal(b.grad.numpy(), 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.zero_grad()  # nothing to do


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam"])
def test_closure_runs_with_grad_enabled_and_loss_returned(name):
    a, b = _params()
    opt = getattr(fo, name)([a, b])
    seen = []

    def closure():
        seen.append(ferrum.is_grad_enabled())
        opt.zero_grad()
        loss = _loss([a, b])
        loss.backward()
        return loss

    with ferrum.no_grad():
        out = opt.step(closure)
    assert seen == [True]
    assert isinstance(out, ferrum.Tensor) and out.ndim == 0
    assert opt.step() is None


def test_complex_adam_moments_stay_real_parts():
    z = ferrum.tensor(np.array([1 + 2j, -1j], dtype=np.complex64), requires_grad=True)
    opt = fo.Adam([z], lr=0.1)
    z.grad = ferrum.tensor(np.array([1 + 1j, 2 - 1j], dtype=np.complex64))
    opt.step()
    # exp_avg_sq holds squares of the real and imaginary parts separately (view_as_real)
    np.testing.assert_allclose(opt.state[z]["exp_avg_sq"].numpy(),
                               0.001 * np.array([1 + 1j, 4 + 1j]), rtol=1e-6)


# --------------------------------------------------------------------------- state dicts
ROUND_TRIP = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
              ("AdamW", dict(lr=0.01)), ("RMSprop", dict(centered=True, momentum=0.5)),
              ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", {}), ("Adamax", {}),
              ("NAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)), ("RAdam", {})]


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=[r[0] for r in ROUND_TRIP])
def test_state_dict_round_trip(name, kw):
    ref = _params()
    opt_ref = getattr(fo, name)(ref, **kw)
    _run(opt_ref, ref, 10)

    ps = _params()
    opt = getattr(fo, name)(ps, **kw)
    _run(opt, ps, 5)
    sd = copy.deepcopy(opt.state_dict())
    ps2 = [ferrum.from_numpy(p.detach().numpy().copy()).requires_grad_(True) for p in ps]
    opt2 = getattr(fo, name)(ps2, **kw)
    opt2.load_state_dict(sd)
    _run(opt2, ps2, 5)
    for p, q in zip(ps2, ref):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert opt2.state_dict()["param_groups"] == opt_ref.state_dict()["param_groups"]


def test_state_dict_layout_matches_torch(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 2), (3,), (2,)]]
    fps = [ferrum.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    tps = [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    fopt = fo.Adam([{"params": fps[:2]}, {"params": fps[2:], "lr": 0.1}], lr=0.01)
    topt = torch.optim.Adam([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.1}], lr=0.01)
    for ps, opt in ((fps, fopt), (tps, topt)):
        for p in ps:
            p.grad = p.detach() * 0 + 1
        opt.step()
    fsd, tsd = fopt.state_dict(), topt.state_dict()
    assert fsd["param_groups"] == tsd["param_groups"]
    assert fsd["param_groups"][1]["params"] == [2]
    assert list(fsd["state"]) == list(tsd["state"]) == [0, 1, 2]
    for k in tsd["state"]:
        assert list(fsd["state"][k]) == list(tsd["state"][k])
        assert fsd["state"][k]["step"].shape == () and fsd["state"][k]["step"].dtype == ferrum.float32
        assert float(fsd["state"][k]["step"]) == 1.0


def test_state_dict_live_and_same_param_counted_once():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1, momentum=0.9)
    _run(opt, [a, b], 1)
    sd = opt.state_dict()
    assert sd["state"][0]["momentum_buffer"] is opt.state[a]["momentum_buffer"]
    assert sd["param_groups"][0]["params"] == [0, 1]


def test_load_state_dict_errors():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1)
    sd = opt.state_dict()
    other = fo.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(sd)
    other = fo.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(sd)


def test_load_state_dict_casts_to_param_dtype_and_keeps_step():
    a32 = _params(dtype=np.float32)
    opt = fo.Adam(a32)
    _run(opt, a32, 2)
    sd = opt.state_dict()
    a64 = _params(dtype=np.float64)
    opt64 = fo.Adam(a64)
    opt64.load_state_dict(sd)
    st = opt64.state[a64[0]]
    assert st["exp_avg"].dtype == ferrum.float64
    assert st["step"].dtype == ferrum.float32  # 'step' is not cast, as in PyTorch
    # hyperparameters come from the saved groups
    sd["param_groups"][0]["lr"] = 0.5
    opt64.load_state_dict(sd)
    assert opt64.param_groups[0]["lr"] == 0.5 and opt64.param_groups[0]["params"] == a64


def test_load_torch_state_dict_values(torch):
    """A torch state dict whose tensors were converted to ferrum loads and continues as torch."""
    rng = np.random.default_rng(5)
    arr = rng.standard_normal((4,)).astype(np.float32)
    tp = torch.from_numpy(arr.copy()).requires_grad_(True)
    topt = torch.optim.AdamW([tp], lr=0.05)
    fp = ferrum.from_numpy(arr.copy()).requires_grad_(True)
    fopt = fo.AdamW([fp], lr=0.05)
    for _ in range(3):
        topt.zero_grad()
        (tp ** 3).sum().backward()
        topt.step()
    tsd = topt.state_dict()
    fsd = {"state": {k: {kk: ferrum.from_numpy(vv.detach().numpy().copy()) for kk, vv in v.items()}
                     for k, v in tsd["state"].items()},
           "param_groups": copy.deepcopy(tsd["param_groups"])}
    fp.data = ferrum.from_numpy(tp.detach().numpy().copy())
    fopt.load_state_dict(fsd)
    for opt, p in ((topt, tp), (fopt, fp)):
        opt.zero_grad()
        (p ** 3).sum().backward()
        opt.step()
    np.testing.assert_allclose(fp.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


def test_state_dict_hooks():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1)
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1 and calls == ["pre"]
    opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append("lpre"))
    opt.register_load_state_dict_post_hook(lambda o: calls.append("lpost"))
    opt.load_state_dict(opt.state_dict())
    assert calls[-2:] == ["lpre", "lpost"]


# --------------------------------------------------------------------------- hooks
def test_step_hooks():
    a, b = _params()
    opt = fo.Adam([a, b])
    log = []

    def pre(o, args, kwargs):
        log.append(("pre", o is opt, args[0] is opt))

    def post(o, args, kwargs):
        log.append(("post", o is opt))

    h1 = opt.register_step_pre_hook(pre)
    h2 = opt.register_step_post_hook(post)
    _run(opt, [a, b], 1)
    assert log == [("pre", True, True), ("post", True)]
    h1.remove()
    h2.remove()
    _run(opt, [a, b], 1)
    assert len(log) == 2


def test_step_pre_hook_replaces_arguments():
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1)
    called = []

    def closure():
        called.append(1)
        return ferrum.tensor(3.0)

    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
    assert float(opt.step()) == 3.0 and called == [1]
    opt2 = fo.SGD([ferrum.zeros(1, requires_grad=True)])
    opt2.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt2.step()


def test_global_step_hooks():
    a, b = _params()
    opt1 = fo.SGD([a], lr=0.1)
    opt2 = fo.Adam([b])
    log = []
    h1 = register_optimizer_step_pre_hook(lambda o, args, kw: log.append(("pre", type(o).__name__)))
    h2 = register_optimizer_step_post_hook(lambda o, args, kw: log.append(("post", type(o).__name__)))
    try:
        opt1.step()
        opt2.step()
    finally:
        h1.remove()
        h2.remove()
    opt1.step()
    assert log == [("pre", "SGD"), ("post", "SGD"), ("pre", "Adam"), ("post", "Adam")]
    assert fo.register_optimizer_step_pre_hook is register_optimizer_step_pre_hook


def test_step_wrapping_like_lr_scheduler():
    """torch's LRScheduler replaces ``opt.step`` by a wrapper around ``opt.step.__func__`` that
    sets ``opt._opt_called``; that must keep working (and hooks must still run)."""
    a, b = _params()
    opt = fo.SGD([a, b], lr=0.1, momentum=0.9)
    log = []
    opt.register_step_post_hook(lambda o, args, kw: log.append("post"))
    func = opt.step.__func__

    @wraps(func)
    def wrapper(*args, **kwargs):
        opt._opt_called = True
        return func.__get__(opt, opt.__class__)(*args, **kwargs)

    opt.step = wrapper
    _run(opt, [a, b], 2)
    assert opt._opt_called and log == ["post", "post"]
    assert fo.SGD.step.hooked and fo.AdamW.step is fo.Adam.step


# --------------------------------------------------------------------------- pickling
def test_pickle_and_setstate():
    a, b = _params()
    opt = fo.Adam([a, b], lr=0.01)
    _run(opt, [a, b], 2)
    state = opt.__getstate__()
    assert set(state) == {"defaults", "state", "param_groups"}
    clone = pickle.loads(pickle.dumps(opt))
    assert repr(clone) == repr(opt)
    assert len(clone.state) == 2
    pa, pb = clone.param_groups[0]["params"]
    for _ in range(2):
        clone.zero_grad()
        _loss([pa, pb]).backward()
        clone.step()
        opt.zero_grad()
        _loss([a, b]).backward()
        opt.step()
    np.testing.assert_array_equal(pa.detach().numpy(), a.detach().numpy())


def test_setstate_upgrades_numeric_step():
    a, b = _params()
    opt = fo.Adam([a, b])
    _run(opt, [a, b], 1)
    for st in opt.state.values():
        st["step"] = 1
    opt.__setstate__(opt.__getstate__())
    assert all(isinstance(st["step"], ferrum.Tensor) for st in opt.state.values())
    _run(opt, [a, b], 1)
    assert float(opt.state[a]["step"]) == 2.0
